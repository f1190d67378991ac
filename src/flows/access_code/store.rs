//! Queries of the access-code flow.

use chrono::NaiveDate;
use rand::RngCore;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::form::{Delivery, Identifier};
use super::policy::PersonOnFile;
use crate::crypto::seal;
use crate::domain::address::AddressInput;
use crate::domain::person::PersonName;
use crate::domain::{AccessCode, Email, UsAddress};
use crate::i18n::Lang;
use crate::notices::{MailState, NoticeKind};
use crate::outbox::{self, OutgoingEmail};
use crate::secrets::Secrets;
use crate::store::{Db, StoreError};

const PERSON_COLUMNS: &str = "p.id, p.given_name, p.family_name, p.dob, p.street, p.unit, p.city, \
                              p.state, p.zip, p.email, p.protected";

fn person(r: &AnyRow) -> Result<Option<PersonOnFile>, StoreError> {
    let given: String = r.try_get("given_name")?;
    let family: String = r.try_get("family_name")?;
    let dob: String = r.try_get("dob")?;
    let street: String = r.try_get("street")?;
    let unit: Option<String> = r.try_get("unit")?;
    let city: String = r.try_get("city")?;
    let state: String = r.try_get("state")?;
    let zip: String = r.try_get("zip")?;
    let email: Option<String> = r.try_get("email")?;
    // Stored values were parsed on the way in; a row that no longer parses
    // is treated as unverifiable rather than as an error page.
    let (Ok(name), Ok(dob), Ok(address)) = (
        PersonName::parse(&given, &family),
        NaiveDate::parse_from_str(&dob, "%Y-%m-%d"),
        UsAddress::parse(AddressInput {
            street: &street,
            unit: unit.as_deref().unwrap_or(""),
            city: &city,
            state: &state,
            zip: &zip,
        }),
    ) else {
        tracing::warn!(
            person = r.try_get::<i64, _>("id").unwrap_or(0),
            "person record does not parse"
        );
        return Ok(None);
    };
    Ok(Some(PersonOnFile {
        person_id: r.try_get("id")?,
        name,
        dob,
        address,
        email: email.as_deref().and_then(|e| Email::parse(e).ok()),
        protected: r.try_get::<i64, _>("protected")? != 0,
    }))
}

/// The person an identifier points at (one indexed query either way).
pub async fn find_person(db: &Db, id: &Identifier) -> Result<Option<PersonOnFile>, StoreError> {
    let row = match id {
        Identifier::ANumber(a) => {
            let sql = format!("SELECT {PERSON_COLUMNS} FROM persons p WHERE p.a_number = $1");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(a.as_str())
                .fetch_optional(db.pool())
                .await?
        }
        Identifier::Receipt(r) => {
            let sql = format!(
                "SELECT {PERSON_COLUMNS} FROM cases c JOIN persons p ON p.id = c.person_id \
                 WHERE c.receipt_number = $1"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(r.as_str())
                .fetch_optional(db.pool())
                .await?
        }
    };
    match row {
        Some(r) => person(&r),
        None => Ok(None),
    }
}

/// When this person's code letters were issued since `since` (change-of-
/// address confirmation letters count too: one budget for both).
pub async fn letters_since(db: &Db, person_id: i64, since: i64) -> Result<Vec<i64>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT issued_at FROM access_codes WHERE person_id = $1 AND channel = 'post' AND issued_at > $2 \
         UNION ALL SELECT created_at FROM address_change_requests WHERE person_id = $1 AND created_at > $2",
    )
    .bind(person_id)
    .bind(since)
    .fetch_all(db.pool())
    .await?)
}

/// Records a spent CAPTCHA challenge; false when it was already spent.
pub async fn spend_captcha(
    db: &Db,
    challenge_id: &str,
    expires_at: i64,
) -> Result<bool, StoreError> {
    let r = sqlx::query(
        "INSERT INTO captcha_spent (challenge_id, expires_at) VALUES ($1, $2) ON CONFLICT (challenge_id) DO NOTHING",
    )
    .bind(challenge_id)
    .bind(expires_at)
    .execute(db.pool())
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn purge_spent_captchas(db: &Db, now: i64) -> Result<u64, StoreError> {
    let r = sqlx::query("DELETE FROM captcha_spent WHERE expires_at < $1")
        .bind(now)
        .execute(db.pool())
        .await?;
    Ok(r.rows_affected())
}

// How a code letter's sealed code is bound to its code row (shared with the
// mail room's export, which opens it).
pub use crate::notices::code_letter_aad as letter_aad;

pub struct Issue<'a> {
    pub person: &'a PersonOnFile,
    pub delivery: Delivery,
    pub code: &'a AccessCode,
    pub now: i64,
    pub expires_at: i64,
    pub lang: Lang,
    /// The email to send (for email delivery).
    pub email: Option<OutgoingEmail>,
}

/// Revokes the person's older unused codes, stores the new one (keyed hash
/// only) and queues its delivery — all in one transaction.
pub async fn issue(
    db: &Db,
    secrets: &Secrets,
    rng: &mut (dyn RngCore + Send),
    i: Issue<'_>,
) -> Result<(), StoreError> {
    let mut tx = db.pool().begin().await?;
    sqlx::query(
        "UPDATE access_codes SET revoked_at = $1 \
         WHERE person_id = $2 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1",
    )
    .bind(i.now)
    .bind(i.person.person_id)
    .execute(&mut *tx)
    .await?;
    let hash = i.code.keyed_hash(&secrets.access_code_key).to_vec();
    let code_id: i64 = sqlx::query_scalar(
        "INSERT INTO access_codes (person_id, code_hash, channel, issued_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(i.person.person_id)
    .bind(hash)
    .bind(i.delivery.code())
    .bind(i.now)
    .bind(i.expires_at)
    .fetch_one(&mut *tx)
    .await?;
    match i.delivery {
        Delivery::Email => {
            if let Some(msg) = &i.email {
                outbox::enqueue(&mut *tx, secrets, rng, msg, i.now).await?;
            }
        }
        Delivery::Post => {
            let a = &i.person.address;
            let sealed = seal(
                &secrets.letter_key,
                rng,
                letter_aad(code_id).as_bytes(),
                i.code.as_str().as_bytes(),
            );
            let notice_date = chrono::DateTime::from_timestamp(i.now, 0)
                .map(|d| d.date_naive().to_string())
                .unwrap_or_default();
            sqlx::query(
                "INSERT INTO notices (kind, lang, person_id, case_id, notice_date, created_at, addressee, \
                 street, unit, city, state, zip, receipt_number, form, received_date, access_code_id, \
                 code_sealed, code_expires_at, mail_state, mail_state_at) \
                 VALUES ($1, $2, $3, NULL, $4, $5, $6, $7, $8, $9, $10, $11, NULL, NULL, NULL, $12, $13, $14, $15, $5)",
            )
            .bind(NoticeKind::CodeLetter.code())
            .bind(i.lang.code())
            .bind(i.person.person_id)
            .bind(notice_date)
            .bind(i.now)
            .bind(i.person.name.full())
            .bind(a.street().to_string())
            .bind(a.unit().map(str::to_string))
            .bind(a.city().to_string())
            .bind(a.state().code().to_string())
            .bind(a.zip().as_str().to_string())
            .bind(code_id)
            .bind(sealed)
            .bind(i.expires_at)
            .bind(MailState::Queued.code())
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}
