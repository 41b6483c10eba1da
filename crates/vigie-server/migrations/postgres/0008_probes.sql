-- The network probe's scans (`vigie probe --upload`), one row per scan:
-- what the pages list (dates, flags, counts by severity), the top ten and
-- the whole vigie.probe/1 document as JSON. Keep in step with
-- migrations/sqlite/0008_probes.sql.

CREATE TABLE probe_runs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    commune TEXT NOT NULL REFERENCES communes(code),
    -- BLAKE3 of the stored document: a retried upload finds its scan
    -- instead of storing it twice.
    digest TEXT NOT NULL UNIQUE,
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    lab BIGINT NOT NULL,
    interrupted BIGINT NOT NULL,
    hosts BIGINT NOT NULL,
    critical BIGINT NOT NULL,
    high BIGINT NOT NULL,
    medium BIGINT NOT NULL,
    low BIGINT NOT NULL,
    top_ten TEXT NOT NULL,
    document TEXT NOT NULL,
    uploaded_by BIGINT REFERENCES users(id),
    received_at BIGINT NOT NULL
);
CREATE INDEX probe_runs_commune ON probe_runs (commune, started_at);
