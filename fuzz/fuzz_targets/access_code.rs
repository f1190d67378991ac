//! Access-code parser: never panics; anything accepted is 12 Crockford
//! base32 symbols, equal to the input's symbols after the documented
//! aliasing (case, O→0, I/L→1), round-trips through the canonical,
//! grouped (`XXXX-XXXX-XXXX`) and lowercase forms, and is never shown by
//! `Debug`.
#![no_main]

use casegate::domain::AccessCode;
use casegate::domain::access_code::{ALPHABET, CODE_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    let Ok(c) = AccessCode::parse(&input) else {
        return;
    };
    let canon = c.as_str();

    assert_eq!(canon.len(), CODE_LEN, "{canon:?}");
    assert!(canon.bytes().all(|b| ALPHABET.contains(&b)), "{canon:?}");

    // The canonical form is what was typed, aliased, without separators.
    let typed: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .collect();
    assert_eq!(typed, canon);

    // Grouped display form.
    let grouped = c.grouped();
    assert_eq!(grouped.len(), CODE_LEN + 2);
    assert_eq!(
        grouped,
        format!("{}-{}-{}", &canon[0..4], &canon[4..8], &canon[8..12])
    );
    assert_eq!(c.to_string(), grouped);

    // Round trips / idempotence.
    assert_eq!(AccessCode::parse(canon).as_ref(), Ok(&c));
    assert_eq!(AccessCode::parse(&grouped).as_ref(), Ok(&c));
    assert_eq!(
        AccessCode::parse(&grouped.to_ascii_lowercase()).as_ref(),
        Ok(&c)
    );
    assert_eq!(AccessCode::parse(&c.to_string()).as_ref(), Ok(&c));

    // Never leaked through Debug.
    assert_eq!(format!("{c:?}"), "AccessCode(<redacted>)");
});
