-- Old failures are deleted by time on every attempt: without this index each delete would
-- scan the whole table (SEC-1, SEC-8).
CREATE INDEX login_failures_at_idx ON login_failures (at);
