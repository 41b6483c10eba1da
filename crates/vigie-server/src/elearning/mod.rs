//! E-learning (issue 11, path 1 of the Mégalis agreement: « un accès … à
//! des modules de e-learning » and « les résultats de l'utilisation des
//! modules »): six short French modules with a quiz each (data files,
//! `data/elearning/`), opened by a commune's agents and elected officials
//! through the commune's link, with no account; results per commune as
//! aggregates only.
//!
//! - `module`, `parse`: the modules as data, checked at start (errors
//!   naming the file, the line, the field); marking a quiz.
//! - `links`: a commune's links (hashed tokens, a year, revocable, a
//!   daily cap on what each may record).
//! - `store`: the completions and their aggregates.
//! - `public`: the pages behind a link (`/formation/{link}…`).
//! - `pages`: the commune's results and links, the staff's overview, the
//!   JSON for scripts.
//!
//! What it must never do: store or show anything about a person. A
//! completion is (commune, module, version, score, question count, day):
//! never a name, an address, an IP, a user agent, the link it came
//! through, or a time finer than the day; results are counts and averages
//! per commune, never a ranking of people.

mod links;
mod module;
mod pages;
mod parse;
mod public;
mod store;

use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing;

pub use links::{LINK_DAYS, Link, MAX_ACTIVE_LINKS, MAX_COMPLETIONS_PER_LINK_PER_DAY};
pub use module::{CHOICES, Catalogue, Module, QUESTIONS, Question, Section, catalogue};
pub use public::MAX_ANSWER_BYTES;
pub use store::{Tally, tallies};

use crate::web::{Access, Routes};

/// A new link for `commune` (its row id and the token, shown once), as
/// the page creates it; for the demo and the tests.
pub use links::create as create_link;

pub fn router() -> Routes {
    Routes::new()
        .get("/formation", Access::Staff, pages::overview)
        .get(
            "/communes/{code}/formation",
            Access::Visible,
            pages::results,
        )
        .post(
            "/communes/{code}/formation/lien",
            Access::Visible,
            pages::create_link,
        )
        .post(
            "/communes/{code}/formation/lien/revoquer",
            Access::Visible,
            pages::revoke_link,
        )
        .get(
            "/api/v1/communes/{code}/elearning",
            Access::Visible,
            pages::api,
        )
        // The commune's link: the token is the key (see `public`).
        .get("/formation/{link}", Access::Public, public::list)
        .get("/formation/{link}/{module}", Access::Public, public::module)
        .method(
            Method::POST,
            "/formation/{link}/{module}",
            Access::Public,
            routing::post(public::answer).layer(DefaultBodyLimit::max(MAX_ANSWER_BYTES)),
        )
}
