-- Issue 18 (backup codes that cannot be lost): a new set of backup codes is
-- held, sealed to the session that must confirm it, until the person
-- confirms "I have saved my codes"; then the column is cleared.
ALTER TABLE sessions ADD COLUMN pending_backup_sealed BYTEA;

-- Issue 18 (Spanish end to end): the language the person last used to sign
-- up or sign in; officer-issued notices, their PDF and the case-update
-- email use it.
ALTER TABLE accounts ADD COLUMN lang TEXT NOT NULL DEFAULT 'en';
