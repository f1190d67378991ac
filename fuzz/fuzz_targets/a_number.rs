//! A-Number parser: never panics; anything accepted is `A` + 9 ASCII digits,
//! not all zeros, round-trips through `Display`/`digits()` and carries the
//! digits that were typed (left-padded to 9).
#![no_main]

use casegate::domain::ANumber;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    let Ok(a) = ANumber::parse(&input) else {
        return;
    };
    let canon = a.as_str();

    // Format rules from the type's docs.
    assert_eq!(canon.len(), 10, "{canon:?}");
    assert!(canon.starts_with('A'), "{canon:?}");
    assert!(a.digits().bytes().all(|b| b.is_ascii_digit()), "{canon:?}");
    assert_eq!(a.digits().len(), ANumber::DIGITS);
    assert!(a.digits().bytes().any(|b| b != b'0'), "all zeros accepted");

    // What was typed: separators dropped, an optional leading A, 7-9 digits.
    let compact: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    let typed = compact.strip_prefix(['A', 'a']).unwrap_or(&compact);
    assert!((7..=9).contains(&typed.len()), "typed {typed:?}");
    assert_eq!(format!("{typed:0>9}"), a.digits());

    // Round trips and idempotence of the canonical form.
    assert_eq!(ANumber::parse(canon).as_ref(), Ok(&a));
    assert_eq!(ANumber::parse(&a.to_string()).as_ref(), Ok(&a));
    assert_eq!(ANumber::parse(a.digits()).as_ref(), Ok(&a));
    assert_eq!(canon.parse::<ANumber>().as_ref(), Ok(&a));
    assert_eq!(
        ANumber::parse(canon)
            .map(|b| b.as_str().to_owned())
            .as_deref(),
        Ok(canon)
    );

    // Masking never shows more than the last three digits.
    let masked = a.masked();
    assert!(masked.ends_with(&canon[7..]));
    assert!(!format!("{a:?}").contains(&canon[1..7]));
});
