//! One day of a town hall's traffic with a chosen number of attacks, each
//! from its own source at its own time of day: what `vigie demo` feeds the
//! real engine to build a territory's history (a quiet day is sun, a day
//! with a hundred attacks is a storm).

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::traffic::Written;
use super::{FrameBuilder, Rng, app};
use crate::capture::PcapWriter;
use crate::decode::{LinkType, TcpFlags};
use crate::incidents::{NANOS_PER_SEC, Nanos};

/// A command centre the demo's threat list names.
pub const DEMO_C2: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 66);

/// What happens on the day.
#[derive(Clone, Debug, Default)]
pub struct DayPlan {
    /// Midnight of the day (capture time).
    pub start: Nanos,
    /// How much of the day the capture covers, in seconds (0: all of it;
    /// today's capture stops at the current time).
    pub span_secs: i64,
    /// Ordinary web conversations of the town hall's machines.
    pub sessions: u32,
    pub scans: u32,
    pub brute_forces: u32,
    pub web_attacks: u32,
    pub sweeps: u32,
    /// Conversations of a workstation with [`DEMO_C2`] (outbound).
    pub c2_contacts: u32,
    pub seed: u64,
}

enum Event {
    Session,
    Scan,
    BruteForce,
    WebAttack,
    Sweep,
    C2,
}

const DAY: Nanos = 86_400 * NANOS_PER_SEC;
const SERVER: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 10);
const WORKSTATION: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 23);

/// Writes the day as a nanosecond pcap.
pub fn write_day<W: Write>(out: W, plan: &DayPlan) -> io::Result<Written> {
    let mut rng = Rng::new(plan.seed);
    let mut next = || rng.next();
    let counts = [
        (plan.sessions, 0u8),
        (plan.scans, 1),
        (plan.brute_forces, 2),
        (plan.web_attacks, 3),
        (plan.sweeps, 4),
        (plan.c2_contacts, 5),
    ];
    let mut events: Vec<(Nanos, u64, Event)> = Vec::new();
    for (count, kind) in counts {
        for _ in 0..count {
            // Attacks come at any hour; a minute of margin keeps the day's
            // last packets on the same day.
            let span = if plan.span_secs > 0 {
                (plan.span_secs * NANOS_PER_SEC).min(DAY)
            } else {
                DAY
            };
            let at = plan.start
                + (next() % (span.max(240 * NANOS_PER_SEC) as u64 - 120 * NANOS_PER_SEC as u64))
                    as Nanos;
            let event = match kind {
                0 => Event::Session,
                1 => Event::Scan,
                2 => Event::BruteForce,
                3 => Event::WebAttack,
                4 => Event::Sweep,
                _ => Event::C2,
            };
            events.push((at, next(), event));
        }
    }
    events.sort_by_key(|(at, _, _)| *at);
    let mut day = Day {
        writer: PcapWriter::new(out, LinkType::Ethernet)?,
        frames: FrameBuilder::new(),
        written: Written::default(),
        now: plan.start,
    };
    for (at, random, event) in events {
        day.now = day.now.max(at);
        // Each attacker its own public address, drawn from the random bits.
        let attacker = IpAddr::V4(Ipv4Addr::from(0x2d00_0000 + (random as u32 % 0x3000_0000)));
        match event {
            Event::Session => day.session(
                SocketAddr::new(IpAddr::V4(WORKSTATION), port(random)),
                SocketAddr::new(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 80)), 80),
                b"GET / HTTP/1.1\r\nHost: www.example.org\r\n\r\n",
            )?,
            Event::Scan => {
                for target in 1..=40u16 {
                    day.tcp(
                        SocketAddr::new(attacker, 50000),
                        SocketAddr::new(IpAddr::V4(SERVER), target),
                        TcpFlags::SYN,
                        &[],
                    )?;
                }
            }
            Event::BruteForce => {
                for attempt in 0..12u16 {
                    let from = SocketAddr::new(attacker, 40000 + attempt);
                    day.session(
                        from,
                        SocketAddr::new(IpAddr::V4(SERVER), 22),
                        b"SSH-2.0-libssh_0.9.6\r\n",
                    )?;
                }
            }
            Event::WebAttack => {
                let request = app::http_request(
                    "GET",
                    "/index.php?id=1%27%20OR%20%271%27=%271",
                    &[("Host", "mairie")],
                    b"",
                );
                day.session(
                    SocketAddr::new(attacker, port(random)),
                    SocketAddr::new(IpAddr::V4(SERVER), 80),
                    &request,
                )?;
            }
            Event::Sweep => {
                for host in 1..=30u8 {
                    let frame = day.frames.icmp_echo_request(
                        attacker,
                        IpAddr::V4(Ipv4Addr::new(192, 168, 1, host)),
                        1,
                        u16::from(host),
                    );
                    day.writer.write(day.now, frame)?;
                    day.written.packets += 1;
                    day.now += 1_000_000;
                }
            }
            Event::C2 => day.session(
                SocketAddr::new(IpAddr::V4(WORKSTATION), port(random)),
                SocketAddr::new(IpAddr::V4(DEMO_C2), 443),
                &app::tls_client_hello(Some("update.example.net")),
            )?,
        }
    }
    day.writer.finish()?.flush()?;
    Ok(day.written)
}

fn port(random: u64) -> u16 {
    1024 + (random >> 40) as u16 % 60000
}

struct Day<W: Write> {
    writer: PcapWriter<W>,
    frames: FrameBuilder,
    written: Written,
    now: Nanos,
}

impl<W: Write> Day<W> {
    fn tcp(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        flags: u8,
        payload: &[u8],
    ) -> io::Result<()> {
        let frame = self.frames.tcp(src, dst, flags, 1, 1, payload);
        self.writer.write(self.now, frame)?;
        self.written.packets += 1;
        self.written.bytes += frame.len() as u64;
        self.now += 1_000_000;
        Ok(())
    }

    fn session(
        &mut self,
        client: SocketAddr,
        server: SocketAddr,
        request: &[u8],
    ) -> io::Result<()> {
        self.tcp(client, server, TcpFlags::SYN, &[])?;
        self.tcp(server, client, TcpFlags::SYN | TcpFlags::ACK, &[])?;
        self.tcp(client, server, TcpFlags::ACK, &[])?;
        self.tcp(client, server, TcpFlags::PSH | TcpFlags::ACK, request)?;
        self.tcp(server, client, TcpFlags::PSH | TcpFlags::ACK, &[0x17; 600])?;
        self.tcp(client, server, TcpFlags::FIN | TcpFlags::ACK, &[])?;
        self.tcp(server, client, TcpFlags::FIN | TcpFlags::ACK, &[])
    }
}
