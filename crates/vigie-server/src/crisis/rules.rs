//! The crisis kit's rules, pure: what an item is and what identifies it,
//! its states, when it may be lent, when a booking fits, when its annual
//! check is due. No database, no clock: every answer is for the facts and
//! the days given, so the handlers and the tests agree.
//!
//! What it must never do: let an item be lent that is not available, whose
//! last loan's wipe is not attested, or that another commune booked on
//! those days.

use chrono::{Months, NaiveDate};

mod item;

pub use item::{NewItem, imei_ok, new_item};

/// The longest label, name, role or reason a form may carry.
pub const MAX_SHORT: usize = 200;
/// The longest free text (what happened, the state at return).
pub const MAX_LONG: usize = 2000;
/// The most items one booking may ask for.
pub const MAX_BOOKED: i64 = 50;
/// The longest loan or booking: a crisis lasts weeks, rarely months
/// (seed 002: « dans l'attente … du redémarrage de ses SI »).
pub const MAX_DAYS: i64 = 366;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Laptop,
    Phone,
    Mailbox,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Laptop, Kind::Phone, Kind::Mailbox];

    pub fn id(self) -> &'static str {
        match self {
            Kind::Laptop => "laptop",
            Kind::Phone => "phone",
            Kind::Mailbox => "mailbox",
        }
    }

    pub fn parse(id: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.id() == id.trim())
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            Kind::Laptop => "ordinateur portable",
            Kind::Phone => "téléphone mobile",
            Kind::Mailbox => "boîte aux lettres électronique",
        }
    }

    pub fn plural_fr(self) -> &'static str {
        match self {
            Kind::Laptop => "ordinateurs portables",
            Kind::Phone => "téléphones mobiles",
            Kind::Mailbox => "boîtes aux lettres électroniques",
        }
    }

    /// `count` items of this kind, in words.
    pub fn count_fr(self, count: i64) -> String {
        crate::fr::plural(count, self.label_fr(), self.plural_fr())
    }

    /// How the kit wipes one, for the attestation (ANSSI and NIST SP
    /// 800-88 « purge » for the devices).
    pub fn wipe_methods(self) -> &'static [&'static str] {
        match self {
            Kind::Laptop => &[
                "Effacement sécurisé du disque (commande de purge du constructeur) puis réinstallation du système",
                "Effacement cryptographique (clé de chiffrement du disque détruite) puis réinstallation du système",
            ],
            Kind::Phone => &["Réinitialisation d'usine, le stockage étant chiffré (clé détruite)"],
            Kind::Mailbox => &[
                "Messages, contacts et agendas supprimés, mot de passe changé, sessions et appareils déconnectés",
            ],
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Available,
    Lent,
    ToWipe,
    OutOfOrder,
}

impl State {
    pub const ALL: [State; 4] = [
        State::Available,
        State::Lent,
        State::ToWipe,
        State::OutOfOrder,
    ];

    pub fn id(self) -> &'static str {
        match self {
            State::Available => "available",
            State::Lent => "lent",
            State::ToWipe => "to_wipe",
            State::OutOfOrder => "out_of_order",
        }
    }

    pub fn parse(id: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.id() == id)
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            State::Available => "disponible",
            State::Lent => "prêté",
            State::ToWipe => "à effacer",
            State::OutOfOrder => "hors service",
        }
    }
}

/// A form's text: trimmed, not blank, at most `max` characters, no
/// control character but line breaks; the error names the field.
pub fn text(value: &str, field: &str, max: usize) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        Err(format!("« {field} » : à remplir."))
    } else if value.chars().count() > max {
        Err(format!(
            "« {field} » : au plus {} caractères.",
            crate::fr::number(i64::try_from(max).unwrap_or(i64::MAX))
        ))
    } else if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        Err(format!("« {field} » : caractère de contrôle refusé."))
    } else {
        Ok(value.to_owned())
    }
}

/// A day as a date field sends it (`2026-03-14`); the error names the field.
pub fn day(value: &str, field: &str) -> Result<NaiveDate, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(format!("« {field} » : choisissez une date."));
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| {
        format!(
            "« {field} » : « {} » n'est pas une date (jj/mm/aaaa).",
            short(value)
        )
    })
}

fn short(value: &str) -> String {
    value.chars().take(40).collect()
}

/// The day an item's next annual check is due: a year after the last.
pub fn next_check(last: NaiveDate) -> NaiveDate {
    last.checked_add_months(Months::new(12)).unwrap_or(last)
}

/// Days from `from` to `to`, both included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Span {
    /// The span, or what is wrong with it (named by the form's labels).
    pub fn new(from: NaiveDate, to: NaiveDate, to_field: &str) -> Result<Span, String> {
        if to < from {
            return Err(format!(
                "« {to_field} » : le {} est avant le {}.",
                crate::fr::day(to),
                crate::fr::day(from)
            ));
        }
        if (to - from).num_days() > MAX_DAYS {
            return Err(format!("« {to_field} » : au plus {MAX_DAYS} jours."));
        }
        Ok(Span { from, to })
    }

    pub fn overlaps(self, other: Span) -> bool {
        self.from <= other.to && other.from <= self.to
    }
}

/// A booking as the rules see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Booking {
    pub id: i64,
    pub commune: String,
    pub commune_name: String,
    /// One item, or `count` items of `kind`.
    pub item: Option<i64>,
    pub kind: Option<Kind>,
    pub count: i64,
    pub span: Span,
    /// The kind of the booked item (`item`), which it takes from its
    /// kind's stock.
    pub item_kind: Option<Kind>,
}

impl Booking {
    /// How many items of `kind` it takes: its count, 1 for an item of
    /// that kind, else 0.
    pub fn takes(&self, kind: Kind) -> i64 {
        if self.kind == Some(kind) {
            self.count
        } else if self.item.is_some() && self.item_kind == Some(kind) {
            1
        } else {
            0
        }
    }

    /// The kind whose stock it takes from.
    fn stock(&self) -> Option<Kind> {
        self.kind.or(self.item_kind)
    }
}

/// Why a new booking cannot be taken: an overlapping booking of the same
/// item, or more items of its kind taken on common days (bookings of the
/// kind and of its items, and `lent`: items of the kind out on loan then)
/// than the kit has in working order (`in_service`).
pub fn booking_refusal(
    new: &Booking,
    existing: &[Booking],
    in_service: i64,
    lent: i64,
) -> Option<String> {
    let overlapping = existing
        .iter()
        .filter(|b| b.id != new.id && b.span.overlaps(new.span));
    if let Some(item) = new.item
        && let Some(other) = overlapping.clone().find(|b| b.item == Some(item))
    {
        return Some(format!(
            "Ce matériel est déjà réservé pour {} {} : choisissez d'autres dates ou un autre matériel.",
            other.commune_name,
            crate::fr::day_range(other.span.from, other.span.to)
        ));
    }
    let kind = new.stock()?;
    let booked: i64 = overlapping.map(|b| b.takes(kind)).sum();
    if booked.saturating_add(lent).saturating_add(new.takes(kind)) <= in_service {
        return None;
    }
    let lent_fr = if lent > 0 {
        format!(", {}", crate::fr::plural(lent, "prêté", "prêtés"))
    } else {
        String::new()
    };
    Some(format!(
        "Le kit n'a que {} en service ({} sur ces dates{lent_fr}) : réservez-en moins ou à d'autres dates.",
        kind.count_fr(in_service),
        crate::fr::plural(booked, "déjà réservé", "déjà réservés")
    ))
}

/// An item as the lending rule sees it.
#[derive(Clone, Debug)]
pub struct Lendable {
    pub id: i64,
    pub label: String,
    pub kind: Kind,
    pub state: State,
    /// Its last loan came back and was not yet wiped (a loan the kit
    /// never attested cannot be forgotten by setting the state by hand).
    pub unwiped: bool,
}

/// Why `item` cannot be lent to `commune` for `span`: its state, its
/// wipe, or another commune's booking of it, or of its kind beyond what
/// stays available (`spare`: items of its kind available besides it and
/// not booked by another commune on those days).
pub fn lend_refusal(
    item: &Lendable,
    commune: &str,
    span: Span,
    bookings: &[Booking],
    spare: i64,
) -> Option<String> {
    let name = &item.label;
    match item.state {
        State::Lent => return Some(format!("« {name} » est déjà prêté.")),
        State::ToWipe => {
            return Some(format!(
                "« {name} » n'est pas encore effacé depuis son dernier prêt : attestez l'effacement avant de le prêter."
            ));
        }
        State::OutOfOrder => {
            return Some(format!(
                "« {name} » est hors service : il ne peut pas être prêté."
            ));
        }
        State::Available if item.unwiped => {
            return Some(format!(
                "« {name} » n'a pas d'attestation d'effacement depuis son dernier prêt : attestez l'effacement avant de le prêter."
            ));
        }
        State::Available => {}
    }
    let others = bookings
        .iter()
        .filter(|b| b.commune != commune && b.span.overlaps(span));
    if let Some(b) = others.clone().find(|b| b.item == Some(item.id)) {
        return Some(format!(
            "« {name} » est réservé pour {} {} : prêtez un autre matériel ou rendez-le avant.",
            b.commune_name,
            crate::fr::day_range(b.span.from, b.span.to)
        ));
    }
    // Bookings of a number of items of the kind; bookings of other items
    // are not here: the caller leaves those items out of `spare`.
    let reserved: i64 = others
        .clone()
        .filter(|b| b.kind == Some(item.kind))
        .map(|b| b.count)
        .sum();
    if reserved > spare {
        let first = others.clone().find(|b| b.kind == Some(item.kind));
        return Some(format!(
            "« {name} » : {} réservé{} pour d'autres communes sur ces dates{} ; il n'en resterait pas assez.",
            item.kind.count_fr(reserved),
            if reserved > 1 { "s" } else { "" },
            first.map_or_else(String::new, |b| format!(" (dont {})", b.commune_name))
        ));
    }
    None
}

/// What becomes of the commune's own data on a returned item (seed 002,
/// art. 10: « les données propres de celle-ci seront restituées à cette
/// dernière sous forme numérique »; otherwise destroyed with the wipe).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataOutcome {
    Returned,
    Destroyed,
}

impl DataOutcome {
    pub fn id(self) -> &'static str {
        match self {
            DataOutcome::Returned => "returned",
            DataOutcome::Destroyed => "destroyed",
        }
    }

    pub fn parse(id: &str) -> Option<DataOutcome> {
        match id.trim() {
            "returned" => Some(DataOutcome::Returned),
            "destroyed" => Some(DataOutcome::Destroyed),
            _ => None,
        }
    }

    pub fn sentence_fr(self) -> &'static str {
        match self {
            DataOutcome::Returned => {
                "Les données propres de la commune ont été restituées à la commune sous forme numérique avant l'effacement."
            }
            DataOutcome::Destroyed => {
                "Les données propres de la commune ont été détruites par l'effacement, à sa demande ; aucune copie n'a été conservée."
            }
        }
    }
}

#[cfg(test)]
mod tests;
