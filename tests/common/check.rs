//! Small checks the test files share.

use std::time::{Duration, Instant};

/// The text between the first `start` and the next `end`.
pub fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = s.find(start)? + start.len();
    let j = s[i..].find(end)? + i;
    Some(&s[i..j])
}

/// Texts a library, database, driver or panic message would contain; none
/// may reach a visitor (compared without regard to case).
pub const LEAKS: &[&str] = &[
    "sqlx",
    "pool timed out",
    "PoolTimedOut",
    "error returned from database",
    "error communicating",
    "onnection refused",
    "os error",
    "SQLSTATE",
    "syntax error",
    "no such table",
    "postgres",
    "sqlite",
    "database is locked",
    "busy",
    "broken pipe",
    "unexpected eof",
    "panicked",
    "stack backtrace",
    "RUST_BACKTRACE",
    "thread '",
    "Failed to deserialize",
    "multer",
];

/// Fails when `body` (the answer to `what`) carries any of [`LEAKS`].
pub fn assert_no_leak(what: &str, body: &str) {
    let lower = body.to_lowercase();
    for leak in LEAKS {
        assert!(
            !lower.contains(&leak.to_lowercase()),
            "{what}: the answer leaks `{leak}`:\n{body}"
        );
    }
}

/// Polls `check` every 50 ms until it holds; panics with `what` after `limit`.
pub async fn eventually<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let until = Instant::now() + limit;
    loop {
        if check().await {
            return;
        }
        assert!(Instant::now() < until, "not within {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
