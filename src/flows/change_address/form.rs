//! The change-of-address forms: what the person typed (kept for re-display)
//! and its parsed form. Identity and address fields parse exactly as on the
//! access-code form (same rules, same messages).

use chrono::NaiveDate;
use serde::Deserialize;

use crate::domain::person::{DateOfBirth, PersonName};
use crate::domain::{ANumber, AccessCode, ReceiptNumber, UsAddress};
use crate::flows::access_code::form::{FieldError, Identifier, RawForm as AccessForm};

/// Raw request fields, exactly as posted (all optional strings).
#[derive(Debug, Default, Clone, Deserialize)]
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
    pub captcha_token: String,
    #[serde(default)]
    pub captcha_solution: String,
}

/// The facts submitted, parsed.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub identifier: Identifier,
    pub name: PersonName,
    pub dob: DateOfBirth,
    /// The new address.
    pub address: UsAddress,
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

    fn as_access_form(&self) -> AccessForm {
        AccessForm {
            id_kind: self.id_kind.clone(),
            a_number: self.a_number.clone(),
            receipt: self.receipt.clone(),
            given_name: self.given_name.clone(),
            family_name: self.family_name.clone(),
            dob_month: self.dob_month.clone(),
            dob_day: self.dob_day.clone(),
            dob_year: self.dob_year.clone(),
            street: self.street.clone(),
            unit: self.unit.clone(),
            city: self.city.clone(),
            state: self.state.clone(),
            zip: self.zip.clone(),
            delivery: "post".into(),
            ..AccessForm::default()
        }
    }

    pub fn parse(&self, today: NaiveDate) -> Result<Submitted, Vec<FieldError>> {
        self.as_access_form().parse(today).map(|s| Submitted {
            identifier: s.identifier,
            name: s.name,
            dob: s.dob,
            address: s.address,
        })
    }
}

/// `/change-address/confirm`: who you are and the letter's code.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    pub id_kind: String,
    #[serde(default)]
    pub a_number: String,
    #[serde(default)]
    pub receipt: String,
    #[serde(default)]
    pub code: String,
}

impl ConfirmForm {
    pub fn trimmed(mut self) -> ConfirmForm {
        for f in [
            &mut self.id_kind,
            &mut self.a_number,
            &mut self.receipt,
            &mut self.code,
        ] {
            *f = f.trim().chars().take(64).collect();
        }
        self
    }

    pub fn uses_receipt(&self) -> bool {
        self.id_kind == "receipt"
    }

    pub fn parse(&self) -> Result<(Identifier, AccessCode), Vec<FieldError>> {
        let mut errors = vec![];
        let id = if self.uses_receipt() {
            ReceiptNumber::parse(&self.receipt)
                .map(Identifier::Receipt)
                .map_err(|_| FieldError {
                    field: "receipt",
                    key: if self.receipt.is_empty() {
                        "access.error.receipt_missing"
                    } else {
                        "access.error.receipt_format"
                    },
                })
        } else {
            ANumber::parse(&self.a_number)
                .map(Identifier::ANumber)
                .map_err(|_| FieldError {
                    field: "a_number",
                    key: if self.a_number.is_empty() {
                        "access.error.a_number_missing"
                    } else {
                        "access.error.a_number_format"
                    },
                })
        };
        let code = parse_code(&self.code);
        if let Err(e) = &id {
            errors.push(e.clone());
        }
        if let Err(e) = &code {
            errors.push(e.clone());
        }
        match (id, code) {
            (Ok(i), Ok(c)) => Ok((i, c)),
            _ => Err(errors),
        }
    }
}

/// `/change-address/cancel`: the code printed in the notice or email.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct CancelForm {
    #[serde(default)]
    pub code: String,
}

pub fn parse_code(s: &str) -> Result<AccessCode, FieldError> {
    AccessCode::parse(s).map_err(|_| FieldError {
        field: "code",
        key: if s.trim().is_empty() {
            "change_address.error.code_missing"
        } else {
            "change_address.error.code_format"
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_the_access_code_form_without_a_delivery() {
        let f = RawForm {
            id_kind: "receipt".into(),
            receipt: "LIN9999106498".into(),
            given_name: "Nguyen".into(),
            family_name: "Thi Lan".into(),
            dob_month: "7".into(),
            dob_day: "30".into(),
            dob_year: "1979".into(),
            street: "9 Oak Street".into(),
            city: "Austin".into(),
            state: "tx".into(),
            zip: "78701".into(),
            ..RawForm::default()
        };
        let s = f
            .parse(NaiveDate::from_ymd_opt(2026, 11, 28).unwrap())
            .unwrap();
        assert_eq!(s.address.delivery_line(), "9 OAK ST");
        let empty = RawForm::default().parse(NaiveDate::from_ymd_opt(2026, 11, 28).unwrap());
        let fields: Vec<_> = empty.unwrap_err().iter().map(|e| e.field).collect();
        assert!(!fields.contains(&"delivery"), "{fields:?}");
        assert!(fields.contains(&"street"));
    }

    #[test]
    fn confirm_needs_an_identifier_and_a_code() {
        let f = ConfirmForm {
            id_kind: "a_number".into(),
            a_number: "A-012-345-678".into(),
            code: "abcd-efgh-jkmn".into(),
            ..ConfirmForm::default()
        };
        assert!(f.parse().is_ok());
        let bad = ConfirmForm {
            code: "x".into(),
            ..ConfirmForm::default()
        };
        let fields: Vec<_> = bad.parse().unwrap_err().iter().map(|e| e.field).collect();
        assert_eq!(fields, vec!["a_number", "code"]);
    }
}
