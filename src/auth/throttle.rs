//! Sign-in throttling as a pure function of failures and time (after kanidm's
//! softlock), persisted per key so it holds across restarts and instances.
//!
//! Two keys are checked for every sign-in: the account (lock 20 minutes after
//! 10 consecutive failures; after 100 consecutive failures the authenticator
//! is locked until an officer unlocks it) and the account+IP pair (a growing
//! delay between attempts, so one address cannot hammer an account).

use crate::store::{Db, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleRules {
    pub lock_after: i64,
    pub lock_secs: i64,
    pub hard_lock_after: i64,
    /// Failures from one account+IP before delays start.
    pub free_attempts: i64,
    pub max_delay_secs: i64,
}

pub const RULES: ThrottleRules = ThrottleRules {
    lock_after: 10,
    lock_secs: 20 * 60,
    hard_lock_after: 100,
    free_attempts: 3,
    max_delay_secs: 60,
};

/// What is stored per key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ThrottleState {
    /// Failures since the last lock (account) or since the last success.
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
    /// Too many consecutive failures: an officer must unlock the account.
    HardLocked,
}

/// Account key: may this account try now?
pub fn account_decision(rules: &ThrottleRules, s: &ThrottleState, now: i64) -> Decision {
    if s.consecutive >= rules.hard_lock_after {
        return Decision::HardLocked;
    }
    match s.locked_until {
        Some(until) if until > now => Decision::Locked { until },
        _ => Decision::Allowed,
    }
}

/// Account+IP key: the growing delay.
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

/// The account key's state after a failed attempt.
pub fn account_failed(rules: &ThrottleRules, s: &ThrottleState, now: i64) -> ThrottleState {
    let mut n = *s;
    // A lock that has ended starts a fresh count toward the next one.
    if matches!(n.locked_until, Some(u) if u <= now) {
        n.failures = 0;
        n.locked_until = None;
    }
    n.failures += 1;
    n.consecutive += 1;
    n.last_failure_at = now;
    if n.failures >= rules.lock_after {
        n.locked_until = Some(now + rules.lock_secs);
    }
    n
}

/// The account+IP key's state after a failed attempt.
pub fn pair_failed(s: &ThrottleState, now: i64) -> ThrottleState {
    ThrottleState {
        failures: s.failures + 1,
        consecutive: s.consecutive + 1,
        last_failure_at: now,
        locked_until: None,
    }
}

pub fn account_key(account_id: i64) -> String {
    format!("account:{account_id}")
}

pub fn pair_key(account_id: i64, ip_hash: &str) -> String {
    format!("pair:{account_id}:{ip_hash}")
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

/// An officer's unlock: clears the account key and every account+IP key.
pub async fn unlock_account(db: &Db, account_id: i64) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM auth_throttle WHERE throttle_key = $1 OR throttle_key LIKE $2")
        .bind(account_key(account_id))
        .bind(format!("pair:{account_id}:%"))
        .execute(db.pool())
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_800_000_000;

    #[test]
    fn ten_failures_lock_the_account_for_twenty_minutes() {
        let mut s = ThrottleState::default();
        for i in 0..9 {
            s = account_failed(&RULES, &s, T0 + i);
            assert_eq!(account_decision(&RULES, &s, T0 + i), Decision::Allowed);
        }
        s = account_failed(&RULES, &s, T0 + 9);
        assert_eq!(
            account_decision(&RULES, &s, T0 + 10),
            Decision::Locked {
                until: T0 + 9 + 1_200
            }
        );
        assert_eq!(
            account_decision(&RULES, &s, T0 + 9 + 1_200),
            Decision::Allowed
        );
        // After the lock, a fresh count of ten.
        let s2 = account_failed(&RULES, &s, T0 + 2_000);
        assert_eq!(s2.failures, 1);
        assert_eq!(account_decision(&RULES, &s2, T0 + 2_001), Decision::Allowed);
    }

    #[test]
    fn a_hundred_consecutive_failures_need_an_officer() {
        let mut s = ThrottleState::default();
        let mut t = T0;
        for _ in 0..100 {
            t += 1_300; // every lock has expired by the next attempt
            s = account_failed(&RULES, &s, t);
        }
        assert_eq!(s.consecutive, 100);
        assert_eq!(
            account_decision(&RULES, &s, t + 1_000_000),
            Decision::HardLocked
        );
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
