//! Receipt-number parser: never panics; anything accepted is 13 characters,
//! a known uppercase office code then 10 ASCII digits, equal to the input
//! with spaces/dashes dropped and uppercased, and round-trips through
//! `Display` and through `ReceiptNumber::new` from its parts.
#![no_main]

use casegate::domain::{Office, ReceiptNumber};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    let Ok(r) = ReceiptNumber::parse(&input) else {
        return;
    };
    let canon = r.as_str();

    // Format rules: office code, 2-digit FY, 3-digit workday, 5-digit sequence.
    assert_eq!(canon.len(), 13, "{canon:?}");
    assert_eq!(Office::from_code(&canon[..3]), Some(r.office()));
    assert_eq!(&canon[..3], r.office().code());
    assert!(canon[3..].bytes().all(|b| b.is_ascii_digit()), "{canon:?}");
    assert_eq!(canon[3..5].parse::<u8>().ok(), Some(r.fiscal_year()));
    assert_eq!(canon[5..8].parse::<u16>().ok(), Some(r.workday()));
    assert_eq!(canon[8..].parse::<u32>().ok(), Some(r.sequence()));
    assert!(r.fiscal_year() < 100 && r.workday() < 1000 && r.sequence() < 100_000);

    // Canonical form is the input without separators, uppercased.
    let squeezed: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    assert_eq!(squeezed, canon);

    // Round trips / idempotence.
    assert_eq!(ReceiptNumber::parse(canon).as_ref(), Ok(&r));
    assert_eq!(ReceiptNumber::parse(&r.to_string()).as_ref(), Ok(&r));
    assert_eq!(
        ReceiptNumber::parse(&canon.to_ascii_lowercase()).as_ref(),
        Ok(&r)
    );
    assert_eq!(
        ReceiptNumber::new(r.office(), r.fiscal_year(), r.workday(), r.sequence()).as_ref(),
        Ok(&r)
    );
    assert_eq!(format!("{r:?}"), format!("ReceiptNumber({canon})"));
});
