//! The map's geometry: the communes' contours projected to SVG path data,
//! small enough that a page of all of France stays a few megabytes.
//!
//! Projection: equirectangular, the longitude scaled by the cosine of the
//! zone's middle latitude, y pointing down, fitted to a width of
//! [`WIDTH`] units. Coordinates are rounded to a tenth of a unit and a
//! point closer than [`MIN_STEP`] to the previous one kept is dropped.
//! Overseas communes (codes 97x, 98x) are drawn in insets below the main
//! zone, each fitted to its own box, as French maps do: on one frame with
//! the mainland, Réunion and Guadeloupe would shrink it to a dot.
//!
//! Rings are oriented (outer rings clockwise on screen, holes the other
//! way) so that holes show with either SVG fill rule.

use std::collections::BTreeMap;

use super::geojson::{self, MultiPolygon};
use super::{CommuneCode, departements, gaps, outline};
use crate::Db;

/// The map's width in SVG units.
pub const WIDTH: f64 = 1000.0;
/// Empty border around the drawing, so no stroke is cut at the edge.
const MARGIN: f64 = 5.0;
/// Points closer than this (in units) to the previous point kept are
/// dropped: half a pixel on a map shown 1000 pixels wide.
pub const MIN_STEP: f64 = 0.5;
/// Simplification tolerance (in units): a point closer than this to the
/// line its neighbours kept draw is left out (Douglas–Peucker).
pub const TOLERANCE: f64 = 0.4;
/// The largest side of an overseas inset.
const INSET_SIDE: f64 = 200.0;
/// A very tall territory is fitted to this many widths of height.
const MAX_HEIGHT_RATIO: f64 = 4.0;

/// One commune on the map.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct MapShape {
    pub code: CommuneCode,
    pub name: String,
    /// SVG path data (absolute `M`, relative `l`, `z` per ring).
    pub path: String,
    /// Where to put the weather symbol: a point inside the commune's
    /// largest ring (its centroid when that is inside).
    pub label_x: f64,
    pub label_y: f64,
}

/// The projected territory: computed once from the communes table and
/// kept by the caller until [`super::revision`] changes.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct MapGeometry {
    /// (min x, min y, width, height), the SVG `viewBox`.
    pub view_box: (f64, f64, f64, f64),
    /// Sorted by code; communes without a contour are left out.
    pub shapes: Vec<MapShape>,
}

/// A commune's (code, name, contour).
pub type Contour = (CommuneCode, String, MultiPolygon);

/// Reads the contours from the database and projects them. A stored
/// contour that cannot be read is logged and left out of the map.
pub async fn map_geometry(db: &Db) -> Result<MapGeometry, sqlx::Error> {
    let rows: Vec<(CommuneCode, String, String)> = sqlx::query_as(
        "SELECT code, name, geometry FROM communes WHERE geometry IS NOT NULL ORDER BY code",
    )
    .fetch_all(db.read())
    .await?;
    let mut contours = Vec::with_capacity(rows.len());
    for (code, name, text) in rows {
        match geojson::from_stored(&text) {
            Ok(Some(geometry)) => contours.push((code, name, geometry)),
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(%code, %error, "stored contour unreadable, left out of the map")
            }
        }
    }
    Ok(project(&contours))
}

/// Projects contours (WGS84 longitude, latitude) to the map's frame.
/// Land of a commune nouvelle missing from its contour is drawn with it
/// (`gaps`).
pub fn project(contours: &[Contour]) -> MapGeometry {
    let frames = Frames::fit(contours);
    let mut extra: BTreeMap<usize, MultiPolygon> = BTreeMap::new();
    for (owner, polygon) in gaps::find(contours) {
        extra.entry(owner).or_default().push(polygon);
    }
    let mut shapes: Vec<MapShape> = contours
        .iter()
        .enumerate()
        .filter_map(|(index, (code, name, geometry))| {
            let frame = frames.zones.get(zone_of(code))?;
            let completed;
            let geometry = match extra.get(&index) {
                Some(more) => {
                    completed = geometry
                        .iter()
                        .chain(more)
                        .cloned()
                        .collect::<MultiPolygon>();
                    &completed
                }
                None => geometry,
            };
            let (path, (label_x, label_y)) = outline::draw(geometry, |p| frame.tenths(p))?;
            Some(MapShape {
                code: *code,
                name: name.clone(),
                path,
                label_x,
                label_y,
            })
        })
        .collect();
    shapes.sort_by_key(|shape| shape.code);
    MapGeometry {
        view_box: (0.0, 0.0, WIDTH, (frames.height * 10.0).round() / 10.0),
        shapes,
    }
}

/// The zone a commune is drawn in: "" for the mainland (with Corsica),
/// its département for the overseas ones.
fn zone_of(code: &str) -> &str {
    if code.starts_with("97") || code.starts_with("98") {
        departements::of_commune(code).unwrap_or_default()
    } else {
        ""
    }
}

/// Longitude and latitude bounds.
#[derive(Clone, Copy, Debug)]
struct Bounds {
    min: [f64; 2],
    max: [f64; 2],
}

impl Bounds {
    fn add(bounds: Option<Bounds>, p: [f64; 2]) -> Bounds {
        match bounds {
            None => Bounds { min: p, max: p },
            Some(b) => Bounds {
                min: [b.min[0].min(p[0]), b.min[1].min(p[1])],
                max: [b.max[0].max(p[0]), b.max[1].max(p[1])],
            },
        }
    }
}

/// How one zone's longitudes and latitudes map to the frame.
#[derive(Clone, Copy, Debug)]
struct Frame {
    bounds: Bounds,
    /// cos(middle latitude): how much shorter a degree of longitude is.
    squeeze: f64,
    /// Units per degree of latitude.
    scale: f64,
    origin: [f64; 2],
}

impl Frame {
    fn new(bounds: Bounds) -> Frame {
        let squeeze = ((bounds.min[1] + bounds.max[1]) / 2.0).to_radians().cos();
        Frame {
            bounds,
            squeeze,
            scale: 1.0,
            origin: [0.0, 0.0],
        }
    }

    /// The zone's size in degrees of latitude.
    fn size(&self) -> [f64; 2] {
        let b = self.bounds;
        [(b.max[0] - b.min[0]) * self.squeeze, b.max[1] - b.min[1]]
    }

    /// A (longitude, latitude) as integer tenths of a unit.
    fn tenths(self, p: [f64; 2]) -> (i64, i64) {
        let x = self.origin[0] + (p[0] - self.bounds.min[0]) * self.squeeze * self.scale;
        let y = self.origin[1] + (self.bounds.max[1] - p[1]) * self.scale;
        ((x * 10.0).round() as i64, (y * 10.0).round() as i64)
    }
}

/// Every zone's frame, and the map's height.
struct Frames<'a> {
    zones: BTreeMap<&'a str, Frame>,
    height: f64,
}

impl<'a> Frames<'a> {
    fn fit(contours: &'a [Contour]) -> Frames<'a> {
        let mut bounds: BTreeMap<&str, (usize, Option<Bounds>)> = BTreeMap::new();
        for (code, _, geometry) in contours {
            let entry = bounds.entry(zone_of(code)).or_default();
            entry.0 += 1;
            let points = geometry.iter().flatten().flatten();
            entry.1 = points.fold(entry.1, |b, p| Some(Bounds::add(b, *p)));
        }
        // The zone with the most communes is the main one; ties go to the
        // first in code order (the mainland, "").
        let main =
            bounds.iter().fold(
                None,
                |best: Option<(&str, usize)>, (zone, (count, _))| match best {
                    Some((_, most)) if most >= *count => best,
                    _ => Some((*zone, *count)),
                },
            );
        let mut zones = BTreeMap::new();
        let inner = WIDTH - 2.0 * MARGIN;
        let mut height = 2.0 * MARGIN;
        if let Some((zone, (_, Some(b)))) = main.and_then(|(zone, _)| bounds.get_key_value(zone)) {
            let mut frame = Frame::new(*b);
            let [w, h] = frame.size();
            frame.scale = scale_to_fit([inner, inner * MAX_HEIGHT_RATIO], [w, h]);
            frame.origin = [MARGIN + (inner - w * frame.scale) / 2.0, MARGIN];
            height += h * frame.scale;
            zones.insert(*zone, frame);
        }
        let insets: Vec<(&str, Bounds)> = bounds
            .iter()
            .filter(|(zone, _)| !zones.contains_key(*zone))
            .filter_map(|(zone, (_, b))| Some((*zone, (*b)?)))
            .collect();
        if !insets.is_empty() {
            let n = insets.len() as f64;
            let side = INSET_SIDE.min((WIDTH - MARGIN * (n + 1.0)) / n);
            for (i, (zone, b)) in insets.into_iter().enumerate() {
                let mut frame = Frame::new(b);
                let [w, h] = frame.size();
                frame.scale = scale_to_fit([side, side], [w, h]);
                let left = MARGIN + i as f64 * (side + MARGIN);
                frame.origin = [
                    left + (side - w * frame.scale) / 2.0,
                    height + (side - h * frame.scale) / 2.0,
                ];
                zones.insert(zone, frame);
            }
            height += side + MARGIN;
        }
        Frames { zones, height }
    }
}

/// The scale that fits a zone of size `extent` into `room`. A zone
/// reduced to a line takes its scale from the other axis; one reduced to
/// a point gets 1 (it is drawn as a dot anyway).
fn scale_to_fit(room: [f64; 2], extent: [f64; 2]) -> f64 {
    let fit = |room: f64, extent: f64| {
        if extent > 1e-9 {
            room / extent
        } else {
            f64::INFINITY
        }
    };
    let scale = fit(room[0], extent[0]).min(fit(room[1], extent[1]));
    if scale.is_finite() { scale } else { 1.0 }
}
