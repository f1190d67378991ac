//! Writing a batch of filings in one transaction, with multi-row statements
//! (a row at a time cannot reach a million filings a minute).
//! A batch either lands whole or not at all; filings already present (same
//! intake key) are skipped, so rerunning a file never duplicates a case.

use std::collections::{HashMap, HashSet};

use rand::RngCore;

use super::form::IntakeRow;
use super::policy::{self, MAX_SEQUENCE, ReceiptSlot};
use crate::crypto::seal;
use crate::domain::{AccessCode, CaseStatus, ReceiptNumber};
use crate::i18n::Lang;
use crate::notices::{MailState, NoticeKind};
use crate::secrets::Secrets;
use crate::store::batch::{BatchTx, ColumnType, SqliteBatch, SqlxBatch, Value, malformed};
use crate::store::{Db, StoreError};

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

struct PersonOnFile {
    id: i64,
    addressee: String,
    street: String,
    unit: Option<String>,
    city: String,
    state: String,
    zip: String,
}

/// A filing that will become a case: its receipt number and person are known.
struct PlannedCase {
    filing: Filing,
    intake_key: String,
    receipt: ReceiptNumber,
    person_id: i64,
}

/// Writes a batch atomically through the pool. `now` is unix seconds; `rng`
/// makes access codes.
pub async fn write_batch(
    db: &Db,
    secrets: &Secrets,
    rng: &mut (dyn RngCore + Send),
    filings: Vec<Filing>,
    now: i64,
    access_code_days: i64,
) -> Result<BatchOutcome, StoreError> {
    if filings.is_empty() {
        return Ok(BatchOutcome::default());
    }
    let mut tx = db.pool().begin().await?;
    let mut batch = SqlxBatch::new(db, &mut tx);
    let outcome = write_batch_in(&mut batch, secrets, rng, filings, now, access_code_days).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// Writes a batch atomically on a SQLite connection used in place (the
/// command line on SQLite), then fills the public status rows of the new
/// cases, which that connection's disabled triggers left out.
pub async fn write_batch_in_place(
    batch: &mut SqliteBatch,
    secrets: &Secrets,
    rng: &mut (dyn RngCore + Send),
    filings: Vec<Filing>,
    now: i64,
    access_code_days: i64,
) -> Result<BatchOutcome, StoreError> {
    batch.begin()?;
    let written = write_batch_in(batch, secrets, rng, filings, now, access_code_days)
        .await
        .and_then(|outcome| fill_status_rows(batch, &outcome).map(|()| outcome));
    match written {
        Ok(outcome) => {
            batch.commit()?;
            Ok(outcome)
        }
        Err(e) => {
            batch.rollback();
            Err(e)
        }
    }
}

/// The `status_rows` of the cases this batch created: their ids are one
/// range, because the transaction holds the write lock.
fn fill_status_rows(batch: &SqliteBatch, outcome: &BatchOutcome) -> Result<(), StoreError> {
    let ids = outcome.created.iter().map(|c| c.case_id);
    let (Some(first), Some(last)) = (ids.clone().min(), ids.max()) else {
        return Ok(());
    };
    if batch.fill_status_rows(first, last)? != outcome.created.len() {
        return Err(malformed("status rows for the batch"));
    }
    Ok(())
}

/// The batch itself, inside a transaction the caller opened and commits:
/// skip filings already present, find or create the people, reserve receipt
/// numbers, then write cases, their history, access codes and notices.
pub async fn write_batch_in<T: BatchTx + Send>(
    tx: &mut T,
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
    let todo = skip_present(tx, filings, &mut outcome).await?;
    if todo.is_empty() {
        return Ok(outcome);
    }
    let people = find_or_create_people(tx, &todo, now).await?;
    let mut ranges = reserve_receipt_ranges(tx, &todo).await?;
    let planned = plan_cases(todo, &people, &mut ranges, &mut outcome);
    let case_ids = insert_cases(tx, &planned, now).await?;
    insert_history(tx, &planned, &case_ids).await?;
    let expires = policy::access_notice_expiry(now, access_code_days);
    let codes = issue_access_codes(tx, secrets, rng, &planned, &case_ids, now, expires).await?;
    let notices = NoticeBatch {
        secrets,
        case_ids: &case_ids,
        people: &people,
        now,
        expires,
    };
    insert_notices(tx, rng, &notices, planned, codes, &mut outcome).await?;
    outcome.created.sort_by_key(|c| c.line);
    Ok(outcome)
}

/// Drops filings already present (or repeated within this batch), recording
/// them as duplicates; returns the rest with their intake keys.
async fn skip_present<T: BatchTx + Send>(
    tx: &mut T,
    filings: Vec<Filing>,
    outcome: &mut BatchOutcome,
) -> Result<Vec<(Filing, String)>, StoreError> {
    let keys: Vec<String> = filings.iter().map(|f| policy::intake_key(&f.row)).collect();
    let existing: HashSet<String> = tx
        .select_in(
            "SELECT intake_key FROM cases WHERE intake_key IN",
            &keys,
            &[ColumnType::Text],
        )
        .await?
        .into_iter()
        .filter_map(|mut r| r.pop().and_then(Value::into_text))
        .collect();
    let mut seen = HashSet::new();
    let mut todo = Vec::with_capacity(filings.len());
    for (f, key) in filings.into_iter().zip(keys) {
        if existing.contains(&key) || !seen.insert(key.clone()) {
            outcome.duplicates.push(f.line);
        } else {
            todo.push((f, key));
        }
    }
    Ok(todo)
}

const PEOPLE_BY_A_NUMBER_SQL: &str = "SELECT id, a_number, given_name, family_name, street, unit, city, state, zip \
     FROM persons WHERE a_number IN";

/// The people of these filings by A-Number, created when not yet on file.
async fn find_or_create_people<T: BatchTx + Send>(
    tx: &mut T,
    todo: &[(Filing, String)],
    now: i64,
) -> Result<HashMap<String, PersonOnFile>, StoreError> {
    let mut a_numbers: Vec<String> = todo
        .iter()
        .map(|(f, _)| f.row.a_number.as_str().to_string())
        .collect();
    a_numbers.sort();
    a_numbers.dedup();
    let mut people = read_people(tx, &a_numbers).await?;
    let mut queued = HashSet::new();
    let mut added = Vec::new();
    let mut new_people = Vec::new();
    for (f, _) in todo {
        let a = f.row.a_number.as_str();
        if !people.contains_key(a) && queued.insert(a) {
            added.push(a.to_string());
            new_people.push(person_row(&f.row, now));
        }
    }
    if !new_people.is_empty() {
        tx.insert_rows(
            "INSERT INTO persons (a_number, given_name, family_name, dob, street, unit, city, state, zip, email, protected, created_at, updated_at)",
            13,
            new_people,
            "",
            &[],
        )
        .await?;
        people.extend(read_people(tx, &added).await?);
    }
    Ok(people)
}

fn person_row(r: &IntakeRow, now: i64) -> Vec<Value> {
    vec![
        Value::Text(r.a_number.as_str().to_string()),
        Value::Text(r.name.given().to_string()),
        Value::Text(r.name.family().to_string()),
        Value::Text(r.dob.iso()),
        Value::Text(r.address.street().to_string()),
        Value::MaybeText(r.address.unit().map(str::to_string)),
        Value::Text(r.address.city().to_string()),
        Value::Text(r.address.state().code().to_string()),
        Value::Text(r.address.zip().to_string()),
        Value::MaybeText(r.email.as_ref().map(|e| e.as_str().to_string())),
        Value::Int(i64::from(r.protected)),
        Value::Int(now),
        Value::Int(now),
    ]
}

/// Reserves, per receipt series, one contiguous range of sequence numbers
/// for the filings that need one (one statement per series); returns each
/// series' `(next, last)`.
async fn reserve_receipt_ranges<T: BatchTx + Send>(
    tx: &mut T,
    todo: &[(Filing, String)],
) -> Result<HashMap<ReceiptSlot, (i64, i64)>, StoreError> {
    let mut per_slot: HashMap<ReceiptSlot, i64> = HashMap::new();
    for (f, _) in todo {
        if f.receipt.is_none() {
            *per_slot
                .entry(policy::receipt_slot(f.row.office, f.row.received))
                .or_default() += 1;
        }
    }
    let mut ranges = HashMap::with_capacity(per_slot.len());
    let mut slots: Vec<_> = per_slot.into_iter().collect();
    slots.sort();
    for (slot, n) in slots {
        let last = tx
            .insert_rows(
                "INSERT INTO receipt_sequences (office, fiscal_year, workday, last_seq)",
                4,
                vec![vec![
                    Value::Text(slot.office.code().to_string()),
                    Value::Int(i64::from(slot.fiscal_year)),
                    Value::Int(i64::from(slot.workday)),
                    Value::Int(n),
                ]],
                "ON CONFLICT (office, fiscal_year, workday) \
                 DO UPDATE SET last_seq = receipt_sequences.last_seq + excluded.last_seq \
                 RETURNING last_seq",
                &[ColumnType::Int],
            )
            .await?
            .first()
            .and_then(|r| r.first().and_then(Value::as_int))
            .ok_or_else(|| malformed("receipt sequence"))?;
        ranges.insert(slot, (last - n + 1, last));
    }
    Ok(ranges)
}

/// Gives each filing its person and receipt number (drawn from `ranges`);
/// a filing that cannot have one is recorded as failed.
fn plan_cases(
    todo: Vec<(Filing, String)>,
    people: &HashMap<String, PersonOnFile>,
    ranges: &mut HashMap<ReceiptSlot, (i64, i64)>,
    outcome: &mut BatchOutcome,
) -> Vec<PlannedCase> {
    let mut planned = Vec::with_capacity(todo.len());
    for (filing, intake_key) in todo {
        let Some(person) = people.get(filing.row.a_number.as_str()) else {
            outcome
                .failed
                .push((filing.line, "person could not be recorded".into()));
            continue;
        };
        let receipt = match &filing.receipt {
            Some(r) => r.clone(),
            None => match next_receipt(&filing, ranges) {
                Ok(r) => r,
                Err(reason) => {
                    outcome.failed.push((filing.line, reason));
                    continue;
                }
            },
        };
        planned.push(PlannedCase {
            filing,
            intake_key,
            receipt,
            person_id: person.id,
        });
    }
    planned
}

/// The next receipt number of the filing's series, or why there is none.
fn next_receipt(
    filing: &Filing,
    ranges: &mut HashMap<ReceiptSlot, (i64, i64)>,
) -> Result<ReceiptNumber, String> {
    let slot = policy::receipt_slot(filing.row.office, filing.row.received);
    let Some((next, last)) = ranges.get_mut(&slot) else {
        return Err("no receipt range reserved".into());
    };
    let seq = *next;
    *next += 1;
    if seq > MAX_SEQUENCE || seq > *last {
        return Err(format!(
            "no receipt numbers left for {} on workday {} of FY{:02}",
            slot.office.code(),
            slot.workday,
            slot.fiscal_year
        ));
    }
    ReceiptNumber::new(slot.office, slot.fiscal_year, slot.workday, seq as u32)
        .map_err(|e| e.to_string())
}

/// Inserts the cases; returns their ids by receipt number.
async fn insert_cases<T: BatchTx + Send>(
    tx: &mut T,
    planned: &[PlannedCase],
    now: i64,
) -> Result<HashMap<String, i64>, StoreError> {
    let rows: Vec<Vec<Value>> = planned
        .iter()
        .map(|p| {
            let row = &p.filing.row;
            vec![
                Value::Text(p.receipt.as_str().to_string()),
                Value::Text(row.form.id().to_string()),
                Value::Int(p.person_id),
                Value::Text(row.office.code().to_string()),
                Value::Text(row.received.to_string()),
                Value::Text(row.channel.code().to_string()),
                Value::Text(CaseStatus::CaseWasReceived.code().to_string()),
                Value::Int(policy::received_at(row.received)),
                Value::Int(now),
                Value::Int(now),
                Value::Text(p.intake_key.clone()),
            ]
        })
        .collect();
    let inserted = tx
        .insert_rows(
            "INSERT INTO cases (receipt_number, form, person_id, office, received_date, channel, status, status_at, created_at, updated_at, intake_key)",
            11,
            rows,
            "RETURNING id, receipt_number",
            &[ColumnType::Int, ColumnType::Text],
        )
        .await?;
    let mut case_ids = HashMap::with_capacity(inserted.len());
    for r in inserted {
        let mut r = r.into_iter();
        let id = r.next().and_then(|v| v.as_int());
        let receipt = r.next().and_then(Value::into_text);
        let (Some(id), Some(receipt)) = (id, receipt) else {
            return Err(malformed("case row"));
        };
        case_ids.insert(receipt, id);
    }
    Ok(case_ids)
}

/// Records "Case Was Received" on each new case, dated its received day.
async fn insert_history<T: BatchTx + Send>(
    tx: &mut T,
    planned: &[PlannedCase],
    case_ids: &HashMap<String, i64>,
) -> Result<(), StoreError> {
    let rows: Vec<Vec<Value>> = planned
        .iter()
        .filter_map(|p| {
            let case_id = case_ids.get(p.receipt.as_str())?;
            Some(vec![
                Value::Int(*case_id),
                Value::Text(CaseStatus::CaseWasReceived.code().to_string()),
                Value::Int(policy::received_at(p.filing.row.received)),
                Value::Text("intake".into()),
            ])
        })
        .collect();
    tx.insert_rows(
        "INSERT INTO case_history (case_id, status, at, actor)",
        4,
        rows,
        "",
        &[],
    )
    .await?;
    Ok(())
}

/// Issues an Account Access Notice code for every new paper-filed case
/// (stored as a keyed hash); returns `(code id, code)` by case id.
async fn issue_access_codes<T: BatchTx + Send>(
    tx: &mut T,
    secrets: &Secrets,
    rng: &mut (dyn RngCore + Send),
    planned: &[PlannedCase],
    case_ids: &HashMap<String, i64>,
    now: i64,
    expires: i64,
) -> Result<HashMap<i64, (i64, AccessCode)>, StoreError> {
    let mut rows = Vec::new();
    let mut code_by_hash: HashMap<Vec<u8>, AccessCode> = HashMap::new();
    for p in planned {
        let Some(case_id) = case_ids.get(p.receipt.as_str()) else {
            continue;
        };
        if !policy::gets_access_notice(p.filing.row.channel) {
            continue;
        }
        let code = AccessCode::generate(rng);
        let hash = code.keyed_hash(&secrets.access_code_key).to_vec();
        rows.push(vec![
            Value::Int(p.person_id),
            Value::Int(*case_id),
            Value::Bytes(hash.clone()),
            Value::Text("notice".into()),
            Value::Int(now),
            Value::Int(expires),
        ]);
        code_by_hash.insert(hash, code);
    }
    let inserted = tx
        .insert_rows(
            "INSERT INTO access_codes (person_id, case_id, code_hash, channel, issued_at, expires_at)",
            6,
            rows,
            "RETURNING id, case_id, code_hash",
            &[ColumnType::Int, ColumnType::MaybeInt, ColumnType::Bytes],
        )
        .await?;
    let mut code_for_case = HashMap::new();
    for r in inserted {
        let mut r = r.into_iter();
        let id = r.next().and_then(|v| v.as_int());
        let case_id = r.next().and_then(|v| v.as_int());
        let hash = r.next().and_then(Value::into_bytes);
        let (Some(id), Some(hash)) = (id, hash) else {
            return Err(malformed("access code row"));
        };
        if let (Some(case_id), Some(code)) = (case_id, code_by_hash.remove(&hash)) {
            code_for_case.insert(case_id, (id, code));
        }
    }
    Ok(code_for_case)
}

/// What every notice of the batch shares.
struct NoticeBatch<'a> {
    secrets: &'a Secrets,
    case_ids: &'a HashMap<String, i64>,
    people: &'a HashMap<String, PersonOnFile>,
    now: i64,
    expires: i64,
}

/// Queues the receipt notice of every new case and the Account Access Notice
/// (its code sealed) of every paper filing, and records each created case.
async fn insert_notices<T: BatchTx + Send>(
    tx: &mut T,
    rng: &mut (dyn RngCore + Send),
    batch: &NoticeBatch<'_>,
    planned: Vec<PlannedCase>,
    mut code_for_case: HashMap<i64, (i64, AccessCode)>,
    outcome: &mut BatchOutcome,
) -> Result<(), StoreError> {
    let notice_date = chrono::DateTime::from_timestamp(batch.now, 0)
        .map(|d| d.date_naive().to_string())
        .unwrap_or_default();
    let by_id: HashMap<i64, &PersonOnFile> = batch.people.values().map(|p| (p.id, p)).collect();
    let mut rows = Vec::with_capacity(planned.len() * 2);
    for p in planned {
        let Some(&case_id) = batch.case_ids.get(p.receipt.as_str()) else {
            continue;
        };
        let Some(person) = by_id.get(&p.person_id) else {
            continue;
        };
        let letter = NoticeAddress {
            person,
            case_id,
            person_id: p.person_id,
            receipt: &p.receipt,
            row: &p.filing.row,
            notice_date: &notice_date,
            now: batch.now,
        };
        let mail = if policy::gets_access_notice(p.filing.row.channel) {
            MailState::Queued
        } else {
            MailState::NotMailed
        };
        let mut receipt_notice = letter.columns(NoticeKind::Receipt);
        receipt_notice.extend([
            Value::MaybeInt(None),
            Value::MaybeBytes(None),
            Value::MaybeInt(None),
            Value::Text(mail.code().into()),
            Value::Int(batch.now),
        ]);
        rows.push(receipt_notice);
        let access_code = match code_for_case.remove(&case_id) {
            Some((code_id, code)) => {
                let sealed = seal(
                    &batch.secrets.letter_key,
                    rng,
                    p.receipt.as_str().as_bytes(),
                    code.as_str().as_bytes(),
                );
                let mut access = letter.columns(NoticeKind::AccessNotice);
                access.extend([
                    Value::MaybeInt(Some(code_id)),
                    Value::MaybeBytes(Some(sealed)),
                    Value::MaybeInt(Some(batch.expires)),
                    Value::Text(MailState::Queued.code().into()),
                    Value::Int(batch.now),
                ]);
                rows.push(access);
                Some(code)
            }
            None => None,
        };
        outcome.created.push(Created {
            line: p.filing.line,
            case_id,
            person_id: p.person_id,
            receipt: p.receipt,
            access_code,
        });
    }
    tx.insert_rows(
        "INSERT INTO notices (kind, lang, person_id, case_id, notice_date, created_at, addressee, street, unit, city, state, zip, receipt_number, form, received_date, access_code_id, code_sealed, code_expires_at, mail_state, mail_state_at)",
        20,
        rows,
        "",
        &[],
    )
    .await?;
    Ok(())
}

/// The columns a case's notices share: kind, language, case, addressee and
/// the filing they are about.
struct NoticeAddress<'a> {
    person: &'a PersonOnFile,
    case_id: i64,
    person_id: i64,
    receipt: &'a ReceiptNumber,
    row: &'a IntakeRow,
    notice_date: &'a str,
    now: i64,
}

impl NoticeAddress<'_> {
    fn columns(&self, kind: NoticeKind) -> Vec<Value> {
        let person = self.person;
        let mut v = Vec::with_capacity(20);
        v.extend([
            Value::Text(kind.code().into()),
            Value::Text(Lang::En.code().into()),
            Value::Int(self.person_id),
            Value::Int(self.case_id),
            Value::Text(self.notice_date.to_string()),
            Value::Int(self.now),
            Value::Text(person.addressee.clone()),
            Value::Text(person.street.clone()),
            Value::MaybeText(person.unit.clone()),
            Value::Text(person.city.clone()),
            Value::Text(person.state.clone()),
            Value::Text(person.zip.clone()),
            Value::MaybeText(Some(self.receipt.as_str().to_string())),
            Value::MaybeText(Some(self.row.form.id().to_string())),
            Value::MaybeText(Some(self.row.received.to_string())),
        ]);
        v
    }
}

/// The people on file with these A-Numbers, by A-Number.
async fn read_people<T: BatchTx + Send>(
    tx: &mut T,
    a_numbers: &[String],
) -> Result<HashMap<String, PersonOnFile>, StoreError> {
    use ColumnType::{Int, MaybeText, Text};
    let rows = tx
        .select_in(
            PEOPLE_BY_A_NUMBER_SQL,
            a_numbers,
            &[Int, Text, Text, Text, Text, MaybeText, Text, Text, Text],
        )
        .await?;
    let mut out = HashMap::with_capacity(rows.len());
    for r in rows {
        let mut r = r.into_iter();
        let mut next = || r.next().ok_or_else(|| malformed("person row"));
        let id = next()?.as_int().ok_or_else(|| malformed("person id"))?;
        let mut text =
            || next().and_then(|v| v.into_text().ok_or_else(|| malformed("person field")));
        let a_number = text()?;
        let given = text()?;
        let family = text()?;
        let street = text()?;
        let unit = next()?.into_text();
        let mut text =
            || next().and_then(|v| v.into_text().ok_or_else(|| malformed("person field")));
        let city = text()?;
        let state = text()?;
        let zip = text()?;
        let addressee = if given.is_empty() {
            family
        } else {
            format!("{given} {family}")
        };
        out.insert(
            a_number,
            PersonOnFile {
                id,
                addressee,
                street,
                unit,
                city,
                state,
                zip,
            },
        );
    }
    Ok(out)
}
