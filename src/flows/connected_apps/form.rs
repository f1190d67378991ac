//! What the Connected apps pages receive, parsed into types.

use serde::Deserialize;

use super::policy::{Expiry, TokenName};
use crate::api_guard::applicant::device::UserCode;

/// "Create a token": a name and one of the offered lifetimes.
#[derive(Debug, Default, Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub expiry: String,
}

pub struct CreateInput {
    pub name: TokenName,
    pub expiry: Expiry,
}

impl CreateForm {
    /// The input, or (field, message key) errors.
    pub fn parse(&self) -> Result<CreateInput, Vec<(&'static str, &'static str)>> {
        let name = TokenName::parse(&self.name);
        let expiry = Expiry::parse(&self.expiry);
        match (name, expiry) {
            (Some(name), Some(expiry)) => Ok(CreateInput { name, expiry }),
            (name, expiry) => {
                let mut errors = vec![];
                if name.is_none() {
                    errors.push(("name", "apps.error.name"));
                }
                if expiry.is_none() {
                    errors.push(("expiry", "apps.error.expiry"));
                }
                Err(errors)
            }
        }
    }
}

/// `?user_code=` of `verification_uri_complete`, or the code typed in.
#[derive(Default, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    pub user_code: String,
}

crate::redacted_debug!(CodeForm {} redact { user_code });

impl CodeForm {
    pub fn code(&self) -> Option<UserCode> {
        UserCode::parse(&self.user_code)
    }

    /// What to put back in the box (only the characters a code can have).
    pub fn echo(&self) -> String {
        self.user_code
            .chars()
            .filter(|c| c.is_ascii_alphabetic() || *c == '-')
            .take(9)
            .collect::<String>()
            .to_ascii_uppercase()
    }
}

/// The applicant's answer on the confirmation page.
#[derive(Default, Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    pub user_code: String,
    #[serde(default)]
    pub decision: String,
}

crate::redacted_debug!(DecideForm { decision } redact { user_code });

/// Approve or deny; anything else is no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Deny,
}

impl DecideForm {
    pub fn parse(&self) -> Option<(UserCode, Decision)> {
        let decision = match self.decision.as_str() {
            "approve" => Decision::Approve,
            "deny" => Decision::Deny,
            _ => return None,
        };
        Some((UserCode::parse(&self.user_code)?, decision))
    }
}

/// `POST /oauth/device_authorization` (RFC 8628 §3.1).
#[derive(Debug, Default, Deserialize)]
pub struct DeviceAuthorizationForm {
    pub client_id: Option<String>,
    pub scope: Option<String>,
}
