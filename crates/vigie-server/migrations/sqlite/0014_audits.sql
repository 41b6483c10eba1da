-- The pre-audit (issue 10): a commune's diagnostic rounds, their answers
-- and every change to an answer (who, when, from what). Keep in step with
-- migrations/postgres/0014_audits.sql.

CREATE TABLE audits (
    -- Random, unguessable: it appears in links.
    id TEXT PRIMARY KEY,
    commune TEXT NOT NULL REFERENCES communes(code),
    -- 1: the diagnostic; 2, 3: the follow-ups, each from the one before.
    round BIGINT NOT NULL,
    previous TEXT REFERENCES audits(id),
    -- The questionnaires as they were when the round started (JSON): a
    -- new version of a file never rewrites an old audit.
    questionnaires TEXT NOT NULL,
    created_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX audits_commune ON audits (commune, created_at);

-- The answer each question has now; identity answers are numbers or
-- texts, scored ones an answer id ("yes", "partly", "unknown", "na"…).
CREATE TABLE audit_answers (
    audit_id TEXT NOT NULL REFERENCES audits(id),
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    -- "user:ID", "provider:ID" or "previous" (carried from the last round).
    answered_by TEXT NOT NULL,
    answered_at BIGINT NOT NULL,
    PRIMARY KEY (audit_id, question)
);

CREATE TABLE audit_changes (
    id INTEGER PRIMARY KEY,
    audit_id TEXT NOT NULL REFERENCES audits(id),
    question TEXT NOT NULL,
    before TEXT,
    after TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at BIGINT NOT NULL
);
CREATE INDEX audit_changes_audit ON audit_changes (audit_id, changed_at);

-- A provider's link to its questionnaire: no account, the token is the
-- key (kept as its BLAKE3 hash), valid while the round runs.
CREATE TABLE audit_providers (
    id INTEGER PRIMARY KEY,
    audit_id TEXT NOT NULL REFERENCES audits(id),
    name TEXT NOT NULL,
    email TEXT NOT NULL DEFAULT '',
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX audit_providers_audit ON audit_providers (audit_id);

-- Files kept with a round: a document supporting an answer (question
-- set), or the signed scan of a procès-verbal (question null).
CREATE TABLE audit_files (
    id INTEGER PRIMARY KEY,
    audit_id TEXT NOT NULL REFERENCES audits(id),
    question TEXT,
    -- 'attachment' or 'signed_minutes'.
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    content BLOB NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at BIGINT NOT NULL
);
CREATE INDEX audit_files_audit ON audit_files (audit_id);
