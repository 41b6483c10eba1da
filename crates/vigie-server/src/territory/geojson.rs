//! Reading a GeoJSON FeatureCollection of communes (RFC 7946), of the
//! shape the state's geo API returns: properties `code`, `nom`,
//! `population`; geometry Polygon, MultiPolygon or null. Every feature is
//! validated; the first fault is reported with the feature's index and
//! code. Pure: bytes in, records out.

use std::collections::HashMap;

use serde_json::Value;

use super::departements;
use super::{CommuneCode, TerritoryError};

/// A MultiPolygon's coordinates: polygons, each an outer ring then its
/// holes, each ring a list of (longitude, latitude) in WGS84 degrees.
pub type MultiPolygon = Vec<Vec<Vec<[f64; 2]>>>;

/// No commune is this populous (Paris has about 2.1 million people): a
/// larger figure is a broken file.
pub const MAX_POPULATION: i64 = 10_000_000;

/// A closed ring has at least four positions (RFC 7946, section 3.1.6).
const MIN_RING_POSITIONS: usize = 4;

/// One validated feature.
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureRecord {
    pub code: CommuneCode,
    pub name: String,
    pub population: Option<i64>,
    pub geometry: Option<MultiPolygon>,
}

/// Parses and validates a whole FeatureCollection (already decompressed)
/// whose communes must all belong to `departement`. `label` names the
/// file in errors.
pub fn parse(
    label: &str,
    bytes: &[u8],
    departement: &str,
) -> Result<Vec<FeatureRecord>, TerritoryError> {
    let file_error = |reason: String| TerritoryError::File {
        path: label.to_owned(),
        reason,
    };
    let document: Value =
        serde_json::from_slice(bytes).map_err(|e| file_error(format!("not valid JSON: {e}")))?;
    if document.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
        return Err(file_error(
            "not a GeoJSON FeatureCollection (its \"type\" must be \"FeatureCollection\")"
                .to_owned(),
        ));
    }
    let features = document
        .get("features")
        .and_then(Value::as_array)
        .ok_or_else(|| file_error("the FeatureCollection has no \"features\" array".to_owned()))?;
    let mut records = Vec::with_capacity(features.len());
    let mut seen: HashMap<CommuneCode, usize> = HashMap::with_capacity(features.len());
    for (index, value) in features.iter().enumerate() {
        let at = |code: Option<&str>, reason: String| TerritoryError::Feature {
            path: label.to_owned(),
            index,
            code: code.map(str::to_owned),
            reason,
        };
        let record =
            feature(value, departement).map_err(|(code, reason)| at(code.as_deref(), reason))?;
        if let Some(first) = seen.insert(record.code, index) {
            return Err(at(
                Some(&record.code),
                format!("duplicate code, already at features[{first}]"),
            ));
        }
        records.push(record);
    }
    Ok(records)
}

/// Reads a stored geometry (a Polygon or MultiPolygon object) as a
/// MultiPolygon.
pub fn geometry_from_value(value: &Value) -> Result<Option<MultiPolygon>, String> {
    if value.is_null() {
        return Ok(None);
    }
    let kind = value
        .get("type")
        .and_then(Value::as_str)
        .ok_or("geometry has no \"type\"")?;
    let coordinates = value
        .get("coordinates")
        .ok_or("geometry has no \"coordinates\"")?;
    match kind {
        "Polygon" => Ok(Some(vec![polygon(coordinates, "coordinates")?])),
        "MultiPolygon" => {
            let polygons = non_empty_array(coordinates, "coordinates")?;
            let polygons = polygons
                .iter()
                .enumerate()
                .map(|(i, p)| polygon(p, &format!("coordinates[{i}]")));
            Ok(Some(polygons.collect::<Result<_, _>>()?))
        }
        other => Err(format!(
            "geometry type {other:?} is not Polygon or MultiPolygon"
        )),
    }
}

/// The stored form of a contour: a GeoJSON MultiPolygon, two coordinates
/// per position, whatever the file had (Polygon, altitudes).
pub fn to_stored(geometry: &MultiPolygon) -> Result<String, serde_json::Error> {
    #[derive(serde::Serialize)]
    struct Stored<'a> {
        #[serde(rename = "type")]
        kind: &'static str,
        coordinates: &'a MultiPolygon,
    }
    serde_json::to_string(&Stored {
        kind: "MultiPolygon",
        coordinates: geometry,
    })
}

/// Reads a stored contour: the MultiPolygon [`to_stored`] writes is read
/// directly (the fast path, for the map of 35,000 communes), anything else
/// through [`geometry_from_value`].
pub fn from_stored(text: &str) -> Result<Option<MultiPolygon>, String> {
    #[derive(serde::Deserialize)]
    struct Stored {
        #[serde(rename = "type")]
        kind: String,
        coordinates: MultiPolygon,
    }
    match serde_json::from_str::<Stored>(text) {
        Ok(stored) if stored.kind == "MultiPolygon" => Ok(Some(stored.coordinates)),
        _ => {
            let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
            geometry_from_value(&value)
        }
    }
}

/// Validates one feature; on error, returns its code if it has one and
/// what is wrong.
fn feature(value: &Value, departement: &str) -> Result<FeatureRecord, (Option<String>, String)> {
    if value.get("type").and_then(Value::as_str) != Some("Feature") {
        return Err((
            None,
            "not a GeoJSON Feature (its \"type\" must be \"Feature\")".to_owned(),
        ));
    }
    let properties = value
        .get("properties")
        .filter(|p| p.is_object())
        .ok_or((None, "no \"properties\" object".to_owned()))?;
    let code = match properties.get("code") {
        Some(Value::String(code)) if !code.trim().is_empty() => code.trim().to_owned(),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return Err((None, "missing or empty \"code\"".to_owned()));
        }
        Some(other) => return Err((None, format!("\"code\" must be a string, not {other}"))),
    };
    let fail = |reason: String| (Some(code.clone()), reason);
    let checked = check_code(&code, departement).map_err(fail)?;
    let name = match properties.get("nom") {
        Some(Value::String(name)) if !name.trim().is_empty() => name.trim().to_owned(),
        _ => {
            return Err(fail(
                "missing or empty \"nom\" (the commune's name)".to_owned(),
            ));
        }
    };
    let population = match properties.get("population") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            value
                .as_i64()
                .ok_or_else(|| fail(format!("population {value} is not a whole number")))?,
        ),
    };
    if let Some(population) = population {
        check_population(population).map_err(fail)?;
    }
    let geometry = geometry_from_value(value.get("geometry").unwrap_or(&Value::Null))
        .map_err(|e| fail(format!("geometry: {e}")))?;
    Ok(FeatureRecord {
        code: checked,
        name,
        population,
        geometry,
    })
}

/// A commune code must have the INSEE shape and belong to `departement`.
pub fn check_code(code: &str, departement: &str) -> Result<CommuneCode, String> {
    let Ok(checked) = CommuneCode::parse(code) else {
        return Err(format!(
            "{code:?} is not an INSEE commune code (five characters, such as 42059 or 2A004)"
        ));
    };
    match departements::of_commune(code) {
        Some(d) if d == departement => Ok(checked),
        _ => Err(format!(
            "commune {code} does not belong to département {departement}"
        )),
    }
}

pub fn check_population(population: i64) -> Result<(), String> {
    if population < 0 {
        Err(format!("population {population} is negative"))
    } else if population > MAX_POPULATION {
        Err(format!(
            "population {population} is not plausible (more than {MAX_POPULATION})"
        ))
    } else {
        Ok(())
    }
}

fn non_empty_array<'a>(value: &'a Value, at: &str) -> Result<&'a Vec<Value>, String> {
    match value.as_array() {
        Some(items) if !items.is_empty() => Ok(items),
        Some(_) => Err(format!("{at} is empty")),
        None => Err(format!("{at} is not an array")),
    }
}

fn polygon(value: &Value, at: &str) -> Result<Vec<Vec<[f64; 2]>>, String> {
    let rings = non_empty_array(value, at)?;
    rings
        .iter()
        .enumerate()
        .map(|(i, ring)| self::ring(ring, &format!("{at}[{i}]")))
        .collect()
}

fn ring(value: &Value, at: &str) -> Result<Vec<[f64; 2]>, String> {
    let positions = non_empty_array(value, at)?;
    if positions.len() < MIN_RING_POSITIONS {
        return Err(format!(
            "{at} has {} positions, a ring needs at least {MIN_RING_POSITIONS}",
            positions.len()
        ));
    }
    positions
        .iter()
        .enumerate()
        .map(|(i, p)| position(p, &format!("{at}[{i}]")))
        .collect()
}

fn position(value: &Value, at: &str) -> Result<[f64; 2], String> {
    let (lon, lat) = match value.as_array().map(Vec::as_slice) {
        Some([lon, lat, ..]) => (lon.as_f64(), lat.as_f64()),
        _ => return Err(format!("{at} is not a [longitude, latitude] position")),
    };
    let (Some(lon), Some(lat)) = (lon, lat) else {
        return Err(format!("{at} has a coordinate that is not a number"));
    };
    if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
        return Err(format!(
            "{at}: longitude {lon} is out of range (-180 to 180)"
        ));
    }
    if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
        return Err(format!("{at}: latitude {lat} is out of range (-90 to 90)"));
    }
    Ok([lon, lat])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collection(features: &str) -> Vec<u8> {
        format!(r#"{{"type":"FeatureCollection","features":[{features}]}}"#).into_bytes()
    }

    const SQUARE: &str =
        r#"{"type":"Polygon","coordinates":[[[4,45],[4.1,45],[4.1,45.1],[4,45]]]}"#;

    fn one(properties: &str, geometry: &str) -> Result<Vec<FeatureRecord>, TerritoryError> {
        let feature =
            format!(r#"{{"type":"Feature","properties":{properties},"geometry":{geometry}}}"#);
        parse("t.geojson", &collection(&feature), "42")
    }

    fn check_error(properties: &str, geometry: &str, expected: &str) {
        let error = one(properties, geometry)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            error.contains(expected),
            "{error:?} should contain {expected:?}"
        );
        assert!(error.starts_with("t.geojson: features[0]"), "{error}");
    }

    #[test]
    fn accepts_polygons_and_null_geometries() {
        let records = one(
            r#"{"code":"42059","nom":"Chazelles","population":5}"#,
            SQUARE,
        )
        .unwrap_or_default();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].geometry.as_ref().map(|g| g.len()), Some(1));
        assert_eq!(records[0].population, Some(5));
        let records = one(r#"{"code":"42059","nom":"Chazelles"}"#, "null").unwrap_or_default();
        assert_eq!(
            (records[0].population, records[0].geometry.is_none()),
            (None, true)
        );
    }

    #[test]
    fn each_fault_is_named() {
        check_error(r#"{"nom":"X"}"#, SQUARE, "missing or empty \"code\"");
        check_error(r#"{"code":42059,"nom":"X"}"#, SQUARE, "must be a string");
        check_error(
            r#"{"code":"57463","nom":"X"}"#,
            SQUARE,
            "(code 57463): commune 57463 does not belong to département 42",
        );
        check_error(
            r#"{"code":"42059","nom":" "}"#,
            SQUARE,
            "missing or empty \"nom\"",
        );
        check_error(
            r#"{"code":"42059","nom":"X","population":-1}"#,
            SQUARE,
            "population -1 is negative",
        );
        check_error(
            r#"{"code":"42059","nom":"X","population":99999999}"#,
            SQUARE,
            "not plausible",
        );
        check_error(
            r#"{"code":"42059","nom":"X","population":1.5}"#,
            SQUARE,
            "not a whole number",
        );
        check_error(
            r#"{"code":"42059","nom":"X"}"#,
            r#"{"type":"Point","coordinates":[4,45]}"#,
            "\"Point\" is not Polygon",
        );
        check_error(
            r#"{"code":"42059","nom":"X"}"#,
            r#"{"type":"Polygon","coordinates":[[[4,45],[4.1,95],[4.1,45.1],[4,45]]]}"#,
            "coordinates[0][1]: latitude 95 is out of range",
        );
        check_error(
            r#"{"code":"42059","nom":"X"}"#,
            r#"{"type":"MultiPolygon","coordinates":[[[[4,45],[4,45],[4,45]]]]}"#,
            "coordinates[0][0] has 3 positions",
        );
        check_error(
            r#"{"code":"42059","nom":"X"}"#,
            r#"{"type":"Polygon","coordinates":[[[4,"a"],[4,45],[4,45],[4,45]]]}"#,
            "not a number",
        );
    }

    #[test]
    fn corsica_and_overseas_codes() {
        let feature = |code: &str| {
            format!(
                r#"{{"type":"Feature","properties":{{"code":"{code}","nom":"X"}},"geometry":null}}"#
            )
        };
        assert!(parse("t", &collection(&feature("2A004")), "2A").is_ok());
        assert!(parse("t", &collection(&feature("2A004")), "2B").is_err());
        assert!(parse("t", &collection(&feature("97411")), "974").is_ok());
        assert!(parse("t", &collection(&feature("97411")), "97").is_err());
    }

    #[test]
    fn whole_file_faults() {
        let error = |bytes: &[u8]| {
            parse("f.json", bytes, "42")
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(error(b"{not json").starts_with("f.json: not valid JSON"));
        assert!(error(br#"{"type":"Feature"}"#).contains("not a GeoJSON FeatureCollection"));
        let twice = r#"{"type":"Feature","properties":{"code":"42059","nom":"X"},"geometry":null}"#;
        let message = error(&collection(&format!("{twice},{twice}")));
        assert!(
            message.contains("features[1] (code 42059): duplicate code, already at features[0]"),
            "{message}"
        );
    }
}
