//! The officer console over HTTP against the real server: the role matrix,
//! case work with its history, notices, audit and email, and the mail room.

mod common;

use casegate::auth::account::Role;
use common::{Browser, TestApp, between, location, spawn_app};

async fn sign_in(app: &TestApp, email: &str) -> Browser {
    common::sign_in_demo(app, email).await
}

async fn officer(app: &TestApp, role: Role) -> Browser {
    let email = format!("{}@agency.example", role.code());
    if role == Role::Admin {
        // The demo's own admin.
        return sign_in(app, &email).await;
    }
    common::enrolled_account(app, &email, role).await
}

#[tokio::test]
async fn every_console_route_for_every_role() {
    let app = spawn_app().await;
    // (route, method) and who may use it.
    let routes: [(&str, bool); 8] = [
        ("/officer", false),
        ("/officer/admin", false),
        ("/officer/intake", false),
        ("/officer/cases?q=EAC9999103403", false),
        ("/officer/cases/EAC9999103403", false),
        ("/officer/mail", false),
        ("/officer/cases/EAC9999103403/status", true),
        ("/officer/mail/print", true),
    ];
    let allowed = |role: Role, route: &str| -> bool {
        match route {
            "/officer" => true,
            "/officer/admin" => role == Role::Admin,
            "/officer/intake" => matches!(role, Role::Intake | Role::Admin),
            r if r.starts_with("/officer/cases") && r.ends_with("/status") => {
                matches!(role, Role::Adjudicator | Role::Admin)
            }
            r if r.starts_with("/officer/cases") => {
                matches!(role, Role::Intake | Role::Adjudicator | Role::Admin)
            }
            r if r.starts_with("/officer/mail") => matches!(role, Role::Mailroom | Role::Admin),
            _ => false,
        }
    };
    let anon = app.browser();
    for (route, post) in routes {
        let r = if post {
            anon.post(route, &[("to", "nope")]).await
        } else {
            anon.get(route).await
        };
        assert_eq!(location(&r), "/sign-in?why=required", "anonymous {route}");
    }
    let applicant = sign_in(&app, "maria.nunez@example.com").await;
    for (route, post) in routes {
        let r = if post {
            applicant.post(route, &[("to", "nope")]).await
        } else {
            applicant.get(route).await
        };
        assert_eq!(r.status(), 404, "applicant {route}");
    }
    for role in [Role::Intake, Role::Adjudicator, Role::Mailroom, Role::Admin] {
        let b = officer(&app, role).await;
        for (route, post) in routes {
            // An unknown status is refused without changing anything.
            let r = if post {
                b.post(route, &[("to", "nope")]).await
            } else {
                b.get(route).await
            };
            // A page for a GET, a redirect back for a status change, else the
            // 404 of a missing page. The mail room's print takes the queued
            // letters (a document to print); the admin's, after it, finds the
            // queue empty and goes back to the mail room.
            let expected = match (allowed(role, route), post) {
                (false, _) => 404,
                (true, false) => 200,
                (true, true) if route == "/officer/mail/print" && role == Role::Mailroom => 200,
                (true, true) => 303,
            };
            assert_eq!(r.status(), expected, "{role:?} {route}");
        }
    }
}

#[tokio::test]
async fn a_request_for_evidence_makes_history_a_notice_an_audit_entry_and_an_email() {
    let app = spawn_app().await;
    let applicant = sign_in(&app, "maria.nunez@example.com").await;
    applicant
        .post(
            "/account/cases/add",
            &[
                ("receipt", "EAC9999103403"),
                ("code", "DEM0-C0DE-0001"),
                ("dob_month", "2"),
                ("dob_day", "14"),
                ("dob_year", "1985"),
            ],
        )
        .await;
    let adj = officer(&app, Role::Adjudicator).await;
    let (_, page) = adj.text("/officer/cases/EAC9999103400").await;
    assert!(page.contains("María José Núñez García") && page.contains("A012345678"));
    let outbox_before = app.count("SELECT COUNT(*) FROM outbox").await;
    let r = adj
        .post(
            "/officer/cases/EAC9999103400/rfe",
            &[
                ("items", "Proof of travel\nTwo passport photos"),
                ("due", "2027-01-15"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/officer/cases/EAC9999103400");
    let (status, actor): (String, String) = sqlx::query_as(
        "SELECT c.status, h.actor FROM cases c JOIN case_history h ON h.case_id = c.id WHERE c.receipt_number = 'EAC9999103400' ORDER BY h.id DESC LIMIT 1",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(
        (status.as_str(), actor.as_str()),
        ("additional_evidence_requested", "officer:adjudicator")
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM document_requests d JOIN cases c ON c.id = d.case_id WHERE c.receipt_number = 'EAC9999103400'").await, 1);
    let notice = casegate::notices::store::for_case(&app.db, "EAC9999103400")
        .await
        .unwrap()
        .into_iter()
        .find(|n| n.kind == casegate::notices::NoticeKind::Rfe)
        .expect("an RFE notice");
    assert_eq!(
        notice.mail_state,
        casegate::notices::MailState::Queued,
        "a paper filer gets it by post"
    );
    let ctx = casegate::notices::render::LetterContext {
        msgs: casegate::i18n::Messages::global(),
        agency: "Agency",
        public_url: "http://x",
    };
    let pdf = casegate::notices::render::render(&notice, None, &ctx);
    let path = app.data_dir.join("rfe.pdf");
    std::fs::write(&path, pdf).unwrap();
    let text = String::from_utf8(
        std::process::Command::new("pdftotext")
            .arg(&path)
            .arg("-")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(
        text.contains("Request for Evidence")
            && text.contains("Proof of travel")
            && text.contains("January 15, 2027"),
        "{text}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox").await,
        outbox_before + 1,
        "the linked applicant is told"
    );
    assert!(app.count("SELECT COUNT(*) FROM audit_events WHERE actor = 'officer:adjudicator' AND action = 'case.status_changed'").await >= 1);
    // The applicant sees it on the case page and can answer it.
    let (_, case_page) = applicant.text("/account/cases/EAC9999103400").await;
    assert!(case_page.contains("Respond to the request for evidence"));
    // A status that cannot follow is refused with a message, nothing changes.
    let r = adj
        .post(
            "/officer/cases/EAC9999103400/status",
            &[("to", "case_was_approved")],
        )
        .await;
    assert_eq!(
        location(&r),
        "/officer/cases/EAC9999103400?error=transition"
    );
    let (_, page) = adj
        .text("/officer/cases/EAC9999103400?error=transition")
        .await;
    assert!(page.contains("That status cannot follow"));
    // The log is intact.
    assert!(matches!(
        casegate::audit::verify(&app.db).await.unwrap(),
        casegate::audit::Verification::Intact { .. }
    ));
    app.assert_status_rows_in_step().await;
}

#[tokio::test]
async fn approvals_and_denials_issue_decision_notices_and_show_everywhere() {
    let app = spawn_app().await;
    let adj = officer(&app, Role::Adjudicator).await;
    // SRC9999102777: response to evidence received → approve.
    let r = adj
        .post(
            "/officer/cases/SRC9999102777/status",
            &[("to", "case_was_approved")],
        )
        .await;
    assert_eq!(location(&r), "/officer/cases/SRC9999102777");
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM notices WHERE receipt_number = 'SRC9999102777'")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    assert!(kinds.contains(&"approval".to_string()));
    let html = app
        .get("/status?receipt=SRC9999102777")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Case Was Approved"), "immediately on /status");
    let token = app.token(100, false).await;
    let v: serde_json::Value = app
        .http
        .get(app.url("/case-status/SRC9999102777"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["case_status"]["current_case_status_text_en"],
        "Case Was Approved"
    );
    app.assert_status_rows_in_step().await;
}

#[tokio::test]
async fn the_mail_room_prints_a_batch_then_marks_letters_mailed_or_returned() {
    let app = spawn_app().await;
    let mail = officer(&app, Role::Mailroom).await;
    let (_, page) = mail.text("/officer/mail").await;
    assert!(page.contains("Print all queued letters"));
    let queued = app
        .count("SELECT COUNT(*) FROM notices WHERE mail_state = 'queued'")
        .await;
    let r = mail.post("/officer/mail/print", &[]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let bytes = r.bytes().await.unwrap();
    let path = app.data_dir.join("batch.pdf");
    std::fs::write(&path, &bytes).unwrap();
    let info = String::from_utf8(
        std::process::Command::new("pdfinfo")
            .arg(&path)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let pages: i64 = info
        .lines()
        .find(|l| l.starts_with("Pages:"))
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert!(pages >= queued, "{pages} pages for {queued} letters");
    let text = String::from_utf8(
        std::process::Command::new("pdftotext")
            .arg(&path)
            .arg("-")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(
        text.contains("EAC9999103403")
            && text.contains("LIN9999106498")
            && text.contains("DEM0-C0DE-0001")
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM notices WHERE mail_state = 'printed'")
            .await,
        queued
    );
    let id: i64 = sqlx::query_scalar(
        "SELECT id FROM notices WHERE kind = 'access_notice' AND receipt_number = 'EAC9999103403'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(
        mail.post(&format!("/officer/mail/{id}"), &[("to", "mailed")])
            .await
            .status(),
        303
    );
    let sealed: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT code_sealed FROM notices WHERE id = $1")
            .bind(id)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert!(
        sealed.is_none(),
        "the code leaves the database once the letter is mailed"
    );
    assert_eq!(
        mail.post(&format!("/officer/mail/{id}"), &[("to", "returned")])
            .await
            .status(),
        303
    );
    assert_eq!(
        mail.post(&format!("/officer/mail/{id}"), &[("to", "queued")])
            .await
            .status(),
        400,
        "the mail room only moves forward"
    );
    let (_, page) = mail.text("/officer/mail?state=returned").await;
    assert!(page.contains("EAC9999103403"));
}

#[tokio::test]
async fn interviews_transfers_and_the_applicants_activity_list() {
    let app = spawn_app().await;
    let applicant = sign_in(&app, "maria.nunez@example.com").await;
    applicant
        .post(
            "/account/cases/add",
            &[
                ("receipt", "EAC9999103403"),
                ("code", "DEM0-C0DE-0001"),
                ("dob_month", "2"),
                ("dob_day", "14"),
                ("dob_year", "1985"),
            ],
        )
        .await;
    let adj = officer(&app, Role::Adjudicator).await;
    let outbox_before = app.count("SELECT COUNT(*) FROM outbox").await;
    let audit_before = app
        .count("SELECT COUNT(*) FROM audit_events WHERE actor = 'officer:adjudicator'")
        .await;
    // A date in the past is refused.
    let r = adj
        .post(
            "/officer/cases/EAC9999103400/interview",
            &[("when", "2020-01-01 09:00"), ("place", "Room 4")],
        )
        .await;
    assert_eq!(location(&r), "/officer/cases/EAC9999103400?error=interview");
    let r = adj
        .post(
            "/officer/cases/EAC9999103400/interview",
            &[
                ("when", "2027-02-03 09:30"),
                ("place", "Field Office, 1 Federal Plaza, Room 4"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/officer/cases/EAC9999103400");
    let r = adj
        .post(
            "/officer/cases/EAC9999103400/interview",
            &[
                ("when", "2027-02-10 10:00"),
                ("place", "Field Office, Room 5"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/officer/cases/EAC9999103400");
    let statuses: Vec<String> = sqlx::query_scalar(
        "SELECT h.status FROM case_history h JOIN cases c ON c.id = h.case_id WHERE c.receipt_number = 'EAC9999103400' ORDER BY h.id",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert!(statuses.ends_with(&[
        "interview_was_scheduled".to_string(),
        "interview_was_rescheduled".to_string()
    ]));
    let bodies: Vec<Option<String>> = sqlx::query_scalar("SELECT body FROM notices WHERE receipt_number = 'EAC9999103400' AND kind = 'interview' ORDER BY id")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert_eq!(bodies.len(), 2);
    assert!(
        bodies[0]
            .as_deref()
            .unwrap()
            .contains("February 3, 2027 09:30")
    );
    // Transfer to another office.
    let r = adj
        .post(
            "/officer/cases/EAC9999103400/transfer",
            &[("office", "EAC")],
        )
        .await;
    assert_eq!(
        location(&r),
        "/officer/cases/EAC9999103400?error=office",
        "not to the same office"
    );
    let r = adj
        .post(
            "/officer/cases/EAC9999103400/transfer",
            &[("office", "NBC")],
        )
        .await;
    assert_eq!(location(&r), "/officer/cases/EAC9999103400");
    let office: String =
        sqlx::query_scalar("SELECT office FROM cases WHERE receipt_number = 'EAC9999103400'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(office, "NBC");
    // Each action: an email to the linked applicant and an audit entry.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox").await,
        outbox_before + 3
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE actor = 'officer:adjudicator'")
            .await,
        audit_before + 3
    );
    // The interview notice reads right.
    let notice = casegate::notices::store::for_case(&app.db, "EAC9999103400")
        .await
        .unwrap()
        .into_iter()
        .find(|n| n.kind == casegate::notices::NoticeKind::Interview)
        .unwrap();
    let ctx = casegate::notices::render::LetterContext {
        msgs: casegate::i18n::Messages::global(),
        agency: "Agency",
        public_url: "http://x",
    };
    let path = app.data_dir.join("interview.pdf");
    std::fs::write(
        &path,
        casegate::notices::render::render(&notice, None, &ctx),
    )
    .unwrap();
    let text = String::from_utf8(
        std::process::Command::new("pdftotext")
            .arg(&path)
            .arg("-")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(
        text.contains("Interview Appointment Notice") && text.contains("1 Federal Plaza, Room 4"),
        "{text}"
    );
    // The applicant sees which role did what — never who.
    let (_, page) = applicant.text("/account/cases/EAC9999103400").await;
    assert!(
        page.contains("Adjudicator: Interview Was Scheduled"),
        "{page}"
    );
    assert!(page.contains("Adjudicator: Case Was Transferred"));
    assert!(!page.contains("adjudicator@agency.example"));
    app.assert_status_rows_in_step().await;
}

#[tokio::test]
async fn admins_manage_officers_api_clients_resets_and_codes() {
    let app = spawn_app().await;
    let admin = sign_in(&app, "admin@agency.example").await;
    // A new officer gets a one-time set-up link.
    let r = admin
        .post(
            "/officer/admin",
            &[
                ("action", "create_officer"),
                ("email", "new.clerk@agency.example"),
                ("role", "mailroom"),
            ],
        )
        .await;
    let page = r.text().await.unwrap();
    let link = between(&page, "<code class=\"cg-hash\">", "</code>")
        .unwrap()
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    assert!(
        link.contains("/officer-setup?email=new.clerk%40agency.example&code="),
        "{link}"
    );
    let path = &link[link.find("/officer-setup").unwrap()..];
    assert_eq!(app.browser().get(path).await.status(), 200);
    // An API client: the secret is shown once and works; rotating kills the old one.
    let page = admin
        .post(
            "/officer/admin",
            &[("action", "create_client"), ("name", "Tracker app")],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Copy the secret now"));
    let ids: Vec<&str> = page
        .split("<code class=\"cg-hash\">")
        .skip(1)
        .map(|p| p.split("</code>").next().unwrap())
        .collect();
    let (id, secret) = (ids[0].to_string(), ids[1].to_string());
    let token = |secret: String| {
        let id = id.clone();
        let app = &app;
        async move {
            app.http
                .post(app.url("/oauth/accesstoken"))
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", id.as_str()),
                    ("client_secret", secret.as_str()),
                ])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(token(secret.clone()).await, 200);
    let page = admin
        .post(
            "/officer/admin",
            &[("action", "rotate_client"), ("id", &id)],
        )
        .await
        .text()
        .await
        .unwrap();
    let new_secret = page
        .split("<code class=\"cg-hash\">")
        .nth(2)
        .unwrap()
        .split("</code>")
        .next()
        .unwrap()
        .to_string();
    assert_eq!(token(secret).await, 401);
    assert_eq!(token(new_secret.clone()).await, 200);
    admin
        .post(
            "/officer/admin",
            &[("action", "disable_client"), ("id", &id)],
        )
        .await;
    assert_eq!(token(new_secret).await, 401);
    // Start a reset: the password and the second factor are gone and a reset
    // code is on its way.
    admin
        .post(
            "/officer/admin",
            &[
                ("action", "start_reset"),
                ("email", "maria.nunez@example.com"),
                ("evidence", "video_call_with_id"),
                ("evidence_note", "Passport shown on a video call"),
            ],
        )
        .await;
    let enrolled: Option<i64> = sqlx::query_scalar(
        "SELECT totp_enrolled_at FROM accounts WHERE email_key = 'maria.nunez@example.com'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert!(enrolled.is_none());
    assert!(app.count("SELECT COUNT(*) FROM email_codes e JOIN accounts a ON a.id = e.account_id WHERE a.email_key = 'maria.nunez@example.com' AND e.purpose = 'reset_password'").await >= 1);
    // Revoke a person's codes.
    admin
        .post(
            "/officer/admin",
            &[("action", "revoke_codes"), ("a_number", "A-012-345-678")],
        )
        .await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM access_codes a JOIN persons p ON p.id = a.person_id WHERE p.a_number = 'A012345678' AND a.revoked_at IS NULL AND a.used_at IS NULL").await,
        0
    );
    // Disabling an officer ends their sessions.
    let clerk_id: i64 =
        sqlx::query_scalar("SELECT id FROM accounts WHERE email_key = 'new.clerk@agency.example'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    admin
        .post(
            "/officer/admin",
            &[("action", "disable_officer"), ("id", &clerk_id.to_string())],
        )
        .await;
    let disabled: Option<i64> =
        sqlx::query_scalar("SELECT disabled_at FROM accounts WHERE id = $1")
            .bind(clerk_id)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert!(disabled.is_some());
    assert!(matches!(
        casegate::audit::verify(&app.db).await.unwrap(),
        casegate::audit::Verification::Intact { .. }
    ));
}

#[tokio::test]
async fn intake_officers_enter_a_csv_of_filings() {
    let app = spawn_app().await;
    let intake = officer(&app, Role::Intake).await;
    let csv = format!(
        "{}\n{}\n{}\nA1,broken\n",
        common::CSV_HEADER,
        common::csv_row(1, "paper"),
        common::csv_row(2, "online")
    );
    let r = intake
        .upload("/officer/intake", "filings.csv", csv.into_bytes())
        .await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("2 cases created"), "{page}");
    assert!(page.contains("Line 4"), "{page}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM cases WHERE channel = 'online' AND office = 'IOE'")
            .await,
        2,
        "the demo's one plus this one"
    );
}

#[tokio::test]
async fn every_console_action_refuses_roles_that_may_not_use_it() {
    let app = spawn_app().await;
    // POST routes with harmless payloads: allowed roles get a page or a
    // redirect, others exactly the 404 of a missing page.
    type Route<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a [Role]);
    let routes: [Route; 8] = [
        (
            "/officer/cases/EAC9999103403/rfe",
            vec![("items", ""), ("due", "")],
            &[Role::Adjudicator, Role::Admin],
        ),
        (
            "/officer/cases/EAC9999103403/interview",
            vec![("when", ""), ("place", "")],
            &[Role::Adjudicator, Role::Admin],
        ),
        (
            "/officer/cases/EAC9999103403/transfer",
            vec![("office", "EAC")],
            &[Role::Adjudicator, Role::Admin],
        ),
        ("/officer/mail/999999", vec![("to", "mailed")], &[]),
        (
            "/officer/admin",
            vec![("action", "revoke_codes"), ("a_number", "x")],
            &[Role::Admin],
        ),
        (
            "/officer/intake/one",
            vec![("a_number", "x")],
            &[Role::Intake, Role::Admin],
        ),
        (
            "/officer/cases/EAC9999103403/requests/999999/reviewed",
            vec![],
            &[],
        ),
        (
            "/officer/cases/EAC9999103403/status",
            vec![("to", "nope")],
            &[Role::Adjudicator, Role::Admin],
        ),
    ];
    let mut browsers = vec![];
    for role in [Role::Intake, Role::Adjudicator, Role::Mailroom, Role::Admin] {
        browsers.push((role, officer(&app, role).await));
    }
    let applicant = sign_in(&app, "maria.nunez@example.com").await;
    for (route, body, allowed) in &routes {
        assert_eq!(
            applicant.post(route, body).await.status(),
            404,
            "applicant {route}"
        );
        for (role, b) in &browsers {
            let status = b.post(route, body).await.status();
            if allowed.contains(role) {
                // Case actions redirect back to the case; the admin and
                // intake forms answer with their page and its error.
                let expected = if route.starts_with("/officer/cases/") {
                    303
                } else {
                    200
                };
                assert_eq!(status, expected, "{role:?} may use {route}");
            } else {
                // Forbidden — or, for the made-up ids, missing: the same 404.
                assert_eq!(status, 404, "{role:?} {route}");
            }
        }
    }
}

#[tokio::test]
async fn a_reviewed_response_returns_the_case_to_active_review() {
    let app = spawn_app().await;
    // SRC9999102777's demo response is in: mark it reviewed.
    let request_id: Option<i64> = sqlx::query_scalar(
        "SELECT d.id FROM document_requests d JOIN cases c ON c.id = d.case_id WHERE c.receipt_number = 'YSC2608000001'",
    )
    .fetch_optional(app.db.pool())
    .await
    .unwrap();
    let request_id = request_id.unwrap();
    let adj = officer(&app, Role::Adjudicator).await;
    // Not answered yet: nothing to review.
    let r = adj
        .post(
            &format!("/officer/cases/YSC2608000001/requests/{request_id}/reviewed"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 404);
    sqlx::query("UPDATE document_requests SET responded_at = 1 WHERE id = $1")
        .bind(request_id)
        .execute(app.db.pool())
        .await
        .unwrap();
    common::change_status(
        &app,
        sqlx::query_scalar::<_, i64>("SELECT id FROM cases WHERE receipt_number = 'YSC2608000001'")
            .fetch_one(app.db.pool())
            .await
            .unwrap(),
        casegate::domain::CaseStatus::EvidenceResponseReceived,
        "applicant",
        app.clock.now().timestamp(),
    )
    .await
    .unwrap();
    let r = adj
        .post(
            &format!("/officer/cases/YSC2608000001/requests/{request_id}/reviewed"),
            &[],
        )
        .await;
    assert_eq!(location(&r), "/officer/cases/YSC2608000001");
    let status: String =
        sqlx::query_scalar("SELECT status FROM cases WHERE receipt_number = 'YSC2608000001'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(status, "actively_reviewed");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'evidence.reviewed'")
            .await,
        1
    );
    app.assert_status_rows_in_step().await;
}

#[tokio::test]
async fn one_filing_typed_in_and_a_role_changed() {
    let app = spawn_app().await;
    let intake = officer(&app, Role::Intake).await;
    let r = intake
        .post(
            "/officer/intake/one",
            &[
                ("a_number", "A-099-123-456"),
                ("given_name", "Amal"),
                ("family_name", "Haddad"),
                ("date_of_birth", "1984-03-03"),
                ("street", "12 Pine Road"),
                ("unit", ""),
                ("city", "Omaha"),
                ("state", "NE"),
                ("zip", "68102"),
                ("email", ""),
                ("form", "I-485"),
                ("office", "NBC"),
                ("received_date", "2026-11-02"),
                ("channel", "paper"),
                ("protected", "no"),
            ],
        )
        .await;
    let page = r.text().await.unwrap();
    assert!(
        page.contains("1 case created.") || page.contains("Se creó 1 caso."),
        "{page}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM cases c JOIN persons p ON p.id = c.person_id WHERE p.a_number = 'A099123456'").await, 1);
    let r = intake
        .post("/officer/intake/one", &[("a_number", "nope")])
        .await;
    assert!(r.text().await.unwrap().contains("invalid A-Number"));
    // The admin makes the intake officer an adjudicator; their sessions end.
    let admin = sign_in(&app, "admin@agency.example").await;
    let id: i64 =
        sqlx::query_scalar("SELECT id FROM accounts WHERE email_key = 'intake@agency.example'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    admin
        .post(
            "/officer/admin",
            &[
                ("action", "set_role"),
                ("id", &id.to_string()),
                ("role", "adjudicator"),
            ],
        )
        .await;
    let role: String = sqlx::query_scalar("SELECT role FROM accounts WHERE id = $1")
        .bind(id)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(role, "adjudicator");
    assert_eq!(
        location(&intake.get("/officer").await),
        "/sign-in?why=required"
    );
    app.assert_status_rows_in_step().await;
}

// ---------------------------------------------------------------------------
// Officer actions commit once: a failing later write leaves nothing behind
// ---------------------------------------------------------------------------

/// Everything an officer action may write about one case, as text.
async fn case_snapshot(app: &TestApp, receipt: &str) -> Vec<String> {
    let q = |sql: &'static str| {
        let pool = app.db.pool().clone();
        let receipt = receipt.to_string();
        async move {
            let rows: Vec<(String,)> = sqlx::query_as(sql)
                .bind(receipt)
                .fetch_all(&pool)
                .await
                .unwrap();
            rows.into_iter().map(|r| r.0).collect::<Vec<_>>().join(";")
        }
    };
    let mut snap = vec![
        q("SELECT status || '|' || CAST(status_at AS TEXT) || '|' || office FROM cases WHERE receipt_number = $1").await,
        q("SELECT h.status || '|' || CAST(h.at AS TEXT) || '|' || h.actor FROM case_history h JOIN cases c ON c.id = h.case_id WHERE c.receipt_number = $1 ORDER BY h.id").await,
        q("SELECT n.kind || '|' || n.mail_state FROM notices n JOIN cases c ON c.id = n.case_id WHERE c.receipt_number = $1 ORDER BY n.id").await,
        q("SELECT d.items FROM document_requests d JOIN cases c ON c.id = d.case_id WHERE c.receipt_number = $1 ORDER BY d.id").await,
        q("SELECT CAST(COUNT(*) AS TEXT) FROM outbox WHERE $1 <> ''").await,
        q("SELECT CAST(COUNT(*) AS TEXT) FROM audit_events WHERE action = 'case.status_changed' AND $1 <> ''").await,
    ];
    if common::engine() == casegate::config::DbEngine::Sqlite {
        snap.push(
            q("SELECT status || '|' || office || '|' || history FROM status_rows WHERE receipt_number = $1")
                .await,
        );
    }
    snap
}

/// Makes every insert into `table` fail, through the test's own handle on
/// the server's database (a real constraint failure, not a mock).
async fn fail_inserts_into(app: &TestApp, table: &str) {
    fail_on(app, "INSERT", table).await
}

async fn heal_inserts_into(app: &TestApp, table: &str) {
    heal(app, table).await
}

/// Makes every `event` (`INSERT`, `UPDATE OF column`, ...) on `table` fail.
async fn fail_on(app: &TestApp, event: &str, table: &str) {
    let sqls: Vec<String> = match common::engine() {
        casegate::config::DbEngine::Sqlite => vec![format!(
            "CREATE TRIGGER fault_{table} BEFORE {event} ON {table} BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
        )],
        casegate::config::DbEngine::Postgres => vec![
            "CREATE OR REPLACE FUNCTION injected_fault() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$"
                .to_string(),
            format!(
                "CREATE TRIGGER fault_{table} BEFORE {event} ON {table} FOR EACH ROW EXECUTE FUNCTION injected_fault()"
            ),
        ],
    };
    for sql in sqls {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(app.db.pool())
            .await
            .unwrap();
    }
}

async fn heal(app: &TestApp, table: &str) {
    let sql = match common::engine() {
        casegate::config::DbEngine::Sqlite => format!("DROP TRIGGER fault_{table}"),
        casegate::config::DbEngine::Postgres => format!("DROP TRIGGER fault_{table} ON {table}"),
    };
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(app.db.pool())
        .await
        .unwrap();
}

async fn assert_plain_failure(r: reqwest::Response, what: &str) {
    assert_eq!(r.status(), 500, "{what}");
    let body = r.text().await.unwrap();
    assert!(
        body.contains("Something went wrong on our side"),
        "{what}: {body}"
    );
    let lower = body.to_lowercase();
    for leak in ["injected fault", "sqlx", "sqlite", "postgres", "trigger"] {
        assert!(!lower.contains(leak), "{what}: the page leaks {leak:?}");
    }
}

#[tokio::test]
async fn a_request_for_evidence_whose_request_cannot_be_written_changes_nothing() {
    let app = spawn_app().await;
    let applicant = sign_in(&app, "maria.nunez@example.com").await;
    applicant
        .post(
            "/account/cases/add",
            &[
                ("receipt", "EAC9999103403"),
                ("code", "DEM0-C0DE-0001"),
                ("dob_month", "2"),
                ("dob_day", "14"),
                ("dob_year", "1985"),
            ],
        )
        .await;
    let adj = officer(&app, Role::Adjudicator).await;
    let receipt = "EAC9999103400";
    let before = case_snapshot(&app, receipt).await;
    // The status change and its history come first; the document request second.
    fail_inserts_into(&app, "document_requests").await;
    let rfe = [("items", "Proof of travel"), ("due", "2027-01-15")];
    let r = adj
        .post(&format!("/officer/cases/{receipt}/rfe"), &rfe)
        .await;
    assert_plain_failure(r, "RFE with a failing document request").await;
    assert_eq!(
        case_snapshot(&app, receipt).await,
        before,
        "status, history, notices, requests, email and status_rows are unchanged"
    );
    app.assert_status_rows_in_step().await;
    // Once the database accepts the write, the same action goes through whole.
    heal_inserts_into(&app, "document_requests").await;
    let r = adj
        .post(&format!("/officer/cases/{receipt}/rfe"), &rfe)
        .await;
    assert_eq!(location(&r), format!("/officer/cases/{receipt}"));
    let after = case_snapshot(&app, receipt).await;
    assert!(after[0].starts_with("additional_evidence_requested|"));
    assert!(after[2].contains("rfe|queued"));
    assert_eq!(after[3], "Proof of travel");
    app.assert_status_rows_in_step().await;
}

#[tokio::test]
async fn a_decision_whose_notice_cannot_be_written_changes_nothing() {
    let app = spawn_app().await;
    let adj = officer(&app, Role::Adjudicator).await;
    let receipt = "SRC9999102777";
    let before = case_snapshot(&app, receipt).await;
    fail_inserts_into(&app, "notices").await;
    let r = adj
        .post(
            &format!("/officer/cases/{receipt}/status"),
            &[("to", "case_was_approved")],
        )
        .await;
    assert_plain_failure(r, "approval with a failing notice").await;
    assert_eq!(case_snapshot(&app, receipt).await, before);
    app.assert_status_rows_in_step().await;
    heal_inserts_into(&app, "notices").await;
    let r = adj
        .post(
            &format!("/officer/cases/{receipt}/status"),
            &[("to", "case_was_approved")],
        )
        .await;
    assert_eq!(location(&r), format!("/officer/cases/{receipt}"));
    let after = case_snapshot(&app, receipt).await;
    assert!(after[0].starts_with("case_was_approved|"), "{after:?}");
    assert!(after[2].contains("approval|"), "{after:?}");
}

#[tokio::test]
async fn an_unknown_or_malformed_admin_action_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let admin = officer(&app, Role::Admin).await;
    let audit_before = app.count("SELECT COUNT(*) FROM audit_events").await;
    let officers_before = app
        .count("SELECT COUNT(*) FROM accounts WHERE disabled_at IS NULL")
        .await;
    for fields in [
        vec![("action", "drop_tables"), ("id", "1")],
        vec![("action", ""), ("id", "1")],
        vec![("action", "disable_officer"), ("id", "1 OR 1=1")],
    ] {
        let r = admin.post("/officer/admin", &fields).await;
        assert_eq!(r.status(), 400, "{fields:?}");
        let body = r.text().await.unwrap();
        assert!(body.contains("href=\"/\""), "a next step: {body}");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM accounts WHERE disabled_at IS NULL")
            .await,
        officers_before
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events").await,
        audit_before
    );
}

#[tokio::test]
async fn disabling_an_officer_whose_sessions_cannot_be_revoked_changes_nothing() {
    let app = spawn_app().await;
    let admin = officer(&app, Role::Admin).await;
    let clerk = officer(&app, Role::Mailroom).await;
    let id: i64 =
        sqlx::query_scalar("SELECT id FROM accounts WHERE email = 'mailroom@agency.example'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    let audit_before = app.count("SELECT COUNT(*) FROM audit_events").await;
    // Revoking the clerk's sessions is the second write of the action.
    fail_on(&app, "UPDATE OF revoked_at", "sessions").await;
    let id_text = id.to_string();
    let disable = [("action", "disable_officer"), ("id", id_text.as_str())];
    let r = admin.post("/officer/admin", &disable).await;
    assert_plain_failure(r, "disable with failing session revocation").await;
    let disabled: Option<i64> =
        sqlx::query_scalar("SELECT disabled_at FROM accounts WHERE id = $1")
            .bind(id)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(disabled, None, "not disabled without its sessions revoked");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events").await,
        audit_before
    );
    assert_eq!(clerk.get("/officer/mail").await.status(), 200);
    heal(&app, "sessions").await;
    let r = admin.post("/officer/admin", &disable).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        location(&clerk.get("/officer/mail").await),
        "/sign-in?why=required"
    );
}
