//! Address-change requests in the database: taking effect when the hold has
//! ended (lazily, before a person is read, and in the housekeeping sweep —
//! a conditional update, so several server instances never apply one twice),
//! the officer console's list and reversal.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{ChangeEvent, ChangeState, transition};
use crate::audit;
use crate::domain::CaseStatus;
use crate::store::{Db, StoreError};

/// A stored address, field by field (already normalised when stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAddress {
    pub street: String,
    pub unit: Option<String>,
    pub city: String,
    pub state: String,
    pub zip: String,
}

impl StoredAddress {
    /// `123 MAIN ST APT 4, SPRINGFIELD IL 62701`.
    pub fn one_line(&self) -> String {
        format!(
            "{}{}, {} {} {}",
            self.street,
            self.unit
                .as_deref()
                .filter(|u| !u.is_empty())
                .map(|u| format!(" {u}"))
                .unwrap_or_default(),
            self.city,
            self.state,
            self.zip
        )
    }
}

/// One request, as the console shows it.
#[derive(Debug, Clone)]
pub struct ChangeRow {
    pub id: i64,
    pub person_id: i64,
    pub state: ChangeState,
    pub created_at: i64,
    pub state_at: i64,
    pub state_actor: String,
    pub old: StoredAddress,
    pub new: StoredAddress,
}

pub const COLUMNS: &str = "id, person_id, state, hold_until, created_at, state_at, state_actor, \
     old_street, old_unit, old_city, old_state, old_zip, new_street, new_unit, new_city, new_state, new_zip";

pub fn from_row(r: &AnyRow) -> Result<ChangeRow, StoreError> {
    let code: String = r.try_get("state")?;
    let state = ChangeState::from_parts(&code, r.try_get("hold_until")?)
        .ok_or_else(|| StoreError::Query(sqlx::Error::Decode("bad address-change state".into())))?;
    let addr = |p: &str| -> Result<StoredAddress, sqlx::Error> {
        Ok(StoredAddress {
            street: r.try_get(format!("{p}_street").as_str())?,
            unit: r.try_get(format!("{p}_unit").as_str())?,
            city: r.try_get(format!("{p}_city").as_str())?,
            state: r.try_get(format!("{p}_state").as_str())?,
            zip: r.try_get(format!("{p}_zip").as_str())?,
        })
    };
    Ok(ChangeRow {
        id: r.try_get("id")?,
        person_id: r.try_get("person_id")?,
        state,
        created_at: r.try_get("created_at")?,
        state_at: r.try_get("state_at")?,
        state_actor: r.try_get("state_actor")?,
        old: addr("old")?,
        new: addr("new")?,
    })
}

/// Every request about a person, newest first.
pub async fn for_person(db: &Db, person_id: i64) -> Result<Vec<ChangeRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM address_change_requests WHERE person_id = $1 ORDER BY id DESC"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(person_id)
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(from_row).collect()
}

/// Reads a request outside any transaction: callers decide the transition,
/// then open a transaction whose first statement is the guarded state update
/// (on SQLite a transaction that reads before it writes can fail to upgrade
/// its lock when another writer got in between).
async fn load(db: &Db, id: i64) -> Result<Option<ChangeRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM address_change_requests WHERE id = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Moves a request from `from` to `to` in one conditional statement; false
/// when someone else moved it first.
pub async fn set_state(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: i64,
    from: ChangeState,
    to: ChangeState,
    now: i64,
    actor: &str,
) -> Result<bool, StoreError> {
    let hold = match to {
        ChangeState::Confirmed { hold_until } => Some(hold_until),
        _ => None,
    };
    let r = sqlx::query(
        "UPDATE address_change_requests SET state = $1, state_at = $2, state_actor = $3, \
         hold_until = COALESCE($4, hold_until) WHERE id = $5 AND state = $6",
    )
    .bind(to.code())
    .bind(now)
    .bind(actor)
    .bind(hold)
    .bind(id)
    .bind(from.code())
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

async fn write_address(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    person_id: i64,
    a: &StoredAddress,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE persons SET street = $1, unit = $2, city = $3, state = $4, zip = $5, updated_at = $6 WHERE id = $7",
    )
    .bind(a.street.as_str())
    .bind(a.unit.as_deref())
    .bind(a.city.as_str())
    .bind(a.state.as_str())
    .bind(a.zip.as_str())
    .bind(now)
    .bind(person_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn current_address(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    person_id: i64,
) -> Result<StoredAddress, StoreError> {
    let r = sqlx::query("SELECT street, unit, city, state, zip FROM persons WHERE id = $1")
        .bind(person_id)
        .fetch_one(&mut **tx)
        .await?;
    Ok(StoredAddress {
        street: r.try_get("street")?,
        unit: r.try_get("unit")?,
        city: r.try_get("city")?,
        state: r.try_get("state")?,
        zip: r.try_get("zip")?,
    })
}

/// Adds a note to each of the person's pending cases; returns how many.
async fn note_pending_cases(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    person_id: i64,
    kind: &str,
    detail: &str,
    now: i64,
    actor: &str,
) -> Result<usize, StoreError> {
    let cases: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, status FROM cases WHERE person_id = $1 ORDER BY id")
            .bind(person_id)
            .fetch_all(&mut **tx)
            .await?;
    let mut n = 0;
    for (case_id, status) in cases {
        if !CaseStatus::from_code(&status).is_some_and(CaseStatus::is_pending) {
            continue;
        }
        sqlx::query(
            "INSERT INTO case_notes (case_id, kind, at, actor, detail) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(case_id)
        .bind(kind)
        .bind(now)
        .bind(actor)
        .bind(detail)
        .execute(&mut **tx)
        .await?;
        n += 1;
    }
    Ok(n)
}

/// Applies one confirmed request whose hold has ended: the new address goes
/// on file, each pending case gets a history note, the audit log an entry —
/// one transaction. False when it is not due or another instance applied it.
pub async fn take_effect(db: &Db, id: i64, now: i64) -> Result<bool, StoreError> {
    let Some(row) = load(db, id).await? else {
        return Ok(false);
    };
    let Ok(to) = transition(row.state, ChangeEvent::TakeEffect, now) else {
        return Ok(false);
    };
    let mut tx = db.pool().begin().await?;
    if !set_state(&mut tx, id, row.state, to, now, "system").await? {
        return Ok(false);
    }
    write_address(&mut tx, row.person_id, &row.new, now).await?;
    let cases = note_pending_cases(
        &mut tx,
        row.person_id,
        "address_changed",
        &format!("request {id}"),
        now,
        "system",
    )
    .await?;
    audit::record_in(
        db,
        &mut tx,
        &audit::Event {
            at: now,
            actor: "system",
            action: "address_change.effective",
            subject: Some(format!("address_change:{id}")),
            ip: None,
            detail: format!("person={} cases={cases}", row.person_id),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Applies every request whose hold has ended (oldest first); returns how many.
pub async fn apply_due(db: &Db, now: i64) -> Result<u64, StoreError> {
    let due: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM address_change_requests WHERE state = 'confirmed' AND hold_until <= $1 ORDER BY id LIMIT 500",
    )
    .bind(now)
    .fetch_all(db.pool())
    .await?;
    let mut n = 0;
    for id in due {
        if take_effect(db, id, now).await? {
            n += 1;
        }
    }
    Ok(n)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reversal {
    /// Reversed; `restored` when the old address went back on file.
    Done { restored: bool },
    /// Not a request of this person, or already ended.
    NotAllowed,
}

/// An officer reverses a pending or effective request of `person_id`. An
/// effective one puts the old address back on file (if the address on file
/// is still the one the request set) and notes each pending case.
pub async fn reverse(
    db: &Db,
    id: i64,
    person_id: i64,
    now: i64,
    actor: &str,
) -> Result<Reversal, StoreError> {
    let Some(row) = load(db, id).await?.filter(|r| r.person_id == person_id) else {
        return Ok(Reversal::NotAllowed);
    };
    let Ok(to) = transition(row.state, ChangeEvent::Reverse, now) else {
        return Ok(Reversal::NotAllowed);
    };
    let mut tx = db.pool().begin().await?;
    if !set_state(&mut tx, id, row.state, to, now, actor).await? {
        return Ok(Reversal::NotAllowed);
    }
    let mut restored = false;
    if row.state == ChangeState::Effective && current_address(&mut tx, person_id).await? == row.new
    {
        write_address(&mut tx, person_id, &row.old, now).await?;
        note_pending_cases(
            &mut tx,
            person_id,
            "address_reversed",
            &format!("request {id}"),
            now,
            actor,
        )
        .await?;
        restored = true;
    }
    audit::record_in(
        db,
        &mut tx,
        &audit::Event {
            at: now,
            actor,
            action: "address_change.reversed",
            subject: Some(format!("address_change:{id}")),
            ip: None,
            detail: format!(
                "person={person_id} was={} restored={restored}",
                row.state.code()
            ),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Reversal::Done { restored })
}
