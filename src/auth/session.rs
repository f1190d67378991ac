//! Server-side sessions. The cookie holds a 256-bit random id; the database
//! holds only its keyed hash. A new id is issued whenever the session's
//! level changes (sign-in, second factor). Idle and absolute limits are
//! checked on every load with the clock passed in.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use sqlx::Row;

use super::cookies;
use crate::app::AppState;
use crate::crypto::{hmac_sha256, random_hex};
use crate::secrets::Secrets;
use crate::store::{Db, StoreError};

pub const COOKIE: &str = "__Host-casegate_session";

/// How far along authentication a session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Email confirmed or password accepted, but two-step verification is not
    /// set up yet: only enrolment pages are open.
    Enrol,
    /// Password accepted; the second factor is still due.
    SecondFactor,
    /// Fully signed in.
    Full,
}

impl Level {
    pub fn code(self) -> &'static str {
        match self {
            Level::Enrol => "enrol",
            Level::SecondFactor => "second_factor",
            Level::Full => "full",
        }
    }
    pub fn from_code(s: &str) -> Option<Level> {
        match s {
            "enrol" => Some(Level::Enrol),
            "second_factor" => Some(Level::SecondFactor),
            "full" => Some(Level::Full),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionRules {
    pub idle_secs: i64,
    pub absolute_secs: i64,
    /// How recent the last full authentication must be for security changes.
    pub reauth_secs: i64,
    /// Partly authenticated sessions live this long.
    pub partial_secs: i64,
}

pub const RULES: SessionRules = SessionRules {
    idle_secs: 15 * 60,
    absolute_secs: 12 * 3_600,
    reauth_secs: 15 * 60,
    partial_secs: 30 * 60,
};

#[derive(Debug, Clone)]
pub struct Session {
    pub id_hash: Vec<u8>,
    pub account_id: i64,
    pub role: String,
    pub level: Level,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub authenticated_at: Option<i64>,
    pub pending_totp_sealed: Option<Vec<u8>>,
}

/// Pure: is this session still usable at `now`?
pub fn live(rules: &SessionRules, s: &Session, now: i64) -> bool {
    let absolute = match s.level {
        Level::Full => rules.absolute_secs,
        _ => rules.partial_secs,
    };
    now - s.last_seen_at < rules.idle_secs && now - s.created_at < absolute
}

/// Pure: may this session make a security change without signing in again?
pub fn recently_authenticated(rules: &SessionRules, s: &Session, now: i64) -> bool {
    s.level == Level::Full
        && s.authenticated_at
            .is_some_and(|t| now - t < rules.reauth_secs)
}

pub fn hash_id(secrets: &Secrets, raw: &str) -> Vec<u8> {
    hmac_sha256(&secrets.session_key, format!("session:{raw}").as_bytes()).to_vec()
}

pub fn cookie_header(raw: &str) -> Option<HeaderValue> {
    cookies::set(COOKIE, raw, None)
}

pub fn clear_cookie_header() -> HeaderValue {
    cookies::clear(COOKIE)
}

pub struct NewSession<'a> {
    pub account_id: i64,
    pub level: Level,
    pub now: i64,
    pub authenticated_at: Option<i64>,
    pub ip: &'a str,
    pub user_agent: &'a str,
}

/// Creates a session; returns the raw id for the cookie.
pub async fn create(db: &Db, secrets: &Secrets, n: NewSession<'_>) -> Result<String, StoreError> {
    let raw = random_hex(&mut rand::rngs::OsRng, 32);
    sqlx::query(
        "INSERT INTO sessions (id_hash, account_id, level, created_at, last_seen_at, authenticated_at, ip, user_agent) \
         VALUES ($1, $2, $3, $4, $4, $5, $6, $7)",
    )
    .bind(hash_id(secrets, &raw))
    .bind(n.account_id)
    .bind(n.level.code())
    .bind(n.now)
    .bind(n.authenticated_at)
    .bind(n.ip.chars().take(64).collect::<String>())
    .bind(n.user_agent.chars().take(200).collect::<String>())
    .execute(db.pool())
    .await?;
    Ok(raw)
}

pub async fn load(
    db: &Db,
    secrets: &Secrets,
    raw: &str,
    now: i64,
) -> Result<Option<Session>, StoreError> {
    if raw.len() != 64 {
        return Ok(None);
    }
    let id_hash = hash_id(secrets, raw);
    let row = sqlx::query(
        "SELECT s.account_id, s.level, s.created_at, s.last_seen_at, s.authenticated_at, s.pending_totp_sealed, a.role \
         FROM sessions s JOIN accounts a ON a.id = s.account_id \
         WHERE s.id_hash = $1 AND s.revoked_at IS NULL AND a.disabled_at IS NULL",
    )
    .bind(&id_hash)
    .fetch_optional(db.pool())
    .await?;
    let Some(r) = row else {
        return Ok(None);
    };
    let level: String = r.try_get("level")?;
    let Some(level) = Level::from_code(&level) else {
        return Ok(None);
    };
    let s = Session {
        id_hash,
        account_id: r.try_get("account_id")?,
        role: r.try_get("role")?,
        level,
        created_at: r.try_get("created_at")?,
        last_seen_at: r.try_get("last_seen_at")?,
        authenticated_at: r.try_get("authenticated_at")?,
        pending_totp_sealed: r.try_get("pending_totp_sealed")?,
    };
    if !live(&RULES, &s, now) {
        revoke(db, &s.id_hash, now).await?;
        return Ok(None);
    }
    // Record activity, at most once a minute per session.
    if now - s.last_seen_at >= 60 {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(now)
            .bind(&s.id_hash)
            .execute(db.pool())
            .await?;
    }
    Ok(Some(s))
}

pub async fn revoke(db: &Db, id_hash: &[u8], now: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id_hash = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(id_hash)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Revokes every session of an account except (optionally) one.
pub async fn revoke_all(
    db: &Db,
    account_id: i64,
    except: Option<&[u8]>,
    now: i64,
) -> Result<u64, StoreError> {
    revoke_all_in(db.pool(), account_id, except, now).await
}

/// [`revoke_all`] on any executor, so it joins the caller's transaction
/// (`&mut *tx`).
pub async fn revoke_all_in<'c, E>(
    exec: E,
    account_id: i64,
    except: Option<&[u8]>,
    now: i64,
) -> Result<u64, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let r = sqlx::query(
        "UPDATE sessions SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL AND id_hash <> $3",
    )
    .bind(now)
    .bind(account_id)
    .bind(except.unwrap_or(&[]).to_vec())
    .execute(exec)
    .await?;
    Ok(r.rows_affected())
}

pub async fn set_pending_totp(
    db: &Db,
    id_hash: &[u8],
    sealed: Option<Vec<u8>>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE sessions SET pending_totp_sealed = $1 WHERE id_hash = $2")
        .bind(sealed)
        .bind(id_hash)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// A listed session (for the security page).
pub struct SessionRow {
    pub id_hash: Vec<u8>,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub ip: String,
    pub user_agent: String,
}

pub async fn list(db: &Db, account_id: i64, now: i64) -> Result<Vec<SessionRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT id_hash, created_at, last_seen_at, ip, user_agent FROM sessions \
         WHERE account_id = $1 AND revoked_at IS NULL AND level = 'full' AND last_seen_at > $2 AND created_at > $3 \
         ORDER BY last_seen_at DESC",
    )
    .bind(account_id)
    .bind(now - RULES.idle_secs)
    .bind(now - RULES.absolute_secs)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(SessionRow {
                id_hash: r.try_get("id_hash")?,
                created_at: r.try_get("created_at")?,
                last_seen_at: r.try_get("last_seen_at")?,
                ip: r.try_get::<Option<String>, _>("ip")?.unwrap_or_default(),
                user_agent: r
                    .try_get::<Option<String>, _>("user_agent")?
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// The visitor's session, if any (any level).
pub struct MaybeSession(pub Option<Session>);

impl FromRequestParts<AppState> for MaybeSession {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(raw) = cookies::read(&parts.headers, COOKIE) else {
            return Ok(MaybeSession(None));
        };
        let s = load(&state.db, &state.secrets, raw, state.now().timestamp())
            .await
            .map_err(|e| crate::error::AppError::from(e).into_response())?;
        if let Some(s) = &s {
            // The request's log lines name who is acting.
            tracing::Span::current().record(
                "actor",
                tracing::field::display(format_args!("{}:{}", s.role, s.account_id)),
            );
        }
        Ok(MaybeSession(s))
    }
}

/// A fully signed-in session; anyone else is sent to the sign-in page.
pub struct FullSession(pub Session);

impl FromRequestParts<AppState> for FullSession {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match MaybeSession::from_request_parts(parts, state).await?.0 {
            Some(s) if s.level == Level::Full => Ok(FullSession(s)),
            Some(s) if s.level == Level::Enrol => {
                Err(Redirect::to("/two-step/setup").into_response())
            }
            Some(s) if s.level == Level::SecondFactor => {
                Err(Redirect::to("/sign-in/two-step").into_response())
            }
            _ => Err(to_sign_in(parts)),
        }
    }
}

/// Someone not signed in asked for a page that needs it: the sign-in page
/// says why, and a GET's path is kept to return to afterwards.
fn to_sign_in(parts: &Parts) -> Response {
    let back = (parts.method == axum::http::Method::GET)
        .then(|| parts.uri.path_and_query().map(|p| p.as_str()))
        .flatten()
        .and_then(super::return_to::ReturnTo::parse);
    let mut resp = Redirect::to("/sign-in?why=required").into_response();
    if let Some(cookie) = back.and_then(|b| b.cookie()) {
        resp.headers_mut().append(header::SET_COOKIE, cookie);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(level: Level, created: i64, seen: i64, authed: Option<i64>) -> Session {
        Session {
            id_hash: vec![],
            account_id: 1,
            role: "applicant".into(),
            level,
            created_at: created,
            last_seen_at: seen,
            authenticated_at: authed,
            pending_totp_sealed: None,
        }
    }

    #[test]
    fn idle_and_absolute_limits() {
        let t = 1_000_000;
        assert!(live(&RULES, &s(Level::Full, t, t, Some(t)), t + 899));
        assert!(
            !live(&RULES, &s(Level::Full, t, t, Some(t)), t + 900),
            "15 min idle"
        );
        let busy = s(Level::Full, t, t + 43_100, Some(t));
        assert!(live(&RULES, &busy, t + 43_199));
        assert!(!live(&RULES, &busy, t + 43_200), "12 h absolute");
        assert!(!live(
            &RULES,
            &s(Level::SecondFactor, t, t + 1_790, None),
            t + 1_800
        ));
    }

    #[test]
    fn reauthentication_window() {
        let t = 1_000_000;
        assert!(recently_authenticated(
            &RULES,
            &s(Level::Full, t, t, Some(t)),
            t + 899
        ));
        assert!(!recently_authenticated(
            &RULES,
            &s(Level::Full, t, t, Some(t)),
            t + 900
        ));
        assert!(!recently_authenticated(
            &RULES,
            &s(Level::SecondFactor, t, t, Some(t)),
            t
        ));
    }

    #[test]
    fn cookie_attributes() {
        let v = cookie_header(&"a".repeat(64)).unwrap();
        let v = v.to_str().unwrap();
        assert!(v.starts_with("__Host-casegate_session="));
        for attr in ["Path=/", "Secure", "HttpOnly", "SameSite=Lax"] {
            assert!(v.contains(attr));
        }
        assert!(!v.contains("Domain"));
    }
}
