-- Webhook subscriptions owned by an applicant token (issue 19, item 5): an
-- applicant's tracker subscribes to the cases linked to its account. Such a
-- subscription has owner_kind 'applicant_token', token_pk (the token) and
-- account_pk (its account) set, client_pk NULL. Deliveries are queued and
-- sent only while the token is live and the case is still linked to
-- account_pk.
ALTER TABLE webhook_subscriptions ADD COLUMN token_pk BIGINT REFERENCES applicant_tokens(id);
ALTER TABLE webhook_subscriptions ADD COLUMN account_pk BIGINT REFERENCES accounts(id);
CREATE INDEX webhook_subscriptions_token ON webhook_subscriptions(token_pk, id);
