//! Accounts and their credentials in the database.

use rand::Rng;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::domain::Email;
use crate::store::{Db, StoreError};

/// Roles: applicants, and the four officer roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Applicant,
    Intake,
    Adjudicator,
    Mailroom,
    Admin,
}

impl Role {
    pub const OFFICER: [Role; 4] = [Role::Intake, Role::Adjudicator, Role::Mailroom, Role::Admin];

    pub fn code(self) -> &'static str {
        match self {
            Role::Applicant => "applicant",
            Role::Intake => "intake",
            Role::Adjudicator => "adjudicator",
            Role::Mailroom => "mailroom",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [
            Role::Applicant,
            Role::Intake,
            Role::Adjudicator,
            Role::Mailroom,
            Role::Admin,
        ]
        .into_iter()
        .find(|r| r.code() == s.trim().to_ascii_lowercase())
    }

    pub fn is_officer(self) -> bool {
        self != Role::Applicant
    }
}

/// The 12-digit online account number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountNumber(String);

impl AccountNumber {
    pub fn generate<R: Rng + ?Sized>(rng: &mut R) -> AccountNumber {
        let first = rng.gen_range(1..=9u8);
        let rest: String = (0..11)
            .map(|_| char::from(b'0' + rng.gen_range(0..=9u8)))
            .collect();
        AccountNumber(format!("{first}{rest}"))
    }

    pub fn parse(s: &str) -> Option<AccountNumber> {
        let digits: String = s
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        (digits.len() == 12
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0'))
        .then_some(AccountNumber(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `1234-5678-9012`.
    pub fn grouped(&self) -> String {
        format!("{}-{}-{}", &self.0[..4], &self.0[4..8], &self.0[8..])
    }
}

/// The uniqueness key of an email address (case-insensitive).
pub fn email_key(email: &Email) -> String {
    email.as_str().to_lowercase()
}

#[derive(Debug, Clone)]
pub struct Account {
    pub id: i64,
    pub email: String,
    pub account_number: String,
    pub role: String,
    pub password_hash: Option<String>,
    pub email_confirmed_at: Option<i64>,
    pub totp_sealed: Option<Vec<u8>>,
    pub totp_last_step: Option<i64>,
    pub totp_enrolled_at: Option<i64>,
    pub disabled_at: Option<i64>,
}

impl Account {
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::Applicant)
    }
    pub fn ready(&self) -> bool {
        self.email_confirmed_at.is_some() && self.totp_enrolled_at.is_some()
    }
}

const COLUMNS: &str = "id, email, account_number, role, password_hash, email_confirmed_at, totp_sealed, \
                       totp_last_step, totp_enrolled_at, disabled_at";

fn from_row(r: &AnyRow) -> Result<Account, StoreError> {
    Ok(Account {
        id: r.try_get("id")?,
        email: r.try_get("email")?,
        account_number: r.try_get("account_number")?,
        role: r.try_get("role")?,
        password_hash: r.try_get("password_hash")?,
        email_confirmed_at: r.try_get("email_confirmed_at")?,
        totp_sealed: r.try_get("totp_sealed")?,
        totp_last_step: r.try_get("totp_last_step")?,
        totp_enrolled_at: r.try_get("totp_enrolled_at")?,
        disabled_at: r.try_get("disabled_at")?,
    })
}

pub async fn by_email(db: &Db, email: &Email) -> Result<Option<Account>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM accounts WHERE email_key = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(email_key(email))
        .fetch_optional(db.pool())
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn by_id(db: &Db, id: i64) -> Result<Option<Account>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM accounts WHERE id = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Creates an account; `None` when the email is already registered.
pub async fn create(
    db: &Db,
    email: &Email,
    role: Role,
    password_hash: Option<&str>,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    for _ in 0..5 {
        let number = AccountNumber::generate(&mut rand::rngs::OsRng);
        let r = sqlx::query_scalar::<_, i64>(
            "INSERT INTO accounts (email, email_key, account_number, role, password_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(email.as_str())
        .bind(email_key(email))
        .bind(number.as_str())
        .bind(role.code())
        .bind(password_hash)
        .bind(now)
        .fetch_optional(db.pool())
        .await?;
        if let Some(id) = r {
            return Ok(Some(id));
        }
        if by_email(db, email).await?.is_some() {
            return Ok(None);
        }
        // Otherwise the random account number collided: draw again.
    }
    Err(StoreError::Query(sqlx::Error::Protocol(
        "no free account number".into(),
    )))
}

pub async fn confirm_email(db: &Db, id: i64, now: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE accounts SET email_confirmed_at = COALESCE(email_confirmed_at, $1), updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Remembers the language the person uses (at sign-up and each sign-in):
/// officer-issued notices and case-update emails are written in it.
pub async fn set_lang(db: &Db, id: i64, lang: crate::i18n::Lang) -> Result<(), StoreError> {
    sqlx::query("UPDATE accounts SET lang = $1 WHERE id = $2 AND lang <> $1")
        .bind(lang.code())
        .bind(id)
        .execute(db.pool())
        .await?;
    Ok(())
}

pub async fn set_password(db: &Db, id: i64, hash: &str, now: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE accounts SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(hash)
        .bind(now)
        .bind(id)
        .execute(db.pool())
        .await?;
    Ok(())
}

pub async fn enrol_totp(
    db: &Db,
    id: i64,
    sealed: &[u8],
    step: i64,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE accounts SET totp_sealed = $1, totp_last_step = $2, totp_enrolled_at = $3, updated_at = $3 WHERE id = $4",
    )
    .bind(sealed)
    .bind(step)
    .bind(now)
    .bind(id)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Records a used TOTP step; false if that step (or a later one) was
/// already used — one statement, so two concurrent uses cannot both win.
pub async fn use_totp_step(db: &Db, id: i64, step: i64) -> Result<bool, StoreError> {
    let r = sqlx::query(
        "UPDATE accounts SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
    )
    .bind(step)
    .bind(id)
    .execute(db.pool())
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Removes the password (an officer-started reset): it no longer signs in;
/// only the emailed reset code leads to a new one.
pub async fn clear_password(db: &Db, id: i64, now: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE accounts SET password_hash = NULL, updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Removes the second factor (an officer-started reset); the person must enrol again.
pub async fn clear_second_factor(db: &Db, id: i64, now: i64) -> Result<(), StoreError> {
    let mut tx = db.pool().begin().await?;
    sqlx::query(
        "UPDATE accounts SET totp_sealed = NULL, totp_last_step = NULL, totp_enrolled_at = NULL, updated_at = $1 WHERE id = $2",
    )
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE backup_codes SET used_at = $1 WHERE account_id = $2 AND used_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Length of a backup code's random salt.
pub const BACKUP_SALT_LEN: usize = 16;

/// Replaces the account's backup codes: each is stored as its salted keyed
/// hash ([`BackupCode::salted_hash`]) with its own random salt.
pub async fn replace_backup_codes(
    db: &Db,
    id: i64,
    key: &[u8],
    codes: &[crate::auth::backup_codes::BackupCode],
    now: i64,
) -> Result<(), StoreError> {
    use rand::RngCore;
    let mut tx = db.pool().begin().await?;
    sqlx::query("UPDATE backup_codes SET used_at = $1 WHERE account_id = $2 AND used_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    for c in codes {
        let mut salt = [0u8; BACKUP_SALT_LEN];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        sqlx::query(
            "INSERT INTO backup_codes (account_id, code_hash, salt, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(c.salted_hash(key, &salt).to_vec())
        .bind(salt.to_vec())
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Spends a backup code; false when it is unknown or already used. Every
/// live code of the account is compared in constant time; codes stored
/// before salts existed (no salt) are checked by their unsalted keyed hash.
pub async fn use_backup_code(
    db: &Db,
    id: i64,
    key: &[u8],
    code: &crate::auth::backup_codes::BackupCode,
    now: i64,
) -> Result<bool, StoreError> {
    use subtle::ConstantTimeEq;
    let rows: Vec<(i64, Vec<u8>, Option<Vec<u8>>)> = sqlx::query_as(
        "SELECT id, code_hash, salt FROM backup_codes WHERE account_id = $1 AND used_at IS NULL",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await?;
    let mut found = None;
    for (row_id, stored, salt) in &rows {
        let expected = match salt {
            Some(salt) => code.salted_hash(key, salt),
            None => code.keyed_hash(key),
        };
        if bool::from(expected.as_slice().ct_eq(stored.as_slice())) {
            found = Some(*row_id);
        }
    }
    let Some(row_id) = found else {
        return Ok(false);
    };
    let r = sqlx::query(
        "UPDATE backup_codes SET used_at = $1 WHERE id = $2 AND account_id = $3 AND used_at IS NULL",
    )
    .bind(now)
    .bind(row_id)
    .bind(id)
    .execute(db.pool())
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn backup_codes_left(db: &Db, id: i64) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM backup_codes WHERE account_id = $1 AND used_at IS NULL",
    )
    .bind(id)
    .fetch_one(db.pool())
    .await?)
}

/// What a one-time email code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodePurpose {
    ConfirmEmail,
    ResetPassword,
    OfficerSetup,
    /// Lets a password be checked past the identifier's failure limit.
    UnlockSignIn,
}

impl CodePurpose {
    pub fn code(self) -> &'static str {
        match self {
            CodePurpose::ConfirmEmail => "confirm_email",
            CodePurpose::ResetPassword => "reset_password",
            CodePurpose::OfficerSetup => "officer_setup",
            CodePurpose::UnlockSignIn => "unlock_sign_in",
        }
    }

    /// Unlock codes live side by side and wrong guesses do not burn them:
    /// otherwise whoever knows the email could kill the owner's code by
    /// asking for another or by guessing (guesses are slowed by the sign-in
    /// throttles instead, and each one also needs the password).
    fn one_at_a_time(self) -> bool {
        self != CodePurpose::UnlockSignIn
    }
}

/// Stores a new one-time code (older unused codes of the same purpose die).
pub async fn issue_email_code(
    db: &Db,
    account_id: i64,
    purpose: CodePurpose,
    hash: &[u8],
    now: i64,
    expires_at: i64,
) -> Result<(), StoreError> {
    let mut tx = db.pool().begin().await?;
    if purpose.one_at_a_time() {
        sqlx::query("UPDATE email_codes SET used_at = $1 WHERE account_id = $2 AND purpose = $3 AND used_at IS NULL")
            .bind(now)
            .bind(account_id)
            .bind(purpose.code())
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO email_codes (account_id, purpose, code_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(account_id)
    .bind(purpose.code())
    .bind(hash)
    .bind(now)
    .bind(expires_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Most wrong tries an email code survives.
pub const EMAIL_CODE_MAX_TRIES: i64 = 5;

/// Consumes a code in one statement; false when wrong, used, expired or
/// exhausted (a wrong guess counts against the live code).
pub async fn consume_email_code(
    db: &Db,
    account_id: i64,
    purpose: CodePurpose,
    hash: &[u8],
    now: i64,
) -> Result<bool, StoreError> {
    let r = sqlx::query(
        "UPDATE email_codes SET used_at = $1 WHERE account_id = $2 AND purpose = $3 AND code_hash = $4 \
         AND used_at IS NULL AND expires_at > $1 AND wrong_tries < $5",
    )
    .bind(now)
    .bind(account_id)
    .bind(purpose.code())
    .bind(hash)
    .bind(EMAIL_CODE_MAX_TRIES)
    .execute(db.pool())
    .await?;
    if r.rows_affected() == 1 {
        return Ok(true);
    }
    if !purpose.one_at_a_time() {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE email_codes SET wrong_tries = wrong_tries + 1 WHERE account_id = $1 AND purpose = $2 AND used_at IS NULL",
    )
    .bind(account_id)
    .bind(purpose.code())
    .execute(db.pool())
    .await?;
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn account_numbers_have_twelve_digits() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for _ in 0..1000 {
            let n = AccountNumber::generate(&mut rng);
            assert_eq!(AccountNumber::parse(n.as_str()), Some(n.clone()));
            assert_eq!(AccountNumber::parse(&n.grouped()), Some(n));
        }
        assert!(AccountNumber::parse("012345678901").is_none());
        assert!(AccountNumber::parse("12345").is_none());
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::OFFICER {
            assert_eq!(Role::parse(r.code()), Some(r));
            assert!(r.is_officer());
        }
        assert!(!Role::Applicant.is_officer());
    }
}
