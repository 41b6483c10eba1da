use super::*;

fn built_in() -> Catalogue {
    Catalogue::built_in().unwrap()
}

fn offer(id: &str) -> Offer {
    built_in().get(id).cloned().unwrap()
}

#[test]
fn the_five_offers_of_the_issue_in_order() {
    let ids: Vec<String> = built_in().all().map(|o| o.id.clone()).collect();
    assert_eq!(
        ids,
        [
            "sensor",
            "cyber_path",
            "awareness_1",
            "awareness_2",
            "crisis_kit"
        ]
    );
}

#[test]
fn sensor_three_years_from_installation_two_months_notice_by_the_territory() {
    let sensor = offer("sensor");
    assert_eq!(sensor.start, Start::InstallationAttested);
    assert_eq!(sensor.duration, Duration::Fixed { months: 36 });
    assert_eq!(sensor.renewal, Renewal::None);
    let notice = sensor.notice.unwrap();
    assert_eq!(
        (notice.months, notice.by, notice.effect),
        (2, vec![Party::Territory], NoticeEffect::AnyTime)
    );
    assert_eq!(notice.article, "article 6");
    assert_eq!(sensor.end_actions, [EndAction::UninstallSensor]);
    assert!(
        sensor
            .deliverables
            .contains(&DeliverableKind::InstallationAttestation)
    );
    assert_eq!(sensor.cost, Cost::Free);
    assert!(sensor.eligibility.is_open());
}

#[test]
fn cyber_path_a_year_renewed_until_the_final_minutes() {
    let path = offer("cyber_path");
    assert_eq!(path.start, Start::Signature);
    assert_eq!(
        path.duration,
        Duration::AtMost {
            months: 12,
            ends_with: Completion::FinalMinutes
        }
    );
    assert_eq!(
        path.renewal,
        Renewal::Tacit {
            period_months: 12,
            max_total_months: None
        }
    );
    let notice = path.notice.clone().unwrap();
    assert_eq!(
        (notice.months, notice.by.len(), notice.effect),
        (2, 2, NoticeEffect::AnyTime)
    );
    let windows: Vec<(&str, Option<&str>, u32, u32)> = path
        .steps
        .iter()
        .map(|s| {
            (
                s.id.as_str(),
                s.after.as_deref(),
                s.from_months,
                s.to_months,
            )
        })
        .collect();
    assert_eq!(
        windows,
        [
            ("step_1", None, 0, 0),
            ("step_2", Some("step_1"), 3, 6),
            ("step_3", Some("step_1"), 12, 12)
        ]
    );
    assert_eq!(path.cost, Cost::ContributionPerPhase);
    assert_eq!(
        path.deliverables,
        [
            DeliverableKind::Agreement,
            DeliverableKind::PhaseMinutes,
            DeliverableKind::FinalMinutes
        ]
    );
}

#[test]
fn awareness_paths_three_months_at_most_and_path_2_for_small_collectivities() {
    for id in ["awareness_1", "awareness_2"] {
        let path = offer(id);
        assert_eq!(
            path.duration,
            Duration::AtMost {
                months: 3,
                ends_with: Completion::Restitution
            }
        );
        assert_eq!(path.renewal, Renewal::None);
        assert_eq!(path.notice, None, "seed 004 has no termination clause");
        assert!(path.end_actions.contains(&EndAction::PurgeCampaigns));
    }
    assert!(offer("awareness_1").eligibility.is_open());
    assert_eq!(
        offer("awareness_2").eligibility,
        Eligibility {
            commune_population_below: Some(3500),
            epci_population_below: Some(20_000)
        }
    );
    assert!(
        offer("awareness_2")
            .end_actions
            .contains(&EndAction::CollectDevices)
    );
}

#[test]
fn crisis_kit_to_the_year_end_renewed_up_to_eight_years() {
    let kit = offer("crisis_kit");
    assert_eq!(kit.start, Start::Notification);
    assert_eq!(kit.duration, Duration::EndOfCalendarYear);
    assert_eq!(
        kit.renewal,
        Renewal::Tacit {
            period_months: 12,
            max_total_months: Some(96)
        }
    );
    let notice = kit.notice.clone().unwrap();
    assert_eq!(
        (notice.months, notice.by.len(), notice.effect),
        (3, 2, NoticeEffect::PeriodEnd)
    );
    assert_eq!(
        kit.end_actions,
        [EndAction::ReturnKitItems, EndAction::ReturnOrDestroyData]
    );
    assert_eq!(kit.processing.controller, "La commune (article 11 f)");
    assert!(kit.processing.purposes[0].starts_with("Communication par courrier électronique"));
}

#[test]
fn every_offer_has_its_processing_record() {
    for offer in built_in().all() {
        let record = &offer.processing;
        assert!(!record.purposes.is_empty(), "{}", offer.id);
        assert!(!record.data.is_empty() && !record.people.is_empty());
        assert!(!record.recipients.is_empty() && !record.retention.is_empty());
    }
}

/// The README names every word the files may use.
#[test]
fn the_readme_documents_every_word() {
    let readme = include_str!("../../../data/offers/README.md");
    let words = Start::ALL
        .iter()
        .map(|(w, _)| *w)
        .chain(Completion::ALL.iter().map(|(w, _)| *w))
        .chain(NoticeEffect::ALL.iter().map(|(w, _)| *w))
        .chain(Party::ALL.iter().map(|(w, _)| *w))
        .chain(Cost::ALL.iter().map(|(w, _)| *w))
        .chain(DeliverableKind::ALL.iter().map(|(w, _)| *w))
        .chain(EndAction::ALL.iter().map(|(w, _)| *w));
    for word in words {
        assert!(readme.contains(&format!("`{word}`")), "{word}");
    }
    // Its example refusal is the one the parser gives.
    let bad = KIT.replace("months = 3\n", "months = 300\n");
    let error = Offer::parse("offres/crisis_kit.toml", &bad).unwrap_err();
    assert!(readme.contains(&format!("\n    {error}\n")), "{error}");
}

const KIT: &str = include_str!("../../../data/offers/crisis_kit.toml");

fn check(text: &str, expected: &str) {
    let error = Offer::parse("crisis_kit.toml", text)
        .unwrap_err()
        .to_string();
    assert!(error.starts_with(expected), "{error}\nexpected: {expected}");
}

/// The line of the first line of `text` starting with `prefix`.
fn line(text: &str, prefix: &str) -> usize {
    text.lines().position(|l| l.starts_with(prefix)).unwrap() + 1
}

#[test]
fn errors_name_the_file_the_line_and_the_field() {
    let at = |prefix| line(KIT, prefix);
    check(
        &KIT.replace("max_total_months = 96", "max_total_months = 700"),
        &format!(
            "crisis_kit.toml, ligne {}, champ « max_total_months » : 700 : de 1 à 600 mois",
            at("max_total_months")
        ),
    );
    check(
        &KIT.replace("effect = \"period_end\"", "effect = \"fin\""),
        &format!(
            "crisis_kit.toml, ligne {}, champ « effect » : « fin » inconnu : « any_time », « period_end »",
            at("effect")
        ),
    );
    check(
        &KIT.replace(
            "by = [\"territory\", \"commune\"]",
            "by = [\"commune\", \"commune\"]",
        ),
        &format!(
            "crisis_kit.toml, ligne {}, champ « by » : présent deux fois",
            at("by =")
        ),
    );
    check(
        &KIT.replace("id = \"crisis_kit\"", "id = \"kit\""),
        "crisis_kit.toml, ligne 9, champ « id » : « kit » au lieu de « crisis_kit »",
    );
    check(
        &KIT.replace("cost = \"free\"", "cost = \"gratuit\""),
        &format!(
            "crisis_kit.toml, ligne {}, champ « cost » : « gratuit » inconnu",
            at("cost")
        ),
    );
    check(
        &KIT.replace("rule = \"end_of_calendar_year\"", "rule = \"fixed\""),
        "crisis_kit.toml, ligne ",
    );
    check(
        &KIT.replace(
            "title = \"Kit de crise cyber",
            "title = \"Kit de crise\\tcyber",
        ),
        &format!(
            "crisis_kit.toml, ligne {}, champ « title » : un caractère de contrôle",
            at("title")
        ),
    );
    check(
        &KIT.replace("purposes = [", "purposes = [\"\", "),
        &format!(
            "crisis_kit.toml, ligne {}, champ « purposes » : vide",
            at("purposes")
        ),
    );
    // The TOML itself: an unknown or missing field, a wrong type.
    check(
        &KIT.replace("cost = \"free\"", "cout = \"free\""),
        &format!(
            "crisis_kit.toml, ligne {} : champ « cout » inconnu",
            at("cost")
        ),
    );
    check(
        &KIT.replace("period_months = 12", "period_months = \"douze\""),
        &format!(
            "crisis_kit.toml, ligne {} : valeur du mauvais type : il faut un nombre entier",
            at("period_months")
        ),
    );
    check(
        &KIT.replace("start = \"notification\"\n", ""),
        "crisis_kit.toml, ligne 1 : champ « start » manquant",
    );
}

#[test]
fn steps_follow_known_steps_and_list_the_offers_deliverables() {
    let path = include_str!("../../../data/offers/cyber_path.toml");
    let parse = |text: &str| {
        Offer::parse("cyber_path.toml", text)
            .unwrap_err()
            .to_string()
    };
    let error = parse(&path.replacen("after = \"step_1\"", "after = \"step_9\"", 1));
    assert!(
        error.contains("champ « after » : « step_9 » n'est pas une étape précédente"),
        "{error}"
    );
    let error = parse(&path.replace("from_months = 3", "from_months = 7"));
    assert!(
        error.contains("champ « to_months » : 6 : de 7 à 120 mois"),
        "{error}"
    );
    let error = parse(&path.replace(
        "deliverables = [\"phase_minutes\"]",
        "deliverables = [\"loan_form\"]",
    ));
    assert!(
        error.contains("« loan_form » absent des livrables de l'offre"),
        "{error}"
    );
    let error = parse(&path.replace("id = \"step_2\"", "id = \"step_1\""));
    assert!(error.contains("« step_1 » déjà utilisé"), "{error}");
}

#[test]
fn a_renewal_needs_a_way_out() {
    let kit = KIT.replace("max_total_months = 96\n", "");
    let without_notice = kit[..kit.find("[notice]").unwrap()].to_owned()
        + &kit[kit.find("# Article 11 (RGPD)").unwrap()..];
    let error = Offer::parse("crisis_kit.toml", &without_notice)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("champ « max_total_months » : une reconduction sans durée maximale"),
        "{error}"
    );
    // With the notice, renewals without maximum are allowed.
    assert!(Offer::parse("crisis_kit.toml", &kit).is_ok());
}

#[test]
fn any_text_gives_an_offer_or_an_error() {
    for text in [
        "",
        "id = 3",
        "\u{0}\u{ffff}",
        "[[steps]]\nfrom_months = -9223372036854775808",
        &KIT.replace(
            "max_total_months = 96",
            "max_total_months = 9223372036854775807",
        ),
        &KIT.replace("[duration]", "[duration]\nmonths = -1"),
    ] {
        assert!(Offer::parse("crisis_kit.toml", text).is_err());
    }
}

#[test]
fn a_territorys_folder_replaces_and_adds() {
    let dir = tempfile::tempdir().unwrap();
    let mine = KIT
        .replace("id = \"crisis_kit\"", "id = \"kit_loire\"")
        .replace("max_total_months = 96", "max_total_months = 60");
    std::fs::write(dir.path().join("kit_loire.toml"), &mine).unwrap();
    std::fs::write(
        dir.path().join("sensor.toml"),
        include_str!("../../../data/offers/sensor.toml").replace("months = 36", "months = 48"),
    )
    .unwrap();
    std::fs::write(dir.path().join("README.md"), "ignored").unwrap();
    std::fs::write(dir.path().join(".cache.toml"), "ignored").unwrap();
    let catalogue = Catalogue::load(Some(dir.path())).unwrap();
    assert_eq!(catalogue.len(), 6);
    assert_eq!(
        catalogue.get("sensor").unwrap().duration,
        Duration::Fixed { months: 48 }
    );
    assert_eq!(
        catalogue.all().next().unwrap().id,
        "sensor",
        "kept in its place"
    );
    assert_eq!(catalogue.all().last().unwrap().id, "kit_loire");

    let bad = dir.path().join("zz_bad.toml");
    std::fs::write(
        &bad,
        mine.replace("id = \"kit_loire\"", "id = \"zz_bad\"")
            .replace("months = 3\n", "months = 300\n"),
    )
    .unwrap();
    let error = Catalogue::load(Some(dir.path())).unwrap_err().to_string();
    assert!(
        error.starts_with(&format!("{}, ligne ", bad.display()))
            && error.contains("« months » : 300"),
        "{error}"
    );
    std::fs::write(&bad, vec![b'#'; MAX_FILE_BYTES + 1]).unwrap();
    let error = Catalogue::load(Some(dir.path())).unwrap_err();
    assert!(matches!(error, OfferError::TooLarge { .. }), "{error}");
    let error = Catalogue::load(Some(&dir.path().join("absent"))).unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("absent n'est pas un dossier lisible"),
        "{error}"
    );
}
