//! Bad files: each is refused with its fault named (file, feature index
//! and code, or CSV line), and the database is left exactly as it was.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;
use vigie_server::territory;

use super::{referential, snapshot};
use crate::common::TestServer;

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Moselle's FeatureCollection with `last` appended as its last feature.
fn with_last_feature(moselle: &Value, last: Value) -> Vec<u8> {
    let mut document = moselle.clone();
    document["features"].as_array_mut().unwrap().push(last);
    serde_json::to_vec(&document).unwrap()
}

#[tokio::test]
async fn bad_files_are_refused_with_the_fault_named_and_nothing_imported() {
    let Some(dir) = referential() else { return };
    let server = TestServer::start().await;
    let db = &server.db;
    territory::ensure_builtin(db).await.unwrap();
    let before = snapshot(db).await;
    let tmp = tempfile::tempdir().unwrap();
    let moselle: Value = serde_json::from_reader(flate2::read::GzDecoder::new(
        std::fs::File::open(dir.join("geo/57.geojson.gz")).unwrap(),
    ))
    .unwrap();
    let square = serde_json::json!({"type": "Polygon", "coordinates": [[[6.1, 49.1], [6.2, 49.1], [6.2, 49.2], [6.1, 49.1]]]});
    let feature = |properties: Value, geometry: Value| serde_json::json!({"type": "Feature", "properties": properties, "geometry": geometry});
    let mut bad_geometry = square.clone();
    bad_geometry["coordinates"][0][2] = serde_json::json!([6.2, 95.0]);
    let first = moselle["features"][0].clone();

    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("garbage.geojson", b"hello".to_vec(), "not valid JSON"),
        ("garbage.geojson.gz", gzip(b"hello"), "not valid JSON"),
        (
            "broken.geojson.gz",
            gzip(b"{}")[..12].to_vec(),
            "not a valid gzip file",
        ),
        (
            "feature.geojson",
            serde_json::to_vec(&first).unwrap(),
            "not a GeoJSON FeatureCollection",
        ),
        (
            "huge.geojson",
            br#"{"type":"FeatureCollection","features":[1e999]}"#.to_vec(),
            "not valid JSON",
        ),
        (
            "negative.geojson",
            with_last_feature(
                &moselle,
                feature(
                    serde_json::json!({"code": "57999", "nom": "Nulle-Part", "population": -1}),
                    square.clone(),
                ),
            ),
            "features[725] (code 57999): population -1 is negative",
        ),
        (
            "absurd.geojson",
            with_last_feature(
                &moselle,
                feature(
                    serde_json::json!({"code": "57999", "nom": "X", "population": 50_000_000}),
                    square.clone(),
                ),
            ),
            "features[725] (code 57999): population 50000000 is not plausible",
        ),
        (
            "nocode.geojson",
            with_last_feature(
                &moselle,
                feature(serde_json::json!({"nom": "X"}), square.clone()),
            ),
            "features[725]: missing or empty \"code\"",
        ),
        (
            "noname.geojson",
            with_last_feature(
                &moselle,
                feature(
                    serde_json::json!({"code": "57999", "nom": ""}),
                    square.clone(),
                ),
            ),
            "features[725] (code 57999): missing or empty \"nom\"",
        ),
        (
            "foreign.geojson",
            with_last_feature(
                &moselle,
                feature(
                    serde_json::json!({"code": "42218", "nom": "Saint-Étienne"}),
                    square.clone(),
                ),
            ),
            "features[725] (code 42218): commune 42218 does not belong to département 57",
        ),
        (
            "line.geojson",
            with_last_feature(
                &moselle,
                feature(
                    serde_json::json!({"code": "57999", "nom": "X"}),
                    serde_json::json!({"type": "LineString", "coordinates": [[6.1, 49.1], [6.2, 49.2]]}),
                ),
            ),
            "features[725] (code 57999): geometry: geometry type \"LineString\" is not Polygon or MultiPolygon",
        ),
        (
            "range.geojson",
            with_last_feature(
                &moselle,
                feature(
                    serde_json::json!({"code": "57999", "nom": "X"}),
                    bad_geometry,
                ),
            ),
            "features[725] (code 57999): geometry: coordinates[0][2]: latitude 95 is out of range",
        ),
        (
            "duplicate.geojson",
            with_last_feature(&moselle, first.clone()),
            "features[725] (code 57001): duplicate code, already at features[0]",
        ),
    ];
    for (name, bytes, expected) in cases {
        let path = write_file(tmp.path(), name, &bytes);
        let error = territory::import(db, "57", &path, None)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with(&path.display().to_string()),
            "{name}: the file is named in {error:?}"
        );
        assert!(
            error.contains(expected),
            "{name}: {error:?} should contain {expected:?}"
        );
        assert_eq!(snapshot(db).await, before, "{name}: nothing imported");
    }

    // A valid GeoJSON with a bad CSV line at the end: nothing either.
    let geo = dir.join("geo/57.geojson.gz");
    let csv_text = std::fs::read_to_string(dir.join("communes.csv")).unwrap();
    let lines = csv_text.lines().count();
    let bad_csv = write_file(
        tmp.path(),
        "bad.csv",
        format!("{csv_text}57999,Nulle-Part,57,44,-5,,,,,\n").as_bytes(),
    );
    let error = territory::import(db, "57", &geo, Some(&bad_csv))
        .await
        .unwrap_err()
        .to_string();
    let expected = format!(
        "{}: line {} (code 57999): population -5 is negative",
        bad_csv.display(),
        lines + 1
    );
    assert!(
        error.contains(&expected),
        "{error:?} should contain {expected:?}"
    );
    let no_column = write_file(tmp.path(), "columns.csv", b"code,nom\n57001,Aboncourt\n");
    let error = territory::import(db, "57", &geo, Some(&no_column))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("columns.csv: line 1: missing column \"departement\""),
        "{error}"
    );
    let error = territory::import(db, "99", &geo, None)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("unknown département \"99\""), "{error}");
    let error = territory::import(db, "57", &tmp.path().join("absent.geojson"), None)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("absent.geojson: cannot read"), "{error}");
    assert_eq!(snapshot(db).await, before, "nothing imported");
}
