-- Issue 12, the crisis kit (seed 002, Métropole Aix-Marseille-Provence):
-- the territory's laptops, phones and mailboxes lent to a commune hit by
-- a cyberattack, the crises, the loans with the commune's acceptance,
-- the returns with their signature, the wipes attested before the next
-- loan, the bookings for planned needs and each item's history. Keep in
-- step with migrations/sqlite/0019_crisis.sql.

-- An item of the kit. `state`: 'available', 'lent', 'to_wipe',
-- 'out_of_order'; only the crisis module changes it.
CREATE TABLE kit_items (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- 'laptop', 'phone' or 'mailbox'.
    kind TEXT NOT NULL,
    label TEXT NOT NULL,
    -- What identifies it: a serial number, an IMEI, a mail address.
    serial TEXT NOT NULL DEFAULT '',
    imei TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'available',
    -- The last annual check ('YYYY-MM-DD'), or the day it joined the kit.
    checked_day TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- A cyber crisis declared for a commune: who, when, what happened.
CREATE TABLE kit_crises (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    commune TEXT NOT NULL REFERENCES communes(code),
    -- The person of the commune who asked, and as what.
    declared_by TEXT NOT NULL,
    -- The day the attack was noticed ('YYYY-MM-DD').
    started_day TEXT NOT NULL,
    what TEXT NOT NULL,
    declared_at BIGINT NOT NULL,
    recorded_by BIGINT REFERENCES users(id),
    closed_at BIGINT
);
CREATE INDEX kit_crises_commune ON kit_crises (commune);

-- A planned need: one item, or a number of items of a kind.
CREATE TABLE kit_bookings (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    commune TEXT NOT NULL REFERENCES communes(code),
    item_id BIGINT REFERENCES kit_items(id),
    kind TEXT,
    count BIGINT NOT NULL DEFAULT 1,
    from_day TEXT NOT NULL,
    to_day TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    cancelled_at BIGINT
);
CREATE INDEX kit_bookings_days ON kit_bookings (from_day, to_day);

-- A signed scan: the loan form signed by the commune (acceptance), or
-- the return form signed at the return.
CREATE TABLE kit_scans (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    content BYTEA NOT NULL,
    uploaded_by BIGINT REFERENCES users(id),
    uploaded_at BIGINT NOT NULL
);

-- One item lent to a commune, for a crisis or a booking of that commune.
-- Items handed over together share a `handover` (one loan form).
CREATE TABLE kit_loans (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item_id BIGINT NOT NULL REFERENCES kit_items(id),
    commune TEXT NOT NULL REFERENCES communes(code),
    crisis_id BIGINT REFERENCES kit_crises(id),
    booking_id BIGINT REFERENCES kit_bookings(id),
    handover TEXT NOT NULL,
    holder_name TEXT NOT NULL,
    holder_role TEXT NOT NULL,
    lent_at BIGINT NOT NULL,
    lent_by BIGINT REFERENCES users(id),
    due_day TEXT NOT NULL,
    -- The acceptance: who signed the loan form for the commune, its scan.
    signatory TEXT,
    acceptance_scan BIGINT REFERENCES kit_scans(id),
    accepted_at BIGINT,
    -- The return: who brought it back, its state, what became of the
    -- commune's data on it ('returned' or 'destroyed'), the signed form.
    returned_at BIGINT,
    returned_by TEXT,
    return_condition TEXT,
    data_outcome TEXT,
    return_scan BIGINT REFERENCES kit_scans(id),
    return_signed_at BIGINT
);
CREATE INDEX kit_loans_item ON kit_loans (item_id);
CREATE INDEX kit_loans_commune ON kit_loans (commune);
CREATE INDEX kit_loans_handover ON kit_loans (handover);

-- The wipe of an item after a loan, attested before its next loan.
CREATE TABLE kit_wipes (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item_id BIGINT NOT NULL REFERENCES kit_items(id),
    loan_id BIGINT NOT NULL UNIQUE REFERENCES kit_loans(id),
    day TEXT NOT NULL,
    wiped_by TEXT NOT NULL,
    method TEXT NOT NULL,
    recorded_by BIGINT REFERENCES users(id),
    recorded_at BIGINT NOT NULL
);

-- What happened to an item or in a crisis, in French, in order.
CREATE TABLE kit_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item_id BIGINT REFERENCES kit_items(id),
    crisis_id BIGINT REFERENCES kit_crises(id),
    at BIGINT NOT NULL,
    user_id BIGINT REFERENCES users(id),
    what TEXT NOT NULL
);
CREATE INDEX kit_events_item ON kit_events (item_id);
CREATE INDEX kit_events_crisis ON kit_events (crisis_id);
