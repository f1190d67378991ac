//! The account and its security page (`/account`, `/account/security`):
//! sessions (revoke one, sign out everywhere), backup codes, password change
//! (behind a fresh re-authentication), and the account's activity.

pub mod handler;
pub mod store;
