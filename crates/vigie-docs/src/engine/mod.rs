//! The document engine: a template name, data, a date in, PDF/A bytes out.
//!
//! A template is a Typst file. It reads its data with `json("data.json")`
//! and the territory's branding with `json("branding.json")` (the logo, when
//! there is one, is `branding.logo`, a file name to give to `image`); the
//! shared layout is `vigie.typ`. The engine looks for each file first in
//! the territory's templates directory (read at every render, so an edited
//! template applies at once), then among the built-in ones.
//!
//! Data strings reach the template as values, never as source: a text a
//! scanned device or a form sent cannot become Typst code. Characters the
//! embedded fonts cannot draw are replaced (PDF/A forbids a missing glyph),
//! control characters dropped.

#[cfg(feature = "pdf")]
mod world;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
#[cfg(feature = "pdf")]
use typst::foundations::Bytes;
#[cfg(feature = "pdf")]
use typst::layout::PagedDocument;
#[cfg(feature = "pdf")]
use typst::text::{Font, FontBook};
#[cfg(feature = "pdf")]
use typst::utils::LazyHash;
#[cfg(feature = "pdf")]
use typst::{Library, LibraryExt};
#[cfg(feature = "pdf")]
use typst_pdf::{PdfOptions, PdfStandard, PdfStandards, Timestamp};

#[cfg(feature = "pdf")]
use self::world::DocumentWorld;

/// The built-in templates, by the name a template imports or a caller asks for.
const BUILT_IN: &[(&str, &str)] = &[
    ("vigie.typ", include_str!("../../documents/vigie.typ")),
    (
        "resultats-campagne.typ",
        include_str!("../../documents/resultats-campagne.typ"),
    ),
    (
        "rapport-sonde.typ",
        include_str!("../../documents/rapport-sonde.typ"),
    ),
    (
        "dossier-diagnostic.typ",
        include_str!("../../documents/dossier-diagnostic.typ"),
    ),
    (
        "pv-fin-de-mission.typ",
        include_str!("../../documents/pv-fin-de-mission.typ"),
    ),
    (
        "annexe-securite.typ",
        include_str!("../../documents/annexe-securite.typ"),
    ),
    (
        "fiche-de-pret.typ",
        include_str!("../../documents/fiche-de-pret.typ"),
    ),
    (
        "fiche-de-restitution.typ",
        include_str!("../../documents/fiche-de-restitution.typ"),
    ),
    (
        "attestation-effacement.typ",
        include_str!("../../documents/attestation-effacement.typ"),
    ),
    (
        "convention.typ",
        include_str!("../../documents/convention.typ"),
    ),
    (
        "attestation-installation.typ",
        include_str!("../../documents/attestation-installation.typ"),
    ),
    (
        "pv-achevement-phase.typ",
        include_str!("../../documents/pv-achevement-phase.typ"),
    ),
    (
        "pv-fin-convention.typ",
        include_str!("../../documents/pv-fin-convention.typ"),
    ),
    (
        "registre-traitements.typ",
        include_str!("../../documents/registre-traitements.typ"),
    ),
];

/// The fonts every document is set in (Liberation Sans, SIL OFL 1.1):
/// embedded, so nothing has to be installed where Vigie runs.
#[cfg(feature = "pdf")]
const FONTS: &[&[u8]] = &[
    include_bytes!("../../fonts/LiberationSans-Regular.ttf"),
    include_bytes!("../../fonts/LiberationSans-Bold.ttf"),
];

/// A template file may not be larger than this (a logo or an image a
/// territory adds to its templates included).
#[cfg_attr(not(feature = "pdf"), allow(dead_code))]
const MAX_FILE: u64 = 16 * 1024 * 1024;

/// Why a document could not be produced. The messages are for the person
/// who runs Vigie or edits a template: they say which file and which line.
#[derive(Debug, thiserror::Error)]
pub enum DocError {
    #[error("modèle de document « {file} », ligne {line} : {message}")]
    Template {
        file: String,
        line: usize,
        message: String,
    },
    #[error(
        "modèle de document « {0} » introuvable (ni dans le dossier des modèles, ni parmi ceux de Vigie)"
    )]
    UnknownTemplate(String),
    #[error("dossier des modèles de documents {0} : {1}")]
    TemplatesDir(PathBuf, String),
    #[error("logo {0} : {1}")]
    Logo(PathBuf, String),
    #[error("couleur « {0} » : une couleur s'écrit #rrggbb (par exemple #1f4e79)")]
    Colour(String),
    #[error("écriture du PDF impossible : {0}")]
    Pdf(String),
    #[error("données du document : {0}")]
    Data(String),
    #[error("cette compilation de Vigie ne produit pas de PDF (fonction « pdf » absente)")]
    Unavailable,
}

/// What documents carry of the territory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Branding {
    /// The territory's name, at the head of every page.
    pub territory_name: String,
    /// Who signs, and as what (empty: no signature block).
    pub signatory_name: String,
    pub signatory_title: String,
    /// `#rrggbb`.
    pub primary_color: String,
    pub accent_color: String,
    /// The logo, when there is one.
    pub logo: Option<Logo>,
}

impl Default for Branding {
    fn default() -> Self {
        Branding {
            territory_name: "Vigie".to_owned(),
            signatory_name: String::new(),
            signatory_title: String::new(),
            primary_color: "#1f4e79".to_owned(),
            accent_color: "#c0392b".to_owned(),
            logo: None,
        }
    }
}

/// A logo image, its format known from its first bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Logo {
    bytes: Vec<u8>,
    /// `png`, `jpg` or `svg`: the name templates see is `logo.<extension>`.
    extension: &'static str,
}

impl Logo {
    /// Reads a PNG, JPEG or SVG logo (at most 16 MiB).
    pub fn read(path: &Path) -> Result<Logo, DocError> {
        let fail = |why: String| DocError::Logo(path.to_path_buf(), why);
        let size = std::fs::metadata(path)
            .map_err(|e| fail(format!("illisible ({e})")))?
            .len();
        if size > MAX_FILE {
            return Err(fail(format!(
                "{size} octets : un logo ne dépasse pas 16 Mio"
            )));
        }
        let bytes = std::fs::read(path).map_err(|e| fail(format!("illisible ({e})")))?;
        Logo::from_bytes(bytes).map_err(fail)
    }

    /// A logo from its bytes; the error says what the bytes are not.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Logo, String> {
        let extension = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            "png"
        } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
            "jpg"
        } else if looks_like_svg(&bytes) {
            "svg"
        } else {
            return Err("ni PNG, ni JPEG, ni SVG".to_owned());
        };
        Ok(Logo { bytes, extension })
    }

    fn file_name(&self) -> String {
        format!("logo.{}", self.extension)
    }
}

fn looks_like_svg(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(1024)];
    String::from_utf8_lossy(head).contains("<svg")
}

/// The engine: fonts parsed once, the standard library, the branding and
/// where a territory's templates are. Cheap to clone; renders may run on
/// several threads at once.
#[derive(Clone)]
pub struct Engine {
    shared: Arc<Shared>,
}

#[cfg_attr(not(feature = "pdf"), allow(dead_code))]
struct Shared {
    #[cfg(feature = "pdf")]
    library: LazyHash<Library>,
    #[cfg(feature = "pdf")]
    book: LazyHash<FontBook>,
    #[cfg(feature = "pdf")]
    fonts: Vec<Font>,
    branding: Branding,
    /// `branding.json` as templates read it.
    branding_json: Vec<u8>,
    templates_dir: Option<PathBuf>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("branding", &self.shared.branding)
            .field("templates_dir", &self.shared.templates_dir)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// The engine with Vigie's own branding and templates only.
    pub fn built_in() -> Engine {
        Engine::assemble(Branding::default(), None)
    }

    /// The engine for a territory: its branding, and a directory whose
    /// files replace the built-in templates of the same name.
    pub fn new(branding: Branding, templates_dir: Option<PathBuf>) -> Result<Engine, DocError> {
        for colour in [&branding.primary_color, &branding.accent_color] {
            if !is_colour(colour) {
                return Err(DocError::Colour(colour.clone()));
            }
        }
        if let Some(dir) = &templates_dir
            && !dir.is_dir()
        {
            return Err(DocError::TemplatesDir(
                dir.clone(),
                "ce n'est pas un dossier lisible".to_owned(),
            ));
        }
        Ok(Engine::assemble(branding, templates_dir))
    }

    /// The engine from checked parts.
    fn assemble(branding: Branding, templates_dir: Option<PathBuf>) -> Engine {
        // The embedded fonts parse (a test checks it).
        #[cfg(feature = "pdf")]
        let fonts: Vec<Font> = FONTS
            .iter()
            .filter_map(|data| Font::new(Bytes::new(*data), 0))
            .collect();
        let mut json = serde_json::json!({
            "territory_name": branding.territory_name,
            "signatory_name": branding.signatory_name,
            "signatory_title": branding.signatory_title,
            "primary_color": branding.primary_color,
            "accent_color": branding.accent_color,
        });
        if let (Some(logo), Some(object)) = (&branding.logo, json.as_object_mut()) {
            object.insert("logo".to_owned(), logo.file_name().into());
        }
        let branding_json = json.to_string().into_bytes();
        Engine {
            shared: Arc::new(Shared {
                #[cfg(feature = "pdf")]
                library: LazyHash::new(Library::builder().build()),
                #[cfg(feature = "pdf")]
                book: LazyHash::new(FontBook::from_fonts(&fonts)),
                #[cfg(feature = "pdf")]
                fonts,
                branding,
                branding_json,
                templates_dir,
            }),
        }
    }

    /// The territory's branding, as documents show it.
    pub fn branding(&self) -> &Branding {
        &self.shared.branding
    }

    /// Without the `pdf` feature (the fuzz harness): no PDF.
    #[cfg(not(feature = "pdf"))]
    pub fn pdf(
        &self,
        _template: &str,
        _data: &impl Serialize,
        _at: DateTime<Utc>,
    ) -> Result<Vec<u8>, DocError> {
        Err(DocError::Unavailable)
    }

    /// Renders `template` (e.g. `rapport-sonde.typ`) with `data` as PDF/A-2u.
    /// `at` is the document's date: its creation date, and what the
    /// template's `datetime.today()` answers (in Paris).
    #[cfg(feature = "pdf")]
    pub fn pdf(
        &self,
        template: &str,
        data: &impl Serialize,
        at: DateTime<Utc>,
    ) -> Result<Vec<u8>, DocError> {
        let mut value = serde_json::to_value(data).map_err(|e| DocError::Data(e.to_string()))?;
        self.printable(&mut value);
        let data = serde_json::to_vec(&value).map_err(|e| DocError::Data(e.to_string()))?;
        let world = DocumentWorld::new(&self.shared, template, Bytes::new(data), at)?;
        let compiled = typst::compile::<PagedDocument>(&world);
        for warning in &compiled.warnings {
            tracing::debug!(template, warning = %warning.message, "document template warning");
        }
        let document = compiled.output.map_err(|errors| world.explain(&errors))?;
        let options = PdfOptions {
            timestamp: world.datetime().map(Timestamp::new_utc),
            standards: PdfStandards::new(&[PdfStandard::A_2u])
                .map_err(|e| DocError::Pdf(e.to_string()))?,
            ..PdfOptions::default()
        };
        let bytes = typst_pdf::pdf(&document, &options).map_err(|errors| world.explain(&errors))?;
        // Typst memoises across compilations; keep only what the last few
        // renders used, so a long-running server does not grow.
        typst::comemo::evict(4);
        Ok(bytes)
    }

    /// Whether a template of that name exists: the territory's, or a
    /// built-in one.
    pub fn has_template(&self, name: &str) -> bool {
        let territory = self.shared.templates_dir.as_ref().is_some_and(|dir| {
            !name.contains(['/', '\\']) && !name.starts_with('.') && dir.join(name).is_file()
        });
        territory || BUILT_IN.iter().any(|(built_in, _)| *built_in == name)
    }

    /// The names of the built-in templates (what a territory may replace).
    pub fn built_in_templates() -> impl Iterator<Item = (&'static str, &'static str)> {
        BUILT_IN.iter().copied()
    }

    /// Every string in `value` made drawable with the embedded fonts:
    #[cfg(feature = "pdf")]
    /// control characters dropped (except line breaks and tabs), any other
    /// character no font has replaced with « ? ».
    fn printable(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(text) if text.chars().any(|c| !self.drawable(c)) => {
                *text = text
                    .chars()
                    .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
                    .map(|c| if self.drawable(c) { c } else { '?' })
                    .collect();
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.printable(v)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| self.printable(v)),
            _ => {}
        }
    }

    #[cfg(feature = "pdf")]
    fn drawable(&self, c: char) -> bool {
        c == '\n'
            || c == '\t'
            || (!c.is_control()
                && self
                    .shared
                    .fonts
                    .iter()
                    .all(|font| font.info().coverage.contains(c as u32)))
    }
}

/// `#rrggbb`.
fn is_colour(text: &str) -> bool {
    text.strip_prefix('#')
        .is_some_and(|hex| hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(all(test, feature = "pdf"))]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_fonts_load() {
        assert_eq!(Engine::built_in().shared.fonts.len(), FONTS.len());
    }

    #[test]
    fn colours_are_checked() {
        assert!(is_colour("#1f4e79"));
        assert!(!is_colour("1f4e79"));
        assert!(!is_colour("#1f4e7"));
        assert!(!is_colour("#1f4e7g"));
        let branding = Branding {
            primary_color: "bleu".to_owned(),
            ..Branding::default()
        };
        let error = Engine::new(branding, None).unwrap_err().to_string();
        assert!(error.contains("« bleu »"), "{error}");
    }

    #[test]
    fn logos_are_known_by_their_bytes() {
        let png = Logo::from_bytes(b"\x89PNG\r\n\x1a\n....".to_vec());
        assert_eq!(png.map(|l| l.file_name()), Ok("logo.png".to_owned()));
        let svg = Logo::from_bytes(b"<?xml version=\"1.0\"?><svg></svg>".to_vec());
        assert_eq!(svg.map(|l| l.file_name()), Ok("logo.svg".to_owned()));
        assert_eq!(
            Logo::from_bytes(b"GIF89a".to_vec()),
            Err("ni PNG, ni JPEG, ni SVG".to_owned())
        );
    }

    #[test]
    fn undrawable_characters_are_replaced_and_controls_dropped() {
        let engine = Engine::built_in();
        let mut value = serde_json::json!({
            "a": "Élevée « ok » — 9,8 €",
            "b": ["名前\u{7}x", "ligne\nsuivante"],
        });
        engine.printable(&mut value);
        assert_eq!(value["a"], "Élevée « ok » — 9,8 €");
        assert_eq!(value["b"][0], "??x");
        assert_eq!(value["b"][1], "ligne\nsuivante");
    }

    #[test]
    fn a_missing_templates_directory_is_named() {
        let error = Engine::new(Branding::default(), Some("/nulle/part".into()))
            .unwrap_err()
            .to_string();
        assert!(error.contains("/nulle/part"), "{error}");
    }
}
