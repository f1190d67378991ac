//! Codes emailed to an account owner that more than one flow sends: the
//! password reset code (the recovery form, the help-desk reset) and the
//! email confirmation code (sign-up, and sign-in of an unconfirmed account).

use crate::app::AppState;
use crate::auth::account::CodePurpose;
use crate::error::AppError;
use crate::i18n::Lang;

/// A reset code leads to a new password (and, after a help-desk reset, to a
/// session that enrols a second factor): it lives as short as that use
/// allows — the person asked for it and is waiting for the email.
pub const RESET_VALID_SECS: i64 = 15 * 60;
/// An officer's set-up link leads to a session: one working day to hand it
/// over and use it.
pub const OFFICER_SETUP_VALID_SECS: i64 = 24 * 3_600;
/// Confirming the email leads to a session (to enrol a second factor); the
/// person has just signed up and is waiting for the email.
pub const CONFIRM_VALID_SECS: i64 = 3_600;

/// Emails a reset code to an account (used by the form and by officers).
pub async fn send_reset_code(
    state: &AppState,
    lang: Lang,
    account_id: i64,
    email: &str,
) -> Result<(), AppError> {
    let url = format!("{}/forgot-password/reset", state.config.public_url);
    crate::auth::send_email_code(
        state,
        lang,
        account_id,
        email,
        crate::auth::EmailCode {
            purpose: CodePurpose::ResetPassword,
            valid_secs: RESET_VALID_SECS,
            message: "reset",
            url: &url,
        },
    )
    .await
}

/// Emails the confirmation code of a new account.
pub async fn send_confirmation(
    state: &AppState,
    lang: Lang,
    account_id: i64,
    email: &str,
) -> Result<(), AppError> {
    crate::auth::send_email_code(
        state,
        lang,
        account_id,
        email,
        crate::auth::EmailCode {
            purpose: CodePurpose::ConfirmEmail,
            valid_secs: CONFIRM_VALID_SECS,
            message: "confirm",
            url: &state.config.public_url,
        },
    )
    .await
}
