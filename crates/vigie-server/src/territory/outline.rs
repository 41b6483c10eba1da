//! One commune's outline as compact SVG path data, and the point inside
//! it where its weather symbol goes. Works on integer tenths of a map
//! unit, so that rounding is done once and relative moves add up exactly.

use std::fmt::Write as _;

use super::geojson::MultiPolygon;
use super::map::MIN_STEP;

/// [`MIN_STEP`] in tenths, squared (distances are compared squared).
const MIN_STEP_SQUARED: i64 = {
    let tenths = (MIN_STEP * 10.0) as i64;
    tenths * tenths
};

/// [`super::map::TOLERANCE`] in tenths.
const TOLERANCE_TENTHS: f64 = super::map::TOLERANCE * 10.0;

/// Half the side, in tenths, of the square drawn for a commune too small
/// to show at the map's scale.
const DOT_HALF_SIDE: i64 = 5;

type Ring = Vec<(i64, i64)>;

/// Draws `geometry`, each position mapped by `to_tenths`; returns the path
/// data and the label point (in units). `None` for an empty geometry.
pub fn draw(
    geometry: &MultiPolygon,
    to_tenths: impl Fn([f64; 2]) -> (i64, i64),
) -> Option<(String, (f64, f64))> {
    let mut polygons: Vec<Vec<Ring>> = Vec::with_capacity(geometry.len());
    for polygon in geometry {
        let mut rings = polygon
            .iter()
            .map(|ring| thin(ring.iter().map(|p| to_tenths(*p))));
        let Some(Some(outer)) = rings.next() else {
            continue;
        };
        let mut kept = vec![oriented(outer, true)];
        kept.extend(rings.flatten().map(|hole| oriented(hole, false)));
        polygons.push(kept);
    }
    if polygons.is_empty() {
        return dot(geometry, &to_tenths);
    }
    let mut path = String::new();
    for ring in polygons.iter().flatten() {
        write_ring(&mut path, ring);
    }
    let largest = polygons
        .iter()
        .max_by_key(|rings| rings.first().map_or(0, |outer| area2(outer)))?;
    Some((path, label_point(largest)))
}

/// Rounds a ring, drops each point closer than [`MIN_STEP`] to the last
/// kept one (and the closing point), then simplifies it (Douglas–Peucker,
/// within [`super::map::TOLERANCE`]). `None` when fewer than three points
/// remain: the ring is too small to show.
fn thin(points: impl Iterator<Item = (i64, i64)>) -> Option<Ring> {
    let kept = drop_close(points)?;
    let kept = simplify(&kept);
    (kept.len() >= 3).then_some(kept)
}

fn drop_close(points: impl Iterator<Item = (i64, i64)>) -> Option<Ring> {
    let mut kept: Ring = Vec::new();
    for p in points {
        match kept.last() {
            Some(&last) if distance2(last, p) < MIN_STEP_SQUARED => {}
            _ => kept.push(p),
        }
    }
    while kept.len() > 1
        && kept
            .last()
            .zip(kept.first())
            .is_some_and(|(&last, &first)| distance2(last, first) < MIN_STEP_SQUARED)
    {
        kept.pop();
    }
    (kept.len() >= 3).then_some(kept)
}

/// Douglas–Peucker on a closed ring: split at the first point and the
/// point farthest from it, keep in each half the points farther than the
/// tolerance from the chord of their stretch.
fn simplify(ring: &[(i64, i64)]) -> Ring {
    let Some(&first) = ring.first() else {
        return Vec::new();
    };
    let far = (0..ring.len())
        .max_by_key(|&i| distance2(first, ring[i]))
        .unwrap_or(0);
    let mut keep = vec![false; ring.len() + 1];
    keep[0] = true;
    keep[far] = true;
    // The ring closed: index `ring.len()` stands for the first point again.
    let at = |i: usize| ring.get(i).copied().unwrap_or(first);
    let mut stack = vec![(0, far), (far, ring.len())];
    while let Some((start, end)) = stack.pop() {
        if end <= start + 1 {
            continue;
        }
        let (a, b) = (at(start), at(end));
        let farthest = (start + 1..end)
            .map(|i| (i, deviation2(a, b, at(i))))
            .max_by(|x, y| x.1.total_cmp(&y.1));
        if let Some((i, _)) = farthest.filter(|(_, d2)| *d2 > TOLERANCE_TENTHS * TOLERANCE_TENTHS) {
            keep[i] = true;
            stack.push((start, i));
            stack.push((i, end));
        }
    }
    ring.iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(p, _)| *p)
        .collect()
}

/// The squared distance from `p` to the line through `a` and `b` (to `a`
/// when they are the same point).
fn deviation2(a: (i64, i64), b: (i64, i64), p: (i64, i64)) -> f64 {
    let (dx, dy) = ((b.0 - a.0) as f64, (b.1 - a.1) as f64);
    let (px, py) = ((p.0 - a.0) as f64, (p.1 - a.1) as f64);
    let length2 = dx * dx + dy * dy;
    if length2 == 0.0 {
        return px * px + py * py;
    }
    let cross = dx * py - dy * px;
    cross * cross / length2
}

/// A commune too small for the map's scale: a dot (a small square) at the
/// middle of its points, so it can still be seen and hovered.
fn dot(
    geometry: &MultiPolygon,
    to_tenths: &impl Fn([f64; 2]) -> (i64, i64),
) -> Option<(String, (f64, f64))> {
    let points: Vec<(i64, i64)> = geometry
        .iter()
        .flatten()
        .flatten()
        .map(|p| to_tenths(*p))
        .collect();
    let n = i64::try_from(points.len()).ok().filter(|n| *n > 0)?;
    let x = points.iter().map(|p| p.0).sum::<i64>() / n;
    let y = points.iter().map(|p| p.1).sum::<i64>() / n;
    let h = DOT_HALF_SIDE;
    let square = [
        (x - h, y - h),
        (x + h, y - h),
        (x + h, y + h),
        (x - h, y + h),
    ];
    let mut path = String::new();
    write_ring(&mut path, &square);
    Some((path, (x as f64 / 10.0, y as f64 / 10.0)))
}

/// Twice the signed area (shoelace), positive for a ring turning
/// clockwise on screen (y pointing down).
fn signed_area2(ring: &[(i64, i64)]) -> i64 {
    let next = ring.iter().cycle().skip(1);
    ring.iter()
        .zip(next)
        .map(|(a, b)| a.0 * b.1 - b.0 * a.1)
        .sum()
}

fn area2(ring: &[(i64, i64)]) -> i64 {
    signed_area2(ring).abs()
}

/// Outer rings clockwise, holes counter-clockwise: then both the nonzero
/// and the evenodd fill rules show the holes.
fn oriented(mut ring: Ring, outer: bool) -> Ring {
    if (signed_area2(&ring) > 0) != outer {
        ring.reverse();
    }
    ring
}

fn distance2(a: (i64, i64), b: (i64, i64)) -> i64 {
    (a.0 - b.0).pow(2) + (a.1 - b.1).pow(2)
}

/// `M x y l dx dy dx dy … z`: an absolute start, then relative moves,
/// which are short numbers, with no more separators than the SVG path
/// grammar needs: none before a minus sign, none between "1.2" and ".5"
/// (a number has one decimal point, so "1.2.5" reads as 1.2 and .5; SVG
/// optimisers write it so and browsers read it).
fn write_ring(path: &mut String, ring: &[(i64, i64)]) {
    let Some((&first, rest)) = ring.split_first() else {
        return;
    };
    path.push('M');
    write_tenths(path, first.0);
    path.push(' ');
    write_tenths(path, first.1);
    path.push('l');
    let (mut last, mut had_point) = (first, None);
    for &p in rest {
        for delta in [p.0 - last.0, p.1 - last.1] {
            let starts_with_point = (1..10).contains(&delta);
            match had_point {
                Some(true) if starts_with_point => {}
                Some(_) if delta >= 0 => path.push(' '),
                _ => {}
            }
            had_point = Some(write_tenths(path, delta));
        }
        last = p;
    }
    path.push('z');
}

/// Writes tenths as the shortest decimal: 12 → "1.2", 10 → "1",
/// -5 → "-.5", 0 → "0". Returns whether it wrote a decimal point.
fn write_tenths(out: &mut String, tenths: i64) -> bool {
    if tenths < 0 {
        out.push('-');
    }
    let (units, tenth) = (tenths.unsigned_abs() / 10, tenths.unsigned_abs() % 10);
    if units != 0 || tenth == 0 {
        let _ = write!(out, "{units}");
    }
    if tenth != 0 {
        let _ = write!(out, ".{tenth}");
    }
    tenth != 0
}

/// A point inside the polygon (outer ring, then holes), in units: the
/// outer ring's centroid when it is inside, else the middle of the widest
/// inside stretch of the horizontal line through it.
fn label_point(rings: &[Ring]) -> (f64, f64) {
    let rings: Vec<Vec<(f64, f64)>> = rings
        .iter()
        .map(|r| {
            r.iter()
                .map(|&(x, y)| (x as f64 / 10.0, y as f64 / 10.0))
                .collect()
        })
        .collect();
    let Some(outer) = rings.first() else {
        return (0.0, 0.0);
    };
    let (cx, cy) = centroid(outer);
    let crossings = crossings(&rings, cy);
    let inside = crossings
        .chunks_exact(2)
        .any(|pair| pair[0] <= cx && cx <= pair[1]);
    let point = if inside {
        (cx, cy)
    } else {
        crossings
            .chunks_exact(2)
            .max_by(|a, b| (a[1] - a[0]).total_cmp(&(b[1] - b[0])))
            .map_or((cx, cy), |pair| ((pair[0] + pair[1]) / 2.0, cy))
    };
    (
        (point.0 * 10.0).round() / 10.0,
        (point.1 * 10.0).round() / 10.0,
    )
}

/// The centroid of a ring (the mean of its points if it has no area).
fn centroid(ring: &[(f64, f64)]) -> (f64, f64) {
    let next = ring.iter().cycle().skip(1);
    let (mut a, mut x, mut y) = (0.0, 0.0, 0.0);
    for (p, q) in ring.iter().zip(next) {
        let cross = p.0 * q.1 - q.0 * p.1;
        a += cross;
        x += (p.0 + q.0) * cross;
        y += (p.1 + q.1) * cross;
    }
    if a.abs() > 1e-9 {
        (x / (3.0 * a), y / (3.0 * a))
    } else {
        let n = ring.len().max(1) as f64;
        (
            ring.iter().map(|p| p.0).sum::<f64>() / n,
            ring.iter().map(|p| p.1).sum::<f64>() / n,
        )
    }
}

/// Where the horizontal line at `y` crosses the rings' edges, sorted:
/// pairs (0, 1), (2, 3)… are the stretches inside (even-odd rule).
fn crossings(rings: &[Vec<(f64, f64)>], y: f64) -> Vec<f64> {
    let mut xs = Vec::new();
    for ring in rings {
        let next = ring.iter().cycle().skip(1);
        for (a, b) in ring.iter().zip(next) {
            if (a.1 > y) != (b.1 > y) {
                xs.push(a.0 + (y - a.1) * (b.0 - a.0) / (b.1 - a.1));
            }
        }
    }
    xs.sort_by(f64::total_cmp);
    xs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_tenths(tenths: i64, expected: &str) {
        let mut out = String::new();
        assert_eq!(write_tenths(&mut out, tenths), expected.contains('.'));
        assert_eq!(out, expected);
    }

    #[test]
    fn shortest_numbers() {
        check_tenths(0, "0");
        check_tenths(5, ".5");
        check_tenths(-5, "-.5");
        check_tenths(10, "1");
        check_tenths(12, "1.2");
        check_tenths(-1234, "-123.4");
    }

    #[test]
    fn separators_only_where_needed() {
        let mut path = String::new();
        write_ring(
            &mut path,
            &[(0, 0), (12, 5), (17, -3), (27, 7), (30, 7), (25, 8)],
        );
        assert_eq!(path, "M0 0l1.2.5.5-.8 1 1 .3 0-.5.1z");
    }

    fn identity(p: [f64; 2]) -> (i64, i64) {
        (p[0].round() as i64, p[1].round() as i64)
    }

    #[test]
    fn a_square_with_a_hole() {
        // In tenths: a 10×10 unit square, a 2×2 hole in its middle.
        // Given the other way round: both are turned.
        let outer = vec![
            [0.0, 0.0],
            [0.0, 100.0],
            [100.0, 100.0],
            [100.0, 0.0],
            [0.0, 0.0],
        ];
        let hole = vec![
            [40.0, 40.0],
            [60.0, 40.0],
            [60.0, 60.0],
            [40.0, 60.0],
            [40.0, 40.0],
        ];
        let (path, label) = draw(&vec![vec![outer, hole]], identity).unwrap_or_default();
        // Outer clockwise on screen, hole counter-clockwise.
        assert_eq!(path, "M10 0l0 10-10 0 0-10zM4 6l2 0 0-2-2 0z");
        // The centroid falls in the hole: the label moves beside it, to
        // the middle of a stretch inside.
        assert_eq!(label, (8.0, 5.0));
    }

    #[test]
    fn close_points_are_dropped_and_tiny_communes_become_dots() {
        let ring = vec![
            [0.0, 0.0],
            [2.0, 0.0],
            [100.0, 0.0],
            [100.0, 3.0],
            [100.0, 100.0],
            [0.0, 100.0],
            [1.0, 1.0],
        ];
        let (path, label) = draw(&vec![vec![ring]], identity).unwrap_or_default();
        assert_eq!(path, "M0 0l10 0 0 10-10 0z");
        assert_eq!(label, (5.0, 5.0));
        let tiny = vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]];
        let (path, label) = draw(&vec![vec![tiny]], identity).unwrap_or_default();
        assert_eq!(path, "M-.5 -.5l1 0 0 1-1 0z");
        assert_eq!(label, (0.0, 0.0));
    }

    #[test]
    fn label_inside_a_concave_commune() {
        // A "U": its centroid lies between the arms, outside.
        let u = vec![
            [0.0, 0.0],
            [0.0, 300.0],
            [300.0, 300.0],
            [300.0, 0.0],
            [200.0, 0.0],
            [200.0, 200.0],
            [100.0, 200.0],
            [100.0, 0.0],
            [0.0, 0.0],
        ];
        let (_, (x, y)) = draw(&vec![vec![u.clone()]], identity).unwrap_or_default();
        let rings = [u.iter().map(|p| (p[0] / 10.0, p[1] / 10.0)).collect()];
        let xs = crossings(&rings, y);
        assert!(
            xs.chunks_exact(2).any(|p| p[0] < x && x < p[1]),
            "({x}, {y}) outside, crossings {xs:?}"
        );
    }
}
