//! The "Get an online access code" form: what the applicant typed (kept for
//! re-display) and its parsed form. Each field error is a message key.

use chrono::NaiveDate;
use serde::Deserialize;

use crate::domain::address::{AddressField, AddressInput, AddressProblem};
use crate::domain::person::{DateOfBirth, DobError, NameError, PersonName};
use crate::domain::{ANumber, ReceiptNumber, UsAddress};

/// Raw form fields, exactly as posted (all optional strings).
#[derive(Default, Clone, Deserialize)]
pub struct RawForm {
    #[serde(default)]
    pub id_kind: String,
    #[serde(default)]
    pub a_number: String,
    #[serde(default)]
    pub receipt: String,
    #[serde(default)]
    pub given_name: String,
    #[serde(default)]
    pub family_name: String,
    #[serde(default)]
    pub dob_month: String,
    #[serde(default)]
    pub dob_day: String,
    #[serde(default)]
    pub dob_year: String,
    #[serde(default)]
    pub street: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub zip: String,
    #[serde(default)]
    pub delivery: String,
    #[serde(default)]
    pub captcha_token: String,
    #[serde(default)]
    pub captcha_solution: String,
}

crate::redacted_debug!(RawForm { id_kind, receipt, given_name, family_name, dob_month, dob_day, dob_year, street, unit, city, state, zip, delivery, captcha_token, captcha_solution } redact { a_number });

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identifier {
    ANumber(ANumber),
    Receipt(ReceiptNumber),
}

impl Identifier {
    /// Kind and canonical value, for keyed hashing in limits and audit.
    pub fn parts(&self) -> (&'static str, &str) {
        match self {
            Identifier::ANumber(a) => ("a_number", a.as_str()),
            Identifier::Receipt(r) => ("receipt", r.as_str()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Email,
    Post,
}

impl Delivery {
    pub fn code(self) -> &'static str {
        match self {
            Delivery::Email => "email",
            Delivery::Post => "post",
        }
    }
}

/// The facts the applicant submitted, parsed.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub identifier: Identifier,
    pub name: PersonName,
    pub dob: DateOfBirth,
    pub address: UsAddress,
    pub delivery: Delivery,
}

/// Field name (as in the HTML) and message key of its error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub key: &'static str,
}

impl RawForm {
    /// Limits every field's length so a hostile post cannot bloat a re-render.
    pub fn trimmed(mut self) -> RawForm {
        for f in [
            &mut self.id_kind,
            &mut self.a_number,
            &mut self.receipt,
            &mut self.given_name,
            &mut self.family_name,
            &mut self.dob_month,
            &mut self.dob_day,
            &mut self.dob_year,
            &mut self.street,
            &mut self.unit,
            &mut self.city,
            &mut self.state,
            &mut self.zip,
            &mut self.delivery,
        ] {
            *f = f.trim().chars().take(120).collect();
        }
        self.captcha_token = self.captcha_token.chars().take(1024).collect();
        self.captcha_solution = self.captcha_solution.chars().take(32).collect();
        self
    }

    pub fn uses_receipt(&self) -> bool {
        self.id_kind == "receipt"
    }

    pub fn parse(&self, today: NaiveDate) -> Result<Submitted, Vec<FieldError>> {
        let mut errors = Vec::new();
        let identifier = if self.uses_receipt() {
            match ReceiptNumber::parse(&self.receipt) {
                Ok(r) => Some(Identifier::Receipt(r)),
                Err(_) => {
                    errors.push(FieldError {
                        field: "receipt",
                        key: if self.receipt.is_empty() {
                            "access.error.receipt_missing"
                        } else {
                            "access.error.receipt_format"
                        },
                    });
                    None
                }
            }
        } else {
            match ANumber::parse(&self.a_number) {
                Ok(a) => Some(Identifier::ANumber(a)),
                Err(_) => {
                    errors.push(FieldError {
                        field: "a_number",
                        key: if self.a_number.is_empty() {
                            "access.error.a_number_missing"
                        } else {
                            "access.error.a_number_format"
                        },
                    });
                    None
                }
            }
        };
        let name = match PersonName::parse(&self.given_name, &self.family_name) {
            Ok(n) => Some(n),
            Err(e) => {
                errors.push(match e {
                    NameError::GivenTooLong | NameError::GivenInvalid => FieldError {
                        field: "given_name",
                        key: "access.error.given_name",
                    },
                    NameError::FamilyMissing => FieldError {
                        field: "family_name",
                        key: "access.error.family_name_missing",
                    },
                    NameError::FamilyTooLong | NameError::FamilyInvalid => FieldError {
                        field: "family_name",
                        key: "access.error.family_name",
                    },
                });
                None
            }
        };
        let dob =
            match DateOfBirth::parse_parts(&self.dob_month, &self.dob_day, &self.dob_year, today) {
                Ok(d) => Some(d),
                Err(e) => {
                    errors.push(FieldError {
                        field: "dob",
                        key: match e {
                            DobError::Missing
                            | DobError::MissingMonth
                            | DobError::MissingDay
                            | DobError::MissingYear => "access.error.dob_missing",
                            DobError::Future => "access.error.dob_future",
                            _ => "access.error.dob_invalid",
                        },
                    });
                    None
                }
            };
        let address = match UsAddress::parse(AddressInput {
            street: &self.street,
            unit: &self.unit,
            city: &self.city,
            state: &self.state,
            zip: &self.zip,
        }) {
            Ok(a) => Some(a),
            Err(problems) => {
                for (field, problem) in problems.into_vec() {
                    let (name, missing, invalid) = match field {
                        AddressField::Street => (
                            "street",
                            "access.error.street_missing",
                            "access.error.street",
                        ),
                        AddressField::Unit => ("unit", "access.error.unit", "access.error.unit"),
                        AddressField::City => {
                            ("city", "access.error.city_missing", "access.error.city")
                        }
                        AddressField::State => {
                            ("state", "access.error.state", "access.error.state")
                        }
                        AddressField::Zip => ("zip", "access.error.zip", "access.error.zip"),
                    };
                    let key = match problem {
                        AddressProblem::Missing => missing,
                        _ => invalid,
                    };
                    if !errors.iter().any(|e| e.field == name) {
                        errors.push(FieldError { field: name, key });
                    }
                }
                None
            }
        };
        let delivery = match self.delivery.as_str() {
            "email" => Some(Delivery::Email),
            "post" => Some(Delivery::Post),
            _ => {
                errors.push(FieldError {
                    field: "delivery",
                    key: "access.error.delivery",
                });
                None
            }
        };
        match (identifier, name, dob, address, delivery) {
            (Some(identifier), Some(name), Some(dob), Some(address), Some(delivery))
                if errors.is_empty() =>
            {
                Ok(Submitted {
                    identifier,
                    name,
                    dob,
                    address,
                    delivery,
                })
            }
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> RawForm {
        RawForm {
            id_kind: "a_number".into(),
            a_number: "A-012-345-678".into(),
            given_name: "Maria Jose".into(),
            family_name: "Nunez Garcia".into(),
            dob_month: "2".into(),
            dob_day: "14".into(),
            dob_year: "1985".into(),
            street: "123 Main Street".into(),
            unit: "Apartment 4".into(),
            city: "Springfield".into(),
            state: "IL".into(),
            zip: "62701".into(),
            delivery: "email".into(),
            ..RawForm::default()
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
    }

    #[test]
    fn a_good_form_parses() {
        let s = good().parse(today()).unwrap();
        assert_eq!(
            s.identifier,
            Identifier::ANumber(ANumber::parse("A012345678").unwrap())
        );
        assert_eq!(s.delivery, Delivery::Email);
        assert_eq!(s.address.delivery_line(), "123 MAIN ST APT 4");
    }

    #[test]
    fn receipt_is_the_other_identification() {
        let mut f = good();
        f.id_kind = "receipt".into();
        f.receipt = "eac9999103403".into();
        let s = f.parse(today()).unwrap();
        assert!(matches!(s.identifier, Identifier::Receipt(_)));
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let f = RawForm {
            id_kind: "a_number".into(),
            a_number: "12".into(),
            dob_month: "13".into(),
            dob_day: "1".into(),
            dob_year: "1990".into(),
            state: "ZZ".into(),
            ..RawForm::default()
        };
        let errors = f.parse(today()).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        for f in [
            "a_number",
            "family_name",
            "dob",
            "street",
            "city",
            "state",
            "zip",
            "delivery",
        ] {
            assert!(fields.contains(&f), "{f} in {fields:?}");
        }
        assert!(
            errors
                .iter()
                .any(|e| e.key == "access.error.a_number_format")
        );
        assert!(errors.iter().any(|e| e.key == "access.error.dob_invalid"));
    }

    #[test]
    fn trimmed_caps_lengths() {
        let mut f = good();
        f.street = "x".repeat(10_000);
        assert_eq!(f.trimmed().street.len(), 120);
    }
}
