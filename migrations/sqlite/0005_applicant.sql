-- The applicant's account: linked cases, document requests and evidence,
-- address changes, notification preference.

ALTER TABLE access_codes ADD COLUMN used_by_account BIGINT;
ALTER TABLE accounts ADD COLUMN notify_case_updates BIGINT NOT NULL DEFAULT 1;
CREATE INDEX cases_account ON cases(account_id);

CREATE TABLE document_requests (
    id INTEGER PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases(id),
    kind TEXT NOT NULL,
    items TEXT NOT NULL,
    due_date TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    responded_at BIGINT,
    reviewed_at BIGINT
);
CREATE INDEX document_requests_case ON document_requests(case_id);

CREATE TABLE uploads (
    id INTEGER PRIMARY KEY,
    request_id BIGINT NOT NULL REFERENCES document_requests(id),
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    storage_key TEXT NOT NULL UNIQUE,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    mime TEXT NOT NULL,
    display_name TEXT NOT NULL,
    scan_state TEXT NOT NULL,
    scan_detail TEXT,
    created_at BIGINT NOT NULL,
    submitted_at BIGINT
);
CREATE INDEX uploads_request ON uploads(request_id);
CREATE INDEX uploads_scan ON uploads(scan_state);

CREATE TABLE address_changes (
    id INTEGER PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES persons(id),
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    old_address TEXT NOT NULL,
    new_address TEXT NOT NULL,
    at BIGINT NOT NULL
);

CREATE TABLE processing_times (
    form TEXT NOT NULL,
    office TEXT NOT NULL,
    cases BIGINT NOT NULL,
    p80_days BIGINT NOT NULL,
    median_days BIGINT NOT NULL,
    max_days BIGINT NOT NULL,
    bucket_days BIGINT NOT NULL,
    histogram TEXT NOT NULL,
    computed_at BIGINT NOT NULL,
    PRIMARY KEY (form, office)
);
