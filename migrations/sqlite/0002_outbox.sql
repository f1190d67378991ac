-- Durable email outbox (SQLite). A message is written in the same transaction
-- as the change that causes it and sent later by the outbox worker.
-- body_sealed is the message text sealed with AES-256-GCM under the letter
-- key (aad = message_id); it is erased (NULL) once the message is sent or
-- given up. Times are unix seconds.

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    created_at BIGINT NOT NULL,
    to_addr TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_sealed BLOB,
    message_id TEXT NOT NULL UNIQUE,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    locked_until BIGINT,
    sent_at BIGINT,
    failed_at BIGINT,
    last_error TEXT
);
-- The worker's claim: pending rows that are due, oldest first.
CREATE INDEX outbox_due ON outbox(next_attempt_at, id)
    WHERE sent_at IS NULL AND failed_at IS NULL;
