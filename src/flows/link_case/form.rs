//! The "Add a paper-filed case" form.

use chrono::NaiveDate;
use serde::Deserialize;

use crate::domain::person::DateOfBirth;
use crate::domain::{AccessCode, ReceiptNumber};

#[derive(Default, Clone, Deserialize)]
pub struct LinkForm {
    #[serde(default)]
    pub receipt: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub dob_month: String,
    #[serde(default)]
    pub dob_day: String,
    #[serde(default)]
    pub dob_year: String,
}

crate::redacted_debug!(LinkForm { receipt, dob_month, dob_day, dob_year } redact { code });

pub struct LinkInput {
    pub receipt: ReceiptNumber,
    pub code: AccessCode,
    pub dob: DateOfBirth,
}

impl LinkForm {
    pub fn trimmed(mut self) -> LinkForm {
        for f in [
            &mut self.receipt,
            &mut self.code,
            &mut self.dob_month,
            &mut self.dob_day,
            &mut self.dob_year,
        ] {
            *f = f.trim().chars().take(40).collect();
        }
        self
    }

    /// Parsed input, or (field, message key) errors.
    pub fn parse(&self, today: NaiveDate) -> Result<LinkInput, Vec<(&'static str, &'static str)>> {
        let mut errors = vec![];
        let receipt = ReceiptNumber::parse(&self.receipt)
            .map_err(|_| errors.push(("receipt", "link.error.receipt")))
            .ok();
        let code = AccessCode::parse(&self.code)
            .map_err(|_| errors.push(("code", "link.error.code_format")))
            .ok();
        let dob = DateOfBirth::parse_parts(&self.dob_month, &self.dob_day, &self.dob_year, today)
            .map_err(|_| errors.push(("dob", "link.error.dob")))
            .ok();
        match (receipt, code, dob) {
            (Some(receipt), Some(code), Some(dob)) if errors.is_empty() => {
                Ok(LinkInput { receipt, code, dob })
            }
            _ => Err(errors),
        }
    }
}
