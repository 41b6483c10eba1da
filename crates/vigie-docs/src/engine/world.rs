//! What one render sees: the template asked for and the files it imports
//! (from the territory's directory, else built in), `data.json`,
//! `branding.json`, the logo, the fonts and the date. Nothing else: no
//! package, no path outside the templates directory, no network.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use chrono::{DateTime, Datelike, Timelike, Utc};
use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime};
use typst::syntax::{FileId, Source, VirtualPath};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, World};

use super::{BUILT_IN, DocError, MAX_FILE, Shared};

pub(super) struct DocumentWorld<'a> {
    shared: &'a Shared,
    main: FileId,
    data: Bytes,
    at: DateTime<Utc>,
    /// Files already read in this render (a template is read once).
    files: Mutex<HashMap<FileId, FileResult<Bytes>>>,
}

impl<'a> DocumentWorld<'a> {
    pub fn new(
        shared: &'a Shared,
        template: &str,
        data: Bytes,
        at: DateTime<Utc>,
    ) -> Result<DocumentWorld<'a>, DocError> {
        let world = DocumentWorld {
            shared,
            main: FileId::new(None, VirtualPath::new(template)),
            data,
            at,
            files: Mutex::new(HashMap::new()),
        };
        if !is_plain_name(template) || world.file(world.main).is_err() {
            return Err(DocError::UnknownTemplate(template.to_owned()));
        }
        Ok(world)
    }

    /// The document's date as Typst sees it (UTC).
    pub fn datetime(&self) -> Option<Datetime> {
        to_datetime(self.at)
    }

    /// The first error, in French, naming the template file and the line.
    pub fn explain(&self, errors: &[SourceDiagnostic]) -> DocError {
        let Some(error) = errors.first() else {
            return DocError::Pdf("erreur inconnue".to_owned());
        };
        let mut message = error.message.to_string();
        for hint in &error.hints {
            message.push_str(&format!(" (piste : {hint})"));
        }
        let place = error.span.id().and_then(|id| {
            let source = self.source(id).ok()?;
            let start = source.range(error.span)?.start;
            let line = source.lines().byte_to_line(start)? + 1;
            Some((name_of(id), line))
        });
        match place {
            Some((file, line)) => DocError::Template {
                file,
                line,
                message,
            },
            // An error with no place in a template: the PDF writer's
            // (PDF/A refusing something, for instance).
            None => DocError::Pdf(message),
        }
    }

    fn read(&self, id: FileId) -> FileResult<Bytes> {
        let path = id.vpath().as_rooted_path().to_path_buf();
        if id.package().is_some() {
            // Templates may only import each other: nothing is downloaded.
            return Err(FileError::Other(Some(
                "les paquets Typst ne sont pas disponibles dans Vigie".into(),
            )));
        }
        let name = name_of(id);
        if !is_plain_name(&name) {
            return Err(FileError::NotFound(path));
        }
        match name.as_str() {
            "data.json" => return Ok(self.data.clone()),
            "branding.json" => return Ok(Bytes::new(self.shared.branding_json.clone())),
            _ => {}
        }
        if let Some(logo) = &self.shared.branding.logo
            && name == logo.file_name()
        {
            return Ok(Bytes::new(logo.bytes.clone()));
        }
        if let Some(dir) = &self.shared.templates_dir {
            let candidate = dir.join(&name);
            if candidate.is_file() {
                return read_bounded(&candidate);
            }
        }
        BUILT_IN
            .iter()
            .find(|(built_in, _)| *built_in == name)
            .map(|(_, text)| Bytes::new(text.as_bytes()))
            .ok_or(FileError::NotFound(path))
    }
}

impl World for DocumentWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        &self.shared.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.shared.book
    }

    fn main(&self) -> FileId {
        self.main
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        let bytes = self.file(id)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| FileError::InvalidUtf8)?;
        Ok(Source::new(id, text.to_owned()))
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        let mut files = match self.files.lock() {
            Ok(files) => files,
            Err(poisoned) => poisoned.into_inner(),
        };
        files.entry(id).or_insert_with(|| self.read(id)).clone()
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.shared.fonts.get(index).cloned()
    }

    fn today(&self, offset: Option<i64>) -> Option<Datetime> {
        let local = match offset {
            Some(hours) => self.at.naive_utc() + chrono::Duration::try_hours(hours)?,
            None => self.at.with_timezone(&vigie_core::LOCAL_TZ).naive_local(),
        };
        Datetime::from_ymd(
            local.year(),
            u8::try_from(local.month()).ok()?,
            u8::try_from(local.day()).ok()?,
        )
    }
}

/// A file name with no directory part, not hidden: what a template may
/// name (`vigie.typ`, `logo.png`, `signature.png`).
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\'])
        && Path::new(name).components().count() == 1
}

/// The file's name as the template wrote it (`/vigie.typ` → `vigie.typ`).
fn name_of(id: FileId) -> String {
    id.vpath().as_rootless_path().to_string_lossy().into_owned()
}

fn read_bounded(path: &Path) -> FileResult<Bytes> {
    let fail = |e: std::io::Error| FileError::from_io(e, path);
    let size = std::fs::metadata(path).map_err(fail)?.len();
    if size > MAX_FILE {
        return Err(FileError::Other(Some(
            format!("{size} octets : un fichier de modèle ne dépasse pas 16 Mio").into(),
        )));
    }
    std::fs::read(path).map(Bytes::new).map_err(fail)
}

fn to_datetime(at: DateTime<Utc>) -> Option<Datetime> {
    Datetime::from_ymd_hms(
        at.year(),
        u8::try_from(at.month()).ok()?,
        u8::try_from(at.day()).ok()?,
        u8::try_from(at.hour()).ok()?,
        u8::try_from(at.minute()).ok()?,
        u8::try_from(at.second()).ok()?,
    )
}
