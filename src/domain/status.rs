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
    // Issue 19: the titles trackers key off that were missing.
    BiometricsAppointmentWasScheduled,
    EmploymentAuthorizationDocumentWasApproved,
    CaseWasReopened,
    CaseWasReceivedAtAnotherOffice,
    DocumentWasMailed,
    OathCeremonyWasScheduled,
    CaseAcceptedByStateDepartment,
    NoticeExplainingActionsWasMailed,
    ExpediteRequestReceived,
    DuplicateNoticeWasMailed,
    NameWasUpdated,
    DateOfBirthWasUpdated,
    FeeRefundWasMailed,
    CaseClosedBenefitReceivedByOtherMeans,
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
    pub const ALL: [CaseStatus; 37] = [
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
        CaseStatus::BiometricsAppointmentWasScheduled,
        CaseStatus::EmploymentAuthorizationDocumentWasApproved,
        CaseStatus::CaseWasReopened,
        CaseStatus::CaseWasReceivedAtAnotherOffice,
        CaseStatus::DocumentWasMailed,
        CaseStatus::OathCeremonyWasScheduled,
        CaseStatus::CaseAcceptedByStateDepartment,
        CaseStatus::NoticeExplainingActionsWasMailed,
        CaseStatus::ExpediteRequestReceived,
        CaseStatus::DuplicateNoticeWasMailed,
        CaseStatus::NameWasUpdated,
        CaseStatus::DateOfBirthWasUpdated,
        CaseStatus::FeeRefundWasMailed,
        CaseStatus::CaseClosedBenefitReceivedByOtherMeans,
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
            BiometricsAppointmentWasScheduled => "biometrics_appointment_was_scheduled",
            EmploymentAuthorizationDocumentWasApproved => {
                "employment_authorization_document_was_approved"
            }
            CaseWasReopened => "case_was_reopened",
            CaseWasReceivedAtAnotherOffice => "case_was_received_at_another_uscis_office",
            DocumentWasMailed => "document_was_mailed_to_me",
            OathCeremonyWasScheduled => "oath_ceremony_was_scheduled",
            CaseAcceptedByStateDepartment => "case_accepted_by_the_state_department",
            NoticeExplainingActionsWasMailed => "notice_explaining_uscis_actions_was_mailed",
            ExpediteRequestReceived => "expedite_request_received",
            DuplicateNoticeWasMailed => "duplicate_notice_was_mailed",
            NameWasUpdated => "name_was_updated",
            DateOfBirthWasUpdated => "date_of_birth_was_updated",
            FeeRefundWasMailed => "fee_refund_was_mailed",
            CaseClosedBenefitReceivedByOtherMeans => "case_closed_benefit_received_by_other_means",
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
            CaseWasApproved
            | EmploymentAuthorizationDocumentWasApproved
            | OathCeremonyWasScheduled
            | CaseAcceptedByStateDepartment
            | DocumentWasMailed => Phase::Approved,
            CaseWasDenied => Phase::Denied,
            CaseWasRejected
            | WithdrawalAcknowledged
            | FeeRefundWasMailed
            | CaseClosedBenefitReceivedByOtherMeans => Phase::Closed,
            CardBeingProduced | CardWasMailed | CardPickedUpByUsps | CardWasDelivered
            | CardWasReturned => Phase::Card,
            _ => Phase::Pending,
        }
    }

    /// A decision ends processing (for processing-time figures).
    pub fn is_decision(self) -> bool {
        matches!(
            self,
            CaseStatus::CaseWasApproved
                | CaseStatus::EmploymentAuthorizationDocumentWasApproved
                | CaseStatus::CaseWasDenied
        )
    }

    /// Still awaiting a decision.
    pub fn is_pending(self) -> bool {
        matches!(self.phase(), Phase::Pending | Phase::ActionNeeded)
    }

    /// The notice a change to this status sends the applicant, if any
    /// (names a letter kind of the notices flow).
    pub fn notice(self) -> Option<&'static str> {
        use CaseStatus::*;
        Some(match self {
            CaseWasApproved | EmploymentAuthorizationDocumentWasApproved => "approval",
            CaseWasDenied => "denial",
            InterviewWasScheduled | InterviewWasRescheduled => "interview",
            InitialEvidenceRequested | AdditionalEvidenceRequested => "rfe",
            BiometricsAppointmentWasScheduled => "biometrics",
            OathCeremonyWasScheduled => "oath",
            CaseWasReopened => "reopening",
            CaseWasTransferred | CaseWasReceivedAtAnotherOffice => "transfer",
            NoticeExplainingActionsWasMailed => "explanation",
            DuplicateNoticeWasMailed => "duplicate",
            NameWasUpdated | DateOfBirthWasUpdated => "correction",
            FeeRefundWasMailed => "refund",
            CaseClosedBenefitReceivedByOtherMeans => "closure",
            IntentToDenySent => "intent_to_deny",
            _ => return None,
        })
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
        // A denial may be reopened (on a motion or on the agency's own
        // motion); a rejected filing sees its fee returned. Nothing else
        // follows a closed case.
        Phase::Denied if to == CaseWasReopened => return Ok(()),
        Phase::Closed if (from, to) == (CaseWasRejected, FeeRefundWasMailed) => return Ok(()),
        Phase::Denied | Phase::Closed => return Err(TransitionError::Closed(from)),
        Phase::Approved | Phase::Card | Phase::Pending | Phase::ActionNeeded => {}
    }
    // Statuses that only some forms reach.
    let form_ok = match to {
        EmploymentAuthorizationDocumentWasApproved => form == FormType::I765,
        OathCeremonyWasScheduled => form == FormType::N400,
        CaseAcceptedByStateDepartment => matches!(form, FormType::I130 | FormType::I129F),
        // Certificates and travel documents, not cards.
        DocumentWasMailed => matches!(form, FormType::I131 | FormType::N600),
        _ => true,
    };
    if !form_ok {
        return not_allowed;
    }
    match from.phase() {
        Phase::Denied | Phase::Closed => return Err(TransitionError::Closed(from)),
        Phase::Approved => {
            let ok = matches!(
                (from, to),
                (
                    CaseWasApproved | EmploymentAuthorizationDocumentWasApproved,
                    CardBeingProduced
                ) | (
                    CaseWasApproved,
                    OathCeremonyWasScheduled | CaseAcceptedByStateDepartment | DocumentWasMailed
                )
            );
            return if ok { Ok(()) } else { not_allowed };
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
            CaseWasTransferred
                | CaseWasDenied
                | CaseWasRejected
                | WithdrawalAcknowledged
                | CaseWasReceivedAtAnotherOffice
                | ExpediteRequestReceived
                | NameWasUpdated
                | DateOfBirthWasUpdated
                | CaseClosedBenefitReceivedByOtherMeans
        ),
        CardBeingProduced | CardWasMailed | CardPickedUpByUsps | CardWasDelivered
        | CardWasReturned => false,
        // Follow an approval, or a rejection; never a pending case.
        OathCeremonyWasScheduled
        | CaseAcceptedByStateDepartment
        | DocumentWasMailed
        | FeeRefundWasMailed
        | CaseWasReopened => false,
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
        for to in CaseStatus::ALL
            .into_iter()
            .filter(|s| *s != CaseWasReopened)
        {
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
    fn statuses_trackers_key_off() {
        assert!(
            transition(
                FormType::I765,
                Some(ReceiptNoticeWasSent),
                BiometricsAppointmentWasScheduled
            )
            .is_ok()
        );
        assert!(
            transition(
                FormType::I765,
                Some(BiometricsAppointmentWasScheduled),
                FingerprintsWereTaken
            )
            .is_ok()
        );
        assert!(
            transition(
                FormType::I765,
                Some(ActivelyReviewed),
                EmploymentAuthorizationDocumentWasApproved
            )
            .is_ok()
        );
        assert!(
            transition(
                FormType::I130,
                Some(ActivelyReviewed),
                EmploymentAuthorizationDocumentWasApproved
            )
            .is_err()
        );
        assert!(
            transition(
                FormType::I765,
                Some(EmploymentAuthorizationDocumentWasApproved),
                CardBeingProduced
            )
            .is_ok()
        );
        assert!(
            transition(
                FormType::N400,
                Some(CaseWasApproved),
                OathCeremonyWasScheduled
            )
            .is_ok()
        );
        assert!(
            transition(
                FormType::I485,
                Some(CaseWasApproved),
                OathCeremonyWasScheduled
            )
            .is_err()
        );
        assert!(
            transition(
                FormType::N400,
                Some(InterviewWasCompleted),
                OathCeremonyWasScheduled
            )
            .is_err()
        );
        assert!(
            transition(
                FormType::I130,
                Some(CaseWasApproved),
                CaseAcceptedByStateDepartment
            )
            .is_ok()
        );
        assert!(transition(FormType::N600, Some(CaseWasApproved), DocumentWasMailed).is_ok());
        assert!(transition(FormType::I485, Some(CaseWasApproved), DocumentWasMailed).is_err());
        assert!(transition(FormType::I130, Some(CaseWasDenied), CaseWasReopened).is_ok());
        assert!(transition(FormType::I130, Some(CaseWasReopened), ActivelyReviewed).is_ok());
        assert!(transition(FormType::I130, Some(CaseWasRejected), CaseWasReopened).is_err());
        assert!(transition(FormType::I130, Some(CaseWasRejected), FeeRefundWasMailed).is_ok());
        assert!(transition(FormType::I130, Some(ActivelyReviewed), FeeRefundWasMailed).is_err());
        assert!(
            transition(
                FormType::I485,
                Some(AdditionalEvidenceRequested),
                CaseClosedBenefitReceivedByOtherMeans
            )
            .is_ok()
        );
        assert!(
            transition(
                FormType::I485,
                Some(CaseClosedBenefitReceivedByOtherMeans),
                ActivelyReviewed
            )
            .is_err()
        );
        for s in [
            ExpediteRequestReceived,
            NameWasUpdated,
            DateOfBirthWasUpdated,
            DuplicateNoticeWasMailed,
            NoticeExplainingActionsWasMailed,
            CaseWasReceivedAtAnotherOffice,
        ] {
            assert!(
                transition(FormType::I485, Some(ActivelyReviewed), s).is_ok(),
                "{s:?}"
            );
        }
        assert_eq!(
            BiometricsAppointmentWasScheduled.notice(),
            Some("biometrics")
        );
        assert_eq!(ActivelyReviewed.notice(), None);
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
                    if matches!(from.phase(), Phase::Denied | Phase::Closed)
                        && !matches!(
                            (from, to),
                            (CaseWasDenied, CaseWasReopened)
                                | (CaseWasRejected, FeeRefundWasMailed)
                        )
                    {
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

#[cfg(test)]
mod catalogue_dump {
    use super::*;

    /// Prints the catalogue's computed columns (code, phase, successors,
    /// notice) for regenerating `docs/status-catalogue.md`:
    /// `cargo test --lib catalogue_dump -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn print_catalogue_columns() {
        for s in CaseStatus::ALL {
            let next: Vec<&str> = CaseStatus::ALL
                .into_iter()
                .filter(|to| transition(FormType::I765, Some(s), *to).is_ok())
                .map(CaseStatus::code)
                .collect();
            println!(
                "ROW\t{}\t{:?}\t{}\t{}",
                s.code(),
                s.phase(),
                next.join(","),
                s.notice().unwrap_or("")
            );
        }
    }
}
