//! The Windows user table (LAN Manager MIB II, `svUserTable`,
//! 1.3.6.1.4.1.77.1.2.25): a Windows host whose SNMP service answers a
//! community lists its local accounts there, one `svUserName` a row
//! (nmap's `snmp-win32-users` reads the same). Read with GetNextRequests,
//! one row at a time, at most [`MAX_ROWS`]: the names are reported to the
//! host's board (`credentials::revealed`), tried first on its login
//! services, and their count is the finding `snmp.windows_users`.
//!
//! What it must not do: read beyond the table, send more than
//! [`MAX_ROWS`] requests, or put a name in the finding.

use vigie_core::probe::Finding;

use super::ber::{self, Response, Value};
use super::{exchange, request_id, socket};
use crate::catalog;
use crate::credentials::revealed;
use crate::target::{Context, Target};

/// `svUserName`, the table's only column: each row's instance is the name
/// itself (its length, then its bytes).
pub const SV_USER_NAME: &[u32] = &[1, 3, 6, 1, 4, 1, 77, 1, 2, 25, 1, 1];
/// Rows read at most: the names kept are bounded by
/// [`revealed::MAX_REVEALED`]; a few more rows leave room for the built-in
/// accounts it drops (Guest, DefaultAccount...).
pub const MAX_ROWS: usize = revealed::MAX_REVEALED * 2;

/// What one GetNext answer says of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// A row: its object (the next request starts from it) and the
    /// account name, if it is a plain one ([`revealed::account_name`]).
    Row { oid: Vec<u32>, name: Option<String> },
    /// Past the table, an error, or not an answer about it.
    End,
}

/// Reads one GetNext answer (a v1 agent ends the MIB with noSuchName, a
/// v2c one with endOfMibView; either may go on to the next table).
pub fn step(response: &Response) -> Step {
    if response.error_status != 0 {
        return Step::End;
    }
    let Some((oid, value)) = response.bindings.first() else {
        return Step::End;
    };
    let in_table = oid.len() > SV_USER_NAME.len() && oid.starts_with(SV_USER_NAME);
    match value {
        Value::Text(bytes) if in_table => Step::Row {
            oid: oid.clone(),
            name: revealed::account_name(bytes),
        },
        _ => Step::End,
    }
}

/// Walks the table with `community` in the SNMP `version` that answered,
/// reports the names to the host's board and returns the finding when the
/// table has rows.
pub async fn read(
    target: &Target,
    ctx: &Context,
    community: &str,
    version: i64,
) -> Option<Finding> {
    let (rows, names) = walk(target, ctx, community, version).await;
    ctx.revealed.report(target, &names);
    (rows > 0).then(|| {
        let accounts = if rows == 1 {
            "1 compte".to_owned()
        } else {
            format!("{rows} comptes")
        };
        catalog::finding(
            "snmp.windows_users",
            target,
            format!(
                "la table des comptes Windows (1.3.6.1.4.1.77.1.2.25) se lit avec la communauté qui répond : {accounts}"
            ),
        )
    })
}

/// The rows read and the plain account names among them.
async fn walk(
    target: &Target,
    ctx: &Context,
    community: &str,
    version: i64,
) -> (usize, Vec<String>) {
    let mut names = Vec::new();
    let mut rows = 0;
    let Some(socket) = socket(target).await else {
        return (rows, names);
    };
    let mut from = SV_USER_NAME.to_vec();
    while rows < MAX_ROWS {
        let id = request_id();
        let request = ber::get_next_request(version, community.as_bytes(), id, &[&from]);
        let Ok(response) = exchange(&socket, &[request], &[id], community, ctx.timeout).await
        else {
            break;
        };
        match step(&response) {
            // An agent must move forward (RFC 3416 §4.2.2); one that
            // does not would keep us in a loop.
            Step::Row { oid, name } if oid > from => {
                rows += 1;
                names.extend(name);
                from = oid;
            }
            _ => break,
        }
    }
    (rows, names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(error_status: i64, bindings: Vec<(Vec<u32>, Value)>) -> Response {
        Response {
            version: 1,
            community: b"public".to_vec(),
            pdu: ber::GET_RESPONSE,
            request_id: 7,
            error_status,
            bindings,
        }
    }

    fn row(name: &str) -> Vec<u32> {
        let mut oid = SV_USER_NAME.to_vec();
        oid.push(name.len() as u32);
        oid.extend(name.bytes().map(u32::from));
        oid
    }

    #[test]
    fn rows_names_and_the_end_of_the_table() {
        let check = |response: Response, expected: Step| assert_eq!(step(&response), expected);
        check(
            response(
                0,
                vec![(row("etatcivil"), Value::Text(b"etatcivil".to_vec()))],
            ),
            Step::Row {
                oid: row("etatcivil"),
                name: Some("etatcivil".to_owned()),
            },
        );
        // A row whose name is not a plain account still moves the walk on.
        check(
            response(0, vec![(row("Guest"), Value::Text(b"Guest".to_vec()))]),
            Step::Row {
                oid: row("Guest"),
                name: None,
            },
        );
        // The next table (svShareTable), endOfMibView, noSuchName.
        let share = vec![1, 3, 6, 1, 4, 1, 77, 1, 2, 27, 1, 1, 1, 65];
        check(
            response(0, vec![(share, Value::Text(b"C$".to_vec()))]),
            Step::End,
        );
        check(response(0, vec![(row("x"), Value::Other(0x82))]), Step::End);
        check(response(2, vec![(row("x"), Value::Null)]), Step::End);
        check(response(0, Vec::new()), Step::End);
        check(
            response(0, vec![(SV_USER_NAME.to_vec(), Value::Text(b"x".to_vec()))]),
            Step::End,
        );
    }

    #[test]
    fn a_get_response_with_a_row_decodes_to_it() {
        // snmpd's answer to a GetNext from svUserName: one binding, the
        // row `etatcivil` (the lab's planted account), written out by hand.
        let bytes = b"\x30\x3c\x02\x01\x01\x04\x06public\xa2\x2f\x02\x01\x07\x02\x01\x00\x02\x01\x00\x30\x24\x30\x22\x06\x15\x2b\x06\x01\x04\x01\x4d\x01\x02\x19\x01\x01\x09etatcivil\x04\x09etatcivil";
        let parsed = ber::parse(bytes).unwrap();
        assert_eq!(
            step(&parsed),
            Step::Row {
                oid: row("etatcivil"),
                name: Some("etatcivil".to_owned()),
            }
        );
        for end in 0..bytes.len() {
            assert!(ber::parse(&bytes[..end]).is_err());
        }
        // The request we send differs from a GetRequest by its PDU tag only.
        let next = ber::get_next_request(1, b"public", 7, &[SV_USER_NAME]);
        let get = ber::get_request(1, b"public", 7, &[SV_USER_NAME]);
        let differ: Vec<(u8, u8)> = next
            .iter()
            .zip(&get)
            .filter(|(a, b)| a != b)
            .map(|(a, b)| (*a, *b))
            .collect();
        assert_eq!(differ, [(ber::GET_NEXT_REQUEST, ber::GET_REQUEST)]);
    }
}
