//! Notices and letters: the receipt notice (Form I-797C style) and the
//! Account Access Notice, rendered as PDF on demand from what was stored when
//! they were issued. Letters to be posted wait in the mail-room queue
//! (queued → printed → mailed); `casegate letters export DIR` prints them.

pub mod export;
pub mod render;
pub mod store;

// The notice states are domain states; the flow keeps its old paths.
pub use crate::domain::notice::{MailState, NoticeKind};
