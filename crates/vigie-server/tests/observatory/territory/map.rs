//! The map's geometry: every shape drawn inside the view box with its
//! label inside its extent, and the sizes of the Loire's and all of
//! France's maps (printed; set `VIGIE_MAP_SVG_DIR` to keep them as SVG).

use std::path::{Path, PathBuf};
use std::time::Instant;

use sqlx::Row;
use vigie_server::territory::{self, MapGeometry};

use super::referential;
use crate::common::TestServer;

/// The absolute points of a path written as `M x y l dx dy … z`.
fn path_points(path: &str) -> Vec<(f64, f64)> {
    let mut points = Vec::new();
    let (mut command, mut numbers, mut current, mut start) =
        (' ', Vec::new(), (0.0, 0.0), (0.0, 0.0));
    let mut flush = |command: char,
                     numbers: &mut Vec<f64>,
                     current: &mut (f64, f64),
                     start: &mut (f64, f64)| {
        for pair in numbers.chunks(2) {
            assert_eq!(pair.len(), 2, "odd number count in {path}");
            *current = if command == 'M' {
                (pair[0], pair[1])
            } else {
                (current.0 + pair[0], current.1 + pair[1])
            };
            if command == 'M' {
                *start = *current;
            }
            points.push(*current);
        }
        numbers.clear();
    };
    let mut token = String::new();
    for c in path.chars().chain(std::iter::once(' ')) {
        // A number ends at a letter, a space, a minus sign, or a second
        // decimal point ("1.2.5" is 1.2 then .5).
        let ends_number =
            c.is_ascii_alphabetic() || c == ' ' || c == '-' || (c == '.' && token.contains('.'));
        if ends_number && !token.is_empty() {
            numbers.push(token.parse::<f64>().unwrap());
            token.clear();
        }
        if c.is_ascii_alphabetic() {
            flush(command, &mut numbers, &mut current, &mut start);
            command = c;
            assert!("Mlz".contains(c), "unexpected command {c} in {path}");
            if c == 'z' {
                current = start;
            }
        } else if c != ' ' {
            token.push(c);
        }
    }
    flush(command, &mut numbers, &mut current, &mut start);
    points
}

/// Every shape is drawn, inside the view box, its label inside its extent.
fn check_geometry(geometry: &MapGeometry, communes: usize) {
    let (x0, y0, w, h) = geometry.view_box;
    assert_eq!((x0, y0, w), (0.0, 0.0, 1000.0));
    assert!(h > 100.0, "height {h}");
    assert_eq!(geometry.shapes.len(), communes);
    let inside = |(x, y): (f64, f64)| x0 <= x && x <= x0 + w && y0 <= y && y <= y0 + h;
    for shape in &geometry.shapes {
        assert!(
            shape.path.starts_with('M') && shape.path.ends_with('z'),
            "{}: {}",
            shape.code,
            shape.path
        );
        let points = path_points(&shape.path);
        assert!(points.len() >= 3, "{}: {}", shape.code, shape.path);
        assert!(
            points.iter().all(|p| inside(*p)),
            "{} leaves the view box",
            shape.code
        );
        let (min_x, max_x) = points
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
        let (min_y, max_y) = points
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
        assert!(
            (min_x..=max_x).contains(&shape.label_x) && (min_y..=max_y).contains(&shape.label_y),
            "{}: label ({}, {}) outside its extent",
            shape.code,
            shape.label_x,
            shape.label_y
        );
    }
}

/// Sizes in bytes: the path data alone; each path in lean markup (an id,
/// a fill, a title: what a map page needs at the least); each path in the
/// markup the map page used when this was written (a link around each
/// commune, a `data-code`).
fn sizes(geometry: &MapGeometry) -> (usize, usize, usize) {
    let paths: usize = geometry.shapes.iter().map(|s| s.path.len()).sum();
    let lean: usize = geometry
        .shapes
        .iter()
        .map(|s| {
            format!(
                r##"<path id="c{}" fill="#d9d9d9" d="{}"><title>{} : 12</title></path>"##,
                s.code, s.path, s.name
            )
            .len()
        })
        .sum();
    let linked: usize = geometry
        .shapes
        .iter()
        .map(|s| format!(r##"<a href="/communes/{}"><path d="{}" fill="#d9d9d9" data-code="{}"><title>{} : pas de données</title></path></a>"##, s.code, s.path, s.code, s.name).len())
        .sum();
    (paths, lean, linked)
}

/// With `VIGIE_MAP_SVG_DIR` set, writes the map as an SVG file there, to
/// look at.
fn keep_svg(geometry: &MapGeometry, name: &str) {
    let Ok(dir) = std::env::var("VIGIE_MAP_SVG_DIR") else {
        return;
    };
    let (x, y, w, h) = geometry.view_box;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="{x} {y} {w} {h}" width="{w}" height="{h}">"#
    );
    for (i, s) in geometry.shapes.iter().enumerate() {
        let fill = ["#8dbbe8", "#c8d7e6", "#f2c14e", "#e07a5f"][i % 4];
        svg.push_str(&format!(
            r##"<path d="{}" fill="{fill}" stroke="#fff" stroke-width=".3"/>"##,
            s.path
        ));
    }
    for s in geometry
        .shapes
        .iter()
        .filter(|_| geometry.shapes.len() < 2000)
    {
        svg.push_str(&format!(
            r##"<circle cx="{}" cy="{}" r="2" fill="#000"/>"##,
            s.label_x, s.label_y
        ));
    }
    svg.push_str("</svg>");
    std::fs::write(Path::new(&dir).join(name), svg).unwrap();
}

#[tokio::test]
async fn the_loire_map_is_small_and_inside_its_frame() {
    let server = TestServer::start().await;
    territory::ensure_builtin(&server.db).await.unwrap();
    let started = Instant::now();
    let geometry = territory::map_geometry(&server.db).await.unwrap();
    let elapsed = started.elapsed();
    check_geometry(&geometry, 320);
    let saint_etienne = geometry.shapes.iter().find(|s| s.code == "42218").unwrap();
    assert_eq!(saint_etienne.name, "Saint-Étienne");
    // The Loire is taller than wide: Saint-Étienne lies in its south.
    assert!(geometry.view_box.3 > 1000.0 && saint_etienne.label_y > geometry.view_box.3 / 2.0);
    keep_svg(&geometry, "loire.svg");
    let (paths, lean, linked) = sizes(&geometry);
    println!(
        "Loire: {} communes, view box {:?}; bytes: path data {paths}, lean markup {lean}, linked markup {linked}; map_geometry in {elapsed:?} (debug build)",
        geometry.shapes.len(),
        geometry.view_box
    );
    assert!(linked < 500_000, "{linked} bytes");
}

#[tokio::test]
async fn all_of_france_projects_under_five_megabytes() {
    let Some(dir) = referential() else { return };
    let server = TestServer::start().await;
    let db = &server.db;
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("geo"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let started = Instant::now();
    let mut expected = 0;
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let departement = name.trim_end_matches(".geojson.gz");
        expected += territory::import(db, departement, file, None)
            .await
            .unwrap()
            .with_geometry;
    }
    let imported = started.elapsed();
    let started = Instant::now();
    let geometry = territory::map_geometry(db).await.unwrap();
    let projected = started.elapsed();
    // Where the time goes: reading the rows, parsing the contours, projecting.
    let started = Instant::now();
    let rows = sqlx::query("SELECT code, name, geometry FROM communes WHERE geometry IS NOT NULL")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    let fetched = started.elapsed();
    let started = Instant::now();
    let contours: Vec<territory::map::Contour> = rows
        .iter()
        .map(|r| {
            (
                r.try_get(0).unwrap(),
                r.try_get(1).unwrap(),
                territory::geojson::from_stored(&r.try_get::<String, _>(2).unwrap())
                    .unwrap()
                    .unwrap(),
            )
        })
        .collect();
    let parsed = started.elapsed();
    let started = Instant::now();
    assert_eq!(territory::project(&contours), geometry);
    let projection = started.elapsed();
    check_geometry(&geometry, expected);
    assert!(expected > 34_000);
    // Overseas communes are in insets below the mainland.
    let paris = geometry.shapes.iter().find(|s| s.code == "75056").unwrap();
    let saint_denis = geometry.shapes.iter().find(|s| s.code == "97411").unwrap();
    assert!(saint_denis.label_y > paris.label_y + 100.0);
    keep_svg(&geometry, "france.svg");
    let (paths, lean, linked) = sizes(&geometry);
    println!(
        "France: {} communes from {} files imported in {imported:?}; view box {:?}; bytes: path data {paths}, lean markup {lean}, linked markup {linked}; \
         map_geometry in {projected:?} (debug build: rows {fetched:?}, parsing {parsed:?}, projection {projection:?})",
        geometry.shapes.len(),
        files.len(),
        geometry.view_box
    );
    assert!(lean < 5_000_000, "{lean} bytes");
}
