//! Intake of filings: `casegate intake FILE` (bulk CSV) and `POST /api/intake`
//! (the same CSV, for a lockbox or scanning system holding an API client with
//! the `intake` scope). Each filing finds or creates the person, gets a fresh
//! receipt number, a "Case Was Received" history entry, a receipt notice and —
//! for paper filings — an Account Access Notice carrying a new access code.

pub mod cli;
pub mod form;
pub mod handler;
pub mod policy;
pub mod store;
