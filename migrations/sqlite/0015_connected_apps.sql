-- Connected apps (issue 19, item 4): applicant-owned read-only tokens and
-- the OAuth 2.0 Device Authorization Grant (RFC 8628). Tokens, device codes
-- and user codes are stored only as keyed hashes.
CREATE TABLE applicant_tokens (
    id INTEGER PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    token_hash BLOB NOT NULL UNIQUE,
    -- 'personal' (created on Connected apps) or 'device' (a device grant)
    kind TEXT NOT NULL,
    -- the token's name, or the app's name for a device grant
    name TEXT NOT NULL,
    client_pk BIGINT REFERENCES api_clients(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX applicant_tokens_account ON applicant_tokens(account_id);

CREATE TABLE device_grants (
    id INTEGER PRIMARY KEY,
    device_code_hash BLOB NOT NULL UNIQUE,
    user_code_hash BLOB NOT NULL,
    client_pk BIGINT NOT NULL REFERENCES api_clients(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    interval_secs BIGINT NOT NULL,
    last_poll_at BIGINT,
    -- 'pending', 'approved', 'denied', 'issued'
    state TEXT NOT NULL,
    account_id BIGINT REFERENCES accounts(id),
    decided_at BIGINT
);
CREATE INDEX device_grants_user_code ON device_grants(user_code_hash);
CREATE INDEX device_grants_account ON device_grants(account_id);
