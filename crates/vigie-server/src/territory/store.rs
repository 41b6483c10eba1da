//! Writing an import: the communes upserted and the territory's row
//! updated in one transaction, so that a failure leaves the database as it
//! was.

use super::CommuneCode;
use super::departements::Departement;
use crate::Db;

/// Rows per INSERT statement: 9 parameters each stays far below SQLite's
/// and PostgreSQL's limits on parameters, and saves round trips.
const ROWS_PER_STATEMENT: usize = 200;

const COLUMNS: &str = "code, name, departement, population, epci, email, phone, website, geometry";

/// A commune from the referential: its contacts and EPCI replace the
/// stored ones (possibly by nothing). A geometry left out keeps the stored
/// one.
const UPDATE_ALL: &str = "ON CONFLICT (code) DO UPDATE SET name = excluded.name, departement = excluded.departement, \
     population = excluded.population, epci = excluded.epci, email = excluded.email, phone = excluded.phone, \
     website = excluded.website, geometry = COALESCE(excluded.geometry, communes.geometry)";

/// A commune known only from the GeoJSON: the stored contacts and EPCI
/// are kept (a contour file says nothing about them).
const KEEP_CONTACTS: &str = "ON CONFLICT (code) DO UPDATE SET name = excluded.name, departement = excluded.departement, \
     population = excluded.population, geometry = COALESCE(excluded.geometry, communes.geometry)";

/// One commune to write.
#[derive(Clone, Debug)]
pub struct CommuneRow {
    pub code: CommuneCode,
    pub name: String,
    pub population: i64,
    pub epci: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
    /// GeoJSON text of a MultiPolygon.
    pub geometry: Option<String>,
    /// Whether the row came from the referential (contacts, EPCI).
    pub from_referential: bool,
}

impl CommuneRow {
    /// A commune known by its code only, yet to be filled in.
    pub fn new(code: CommuneCode) -> CommuneRow {
        CommuneRow {
            code,
            name: String::new(),
            population: 0,
            epci: None,
            email: None,
            phone: None,
            website: None,
            geometry: None,
            from_referential: false,
        }
    }
}

/// Writes `rows`, the communes of `departement`, and adds it to the
/// territory (created, named after it, if there is none yet).
pub async fn write(
    db: &Db,
    departement: &Departement,
    rows: &[CommuneRow],
) -> Result<(), sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    sqlx::query("INSERT INTO territory (id, name, departements) VALUES (1, $1, '') ON CONFLICT (id) DO NOTHING")
        .bind(&departement.territory_name)
        .execute(&mut *tx)
        .await?;
    // Taking the row's write lock first serialises concurrent imports (two
    // replicas starting on one PostgreSQL), so neither loses the other's
    // département in the read-modify-write below.
    sqlx::query("UPDATE territory SET revision = revision + 1 WHERE id = 1")
        .execute(&mut *tx)
        .await?;
    let listed: String = sqlx::query_scalar("SELECT departements FROM territory WHERE id = 1")
        .fetch_one(&mut *tx)
        .await?;
    let (referential, contours): (Vec<&CommuneRow>, Vec<&CommuneRow>) =
        rows.iter().partition(|r| r.from_referential);
    for (rows, on_conflict) in [(referential, UPDATE_ALL), (contours, KEEP_CONTACTS)] {
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            upsert(&mut tx, &departement.code, chunk, on_conflict).await?;
        }
    }
    sqlx::query("UPDATE territory SET departements = $1 WHERE id = 1")
        .bind(with_departement(&listed, &departement.code))
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

async fn upsert(
    tx: &mut sqlx::AnyConnection,
    departement: &str,
    rows: &[&CommuneRow],
    on_conflict: &str,
) -> Result<(), sqlx::Error> {
    let values: Vec<String> = (0..rows.len())
        .map(|i| {
            let params: Vec<String> = (1..=9).map(|j| format!("${}", i * 9 + j)).collect();
            format!("({})", params.join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO communes ({COLUMNS}) VALUES {} {on_conflict}",
        values.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for row in rows {
        query = query
            .bind(row.code)
            .bind(&row.name)
            .bind(departement)
            .bind(row.population)
            .bind(&row.epci)
            .bind(&row.email)
            .bind(&row.phone)
            .bind(&row.website)
            .bind(&row.geometry);
    }
    query.execute(&mut *tx).await.map(drop)
}

/// The comma-separated list of départements with `code` added once.
fn with_departement(listed: &str, code: &str) -> String {
    let mut codes: Vec<&str> = listed
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    if !codes.contains(&code) {
        codes.push(code);
    }
    codes.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn departement_list() {
        assert_eq!(with_departement("", "42"), "42");
        assert_eq!(with_departement("42", "42"), "42");
        assert_eq!(with_departement("42", "57"), "42,57");
        assert_eq!(with_departement(" 42 ,57", "2A"), "42,57,2A");
    }
}
