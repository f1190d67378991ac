//! Connected apps (issue 19, item 4) against the real server: the OAuth 2.0
//! Device Authorization Grant end to end with a real HTTP client, personal
//! tokens, the case-service JSON contract, and the attacks (another
//! person's case, brute-forced user codes, officers, tokens after a
//! password reset, secrets in logs).

mod common;

use std::sync::{Arc, Mutex, OnceLock};

use casegate::auth::account::Role;
use common::{Browser, TestApp, location, sign_in_demo, spawn_app};
use serde_json::Value;

const MARIA: &str = "maria.nunez@example.com";
const MINE: &str = "EAC9999103403";
const THEIRS: &str = "LIN9999106498";

/// Every log line the servers of this test binary write.
fn logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || Writer(sink.clone()))
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        buf
    })
    .clone()
}

struct Writer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Writer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn app() -> TestApp {
    logs();
    spawn_app().await
}

async fn account_id(app: &TestApp, email: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM accounts WHERE email = $1")
        .bind(email)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn link(app: &TestApp, receipt: &str, account: i64) {
    sqlx::query("UPDATE cases SET account_id = $1 WHERE receipt_number = $2")
        .bind(account)
        .bind(receipt)
        .execute(app.db.pool())
        .await
        .unwrap();
}

async fn audited(app: &TestApp, action: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE action = $1")
        .bind(action)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

/// Maria, signed in, with `MINE` linked to her account.
async fn maria(app: &TestApp) -> Browser {
    let id = account_id(app, MARIA).await;
    link(app, MINE, id).await;
    sign_in_demo(app, MARIA).await
}

/// Creates a personal token on Connected apps; returns it.
async fn personal_token(b: &Browser, name: &str, expiry: &str) -> String {
    let r = b
        .post(
            "/account/security/apps/tokens",
            &[("name", name), ("expiry", expiry)],
        )
        .await;
    assert_eq!(r.status(), 201);
    let html = r.text().await.unwrap();
    let i = html.find("cgp_").expect("the new token is shown");
    html[i..i + 44].to_string()
}

async fn bearer(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.http
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn device_authorization(app: &TestApp, client_id: &str) -> Value {
    let r = app
        .http
        .post(app.url("/oauth/device_authorization"))
        .form(&[("client_id", client_id), ("scope", "cases:read")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    r.json().await.unwrap()
}

async fn poll(app: &TestApp, client_id: &str, device_code: &str) -> (u16, Value) {
    let r = app
        .http
        .post(app.url("/oauth/accesstoken"))
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("client_id", client_id),
            ("device_code", device_code),
        ])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn device_grant_end_to_end() {
    let app = app().await;
    let (client_id, _secret) = app.api_client(10, false).await;
    let d = device_authorization(&app, &client_id).await;
    for field in [
        "device_code",
        "user_code",
        "verification_uri",
        "verification_uri_complete",
    ] {
        assert!(d[field].is_string(), "{field}: {d}");
    }
    assert_eq!(d["expires_in"], 900);
    assert_eq!(d["interval"], 5);
    let user_code = d["user_code"].as_str().unwrap().to_string();
    let device_code = d["device_code"].as_str().unwrap().to_string();
    assert_eq!(user_code.len(), 9);
    assert!(
        user_code
            .chars()
            .all(|c| c == '-' || "BCDFGHJKLMNPQRSTVWXZ".contains(c)),
        "{user_code}"
    );
    assert!(d["verification_uri"].as_str().unwrap().ends_with("/device"));
    let complete = d["verification_uri_complete"].as_str().unwrap();
    assert!(complete.ends_with(&format!("/device?user_code={user_code}")));

    // Nobody has answered yet; polling faster than the interval slows down.
    let (status, body) = poll(&app, &client_id, &device_code).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("authorization_pending"))
    );
    let (status, body) = poll(&app, &client_id, &device_code).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("slow_down")));
    app.clock.advance_secs(6);
    let (_, body) = poll(&app, &client_id, &device_code).await;
    assert_eq!(body["error"], "slow_down", "the interval grew by 5 s");
    // Each slow_down adds 5 s: now 15.
    app.clock.advance_secs(16);
    let (_, body) = poll(&app, &client_id, &device_code).await;
    assert_eq!(body["error"], "authorization_pending");
    // Another app cannot use this device code.
    let (other_id, _) = app.api_client(10, false).await;
    let (status, body) = poll(&app, &other_id, &device_code).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // The person opens the link signed out: sent to sign in, back here after.
    let b = app.browser();
    let path = format!("/device?user_code={user_code}");
    let r = b.get(&path).await;
    assert_eq!(location(&r), "/sign-in?why=required");
    assert_eq!(
        b.cookie("__Host-casegate_next").as_deref(),
        Some(path.as_str()),
        "the sign-in returns to the code"
    );
    link(&app, MINE, account_id(&app, MARIA).await).await;
    let r = b
        .post(
            "/sign-in",
            &[
                ("email", MARIA),
                ("password", casegate::demo::DEMO_PASSWORD),
            ],
        )
        .await;
    assert_eq!(location(&r), "/sign-in/two-step");
    app.clock.advance_secs(30);
    let secret = casegate::auth::totp::TotpSecret::from_bytes(b"casegate-demo-totp!!").unwrap();
    let totp = casegate::auth::totp::code_at(
        &secret,
        casegate::auth::totp::step_of(app.clock.now().timestamp()),
    );
    let r = b.post("/sign-in/two-step", &[("code", &totp)]).await;
    assert_eq!(
        location(&r),
        path,
        "back to the code after two-step verification"
    );
    let (status, html) = b.text(&path).await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!("value=\"{user_code}\"")),
        "prefilled"
    );
    let r = b
        .post("/device", &[("user_code", &user_code.to_lowercase())])
        .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("test tracker asks for access"), "{html}");
    assert!(html.contains("Read the status of your cases"));
    let r = b
        .post(
            "/device/decide",
            &[("user_code", &user_code), ("decision", "approve")],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(audited(&app, "apps.device_approved").await, 1);

    app.clock.advance_secs(20);
    let (status, body) = poll(&app, &client_id, &device_code).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap().to_string();
    assert!(token.starts_with("cgd_"));
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "cases:read");
    assert!(body["expires_in"].is_i64());
    // Single use.
    app.clock.advance_secs(20);
    let (status, body) = poll(&app, &client_id, &device_code).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // The app reads Maria's cases, and is listed on Connected apps.
    let r = bearer(&app, &token, "/account/case-service/api/cases").await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["data"][0]["receiptNumber"], MINE);
    let (_, html) = b.text("/account/security/apps").await;
    assert!(html.contains("test tracker") && html.contains("App (connected with a code)"));
    assert_eq!(audited(&app, "apps.device_token_issued").await, 1);
    assert_eq!(audited(&app, "apps.token_first_used").await, 1);
}

#[tokio::test]
async fn device_grant_denied_expired_and_unknown_client() {
    let app = app().await;
    let (client_id, _) = app.api_client(10, false).await;
    let b = maria(&app).await;
    // Denied.
    let d = device_authorization(&app, &client_id).await;
    let code = d["user_code"].as_str().unwrap();
    let r = b
        .post(
            "/device/decide",
            &[("user_code", code), ("decision", "deny")],
        )
        .await;
    assert_eq!(r.status(), 200);
    let (status, body) = poll(&app, &client_id, d["device_code"].as_str().unwrap()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("access_denied"))
    );
    // A denied code cannot be approved afterwards.
    let r = b
        .post(
            "/device/decide",
            &[("user_code", code), ("decision", "approve")],
        )
        .await;
    assert_eq!(r.status(), 422);
    // Expired after 15 minutes, for the app and for the person.
    let d = device_authorization(&app, &client_id).await;
    app.clock.advance_secs(901);
    let (status, body) = poll(&app, &client_id, d["device_code"].as_str().unwrap()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("expired_token"))
    );
    let b = sign_in_demo(&app, MARIA).await;
    let r = b
        .post(
            "/device",
            &[("user_code", d["user_code"].as_str().unwrap())],
        )
        .await;
    assert_eq!(r.status(), 422);
    // Only registered clients may ask, and only for reading.
    let r = app
        .http
        .post(app.url("/oauth/device_authorization"))
        .form(&[("client_id", "made-up-app")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "invalid_client");
    let r = app
        .http
        .post(app.url("/oauth/device_authorization"))
        .form(&[("client_id", client_id.as_str()), ("scope", "cases:write")])
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "invalid_scope");
    let (status, body) = poll(&app, &client_id, "no-such-code").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn guessing_user_codes_is_rate_limited() {
    let app = app().await;
    let (client_id, _) = app.api_client(10, false).await;
    let b = maria(&app).await;
    let d = device_authorization(&app, &client_id).await;
    let real = d["user_code"].as_str().unwrap().to_string();
    // An attacker walking the code space from a signed-in account.
    let mut refused = 0;
    for i in 0..12 {
        let guess = format!(
            "BBBB-BB{}",
            [
                "BC", "BD", "BF", "BG", "BH", "BJ", "BK", "BL", "BM", "BN", "BP", "BQ"
            ][i]
        );
        if guess == real {
            continue;
        }
        let r = b.post("/device", &[("user_code", &guess)]).await;
        if r.status() == 429 {
            refused += 1;
        } else {
            assert_eq!(r.status(), 422);
        }
    }
    assert!(
        refused >= 1,
        "the 11th wrong code within the hour is refused"
    );
    // Even the right code is not checked while the limit holds.
    let r = b.post("/device", &[("user_code", &real)]).await;
    assert_eq!(r.status(), 429);
    let r = b
        .post(
            "/device/decide",
            &[("user_code", &real), ("decision", "approve")],
        )
        .await;
    assert_eq!(r.status(), 429);
    assert!(audited(&app, "apps.device_code_refused").await >= 11);
    // An hour later the person can go on.
    app.clock.advance_secs(3_601);
    let b = sign_in_demo(&app, MARIA).await;
    let d = device_authorization(&app, &client_id).await;
    let r = b
        .post(
            "/device",
            &[("user_code", d["user_code"].as_str().unwrap())],
        )
        .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn personal_token_lifecycle() {
    let app = app().await;
    let b = maria(&app).await;
    let (status, html) = b.text("/account/security").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("/account/security/apps"),
        "linked from Security"
    );
    // Bad input is explained.
    let r = b
        .post(
            "/account/security/apps/tokens",
            &[("name", " "), ("expiry", "9999")],
        )
        .await;
    assert_eq!(r.status(), 422);
    let token = personal_token(&b, "My spreadsheet", "30").await;
    assert!(token.starts_with("cgp_"));
    assert_eq!(audited(&app, "apps.token_created").await, 1);
    // Stored as a keyed hash only.
    let stored: Vec<u8> = sqlx::query_scalar("SELECT token_hash FROM applicant_tokens")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(stored.len(), 32);
    assert_ne!(stored, casegate::crypto::sha256(token.as_bytes()).to_vec());
    // Shown once: the list does not show it again.
    let (_, html) = b.text("/account/security/apps").await;
    assert!(!html.contains(&token));
    assert!(html.contains("My spreadsheet") && html.contains("Not used yet"));
    // Used: the first use is audited, the list shows the last use.
    let r = bearer(
        &app,
        &token,
        &format!("/account/case-service/api/cases/{MINE}"),
    )
    .await;
    assert_eq!(r.status(), 200);
    app.clock.advance_secs(120);
    assert_eq!(
        bearer(&app, &token, "/account/case-service/api/cases")
            .await
            .status(),
        200
    );
    assert_eq!(audited(&app, "apps.token_first_used").await, 1);
    let (_, html) = b.text("/account/security/apps").await;
    assert!(!html.contains("Not used yet"));
    // Revoked after a confirmation step.
    let i = html.find("/account/security/apps/tokens/").unwrap();
    let rest = &html[i..];
    let revoke = &rest[..rest.find('"').unwrap()];
    let (status, confirm) = b.text(revoke).await;
    assert_eq!(status, 200);
    assert!(confirm.contains("My spreadsheet"));
    let r = b.post(revoke, &[]).await;
    assert_eq!(location(&r), "/account/security/apps?done=revoked");
    assert_eq!(audited(&app, "apps.token_revoked").await, 1);
    let r = bearer(&app, &token, "/account/case-service/api/cases").await;
    assert_eq!(r.status(), 401);
    let challenge = r.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Bearer") && challenge.contains("invalid_token"));
    // Another account cannot revoke (or see) a token that is not its own.
    let t2 = personal_token(&b, "Second", "30").await;
    let other = common::enrolled_account(&app, "bea@example.com", Role::Applicant).await;
    let id: i64 = sqlx::query_scalar("SELECT MAX(id) FROM applicant_tokens")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let path = format!("/account/security/apps/tokens/{id}/revoke");
    assert_eq!(other.get(&path).await.status(), 404);
    assert_eq!(other.post(&path, &[]).await.status(), 404);
    assert_eq!(
        bearer(&app, &t2, "/account/case-service/api/cases")
            .await
            .status(),
        200
    );
    // Tokens expire.
    app.clock.advance_secs(31 * 86_400);
    assert_eq!(
        bearer(&app, &t2, "/account/case-service/api/cases")
            .await
            .status(),
        401
    );
    // Housekeeping forgets them 30 days after they ended.
    app.clock.advance_secs(31 * 86_400);
    casegate::api_guard::applicant::store::purge(&app.db, app.clock.now().timestamp())
        .await
        .unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM applicant_tokens").await, 0);
}

#[tokio::test]
async fn case_service_contract() {
    let app = app().await;
    let b = maria(&app).await;
    let token = personal_token(&b, "contract", "90").await;
    let r = bearer(
        &app,
        &token,
        &format!("/account/case-service/api/cases/{MINE}"),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let v: Value = r.json().await.unwrap();
    let d = &v["data"];
    let obj = d.as_object().unwrap();
    for (field, is_string) in [
        ("receiptNumber", true),
        ("formType", true),
        ("formName", true),
        ("submissionDate", true),
        ("updatedAt", true),
        ("applicantName", true),
    ] {
        assert_eq!(obj[field].is_string(), is_string, "{field}: {d}");
    }
    assert_eq!(d["receiptNumber"], MINE);
    assert!(d["events"].is_array() && d["notices"].is_array());
    let events = d["events"].as_array().unwrap();
    assert!(!events.is_empty(), "{d}");
    for e in events {
        let e = e.as_object().unwrap();
        assert!(e["eventCode"].is_string());
        let day = e["createdAt"].as_str().unwrap();
        assert_eq!(day.len(), 10, "YYYY-MM-DD: {day}");
        let ts = e["createdAtTimestamp"].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(ts).is_ok(),
            "RFC 3339: {ts}"
        );
        assert!(ts.starts_with(day));
    }
    for n in d["notices"].as_array().unwrap() {
        assert!(n["actionType"].is_string(), "{n}");
    }
    assert!(
        chrono::NaiveDate::parse_from_str(d["submissionDate"].as_str().unwrap(), "%Y-%m-%d")
            .is_ok()
    );
    assert!(chrono::DateTime::parse_from_rfc3339(d["updatedAt"].as_str().unwrap()).is_ok());
    // The list has the same shape.
    let list: Value = bearer(&app, &token, "/account/case-service/api/cases")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0], *d);
    // The signed-in browser session reads the same answer.
    let (status, text) = b
        .text(&format!("/account/case-service/api/cases/{MINE}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), v);
    // Nobody: 401 with the RFC 6750 challenge.
    let r = app.get("/account/case-service/api/cases").await;
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    // An API client's token is not an applicant's.
    let api = app.token(10, false).await;
    assert_eq!(
        bearer(&app, &api, "/account/case-service/api/cases")
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn a_token_reads_only_its_owners_cases() {
    let app = app().await;
    let a = maria(&app).await;
    let token = personal_token(&a, "A", "30").await;
    let bea = common::enrolled_account(&app, "bea@example.com", Role::Applicant).await;
    link(&app, THEIRS, account_id(&app, "bea@example.com").await).await;
    let theirs = bearer(
        &app,
        &token,
        &format!("/account/case-service/api/cases/{THEIRS}"),
    )
    .await;
    let unknown = bearer(
        &app,
        &token,
        "/account/case-service/api/cases/EAC0000000000",
    )
    .await;
    assert_eq!(theirs.status(), 404);
    assert_eq!(unknown.status(), 404);
    assert_eq!(theirs.text().await.unwrap(), unknown.text().await.unwrap());
    assert!(
        audited(&app, "authz.refused").await >= 1,
        "the attempt is audited"
    );
    let list: Value = bearer(&app, &token, "/account/case-service/api/cases")
        .await
        .json()
        .await
        .unwrap();
    assert!(!list.to_string().contains(THEIRS));
    // The same through the browser session.
    assert_eq!(
        a.get(&format!("/account/case-service/api/cases/{THEIRS}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        bea.get(&format!("/account/case-service/api/cases/{THEIRS}"))
            .await
            .status(),
        200
    );
    // A 1367-protected case answers like an unknown one, even to its owner's token.
    let protected: String = sqlx::query_scalar(
        "SELECT c.receipt_number FROM cases c JOIN persons p ON p.id = c.person_id WHERE p.protected = 1",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    link(&app, &protected, account_id(&app, MARIA).await).await;
    app.state.status_cache.forget(&protected);
    let r = bearer(
        &app,
        &token,
        &format!("/account/case-service/api/cases/{protected}"),
    )
    .await;
    assert_eq!(r.status(), 404);
    let list: Value = bearer(&app, &token, "/account/case-service/api/cases")
        .await
        .json()
        .await
        .unwrap();
    assert!(!list.to_string().contains(&protected));
}

#[tokio::test]
async fn tokens_die_with_a_password_reset_and_sign_out_everywhere() {
    let app = app().await;
    let (client_id, _) = app.api_client(10, false).await;
    let b = maria(&app).await;
    let token = personal_token(&b, "before reset", "365").await;
    // An approval the app has not picked up yet.
    let d = device_authorization(&app, &client_id).await;
    b.post(
        "/device/decide",
        &[
            ("user_code", d["user_code"].as_str().unwrap()),
            ("decision", "approve"),
        ],
    )
    .await;
    assert_eq!(
        bearer(&app, &token, "/account/case-service/api/cases")
            .await
            .status(),
        200
    );
    // A reset by email.
    let visitor = app.browser();
    visitor.post("/forgot-password", &[("email", MARIA)]).await;
    let code = reset_code(&app).await;
    let r = visitor
        .post(
            "/forgot-password/reset",
            &[
                ("email", MARIA),
                ("code", &code),
                ("password", "amber glacier teacup orchestra"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        bearer(&app, &token, "/account/case-service/api/cases")
            .await
            .status(),
        401
    );
    app.clock.advance_secs(10);
    let (_, body) = poll(&app, &client_id, d["device_code"].as_str().unwrap()).await;
    assert_eq!(body["error"], "access_denied", "the approval ended too");
    assert_eq!(audited(&app, "apps.tokens_revoked_all").await, 1);

    // "Sign out everywhere" ends them as well.
    let b = app.browser();
    let r = b
        .post(
            "/sign-in",
            &[
                ("email", MARIA),
                ("password", "amber glacier teacup orchestra"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/sign-in/two-step");
    app.clock.advance_secs(30);
    let secret = casegate::auth::totp::TotpSecret::from_bytes(b"casegate-demo-totp!!").unwrap();
    let code = casegate::auth::totp::code_at(
        &secret,
        casegate::auth::totp::step_of(app.clock.now().timestamp()),
    );
    b.post("/sign-in/two-step", &[("code", &code)]).await;
    let token = personal_token(&b, "after reset", "30").await;
    assert_eq!(
        bearer(&app, &token, "/account/case-service/api/cases")
            .await
            .status(),
        200
    );
    b.post("/account/security/sessions/revoke-all", &[]).await;
    assert_eq!(
        bearer(&app, &token, "/account/case-service/api/cases")
            .await
            .status(),
        401
    );
}

/// The reset code Maria was emailed (through the real outbox).
async fn reset_code(app: &TestApp) -> String {
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let cfg = casegate::outbox::OutboxConfig::from_config(&app.config);
    let transport = casegate::outbox::Transport::from_config(&cfg).unwrap();
    casegate::outbox::run_once(
        &app.db,
        &app.secrets,
        &transport,
        &cfg,
        app.clock.now().timestamp(),
    )
    .await
    .unwrap();
    let mut files: Vec<_> = std::fs::read_dir(app.data_dir.join("outbox"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mail = files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .rfind(|m| m.contains(&format!("To: {MARIA}")))
        .expect("a reset email");
    let mail = mail.replace("=\r\n", "").replace("=\n", "");
    let i = mail.find("code is:").expect("a code") + "code is:".len();
    mail[i..]
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect()
}

#[tokio::test]
async fn officers_cannot_connect_apps() {
    let app = app().await;
    let officer = sign_in_demo(&app, "admin@agency.example").await;
    let r = officer
        .post(
            "/account/security/apps/tokens",
            &[("name", "console scraper"), ("expiry", "30")],
        )
        .await;
    assert_eq!(r.status(), 403);
    assert_eq!(officer.get("/account/security/apps").await.status(), 403);
    assert_eq!(officer.get("/device").await.status(), 403);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM applicant_tokens").await,
        0,
        "nothing was created"
    );
    // The case service refuses an officer's session too.
    assert_eq!(
        officer
            .get("/account/case-service/api/cases")
            .await
            .status(),
        403
    );
    assert!(audited(&app, "authz.refused").await >= 3);
    // A token made for an applicant stops working if the account becomes
    // an officer's.
    let b = maria(&app).await;
    let token = personal_token(&b, "t", "30").await;
    sqlx::query("UPDATE accounts SET role = 'adjudicator' WHERE email = $1")
        .bind(MARIA)
        .execute(app.db.pool())
        .await
        .unwrap();
    assert_eq!(
        bearer(&app, &token, "/account/case-service/api/cases")
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn no_token_or_code_reaches_the_logs() {
    let app = app().await;
    let (client_id, _) = app.api_client(10, false).await;
    let b = maria(&app).await;
    let token = personal_token(&b, "logged?", "30").await;
    bearer(&app, &token, "/account/case-service/api/cases").await;
    bearer(
        &app,
        &format!("{token}x"),
        "/account/case-service/api/cases",
    )
    .await;
    let d = device_authorization(&app, &client_id).await;
    let user_code = d["user_code"].as_str().unwrap().to_string();
    let device_code = d["device_code"].as_str().unwrap().to_string();
    b.get(&format!("/device?user_code={user_code}")).await;
    b.post("/device", &[("user_code", &user_code)]).await;
    b.post(
        "/device/decide",
        &[("user_code", &user_code), ("decision", "approve")],
    )
    .await;
    app.clock.advance_secs(10);
    let (_, body) = poll(&app, &client_id, &device_code).await;
    let issued = body["access_token"].as_str().unwrap().to_string();
    bearer(&app, &issued, "/account/case-service/api/cases").await;
    let logs = String::from_utf8_lossy(&logs().lock().unwrap()).into_owned();
    assert!(!logs.is_empty(), "the servers log");
    for secret in [
        &token,
        &device_code,
        &issued,
        &user_code,
        &user_code.replace('-', ""),
    ] {
        assert!(!logs.contains(secret.as_str()), "a secret in the logs");
    }
    // Nor in the audit log.
    let details: Vec<String> = sqlx::query_scalar("SELECT detail FROM audit_events")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    for d in details {
        assert!(!d.contains("cgp_") && !d.contains("cgd_") && !d.contains(&user_code));
    }
}

#[tokio::test]
async fn creating_a_token_needs_a_recent_sign_in() {
    let app = app().await;
    let b = maria(&app).await;
    app.clock.advance_secs(10 * 60);
    assert_eq!(b.get("/account/security/apps").await.status(), 200);
    app.clock.advance_secs(10 * 60);
    let r = b
        .post(
            "/account/security/apps/tokens",
            &[("name", "stale"), ("expiry", "30")],
        )
        .await;
    assert_eq!(location(&r), "/account/reauth?next=apps");
    assert_eq!(app.count("SELECT COUNT(*) FROM applicant_tokens").await, 0);
    app.clock.advance_secs(30);
    let secret = casegate::auth::totp::TotpSecret::from_bytes(b"casegate-demo-totp!!").unwrap();
    let code = casegate::auth::totp::code_at(
        &secret,
        casegate::auth::totp::step_of(app.clock.now().timestamp()),
    );
    let r = b
        .post(
            "/account/reauth",
            &[
                ("password", casegate::demo::DEMO_PASSWORD),
                ("code", &code),
                ("next", "apps"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/account/security/apps");
    personal_token(&b, "fresh", "30").await;
}
