//! Request an online access code, over HTTP against the real server.

mod common;

use casegate::domain::AccessCode;
use common::{Options, TestApp, spawn_with};

#[tokio::test]
async fn a_post_without_the_csrf_token_is_refused() {
    let app = spawn_with(fast()).await;
    let visitor = app.browser();
    let r = visitor.post_raw("/access-code", &maria()).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("This form has expired"));
    let mut wrong = maria();
    wrong.push(("csrf", "0".repeat(32)));
    assert_eq!(visitor.post_raw("/access-code", &wrong).await.status(), 403);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events").await,
        0,
        "no handler ran"
    );
}

fn fast() -> Options {
    Options {
        extra: vec![
            ("CASEGATE_CAPTCHA_DIFFICULTY", "6"),
            ("CASEGATE_VERIFY_FLOOR_MS", "0"),
            ("CASEGATE_PUBLIC_URL", "https://portal.example.org"),
        ],
        ..Options::default()
    }
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = s.find(start)? + start.len();
    let j = s[i..].find(end)? + i;
    Some(&s[i..j])
}

struct Challenge {
    token: String,
    salt: String,
    difficulty: u8,
}

async fn challenge(app: &TestApp, lang: &str) -> Challenge {
    let html = app
        .get(&format!("/access-code?lang={lang}"))
        .await
        .text()
        .await
        .unwrap();
    Challenge {
        token: between(&html, "name=\"captcha_token\" value=\"", "\"")
            .unwrap()
            .to_string(),
        salt: between(&html, "data-captcha-salt=\"", "\"")
            .unwrap()
            .to_string(),
        difficulty: between(&html, "data-captcha-difficulty=\"", "\"")
            .unwrap()
            .parse()
            .unwrap(),
    }
}

/// The demo's María José Núñez García (email on file).
fn maria() -> Vec<(&'static str, String)> {
    vec![
        ("id_kind", "a_number".into()),
        ("a_number", "A-012-345-678".into()),
        ("given_name", "maria jose".into()),
        ("family_name", "Nunez-Garcia".into()),
        ("dob_month", "2".into()),
        ("dob_day", "14".into()),
        ("dob_year", "1985".into()),
        ("street", "123 Main Street".into()),
        ("unit", "Apartment 4".into()),
        ("city", "springfield".into()),
        ("state", "IL".into()),
        ("zip", "62701".into()),
        ("delivery", "email".into()),
    ]
}

/// The demo's Nguyễn Thị Lan (no email on file).
fn lan() -> Vec<(&'static str, String)> {
    vec![
        ("id_kind", "receipt".into()),
        ("receipt", "LIN9999106498".into()),
        ("given_name", "Nguyen".into()),
        ("family_name", "Thi Lan".into()),
        ("dob_month", "7".into()),
        ("dob_day", "30".into()),
        ("dob_year", "1979".into()),
        ("street", "45 N Elm Ave".into()),
        ("unit", "".into()),
        ("city", "Houston".into()),
        ("state", "TX".into()),
        ("zip", "77002".into()),
        ("delivery", "post".into()),
    ]
}

fn set(
    mut form: Vec<(&'static str, String)>,
    key: &'static str,
    value: &str,
) -> Vec<(&'static str, String)> {
    for f in form.iter_mut() {
        if f.0 == key {
            f.1 = value.to_string();
        }
    }
    form
}

async fn post_solved(app: &TestApp, form: &[(&'static str, String)], lang: &str) -> (u16, String) {
    let c = challenge(app, lang).await;
    let nonce = casegate::captcha::solve(&c.salt, c.difficulty).to_string();
    post_with(app, form, &c.token, &nonce, lang).await
}

async fn post_with(
    app: &TestApp,
    form: &[(&'static str, String)],
    token: &str,
    solution: &str,
    lang: &str,
) -> (u16, String) {
    let mut body: Vec<(&str, String)> = form.to_vec();
    body.push(("captcha_token", token.to_string()));
    body.push(("captcha_solution", solution.to_string()));
    let visitor = app.browser();
    body.push(("csrf", visitor.csrf()));
    let r = visitor
        .post_raw(&format!("/access-code?lang={lang}"), &body)
        .await;
    (r.status().as_u16(), r.text().await.unwrap())
}

fn eml_files(app: &TestApp) -> Vec<String> {
    let dir = app.data_dir.join("outbox");
    let mut out = vec![];
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries {
            out.push(std::fs::read_to_string(e.unwrap().path()).unwrap());
        }
    }
    out
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

fn code_in(text: &str) -> AccessCode {
    // The grouped code is the only XXXX-XXXX-XXXX token in the message.
    let words: Vec<&str> = text.split_whitespace().collect();
    let w = words
        .iter()
        .find(|w| w.len() == 14 && w.as_bytes()[4] == b'-' && w.as_bytes()[9] == b'-')
        .expect("a code in the message");
    AccessCode::parse(w).unwrap()
}

#[tokio::test]
async fn matching_person_gets_a_code_by_email_only_at_the_address_on_file() {
    let app = spawn_with(fast()).await;
    let (status, html) = post_solved(&app, &maria(), "en").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("We are sending your access code"));
    assert!(html.contains("m•••@e•••.com"), "masked destination");
    assert!(!html.contains("maria.nunez@example.com"));
    deliver(&app).await;
    let mails = eml_files(&app);
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert!(mail.contains("To: maria.nunez@example.com"));
    let code = code_in(mail);
    assert!(mail.contains("https://portal.example.org"));
    assert!(mail.contains("Never share this code"));
    assert!(
        !mail.contains("012345678") && !mail.contains("1985"),
        "no A-Number, no date of birth"
    );
    // Only the keyed hash is stored; the new code is live, the older ones are revoked.
    let hash = code.keyed_hash(&app.secrets.access_code_key).to_vec();
    let (channel, expires, issued, revoked): (String, i64, i64, Option<i64>) = sqlx::query_as(
        "SELECT channel, expires_at, issued_at, revoked_at FROM access_codes WHERE code_hash = $1",
    )
    .bind(hash)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(
        (channel.as_str(), expires - issued, revoked),
        ("email", 86_400, None)
    );
    let person_codes: i64 = app
        .count("SELECT COUNT(*) FROM access_codes a JOIN persons p ON p.id = a.person_id WHERE p.a_number = 'A012345678' AND a.revoked_at IS NULL")
        .await;
    assert_eq!(person_codes, 1, "older unused codes were revoked");
    // The outbox keeps no clear text once sent.
    let body_left = app
        .count("SELECT COUNT(*) FROM outbox WHERE body_sealed IS NOT NULL")
        .await;
    assert_eq!(body_left, 0);
}

#[tokio::test]
async fn letters_are_queued_in_spanish_and_spaced_a_day_apart() {
    let app = spawn_with(fast()).await;
    let (status, html) = post_solved(&app, &lan(), "es").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Le estamos enviando su código de acceso"));
    assert!(html.contains("••• N ELM AVE, HOUSTON TX"), "{html}");
    let (kind, lang): (String, String) =
        sqlx::query_as("SELECT kind, lang FROM notices WHERE kind = 'code_letter'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!((kind.as_str(), lang.as_str()), ("code_letter", "es"));
    // The letter prints with the code, in Spanish.
    let dir = app.data_dir.join("print");
    let ctx = casegate::flows::notices::render::LetterContext {
        msgs: casegate::i18n::Messages::global(),
        agency: "Agencia",
        public_url: "https://portal.example.org",
    };
    casegate::flows::notices::export::export(&app.db, &app.secrets, &ctx, &dir, 0)
        .await
        .unwrap();
    let letter = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("code-letter"))
        .unwrap();
    let text = String::from_utf8(
        std::process::Command::new("pdftotext")
            .arg(&letter)
            .arg("-")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(text.contains("Código de Acceso en Línea"), "{text}");
    let code = code_in(&text);
    let live: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM access_codes WHERE code_hash = $1 AND channel = 'post' AND revoked_at IS NULL")
        .bind(code.keyed_hash(&app.secrets.access_code_key).to_vec())
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(live, 1);

    // A second letter the same day is refused with the date it becomes possible.
    app.clock.advance_secs(3_600);
    let (status, html) = post_solved(&app, &lan(), "en").await;
    assert_eq!(status, 200);
    assert!(html.contains("We mailed you a code recently"), "{html}");
    assert!(html.contains("November 21, 2026"), "{html}");
    // A day later it works.
    app.clock.advance_secs(23 * 3_600);
    let (_, html) = post_solved(&app, &lan(), "en").await;
    assert!(html.contains("We are sending your access code"));
}

#[tokio::test]
async fn email_without_an_email_on_file_offers_the_letter() {
    let app = spawn_with(fast()).await;
    let (status, html) = post_solved(&app, &set(lan(), "delivery", "email"), "en").await;
    assert_eq!(status, 200);
    assert!(html.contains("We do not have an email address on file for you"));
    assert!(
        html.contains(
            "id=\"delivery-post\" type=\"radio\" name=\"delivery\" value=\"post\" checked"
        )
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM access_codes WHERE channel <> 'notice'")
            .await,
        0
    );
}

#[tokio::test]
async fn a_wrong_address_says_so_and_shows_the_way_to_update_it() {
    let app = spawn_with(fast()).await;
    let (status, html) = post_solved(&app, &set(maria(), "street", "77 Ocean Drive"), "en").await;
    assert_eq!(status, 200);
    assert!(html.contains("The address you entered does not match our records"));
    assert!(html.contains("href=\"/change-address\""));
    assert!(
        !html.contains("MAIN ST"),
        "the address on file is never shown"
    );
}

/// Strips what legitimately differs between two renders of the same form:
/// the fresh CAPTCHA challenge and the values the visitor typed.
fn normalise(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest
        .find("value=\"")
        .into_iter()
        .chain(rest.find("data-captcha-salt=\""))
        .min()
    {
        let start = rest[i..].find('"').unwrap() + i + 1;
        let end = rest[start..].find('"').unwrap() + start;
        out.push_str(&rest[..start]);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out.replace(" selected", "").replace(" checked", "")
}

#[tokio::test]
async fn unknown_mismatched_and_protected_look_the_same() {
    let app = spawn_with(fast()).await;
    let unknown = set(maria(), "a_number", "A099999999");
    let wrong_dob = set(maria(), "dob_day", "15");
    let protected = set(
        set(
            set(
                set(maria(), "a_number", "A013670001"),
                "given_name",
                "Protected",
            ),
            "family_name",
            "Applicant",
        ),
        "dob_month",
        "6",
    );
    let protected = set(
        set(
            set(
                set(set(protected, "dob_day", "15"), "dob_year", "1995"),
                "street",
                "1 Safe Harbor Lane",
            ),
            "unit",
            "",
        ),
        "city",
        "Burlington",
    );
    let protected = set(set(protected, "state", "VT"), "zip", "05401");
    let mut answers = vec![];
    for form in [&unknown, &wrong_dob, &protected] {
        let (status, html) = post_solved(&app, form, "en").await;
        assert!(
            html.contains("We could not verify the information you entered"),
            "{html}"
        );
        answers.push((status, normalise(&html)));
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0], answers[2]);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM access_codes WHERE channel <> 'notice'")
            .await,
        0
    );
    // The audit trail has every request, keyed-hashed, never the A-Number.
    let details: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT detail, subject, ip FROM audit_events WHERE action = 'access_code.request'",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(details.len(), 3);
    for (detail, subject, ip) in &details {
        assert!(detail.starts_with("not_verified"));
        let s = subject.as_deref().unwrap();
        assert!(!s.contains("013670001") && !s.contains("099999999") && s.len() == 32);
        assert_eq!(ip.as_deref(), Some("127.0.0.1"));
    }
}

#[tokio::test]
async fn a_replayed_captcha_solution_is_refused() {
    let app = spawn_with(fast()).await;
    let c = challenge(&app, "en").await;
    let nonce = casegate::captcha::solve(&c.salt, c.difficulty).to_string();
    let wrong = set(maria(), "a_number", "A099999999");
    let (s1, _) = post_with(&app, &wrong, &c.token, &nonce, "en").await;
    assert_eq!(s1, 200);
    let (s2, html) = post_with(&app, &wrong, &c.token, &nonce, "en").await;
    assert_eq!(s2, 422);
    assert!(html.contains("This form expired"), "{html}");
    let (s3, html) = post_with(&app, &wrong, &c.token, "12345", "en").await;
    assert_eq!(s3, 422);
    assert!(
        html.contains("We could not check that you are a person")
            || html.contains("This form expired")
    );
}

#[tokio::test]
async fn without_javascript_the_form_is_accepted_after_a_few_seconds() {
    let app = spawn_with(fast()).await;
    let c = challenge(&app, "en").await;
    let (status, html) = post_with(&app, &maria(), &c.token, "", "en").await;
    assert_eq!(status, 422);
    assert!(html.contains("Wait a few seconds"));
    // Typed values are kept.
    assert!(html.contains("value=\"123 Main Street\""));
    let c = challenge(&app, "en").await;
    app.clock.advance_secs(6);
    let (status, html) = post_with(&app, &maria(), &c.token, "", "en").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("We are sending your access code"));
}

#[tokio::test]
async fn field_errors_are_inline_and_summarised() {
    let app = spawn_with(fast()).await;
    let form = set(set(maria(), "a_number", "12"), "zip", "ABCDE");
    let (status, html) = post_solved(&app, &form, "es").await;
    assert_eq!(status, 422);
    assert!(html.contains("Corrija lo siguiente antes de continuar"));
    assert!(html.contains("href=\"#a_number-input\""));
    assert!(html.contains("id=\"a_number-error\""));
    assert!(html.contains("Ingrese un Número A de 7 a 9 dígitos"));
    assert!(html.contains("Ingrese un código postal de 5 dígitos"));
    assert!(html.contains("value=\"Nunez-Garcia\""));
}

#[tokio::test]
async fn limits_per_identifier_and_per_ip() {
    let app = spawn_with(fast()).await;
    let wrong = set(maria(), "dob_day", "15");
    for _ in 0..5 {
        let (s, _) = post_solved(&app, &wrong, "en").await;
        assert_eq!(s, 200);
    }
    let (s, html) = post_solved(&app, &wrong, "en").await;
    assert_eq!(s, 429);
    assert!(html.contains("Too many requests") && html.contains("try again after"));
    // The same page for an identifier that does not exist.
    let unknown = set(maria(), "a_number", "A099999999");
    for _ in 0..5 {
        post_solved(&app, &unknown, "en").await;
    }
    let (s2, html2) = post_solved(&app, &unknown, "en").await;
    assert_eq!((s2, normalise(&html2)), (s, normalise(&html)));
    // 20 requests an hour per IP: this IP has made 12.
    for _ in 0..8 {
        post_solved(&app, &set(maria(), "a_number", "A055555555"), "en").await;
    }
    let (s, _) = post_solved(&app, &set(maria(), "a_number", "A044444444"), "en").await;
    assert_eq!(s, 429);
    app.clock.advance_secs(3_601);
    let (s, _) = post_solved(&app, &set(maria(), "a_number", "A044444444"), "en").await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn the_code_arrives_at_a_real_smtp_listener_and_survives_an_outage() {
    let sink = common::smtp::SmtpSink::start().await;
    let url: &'static str = Box::leak(sink.url().into_boxed_str());
    let mut opts = fast();
    opts.extra.push(("CASEGATE_SMTP_URL", url));
    let app = spawn_with(opts).await;
    // The relay is down when the request is made.
    sink.stop().await;
    let (status, _) = post_solved(&app, &maria(), "es").await;
    assert_eq!(status, 200);
    deliver(&app).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND attempts = 1")
            .await,
        1
    );
    // Back up: after the backoff the message goes out exactly once.
    sink.restart().await;
    app.clock.advance_secs(31);
    deliver(&app).await;
    app.clock.advance_secs(3_600);
    deliver(&app).await;
    assert_eq!(sink.count(), 1);
    let msg = &sink.messages()[0];
    assert_eq!(msg.rcpt_to, vec!["maria.nunez@example.com".to_string()]);
    let text = msg.text();
    assert!(text.contains("Su código"), "{text}");
    let code = code_in(&text);
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM access_codes WHERE code_hash = $1 AND revoked_at IS NULL",
    )
    .bind(code.keyed_hash(&app.secrets.access_code_key).to_vec())
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(n, 1);
}
