-- When the account's sessions were last all ended (a password, phone or two-factor change):
-- a session signed in before it may not be written afterwards, so that a sign-in that was
-- already under way when the change ended every session cannot outlive it.
ALTER TABLE users ADD COLUMN sessions_valid_from BIGINT NULL;
