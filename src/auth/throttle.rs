//! Sign-in throttling as a pure function of failures and time (after kanidm's
//! softlock and login.gov's throttles), persisted per key so it holds across
//! restarts and instances. Nothing here hands an attacker a switch that locks
//! the owner out:
//!
//! - **identifier+source** (`pair:`): a growing delay between failed
//!   password attempts for one submitted email from one client address;
//! - **identifier** (`ident:`): after [`ThrottleRules::unlock_after`]
//!   consecutive failed passwords from anywhere, a password is only checked
//!   together with an emailed unlock code. Someone who knows only the email
//!   reaches this state but cannot pass it and cannot keep the owner from
//!   passing it (password + emailed code + second factor). Past it the count
//!   grows only with valid unlock codes, so at most
//!   [`ThrottleRules::hard_lock_after`] consecutive failures can ever reach
//!   the password;
//! - **second factor** (`second:`): a lock after failed authenticator codes
//!   and a hard lock after 100 consecutive ones. A password reset does not
//!   clear it (holding the mailbox gives no fresh guesses at the second
//!   factor); only a successful second factor or an officer does.
//!
//! Keys name the *submitted* identifier by keyed hash, registered or not, so
//! a throttled answer is the same for known and unknown emails. The
//! per-address limit across accounts (against spraying) is
//! [`crate::limits::Limit::SignInPerIp`], counted before any hashing.

use crate::store::{Db, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleRules {
    /// Failures of one identifier from one address before delays start.
    pub free_attempts: i64,
    /// The longest identifier+address delay.
    pub max_delay_secs: i64,
    /// Consecutive failed passwords of one identifier after which an emailed
    /// unlock code is needed as well.
    pub unlock_after: i64,
    /// Failed second-factor codes before the second factor is locked.
    pub second_lock_after: i64,
    pub second_lock_secs: i64,
    /// Consecutive failures of one authenticator after which an officer must
    /// act (NIST SP 800-63B-4: no more than 100).
    pub hard_lock_after: i64,
}

pub const RULES: ThrottleRules = ThrottleRules {
    free_attempts: 3,
    max_delay_secs: 60,
    unlock_after: 10,
    second_lock_after: 10,
    second_lock_secs: 20 * 60,
    hard_lock_after: 100,
};

/// What is stored per key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ThrottleState {
    /// Failures since the last lock (second factor) or since the last success.
    pub failures: i64,
    /// Consecutive failures since the last success (never reset by a lock).
    pub consecutive: i64,
    pub last_failure_at: i64,
    pub locked_until: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// Try again at this time (growing delay).
    Wait {
        until: i64,
    },
    /// Locked until this time.
    Locked {
        until: i64,
    },
    /// The password is only checked together with an emailed unlock code.
    UnlockNeeded,
    /// Too many consecutive failures: an officer must unlock the account.
    HardLocked,
}

/// Identifier key: may a password for this identifier be checked, and with
/// an unlock code only?
pub fn identifier_decision(rules: &ThrottleRules, s: &ThrottleState) -> Decision {
    if s.consecutive >= rules.hard_lock_after {
        Decision::HardLocked
    } else if s.consecutive >= rules.unlock_after {
        Decision::UnlockNeeded
    } else {
        Decision::Allowed
    }
}

/// Second-factor key: may a code be checked now?
pub fn second_decision(rules: &ThrottleRules, s: &ThrottleState, now: i64) -> Decision {
    if s.consecutive >= rules.hard_lock_after {
        return Decision::HardLocked;
    }
    match s.locked_until {
        Some(until) if until > now => Decision::Locked { until },
        _ => Decision::Allowed,
    }
}

/// Identifier+address key: the growing delay.
pub fn pair_decision(rules: &ThrottleRules, s: &ThrottleState, now: i64) -> Decision {
    let over = s.failures - rules.free_attempts;
    if over < 0 {
        return Decision::Allowed;
    }
    let delay = (1i64 << over.min(16)).min(rules.max_delay_secs);
    let until = s.last_failure_at + delay;
    if until > now {
        Decision::Wait { until }
    } else {
        Decision::Allowed
    }
}

/// The second-factor key's state after a failed code.
pub fn second_failed(rules: &ThrottleRules, s: &ThrottleState, now: i64) -> ThrottleState {
    let mut n = *s;
    // A lock that has ended starts a fresh count toward the next one.
    if matches!(n.locked_until, Some(u) if u <= now) {
        n.failures = 0;
        n.locked_until = None;
    }
    n.failures += 1;
    n.consecutive += 1;
    n.last_failure_at = now;
    if n.failures >= rules.second_lock_after {
        n.locked_until = Some(now + rules.second_lock_secs);
    }
    n
}

/// The identifier+address or identifier key's state after a failure.
pub fn pair_failed(s: &ThrottleState, now: i64) -> ThrottleState {
    ThrottleState {
        failures: s.failures + 1,
        consecutive: s.consecutive + 1,
        last_failure_at: now,
        locked_until: None,
    }
}

pub fn identifier_key(identifier_hash: &str) -> String {
    format!("ident:{identifier_hash}")
}

pub fn pair_key(identifier_hash: &str, ip_hash: &str) -> String {
    format!("pair:{identifier_hash}:{ip_hash}")
}

pub fn second_key(account_id: i64) -> String {
    format!("second:{account_id}")
}

/// The keyed hash that names a submitted sign-in identifier (an email,
/// compared case-insensitively), whether or not an account uses it.
pub fn identifier_hash(identifier_key: &[u8; 32], typed: &str) -> String {
    crate::audit::subject_hash(identifier_key, "email", &typed.trim().to_lowercase())
}

pub async fn load(db: &Db, key: &str) -> Result<ThrottleState, StoreError> {
    let row: Option<(i64, i64, i64, Option<i64>)> = sqlx::query_as(
        "SELECT failures, consecutive, last_failure_at, locked_until FROM auth_throttle WHERE throttle_key = $1",
    )
    .bind(key)
    .fetch_optional(db.pool())
    .await?;
    Ok(row
        .map(
            |(failures, consecutive, last_failure_at, locked_until)| ThrottleState {
                failures,
                consecutive,
                last_failure_at,
                locked_until,
            },
        )
        .unwrap_or_default())
}

pub async fn save(db: &Db, key: &str, s: &ThrottleState) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO auth_throttle (throttle_key, failures, consecutive, last_failure_at, locked_until) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (throttle_key) DO UPDATE SET \
         failures = $2, consecutive = $3, last_failure_at = $4, locked_until = $5",
    )
    .bind(key)
    .bind(s.failures)
    .bind(s.consecutive)
    .bind(s.last_failure_at)
    .bind(s.locked_until)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Clears a key (after a success, or an officer's unlock).
pub async fn clear(db: &Db, key: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM auth_throttle WHERE throttle_key = $1")
        .bind(key)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// The password throttles for an identifier from an address: the
/// identifier+address delay first, then the identifier's unlock limit.
pub async fn password_gate(
    db: &Db,
    identifier_hash: &str,
    ip_hash: &str,
    now: i64,
) -> Result<Decision, StoreError> {
    let pair = load(db, &pair_key(identifier_hash, ip_hash)).await?;
    let d = pair_decision(&RULES, &pair, now);
    if d != Decision::Allowed {
        return Ok(d);
    }
    let ident = load(db, &identifier_key(identifier_hash)).await?;
    Ok(identifier_decision(&RULES, &ident))
}

/// A wrong password for an identifier from an address: the delay and the
/// identifier's count both grow.
pub async fn password_failed(
    db: &Db,
    identifier_hash: &str,
    ip_hash: &str,
    now: i64,
) -> Result<(), StoreError> {
    for key in [
        pair_key(identifier_hash, ip_hash),
        identifier_key(identifier_hash),
    ] {
        let s = load(db, &key).await?;
        save(db, &key, &pair_failed(&s, now)).await?;
    }
    Ok(())
}

/// A wrong second-factor code for an account.
pub async fn second_factor_failed(db: &Db, account_id: i64, now: i64) -> Result<(), StoreError> {
    let key = second_key(account_id);
    let s = load(db, &key).await?;
    save(db, &key, &second_failed(&RULES, &s, now)).await
}

/// After a password reset through the mailbox: the identifier's password
/// throttles end (the mailbox proved the person, as an unlock code does);
/// the second factor's stays.
pub async fn clear_password_throttles(db: &Db, identifier_hash: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM auth_throttle WHERE throttle_key = $1 OR throttle_key LIKE $2")
        .bind(identifier_key(identifier_hash))
        .bind(format!("pair:{identifier_hash}:%"))
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Forgets counts that have been quiet for 31 days (they would otherwise
/// pile up for every email anyone ever typed), except those at the 100-failure
/// ceiling, which only a reset or an officer lifts.
pub async fn purge(db: &Db, now: i64) -> Result<u64, StoreError> {
    let r =
        sqlx::query("DELETE FROM auth_throttle WHERE last_failure_at < $1 AND consecutive < $2")
            .bind(now - 31 * 86_400)
            .bind(RULES.hard_lock_after)
            .execute(db.pool())
            .await?;
    Ok(r.rows_affected())
}

/// An officer's unlock (or help-desk reset): clears every key of the account.
pub async fn unlock_account(
    db: &Db,
    account_id: i64,
    identifier_hash: &str,
) -> Result<(), StoreError> {
    clear_password_throttles(db, identifier_hash).await?;
    clear(db, &second_key(account_id)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_800_000_000;

    #[test]
    fn ten_failed_codes_lock_the_second_factor_for_twenty_minutes() {
        let mut s = ThrottleState::default();
        for i in 0..9 {
            s = second_failed(&RULES, &s, T0 + i);
            assert_eq!(second_decision(&RULES, &s, T0 + i), Decision::Allowed);
        }
        s = second_failed(&RULES, &s, T0 + 9);
        assert_eq!(
            second_decision(&RULES, &s, T0 + 10),
            Decision::Locked {
                until: T0 + 9 + 1_200
            }
        );
        assert_eq!(
            second_decision(&RULES, &s, T0 + 9 + 1_200),
            Decision::Allowed
        );
        // After the lock, a fresh count of ten.
        let s2 = second_failed(&RULES, &s, T0 + 2_000);
        assert_eq!(s2.failures, 1);
        assert_eq!(second_decision(&RULES, &s2, T0 + 2_001), Decision::Allowed);
    }

    #[test]
    fn a_hundred_consecutive_failed_codes_need_an_officer() {
        let mut s = ThrottleState::default();
        let mut t = T0;
        for _ in 0..100 {
            t += 1_300; // every lock has expired by the next attempt
            s = second_failed(&RULES, &s, t);
        }
        assert_eq!(s.consecutive, 100);
        assert_eq!(
            second_decision(&RULES, &s, t + 1_000_000),
            Decision::HardLocked
        );
    }

    #[test]
    fn an_identifier_never_locks_by_time_it_asks_for_an_unlock_code() {
        let mut s = ThrottleState::default();
        for i in 0..9 {
            s = pair_failed(&s, T0 + i);
            assert_eq!(identifier_decision(&RULES, &s), Decision::Allowed);
        }
        s = pair_failed(&s, T0 + 9);
        assert_eq!(identifier_decision(&RULES, &s), Decision::UnlockNeeded);
        // Time alone changes nothing, and nothing says "locked until".
        assert_eq!(identifier_decision(&RULES, &s), Decision::UnlockNeeded);
        for i in 10..100 {
            s = pair_failed(&s, T0 + i);
        }
        assert_eq!(identifier_decision(&RULES, &s), Decision::HardLocked);
    }

    #[test]
    fn the_pair_delay_grows_and_is_capped() {
        let mut s = ThrottleState::default();
        for i in 0..3 {
            s = pair_failed(&s, T0 + i);
        }
        // Three free failures, then 1 s, 2 s, 4 s … up to 60 s.
        assert_eq!(
            pair_decision(&RULES, &s, T0 + 2),
            Decision::Wait { until: T0 + 3 }
        );
        assert_eq!(pair_decision(&RULES, &s, T0 + 3), Decision::Allowed);
        s = pair_failed(&s, T0 + 10);
        assert_eq!(
            pair_decision(&RULES, &s, T0 + 10),
            Decision::Wait { until: T0 + 12 }
        );
        for _ in 0..20 {
            s = pair_failed(&s, T0 + 100);
        }
        assert_eq!(
            pair_decision(&RULES, &s, T0 + 100),
            Decision::Wait { until: T0 + 160 }
        );
    }
}
