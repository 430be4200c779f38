-- Passkeys (WebAuthn) as a second factor (MFA-2). `passkey` is webauthn-rs's record of the
-- credential as JSON: its public key, algorithm and signature counter. Nothing in it is a
-- secret (the private key never leaves the person's device).
CREATE TABLE passkeys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL,
    name TEXT NOT NULL,
    passkey TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT NULL
);
CREATE UNIQUE INDEX passkeys_credential_key ON passkeys (credential_id);
CREATE INDEX passkeys_user_idx ON passkeys (user_id);
