//! Forgotten password (`/forgot-password`): a single-use code, valid 30
//! minutes, sent to the account's email. The answer never reveals whether an
//! email is registered, and a reset never bypasses two-step verification:
//! the person signs in afterwards with the new password *and* the second
//! factor. An officer-started reset (`casegate account start-reset`) also
//! removes the second factor, so the person enrols a new one.
//!
//! Officers get their accounts from `casegate officer create`, which prints a
//! one-time set-up link to `/officer-setup`.

pub mod handler;
