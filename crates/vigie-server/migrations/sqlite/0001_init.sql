-- Vigie observatory, initial schema (SQLite). Keep in step with
-- migrations/postgres/0001_init.sql: same tables, same columns.
-- Times are Unix milliseconds (UTC); days are Europe/Paris 'YYYY-MM-DD'.

CREATE TABLE territory (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    departements TEXT NOT NULL,
    -- Weather thresholds on the day's score (inbound + 10 × outbound).
    cloud_min BIGINT NOT NULL DEFAULT 1,
    rain_min BIGINT NOT NULL DEFAULT 11,
    storm_min BIGINT NOT NULL DEFAULT 100
);

CREATE TABLE communes (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    departement TEXT NOT NULL,
    population BIGINT NOT NULL,
    epci TEXT,
    email TEXT,
    phone TEXT,
    website TEXT,
    -- GeoJSON geometry (Polygon or MultiPolygon, WGS84), null if unknown.
    geometry TEXT
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'commune')),
    commune TEXT REFERENCES communes(code),
    created_at BIGINT NOT NULL,
    disabled BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    revoked BIGINT NOT NULL DEFAULT 0
);

-- Failed sign-ins, for rate limiting shared by every server replica.
CREATE TABLE login_failures (
    email TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX login_failures_email ON login_failures (email, at);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at BIGINT NOT NULL,
    user_id BIGINT,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);

CREATE TABLE sensors (
    id TEXT PRIMARY KEY,
    commune TEXT NOT NULL REFERENCES communes(code),
    enroll_code_hash TEXT UNIQUE,
    enroll_expires_at BIGINT,
    token_hash TEXT UNIQUE,
    created_at BIGINT NOT NULL,
    installed_at BIGINT,
    revoked BIGINT NOT NULL DEFAULT 0,
    last_report_at BIGINT,
    last_seq BIGINT
);

-- One row per accepted batch: (sensor, seq) makes ingest idempotent.
CREATE TABLE reports (
    sensor_id TEXT NOT NULL REFERENCES sensors(id),
    seq BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    packets BIGINT NOT NULL,
    bytes BIGINT NOT NULL,
    malformed BIGINT NOT NULL,
    first_seen BIGINT,
    last_seen BIGINT,
    PRIMARY KEY (sensor_id, seq)
);

CREATE TABLE incidents (
    id INTEGER PRIMARY KEY,
    sensor_id TEXT NOT NULL REFERENCES sensors(id),
    seq BIGINT NOT NULL,
    commune TEXT NOT NULL REFERENCES communes(code),
    category TEXT NOT NULL,
    rule TEXT NOT NULL,
    label TEXT,
    severity TEXT NOT NULL,
    source TEXT,
    direction TEXT NOT NULL,
    target_port BIGINT,
    service TEXT,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    day TEXT NOT NULL,
    hour BIGINT NOT NULL,
    events BIGINT NOT NULL,
    indicator TEXT,
    internal_host TEXT
);
CREATE INDEX incidents_commune_day ON incidents (commune, day);
CREATE INDEX incidents_day ON incidents (day);

-- Per commune, day and category: what the weather is computed from.
CREATE TABLE daily_counts (
    commune TEXT NOT NULL REFERENCES communes(code),
    day TEXT NOT NULL,
    category TEXT NOT NULL,
    inbound BIGINT NOT NULL,
    outbound BIGINT NOT NULL,
    PRIMARY KEY (commune, day, category)
);
CREATE INDEX daily_counts_day ON daily_counts (day);

-- Days on which a commune's sensor reported: a day without is "no data".
CREATE TABLE sensor_days (
    commune TEXT NOT NULL REFERENCES communes(code),
    day TEXT NOT NULL,
    PRIMARY KEY (commune, day)
);
