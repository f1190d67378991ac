//! The intake row: one paper (or online) filing, as a CSV line with a header.
//!
//! Columns (any order, header names exactly as below; `unit`, `email` and
//! `protected` may be empty): `a_number, given_name, family_name,
//! date_of_birth (YYYY-MM-DD), street, unit, city, state, zip, email, form,
//! office, received_date (YYYY-MM-DD), channel (paper|online), protected
//! (yes/no, true/false, 1/0)`.

use chrono::NaiveDate;

use crate::domain::address::AddressInput;
use crate::domain::person::{DateOfBirth, PersonName};
use crate::domain::{ANumber, Channel, Email, FormType, Office, UsAddress};

pub const COLUMNS: [&str; 15] = [
    "a_number",
    "given_name",
    "family_name",
    "date_of_birth",
    "street",
    "unit",
    "city",
    "state",
    "zip",
    "email",
    "form",
    "office",
    "received_date",
    "channel",
    "protected",
];

/// A filing whose every field has been parsed.
#[derive(Debug, Clone)]
pub struct IntakeRow {
    pub a_number: ANumber,
    pub name: PersonName,
    pub dob: DateOfBirth,
    pub address: UsAddress,
    pub email: Option<Email>,
    pub form: FormType,
    pub office: Office,
    pub received: NaiveDate,
    pub channel: Channel,
    pub protected: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowError {
    #[error("missing column(s) in header: {0}")]
    MissingColumns(String),
    #[error("invalid A-Number")]
    ANumber,
    #[error("invalid name: {0}")]
    Name(String),
    #[error("invalid date of birth (expected YYYY-MM-DD, not in the future)")]
    DateOfBirth,
    #[error("invalid address: {0}")]
    Address(String),
    #[error("invalid email")]
    Email,
    #[error("unknown form `{0}`")]
    Form(String),
    #[error("unknown office `{0}`")]
    Office(String),
    #[error("invalid received date (expected YYYY-MM-DD, not in the future, not before 1990)")]
    ReceivedDate,
    #[error("invalid channel `{0}` (expected paper or online)")]
    Channel(String),
    #[error("IOE receipts are for online filings only, and online filings get IOE receipts")]
    ChannelOffice,
    #[error("invalid protected flag `{0}` (expected yes or no)")]
    Protected(String),
    #[error("date of birth is after the received date")]
    BornAfterFiling,
}

/// Column positions resolved from the header line.
#[derive(Debug, Clone)]
pub struct Columns([usize; 15]);

impl Columns {
    pub fn from_header<'a>(header: impl IntoIterator<Item = &'a str>) -> Result<Columns, RowError> {
        let names: Vec<String> = header
            .into_iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
            .collect();
        let mut idx = [0usize; 15];
        let mut missing = Vec::new();
        for (i, col) in COLUMNS.iter().enumerate() {
            match names.iter().position(|n| n == col) {
                Some(p) => idx[i] = p,
                None => missing.push(*col),
            }
        }
        if missing.is_empty() {
            Ok(Columns(idx))
        } else {
            Err(RowError::MissingColumns(missing.join(", ")))
        }
    }
}

fn parse_flag(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "" | "no" | "n" | "false" | "0" => Some(false),
        "yes" | "y" | "true" | "1" => Some(true),
        _ => None,
    }
}

/// Parses one record's fields (`get(i)` returns field `i` or "").
pub fn parse_row<'a>(
    cols: &Columns,
    get: impl Fn(usize) -> &'a str,
    today: NaiveDate,
) -> Result<IntakeRow, RowError> {
    let f = |name: usize| get(cols.0[name]).trim();
    let a_number = ANumber::parse(f(0)).map_err(|_| RowError::ANumber)?;
    let name = PersonName::parse(f(1), f(2)).map_err(|e| RowError::Name(e.to_string()))?;
    let dob = DateOfBirth::parse_iso(f(3)).map_err(|_| RowError::DateOfBirth)?;
    if dob.date() > today {
        return Err(RowError::DateOfBirth);
    }
    let address = UsAddress::parse(AddressInput {
        street: f(4),
        unit: f(5),
        city: f(6),
        state: f(7),
        zip: f(8),
    })
    .map_err(|e| RowError::Address(e.to_string()))?;
    let email = match f(9) {
        "" => None,
        e => Some(Email::parse(e).map_err(|_| RowError::Email)?),
    };
    let form =
        FormType::parse(f(10)).ok_or_else(|| RowError::Form(f(10).chars().take(20).collect()))?;
    let office = Office::from_code(&f(11).to_ascii_uppercase())
        .ok_or_else(|| RowError::Office(f(11).chars().take(20).collect()))?;
    let received =
        NaiveDate::parse_from_str(f(12), "%Y-%m-%d").map_err(|_| RowError::ReceivedDate)?;
    let earliest = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or_default();
    if received > today || received < earliest {
        return Err(RowError::ReceivedDate);
    }
    let channel =
        Channel::parse(f(13)).ok_or_else(|| RowError::Channel(f(13).chars().take(20).collect()))?;
    if (office == Office::Ioe) != (channel == Channel::Online) {
        return Err(RowError::ChannelOffice);
    }
    let protected =
        parse_flag(f(14)).ok_or_else(|| RowError::Protected(f(14).chars().take(20).collect()))?;
    if dob.date() > received {
        return Err(RowError::BornAfterFiling);
    }
    Ok(IntakeRow {
        a_number,
        name,
        dob,
        address,
        email,
        form,
        office,
        received,
        channel,
        protected,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
    }

    fn cols() -> Columns {
        Columns::from_header(COLUMNS).unwrap()
    }

    const GOOD: [&str; 15] = [
        "A-012-345-678",
        "María José",
        "Núñez-García",
        "1985-02-14",
        "123 Main Street Apt 4",
        "",
        "Springfield",
        "IL",
        "62701",
        "maria@example.com",
        "I-130",
        "LIN",
        "2026-10-15",
        "paper",
        "no",
    ];

    fn with(i: usize, v: &'static str) -> [&'static str; 15] {
        let mut r = GOOD;
        r[i] = v;
        r
    }

    #[test]
    fn good_row_parses() {
        let r = parse_row(&cols(), |i| GOOD[i], today()).unwrap();
        assert_eq!(r.a_number.as_str(), "A012345678");
        assert_eq!(r.form, FormType::I130);
        assert_eq!(r.office, Office::Lin);
        assert_eq!(r.channel, Channel::Paper);
        assert!(!r.protected);
        assert_eq!(r.address.delivery_line(), "123 MAIN ST APT 4");
    }

    #[test]
    fn each_bad_field_is_named() {
        let c = cols();
        let err = |row: [&'static str; 15]| parse_row(&c, |i| row[i], today()).unwrap_err();
        assert_eq!(err(with(0, "A-000-000-000")), RowError::ANumber);
        assert_eq!(err(with(3, "14/02/1985")), RowError::DateOfBirth);
        assert!(matches!(err(with(7, "XX")), RowError::Address(_)));
        assert_eq!(err(with(9, "not-an-email")), RowError::Email);
        assert_eq!(err(with(10, "I-999")), RowError::Form("I-999".into()));
        assert_eq!(err(with(11, "ZZZ")), RowError::Office("ZZZ".into()));
        assert_eq!(err(with(12, "2027-01-01")), RowError::ReceivedDate);
        assert_eq!(err(with(13, "fax")), RowError::Channel("fax".into()));
        assert_eq!(err(with(11, "IOE")), RowError::ChannelOffice);
        assert_eq!(err(with(14, "maybe")), RowError::Protected("maybe".into()));
        let mut late_birth = with(3, "2000-01-01");
        late_birth[12] = "1995-06-01";
        assert_eq!(err(late_birth), RowError::BornAfterFiling);
    }

    #[test]
    fn header_names_missing_columns() {
        let e = Columns::from_header(["a_number", "form"]).unwrap_err();
        assert!(e.to_string().contains("given_name"));
    }

    proptest! {
        #[test]
        fn arbitrary_fields_never_panic(fields in proptest::collection::vec(".{0,40}", 15)) {
            let c = cols();
            let _ = parse_row(&c, |i| fields[i].as_str(), today());
        }
    }
}
