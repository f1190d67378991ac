-- Change of address without an account (/change-address). A request is
-- proved by a letter to the new address (confirm code) and can be cancelled
-- from the old address or the email on file (cancel code) during a hold
-- period; only then does the new address become the one on file. Codes are
-- stored as keyed hashes only; the letters carry them sealed (notices).
CREATE TABLE address_change_requests (
    id INTEGER PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES persons(id),
    lang TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    state_at BIGINT NOT NULL,
    state_actor TEXT NOT NULL,
    old_street TEXT NOT NULL,
    old_unit TEXT,
    old_city TEXT NOT NULL,
    old_state TEXT NOT NULL,
    old_zip TEXT NOT NULL,
    new_street TEXT NOT NULL,
    new_unit TEXT,
    new_city TEXT NOT NULL,
    new_state TEXT NOT NULL,
    new_zip TEXT NOT NULL,
    confirm_hash BLOB NOT NULL UNIQUE,
    confirm_expires_at BIGINT NOT NULL,
    confirm_tries BIGINT NOT NULL DEFAULT 0,
    cancel_hash BLOB NOT NULL UNIQUE,
    hold_until BIGINT
);
CREATE INDEX address_change_requests_person ON address_change_requests(person_id, id);
CREATE INDEX address_change_requests_due ON address_change_requests(state, hold_until);

-- Which request a change-of-address letter belongs to (its sealed code is
-- bound to it).
ALTER TABLE notices ADD COLUMN address_change_id BIGINT REFERENCES address_change_requests(id);

-- Notes on a case that are not status changes (e.g. "mailing address
-- changed"): shown in the officer console's case history. Kept apart from
-- case_history so the status page and processing times see statuses only.
CREATE TABLE case_notes (
    id INTEGER PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases(id),
    kind TEXT NOT NULL,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX case_notes_case ON case_notes(case_id, at);
