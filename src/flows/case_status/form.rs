//! The receipt-number form.

use serde::Deserialize;

use crate::domain::ReceiptNumber;
use crate::domain::receipt::ReceiptError;

#[derive(Debug, Default, Deserialize)]
pub struct StatusQuery {
    pub receipt: Option<String>,
}

/// What the visitor submitted, parsed.
#[derive(Debug)]
pub enum StatusInput {
    /// The bare form.
    Empty,
    /// Something that is not a receipt number; keep what they typed.
    Malformed {
        typed: String,
        error: ReceiptError,
    },
    Valid(ReceiptNumber),
}

impl StatusQuery {
    pub fn parse(&self) -> StatusInput {
        match self.receipt.as_deref().map(str::trim) {
            None => StatusInput::Empty,
            Some(typed) => match ReceiptNumber::parse(typed) {
                Ok(r) => StatusInput::Valid(r),
                Err(error) => StatusInput::Malformed {
                    typed: typed.chars().take(40).collect(),
                    error,
                },
            },
        }
    }
}
