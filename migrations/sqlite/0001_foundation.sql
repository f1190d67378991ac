-- casegate foundation schema (SQLite). Times are unix seconds (BIGINT),
-- calendar dates are ISO text (YYYY-MM-DD), flags are 0/1 BIGINT, so the
-- same store code reads both engines.

CREATE TABLE persons (
    id INTEGER PRIMARY KEY,
    a_number TEXT NOT NULL UNIQUE,
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    dob TEXT NOT NULL,
    street TEXT NOT NULL,
    unit TEXT,
    city TEXT NOT NULL,
    state TEXT NOT NULL,
    zip TEXT NOT NULL,
    email TEXT,
    protected BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    receipt_number TEXT NOT NULL UNIQUE,
    form TEXT NOT NULL,
    person_id BIGINT NOT NULL REFERENCES persons(id),
    office TEXT NOT NULL,
    received_date TEXT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    status_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    intake_key TEXT UNIQUE,
    account_id BIGINT
);
CREATE INDEX cases_person ON cases(person_id);

CREATE TABLE case_history (
    id INTEGER PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases(id),
    status TEXT NOT NULL,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL
);
CREATE INDEX case_history_case ON case_history(case_id, at);

CREATE TABLE receipt_sequences (
    office TEXT NOT NULL,
    fiscal_year BIGINT NOT NULL,
    workday BIGINT NOT NULL,
    last_seq BIGINT NOT NULL,
    PRIMARY KEY (office, fiscal_year, workday)
);

CREATE TABLE access_codes (
    id INTEGER PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES persons(id),
    case_id BIGINT REFERENCES cases(id),
    code_hash BLOB NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    revoked_at BIGINT,
    wrong_tries BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX access_codes_person ON access_codes(person_id);

CREATE TABLE notices (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    lang TEXT NOT NULL,
    person_id BIGINT NOT NULL REFERENCES persons(id),
    case_id BIGINT REFERENCES cases(id),
    notice_date TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    addressee TEXT NOT NULL,
    street TEXT NOT NULL,
    unit TEXT,
    city TEXT NOT NULL,
    state TEXT NOT NULL,
    zip TEXT NOT NULL,
    receipt_number TEXT,
    form TEXT,
    received_date TEXT,
    access_code_id BIGINT REFERENCES access_codes(id),
    code_sealed BLOB,
    code_expires_at BIGINT,
    mail_state TEXT NOT NULL,
    mail_state_at BIGINT NOT NULL
);
CREATE INDEX notices_case ON notices(case_id);
CREATE INDEX notices_mail ON notices(mail_state, id);

CREATE TABLE api_clients (
    id INTEGER PRIMARY KEY,
    client_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    secret_hash BLOB NOT NULL,
    scopes TEXT NOT NULL,
    rate_per_sec BIGINT NOT NULL,
    daily_quota BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    disabled_at BIGINT
);

CREATE TABLE api_tokens (
    token_hash BLOB PRIMARY KEY,
    client_pk BIGINT NOT NULL REFERENCES api_clients(id),
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX api_tokens_expiry ON api_tokens(expires_at);

CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT,
    ip TEXT,
    detail TEXT
);
