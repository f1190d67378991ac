//! The case-status catalogue and its state machine.
//!
//! Titles, descriptions and history lines (English and Spanish) live in the
//! message files under `status.<code>.*`; this module owns which statuses
//! exist and which transitions are allowed — checked by [`transition`] alone.

use super::FormType;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaseStatus {
    CaseWasReceived,
    ReceiptNoticeWasSent,
    FeesWereWaived,
    FingerprintFeeWasReceived,
    FingerprintsWereTaken,
    InterviewWasScheduled,
    InterviewWasRescheduled,
    InterviewWasCompleted,
    InitialEvidenceRequested,
    AdditionalEvidenceRequested,
    EvidenceResponseReceived,
    ActivelyReviewed,
    IntentToDenySent,
    CaseWasTransferred,
    CaseWasApproved,
    CaseWasDenied,
    CaseWasRejected,
    WithdrawalAcknowledged,
    CardBeingProduced,
    CardWasMailed,
    CardPickedUpByUsps,
    CardWasDelivered,
    CardWasReturned,
}

/// Coarse phase of a status, used for tags and processing-time rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Still being worked: received, biometrics, interview, evidence, transfer.
    Pending,
    /// The applicant must act (a request for evidence or an intent to deny).
    ActionNeeded,
    Approved,
    Denied,
    /// Rejected or withdrawn.
    Closed,
    /// Approved, and the card is moving.
    Card,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("a case starts as Case Was Received")]
    MustStartReceived,
    #[error("the case is closed ({0:?}); no further status can be recorded")]
    Closed(CaseStatus),
    #[error("{to:?} cannot follow {from:?}")]
    NotAllowed { from: CaseStatus, to: CaseStatus },
    #[error("form {0} does not produce a card")]
    NoCardForForm(FormType),
}

impl CaseStatus {
    pub const ALL: [CaseStatus; 23] = [
        CaseStatus::CaseWasReceived,
        CaseStatus::ReceiptNoticeWasSent,
        CaseStatus::FeesWereWaived,
        CaseStatus::FingerprintFeeWasReceived,
        CaseStatus::FingerprintsWereTaken,
        CaseStatus::InterviewWasScheduled,
        CaseStatus::InterviewWasRescheduled,
        CaseStatus::InterviewWasCompleted,
        CaseStatus::InitialEvidenceRequested,
        CaseStatus::AdditionalEvidenceRequested,
        CaseStatus::EvidenceResponseReceived,
        CaseStatus::ActivelyReviewed,
        CaseStatus::IntentToDenySent,
        CaseStatus::CaseWasTransferred,
        CaseStatus::CaseWasApproved,
        CaseStatus::CaseWasDenied,
        CaseStatus::CaseWasRejected,
        CaseStatus::WithdrawalAcknowledged,
        CaseStatus::CardBeingProduced,
        CaseStatus::CardWasMailed,
        CaseStatus::CardPickedUpByUsps,
        CaseStatus::CardWasDelivered,
        CaseStatus::CardWasReturned,
    ];

    /// Stable code, stored in the database and used as the message key.
    pub fn code(self) -> &'static str {
        use CaseStatus::*;
        match self {
            CaseWasReceived => "case_was_received",
            ReceiptNoticeWasSent => "receipt_notice_was_sent",
            FeesWereWaived => "fees_were_waived",
            FingerprintFeeWasReceived => "fingerprint_fee_was_received",
            FingerprintsWereTaken => "fingerprints_were_taken",
            InterviewWasScheduled => "interview_was_scheduled",
            InterviewWasRescheduled => "interview_was_rescheduled",
            InterviewWasCompleted => "interview_was_completed",
            InitialEvidenceRequested => "initial_evidence_requested",
            AdditionalEvidenceRequested => "additional_evidence_requested",
            EvidenceResponseReceived => "evidence_response_received",
            ActivelyReviewed => "actively_reviewed",
            IntentToDenySent => "intent_to_deny_sent",
            CaseWasTransferred => "case_was_transferred",
            CaseWasApproved => "case_was_approved",
            CaseWasDenied => "case_was_denied",
            CaseWasRejected => "case_was_rejected",
            WithdrawalAcknowledged => "withdrawal_acknowledged",
            CardBeingProduced => "card_being_produced",
            CardWasMailed => "card_was_mailed",
            CardPickedUpByUsps => "card_picked_up_by_usps",
            CardWasDelivered => "card_was_delivered",
            CardWasReturned => "card_was_returned",
        }
    }

    pub fn from_code(code: &str) -> Option<CaseStatus> {
        CaseStatus::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn phase(self) -> Phase {
        use CaseStatus::*;
        match self {
            InitialEvidenceRequested | AdditionalEvidenceRequested | IntentToDenySent => {
                Phase::ActionNeeded
            }
            CaseWasApproved => Phase::Approved,
            CaseWasDenied => Phase::Denied,
            CaseWasRejected | WithdrawalAcknowledged => Phase::Closed,
            CardBeingProduced | CardWasMailed | CardPickedUpByUsps | CardWasDelivered
            | CardWasReturned => Phase::Card,
            _ => Phase::Pending,
        }
    }

    /// A decision ends processing (for processing-time figures).
    pub fn is_decision(self) -> bool {
        matches!(
            self,
            CaseStatus::CaseWasApproved | CaseStatus::CaseWasDenied
        )
    }

    /// Still awaiting a decision.
    pub fn is_pending(self) -> bool {
        matches!(self.phase(), Phase::Pending | Phase::ActionNeeded)
    }

    pub fn title_key(self) -> String {
        format!("status.{}.title", self.code())
    }
    pub fn desc_key(self) -> String {
        format!("status.{}.desc", self.code())
    }
    pub fn history_key(self) -> String {
        format!("status.{}.history", self.code())
    }
    pub fn tag_key(self) -> String {
        format!("status.{}.tag", self.code())
    }
}

/// The one function that decides whether a case may move from `from` to `to`.
/// `from` is `None` for a new case.
pub fn transition(
    form: FormType,
    from: Option<CaseStatus>,
    to: CaseStatus,
) -> Result<(), TransitionError> {
    use CaseStatus::*;
    let Some(from) = from else {
        return if to == CaseWasReceived {
            Ok(())
        } else {
            Err(TransitionError::MustStartReceived)
        };
    };
    if to.phase() == Phase::Card && !form.produces_card() {
        return Err(TransitionError::NoCardForForm(form));
    }
    let not_allowed = Err(TransitionError::NotAllowed { from, to });
    match from.phase() {
        Phase::Denied | Phase::Closed => return Err(TransitionError::Closed(from)),
        Phase::Approved => {
            return if to == CardBeingProduced {
                Ok(())
            } else {
                not_allowed
            };
        }
        Phase::Card => {
            let ok = matches!(
                (from, to),
                (CardBeingProduced, CardWasMailed)
                    | (CardWasMailed, CardPickedUpByUsps)
                    | (CardWasMailed, CardWasDelivered)
                    | (CardWasMailed, CardWasReturned)
                    | (CardPickedUpByUsps, CardWasDelivered)
                    | (CardPickedUpByUsps, CardWasReturned)
                    | (CardWasReturned, CardWasMailed)
            );
            return if ok { Ok(()) } else { not_allowed };
        }
        Phase::Pending | Phase::ActionNeeded => {}
    }
    // From here `from` is pending or awaiting the applicant.
    let ok = match to {
        CaseWasReceived => false,
        ReceiptNoticeWasSent => matches!(from, CaseWasReceived | FeesWereWaived),
        FeesWereWaived => matches!(from, CaseWasReceived | ReceiptNoticeWasSent),
        InterviewWasRescheduled | InterviewWasCompleted => {
            matches!(from, InterviewWasScheduled | InterviewWasRescheduled)
        }
        EvidenceResponseReceived => matches!(
            from,
            InitialEvidenceRequested | AdditionalEvidenceRequested | IntentToDenySent
        ),
        // While the agency waits for the applicant, only the applicant's
        // response, a transfer, a decision or a closure moves the case.
        _ if from.phase() == Phase::ActionNeeded => matches!(
            to,
            CaseWasTransferred | CaseWasDenied | CaseWasRejected | WithdrawalAcknowledged
        ),
        CardBeingProduced | CardWasMailed | CardPickedUpByUsps | CardWasDelivered
        | CardWasReturned => false,
        _ => to != from,
    };
    if ok { Ok(()) } else { not_allowed }
}

#[cfg(test)]
mod tests {
    use super::CaseStatus::*;
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        for s in CaseStatus::ALL {
            assert_eq!(CaseStatus::from_code(s.code()), Some(s));
        }
        let mut codes: Vec<_> = CaseStatus::ALL.iter().map(|s| s.code()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), CaseStatus::ALL.len());
        assert_eq!(CaseStatus::from_code("nope"), None);
    }

    #[test]
    fn a_case_starts_received() {
        assert!(transition(FormType::I130, None, CaseWasReceived).is_ok());
        assert_eq!(
            transition(FormType::I130, None, CaseWasApproved),
            Err(TransitionError::MustStartReceived)
        );
    }

    #[test]
    fn a_denied_case_cannot_have_its_card_mailed() {
        for to in CaseStatus::ALL {
            assert_eq!(
                transition(FormType::I485, Some(CaseWasDenied), to),
                Err(TransitionError::Closed(CaseWasDenied))
            );
        }
    }

    #[test]
    fn card_path_after_approval() {
        let f = FormType::I485;
        assert!(transition(f, Some(CaseWasApproved), CardBeingProduced).is_ok());
        assert!(transition(f, Some(CardBeingProduced), CardWasMailed).is_ok());
        assert!(transition(f, Some(CardWasMailed), CardWasDelivered).is_ok());
        assert!(transition(f, Some(CardWasReturned), CardWasMailed).is_ok());
        assert!(transition(f, Some(CardWasDelivered), CardWasMailed).is_err());
        assert!(transition(f, Some(CaseWasApproved), CardWasMailed).is_err());
        assert!(transition(f, Some(CaseWasReceived), CardBeingProduced).is_err());
        assert_eq!(
            transition(FormType::I130, Some(CaseWasApproved), CardBeingProduced),
            Err(TransitionError::NoCardForForm(FormType::I130))
        );
    }

    #[test]
    fn evidence_loop() {
        let f = FormType::I130;
        assert!(transition(f, Some(ActivelyReviewed), AdditionalEvidenceRequested).is_ok());
        assert!(
            transition(
                f,
                Some(AdditionalEvidenceRequested),
                EvidenceResponseReceived
            )
            .is_ok()
        );
        assert!(transition(f, Some(ActivelyReviewed), EvidenceResponseReceived).is_err());
        // Waiting on the applicant: no approval until the response arrives.
        assert!(transition(f, Some(AdditionalEvidenceRequested), CaseWasApproved).is_err());
        assert!(transition(f, Some(AdditionalEvidenceRequested), CaseWasDenied).is_ok());
        assert!(transition(f, Some(EvidenceResponseReceived), CaseWasApproved).is_ok());
    }

    #[test]
    fn interviews() {
        let f = FormType::N400;
        assert!(transition(f, Some(CaseWasReceived), InterviewWasScheduled).is_ok());
        assert!(transition(f, Some(CaseWasReceived), InterviewWasCompleted).is_err());
        assert!(transition(f, Some(InterviewWasScheduled), InterviewWasRescheduled).is_ok());
        assert!(transition(f, Some(InterviewWasRescheduled), InterviewWasRescheduled).is_ok());
        assert!(transition(f, Some(InterviewWasRescheduled), InterviewWasCompleted).is_ok());
        assert!(transition(f, Some(ActivelyReviewed), ActivelyReviewed).is_err());
    }

    #[test]
    fn exhaustive_matrix_invariants() {
        for form in FormType::ALL {
            for from in CaseStatus::ALL {
                for to in CaseStatus::ALL {
                    let r = transition(form, Some(from), to);
                    if to == CaseWasReceived {
                        assert!(r.is_err(), "{from:?} -> received");
                    }
                    if matches!(from.phase(), Phase::Denied | Phase::Closed) {
                        assert!(r.is_err());
                    }
                    if to.phase() == Phase::Card && !form.produces_card() {
                        assert!(r.is_err());
                    }
                    if r.is_ok() && to.phase() == Phase::Card {
                        assert!(matches!(from.phase(), Phase::Approved | Phase::Card));
                    }
                }
            }
        }
    }

    /// `docs/status-catalogue.md` states every status, its titles and its
    /// successors; this keeps it true.
    #[test]
    fn catalogue_doc_matches_the_code() {
        let doc = include_str!("../../docs/status-catalogue.md");
        let (_, doc) = doc.split_once("## The catalogue").unwrap();
        let titles = |toml_text: &str, code: &str| -> String {
            let v: toml::Table = toml::from_str(toml_text).unwrap();
            v["status"][code]["title"].as_str().unwrap().to_string()
        };
        let en = include_str!("../../messages/en/catalog.toml");
        let es = include_str!("../../messages/es/catalog.toml");
        let rows: Vec<&str> = doc.lines().filter(|l| l.starts_with("| `")).collect();
        assert_eq!(rows.len(), CaseStatus::ALL.len(), "one row per status");
        for s in CaseStatus::ALL {
            let prefix = format!("| `{}` |", s.code());
            let row = rows
                .iter()
                .find(|r| r.starts_with(&prefix))
                .unwrap_or_else(|| panic!("no row for {}", s.code()));
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            assert_eq!(
                cells[2],
                titles(en, s.code()),
                "English title of {}",
                s.code()
            );
            assert_eq!(
                cells[3],
                titles(es, s.code()),
                "Spanish title of {}",
                s.code()
            );
            assert_eq!(
                cells[5],
                format!("{:?}", s.phase()),
                "phase of {}",
                s.code()
            );
            let documented: Vec<&str> = cells[6]
                .split(", ")
                .filter_map(|c| c.strip_prefix('`').and_then(|c| c.strip_suffix('`')))
                .collect();
            let allowed: Vec<&str> = CaseStatus::ALL
                .into_iter()
                .filter(|to| transition(FormType::I765, Some(s), *to).is_ok())
                .map(CaseStatus::code)
                .collect();
            assert_eq!(documented, allowed, "successors of {}", s.code());
        }
    }
}
