//! Queries of the change-of-address flow. The request, its two letters, the
//! email and the audit entry are written in one transaction.

use rand::RngCore;
use sqlx::Row;

use crate::address_change::store::{self as changes, StoredAddress};
use crate::address_change::{ChangeEvent, ChangeState, RULES, letter_aad, transition};
use crate::audit;
use crate::crypto::{constant_time_eq, seal};
use crate::domain::{AccessCode, UsAddress};
use crate::flows::access_code::policy::PersonOnFile;
use crate::i18n::Lang;
use crate::notices::{MailState, NoticeKind};
use crate::outbox::{self, OutgoingEmail};
use crate::secrets::Secrets;
use crate::store::{Db, StoreError};

pub struct NewRequest<'a> {
    pub person: &'a PersonOnFile,
    pub new_address: &'a UsAddress,
    pub lang: Lang,
    pub confirm_code: &'a AccessCode,
    pub cancel_code: &'a AccessCode,
    pub now: i64,
    /// The notice to the email on file, if there is one.
    pub email: Option<OutgoingEmail>,
    /// Keyed hash of the identifier, for the audit entry.
    pub subject: &'a str,
    pub ip: &'a str,
}

fn stored(a: &UsAddress) -> StoredAddress {
    StoredAddress {
        street: a.street().to_string(),
        unit: a.unit().map(str::to_string),
        city: a.city().to_string(),
        state: a.state().code().to_string(),
        zip: a.zip().as_str().to_string(),
    }
}

#[allow(clippy::too_many_arguments)]
async fn queue_letter(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    secrets: &Secrets,
    rng: &mut (dyn RngCore + Send),
    kind: NoticeKind,
    r: &NewRequest<'_>,
    request_id: i64,
    to: &StoredAddress,
    code: &AccessCode,
    code_expires_at: Option<i64>,
    body: &str,
) -> Result<(), StoreError> {
    let sealed = seal(
        &secrets.letter_key,
        rng,
        letter_aad(request_id, kind).as_bytes(),
        code.as_str().as_bytes(),
    );
    let notice_date = chrono::DateTime::from_timestamp(r.now, 0)
        .map(|d| d.date_naive().to_string())
        .unwrap_or_default();
    sqlx::query(
        "INSERT INTO notices (kind, lang, person_id, case_id, notice_date, created_at, addressee, \
         street, unit, city, state, zip, body, code_sealed, code_expires_at, mail_state, mail_state_at, \
         address_change_id) \
         VALUES ($1, $2, $3, NULL, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $5, $16)",
    )
    .bind(kind.code())
    .bind(r.lang.code())
    .bind(r.person.person_id)
    .bind(notice_date)
    .bind(r.now)
    .bind(r.person.name.full())
    .bind(to.street.as_str())
    .bind(to.unit.as_deref())
    .bind(to.city.as_str())
    .bind(to.state.as_str())
    .bind(to.zip.as_str())
    .bind(body)
    .bind(sealed)
    .bind(code_expires_at)
    .bind(MailState::Queued.code())
    .bind(request_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Cancels the person's earlier open requests (a newer one replaces them),
/// stores the new one (keyed hashes only), queues the confirmation letter to
/// the new address, the notice to the old one and the email on file.
pub async fn create_request(
    db: &Db,
    secrets: &Secrets,
    rng: &mut (dyn RngCore + Send),
    r: NewRequest<'_>,
) -> Result<i64, StoreError> {
    let open: Vec<(i64, String, Option<i64>)> = sqlx::query_as(
        "SELECT id, state, hold_until FROM address_change_requests \
         WHERE person_id = $1 AND state IN ('requested', 'confirmed')",
    )
    .bind(r.person.person_id)
    .fetch_all(db.pool())
    .await?;
    let mut tx = db.pool().begin().await?;
    for (id, code, hold) in open {
        let Some(from) = ChangeState::from_parts(&code, hold) else {
            continue;
        };
        if let Ok(to) = transition(from, ChangeEvent::Cancel, r.now) {
            changes::set_state(&mut tx, id, from, to, r.now, "system:superseded").await?;
        }
    }
    let old = stored(&r.person.address);
    let new = stored(r.new_address);
    let confirm_expires_at = r.now + RULES.confirm_valid_secs;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO address_change_requests (person_id, lang, state, created_at, state_at, state_actor, \
         old_street, old_unit, old_city, old_state, old_zip, new_street, new_unit, new_city, new_state, new_zip, \
         confirm_hash, confirm_expires_at, cancel_hash) \
         VALUES ($1, $2, 'requested', $3, $3, 'public', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
         RETURNING id",
    )
    .bind(r.person.person_id)
    .bind(r.lang.code())
    .bind(r.now)
    .bind(old.street.as_str())
    .bind(old.unit.as_deref())
    .bind(old.city.as_str())
    .bind(old.state.as_str())
    .bind(old.zip.as_str())
    .bind(new.street.as_str())
    .bind(new.unit.as_deref())
    .bind(new.city.as_str())
    .bind(new.state.as_str())
    .bind(new.zip.as_str())
    .bind(r.confirm_code.keyed_hash(&secrets.access_code_key).to_vec())
    .bind(confirm_expires_at)
    .bind(r.cancel_code.keyed_hash(&secrets.access_code_key).to_vec())
    .fetch_one(&mut *tx)
    .await?;
    queue_letter(
        &mut tx,
        secrets,
        rng,
        NoticeKind::AddressConfirm,
        &r,
        id,
        &new,
        r.confirm_code,
        Some(confirm_expires_at),
        &new.one_line(),
    )
    .await?;
    queue_letter(
        &mut tx,
        secrets,
        rng,
        NoticeKind::AddressAlert,
        &r,
        id,
        &old,
        r.cancel_code,
        None,
        &r.new_address.masked(),
    )
    .await?;
    if let Some(msg) = &r.email {
        outbox::enqueue(&mut *tx, secrets, rng, msg, r.now).await?;
    }
    audit::record_in(
        db,
        &mut tx,
        &audit::Event {
            at: r.now,
            actor: "public",
            action: "address_change.request",
            subject: Some(r.subject.to_string()),
            ip: Some(r.ip.to_string()),
            detail: format!("sent request={id} email={}", r.email.is_some()),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmOutcome {
    /// Confirmed; the change takes effect at `hold_until`.
    Confirmed { hold_until: i64 },
    /// No open request, a wrong, expired or exhausted code: one answer.
    NotMatched,
}

/// Checks the letter's code against the person's open request (constant
/// time). A wrong code counts against the request; the last allowed wrong
/// try, or a code past its date, expires it.
pub async fn confirm(
    db: &Db,
    secrets: &Secrets,
    person_id: i64,
    code: &AccessCode,
    now: i64,
    hold_secs: i64,
    ip: &str,
) -> Result<ConfirmOutcome, StoreError> {
    let row = sqlx::query(
        "SELECT id, confirm_hash, confirm_expires_at, confirm_tries FROM address_change_requests \
         WHERE person_id = $1 AND state = 'requested' ORDER BY id DESC LIMIT 1",
    )
    .bind(person_id)
    .fetch_optional(db.pool())
    .await?;
    let mut tx = db.pool().begin().await?;
    let Some(row) = row else {
        audit::record_in(
            db,
            &mut tx,
            &audit::Event {
                at: now,
                actor: "public",
                action: "address_change.confirm",
                subject: None,
                ip: Some(ip.to_string()),
                detail: "no_open_request".to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        return Ok(ConfirmOutcome::NotMatched);
    };
    let id: i64 = row.try_get("id")?;
    let hash: Vec<u8> = row.try_get("confirm_hash")?;
    let expires_at: i64 = row.try_get("confirm_expires_at")?;
    let tries: i64 = row.try_get("confirm_tries")?;
    let from = ChangeState::Requested;
    let right = constant_time_eq(&code.keyed_hash(&secrets.access_code_key), &hash);
    let (outcome, detail) = if now >= expires_at || tries >= RULES.confirm_max_tries {
        if let Ok(to) = transition(from, ChangeEvent::Expire, now) {
            changes::set_state(&mut tx, id, from, to, now, "system").await?;
        }
        (ConfirmOutcome::NotMatched, "expired")
    } else if right {
        let to = transition(from, ChangeEvent::Confirm { hold_secs }, now);
        match to {
            Ok(to @ ChangeState::Confirmed { hold_until })
                if changes::set_state(&mut tx, id, from, to, now, "public").await? =>
            {
                (ConfirmOutcome::Confirmed { hold_until }, "confirmed")
            }
            _ => (ConfirmOutcome::NotMatched, "not_open"),
        }
    } else {
        sqlx::query(
            "UPDATE address_change_requests SET confirm_tries = confirm_tries + 1 \
             WHERE id = $1 AND state = 'requested'",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if tries + 1 >= RULES.confirm_max_tries
            && let Ok(to) = transition(from, ChangeEvent::Expire, now)
        {
            changes::set_state(&mut tx, id, from, to, now, "system").await?;
        }
        (ConfirmOutcome::NotMatched, "wrong_code")
    };
    audit::record_in(
        db,
        &mut tx,
        &audit::Event {
            at: now,
            actor: "public",
            action: "address_change.confirm",
            subject: Some(format!("address_change:{id}")),
            ip: Some(ip.to_string()),
            detail: detail.to_string(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(outcome)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    Cancelled,
    /// The code is right but the request already took effect or ended.
    TooLate,
    /// No request has this code.
    Unknown,
}

/// "This was not me": the code from the old-address notice or the email.
pub async fn cancel(
    db: &Db,
    secrets: &Secrets,
    code: &AccessCode,
    now: i64,
    ip: &str,
) -> Result<CancelOutcome, StoreError> {
    let hash = code.keyed_hash(&secrets.access_code_key).to_vec();
    let row: Option<(i64, String, Option<i64>)> = sqlx::query_as(
        "SELECT id, state, hold_until FROM address_change_requests WHERE cancel_hash = $1",
    )
    .bind(hash)
    .fetch_optional(db.pool())
    .await?;
    let mut tx = db.pool().begin().await?;
    let Some((id, code, hold)) = row else {
        return Ok(CancelOutcome::Unknown);
    };
    let Some(from) = ChangeState::from_parts(&code, hold) else {
        return Ok(CancelOutcome::Unknown);
    };
    let outcome = match transition(from, ChangeEvent::Cancel, now) {
        Ok(to) if changes::set_state(&mut tx, id, from, to, now, "public:not_me").await? => {
            CancelOutcome::Cancelled
        }
        _ => CancelOutcome::TooLate,
    };
    audit::record_in(
        db,
        &mut tx,
        &audit::Event {
            at: now,
            actor: "public",
            action: "address_change.cancel",
            subject: Some(format!("address_change:{id}")),
            ip: Some(ip.to_string()),
            detail: match outcome {
                CancelOutcome::Cancelled => format!("cancelled was={}", from.code()),
                _ => format!("too_late state={}", from.code()),
            },
        },
    )
    .await?;
    tx.commit().await?;
    Ok(outcome)
}
