-- Security review (issue 16).
-- Backup codes: a random per-code salt under the keyed hash. Codes stored
-- before this migration keep a NULL salt and are checked by the old rule
-- (unsalted keyed hash) until they are used or replaced.
ALTER TABLE backup_codes ADD COLUMN salt BYTEA;

-- Audit chain: keyed (HMAC under a key derived from the master key). An
-- existing, unkeyed chain is re-keyed once at the next start-up, after it
-- verifies by the old rule (casegate::audit::rekey_if_pending).
ALTER TABLE audit_head ADD COLUMN rekey_pending BIGINT NOT NULL DEFAULT 0;
UPDATE audit_head SET rekey_pending = 1 WHERE seq > 0;
