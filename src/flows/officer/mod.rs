//! The officer console (`/officer`): signed-in officers (two-step verification
//! required, as for everyone) see and do what their role allows —
//! `authz::officer_may` is the one matrix. Every action goes through
//! `casework::change_status` (history, cache, applicant notification), issues
//! a notice where one is due, and is written to the hash-chained audit log.
//!
//! `form.rs` parses every console form into types, `store.rs` holds the
//! console's SQL; a multi-write action opens one transaction in its handler
//! and passes it to each write (store, `casework`, `notices`, `audit`), so it
//! commits once.

pub mod address_changes;
pub mod admin;
pub mod form;
pub mod handler;
pub mod store;
