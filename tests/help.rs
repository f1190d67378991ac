//! The help page and the next step on every refusal, over HTTP against the
//! real server.

mod common;

use common::{Options, TestApp, between, spawn_with};

fn contacts() -> Options {
    Options {
        extra: vec![
            ("CASEGATE_CAPTCHA_DIFFICULTY", "6"),
            ("CASEGATE_VERIFY_FLOOR_MS", "0"),
            ("CASEGATE_HELP_PHONE", "+1 (202) 555-0147"),
            ("CASEGATE_HELP_HOURS", "Weekdays 9 to 5 Pacific"),
            (
                "CASEGATE_HELP_HOURS_ES",
                "Días hábiles de 9 a 5, hora del Pacífico",
            ),
            ("CASEGATE_HELP_EMAIL", "contact@portal.example.org"),
            (
                "CASEGATE_HELP_MAIL_ADDRESS",
                "AR-11 Unit; PO Box 4242; Lakeside, OR 97449",
            ),
        ],
        ..Options::default()
    }
}

async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let r = app.get(path).await;
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn help_shows_the_configured_contacts_in_english_and_spanish() {
    let app = spawn_with(contacts()).await;
    let (status, en) = page(&app, "/help").await;
    assert_eq!(status, 200);
    assert!(en.contains("<h1>Help and contact</h1>"), "{en}");
    assert!(en.contains("href=\"tel:+12025550147\">+1 (202) 555-0147</a>"));
    assert!(en.contains("Weekdays 9 to 5 Pacific"));
    assert!(en.contains("href=\"mailto:contact@portal.example.org\""));
    assert!(en.contains("AR-11 Unit<br>PO Box 4242<br>Lakeside, OR 97449"));
    // What each flow needs, and the answers refusal pages point at.
    for anchor in [
        "id=\"code-never-arrived\"",
        "id=\"could-not-verify\"",
        "id=\"address-mismatch\"",
        "id=\"too-many-requests\"",
        "id=\"locked-out\"",
        "id=\"lost-authenticator\"",
        "href=\"/change-address\"",
        "href=\"/account/cases/add\"",
    ] {
        assert!(en.contains(anchor), "{anchor}");
    }
    let (status, es) = page(&app, "/help?lang=es").await;
    assert_eq!(status, 200);
    assert!(es.contains("<html lang=\"es\""));
    assert!(es.contains("<h1>Ayuda y contacto</h1>"));
    assert!(es.contains("Días hábiles de 9 a 5, hora del Pacífico"));
    assert!(!es.contains("Weekdays 9 to 5 Pacific"));
    assert!(es.contains("Nunca me llegó el código de acceso"));
    assert!(es.contains("href=\"mailto:contact@portal.example.org\""));
}

#[tokio::test]
async fn empty_contact_settings_are_left_off_and_the_page_still_says_what_to_do() {
    let app = spawn_with(Options {
        extra: vec![
            ("CASEGATE_HELP_PHONE", ""),
            ("CASEGATE_HELP_EMAIL", ""),
            ("CASEGATE_HELP_MAIL_ADDRESS", ""),
        ],
        ..Options::default()
    })
    .await;
    let (status, html) = page(&app, "/help").await;
    assert_eq!(status, 200);
    assert!(!html.contains("tel:") && !html.contains("mailto:"));
    assert!(html.contains("Contact the office that sent you your notices"));
}

#[tokio::test]
async fn every_page_footer_links_help() {
    let app = spawn_with(contacts()).await;
    for path in [
        "/",
        "/status",
        "/access-code",
        "/sign-in",
        "/sign-up",
        "/forgot-password",
        "/processing-times",
        "/help?lang=es",
        "/no-such-page",
    ] {
        let (_, html) = page(&app, path).await;
        let footer = &html[html.find("<footer").expect(path)..];
        assert!(footer.contains("href=\"/help\""), "{path}");
    }
}

#[tokio::test]
async fn error_pages_link_help_and_show_how_to_reach_us() {
    let app = spawn_with(contacts()).await;
    // 404
    let (status, html) = page(&app, "/no-such-page?lang=es").await;
    assert_eq!(status, 404);
    let main = &html[html.find("<main").unwrap()..html.find("</main>").unwrap()];
    assert!(main.contains("href=\"/help\""), "{main}");
    assert!(main.contains("tel:+12025550147"));
    // 403: a form without its CSRF token.
    let r = app
        .http
        .post(app.url("/forgot-password"))
        .form(&[("email", "x@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let html = r.text().await.unwrap();
    assert!(html.contains("This form has expired") && html.contains("href=\"/help\""));
    // 429: the error page says when to try again.
    let visitor = app.browser();
    let mut last = None;
    for _ in 0..31 {
        let r = visitor
            .post("/forgot-password", &[("email", "nobody@example.com")])
            .await;
        last = Some(r);
    }
    let r = last.unwrap();
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let html = r.text().await.unwrap();
    let minutes = retry.div_ceil(60);
    assert!(
        html.contains(&format!("You can try again in about {minutes} minutes.")),
        "{html}"
    );
    assert!(html.contains("href=\"/help\""));
}

#[tokio::test]
async fn sign_in_refusals_and_two_step_say_how_to_contact_us() {
    let app = spawn_with(contacts()).await;
    let visitor = app.browser();
    let r = visitor
        .post(
            "/sign-in",
            &[("email", "maria.nunez@example.com"), ("password", "wrong")],
        )
        .await;
    let html = r.text().await.unwrap();
    assert!(html.contains("href=\"/help#locked-out\""), "{html}");
    assert!(html.contains("tel:+12025550147") && html.contains("contact@portal.example.org"));
    // Two-step: "contact us" comes with the phone and email.
    let b = app.browser();
    let r = b
        .post(
            "/sign-in",
            &[
                ("email", "maria.nunez@example.com"),
                ("password", casegate::demo::DEMO_PASSWORD),
            ],
        )
        .await;
    assert_eq!(common::location(&r), "/sign-in/two-step");
    let (status, html) = b.text("/sign-in/two-step").await;
    assert_eq!(status, 200);
    assert!(html.contains("Contact us (see how below)"));
    assert!(html.contains("tel:+12025550147") && html.contains("href=\"/help\""));
}

// ---- /access-code outcomes ------------------------------------------------

async fn request_code(app: &TestApp, form: &[(&'static str, String)]) -> (u16, String) {
    let html = app.get("/access-code").await.text().await.unwrap();
    let token = between(&html, "name=\"captcha_token\" value=\"", "\"")
        .unwrap()
        .to_string();
    let salt = between(&html, "data-captcha-salt=\"", "\"")
        .unwrap()
        .to_string();
    let difficulty: u8 = between(&html, "data-captcha-difficulty=\"", "\"")
        .unwrap()
        .parse()
        .unwrap();
    let nonce = casegate::captcha::solve(&salt, difficulty).to_string();
    let visitor = app.browser();
    let mut body: Vec<(&str, String)> = form.to_vec();
    body.push(("captcha_token", token));
    body.push(("captcha_solution", nonce));
    body.push(("csrf", visitor.csrf()));
    let r = visitor.post_raw("/access-code", &body).await;
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The demo's Nguyễn Thị Lan (no email on file: letters).
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

/// The alert box of an answer (what the outcome says, with its links).
fn alert(html: &str) -> &str {
    let i = html.find("<div class=\"usa-alert").expect("an alert");
    let j = html[i..]
        .find("</form>")
        .map(|j| i + j)
        .unwrap_or(html.len());
    &html[i..j]
}

#[tokio::test]
async fn each_access_code_refusal_has_its_next_step() {
    let app = spawn_with(contacts()).await;

    // Address mismatch: change your address.
    let (status, html) = request_code(&app, &set(lan(), "street", "9 Other Road")).await;
    assert_eq!(status, 200);
    let a = alert(&html);
    assert!(a.contains("does not match our records"), "{a}");
    assert!(
        a.contains(
            "<a class=\"usa-button cg-next-step\" href=\"/change-address\">Change your address</a>"
        ),
        "{a}"
    );
    assert!(a.contains("href=\"/help#address-mismatch\""));

    // Could not verify: check the exact spelling, then the help page.
    let (status, html) = request_code(&app, &set(lan(), "given_name", "Ngyuen")).await;
    assert_eq!(status, 200);
    let a = alert(&html);
    assert!(a.contains("We could not verify the information you entered"));
    assert!(a.contains("Check the exact spelling of each answer against your notice"));
    assert!(a.contains("href=\"/help#could-not-verify\""), "{a}");

    // A letter already sent: when the next is possible, and the help page.
    let (status, html) = request_code(&app, &lan()).await;
    assert_eq!(status, 200);
    assert!(html.contains("We are sending your access code"), "{html}");
    app.clock.advance_secs(3_600);
    let (status, html) = request_code(&app, &lan()).await;
    assert_eq!(status, 200);
    let a = alert(&html);
    assert!(a.contains("We mailed you a code recently"));
    assert!(
        a.contains("You can ask for another letter after November 21, 2026 15:00 UTC"),
        "{a}"
    );
    assert!(a.contains("href=\"/help#code-never-arrived\""));

    // Too many requests (5 a day per identifier; 4 used): when, and the help page.
    let (status, _) = request_code(&app, &lan()).await;
    assert_eq!(status, 200);
    let (status, html) = request_code(&app, &lan()).await;
    assert_eq!(status, 429);
    let main = &html[html.find("<main").unwrap()..html.find("</main>").unwrap()];
    assert!(main.contains("You can try again after"), "{main}");
    assert!(main.contains("2026"));
    assert!(main.contains("href=\"/help#too-many-requests\""));
}

// ---- link-case refusals -----------------------------------------------------

async fn link(b: &common::Browser, receipt: &str, code: &str) -> (u16, String) {
    let r = b
        .post(
            "/account/cases/add",
            &[
                ("receipt", receipt),
                ("code", code),
                ("dob_month", "2"),
                ("dob_day", "14"),
                ("dob_year", "1985"),
            ],
        )
        .await;
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn link_case_refusals_each_have_a_next_step() {
    let app = spawn_with(contacts()).await;
    let maria = common::sign_in_demo(&app, "maria.nunez@example.com").await;
    // A code that is not right and a receipt that does not match get one
    // answer (it must not tell which part was wrong), with the same next
    // steps: what to check, a code that never came, a new code.
    for (receipt, code) in [
        ("EAC9999103403", "AAAA-BBBB-CCCC"),
        ("EAC0000000000", "DEM0-C0DE-0001"),
    ] {
        let (status, html) = link(&maria, receipt, code).await;
        assert_eq!(status, 422);
        let a = alert(&html);
        assert!(a.contains("We could not match this information"), "{a}");
        assert!(a.contains("href=\"/access-code\""), "{a}");
        assert!(a.contains("href=\"/help#code-never-arrived\""), "{a}");
        assert!(a.contains("href=\"/help#could-not-verify\""), "{a}");
    }
    // Linked, then tried from another account: help, status, and how to reach us.
    let (status, _) = link(&maria, "EAC9999103403", "DEM0-C0DE-0001").await;
    assert_eq!(status, 303);
    let bea = common::enrolled_account(
        &app,
        "bea@example.com",
        casegate::auth::account::Role::Applicant,
    )
    .await;
    let (status, html) = link(&bea, "EAC9999103400", "DEM0-C0DE-0004").await;
    assert_eq!(status, 422);
    let a = alert(&html);
    assert!(a.contains("already in another online account"));
    assert!(a.contains("href=\"/help#case-in-another-account\""));
    assert!(a.contains("href=\"/status\""));
    assert!(a.contains("tel:+12025550147") && a.contains("contact@portal.example.org"));
    // 20 failures a day: the pause says until when.
    for _ in 0..20 {
        link(&bea, "EAC9999103400", "AAAA-BBBB-CCCC").await;
    }
    let (status, html) = link(&bea, "EAC9999103400", "AAAA-BBBB-CCCC").await;
    assert_eq!(status, 429);
    let a = alert(&html);
    assert!(
        a.contains("adding cases is paused for now. You can try again after November"),
        "{a}"
    );
    assert!(a.contains("href=\"/help#too-many-requests\""));
}
