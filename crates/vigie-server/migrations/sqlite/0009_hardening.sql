-- Sign-in attempts counted before the password is checked, in one atomic
-- step per key (issue 14): the account from one client, the client, the
-- account from anywhere. Keys are BLAKE3 hashes: no address is stored.
DROP TABLE login_failures;
CREATE TABLE login_limits (
    key TEXT PRIMARY KEY,
    count BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    next_at BIGINT NOT NULL
);
CREATE INDEX login_limits_window ON login_limits (window_start);

-- Personal API tokens may end on a date, and carry a name their owner
-- recognises in the list of their tokens.
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
ALTER TABLE api_tokens ADD COLUMN label TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN id_prefix TEXT NOT NULL DEFAULT '';
