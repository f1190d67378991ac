//! The API clients' guards: the bearer check (`bearer`, its token reads in
//! `store`) and the pure rules of the API: token lifetime, per-client rate (token bucket) and
//! daily quota. Time is passed in (`now_ms`, unix milliseconds).
//!
//! The buckets live in this instance's memory: with N instances behind a load
//! balancer a client gets at most N × its rate. Exact cross-instance limits
//! would cost a database write per request, which the status latency goal
//! cannot afford; the daily quota likewise resets when an instance restarts.

pub mod bearer;
pub mod error;
pub mod store;

use std::collections::HashMap;
use std::sync::Mutex;

/// A client's allowance, as stored with the client.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Allowance {
    pub rate_per_sec: u32,
    pub daily_quota: u32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    tokens: f64,
    last_ms: i64,
    day: i64,
    used_today: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Allowed,
    /// Over the per-second rate; retry after this many milliseconds.
    RateLimited {
        retry_after_ms: i64,
    },
    /// Over the daily quota; retry after the next UTC midnight.
    QuotaExhausted {
        retry_after_ms: i64,
    },
}

const DAY_MS: i64 = 86_400_000;

/// Where a client stands after a request, for the `RateLimit-*` and
/// `X-RateLimit-*` headers sent with every authorized answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub rate_per_sec: u32,
    pub daily_quota: u32,
    /// Requests left today (UTC).
    pub remaining_today: u32,
    /// Seconds until the daily quota resets (next UTC midnight), at least 1.
    pub reset_secs: i64,
}

impl Bucket {
    pub fn new(allowance: Allowance, now_ms: i64) -> Bucket {
        Bucket {
            tokens: f64::from(allowance.rate_per_sec),
            last_ms: now_ms,
            day: now_ms.div_euclid(DAY_MS),
            used_today: 0,
        }
    }

    /// Where the client stands now (after [`Bucket::admit`]).
    pub fn usage(&self, allowance: Allowance, now_ms: i64) -> Usage {
        let day = now_ms.div_euclid(DAY_MS);
        let used = if day == self.day { self.used_today } else { 0 };
        Usage {
            rate_per_sec: allowance.rate_per_sec,
            daily_quota: allowance.daily_quota,
            remaining_today: allowance.daily_quota.saturating_sub(used),
            reset_secs: (((day + 1) * DAY_MS - now_ms + 999) / 1000).max(1),
        }
    }

    /// Takes one request from the bucket (burst = one second's worth).
    pub fn admit(&mut self, allowance: Allowance, now_ms: i64) -> Admission {
        let rate = f64::from(allowance.rate_per_sec.max(1));
        let day = now_ms.div_euclid(DAY_MS);
        if day != self.day {
            self.day = day;
            self.used_today = 0;
        }
        if self.used_today >= allowance.daily_quota {
            return Admission::QuotaExhausted {
                retry_after_ms: (day + 1) * DAY_MS - now_ms,
            };
        }
        let elapsed = (now_ms - self.last_ms).max(0) as f64 / 1000.0;
        self.tokens = (self.tokens + elapsed * rate).min(rate);
        self.last_ms = now_ms.max(self.last_ms);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.used_today += 1;
            Admission::Allowed
        } else {
            let missing = 1.0 - self.tokens;
            Admission::RateLimited {
                retry_after_ms: ((missing / rate) * 1000.0).ceil() as i64,
            }
        }
    }
}

/// Whether a token issued to a client is still good.
pub fn token_live(expires_at: i64, client_disabled: bool, now: i64) -> bool {
    !client_disabled && now < expires_at
}

/// What a valid bearer token grants (cached briefly per instance).
#[derive(Debug, Clone)]
pub struct Grant {
    pub client_pk: i64,
    pub allowance: Allowance,
    pub scopes: String,
    pub expires_at: i64,
    pub cached_at_ms: i64,
}

impl Grant {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.split_whitespace().any(|s| s == scope)
    }
}

/// How long a validated token may be trusted without asking the database
/// (so disabling a client takes effect within this time).
pub const GRANT_CACHE_MS: i64 = 30_000;

#[derive(Default)]
pub struct ApiGuards {
    buckets: Mutex<HashMap<i64, Bucket>>,
    grants: Mutex<HashMap<[u8; 32], Grant>>,
}

impl ApiGuards {
    pub fn admit(&self, client_pk: i64, allowance: Allowance, now_ms: i64) -> (Admission, Usage) {
        let mut map = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let bucket = map
            .entry(client_pk)
            .or_insert_with(|| Bucket::new(allowance, now_ms));
        let admission = bucket.admit(allowance, now_ms);
        (admission, bucket.usage(allowance, now_ms))
    }

    pub fn cached_grant(&self, token_hash: &[u8; 32], now_ms: i64) -> Option<Grant> {
        let map = self.grants.lock().unwrap_or_else(|p| p.into_inner());
        map.get(token_hash)
            .filter(|g| now_ms - g.cached_at_ms < GRANT_CACHE_MS && now_ms < g.expires_at * 1000)
            .cloned()
    }

    pub fn remember_grant(&self, token_hash: [u8; 32], grant: Grant) {
        let mut map = self.grants.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 50_000 {
            map.clear();
        }
        map.insert(token_hash, grant);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEN: Allowance = Allowance {
        rate_per_sec: 10,
        daily_quota: 1_000,
    };

    #[test]
    fn ten_per_second_then_limited() {
        let t0 = 1_700_000_000_000;
        let mut b = Bucket::new(TEN, t0);
        for _ in 0..10 {
            assert_eq!(b.admit(TEN, t0), Admission::Allowed);
        }
        assert_eq!(
            b.admit(TEN, t0),
            Admission::RateLimited {
                retry_after_ms: 100
            }
        );
        // 100 ms later one more token has dripped in.
        assert_eq!(b.admit(TEN, t0 + 100), Admission::Allowed);
        assert!(matches!(
            b.admit(TEN, t0 + 100),
            Admission::RateLimited { .. }
        ));
        // Idle time never banks more than one second's burst.
        let later = t0 + 60_000;
        for _ in 0..10 {
            assert_eq!(b.admit(TEN, later), Admission::Allowed);
        }
        assert!(matches!(b.admit(TEN, later), Admission::RateLimited { .. }));
    }

    #[test]
    fn daily_quota_resets_at_midnight_utc() {
        let small = Allowance {
            rate_per_sec: 1_000,
            daily_quota: 3,
        };
        let midnight = 1_700_006_400_000; // a UTC midnight
        let t = midnight - 1_000;
        let mut b = Bucket::new(small, t);
        for _ in 0..3 {
            assert_eq!(b.admit(small, t), Admission::Allowed);
        }
        assert_eq!(
            b.admit(small, t),
            Admission::QuotaExhausted {
                retry_after_ms: 1_000
            }
        );
        assert_eq!(b.admit(small, midnight), Admission::Allowed);
        let u = b.usage(small, midnight + 500);
        assert_eq!((u.remaining_today, u.reset_secs), (2, 86_400));
    }

    #[test]
    fn tokens_expire_and_die_with_their_client() {
        assert!(token_live(100, false, 99));
        assert!(!token_live(100, false, 100));
        assert!(!token_live(100, true, 50));
    }
}
