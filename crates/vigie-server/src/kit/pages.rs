//! `GET /kit`: the documentation kit as a commune sees it (files by
//! section, links to the national guides), with the staff's forms to add
//! and remove them. Every form that fails shows this page again with what
//! to fix.
//!
//! What it must never do: show the staff's forms to a commune user (the
//! handlers refuse them anyway: `Staff`).

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::Section;
use super::files::{self, KitFile};
use super::links::{self, KitLink};
use super::sniff::Kind;
use crate::accounts::Caller;
use crate::web::{Chrome, render};
use crate::{AppError, AppState, fr};

/// What the page says on top, after a form.
pub enum Notice {
    None,
    Error(String),
    /// The link form refused, with what was typed.
    LinkError(String, LinkDraft),
}

/// The link form as it was sent.
#[derive(Default)]
pub struct LinkDraft {
    pub title: String,
    pub description: String,
    pub url: String,
}

#[derive(Template)]
#[template(path = "kit/kit.html")]
struct KitPage {
    chrome: Chrome,
    staff: bool,
    /// The caller's commune signed an agreement granting the kit.
    readable: bool,
    sections: Vec<SectionView>,
    guides: Vec<KitLink>,
    error: Option<String>,
    draft: LinkDraft,
    choices: Vec<(&'static str, &'static str)>,
    accept: String,
    max_file: String,
}

struct SectionView {
    id: &'static str,
    title: &'static str,
    intro: &'static str,
    files: Vec<FileView>,
}

struct FileView {
    id: i64,
    title: String,
    description: String,
    facts: String,
}

/// `GET /kit`.
pub(super) async fn page(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, AppError> {
    kit_page(&state, &caller, Notice::None).await
}

/// The kit page for `caller`, with `notice` on top.
pub(super) async fn kit_page(
    state: &AppState,
    caller: &Caller,
    notice: Notice,
) -> Result<Response, AppError> {
    let readable = super::may_read(state, caller).await?;
    let all: Vec<KitFile> = if readable {
        files::list(&state.db).await?
    } else {
        Vec::new()
    };
    let sections = Section::ALL
        .into_iter()
        .map(|section| SectionView {
            id: section.id(),
            title: section.title_fr(),
            intro: section.intro_fr(),
            files: all
                .iter()
                .filter(|file| file.section == section.id())
                .map(|file| FileView {
                    id: file.id,
                    title: file.title.clone(),
                    description: file.description.clone(),
                    facts: file.facts_fr(),
                })
                .collect(),
        })
        .collect();
    let (error, draft) = match notice {
        Notice::None => (None, LinkDraft::default()),
        Notice::Error(message) => (Some(message), LinkDraft::default()),
        Notice::LinkError(message, draft) => (Some(message), draft),
    };
    render(&KitPage {
        chrome: Chrome::new("Kit documentaire", Some(caller)),
        staff: caller.is_staff(),
        readable,
        sections,
        guides: links::list(&state.db).await?,
        error,
        draft,
        choices: Section::ALL
            .into_iter()
            .map(|s| (s.id(), s.title_fr()))
            .collect(),
        accept: Kind::ALL
            .into_iter()
            .map(|kind| format!(".{}", kind.id()))
            .collect::<Vec<_>>()
            .join(","),
        max_file: fr::size(i64::try_from(files::MAX_FILE).unwrap_or(i64::MAX)),
    })
}
