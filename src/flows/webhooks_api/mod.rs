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

pub mod form;
pub mod handler;
