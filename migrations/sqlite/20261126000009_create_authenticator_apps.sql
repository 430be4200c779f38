-- Authenticator apps (TOTP, RFC 6238) as a second factor beside SMS (MFA-1). One app per
-- account. The shared secret is sealed (XChaCha20-Poly1305 under a server key, the account
-- id as associated data), never stored in the clear. `last_step` is the time step of the
-- last code accepted: a code is taken only for a later step, so none is used twice.
-- `failures` counts wrong app codes since `failures_since` (five in ten minutes, as PH-6
-- allows for SMS codes); the account-wide lockout is `users.second_factor_failures`.
CREATE TABLE authenticator_apps (
    user_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_step BIGINT NULL,
    last_used_at BIGINT NULL,
    failures BIGINT NOT NULL DEFAULT 0,
    failures_since BIGINT NULL
);
