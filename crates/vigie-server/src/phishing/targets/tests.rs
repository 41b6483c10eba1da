//! Imports as town halls will make them: spreadsheets saved in French,
//! lists pasted from a mail client, and their mistakes, each reported on
//! its line.

use super::*;

fn target(email: &str, first_name: Option<&str>, role: Role) -> Target {
    Target {
        email: email.to_owned(),
        first_name: first_name.map(str::to_owned),
        role,
    }
}

/// The messages of a refused import, `ligne N : ...` each.
fn refusals(result: Result<Vec<Target>, ImportErrors>) -> Vec<String> {
    result
        .unwrap_err()
        .lines()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn a_plain_csv() {
    let csv = "email,prenom,role\n\
               jean.dupont@mairie-exemple.fr,Jean,agent\n\
               Marie.Martin@MAIRIE-EXEMPLE.FR,Marie,élu\n\
               accueil@mairie-exemple.fr,,\n";
    assert_eq!(
        from_csv(csv.as_bytes()).unwrap(),
        [
            target("jean.dupont@mairie-exemple.fr", Some("Jean"), Role::Agent),
            target(
                "Marie.Martin@mairie-exemple.fr",
                Some("Marie"),
                Role::Elected
            ),
            target("accueil@mairie-exemple.fr", None, Role::Agent),
        ]
    );
}

#[test]
fn a_csv_saved_by_libreoffice_in_french() {
    // Semicolons, a byte-order mark, CRLF, accented headers in another
    // order, quoted fields (one holding the separator and a quote),
    // trailing empty cells and an empty last row.
    let csv = "\u{feff}Rôle;Prénom;E-mail;;\r\n\
               Élu;\"Anne; dite \"\"Nanou\"\"\";anne.martin@mairie-exemple.fr;;\r\n\
               ELU;Hélène;helene.petit@mairie-exemple.fr;;\r\n\
               ;\"Jean-Pierre\";\"jp.durand@mairie-exemple.fr\";;\r\n\
               ;;;;\r\n";
    assert_eq!(
        from_csv(csv.as_bytes()).unwrap(),
        [
            target(
                "anne.martin@mairie-exemple.fr",
                Some("Anne; dite \"Nanou\""),
                Role::Elected
            ),
            target(
                "helene.petit@mairie-exemple.fr",
                Some("Hélène"),
                Role::Elected
            ),
            target(
                "jp.durand@mairie-exemple.fr",
                Some("Jean-Pierre"),
                Role::Agent
            ),
        ]
    );
    // One column, no separator at all; tabs, as some exports have them.
    let only = from_csv(b"courriel\r\njean@x.fr\r\n").unwrap();
    assert_eq!(only, [target("jean@x.fr", None, Role::Agent)]);
    let tabs = from_csv("email\tprenom\njean@x.fr\tJean\n".as_bytes()).unwrap();
    assert_eq!(tabs, [target("jean@x.fr", Some("Jean"), Role::Agent)]);
}

#[test]
fn every_bad_line_is_reported_with_its_number() {
    let csv = "email;prenom;role\r\n\
               jean.dupont@mairie-exemple.fr;Jean;agent\r\n\
               jean.dupont@;Jean;agent\r\n\
               anne@mairie-exemple.fr;Anne;maire\r\n\
               \r\n\
               JEAN.DUPONT@mairie-exemple.fr;;\r\n\
               paul@mairie-exemple.fr;Paul;agent;en trop\r\n\
               ;Sans adresse;\r\n";
    assert_eq!(
        refusals(from_csv(csv.as_bytes())),
        [
            "ligne 3 : « jean.dupont@ » n'est pas une adresse e-mail valide : rien après le @",
            "ligne 4 : rôle « maire » inconnu : écrivez agent ou élu (vide vaut agent)",
            "ligne 6 : l'adresse JEAN.DUPONT@mairie-exemple.fr figure déjà ligne 2 : gardez-en \
             une seule",
            "ligne 7 : 4 colonnes au lieu de 3 : si un prénom contient le séparateur, mettez-le \
             entre guillemets",
            "ligne 8 : adresse e-mail manquante",
        ]
    );
}

#[test]
fn line_numbers_count_every_line_end_and_quoted_new_lines() {
    let check = |csv: &str, expected_lines: &[usize]| {
        let errors = from_csv(csv.as_bytes()).unwrap_err();
        let lines: Vec<usize> = errors.lines().iter().map(|e| e.line).collect();
        assert_eq!(lines, expected_lines, "{csv:?}");
    };
    // A quoted first name over two lines (refused), then the next record
    // on line 4.
    check("email,prenom\na@x.fr,\"Jean\nPierre\"\nbad\n", &[2, 4]);
    check("email,prenom\r\na@x.fr,Jean\r\n\r\nbad\r\n", &[4]);
    // A lone CR ends a line too (old Mac exports).
    check("email,prenom\ra@x.fr,Jean\rbad\r", &[3]);
    check("\n\nemail\na@x.fr\nbad", &[5]);
    // A quote left open swallows the rest of the file into one value.
    let open = from_csv(b"email,prenom\na@x.fr,\"Jean\nb@x.fr,Luc\n").unwrap_err();
    assert_eq!(
        open.to_string(),
        "ligne 2 : un guillemet ouvert sur cette ligne n'est pas refermé : une valeur ne peut \
         pas passer à la ligne"
    );
    // Header errors are on the header's line.
    check("\n\nprenom\nJean", &[3]);
}

#[test]
fn headers_are_named_or_refused() {
    let check =
        |csv: &str, expected: &[&str]| assert_eq!(refusals(from_csv(csv.as_bytes())), expected);
    check(
        "jean@x.fr;Jean;agent\n",
        &[
            "ligne 1 : la première ligne doit nommer les colonnes (email;prenom;role), elle \
           contient une adresse : ajoutez cette ligne en tête du fichier",
        ],
    );
    check(
        "email;nom;prenom\na@x.fr;Dupont;Jean\n",
        &["ligne 1 : colonne « nom » inconnue : gardez seulement email, prenom et role"],
    );
    check(
        "prenom;role\nJean;agent\n",
        &[
            "ligne 1 : pas de colonne email : la première ligne nomme les colonnes, par exemple \
           email;prenom;role",
        ],
    );
    check(
        "email;Courriel\na@x.fr;b@x.fr\n",
        &["ligne 1 : la colonne « courriel » apparaît deux fois"],
    );
    check(
        "email;;role\na@x.fr;;agent\n",
        &["ligne 1 : la colonne 2 n'a pas de nom"],
    );
}

#[test]
fn empty_files_and_bounds() {
    let message = |bytes: &[u8]| from_csv(bytes).unwrap_err().to_string();
    assert!(message(b"").starts_with("Le fichier est vide"));
    assert!(message(b"\xef\xbb\xbf \r\n").starts_with("Le fichier est vide"));
    assert!(message(b"email;prenom;role\r\n;;\r\n").starts_with("Aucune cible"));
    assert!(
        message(&vec![b'a'; MAX_BYTES + 1]).starts_with("Le fichier fait 1,0 Mo, 1,0 Mo au plus")
    );
    let long = format!("email,prenom\na@x.fr,{}\n", "x".repeat(MAX_LINE_BYTES));
    assert!(message(long.as_bytes()).starts_with("ligne 2 : ligne trop longue"));
    let name = format!(
        "email,prenom\na@x.fr,{}\n",
        "é".repeat(MAX_FIRST_NAME_CHARS + 1)
    );
    assert!(message(name.as_bytes()).starts_with("ligne 2 : prénom trop long (101 caractères"));
    let control = "email,prenom\na@x.fr,Je\u{7}an\n";
    assert!(message(control.as_bytes()).contains("caractère de contrôle"));
    // More targets than a campaign takes.
    let mut many = String::from("email\n");
    for index in 0..=MAX_TARGETS {
        many.push_str(&format!("agent{index}@x.fr\n"));
    }
    assert!(message(many.as_bytes()).starts_with("5\u{202f}001 cibles, c'est plus que le maximum"));
    assert_eq!(from_csv(many.as_bytes()).unwrap_err().total(), 1);
    many.truncate(many.len() - "agent5000@x.fr\n".len());
    assert_eq!(from_csv(many.as_bytes()).unwrap().len(), MAX_TARGETS);
}

#[test]
fn errors_are_capped_and_counted() {
    let mut csv = String::from("email\n");
    for _ in 0..60 {
        csv.push_str("pas-une-adresse\n");
    }
    let errors = from_csv(csv.as_bytes()).unwrap_err();
    assert_eq!(errors.lines().len(), MAX_ERRORS_SHOWN);
    assert_eq!(errors.total(), 60);
    let text = errors.to_string();
    assert!(text.starts_with("ligne 2 : « pas-une-adresse » n'est pas une adresse e-mail valide : il manque le @\nligne 3 :"));
    assert!(text.ends_with("\nligne 51 : « pas-une-adresse » n'est pas une adresse e-mail valide : il manque le @\n… et 10 autres erreurs."));
}

#[test]
fn garbage_gets_a_french_refusal_not_a_panic() {
    // Windows-1252 "Hélène": the é is one byte, not UTF-8.
    let errors = refusals(from_csv(b"email;prenom\r\nhelene@x.fr;H\xe9l\xe8ne\r\n"));
    assert_eq!(
        errors,
        [
            "ligne 2 : caractères illisibles : enregistrez le fichier en UTF-8 (Excel : « CSV UTF-8 » ; \
          LibreOffice : jeu de caractères « Unicode (UTF-8) »)"
        ]
    );
    assert!(from_csv(b"\xff\xfe\x00e\x00m\x00a\x00i\x00l").is_err());
    // Deterministic noise of every byte, quotes and separators included.
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    for length in 0..2000 {
        let bytes: Vec<u8> = (0..length % 300)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                b"email;,\"\r\n@a.\xc3\xa9\xff \t"[usize::try_from(seed % 17).unwrap()]
            })
            .collect();
        if let Ok(targets) = from_csv(&bytes) {
            assert!(targets.iter().all(|t| address::check(&t.email).is_ok()));
        }
        let _ = from_pasted(&String::from_utf8_lossy(&bytes), Role::Agent);
    }
}

#[test]
fn pasted_addresses() {
    let text = "jean@mairie-exemple.fr, anne@mairie-exemple.fr\n\
                \n\
                Paul Durand <Paul.Durand@Mairie-Exemple.fr>; \"Martin, Luc\" <luc@mairie-exemple.fr>\r\n\
                sophie@mairie-exemple.fr  claire@mairie-exemple.fr\n";
    let emails: Vec<String> = from_pasted(text, Role::Elected)
        .unwrap()
        .into_iter()
        .map(|t| {
            assert_eq!((t.role, t.first_name), (Role::Elected, None));
            t.email
        })
        .collect();
    assert_eq!(
        emails,
        [
            "jean@mairie-exemple.fr",
            "anne@mairie-exemple.fr",
            "Paul.Durand@mairie-exemple.fr",
            "luc@mairie-exemple.fr",
            "sophie@mairie-exemple.fr",
            "claire@mairie-exemple.fr",
        ]
    );
    let text = "jean@x.fr\njean.dupont@ anne@x.fr anne@x.fr\nJean <jean@x.fr>\nLuc <luc@x.fr";
    assert_eq!(
        refusals(from_pasted(text, Role::Agent)),
        [
            "ligne 2 : « jean.dupont@ » n'est pas une adresse e-mail valide : rien après le @",
            "ligne 2 : l'adresse anne@x.fr figure deux fois sur cette ligne",
            "ligne 3 : l'adresse jean@x.fr figure déjà ligne 1 : gardez-en une seule",
            "ligne 4 : « Luc <luc@x.fr » n'est pas une adresse e-mail valide : il manque le « > » \
             qui ferme l'adresse",
        ]
    );
    let empty = from_pasted(" \n ,; ", Role::Agent).unwrap_err().to_string();
    assert!(empty.starts_with("Aucune adresse"), "{empty}");
    let big = "a".repeat(MAX_BYTES + 1);
    assert!(
        from_pasted(&big, Role::Agent)
            .unwrap_err()
            .to_string()
            .starts_with("Le texte collé fait")
    );
}

#[test]
fn roles() {
    let check =
        |text: &str, expected: Option<Role>| assert_eq!(Role::parse(text), expected, "{text}");
    check("", Some(Role::Agent));
    check(" Agent ", Some(Role::Agent));
    check("élu", Some(Role::Elected));
    check("Élu", Some(Role::Elected));
    check("ELU", Some(Role::Elected));
    check("elu", Some(Role::Elected));
    check("Élue", Some(Role::Elected));
    check("e\u{301}lu", Some(Role::Elected));
    check("maire", None);
    assert_eq!(Role::Elected.as_str(), "elu");
    assert_eq!(Role::Elected.label_fr(), "élu");
    assert_eq!(Role::Agent.plural_fr(), "agents");
    for role in [Role::Agent, Role::Elected] {
        assert_eq!(Role::parse(role.as_str()), Some(role));
        assert_eq!(
            serde_json::to_string(&role).unwrap(),
            format!("\"{}\"", role.as_str())
        );
    }
}
