-- A live sensor's last heartbeat (vigie.heartbeat/1): one row per sensor,
-- replaced by each new one. Its time of arrival is a sign of life kept
-- apart from sensors.last_report_at: a heartbeat says the box runs, only a
-- report brings data. Keep in step with migrations/postgres/0007_heartbeat.sql.

CREATE TABLE sensor_heartbeats (
    sensor_id TEXT PRIMARY KEY REFERENCES sensors(id),
    -- The observatory's clock, never the sensor's.
    received_at BIGINT NOT NULL,
    version TEXT NOT NULL,
    mode TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    uptime_secs BIGINT NOT NULL,
    packets BIGINT NOT NULL,
    bytes BIGINT NOT NULL,
    kernel_drops BIGINT NOT NULL,
    interface_drops BIGINT NOT NULL,
    incidents BIGINT NOT NULL,
    open_incidents BIGINT NOT NULL,
    spool_batches BIGINT NOT NULL,
    spool_bytes BIGINT NOT NULL,
    dropped_incidents BIGINT NOT NULL,
    blocked_now BIGINT NOT NULL,
    -- JSON array of {"name", "version"}.
    lists TEXT NOT NULL,
    -- When the kernel's drop counter last grew (from one heartbeat to the
    -- next of the same run, or in a run's first heartbeat), and by how
    -- much: the sensor did not keep up with the traffic.
    drops_grew_at BIGINT,
    drops_growth BIGINT NOT NULL DEFAULT 0
);
