-- The programme's reminders and calendar feeds (issue 12).
-- Keep in step with migrations/sqlite/0020_reminders.sql.

-- A reminder sent: one row per deadline (`calendar::Due::key`) and lead
-- (days before it), written in the same transaction as its e-mails, so
-- that each is sent once whichever replica runs the job.
CREATE TABLE agreement_reminders (
    due_key TEXT NOT NULL,
    lead_days BIGINT NOT NULL,
    due_on TEXT NOT NULL,
    sent_at BIGINT NOT NULL,
    recipients BIGINT NOT NULL,
    PRIMARY KEY (due_key, lead_days)
);

-- A person's iCalendar feed (`/calendrier/{token}.ics`): only the
-- token's BLAKE3 hash is kept; the token is shown once. Revoked feeds
-- keep their row (revoked_at) for the journal's sake.
CREATE TABLE calendar_feeds (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX calendar_feeds_user ON calendar_feeds (user_id);
