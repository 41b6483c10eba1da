//! The box under test, set up the way a commune's is: an observatory
//! (`vigie serve`, SQLite) holding a million-entry threat list, a sensor
//! created there and enrolled with `vigie sensor enroll`, then the live
//! sensor (`vigie sensor --config`) capturing on the lab's capture end. The
//! bench reads the sensor's counters from its heartbeats as the observatory
//! stored them.
//!
//! Both run inside the capture namespace: the observatory on that
//! namespace's loopback, over plain HTTP (`allow_plain_http`, test only),
//! so nothing here can reach another machine.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use vigie_core::lists::ListKind;
use vigie_server::{Db, lists, sensors, territory};

use super::lab::{Lab, Proc, run_checked};

/// The commune of the bench (Saint-Étienne, in the built-in territory).
const COMMUNE: &str = "42218";
/// The list's name: its label in incidents, and how the bench sees it
/// arrive in the heartbeat.
pub const LIST_NAME: &str = "bench_million";
const LISTEN: &str = "127.0.0.1:8080";
/// Whom the sensor becomes after opening the interface.
const SENSOR_USER: &str = "nobody";

/// What a heartbeat stored by the observatory says.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Heartbeat {
    /// When the observatory received it (ms).
    pub received_at: i64,
    /// Packets the engine processed since the sensor started.
    pub packets: i64,
    pub bytes: i64,
    /// Frames the kernel dropped because the sensor's ring was full.
    pub kernel_drops: i64,
    /// Frames the interface dropped before the capture.
    pub interface_drops: i64,
    /// `[{"name", "version"}]`.
    pub lists: String,
}

/// The observatory and the sensor, running; both killed on drop.
pub struct SensorBox {
    runtime: tokio::runtime::Runtime,
    db: Db,
    sensor_id: String,
    pub sensor: Proc,
    // Dropped after the sensor: fields drop in declaration order.
    _observatory: Proc,
}

impl SensorBox {
    /// Prepares the observatory's database (sensor, list), starts it,
    /// enrols the sensor and starts it on the lab's capture end.
    pub fn start(lab: &Lab, dir: &Path, list: &str, buffer_mib: u32) -> anyhow::Result<SensorBox> {
        let exe = std::env::current_exe().context("cannot find the vigie binary")?;
        let database = format!("sqlite://{}", dir.join("vigie.db").display());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (db, code, sensor_id) = runtime.block_on(prepare(&database, list))?;
        let mut serve = lab.command(&lab.capture, &exe);
        serve.args(["serve", "--listen", LISTEN, "--database", &database]);
        let mut observatory = Proc::spawn("vigie serve", serve, &dir.join("serve.log"))?;
        observatory.wait_for_log("observatoire sur", Duration::from_secs(60))?;

        let box_dir = dir.join("box");
        let config = write_config(&box_dir, &lab.capture, buffer_mib)?;
        let mut enroll = lab.command(&lab.capture, &exe);
        enroll
            .args(["sensor", "enroll", "--server", &format!("http://{LISTEN}")])
            .args(["--code", &code, "--allow-plain-http", "--config"])
            .arg(&config);
        run_checked(&mut enroll).context("vigie sensor enroll")?;
        // What an installer does: the state belongs to the sensor's user.
        run_checked(
            std::process::Command::new("chown")
                .args(["-R", SENSOR_USER])
                .arg(box_dir.join("state")),
        )?;
        let mut sensor = lab.command(&lab.capture, &exe);
        sensor.args(["sensor", "--config"]).arg(&config);
        let sensor = Proc::spawn("vigie sensor", sensor, &dir.join("sensor.log"))?;
        Ok(SensorBox {
            runtime,
            db,
            sensor_id,
            sensor,
            _observatory: observatory,
        })
    }

    /// The sensor's latest heartbeat, if any arrived yet.
    pub fn heartbeat(&self) -> anyhow::Result<Option<Heartbeat>> {
        self.runtime
            .block_on(latest_heartbeat(&self.db, &self.sensor_id))
    }

    /// Waits for a heartbeat announcing the bench's list: the sensor has
    /// fetched it from the observatory and built it.
    pub fn wait_for_list(&mut self, deadline: Duration) -> anyhow::Result<Heartbeat> {
        let end = Instant::now() + deadline;
        loop {
            self.sensor.check_running()?;
            if let Some(beat) = self.heartbeat()?
                && beat.lists.contains(LIST_NAME)
            {
                return Ok(beat);
            }
            if Instant::now() > end {
                bail!(
                    "no heartbeat with list {LIST_NAME} within {deadline:?}:\n{}",
                    self.sensor.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Waits until the sensor's counters stop moving: two heartbeats in a
    /// row, both received after `since` (ms), with the same counts; and,
    /// when `expect` is given, until the packets read and lost add up to it
    /// (a capture thread busy with a batch, or the machine's other work,
    /// can hold two heartbeats still), or `patience` has passed.
    pub fn wait_settled(
        &mut self,
        since: i64,
        expect: Option<i64>,
        patience: Duration,
    ) -> anyhow::Result<Heartbeat> {
        let start = Instant::now();
        let mut previous: Option<Heartbeat> = None;
        loop {
            self.sensor.check_running()?;
            if let Some(beat) = self.heartbeat()?
                && beat.received_at > since
            {
                let accounted = expect.is_none_or(|expect| {
                    beat.packets + beat.kernel_drops + beat.interface_drops >= expect
                });
                if let Some(before) = &previous
                    && before.received_at != beat.received_at
                    && before.packets == beat.packets
                    && before.kernel_drops == beat.kernel_drops
                    && (accounted || start.elapsed() > patience)
                {
                    return Ok(beat);
                }
                previous = Some(beat);
            }
            if start.elapsed() > patience + Duration::from_secs(60) {
                bail!("the sensor's counters still move after {patience:?} + 60 s");
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

/// A threat list of `entries` lines: random public IPv4 addresses, one in
/// fifty a /24 block, like the lists a Département loads (FireHOL level 1
/// to 3, abuse.ch, Spamhaus DROP together).
pub fn million_entry_list(entries: u32) -> String {
    let mut text = String::with_capacity(entries as usize * 16);
    let _ = writeln!(text, "# vigie bench live: {entries} entries");
    let mut x: u32 = 0x9e37_79b9;
    let mut written = 0;
    while written < entries {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let ip = std::net::Ipv4Addr::from(x);
        if !is_public(ip) {
            continue;
        }
        if written % 50 == 0 {
            let block = std::net::Ipv4Addr::from(x & 0xffff_ff00);
            let _ = writeln!(text, "{block}/24");
        } else {
            let _ = writeln!(text, "{ip}");
        }
        written += 1;
    }
    text
}

/// Unicast addresses routed on the Internet: what a threat list holds.
fn is_public(ip: std::net::Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    let shared = a == 100 && (64..128).contains(&b); // RFC 6598
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_documentation()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_unspecified()
        || shared
        || a == 0
        || a >= 240)
}

/// Creates the database with the built-in territory, the sensor and the
/// list; returns the enrolment code and the sensor's id.
async fn prepare(database: &str, list: &str) -> anyhow::Result<(Db, String, String)> {
    let db = Db::connect(database).await?;
    territory::ensure_builtin(&db).await?;
    let sensor = sensors::add_sensor(&db, COMMUNE).await?;
    let new_list = lists::NewList {
        name: LIST_NAME.to_owned(),
        kind: ListKind::Threat,
        commune: None,
        source: lists::Source::Upload,
    };
    lists::upload(&db, &new_list, list)
        .await
        .map_err(|e| anyhow::anyhow!("liste refusée : {e}"))?;
    Ok((db, sensor.code, sensor.sensor_id))
}

async fn latest_heartbeat(db: &Db, sensor_id: &str) -> anyhow::Result<Option<Heartbeat>> {
    use sqlx::Row as _;
    let row = sqlx::query(
        "SELECT received_at, packets, bytes, kernel_drops, interface_drops, lists \
         FROM sensor_heartbeats WHERE sensor_id = $1",
    )
    .bind(sensor_id)
    .fetch_optional(&db.pool)
    .await
    .context("reading the heartbeats")?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(Heartbeat {
        received_at: row.try_get("received_at")?,
        packets: row.try_get("packets")?,
        bytes: row.try_get("bytes")?,
        kernel_drops: row.try_get("kernel_drops")?,
        interface_drops: row.try_get("interface_drops")?,
        lists: row.try_get("lists")?,
    }))
}

/// The box's configuration before enrolment (which fills in the
/// observatory and the token): heartbeat every second so the bench sees
/// the counters move, the rest as on a commune's box.
fn write_config(box_dir: &Path, interface: &str, buffer_mib: u32) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(box_dir.join("state"))?;
    // The sensor, once it is `nobody`, must get through to its state.
    for dir in [box_dir.parent().unwrap_or(box_dir), box_dir] {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o711))?;
    }
    let text = format!(
        "commune = \"{COMMUNE}\"\n\
         mode = \"observe\"\n\n\
         [observatory]\n\
         url = \"http://{LISTEN}\"\n\
         allow_plain_http = true\n\
         token_file = \"token\"\n\
         batch_interval_secs = 60\n\
         heartbeat_interval_secs = 1\n\n\
         [capture]\n\
         interfaces = [\"{interface}\"]\n\
         user = \"{SENSOR_USER}\"\n\
         buffer_mib = {buffer_mib}\n\n\
         [storage]\n\
         state_dir = \"state\"\n"
    );
    let path = box_dir.join("sensor.toml");
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_has_the_entries_asked_and_parses() {
        let text = million_entry_list(1000);
        assert_eq!(text.lines().filter(|l| !l.starts_with('#')).count(), 1000);
        assert_eq!(text.lines().filter(|l| l.ends_with("/24")).count(), 20);
        let mut builder = vigie_lists::Intel::builder();
        let stats = builder.add_list(LIST_NAME, &text);
        assert_eq!((stats.ips, stats.cidrs), (980, 20), "{stats:?}");
        assert_eq!(stats.malformed + stats.ignored_special, 0, "{stats:?}");
    }
}
