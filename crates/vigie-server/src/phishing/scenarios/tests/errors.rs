//! Each rule of the loader broken once in the small scenario of
//! `tests.rs`, with the message the author reads: file, line, field.

use super::{HTML, LANDING, TEXT, TOML, check};
use crate::phishing::scenarios::{MAX_ID_CHARS, MAX_MAIL_BYTES, Scenario, ScenarioError, Sources};

#[test]
fn toml_errors_name_file_line_and_field() {
    let file = "data/scenarios/essai/scenario.toml";
    check(
        0,
        "difficulty = 2",
        "difficulty = 4",
        &format!("{file}, ligne 4 : « difficulty » doit valoir 1, 2 ou 3"),
    );
    check(
        0,
        "title",
        "couleur = \"bleu\"\ntitle",
        &format!("{file}, ligne 1 : champ inconnu « couleur »"),
    );
    check(
        0,
        "sender = true",
        "expediteur = true",
        &format!("{file}, ligne 12 : champ inconnu « expediteur »"),
    );
    check(
        0,
        "\"messagerie\"",
        "\"meteo\"",
        &format!(
            "{file}, ligne 3 : valeur inconnue « meteo » (thèmes : messagerie, colis, facture, administration, partage, institution)"
        ),
    );
    check(
        0,
        "version = 1",
        "version = 0",
        &format!("{file}, ligne 2 : « version » doit valoir au moins 1"),
    );
    check(
        0,
        "\"essai\"",
        "\"essai@exemple.fr\"",
        &format!(
            "{file}, ligne 6 : « sender_local_part » « essai@exemple.fr » : la partie avant « @ » seulement (minuscules, chiffres, « . », « - », « _ », 64 caractères au plus) ; le domaine vient de la configuration"
        ),
    );
    check(
        0,
        "\"Service Essai\"",
        "\"support@mairie.fr\"",
        &format!(
            "{file}, ligne 5 : « sender_name » un nom affiché, sans « @ », « < », « > » ni guillemets : l'adresse vient de sender_local_part et de la configuration"
        ),
    );
    check(
        0,
        "id = 3",
        "id = 4",
        &format!(
            "{file}, ligne 24 : « id » 4 au lieu de 3 : les indices se numérotent 1, 2, 3… dans l'ordre du fichier"
        ),
    );
    check(
        0,
        "\"Le lien\"",
        "\"Le {{lien}}\"",
        &format!(
            "{file}, ligne 25 : « label » ne prend ni repère {{{{…}}}} ni marqueur [[…]] (seuls l'objet et les corps du message en ont)"
        ),
    );
    check(
        0,
        "Bonjour {{prenom",
        "Bonjour\\n{{prenom",
        &format!("{file}, ligne 7 : « subject » tient sur une ligne, sans caractère de contrôle"),
    );
    check(
        0,
        "de {{commune}}",
        "de {{lien}}",
        &format!(
            "{file}, ligne 7 : « subject » « {{{{lien}}}} » n'a pas sa place dans ce fichier (connus ici : {{{{commune}}}}, {{{{prenom|…}}}}, {{{{date}}}})"
        ),
    );
    check(
        0,
        "[[indice 2]]vite",
        "[[indice 8]]vite",
        &format!(
            "{file}, ligne 7 : « [[indice 8]] » ne correspond à aucun indice de scenario.toml"
        ),
    );
    check(
        0,
        "explanation = \"Survolez-le.\"",
        "",
        &format!("{file}, ligne 23 : champ « explanation » manquant"),
    );
}

#[test]
fn body_errors_name_file_line_and_mark() {
    let html = "data/scenarios/essai/mail.html";
    check(
        1,
        "{{commune}}",
        "{{nom}}",
        &format!(
            "{html}, ligne 2 : repère inconnu « {{{{nom}}}} » (connus dans ce fichier : {{{{commune}}}}, {{{{prenom|…}}}}, {{{{date}}}}, {{{{lien}}}}, {{{{image}}}})"
        ),
    );
    check(
        1,
        "{{lien}}",
        "#",
        &format!("{html} : « {{{{lien}}}} » manquant : il y faut au moins une fois"),
    );
    check(
        1,
        "{{image}}",
        "data:,",
        &format!("{html} : « {{{{image}}}} » manquant : il y faut au moins une fois"),
    );
    check(
        1,
        "Urgent[[/indice]]",
        "Urgent",
        &format!(
            "{html}, ligne 3 : « [[indice 3]] » ouvert avant la fin de « [[indice 2]] » (ligne 2) : les marqueurs ne s'imbriquent pas"
        ),
    );
    check(
        1,
        "[[indice 3]]",
        "[[indice 7]]",
        &format!(
            "{html}, ligne 3 : « [[indice 7]] » ne correspond à aucun indice de scenario.toml"
        ),
    );
    check(
        1,
        "[[indice 3]]Cliquez ici[[/indice]]",
        "Cliquez ici",
        &format!(
            "{html} : l'indice 3 (scenario.toml, ligne 24) n'est marqué nulle part : ajoutez « [[indice 3]]…[[/indice]] » autour des mots qui le montrent (ou « sender = true » si c'est l'expéditeur)"
        ),
    );
    check(
        1,
        "<img",
        "<style>p{}</style><img",
        &format!("{html}, ligne 4 : élément <style> refusé dans ce fichier"),
    );
    let text = "data/scenarios/essai/mail.txt";
    check(
        2,
        "{{lien}}",
        "",
        &format!("{text} : « {{{{lien}}}} » manquant : il y faut au moins une fois"),
    );
    check(
        2,
        "{{commune}}",
        "{{image}}",
        &format!(
            "{text}, ligne 2 : « {{{{image}}}} » n'a pas sa place dans ce fichier (connus ici : {{{{commune}}}}, {{{{prenom|…}}}}, {{{{date}}}}, {{{{lien}}}})"
        ),
    );
    check(
        2,
        "[[indice 2]]",
        "[[indice 9]]",
        &format!(
            "{text}, ligne 2 : « [[indice 9]] » ne correspond à aucun indice de scenario.toml"
        ),
    );
}

#[test]
fn landing_errors_name_file_and_line() {
    let landing = "data/scenarios/essai/landing.html";
    check(
        3,
        "id=\"p\"",
        "id=\"p\" name=\"motdepasse\"",
        &format!(
            "{landing}, ligne 4 : attribut « name » sur <input> : le navigateur enverrait ce qui y est saisi ; retirez-le (le serveur ne doit rien recevoir)"
        ),
    );
    check(
        3,
        "<button>",
        "<script src=\"x.js\"></script><button>",
        &format!("{landing}, ligne 5 : élément <script> refusé dans ce fichier"),
    );
    check(
        3,
        "<title>",
        "<link rel=\"stylesheet\" href=\"https://cdn.example/x.css\">\n<title>",
        &format!(
            "{landing}, ligne 2 : adresse web dans la page : elle ne doit rien charger ni envoyer ailleurs (un tiers apprendrait la visite)"
        ),
    );
    check(
        3,
        "action=\"{{action}}\"",
        "action=\"/ailleurs\"",
        &format!(
            "{landing}, ligne 3 : <form action=\"/ailleurs\"> : le formulaire part vers « {{{{action}}}} », les liens vers « # », les images en « data: » ; rien d'autre"
        ),
    );
    check(
        3,
        "</title>",
        "[[indice 1]]x[[/indice]]</title>",
        &format!(
            "{landing}, ligne 2 : marqueur « [[indice 1]] » : les indices se marquent dans l'objet, mail.html et mail.txt seulement"
        ),
    );
    check(
        3,
        "{{commune}}</title>",
        "{{prenom|x}}</title>",
        &format!(
            "{landing}, ligne 2 : « {{{{prenom}}}} » n'a pas sa place dans ce fichier (connus ici : {{{{commune}}}}, {{{{action}}}})"
        ),
    );
}

#[test]
fn ids_and_sizes_are_bounded() {
    let sources = Sources {
        toml: TOML,
        html: HTML,
        text: TEXT,
        landing: LANDING,
    };
    for id in [
        "Essai",
        "essai_1",
        "-essai",
        "",
        &"a".repeat(MAX_ID_CHARS + 1),
    ] {
        assert_eq!(
            Scenario::parse(id, "d", &sources),
            Err(ScenarioError::Id {
                dir: "d".to_owned(),
                id: id.to_owned()
            })
        );
    }
    let big = format!("{HTML}{}", " ".repeat(MAX_MAIL_BYTES));
    let error = Scenario::parse(
        "essai",
        "d",
        &Sources {
            html: &big,
            ..sources
        },
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "d/mail.html : plus de 65536 octets, la limite de ce fichier"
    );
}
