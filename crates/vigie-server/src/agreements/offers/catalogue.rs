//! The offers known to the server: the built-in ones (files of
//! `data/offers/`, compiled in), then the `*.toml` files of the
//! territory's folder, each replacing the built-in offer of the same id
//! or adding one. Checked whole at start.
//!
//! What it must not do: read a file beyond its size bound, or keep half a
//! catalogue (one bad file stops the start, with its reason).

use std::path::Path;

use super::{MAX_FILE_BYTES, Offer, OfferError};

/// Offers one catalogue may hold, built-in ones included.
pub const MAX_OFFERS: usize = 64;

/// The built-in offers (`data/offers/<id>.toml`), in the order a list
/// shows them.
pub const BUILT_IN: [(&str, &str); 5] = [
    (
        "sensor.toml",
        include_str!("../../../data/offers/sensor.toml"),
    ),
    (
        "cyber_path.toml",
        include_str!("../../../data/offers/cyber_path.toml"),
    ),
    (
        "awareness_1.toml",
        include_str!("../../../data/offers/awareness_1.toml"),
    ),
    (
        "awareness_2.toml",
        include_str!("../../../data/offers/awareness_2.toml"),
    ),
    (
        "crisis_kit.toml",
        include_str!("../../../data/offers/crisis_kit.toml"),
    ),
];

/// Every offer agreements may be made of: the built-in ones in their
/// order, then the territory's own in the order of their file names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Catalogue {
    offers: Vec<Offer>,
}

impl Catalogue {
    /// The built-in offers, checked.
    pub fn built_in() -> Result<Catalogue, OfferError> {
        let mut catalogue = Catalogue::default();
        for (name, text) in BUILT_IN {
            catalogue.put(Offer::parse(&format!("data/offers/{name}"), text)?);
        }
        Ok(catalogue)
    }

    /// The built-in offers, then each `*.toml` file of `dir` (one named
    /// after a built-in offer replaces it). Names starting with `.` and
    /// other files (a README) are skipped.
    pub fn load(dir: Option<&Path>) -> Result<Catalogue, OfferError> {
        let mut catalogue = Catalogue::built_in()?;
        let Some(dir) = dir else {
            return Ok(catalogue);
        };
        let shown = dir.display().to_string();
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(|_| OfferError::NotADirectory(shown.clone()))?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.is_file() && path.extension().is_some_and(|e| e == "toml"))
            .filter(|path| {
                path.file_name()
                    .is_some_and(|n| !n.to_string_lossy().starts_with('.'))
            })
            .collect();
        files.sort();
        for path in files {
            let text = read(&path)?;
            catalogue.put(Offer::parse(&path.display().to_string(), &text)?);
            if catalogue.offers.len() > MAX_OFFERS {
                return Err(OfferError::TooMany {
                    dir: shown,
                    limit: MAX_OFFERS,
                });
            }
        }
        Ok(catalogue)
    }

    pub fn get(&self, id: &str) -> Option<&Offer> {
        self.offers.iter().find(|offer| offer.id == id)
    }

    /// In the catalogue's order.
    pub fn all(&self) -> impl Iterator<Item = &Offer> {
        self.offers.iter()
    }

    pub fn len(&self) -> usize {
        self.offers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.offers.is_empty()
    }

    /// Adds `offer`, or replaces the one with its id in its place.
    fn put(&mut self, offer: Offer) {
        match self.offers.iter_mut().find(|known| known.id == offer.id) {
            Some(known) => *known = offer,
            None => self.offers.push(offer),
        }
    }
}

/// A territory's file, read to at most [`MAX_FILE_BYTES`] (a file
/// growing while read is still bounded).
fn read(path: &Path) -> Result<String, OfferError> {
    use std::io::Read;
    let shown = path.display().to_string();
    let unreadable = |e: std::io::Error| OfferError::Read {
        file: shown.clone(),
        cause: e.to_string(),
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_FILE_BYTES as u64 + 1).read_to_end(&mut bytes))
        .map_err(unreadable)?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(OfferError::TooLarge {
            file: shown,
            limit: MAX_FILE_BYTES,
        });
    }
    String::from_utf8(bytes).map_err(|_| OfferError::Read {
        file: shown.clone(),
        cause: "le fichier n'est pas en UTF-8".to_owned(),
    })
}
