//! Webhooks: push instead of polling (issue 19).
//!
//! An API client subscribes to receipt numbers, and an applicant token to
//! cases linked to its account ([`Owner`]); when one of those cases
//! changes, [`enqueue_change`] writes one delivery per live subscription into
//! `webhook_deliveries` **inside the transaction of the change** (called by
//! `casework::change_status`), so a delivery exists exactly when the change
//! committed. The payload is built there, from the same read model and the
//! same fields as `GET /case-status/{receipt}` (`status_read::torch`); a
//! 1367-protected case produces nothing, and a case that became protected
//! before its delivery went out is not sent either. An applicant token's
//! subscription is served (queued, and again sent) only while the token is
//! live and the case still linked to its account (`store::followers_on`,
//! `store::target`).
//!
//! A worker ([`spawn_worker`], or [`run_once`]) claims due rows with a lease
//! (like the email outbox), POSTs each payload signed per Standard Webhooks
//! ([`sign`]) with at most `webhook_concurrency` requests in flight and a
//! short timeout, and records the outcome: a 2xx answer delivers; anything
//! else is retried with exponential backoff and jitter ([`backoff_secs`]) and
//! given up after `webhook_max_attempts`. Retries carry the same
//! `webhook-id`. A worker that dies lets its lease expire and the rows are
//! claimed again: at least once, never lost; a duplicate is possible only
//! when the process dies between the receiver's answer and the record, and
//! it carries the same `webhook-id`.

pub mod sign;
pub mod store;
pub mod target;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use rand::{Rng, RngCore};
use serde::Serialize;

use crate::crypto::{self, random_hex};
use crate::i18n::Messages;
use crate::secrets::Secrets;
use crate::status_read::describe::public_view;
use crate::status_read::torch::{CaseStatusBody, case_status_body};
use crate::store::{Db, StoreError};
pub use sign::SigningSecret;
pub use target::{TargetError, TargetRules, WebhookUrl};

/// The only event type so far.
pub const EVENT_CASE_STATUS_UPDATED: &str = "case_status.updated";
/// Most receipts one subscription follows.
pub const MAX_RECEIPTS: usize = 100;
/// Most live subscriptions one owner holds.
pub const MAX_SUBSCRIPTIONS: usize = 20;
/// Most rows one claim takes.
pub const BATCH: i64 = 64;
/// How long the worker sleeps when nothing is due and nobody wakes it.
pub const IDLE: Duration = Duration::from_secs(1);

/// Who owns a subscription: an API client, or an applicant token (for the
/// cases linked to its account). Every query names the kind it serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    ApiClient { client_pk: i64 },
    ApplicantToken { token_pk: i64, account_pk: i64 },
}

/// An owner as stored: `owner_kind`, `client_pk`, `token_pk`, `account_pk`.
pub type StoredOwner = (&'static str, Option<i64>, Option<i64>, Option<i64>);

impl Owner {
    pub fn to_stored(self) -> StoredOwner {
        match self {
            Owner::ApiClient { client_pk } => ("api_client", Some(client_pk), None, None),
            Owner::ApplicantToken {
                token_pk,
                account_pk,
            } => ("applicant_token", None, Some(token_pk), Some(account_pk)),
        }
    }

    pub fn from_stored(
        kind: &str,
        client_pk: Option<i64>,
        token_pk: Option<i64>,
        account_pk: Option<i64>,
    ) -> Option<Owner> {
        match (kind, client_pk, token_pk, account_pk) {
            ("api_client", Some(client_pk), None, None) => Some(Owner::ApiClient { client_pk }),
            ("applicant_token", None, Some(token_pk), Some(account_pk)) => {
                Some(Owner::ApplicantToken {
                    token_pk,
                    account_pk,
                })
            }
            _ => None,
        }
    }

    /// Who the audit names as the actor.
    pub fn actor(self) -> String {
        match self {
            Owner::ApiClient { client_pk } => format!("api-client:{client_pk}"),
            Owner::ApplicantToken { account_pk, .. } => format!("account:{account_pk}"),
        }
    }
}

/// A new subscription: the signing secret exists in clear only here.
pub struct Created {
    pub public_id: String,
    pub secret: SigningSecret,
}

#[derive(Debug, thiserror::Error)]
pub enum SubscribeError {
    #[error("too many subscriptions")]
    TooMany,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates a subscription of `owner` to `receipts` (already parsed and
/// de-duplicated by the caller). Whether a receipt exists, or is protected,
/// changes nothing here: the answer is the same.
pub async fn subscribe(
    db: &Db,
    secrets: &Secrets,
    rng: &mut (dyn RngCore + Send),
    owner: Owner,
    url: &WebhookUrl,
    receipts: &[String],
    now: i64,
) -> Result<Created, SubscribeError> {
    if store::list_for(db, owner).await?.len() >= MAX_SUBSCRIPTIONS {
        return Err(SubscribeError::TooMany);
    }
    let public_id = format!("ws_{}", random_hex(rng, 12));
    let secret = SigningSecret::generate(rng);
    let sealed = crypto::seal(
        &secrets.webhook_key,
        rng,
        public_id.as_bytes(),
        secret.bytes(),
    );
    store::create(
        db,
        store::NewSubscription {
            public_id: &public_id,
            owner,
            url: url.as_str(),
            secret_sealed: &sealed,
            receipts,
            now,
        },
    )
    .await?;
    Ok(Created { public_id, secret })
}

/// The JSON body of a delivery (Standard Webhooks' `type`/`timestamp`/`data`;
/// `data.case_status` is exactly the Case Status API's object).
#[derive(Serialize)]
struct Payload<'a> {
    r#type: &'a str,
    timestamp: String,
    data: PayloadData,
}

#[derive(Serialize)]
struct PayloadData {
    case_status: CaseStatusBody,
}

/// Queues one delivery per live subscription following `receipt`, on the
/// caller's connection (`&mut **tx`: the change's own transaction). Returns
/// how many; none for a protected case.
pub async fn enqueue_change(
    conn: &mut sqlx::AnyConnection,
    messages: &Messages,
    receipt: &crate::domain::ReceiptNumber,
    now: i64,
) -> Result<usize, StoreError> {
    let followers = store::followers_on(conn, receipt.as_str(), now).await?;
    if followers.is_empty() {
        return Ok(0);
    }
    let record = crate::status_read::store::lookup_on(conn, receipt).await?;
    let Some(rec) = public_view(record.as_ref()) else {
        return Ok(0);
    };
    let payload = Payload {
        r#type: EVENT_CASE_STATUS_UPDATED,
        timestamp: DateTime::<Utc>::from_timestamp(now, 0)
            .unwrap_or_default()
            .to_rfc3339_opts(SecondsFormat::Secs, true),
        data: PayloadData {
            case_status: case_status_body(rec, messages),
        },
    };
    let body = serde_json::to_string(&payload)
        .map_err(|e| StoreError::Query(sqlx::Error::Protocol(e.to_string())))?;
    let mut rng = rand::rngs::OsRng;
    for sub in &followers {
        let message_id = format!("msg_{}", random_hex(&mut rng, 16));
        store::insert_delivery_on(
            conn,
            store::NewDelivery {
                subscription_id: *sub,
                message_id: &message_id,
                receipt: receipt.as_str(),
                event_type: EVENT_CASE_STATUS_UPDATED,
                payload: &body,
                now,
            },
        )
        .await?;
    }
    Ok(followers.len())
}

/// Retry delay after the `attempts`-th failed try: 10 s doubling, capped at
/// one hour, then "equal jitter" (half fixed, half random), so receivers
/// coming back are not hit by every sender at once.
pub fn backoff_secs(attempts: u32, rng: &mut impl Rng) -> i64 {
    const BASE: i64 = 10;
    const CAP: i64 = 3600;
    let doublings = attempts.saturating_sub(1).min(20);
    let d = (BASE << doublings).min(CAP);
    d / 2 + rng.gen_range(0..=d / 2)
}

/// Worker settings.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub rules: TargetRules,
    pub concurrency: usize,
    pub timeout: Duration,
    pub max_attempts: u32,
}

impl WorkerConfig {
    pub fn from_config(c: &crate::config::Config) -> WorkerConfig {
        WorkerConfig {
            rules: TargetRules::from_config(c),
            concurrency: c.webhook_concurrency.max(1),
            timeout: Duration::from_millis(c.webhook_timeout_ms.max(1)),
            max_attempts: c.webhook_max_attempts.max(1),
        }
    }

    /// A claim outlives every send of its batch: sends run `concurrency`
    /// at a time, each within `timeout`.
    fn lease_secs(&self) -> i64 {
        let rounds = (BATCH as u64).div_ceil(self.concurrency as u64);
        let secs = self
            .timeout
            .as_secs()
            .saturating_add(1)
            .saturating_mul(rounds);
        i64::try_from(secs)
            .unwrap_or(i64::MAX / 4)
            .saturating_add(30)
    }
}

/// The worker: an HTTP client that follows no redirect and resolves names
/// to allowed addresses only.
#[derive(Clone)]
pub struct Worker {
    db: Db,
    secrets: Secrets,
    cfg: WorkerConfig,
    http: reqwest::Client,
}

impl Worker {
    pub fn new(db: Db, secrets: Secrets, cfg: WorkerConfig) -> Result<Worker, reqwest::Error> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // A proxy from the environment would resolve (and reach) targets
            // the address rules refuse.
            .no_proxy()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout)
            .dns_resolver(Arc::new(target::PublicOnly(cfg.rules)))
            .user_agent(concat!("casegate-webhooks/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(cfg.concurrency)
            .build()?;
        Ok(Worker {
            db,
            secrets,
            cfg,
            http,
        })
    }

    /// One pass at `now`: claims due deliveries, sends them (bounded), records
    /// each outcome. Returns (claimed, delivered).
    pub async fn run_once(&self, now: i64) -> Result<(usize, usize), StoreError> {
        let rows = store::claim(&self.db, now, self.cfg.lease_secs(), BATCH).await?;
        let claimed = rows.len();
        let permits = Arc::new(tokio::sync::Semaphore::new(self.cfg.concurrency));
        let mut set = tokio::task::JoinSet::new();
        for row in rows {
            let Ok(permit) = permits.clone().acquire_owned().await else {
                break;
            };
            let me = self.clone();
            set.spawn(async move {
                let r = me.deliver(&row, now).await;
                drop(permit);
                r
            });
        }
        let mut delivered = 0;
        let mut first_err = None;
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok(Ok(true)) => delivered += 1,
                Ok(Ok(false)) => {}
                Ok(Err(e)) => {
                    first_err.get_or_insert(e);
                }
                Err(e) => tracing::error!(error = %e, "webhook delivery task failed"),
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok((claimed, delivered)),
        }
    }

    /// Sends one claimed delivery and records the outcome; `Ok(true)` when
    /// the receiver accepted it.
    async fn deliver(&self, row: &store::Claimed, now: i64) -> Result<bool, StoreError> {
        let attempts = row.attempts.saturating_add(1);
        let give_up = |error: &'static str| store::Failure {
            attempts: row.attempts,
            retry_at: None,
            status: None,
            error,
            now,
        };
        let Some(t) =
            store::target(&self.db, row.subscription_id, &row.receipt_number, now).await?
        else {
            store::record_failure(&self.db, row.id, give_up("subscription missing")).await?;
            return Ok(false);
        };
        if t.protected {
            // The case became protected after the change: nothing leaves.
            store::record_failure(&self.db, row.id, give_up("case not shown")).await?;
            return Ok(false);
        }
        if !t.live {
            store::record_failure(&self.db, row.id, give_up("subscription not active")).await?;
            return Ok(false);
        }
        let url = match WebhookUrl::parse(&t.url, self.cfg.rules) {
            Ok(u) => u,
            Err(_) => {
                store::record_failure(&self.db, row.id, give_up("target not allowed")).await?;
                return Ok(false);
            }
        };
        let secret = crypto::open(
            &self.secrets.webhook_key,
            t.public_id.as_bytes(),
            &t.secret_sealed,
        )
        .ok()
        .and_then(|b| SigningSecret::from_bytes(&b));
        let Some(secret) = secret else {
            store::record_failure(&self.db, row.id, give_up("secret cannot be opened")).await?;
            return Ok(false);
        };
        let signature = secret.sign(&row.message_id, now, row.payload.as_bytes());
        let sent = self
            .http
            .post(url.url().clone())
            .header("content-type", "application/json")
            .header("webhook-id", row.message_id.as_str())
            .header("webhook-timestamp", now.to_string())
            .header("webhook-signature", signature)
            .body(row.payload.clone())
            .send()
            .await;
        let (status, error) = match sent {
            Ok(resp) => {
                let code = i64::from(resp.status().as_u16());
                if resp.status().is_success() {
                    store::record_delivered(&self.db, row.id, code, now).await?;
                    tracing::info!(
                        delivery = row.id,
                        webhook_id = %row.message_id,
                        subscription = %t.public_id,
                        status = code,
                        "webhook delivered"
                    );
                    return Ok(true);
                }
                (Some(code), format!("HTTP {code}"))
            }
            Err(e) if e.is_timeout() => (None, "timed out".to_string()),
            Err(e) if e.is_connect() => (None, "connection failed".to_string()),
            Err(_) => (None, "request failed".to_string()),
        };
        let give_up_now = attempts >= i64::from(self.cfg.max_attempts);
        let retry_at = (!give_up_now).then(|| {
            now + backoff_secs(
                u32::try_from(attempts).unwrap_or(u32::MAX),
                &mut rand::thread_rng(),
            )
        });
        store::record_failure(
            &self.db,
            row.id,
            store::Failure {
                attempts,
                retry_at,
                status,
                error: &error,
                now,
            },
        )
        .await?;
        tracing::warn!(
            delivery = row.id,
            webhook_id = %row.message_id,
            subscription = %t.public_id,
            attempts,
            gave_up = give_up_now,
            error,
            "webhook not delivered"
        );
        Ok(false)
    }
}

/// Runs the worker until the task is aborted: a pass, then (unless the pass
/// filled a whole batch) a wait for `wake` or [`IDLE`].
pub fn spawn_worker(
    worker: Worker,
    clock: Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>,
    wake: Arc<tokio::sync::Notify>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let now = clock().timestamp();
            let busy = match worker.run_once(now).await {
                Ok((claimed, _)) => claimed as i64 >= BATCH,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook pass failed");
                    false
                }
            };
            if busy {
                tokio::task::yield_now().await;
                continue;
            }
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(IDLE) => {}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let mut rng = rand::thread_rng();
        for _ in 0..200 {
            let first = backoff_secs(1, &mut rng);
            assert!((5..=10).contains(&first), "{first}");
            let fourth = backoff_secs(4, &mut rng);
            assert!((40..=80).contains(&fourth), "{fourth}");
            let late = backoff_secs(40, &mut rng);
            assert!((1800..=3600).contains(&late), "{late}");
        }
    }

    #[test]
    fn owners_round_trip_and_unknown_kinds_are_refused() {
        for o in [
            Owner::ApiClient { client_pk: 7 },
            Owner::ApplicantToken {
                token_pk: 3,
                account_pk: 9,
            },
        ] {
            let (k, c, t, a) = o.to_stored();
            assert_eq!(Owner::from_stored(k, c, t, a), Some(o));
        }
        assert_eq!(Owner::from_stored("api_client", None, None, None), None);
        assert_eq!(
            Owner::from_stored("applicant_token", None, Some(3), None),
            None
        );
        assert_eq!(
            Owner::from_stored("applicant_token", Some(1), Some(3), Some(9)),
            None
        );
        assert_eq!(Owner::from_stored("someone", Some(1), None, None), None);
    }
}
