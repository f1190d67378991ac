//! Set up two-step verification (`/two-step/setup`): mandatory before an
//! account can be used. An authenticator app scans a QR code casegate draws
//! itself (or types the key), a first code confirms it, and ten one-time
//! backup codes are shown once.

pub mod handler;
