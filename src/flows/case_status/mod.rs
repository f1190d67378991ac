//! Case Status Online (`/status`): anyone with a receipt number sees the
//! status, its plain-language description and the history. Unknown receipts
//! and 1367-protected cases get the same "not recognized" answer.

pub mod form;
pub mod handler;
