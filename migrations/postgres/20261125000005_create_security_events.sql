-- The security history on the settings page (SEC-5): what happened to the account, when,
-- and from which browser (a label from the User-Agent; no IP address is kept).
CREATE TABLE security_events (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    browser TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX security_events_user_idx ON security_events (user_id, at);
