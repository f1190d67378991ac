//! Address parser/normaliser (USPS Pub 28 style): never panics; an accepted
//! address has fields in the documented alphabets and lengths, and
//! normalising it again (its own fields fed back in) gives the same address.
//!
//! Input: up to five fields separated by NUL bytes (NUL itself is a control
//! character, which every field rejects): street, unit, city, state, zip.
#![no_main]

use casegate::domain::UsAddress;
use casegate::domain::address::{AddressInput, MAX_CITY, MAX_STREET, MAX_UNIT, UsState, ZipCode};
use libfuzzer_sys::fuzz_target;

const UNIT_DESIGNATORS: &[&str] = &[
    "#", "APT", "STE", "UNIT", "BLDG", "FL", "RM", "DEPT", "TRLR", "LOT", "SPC",
];

/// Single-space separated tokens, no leading/trailing space.
fn collapsed(s: &str) -> bool {
    !s.is_empty() && !s.starts_with(' ') && !s.ends_with(' ') && !s.contains("  ")
}

fn street_char(c: char) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, ' ' | '-' | '/' | '&' | '#')
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut fields = text.splitn(5, '\0');
    let mut next = || fields.next().unwrap_or("");
    let (street, unit, city, state, zip) = (next(), next(), next(), next(), next());
    let input = AddressInput {
        street,
        unit,
        city,
        state,
        zip,
    };

    // The parts parse on their own without panicking too.
    let _ = ZipCode::parse(zip);
    let _ = UsState::from_code(state);

    let a = match UsAddress::parse(input) {
        Ok(a) => a,
        Err(e) => {
            // At least one problem, at most one per field.
            let p = e.problems();
            assert!(!p.is_empty());
            for (i, (f, _)) in p.iter().enumerate() {
                assert!(
                    p[..i].iter().all(|(g, _)| g != f),
                    "field reported twice: {p:?}"
                );
            }
            return;
        }
    };

    // Street: collapsed, allowed alphabet, has a letter, within the limit.
    let s = a.street();
    assert!(collapsed(s), "{s:?}");
    assert!(s.chars().all(street_char), "{s:?}");
    assert!(s.chars().any(|c| c.is_ascii_alphabetic()), "{s:?}");
    assert!(s.chars().count() <= MAX_STREET, "{s:?}");

    // Unit: designator (or generic #), then an identifier.
    if let Some(u) = a.unit() {
        assert!(collapsed(u), "{u:?}");
        assert!(u.chars().all(street_char), "{u:?}");
        assert!(u.chars().count() <= MAX_UNIT, "{u:?}");
        let (desig, id) = u.split_once(' ').expect("unit has an identifier");
        assert!(UNIT_DESIGNATORS.contains(&desig), "{u:?}");
        assert!(id.chars().any(|c| c.is_ascii_alphanumeric()), "{u:?}");
    }

    // City.
    let c = a.city();
    assert!(collapsed(c), "{c:?}");
    assert!(
        c.chars()
            .all(|c| c.is_ascii_uppercase() || c == ' ' || c == '-'),
        "{c:?}"
    );
    assert!(c.chars().any(|c| c.is_ascii_alphabetic()), "{c:?}");
    assert!(c.chars().count() <= MAX_CITY, "{c:?}");

    // ZIP: 12345 or 12345-6789.
    let z = a.zip().as_str();
    let zb = z.as_bytes();
    assert!(
        (zb.len() == 5 && zb.iter().all(u8::is_ascii_digit))
            || (zb.len() == 10
                && zb[5] == b'-'
                && zb
                    .iter()
                    .enumerate()
                    .all(|(i, b)| i == 5 || b.is_ascii_digit())),
        "{z:?}"
    );
    assert_eq!(ZipCode::parse(z).as_ref(), Ok(a.zip()));

    // Normalising the normalised address changes nothing (idempotence),
    // whether the state is given by code or by name.
    let zip_s = z.to_owned();
    for state in [a.state().code(), a.state().name()] {
        let again = UsAddress::parse(AddressInput {
            street: a.street(),
            unit: a.unit().unwrap_or(""),
            city: a.city(),
            state,
            zip: &zip_s,
        });
        assert_eq!(again.as_ref(), Ok(&a), "not idempotent");
    }
    assert!(a.matches(&a));
});
