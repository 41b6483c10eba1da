//! What a file is, from its bytes alone (never its name): the kinds the
//! kit keeps (PDF, presentations, text documents and spreadsheets, in
//! OpenDocument or Office Open XML) and, for the others, what they are in
//! French, so the refusal can say it.
//!
//! OpenDocument files are zip archives whose first entry, `mimetype`, is
//! stored uncompressed (OASIS ODF 1.2, part 3, §3.3); Office Open XML ones
//! are zip archives whose parts have fixed names (ECMA-376 part 2), read
//! from the zip's central directory (PKWARE APPNOTE 6.3, §4.3.12, §4.3.16).
//!
//! What it must never do: panic or loop on any bytes (no indexing without
//! a check, at most [`MAX_ENTRIES`] entries read), decompress anything, or
//! accept a document carrying macros.

/// The kinds the kit keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Pdf,
    Odp,
    Pptx,
    Odt,
    Docx,
    Ods,
    Xlsx,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::Pdf,
        Kind::Odp,
        Kind::Pptx,
        Kind::Odt,
        Kind::Docx,
        Kind::Ods,
        Kind::Xlsx,
    ];

    /// As stored, and the file name's extension.
    pub fn id(self) -> &'static str {
        match self {
            Kind::Pdf => "pdf",
            Kind::Odp => "odp",
            Kind::Pptx => "pptx",
            Kind::Odt => "odt",
            Kind::Docx => "docx",
            Kind::Ods => "ods",
            Kind::Xlsx => "xlsx",
        }
    }

    pub fn parse(id: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.id() == id)
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Kind::Pdf => "application/pdf",
            Kind::Odp => "application/vnd.oasis.opendocument.presentation",
            Kind::Pptx => {
                "application/vnd.openxmlformats-officedocument.presentationml.presentation"
            }
            Kind::Odt => "application/vnd.oasis.opendocument.text",
            Kind::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Kind::Ods => "application/vnd.oasis.opendocument.spreadsheet",
            Kind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    /// As a page says it: « présentation (PPTX) ».
    pub fn label_fr(self) -> &'static str {
        match self {
            Kind::Pdf => "PDF",
            Kind::Odp => "présentation (ODP)",
            Kind::Pptx => "présentation (PPTX)",
            Kind::Odt => "document texte (ODT)",
            Kind::Docx => "document texte (DOCX)",
            Kind::Ods => "tableur (ODS)",
            Kind::Xlsx => "tableur (XLSX)",
        }
    }
}

/// The most central-directory entries read: an office document has tens
/// to a few thousand; a zip with more is not one.
pub const MAX_ENTRIES: usize = 20_000;

/// The kind of `bytes`, or what they are instead, in French (« une image
/// PNG », « un programme Windows »…).
pub fn recognise(bytes: &[u8]) -> Result<Kind, &'static str> {
    if bytes.starts_with(b"%PDF-") {
        return Ok(Kind::Pdf);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return zip_kind(bytes);
    }
    Err(other_kind(bytes))
}

/// A zip archive: OpenDocument by its `mimetype` entry, Office Open XML
/// by its part names; macros refused in both.
fn zip_kind(bytes: &[u8]) -> Result<Kind, &'static str> {
    let names = central_names(bytes).ok_or("une archive ZIP abîmée ou incomplète")?;
    let macros = names.iter().any(|name| {
        name.ends_with(b"vbaProject.bin")
            || name.starts_with(b"Basic/")
            || name.starts_with(b"Scripts/")
    });
    if macros {
        return Err("un document qui contient des macros (des programmes)");
    }
    if let Some(mimetype) = odf_mimetype(bytes) {
        return match mimetype {
            b"application/vnd.oasis.opendocument.presentation" => Ok(Kind::Odp),
            b"application/vnd.oasis.opendocument.text" => Ok(Kind::Odt),
            b"application/vnd.oasis.opendocument.spreadsheet" => Ok(Kind::Ods),
            _ => Err("un autre genre de document OpenDocument (dessin, modèle, formule…)"),
        };
    }
    let has = |part: &[u8]| names.contains(&part);
    if has(b"[Content_Types].xml") {
        if has(b"ppt/presentation.xml") {
            return Ok(Kind::Pptx);
        }
        if has(b"word/document.xml") {
            return Ok(Kind::Docx);
        }
        if has(b"xl/workbook.xml") {
            return Ok(Kind::Xlsx);
        }
        return Err("un autre genre de document Office");
    }
    Err("une archive ZIP")
}

/// The `mimetype` entry of an OpenDocument file: the first local header,
/// named so, stored (method 0).
fn odf_mimetype(bytes: &[u8]) -> Option<&[u8]> {
    let method = u16_at(bytes, 8)?;
    let size = usize::try_from(u32_at(bytes, 18)?).ok()?;
    let name_len = usize::from(u16_at(bytes, 26)?);
    let extra_len = usize::from(u16_at(bytes, 28)?);
    let name = bytes.get(30..30usize.checked_add(name_len)?)?;
    if name != b"mimetype" || method != 0 || size > 100 {
        return None;
    }
    let start = 30usize.checked_add(name_len)?.checked_add(extra_len)?;
    bytes.get(start..start.checked_add(size)?)
}

/// The entry names of the central directory, found through the end of
/// central directory record (searched in the last 64 KiB + 22 bytes: its
/// comment is at most 65,535 bytes).
fn central_names(bytes: &[u8]) -> Option<Vec<&[u8]>> {
    const EOCD: &[u8] = b"PK\x05\x06";
    const ENTRY: &[u8] = b"PK\x01\x02";
    let tail_start = bytes.len().saturating_sub(22 + 65_535);
    let tail = bytes.get(tail_start..)?;
    let at = tail.windows(4).rposition(|w| w == EOCD)? + tail_start;
    let count = usize::from(u16_at(bytes, at + 10)?);
    let mut offset = usize::try_from(u32_at(bytes, at + 16)?).ok()?;
    let mut names = Vec::with_capacity(count.min(MAX_ENTRIES));
    for _ in 0..count.min(MAX_ENTRIES) {
        if bytes.get(offset..offset.checked_add(4)?)? != ENTRY {
            return None;
        }
        let name_len = usize::from(u16_at(bytes, offset + 28)?);
        let extra_len = usize::from(u16_at(bytes, offset + 30)?);
        let comment_len = usize::from(u16_at(bytes, offset + 32)?);
        let name_start = offset.checked_add(46)?;
        names.push(bytes.get(name_start..name_start.checked_add(name_len)?)?);
        offset = name_start
            .checked_add(name_len)?
            .checked_add(extra_len)?
            .checked_add(comment_len)?;
    }
    Some(names)
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    let pair = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([*pair.first()?, *pair.get(1)?]))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let four: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(four))
}

/// What a refused file is, as far as its first bytes tell.
fn other_kind(bytes: &[u8]) -> &'static str {
    const KNOWN: [(&[u8], &str); 10] = [
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
            "un document Office de l'ancien format (.doc, .ppt ou .xls)",
        ),
        (b"\x89PNG\r\n\x1a\n", "une image PNG"),
        (b"\xff\xd8\xff", "une image JPEG"),
        (b"GIF8", "une image GIF"),
        (b"MZ", "un programme Windows"),
        (b"\x7fELF", "un programme Linux"),
        (b"{\\rtf", "un document RTF"),
        (b"Rar!", "une archive RAR"),
        (b"7z\xbc\xaf\x27\x1c", "une archive 7-Zip"),
        (b"\x1f\x8b", "une archive compressée (gzip)"),
    ];
    if let Some((_, what)) = KNOWN.iter().find(|(magic, _)| bytes.starts_with(magic)) {
        return what;
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => {
            let start = text.trim_start().get(..64).unwrap_or(text.trim_start());
            let start = start.to_ascii_lowercase();
            if start.starts_with("<!doctype html") || start.starts_with("<html") {
                "une page web (HTML)"
            } else if start.starts_with("<svg") || start.starts_with("<?xml") {
                "un fichier XML ou SVG"
            } else {
                "un fichier texte"
            }
        }
        Err(_) => "un fichier de type inconnu",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A zip archive of `entries` (name, stored content), written as a
    /// zip tool does: local headers, then the central directory.
    pub(crate) fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, content) in entries {
            let offset = out.len() as u32;
            let header = |sig: &[u8], central: bool| {
                let mut h = sig.to_vec();
                if central {
                    h.extend_from_slice(&20u16.to_le_bytes()); // made by
                }
                h.extend_from_slice(&20u16.to_le_bytes()); // version needed
                h.extend_from_slice(&0u16.to_le_bytes()); // flags
                h.extend_from_slice(&0u16.to_le_bytes()); // method: stored
                h.extend_from_slice(&[0; 4]); // time, date
                h.extend_from_slice(&[0; 4]); // crc (not checked here)
                h.extend_from_slice(&(content.len() as u32).to_le_bytes());
                h.extend_from_slice(&(content.len() as u32).to_le_bytes());
                h.extend_from_slice(&(name.len() as u16).to_le_bytes());
                h.extend_from_slice(&0u16.to_le_bytes()); // extra
                if central {
                    h.extend_from_slice(&[0; 6]); // comment, disk, internal attributes
                    h.extend_from_slice(&[0; 4]); // external attributes
                    h.extend_from_slice(&offset.to_le_bytes());
                }
                h.extend_from_slice(name.as_bytes());
                h
            };
            out.extend(header(b"PK\x03\x04", false));
            out.extend_from_slice(content);
            central.extend(header(b"PK\x01\x02", true));
        }
        let start = out.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&start.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }

    fn check(bytes: &[u8], expected: Result<Kind, &str>) {
        assert_eq!(recognise(bytes), expected);
    }

    #[test]
    fn documents_are_known_by_their_bytes() {
        check(b"%PDF-1.7\n...", Ok(Kind::Pdf));
        let odf = |mime: &[u8]| zip(&[("mimetype", mime), ("content.xml", b"<x/>")]);
        check(
            &odf(b"application/vnd.oasis.opendocument.presentation"),
            Ok(Kind::Odp),
        );
        check(
            &odf(b"application/vnd.oasis.opendocument.text"),
            Ok(Kind::Odt),
        );
        check(
            &odf(b"application/vnd.oasis.opendocument.spreadsheet"),
            Ok(Kind::Ods),
        );
        assert!(recognise(&odf(b"application/vnd.oasis.opendocument.graphics")).is_err());
        let ooxml = |part: &str| zip(&[("[Content_Types].xml", b"<Types/>"), (part, b"<x/>")]);
        check(&ooxml("ppt/presentation.xml"), Ok(Kind::Pptx));
        check(&ooxml("word/document.xml"), Ok(Kind::Docx));
        check(&ooxml("xl/workbook.xml"), Ok(Kind::Xlsx));
    }

    #[test]
    fn refusals_say_what_the_file_is() {
        check(&[0x4d, 0x5a, 0x90, 0x00], Err("un programme Windows"));
        check(b"\x89PNG\r\n\x1a\n....", Err("une image PNG"));
        check(
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1....",
            Err("un document Office de l'ancien format (.doc, .ppt ou .xls)"),
        );
        check(b"  <!DOCTYPE html><html>", Err("une page web (HTML)"));
        check("Compte rendu".as_bytes(), Err("un fichier texte"));
        check(&[0xff, 0x00, 0xfe], Err("un fichier de type inconnu"));
        check(&zip(&[("photo.jpg", b"...")]), Err("une archive ZIP"));
        let macros = zip(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("word/document.xml", b"<x/>"),
            ("word/vbaProject.bin", b"\0"),
        ]);
        check(
            &macros,
            Err("un document qui contient des macros (des programmes)"),
        );
        // A zip cut short: its central directory is gone.
        let whole = zip(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("word/document.xml", b"<x/>"),
        ]);
        check(&whole[..40], Err("une archive ZIP abîmée ou incomplète"));
    }

    #[test]
    fn no_bytes_make_it_panic() {
        let whole = zip(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("xl/workbook.xml", b"<x/>"),
        ]);
        for cut in 0..whole.len() {
            let _ = recognise(&whole[..cut]);
            let mut bent = whole.clone();
            bent[cut] = bent[cut].wrapping_add(0x80);
            let _ = recognise(&bent);
        }
        let _ = recognise(b"PK\x03\x04");
        let _ = recognise(
            b"PK\x03\x04PK\x05\x06\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
        );
    }
}
