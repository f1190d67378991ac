//! Change of address without an account, over HTTP against the real server:
//! letters read back from the mail-room PDFs with poppler, email from the
//! outbox, the hold passed with the test clock.

mod common;

use casegate::auth::account::Role;
use casegate::domain::AccessCode;
use common::{Browser, Options, TestApp, between, spawn_with};

const DAY: i64 = 86_400;

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

type Fields = Vec<(&'static str, String)>;

fn set(mut form: Fields, key: &'static str, value: &str) -> Fields {
    for f in form.iter_mut() {
        if f.0 == key {
            f.1 = value.to_string();
        }
    }
    form
}

/// The demo's María José Núñez García (email on file), moving to Chicago.
fn maria_moves() -> Fields {
    vec![
        ("id_kind", "a_number".into()),
        ("a_number", "A-012-345-678".into()),
        ("receipt", "".into()),
        ("given_name", "maria jose".into()),
        ("family_name", "Nunez-Garcia".into()),
        ("dob_month", "2".into()),
        ("dob_day", "14".into()),
        ("dob_year", "1985".into()),
        ("street", "500 West Madison Street".into()),
        ("unit", "Apartment 12".into()),
        ("city", "Chicago".into()),
        ("state", "IL".into()),
        ("zip", "60661".into()),
    ]
}

/// The demo's Nguyễn Thị Lan (no email on file), moving within Texas.
fn lan_moves() -> Fields {
    vec![
        ("id_kind", "receipt".into()),
        ("a_number", "".into()),
        ("receipt", "LIN9999106498".into()),
        ("given_name", "Nguyen".into()),
        ("family_name", "Thi Lan".into()),
        ("dob_month", "7".into()),
        ("dob_day", "30".into()),
        ("dob_year", "1979".into()),
        ("street", "9 Oak Street".into()),
        ("unit", "".into()),
        ("city", "Austin".into()),
        ("state", "TX".into()),
        ("zip", "78701".into()),
    ]
}

fn fields(f: &Fields) -> Vec<(&str, &str)> {
    f.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Form → review (normalised address shown back) → request with the CAPTCHA
/// solved. Returns the review page and the answer.
async fn request(app: &TestApp, form: &Fields, lang: &str) -> (String, u16, String) {
    let (review, status, answer, _) = request_timed(app, form, lang).await;
    (review, status, answer)
}

/// As [`request`], with how long the request itself (the padded step) took.
async fn request_timed(app: &TestApp, form: &Fields, lang: &str) -> (String, u16, String, u128) {
    let visitor = app.browser();
    let r = visitor
        .post(&format!("/change-address?lang={lang}"), &fields(form))
        .await;
    assert_eq!(r.status(), 200);
    let review = r.text().await.unwrap();
    let token = between(&review, "name=\"captcha_token\" value=\"", "\"")
        .unwrap()
        .to_string();
    let salt = between(&review, "data-captcha-salt=\"", "\"").unwrap();
    let difficulty: u8 = between(&review, "data-captcha-difficulty=\"", "\"")
        .unwrap()
        .parse()
        .unwrap();
    let nonce = casegate::captcha::solve(salt, difficulty).to_string();
    let mut body = fields(form);
    body.push(("captcha_token", &token));
    body.push(("captcha_solution", &nonce));
    let t = std::time::Instant::now();
    let r = visitor
        .post(&format!("/change-address/request?lang={lang}"), &body)
        .await;
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (review, status, text, t.elapsed().as_millis())
}

fn code_in(text: &str) -> AccessCode {
    let words: Vec<&str> = text.split_whitespace().collect();
    let w = words
        .iter()
        .find(|w| w.len() == 14 && w.as_bytes()[4] == b'-' && w.as_bytes()[9] == b'-')
        .expect("a code in the text");
    AccessCode::parse(w).unwrap()
}

/// Prints the queued letters (as the mail room does) and reads them back.
async fn print_letters(app: &TestApp) -> Vec<(String, String)> {
    let dir = common::temp_dir("print");
    let ctx = casegate::notices::render::LetterContext {
        msgs: casegate::i18n::Messages::global(),
        agency: "Agency",
        public_url: "https://portal.example.org",
    };
    casegate::notices::export::export(&app.db, &app.secrets, &ctx, &dir, 0)
        .await
        .unwrap();
    let mut out = vec![];
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let text = String::from_utf8(
            std::process::Command::new("pdftotext")
                .arg("-layout")
                .arg(&p)
                .arg("-")
                .output()
                .expect("pdftotext (poppler-utils)")
                .stdout,
        )
        .unwrap();
        out.push((p.file_name().unwrap().to_string_lossy().to_string(), text));
    }
    out.sort();
    out
}

fn letter<'a>(letters: &'a [(String, String)], kind: &str) -> &'a str {
    &letters
        .iter()
        .find(|(name, _)| name.contains(kind))
        .unwrap_or_else(|| panic!("a {kind} letter in {letters:?}"))
        .1
}

async fn deliver(app: &TestApp) -> Vec<String> {
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
    let mut out = vec![];
    if let Ok(entries) = std::fs::read_dir(app.data_dir.join("outbox")) {
        for e in entries {
            // Undo quoted-printable soft line breaks.
            let raw = std::fs::read_to_string(e.unwrap().path()).unwrap();
            out.push(raw.replace("=\r\n", "").replace("=\n", ""));
        }
    }
    out
}

async fn address_on_file(app: &TestApp, a_number: &str) -> String {
    let (street, unit, city): (String, Option<String>, String) =
        sqlx::query_as("SELECT street, unit, city FROM persons WHERE a_number = $1")
            .bind(a_number)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    format!("{street} {} {city}", unit.unwrap_or_default())
}

async fn confirm(visitor: &Browser, id_kind: &str, id: &str, code: &str) -> (u16, String) {
    let id_field = if id_kind == "receipt" {
        "receipt"
    } else {
        "a_number"
    };
    let r = visitor
        .post(
            "/change-address/confirm",
            &[("id_kind", id_kind), (id_field, id), ("code", code)],
        )
        .await;
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn cancel(visitor: &Browser, code: &str) -> (u16, String) {
    let r = visitor
        .post("/change-address/cancel", &[("code", code)])
        .await;
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn count_where(app: &TestApp, sql: &'static str) -> i64 {
    app.count(sql).await
}

/// Attack: someone who knows María's identity asks to move her mail. The
/// old address gets a notice, her email a message, both with the code that
/// stops it; the address on file does not move.
#[tokio::test]
async fn a_change_for_someone_else_notifies_the_old_address_and_the_email() {
    let app = spawn_with(fast()).await;
    let (review, status, answer) = request(&app, &maria_moves(), "en").await;
    assert!(
        review.contains("500 W MADISON ST APT 12") && review.contains("CHICAGO IL 60661"),
        "normalised and shown back: {review}"
    );
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains("Watch for a letter at your new address"));

    let letters = print_letters(&app).await;
    let ours = letters
        .iter()
        .filter(|(n, _)| n.contains("-address-"))
        .count();
    assert_eq!(ours, 2, "{letters:?}");
    let confirm_letter = letter(&letters, "address-confirm");
    assert!(confirm_letter.contains("500 W MADISON ST APT 12"));
    assert!(confirm_letter.contains("Confirm Your Change of Address"));
    let alert = letter(&letters, "address-alert");
    assert!(
        alert.contains("123 MAIN ST APT 4"),
        "to the old address: {alert}"
    );
    assert!(alert.contains("SPRINGFIELD IL"));
    assert!(alert.contains("Someone Asked to Change Your Mailing Address"));
    assert!(alert.contains("/change-address/cancel"));
    let cancel_code = code_in(alert);
    assert_ne!(cancel_code, code_in(confirm_letter));

    let mails = deliver(&app).await;
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("To: maria.nunez@example.com"));
    assert!(mails[0].contains("/change-address/cancel"));
    assert_eq!(code_in(&mails[0]), cancel_code, "the same stop code");
    assert!(
        mails[0].contains("W MADISON ST, CHICAGO IL")
            && !mails[0].contains("500 W")
            && !mails[0].contains("012345678"),
        "masked new address, no A-Number"
    );
    // Nothing changed on file; only keyed hashes are stored.
    assert_eq!(
        address_on_file(&app, "A012345678").await,
        "123 MAIN ST APT 4 SPRINGFIELD"
    );
    let hash = cancel_code
        .keyed_hash(&app.secrets.access_code_key)
        .to_vec();
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM address_change_requests WHERE cancel_hash = $1 AND state = 'requested'",
    )
    .bind(hash)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(n, 1);
    assert_eq!(
        count_where(
            &app,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'address_change.request' AND detail LIKE 'sent%'"
        )
        .await,
        1
    );
}

/// Attack: without the letter (it went to the new address, which the
/// attacker controls only if it is theirs — the victim's notice still goes
/// out) the change never takes effect; wrong codes use up the request.
#[tokio::test]
async fn it_never_takes_effect_without_the_letters_code() {
    let app = spawn_with(fast()).await;
    let (_, status, _) = request(&app, &maria_moves(), "en").await;
    assert_eq!(status, 200);
    let letters = print_letters(&app).await;
    let right = code_in(letter(&letters, "address-confirm")).grouped();
    app.clock.advance_secs(40 * DAY);
    casegate::address_change::store::apply_due(&app.db, app.clock.now().timestamp())
        .await
        .unwrap();
    assert_eq!(
        address_on_file(&app, "A012345678").await,
        "123 MAIN ST APT 4 SPRINGFIELD"
    );
    // The code has expired by now: even the right one does nothing.
    let visitor = app.browser();
    let (status, html) = confirm(&visitor, "a_number", "A012345678", &right).await;
    assert_eq!(status, 422);
    assert!(html.contains("We could not confirm the change"), "{html}");

    // A fresh request: five wrong codes use it up, then the right one fails too.
    let (_, status, _) = request(&app, &maria_moves(), "en").await;
    assert_eq!(status, 200);
    let letters = print_letters(&app).await;
    let right = code_in(letter(&letters, "address-confirm")).grouped();
    for _ in 0..5 {
        let (status, _) = confirm(&visitor, "a_number", "A012345678", "ABCD-EFGH-JKMN").await;
        assert_eq!(status, 422);
    }
    let (status, _) = confirm(&visitor, "a_number", "A012345678", &right).await;
    assert_eq!(status, 422, "exhausted");
    app.clock.advance_secs(20 * DAY);
    casegate::address_change::store::apply_due(&app.db, app.clock.now().timestamp())
        .await
        .unwrap();
    assert_eq!(
        address_on_file(&app, "A012345678").await,
        "123 MAIN ST APT 4 SPRINGFIELD"
    );
    assert_eq!(
        count_where(
            &app,
            "SELECT COUNT(*) FROM address_change_requests WHERE state = 'expired'"
        )
        .await,
        2
    );
}

/// "This was not me" during the hold cancels the change for good.
#[tokio::test]
async fn this_was_not_me_during_the_hold_cancels_it() {
    let app = spawn_with(fast()).await;
    request(&app, &maria_moves(), "en").await;
    let letters = print_letters(&app).await;
    let confirm_code = code_in(letter(&letters, "address-confirm")).grouped();
    let cancel_code = code_in(letter(&letters, "address-alert")).grouped();
    let attacker = app.browser();
    // The confirmation code is no cancellation code, and vice versa.
    let (status, _) = cancel(&attacker, &confirm_code).await;
    assert_eq!(status, 422);
    let (status, html) = confirm(&attacker, "a_number", "A-012-345-678", &confirm_code).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Your change of address is confirmed"));
    assert!(
        html.contains("November 30, 2026"),
        "hold of 10 days: {html}"
    );

    app.clock.advance_secs(5 * DAY);
    let victim = app.browser();
    let (status, html) = cancel(&victim, &cancel_code.to_lowercase()).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("The change of address is stopped"));
    // Once stopped, it stays stopped; a second try says so.
    let (status, html) = cancel(&victim, &cancel_code).await;
    assert_eq!(status, 422);
    assert!(html.contains("can no longer be stopped here"));
    app.clock.advance_secs(30 * DAY);
    casegate::address_change::store::apply_due(&app.db, app.clock.now().timestamp())
        .await
        .unwrap();
    assert_eq!(
        address_on_file(&app, "A012345678").await,
        "123 MAIN ST APT 4 SPRINGFIELD"
    );
    assert_eq!(
        count_where(
            &app,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'address_change.cancel' AND detail LIKE 'cancelled%'"
        )
        .await,
        1
    );
}

/// During the hold no access code goes to the new address (the address on
/// file is still the old one); after it, the access-code flow matches the new
/// address, each pending case records the change, and the audit log too.
#[tokio::test]
async fn no_access_code_goes_to_the_new_address_before_the_hold_ends() {
    let app = spawn_with(fast()).await;
    let (_, status, answer) = request(&app, &lan_moves(), "es").await;
    assert_eq!(status, 200);
    assert!(
        answer.contains("Espere una carta en su nueva dirección"),
        "{answer}"
    );
    let letters = print_letters(&app).await;
    let confirm_letter = letter(&letters, "address-confirm");
    assert!(confirm_letter.contains("Confirme su Cambio de Dirección"));
    assert!(confirm_letter.contains("9 OAK ST"));
    let code = code_in(confirm_letter).grouped();
    let visitor = app.browser();
    let (status, html) = confirm(&visitor, "receipt", "LIN9999106498", &code).await;
    assert_eq!(status, 200, "{html}");

    // An access code by post to the new address, during the hold: refused as
    // a mismatch, and no letter is queued.
    let access = vec![
        ("id_kind", "receipt".to_string()),
        ("receipt", "LIN9999106498".into()),
        ("given_name", "Nguyen".into()),
        ("family_name", "Thi Lan".into()),
        ("dob_month", "7".into()),
        ("dob_day", "30".into()),
        ("dob_year", "1979".into()),
        ("street", "9 Oak Street".into()),
        ("unit", "".into()),
        ("city", "Austin".into()),
        ("state", "TX".into()),
        ("zip", "78701".into()),
        ("delivery", "post".into()),
    ];
    app.clock.advance_secs(9 * DAY);
    let html = access_code(&app, &access).await;
    assert!(html.contains("does not match our records"), "{html}");
    assert_eq!(
        count_where(
            &app,
            "SELECT COUNT(*) FROM access_codes WHERE channel = 'post'"
        )
        .await,
        0
    );
    assert!(
        address_on_file(&app, "A098765432")
            .await
            .contains("HOUSTON")
    );

    // After the hold, the same request is sent — to the new address.
    app.clock.advance_secs(DAY + 60);
    let html = access_code(&app, &access).await;
    assert!(html.contains("We are sending your access code"), "{html}");
    assert!(html.contains("AUSTIN TX"), "{html}");
    assert!(address_on_file(&app, "A098765432").await.contains("AUSTIN"));
    let letters = print_letters(&app).await;
    let code_letter = letter(&letters, "code-letter");
    assert!(code_letter.contains("9 OAK ST") && code_letter.contains("AUSTIN TX 78701"));
    // History on each pending case, and the audit log.
    let notes = count_where(
        &app,
        "SELECT COUNT(*) FROM case_notes n JOIN cases c ON c.id = n.case_id JOIN persons p ON p.id = c.person_id \
         WHERE p.a_number = 'A098765432' AND n.kind = 'address_changed'",
    )
    .await;
    assert!(notes >= 1, "{notes}");
    assert_eq!(
        count_where(
            &app,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'address_change.effective'"
        )
        .await,
        1
    );
    // Too late to stop it from the old address now.
    let alert = letter(&print_letters_all(&app).await, "address-alert").to_string();
    let (status, html) = cancel(&visitor, &code_in(&alert).grouped()).await;
    assert_eq!(status, 422);
    assert!(html.contains("can no longer be stopped here"));
    // The audit chain is intact.
    assert!(matches!(
        casegate::audit::verify(&app.db).await.unwrap(),
        casegate::audit::Verification::Intact { .. }
    ));
}

/// Unknown, mismatched and protected identities, and a spent letter budget,
/// get the answer a real request gets.
#[tokio::test]
async fn unknown_mismatched_and_protected_get_the_same_answer() {
    let app = spawn_with(fast()).await;
    let (_, s0, real) = request(&app, &lan_moves(), "en").await;
    let unknown = set(lan_moves(), "receipt", "EAC0000000000");
    let (_, s1, a1) = request(&app, &unknown, "en").await;
    let wrong_dob = set(lan_moves(), "dob_day", "29");
    let (_, s2, a2) = request(&app, &wrong_dob, "en").await;
    let protected: Fields = vec![
        ("id_kind", "a_number".into()),
        ("a_number", "A013670001".into()),
        ("receipt", "".into()),
        ("given_name", "Protected".into()),
        ("family_name", "Applicant".into()),
        ("dob_month", "6".into()),
        ("dob_day", "15".into()),
        ("dob_year", "1995".into()),
        ("street", "9 Oak Street".into()),
        ("unit", "".into()),
        ("city", "Austin".into()),
        ("state", "TX".into()),
        ("zip", "78701".into()),
    ];
    let (_, s3, a3) = request(&app, &protected, "en").await;
    // Lan again the same day: her letter budget (24 h apart) is spent.
    let (_, s4, a4) = request(&app, &lan_moves(), "en").await;
    for (s, a) in [(s1, &a1), (s2, &a2), (s3, &a3), (s4, &a4)] {
        assert_eq!(s, s0);
        assert_eq!(a, &real, "identical answers");
    }
    assert_eq!(
        count_where(&app, "SELECT COUNT(*) FROM address_change_requests").await,
        1,
        "only the real request"
    );
    assert_eq!(
        count_where(
            &app,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'address_change.request' AND detail = 'letter_not_yet'"
        )
        .await,
        1
    );
    // An access-code letter now also waits: one budget for both.
    app.clock.advance_secs(3_600);
    let access: Vec<(&'static str, String)> = vec![
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
    ];
    let html = access_code(&app, &access).await;
    assert!(html.contains("We mailed you a code recently"), "{html}");
}

/// Named, persisted limits: three requests a day per identifier.
#[tokio::test]
async fn requests_per_identifier_are_limited() {
    let app = spawn_with(fast()).await;
    let unknown = set(lan_moves(), "receipt", "EAC0000000001");
    for _ in 0..3 {
        let (_, status, _) = request(&app, &unknown, "en").await;
        assert_eq!(status, 200);
    }
    let (_, status, html) = request(&app, &unknown, "en").await;
    assert_eq!(status, 429, "{html}");
}

#[tokio::test]
async fn pages_work_in_both_languages_and_posts_need_the_csrf_token() {
    let app = spawn_with(fast()).await;
    for (path, en, es) in [
        (
            "/change-address",
            "Change your mailing address",
            "Cambie su dirección postal",
        ),
        (
            "/change-address/confirm",
            "Confirm your change of address",
            "Confirme su cambio de dirección",
        ),
        (
            "/change-address/cancel",
            "Stop a change of address",
            "Detener un cambio de dirección",
        ),
    ] {
        let html = app.get(path).await.text().await.unwrap();
        assert!(html.contains(en), "{path}");
        let html = app
            .get(&format!("{path}?lang=es"))
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains(es), "{path}");
    }
    let visitor = app.browser();
    for path in [
        "/change-address",
        "/change-address/request",
        "/change-address/confirm",
        "/change-address/cancel",
    ] {
        let r = visitor.post_raw(path, &[("code", "x".into())]).await;
        assert_eq!(r.status(), 403, "{path}");
    }
    // Field errors are shown at once, with the form kept.
    let r = visitor
        .post(
            "/change-address",
            &fields(&set(maria_moves(), "zip", "6066")),
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("value=\"500 West Madison Street\"")
    );
}

async fn access_code(app: &TestApp, form: &[(&'static str, String)]) -> String {
    let html = app.get("/access-code").await.text().await.unwrap();
    let token = between(&html, "name=\"captcha_token\" value=\"", "\"").unwrap();
    let salt = between(&html, "data-captcha-salt=\"", "\"").unwrap();
    let difficulty: u8 = between(&html, "data-captcha-difficulty=\"", "\"")
        .unwrap()
        .parse()
        .unwrap();
    let nonce = casegate::captcha::solve(salt, difficulty).to_string();
    let visitor = app.browser();
    let mut body = form.to_vec();
    body.push(("captcha_token", token.to_string()));
    body.push(("captcha_solution", nonce));
    body.push(("csrf", visitor.csrf()));
    visitor
        .post_raw("/access-code", &body)
        .await
        .text()
        .await
        .unwrap()
}

/// Every letter ever queued (printed or not), rendered again.
async fn print_letters_all(app: &TestApp) -> Vec<(String, String)> {
    sqlx::query("UPDATE notices SET mail_state = 'queued' WHERE kind LIKE 'address_%'")
        .execute(app.db.pool())
        .await
        .unwrap();
    print_letters(app).await
}

/// Officers see pending and completed changes on the case page; case workers
/// (not intake clerks) can reverse one, after a confirmation page.
#[tokio::test]
async fn officers_see_changes_and_case_workers_reverse_them() {
    let app = spawn_with(fast()).await;
    request(&app, &lan_moves(), "en").await;
    let letters = print_letters(&app).await;
    let code = code_in(letter(&letters, "address-confirm")).grouped();
    let visitor = app.browser();
    let (status, _) = confirm(&visitor, "receipt", "LIN9999106498", &code).await;
    assert_eq!(status, 200);
    app.clock.advance_secs(11 * DAY);
    // A second, still pending request.
    let elsewhere = set(lan_moves(), "street", "77 Pine Road");
    let (_, status, _) = request(&app, &elsewhere, "en").await;
    assert_eq!(status, 200);

    let clerk = common::enrolled_account(&app, "intake@agency.example", Role::Intake).await;
    let (status, html) = clerk.text("/officer/cases/LIN9999106498").await;
    assert_eq!(status, 200);
    assert!(html.contains("Changes of address"), "{html}");
    assert!(html.contains("In effect") && html.contains("Waiting for the letter"));
    assert!(html.contains("9 OAK ST, AUSTIN TX 78701"));
    assert!(
        html.contains("Mailing address changed"),
        "history note: {html}"
    );
    assert!(!html.contains("/reverse\""), "clerks cannot reverse");
    let id: i64 =
        sqlx::query_scalar("SELECT id FROM address_change_requests WHERE state = 'effective'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    let path = format!("/officer/cases/LIN9999106498/address-changes/{id}/reverse");
    assert_eq!(clerk.post(&path, &[]).await.status(), 404);
    assert!(address_on_file(&app, "A098765432").await.contains("AUSTIN"));

    let officer =
        common::enrolled_account(&app, "adjudicator@agency.example", Role::Adjudicator).await;
    let (_, html) = officer.text("/officer/cases/LIN9999106498").await;
    assert!(html.contains(&format!("href=\"{path}\"")), "{html}");
    let (status, html) = officer.text(&path).await;
    assert_eq!(status, 200);
    assert!(html.contains("Reverse this change of address?"));
    let r = officer.post(&path, &[]).await;
    assert_eq!(r.status(), 303);
    assert!(
        address_on_file(&app, "A098765432")
            .await
            .contains("HOUSTON")
    );
    let (_, html) = officer.text("/officer/cases/LIN9999106498").await;
    assert!(html.contains("Reversed by an officer"));
    assert!(html.contains("Change of address reversed"));
    // Twice is refused, and said so.
    let r = officer.post(&path, &[]).await;
    assert!(common::location(&r).ends_with("?error=address_change"));
    assert_eq!(
        count_where(
            &app,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'address_change.reversed'"
        )
        .await,
        1
    );
}

/// Timing reveals nothing: a real request (which writes the request, two
/// letters and an email) and an unknown identity take the same padded time.
#[tokio::test]
async fn a_real_request_and_an_unknown_identity_take_the_same_time() {
    let app = spawn_with(Options {
        extra: vec![
            ("CASEGATE_CAPTCHA_DIFFICULTY", "6"),
            ("CASEGATE_VERIFY_FLOOR_MS", "300"),
        ],
        ..Options::default()
    })
    .await;
    let mut real = vec![];
    let mut unknown = vec![];
    for (i, who) in [maria_moves(), lan_moves()].into_iter().enumerate() {
        let (_, status, _, ms) = request_timed(&app, &who, "en").await;
        assert_eq!(status, 200);
        real.push(ms);
        let nobody = set(
            set(who, "a_number", &format!("A-099-999-98{i}")),
            "id_kind",
            "a_number",
        );
        let (_, status, _, ms) = request_timed(&app, &nobody, "en").await;
        assert_eq!(status, 200);
        unknown.push(ms);
    }
    eprintln!("real {real:?} ms, unknown {unknown:?} ms");
    for ms in real.iter().chain(&unknown) {
        assert!(*ms >= 300, "padded: {ms}");
    }
    let spread =
        real.iter().chain(&unknown).max().unwrap() - real.iter().chain(&unknown).min().unwrap();
    assert!(spread < 200, "real {real:?} unknown {unknown:?}");
    assert_eq!(
        count_where(&app, "SELECT COUNT(*) FROM address_change_requests").await,
        2
    );
}

/// Several instances sweeping at once apply a change exactly once.
#[tokio::test]
async fn concurrent_sweeps_apply_a_change_once() {
    let app = spawn_with(fast()).await;
    request(&app, &lan_moves(), "en").await;
    let letters = print_letters(&app).await;
    let code = code_in(letter(&letters, "address-confirm")).grouped();
    let (status, _) = confirm(&app.browser(), "receipt", "LIN9999106498", &code).await;
    assert_eq!(status, 200);
    app.clock.advance_secs(10 * DAY);
    let now = app.clock.now().timestamp();
    let sweeps = (0..4).map(|_| {
        let db = app.db.clone();
        tokio::spawn(async move { casegate::address_change::store::apply_due(&db, now).await })
    });
    let mut applied = 0;
    for s in sweeps {
        applied += s.await.unwrap().unwrap();
    }
    assert_eq!(applied, 1);
    assert_eq!(
        count_where(
            &app,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'address_change.effective'"
        )
        .await,
        1
    );
    let notes = count_where(&app, "SELECT COUNT(*) FROM case_notes").await;
    let pending = count_where(
        &app,
        "SELECT COUNT(*) FROM cases c JOIN persons p ON p.id = c.person_id WHERE p.a_number = 'A098765432'",
    )
    .await;
    assert!(
        notes >= 1 && notes <= pending,
        "{notes} notes, {pending} cases"
    );
    assert!(address_on_file(&app, "A098765432").await.contains("AUSTIN"));
}
