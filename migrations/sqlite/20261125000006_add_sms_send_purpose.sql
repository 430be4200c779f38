-- What each send was for (SEC-2): the verified owner's sign-in codes have a budget of their
-- own, apart from registration sends that any account can ask for. Earlier rows count as
-- registration sends, the stricter reading.
ALTER TABLE sms_sends ADD COLUMN purpose TEXT NOT NULL DEFAULT 'phone';
CREATE INDEX sms_sends_phone_purpose_idx ON sms_sends (phone_e164, purpose, sent_at);
