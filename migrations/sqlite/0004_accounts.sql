-- Accounts, two-step verification, sessions, one-time email codes, sign-in throttling.

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL UNIQUE,
    account_number TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    password_hash TEXT,
    email_confirmed_at BIGINT,
    totp_sealed BLOB,
    totp_last_step BIGINT,
    totp_enrolled_at BIGINT,
    disabled_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE backup_codes (
    id INTEGER PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    code_hash BLOB NOT NULL,
    created_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX backup_codes_account ON backup_codes(account_id);

CREATE TABLE sessions (
    id_hash BLOB PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    level TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    authenticated_at BIGINT,
    pending_totp_sealed BLOB,
    ip TEXT,
    user_agent TEXT,
    revoked_at BIGINT
);
CREATE INDEX sessions_account ON sessions(account_id);

CREATE TABLE email_codes (
    id INTEGER PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    purpose TEXT NOT NULL,
    code_hash BLOB NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    wrong_tries BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX email_codes_account ON email_codes(account_id, purpose);

CREATE TABLE auth_throttle (
    throttle_key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    consecutive BIGINT NOT NULL,
    last_failure_at BIGINT NOT NULL,
    locked_until BIGINT
);

CREATE INDEX audit_events_subject ON audit_events(subject, at);
