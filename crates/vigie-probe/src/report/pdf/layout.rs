//! A small page layout on top of printpdf's drawing operations: A4 pages,
//! paragraphs of bold and regular runs broken to the page width, severity
//! badges, a coloured bar beside a finding, page breaks and a footer on
//! every page. It must never draw outside the page's margins.

use printpdf::{
    Color, Line, LinePoint, Mm, Op, PaintMode, PdfDocument, PdfFontHandle, PdfPage, Point, Pt,
    Rect, Rgb, TextItem, WindingOrder,
};

use super::fonts::{Fonts, LineOut, Run, Weight};
use crate::report::ReportError;
use crate::report::view::Badge;

/// A4 in points (210 × 297 mm).
const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
const MARGIN: f32 = 50.0;
const TOP: f32 = PAGE_HEIGHT - 48.0;
const BOTTOM: f32 = 56.0;
const FOOTER_BASELINE: f32 = 28.0;
const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
/// Line height as a multiple of the font size.
const LEADING: f32 = 1.32;
const BAR_WIDTH: f32 = 4.0;
/// Where text starts right of a bar.
const BAR_INDENT: f32 = 11.0;
const BADGE_PAD: f32 = 3.5;

/// The report's dark text, `#1d2733`.
pub(super) const INK: &str = "#1d2733";
/// Secondary text, `#4a5563`.
pub(super) const MUTED: &str = "#4a5563";

/// The pages being written, top to bottom.
pub(super) struct Layout {
    fonts: Fonts,
    pages: Vec<Vec<Op>>,
    ops: Vec<Op>,
    /// The top of the next line, in points from the bottom of the page.
    y: f32,
    /// The colour of the bar drawn left of the current block, if any.
    bar: Option<Color>,
}

impl Layout {
    pub fn new(doc: &mut PdfDocument) -> Result<Layout, ReportError> {
        Ok(Layout {
            fonts: Fonts::load(doc)?,
            pages: Vec::new(),
            ops: Vec::new(),
            y: TOP,
            bar: None,
        })
    }

    fn left(&self, indent: f32) -> f32 {
        MARGIN + indent + if self.bar.is_some() { BAR_INDENT } else { 0.0 }
    }

    /// Starts a new page when less than `height` is left on this one.
    pub fn ensure(&mut self, height: f32) {
        if self.y - height < BOTTOM && self.y < TOP {
            self.pages.push(std::mem::take(&mut self.ops));
            self.y = TOP;
        }
    }

    /// Draws a bar of `colour` left of everything until [`Layout::end_bar`].
    pub fn start_bar(&mut self, colour: &str) {
        self.bar = Some(rgb(colour));
    }

    pub fn end_bar(&mut self) {
        self.bar = None;
    }

    /// Vertical space (with the bar, if one is drawn).
    pub fn space(&mut self, height: f32) {
        if self.y - height < BOTTOM {
            self.ensure(height);
            return;
        }
        self.draw_bar(height);
        self.y -= height;
    }

    fn draw_bar(&mut self, height: f32) {
        if let Some(colour) = self.bar.clone() {
            self.rect(MARGIN, self.y - height, BAR_WIDTH, height, colour);
        }
    }

    /// The height `runs` take at `size` points from `indent`.
    pub fn height(&self, runs: &[Run], size: f32, indent: f32) -> f32 {
        let width = CONTENT_WIDTH - indent - BAR_INDENT;
        self.fonts.wrap(runs, size, width).len() as f32 * size * LEADING
    }

    /// A wrapped paragraph of `runs`, in `colour` (`#rrggbb`).
    pub fn paragraph(&mut self, runs: &[Run], size: f32, colour: &str, indent: f32) {
        let x = self.left(indent);
        let lines = self.fonts.wrap(runs, size, MARGIN + CONTENT_WIDTH - x);
        for line in lines {
            self.line(&line, x, size, rgb(colour));
        }
    }

    /// A section title with a rule under it, kept with what follows.
    pub fn heading(&mut self, text: &str, size: f32) {
        self.ensure(size * LEADING * 2.0 + 60.0);
        self.paragraph(&[(Weight::Bold, text)], size, INK, 0.0);
        let y = self.y + size * 0.02;
        self.ops.push(Op::SetOutlineColor { col: rgb(INK) });
        self.ops.push(Op::SetOutlineThickness { pt: Pt(1.2) });
        self.ops.push(Op::DrawLine {
            line: Line {
                points: vec![point(MARGIN, y), point(MARGIN + CONTENT_WIDTH, y)],
                is_closed: false,
            },
        });
        self.y -= size * 0.5;
    }

    /// A severity badge, then `rest` on the same line (wrapped under it
    /// when long).
    pub fn badge(&mut self, badge: &Badge, rest: &str, size: f32, indent: f32) {
        let line_height = size * LEADING;
        self.ensure(line_height);
        let x = self.left(indent);
        let label = self.fonts.clean(badge.label);
        let label_width = self.fonts.width(Weight::Bold, &label, size) + 2.0 * BADGE_PAD;
        let baseline = self.y - size;
        self.draw_bar(line_height);
        self.rect(
            x,
            baseline - size * 0.28,
            label_width,
            size * 1.22,
            rgb(badge.colour),
        );
        self.text_at(
            &[(Weight::Bold, label)],
            x + BADGE_PAD,
            baseline,
            size,
            rgb(badge.ink),
        );
        let after = x + label_width + size * 0.5;
        let mut lines = self
            .fonts
            .wrap(
                &[(Weight::Regular, rest)],
                size,
                MARGIN + CONTENT_WIDTH - after,
            )
            .into_iter();
        if let Some(first) = lines.next() {
            self.text_at(&first, after, baseline, size, rgb(INK));
        }
        self.y -= line_height;
        for line in lines {
            self.line(&line, after, size, rgb(INK));
        }
    }

    /// Every page, each with its footer (`footer`, then « page i / n »).
    pub fn finish(mut self, footer: &str) -> Vec<PdfPage> {
        if !self.ops.is_empty() || self.pages.is_empty() {
            self.pages.push(std::mem::take(&mut self.ops));
        }
        let total = self.pages.len();
        let pages = std::mem::take(&mut self.pages);
        pages
            .into_iter()
            .enumerate()
            .map(|(index, mut ops)| {
                let text = self
                    .fonts
                    .clean(&format!("{footer} · page {} / {total}", index + 1));
                self.ops = Vec::new();
                self.text_at(
                    &[(Weight::Regular, text)],
                    MARGIN,
                    FOOTER_BASELINE,
                    8.0,
                    rgb(MUTED),
                );
                ops.append(&mut self.ops);
                PdfPage::new(Mm(210.0), Mm(297.0), ops)
            })
            .collect()
    }

    /// Draws one wrapped line at the cursor and moves down.
    fn line(&mut self, line: &LineOut, x: f32, size: f32, colour: Color) {
        let line_height = size * LEADING;
        self.ensure(line_height);
        self.draw_bar(line_height);
        let baseline = self.y - size;
        self.text_at(line, x, baseline, size, colour);
        self.y -= line_height;
    }

    fn text_at(
        &mut self,
        pieces: &[(Weight, String)],
        x: f32,
        baseline: f32,
        size: f32,
        colour: Color,
    ) {
        self.ops.push(Op::StartTextSection);
        self.ops.push(Op::SetTextCursor {
            pos: Point {
                x: Pt(x),
                y: Pt(baseline),
            },
        });
        self.ops.push(Op::SetFillColor { col: colour });
        for (weight, text) in pieces {
            self.ops.push(Op::SetFont {
                font: PdfFontHandle::External(self.fonts.id(*weight)),
                size: Pt(size),
            });
            self.ops.push(Op::ShowText {
                items: vec![TextItem::Text(text.clone())],
            });
        }
        self.ops.push(Op::EndTextSection);
    }

    fn rect(&mut self, x: f32, y: f32, width: f32, height: f32, colour: Color) {
        self.ops.push(Op::SetFillColor { col: colour });
        self.ops.push(Op::DrawRectangle {
            rectangle: Rect {
                x: Pt(x),
                y: Pt(y),
                width: Pt(width),
                height: Pt(height),
                mode: Some(PaintMode::Fill),
                winding_order: Some(WindingOrder::NonZero),
            },
        });
    }
}

fn point(x: f32, y: f32) -> LinePoint {
    LinePoint {
        p: Point { x: Pt(x), y: Pt(y) },
        bezier: false,
    }
}

/// `#rrggbb` as a PDF colour (black if malformed: colours are ours).
fn rgb(hex: &str) -> Color {
    let channel = |range: std::ops::Range<usize>| {
        hex.get(range)
            .and_then(|digits| u8::from_str_radix(digits, 16).ok())
            .map_or(0.0, |value| f32::from(value) / 255.0)
    };
    Color::Rgb(Rgb::new(channel(1..3), channel(3..5), channel(5..7), None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours() {
        assert_eq!(rgb("#ff0000"), Color::Rgb(Rgb::new(1.0, 0.0, 0.0, None)));
        assert_eq!(rgb("oops"), Color::Rgb(Rgb::new(0.0, 0.0, 0.0, None)));
    }
}
