//! Loading, validation errors, merging and the scan contract.

use super::*;

const ONE: &str = r#"
[[signature]]
id = "web.test_one"
category = "xss"
severity = "medium"
description = "Essai"
patterns = ["<marquee", "evil("]
"#;

const TWO: &str = r#"
[[signature]]
id = "web.test_two"
category = "scanner"
severity = "low"
description = "Essai deux"
patterns = ["evil(", "badbot/"]
"#;

/// Loads `text` and returns the error message it must produce.
fn error_of(text: &str) -> String {
    match Signatures::from_toml(text, "user.toml") {
        Ok(_) => panic!("{text:?} should be refused"),
        Err(err) => err.to_string(),
    }
}

fn check_error(text: &str, expected: &str) {
    assert_eq!(error_of(text), expected, "file {text:?}");
}

/// A one-signature file with one field replaced.
fn with(field: &str, value: &str) -> String {
    let mut fields = vec![
        ("id", "\"web.x\""),
        ("category", "\"xss\""),
        ("severity", "\"high\""),
        ("description", "\"Essai\""),
        ("patterns", "[\"<blink\"]"),
    ];
    for entry in &mut fields {
        if entry.0 == field {
            entry.1 = value;
        }
    }
    let body: Vec<String> = fields.iter().map(|(k, v)| format!("{k} = {v}")).collect();
    format!("[[signature]]\n{}\n", body.join("\n"))
}

#[test]
fn builtin_loads_and_is_well_formed() {
    let signatures = Signatures::builtin();
    assert!(signatures.len() >= 15, "{}", signatures.len());
    for (id, signature) in signatures.iter() {
        assert_eq!(signatures.get(id), signature);
        assert_eq!(signatures.find(&signature.id), Some(id));
    }
    assert_eq!(
        signatures
            .find("web.log4shell")
            .map(|id| signatures.get(id).severity),
        Some(Severity::Critical)
    );
}

#[test]
fn double_encoded_traversal_is_found() {
    let signatures = Signatures::builtin();
    let (mut scratch, mut hits) = (Vec::new(), Vec::new());
    signatures.scan_field(
        b"/img?f=%252e%252e%252f%252e%252e%252fetc%252fpasswd",
        &mut scratch,
        &mut hits,
    );
    let ids: Vec<&str> = hits
        .iter()
        .map(|&id| signatures.get(id).id.as_str())
        .collect();
    assert_eq!(ids, ["web.path_traversal", "web.system_file"]);
}

#[test]
fn hits_are_deduplicated_across_fields() {
    let signatures = Signatures::from_toml(ONE, "one.toml").unwrap();
    let (mut scratch, mut hits) = (Vec::new(), Vec::new());
    signatures.scan_field(b"<MARQUEE>evil(1)<marquee>", &mut scratch, &mut hits);
    signatures.scan_field(b"%3cmarquee", &mut scratch, &mut hits);
    assert_eq!(hits, [SigId(0)]);
    signatures.scan_field(b"", &mut scratch, &mut hits);
    assert_eq!(hits, [SigId(0)]);
}

#[test]
fn merge_adds_user_signatures() {
    let merged = Signatures::from_toml(ONE, "one.toml")
        .unwrap()
        .merge(Signatures::from_toml(TWO, "two.toml").unwrap())
        .unwrap();
    assert_eq!(merged.len(), 2);
    let (mut scratch, mut hits) = (Vec::new(), Vec::new());
    merged.scan_field(b"evil(x)", &mut scratch, &mut hits);
    hits.sort();
    assert_eq!(hits, [SigId(0), SigId(1)]);
    let builtin = Signatures::builtin().len();
    let user = Signatures::from_toml(TWO, "two.toml").unwrap();
    assert_eq!(
        Signatures::builtin().merge(user).unwrap().len(),
        builtin + 1
    );
}

#[test]
fn merge_refuses_a_duplicate_id() {
    let one = Signatures::from_toml(ONE, "one.toml").unwrap();
    let again = Signatures::from_toml(ONE, "mine.toml").unwrap();
    let err = one.merge(again).unwrap_err().to_string();
    assert_eq!(
        err,
        "mine.toml: signature #1 (\"web.test_one\"): this id is already used by a \
         signature of one.toml"
    );
}

#[test]
fn empty_file_is_an_empty_set() {
    let signatures = Signatures::from_toml("# nothing yet\n", "empty.toml").unwrap();
    assert!(signatures.is_empty());
    let (mut scratch, mut hits) = (Vec::new(), Vec::new());
    signatures.scan_field(b"${jndi:ldap://x}", &mut scratch, &mut hits);
    assert!(hits.is_empty());
}

#[test]
fn bad_files_are_refused_with_clear_messages() {
    check_error(
        &with("id", "\"log4shell\""),
        "user.toml: signature #1 (\"log4shell\"): the id must start with \"web.\" and use \
         only lowercase letters, digits, '.', '_' and '-'",
    );
    check_error(
        &format!("{ONE}{ONE}"),
        "user.toml: signature #2 (\"web.test_one\"): this id is already used by signature #1",
    );
    check_error(
        &with("patterns", "[]"),
        "user.toml: signature #1 (\"web.x\"): the pattern list is empty",
    );
    check_error(
        &with("patterns", "[\"<blink\", \"\"]"),
        "user.toml: signature #1 (\"web.x\"): pattern 2 is empty",
    );
    check_error(
        &with("patterns", "[\"/**/\"]"),
        "user.toml: signature #1 (\"web.x\"): pattern 1 is empty",
    );
    check_error(
        &with("patterns", "[\"$(\"]"),
        "user.toml: signature #1 (\"web.x\"): pattern 1 (\"$(\") is shorter than 3 bytes \
         once normalised and would match ordinary traffic",
    );
    check_error(
        &with("severity", "\"urgent\""),
        "user.toml: signature #1 (\"web.x\"): unknown severity \"urgent\" (expected low, \
         medium, high or critical)",
    );
    check_error(
        &with("category", "\"spam\""),
        "user.toml: signature #1 (\"web.x\"): unknown category \"spam\" (expected one of: \
         log4shell, shellshock, path_traversal, sql_injection, command_injection, xss, \
         sensitive_file, webshell, scanner)",
    );
    check_error(
        &with("description", "\"  \""),
        "user.toml: signature #1 (\"web.x\"): the description is empty",
    );
}

#[test]
fn toml_errors_give_the_line() {
    let text = format!("{ONE}\n[[signature]]\nid = \"web.broken\nseverity = \"low\"\n");
    let err = error_of(&text);
    assert!(
        err.starts_with("user.toml: TOML syntax error at line 10: invalid basic string"),
        "{err}"
    );
    let missing = "[[signature]]\nid = \"web.x\"\ncategory = \"xss\"\n";
    let err = error_of(missing);
    assert!(
        err.starts_with("user.toml: TOML syntax error at line 1: missing field"),
        "{err}"
    );
    let typo = with("patterns", "[\"<blink\"]\npattern = [\"x\"]");
    assert!(
        error_of(&typo).contains("unknown field `pattern`"),
        "{}",
        error_of(&typo)
    );
}

#[test]
fn signatures_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Signatures>();
    assert_send_sync::<vigie_lists::Intel>();
}
