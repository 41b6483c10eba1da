//! Importing a département: its communes' contours (GeoJSON, gzip'd or
//! not) and, optionally, the referential's rows (population, EPCI, town
//! hall contacts). Everything is read and validated before anything is
//! written, and written in one transaction.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use super::geojson::{self, FeatureRecord};
use super::referential::{self, CsvRecord};
use super::store::{self, CommuneRow};
use super::{CommuneCode, TerritoryError, departements};
use crate::Db;

/// Larger files (once decompressed) are refused: all of France's contours
/// make 25 MB, and a gzip bomb must not exhaust the memory.
pub const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// The magic number of a gzip stream (RFC 1952, section 2.3.1).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// What an import wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportSummary {
    /// Communes written (created or updated).
    pub communes: usize,
    /// Of which with a contour.
    pub with_geometry: usize,
    /// Of which with at least one town-hall contact (e-mail, phone, site).
    pub contacts: usize,
}

/// Imports département `departement` from a GeoJSON file (gzip detected
/// by its magic bytes) and optionally the referential CSV. Communes are
/// upserted: a second import updates them. Communes already stored but
/// absent from the files are kept (users and sensors may refer to them).
pub async fn import(
    db: &Db,
    departement: &str,
    geojson: &Path,
    communes_csv: Option<&Path>,
) -> Result<ImportSummary, TerritoryError> {
    let geojson_label = geojson.display().to_string();
    let geojson_bytes = read(geojson)?;
    let csv = match communes_csv {
        Some(path) => Some((path.display().to_string(), read(path)?)),
        None => None,
    };
    let csv = csv
        .as_ref()
        .map(|(label, bytes)| (label.as_str(), bytes.as_slice()));
    import_bytes(db, departement, (&geojson_label, &geojson_bytes), csv).await
}

/// [`import`] from bytes in memory: (label for errors, content) pairs.
pub async fn import_bytes(
    db: &Db,
    departement: &str,
    geojson: (&str, &[u8]),
    communes_csv: Option<(&str, &[u8])>,
) -> Result<ImportSummary, TerritoryError> {
    let found = departements::find(departement)
        .ok_or_else(|| TerritoryError::UnknownDepartement(departement.to_owned()))?;
    let (label, bytes) = geojson;
    let features = geojson::parse(label, &decompress(label, bytes)?, &found.code)?;
    let rows = match communes_csv {
        Some((label, bytes)) => referential::parse(label, &decompress(label, bytes)?, &found.code)?,
        None => Vec::new(),
    };
    let communes = merge(features, rows)?;
    let summary = ImportSummary {
        communes: communes.len(),
        with_geometry: communes.iter().filter(|c| c.geometry.is_some()).count(),
        contacts: communes
            .iter()
            .filter(|c| c.email.is_some() || c.phone.is_some() || c.website.is_some())
            .count(),
    };
    store::write(db, found, &communes).await?;
    tracing::info!(departement = %found.code, communes = summary.communes, "territory imported");
    Ok(summary)
}

/// Reads a whole file, refusing one larger than [`MAX_FILE_BYTES`].
fn read(path: &Path) -> Result<Vec<u8>, TerritoryError> {
    let error = |source: std::io::Error| TerritoryError::Read {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::File::open(path).map_err(error)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(error)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(&path.display().to_string()));
    }
    Ok(bytes)
}

/// Decompresses `bytes` if they are gzip, else returns them as they are.
fn decompress<'a>(
    label: &str,
    bytes: &'a [u8],
) -> Result<std::borrow::Cow<'a, [u8]>, TerritoryError> {
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Ok(std::borrow::Cow::Borrowed(bytes));
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|e| TerritoryError::File {
            path: label.to_owned(),
            reason: format!("not a valid gzip file: {e}"),
        })?;
    if out.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(label));
    }
    Ok(std::borrow::Cow::Owned(out))
}

fn too_large(label: &str) -> TerritoryError {
    TerritoryError::File {
        path: label.to_owned(),
        reason: format!("larger than {} MB", MAX_FILE_BYTES / 1024 / 1024),
    }
}

/// Joins the contours and the referential's rows by code. A commune in
/// either is imported: the referential lists communes that have no contour
/// yet. Names and populations come from the referential when it has them.
fn merge(
    features: Vec<FeatureRecord>,
    rows: Vec<CsvRecord>,
) -> Result<Vec<CommuneRow>, TerritoryError> {
    let mut communes: BTreeMap<CommuneCode, CommuneRow> = BTreeMap::new();
    for feature in features {
        let geometry = match &feature.geometry {
            Some(g) => Some(geometry_json(g)?),
            None => None,
        };
        let row = CommuneRow {
            name: feature.name,
            population: feature.population.unwrap_or(0),
            geometry,
            ..CommuneRow::new(feature.code)
        };
        communes.insert(feature.code, row);
    }
    for record in rows {
        let row = communes
            .entry(record.code)
            .or_insert_with(|| CommuneRow::new(record.code));
        row.name = record.name;
        row.population = record.population.unwrap_or(row.population);
        row.epci = record.epci;
        row.email = record.email;
        row.phone = record.phone;
        row.website = record.website;
        row.from_referential = true;
    }
    Ok(communes.into_values().collect())
}

/// The stored form of a contour: see [`geojson::to_stored`].
fn geometry_json(geometry: &geojson::MultiPolygon) -> Result<String, TerritoryError> {
    geojson::to_stored(geometry).map_err(|e| TerritoryError::File {
        path: "geometry".to_owned(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_detected_by_its_magic_bytes() {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let _ = encoder.write_all(b"{}");
        let gz = encoder.finish().unwrap_or_default();
        assert_eq!(
            decompress("x", &gz).map(|c| c.into_owned()).ok(),
            Some(b"{}".to_vec())
        );
        assert_eq!(
            decompress("x", b"{}").map(|c| c.into_owned()).ok(),
            Some(b"{}".to_vec())
        );
        let broken = [0x1f, 0x8b, 0, 1, 2];
        let error = decompress("x.gz", &broken)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.starts_with("x.gz: not a valid gzip file"), "{error}");
    }

    #[test]
    fn merge_prefers_the_referential_and_keeps_communes_without_contour() {
        let code = |text| CommuneCode::parse(text).unwrap();
        let feature = FeatureRecord {
            code: code("42001"),
            name: "Aboen".to_owned(),
            population: Some(400),
            geometry: Some(vec![vec![vec![
                [4.0, 45.0],
                [4.1, 45.0],
                [4.1, 45.1],
                [4.0, 45.0],
            ]]]),
        };
        let rows = vec![
            CsvRecord {
                code: code("42001"),
                name: "Aboën".to_owned(),
                population: Some(481),
                epci: None,
                email: None,
                phone: None,
                website: None,
            },
            CsvRecord {
                code: code("42002"),
                name: "Ailleux".to_owned(),
                population: None,
                epci: None,
                email: Some("m@ailleux.fr".to_owned()),
                phone: None,
                website: None,
            },
        ];
        let merged = merge(vec![feature], rows).unwrap_or_default();
        assert_eq!(merged.len(), 2);
        assert_eq!(
            (merged[0].name.as_str(), merged[0].population),
            ("Aboën", 481)
        );
        assert!(merged[0].geometry.as_deref().is_some_and(|g| {
            g.starts_with(r#"{"type":"MultiPolygon","coordinates":[[[[4.0,45.0]"#)
        }));
        assert_eq!(
            (merged[1].geometry.is_none(), merged[1].email.as_deref()),
            (true, Some("m@ailleux.fr"))
        );
    }
}
