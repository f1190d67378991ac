//! Sign in (`/sign-in`): password, then the second factor
//! (`/sign-in/two-step`: an authenticator code or a backup code).
//! Throttled per account and per account+IP (`auth::throttle`); unknown
//! emails cost the same hashing time as known ones.

pub mod handler;
