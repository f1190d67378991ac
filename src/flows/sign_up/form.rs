//! The sign-up and confirmation forms.

use serde::Deserialize;

use crate::auth::password::{self, PasswordProblem};
use crate::domain::Email;

#[derive(Default, Deserialize)]
pub struct SignUpForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub password: String,
}

crate::redacted_debug!(SignUpForm { email } redact { password });

#[derive(Default, Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub code: String,
}

crate::redacted_debug!(ConfirmForm { email } redact { code });

/// A field's error as message keys (a password can have several).
#[derive(Debug, Default)]
pub struct SignUpErrors {
    pub email: Option<&'static str>,
    pub password: Vec<String>,
}

impl SignUpErrors {
    pub fn is_empty(&self) -> bool {
        self.email.is_none() && self.password.is_empty()
    }
}

/// Message keys explaining password problems (zxcvbn's feedback included).
pub fn password_messages(problems: &[PasswordProblem]) -> Vec<String> {
    let mut out = Vec::new();
    for p in problems {
        match p {
            PasswordProblem::TooShort => out.push("password.too_short".to_string()),
            PasswordProblem::TooLong => out.push("password.too_long".to_string()),
            PasswordProblem::Common => out.push("password.common".to_string()),
            PasswordProblem::ContainsEmail => out.push("password.contains_email".to_string()),
            PasswordProblem::Weak {
                warning,
                suggestions,
            } => {
                out.push("password.weak".to_string());
                if let Some(w) = warning {
                    out.push(format!("password.warning.{}", w.key()));
                }
                for s in suggestions {
                    out.push(format!("password.suggestion.{}", s.key()));
                }
            }
        }
    }
    out
}

impl SignUpForm {
    pub fn parse(&self) -> Result<(Email, String), SignUpErrors> {
        let mut errors = SignUpErrors::default();
        let email = Email::parse(self.email.trim());
        if email.is_err() {
            errors.email = Some(if self.email.trim().is_empty() {
                "signup.error.email_missing"
            } else {
                "signup.error.email"
            });
        }
        let email_text = self.email.trim().to_string();
        if let Err(problems) = password::check(&self.password, &email_text, &[]) {
            errors.password = password_messages(&problems);
        }
        match email {
            Ok(e) if errors.is_empty() => Ok((e, password::normalise(&self.password))),
            _ => Err(errors),
        }
    }
}

/// "Send me a new code" on the check-your-email page.
#[derive(Debug, Default, Deserialize)]
pub struct ResendForm {
    #[serde(default)]
    pub email: String,
}
