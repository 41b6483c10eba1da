//! Reading a PDF's text back, as tests of every document do: with
//! `pdftotext` (poppler-utils), the tool the issue names, so what tests
//! read is what a person's tools extract.

use std::process::Command;

/// The text of every page (pages end with a form feed). `None` when
/// `pdftotext` is not installed and `VIGIE_TEST_PDF_REQUIRED` is not set;
/// CI sets it, so there a missing tool fails the test. Panics on any other
/// failure: this is for tests.
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
pub fn pdf_text(bytes: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("document.pdf");
    std::fs::write(&path, bytes).expect("PDF written");
    let output = match Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
    {
        Ok(output) => output,
        Err(error) if std::env::var_os("VIGIE_TEST_PDF_REQUIRED").is_none() => {
            eprintln!(
                "pdftotext missing ({error}): the PDF's text is not read (apt install poppler-utils)"
            );
            return None;
        }
        Err(error) => panic!("pdftotext: {error}"),
    };
    assert!(
        output.status.success(),
        "pdftotext: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(String::from_utf8(output.stdout).expect("pdftotext writes UTF-8"))
}
