//! Notices and letters: the receipt notice (Form I-797C style) and the
//! Account Access Notice, rendered as PDF on demand from what was stored when
//! they were issued. Letters to be posted wait in the mail-room queue
//! (queued → printed → mailed); `casegate letters export DIR` prints them.

pub mod export;
pub mod render;
pub mod store;
pub mod wording;

// The notice states are domain states; the flow keeps its old paths.
pub use crate::domain::notice::{MailState, NoticeKind};

/// Additional authenticated data binding the sealed code of an access-code
/// letter to its code row: the access-code flow seals with it, the mail
/// room's export opens with it.
pub fn code_letter_aad(access_code_id: i64) -> String {
    format!("access_code:{access_code_id}")
}
