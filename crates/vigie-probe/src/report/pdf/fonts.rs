//! The report's fonts and line breaking: Liberation Sans regular and bold
//! (SIL Open Font License 1.1, `../fonts/OFL.txt`), embedded in every PDF
//! so accents show the same on any reader, and paragraphs broken into
//! lines with the fonts' own advance widths.
//!
//! Text from the document is cleaned first: control characters become
//! spaces and characters the fonts lack become « ? », never a blank glyph.

use printpdf::{FontId, ParsedFont, PdfDocument};

use crate::report::ReportError;

const REGULAR_TTF: &[u8] = include_bytes!("../fonts/LiberationSans-Regular.ttf");
const BOLD_TTF: &[u8] = include_bytes!("../fonts/LiberationSans-Bold.ttf");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::report) enum Weight {
    Regular,
    Bold,
}

/// A run of text in one weight; a paragraph is a list of runs.
pub(in crate::report) type Run<'a> = (Weight, &'a str);

/// Pieces of one broken line, each in its weight.
pub(super) type LineOut = Vec<(Weight, String)>;

/// One embedded font face.
struct Face {
    parsed: ParsedFont,
    id: FontId,
}

impl Face {
    fn load(doc: &mut PdfDocument, bytes: &[u8], name: &'static str) -> Result<Face, ReportError> {
        let parsed =
            ParsedFont::from_bytes(bytes, 0, &mut Vec::new()).ok_or(ReportError::Font(name))?;
        let id = doc.add_font(&parsed);
        Ok(Face { parsed, id })
    }

    fn has(&self, c: char) -> bool {
        self.parsed.lookup_glyph_index(u32::from(c)).is_some()
    }

    /// The advance width of `text` at `size` points.
    fn width(&self, text: &str, size: f32) -> f32 {
        let units: u32 = text
            .chars()
            .filter_map(|c| self.parsed.lookup_glyph_index(u32::from(c)))
            .filter_map(|glyph| self.parsed.get_glyph_width(glyph))
            .map(u32::from)
            .sum();
        units as f32 * size / f32::from(self.parsed.units_per_em.max(1))
    }
}

/// The two faces, added to one document.
pub(super) struct Fonts {
    regular: Face,
    bold: Face,
}

impl Fonts {
    pub fn load(doc: &mut PdfDocument) -> Result<Fonts, ReportError> {
        Ok(Fonts {
            regular: Face::load(doc, REGULAR_TTF, "LiberationSans-Regular.ttf")?,
            bold: Face::load(doc, BOLD_TTF, "LiberationSans-Bold.ttf")?,
        })
    }

    fn face(&self, weight: Weight) -> &Face {
        match weight {
            Weight::Regular => &self.regular,
            Weight::Bold => &self.bold,
        }
    }

    /// The document's handle on the face of `weight`.
    pub fn id(&self, weight: Weight) -> FontId {
        self.face(weight).id.clone()
    }

    /// The advance width of `text` in `weight` at `size` points.
    pub fn width(&self, weight: Weight, text: &str, size: f32) -> f32 {
        self.face(weight).width(text, size)
    }

    /// `text` with what the fonts cannot draw replaced.
    pub fn clean(&self, text: &str) -> String {
        text.chars()
            .map(|c| match c {
                c if c.is_control() => ' ',
                c if self.regular.has(c) => c,
                _ => '?',
            })
            .collect()
    }

    /// Splits `runs` into lines no wider than `width`: words go on the
    /// line while they fit; a word wider than a whole line is cut.
    pub fn wrap(&self, runs: &[Run], size: f32, width: f32) -> Vec<LineOut> {
        let space = self.regular.width(" ", size);
        let mut lines: Vec<LineOut> = Vec::new();
        let mut line: LineOut = Vec::new();
        let mut used = 0.0;
        for (weight, text) in runs {
            let face = self.face(*weight);
            let text = self.clean(text);
            for word in text
                .split_whitespace()
                .flat_map(|w| cut(face, w, size, width))
            {
                let word_width = face.width(&word, size);
                if !line.is_empty() && used + space + word_width > width {
                    lines.push(std::mem::take(&mut line));
                    used = 0.0;
                }
                if line.is_empty() {
                    used = word_width;
                    line.push((*weight, word));
                    continue;
                }
                used += space + word_width;
                match line.last_mut() {
                    Some((last, text)) if last == weight => {
                        text.push(' ');
                        text.push_str(&word);
                    }
                    _ => line.push((*weight, format!(" {word}"))),
                }
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
    }
}

/// `word` in pieces no wider than `width` (most words: itself).
fn cut(face: &Face, word: &str, size: f32, width: f32) -> Vec<String> {
    if face.width(word, size) <= width {
        return vec![word.to_owned()];
    }
    let mut pieces = Vec::new();
    let mut piece = String::new();
    let mut used = 0.0;
    for c in word.chars() {
        let advance = face.width(c.encode_utf8(&mut [0; 4]), size);
        if used + advance > width && !piece.is_empty() {
            pieces.push(std::mem::take(&mut piece));
            used = 0.0;
        }
        piece.push(c);
        used += advance;
    }
    if !piece.is_empty() {
        pieces.push(piece);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fonts() -> Fonts {
        Fonts::load(&mut PdfDocument::new("test")).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn lines_fit_the_width() {
        let fonts = fonts();
        let text = "Le partage de fichiers accepte l'ancienne version SMBv1, celle qu'a utilisée le rançongiciel WannaCry en 2017. ".repeat(4);
        let lines = fonts.wrap(&[(Weight::Regular, &text)], 10.0, 200.0);
        assert!(lines.len() > 4, "{lines:?}");
        for line in &lines {
            let width: f32 = line.iter().map(|(w, t)| fonts.width(*w, t, 10.0)).sum();
            assert!(width <= 200.5, "{width}: {line:?}");
        }
        let words: Vec<String> = lines
            .iter()
            .flat_map(|l| l.iter().map(|(_, t)| t.clone()))
            .collect();
        assert_eq!(
            words.join(" ").split_whitespace().count(),
            text.split_whitespace().count()
        );
    }

    #[test]
    fn long_words_are_cut_and_runs_keep_their_weight() {
        let fonts = fonts();
        let long = "A".repeat(300);
        let lines = fonts.wrap(
            &[(Weight::Bold, "Constat :"), (Weight::Regular, &long)],
            10.0,
            150.0,
        );
        assert_eq!(lines[0][0], (Weight::Bold, "Constat :".to_owned()));
        let letters: usize = lines
            .iter()
            .flatten()
            .map(|(_, t)| t.matches('A').count())
            .sum();
        assert_eq!(letters, 300);
        assert!(lines.len() > 2);
    }

    #[test]
    fn what_the_fonts_lack_is_replaced() {
        assert_eq!(fonts().clean("é\u{7}à 中"), "é à ?");
    }
}
