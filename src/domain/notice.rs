//! Notices as domain states: what kind of letter a notice is, and where it
//! stands in the mail room (queued → printed → mailed → returned), with the
//! one rule for moving it on ([`MailState::can_become`]).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    Receipt,
    /// Intake's Account Access Notice (a code for one paper-filed case).
    AccessNotice,
    /// An online access code requested on `/access-code`, sent by post.
    CodeLetter,
    /// Request for evidence (items and due date in the body).
    Rfe,
    /// Interview appointment (date, time and place in the body).
    Interview,
    Approval,
    Denial,
    // Issue 19: notices of the statuses trackers key off.
    /// Biometrics appointment (date, time and place in the body).
    Biometrics,
    Oath,
    Reopening,
    Transfer,
    Explanation,
    Duplicate,
    Correction,
    Refund,
    Closure,
    /// Notice of intent to deny: why, and the time left to answer.
    IntentToDeny,
    /// Change of address: the confirmation code, mailed to the new address.
    AddressConfirm,
    /// Change of address: "someone asked to move your mail", with the code
    /// that cancels it, mailed to the old address.
    AddressAlert,
}

impl NoticeKind {
    pub fn code(self) -> &'static str {
        match self {
            NoticeKind::Receipt => "receipt",
            NoticeKind::AccessNotice => "access_notice",
            NoticeKind::CodeLetter => "code_letter",
            NoticeKind::Rfe => "rfe",
            NoticeKind::Interview => "interview",
            NoticeKind::Approval => "approval",
            NoticeKind::Denial => "denial",
            NoticeKind::Biometrics => "biometrics",
            NoticeKind::Oath => "oath",
            NoticeKind::Reopening => "reopening",
            NoticeKind::Transfer => "transfer",
            NoticeKind::Explanation => "explanation",
            NoticeKind::Duplicate => "duplicate",
            NoticeKind::Correction => "correction",
            NoticeKind::Refund => "refund",
            NoticeKind::Closure => "closure",
            NoticeKind::IntentToDeny => "intent_to_deny",
            NoticeKind::AddressConfirm => "address_confirm",
            NoticeKind::AddressAlert => "address_alert",
        }
    }

    /// Message key prefix of this kind's letter texts.
    pub fn letter_key(self) -> &'static str {
        match self {
            NoticeKind::Receipt => "letter.receipt",
            NoticeKind::AccessNotice => "letter.access",
            NoticeKind::CodeLetter => "letter.code",
            NoticeKind::Rfe => "letter.rfe",
            NoticeKind::Interview => "letter.interview",
            NoticeKind::Approval => "letter.approval",
            NoticeKind::Denial => "letter.denial",
            NoticeKind::Biometrics => "letter.biometrics",
            NoticeKind::Oath => "letter.oath",
            NoticeKind::Reopening => "letter.reopening",
            NoticeKind::Transfer => "letter.transfer",
            NoticeKind::Explanation => "letter.explanation",
            NoticeKind::Duplicate => "letter.duplicate",
            NoticeKind::Correction => "letter.correction",
            NoticeKind::Refund => "letter.refund",
            NoticeKind::Closure => "letter.closure",
            NoticeKind::IntentToDeny => "letter.intent_to_deny",
            NoticeKind::AddressConfirm => "letter.address_confirm",
            NoticeKind::AddressAlert => "letter.address_alert",
        }
    }

    /// The letter a plain status change sends (the notice named by
    /// [`crate::domain::CaseStatus::notice`]), for the statuses whose letter
    /// needs nothing but the case; approvals, denials, interviews and
    /// requests for evidence have their own officer actions.
    pub fn for_status_change(to: crate::domain::CaseStatus) -> Option<NoticeKind> {
        let kind = NoticeKind::from_code(to.notice()?)?;
        matches!(
            kind,
            NoticeKind::Oath
                | NoticeKind::Reopening
                | NoticeKind::Transfer
                | NoticeKind::Explanation
                | NoticeKind::Duplicate
                | NoticeKind::Correction
                | NoticeKind::Refund
                | NoticeKind::Closure
                | NoticeKind::IntentToDeny
        )
        .then_some(kind)
    }

    pub fn title_key(self) -> String {
        format!("{}.title", self.letter_key())
    }

    pub fn from_code(s: &str) -> Option<NoticeKind> {
        match s {
            "receipt" => Some(NoticeKind::Receipt),
            "access_notice" => Some(NoticeKind::AccessNotice),
            "code_letter" => Some(NoticeKind::CodeLetter),
            "rfe" => Some(NoticeKind::Rfe),
            "interview" => Some(NoticeKind::Interview),
            "approval" => Some(NoticeKind::Approval),
            "denial" => Some(NoticeKind::Denial),
            "biometrics" => Some(NoticeKind::Biometrics),
            "oath" => Some(NoticeKind::Oath),
            "reopening" => Some(NoticeKind::Reopening),
            "transfer" => Some(NoticeKind::Transfer),
            "explanation" => Some(NoticeKind::Explanation),
            "duplicate" => Some(NoticeKind::Duplicate),
            "correction" => Some(NoticeKind::Correction),
            "refund" => Some(NoticeKind::Refund),
            "closure" => Some(NoticeKind::Closure),
            "intent_to_deny" => Some(NoticeKind::IntentToDeny),
            "address_confirm" => Some(NoticeKind::AddressConfirm),
            "address_alert" => Some(NoticeKind::AddressAlert),
            _ => None,
        }
    }
}

/// Where a notice stands in the mail room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailState {
    /// Delivered online only (online filers).
    NotMailed,
    Queued,
    Printed,
    Mailed,
    Returned,
}

impl MailState {
    pub fn code(self) -> &'static str {
        match self {
            MailState::NotMailed => "none",
            MailState::Queued => "queued",
            MailState::Printed => "printed",
            MailState::Mailed => "mailed",
            MailState::Returned => "returned",
        }
    }

    pub fn from_code(s: &str) -> Option<MailState> {
        [
            MailState::NotMailed,
            MailState::Queued,
            MailState::Printed,
            MailState::Mailed,
            MailState::Returned,
        ]
        .into_iter()
        .find(|m| m.code() == s)
    }

    /// The mail room's one transition rule.
    pub fn can_become(self, next: MailState) -> bool {
        matches!(
            (self, next),
            (MailState::Queued, MailState::Printed)
                | (MailState::Printed, MailState::Printed)
                | (MailState::Printed, MailState::Mailed)
                | (MailState::Mailed, MailState::Returned)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_room_moves_forward_only() {
        assert!(MailState::Queued.can_become(MailState::Printed));
        assert!(MailState::Printed.can_become(MailState::Mailed));
        assert!(MailState::Mailed.can_become(MailState::Returned));
        assert!(!MailState::Queued.can_become(MailState::Mailed));
        assert!(!MailState::Mailed.can_become(MailState::Queued));
        assert!(!MailState::NotMailed.can_become(MailState::Printed));
        for m in [
            MailState::NotMailed,
            MailState::Queued,
            MailState::Printed,
            MailState::Mailed,
            MailState::Returned,
        ] {
            assert_eq!(MailState::from_code(m.code()), Some(m));
        }
    }
}
