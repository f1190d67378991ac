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
async fn ten_failures_lock_the_account_for_twenty_minutes() {
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
        app.clock.advance_secs(61); // past any per-IP delay
    }
    let (_, r) = sign_in_password(&app, "lock@example.com", PASSWORD).await;
    assert_eq!(r.status(), 429);
    let page = r.text().await.unwrap();
    assert!(page.contains("This account is locked"), "{page}");
    assert!(
        page.contains("November 20, 2026 15:"),
        "says when it unlocks: {page}"
    );
    app.clock.advance_secs(20 * 60);
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
    b.post("/forgot-password", &[("email", "reset@example.com")])
        .await;
    deliver(&app).await;
    let mail = mails_to(&app, "reset@example.com").pop().unwrap();
    let code = code_after(&mail, "code is:");
    // Expired after 30 minutes.
    app.clock.advance_secs(31 * 60);
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
    b.post("/forgot-password", &[("email", "reset@example.com")])
        .await;
    deliver(&app).await;
    let code = code_after(
        &mails_to(&app, "reset@example.com").pop().unwrap(),
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
            &[("new_password", NEW_PASSWORD)],
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
        .post("/account/security/password", &[("new_password", "short")])
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
            &[("new_password", NEW_PASSWORD)],
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
