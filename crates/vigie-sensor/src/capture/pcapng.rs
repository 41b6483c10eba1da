//! pcapng (draft-ietf-opsawg-pcapng): a sequence of blocks, each framed by
//! its total length at both ends. Reads Section Header Blocks (either byte
//! order, any number of sections), Interface Description Blocks, and the
//! packets of Enhanced, Simple and obsolete Packet Blocks; skips every other
//! block by its length.
//!
//! It must not trust a length: every block length is checked (a multiple of
//! 4, at least 12, the same at both ends, under a named limit) before use,
//! and a block it skips is streamed past, never held whole. It keeps no
//! state but the current section's interfaces, bounded by [`MAX_INTERFACES`].

use std::io::Read;

use super::pcap::MAX_CAPLEN;
use super::reader::{ByteOrder, CaptureError, Input, Record, at};

mod interface;

use interface::Interface;

/// §4.1 Section Header Block; its value reads the same in both byte orders.
const BLOCK_SHB: u32 = 0x0a0d_0d0a;
/// §4.2 Interface Description Block.
const BLOCK_IDB: u32 = 1;
/// Appendix A, the obsolete Packet Block.
const BLOCK_PB: u32 = 2;
/// §4.4 Simple Packet Block.
const BLOCK_SPB: u32 = 3;
/// §4.3 Enhanced Packet Block.
const BLOCK_EPB: u32 = 6;

/// §3.1: type, length, then the same length at the end.
const MIN_BLOCK_LEN: u32 = 12;
/// §4.1: type, length, byte-order magic, version, section length, length.
const MIN_SHB_LEN: u32 = 28;
/// §4.2: type, length, link type, reserved, snaplen, length.
const MIN_IDB_LEN: u32 = 20;
/// §4.3 and Appendix A: type, length, interface, two timestamp words, two
/// lengths (28 bytes), then the data and the trailing length.
const PACKET_HEADER_LEN: usize = 28;
/// §4.4: type, length, original length, then the data and trailing length.
const SPB_HEADER_LEN: usize = 12;

/// Largest block we skip (streamed, never held): wiretap, Wireshark's
/// reader, refuses blocks over 16 MiB too, so a longer one is corrupt.
pub const MAX_BLOCK_LEN: u32 = 16 * 1024 * 1024;
/// Largest block we read whole (section and interface headers, packets): a
/// packet of [`MAX_CAPLEN`] plus generous room for headers and options.
pub const MAX_READ_BLOCK_LEN: u32 = MAX_CAPLEN + 64 * 1024;
/// Interfaces one section may describe: EPB interface ids are 32-bit, but a
/// real capture has a handful; the bound keeps memory from growing.
pub const MAX_INTERFACES: usize = 65_536;

/// The state of a pcapng file being read: the current section's byte order
/// and interfaces.
pub(super) struct PcapNg {
    order: ByteOrder,
    interfaces: Vec<Interface>,
    /// A Simple Packet Block has no timestamp (§4.4): it gets the last one.
    last_ts: i64,
}

impl PcapNg {
    /// A pcapng file starts with a Section Header Block.
    pub fn sniff(magic: [u8; 4]) -> bool {
        u32::from_le_bytes(magic) == BLOCK_SHB
    }

    /// Reads the first Section Header Block.
    pub fn start<R: Read>(input: &mut Input<R>) -> Result<Self, CaptureError> {
        let mut pcapng = PcapNg {
            order: ByteOrder::Little,
            interfaces: Vec::new(),
            last_ts: 0,
        };
        pcapng.read_section_header(input)?;
        Ok(pcapng)
    }

    /// The next packet, `None` at a clean end of file. Each turn of the
    /// loop consumes a whole block (at least 12 bytes) or fails.
    pub fn next<R: Read>(&mut self, input: &mut Input<R>) -> Result<Option<Record>, CaptureError> {
        loop {
            let start = input.offset();
            if !input.fill(8)? {
                return match input.available().len() {
                    0 => Ok(None),
                    n => Err(CaptureError::truncated(start, "block header", 8, n)),
                };
            }
            let head = input.available();
            let (Some(kind), Some(len)) = (self.order.u32(head, 0), self.order.u32(head, 4)) else {
                return Err(CaptureError::malformed(start, "block header too short"));
            };
            match kind {
                BLOCK_SHB => self.read_section_header(input)?,
                BLOCK_IDB => self.read_interface(input, len)?,
                BLOCK_EPB | BLOCK_PB => return self.read_packet(input, kind, len).map(Some),
                BLOCK_SPB => return self.read_simple_packet(input, len).map(Some),
                _ => skip_block(input, self.order, len)?,
            }
        }
    }

    /// §4.1: a new section, whose byte-order magic sets the byte order of
    /// its blocks, and whose interfaces replace the previous section's.
    fn read_section_header<R: Read>(&mut self, input: &mut Input<R>) -> Result<(), CaptureError> {
        let start = input.offset();
        if !input.fill(12)? {
            let available = input.available().len();
            return Err(CaptureError::truncated(
                start,
                "section header block",
                12,
                available,
            ));
        }
        let head = input.available();
        let magic = head.get(8..12).unwrap_or_default();
        let order = match magic {
            [0x1a, 0x2b, 0x3c, 0x4d] => ByteOrder::Big,
            [0x4d, 0x3c, 0x2b, 0x1a] => ByteOrder::Little,
            _ => {
                let hex: String = magic.iter().map(|b| format!("{b:02x}")).collect();
                let problem = format!("section header with a bad byte-order magic 0x{hex}");
                return Err(CaptureError::malformed(start.saturating_add(8), problem));
            }
        };
        let len = order.u32(head, 4).unwrap_or_default();
        let block = read_block(input, order, len, MIN_SHB_LEN, "section header block")?;
        let (major, minor) = (order.u16(block, 12), order.u16(block, 14));
        if major != Some(1) {
            let problem = format!(
                "unsupported pcapng version {}.{} (expected 1.x)",
                major.unwrap_or_default(),
                minor.unwrap_or_default()
            );
            return Err(CaptureError::malformed(start.saturating_add(12), problem));
        }
        input.take(len as usize);
        self.order = order;
        self.interfaces.clear();
        Ok(())
    }

    fn read_interface<R: Read>(
        &mut self,
        input: &mut Input<R>,
        len: u32,
    ) -> Result<(), CaptureError> {
        let start = input.offset();
        let block = read_block(
            input,
            self.order,
            len,
            MIN_IDB_LEN,
            "interface description block",
        )?;
        let iface = interface::parse(block, self.order)
            .map_err(|problem| CaptureError::malformed(start, problem))?;
        if self.interfaces.len() >= MAX_INTERFACES {
            let problem = format!("more than {MAX_INTERFACES} interfaces in one section");
            return Err(CaptureError::malformed(start, problem));
        }
        self.interfaces.push(iface);
        input.take(len as usize);
        Ok(())
    }

    /// §4.3 Enhanced Packet Block, or the obsolete Packet Block (Appendix A)
    /// whose 16-bit interface id is followed by a drops count.
    fn read_packet<R: Read>(
        &mut self,
        input: &mut Input<R>,
        kind: u32,
        len: u32,
    ) -> Result<Record, CaptureError> {
        let start = input.offset();
        let order = self.order;
        let min_len = PACKET_HEADER_LEN as u32 + 4;
        let what = if kind == BLOCK_EPB {
            "enhanced packet block"
        } else {
            "packet block"
        };
        let block = read_block(input, order, len, min_len, what)?;
        let interface = if kind == BLOCK_EPB {
            order.u32(block, 8)
        } else {
            order.u16(block, 8).map(u32::from)
        };
        let fields = (
            interface,
            order.u32(block, 12),
            order.u32(block, 16),
            order.u32(block, 20),
            order.u32(block, 24),
        );
        let (Some(interface), Some(ts_high), Some(ts_low), Some(caplen), Some(orig_len)) = fields
        else {
            return Err(CaptureError::malformed(start, "packet block too short"));
        };
        check_caplen(start, caplen, len, PACKET_HEADER_LEN)?;
        let iface = self.interface(start, interface)?;
        let ts_nanos = iface
            .clock
            .nanos(u64::from(ts_high) << 32 | u64::from(ts_low));
        self.last_ts = ts_nanos;
        let block = input.take(len as usize);
        let data = block.start + PACKET_HEADER_LEN;
        Ok(Record {
            ts_nanos,
            linktype: iface.linktype,
            data: data..data + caplen as usize,
            orig_len,
        })
    }

    /// §4.4 Simple Packet Block: interface 0, no timestamp, and a captured
    /// length that is the original length cut to the snaplen and the block.
    fn read_simple_packet<R: Read>(
        &mut self,
        input: &mut Input<R>,
        len: u32,
    ) -> Result<Record, CaptureError> {
        let start = input.offset();
        let min_len = SPB_HEADER_LEN as u32 + 4;
        let block = read_block(input, self.order, len, min_len, "simple packet block")?;
        let Some(orig_len) = self.order.u32(block, 8) else {
            return Err(CaptureError::malformed(
                start,
                "simple packet block too short",
            ));
        };
        let iface = self.interface(start, 0)?;
        let room = len - min_len;
        let snaplen = if iface.snaplen == 0 {
            u32::MAX
        } else {
            iface.snaplen
        };
        let caplen = orig_len.min(room).min(snaplen);
        check_caplen(start, caplen, len, SPB_HEADER_LEN)?;
        let block = input.take(len as usize);
        let data = block.start + SPB_HEADER_LEN;
        Ok(Record {
            ts_nanos: self.last_ts,
            linktype: iface.linktype,
            data: data..data + caplen as usize,
            orig_len,
        })
    }

    fn interface(&self, start: u64, id: u32) -> Result<Interface, CaptureError> {
        let found = usize::try_from(id)
            .ok()
            .and_then(|i| self.interfaces.get(i));
        found
            .copied()
            .ok_or_else(|| CaptureError::UnknownInterface {
                at: at(start),
                interface: id,
                defined: self.interfaces.len(),
            })
    }
}

/// Checks a block length (§3.1) before anything is read by it.
fn check_len(
    start: u64,
    len: u32,
    min_len: u32,
    max_len: u32,
    what: &'static str,
) -> Result<(), CaptureError> {
    let problem = if !len.is_multiple_of(4) {
        "not a multiple of 4"
    } else if len < min_len {
        "too short for the block's fixed fields"
    } else if len > max_len {
        return Err(CaptureError::TooLong {
            at: at(start),
            what,
            len: u64::from(len),
            limit: u64::from(max_len),
        });
    } else {
        return Ok(());
    };
    Err(CaptureError::BadBlockLength {
        at: at(start),
        what,
        len,
        problem,
    })
}

/// Checks the length and brings the whole block into the buffer; returns
/// it, trailing length checked.
fn read_block<'i, R: Read>(
    input: &'i mut Input<R>,
    order: ByteOrder,
    len: u32,
    min_len: u32,
    what: &'static str,
) -> Result<&'i [u8], CaptureError> {
    let start = input.offset();
    check_len(start, len, min_len, MAX_READ_BLOCK_LEN, what)?;
    // Cannot truncate: len is at most MAX_READ_BLOCK_LEN.
    let len_usize = len as usize;
    if !input.fill(len_usize)? {
        return Err(CaptureError::truncated(
            start,
            what,
            len_usize,
            input.available().len(),
        ));
    }
    let block = input.available().get(..len_usize).unwrap_or_default();
    check_trailer(start, len, order.u32(block, len_usize - 4))?;
    Ok(block)
}

/// Streams past a block we do not read, checking its lengths.
fn skip_block<R: Read>(
    input: &mut Input<R>,
    order: ByteOrder,
    len: u32,
) -> Result<(), CaptureError> {
    let start = input.offset();
    check_len(start, len, MIN_BLOCK_LEN, MAX_BLOCK_LEN, "block")?;
    let body = u64::from(len - 4);
    let skipped = input.skip(body)?;
    if skipped < body || !input.fill(4)? {
        let available = skipped as usize + input.available().len();
        return Err(CaptureError::truncated(
            start,
            "block",
            len as usize,
            available,
        ));
    }
    check_trailer(start, len, order.u32(input.available(), 0))?;
    input.take(4);
    Ok(())
}

fn check_trailer(start: u64, leading: u32, trailing: Option<u32>) -> Result<(), CaptureError> {
    match trailing {
        Some(trailing) if trailing == leading => Ok(()),
        trailing => Err(CaptureError::LengthMismatch {
            at: at(start),
            leading,
            trailing: trailing.unwrap_or_default(),
        }),
    }
}

/// The captured bytes, after a header of `header_len`, must fit in the
/// block before its trailing length, and under [`MAX_CAPLEN`].
fn check_caplen(start: u64, caplen: u32, len: u32, header_len: usize) -> Result<(), CaptureError> {
    if caplen > MAX_CAPLEN {
        return Err(CaptureError::TooLong {
            at: at(start),
            what: "captured packet",
            len: u64::from(caplen),
            limit: u64::from(MAX_CAPLEN),
        });
    }
    if u64::from(caplen) + header_len as u64 + 4 > u64::from(len) {
        let problem = format!("captured length {caplen} does not fit in its {len}-byte block");
        return Err(CaptureError::malformed(start, problem));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
