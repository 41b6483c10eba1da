-- Threat lists and allowlists the observatory serves to its sensors, each
-- with its last few versions. Keep in step with
-- migrations/sqlite/0005_lists.sql.

CREATE TABLE lists (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The label shown in incidents and the sensor's file name: [a-z0-9_],
    -- an allowlist's starts with 'allowlist'. Unique in the territory.
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('threat', 'allow')),
    -- Only an allowlist may belong to one commune; NULL: territory-wide.
    commune TEXT REFERENCES communes(code),
    -- NULL: content uploaded by the administrator; else fetched from here.
    url TEXT,
    interval_secs BIGINT NOT NULL DEFAULT 86400,
    next_fetch_at BIGINT,
    last_fetch_at BIGINT,
    last_error TEXT,
    last_error_at BIGINT,
    -- The current version (0: none yet, not served).
    version BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    CHECK (kind = 'allow' OR commune IS NULL)
);
CREATE INDEX lists_next_fetch ON lists (next_fetch_at);

CREATE TABLE list_versions (
    list_id BIGINT NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    entries BIGINT NOT NULL,
    malformed BIGINT NOT NULL,
    -- The first malformed lines, quoted for the administrator.
    problems TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    content TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (list_id, version)
);
