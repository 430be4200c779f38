-- A verification that starts over inherits the wrong entries of recent attempts at the same
-- number (PH-6); this keeps how many were inherited, so that they are never counted twice.
ALTER TABLE verifications ADD COLUMN inherited_attempts BIGINT NOT NULL DEFAULT 0;
