//! Demo data (`serve --demo`): deterministic and idempotent (dates of the
//! decided cases count back from the day it is loaded). It includes the
//! USCIS sandbox's staging receipt numbers, so clients written against that
//! sandbox run unchanged, cases across many statuses and forms, and one
//! 1367-protected case. `EAC0000000000` never exists.

use chrono::{NaiveDate, NaiveDateTime};
use rand::SeedableRng;
use sqlx::Row;

use crate::domain::address::AddressInput;
use crate::domain::person::{DateOfBirth, PersonName};
use crate::domain::status::transition;
use crate::domain::{
    ANumber, AccessCode, CaseStatus, Channel, Email, FormType, Office, ReceiptNumber, UsAddress,
};
use crate::flows::intake::form::IntakeRow;
use crate::flows::intake::store::{Filing, write_batch};
use crate::secrets::Secrets;
use crate::store::{Db, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("demo data is inconsistent: {0}")]
    Invalid(String),
}

impl From<sqlx::Error> for DemoError {
    fn from(e: sqlx::Error) -> Self {
        DemoError::Store(StoreError::from(e))
    }
}

/// Someone a newcomer can use to try the portal.
#[derive(Debug, Clone)]
pub struct DemoIdentity {
    pub who: String,
    pub a_number: String,
    pub date_of_birth: String,
    pub receipt: String,
    pub form: &'static str,
    pub access_code: Option<String>,
    pub note: &'static str,
}

struct Person {
    a: &'static str,
    given: &'static str,
    family: &'static str,
    dob: &'static str,
    street: &'static str,
    unit: &'static str,
    city: &'static str,
    state: &'static str,
    zip: &'static str,
    email: &'static str,
    protected: bool,
}

const PEOPLE: [Person; 6] = [
    Person {
        a: "A012345678",
        given: "María José",
        family: "Núñez García",
        dob: "1985-02-14",
        street: "123 Main Street",
        unit: "Apt 4",
        city: "Springfield",
        state: "IL",
        zip: "62701",
        email: "maria.nunez@example.com",
        protected: false,
    },
    Person {
        a: "A098765432",
        given: "Nguyễn",
        family: "Thị Lan",
        dob: "1979-07-30",
        street: "45 North Elm Avenue",
        unit: "",
        city: "Houston",
        state: "TX",
        zip: "77002-1234",
        email: "",
        protected: false,
    },
    Person {
        a: "A055512345",
        given: "Oluwaseun",
        family: "Adeyemi",
        dob: "1992-11-03",
        street: "9 Harbor Road",
        unit: "Suite 200",
        city: "Burlington",
        state: "VT",
        zip: "05401",
        email: "seun.adeyemi@example.com",
        protected: false,
    },
    Person {
        a: "A077700011",
        given: "Wei",
        family: "Zhang",
        dob: "1988-04-21",
        street: "700 Sunset Boulevard",
        unit: "Unit 12",
        city: "Los Angeles",
        state: "CA",
        zip: "90028",
        email: "",
        protected: false,
    },
    Person {
        a: "A066600022",
        given: "Ana",
        family: "Pereira",
        dob: "1990-01-09",
        street: "18 West Lake Drive",
        unit: "",
        city: "Lincoln",
        state: "NE",
        zip: "68508",
        email: "ana.pereira@example.com",
        protected: false,
    },
    // 8 U.S.C. 1367: the status page and the API must not reveal this case.
    Person {
        a: "A013670001",
        given: "Protected",
        family: "Applicant",
        dob: "1995-06-15",
        street: "1 Safe Harbor Lane",
        unit: "",
        city: "Burlington",
        state: "VT",
        zip: "05401",
        email: "",
        protected: true,
    },
];

struct DemoCase {
    person: usize,
    receipt: Option<&'static str>,
    form: FormType,
    office: Office,
    channel: Channel,
    received: &'static str,
    /// Statuses after "Case Was Received", each with its date-time (UTC).
    path: &'static [(CaseStatus, &'static str)],
    /// The sandbox lists some cases without history.
    keep_history: bool,
    note: &'static str,
}

use CaseStatus as S;

mod decided;
mod sandbox;
mod steps;

const CASES: &[DemoCase] = &[
    DemoCase {
        person: 0,
        receipt: Some("EAC9999103403"),
        form: FormType::I130,
        office: Office::Eac,
        channel: Channel::Paper,
        received: "2023-01-10",
        path: &[
            (S::ReceiptNoticeWasSent, "2023-01-12 09:10:00"),
            (S::ActivelyReviewed, "2023-06-01 10:00:00"),
            (S::CaseWasApproved, "2023-09-05 14:28:46"),
        ],
        keep_history: true,
        note: "USCIS sandbox: approved, with history",
    },
    DemoCase {
        person: 1,
        receipt: Some("LIN9999106498"),
        form: FormType::I765,
        office: Office::Lin,
        channel: Channel::Paper,
        received: "2024-02-05",
        path: &[
            (S::FingerprintFeeWasReceived, "2024-02-07 08:00:00"),
            (S::FingerprintsWereTaken, "2024-03-15 13:45:00"),
        ],
        keep_history: true,
        note: "USCIS sandbox: with history",
    },
    DemoCase {
        person: 2,
        receipt: Some("SRC9999102777"),
        form: FormType::I485,
        office: Office::Src,
        channel: Channel::Paper,
        received: "2024-05-20",
        path: &[
            (S::ReceiptNoticeWasSent, "2024-05-22 09:00:00"),
            (S::AdditionalEvidenceRequested, "2024-09-10 11:00:00"),
            (S::EvidenceResponseReceived, "2024-10-28 15:20:00"),
        ],
        keep_history: true,
        note: "USCIS sandbox: with history",
    },
    DemoCase {
        person: 0,
        receipt: Some("EAC9999103400"),
        form: FormType::I131,
        office: Office::Eac,
        channel: Channel::Paper,
        received: "2024-08-01",
        path: &[],
        keep_history: false,
        note: "USCIS sandbox: no history",
    },
    DemoCase {
        person: 4,
        receipt: Some("LIN9999106501"),
        form: FormType::N400,
        office: Office::Lin,
        channel: Channel::Paper,
        received: "2024-03-11",
        path: &[(S::InterviewWasScheduled, "2024-09-02 10:00:00")],
        keep_history: false,
        note: "USCIS sandbox: no history",
    },
    DemoCase {
        person: 3,
        receipt: Some("SRC9999132694"),
        form: FormType::I90,
        office: Office::Src,
        channel: Channel::Paper,
        received: "2023-11-06",
        path: &[
            (S::CaseWasApproved, "2024-04-01 12:00:00"),
            (S::CardBeingProduced, "2024-04-03 12:00:00"),
            (S::CardWasMailed, "2024-04-09 12:00:00"),
        ],
        keep_history: false,
        note: "USCIS sandbox: no history",
    },
    DemoCase {
        person: 2,
        receipt: None,
        form: FormType::I765,
        office: Office::Eac,
        channel: Channel::Paper,
        received: "2026-10-06",
        path: &[
            (S::ReceiptNoticeWasSent, "2026-10-08 09:00:00"),
            (S::InitialEvidenceRequested, "2026-11-02 10:00:00"),
        ],
        keep_history: true,
        note: "waiting for initial evidence",
    },
    DemoCase {
        person: 3,
        receipt: None,
        form: FormType::I129F,
        office: Office::Wac,
        channel: Channel::Paper,
        received: "2025-12-01",
        path: &[
            (S::ActivelyReviewed, "2026-03-02 10:00:00"),
            (S::CaseWasDenied, "2026-06-15 16:00:00"),
        ],
        keep_history: true,
        note: "denied",
    },
    DemoCase {
        person: 4,
        receipt: None,
        form: FormType::I751,
        office: Office::Ysc,
        channel: Channel::Paper,
        received: "2026-01-20",
        path: &[
            (S::FingerprintsWereTaken, "2026-03-04 09:30:00"),
            (S::CaseWasTransferred, "2026-05-11 10:00:00"),
            (S::IntentToDenySent, "2026-08-19 10:00:00"),
        ],
        keep_history: true,
        note: "awaiting the applicant",
    },
    DemoCase {
        person: 1,
        receipt: None,
        form: FormType::N600,
        office: Office::Nbc,
        channel: Channel::Paper,
        received: "2025-07-14",
        path: &[
            (S::InterviewWasScheduled, "2025-10-01 09:00:00"),
            (S::InterviewWasRescheduled, "2025-10-20 09:00:00"),
            (S::InterviewWasCompleted, "2025-11-18 11:00:00"),
            (S::CaseWasApproved, "2026-01-09 10:00:00"),
        ],
        keep_history: true,
        note: "approved after interview",
    },
    DemoCase {
        person: 0,
        receipt: None,
        form: FormType::I485,
        office: Office::Ioe,
        channel: Channel::Online,
        received: "2026-09-15",
        path: &[(S::FeesWereWaived, "2026-09-16 10:00:00")],
        keep_history: true,
        note: "online filing",
    },
    DemoCase {
        person: 5,
        receipt: None,
        form: FormType::I765,
        office: Office::Eac,
        channel: Channel::Paper,
        received: "2026-07-01",
        path: &[(S::ActivelyReviewed, "2026-09-01 10:00:00")],
        keep_history: true,
        note: "1367-protected: status page and API answer \"not recognized\"",
    },
];

/// Fixed access code of the demo case at `index`, so the identities printed
/// at start-up work every time (`DEM0-C0DE-0001`, …).
fn demo_code(index: usize) -> Option<AccessCode> {
    AccessCode::parse(&format!("DEM0C0DE{:04}", index + 1)).ok()
}

fn bad(e: impl std::fmt::Display) -> DemoError {
    DemoError::Invalid(e.to_string())
}

fn ts(s: &str) -> Result<i64, DemoError> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
        .map(|d| d.and_utc().timestamp())
        .map_err(bad)
}

fn row(p: &Person, c: &DemoCase) -> Result<IntakeRow, DemoError> {
    Ok(IntakeRow {
        a_number: ANumber::parse(p.a).map_err(bad)?,
        name: PersonName::parse(p.given, p.family).map_err(bad)?,
        dob: DateOfBirth::parse_iso(p.dob).map_err(bad)?,
        address: UsAddress::parse(AddressInput {
            street: p.street,
            unit: p.unit,
            city: p.city,
            state: p.state,
            zip: p.zip,
        })
        .map_err(bad)?,
        email: if p.email.is_empty() {
            None
        } else {
            Some(Email::parse(p.email).map_err(bad)?)
        },
        form: c.form,
        office: c.office,
        received: NaiveDate::parse_from_str(c.received, "%Y-%m-%d").map_err(bad)?,
        channel: c.channel,
        protected: p.protected,
    })
}

/// Demo accounts (fully enrolled ones share one password and TOTP key, so a
/// newcomer can add the key to an authenticator app and sign in).
pub const DEMO_PASSWORD: &str = "lantern meadow copper violin";
const DEMO_TOTP: &[u8; 20] = b"casegate-demo-totp!!";

pub struct DemoAccount {
    pub email: &'static str,
    pub role: crate::auth::account::Role,
    pub enrolled: bool,
    pub note: &'static str,
}

pub const ACCOUNTS: [DemoAccount; 3] = [
    DemoAccount {
        email: "maria.nunez@example.com",
        role: crate::auth::account::Role::Applicant,
        enrolled: true,
        note: "applicant, two-step verification set up",
    },
    DemoAccount {
        email: "new.applicant@example.com",
        role: crate::auth::account::Role::Applicant,
        enrolled: false,
        note: "applicant, email confirmed, two-step verification not set up yet",
    },
    DemoAccount {
        email: "admin@agency.example",
        role: crate::auth::account::Role::Admin,
        enrolled: true,
        note: "officer (admin)",
    },
];

/// Backup codes of the enrolled demo accounts (each works once).
pub fn demo_backup_codes() -> Vec<String> {
    (1..=10).map(|i| format!("DEM00-{i:05}")).collect()
}

/// The demo TOTP key in base32, for an authenticator app.
pub fn demo_totp_key() -> String {
    crate::auth::totp::TotpSecret::from_bytes(DEMO_TOTP)
        .map(|s| s.base32_grouped())
        .unwrap_or_default()
}

/// Creates the demo accounts that do not exist yet.
pub async fn load_accounts(db: &Db, secrets: &Secrets, now: i64) -> Result<(), DemoError> {
    use crate::auth::account;
    let Some(secret) = crate::auth::totp::TotpSecret::from_bytes(DEMO_TOTP) else {
        return Err(DemoError::Invalid("demo TOTP key".into()));
    };
    for a in &ACCOUNTS {
        let email = Email::parse(a.email).map_err(bad)?;
        if let Some(existing) = account::by_email(db, &email).await? {
            // Disabled by a run without `--demo`: the demo is back on.
            if existing.disabled_at.is_some() && uses_demo_credentials(secrets, &existing).await? {
                sqlx::query("UPDATE accounts SET disabled_at = NULL WHERE id = $1")
                    .bind(existing.id)
                    .execute(db.pool())
                    .await?;
            }
            continue;
        }
        let pepper = secrets.password_pepper;
        let hash = tokio::task::spawn_blocking(move || {
            crate::auth::password::hash_blocking(&pepper, DEMO_PASSWORD, &mut rand::rngs::OsRng)
        })
        .await
        .map_err(bad)?
        .map_err(bad)?;
        let Some(id) = account::create(db, &email, a.role, Some(&hash), now).await? else {
            continue;
        };
        account::confirm_email(db, id, now).await?;
        if a.enrolled {
            let sealed = crate::auth::seal_totp(secrets, id, &secret);
            account::enrol_totp(db, id, &sealed, 0, now).await?;
            let codes: Vec<crate::auth::backup_codes::BackupCode> = demo_backup_codes()
                .iter()
                .filter_map(|c| crate::auth::backup_codes::BackupCode::parse(c).ok())
                .collect();
            account::replace_backup_codes(db, id, &secrets.session_key, &codes, now).await?;
        }
    }
    Ok(())
}

/// Pure enough: does this account still open with the public demo password
/// or the public demo TOTP key?
async fn uses_demo_credentials(
    secrets: &Secrets,
    a: &crate::auth::account::Account,
) -> Result<bool, DemoError> {
    if let Some(sealed) = &a.totp_sealed
        && crate::auth::open_totp(secrets, a.id, sealed)
            .is_some_and(|t| t.as_bytes() == DEMO_TOTP.as_slice())
    {
        return Ok(true);
    }
    let Some(phc) = a.password_hash.clone() else {
        return Ok(false);
    };
    let pepper = secrets.password_pepper;
    let demo = tokio::task::spawn_blocking(move || {
        crate::auth::password::verify_blocking(&pepper, DEMO_PASSWORD, &phc)
    })
    .await
    .map_err(bad)?
    .unwrap_or(false);
    Ok(demo)
}

/// Outside `--demo`: every demo account that still opens with the public
/// demo credentials (password, TOTP key, backup codes) is disabled, its
/// sessions are revoked and the change is audited. An account an operator
/// took over (own password and own TOTP key) is left alone. Returns how many
/// were disabled.
pub async fn disable_accounts(db: &Db, secrets: &Secrets, now: i64) -> Result<usize, DemoError> {
    use crate::auth::account;
    let mut disabled = 0;
    for a in &ACCOUNTS {
        let email = Email::parse(a.email).map_err(bad)?;
        let Some(existing) = account::by_email(db, &email).await? else {
            continue;
        };
        if existing.disabled_at.is_some() || !uses_demo_credentials(secrets, &existing).await? {
            continue;
        }
        sqlx::query("UPDATE accounts SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL")
            .bind(now)
            .bind(existing.id)
            .execute(db.pool())
            .await?;
        crate::auth::session::revoke_all(db, existing.id, None, now).await?;
        crate::audit::record(
            db,
            &crate::audit::Event {
                at: now,
                actor: "system",
                action: "demo.account_disabled",
                subject: Some(format!("account:{}", existing.id)),
                ip: None,
                detail: "public demo credentials; the server runs without --demo".into(),
            },
        )
        .await?;
        disabled += 1;
    }
    Ok(disabled)
}

/// Loads the demo data if it is not there yet; returns the identities to print.
pub async fn load(db: &Db, secrets: &Secrets, now: i64) -> Result<Vec<DemoIdentity>, DemoError> {
    let present: Option<i64> =
        sqlx::query_scalar("SELECT id FROM cases WHERE receipt_number = 'EAC9999103403'")
            .fetch_optional(db.pool())
            .await?;
    if present.is_none() {
        insert(db, secrets, now, &PEOPLE, CASES, false).await?;
    }
    let sandbox_present: Option<i64> =
        sqlx::query_scalar("SELECT id FROM cases WHERE receipt_number = 'EAC9999103404'")
            .fetch_optional(db.pool())
            .await?;
    if sandbox_present.is_none() {
        insert(db, secrets, now, &sandbox::PEOPLE, sandbox::CASES, true).await?;
    }
    decided::load(db, secrets, now).await?;
    load_accounts(db, secrets, now).await?;
    identities(db).await
}

/// Writes one batch of demo cases. The guided-tour batch gets the printed
/// `DEM0-C0DE-…` access codes and its letters wait in the mail room; the
/// `sandbox` batch keeps random codes and its letters count as mailed (those
/// cases are years old).
async fn insert(
    db: &Db,
    secrets: &Secrets,
    now: i64,
    people: &[Person],
    cases: &[DemoCase],
    sandbox: bool,
) -> Result<(), DemoError> {
    let mut filings = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let receipt = c
            .receipt
            .map(ReceiptNumber::parse)
            .transpose()
            .map_err(bad)?;
        let Some(person) = people.get(c.person) else {
            return Err(bad("demo case names an unknown person"));
        };
        filings.push(Filing {
            line: i as u64 + 1,
            row: row(person, c)?,
            receipt,
        });
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x0000_ca5e_9a7e);
    let outcome = write_batch(db, secrets, &mut rng, filings, now, 3650).await?;
    if outcome.created.len() != cases.len() {
        return Err(DemoError::Invalid(format!(
            "{} demo cases written of {}",
            outcome.created.len(),
            cases.len()
        )));
    }
    let mut tx = db.pool().begin().await?;
    for created in &outcome.created {
        let Some(c) = cases.get((created.line - 1) as usize) else {
            return Err(bad("demo batch line out of range"));
        };
        let mut current = CaseStatus::CaseWasReceived;
        let mut at = 0;
        for (step, (status, when)) in c.path.iter().enumerate() {
            transition(c.form, Some(current), *status).map_err(bad)?;
            at = ts(when)?;
            sqlx::query(
                "INSERT INTO case_history (case_id, status, at, actor) VALUES ($1, $2, $3, 'demo')",
            )
            .bind(created.case_id)
            .bind(status.code())
            .bind(at)
            .execute(&mut *tx)
            .await?;
            // What the officer console does for the same step: the notice
            // the history says was mailed, and the evidence request.
            let answered_at = match c.path.get(step + 1) {
                Some((_, next)) => Some(ts(next)?),
                None => None,
            };
            steps::record_step(&mut tx, created.case_id, *status, at, answered_at, now).await?;
            current = *status;
        }
        let receipt_sent = match c
            .path
            .iter()
            .find(|(s, _)| *s == CaseStatus::ReceiptNoticeWasSent)
        {
            Some((_, when)) => ts(when)?,
            None => ts(&format!("{} 12:00:00", c.received))?,
        };
        steps::date_receipt_notice(&mut tx, created.case_id, receipt_sent).await?;
        if current != CaseStatus::CaseWasReceived {
            sqlx::query(
                "UPDATE cases SET status = $1, status_at = $2, updated_at = $2 WHERE id = $3",
            )
            .bind(current.code())
            .bind(at)
            .bind(created.case_id)
            .execute(&mut *tx)
            .await?;
        }
        if !c.keep_history {
            sqlx::query("DELETE FROM case_history WHERE case_id = $1")
                .bind(created.case_id)
                .execute(&mut *tx)
                .await?;
        }
        // Replace the random letter code with the fixed demo code.
        if sandbox {
            sqlx::query(
                "UPDATE notices SET mail_state = 'mailed', mail_state_at = created_at WHERE case_id = $1",
            )
            .bind(created.case_id)
            .execute(&mut *tx)
            .await?;
        }
        if let (false, Some(code), Some(_)) = (
            sandbox,
            demo_code((created.line - 1) as usize),
            &created.access_code,
        ) {
            let hash = code.keyed_hash(&secrets.access_code_key).to_vec();
            sqlx::query(
                "UPDATE access_codes SET code_hash = $1 WHERE case_id = $2 AND channel = 'notice'",
            )
            .bind(hash)
            .bind(created.case_id)
            .execute(&mut *tx)
            .await?;
            let sealed = crate::crypto::seal(
                &secrets.letter_key,
                &mut rng,
                created.receipt.as_str().as_bytes(),
                code.as_str().as_bytes(),
            );
            sqlx::query(
                "UPDATE notices SET code_sealed = $1 WHERE case_id = $2 AND kind = 'access_notice'",
            )
            .bind(sealed)
            .bind(created.case_id)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

async fn identities(db: &Db) -> Result<Vec<DemoIdentity>, DemoError> {
    let mut out = Vec::new();
    for (index, c) in CASES.iter().enumerate() {
        let p = &PEOPLE[c.person];
        let receipt = match c.receipt {
            Some(r) => r.to_string(),
            None => {
                let r = sqlx::query(
                    "SELECT c.receipt_number FROM cases c JOIN persons p ON p.id = c.person_id \
                     WHERE p.a_number = $1 AND c.form = $2 AND c.received_date = $3",
                )
                .bind(p.a)
                .bind(c.form.id())
                .bind(c.received)
                .fetch_optional(db.pool())
                .await?;
                match r {
                    Some(row) => row.try_get::<String, _>(0)?,
                    None => continue,
                }
            }
        };
        let code = if c.channel == Channel::Paper {
            demo_code(index).map(|k| k.grouped())
        } else {
            None
        };
        out.push(DemoIdentity {
            who: format!("{} {}", p.given, p.family),
            a_number: p.a.to_string(),
            date_of_birth: p.dob.to_string(),
            receipt,
            form: c.form.id(),
            access_code: code,
            note: c.note,
        });
    }
    Ok(out)
}
