-- Issue 18 (backup codes that cannot be lost): a new set of backup codes is
-- held, sealed to the session that must confirm it, until the person
-- confirms "I have saved my codes"; then the column is cleared.
ALTER TABLE sessions ADD COLUMN pending_backup_sealed BYTEA;
