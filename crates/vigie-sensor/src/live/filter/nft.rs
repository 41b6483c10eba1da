//! Runs the `nft` command, directly or inside a network namespace through
//! `ip netns exec`, and reads its answers.
//!
//! What it must not do: go through a shell or build arguments from
//! received text. Scripts go to `nft -f -` on standard input; the only
//! arguments are fixed words and names the caller validated.

use std::io::{ErrorKind, Write};
use std::process::{Command, Stdio};

use serde_json::Value;

use super::FilterError;

/// How much of nft's error output an error keeps: enough for its message,
/// bounded so that a runaway tool cannot fill the logs.
const MAX_DETAIL: usize = 1_000;

/// Where `nft` runs.
#[derive(Clone, Debug)]
pub struct Nft {
    /// Network namespace to run in (`ip netns exec NAME nft ...`); the
    /// sensor's own when `None`.
    netns: Option<String>,
}

impl Nft {
    pub fn new(netns: Option<String>) -> Nft {
        Nft { netns }
    }

    /// Feeds `script` to `nft -f -`, which applies it as one transaction:
    /// all of it or nothing. `what` says what the script does, for errors.
    pub fn apply(&self, what: &str, script: &str) -> Result<(), FilterError> {
        self.run(what, &["-f", "-"], Some(script)).map(drop)
    }

    /// The number of elements of one set, from `nft -j list set`. Expired
    /// elements are not listed by the kernel.
    pub fn count_elements(&self, family: &str, table: &str, set: &str) -> Result<u64, FilterError> {
        let what = format!("list the set {family} {table} {set}");
        let json = self.run(&what, &["-j", "list", "set", family, table, set], None)?;
        count_in_listing(&json).map_err(|detail| FilterError::Answer { what, detail })
    }

    fn run(&self, what: &str, args: &[&str], stdin: Option<&str>) -> Result<String, FilterError> {
        let (program, mut command) = match &self.netns {
            Some(netns) => {
                let mut command = Command::new("ip");
                command.args(["netns", "exec", netns, "nft"]);
                ("ip", command)
            }
            None => ("nft", Command::new("nft")),
        };
        command
            .args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().map_err(|source| match source.kind() {
            ErrorKind::NotFound if program == "nft" => FilterError::NftMissing,
            _ => FilterError::Spawn { program, source },
        })?;
        if let (Some(script), Some(mut pipe)) = (stdin, child.stdin.take()) {
            // A write error means nft stopped reading early: its exit
            // status and error output below tell why.
            let _ = pipe.write_all(script.as_bytes());
        }
        let output = child
            .wait_with_output()
            .map_err(|source| FilterError::Spawn { program, source })?;
        if output.status.success() {
            return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
        }
        Err(failure(
            what,
            output.status,
            &String::from_utf8_lossy(&output.stderr),
        ))
    }
}

/// Tells the usual causes of a failed run apart, so that the operator
/// reads what to do.
fn failure(what: &str, status: std::process::ExitStatus, stderr: &str) -> FilterError {
    let detail = bounded(stderr);
    if stderr.contains("Operation not permitted") || stderr.contains("Permission denied") {
        FilterError::Permission {
            what: what.to_owned(),
            detail,
        }
    } else if stderr.contains("exec of \"nft\" failed") && stderr.contains("No such file") {
        // `ip netns exec` could not find nft in its PATH.
        FilterError::NftMissing
    } else {
        FilterError::Nft {
            what: what.to_owned(),
            status,
            detail,
        }
    }
}

/// nft's error output on one line, cut at [`MAX_DETAIL`] bytes.
fn bounded(stderr: &str) -> String {
    let mut line = stderr.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.len() > MAX_DETAIL {
        let mut cut = MAX_DETAIL;
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        line.truncate(cut);
        line.push('…');
    }
    line
}

/// Counts the elements of the set in `nft -j list set` output:
/// `{"nftables": [{"metainfo": ...}, {"set": {..., "elem": [...]}}]}`,
/// with no `elem` at all for an empty set.
fn count_in_listing(json: &str) -> Result<u64, String> {
    let value: Value = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
    let set = value
        .get("nftables")
        .and_then(Value::as_array)
        .and_then(|items| items.iter().find_map(|item| item.get("set")))
        .ok_or("no set in the answer")?;
    let count = set
        .get("elem")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    u64::try_from(count).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt;
    use std::process::ExitStatus;

    use super::*;

    #[test]
    fn counts_listed_elements() {
        let check = |json: &str, expected: Result<u64, &str>| {
            let got = count_in_listing(json);
            match expected {
                Ok(n) => assert_eq!(got, Ok(n), "{json}"),
                Err(part) => assert!(got.unwrap_err().contains(part), "{json}"),
            }
        };
        let meta = r#"{"metainfo": {"version": "1.0.6", "json_schema_version": 1}}"#;
        check(
            &format!(
                r#"{{"nftables": [{meta}, {{"set": {{"family": "inet", "name": "blocked_v4",
                "flags": ["timeout"], "elem": [{{"elem": {{"val": "10.66.1.2", "timeout": 100,
                "expires": 99}}}}, {{"elem": {{"val": "10.66.1.3", "timeout": 50}}}}]}}}}]}}"#
            ),
            Ok(2),
        );
        check(
            &format!(r#"{{"nftables": [{meta}, {{"set": {{"name": "blocked_v6"}}}}]}}"#),
            Ok(0),
        );
        check(&format!(r#"{{"nftables": [{meta}]}}"#), Err("no set"));
        check("Error: No such file", Err("not JSON"));
    }

    #[test]
    fn failures_say_what_to_do() {
        let status = ExitStatus::from_raw(256);
        let err = failure(
            "create the table inet vigie",
            status,
            "netlink: Error: Could not process rule: Operation not permitted\n",
        );
        assert!(matches!(err, FilterError::Permission { .. }));
        assert!(err.to_string().contains("CAP_NET_ADMIN"), "{err}");
        let err = failure(
            "x",
            status,
            "exec of \"nft\" failed: No such file or directory\n",
        );
        assert!(
            err.to_string().contains("installez le paquet nftables"),
            "{err}"
        );
        let err = failure(
            "block 2 addresses",
            status,
            "Error: syntax error\n  add x\n",
        );
        assert_eq!(
            err.to_string(),
            "nft failed to block 2 addresses (exit status: 1): Error: syntax error add x"
        );
        let long = bounded(&"é".repeat(MAX_DETAIL));
        assert!(long.len() <= MAX_DETAIL + '…'.len_utf8() && long.ends_with('…'));
    }
}
