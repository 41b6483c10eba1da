-- The programme (issue 12): agreements between the territory and its
-- communes, their history, their documents and what their end obliges.
-- Keep in step with migrations/sqlite/0018_agreements.sql.
--
-- An agreement keeps its facts (signature, the event that starts it, the
-- steps done, the completion, terminations: `agreements::dates::Facts`
-- as JSON); every date shown is derived from them and from the offer's
-- rules, never stored.

CREATE TABLE agreements (
    -- Random: it appears in links.
    id TEXT PRIMARY KEY,
    commune TEXT NOT NULL REFERENCES communes(code),
    -- An offer id of the catalogue (`data/offers/*.toml`, `offers_dir`).
    offer TEXT NOT NULL,
    -- `dates::Facts`, JSON.
    facts TEXT NOT NULL,
    -- Each side's referent (JSON: name, role, email, phone).
    territory_referent TEXT NOT NULL,
    commune_referent TEXT NOT NULL,
    -- Contributions and costs, in euro cents (JSON), for offers that
    -- have them: total cost, founding members' share, the commune's
    -- contribution, per phase.
    costs TEXT,
    -- What the commune asks for its data at the end: 'return',
    -- 'destroy' or 'archive' (offers whose end obliges it).
    data_at_end TEXT,
    created_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX agreements_commune ON agreements (commune, offer);

-- What happened to an agreement, in French, for its history.
CREATE TABLE agreement_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agreement_id TEXT NOT NULL REFERENCES agreements(id),
    at BIGINT NOT NULL,
    user_id BIGINT REFERENCES users(id),
    kind TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX agreement_events_agreement ON agreement_events (agreement_id, at);

-- An agreement's documents: produced (generated at least once), then
-- signed (the scan uploaded). `step` names the phase of a phase's
-- minutes, '' otherwise.
CREATE TABLE agreement_documents (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agreement_id TEXT NOT NULL REFERENCES agreements(id),
    kind TEXT NOT NULL,
    step TEXT NOT NULL DEFAULT '',
    produced_at BIGINT,
    signed_on TEXT,
    signed_at BIGINT,
    signed_name TEXT,
    signed_type TEXT,
    signed_size BIGINT,
    signed_content BYTEA,
    uploaded_by BIGINT REFERENCES users(id),
    UNIQUE (agreement_id, kind, step)
);

-- What an ended agreement obliges (`offers::EndAction`), once its end
-- has passed: done by the platform (the campaigns' purge) or marked done
-- by the staff.
CREATE TABLE agreement_end_actions (
    agreement_id TEXT NOT NULL REFERENCES agreements(id),
    action TEXT NOT NULL,
    due_on TEXT NOT NULL,
    done_at BIGINT,
    done_by BIGINT REFERENCES users(id),
    note TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (agreement_id, action)
);
