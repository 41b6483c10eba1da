//! Vigie's documents. Every PDF the platform produces goes through one
//! engine ([`Engine`]): Typst used as a library, each document a template
//! (a `.typ` file) fed with its data as JSON and the territory's branding
//! (name, logo, signatory, colours). The built-in templates live in
//! `documents/`; a territory adapts them by putting a file of the same
//! name in its templates directory, with no rebuild. The PDFs are PDF/A-2u
//! (archivable, fonts embedded, text that `pdftotext` extracts).
//!
//! The probe's report (HTML page, PDF, terminal summary) is rendered here
//! too, from one French view of the `vigie.probe/1` document.
//!
//! What it must never do: let a text from the data become template code
//! (data is passed as JSON values, never as source), read a file outside
//! the templates directory, or fetch anything from a network.

pub mod docx;
pub mod engine;
pub mod probe;
pub mod read_back;

pub use engine::{Branding, DocError, Engine, Logo};
