-- Request an online access code: persisted rate limits and spent CAPTCHA challenges.

CREATE TABLE rate_limits (
    limit_key TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    hits BIGINT NOT NULL
);

CREATE TABLE captcha_spent (
    challenge_id TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX captcha_spent_expiry ON captcha_spent(expires_at);

CREATE INDEX access_codes_person_channel ON access_codes(person_id, channel, issued_at);
