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
use crate::store::receipt_key_sql;
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

/// A bindable (and readable) value, so one helper can write any table.
#[derive(Debug, Clone)]
pub enum Val {
    I(i64),
    OI(Option<i64>),
    T(String),
    OT(Option<String>),
    B(Vec<u8>),
    OB(Option<Vec<u8>>),
}

/// The type of a column read back (`SELECT` or `RETURNING`).
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    I,
    OI,
    T,
    OT,
    B,
}

impl Val {
    fn int(&self) -> Option<i64> {
        match self {
            Val::I(x) | Val::OI(Some(x)) => Some(*x),
            _ => None,
        }
    }

    fn text(self) -> Option<String> {
        match self {
            Val::T(x) | Val::OT(Some(x)) => Some(x),
            _ => None,
        }
    }

    fn bytes(self) -> Option<Vec<u8>> {
        match self {
            Val::B(x) | Val::OB(Some(x)) => Some(x),
            _ => None,
        }
    }
}

fn malformed(what: &str) -> StoreError {
    StoreError::Query(sqlx::Error::Decode(format!("unexpected {what}").into()))
}

/// What writing a batch needs from an open transaction. Two drivers:
/// [`SqlxBatch`] (the pool: the server, and the command line on PostgreSQL)
/// and [`SqliteBatch`] (one SQLite connection used in place by the command
/// line, which skips sqlx's per-row hand-off between threads: profiled as
/// half of the intake's time).
pub trait BatchTx {
    /// `head (k)` for every key (`head` ends in `IN`), rows decoded by `shape`.
    fn select_in(
        &mut self,
        head: &str,
        keys: &[String],
        shape: &[Kind],
    ) -> impl Future<Output = Result<Vec<Vec<Val>>, StoreError>> + Send;

    /// `head VALUES (…) tail` for every row; the `RETURNING` rows (if `tail`
    /// has one) decoded by `shape`.
    fn insert_rows(
        &mut self,
        head: &str,
        cols: usize,
        rows: Vec<Vec<Val>>,
        tail: &str,
        shape: &[Kind],
    ) -> impl Future<Output = Result<Vec<Vec<Val>>, StoreError>> + Send;
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

fn decode_any(r: &AnyRow, shape: &[Kind]) -> Result<Vec<Val>, StoreError> {
    let mut out = Vec::with_capacity(shape.len());
    for (i, k) in shape.iter().enumerate() {
        out.push(match k {
            Kind::I => Val::I(r.try_get(i)?),
            Kind::OI => Val::OI(r.try_get(i)?),
            Kind::T => Val::T(r.try_get(i)?),
            Kind::OT => Val::OT(r.try_get(i)?),
            Kind::B => Val::B(r.try_get(i)?),
        });
    }
    Ok(out)
}

/// A sqlx transaction: multi-row statements, split to respect the engine's
/// parameter limit.
pub struct SqlxBatch<'t, 'c> {
    tx: &'t mut Transaction<'c, Any>,
    style: ParamStyle,
    max_params: usize,
}

impl BatchTx for SqlxBatch<'_, '_> {
    async fn select_in(
        &mut self,
        head: &str,
        keys: &[String],
        shape: &[Kind],
    ) -> Result<Vec<Vec<Val>>, StoreError> {
        let mut out = Vec::new();
        for chunk in keys.chunks(self.max_params.min(10_000)) {
            let sql = format!(
                "{head} ({})",
                list_placeholders_styled(self.style, 1, chunk.len())
            );
            // Built only from constant text and numbered placeholders.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for k in chunk {
                q = q.bind(k.as_str());
            }
            for r in q.fetch_all(&mut **self.tx).await? {
                out.push(decode_any(&r, shape)?);
            }
        }
        Ok(out)
    }

    async fn insert_rows(
        &mut self,
        head: &str,
        cols: usize,
        rows: Vec<Vec<Val>>,
        tail: &str,
        shape: &[Kind],
    ) -> Result<Vec<Vec<Val>>, StoreError> {
        let per = (self.max_params / cols).max(1);
        let mut out = Vec::new();
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<Vec<Val>> = rows.by_ref().take(per).collect();
            let sql = format!(
                "{head} VALUES {} {tail}",
                values_placeholders_styled(self.style, chunk.len(), cols)
            );
            // Built only from constant text and numbered placeholders.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for row in chunk {
                for v in row {
                    q = bind(q, v);
                }
            }
            if shape.is_empty() {
                q.execute(&mut **self.tx).await?;
            } else {
                for r in q.fetch_all(&mut **self.tx).await? {
                    out.push(decode_any(&r, shape)?);
                }
            }
        }
        Ok(out)
    }
}

/// One SQLite connection used in place (the command-line intake on SQLite):
/// single-row prepared statements, no thread hand-off.
pub struct SqliteBatch {
    conn: rusqlite::Connection,
}

impl rusqlite::ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Val::I(x) | Val::OI(Some(x)) => ToSqlOutput::Borrowed(ValueRef::Integer(*x)),
            Val::T(x) | Val::OT(Some(x)) => ToSqlOutput::Borrowed(ValueRef::Text(x.as_bytes())),
            Val::B(x) | Val::OB(Some(x)) => ToSqlOutput::Borrowed(ValueRef::Blob(x)),
            Val::OI(None) | Val::OT(None) | Val::OB(None) => ToSqlOutput::Borrowed(ValueRef::Null),
        })
    }
}

fn decode_sqlite(r: &rusqlite::Row<'_>, shape: &[Kind]) -> rusqlite::Result<Vec<Val>> {
    let mut out = Vec::with_capacity(shape.len());
    for (i, k) in shape.iter().enumerate() {
        out.push(match k {
            Kind::I => Val::I(r.get(i)?),
            Kind::OI => Val::OI(r.get(i)?),
            Kind::T => Val::T(r.get(i)?),
            Kind::OT => Val::OT(r.get(i)?),
            Kind::B => Val::B(r.get(i)?),
        });
    }
    Ok(out)
}

/// `status_rows` for the cases with ids in `?1..=?2` (see migration 0009).
const FILL_STATUS_ROWS_SQL: &str = concat!(
    "INSERT INTO status_rows (receipt_key, receipt_number, form, office, received_date, status, \
     status_at, created_at, protected, history) SELECT ",
    receipt_key_sql!("c.receipt_number"),
    ", c.receipt_number, c.form, c.office, c.received_date, c.status, c.status_at, \
     c.created_at, p.protected, \
     COALESCE((SELECT group_concat(h.status || ':' || h.at || ':' || h.id, ',') \
               FROM case_history h WHERE h.case_id = c.id), '') \
     FROM cases c JOIN persons p ON p.id = c.person_id \
     WHERE c.id BETWEEN ?1 AND ?2 ORDER BY 1"
);

impl SqliteBatch {
    /// Its own connection to the database file (`None` unless SQLite),
    /// with the pool's settings plus a bulk writer's: 128 MiB of page cache
    /// keeps the unique indexes' pages hot across batches once they outgrow a
    /// few MB (the server keeps 2 MB per connection), and checkpoints every
    /// 64 MiB of log rather than 4 MiB rewrite each hot page less often.
    pub fn open(db: &Db) -> Result<Option<SqliteBatch>, StoreError> {
        let Some(conn) =
            db.sqlite_writer("PRAGMA cache_size=-131072; PRAGMA wal_autocheckpoint=16384;")?
        else {
            return Ok(None);
        };
        conn.set_prepared_statement_cache_capacity(32);
        // The public status table's triggers (migration 0009) cost a third
        // of the intake's time, mostly SQLite setting up a trigger program
        // per row; this connection fills the table itself, once per batch
        // and in receipt order ([`SqliteBatch::fill_status_rows`]).
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER,
            false,
        )?;
        Ok(Some(SqliteBatch { conn }))
    }

    /// Writes the `status_rows` of the cases this batch created (their ids
    /// are one range: the batch holds the write lock), sorted by key so
    /// the table's pages are visited in order; the same row the triggers
    /// would have built (`tests/intake.rs` checks both agree).
    fn fill_status_rows(&self, outcome: &BatchOutcome) -> Result<(), StoreError> {
        let ids = outcome.created.iter().map(|c| c.case_id);
        let (Some(first), Some(last)) = (ids.clone().min(), ids.max()) else {
            return Ok(());
        };
        let mut stmt = self.conn.prepare_cached(FILL_STATUS_ROWS_SQL)?;
        let n = stmt.execute([first, last])?;
        if n != outcome.created.len() {
            return Err(malformed("status rows for the batch"));
        }
        Ok(())
    }

    /// Runs one batch in one write transaction: all of it lands or none.
    pub async fn write_batch(
        &mut self,
        secrets: &Secrets,
        rng: &mut (dyn RngCore + Send),
        filings: Vec<Filing>,
        now: i64,
        access_code_days: i64,
    ) -> Result<BatchOutcome, StoreError> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        let out = write_batch_in(self, secrets, rng, filings, now, access_code_days)
            .await
            .and_then(|outcome| self.fill_status_rows(&outcome).map(|()| outcome));
        match out {
            Ok(outcome) => {
                self.conn.execute_batch("COMMIT")?;
                Ok(outcome)
            }
            Err(e) => {
                // The batch's error is what matters; a failed rollback
                // leaves nothing committed either.
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }
}

impl BatchTx for SqliteBatch {
    async fn select_in(
        &mut self,
        head: &str,
        keys: &[String],
        shape: &[Kind],
    ) -> Result<Vec<Vec<Val>>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!("{head} (?1)"))?;
        let mut out = Vec::new();
        for k in keys {
            let mut rows = stmt.query([k.as_str()])?;
            while let Some(r) = rows.next()? {
                out.push(decode_sqlite(r, shape)?);
            }
        }
        Ok(out)
    }

    async fn insert_rows(
        &mut self,
        head: &str,
        cols: usize,
        rows: Vec<Vec<Val>>,
        tail: &str,
        shape: &[Kind],
    ) -> Result<Vec<Vec<Val>>, StoreError> {
        let sql = format!(
            "{head} VALUES ({}) {tail}",
            values_placeholders_styled(ParamStyle::Question, 1, cols)
                .trim_start_matches('(')
                .trim_end_matches(')')
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut out = Vec::new();
        for row in &rows {
            let params = rusqlite::params_from_iter(row.iter());
            if shape.is_empty() {
                stmt.execute(params)?;
            } else {
                let mut got = stmt.query(params)?;
                while let Some(r) = got.next()? {
                    out.push(decode_sqlite(r, shape)?);
                }
            }
        }
        Ok(out)
    }
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
    let mut batch = SqlxBatch {
        tx: &mut tx,
        style: db.param_style(),
        max_params: db.max_params(),
    };
    let outcome = write_batch_in(&mut batch, secrets, rng, filings, now, access_code_days).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// The batch itself, inside a transaction the caller opened and commits.
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

    // 1. Drop filings already present (or repeated within this batch).
    let keys: Vec<String> = filings.iter().map(|f| policy::intake_key(&f.row)).collect();
    let existing: HashSet<String> = tx
        .select_in(
            "SELECT intake_key FROM cases WHERE intake_key IN",
            &keys,
            &[Kind::T],
        )
        .await?
        .into_iter()
        .filter_map(|mut r| r.pop().and_then(Val::text))
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
    let mut people = read_people(tx, person_sql, &a_numbers).await?;
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
        tx.insert_rows(
            "INSERT INTO persons (a_number, given_name, family_name, dob, street, unit, city, state, zip, email, protected, created_at, updated_at)",
            13,
            new_people,
            "",
            &[],
        )
        .await?;
        people.extend(read_people(tx, person_sql, &added).await?);
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
        let last = tx
            .insert_rows(
                "INSERT INTO receipt_sequences (office, fiscal_year, workday, last_seq)",
                4,
                vec![vec![
                    Val::T(slot.office.code().to_string()),
                    Val::I(i64::from(slot.fiscal_year)),
                    Val::I(i64::from(slot.workday)),
                    Val::I(n),
                ]],
                "ON CONFLICT (office, fiscal_year, workday) \
                 DO UPDATE SET last_seq = receipt_sequences.last_seq + excluded.last_seq \
                 RETURNING last_seq",
                &[Kind::I],
            )
            .await?
            .first()
            .and_then(|r| r.first().and_then(Val::int))
            .ok_or_else(|| malformed("receipt sequence"))?;
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
    let inserted = tx
        .insert_rows(
            "INSERT INTO cases (receipt_number, form, person_id, office, received_date, channel, status, status_at, created_at, updated_at, intake_key)",
            11,
            case_rows,
            "RETURNING id, receipt_number",
            &[Kind::I, Kind::T],
        )
        .await?;
    let mut case_ids: HashMap<String, i64> = HashMap::with_capacity(inserted.len());
    for r in inserted {
        let mut r = r.into_iter();
        let id = r.next().and_then(|v| v.int());
        let receipt = r.next().and_then(Val::text);
        let (Some(id), Some(receipt)) = (id, receipt) else {
            return Err(malformed("case row"));
        };
        case_ids.insert(receipt, id);
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
    tx.insert_rows(
        "INSERT INTO case_history (case_id, status, at, actor)",
        4,
        history,
        "",
        &[],
    )
    .await?;
    let code_rows = tx
        .insert_rows(
            "INSERT INTO access_codes (person_id, case_id, code_hash, channel, issued_at, expires_at)",
            6,
            codes,
            "RETURNING id, case_id, code_hash",
            &[Kind::I, Kind::OI, Kind::B],
        )
        .await?;
    let mut code_for_case: HashMap<i64, (i64, AccessCode)> = HashMap::new();
    for r in code_rows {
        let mut r = r.into_iter();
        let id = r.next().and_then(|v| v.int());
        let case_id = r.next().and_then(|v| v.int());
        let hash = r.next().and_then(Val::bytes);
        let (Some(id), Some(hash)) = (id, hash) else {
            return Err(malformed("access code row"));
        };
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
    tx.insert_rows(
        "INSERT INTO notices (kind, lang, person_id, case_id, notice_date, created_at, addressee, street, unit, city, state, zip, receipt_number, form, received_date, access_code_id, code_sealed, code_expires_at, mail_state, mail_state_at)",
        20,
        notices,
        "",
        &[],
    )
    .await?;
    outcome.created.sort_by_key(|c| c.line);
    Ok(outcome)
}

async fn read_people<T: BatchTx + Send>(
    tx: &mut T,
    sql: &str,
    a_numbers: &[String],
) -> Result<HashMap<String, PersonOnFile>, StoreError> {
    use Kind::{I, OT, T as Tx};
    let rows = tx
        .select_in(sql, a_numbers, &[I, Tx, Tx, Tx, Tx, OT, Tx, Tx, Tx])
        .await?;
    let mut out = HashMap::with_capacity(rows.len());
    for r in rows {
        let mut r = r.into_iter();
        let mut next = || r.next().ok_or_else(|| malformed("person row"));
        let id = next()?.int().ok_or_else(|| malformed("person id"))?;
        let mut text = || next().and_then(|v| v.text().ok_or_else(|| malformed("person field")));
        let a_number = text()?;
        let given = text()?;
        let family = text()?;
        let street = text()?;
        let unit = next()?.text();
        let mut text = || next().and_then(|v| v.text().ok_or_else(|| malformed("person field")));
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
