//! The territory: its communes (code, name, population, EPCI, town-hall
//! contacts, contour), the built-in Loire, importing another département
//! from the files of the state's geo API, and the map's geometry projected
//! from the contours.
//!
//! What it must not do: leave an import half-written (one transaction,
//! everything validated first), or keep in one process's memory what other
//! replicas need (the caller keeps the [`MapGeometry`], checking
//! [`revision`]).

mod code;
pub mod departements;
mod gaps;
pub mod geojson;
mod import;
pub mod map;
mod outline;
mod pages;
pub mod referential;
mod store;

pub use code::{CommuneCode, CommuneCodeError};
pub use import::{ImportSummary, MAX_FILE_BYTES, import, import_bytes};
pub use map::{MapGeometry, MapShape, map_geometry, project};
pub use pages::router;

use crate::Db;

/// The built-in territory: the Loire, from the same referential as
/// `/work/shared/data` (INSEE, IGN — Licence Ouverte 2.0).
const BUILTIN_DEPARTEMENT: &str = "42";
const BUILTIN_GEOJSON: &[u8] = include_bytes!("../../data/territory/42.geojson.gz");
const BUILTIN_CSV: &[u8] = include_bytes!("../../data/territory/42-communes.csv");

/// What the territory's name is when no row describes it yet.
const UNNAMED_TERRITORY: &str = "Territoire";

/// A commune of the territory.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct Commune {
    /// INSEE code ("42059").
    pub code: CommuneCode,
    pub name: String,
    pub departement: String,
    /// Municipal population (0 when unknown).
    pub population: i64,
    /// SIREN of its EPCI (intercommunality).
    pub epci: Option<String>,
    /// Town-hall contacts.
    pub email: Option<String>,
    pub phone: Option<String>,
    /// An http(s) address.
    pub website: Option<String>,
}

/// Why an import failed. File faults name the file and the feature
/// (index in `features`, and its code) or the CSV line.
#[derive(Debug, thiserror::Error)]
pub enum TerritoryError {
    #[error("unknown département {0:?} (expected a code such as 42, 2A or 974)")]
    UnknownDepartement(String),
    #[error("{path}: cannot read: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    File { path: String, reason: String },
    #[error("{path}: features[{index}]{}: {reason}", code_note(.code))]
    Feature {
        path: String,
        index: usize,
        code: Option<String>,
        reason: String,
    },
    #[error("{path}: line {line}{}: {reason}", code_note(.code))]
    Line {
        path: String,
        line: u64,
        code: Option<String>,
        reason: String,
    },
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

fn code_note(code: &Option<String>) -> String {
    code.as_ref()
        .map(|c| format!(" (code {c})"))
        .unwrap_or_default()
}

/// Loads the built-in Loire when the territory has no commune yet (first
/// start). Idempotent, and safe when several replicas start at once.
pub async fn ensure_builtin(db: &Db) -> Result<(), TerritoryError> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM communes")
        .fetch_one(db.read())
        .await?;
    if count > 0 {
        return Ok(());
    }
    let geojson = ("built-in 42.geojson.gz", BUILTIN_GEOJSON);
    let csv = ("built-in 42-communes.csv", BUILTIN_CSV);
    import_bytes(db, BUILTIN_DEPARTEMENT, geojson, Some(csv))
        .await
        .map(drop)
}

/// Every commune, sorted by name as a French reader expects (accents and
/// case aside, "Écotay" among the E), the same on SQLite and PostgreSQL
/// whatever their collations.
pub async fn communes(db: &Db) -> Result<Vec<Commune>, sqlx::Error> {
    let sql = format!("SELECT {COMMUNE_COLUMNS} FROM communes");
    let mut list: Vec<Commune> = sqlx::query_as(&sql).fetch_all(db.read()).await?;
    list.sort_by_cached_key(|c| (sort_key(&c.name), c.name.clone(), c.code));
    Ok(list)
}

/// A name folded for sorting: lower case, French accents and ligatures
/// spelt out in plain letters, hyphens and apostrophes as spaces.
pub fn sort_key(name: &str) -> String {
    let mut key = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        match c {
            'à' | 'â' | 'ä' | 'á' => key.push('a'),
            'é' | 'è' | 'ê' | 'ë' => key.push('e'),
            'î' | 'ï' | 'í' => key.push('i'),
            'ô' | 'ö' | 'ó' => key.push('o'),
            'ù' | 'û' | 'ü' | 'ú' => key.push('u'),
            'ÿ' => key.push('y'),
            'ç' => key.push('c'),
            'ñ' => key.push('n'),
            'œ' => key.push_str("oe"),
            'æ' => key.push_str("ae"),
            '-' | '\'' | '’' => key.push(' '),
            c => key.push(c),
        }
    }
    key
}

/// One commune by its INSEE code. Takes text as well as a
/// [`CommuneCode`] (which reads as one): text that is no code names no
/// commune.
pub async fn commune(db: &Db, code: &str) -> Result<Option<Commune>, sqlx::Error> {
    let sql = format!("SELECT {COMMUNE_COLUMNS} FROM communes WHERE code = $1");
    sqlx::query_as(&sql)
        .bind(code)
        .fetch_optional(db.read())
        .await
}

/// The territory's name ("Département de la Loire").
pub async fn territory_name(db: &Db) -> Result<String, sqlx::Error> {
    let name: Option<String> = sqlx::query_scalar("SELECT name FROM territory WHERE id = 1")
        .fetch_optional(db.read())
        .await?;
    Ok(name.unwrap_or_else(|| UNNAMED_TERRITORY.to_owned()))
}

/// The départements the territory is made of, in the order imported.
pub async fn departement_codes(db: &Db) -> Result<Vec<String>, sqlx::Error> {
    let listed: Option<String> =
        sqlx::query_scalar("SELECT departements FROM territory WHERE id = 1")
            .fetch_optional(db.read())
            .await?;
    let listed = listed.unwrap_or_default();
    Ok(listed
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect())
}

/// A number that changes whenever the communes change (every import bumps
/// it; 0 before the first). A replica keeping a [`MapGeometry`] compares
/// it to know when to rebuild: one tiny query.
pub async fn revision(db: &Db) -> Result<i64, sqlx::Error> {
    let revision: Option<i64> = sqlx::query_scalar("SELECT revision FROM territory WHERE id = 1")
        .fetch_optional(db.read())
        .await?;
    Ok(revision.unwrap_or(0))
}

/// The columns of [`Commune`], by name.
const COMMUNE_COLUMNS: &str = "code, name, departement, population, epci, email, phone, website";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_sort_order() {
        let mut names = vec![
            "Zénith",
            "Écotay-l'Olme",
            "Ecully",
            "Saint-Étienne",
            "Saint-Denis",
            "Œuilly",
        ];
        names.sort_by_cached_key(|n| sort_key(n));
        assert_eq!(
            names,
            [
                "Écotay-l'Olme",
                "Ecully",
                "Œuilly",
                "Saint-Denis",
                "Saint-Étienne",
                "Zénith"
            ]
        );
    }
}
