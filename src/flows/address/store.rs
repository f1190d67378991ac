//! Queries of the change-of-address flow (AR-11): whose address the account
//! may change, the address on file, and the change itself (in the caller's
//! transaction, with the confirmation email).

use sqlx::{Any, Transaction};

use crate::domain::UsAddress;
use crate::store::{Db, StoreError};

/// The person whose cases the account holds (its first linked case's).
pub async fn person_of_account(db: &Db, account_id: i64) -> Result<Option<i64>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT person_id FROM cases WHERE account_id = $1 ORDER BY id LIMIT 1")
            .bind(account_id)
            .fetch_optional(db.pool())
            .await?,
    )
}

/// The address on file for a person, as stored.
pub struct AddressOnFile {
    pub street: String,
    pub unit: Option<String>,
    pub city: String,
    pub state: String,
    pub zip: String,
}

impl AddressOnFile {
    /// The address on one line, as the change log keeps the old one.
    pub fn one_line(&self) -> String {
        format!(
            "{} {} {} {} {}",
            self.street,
            self.unit.as_deref().unwrap_or_default(),
            self.city,
            self.state,
            self.zip
        )
    }
}

pub async fn address_on_file(db: &Db, person_id: i64) -> Result<AddressOnFile, StoreError> {
    let (street, unit, city, state, zip): (String, Option<String>, String, String, String) =
        sqlx::query_as("SELECT street, unit, city, state, zip FROM persons WHERE id = $1")
            .bind(person_id)
            .fetch_one(db.pool())
            .await?;
    Ok(AddressOnFile {
        street,
        unit,
        city,
        state,
        zip,
    })
}

/// Replaces the person's address and logs the change (old and new, each on
/// one line), in the caller's transaction.
pub async fn change_address(
    tx: &mut Transaction<'_, Any>,
    person_id: i64,
    account_id: i64,
    old: &AddressOnFile,
    new: &UsAddress,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE persons SET street = $1, unit = $2, city = $3, state = $4, zip = $5, updated_at = $6 WHERE id = $7",
    )
    .bind(new.street())
    .bind(new.unit())
    .bind(new.city())
    .bind(new.state().code())
    .bind(new.zip().as_str())
    .bind(now)
    .bind(person_id)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO address_changes (person_id, account_id, old_address, new_address, at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(person_id)
    .bind(account_id)
    .bind(old.one_line())
    .bind(format!("{} {}", new.delivery_line(), new.last_line()))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The account's email address (where the confirmation goes).
pub async fn account_email(
    tx: &mut Transaction<'_, Any>,
    account_id: i64,
) -> Result<String, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT email FROM accounts WHERE id = $1")
            .bind(account_id)
            .fetch_one(&mut **tx)
            .await?,
    )
}
