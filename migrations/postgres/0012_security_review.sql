-- Security review (issue 16).
-- Backup codes: a random per-code salt under the keyed hash. Codes stored
-- before this migration keep a NULL salt and are checked by the old rule
-- (unsalted keyed hash) until they are used or replaced.
ALTER TABLE backup_codes ADD COLUMN salt BYTEA;
