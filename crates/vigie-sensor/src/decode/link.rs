//! Placeholder while the module is written.
use super::{DecodeError, LinkType, Packet};
pub(super) fn decode(_link: LinkType, _frame: &[u8]) -> Result<Packet<'_>, DecodeError> {
    Err(DecodeError::Truncated { layer: "link" })
}
