//! The applicant's account over HTTP against the real server: linking with
//! every kind of code, concurrency, the case page and notices, evidence
//! uploads, processing times, change of address, notifications and the
//! authorization matrix.

mod common;

use casegate::domain::CaseStatus;
use common::samples::{jpeg, pdf, png, tiff};
use common::{Browser, TestApp, location, spawn_app};

async fn signed_in(app: &TestApp, email: &str) -> Browser {
    common::sign_in_demo(app, email).await
}

/// A second, fully enrolled applicant.
async fn second_applicant(app: &TestApp) -> Browser {
    common::enrolled_account(
        app,
        "bea@example.com",
        casegate::auth::account::Role::Applicant,
    )
    .await
}

async fn link(
    b: &Browser,
    receipt: &str,
    code: &str,
    dob: (&str, &str, &str),
) -> reqwest::Response {
    b.post(
        "/account/cases/add",
        &[
            ("receipt", receipt),
            ("code", code),
            ("dob_month", dob.0),
            ("dob_day", dob.1),
            ("dob_year", dob.2),
        ],
    )
    .await
}

const MARIA_DOB: (&str, &str, &str) = ("2", "14", "1985");
const ANA_DOB: (&str, &str, &str) = ("1", "9", "1990");

#[tokio::test]
async fn linking_with_the_notice_code_adds_every_case_of_the_person() {
    let app = spawn_app().await;
    let b = signed_in(&app, "maria.nunez@example.com").await;
    let r = link(&b, "EAC9999103403", "dem0-c0de-0001", MARIA_DOB).await;
    assert_eq!(location(&r), "/account/cases/EAC9999103403?linked=1");
    let (_, page) = b.text("/account").await;
    for receipt in ["EAC9999103403", "EAC9999103400"] {
        assert!(page.contains(receipt), "{receipt} in {page}");
    }
    let linked = app.count("SELECT COUNT(*) FROM cases c JOIN persons p ON p.id = c.person_id WHERE p.a_number = 'A012345678' AND c.account_id IS NOT NULL").await;
    let all = app.count("SELECT COUNT(*) FROM cases c JOIN persons p ON p.id = c.person_id WHERE p.a_number = 'A012345678'").await;
    assert_eq!(linked, all);
    // Again: already yours.
    let r = link(&b, "EAC9999103403", "DEM0C0DE0001", MARIA_DOB).await;
    assert!(r.text().await.unwrap().contains("already in your account"));
    // Another account: the case cannot be linked again, and the message says what to do.
    let bea = second_applicant(&app).await;
    let r = link(&bea, "EAC9999103400", "DEM0-C0DE-0004", MARIA_DOB).await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("already in another online account")
    );
}

#[tokio::test]
async fn wrong_expired_used_and_revoked_codes_each_say_so() {
    let app = spawn_app().await;
    let b = signed_in(&app, "maria.nunez@example.com").await;
    // Wrong date of birth: a generic "could not match".
    let r = link(&b, "LIN9999106498", "DEM0-C0DE-0002", ("7", "31", "1979")).await;
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("We could not match this information")
    );
    // Wrong code: the same answer (issue 16), and it burns nothing.
    for i in 0..5 {
        let r = link(&b, "LIN9999106498", "AAAA-BBBB-CCCC", ("7", "30", "1979")).await;
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("We could not match this information"),
            "try {i}"
        );
    }
    // A code that was locked (wrong tries on record) says so.
    sqlx::query("UPDATE access_codes SET wrong_tries = 5 WHERE code_hash = $1")
        .bind(
            casegate::domain::AccessCode::parse("DEM0C0DE0002")
                .unwrap()
                .keyed_hash(&app.secrets.access_code_key)
                .to_vec(),
        )
        .execute(app.db.pool())
        .await
        .unwrap();
    let r = link(&b, "LIN9999106498", "DEM0-C0DE-0002", ("7", "30", "1979")).await;
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("This access code is locked")
    );
    // Expired.
    sqlx::query("UPDATE access_codes SET expires_at = $1 WHERE code_hash = $2")
        .bind(app.clock.now().timestamp() - 1)
        .bind(
            casegate::domain::AccessCode::parse("DEM0C0DE0003")
                .unwrap()
                .keyed_hash(&app.secrets.access_code_key)
                .to_vec(),
        )
        .execute(app.db.pool())
        .await
        .unwrap();
    let r = link(&b, "SRC9999102777", "DEM0-C0DE-0003", ("11", "3", "1992")).await;
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("This access code has expired")
    );
    // Used and revoked.
    for (code, column, receipt, dob, expect) in [
        (
            "DEM0C0DE0006",
            "used_at",
            "SRC9999132694",
            ("4", "21", "1988"),
            "already used",
        ),
        (
            "DEM0C0DE0005",
            "revoked_at",
            "LIN9999106501",
            ANA_DOB,
            "no longer works",
        ),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE access_codes SET {column} = 1 WHERE code_hash = $1"
        )))
        .bind(
            casegate::domain::AccessCode::parse(code)
                .unwrap()
                .keyed_hash(&app.secrets.access_code_key)
                .to_vec(),
        )
        .execute(app.db.pool())
        .await
        .unwrap();
        let r = link(&b, receipt, code, dob).await;
        assert!(r.text().await.unwrap().contains(expect), "{code}");
    }
}

#[tokio::test]
async fn two_concurrent_redemptions_of_one_code_exactly_one_wins() {
    let app = spawn_app().await;
    let a = signed_in(&app, "maria.nunez@example.com").await;
    let b = second_applicant(&app).await;
    let (ra, rb) = tokio::join!(
        link(&a, "YSC2608000001", "DEM0-C0DE-0009", ANA_DOB),
        link(&b, "YSC2608000001", "DEM0-C0DE-0009", ANA_DOB)
    );
    let wins = [ra.status().as_u16(), rb.status().as_u16()]
        .iter()
        .filter(|s| **s == 303)
        .count();
    assert_eq!(wins, 1);
    let linked_to: Vec<i64> = sqlx::query_scalar(
        "SELECT DISTINCT account_id FROM cases WHERE receipt_number = 'YSC2608000001'",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(linked_to.len(), 1);
}

#[tokio::test]
async fn the_case_page_shows_status_history_notices_and_requests() {
    let app = spawn_app().await;
    let b = signed_in(&app, "maria.nunez@example.com").await;
    link(&b, "EAC9999103403", "DEM0-C0DE-0001", MARIA_DOB).await;
    let (status, page) = b.text("/account/cases/EAC9999103403").await;
    assert_eq!(status, 200);
    assert!(page.contains("Case Was Approved"));
    assert!(page.contains("On January 10, 2023, we received your Form I-130"));
    // The approval the history tells of is listed with its notice; the
    // Account Access Notice (a spent code) stays in the mail room.
    let id_of = |kind: &'static str| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT id FROM notices WHERE receipt_number = 'EAC9999103403' AND kind = $1",
            )
            .bind(kind)
            .fetch_one(db.pool())
            .await
            .unwrap()
        }
    };
    let access = id_of("access_notice").await;
    let id = id_of("approval").await;
    assert!(page.contains("Approval Notice"), "{page}");
    assert!(page.contains(&format!("/account/cases/EAC9999103403/notices/{id}")));
    assert!(!page.contains(&format!("/account/cases/EAC9999103403/notices/{access}\"")));
    assert!(!page.contains("Account Access Notice") && !page.contains("Not printed"));
    assert_eq!(
        b.get(&format!("/account/cases/EAC9999103403/notices/{access}"))
            .await
            .status(),
        404
    );
    // History and notices read newest first; no "no officer has acted"
    // above a history of decisions.
    assert!(!page.contains("No officer has acted"));
    let approved = page.find("we approved").unwrap_or(usize::MAX);
    let received = page.find("we received your Form I-130").unwrap_or(0);
    assert!(approved < received, "newest first");
    let r = b
        .get(&format!("/account/cases/EAC9999103403/notices/{id}"))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    assert!(
        !bytes.windows(9).any(|w| w == b"DEM0-C0DE"),
        "an applicant's copy never shows the code"
    );
}

#[tokio::test]
async fn someone_elses_objects_look_exactly_like_missing_ones() {
    let app = common::spawn_with(common::serving_unscanned()).await;
    let a = signed_in(&app, "maria.nunez@example.com").await;
    link(&a, "YSC2608000001", "DEM0-C0DE-0009", ANA_DOB).await;
    let request_id: i64 = sqlx::query_scalar("SELECT d.id FROM document_requests d JOIN cases c ON c.id = d.case_id WHERE c.receipt_number = 'YSC2608000001'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let notice_id: i64 = sqlx::query_scalar(
        "SELECT id FROM notices WHERE receipt_number = 'YSC2608000001' AND kind = 'receipt'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let pdf = pdf();
    let r = a
        .upload(
            &format!("/account/cases/YSC2608000001/requests/{request_id}/upload"),
            "lease.pdf",
            pdf,
        )
        .await;
    assert_eq!(r.status(), 303);
    let upload_id: i64 = sqlx::query_scalar("SELECT id FROM uploads")
        .fetch_one(app.db.pool())
        .await
        .unwrap();

    let paths = [
        "/account/cases/YSC2608000001".to_string(),
        format!("/account/cases/YSC2608000001/notices/{notice_id}"),
        format!("/account/cases/YSC2608000001/requests/{request_id}"),
        format!("/account/cases/YSC2608000001/requests/{request_id}/review"),
        format!("/account/cases/YSC2608000001/requests/{request_id}/uploads/{upload_id}"),
    ];
    let missing = [
        "/account/cases/EAC0000000000".to_string(),
        "/account/cases/YSC2608000001/notices/999999".to_string(),
        "/account/cases/YSC2608000001/requests/999999".to_string(),
        format!("/account/cases/YSC2608000001/requests/{request_id}/uploads/999999"),
    ];
    for p in &paths {
        assert_eq!(a.get(p).await.status(), 200, "the owner sees {p}");
    }
    // Anonymous: sent to sign in.
    let anon = app.browser();
    for p in &paths {
        assert_eq!(location(&anon.get(p).await), "/sign-in?why=required", "{p}");
    }
    // Another applicant: the same 404 page as for something that does not exist.
    let b = second_applicant(&app).await;
    let (_, not_found_body) = b.text(&missing[0]).await;
    let not_found_body = not_found_body.replace(&missing[0], "PATH");
    for p in paths.iter().chain(missing.iter()) {
        let (status, body) = b.text(p).await;
        assert_eq!(status, 404, "{p}");
        // Identical but for the page's own address (in the language switch).
        assert_eq!(body.replace(p.as_str(), "PATH"), not_found_body, "{p}");
    }
    // Nor can they post to it, add to it or remove the owner's file.
    let r = b
        .post(
            &format!("/account/cases/YSC2608000001/requests/{request_id}/submit"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 404);
    let r = b
        .post(
            &format!(
                "/account/cases/YSC2608000001/requests/{request_id}/uploads/{upload_id}/remove"
            ),
            &[],
        )
        .await;
    assert_eq!(r.status(), 404);
    let r = b
        .upload(
            &format!("/account/cases/YSC2608000001/requests/{request_id}/upload"),
            "mine.pdf",
            b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec(),
        )
        .await;
    assert_eq!(r.status(), 404);
    assert_eq!(app.count("SELECT COUNT(*) FROM uploads").await, 1);
}

#[tokio::test]
async fn evidence_uploads_are_checked_by_content_and_the_response_moves_the_case() {
    let app = common::spawn_with(common::serving_unscanned()).await;
    let a = signed_in(&app, "maria.nunez@example.com").await;
    link(&a, "YSC2608000001", "DEM0-C0DE-0009", ANA_DOB).await;
    let request_id: i64 = sqlx::query_scalar("SELECT d.id FROM document_requests d JOIN cases c ON c.id = d.case_id WHERE c.receipt_number = 'YSC2608000001'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let path = format!("/account/cases/YSC2608000001/requests/{request_id}/upload");
    let upload = |name: &'static str, bytes: Vec<u8>| a.upload(&path, name, bytes);
    let pdf = pdf();
    let jpeg = jpeg();
    let tiff = tiff();
    for (name, bytes) in [
        ("../../etc/passwd.pdf", pdf.clone()),
        ("photo.jpg", jpeg),
        ("scan.png", png()),
        ("page.tif", tiff),
    ] {
        let r = upload(name, bytes).await;
        assert_eq!(r.status(), 303, "{name}");
    }
    let names: Vec<(String, String, String)> =
        sqlx::query_as("SELECT display_name, mime, scan_state FROM uploads ORDER BY id")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    assert_eq!(names[0].0, "passwd.pdf");
    assert_eq!(
        names.iter().map(|n| n.1.as_str()).collect::<Vec<_>>(),
        vec!["application/pdf", "image/jpeg", "image/png", "image/tiff"]
    );
    assert!(
        names.iter().all(|n| n.2 == "not_scanned"),
        "no scanner configured: never a pretend-clean"
    );
    // Refused: a renamed executable, a truncated PDF, an oversized file.
    let mut exe = b"MZ\x90\x00This program cannot be run in DOS mode".to_vec();
    exe.resize(4096, 0);
    let r = upload("evidence.pdf", exe).await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("evidence.pdf: This file is a program, not a document.")
    );
    let r = upload("cut.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\n".to_vec()).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("damaged or incomplete"));
    let mut big = pdf.clone();
    big.resize(12 * 1024 * 1024 + 10, b' ');
    big.extend_from_slice(b"\n%%EOF\n");
    let r = upload("big.pdf", big).await;
    assert!(r.status() == 422 || r.status() == 413, "{}", r.status());
    assert_eq!(app.count("SELECT COUNT(*) FROM uploads").await, 4);
    // Stored under random names outside any served folder, with their SHA-256.
    let (key, sha): (String, String) =
        sqlx::query_as("SELECT storage_key, sha256 FROM uploads ORDER BY id LIMIT 1")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(key.len(), 32);
    let stored = std::fs::read(app.data_dir.join("uploads").join(&key[..2]).join(&key)).unwrap();
    assert_eq!(stored, pdf);
    assert_eq!(sha, hex::encode(casegate::crypto::sha256(&pdf)));
    // Served back only as an attachment of the checked type.
    let id: i64 = sqlx::query_scalar("SELECT id FROM uploads ORDER BY id LIMIT 1")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let r = a
        .get(&format!(
            "/account/cases/YSC2608000001/requests/{request_id}/uploads/{id}"
        ))
        .await;
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    // Submit: the case moves on, history records it, a receipt lists the files.
    let r = a
        .post(
            &format!("/account/cases/YSC2608000001/requests/{request_id}/submit"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 303);
    let receipt_path = format!("/account/cases/YSC2608000001/requests/{request_id}/receipt");
    assert_eq!(location(&r), receipt_path);
    let page = a.get(&receipt_path).await.text().await.unwrap();
    assert!(page.contains("We received your response"), "{page}");
    // Plain words for the applicant; the hash and MIME types stay with officers.
    assert!(!page.contains(&sha) && !page.contains("SHA-256"), "{page}");
    assert!(!page.contains("application/pdf") && !page.contains("image/jpeg"));
    for words in ["PDF document", "JPEG image", "PNG image", "TIFF image"] {
        assert!(page.contains(words), "{words}");
    }
    let status: String =
        sqlx::query_scalar("SELECT status FROM cases WHERE receipt_number = 'YSC2608000001'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(status, CaseStatus::EvidenceResponseReceived.code());
    let html = app
        .get("/status?receipt=YSC2608000001")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(
        "Response To Example Immigration Services Agency Request For Evidence Was Received"
    ));
    // Closed now.
    let r = upload("late.pdf", pdf).await;
    assert_eq!(r.status(), 422);
}

#[tokio::test]
async fn processing_times_follow_a_known_80th_percentile() {
    let app = spawn_app().await;
    // 10 decided I-765 cases at NBC, taking 10, 20, … 100 days: p80 = 80 days.
    let today = app.clock.now().date_naive();
    let mut rows = vec![];
    for i in 0..10u32 {
        let received = today - chrono::Days::new(u64::from(10 * (i + 1)) + 5);
        rows.push(format!(
            "A2000000{:02},P{i},Q{i},1980-01-01,1 Main St,,Lincoln,NE,68508,,I-765,NBC,{received},paper,no",
            i + 10
        ));
    }
    let body = format!("{}\n{}\n", common::CSV_HEADER, rows.join("\n"));
    let token = app.token(100, true).await;
    let r = app
        .http
        .post(app.url("/api/intake"))
        .bearer_auth(&token)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cases: Vec<(i64, String)> = sqlx::query_as("SELECT id, received_date FROM cases WHERE office = 'NBC' AND form = 'I-765' ORDER BY received_date DESC")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert_eq!(cases.len(), 10);
    for (i, (id, received)) in cases.iter().enumerate() {
        let received = chrono::NaiveDate::parse_from_str(received, "%Y-%m-%d").unwrap();
        let decided = received + chrono::Days::new(10 * (i as u64 + 1));
        sqlx::query("INSERT INTO case_history (case_id, status, at, actor) VALUES ($1, 'case_was_approved', $2, 'test')")
            .bind(id)
            .bind(decided.and_hms_opt(12, 0, 0).unwrap().and_utc().timestamp())
            .execute(app.db.pool())
            .await
            .unwrap();
    }
    casegate::flows::processing_times::store::refresh(&app.db, today, app.clock.now().timestamp())
        .await
        .unwrap();
    let fig = casegate::flows::processing_times::store::figure_for(&app.db, "I-765", "NBC", today)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((fig.cases, fig.p80_days, fig.median_days), (10, 80, 50));
    let (status, page) = app
        .browser()
        .text("/processing-times?form=I-765&office=NBC")
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("80 days"));
    assert!(page.contains("role=\"img\""), "a server-rendered chart");
    assert!(
        page.contains(
            &app.state
                .messages
                .long_date(casegate::i18n::Lang::En, today - chrono::Days::new(80))
        )
    );
}

#[tokio::test]
async fn a_changed_address_is_the_one_the_access_code_flow_checks() {
    let app = spawn_app().await;
    let b = signed_in(&app, "maria.nunez@example.com").await;
    link(&b, "EAC9999103403", "DEM0-C0DE-0001", MARIA_DOB).await;
    let fields = [
        ("street", "77 Ocean Drive"),
        ("unit", "Apartment 9"),
        ("city", "Miami"),
        ("state", "FL"),
        ("zip", "33139"),
    ];
    let r = b.post("/account/address", &fields).await;
    let page = r.text().await.unwrap();
    assert!(
        page.contains("77 OCEAN DR APT 9") && page.contains("MIAMI FL 33139"),
        "normalised for confirmation: {page}"
    );
    let r = b.post("/account/address/confirm", &fields).await;
    assert_eq!(location(&r), "/account/address?done=1");
    let street: String =
        sqlx::query_scalar("SELECT street FROM persons WHERE a_number = 'A012345678'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(street, "77 OCEAN DR");
    // The access-code flow now checks the new address.
    let person = casegate::flows::access_code::store::find_person(
        &app.db,
        &casegate::flows::access_code::form::Identifier::ANumber(
            casegate::domain::ANumber::parse("A012345678").unwrap(),
        ),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(person.address.delivery_line(), "77 OCEAN DR APT 9");
    assert_eq!(app.count("SELECT COUNT(*) FROM address_changes").await, 1);
}

#[tokio::test]
async fn a_case_update_emails_the_applicant_without_details_unless_turned_off() {
    let app = spawn_app().await;
    let b = signed_in(&app, "maria.nunez@example.com").await;
    link(&b, "EAC9999103403", "DEM0-C0DE-0001", MARIA_DOB).await;
    let case_id: i64 =
        sqlx::query_scalar("SELECT id FROM cases WHERE receipt_number = 'EAC9999103400'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    let before = app.count("SELECT COUNT(*) FROM outbox").await;
    common::change_status(
        &app,
        case_id,
        CaseStatus::ActivelyReviewed,
        "adjudicator",
        app.clock.now().timestamp(),
    )
    .await
    .unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, before + 1);
    let cfg = casegate::outbox::OutboxConfig::from_config(&app.config);
    let t = casegate::outbox::Transport::from_config(&cfg).unwrap();
    casegate::outbox::run_once(&app.db, &app.secrets, &t, &cfg, app.clock.now().timestamp())
        .await
        .unwrap();
    let mail: String = std::fs::read_dir(app.data_dir.join("outbox"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .find(|m| m.contains("was updated"))
        .unwrap();
    assert!(
        !mail.contains("EAC9999103400") && !mail.contains("012345678"),
        "no case details"
    );
    // A denied case cannot be reopened, and the state machine is the one judge.
    assert!(
        common::change_status(&app, case_id, CaseStatus::CardWasMailed, "x", 0)
            .await
            .is_err()
    );
    // Turned off: no email.
    b.post("/account/notifications", &[]).await;
    let before = app.count("SELECT COUNT(*) FROM outbox").await;
    common::change_status(
        &app,
        case_id,
        CaseStatus::CaseWasApproved,
        "adjudicator",
        app.clock.now().timestamp(),
    )
    .await
    .unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, before);
    let html = app
        .get("/status?receipt=EAC9999103400")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Case Was Approved"),
        "immediately visible on /status"
    );
}

/// With `CASEGATE_CLAMD` set, files wait as "pending scan"; a clean one is
/// marked clean, an infected one is quarantined. Needs a real clamd
/// (`scripts/test` starts one and sets `CASEGATE_TEST_CLAMD`).
#[tokio::test]
async fn uploads_are_scanned_by_a_real_clamd() {
    let Ok(addr) = std::env::var("CASEGATE_TEST_CLAMD") else {
        assert!(
            std::env::var_os("CASEGATE_REQUIRE_CLAMD").is_none(),
            "clamd is required but CASEGATE_TEST_CLAMD is unset"
        );
        eprintln!("CASEGATE_TEST_CLAMD unset: clamd test skipped (scripts/test runs it)");
        return;
    };
    let addr: &'static str = Box::leak(addr.into_boxed_str());
    let mut opts = common::Options::default();
    opts.extra.push(("CASEGATE_CLAMD", addr));
    let app = common::spawn_with(opts).await;
    let a = signed_in(&app, "maria.nunez@example.com").await;
    link(&a, "YSC2608000001", "DEM0-C0DE-0009", ANA_DOB).await;
    let request_id: i64 = sqlx::query_scalar("SELECT d.id FROM document_requests d JOIN cases c ON c.id = d.case_id WHERE c.receipt_number = 'YSC2608000001'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let eicar = concat!(
        "X5O!P%@AP[4\\PZX54(P^)7CC)7}$",
        "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
    );
    let clean = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec();
    let infected =
        format!("%PDF-1.4\n% {eicar}\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n").into_bytes();
    for (name, bytes) in [("clean.pdf", clean), ("infected.pdf", infected)] {
        let r = a
            .upload(
                &format!("/account/cases/YSC2608000001/requests/{request_id}/upload"),
                name,
                bytes,
            )
            .await;
        assert_eq!(r.status(), 303);
    }
    let mut states = vec![];
    for _ in 0..100 {
        states = sqlx::query_as::<_, (String, String, String)>(
            "SELECT display_name, scan_state, storage_key FROM uploads ORDER BY id",
        )
        .fetch_all(app.db.pool())
        .await
        .unwrap();
        if states.iter().all(|s| s.1 != "pending") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(states[0].1, "clean");
    assert_eq!(states[1].1, "infected");
    let key = &states[1].2;
    assert!(
        !app.data_dir
            .join("uploads")
            .join(&key[..2])
            .join(key)
            .exists(),
        "moved out"
    );
    assert!(
        app.data_dir
            .join("uploads")
            .join("quarantine")
            .join(key)
            .exists(),
        "into quarantine"
    );
    // The infection is audited (issue 16, finding 3).
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'evidence.infected'")
            .await,
        1
    );
}

/// The alert of an add-a-case answer (heading and body), without the echoed form.
fn link_alert(page: &str) -> String {
    let start = page.find("usa-alert").expect("an alert");
    let end = page[start..]
        .find("</div>\n</div>")
        .map_or(page.len(), |e| start + e);
    page[start..end].to_string()
}

/// Issue 16, finding 6: adding a case gives one answer whether the date of
/// birth or the code was wrong, and someone guessing cannot burn the real
/// owner's code.
#[tokio::test]
async fn a_failed_match_reveals_nothing_and_does_not_burn_the_owners_code() {
    let app = spawn_app().await;
    let b = second_applicant(&app).await;
    // Wrong date of birth vs right date of birth, both with a wrong code.
    let wrong_dob = link(&b, "LIN9999106498", "AAAA-BBBB-CCCC", ("7", "31", "1979")).await;
    let right_dob = link(&b, "LIN9999106498", "AAAA-BBBB-CCCC", ("7", "30", "1979")).await;
    assert_eq!(wrong_dob.status(), right_dob.status());
    assert_eq!(
        link_alert(&wrong_dob.text().await.unwrap()),
        link_alert(&right_dob.text().await.unwrap()),
        "the answer does not tell whether the date of birth matches the receipt"
    );
    // Many more wrong codes with the right date of birth...
    for _ in 0..8 {
        link(&b, "LIN9999106498", "AAAA-BBBB-CCCC", ("7", "30", "1979")).await;
    }
    // ...and the owner's real code still works.
    let owner = signed_in(&app, "maria.nunez@example.com").await;
    let r = link(
        &owner,
        "LIN9999106498",
        "DEM0-C0DE-0002",
        ("7", "30", "1979"),
    )
    .await;
    assert_eq!(location(&r), "/account/cases/LIN9999106498?linked=1");
}

/// Issue 16, finding 4: an address change needs a recent re-authentication
/// (password + second factor), not just a live session.
#[tokio::test]
async fn an_address_change_needs_a_recent_reauthentication() {
    let app = spawn_app().await;
    let b = signed_in(&app, "maria.nunez@example.com").await;
    link(&b, "EAC9999103403", "DEM0-C0DE-0001", MARIA_DOB).await;
    // Keep the session alive while the authentication ages.
    for _ in 0..4 {
        app.clock.advance_secs(5 * 60);
        assert_eq!(b.get("/account").await.status(), 200);
    }
    let fields = [
        ("street", "77 Ocean Drive"),
        ("unit", ""),
        ("city", "Miami"),
        ("state", "FL"),
        ("zip", "33139"),
    ];
    let r = b.post("/account/address/confirm", &fields).await;
    assert_eq!(location(&r), "/account/reauth?next=address");
    let street: String =
        sqlx::query_scalar("SELECT street FROM persons WHERE a_number = 'A012345678'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_ne!(street, "77 OCEAN DR", "not changed");
    // Password + second factor bring the person back to the address form.
    let (_, page) = b.text("/account/reauth?next=address").await;
    assert!(page.contains("name=\"next\" value=\"address\""));
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
                ("next", "address"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/account/address");
    let r = b.post("/account/address/confirm", &fields).await;
    assert_eq!(location(&r), "/account/address?done=1");
}

/// Proves: several files chosen at once are staged as a draft, each can be
/// removed before sending (bytes and row gone), a wrong-type file is named
/// for what it is, the review page lists the staged files before the send,
/// a sent file can no longer be removed, and a draft left alone expires with
/// its files.
#[tokio::test]
async fn evidence_is_staged_reviewed_and_sent_and_an_abandoned_draft_expires() {
    let app = common::spawn_with(common::serving_unscanned()).await;
    let a = signed_in(&app, "maria.nunez@example.com").await;
    link(&a, "YSC2608000001", "DEM0-C0DE-0009", ANA_DOB).await;
    let request_id: i64 = sqlx::query_scalar("SELECT d.id FROM document_requests d JOIN cases c ON c.id = d.case_id WHERE c.receipt_number = 'YSC2608000001'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let base = format!("/account/cases/YSC2608000001/requests/{request_id}");
    // The call to action, on My cases and on the case page.
    let mine = a.get("/account").await.text().await.unwrap();
    assert!(mine.contains("Action required: respond by"), "{mine}");
    let case = a
        .get("/account/cases/YSC2608000001")
        .await
        .text()
        .await
        .unwrap();
    assert!(case.contains("Action required: respond by"));
    assert!(case.contains(&format!("href=\"{base}\"")));
    // Three files in one upload, one of them a Word document.
    let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec();
    let mut docx = b"PK\x03\x04".to_vec();
    docx.resize(30, 0);
    docx[26] = 17;
    docx.extend_from_slice(b"word/document.xml");
    docx.resize(200, 0);
    let r = a
        .upload_many(
            &format!("{base}/upload"),
            &[
                ("lease.pdf", pdf.clone()),
                ("letter.docx", docx),
                ("photo.jpg", jpeg()),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(
            "letter.docx: This file is a Word document. We accept PDF, JPEG, PNG or TIFF files"
        ),
        "{html}"
    );
    assert!(html.contains("2 files were added."));
    let ids: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, storage_key FROM uploads WHERE submitted_at IS NULL ORDER BY id",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(ids.len(), 2);
    let drafts = app.count("SELECT COUNT(*) FROM evidence_drafts").await;
    assert_eq!(drafts, 1);
    // The page lists them in words, with a remove button each.
    let page = a.get(&base).await.text().await.unwrap();
    assert!(page.contains("PDF document") && page.contains("JPEG image"));
    assert!(page.contains("Not checked for viruses yet"));
    assert!(page.contains(&format!("{base}/uploads/{}/remove", ids[1].0)));
    assert!(page.contains("type=\"file\" multiple"));
    // Remove the photo: row and stored bytes go.
    let (photo, photo_key) = ids[1].clone();
    let r = a.post(&format!("{base}/uploads/{photo}/remove"), &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), format!("{base}?removed=1"));
    assert_eq!(app.count("SELECT COUNT(*) FROM uploads").await, 1);
    let stored = app
        .data_dir
        .join("uploads")
        .join(&photo_key[..2])
        .join(&photo_key);
    assert!(!stored.exists(), "the removed file's bytes are deleted");
    // Officers see a response once it is sent, not the applicant's draft.
    let officer = common::sign_in_demo(&app, "admin@agency.example").await;
    let console = officer
        .get("/officer/cases/YSC2608000001")
        .await
        .text()
        .await
        .unwrap();
    assert!(!console.contains("lease.pdf"), "{console}");
    // Review lists what will be sent, and sends only on confirmation.
    let review = a.get(&format!("{base}/review")).await.text().await.unwrap();
    assert!(review.contains("Check your files before you send them"));
    assert!(review.contains("You are about to send 1 file"));
    assert!(review.contains("lease.pdf") && !review.contains("photo.jpg"));
    assert!(review.contains(&format!("action=\"{base}/submit\"")));
    let r = a.post(&format!("{base}/submit"), &[]).await;
    assert_eq!(r.status(), 303);
    let sha: String = sqlx::query_scalar("SELECT sha256 FROM uploads")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let console = officer
        .get("/officer/cases/YSC2608000001")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        console.contains("lease.pdf") && console.contains(&sha),
        "the officer's record keeps the hash"
    );
    // A sent file stays.
    let kept = ids[0].0;
    let r = a.post(&format!("{base}/uploads/{kept}/remove"), &[]).await;
    assert_eq!(r.status(), 422);
    assert_eq!(app.count("SELECT COUNT(*) FROM uploads").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM evidence_drafts").await, 0);

    // An abandoned draft on another case expires with its files.
    let other: i64 = sqlx::query_scalar(
        "INSERT INTO document_requests (case_id, kind, items, due_date, created_at) \
         SELECT case_id, 'additional', 'A lease', '2027-01-30', 0 FROM document_requests WHERE id = $1 RETURNING id",
    )
    .bind(request_id)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let other_base = format!("/account/cases/YSC2608000001/requests/{other}");
    let r = a
        .upload(&format!("{other_base}/upload"), "old.pdf", pdf)
        .await;
    assert_eq!(r.status(), 303);
    let key: String = sqlx::query_scalar("SELECT storage_key FROM uploads WHERE request_id = $1")
        .bind(other)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let path = app.data_dir.join("uploads").join(&key[..2]).join(&key);
    assert!(path.exists());
    let now = app.state.now().timestamp();
    assert_eq!(
        casegate::flows::evidence::expire_drafts(&app.state, now + 29 * 86_400)
            .await
            .unwrap(),
        0,
        "kept for 30 days"
    );
    assert_eq!(
        casegate::flows::evidence::expire_drafts(&app.state, now + 31 * 86_400)
            .await
            .unwrap(),
        1
    );
    assert!(!path.exists());
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM uploads WHERE request_id = $1")
        .bind(other)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(left, 0);
    // The sent response is untouched.
    assert_eq!(app.count("SELECT COUNT(*) FROM uploads").await, 1);
}
