-- Phishing-awareness campaigns (issue 11). Keep in step with
-- migrations/sqlite/0016_campaigns.sql.
--
-- What a campaign keeps of people is the agreement's list and nothing
-- more: the address, and the time of the first opening, click and
-- submission with their counts (plus the role the commune gave, to split
-- the results; a first name greets the person in the mail and is not
-- kept, and a mail's body is emptied once the relay took it). The purge
-- deletes every target row and the campaign's e-mails; only `summary`
-- stays.

CREATE TABLE campaigns (
    -- Random, unguessable: it appears in links.
    id TEXT PRIMARY KEY,
    commune TEXT NOT NULL REFERENCES communes(code),
    -- Scenario ids (JSON array), spread among the targets in turn.
    scenarios TEXT NOT NULL,
    -- Paris days, inclusive: the sending window.
    start_day TEXT NOT NULL,
    end_day TEXT NOT NULL,
    -- NULL: the sends are spread over the first working day.
    rate_per_hour BIGINT,
    targets BIGINT NOT NULL,
    created_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    -- When the purge is due (the end day plus the configured delay).
    purge_due_at BIGINT NOT NULL,
    purged_at BIGINT,
    -- The aggregate figures (JSON), written by the purge: all that is left.
    summary TEXT
);
CREATE INDEX campaigns_commune ON campaigns (commune, created_at);
CREATE INDEX campaigns_purge ON campaigns (purged_at, purge_due_at);

CREATE TABLE campaign_targets (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id TEXT NOT NULL REFERENCES campaigns(id),
    email TEXT NOT NULL,
    -- 'agent' or 'elu'.
    role TEXT NOT NULL,
    scenario TEXT NOT NULL,
    -- The tracking token of the links sent (BLAKE3): 128 random bits.
    token_hash TEXT NOT NULL UNIQUE,
    -- Its message in the outbox (sent_at is there).
    message_id TEXT NOT NULL,
    send_at BIGINT NOT NULL,
    opened_at BIGINT,
    opens BIGINT NOT NULL DEFAULT 0,
    clicked_at BIGINT,
    clicks BIGINT NOT NULL DEFAULT 0,
    submitted_at BIGINT,
    submissions BIGINT NOT NULL DEFAULT 0,
    -- Fetches of the link by mail security scanners, set aside.
    scanner_clicks BIGINT NOT NULL DEFAULT 0,
    UNIQUE (campaign_id, email)
);

-- A campaign's e-mails leave through the outbox like every other, with
-- the scenario's shown sender; the purge finds them by campaign.
ALTER TABLE outbox ADD COLUMN sender TEXT;
ALTER TABLE outbox ADD COLUMN campaign_id TEXT;
CREATE INDEX outbox_campaign ON outbox (campaign_id);
