//! `casegate intake FILE`: reads the CSV in batches, reports bad rows by line
//! number with the reason, commits good rows batch by batch.

use std::collections::VecDeque;
use std::io::Read;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::NaiveDate;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::form::{Columns, RowError, parse_row};
use super::store::{Filing, write_batch, write_batch_in_place};
use crate::secrets::Secrets;
use crate::store::batch::SqliteBatch;
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

/// Line numbers as an editor shows them, for reporting rows. The csv
/// crate's record positions are taken before the blank lines and the `\n`
/// of a `\r\n` in front of the record are skipped, so they read one line low
/// in CRLF files, stay at 1 in `\r`-only files and ignore blank lines.
/// [`Counted`] notes where every non-blank line starts as bytes go by;
/// [`LineStarts::line_at`] maps a record's csv byte position to its line.
#[derive(Debug, Clone, Default)]
pub struct LineStarts(Arc<Mutex<LineState>>);

#[derive(Debug, Default)]
struct LineState {
    offset: u64,
    /// Line breaks seen so far (`\n`, `\r\n` or a lone `\r`).
    breaks: u64,
    in_line: bool,
    after_cr: bool,
    /// (byte offset, 1-based line) of non-blank line starts not yet asked for.
    starts: VecDeque<(u64, u64)>,
}

impl LineStarts {
    /// Line of the first non-blank line starting at or after `byte` (a
    /// record's csv position). Queries must come in increasing order.
    pub fn line_at(&self, byte: u64) -> u64 {
        let mut s = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        while s.starts.front().is_some_and(|(at, _)| *at < byte) {
            s.starts.pop_front();
        }
        s.starts.front().map_or(s.breaks + 1, |(_, line)| *line)
    }
}

/// A reader that records line starts into a [`LineStarts`].
pub struct Counted<R> {
    inner: R,
    lines: LineStarts,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut s = self.lines.0.lock().unwrap_or_else(PoisonError::into_inner);
        for &b in buf.get(..n).unwrap_or_default() {
            match b {
                b'\r' => {
                    s.breaks += 1;
                    s.in_line = false;
                    s.after_cr = true;
                }
                b'\n' => {
                    if !s.after_cr {
                        s.breaks += 1;
                    }
                    s.in_line = false;
                    s.after_cr = false;
                }
                _ => {
                    if !s.in_line {
                        let entry = (s.offset, s.breaks + 1);
                        s.starts.push_back(entry);
                    }
                    s.in_line = true;
                    s.after_cr = false;
                }
            }
            s.offset += 1;
        }
        Ok(n)
    }
}

/// [`reader`] over `input`, with the line starts it passes through.
pub fn counted_reader<R: Read>(input: R) -> (csv::Reader<Counted<R>>, LineStarts) {
    let lines = LineStarts::default();
    let counted = Counted {
        inner: input,
        lines: lines.clone(),
    };
    (reader(counted), lines)
}

/// Parses a whole (small) CSV document, e.g. an API request body.
pub fn parse_all<R: Read>(input: R, today: NaiveDate) -> Result<Parsed, IntakeError> {
    let (mut rdr, lines) = counted_reader(input);
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
        push_record(rec, &lines, &cols, today, &mut parsed);
    }
    Ok(parsed)
}

fn push_record(
    rec: Result<csv::StringRecord, csv::Error>,
    lines: &LineStarts,
    cols: &Columns,
    today: NaiveDate,
    parsed: &mut Parsed,
) {
    match rec {
        Err(e) => {
            let line = e.position().map_or(0, |p| lines.line_at(p.byte()));
            parsed.rejected.push((line, "unreadable CSV line".into()));
        }
        Ok(r) => {
            let line = r.position().map_or(0, |p| lines.line_at(p.byte()));
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
    let (mut rdr, lines) = counted_reader(std::io::BufReader::with_capacity(1 << 20, file));
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
    // On SQLite, one connection used in place (see `store::batch::SqliteBatch`).
    let mut in_place = SqliteBatch::open(db)?;
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
                push_record(rec, &lines, &cols, today, &mut parsed);
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
                write_batch_in_place(
                    batch,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(doc: &str) -> Vec<u64> {
        let today = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        let header = super::super::form::COLUMNS.join(",");
        let parsed = parse_all(format!("{header}{doc}").as_bytes(), today).unwrap();
        assert!(parsed.filings.is_empty());
        parsed.rejected.iter().map(|(line, _)| *line).collect()
    }

    #[test]
    fn rejections_carry_the_line_an_editor_shows() {
        // Found by fuzzing: csv's record positions read one line low after
        // `\r\n`, stay at 1 with `\r` endings and skip blank lines.
        assert_eq!(lines_of("\nbad\nworse\n"), [2, 3]);
        assert_eq!(lines_of("\r\nbad\r\nworse\r\n"), [2, 3]);
        assert_eq!(lines_of("\rbad\rworse\r"), [2, 3]);
        assert_eq!(lines_of("\n\nbad\n\r\n\nworse"), [3, 6]);
        // A quoted field spanning lines: the next row is still placed right.
        assert_eq!(lines_of("\r\n\"a\r\nb\"\r\nworse\r\n"), [2, 4]);
        // Invalid UTF-8 is reported on its own line too.
        let today = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        let mut doc = super::super::form::COLUMNS.join(",").into_bytes();
        doc.extend_from_slice(b"\r\n\r\nx\xff\r\n");
        let parsed = parse_all(&doc[..], today).unwrap();
        assert_eq!(parsed.rejected, [(3, "unreadable CSV line".to_owned())]);
    }
}
