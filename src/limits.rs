//! Named rate limits, persisted in the database so they hold across restarts
//! and instances (after login.gov's `rate_limiter.rb`). Each limit counts hits
//! of one subject — a keyed hash of an IP address or an identifier, never the
//! value itself — in a fixed window.

use crate::store::{Db, StoreError};

/// Every limit the portal enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Access-code requests from one client IP.
    AccessCodePerIp,
    /// Access-code requests naming one identifier (A-Number or receipt),
    /// counted whether or not it exists, so the limit reveals nothing.
    AccessCodePerIdentifier,
    /// Failed CAPTCHA answers from one client IP.
    CaptchaFailuresPerIp,
    /// Sign-up and password-recovery submissions from one client IP.
    AccountFormsPerIp,
    /// Failed attempts to add a case, per account.
    LinkFailuresPerAccount,
    /// Password sign-in attempts from one client IP, across all accounts
    /// (against password spraying); counted before any password hashing.
    SignInPerIp,
    /// Sign-in unlock codes emailed for one submitted identifier, counted
    /// whether or not it exists.
    UnlockCodesPerIdentifier,
    // Change of address without an account (/change-address).
    /// Change-of-address requests from one client IP.
    AddressChangePerIp,
    /// Change-of-address requests naming one identifier, counted whether or
    /// not it exists.
    AddressChangePerIdentifier,
    /// Wrong confirmation or cancellation codes from one client IP.
    AddressCodeFailuresPerIp,
    /// Case Status Online JSON lookups from one client IP (scrapers walking
    /// receipt ranges are the main load on the real one).
    CsolLookupsPerIp,
    /// Wrong device-grant user codes entered by one account (RFC 8628 §5.1:
    /// user codes are short, so guessing must be limited).
    DeviceCodeFailuresPerAccount,
    /// Wrong device-grant user codes from one client IP, across accounts.
    DeviceCodeFailuresPerIp,
    /// Device authorizations started from one client IP.
    DeviceAuthorizationsPerIp,
}

/// How many hits a window allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub max: i64,
    pub window_secs: i64,
}

impl Limit {
    pub fn name(self) -> &'static str {
        match self {
            Limit::AccessCodePerIp => "access_code_ip",
            Limit::AccessCodePerIdentifier => "access_code_identifier",
            Limit::CaptchaFailuresPerIp => "captcha_failures_ip",
            Limit::AccountFormsPerIp => "account_forms_ip",
            Limit::LinkFailuresPerAccount => "link_failures_account",
            Limit::SignInPerIp => "sign_in_ip",
            Limit::UnlockCodesPerIdentifier => "unlock_codes_identifier",
            Limit::AddressChangePerIp => "address_change_ip",
            Limit::AddressChangePerIdentifier => "address_change_identifier",
            Limit::AddressCodeFailuresPerIp => "address_code_failures_ip",
            Limit::CsolLookupsPerIp => "csol_lookups_ip",
            Limit::DeviceCodeFailuresPerAccount => "device_code_failures_account",
            Limit::DeviceCodeFailuresPerIp => "device_code_failures_ip",
            Limit::DeviceAuthorizationsPerIp => "device_authorizations_ip",
        }
    }

    /// Defaults, as `docs/security.md` lists them.
    pub fn rule(self) -> Rule {
        match self {
            Limit::AccessCodePerIp => Rule {
                max: 20,
                window_secs: 3_600,
            },
            Limit::AccessCodePerIdentifier => Rule {
                max: 5,
                window_secs: 86_400,
            },
            Limit::CaptchaFailuresPerIp => Rule {
                max: 10,
                window_secs: 3_600,
            },
            Limit::AccountFormsPerIp => Rule {
                max: 30,
                window_secs: 3_600,
            },
            Limit::LinkFailuresPerAccount => Rule {
                max: 20,
                window_secs: 86_400,
            },
            Limit::SignInPerIp => Rule {
                max: 50,
                window_secs: 900,
            },
            Limit::UnlockCodesPerIdentifier => Rule {
                max: 3,
                window_secs: 900,
            },
            Limit::AddressChangePerIp => Rule {
                max: 10,
                window_secs: 3_600,
            },
            Limit::AddressChangePerIdentifier => Rule {
                max: 3,
                window_secs: 86_400,
            },
            Limit::AddressCodeFailuresPerIp => Rule {
                max: 10,
                window_secs: 3_600,
            },
            // A family checks a handful of receipts; a range walk needs
            // thousands.
            Limit::CsolLookupsPerIp => Rule {
                max: 60,
                window_secs: 60,
            },
            // 20^8 codes, a few live at a time: 10 guesses an hour find one
            // with odds far below one in a million.
            Limit::DeviceCodeFailuresPerAccount => Rule {
                max: 10,
                window_secs: 3_600,
            },
            Limit::DeviceCodeFailuresPerIp => Rule {
                max: 30,
                window_secs: 3_600,
            },
            Limit::DeviceAuthorizationsPerIp => Rule {
                max: 60,
                window_secs: 3_600,
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed {
        remaining: i64,
    },
    /// Over the limit until `retry_at` (unix seconds).
    Exceeded {
        retry_at: i64,
    },
}

impl Verdict {
    /// `Err` with the 429 to answer when over the limit, saying when to retry.
    pub fn or_too_many(self, now: i64) -> Result<(), crate::error::AppError> {
        match self {
            Verdict::Allowed { .. } => Ok(()),
            Verdict::Exceeded { retry_at } => Err(crate::error::AppError::TooManyRequests {
                retry_after_secs: u64::try_from(retry_at.saturating_sub(now))
                    .unwrap_or(0)
                    .max(1),
            }),
        }
    }
}

/// Pure: the verdict for a window that began at `window_start` and now holds
/// `count` hits (this one included).
pub fn judge(rule: Rule, count: i64, window_start: i64) -> Verdict {
    if count > rule.max {
        Verdict::Exceeded {
            retry_at: window_start + rule.window_secs,
        }
    } else {
        Verdict::Allowed {
            remaining: rule.max - count,
        }
    }
}

fn key(limit: Limit, subject: &str) -> String {
    format!("{}:{subject}", limit.name())
}

/// Counts one hit and judges it (one atomic statement on both engines).
pub async fn hit(db: &Db, limit: Limit, subject: &str, now: i64) -> Result<Verdict, StoreError> {
    let rule = limit.rule();
    let (count, start): (i64, i64) = sqlx::query_as(
        "INSERT INTO rate_limits (limit_key, window_start, hits) VALUES ($1, $2, 1) \
         ON CONFLICT (limit_key) DO UPDATE SET \
           hits = CASE WHEN rate_limits.window_start <= $3 THEN 1 ELSE rate_limits.hits + 1 END, \
           window_start = CASE WHEN rate_limits.window_start <= $3 THEN $2 ELSE rate_limits.window_start END \
         RETURNING hits, window_start",
    )
    .bind(key(limit, subject))
    .bind(now)
    .bind(now - rule.window_secs)
    .fetch_one(db.pool())
    .await?;
    Ok(judge(rule, count, start))
}

/// Judges without counting (e.g. "has this IP failed the CAPTCHA too often?").
pub async fn peek(db: &Db, limit: Limit, subject: &str, now: i64) -> Result<Verdict, StoreError> {
    let rule = limit.rule();
    let row: Option<(i64, i64)> =
        sqlx::query_as("SELECT hits, window_start FROM rate_limits WHERE limit_key = $1")
            .bind(key(limit, subject))
            .fetch_optional(db.pool())
            .await?;
    Ok(match row {
        Some((count, start)) if start > now - rule.window_secs => {
            // `peek` asks whether one more would be allowed.
            judge(rule, count + 1, start)
        }
        _ => Verdict::Allowed {
            remaining: rule.max,
        },
    })
}

/// Removes windows that ended long ago.
pub async fn purge(db: &Db, now: i64) -> Result<u64, StoreError> {
    let r = sqlx::query("DELETE FROM rate_limits WHERE window_start < $1")
        .bind(now - 31 * 86_400)
        .execute(db.pool())
        .await?;
    Ok(r.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exceeded_becomes_a_429_with_the_time_left() {
        assert!(Verdict::Allowed { remaining: 3 }.or_too_many(100).is_ok());
        match (Verdict::Exceeded { retry_at: 1_000 }).or_too_many(400) {
            Err(crate::error::AppError::TooManyRequests { retry_after_secs }) => {
                assert_eq!(retry_after_secs, 600)
            }
            other => panic!("{other:?}"),
        }
        match (Verdict::Exceeded { retry_at: 10 }).or_too_many(400) {
            Err(crate::error::AppError::TooManyRequests { retry_after_secs }) => {
                assert_eq!(retry_after_secs, 1, "never 0")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn judge_counts_the_hit_in() {
        let r = Rule {
            max: 2,
            window_secs: 60,
        };
        assert_eq!(judge(r, 1, 100), Verdict::Allowed { remaining: 1 });
        assert_eq!(judge(r, 2, 100), Verdict::Allowed { remaining: 0 });
        assert_eq!(judge(r, 3, 100), Verdict::Exceeded { retry_at: 160 });
    }

    #[test]
    fn names_are_unique() {
        let all = [
            Limit::AccessCodePerIp,
            Limit::AccessCodePerIdentifier,
            Limit::CaptchaFailuresPerIp,
            Limit::AccountFormsPerIp,
            Limit::LinkFailuresPerAccount,
            Limit::SignInPerIp,
            Limit::UnlockCodesPerIdentifier,
            Limit::AddressChangePerIp,
            Limit::AddressChangePerIdentifier,
            Limit::AddressCodeFailuresPerIp,
            Limit::CsolLookupsPerIp,
            Limit::DeviceCodeFailuresPerAccount,
            Limit::DeviceCodeFailuresPerIp,
            Limit::DeviceAuthorizationsPerIp,
        ];
        let mut names: Vec<_> = all.iter().map(|l| l.name()).collect();
        names.dedup();
        assert_eq!(names.len(), all.len());
    }
}
