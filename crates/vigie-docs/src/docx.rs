//! Editable documents (DOCX, opened by Word and LibreOffice): for texts a
//! commune pastes into its own files, such as the security requirements
//! annex of a public procurement. A title, paragraphs, headings and
//! numbered requirements, in the built-in styles of the word processor, so
//! the commune's own template restyles them. The PDF of the same text
//! goes through the [`crate::Engine`].
//!
//! What it must never do: put a text into the XML unescaped.

use std::io::Write;

use zip::write::SimpleFileOptions;

use crate::DocError;

/// One block of the document, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    Title(String),
    Heading(String),
    Paragraph(String),
    /// A numbered requirement (« 1. Le titulaire … »), numbered by the
    /// writer across the document.
    Requirement(String),
}

/// Escapes text for XML content and attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters.
            c if c.is_control() && c != '\t' && c != '\n' => {}
            c => out.push(c),
        }
    }
    out
}

fn paragraph(style: Option<&str>, text: &str, bold: bool) -> String {
    let properties = style
        .map(|s| format!("<w:pPr><w:pStyle w:val=\"{s}\"/></w:pPr>"))
        .unwrap_or_default();
    let run_properties = if bold { "<w:rPr><w:b/></w:rPr>" } else { "" };
    format!(
        "<w:p>{properties}<w:r>{run_properties}<w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>",
        escape(text)
    )
}

/// The document as DOCX bytes.
pub fn docx(blocks: &[Block]) -> Result<Vec<u8>, DocError> {
    let mut body = String::new();
    let mut number = 0;
    for block in blocks {
        body.push_str(&match block {
            Block::Title(text) => paragraph(Some("Title"), text, false),
            Block::Heading(text) => paragraph(Some("Heading1"), text, false),
            Block::Paragraph(text) => paragraph(None, text, false),
            Block::Requirement(text) => {
                number += 1;
                format!(
                    "<w:p><w:r><w:rPr><w:b/></w:rPr><w:t xml:space=\"preserve\">{number}. </w:t></w:r>\
                     <w:r><w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>",
                    escape(text)
                )
            }
        });
    }
    let document = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
         <w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">\
         <w:body>{body}<w:sectPr><w:pgSz w:w=\"11906\" w:h=\"16838\"/>\
         <w:pgMar w:top=\"1134\" w:right=\"1134\" w:bottom=\"1134\" w:left=\"1134\" w:header=\"567\" w:footer=\"567\" w:gutter=\"0\"/>\
         </w:sectPr></w:body></w:document>"
    );
    let parts: [(&str, &str); 4] = [
        (
            "[Content_Types].xml",
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
             <Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
             <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
             <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
             <Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>\
             <Override PartName=\"/word/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml\"/>\
             </Types>",
        ),
        (
            "_rels/.rels",
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
             <Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
             <Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/>\
             </Relationships>",
        ),
        (
            "word/_rels/document.xml.rels",
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
             <Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
             <Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles\" Target=\"styles.xml\"/>\
             </Relationships>",
        ),
        (
            "word/styles.xml",
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
             <w:styles xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">\
             <w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii=\"Liberation Sans\" w:hAnsi=\"Liberation Sans\" w:cs=\"Liberation Sans\"/>\
             <w:sz w:val=\"21\"/><w:lang w:val=\"fr-FR\"/></w:rPr></w:rPrDefault>\
             <w:pPrDefault><w:pPr><w:spacing w:after=\"120\"/></w:pPr></w:pPrDefault></w:docDefaults>\
             <w:style w:type=\"paragraph\" w:default=\"1\" w:styleId=\"Normal\"><w:name w:val=\"Normal\"/></w:style>\
             <w:style w:type=\"paragraph\" w:styleId=\"Title\"><w:name w:val=\"Title\"/><w:basedOn w:val=\"Normal\"/>\
             <w:rPr><w:b/><w:sz w:val=\"36\"/></w:rPr></w:style>\
             <w:style w:type=\"paragraph\" w:styleId=\"Heading1\"><w:name w:val=\"heading 1\"/><w:basedOn w:val=\"Normal\"/>\
             <w:pPr><w:keepNext/><w:spacing w:before=\"240\"/><w:outlineLvl w:val=\"0\"/></w:pPr><w:rPr><w:b/><w:sz w:val=\"28\"/></w:rPr></w:style>\
             </w:styles>",
        ),
    ];
    let mut archive = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let fail = |e: &dyn std::fmt::Display| DocError::Pdf(format!("DOCX : {e}"));
    for (name, content) in parts
        .iter()
        .copied()
        .chain([("word/document.xml", document.as_str())])
    {
        archive.start_file(name, options).map_err(|e| fail(&e))?;
        archive
            .write_all(content.as_bytes())
            .map_err(|e| fail(&e))?;
    }
    let cursor = archive.finish().map_err(|e| fail(&e))?;
    Ok(cursor.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_escaped_and_numbered() {
        let bytes = docx(&[
            Block::Title("Annexe <sécurité>".to_owned()),
            Block::Heading("Sauvegardes & mises à jour".to_owned()),
            Block::Requirement("Le titulaire \"sauvegarde\".".to_owned()),
            Block::Requirement("Second.\u{7}".to_owned()),
        ])
        .unwrap();
        assert!(bytes.starts_with(b"PK\x03\x04"));
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut document = String::new();
        std::io::Read::read_to_string(
            &mut archive.by_name("word/document.xml").unwrap(),
            &mut document,
        )
        .unwrap();
        assert!(document.contains("Annexe &lt;sécurité&gt;"));
        assert!(document.contains("Sauvegardes &amp; mises à jour"));
        assert!(document.contains("Le titulaire &quot;sauvegarde&quot;."));
        assert!(document.contains(">2. </w:t>") && document.contains(">Second.</w:t>"));
        for part in ["[Content_Types].xml", "_rels/.rels", "word/styles.xml"] {
            assert!(archive.by_name(part).is_ok(), "{part}");
        }
    }
}
