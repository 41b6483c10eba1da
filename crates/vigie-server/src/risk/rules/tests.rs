//! The rule file: the built-in one, and refusals naming the file, the
//! line and the field.

use super::*;

fn check(text: &str, expected: &str) {
    match Rules::parse("risque.toml", text) {
        Ok(_) => panic!("accepted, expected « {expected} »"),
        Err(error) => assert_eq!(error.to_string(), expected),
    }
}

/// The built-in file with `from` replaced by `to`.
fn edited(from: &str, to: &str) -> String {
    assert!(BUILT_IN.contains(from), "{from}");
    BUILT_IN.replacen(from, to, 1)
}

fn line(needle: &str) -> usize {
    BUILT_IN
        .lines()
        .position(|l| l.starts_with(needle))
        .unwrap()
        + 1
}

#[test]
fn the_built_in_rule_is_valid() {
    assert_eq!(Rules::built_in().unwrap(), Rules::default());
}

#[test]
fn errors_name_the_file_the_line_and_the_field() {
    check(
        &edited("high = 50", "high = 10"),
        &format!(
            "risque.toml, ligne {}, champ « levels » : les seuils doivent croître : moderate < high < critical",
            line("high = 50")
        ),
    );
    check(
        &edited("click_points = 2", "click_points = 200"),
        &format!(
            "risque.toml, ligne {}, champ « human.click_points » : 200 n'est pas entre 0 et 100",
            line("click_points")
        ),
    );
    check(
        &edited("days = 30", "dayz = 30"),
        &format!(
            "risque.toml, ligne {} : champ « dayz » inconnu",
            line("days = 30")
        ),
    );
    check(
        &edited("human = 20", "human = \"vingt\""),
        &format!(
            "risque.toml, ligne {} : valeur du mauvais type : il faut un nombre entier, ou une section [ … ]",
            line("human = 20")
        ),
    );
    let zero = BUILT_IN
        .replacen("pressure = 25", "pressure = 0", 1)
        .replacen("exposure = 30", "exposure = 0", 1)
        .replacen("maturity = 25", "maturity = 0", 1)
        .replacen("human = 20", "human = 0", 1);
    assert!(
        Rules::parse("r.toml", &zero)
            .unwrap_err()
            .to_string()
            .contains("« weights » : au moins un poids")
    );
    assert!(
        Rules::parse("r.toml", "[combine]\nmin_known = 2\n")
            .unwrap_err()
            .to_string()
            .contains("manquant")
    );
}

#[test]
fn a_territory_file_is_read_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("risque.toml");
    std::fs::write(&path, edited("pressure = 25", "pressure = 50")).unwrap();
    assert_eq!(Rules::load(Some(&path)).unwrap().weights[0], 50);
    let missing = dir.path().join("absent.toml");
    assert!(
        Rules::load(Some(&missing))
            .unwrap_err()
            .to_string()
            .starts_with(&format!("{} : lecture impossible", missing.display()))
    );
}
