//! Who may sign an offer: a commune or an EPCI against the offer's
//! population bounds, with the French reason when refused (« Le parcours 2
//! est réservé aux communes de moins de 3 500 habitants : Feurs en compte
//! 8 367. »).
//!
//! The bounds apply to whoever signs, as seed 004 writes them (« Parcours
//! 2 … à destination : des communes < 3500 habitants, des EPCI < 20 000
//! habitants »): a commune is checked against the commune bound, an EPCI
//! signing for itself against the EPCI bound. A commune of a small EPCI is
//! not eligible through it.
//!
//! An EPCI's population is the sum of its communes in the territory's
//! `communes` table. An EPCI reaching over the territory's border is
//! undercounted by the communes the table does not hold (the CC des Monts
//! du Lyonnais has 7 of its 32 communes in the Loire): pass its whole
//! population with [`Applicant::Epci`] when the territory knows it.
//!
//! What it must never do: say yes when a population is unknown (0 in the
//! referential), or read anything but the numbers it is given.

use crate::agreements::offers::Offer;
use crate::fr;
use crate::territory::Commune;

/// Who asks to sign, with the population the check uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applicant {
    Commune {
        name: String,
        /// 0 or less: unknown.
        population: i64,
    },
    Epci {
        name: String,
        population: i64,
        /// Member communes whose population is unknown.
        unknown_members: usize,
    },
}

/// An offer refused to an applicant: the sentence to show.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

impl Applicant {
    /// A commune of the territory, signing for itself.
    pub fn commune(commune: &Commune) -> Applicant {
        Applicant::Commune {
            name: commune.name.clone(),
            population: commune.population,
        }
    }

    /// The EPCI whose SIREN is `siren`, named `name` in messages, from
    /// the territory's communes: its population is the sum of its
    /// members'. `None` when no commune of the territory belongs to it.
    pub fn epci(siren: &str, name: &str, communes: &[Commune]) -> Option<Applicant> {
        let members: Vec<&Commune> = communes
            .iter()
            .filter(|c| c.epci.as_deref() == Some(siren))
            .collect();
        if members.is_empty() {
            return None;
        }
        Some(Applicant::Epci {
            name: name.to_owned(),
            population: members
                .iter()
                .map(|c| c.population.max(0))
                .fold(0_i64, i64::saturating_add),
            unknown_members: members.iter().filter(|c| c.population <= 0).count(),
        })
    }
}

/// Whether `applicant` may sign `offer`; the refusal says why, in French.
pub fn check(offer: &Offer, applicant: &Applicant) -> Result<(), Refusal> {
    let rule = &offer.eligibility;
    if rule.is_open() {
        return Ok(());
    }
    let (name, population, bound, kind) = match applicant {
        Applicant::Commune { name, population } => (
            name,
            *population,
            rule.commune_population_below,
            Kind::Communes,
        ),
        Applicant::Epci {
            name,
            population,
            unknown_members,
        } => {
            if *unknown_members > 0 {
                return Err(Refusal(format!(
                    "La population de {name} n'est pas connue pour {} : impossible de vérifier \
                     qu'il peut signer {}.",
                    fr::count(*unknown_members, "de ses communes", "de ses communes"),
                    offer.short_name
                )));
            }
            (name, *population, rule.epci_population_below, Kind::Epci)
        }
    };
    let Some(bound) = bound else {
        // Bounds for the other kind only: this kind may not sign.
        let (other, bound, is) = match kind {
            Kind::Communes => (Kind::Epci, rule.epci_population_below, "une commune"),
            Kind::Epci => (Kind::Communes, rule.commune_population_below, "un EPCI"),
        };
        return Err(Refusal(format!(
            "{} : {name} est {is}.",
            reserved(offer, other, bound.unwrap_or_default())
        )));
    };
    if population <= 0 {
        return Err(Refusal(format!(
            "La population de {name} n'est pas connue dans le référentiel du territoire : \
             impossible de vérifier {} peut signer {}.",
            match kind {
                Kind::Communes => "qu'elle",
                Kind::Epci => "qu'il",
            },
            offer.short_name
        )));
    }
    if population < i64::from(bound) {
        return Ok(());
    }
    Err(Refusal(format!(
        "{} : {name} en compte {}.",
        reserved(offer, kind, bound),
        fr::number(population)
    )))
}

#[derive(Clone, Copy)]
enum Kind {
    Communes,
    Epci,
}

/// « Le parcours 2 est réservé aux communes de moins de 3 500 habitants »,
/// the participle agreeing with the offer's article; « Seuls les EPCI de
/// moins de … peuvent signer … » when its name has none to agree with.
fn reserved(offer: &Offer, kind: Kind, bound: u32) -> String {
    let (words, only) = match kind {
        Kind::Communes => ("communes", "Seules les"),
        Kind::Epci => ("EPCI", "Seuls les"),
    };
    let who = format!(
        "{words} de moins de {} habitants",
        fr::number(i64::from(bound))
    );
    let name = offer.short_name.as_str();
    let participle = if name.starts_with("le ") {
        "réservé"
    } else if name.starts_with("la ") {
        "réservée"
    } else {
        return format!("{only} {who} peuvent signer {name}");
    };
    let mut chars = name.chars();
    let capitalised: String = chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    format!("{capitalised} est {participle} aux {who}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agreements::offers::Catalogue;
    use crate::territory::referential;

    /// The Loire's communes, from the built-in referential (INSEE 2024
    /// municipal populations, as `/work/shared/data`).
    fn loire() -> Vec<Commune> {
        let bytes = include_bytes!("../../data/territory/42-communes.csv");
        referential::parse("42-communes.csv", bytes, "42")
            .unwrap()
            .into_iter()
            .map(|r| Commune {
                code: r.code,
                name: r.name,
                departement: "42".to_owned(),
                population: r.population.unwrap_or(0),
                epci: r.epci,
                email: None,
                phone: None,
                website: None,
            })
            .collect()
    }

    fn named<'a>(communes: &'a [Commune], name: &str) -> &'a Commune {
        communes.iter().find(|c| c.name == name).unwrap()
    }

    fn path(id: &str) -> Offer {
        Catalogue::built_in().unwrap().get(id).cloned().unwrap()
    }

    fn commune(name: &str, population: i64) -> Applicant {
        Applicant::Commune {
            name: name.to_owned(),
            population,
        }
    }

    #[test]
    fn path_2_is_for_communes_under_3500_inhabitants() {
        let communes = loire();
        // Feurs, 8 367 inhabitants: the example, word for word
        // (numbers with the narrow no-break space `fr::number` writes).
        let feurs = Applicant::commune(named(&communes, "Feurs"));
        assert_eq!(
            check(&path("awareness_2"), &feurs),
            Err(Refusal(
                "Le parcours 2 est réservé aux communes de moins de 3\u{202f}500 habitants : \
                 Feurs en compte 8\u{202f}367."
                    .to_owned()
            ))
        );
        // The Loire's closest on each side of the bound: Renaison (3 231)
        // signs, Savigneux (3 509) does not.
        let renaison = Applicant::commune(named(&communes, "Renaison"));
        assert_eq!(check(&path("awareness_2"), &renaison), Ok(()));
        let savigneux = Applicant::commune(named(&communes, "Savigneux"));
        let refusal = check(&path("awareness_2"), &savigneux).unwrap_err();
        assert!(
            refusal.0.ends_with("Savigneux en compte 3\u{202f}509."),
            "{refusal}"
        );
        // The bound itself, on real communes of the national referential
        // (`/work/shared/data/communes/communes.csv`): Langeac (43112)
        // has 3 499 inhabitants, Saint-Colomban (44155) 3 500.
        assert_eq!(
            check(&path("awareness_2"), &commune("Langeac", 3499)),
            Ok(())
        );
        let refusal = check(&path("awareness_2"), &commune("Saint-Colomban", 3500)).unwrap_err();
        assert!(
            refusal
                .0
                .ends_with("Saint-Colomban en compte 3\u{202f}500."),
            "{refusal}"
        );
        // Path 1 is for everyone, Saint-Étienne included.
        let big = Applicant::commune(named(&communes, "Saint-Étienne"));
        assert_eq!(check(&path("awareness_1"), &big), Ok(()));
        assert!(check(&path("awareness_2"), &big).is_err());
    }

    #[test]
    fn path_2_is_for_epcis_under_20000_inhabitants() {
        let communes = loire();
        let epci = |siren: &str, name: &str| Applicant::epci(siren, name, &communes).unwrap();
        // Feurs belongs to the CC de Forez-Est: 42 communes, 65 031.
        let forez_est = named(&communes, "Feurs").epci.clone().unwrap();
        assert_eq!(forez_est, "200065894");
        assert_eq!(
            communes
                .iter()
                .filter(|c| c.epci.as_deref() == Some("200065894"))
                .count(),
            42
        );
        let refusal = check(
            &path("awareness_2"),
            &epci(&forez_est, "la CC de Forez-Est"),
        )
        .unwrap_err();
        assert_eq!(
            refusal.0,
            "Le parcours 2 est réservé aux EPCI de moins de 20\u{202f}000 habitants : \
             la CC de Forez-Est en compte 65\u{202f}031."
        );
        // The CC du Pays d'Urfé (11 communes, 5 115) and the CC des Monts
        // du Pilat (16, 15 423) sign; the CC Charlieu-Belmont (25,
        // 23 470) does not.
        assert_eq!(
            epci("244200820", "la CC du Pays d'Urfé"),
            Applicant::Epci {
                name: "la CC du Pays d'Urfé".to_owned(),
                population: 5115,
                unknown_members: 0
            }
        );
        assert_eq!(
            check(
                &path("awareness_2"),
                &epci("244200820", "la CC du Pays d'Urfé")
            ),
            Ok(())
        );
        assert_eq!(
            check(
                &path("awareness_2"),
                &epci("244200622", "la CC des Monts du Pilat")
            ),
            Ok(())
        );
        assert!(
            check(
                &path("awareness_2"),
                &epci("200035202", "la CC Charlieu-Belmont")
            )
            .is_err()
        );
        // The bound, on real EPCIs (`epci.csv`): 19 998 signs, 20 005 not.
        let total = |name: &str, population| Applicant::Epci {
            name: name.to_owned(),
            population,
            unknown_members: 0,
        };
        assert_eq!(
            check(
                &path("awareness_2"),
                &total("la CC de l'Est de la Somme", 19_998)
            ),
            Ok(())
        );
        assert!(
            check(
                &path("awareness_2"),
                &total("la CC Haut-Jura Saint-Claude", 20_005)
            )
            .is_err()
        );
        // An EPCI with no commune in the territory is none of its own.
        assert_eq!(
            Applicant::epci("200054781", "la Métropole du Grand Paris", &communes),
            None
        );
        // A small commune of a large EPCI signs on its own population:
        // Balbigny (2 911) in the CC de Forez-Est.
        let balbigny = named(&communes, "Balbigny");
        assert_eq!(balbigny.epci.as_deref(), Some("200065894"));
        assert_eq!(
            check(&path("awareness_2"), &Applicant::commune(balbigny)),
            Ok(())
        );
    }

    #[test]
    fn unknown_populations_and_the_wrong_kind_are_refused() {
        let unknown = commune("Essai", 0);
        let refusal = check(&path("awareness_2"), &unknown).unwrap_err();
        assert!(
            refusal
                .0
                .starts_with("La population de Essai n'est pas connue"),
            "{refusal}"
        );
        assert_eq!(
            check(&path("awareness_1"), &unknown),
            Ok(()),
            "no bound, nothing to check"
        );
        let members = Applicant::Epci {
            name: "la CC Essai".to_owned(),
            population: 900,
            unknown_members: 2,
        };
        let refusal = check(&path("awareness_2"), &members).unwrap_err();
        assert!(refusal.0.contains("pour 2 de ses communes"), "{refusal}");
        // An offer for communes only refuses an EPCI, and says so.
        let mut communes_only = path("awareness_2");
        communes_only.eligibility.epci_population_below = None;
        let refusal = check(
            &communes_only,
            &Applicant::Epci {
                name: "la CC du Pays d'Urfé".to_owned(),
                population: 5115,
                unknown_members: 0,
            },
        )
        .unwrap_err();
        assert_eq!(
            refusal.0,
            "Le parcours 2 est réservé aux communes de moins de 3\u{202f}500 habitants : \
             la CC du Pays d'Urfé est un EPCI."
        );
        communes_only.short_name = "cette offre".to_owned();
        let refusal = check(&communes_only, &commune("Feurs", 8367)).unwrap_err();
        assert_eq!(
            refusal.0,
            "Seules les communes de moins de 3\u{202f}500 habitants peuvent signer cette offre : \
             Feurs en compte 8\u{202f}367."
        );
    }
}
