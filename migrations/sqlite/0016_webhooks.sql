-- Webhook subscriptions and their durable delivery queue (sqlite).
--
-- A subscription belongs to an owner: today an API client (owner_kind
-- 'api_client', client_pk set); applicant tokens can be added as another kind.
-- Its signing secret is needed in clear to sign, so it is sealed with
-- AES-256-GCM under the webhook key (aad = public_id), never stored plain.
-- A delivery row is written in the same transaction as the case change that
-- causes it and sent later by the webhook worker (lease-based claim, like the
-- email outbox). The payload is what the Case Status API shows. Times are
-- unix seconds.

CREATE TABLE webhook_subscriptions (
    id INTEGER PRIMARY KEY,
    public_id TEXT NOT NULL UNIQUE,
    owner_kind TEXT NOT NULL,
    client_pk BIGINT REFERENCES api_clients(id),
    url TEXT NOT NULL,
    secret_sealed BLOB NOT NULL,
    created_at BIGINT NOT NULL,
    disabled_at BIGINT,
    disabled_by TEXT,
    deleted_at BIGINT
);
CREATE INDEX webhook_subscriptions_client ON webhook_subscriptions(client_pk, id);

CREATE TABLE webhook_receipts (
    subscription_id BIGINT NOT NULL REFERENCES webhook_subscriptions(id),
    receipt_number TEXT NOT NULL,
    PRIMARY KEY (subscription_id, receipt_number)
);
-- The fan-out at a case change: who follows this receipt.
CREATE INDEX webhook_receipts_receipt ON webhook_receipts(receipt_number, subscription_id);

CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,
    subscription_id BIGINT NOT NULL REFERENCES webhook_subscriptions(id),
    message_id TEXT NOT NULL UNIQUE,
    receipt_number TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    locked_until BIGINT,
    delivered_at BIGINT,
    failed_at BIGINT,
    last_status BIGINT,
    last_error TEXT
);
-- The worker's claim: pending rows that are due, oldest first.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at, id)
    WHERE delivered_at IS NULL AND failed_at IS NULL;
-- A subscription's recent deliveries.
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries(subscription_id, id);
