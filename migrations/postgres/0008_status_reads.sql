-- The public status lookup reads history from the index alone (an
-- index-only scan once the visibility map is set). SQLite also gets a narrow
-- (id, protected) person index; PostgreSQL reads that flag by primary key.
CREATE INDEX case_history_status ON case_history(case_id, at, id, status);
DROP INDEX case_history_case;
