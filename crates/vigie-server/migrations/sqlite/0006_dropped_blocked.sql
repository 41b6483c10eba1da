-- A live sensor's spool may drop incident detail when full (the counts stay
-- in the report's `daily`), and a filtering sensor reports the addresses it
-- blocked. Keep in step with the other dialect's 0006_dropped_blocked.sql.

ALTER TABLE reports ADD COLUMN dropped BIGINT NOT NULL DEFAULT 0;

CREATE TABLE blocked_counts (
    commune TEXT NOT NULL REFERENCES communes(code),
    day TEXT NOT NULL,
    category TEXT NOT NULL,
    addresses BIGINT NOT NULL,
    PRIMARY KEY (commune, day, category)
);
