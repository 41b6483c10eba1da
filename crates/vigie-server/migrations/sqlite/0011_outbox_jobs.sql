-- Issue 9: the outbox (e-mails written with what causes them, sent by a
-- worker), the jobs claimed by one replica at a time, and the alert state
-- of silent sensors. Keep in step with migrations/postgres/0011_outbox_jobs.sql.

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    -- Fixed when the row is written: a repeat after a crash between the
    -- relay's acceptance and its record carries the same one.
    message_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- 'queued', 'sent' or 'failed' (after the last attempt).
    status TEXT NOT NULL DEFAULT 'queued',
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    -- A worker sending it holds it until then; a dead worker's lease ends.
    lease_until BIGINT NOT NULL DEFAULT 0,
    sent_at BIGINT,
    last_error TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

CREATE TABLE jobs (
    name TEXT PRIMARY KEY,
    next_run_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_expires_at BIGINT NOT NULL DEFAULT 0,
    -- Runs claimed so far, all replicas together.
    runs BIGINT NOT NULL DEFAULT 0,
    last_started_at BIGINT,
    last_finished_at BIGINT,
    last_error TEXT
);

-- A sensor whose silence has been announced: the row is the alert, written
-- with its e-mails and deleted with the e-mails of its return.
CREATE TABLE sensor_alerts (
    sensor_id TEXT PRIMARY KEY REFERENCES sensors(id),
    silent_since BIGINT NOT NULL,
    alerted_at BIGINT NOT NULL
);
