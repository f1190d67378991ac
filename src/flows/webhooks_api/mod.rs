//! Webhook subscriptions through the Case Status API (issue 19, "push
//! instead of polling"): an API client subscribes a URL to receipt numbers
//! and receives a signed `case_status.updated` delivery when one of them
//! changes (`crate::webhooks`).
//!
//! `POST /case-status/webhooks` creates one (the signing secret is in that
//! answer only), `GET /case-status/webhooks` lists the client's,
//! `GET /case-status/webhooks/{id}` shows one with its recent deliveries,
//! `DELETE /case-status/webhooks/{id}` ends it. Subscribing to a receipt
//! answers the same whether the case exists, is protected or not.
//!
//! Applicant tokens (personal or device grant) do the same for their own
//! cases at `/account/case-service/api/webhooks[/{id}]`, beside the case
//! service, with the same request and answer shapes: each receipt must be
//! linked to the token's account (another person's answers like an unknown
//! one), and a subscription belongs to the token.

pub mod form;
pub mod handler;
