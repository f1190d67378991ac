//! What officers submit in the console, parsed into types: the case search,
//! the case actions (status, request for evidence, appointment, transfer),
//! the mail room's filter and state change, and the admin actions. Each
//! form has one parsing method; the handlers never look at its strings.

use chrono::{NaiveDate, NaiveDateTime};
use serde::Deserialize;

use crate::domain::notice::MailState;
use crate::domain::{ANumber, CaseStatus, Office, ReceiptNumber};
use crate::error::AppError;

/// `GET /officer/cases?q=…`.
#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    pub q: String,
}

impl SearchQuery {
    /// What was typed, trimmed and cut to 60 characters (shown back).
    pub fn text(&self) -> String {
        self.q.trim().chars().take(60).collect()
    }

    /// What to look for; `None` when nothing was typed.
    pub fn parse(&self) -> Option<CaseSearch> {
        CaseSearch::parse(&self.text())
    }
}

/// What the case search looks for, decided by what the officer typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseSearch {
    Receipt(ReceiptNumber),
    ANumber(ANumber),
    /// A family-name prefix, lower-cased, without LIKE wildcards.
    FamilyPrefix(String),
}

impl CaseSearch {
    /// A receipt number, else an A-Number, else a family-name prefix;
    /// `None` for nothing to look for.
    pub fn parse(q: &str) -> Option<CaseSearch> {
        let q = q.trim();
        if q.is_empty() {
            return None;
        }
        Some(if let Ok(r) = ReceiptNumber::parse(q) {
            CaseSearch::Receipt(r)
        } else if let Ok(a) = ANumber::parse(q) {
            CaseSearch::ANumber(a)
        } else {
            CaseSearch::FamilyPrefix(q.to_lowercase().replace(['%', '_'], ""))
        })
    }
}

/// Why a case action was refused, shown on the case page
/// (`?error=<code>`, text `officer.error.<code>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseError {
    /// The status change is not allowed from where the case stands.
    Transition,
    /// A request for evidence without items.
    Items,
    /// A due date that is not after today.
    Due,
    /// An appointment without a future date and time or a place.
    Interview,
    /// A transfer to no office, or to the case's own.
    Office,
    /// An address change that cannot be reversed.
    AddressChange,
}

impl CaseError {
    pub const ALL: [CaseError; 6] = [
        CaseError::Transition,
        CaseError::Items,
        CaseError::Due,
        CaseError::Interview,
        CaseError::Office,
        CaseError::AddressChange,
    ];

    pub fn code(self) -> &'static str {
        match self {
            CaseError::Transition => "transition",
            CaseError::Items => "items",
            CaseError::Due => "due",
            CaseError::Interview => "interview",
            CaseError::Office => "office",
            CaseError::AddressChange => "address_change",
        }
    }

    pub fn from_code(code: &str) -> Option<CaseError> {
        CaseError::ALL.into_iter().find(|e| e.code() == code)
    }
}

/// `GET /officer/cases/{receipt}?error=…`.
#[derive(Debug, Default, Deserialize)]
pub struct CaseQuery {
    pub error: Option<String>,
}

impl CaseQuery {
    /// The refusal to explain; an unknown code explains nothing.
    pub fn error(&self) -> Option<CaseError> {
        self.error.as_deref().and_then(CaseError::from_code)
    }
}

/// `POST …/status`.
#[derive(Debug, Default, Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    pub to: String,
}

impl StatusForm {
    pub fn status(&self) -> Result<CaseStatus, CaseError> {
        CaseStatus::from_code(&self.to).ok_or(CaseError::Transition)
    }
}

/// `POST …/rfe`: the items (one per line) and the due date.
#[derive(Debug, Default, Deserialize)]
pub struct RfeForm {
    #[serde(default)]
    pub items: String,
    #[serde(default)]
    pub due: String,
}

/// A request for evidence as parsed: 1 to 20 items of at most 300
/// characters, due after today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceRequest {
    pub items: Vec<String>,
    pub due: NaiveDate,
}

impl RfeForm {
    pub fn parse(&self, today: NaiveDate) -> Result<EvidenceRequest, CaseError> {
        let items: Vec<String> = self
            .items
            .lines()
            .map(|l| l.trim().chars().take(300).collect::<String>())
            .filter(|l| !l.is_empty())
            .take(20)
            .collect();
        if items.is_empty() {
            return Err(CaseError::Items);
        }
        match NaiveDate::parse_from_str(self.due.trim(), "%Y-%m-%d") {
            Ok(due) if due > today => Ok(EvidenceRequest { items, due }),
            _ => Err(CaseError::Due),
        }
    }
}

/// `POST …/interview` and `POST …/biometrics`: date and time, and place.
#[derive(Debug, Default, Deserialize)]
pub struct InterviewForm {
    #[serde(default)]
    pub when: String,
    #[serde(default)]
    pub place: String,
}

/// An appointment as parsed: after today, at a named place (at most 300
/// characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appointment {
    pub when: NaiveDateTime,
    pub place: String,
}

impl InterviewForm {
    pub fn parse(&self, today: NaiveDate) -> Result<Appointment, CaseError> {
        let place: String = self.place.trim().chars().take(300).collect();
        let when = NaiveDateTime::parse_from_str(self.when.trim(), "%Y-%m-%d %H:%M")
            .map_err(|_| CaseError::Interview)?;
        if when.date() <= today || place.is_empty() {
            return Err(CaseError::Interview);
        }
        Ok(Appointment { when, place })
    }
}

/// `POST …/transfer`.
#[derive(Debug, Default, Deserialize)]
pub struct TransferForm {
    #[serde(default)]
    pub office: String,
}

impl TransferForm {
    /// The office the case moves to: a known office other than `current`.
    pub fn office(&self, current: &str) -> Result<Office, CaseError> {
        Office::from_code(self.office.trim())
            .filter(|o| o.code() != current)
            .ok_or(CaseError::Office)
    }
}

/// `GET /officer/mail?state=…`.
#[derive(Debug, Default, Deserialize)]
pub struct MailQuery {
    pub state: Option<String>,
}

impl MailQuery {
    /// The letters to list: a mail state (never "not mailed"), queued
    /// unless another is asked for.
    pub fn filter(&self) -> MailState {
        self.state
            .as_deref()
            .and_then(MailState::from_code)
            .filter(|s| *s != MailState::NotMailed)
            .unwrap_or(MailState::Queued)
    }
}

/// `POST /officer/mail/{id}`.
#[derive(Debug, Default, Deserialize)]
pub struct MailForm {
    #[serde(default)]
    pub to: String,
}

impl MailForm {
    pub fn to(&self) -> Option<MailState> {
        MailState::from_code(&self.to)
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct AdminForm {
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub intake: String,
    #[serde(default)]
    pub a_number: String,
    /// Help-desk reset: the identity evidence checked, and the officer's note.
    #[serde(default)]
    pub evidence: String,
    #[serde(default)]
    pub evidence_note: String,
}

/// The admin actions, parsed once from the form's `action` field. Values
/// that need a page of their own when wrong (an email, a role, a name) are
/// checked in the action; a record id that is not a number is a bad request.
#[derive(Debug, PartialEq, Eq)]
pub enum AdminAction {
    CreateOfficer {
        email: String,
        role: String,
    },
    /// `disable_officer` or `enable_officer`.
    SetDisabled {
        id: i64,
        disable: bool,
    },
    SetRole {
        id: i64,
        role: String,
    },
    CreateClient {
        name: String,
        intake: bool,
    },
    RotateClient {
        client_id: String,
    },
    DisableClient {
        client_id: String,
    },
    /// Lift the sign-in and second-factor throttles of an account.
    Unlock {
        email: String,
    },
    /// Help-desk reset: the identity evidence checked and the officer's note
    /// (parsed by `auth::help_desk`, which refuses a reset without them).
    StartReset {
        email: String,
        evidence: String,
        evidence_note: String,
    },
    RevokeCodes {
        a_number: String,
    },
}

/// Why an admin form is not an action.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum AdminActionError {
    #[error("unknown admin action")]
    UnknownAction,
    #[error("the record id is not a number")]
    BadId,
}

impl From<AdminActionError> for AppError {
    fn from(e: AdminActionError) -> Self {
        tracing::warn!(error = %e, "admin form refused");
        AppError::BadRequest
    }
}

impl AdminAction {
    pub fn parse(f: AdminForm) -> Result<AdminAction, AdminActionError> {
        let id = |s: &str| s.trim().parse::<i64>().map_err(|_| AdminActionError::BadId);
        Ok(match f.action.as_str() {
            "create_officer" => AdminAction::CreateOfficer {
                email: f.email,
                role: f.role,
            },
            "disable_officer" => AdminAction::SetDisabled {
                id: id(&f.id)?,
                disable: true,
            },
            "enable_officer" => AdminAction::SetDisabled {
                id: id(&f.id)?,
                disable: false,
            },
            "set_role" => AdminAction::SetRole {
                id: id(&f.id)?,
                role: f.role,
            },
            "create_client" => AdminAction::CreateClient {
                name: f.name,
                intake: f.intake == "on",
            },
            "rotate_client" => AdminAction::RotateClient {
                client_id: f.id.trim().to_string(),
            },
            "disable_client" => AdminAction::DisableClient {
                client_id: f.id.trim().to_string(),
            },
            "unlock" => AdminAction::Unlock { email: f.email },
            "start_reset" => AdminAction::StartReset {
                email: f.email,
                evidence: f.evidence,
                evidence_note: f.evidence_note,
            },
            "revoke_codes" => AdminAction::RevokeCodes {
                a_number: f.a_number,
            },
            _ => return Err(AdminActionError::UnknownAction),
        })
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct FilingForm {
    #[serde(default)]
    pub a_number: String,
    #[serde(default)]
    pub given_name: String,
    #[serde(default)]
    pub family_name: String,
    #[serde(default)]
    pub date_of_birth: String,
    #[serde(default)]
    pub street: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub zip: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub form: String,
    #[serde(default)]
    pub office: String,
    #[serde(default)]
    pub received_date: String,
    #[serde(default)]
    pub channel: String,
    #[serde(default)]
    pub protected: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn the_search_reads_what_the_officer_typed() {
        let q = |s: &str| SearchQuery { q: s.to_string() }.parse();
        assert_eq!(q("   "), None);
        assert_eq!(
            q(" smi%t_h "),
            Some(CaseSearch::FamilyPrefix("smith".into()))
        );
        assert_eq!(
            q("O'Brien"),
            Some(CaseSearch::FamilyPrefix("o'brien".into()))
        );
        assert!(matches!(q("A-012-345-678"), Some(CaseSearch::ANumber(_))));
    }

    #[test]
    fn case_actions_parse_or_name_their_refusal() {
        let today = day("2026-03-01");
        let rfe = |items: &str, due: &str| {
            RfeForm {
                items: items.into(),
                due: due.into(),
            }
            .parse(today)
        };
        assert_eq!(
            rfe(" birth certificate \n\n passport ", "2026-04-01"),
            Ok(EvidenceRequest {
                items: vec!["birth certificate".into(), "passport".into()],
                due: day("2026-04-01"),
            })
        );
        assert_eq!(rfe(" \n ", "2026-04-01"), Err(CaseError::Items));
        assert_eq!(rfe("passport", "2026-03-01"), Err(CaseError::Due));
        assert_eq!(rfe("passport", "April"), Err(CaseError::Due));
        let appt = |when: &str, place: &str| {
            InterviewForm {
                when: when.into(),
                place: place.into(),
            }
            .parse(today)
        };
        assert!(appt("2026-03-02 09:30", "Field office").is_ok());
        assert_eq!(
            appt("2026-03-01 09:30", "Field office"),
            Err(CaseError::Interview)
        );
        assert_eq!(appt("2026-03-02 09:30", "  "), Err(CaseError::Interview));
        assert_eq!(
            StatusForm { to: "nope".into() }.status(),
            Err(CaseError::Transition)
        );
        assert_eq!(
            TransferForm { office: "".into() }.office("IOE"),
            Err(CaseError::Office)
        );
        for e in CaseError::ALL {
            assert_eq!(CaseError::from_code(e.code()), Some(e));
        }
        assert_eq!(CaseError::from_code("<script>"), None);
    }

    #[test]
    fn the_mail_room_lists_queued_letters_unless_asked() {
        assert_eq!(MailQuery { state: None }.filter(), MailState::Queued);
        let not_mailed = MailQuery {
            state: Some(MailState::NotMailed.code().into()),
        };
        assert_eq!(not_mailed.filter(), MailState::Queued);
        let printed = MailQuery {
            state: Some(MailState::Printed.code().into()),
        };
        assert_eq!(printed.filter(), MailState::Printed);
    }

    fn form(action: &str, id: &str) -> AdminForm {
        AdminForm {
            action: action.to_string(),
            id: id.to_string(),
            ..AdminForm::default()
        }
    }

    #[test]
    fn admin_forms_parse_into_actions_or_typed_refusals() {
        assert_eq!(
            AdminAction::parse(form("disable_officer", " 7 ")),
            Ok(AdminAction::SetDisabled {
                id: 7,
                disable: true
            })
        );
        assert_eq!(
            AdminAction::parse(form("rotate_client", " c_1 ")),
            Ok(AdminAction::RotateClient {
                client_id: "c_1".into()
            })
        );
        assert_eq!(
            AdminAction::parse(form("set_role", "x")),
            Err(AdminActionError::BadId)
        );
        for unknown in ["", "drop_tables", "DISABLE_OFFICER", "unlock "] {
            assert_eq!(
                AdminAction::parse(form(unknown, "1")),
                Err(AdminActionError::UnknownAction),
                "{unknown:?}"
            );
        }
    }
}
