-- Two-factor on/off (TF-1..TF-3), recovery codes (RC-1..RC-4), remembered browsers
-- (LG-4, LG-5) and sign-in throttling and lockout (SEC-1).

ALTER TABLE users ADD COLUMN two_factor_enabled_at BIGINT NULL;
-- Consecutive wrong second-factor codes; at 100 the SMS factor locks until a recovery
-- code is used (NIST SP 800-63B).
ALTER TABLE users ADD COLUMN second_factor_failures BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN sms_locked_at BIGINT NULL;

-- Each code: sealed (XChaCha20-Poly1305 under a server key) so it can be shown again,
-- and a keyed hash to find it when typed. Never plaintext.
CREATE TABLE recovery_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    code_hash TEXT NOT NULL,
    code_sealed TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    used_at BIGINT NULL
);
CREATE UNIQUE INDEX recovery_codes_user_hash_key ON recovery_codes (user_id, code_hash);

-- Browsers that passed the second factor; the cookie holds the token, this its hash.
CREATE TABLE remembered_browsers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX remembered_browsers_token_key ON remembered_browsers (token_hash);
CREATE INDEX remembered_browsers_user_idx ON remembered_browsers (user_id);

-- Failed password entries, per account (normalised email) and per IP, for growing delays.
CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scope TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX login_failures_scope_idx ON login_failures (scope, at);
