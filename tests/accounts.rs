//! Accounts over HTTP against the real server: sign-up → confirm from the
//! email → TOTP enrolment (codes computed with the injected clock) → sign-in,
//! backup codes, throttling, sessions, recovery, enumeration, CSRF.

mod common;

use casegate::auth::session::hash_id;
use casegate::auth::{open_totp, totp};
use common::{Browser, Options, TestApp, spawn_with};

const PASSWORD: &str = "violet harbor pencil thunder";
const NEW_PASSWORD: &str = "amber glacier teacup orchestra";

fn opts() -> Options {
    Options {
        demo: false,
        extra: vec![("CASEGATE_PUBLIC_URL", "https://portal.example.org")],
        ..Options::default()
    }
}

async fn deliver(app: &TestApp) {
    // Some emails are queued just after the answer (forgot-password): let
    // such work finish first.
    let mut last = -1;
    loop {
        let n = app.count("SELECT COUNT(*) FROM outbox").await
            + app.count("SELECT COUNT(*) FROM audit_events").await;
        if n == last {
            break;
        }
        last = n;
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
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
}

/// All delivered emails to `to`, oldest first (decoded text).
fn mails_to(app: &TestApp, to: &str) -> Vec<String> {
    let mut files: Vec<_> = std::fs::read_dir(app.data_dir.join("outbox"))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .filter(|m| m.contains(&format!("To: {to}")))
        .map(|m| decode_qp(&m))
        .collect()
}

/// The newest email to `to` once there are more than `before` (the email is
/// queued in the background just after the answer, later under load).
async fn next_mail_to(app: &TestApp, to: &str, before: usize) -> String {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        deliver(app).await;
        let mut mails = mails_to(app, to);
        if mails.len() > before {
            return mails.pop().unwrap_or_default();
        }
        assert!(std::time::Instant::now() < until, "no new email to {to}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

fn decode_qp(m: &str) -> String {
    // Quoted-printable soft breaks and =XX escapes (enough for ASCII codes).
    let m = m.replace("=\r\n", "").replace("=\n", "");
    let mut out = Vec::new();
    let b = m.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'='
            && i + 2 < b.len()
            && let Ok(v) =
                u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn code_after(text: &str, marker: &str) -> String {
    let i = text
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker:?} in {text}"))
        + marker.len();
    text[i..]
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect()
}

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// Signs up, confirms and enrols; returns the visitor (fully signed in) and the TOTP secret.
async fn enrolled(app: &TestApp, email: &str) -> (Browser, totp::TotpSecret, Vec<String>) {
    let b = app.browser();
    let r = b
        .post("/sign-up", &[("email", email), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    deliver(app).await;
    let mail = mails_to(app, email).pop().expect("a confirmation email");
    let code = code_after(&mail, "code is:");
    assert_eq!(code.len(), 8);
    let r = b
        .post("/sign-up/confirm", &[("email", email), ("code", &code)])
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/two-step/setup");
    let (status, page) = b.text("/two-step/setup").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("data:image/svg+xml;base64,"),
        "a QR code drawn by casegate"
    );
    // The pending secret, read the way the server holds it.
    let raw = b.cookie("__Host-casegate_session").unwrap();
    let (account_id, sealed): (i64, Vec<u8>) =
        sqlx::query_as("SELECT account_id, pending_totp_sealed FROM sessions WHERE id_hash = $1")
            .bind(hash_id(&app.secrets, &raw))
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    let secret = open_totp(&app.secrets, account_id, &sealed).unwrap();
    assert!(
        page.contains(&secret.base32_grouped()),
        "the text key is shown too"
    );
    let now = app.clock.now().timestamp();
    let wrong = b.post("/two-step/setup", &[("code", "000000")]).await;
    assert_eq!(wrong.status(), 422);
    let code = totp::code_at(&secret, totp::step_of(now));
    let r = b.post("/two-step/setup", &[("code", &code)]).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("Save your backup codes"));
    let codes: Vec<String> = page
        .split("<code>")
        .skip(1)
        .map(|s| s.split("</code>").next().unwrap().to_string())
        .collect();
    assert_eq!(codes.len(), 10);
    assert_ne!(
        b.cookie("__Host-casegate_session").unwrap(),
        raw,
        "a new session id once fully signed in"
    );
    (b, secret, codes)
}

async fn sign_in_password(
    app: &TestApp,
    email: &str,
    password: &str,
) -> (Browser, reqwest::Response) {
    let b = app.browser();
    let r = b
        .post("/sign-in", &[("email", email), ("password", password)])
        .await;
    (b, r)
}

#[tokio::test]
async fn sign_up_confirm_enrol_then_sign_in_with_two_steps() {
    let app = spawn_with(opts()).await;
    let (b, secret, _) = enrolled(&app, "ana@example.com").await;
    let (status, page) = b.text("/account").await;
    assert_eq!(status, 200);
    let number: String = sqlx::query_scalar(
        "SELECT account_number FROM accounts WHERE email_key = 'ana@example.com'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(number.len(), 12);
    assert!(page.contains(&format!(
        "{}-{}-{}",
        &number[..4],
        &number[4..8],
        &number[8..]
    )));

    // Sign out, then sign in again: password, then the second factor.
    assert_eq!(b.post("/sign-out", &[]).await.status(), 303);
    assert_eq!(location(&b.get("/account").await), "/sign-in?why=required");
    let (b, r) = sign_in_password(&app, "ana@example.com", PASSWORD).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/sign-in/two-step");
    assert_eq!(
        location(&b.get("/account").await),
        "/sign-in/two-step",
        "no account before the second factor"
    );
    // The enrolment code cannot be used again (same step): replay refused.
    let now = app.clock.now().timestamp();
    let same = totp::code_at(&secret, totp::step_of(now));
    assert_eq!(
        b.post("/sign-in/two-step", &[("code", &same)])
            .await
            .status(),
        422
    );
    app.clock.advance_secs(30);
    let next = totp::code_at(&secret, totp::step_of(app.clock.now().timestamp()));
    let r = b.post("/sign-in/two-step", &[("code", &next)]).await;
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, "/account".to_string())
    );
    assert_eq!(b.get("/account").await.status(), 200);
    // And that code is spent now too.
    let (b2, _) = sign_in_password(&app, "ana@example.com", PASSWORD).await;
    assert_eq!(
        b2.post("/sign-in/two-step", &[("code", &next)])
            .await
            .status(),
        422
    );
}

#[tokio::test]
async fn session_cookies_are_host_only_secure_httponly_lax_and_change_at_sign_in() {
    let app = spawn_with(opts()).await;
    let (_b, secret, _) = enrolled(&app, "cookie@example.com").await;
    let (b, r) = sign_in_password(&app, "cookie@example.com", PASSWORD).await;
    let first = b.cookie("__Host-casegate_session").unwrap();
    let set = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect::<Vec<_>>();
    let c = set
        .iter()
        .find(|c| c.starts_with("__Host-casegate_session="))
        .unwrap();
    for attr in ["Path=/", "Secure", "HttpOnly", "SameSite=Lax"] {
        assert!(c.contains(attr), "{c}");
    }
    assert!(!c.contains("Domain="));
    assert_eq!(first.len(), 64, "256-bit id");
    // Stored hashed only.
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE id_hash = $1")
        .bind(first.as_bytes().to_vec())
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(stored, 0);
    app.clock.advance_secs(30);
    let code = totp::code_at(&secret, totp::step_of(app.clock.now().timestamp()));
    b.post("/sign-in/two-step", &[("code", &code)]).await;
    assert_ne!(b.cookie("__Host-casegate_session").unwrap(), first);
    // The old (password-only) id is dead.
    let old = app.browser();
    old.set_cookie("__Host-casegate_session", &first);
    assert_eq!(location(&old.get("/sign-in/two-step").await), "/sign-in");
}

#[tokio::test]
async fn backup_codes_work_once_each() {
    let app = spawn_with(opts()).await;
    let (_b, _secret, codes) = enrolled(&app, "backup@example.com").await;
    let (b, _) = sign_in_password(&app, "backup@example.com", PASSWORD).await;
    let r = b
        .post(
            "/sign-in/two-step",
            &[("backup_code", &codes[3].to_lowercase())],
        )
        .await;
    assert_eq!(location(&r), "/account");
    let (b, _) = sign_in_password(&app, "backup@example.com", PASSWORD).await;
    assert_eq!(
        b.post("/sign-in/two-step", &[("backup_code", &codes[3])])
            .await
            .status(),
        422
    );
    let (b, _) = sign_in_password(&app, "backup@example.com", PASSWORD).await;
    assert_eq!(
        location(
            &b.post("/sign-in/two-step", &[("backup_code", &codes[4])])
                .await
        ),
        "/account"
    );
}

#[tokio::test]
async fn ten_failed_passwords_need_an_emailed_unlock_code() {
    let app = spawn_with(opts()).await;
    enrolled(&app, "lock@example.com").await;
    for i in 0..10 {
        let (_, r) = sign_in_password(&app, "lock@example.com", "wrong password here").await;
        assert_eq!(r.status(), 422, "attempt {i}");
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("The email or password you entered is not right")
        );
        app.clock.advance_secs(61); // past any per-address delay
    }
    // The right password alone is not checked any more, and time alone
    // changes nothing: nobody is "locked until".
    app.clock.advance_secs(3_600);
    let (b, r) = sign_in_password(&app, "lock@example.com", PASSWORD).await;
    assert_eq!(r.status(), 429);
    let page = r.text().await.unwrap();
    assert!(page.contains("Email me an unlock code"), "{page}");
    assert!(!page.contains("account is locked"), "{page}");
    let r = b
        .post("/sign-in/unlock", &[("email", "lock@example.com")])
        .await;
    assert_eq!(r.status(), 200);
    deliver(&app).await;
    let code = code_after(
        &mails_to(&app, "lock@example.com").pop().unwrap(),
        "unlock code is:",
    );
    // A wrong code is refused (and does not burn the right one).
    let r = b
        .post(
            "/sign-in",
            &[
                ("email", "lock@example.com"),
                ("password", PASSWORD),
                ("unlock_code", "12345678"),
            ],
        )
        .await;
    assert_eq!(r.status(), 429);
    assert!(r.text().await.unwrap().contains("unlock code is not right"));
    app.clock.advance_secs(61); // a wrong code slows this address down too
    let r = b
        .post(
            "/sign-in",
            &[
                ("email", "lock@example.com"),
                ("password", PASSWORD),
                ("unlock_code", &code),
            ],
        )
        .await;
    assert_eq!(location(&r), "/sign-in/two-step");
    // Single use; the password alone works again after a success.
    let (_, r) = sign_in_password(&app, "lock@example.com", PASSWORD).await;
    assert_eq!(location(&r), "/sign-in/two-step");
}

#[tokio::test]
async fn repeated_failures_from_one_address_must_wait() {
    let app = spawn_with(opts()).await;
    enrolled(&app, "slow@example.com").await;
    for _ in 0..4 {
        sign_in_password(&app, "slow@example.com", "wrong password here").await;
    }
    let (_, r) = sign_in_password(&app, "slow@example.com", PASSWORD).await;
    assert_eq!(r.status(), 429);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Too many attempts. Wait until")
    );
    app.clock.advance_secs(3);
    let (_, r) = sign_in_password(&app, "slow@example.com", PASSWORD).await;
    assert_eq!(location(&r), "/sign-in/two-step");
}

fn normalise(html: &str, email: &str) -> String {
    let mut s = html.replace(email, "EMAIL");
    while let Some(i) = s.find("name=\"csrf\" value=\"") {
        let start = i + "name=\"csrf\" value=\"".len();
        let end = s[start..].find('"').unwrap() + start;
        s.replace_range(i..end, "CSRF");
    }
    s
}

#[tokio::test]
async fn sign_up_and_reset_never_reveal_whether_an_email_is_registered() {
    let app = spawn_with(opts()).await;
    enrolled(&app, "taken@example.com").await;
    let b = app.browser();
    let taken = b
        .post(
            "/sign-up",
            &[("email", "taken@example.com"), ("password", PASSWORD)],
        )
        .await;
    let free = b
        .post(
            "/sign-up",
            &[("email", "free@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(taken.status(), free.status());
    assert_eq!(
        normalise(&taken.text().await.unwrap(), "taken@example.com"),
        normalise(&free.text().await.unwrap(), "free@example.com")
    );
    deliver(&app).await;
    let mails = mails_to(&app, "taken@example.com");
    assert!(
        mails.last().unwrap().contains("you already have one"),
        "the owner is told instead"
    );

    let known = b
        .post("/forgot-password", &[("email", "taken@example.com")])
        .await;
    let unknown = b
        .post("/forgot-password", &[("email", "nobody@example.com")])
        .await;
    assert_eq!(known.status(), unknown.status());
    assert_eq!(
        normalise(&known.text().await.unwrap(), "taken@example.com"),
        normalise(&unknown.text().await.unwrap(), "nobody@example.com")
    );
    let (_, wrong) = sign_in_password(&app, "taken@example.com", "not the password at all").await;
    let (_, nobody) = sign_in_password(&app, "nobody@example.com", "not the password at all").await;
    assert_eq!(wrong.status(), nobody.status());
    assert_eq!(
        normalise(&wrong.text().await.unwrap(), "taken@example.com"),
        normalise(&nobody.text().await.unwrap(), "nobody@example.com")
    );
}

#[tokio::test]
async fn a_password_reset_does_not_skip_two_step_verification() {
    let app = spawn_with(opts()).await;
    let (_b, secret, _) = enrolled(&app, "reset@example.com").await;
    let b = app.browser();
    let before = mails_to(&app, "reset@example.com").len();
    b.post("/forgot-password", &[("email", "reset@example.com")])
        .await;
    let mail = next_mail_to(&app, "reset@example.com", before).await;
    let code = code_after(&mail, "code is:");
    // Expired after 15 minutes.
    app.clock.advance_secs(16 * 60);
    let r = b
        .post(
            "/forgot-password/reset",
            &[
                ("email", "reset@example.com"),
                ("code", &code),
                ("password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let before = mails_to(&app, "reset@example.com").len();
    b.post("/forgot-password", &[("email", "reset@example.com")])
        .await;
    let code = code_after(
        &next_mail_to(&app, "reset@example.com", before).await,
        "code is:",
    );
    let r = b
        .post(
            "/forgot-password/reset",
            &[
                ("email", "reset@example.com"),
                ("code", &code),
                ("password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Your password was reset"));
    assert_eq!(
        location(&b.get("/account").await),
        "/sign-in?why=required",
        "a reset does not sign anyone in"
    );
    // Single use.
    let again = b
        .post(
            "/forgot-password/reset",
            &[
                ("email", "reset@example.com"),
                ("code", &code),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(again.status(), 422);
    let (_, r) = sign_in_password(&app, "reset@example.com", PASSWORD).await;
    assert_eq!(r.status(), 422, "the old password is gone");
    let (b, r) = sign_in_password(&app, "reset@example.com", NEW_PASSWORD).await;
    assert_eq!(
        location(&r),
        "/sign-in/two-step",
        "the second factor is still required"
    );
    app.clock.advance_secs(30);
    let code = totp::code_at(&secret, totp::step_of(app.clock.now().timestamp()));
    assert_eq!(
        location(&b.post("/sign-in/two-step", &[("code", &code)]).await),
        "/account"
    );
}

#[tokio::test]
async fn sessions_expire_list_and_can_be_revoked() {
    let app = spawn_with(opts()).await;
    let (b, secret, _) = enrolled(&app, "sess@example.com").await;
    // A second device.
    let (other, _) = sign_in_password(&app, "sess@example.com", PASSWORD).await;
    app.clock.advance_secs(30);
    let code = totp::code_at(&secret, totp::step_of(app.clock.now().timestamp()));
    other.post("/sign-in/two-step", &[("code", &code)]).await;
    let (status, page) = b.text("/account/security").await;
    assert_eq!(status, 200);
    assert_eq!(page.matches("name=\"session\"").count(), 2);
    assert!(page.contains("This session"));
    assert!(
        page.contains("Signed in") && page.contains("Two-step verification turned on"),
        "activity is listed"
    );
    // Sign out everywhere from the first device: the other one is out too.
    b.post("/account/security/sessions/revoke-all", &[]).await;
    assert_eq!(
        location(&other.get("/account").await),
        "/sign-in?why=required"
    );
    assert_eq!(location(&b.get("/account").await), "/sign-in?why=required");
    // Idle limit: 15 minutes.
    let (b, _) = sign_in_password(&app, "sess@example.com", PASSWORD).await;
    app.clock.advance_secs(30);
    let code = totp::code_at(&secret, totp::step_of(app.clock.now().timestamp()));
    b.post("/sign-in/two-step", &[("code", &code)]).await;
    app.clock.advance_secs(14 * 60);
    assert_eq!(b.get("/account").await.status(), 200);
    app.clock.advance_secs(15 * 60);
    assert_eq!(location(&b.get("/account").await), "/sign-in?why=required");
}

#[tokio::test]
async fn security_changes_need_a_recent_sign_in() {
    let app = spawn_with(opts()).await;
    let (b, secret, _) = enrolled(&app, "reauth@example.com").await;
    // Keep the session alive but let the authentication age.
    for _ in 0..4 {
        app.clock.advance_secs(5 * 60);
        assert_eq!(b.get("/account").await.status(), 200);
    }
    let r = b
        .post(
            "/account/security/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(location(&r), "/account/reauth");
    let code = totp::code_at(&secret, totp::step_of(app.clock.now().timestamp()));
    let r = b
        .post(
            "/account/reauth",
            &[("password", PASSWORD), ("code", &code)],
        )
        .await;
    assert_eq!(location(&r), "/account/security");
    let r = b
        .post(
            "/account/security/password",
            &[("current_password", PASSWORD), ("new_password", "short")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Use at least 12 characters")
    );
    let r = b
        .post(
            "/account/security/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(location(&r), "/account/security?done=password");
    let (_, r) = sign_in_password(&app, "reauth@example.com", NEW_PASSWORD).await;
    assert_eq!(location(&r), "/sign-in/two-step");
}

#[tokio::test]
async fn weak_passwords_are_explained() {
    let app = spawn_with(opts()).await;
    let b = app.browser();
    for (pw, expect) in [
        ("password1234", "too common"),
        ("short", "Use at least 12 characters"),
        ("ana.perez.2024!!", "Do not use parts of your email address"),
    ] {
        let r = b
            .post(
                "/sign-up",
                &[("email", "ana.perez@example.com"), ("password", pw)],
            )
            .await;
        assert_eq!(r.status(), 422, "{pw}");
        let page = r.text().await.unwrap();
        assert!(page.contains(expect), "{pw}: {page}");
        assert!(!page.contains(pw), "a password is never echoed back");
    }
    let r = b
        .post(
            "/sign-up",
            &[
                ("email", "ana.perez@example.com"),
                ("password", "aaaaaaaaaaaaaaaa"),
            ],
        )
        .await;
    let page = r.text().await.unwrap();
    assert!(
        page.contains("This password is too easy to guess") || page.contains("too common"),
        "{page}"
    );
    let r = b
        .post(
            "/sign-up?lang=es",
            &[
                ("email", "ana.perez@example.com"),
                ("password", "qwertyuiopasdf"),
            ],
        )
        .await;
    let page = r.text().await.unwrap();
    assert!(page.contains("contraseña"), "feedback in Spanish: {page}");
}

#[tokio::test]
async fn state_changing_requests_without_the_csrf_token_are_refused() {
    let app = spawn_with(opts()).await;
    let (b, _, _) = enrolled(&app, "csrf@example.com").await;
    let r = b
        .post_raw("/account/security/sessions/revoke-all", &[])
        .await;
    assert_eq!(r.status(), 403);
    assert_eq!(b.get("/account").await.status(), 200, "nothing happened");
    let r = b.post_raw("/sign-out", &[("csrf", "f".repeat(32))]).await;
    assert_eq!(r.status(), 403);
    // Another visitor's token does not work either.
    let eve = app.browser();
    let r = b.post_raw("/sign-out", &[("csrf", eve.csrf())]).await;
    assert_eq!(r.status(), 403);
    for path in [
        "/sign-in",
        "/sign-up",
        "/account/security",
        "/two-step/setup",
    ] {
        let r = b.get(path).await;
        let h = r.headers();
        assert!(h.get("content-security-policy").is_some(), "{path}");
        assert_eq!(h.get("x-frame-options").unwrap(), "DENY");
    }
}

#[tokio::test]
async fn officers_set_up_with_a_one_time_code_and_must_enrol() {
    use casegate::auth::account::{self, CodePurpose, Role};
    let app = spawn_with(opts()).await;
    let email = casegate::domain::Email::parse("officer@agency.example").unwrap();
    let now = app.clock.now().timestamp();
    let id = account::create(&app.db, &email, Role::Admin, None, now)
        .await
        .unwrap()
        .unwrap();
    let code = casegate::auth::new_email_code(&mut rand::rngs::OsRng);
    account::issue_email_code(
        &app.db,
        id,
        CodePurpose::OfficerSetup,
        &casegate::auth::email_code_hash(&app.secrets, id, &code),
        now,
        now + 3600,
    )
    .await
    .unwrap();
    let b = app.browser();
    let (status, page) = b
        .text(&format!(
            "/officer-setup?email=officer%40agency.example&code={code}"
        ))
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("Set up your officer account"));
    let r = b
        .post(
            "/officer-setup",
            &[
                ("email", "officer@agency.example"),
                ("code", &code),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(location(&r), "/two-step/setup", "officers enrol TOTP too");
    let again = app
        .browser()
        .post(
            "/officer-setup",
            &[
                ("email", "officer@agency.example"),
                ("code", &code),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(again.status(), 422, "the link works once");
}

// ---------------------------------------------------------------------------
// Security review (issue 16): attack tests for the authentication findings.
// ---------------------------------------------------------------------------

/// Like [`opts`], with the client address taken from `X-Test-Client-Ip` so a
/// test can act from several addresses.
fn opts_ips() -> Options {
    Options {
        demo: false,
        extra: vec![
            ("CASEGATE_PUBLIC_URL", "https://portal.example.org"),
            ("CASEGATE_CLIENT_IP_HEADER", "X-Test-Client-Ip"),
        ],
        ..Options::default()
    }
}

async fn two_step(app: &TestApp, b: &Browser, secret: &totp::TotpSecret) -> reqwest::Response {
    app.clock.advance_secs(30);
    let code = totp::code_at(secret, totp::step_of(app.clock.now().timestamp()));
    b.post("/sign-in/two-step", &[("code", &code)]).await
}

/// Finding 1: a help-desk reset leaves no usable credential; the officer
/// records the evidence checked; the owner is told, with a way to object.
#[tokio::test]
async fn a_help_desk_reset_leaves_no_usable_credential() {
    let app = spawn_with(opts()).await;
    let (victim, _secret, _) = enrolled(&app, "phished@example.com").await;
    let admin = common::enrolled_account(
        &app,
        "desk@agency.example",
        casegate::auth::account::Role::Admin,
    )
    .await;
    // Without the identity evidence, nothing happens.
    let r = admin
        .post(
            "/officer/admin",
            &[("action", "start_reset"), ("email", "phished@example.com")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Choose the identity evidence you checked")
    );
    assert_eq!(victim.get("/account").await.status(), 200, "not reset");
    let r = admin
        .post(
            "/officer/admin",
            &[
                ("action", "start_reset"),
                ("email", "phished@example.com"),
                ("evidence", "photo_id_in_person"),
                (
                    "evidence_note",
                    "Passport checked at the Newark field office",
                ),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    // Every session ended.
    assert_eq!(
        location(&victim.get("/account").await),
        "/sign-in?why=required"
    );
    // The phished password no longer signs in (and leads to no enrolment).
    let (_, r) = sign_in_password(&app, "phished@example.com", PASSWORD).await;
    assert_eq!(r.status(), 422, "the old password is dead");
    assert_ne!(location(&r), "/two-step/setup");
    // The audit log keeps the evidence.
    let detail: String = sqlx::query_scalar(
        "SELECT detail FROM audit_events WHERE action = 'account.reset_started'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert!(detail.contains("photo_id_in_person"), "{detail}");
    assert!(detail.contains("Passport checked"), "{detail}");
    // The owner is told, with a "this was not me" path, and gets the code.
    deliver(&app).await;
    let mails = mails_to(&app, "phished@example.com");
    let notice = mails
        .iter()
        .find(|m| m.contains("If this was not you"))
        .expect("a reset notice");
    assert!(
        notice.contains("https://portal.example.org/help"),
        "{notice}"
    );
    assert!(
        !notice.contains("Passport"),
        "the note stays inside the agency"
    );
    let code = code_after(
        mails.iter().rev().find(|m| m.contains("code is:")).unwrap(),
        "code is:",
    );
    // Only the emailed code leads on: new password, then a new second factor.
    let b = app.browser();
    let r = b
        .post(
            "/forgot-password/reset",
            &[
                ("email", "phished@example.com"),
                ("code", &code),
                ("password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(location(&r), "/two-step/setup");
    let (_, r) = sign_in_password(&app, "phished@example.com", PASSWORD).await;
    assert_eq!(r.status(), 422);
}

/// Finding 2: a password reset must not clear second-factor throttling.
#[tokio::test]
async fn a_password_reset_does_not_reset_two_step_throttling() {
    let app = spawn_with(opts()).await;
    let (_b, secret, _) = enrolled(&app, "mailbox@example.com").await;
    // Someone with the password (and the mailbox) guesses authenticator codes.
    let (b, r) = sign_in_password(&app, "mailbox@example.com", PASSWORD).await;
    assert_eq!(location(&r), "/sign-in/two-step");
    let mut refused = false;
    for _ in 0..12 {
        let r = b.post("/sign-in/two-step", &[("code", "000000")]).await;
        if r.status() == 429 {
            refused = true;
            break;
        }
        app.clock.advance_secs(61);
    }
    assert!(refused, "authenticator guessing is throttled");
    // A reset through the mailbox...
    let b = app.browser();
    b.post("/forgot-password", &[("email", "mailbox@example.com")])
        .await;
    deliver(&app).await;
    let code = code_after(
        &mails_to(&app, "mailbox@example.com").pop().unwrap(),
        "code is:",
    );
    let r = b
        .post(
            "/forgot-password/reset",
            &[
                ("email", "mailbox@example.com"),
                ("code", &code),
                ("password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    // ...does not give the guesser fresh authenticator tries.
    let (b, r) = sign_in_password(&app, "mailbox@example.com", NEW_PASSWORD).await;
    assert_eq!(location(&r), "/sign-in/two-step");
    let r = two_step(&app, &b, &secret).await;
    assert_eq!(r.status(), 429, "still throttled after the reset");
}

/// Finding 7: an attacker who knows only the email cannot keep the owner
/// out, neither for twenty minutes nor for good (100 failures).
#[tokio::test]
async fn someone_who_knows_only_the_email_cannot_keep_the_owner_out() {
    let app = spawn_with(opts_ips()).await;
    let (_, secret, _) = enrolled(&app, "target@example.com").await;
    let attacker = app.browser_from("203.0.113.7");
    for _ in 0..12 {
        attacker
            .post(
                "/sign-in",
                &[
                    ("email", "target@example.com"),
                    ("password", "guess guess guess"),
                ],
            )
            .await;
        app.clock.advance_secs(61);
    }
    let owner = app.browser_from("198.51.100.20");
    let mut r = owner
        .post(
            "/sign-in",
            &[("email", "target@example.com"), ("password", PASSWORD)],
        )
        .await;
    if r.status() == 429 {
        let page = r.text().await.unwrap();
        assert!(page.contains("unlock code"), "{page}");
        let r2 = owner
            .post("/sign-in/unlock", &[("email", "target@example.com")])
            .await;
        assert_eq!(r2.status(), 200);
        deliver(&app).await;
        let code = code_after(
            &mails_to(&app, "target@example.com").pop().unwrap(),
            "unlock code is:",
        );
        r = owner
            .post(
                "/sign-in",
                &[
                    ("email", "target@example.com"),
                    ("password", PASSWORD),
                    ("unlock_code", &code),
                ],
            )
            .await;
    }
    assert_eq!(location(&r), "/sign-in/two-step", "the owner gets in");
    assert_eq!(location(&two_step(&app, &owner, &secret).await), "/account");

    // A hundred more tries, spread out: the owner is still not locked out
    // for good, and the guesses past the limit never reached the password.
    for _ in 0..110 {
        attacker
            .post(
                "/sign-in",
                &[
                    ("email", "target@example.com"),
                    ("password", "guess guess guess"),
                ],
            )
            .await;
        app.clock.advance_secs(1_300);
    }
    let owner = app.browser_from("198.51.100.20");
    let mut r = owner
        .post(
            "/sign-in",
            &[("email", "target@example.com"), ("password", PASSWORD)],
        )
        .await;
    if r.status() == 429 {
        owner
            .post("/sign-in/unlock", &[("email", "target@example.com")])
            .await;
        deliver(&app).await;
        let code = code_after(
            &mails_to(&app, "target@example.com").pop().unwrap(),
            "unlock code is:",
        );
        r = owner
            .post(
                "/sign-in",
                &[
                    ("email", "target@example.com"),
                    ("password", PASSWORD),
                    ("unlock_code", &code),
                ],
            )
            .await;
    }
    assert_eq!(location(&r), "/sign-in/two-step", "not locked for good");
    assert_eq!(location(&two_step(&app, &owner, &secret).await), "/account");
}

/// Finding 7: one address cannot spray passwords across many accounts, and
/// is refused before any password hashing.
#[tokio::test]
async fn one_address_cannot_spray_passwords_across_accounts() {
    let app = spawn_with(opts_ips()).await;
    let sprayer = app.browser_from("203.0.113.9");
    let mut first_refusal = None;
    for i in 0..60 {
        let email = format!("person{i}@example.com");
        let r = sprayer
            .post(
                "/sign-in",
                &[("email", &email), ("password", "Spring2026 password!")],
            )
            .await;
        if r.status() == 429 {
            first_refusal = Some(i);
            break;
        }
    }
    assert_eq!(
        first_refusal,
        Some(50),
        "50 tries per address per 15 minutes"
    );
    // Another address is not affected.
    let other = app.browser_from("198.51.100.30");
    let r = other
        .post(
            "/sign-in",
            &[
                ("email", "person0@example.com"),
                ("password", "whatever it is"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
}

/// Finding 6: throttling looks the same for a registered and an unknown email.
#[tokio::test]
async fn sign_in_throttling_looks_the_same_for_known_and_unknown_emails() {
    let app = spawn_with(opts_ips()).await;
    enrolled(&app, "known@example.com").await;
    let mut seen = Vec::new();
    for (email, ip) in [
        ("known@example.com", "203.0.113.1"),
        ("unknown@example.com", "203.0.113.2"),
    ] {
        let b = app.browser_from(ip);
        let mut statuses = Vec::new();
        let mut last = String::new();
        for _ in 0..12 {
            let r = b
                .post(
                    "/sign-in",
                    &[("email", email), ("password", "not it at all")],
                )
                .await;
            statuses.push(r.status().as_u16());
            last = normalise(&r.text().await.unwrap(), email);
        }
        seen.push((statuses, last));
    }
    assert_eq!(seen[0].0, seen[1].0, "same statuses");
    assert!(seen[0].0.contains(&429), "{:?}", seen[0].0);
    assert_eq!(seen[0].1, seen[1].1, "same page");
}

/// Finding 10 (part): failed sign-ins for unknown emails are recorded, by
/// keyed hash only.
#[tokio::test]
async fn failed_sign_ins_for_unknown_emails_are_recorded_by_keyed_hash() {
    let app = spawn_with(opts()).await;
    let (_, r) = sign_in_password(&app, "ghost@example.com", "not the password").await;
    assert_eq!(r.status(), 422);
    let subject =
        casegate::audit::subject_hash(&app.secrets.identifier_key, "email", "ghost@example.com");
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_events WHERE action = 'sign_in.failed' AND subject = $1",
    )
    .bind(&subject)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(n, 1);
    let leaked: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_events WHERE detail LIKE '%ghost%' OR actor LIKE '%ghost%'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(leaked, 0);
}

/// Finding 6: forgot-password answers as fast for a registered email as for
/// an unknown one (the code is issued and sent after answering).
#[tokio::test]
async fn forgot_password_takes_the_same_time_for_known_and_unknown_emails() {
    let app = spawn_with(opts_ips()).await;
    enrolled(&app, "timed@example.com").await;
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..30 {
        // A fresh address each round keeps the per-address form limit out of it.
        let b = app.browser_from(&format!("198.51.100.{}", i + 1));
        for (email, into) in [
            ("timed@example.com", &mut known),
            ("untimed@example.com", &mut unknown),
        ] {
            // Let earlier work (such as a queued email) settle first, so
            // each answer is timed on its own.
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
            let t = std::time::Instant::now();
            let r = b.post("/forgot-password", &[("email", email)]).await;
            into.push(t.elapsed().as_micros() as i64);
            assert_eq!(r.status(), 200);
        }
    }
    known.sort_unstable();
    unknown.sort_unstable();
    // The fastest quarter shows the work done on the request path; slower
    // answers mostly show a busy shared machine (the suite runs tests in
    // parallel on two cores). The old handler, which looked the account up
    // and sent on the request path, was ~700 us slower for a known email.
    let (k, u) = (known[7], unknown[7]);
    eprintln!(
        "forgot-password: fastest known {k} us, unknown {u} us; median known {} us, unknown {} us",
        known[15], unknown[15]
    );
    assert!(
        (k - u).abs() * 3 < k.max(u) || (k - u).abs() < 400,
        "known {k} us vs unknown {u} us"
    );
    // The code still arrives.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    deliver(&app).await;
    assert!(
        mails_to(&app, "timed@example.com")
            .iter()
            .any(|m| m.contains("reset code is:"))
    );
}

/// Finding 4: changing the password needs the current password, even in a
/// freshly authenticated session (a session left open is not the person).
#[tokio::test]
async fn changing_the_password_needs_the_current_password() {
    let app = spawn_with(opts()).await;
    let (b, _, _) = enrolled(&app, "current@example.com").await;
    let r = b
        .post(
            "/account/security/password",
            &[("new_password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), 422);
    let r = b
        .post(
            "/account/security/password",
            &[
                ("current_password", "not my password at all"),
                ("new_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Your current password is not right")
    );
    let (_, r) = sign_in_password(&app, "current@example.com", NEW_PASSWORD).await;
    assert_eq!(r.status(), 422, "unchanged");
    app.clock.advance_secs(2); // three failures from this address: a short wait
    let r = b
        .post(
            "/account/security/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(location(&r), "/account/security?done=password");
}

/// Finding 4: revoking sessions needs a recent re-authentication, and
/// regenerating backup codes ends every other session.
#[tokio::test]
async fn session_revocation_needs_reauthentication_and_new_backup_codes_end_other_sessions() {
    let app = spawn_with(opts()).await;
    let (b, secret, _) = enrolled(&app, "revoker@example.com").await;
    let (other, _) = sign_in_password(&app, "revoker@example.com", PASSWORD).await;
    assert_eq!(location(&two_step(&app, &other, &secret).await), "/account");
    for _ in 0..4 {
        app.clock.advance_secs(5 * 60);
        assert_eq!(b.get("/account").await.status(), 200);
        assert_eq!(other.get("/account").await.status(), 200);
    }
    // Someone at an unlocked screen cannot throw the owner out of other devices.
    let r = b.post("/account/security/sessions/revoke-all", &[]).await;
    assert_eq!(location(&r), "/account/reauth");
    assert_eq!(other.get("/account").await.status(), 200);
    // After re-authenticating, new backup codes end the other session.
    app.clock.advance_secs(30);
    let code = totp::code_at(&secret, totp::step_of(app.clock.now().timestamp()));
    let r = b
        .post(
            "/account/reauth",
            &[("password", PASSWORD), ("code", &code)],
        )
        .await;
    assert_eq!(location(&r), "/account/security");
    let r = b.post("/account/security/backup-codes", &[]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        location(&other.get("/account").await),
        "/sign-in?why=required"
    );
    assert_eq!(b.get("/account").await.status(), 200);
}

/// Finding 4: `/account/reauth` is throttled exactly like sign-in.
#[tokio::test]
async fn reauthentication_is_throttled_like_sign_in() {
    let app = spawn_with(opts()).await;
    let (b, secret, _) = enrolled(&app, "rethrottle@example.com").await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let r = b
            .post(
                "/account/reauth",
                &[("password", "guess guess guess"), ("code", "000000")],
            )
            .await;
        statuses.push(r.status().as_u16());
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    // The failures count toward the sign-in throttle of the same email too.
    let (_, r) = sign_in_password(&app, "rethrottle@example.com", PASSWORD).await;
    assert_eq!(r.status(), 429);
    let _ = secret;
}

/// Finding 1, the command line: `casegate account start-reset` refuses to
/// run without the identity evidence, and with it leaves no usable credential.
#[tokio::test]
async fn the_command_line_reset_needs_evidence_and_leaves_no_usable_credential() {
    let app = spawn_with(opts()).await;
    let (victim, _, _) = enrolled(&app, "cli-reset@example.com").await;
    let bin = env!("CARGO_BIN_EXE_casegate");
    let run = |args: &[&str]| {
        std::process::Command::new(bin)
            .args(args)
            .env("DATABASE_URL", &app.config.database_url)
            .env("CASEGATE_DATA_DIR", &app.data_dir)
            .env("CASEGATE_MASTER_KEY", common::MASTER_KEY)
            .env("CASEGATE_PUBLIC_URL", "https://portal.example.org")
            .env("CASEGATE_LOG", "error")
            .output()
            .unwrap()
    };
    let out = run(&["account", "start-reset", "cli-reset@example.com"]);
    assert!(!out.status.success(), "no evidence, no reset");
    let out = run(&[
        "account",
        "start-reset",
        "cli-reset@example.com",
        "--evidence",
        "trust me",
        "--note",
        "they sounded nice",
    ]);
    assert!(!out.status.success(), "only evidence from the fixed list");
    assert_eq!(victim.get("/account").await.status(), 200, "not reset");
    let out = run(&[
        "account",
        "start-reset",
        "cli-reset@example.com",
        "--evidence",
        "photo_id_in_person",
        "--note",
        "Green card checked at the front desk",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        location(&victim.get("/account").await),
        "/sign-in?why=required"
    );
    let (_, r) = sign_in_password(&app, "cli-reset@example.com", PASSWORD).await;
    assert_eq!(r.status(), 422, "the old password is dead");
    let detail: String = sqlx::query_scalar(
        "SELECT detail FROM audit_events WHERE action = 'account.reset_started' AND actor = 'cli'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert!(detail.contains("photo_id_in_person") && detail.contains("Green card"));
    // Delivered by the command itself or by the server's worker.
    let mut mails = Vec::new();
    for _ in 0..100 {
        deliver(&app).await;
        mails = mails_to(&app, "cli-reset@example.com");
        if mails.iter().any(|m| m.contains("If this was not you")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        mails.iter().any(|m| m.contains("If this was not you")),
        "{}\n{:?}",
        String::from_utf8_lossy(&out.stdout),
        app.count("SELECT COUNT(*) FROM outbox").await
    );
}

/// Finding 7: throttle counts for emails nobody uses do not pile up forever,
/// but the 100-failure ceiling is not forgotten.
#[tokio::test]
async fn quiet_throttle_counts_are_purged_except_at_the_ceiling() {
    use casegate::auth::throttle::{self, ThrottleState};
    let app = spawn_with(opts()).await;
    let now = app.clock.now().timestamp();
    let old = ThrottleState {
        failures: 3,
        consecutive: 3,
        last_failure_at: now - 40 * 86_400,
        locked_until: None,
    };
    throttle::save(&app.db, "ident:quiet", &old).await.unwrap();
    let ceiling = ThrottleState {
        consecutive: 100,
        ..old
    };
    throttle::save(&app.db, "ident:ceiling", &ceiling)
        .await
        .unwrap();
    let fresh = ThrottleState {
        last_failure_at: now,
        ..old
    };
    throttle::save(&app.db, "ident:fresh", &fresh)
        .await
        .unwrap();
    assert_eq!(throttle::purge(&app.db, now).await.unwrap(), 1);
    assert_eq!(
        throttle::load(&app.db, "ident:quiet").await.unwrap(),
        ThrottleState::default()
    );
    assert_eq!(
        throttle::load(&app.db, "ident:ceiling").await.unwrap(),
        ceiling
    );
    assert_eq!(throttle::load(&app.db, "ident:fresh").await.unwrap(), fresh);
}

/// A blank or malformed address is an error on the form (kept as typed),
/// not "we sent a code"; a well-formed one still gets the same answer
/// whether or not it has an account.
#[tokio::test]
async fn a_blank_forgot_password_form_is_an_error_not_a_sent_code() {
    let app = spawn_with(opts()).await;
    let b = app.browser();
    let blank = b.post("/forgot-password", &[("email", "  ")]).await;
    assert_eq!(blank.status(), 422);
    let html = blank.text().await.unwrap();
    assert!(
        html.contains("Enter the email address of your account"),
        "{html}"
    );
    assert!(html.contains("id=\"error-summary\""));
    assert!(html.contains("aria-invalid=\"true\""));
    assert!(!html.contains("Reset code"), "not the enter-your-code page");

    let odd = b
        .post("/forgot-password?lang=es", &[("email", "maria at example")])
        .await;
    assert_eq!(odd.status(), 422);
    let html = odd.text().await.unwrap();
    assert!(html.contains("como nombre@ejemplo.com"), "{html}");
    assert!(html.contains("value=\"maria at example\""));

    let fine = b
        .post(
            "/forgot-password?lang=en",
            &[("email", "nobody@example.com")],
        )
        .await;
    assert_eq!(fine.status(), 200);
    assert!(fine.text().await.unwrap().contains("Reset code"));
}

/// Sent to sign in from a page of the account: the sign-in page says why,
/// and after both steps the person lands on that page. A forged return
/// address to another site is ignored (attack test).
#[tokio::test]
async fn being_sent_to_sign_in_explains_why_and_returns_afterwards() {
    let app = spawn_with(opts()).await;
    let (b, secret, _) = enrolled(&app, "back@example.com").await;
    assert_eq!(b.post("/sign-out", &[]).await.status(), 303);

    let r = b.get("/account/cases/add?lang=es").await;
    assert_eq!(location(&r), "/sign-in?why=required");
    assert_eq!(
        b.cookie("__Host-casegate_next").as_deref(),
        Some("/account/cases/add?lang=es")
    );
    let (status, page) = b.text("/sign-in?why=required&lang=en").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Afterwards we take you straight back to it"),
        "{page}"
    );
    let (_, plain) = b.text("/sign-in").await;
    assert!(!plain.contains("Afterwards we take you straight back to it"));

    let r = b
        .post(
            "/sign-in",
            &[("email", "back@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(location(&r), "/sign-in/two-step");
    app.clock.advance_secs(30);
    let code = totp::code_at(&secret, totp::step_of(app.clock.now().timestamp()));
    let r = b.post("/sign-in/two-step", &[("code", &code)]).await;
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, "/account/cases/add?lang=es".to_string())
    );
    assert_eq!(b.cookie("__Host-casegate_next"), None, "used once");

    // A return address to another site, planted in the cookie, is ignored.
    assert_eq!(b.post("/sign-out", &[]).await.status(), 303);
    b.set_cookie("__Host-casegate_next", "//evil.example/phish");
    let r = b
        .post(
            "/sign-in",
            &[("email", "back@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(location(&r), "/sign-in/two-step");
    app.clock.advance_secs(30);
    let code = totp::code_at(&secret, totp::step_of(app.clock.now().timestamp()));
    let r = b.post("/sign-in/two-step", &[("code", &code)]).await;
    assert_eq!(location(&r), "/account");
}
