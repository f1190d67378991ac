//! Writing a batch of filings in one transaction, with multi-row statements
//! (a row at a time cannot reach a million filings a minute).
//! A batch either lands whole or not at all; filings already present (same
//! intake key) are skipped, so rerunning a file never duplicates a case.

use std::collections::{HashMap, HashSet};

use rand::RngCore;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::form::IntakeRow;
use super::policy::{self, MAX_SEQUENCE, ReceiptSlot};
use crate::crypto::seal;
use crate::domain::{AccessCode, CaseStatus, ReceiptNumber};
use crate::flows::notices::{MailState, NoticeKind};
use crate::i18n::Lang;
use crate::secrets::Secrets;
use crate::store::{
    Db, ParamStyle, StoreError, list_placeholders_styled, values_placeholders_styled,
};

/// One filing to write. `receipt` is fixed only for demo data.
pub struct Filing {
    pub line: u64,
    pub row: IntakeRow,
    pub receipt: Option<ReceiptNumber>,
}

#[derive(Debug)]
pub struct Created {
    pub line: u64,
    pub case_id: i64,
    pub person_id: i64,
    pub receipt: ReceiptNumber,
    /// The Account Access Notice code (paper filings only). It exists in
    /// clear only here and sealed on the letter until it is mailed.
    pub access_code: Option<AccessCode>,
}

#[derive(Debug, Default)]
pub struct BatchOutcome {
    pub created: Vec<Created>,
    /// Lines whose filing was already present.
    pub duplicates: Vec<u64>,
    /// Lines that could not be written, with the reason.
    pub failed: Vec<(u64, String)>,
}

/// A bindable value, so one helper can write any table.
#[derive(Debug, Clone)]
pub enum Val {
    I(i64),
    OI(Option<i64>),
    T(String),
    OT(Option<String>),
    B(Vec<u8>),
    OB(Option<Vec<u8>>),
}

type AnyQuery<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>;

fn bind(q: AnyQuery<'_>, v: Val) -> AnyQuery<'_> {
    match v {
        Val::I(x) => q.bind(x),
        Val::OI(x) => q.bind(x),
        Val::T(x) => q.bind(x),
        Val::OT(x) => q.bind(x),
        Val::B(x) => q.bind(x),
        Val::OB(x) => q.bind(x),
    }
}

/// Multi-row INSERT, split to respect the engine's parameter limit.
pub async fn insert_rows(
    tx: &mut Transaction<'_, Any>,
    (style, max_params): (ParamStyle, usize),
    head: &str,
    cols: usize,
    rows: Vec<Vec<Val>>,
    tail: &str,
) -> Result<Vec<AnyRow>, StoreError> {
    let per = (max_params / cols).max(1);
    let mut out = Vec::new();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Val>> = rows.by_ref().take(per).collect();
        let sql = format!(
            "{head} VALUES {} {tail}",
            values_placeholders_styled(style, chunk.len(), cols)
        );
        // Built only from constant text and numbered placeholders.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            for v in row {
                q = bind(q, v);
            }
        }
        if tail.contains("RETURNING") {
            out.extend(q.fetch_all(&mut **tx).await?);
        } else {
            q.execute(&mut **tx).await?;
        }
    }
    Ok(out)
}

/// `SELECT … WHERE col IN (…)` over many keys, chunked.
async fn select_in(
    tx: &mut Transaction<'_, Any>,
    (style, max_params): (ParamStyle, usize),
    head: &str,
    keys: &[String],
) -> Result<Vec<AnyRow>, StoreError> {
    let mut out = Vec::new();
    for chunk in keys.chunks(max_params.min(10_000)) {
        let sql = format!(
            "{head} ({})",
            list_placeholders_styled(style, 1, chunk.len())
        );
        // Built only from constant text and numbered placeholders.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for k in chunk {
            q = q.bind(k.as_str());
        }
        out.extend(q.fetch_all(&mut **tx).await?);
    }
    Ok(out)
}

struct PersonOnFile {
    id: i64,
    addressee: String,
    street: String,
    unit: Option<String>,
    city: String,
    state: String,
    zip: String,
}

/// Writes a batch atomically. `now` is unix seconds; `rng` makes access codes.
pub async fn write_batch(
    db: &Db,
    secrets: &Secrets,
    rng: &mut (dyn RngCore + Send),
    filings: Vec<Filing>,
    now: i64,
    access_code_days: i64,
) -> Result<BatchOutcome, StoreError> {
    let mut outcome = BatchOutcome::default();
    if filings.is_empty() {
        return Ok(outcome);
    }
    let maxp = (db.param_style(), db.max_params());
    let mut tx = db.pool().begin().await?;

    // 1. Drop filings already present (or repeated within this batch).
    let keys: Vec<String> = filings.iter().map(|f| policy::intake_key(&f.row)).collect();
    let existing: HashSet<String> = select_in(
        &mut tx,
        maxp,
        "SELECT intake_key FROM cases WHERE intake_key IN",
        &keys,
    )
    .await?
    .iter()
    .filter_map(|r| r.try_get::<String, _>(0).ok())
    .collect();
    let mut seen = HashSet::new();
    let mut todo: Vec<(Filing, String)> = Vec::with_capacity(filings.len());
    for (f, key) in filings.into_iter().zip(keys) {
        if existing.contains(&key) || !seen.insert(key.clone()) {
            outcome.duplicates.push(f.line);
        } else {
            todo.push((f, key));
        }
    }
    if todo.is_empty() {
        tx.commit().await?;
        return Ok(outcome);
    }

    // 2. Find or create the people.
    let person_sql = "SELECT id, a_number, given_name, family_name, street, unit, city, state, zip \
                      FROM persons WHERE a_number IN";
    let mut a_numbers: Vec<String> = todo
        .iter()
        .map(|(f, _)| f.row.a_number.as_str().to_string())
        .collect();
    a_numbers.sort();
    a_numbers.dedup();
    let mut people = read_people(&mut tx, maxp, person_sql, &a_numbers).await?;
    let mut new_people = Vec::new();
    let mut queued = HashSet::new();
    for (f, _) in &todo {
        let a = f.row.a_number.as_str();
        if !people.contains_key(a) && queued.insert(a.to_string()) {
            let r = &f.row;
            new_people.push(vec![
                Val::T(a.to_string()),
                Val::T(r.name.given().to_string()),
                Val::T(r.name.family().to_string()),
                Val::T(r.dob.iso()),
                Val::T(r.address.street().to_string()),
                Val::OT(r.address.unit().map(str::to_string)),
                Val::T(r.address.city().to_string()),
                Val::T(r.address.state().code().to_string()),
                Val::T(r.address.zip().to_string()),
                Val::OT(r.email.as_ref().map(|e| e.as_str().to_string())),
                Val::I(i64::from(r.protected)),
                Val::I(now),
                Val::I(now),
            ]);
        }
    }
    if !new_people.is_empty() {
        let added: Vec<String> = new_people
            .iter()
            .filter_map(|r| match &r[0] {
                Val::T(a) => Some(a.clone()),
                _ => None,
            })
            .collect();
        insert_rows(
            &mut tx,
            maxp,
            "INSERT INTO persons (a_number, given_name, family_name, dob, street, unit, city, state, zip, email, protected, created_at, updated_at)",
            13,
            new_people,
            "",
        )
        .await?;
        people.extend(read_people(&mut tx, maxp, person_sql, &added).await?);
    }

    // 3. Receipt numbers: reserve a contiguous range per slot in one statement each.
    let mut per_slot: HashMap<ReceiptSlot, i64> = HashMap::new();
    for (f, _) in &todo {
        if f.receipt.is_none() {
            *per_slot
                .entry(policy::receipt_slot(f.row.office, f.row.received))
                .or_default() += 1;
        }
    }
    let mut next_in_slot: HashMap<ReceiptSlot, (i64, i64)> = HashMap::new();
    let mut slots: Vec<_> = per_slot.into_iter().collect();
    slots.sort();
    for (slot, n) in slots {
        let last: i64 = sqlx::query_scalar(
            "INSERT INTO receipt_sequences (office, fiscal_year, workday, last_seq) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (office, fiscal_year, workday) DO UPDATE SET last_seq = receipt_sequences.last_seq + $4 \
             RETURNING last_seq",
        )
        .bind(slot.office.code())
        .bind(i64::from(slot.fiscal_year))
        .bind(i64::from(slot.workday))
        .bind(n)
        .fetch_one(&mut *tx)
        .await?;
        next_in_slot.insert(slot, (last - n + 1, last));
    }

    // 4. Cases.
    let mut planned: Vec<(Filing, String, ReceiptNumber, i64)> = Vec::with_capacity(todo.len());
    for (f, key) in todo {
        let Some(person) = people.get(f.row.a_number.as_str()) else {
            outcome
                .failed
                .push((f.line, "person could not be recorded".into()));
            continue;
        };
        let person_id = person.id;
        let receipt = match &f.receipt {
            Some(r) => r.clone(),
            None => {
                let slot = policy::receipt_slot(f.row.office, f.row.received);
                let Some((next, last)) = next_in_slot.get_mut(&slot) else {
                    outcome
                        .failed
                        .push((f.line, "no receipt range reserved".into()));
                    continue;
                };
                let seq = *next;
                *next += 1;
                if seq > MAX_SEQUENCE || seq > *last {
                    outcome.failed.push((
                        f.line,
                        format!(
                            "no receipt numbers left for {} on workday {} of FY{:02}",
                            slot.office.code(),
                            slot.workday,
                            slot.fiscal_year
                        ),
                    ));
                    continue;
                }
                match ReceiptNumber::new(slot.office, slot.fiscal_year, slot.workday, seq as u32) {
                    Ok(r) => r,
                    Err(e) => {
                        outcome.failed.push((f.line, e.to_string()));
                        continue;
                    }
                }
            }
        };
        planned.push((f, key, receipt, person_id));
    }
    let case_rows: Vec<Vec<Val>> = planned
        .iter()
        .map(|(f, key, receipt, person_id)| {
            let at = policy::received_at(f.row.received);
            vec![
                Val::T(receipt.as_str().to_string()),
                Val::T(f.row.form.id().to_string()),
                Val::I(*person_id),
                Val::T(f.row.office.code().to_string()),
                Val::T(f.row.received.to_string()),
                Val::T(f.row.channel.code().to_string()),
                Val::T(CaseStatus::CaseWasReceived.code().to_string()),
                Val::I(at),
                Val::I(now),
                Val::I(now),
                Val::T(key.clone()),
            ]
        })
        .collect();
    let inserted = insert_rows(
        &mut tx,
        maxp,
        "INSERT INTO cases (receipt_number, form, person_id, office, received_date, channel, status, status_at, created_at, updated_at, intake_key)",
        11,
        case_rows,
        "RETURNING id, receipt_number",
    )
    .await?;
    let mut case_ids: HashMap<String, i64> = HashMap::with_capacity(inserted.len());
    for r in &inserted {
        case_ids.insert(r.try_get("receipt_number")?, r.try_get("id")?);
    }

    // 5. History, access codes, notices.
    let mut history = Vec::with_capacity(planned.len());
    let mut codes = Vec::new();
    let mut code_plain: HashMap<Vec<u8>, AccessCode> = HashMap::new();
    let expires = policy::access_notice_expiry(now, access_code_days);
    for (f, _, receipt, person_id) in &planned {
        let Some(case_id) = case_ids.get(receipt.as_str()) else {
            continue;
        };
        history.push(vec![
            Val::I(*case_id),
            Val::T(CaseStatus::CaseWasReceived.code().to_string()),
            Val::I(policy::received_at(f.row.received)),
            Val::T("intake".into()),
        ]);
        if policy::gets_access_notice(f.row.channel) {
            let code = AccessCode::generate(rng);
            let hash = code.keyed_hash(&secrets.access_code_key).to_vec();
            codes.push(vec![
                Val::I(*person_id),
                Val::I(*case_id),
                Val::B(hash.clone()),
                Val::T("notice".into()),
                Val::I(now),
                Val::I(expires),
            ]);
            code_plain.insert(hash, code);
        }
    }
    insert_rows(
        &mut tx,
        maxp,
        "INSERT INTO case_history (case_id, status, at, actor)",
        4,
        history,
        "",
    )
    .await?;
    let code_rows = insert_rows(
        &mut tx,
        maxp,
        "INSERT INTO access_codes (person_id, case_id, code_hash, channel, issued_at, expires_at)",
        6,
        codes,
        "RETURNING id, case_id, code_hash",
    )
    .await?;
    let mut code_for_case: HashMap<i64, (i64, AccessCode)> = HashMap::new();
    for r in &code_rows {
        let id: i64 = r.try_get("id")?;
        let case_id: Option<i64> = r.try_get("case_id")?;
        let hash: Vec<u8> = r.try_get("code_hash")?;
        if let (Some(case_id), Some(code)) = (case_id, code_plain.remove(&hash)) {
            code_for_case.insert(case_id, (id, code));
        }
    }

    let notice_date = chrono::DateTime::from_timestamp(now, 0)
        .map(|d| d.date_naive().to_string())
        .unwrap_or_default();
    let by_id: HashMap<i64, &PersonOnFile> = people.values().map(|p| (p.id, p)).collect();
    let mut notices = Vec::with_capacity(planned.len() * 2);
    for (f, _, receipt, person_id) in planned {
        let Some(&case_id) = case_ids.get(receipt.as_str()) else {
            continue;
        };
        let Some(person) = by_id.get(&person_id) else {
            continue;
        };
        let paper = policy::gets_access_notice(f.row.channel);
        let base = |kind: NoticeKind| {
            vec![
                Val::T(kind.code().into()),
                Val::T(Lang::En.code().into()),
                Val::I(person_id),
                Val::I(case_id),
                Val::T(notice_date.clone()),
                Val::I(now),
                Val::T(person.addressee.clone()),
                Val::T(person.street.clone()),
                Val::OT(person.unit.clone()),
                Val::T(person.city.clone()),
                Val::T(person.state.clone()),
                Val::T(person.zip.clone()),
                Val::OT(Some(receipt.as_str().to_string())),
                Val::OT(Some(f.row.form.id().to_string())),
                Val::OT(Some(f.row.received.to_string())),
            ]
        };
        let mail = if paper {
            MailState::Queued
        } else {
            MailState::NotMailed
        };
        let mut receipt_notice = base(NoticeKind::Receipt);
        receipt_notice.extend([
            Val::OI(None),
            Val::OB(None),
            Val::OI(None),
            Val::T(mail.code().into()),
            Val::I(now),
        ]);
        notices.push(receipt_notice);
        if let Some((code_id, code)) = code_for_case.remove(&case_id) {
            let sealed = seal(
                &secrets.letter_key,
                rng,
                receipt.as_str().as_bytes(),
                code.as_str().as_bytes(),
            );
            let mut access = base(NoticeKind::AccessNotice);
            access.extend([
                Val::OI(Some(code_id)),
                Val::OB(Some(sealed)),
                Val::OI(Some(expires)),
                Val::T(MailState::Queued.code().into()),
                Val::I(now),
            ]);
            notices.push(access);
            outcome.created.push(Created {
                line: f.line,
                case_id,
                person_id,
                receipt,
                access_code: Some(code),
            });
        } else {
            outcome.created.push(Created {
                line: f.line,
                case_id,
                person_id,
                receipt,
                access_code: None,
            });
        }
    }
    insert_rows(
        &mut tx,
        maxp,
        "INSERT INTO notices (kind, lang, person_id, case_id, notice_date, created_at, addressee, street, unit, city, state, zip, receipt_number, form, received_date, access_code_id, code_sealed, code_expires_at, mail_state, mail_state_at)",
        20,
        notices,
        "",
    )
    .await?;
    tx.commit().await?;
    outcome.created.sort_by_key(|c| c.line);
    Ok(outcome)
}

async fn read_people(
    tx: &mut Transaction<'_, Any>,
    maxp: (ParamStyle, usize),
    sql: &str,
    a_numbers: &[String],
) -> Result<HashMap<String, PersonOnFile>, StoreError> {
    let rows = select_in(tx, maxp, sql, a_numbers).await?;
    let mut out = HashMap::with_capacity(rows.len());
    for r in rows {
        let given: String = r.try_get("given_name")?;
        let family: String = r.try_get("family_name")?;
        let addressee = if given.is_empty() {
            family
        } else {
            format!("{given} {family}")
        };
        out.insert(
            r.try_get("a_number")?,
            PersonOnFile {
                id: r.try_get("id")?,
                addressee,
                street: r.try_get("street")?,
                unit: r.try_get("unit")?,
                city: r.try_get("city")?,
                state: r.try_get("state")?,
                zip: r.try_get("zip")?,
            },
        );
    }
    Ok(out)
}
