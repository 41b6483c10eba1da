//! The programme's pure core (issue 12): what ties the capabilities to
//! the communes. `offers/` is the catalogue as data (`data/offers/*.toml`,
//! each offer's rules taken from its seed agreement, a territory's own
//! files through `offers_dir`); `dates/` derives an agreement's dates from
//! its offer and the facts recorded about it (signature, the event that
//! starts it, terminations, the final minutes): its periods, its end, the
//! last day to give notice, its status on a day, its steps' windows and
//! the deadlines a calendar shows; `eligibility.rs` checks a commune or
//! an EPCI against an offer's population bounds, with the French reason
//! when refused.
//!
//! What it must never do: read the clock (every function takes the day it
//! answers for), touch the database or the network, or panic on any file
//! or any date (the fuzz target `offer_files` feeds it both).
//!
//! Around the core: `store` keeps agreements (their facts, history,
//! documents and end actions), `service` checks and records what happens
//! to them for the API (`api`) and the pages, `calendar` says what is due
//! over a range of days, `ending` records (and does what it can of) what
//! an agreement's end obliges, `reminders` e-mails before each deadline,
//! `calendar_page` shows the calendar, `feeds` serves each person's iCalendar
//! feed (written by `ical`), `register` is the GDPR register of the
//! offers' processing activities.

mod api;
pub mod calendar;
mod calendar_page;
pub mod dates;
pub mod documents;
pub mod eligibility;
pub mod ending;
pub mod feeds;
mod forms;
pub mod ical;
pub mod offers;
pub mod overview;
mod pages;
mod prefill;
pub mod register;
pub mod reminders;
pub mod service;
mod show;
pub mod store;

pub use dates::{Facts, Schedule, Status, Termination};
pub use eligibility::{Applicant, Refusal};
pub use offers::{Catalogue, Offer, OfferError};
pub use reminders::AgreementSettings;

use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing;

use crate::web::{Access, Routes};

/// Today, in Paris: the day agreements' dates answer for.
pub fn today() -> chrono::NaiveDate {
    vigie_core::local_day(chrono::Utc::now())
}

pub fn router() -> Routes {
    Routes::new()
        .get("/api/v1/offers", Access::SignedIn, api::offers)
        .get("/api/v1/agreements", Access::SignedIn, api::list)
        .post("/api/v1/agreements", Access::Staff, api::create)
        .get("/api/v1/agreements/{agreement}", Access::Visible, api::show)
        .post(
            "/api/v1/agreements/{agreement}/events",
            Access::Staff,
            api::event,
        )
        .get("/api/v1/deadlines", Access::SignedIn, api::deadlines)
        .get("/offres", Access::SignedIn, pages::offers)
        .get("/conventions", Access::Staff, pages::all)
        .post("/conventions", Access::Staff, pages::create)
        .get("/conventions/nouvelle", Access::Staff, pages::new_form)
        .get(
            "/communes/{code}/conventions",
            Access::Visible,
            pages::of_commune,
        )
        .get("/conventions/{agreement}", Access::Visible, show::show)
        .post(
            "/conventions/{agreement}/evenements",
            Access::Staff,
            forms::event,
        )
        .post(
            "/conventions/{agreement}/referents",
            Access::Staff,
            forms::referents,
        )
        .post(
            "/conventions/{agreement}/fin",
            Access::Staff,
            forms::end_done,
        )
        .post(
            "/conventions/{agreement}/couts",
            Access::Staff,
            forms::costs,
        )
        .get(
            "/conventions/{agreement}/document.pdf",
            Access::Visible,
            documents::pdf,
        )
        .get(
            "/conventions/{agreement}/signe",
            Access::Visible,
            documents::download,
        )
        .method(
            Method::POST,
            "/conventions/{agreement}/signe",
            Access::Staff,
            routing::post(documents::upload).layer(DefaultBodyLimit::max(documents::MAX_UPLOAD)),
        )
        .merge(calendar_routes())
}

/// The calendar page, its subscription link, the feeds and the register
/// of processing activities (issue 12).
fn calendar_routes() -> Routes {
    Routes::new()
        .get("/calendrier", Access::SignedIn, calendar_page::page)
        .post(
            "/calendrier/abonnement",
            Access::SignedIn,
            calendar_page::subscribe,
        )
        .post(
            "/calendrier/abonnement/fermer",
            Access::SignedIn,
            calendar_page::unsubscribe,
        )
        // The token is the key: public, bounded as a link (`web::flood`).
        .get("/calendrier/{token}", Access::Public, feeds::feed)
        .get(
            "/registre-traitements",
            Access::SignedIn,
            register::own_page,
        )
        .get(
            "/registre-traitements.pdf",
            Access::SignedIn,
            register::own_pdf,
        )
        .get(
            "/registre-traitements.csv",
            Access::SignedIn,
            register::own_csv,
        )
        .get(
            "/communes/{code}/registre-traitements",
            Access::Visible,
            register::commune_page,
        )
        .get(
            "/communes/{code}/registre-traitements.pdf",
            Access::Visible,
            register::commune_pdf,
        )
        .get(
            "/communes/{code}/registre-traitements.csv",
            Access::Visible,
            register::commune_csv,
        )
}
