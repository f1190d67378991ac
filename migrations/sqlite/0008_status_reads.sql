-- The public status lookup (case ⋈ person ⟕ history) answered from indexes:
-- the history index now carries every column the lookup reads, and a narrow
-- (id, protected) index spares reading the whole person row for one flag.
-- Each saves one random page read per lookup (bench/growth, bench/run).
CREATE INDEX case_history_status ON case_history(case_id, at, id, status);
DROP INDEX case_history_case;
CREATE INDEX persons_protected ON persons(id, protected);
