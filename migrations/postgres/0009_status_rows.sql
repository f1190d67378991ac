-- SQLite answers the public status lookup from a one-row-per-case table kept
-- by triggers (migrations/sqlite/0009_status_rows.sql). PostgreSQL keeps the
-- indexed join: its pages stay in shared buffers and its server does the
-- reading, so there is nothing to add here; the version is kept in step.
SELECT 1;
