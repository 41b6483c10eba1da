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
//! Next step (the store, the API and the pages, from issue 12's
//! contract): an `agreements` table per commune and offer keeping the
//! facts of [`dates::Facts`] and its history; `GET /api/v1/offers`
//! (`[{"id", "title"}]` from [`Catalogue::all`]); `POST /api/v1/agreements`
//! checking [`eligibility::check`] (its French refusal as the 422's
//! `error`); `GET /api/v1/agreements/{id}` from [`dates::Schedule`]
//! (`status`, `starts_on`, `ends_on`, `notice_by`) and the offer's
//! deliverables; `GET /api/v1/deadlines` from [`dates::Schedule::deadlines`];
//! the processing register from [`offers::Processing`].

pub mod dates;
pub mod eligibility;
pub mod offers;

pub use dates::{Facts, Schedule, Status, Termination};
pub use eligibility::{Applicant, Refusal};
pub use offers::{Catalogue, Offer, OfferError};
