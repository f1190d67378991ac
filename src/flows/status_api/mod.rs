//! The Case Status API, compatible with the USCIS Torch API:
//! `POST /oauth/accesstoken` (client credentials) and
//! `GET /case-status/{receiptNumber}` (Bearer), with the same JSON names,
//! date formats and error codes. Clients are created with
//! `casegate api-client create NAME`.

pub mod docs;
pub mod form;
pub mod handler;
pub mod store;

use rand::RngCore;

use crate::api_guard::Allowance;
use crate::crypto::{hmac_sha256, random_hex};
use crate::secrets::Secrets;
use crate::store::{Db, StoreError};

/// Scopes an API client may hold.
pub const SCOPE_STATUS: &str = "case-status";
pub const SCOPE_INTAKE: &str = "intake";

/// A newly created client; the secret exists only in this value.
pub struct CreatedClient {
    pub client_id: String,
    pub client_secret: String,
}

pub async fn create_client(
    db: &Db,
    secrets: &Secrets,
    rng: &mut (dyn RngCore + Send),
    name: &str,
    scopes: &[&str],
    allowance: Allowance,
    now: i64,
) -> Result<CreatedClient, StoreError> {
    let client_id = format!("cg{}", random_hex(rng, 12));
    let client_secret = random_hex(rng, 24);
    let secret_hash = hmac_sha256(&secrets.api_key, client_secret.as_bytes());
    store::create_client(
        db,
        store::NewClient {
            client_id: &client_id,
            name,
            secret_hash: &secret_hash,
            scopes: &scopes.join(" "),
            allowance,
            now,
        },
    )
    .await?;
    Ok(CreatedClient {
        client_id,
        client_secret,
    })
}
