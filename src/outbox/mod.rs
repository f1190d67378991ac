//! The durable email outbox.
//!
//! A message is written to the `outbox` table by [`enqueue`], in the same
//! transaction as the change that causes it (a new account, a one-time
//! code…), so it exists exactly when that change committed. A worker
//! ([`spawn_worker`], or [`run_once`] by hand) later claims due rows, sends
//! them through the configured [`Transport`] and records the outcome.
//!
//! Bodies carry one-time codes, so they are never stored in clear: the text is
//! sealed with AES-256-GCM under `Secrets::letter_key`, with the row's
//! `message_id` as associated data, and the sealed body is erased once the
//! message is sent (or given up).
//!
//! # Claiming
//! One statement claims a batch: it sets `locked_until = now + lease` on up to
//! [`BATCH`] pending, due, unleased rows and returns them. The lease
//! conditions are repeated outside the sub-select, so when two instances race
//! on PostgreSQL the loser's `UPDATE` re-checks the row after the winner
//! commits and skips it; SQLite serialises writers. A worker that dies while
//! holding a lease simply lets it expire, and the rows are claimed again.
//! A worker stops sending from a batch before its lease could run out.
//!
//! # Delivery guarantees
//! A restart, a crash or an SMTP outage loses nothing: a row leaves the
//! pending set only when `sent_at` (relay accepted it) or `failed_at` (gave up)
//! is written. Temporary failures (4xx, connection refused, timeouts, TLS,
//! authentication) are retried with [`backoff_secs`]; a 5xx reply about the
//! message or recipient gives up at once; everything gives up after
//! `max_attempts` tries. Nothing is sent twice with one exception that no
//! outbox can close: if the process dies (or the database becomes unreachable)
//! *after* the relay accepted a message but *before* `sent_at` is written, the
//! lease expires and the message is sent once more. The resend carries the same
//! `Message-ID` and `Date` headers, so receivers and mail stores can
//! de-duplicate it; the files transport overwrites the same file.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use lettre::AsyncTransport;
use lettre::message::Mailbox;
use rand::RngCore;

use crate::crypto;
use crate::secrets::Secrets;
use crate::store::{Db, StoreError};

pub mod files;
pub mod message;
pub mod smtp;

pub use message::{is_valid_address, new_message_id};
pub use smtp::SmtpRelay;

/// Most rows one claim takes.
pub const BATCH: i64 = 20;
/// Tries before a message is given up: with [`backoff_secs`] about two days.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 50;
/// How long a claim holds its rows.
pub const DEFAULT_LEASE_SECS: i64 = 300;
/// How long the worker sleeps when there is nothing to do and nobody wakes it.
pub const IDLE: Duration = Duration::from_secs(1);

/// One email to send. `to` is an address or `Name <address>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    pub to: String,
    pub subject: String,
    pub text: String,
}

/// Outbox settings. `Debug` leaves out the SMTP URL (it may hold a password).
#[derive(Clone)]
pub struct OutboxConfig {
    /// `smtp://…` or `smtps://…` (see [`smtp`]); `None` writes `.eml` files.
    pub smtp_url: Option<String>,
    /// The From mailbox, e.g. `Example Agency <no-reply@casegate.invalid>`.
    pub from: String,
    /// Folder of the files transport, normally `<data_dir>/outbox`.
    pub dir: PathBuf,
    /// Tries before giving up (at least 1).
    pub max_attempts: u32,
    /// Seconds a claim holds its rows. A send still running when the lease
    /// is about to end is abandoned (and retried), and the rest of the batch
    /// is left for a later claim; keep it well above one send (60 s or more).
    pub lease_secs: i64,
}

impl std::fmt::Debug for OutboxConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxConfig")
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .field("dir", &self.dir)
            .field("max_attempts", &self.max_attempts)
            .field("lease_secs", &self.lease_secs)
            .finish()
    }
}

impl OutboxConfig {
    /// Defaults for attempts and lease.
    pub fn new(smtp_url: Option<String>, from: impl Into<String>, dir: PathBuf) -> OutboxConfig {
        OutboxConfig {
            smtp_url,
            from: from.into(),
            dir,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            lease_secs: DEFAULT_LEASE_SECS,
        }
    }

    /// The outbox settings of casegate's configuration.
    pub fn from_config(c: &crate::config::Config) -> OutboxConfig {
        OutboxConfig::new(
            c.smtp_url.clone(),
            c.mail_from.clone(),
            c.data_dir.join("outbox"),
        )
    }
}

/// Where messages go.
#[derive(Debug, Clone)]
pub enum Transport {
    Smtp(SmtpRelay),
    Files(PathBuf),
}

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("invalid SMTP URL: {0}")]
    InvalidUrl(String),
    #[error("invalid From address {0:?}")]
    InvalidFrom(String),
}

impl Transport {
    /// SMTP when a URL is configured, else files in `cfg.dir`. Also checks
    /// the From address, so a bad configuration fails at start-up. Must run
    /// inside a Tokio runtime (lettre's pool starts a task).
    pub fn from_config(cfg: &OutboxConfig) -> Result<Transport, TransportError> {
        parse_from(&cfg.from)?;
        match &cfg.smtp_url {
            Some(url) => Ok(Transport::Smtp(SmtpRelay::from_url(url)?)),
            None => Ok(Transport::Files(cfg.dir.clone())),
        }
    }

    /// For logs: the relay without credentials, or the folder.
    pub fn describe(&self) -> String {
        match self {
            Transport::Smtp(r) => r.description().to_string(),
            Transport::Files(dir) => format!("files in {}", dir.display()),
        }
    }
}

fn parse_from(from: &str) -> Result<Mailbox, TransportError> {
    from.parse()
        .map_err(|_| TransportError::InvalidFrom(from.to_string()))
}

/// Why one message was not delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SendError {
    /// Try again later.
    Transient(String),
    /// Give up now.
    Permanent(String),
}

/// Retry delay after the `attempts`-th failed try: 30 s, 1 min, 2 min, 4 min,
/// … doubling, capped at one hour (no jitter). 50 tries span about 45 hours.
pub fn backoff_secs(attempts: u32) -> i64 {
    const BASE: i64 = 30;
    const CAP: i64 = 3600;
    let doublings = attempts.saturating_sub(1).min(20);
    (BASE << doublings).min(CAP)
}

/// Queues `msg`, to be sent from `now` on; returns the outbox id. Runs on any
/// executor, so it joins the caller's transaction (`&mut *tx`).
pub async fn enqueue<'c, E>(
    exec: E,
    secrets: &Secrets,
    rng: &mut (dyn RngCore + Send),
    msg: &OutgoingEmail,
    now: i64,
) -> Result<i64, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let message_id = new_message_id(rng);
    let sealed = crypto::seal(
        &secrets.letter_key,
        rng,
        message_id.as_bytes(),
        msg.text.as_bytes(),
    );
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO outbox (created_at, to_addr, subject, body_sealed, message_id, \
         attempts, next_attempt_at) VALUES ($1, $2, $3, $4, $5, 0, $1) RETURNING id",
    )
    .bind(now)
    .bind(msg.to.as_str())
    .bind(msg.subject.as_str())
    .bind(sealed)
    .bind(message_id.as_str())
    .fetch_one(exec)
    .await?;
    Ok(id)
}

/// Messages neither sent nor given up.
pub async fn queue_depth(db: &Db) -> Result<i64, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL",
    )
    .fetch_one(db.pool())
    .await?;
    Ok(n)
}

/// Deletes rows sent or given up before `before`; returns how many.
pub async fn purge_finished(db: &Db, before: i64) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "DELETE FROM outbox WHERE (sent_at IS NOT NULL AND sent_at < $1) \
         OR (failed_at IS NOT NULL AND failed_at < $1)",
    )
    .bind(before)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected())
}

/// A claimed row.
struct Claimed {
    id: i64,
    created_at: i64,
    to_addr: String,
    subject: String,
    body_sealed: Option<Vec<u8>>,
    message_id: String,
    attempts: i64,
}

type ClaimedRow = (i64, i64, String, String, Option<Vec<u8>>, String, i64);

async fn claim(db: &Db, now: i64, lease_secs: i64) -> Result<Vec<Claimed>, StoreError> {
    let rows: Vec<ClaimedRow> = sqlx::query_as(
        "UPDATE outbox SET locked_until = $1 \
         WHERE id IN (SELECT id FROM outbox \
                      WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $2 \
                        AND (locked_until IS NULL OR locked_until < $2) \
                      ORDER BY id LIMIT $3) \
           AND sent_at IS NULL AND failed_at IS NULL \
           AND (locked_until IS NULL OR locked_until < $2) \
         RETURNING id, created_at, to_addr, subject, body_sealed, message_id, attempts",
    )
    .bind(now + lease_secs)
    .bind(now)
    .bind(BATCH)
    .fetch_all(db.pool())
    .await?;
    let mut claimed: Vec<Claimed> = rows
        .into_iter()
        .map(
            |(id, created_at, to_addr, subject, body_sealed, message_id, attempts)| Claimed {
                id,
                created_at,
                to_addr,
                subject,
                body_sealed,
                message_id,
                attempts,
            },
        )
        .collect();
    // RETURNING gives no order guarantee.
    claimed.sort_by_key(|c| c.id);
    Ok(claimed)
}

async fn record_sent(db: &Db, id: i64, now: i64) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE outbox SET sent_at = $2, attempts = attempts + 1, body_sealed = NULL, \
         locked_until = NULL, last_error = NULL WHERE id = $1 AND sent_at IS NULL",
    )
    .bind(id)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Records a failed try; returns whether the message was given up.
async fn record_failure(
    db: &Db,
    row: &Claimed,
    err: &SendError,
    max_attempts: u32,
    now: i64,
) -> Result<bool, StoreError> {
    let attempts = row.attempts.saturating_add(1);
    let (text, permanent) = match err {
        SendError::Transient(t) => (t.as_str(), false),
        SendError::Permanent(t) => (t.as_str(), true),
    };
    let give_up = permanent || attempts >= i64::from(max_attempts.max(1));
    if give_up {
        sqlx::query(
            "UPDATE outbox SET attempts = $2, failed_at = $3, last_error = $4, \
             body_sealed = NULL, locked_until = NULL WHERE id = $1 AND sent_at IS NULL",
        )
        .bind(row.id)
        .bind(attempts)
        .bind(now)
        .bind(text)
        .execute(db.pool())
        .await?;
    } else {
        let delay = backoff_secs(u32::try_from(attempts).unwrap_or(u32::MAX));
        sqlx::query(
            "UPDATE outbox SET attempts = $2, next_attempt_at = $3, last_error = $4, \
             locked_until = NULL WHERE id = $1 AND sent_at IS NULL",
        )
        .bind(row.id)
        .bind(attempts)
        .bind(now + delay)
        .bind(text)
        .execute(db.pool())
        .await?;
    }
    Ok(give_up)
}

/// Error text for `last_error` and logs: one line, at most 300 characters.
pub(crate) fn short_error(s: &str) -> String {
    let one: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match one.char_indices().nth(300) {
        Some((i, _)) => format!("{}…", &one[..i]),
        None => one,
    }
}

/// One pass: claims due messages, sends them, records each outcome. Returns
/// how many were sent. Errors only when the database fails.
pub async fn run_once(
    db: &Db,
    secrets: &Secrets,
    transport: &Transport,
    cfg: &OutboxConfig,
    now: i64,
) -> Result<usize, StoreError> {
    Ok(pass(db, secrets, transport, cfg, now).await?.sent)
}

struct Pass {
    claimed: usize,
    sent: usize,
}

async fn pass(
    db: &Db,
    secrets: &Secrets,
    transport: &Transport,
    cfg: &OutboxConfig,
    now: i64,
) -> Result<Pass, StoreError> {
    let from = match parse_from(&cfg.from) {
        Ok(f) => f,
        Err(e) => {
            // Claim nothing: the messages wait for a corrected configuration.
            tracing::error!(error = %e, "outbox: not sending");
            return Ok(Pass {
                claimed: 0,
                sent: 0,
            });
        }
    };
    let lease = cfg.lease_secs.max(1);
    // Every send and its record must finish while the lease holds, or another
    // instance could claim the row and send it too. Keep a margin for the
    // database write after the send.
    let lease_d = Duration::from_secs(lease.unsigned_abs());
    let deadline = Instant::now() + lease_d - (lease_d / 10).min(Duration::from_secs(10));
    let rows = claim(db, now, lease).await?;
    let claimed = rows.len();
    let mut sent = 0;
    for row in rows {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            // The rest wait for their lease to expire and are claimed again.
            tracing::warn!(
                outbox_id = row.id,
                "outbox: lease ran out, leaving the rest for later"
            );
            break;
        }
        let outcome =
            match tokio::time::timeout(left, deliver(secrets, transport, &from, &row)).await {
                Ok(r) => r,
                Err(_) => Err(SendError::Transient(
                    "send did not finish within the lease".into(),
                )),
            };
        match outcome {
            Ok(()) => {
                record_sent(db, row.id, now).await?;
                sent += 1;
                tracing::info!(outbox_id = row.id, message_id = %row.message_id, "email sent");
            }
            Err(err) => {
                let gave_up = record_failure(db, &row, &err, cfg.max_attempts, now).await?;
                tracing::warn!(
                    outbox_id = row.id,
                    attempts = row.attempts + 1,
                    gave_up,
                    error = ?err,
                    "email not sent"
                );
            }
        }
    }
    Ok(Pass { claimed, sent })
}

async fn deliver(
    secrets: &Secrets,
    transport: &Transport,
    from: &Mailbox,
    row: &Claimed,
) -> Result<(), SendError> {
    let sealed = row
        .body_sealed
        .as_deref()
        .ok_or_else(|| SendError::Permanent("body missing".into()))?;
    let plain = crypto::open(&secrets.letter_key, row.message_id.as_bytes(), sealed)
        .map_err(|_| SendError::Permanent("sealed body cannot be opened".into()))?;
    let text =
        String::from_utf8(plain).map_err(|_| SendError::Permanent("body is not UTF-8".into()))?;
    let email = message::build(message::Parts {
        from,
        to: &row.to_addr,
        subject: &row.subject,
        message_id: &row.message_id,
        created_at: row.created_at,
        text,
    })?;
    match transport {
        Transport::Smtp(relay) => {
            // lettre ends DATA with "\r\n.\r\n", whose first CRLF already
            // ends the last line; drop ours so the relay gets the exact message.
            let mut raw = email.formatted();
            if raw.ends_with(b"\r\n") {
                raw.truncate(raw.len() - 2);
            }
            relay
                .transport
                .send_raw(email.envelope(), &raw)
                .await
                .map(|_| ())
                .map_err(|e| smtp::classify(&e))
        }
        Transport::Files(dir) => files::write(dir, row.created_at, row.id, email.formatted())
            .await
            .map(|_| ()),
    }
}

/// Runs the outbox until the task is aborted: a pass, then (unless the pass
/// filled a whole batch) a wait for `wake` or [`IDLE`]. Database errors are
/// logged and retried. A bad SMTP URL or From address is logged and ends the
/// task; check [`Transport::from_config`] at start-up to fail early.
pub fn spawn_worker(
    db: Db,
    secrets: Secrets,
    cfg: OutboxConfig,
    clock: Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>,
    wake: Arc<tokio::sync::Notify>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let transport = match Transport::from_config(&cfg) {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(error = %e, "outbox worker not started");
                return;
            }
        };
        tracing::info!(transport = %transport.describe(), "outbox worker started");
        loop {
            let now = clock().timestamp();
            let busy = match pass(&db, &secrets, &transport, &cfg, now).await {
                Ok(p) => p.claimed as i64 >= BATCH,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox pass failed");
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
    fn debug_output_leaves_out_the_smtp_password() {
        let c = OutboxConfig::new(
            Some("smtp://mailer:hunter2secret@relay:587".into()),
            "A <a@example.org>",
            PathBuf::from("/tmp/outbox"),
        );
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2secret"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }

    #[test]
    fn backoff_doubles_from_30_seconds_to_an_hour() {
        let got: Vec<i64> = (0..=10).map(backoff_secs).collect();
        assert_eq!(
            got,
            vec![30, 30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]
        );
        assert_eq!(backoff_secs(u32::MAX), 3600);
        let total: i64 = (1..DEFAULT_MAX_ATTEMPTS).map(backoff_secs).sum();
        assert!((40 * 3600..50 * 3600).contains(&total), "{total}");
    }

    #[test]
    fn errors_are_short_single_lines() {
        assert_eq!(short_error("451 busy\r\ntry later"), "451 busy  try later");
        let long = "é".repeat(400);
        assert_eq!(short_error(&long).chars().count(), 301);
    }
}
