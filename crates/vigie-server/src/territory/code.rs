//! [`CommuneCode`], a commune's INSEE code, checked once where it enters
//! the server (a route's `{code}`, a form, a file, a database row) and
//! carried typed from there on.
//!
//! The shape is INSEE's: five characters, the département's two digits
//! ("2A" or "2B" in Corsica) then three digits. Overseas codes are digits
//! too ("97411", "98735"). It says nothing of whether the commune exists:
//! the `communes` table does.

use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Type};

/// A commune's INSEE code ("42218", "2A004", "97411").
///
/// Stored and bound as text, on SQLite as on PostgreSQL; it reads as a
/// `&str` wherever one is expected.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CommuneCode([u8; CommuneCode::LEN]);

/// Text that is not an INSEE commune code; the message is for the person
/// who typed it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "« {0} » n'est pas un code INSEE de commune : cinq caractères, deux chiffres \
     (2A ou 2B en Corse) puis trois chiffres, par exemple 42218 ou 2A004"
)]
pub struct CommuneCodeError(String);

impl CommuneCode {
    /// Every code has this many characters.
    pub const LEN: usize = 5;

    /// Checks `text`'s shape (not that the commune exists).
    pub fn parse(text: &str) -> Result<CommuneCode, CommuneCodeError> {
        let refused = || CommuneCodeError(text.to_owned());
        let bytes = <[u8; CommuneCode::LEN]>::try_from(text.as_bytes()).map_err(|_| refused())?;
        let well_formed = match &bytes {
            [b'2', b'A' | b'B', rest @ ..] => rest.iter().all(u8::is_ascii_digit),
            all => all.iter().all(u8::is_ascii_digit),
        };
        if well_formed {
            Ok(CommuneCode(bytes))
        } else {
            Err(refused())
        }
    }

    pub fn as_str(&self) -> &str {
        // `parse` lets in ASCII only, so this never falls back.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl Deref for CommuneCode {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for CommuneCode {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for CommuneCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CommuneCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::str::FromStr for CommuneCode {
    type Err = CommuneCodeError;
    fn from_str(text: &str) -> Result<CommuneCode, CommuneCodeError> {
        CommuneCode::parse(text)
    }
}

impl PartialEq<str> for CommuneCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for CommuneCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for CommuneCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CommuneCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<CommuneCode, D::Error> {
        let text = String::deserialize(deserializer)?;
        CommuneCode::parse(&text).map_err(serde::de::Error::custom)
    }
}

// The database sees text. The server goes through sqlx's `Any` driver
// (`db.rs`), but these hold for any backend whose text type is `String`,
// so SQLite and PostgreSQL connections take a `CommuneCode` too.

impl<DB: Database> Type<DB> for CommuneCode
where
    String: Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <String as Type<DB>>::type_info()
    }

    fn compatible(ty: &DB::TypeInfo) -> bool {
        <String as Type<DB>>::compatible(ty)
    }
}

impl<'q, DB: Database> Encode<'q, DB> for CommuneCode
where
    String: Encode<'q, DB>,
{
    fn encode_by_ref(
        &self,
        buf: &mut <DB as Database>::ArgumentBuffer<'q>,
    ) -> Result<IsNull, BoxDynError> {
        self.as_str().to_owned().encode(buf)
    }
}

impl<'r, DB: Database> Decode<'r, DB> for CommuneCode
where
    String: Decode<'r, DB>,
{
    fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<CommuneCode, BoxDynError> {
        let text = <String as Decode<'r, DB>>::decode(value)?;
        Ok(CommuneCode::parse(&text)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, ok: bool) {
        match CommuneCode::parse(text) {
            Ok(code) => {
                assert!(ok, "{text:?} accepted");
                assert_eq!(code.as_str(), text);
                assert_eq!(code.to_string(), text);
            }
            Err(e) => {
                assert!(!ok, "{text:?} refused: {e}");
                assert_eq!(
                    e.to_string(),
                    format!(
                        "« {text} » n'est pas un code INSEE de commune : cinq caractères, \
                         deux chiffres (2A ou 2B en Corse) puis trois chiffres, \
                         par exemple 42218 ou 2A004"
                    )
                );
            }
        }
    }

    #[test]
    fn valid_codes() {
        // Metropolitan, Corsica, overseas départements and collectivities
        // (every shape in the INSEE referential: 34,969 codes).
        for code in [
            "42218", "01001", "75056", "2A004", "2B033", "97411", "97101", "97502", "97701",
            "98735",
        ] {
            check(code, true);
        }
    }

    #[test]
    fn invalid_codes() {
        for text in [
            "", "4221", "422180", "2C004", "2a004", "2A04", "2A0045", "42O59", "4205é", " 4221",
            "42218 ", "AB123", "2AB12", "-4221",
        ] {
            check(text, false);
        }
    }

    #[test]
    fn serde_as_a_string() {
        let code = CommuneCode::parse("2B033").unwrap();
        assert_eq!(serde_json::to_string(&code).unwrap(), r#""2B033""#);
        let back: CommuneCode = serde_json::from_str(r#""2B033""#).unwrap();
        assert_eq!(back, code);
        let refused = serde_json::from_str::<CommuneCode>(r#""2C033""#).unwrap_err();
        assert!(refused.to_string().contains("« 2C033 »"), "{refused}");
    }

    #[test]
    fn reads_as_text() {
        let code = CommuneCode::parse("42218").unwrap();
        assert_eq!(&*code, "42218");
        assert_eq!(code, "42218");
        assert_eq!(format!("{code:?}"), r#""42218""#);
        assert!(code.starts_with("42"));
    }
}
