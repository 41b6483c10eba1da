//! Changing one key of a configuration file a person wrote, keeping its
//! comments and layout, so that `enroll` can fill in the observatory without
//! throwing away what the installer wrote or the documentation of the
//! example. Line-based: callers re-parse the result to check it.

/// Sets `key` in `[section]` (`""` for the top of the file) to `value`, or
/// removes it when `value` is `None`. Replaces the key's line (a multi-line
/// array whole), else uncomments its example (`# key = ...`), else adds it
/// at the start of the section, else adds the section at the end.
pub(crate) fn set_key(text: &str, section: &str, key: &str, value: Option<&toml::Value>) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let new_line = value.map(|value| format!("{key} = {value}"));
    match section_range(&lines, section) {
        Some((start, end)) => {
            if let Some(at) = (start..end).find(|i| is_key_line(&lines[*i], key)) {
                let span_end = value_end(&lines, at, end);
                lines.splice(at..span_end, new_line);
            } else if let Some(line) = new_line {
                match (start..end).find(|i| is_commented_key(&lines[*i], key)) {
                    Some(at) => lines[at] = line,
                    None => lines.insert(start, line),
                }
            }
        }
        None => {
            if let Some(line) = new_line {
                if lines.last().is_some_and(|l| !l.trim().is_empty()) {
                    lines.push(String::new());
                }
                lines.push(format!("[{section}]"));
                lines.push(line);
            }
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// The lines of a section's body: after its header up to the next header.
/// The top-level section starts at line 0 and always exists.
fn section_range(lines: &[String], section: &str) -> Option<(usize, usize)> {
    let start = if section.is_empty() {
        0
    } else {
        lines
            .iter()
            .position(|line| header_name(line) == Some(section))?
            + 1
    };
    let end = (start..lines.len())
        .find(|i| header_name(&lines[*i]).is_some())
        .unwrap_or(lines.len());
    Some((start, end))
}

/// `observatory` for `[observatory]  # comment`; `None` for other lines.
fn header_name(line: &str) -> Option<&str> {
    let rest = line.trim_start().strip_prefix('[')?;
    let rest = rest.strip_prefix('[').unwrap_or(rest);
    let (name, _) = rest.split_once(']')?;
    Some(name.trim())
}

fn is_key_line(line: &str, key: &str) -> bool {
    line.trim_start()
        .strip_prefix(key)
        .is_some_and(|rest| rest.trim_start().starts_with('='))
}

fn is_commented_key(line: &str, key: &str) -> bool {
    line.trim_start()
        .strip_prefix('#')
        .is_some_and(|rest| is_key_line(rest, key))
}

/// One past the last line of the value starting at `at`: a multi-line
/// array runs until its brackets balance.
fn value_end(lines: &[String], at: usize, limit: usize) -> usize {
    let mut depth = bracket_depth(&lines[at]);
    let mut end = at + 1;
    while depth > 0 && end < limit {
        depth += bracket_depth(&lines[end]);
        end += 1;
    }
    end
}

/// Opening minus closing brackets outside strings and comments.
fn bracket_depth(line: &str) -> i32 {
    let mut depth = 0;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in line.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' && q == '"' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '"' | '\'' => quote = Some(c),
                '[' => depth += 1,
                ']' => depth -= 1,
                '#' => break,
                _ => {}
            },
        }
    }
    depth
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(s: &str) -> toml::Value {
        toml::Value::String(s.to_owned())
    }

    const FILE: &str = "# top comment\ncommune = \"\"\n\n[observatory]\n# the address\nurl = \"https://a.example\"\n# ca_file = \"/x.pem\"\n\n[capture]\ninterfaces = [\n  \"eth1\", # mirror\n  \"eth2\",\n]\nuser = \"vigie\"\n";

    #[test]
    fn replaces_uncomments_adds_and_removes() {
        let out = set_key(
            FILE,
            "observatory",
            "url",
            Some(&string("https://b.example")),
        );
        assert!(
            out.contains("# the address\nurl = \"https://b.example\"\n"),
            "{out}"
        );
        assert!(!out.contains("a.example"));

        let out = set_key(FILE, "observatory", "ca_file", Some(&string("/ca.pem")));
        assert!(out.contains("\nca_file = \"/ca.pem\"\n"), "{out}");
        assert!(!out.contains("/x.pem"), "{out}");

        let out = set_key(FILE, "observatory", "pin_sha256", Some(&string("ab")));
        assert!(
            out.contains("[observatory]\npin_sha256 = \"ab\"\n"),
            "{out}"
        );

        let out = set_key(FILE, "observatory", "url", None);
        assert!(!out.contains("url ="), "{out}");
        assert!(out.contains("# ca_file"), "{out}");

        let out = set_key(FILE, "", "commune", Some(&string("42218")));
        assert!(
            out.starts_with("# top comment\ncommune = \"42218\"\n"),
            "{out}"
        );

        let out = set_key(FILE, "storage", "state_dir", Some(&string("/srv/vigie")));
        assert!(
            out.ends_with("user = \"vigie\"\n\n[storage]\nstate_dir = \"/srv/vigie\"\n"),
            "{out}"
        );
    }

    #[test]
    fn a_multi_line_array_is_replaced_whole() {
        let value = toml::Value::Array(vec![string("br0")]);
        let out = set_key(FILE, "capture", "interfaces", Some(&value));
        assert!(
            out.contains("[capture]\ninterfaces = [\"br0\"]\nuser = \"vigie\"\n"),
            "{out}"
        );
        assert!(!out.contains("eth"), "{out}");
        let parsed: toml::Table = out.parse().unwrap();
        assert_eq!(parsed["capture"]["interfaces"][0].as_str(), Some("br0"));
    }

    #[test]
    fn brackets_in_strings_and_comments_do_not_count() {
        assert_eq!(bracket_depth("a = [\"[x\", '[y' # ]]]"), 1);
        assert_eq!(bracket_depth("a = [1, [2]]"), 0);
        assert_eq!(bracket_depth("a = \"\\\"[\""), 0);
    }
}
