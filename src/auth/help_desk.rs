//! A help-desk reset (NIST SP 800-63B-4 §6.1.2.3 account recovery): the
//! person lost their authenticator and an officer checked who they are. The
//! reset leaves no usable credential — the password and the second factor
//! both go, every session ends — and only the reset code emailed to the
//! address on file leads to a new password and then a new second factor.
//! The officer records the identity evidence they checked; the audit log
//! keeps it; the owner is told, with a "this was not me" path.

use crate::app::AppState;
use crate::auth::{account, session, throttle};
use crate::error::AppError;
use crate::i18n::Lang;

/// The identity evidence an officer may rely on (a fixed list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    /// A government photo ID, seen in person.
    PhotoIdInPerson,
    /// A video call with a government photo ID shown.
    VideoCallWithId,
    /// A-Number, date of birth and receipt number answered, and a code
    /// mailed to the postal address on file read back.
    RecordAnswersAndMailedCode,
    /// A code mailed to the postal address on file read back.
    MailedCodeToAddressOnFile,
}

impl Evidence {
    pub const ALL: [Evidence; 4] = [
        Evidence::PhotoIdInPerson,
        Evidence::VideoCallWithId,
        Evidence::RecordAnswersAndMailedCode,
        Evidence::MailedCodeToAddressOnFile,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Evidence::PhotoIdInPerson => "photo_id_in_person",
            Evidence::VideoCallWithId => "video_call_with_id",
            Evidence::RecordAnswersAndMailedCode => "record_answers_and_mailed_code",
            Evidence::MailedCodeToAddressOnFile => "mailed_code_to_address_on_file",
        }
    }

    pub fn parse(s: &str) -> Option<Evidence> {
        Evidence::ALL.into_iter().find(|e| e.code() == s.trim())
    }
}

/// The officer's note on what they checked: required, one line, at most
/// 500 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceNote(String);

impl EvidenceNote {
    pub const MAX_CHARS: usize = 500;

    pub fn parse(s: &str) -> Option<EvidenceNote> {
        let one_line: String = s
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let t = one_line.trim();
        (!t.is_empty() && t.chars().count() <= Self::MAX_CHARS).then(|| EvidenceNote(t.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Starts a help-desk reset of `acct`, done by `actor` (an officer's audit
/// name, or `cli`) from `ip`.
pub async fn start_reset(
    state: &AppState,
    acct: &account::Account,
    evidence: Evidence,
    note: &EvidenceNote,
    actor: &str,
    ip: &str,
) -> Result<(), AppError> {
    let now = state.now().timestamp();
    account::clear_password(&state.db, acct.id, now).await?;
    account::clear_second_factor(&state.db, acct.id, now).await?;
    session::revoke_all(&state.db, acct.id, None, now).await?;
    crate::api_guard::applicant::revoke_all(&state.db, acct.id, Some(ip), "help-desk reset", now)
        .await?;
    // The old authenticators are gone, so are their throttles.
    throttle::unlock_account(
        &state.db,
        acct.id,
        &throttle::identifier_hash(&state.secrets.identifier_key, &acct.email),
    )
    .await?;
    crate::auth::email_codes::send_reset_code(state, Lang::En, acct.id, &acct.email).await?;
    let m = state.messages;
    let help = format!("{}/help", state.config.public_url);
    let args = [("agency", state.agency(Lang::En)), ("url", help.as_str())];
    crate::outbox::enqueue(
        state.db.pool(),
        &state.secrets,
        &mut rand::rngs::OsRng,
        &crate::outbox::OutgoingEmail {
            to: acct.email.clone(),
            subject: m.fmt(Lang::En, "email.help_desk_reset.subject", &args),
            text: m.fmt(Lang::En, "email.help_desk_reset.body", &args),
        },
        now,
    )
    .await?;
    state.outbox_wake.notify_one();
    crate::audit::record(
        &state.db,
        &crate::audit::Event {
            at: now,
            actor,
            action: "account.reset_started",
            subject: Some(format!("account:{}", acct.id)),
            ip: Some(ip.to_string()),
            detail: format!("evidence={}; note={}", evidence.code(), note.as_str()),
        },
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_round_trips_and_notes_are_required() {
        for e in Evidence::ALL {
            assert_eq!(Evidence::parse(e.code()), Some(e));
        }
        assert_eq!(Evidence::parse("trust me"), None);
        assert_eq!(EvidenceNote::parse("  "), None);
        assert_eq!(EvidenceNote::parse(&"x".repeat(501)), None);
        assert_eq!(
            EvidenceNote::parse(" Passport\nseen ").unwrap().as_str(),
            "Passport seen"
        );
    }
}
