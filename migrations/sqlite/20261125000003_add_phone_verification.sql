-- Phone numbers (PH-1..PH-9), one-time codes and SMS sending limits (SEC-2).

-- A verified number belongs to one account at most (PH-4): the unique index decides races.
ALTER TABLE users ADD COLUMN phone_e164 TEXT NULL;
ALTER TABLE users ADD COLUMN phone_verified_at BIGINT NULL;
CREATE UNIQUE INDEX users_phone_e164_key ON users (phone_e164);

-- One attempt to prove possession of a number, for one account and one purpose
-- ('phone' = registration, 'login' = second factor). Resending replaces code_hash on the
-- same row, so the count of wrong entries carries over (PH-6).
CREATE TABLE verifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    phone_e164 TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    code_sent_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    enable_two_factor BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX verifications_user_purpose_state_idx ON verifications (user_id, purpose, state);

-- Every code sent, for the limits per number, account, IP and hour.
CREATE TABLE sms_sends (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NULL REFERENCES users (id) ON DELETE SET NULL,
    phone_e164 TEXT NOT NULL,
    ip TEXT NOT NULL,
    sent_at BIGINT NOT NULL
);
CREATE INDEX sms_sends_phone_idx ON sms_sends (phone_e164, sent_at);
CREATE INDEX sms_sends_user_idx ON sms_sends (user_id, sent_at);
CREATE INDEX sms_sends_ip_idx ON sms_sends (ip, sent_at);
CREATE INDEX sms_sends_sent_at_idx ON sms_sends (sent_at);

-- The development outbox (SMS-2).
CREATE TABLE sms_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    to_e164 TEXT NOT NULL,
    body TEXT NOT NULL,
    sent_at BIGINT NOT NULL
);
