//! The case page's pure rules.

use crate::domain::notice::NoticeKind;

/// Whether the applicant's case page lists a notice of this kind. Letters
/// that carry a one-time code (the Account Access Notice, a mailed access
/// code, the change-of-address codes) are for the mail room and the
/// addressee's mailbox: once the case is in the account their code is spent
/// or moot, and the applicant's copy could only say "Not printed" with an
/// expiry years away, which helps no one.
pub fn applicant_sees(kind: NoticeKind) -> bool {
    !matches!(
        kind,
        NoticeKind::AccessNotice
            | NoticeKind::CodeLetter
            | NoticeKind::AddressConfirm
            | NoticeKind::AddressAlert
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_letters_stay_in_the_mail_room() {
        assert!(!applicant_sees(NoticeKind::AccessNotice));
        assert!(!applicant_sees(NoticeKind::CodeLetter));
        assert!(applicant_sees(NoticeKind::Receipt));
        assert!(applicant_sees(NoticeKind::Approval));
        assert!(applicant_sees(NoticeKind::Rfe));
    }
}
