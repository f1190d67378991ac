//! CSV intake: arbitrary bytes as a CSV document through the path the CLI
//! and the intake API use (`intake::cli::parse_all`: the shared CSV reader,
//! the header resolver and `form::parse_row`). Never panics; if the header
//! is usable, every record after it is either accepted as a filing or
//! rejected with a non-empty reason and a real line number; accepted rows
//! satisfy the row rules (dates, channel/office pairing, A-Number form).
#![no_main]

use casegate::domain::{ANumber, Channel, Office};
use casegate::flows::intake::cli::{IntakeError, parse_all, reader};
use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let today = NaiveDate::from_ymd_opt(2026, 11, 28).expect("valid date");
    let parsed = match parse_all(data, today) {
        Ok(p) => p,
        // An unreadable header line or missing columns reject the document.
        Err(IntakeError::Csv(msg)) => {
            assert!(!msg.is_empty());
            return;
        }
        Err(IntakeError::Header(e)) => {
            assert!(!e.to_string().is_empty());
            return;
        }
        Err(e @ IntakeError::Store(_)) => panic!("parsing touched the store: {e}"),
    };

    // Same reader, counted independently: nothing is dropped or duplicated.
    let mut rdr = reader(data);
    assert!(rdr.headers().is_ok());
    let records = rdr.records().count();
    assert_eq!(
        parsed.filings.len() + parsed.rejected.len(),
        records,
        "rows lost or duplicated"
    );

    for (line, reason) in &parsed.rejected {
        assert!(!reason.trim().is_empty(), "rejection without a reason");
        assert!(*line >= 2, "rejection at line {line} (header is line 1)");
    }
    // Each record starts on its own line.
    let mut all: Vec<u64> = parsed.rejected.iter().map(|(l, _)| *l).collect();
    all.extend(parsed.filings.iter().map(|f| f.line));
    all.sort_unstable();
    assert!(
        all.windows(2).all(|w| w[0] < w[1]),
        "two rows on one line: {all:?}"
    );
    let mut last = 0;
    for f in &parsed.filings {
        assert!(f.line >= 2 && f.line > last, "filing at line {}", f.line);
        last = f.line;
        assert!(f.receipt.is_none());
        let row = &f.row;
        assert_eq!(
            ANumber::parse(row.a_number.as_str()).as_ref(),
            Ok(&row.a_number)
        );
        assert!(row.received <= today);
        assert!(row.received >= NaiveDate::from_ymd_opt(1990, 1, 1).expect("valid date"));
        assert!(row.dob.date() <= row.received, "born after filing");
        assert_eq!(row.office == Office::Ioe, row.channel == Channel::Online);
        assert!(!row.name.family().is_empty());
    }
});
