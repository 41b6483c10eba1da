-- Issue 13: password reset links, sent by e-mail when an administrator
-- creates an account or resets its password. Only the token's hash is
-- kept; a link works once, until it expires. Keep in step with
-- migrations/postgres/0015_password_resets.sql.

CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    -- Set when the link is used: it never works twice.
    used_at BIGINT
);

CREATE INDEX password_resets_user ON password_resets (user_id);
