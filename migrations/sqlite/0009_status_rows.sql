-- The public status lookup in one read. /status and /case-status are the
-- busiest reads the service has; through the join (case ⋈ person ⟕ history)
-- each lookup read four random B-tree leaves, and at millions of cases those
-- come from the OS, not SQLite's cache (bench/growth: 1.9× slower at 1 M
-- cases than at 10 k). One row per case holds every field the lookup shows,
-- so a lookup reads one leaf.
--
-- The key is the receipt as an integer (ReceiptNumber::key: the letters in
-- base 26, then the ten digits), so the table is a plain rowid B-tree whose
-- inner pages hold ~9-byte cells: they stay in each reader's page cache even
-- at 10 M cases. (Keyed by the receipt text, WITHOUT ROWID, the inner pages
-- carried whole rows: 836 of them at 1 M cases, more than the cache holds.)
--
-- Triggers keep it in step with cases, persons and case_history inside the
-- same transaction as every write, whichever code path writes (officer
-- decisions, transfers, the server's intake, demo data): no caller can forget
-- it. `casegate intake` turns triggers off on its own connection and fills
-- the table per batch (flows/intake/store.rs). `history` is "status:at:id"
-- entries joined by ','; their order is not meaningful (the reader sorts by
-- at, id), so triggers only append.
CREATE TABLE status_rows (
    receipt_key INTEGER PRIMARY KEY,
    receipt_number TEXT NOT NULL,
    form TEXT NOT NULL,
    office TEXT NOT NULL,
    received_date TEXT NOT NULL,
    status TEXT NOT NULL,
    status_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    protected INTEGER NOT NULL,
    history TEXT NOT NULL DEFAULT ''
);

INSERT INTO status_rows
SELECT ((unicode(substr(c.receipt_number, 1, 1)) - 65) * 676 + (unicode(substr(c.receipt_number, 2, 1)) - 65) * 26
        + (unicode(substr(c.receipt_number, 3, 1)) - 65)) * 10000000000 + CAST(substr(c.receipt_number, 4, 10) AS INTEGER),
       c.receipt_number, c.form, c.office, c.received_date, c.status,
       c.status_at, c.created_at, p.protected,
       COALESCE((SELECT group_concat(h.status || ':' || h.at || ':' || h.id, ',')
                 FROM case_history h WHERE h.case_id = c.id), '')
FROM cases c JOIN persons p ON p.id = c.person_id;

CREATE TRIGGER status_rows_case_insert AFTER INSERT ON cases BEGIN
    INSERT INTO status_rows (receipt_key, receipt_number, form, office, received_date,
                             status, status_at, created_at, protected)
    VALUES (((unicode(substr(NEW.receipt_number, 1, 1)) - 65) * 676 + (unicode(substr(NEW.receipt_number, 2, 1)) - 65) * 26
        + (unicode(substr(NEW.receipt_number, 3, 1)) - 65)) * 10000000000 + CAST(substr(NEW.receipt_number, 4, 10) AS INTEGER),
            NEW.receipt_number, NEW.form, NEW.office, NEW.received_date, NEW.status,
            NEW.status_at, NEW.created_at,
            (SELECT protected FROM persons WHERE id = NEW.person_id));
END;

CREATE TRIGGER status_rows_case_update
AFTER UPDATE OF receipt_number, form, office, received_date, status, status_at,
                created_at, person_id ON cases BEGIN
    UPDATE status_rows SET
        receipt_key = ((unicode(substr(NEW.receipt_number, 1, 1)) - 65) * 676 + (unicode(substr(NEW.receipt_number, 2, 1)) - 65) * 26
        + (unicode(substr(NEW.receipt_number, 3, 1)) - 65)) * 10000000000 + CAST(substr(NEW.receipt_number, 4, 10) AS INTEGER),
        receipt_number = NEW.receipt_number, form = NEW.form, office = NEW.office,
        received_date = NEW.received_date, status = NEW.status,
        status_at = NEW.status_at, created_at = NEW.created_at,
        protected = (SELECT protected FROM persons WHERE id = NEW.person_id)
    WHERE receipt_key = ((unicode(substr(OLD.receipt_number, 1, 1)) - 65) * 676 + (unicode(substr(OLD.receipt_number, 2, 1)) - 65) * 26
        + (unicode(substr(OLD.receipt_number, 3, 1)) - 65)) * 10000000000 + CAST(substr(OLD.receipt_number, 4, 10) AS INTEGER);
END;

CREATE TRIGGER status_rows_case_delete AFTER DELETE ON cases BEGIN
    DELETE FROM status_rows WHERE receipt_key = ((unicode(substr(OLD.receipt_number, 1, 1)) - 65) * 676 + (unicode(substr(OLD.receipt_number, 2, 1)) - 65) * 26
        + (unicode(substr(OLD.receipt_number, 3, 1)) - 65)) * 10000000000 + CAST(substr(OLD.receipt_number, 4, 10) AS INTEGER);
END;

CREATE TRIGGER status_rows_person_protected AFTER UPDATE OF protected ON persons
WHEN NEW.protected IS NOT OLD.protected BEGIN
    UPDATE status_rows SET protected = NEW.protected
    WHERE receipt_key IN (SELECT ((unicode(substr(receipt_number, 1, 1)) - 65) * 676 + (unicode(substr(receipt_number, 2, 1)) - 65) * 26
        + (unicode(substr(receipt_number, 3, 1)) - 65)) * 10000000000 + CAST(substr(receipt_number, 4, 10) AS INTEGER)
                          FROM cases WHERE person_id = NEW.id);
END;

CREATE TRIGGER status_rows_history_insert AFTER INSERT ON case_history BEGIN
    UPDATE status_rows SET history =
        CASE WHEN history = '' THEN '' ELSE history || ',' END
        || NEW.status || ':' || NEW.at || ':' || NEW.id
    WHERE receipt_key = (SELECT ((unicode(substr(receipt_number, 1, 1)) - 65) * 676 + (unicode(substr(receipt_number, 2, 1)) - 65) * 26
        + (unicode(substr(receipt_number, 3, 1)) - 65)) * 10000000000 + CAST(substr(receipt_number, 4, 10) AS INTEGER)
                         FROM cases WHERE id = NEW.case_id);
END;

-- History rows are rewritten or removed only by the demo reset; rebuild the list.
CREATE TRIGGER status_rows_history_update AFTER UPDATE ON case_history BEGIN
    UPDATE status_rows SET history = COALESCE(
        (SELECT group_concat(h.status || ':' || h.at || ':' || h.id, ',')
         FROM case_history h WHERE h.case_id = OLD.case_id), '')
    WHERE receipt_key = (SELECT ((unicode(substr(receipt_number, 1, 1)) - 65) * 676 + (unicode(substr(receipt_number, 2, 1)) - 65) * 26
        + (unicode(substr(receipt_number, 3, 1)) - 65)) * 10000000000 + CAST(substr(receipt_number, 4, 10) AS INTEGER)
                         FROM cases WHERE id = OLD.case_id);
    UPDATE status_rows SET history = COALESCE(
        (SELECT group_concat(h.status || ':' || h.at || ':' || h.id, ',')
         FROM case_history h WHERE h.case_id = NEW.case_id), '')
    WHERE receipt_key = (SELECT ((unicode(substr(receipt_number, 1, 1)) - 65) * 676 + (unicode(substr(receipt_number, 2, 1)) - 65) * 26
        + (unicode(substr(receipt_number, 3, 1)) - 65)) * 10000000000 + CAST(substr(receipt_number, 4, 10) AS INTEGER)
                         FROM cases WHERE id = NEW.case_id)
      AND NEW.case_id IS NOT OLD.case_id;
END;

CREATE TRIGGER status_rows_history_delete AFTER DELETE ON case_history BEGIN
    UPDATE status_rows SET history = COALESCE(
        (SELECT group_concat(h.status || ':' || h.at || ':' || h.id, ',')
         FROM case_history h WHERE h.case_id = OLD.case_id), '')
    WHERE receipt_key = (SELECT ((unicode(substr(receipt_number, 1, 1)) - 65) * 676 + (unicode(substr(receipt_number, 2, 1)) - 65) * 26
        + (unicode(substr(receipt_number, 3, 1)) - 65)) * 10000000000 + CAST(substr(receipt_number, 4, 10) AS INTEGER)
                         FROM cases WHERE id = OLD.case_id);
END;

-- Only the join read (id, protected) through this index; the triggers read
-- persons by id. One index fewer for every filing the intake writes.
DROP INDEX persons_protected;
