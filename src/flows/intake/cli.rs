//! `casegate intake FILE`: reads the CSV in batches, reports bad rows by line
//! number with the reason, commits good rows batch by batch.

use std::io::Read;

use chrono::NaiveDate;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::form::{Columns, RowError, parse_row};
use super::store::{Filing, SqliteBatch, write_batch};
use crate::secrets::Secrets;
use crate::store::{Db, StoreError};

pub struct Parsed {
    pub filings: Vec<Filing>,
    pub rejected: Vec<(u64, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("the file is not readable CSV: {0}")]
    Csv(String),
    #[error("{0}")]
    Header(RowError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The CSV reader every intake path uses (header row, flexible row
/// lengths, fields trimmed). Public for the fuzz targets.
pub fn reader<R: Read>(input: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input)
}

/// Parses a whole (small) CSV document, e.g. an API request body.
pub fn parse_all<R: Read>(input: R, today: NaiveDate) -> Result<Parsed, IntakeError> {
    let mut rdr = reader(input);
    let header = rdr
        .headers()
        .map_err(|e| IntakeError::Csv(e.to_string()))?
        .clone();
    let cols = Columns::from_header(header.iter()).map_err(IntakeError::Header)?;
    let mut parsed = Parsed {
        filings: Vec::new(),
        rejected: Vec::new(),
    };
    for rec in rdr.records() {
        push_record(rec, &cols, today, &mut parsed);
    }
    Ok(parsed)
}

fn push_record(
    rec: Result<csv::StringRecord, csv::Error>,
    cols: &Columns,
    today: NaiveDate,
    parsed: &mut Parsed,
) {
    match rec {
        Err(e) => {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            parsed.rejected.push((line, "unreadable CSV line".into()));
        }
        Ok(r) => {
            let line = r.position().map(|p| p.line()).unwrap_or(0);
            match parse_row(cols, |i| r.get(i).unwrap_or(""), today) {
                Ok(row) => parsed.filings.push(Filing {
                    line,
                    row,
                    receipt: None,
                }),
                Err(e) => parsed.rejected.push((line, e.to_string())),
            }
        }
    }
}

#[derive(Debug, Default)]
pub struct Summary {
    pub rows: u64,
    pub created: u64,
    pub access_notices: u64,
    pub duplicates: u64,
    pub rejected: u64,
}

/// Streams a file into the database. Bad rows go to `report` as
/// `line N: reason`. Returns the totals.
#[allow(clippy::too_many_arguments)]
pub async fn run_file(
    db: &Db,
    secrets: &Secrets,
    path: &std::path::Path,
    batch_rows: usize,
    access_code_days: i64,
    now: chrono::DateTime<chrono::Utc>,
    show_progress: bool,
    report: &mut dyn FnMut(u64, &str),
) -> Result<Summary, IntakeError> {
    let file = std::fs::File::open(path).map_err(|e| IntakeError::Csv(e.to_string()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut rdr = reader(std::io::BufReader::with_capacity(1 << 20, file));
    let header = rdr
        .headers()
        .map_err(|e| IntakeError::Csv(e.to_string()))?
        .clone();
    let cols = Columns::from_header(header.iter()).map_err(IntakeError::Header)?;
    let bar = if show_progress {
        let b = ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({eta}) {msg}",
        ) {
            b.set_style(style);
        }
        b
    } else {
        ProgressBar::hidden()
    };
    let today = now.date_naive();
    let mut summary = Summary::default();
    // A CSPRNG seeded once from the OS, rather than a system call per code.
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_entropy();
    // On SQLite, one connection used in place (see `store::SqliteBatch`).
    let mut in_place = match db.sqlite_reader() {
        Some(r) => Some(SqliteBatch::open(r.path())?),
        None => None,
    };
    // Reading and checking rows (one core) overlaps with writing the
    // previous batch (the other): a thread parses, the loop below writes.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(Parsed, u64)>(2);
    let parser = std::thread::spawn(move || {
        let mut records = rdr.records();
        let mut position = 0;
        loop {
            let mut parsed = Parsed {
                filings: Vec::with_capacity(batch_rows),
                rejected: Vec::new(),
            };
            for rec in records.by_ref().take(batch_rows) {
                if let Ok(r) = &rec {
                    position = r.position().map(|p| p.byte()).unwrap_or(position);
                }
                push_record(rec, &cols, today, &mut parsed);
            }
            if parsed.filings.is_empty() && parsed.rejected.is_empty() {
                break;
            }
            if tx.blocking_send((parsed, position)).is_err() {
                break; // the writer stopped (an error): nothing more to do
            }
        }
    });
    while let Some((parsed, position)) = rx.recv().await {
        let n = (parsed.filings.len() + parsed.rejected.len()) as u64;
        summary.rows += n;
        for (line, reason) in &parsed.rejected {
            report(*line, reason);
        }
        summary.rejected += parsed.rejected.len() as u64;
        let outcome = match in_place.as_mut() {
            Some(batch) => {
                batch
                    .write_batch(
                        secrets,
                        &mut rng,
                        parsed.filings,
                        now.timestamp(),
                        access_code_days,
                    )
                    .await?
            }
            None => {
                write_batch(
                    db,
                    secrets,
                    &mut rng,
                    parsed.filings,
                    now.timestamp(),
                    access_code_days,
                )
                .await?
            }
        };
        for (line, reason) in &outcome.failed {
            report(*line, reason);
        }
        summary.rejected += outcome.failed.len() as u64;
        summary.duplicates += outcome.duplicates.len() as u64;
        summary.created += outcome.created.len() as u64;
        summary.access_notices += outcome
            .created
            .iter()
            .filter(|c| c.access_code.is_some())
            .count() as u64;
        bar.set_position(position);
        bar.set_message(format!("{} cases", summary.created));
    }
    drop(rx);
    if parser.join().is_err() {
        return Err(IntakeError::Csv(
            "the CSV reader stopped unexpectedly".into(),
        ));
    }
    bar.finish_and_clear();
    Ok(summary)
}
