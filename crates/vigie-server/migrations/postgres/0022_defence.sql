-- Collective defence (issue 16): the territory list built from every
-- commune's incidents, its history and delivery log, the addresses the
-- staff marked legitimate, and the attacks each box blocked thanks to it.
-- Keep in step with the other dialect's 0022_defence.sql.

-- What the list's job has read of the incidents (one row).
CREATE TABLE defence_state (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    last_incident BIGINT NOT NULL
);
INSERT INTO defence_state (id, last_incident) VALUES (1, 0);

-- One external source seen by one commune for one category, within the
-- window (older rows are pruned by the job).
CREATE TABLE defence_sightings (
    address TEXT NOT NULL,
    commune TEXT NOT NULL,
    category TEXT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    PRIMARY KEY (address, commune, category)
);
CREATE INDEX defence_sightings_last_seen ON defence_sightings (last_seen);

-- Every address ever listed: listed now when active = 1.
CREATE TABLE defence_entries (
    address TEXT PRIMARY KEY,
    active BIGINT NOT NULL,
    pinned BIGINT NOT NULL DEFAULT 0,
    -- Times it entered the list: its duration doubles with each.
    strikes BIGINT NOT NULL,
    listed_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    -- Why, as the staff page shows it: JSON of the communes, categories
    -- and times that put it on the list the last time.
    reason TEXT NOT NULL
);
CREATE INDEX defence_entries_active ON defence_entries (active, expires_at);

-- The list's history and what boxes fetch: op 'add' (until expires_at,
-- 0 = pinned) or 'remove'; actor is the staff member's e-mail, NULL for
-- the job.
CREATE TABLE defence_changes (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    address TEXT NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('add', 'remove')),
    expires_at BIGINT NOT NULL,
    at BIGINT NOT NULL,
    cause TEXT NOT NULL,
    actor TEXT
);
CREATE INDEX defence_changes_address ON defence_changes (address);

-- Never listed: the territory's own scanner, a partner...
CREATE TABLE defence_legitimate (
    address TEXT PRIMARY KEY,
    note TEXT NOT NULL,
    actor TEXT,
    at BIGINT NOT NULL
);

-- Attacks a filtering box blocked because the list already held their
-- source, per commune and Paris day.
CREATE TABLE defended_counts (
    commune TEXT NOT NULL REFERENCES communes(code),
    day TEXT NOT NULL,
    attacks BIGINT NOT NULL,
    PRIMARY KEY (commune, day)
);
