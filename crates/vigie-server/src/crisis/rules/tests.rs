#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use super::*;

fn d(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn span(from: &str, to: &str) -> Span {
    Span::new(d(from), d(to), "Jusqu'au").unwrap()
}

fn laptop(state: State, unwiped: bool) -> Lendable {
    Lendable {
        id: 7,
        label: "PC-01".to_owned(),
        kind: Kind::Laptop,
        state,
        unwiped,
    }
}

fn booking(
    id: i64,
    commune: &str,
    item: Option<i64>,
    kind: Option<Kind>,
    count: i64,
    s: Span,
) -> Booking {
    Booking {
        id,
        commune: commune.to_owned(),
        commune_name: format!("commune {commune}"),
        item,
        kind,
        count,
        span: s,
        // The items of these tests are laptops.
        item_kind: item.map(|_| Kind::Laptop),
    }
}

/// `lend_refusal` for the laptop in `state`, `None` when it may be lent;
/// the refusal must contain `expected`.
fn check(item: &Lendable, bookings: &[Booking], spare: i64, expected: Option<&str>) {
    let got = lend_refusal(
        item,
        "42218",
        span("2026-03-02", "2026-03-20"),
        bookings,
        spare,
    );
    match (got, expected) {
        (None, None) => {}
        (Some(why), Some(part)) => assert!(why.contains(part), "{why}"),
        (got, expected) => panic!("{got:?}, expected {expected:?}"),
    }
}

#[test]
fn only_an_available_wiped_item_is_lent() {
    check(&laptop(State::Available, false), &[], 0, None);
    check(&laptop(State::Lent, false), &[], 0, Some("déjà prêté"));
    check(
        &laptop(State::ToWipe, false),
        &[],
        0,
        Some("pas encore effacé"),
    );
    check(
        &laptop(State::OutOfOrder, false),
        &[],
        0,
        Some("hors service"),
    );
    check(
        &laptop(State::Available, true),
        &[],
        0,
        Some("attestation d'effacement"),
    );
}

#[test]
fn another_communes_booking_is_honoured() {
    let item = laptop(State::Available, false);
    let theirs = booking(
        1,
        "42095",
        Some(7),
        None,
        1,
        span("2026-03-19", "2026-03-25"),
    );
    check(
        &item,
        std::slice::from_ref(&theirs),
        5,
        Some("réservé pour commune 42095 du 19 au 25 mars 2026"),
    );
    // Its own booking, or another's on other days, does not stand in the way.
    let ours = booking(
        2,
        "42218",
        Some(7),
        None,
        1,
        span("2026-03-01", "2026-03-25"),
    );
    check(&item, &[ours], 0, None);
    let later = booking(
        3,
        "42095",
        Some(7),
        None,
        1,
        span("2026-03-21", "2026-03-25"),
    );
    check(&item, &[later], 0, None);
    // Three laptops of that kind booked elsewhere: two spare are not enough.
    let three = booking(
        4,
        "42095",
        None,
        Some(Kind::Laptop),
        3,
        span("2026-03-10", "2026-03-12"),
    );
    check(
        &item,
        std::slice::from_ref(&three),
        2,
        Some("3 ordinateurs portables réservés"),
    );
    check(&item, &[three], 3, None);
}

#[test]
fn overlapping_bookings_of_an_item_are_refused() {
    let first = booking(
        1,
        "42095",
        Some(7),
        None,
        1,
        span("2026-04-01", "2026-04-10"),
    );
    let same_day = booking(
        0,
        "42218",
        Some(7),
        None,
        1,
        span("2026-04-10", "2026-04-12"),
    );
    let why = booking_refusal(&same_day, std::slice::from_ref(&first), 9, 0).unwrap();
    assert!(
        why.contains("déjà réservé pour commune 42095 du 1er au 10 avril 2026"),
        "{why}"
    );
    let after = booking(
        0,
        "42218",
        Some(7),
        None,
        1,
        span("2026-04-11", "2026-04-12"),
    );
    assert_eq!(booking_refusal(&after, &[first], 9, 0), None);
    let phones = booking(
        1,
        "42095",
        None,
        Some(Kind::Phone),
        2,
        span("2026-04-01", "2026-04-10"),
    );
    let more = booking(
        0,
        "42218",
        None,
        Some(Kind::Phone),
        2,
        span("2026-04-05", "2026-04-06"),
    );
    assert!(
        booking_refusal(&more, std::slice::from_ref(&phones), 3, 0)
            .unwrap()
            .contains("n'a que 3")
    );
    assert_eq!(booking_refusal(&more, &[phones], 4, 0), None);
}

#[test]
fn a_kind_counts_its_booked_items_and_those_on_loan() {
    // Two laptops in service; PC 7 booked on those days by another commune.
    let pc7 = booking(
        1,
        "42095",
        Some(7),
        None,
        1,
        span("2026-04-01", "2026-04-10"),
    );
    let two = booking(
        0,
        "42218",
        None,
        Some(Kind::Laptop),
        2,
        span("2026-04-05", "2026-04-06"),
    );
    let why = booking_refusal(&two, std::slice::from_ref(&pc7), 2, 0).unwrap();
    assert!(why.contains("1 déjà réservé"), "{why}");
    let one = booking(0, "42218", None, Some(Kind::Laptop), 1, two.span);
    assert_eq!(
        booking_refusal(&one, std::slice::from_ref(&pc7), 2, 0),
        None
    );
    // The other laptop out on loan then: none left.
    let why = booking_refusal(&one, std::slice::from_ref(&pc7), 2, 1).unwrap();
    assert!(why.contains("1 prêté"), "{why}");
    // A booking of an item takes one of its kind: refused when the kind's
    // bookings already take them all.
    let pc8 = booking(0, "42218", Some(8), None, 1, two.span);
    let all = booking(2, "42095", None, Some(Kind::Laptop), 2, two.span);
    assert!(booking_refusal(&pc8, std::slice::from_ref(&all), 2, 0).is_some());
    assert_eq!(booking_refusal(&pc8, &[all], 3, 0), None);
    // Phones do not take laptops.
    let phones = booking(3, "42095", None, Some(Kind::Phone), 5, two.span);
    assert_eq!(booking_refusal(&one, &[phones], 1, 0), None);
}

#[test]
fn spans_and_days_say_what_is_wrong() {
    assert!(
        Span::new(d("2026-03-02"), d("2026-03-01"), "Retour prévu le")
            .unwrap_err()
            .contains("« Retour prévu le » : le 01/03/2026 est avant le 02/03/2026")
    );
    assert!(
        Span::new(d("2026-01-01"), d("2027-06-01"), "Jusqu'au")
            .unwrap_err()
            .contains("au plus 366 jours")
    );
    assert!(span("2026-03-01", "2026-03-01").overlaps(span("2026-03-01", "2026-03-09")));
    assert!(!span("2026-03-01", "2026-03-01").overlaps(span("2026-03-02", "2026-03-09")));
    assert_eq!(
        day("2026-02-30", "Du").unwrap_err(),
        "« Du » : « 2026-02-30 » n'est pas une date (jj/mm/aaaa)."
    );
    assert_eq!(day(" ", "Du").unwrap_err(), "« Du » : choisissez une date.");
    assert_eq!(next_check(d("2024-02-29")), d("2025-02-28"));
    assert_eq!(next_check(d("2026-03-14")), d("2027-03-14"));
}

#[test]
fn items_need_what_identifies_them() {
    let ok = new_item("phone", " Mobile 1 ", "", "35 209900 176148 1", "").unwrap();
    assert_eq!(
        (ok.label.as_str(), ok.imei.as_str()),
        ("Mobile 1", "352099001761481")
    );
    for (kind, serial, imei, address, expected) in [
        ("tablet", "", "", "", "« Type »"),
        ("laptop", "", "", "", "« Numéro de série » : à remplir"),
        ("phone", "", "352099001761482", "", "« IMEI »"),
        ("phone", "", "35209900176148", "", "« IMEI »"),
        ("mailbox", "", "", "crise@", "« Adresse de la boîte »"),
        ("mailbox", "", "", "a b@c.fr", "« Adresse de la boîte »"),
    ] {
        let why = new_item(kind, "Nom", serial, imei, address).unwrap_err();
        assert!(why.contains(expected), "{kind}: {why}");
    }
    assert!(new_item("mailbox", "Boîte crise", "", "", "crise1@metropole.fr").is_ok());
    assert!(
        new_item("laptop", "", "SN1", "", "")
            .unwrap_err()
            .contains("« Nom » : à remplir")
    );
    let long = "x".repeat(MAX_SHORT + 1);
    assert!(
        new_item("laptop", &long, "SN1", "", "")
            .unwrap_err()
            .contains("au plus 200 caractères")
    );
    assert!(imei_ok("490154203237518"));
    assert!(!imei_ok("49015420323751x"));
}

#[test]
fn another_items_booking_does_not_refuse_this_one() {
    // Another commune booked PC 9 on those days; whether PC 9 is
    // available, lent or to wipe, lending PC 7 leaves its booking whole
    // (the caller leaves PC 9 out of the spare items).
    let pc9 = booking(
        1,
        "42095",
        Some(9),
        None,
        1,
        span("2026-03-05", "2026-03-06"),
    );
    let item = laptop(State::Available, false);
    check(&item, std::slice::from_ref(&pc9), 0, None);
    // A booking of a number of laptops still counts against the spare.
    let two = booking(
        2,
        "42095",
        None,
        Some(Kind::Laptop),
        2,
        span("2026-03-05", "2026-03-06"),
    );
    check(
        &item,
        &[pc9, two],
        1,
        Some("2 ordinateurs portables réservés"),
    );
}
