//! Puts a request field into the one canonical form that signature
//! patterns are written in, so that the encodings attack tools use to slip
//! past filters do not hide a pattern: percent-encoding (twice, for double
//! encoding), IIS `%uXXXX` forms, overlong UTF-8 dots and slashes, `+` for
//! space, letter case, runs of whitespace and SQL comments used as spaces.
//!
//! Patterns go through the same function when loaded, so a pattern and the
//! text it describes always meet in the same form. It writes into a
//! caller-provided buffer (no allocation once that buffer has grown) and
//! never panics.

/// Longest field prefix examined: attack strings sit in the first bytes of
/// a URI, header or form body, and a bound keeps the cost per request fixed.
pub const MAX_FIELD_LEN: usize = 64 * 1024;

/// Writes the canonical form of `field` (at most [`MAX_FIELD_LEN`] bytes of
/// it) into `out`, replacing its content.
pub(crate) fn normalize(field: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(field.get(..MAX_FIELD_LEN).unwrap_or(field));
    // Two rounds decode `%252e` (double encoding) as `.`; a third level is
    // not something servers decode either.
    percent_decode_in_place(out);
    percent_decode_in_place(out);
    canonicalize_in_place(out);
}

/// True when `field` is already canonical but for letter case, which the
/// matcher ignores: no escape, no `+`, no SQL comment opener, no overlong
/// lead byte, no whitespace but single spaces. Most header values are, and
/// can then be matched without a copy.
pub(crate) fn is_canonical(field: &[u8]) -> bool {
    let mut previous = 0u8;
    for &byte in field {
        let special = match byte {
            b'%' | b'+' | 0xc0 | 0xc1 | b'\t'..=b'\r' => true,
            b' ' => previous == b' ',
            b'*' => previous == b'/',
            _ => false,
        };
        if special {
            return false;
        }
        previous = byte;
    }
    true
}

/// Decodes `%XX` and `%uXXXX`, and reads `+` as a space (the form encoding
/// of the query and of form bodies, RFC 1866 §8.2.1). Applying this to
/// headers too costs nothing: no pattern needs a literal `+`, and patterns
/// are normalised the same way. Invalid escapes are kept as they are.
fn percent_decode_in_place(buf: &mut Vec<u8>) {
    let Some(first) = buf.iter().position(|&b| b == b'%' || b == b'+') else {
        return;
    };
    let (mut read, mut write) = (first, first);
    while let Some(rest) = buf.get(read..).filter(|rest| !rest.is_empty()) {
        let (byte, used) = decode_one(rest);
        // `write <= read` always holds: every step reads at least one byte
        // and writes exactly one.
        if let Some(slot) = buf.get_mut(write) {
            *slot = byte;
        }
        write += 1;
        read += used;
    }
    buf.truncate(write);
}

/// The byte at the start of `rest` after decoding, and how many input bytes
/// it took. `rest` is not empty.
fn decode_one(rest: &[u8]) -> (u8, usize) {
    if let [b'%', b'u' | b'U', a, b, c, d, ..] = rest
        && let Some(byte) = hex4([*a, *b, *c, *d]).and_then(unicode_to_ascii)
    {
        return (byte, 6);
    }
    match rest {
        [b'%', hi, lo, ..] => match hex2(*hi, *lo) {
            Some(byte) => (byte, 3),
            None => (b'%', 1),
        },
        [b'+', ..] => (b' ', 1),
        [byte, ..] => (*byte, 1),
        [] => (0, 1),
    }
}

/// What an IIS `%uXXXX` escape stands for, when it matters to a pattern:
/// Latin-1 code points as themselves, fullwidth ASCII forms (U+FF01 to
/// U+FF5E, which IIS folded to ASCII) and the division slash and set minus
/// used as `/` and `\`.
fn unicode_to_ascii(unit: u16) -> Option<u8> {
    match unit {
        0..=0xff => u8::try_from(unit).ok(),
        0xff01..=0xff5e => u8::try_from(unit - 0xfee0).ok(),
        0x2215 => Some(b'/'),
        0x2216 => Some(b'\\'),
        _ => None,
    }
}

fn hex2(hi: u8, lo: u8) -> Option<u8> {
    Some(hex_digit(hi)? << 4 | hex_digit(lo)?)
}

fn hex4(quad: [u8; 4]) -> Option<u16> {
    quad.iter()
        .try_fold(0u16, |acc, &d| Some(acc << 4 | u16::from(hex_digit(d)?)))
}

fn hex_digit(d: u8) -> Option<u8> {
    match d {
        b'0'..=b'9' => Some(d - b'0'),
        b'a'..=b'f' => Some(d - b'a' + 10),
        b'A'..=b'F' => Some(d - b'A' + 10),
        _ => None,
    }
}

/// One unit of the canonical pass.
enum Token {
    Byte(u8),
    Space,
    /// `/*!` or `/*!50000`: MySQL runs what such a comment holds, so its
    /// markers are spaces and its content stays.
    OpenVersioned,
    CloseVersioned,
}

/// Lowercases ASCII, folds overlong two-byte UTF-8 (`%c0%ae` is `.`) to
/// ASCII, turns `/**/` and MySQL versioned-comment markers into spaces, and
/// collapses every run of whitespace into one space.
fn canonicalize_in_place(buf: &mut Vec<u8>) {
    let (mut read, mut write) = (0, 0);
    let mut in_space = false;
    let mut versioned = false;
    while read < buf.len() {
        // Fast path: copy the run of bytes that stand for themselves.
        let run = buf
            .get(read..)
            .map_or(0, |rest| rest.iter().take_while(|&&b| is_plain(b)).count());
        if run > 0 {
            buf.copy_within(read..read + run, write);
            if let Some(copied) = buf.get_mut(write..write + run) {
                copied.make_ascii_lowercase();
            }
            (read, write, in_space) = (read + run, write + run, false);
            continue;
        }
        let Some((token, used)) = buf.get(read..).and_then(|rest| next_token(rest, versioned))
        else {
            break;
        };
        read += used;
        let byte = match token {
            Token::Byte(byte) => byte,
            Token::Space => b' ',
            Token::OpenVersioned => {
                versioned = true;
                b' '
            }
            Token::CloseVersioned => {
                versioned = false;
                b' '
            }
        };
        if byte == b' ' {
            if in_space {
                continue;
            }
            in_space = true;
        } else {
            in_space = false;
        }
        // `write < read` here: every step reads at least one byte.
        if let Some(slot) = buf.get_mut(write) {
            *slot = byte;
        }
        write += 1;
    }
    buf.truncate(write);
}

/// Bytes that stand for themselves (lowercased) whatever follows them.
fn is_plain(byte: u8) -> bool {
    !matches!(byte, b'/' | b'*' | b' ' | b'\t'..=b'\r' | 0xc0 | 0xc1)
}

fn next_token(rest: &[u8], versioned: bool) -> Option<(Token, usize)> {
    Some(match rest {
        [] => return None,
        [b'/', b'*', b'*', b'/', ..] => (Token::Space, 4),
        [b'/', b'*', b'!', tail @ ..] => {
            let digits = tail.iter().take_while(|b| b.is_ascii_digit()).count();
            (Token::OpenVersioned, 3 + digits)
        }
        [b'*', b'/', ..] if versioned => (Token::CloseVersioned, 2),
        // Overlong encodings of ASCII (RFC 3629 §10 forbids them; old
        // servers decoded them anyway).
        [lead @ (0xc0 | 0xc1), cont @ 0x80..=0xbf, ..] => {
            let byte = (lead & 0x1f) << 6 | (cont & 0x3f);
            (token_of(byte), 2)
        }
        [byte, ..] => (token_of(*byte), 1),
    })
}

fn token_of(byte: u8) -> Token {
    match byte {
        b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => Token::Space,
        _ => Token::Byte(byte.to_ascii_lowercase()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: &str) {
        let mut out = Vec::new();
        normalize(input.as_bytes(), &mut out);
        assert_eq!(String::from_utf8_lossy(&out), expected, "input {input:?}");
    }

    #[test]
    fn percent_decoding_once_and_twice() {
        check("/a%20b%2Fc", "/a b/c");
        check("%252e%252e%252f", "../");
        check("%25252e", "%2e");
        check("%zz%4", "%zz%4");
        check("100%", "100%");
        check("%", "%");
    }

    #[test]
    fn plus_is_a_space_and_spaces_collapse() {
        check("q=union+select", "q=union select");
        check("a \t\r\n b", "a b");
        check("1%0aunion%09%09select", "1 union select");
        check("chmod+%2Bx", "chmod x");
    }

    #[test]
    fn unicode_and_overlong_forms() {
        check("%u0027%u002e%U002F", "'./");
        check("%uff0e%uff0e%u2215", "../");
        check("%u4e2d", "%u4e2d");
        check("%u00", "%u00");
        check("%c0%ae%c0%ae%c0%af", "../");
        check("..%c1%9c..", "..\\..");
    }

    #[test]
    fn case_and_sql_comments() {
        check("UNION/**/SELECT", "union select");
        check("UniOn/**//**/SeLeCt", "union select");
        check("1/*!50000UniOn*//*!50000SeLeCt*/1", "1 union select 1");
        check("text/html,*/*;q=0.8", "text/html,*/*;q=0.8");
        check("/*comment*/", "/*comment*/");
        check("..\\..\\windows", "..\\..\\windows");
    }

    #[test]
    fn canonical_fields_are_recognised() {
        for field in [
            "Mozilla/5.0 (X11; Linux x86_64)",
            "/a/b.css?v=1",
            "text/html;q=0.9",
            "",
        ] {
            let mut out = Vec::new();
            normalize(field.as_bytes(), &mut out);
            assert!(is_canonical(field.as_bytes()), "{field:?}");
            assert_eq!(out, field.to_ascii_lowercase().as_bytes());
        }
        // `*/*` is canonical too, but any `/*` takes the slow path.
        let slow: [&[u8]; 7] = [
            b"a%20b",
            b"a+b",
            b"a  b",
            b"a\tb",
            b"/**/",
            b"*/*",
            b"\xc0\xae",
        ];
        for field in slow {
            assert!(!is_canonical(field), "{field:?}");
        }
    }

    #[test]
    fn bounded_and_reusable() {
        let mut out = Vec::new();
        let long = vec![b'A'; MAX_FIELD_LEN + 10];
        normalize(&long, &mut out);
        assert_eq!(out.len(), MAX_FIELD_LEN);
        assert!(out.iter().all(|&b| b == b'a'));
        normalize(b"X", &mut out);
        assert_eq!(out, b"x");
        normalize(&[0xff, 0xc0, 0xc1, 0x80, 0xc0], &mut out);
        assert_eq!(out, [0xff, 0xc0, b'@', 0xc0]);
    }
}
