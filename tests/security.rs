//! Attack tests of the security review (issue 16), against the real server:
//! each one fails on the code before its fix.

mod common;

use casegate::auth::account::Role;
use common::samples::pdf;
use common::{Browser, TestApp, location, spawn_app};

// ------------------------------------------- finding 5: officers are not applicants

const RECEIPT: &str = "YSC2608000001";

async fn account_id(app: &TestApp, email: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM accounts WHERE email = $1")
        .bind(email)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

/// Links the demo case to an account behind the server's back (as if an
/// officer had linked it before the fix).
async fn force_link(app: &TestApp, account: i64) {
    sqlx::query("UPDATE cases SET account_id = $1 WHERE receipt_number = $2")
        .bind(account)
        .bind(RECEIPT)
        .execute(app.db.pool())
        .await
        .unwrap();
}

async fn officers(app: &TestApp) -> Vec<(Browser, i64)> {
    let admin = common::sign_in_demo(app, "admin@agency.example").await;
    let mail = common::enrolled_account(app, "mail.room@agency.example", Role::Mailroom).await;
    vec![
        (admin, account_id(app, "admin@agency.example").await),
        (mail, account_id(app, "mail.room@agency.example").await),
    ]
}

/// The refusal: a 403 page in plain language that points to the console,
/// and an audit entry naming the officer.
async fn assert_refused(app: &TestApp, r: reqwest::Response, what: &str, officer: i64) {
    assert_eq!(r.status(), 403, "{what}");
    let body = r.text().await.unwrap();
    assert!(
        body.contains("href=\"/officer\""),
        "{what}: next step {body}"
    );
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_events WHERE action = 'authz.refused' AND subject = $1",
    )
    .bind(format!("account:{officer}"))
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert!(audited > 0, "{what}: refusal audited");
}

#[tokio::test]
async fn officers_cannot_link_an_applicants_case() {
    let app = spawn_app().await;
    for (b, id) in officers(&app).await {
        assert_refused(&app, b.get("/account/cases/add").await, "link form", id).await;
        let r = b
            .post(
                "/account/cases/add",
                &[
                    ("receipt", RECEIPT),
                    ("code", "DEM0-C0DE-0009"),
                    ("dob_month", "1"),
                    ("dob_day", "9"),
                    ("dob_year", "1990"),
                ],
            )
            .await;
        assert_refused(&app, r, "link", id).await;
        let linked: Option<i64> =
            sqlx::query_scalar("SELECT account_id FROM cases WHERE receipt_number = $1")
                .bind(RECEIPT)
                .fetch_one(app.db.pool())
                .await
                .unwrap();
        assert_eq!(linked, None, "the case stays unlinked");
    }
}

#[tokio::test]
async fn officers_cannot_upload_evidence_even_to_a_case_linked_to_them() {
    let app = spawn_app().await;
    let request_id: i64 = sqlx::query_scalar("SELECT d.id FROM document_requests d JOIN cases c ON c.id = d.case_id WHERE c.receipt_number = 'YSC2608000001'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    for (b, id) in officers(&app).await {
        force_link(&app, id).await;
        let path = format!("/account/cases/{RECEIPT}/requests/{request_id}");
        assert_refused(&app, b.get(&path).await, "request page", id).await;
        let r = b
            .upload(&format!("{path}/upload"), "lease.pdf", pdf())
            .await;
        assert_refused(&app, r, "upload", id).await;
        let r = b.post(&format!("{path}/submit"), &[]).await;
        assert_refused(&app, r, "submit", id).await;
        assert_eq!(app.count("SELECT COUNT(*) FROM uploads").await, 0);
    }
}

#[tokio::test]
async fn officers_cannot_change_an_applicants_address() {
    let app = spawn_app().await;
    let fields = [
        ("street", "1 Attacker Way"),
        ("unit", ""),
        ("city", "Miami"),
        ("state", "FL"),
        ("zip", "33139"),
    ];
    for (b, id) in officers(&app).await {
        force_link(&app, id).await;
        assert_refused(&app, b.get("/account/address").await, "address form", id).await;
        let r = b.post("/account/address", &fields).await;
        assert_refused(&app, r, "address preview", id).await;
        let r = b.post("/account/address/confirm", &fields).await;
        assert_refused(&app, r, "address change", id).await;
        let moved = app
            .count("SELECT COUNT(*) FROM persons WHERE street = '1 ATTACKER WAY'")
            .await;
        assert_eq!(moved, 0, "the mailing address did not move");
        assert_eq!(app.count("SELECT COUNT(*) FROM address_changes").await, 0);
    }
}

#[tokio::test]
async fn officers_cannot_read_notices_or_cases_as_applicants() {
    let app = spawn_app().await;
    let notice_id: i64 = sqlx::query_scalar(
        "SELECT id FROM notices WHERE receipt_number = 'YSC2608000001' AND kind = 'receipt'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    for (b, id) in officers(&app).await {
        force_link(&app, id).await;
        let r = b
            .get(&format!("/account/cases/{RECEIPT}/notices/{notice_id}"))
            .await;
        assert_refused(&app, r, "notice", id).await;
        let r = b.get(&format!("/account/cases/{RECEIPT}")).await;
        assert_refused(&app, r, "case page", id).await;
        let r = b.post("/account/notifications", &[("notify", "on")]).await;
        assert_refused(&app, r, "notifications", id).await;
        // Their own account pages (security, sign-out) still work, and the
        // account page sends them to the console.
        assert_eq!(b.get("/account/security").await.status(), 200);
        assert_eq!(location(&b.get("/account").await), "/officer");
    }
}

// ------------------------------------ finding 3: uploads under server-chosen names

/// Lets unscanned files be downloaded (no clamd in these tests).
const SERVE_UNSCANNED: (&str, &str) = ("CASEGATE_SERVE_UNSCANNED_UPLOADS", "1");

async fn spawn_opts(extra: &[(&'static str, &'static str)]) -> TestApp {
    let mut opts = common::Options::default();
    opts.extra.extend_from_slice(extra);
    common::spawn_with(opts).await
}

/// The demo applicant, linked to the case with the open request; the
/// request's page path.
async fn applicant_with_request(app: &TestApp) -> (Browser, String) {
    let b = common::sign_in_demo(app, "maria.nunez@example.com").await;
    let r = b
        .post(
            "/account/cases/add",
            &[
                ("receipt", RECEIPT),
                ("code", "DEM0-C0DE-0009"),
                ("dob_month", "1"),
                ("dob_day", "9"),
                ("dob_year", "1990"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let id: i64 = sqlx::query_scalar("SELECT d.id FROM document_requests d JOIN cases c ON c.id = d.case_id WHERE c.receipt_number = 'YSC2608000001'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    (b, format!("/account/cases/{RECEIPT}/requests/{id}"))
}

/// A valid PDF with `payload` placed after its first kilobyte.
fn pdf_with_deep(payload: &[u8]) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n1 0 obj<<>>endobj\n".to_vec();
    out.extend(vec![b' '; 2048]);
    out.extend_from_slice(payload);
    out.extend(vec![b' '; 2048]);
    out.extend_from_slice(b"\ntrailer<<>>\n%%EOF\n");
    out
}

#[tokio::test]
async fn uploads_are_served_under_a_server_chosen_name_with_the_detected_extension() {
    let app = spawn_opts(&[SERVE_UNSCANNED]).await;
    let (a, path) = applicant_with_request(&app).await;
    let r = a
        .upload(&format!("{path}/upload"), "invoice.hta", pdf())
        .await;
    assert_eq!(r.status(), 303);
    let id: i64 = sqlx::query_scalar("SELECT id FROM uploads")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    // The original name is shown, as text.
    let (_, page) = a.text(&path).await;
    assert!(page.contains("invoice.hta"));
    let officer = common::sign_in_demo(&app, "admin@agency.example").await;
    let officer_path = path.replace("/account/", "/officer/");
    for (who, b, p) in [
        ("applicant", &a, &path),
        ("officer", &officer, &officer_path),
    ] {
        let r = b.get(&format!("{p}/uploads/{id}")).await;
        assert_eq!(r.status(), 200, "{who}");
        let cd = r.headers()["content-disposition"].to_str().unwrap();
        assert_eq!(
            cd,
            format!("attachment; filename=\"evidence-{RECEIPT}-{id}.pdf\""),
            "{who}"
        );
        assert!(!cd.contains("hta"), "{who}: {cd}");
        let csp = r.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("sandbox"), "{who}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{who}: {csp}");
    }
}

#[tokio::test]
async fn polyglot_checks_cover_the_whole_file_and_refusals_are_audited() {
    let app = spawn_app().await;
    let (a, path) = applicant_with_request(&app).await;
    let hostile = [
        (
            "invoice.hta",
            pdf_with_deep(b"<script>new ActiveXObject('WScript.Shell').Run('calc')</script>"),
        ),
        (
            "deep-html.pdf",
            pdf_with_deep(b"<html><body onload=alert(1)>"),
        ),
        (
            "deep-exe.pdf",
            pdf_with_deep(b"MZ\x90\0\x03\0\0\0This program cannot be run in DOS mode"),
        ),
        (
            "deep-zip.pdf",
            pdf_with_deep(b"PK\x05\x06\0\0\0\0\x01\0\x01\0"),
        ),
    ];
    for (name, bytes) in hostile {
        assert!(bytes.len() > 4096);
        let r = a.upload(&format!("{path}/upload"), name, bytes).await;
        assert_eq!(r.status(), 422, "{name}");
        // Named for what it is: a PDF carrying something it must not.
        let html = r.text().await.unwrap();
        assert!(
            html.contains(&format!(
                "{name}: This file is a PDF document, but it contains something we cannot accept"
            )),
            "{name}: {html}"
        );
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM uploads").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'evidence.refused'")
            .await,
        4,
        "every refusal is audited"
    );
}

#[tokio::test]
async fn unscanned_files_are_not_downloadable_unless_the_operator_opts_in() {
    // No scanner: files are "not scanned". A scanner that cannot be reached:
    // files stay "pending". Neither is served (fail closed).
    for extra in [vec![], vec![("CASEGATE_CLAMD", "127.0.0.1:9")]] {
        let app = spawn_opts(&extra).await;
        let (a, path) = applicant_with_request(&app).await;
        let r = a
            .upload(&format!("{path}/upload"), "lease.pdf", pdf())
            .await;
        assert_eq!(r.status(), 303);
        let (id, state): (i64, String) = sqlx::query_as("SELECT id, scan_state FROM uploads")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
        assert_ne!(state, "clean");
        let officer = common::sign_in_demo(&app, "admin@agency.example").await;
        let officer_path = path.replace("/account/", "/officer/");
        for (who, b, p) in [
            ("applicant", &a, &path),
            ("officer", &officer, &officer_path),
        ] {
            let r = b.get(&format!("{p}/uploads/{id}")).await;
            assert_eq!(r.status(), 409, "{who} {state}");
            let body = r.text().await.unwrap();
            assert!(
                body.contains("not been checked for viruses yet"),
                "{who}: {body}"
            );
            assert!(!body.contains("%PDF"), "{who}");
        }
        // Once scanned clean it is served.
        sqlx::query("UPDATE uploads SET scan_state = 'clean'")
            .execute(app.db.pool())
            .await
            .unwrap();
        assert_eq!(a.get(&format!("{path}/uploads/{id}")).await.status(), 200);
    }
    // The operator's explicit opt-in serves unscanned files.
    let app = spawn_opts(&[SERVE_UNSCANNED]).await;
    let (a, path) = applicant_with_request(&app).await;
    a.upload(&format!("{path}/upload"), "lease.pdf", pdf())
        .await;
    let id: i64 = sqlx::query_scalar("SELECT id FROM uploads")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(a.get(&format!("{path}/uploads/{id}")).await.status(), 200);
}

// ------------------------------ finding 8: demo credentials do not outlive the demo

/// The real `casegate` binary as a child process.
struct Server {
    child: std::process::Child,
    addr: String,
    /// Where its log (stderr) goes.
    log: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Starts `casegate <args>` on the test's data folder and database; `Err`
/// carries what it printed when it exits instead of listening.
fn start_server(app: &TestApp, args: &[&str], env: &[(&str, &str)]) -> Result<Server, String> {
    use std::io::{BufRead, BufReader};
    let log = app.data_dir.with_extension(format!(
        "{}.log",
        casegate::crypto::random_hex(&mut rand::rngs::OsRng, 4)
    ));
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_casegate"));
    cmd.args(args)
        .env("CASEGATE_BIND", "127.0.0.1:0")
        .env("CASEGATE_DATA_DIR", &app.data_dir)
        .env("DATABASE_URL", &app.config.database_url)
        .env("CASEGATE_MASTER_KEY", common::MASTER_KEY)
        .env("CASEGATE_DB_MAX_CONNECTIONS", "5")
        .env("CASEGATE_LOG", "warn")
        .env_remove("CASEGATE_CONFIG")
        .env_remove("CASEGATE_SMTP_URL")
        .env_remove("CASEGATE_CLAMD")
        .env_remove("CASEGATE_MASTER_KEY_FILE")
        .env_remove("CASEGATE_ALLOW_KEY_IN_DATA_DIR")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap());
    for (k, v) in env {
        if v.is_empty() {
            cmd.env_remove(k);
        } else {
            cmd.env(k, v);
        }
    }
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(rest) = line.strip_prefix("casegate is listening on http://") {
                    break rest.trim().to_string();
                }
            }
            _ => {
                let _ = child.wait();
                let printed = std::fs::read_to_string(&log).unwrap_or_default();
                let _ = std::fs::remove_file(&log);
                return Err(printed);
            }
        }
    };
    std::thread::spawn(move || for _ in lines.by_ref() {});
    Ok(Server { child, addr, log })
}

async fn demo_password_accepted(app: &TestApp, base: &str, email: &str) -> bool {
    let mut b = app.browser();
    b.base = base.to_string();
    let r = b
        .post(
            "/sign-in",
            &[
                ("email", email),
                ("password", casegate::demo::DEMO_PASSWORD),
            ],
        )
        .await;
    location(&r) == "/sign-in/two-step"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_accounts_are_disabled_when_the_server_restarts_without_demo() {
    let app = common::spawn_with(common::Options {
        demo: false,
        ..common::Options::default()
    })
    .await;
    let demo = start_server(&app, &["serve", "--demo"], &[]).unwrap();
    let base = format!("http://{}", demo.addr);
    assert!(demo_password_accepted(&app, &base, "admin@agency.example").await);
    drop(demo);

    let real = start_server(&app, &["serve"], &[]).unwrap();
    let base = format!("http://{}", real.addr);
    for a in &casegate::demo::ACCOUNTS {
        assert!(
            !demo_password_accepted(&app, &base, a.email).await,
            "{} still signs in with the public demo password",
            a.email
        );
    }
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM accounts WHERE email IN ('maria.nunez@example.com', 'new.applicant@example.com', 'admin@agency.example') AND disabled_at IS NULL"
        )
        .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'demo.account_disabled'")
            .await,
        3
    );
    drop(real);

    // Back in demo mode, the demo works again.
    let demo = start_server(&app, &["serve", "--demo"], &[]).unwrap();
    let base = format!("http://{}", demo.addr);
    assert!(demo_password_accepted(&app, &base, "admin@agency.example").await);
}

// ------------------------------------------- finding 9: secrets beside the data

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_refuses_a_master_key_inside_the_data_folder_unless_told_otherwise() {
    let app = common::spawn_with(common::Options {
        demo: false,
        ..common::Options::default()
    })
    .await;
    let no_env_key = ("CASEGATE_MASTER_KEY", "");
    // A fresh folder and no key configured: refuse, and say how.
    let err = start_server(&app, &["serve"], &[no_env_key])
        .err()
        .expect("refused");
    assert!(err.contains("CASEGATE_MASTER_KEY_FILE"), "{err}");
    assert!(
        !app.data_dir.join("master.key").exists(),
        "no key written beside the data"
    );
    // The demo may keep its key in the data folder (its data is public).
    drop(start_server(&app, &["serve", "--demo"], &[no_env_key]).unwrap());
    let in_data = app.data_dir.join("master.key");
    assert!(in_data.exists());
    // An existing deployment with master.key in the data folder is not
    // silently locked out: it is told how to move the key or opt in.
    let err = start_server(&app, &["serve"], &[no_env_key])
        .err()
        .expect("refused");
    assert!(err.contains("inside the data folder"), "{err}");
    assert!(err.contains("CASEGATE_ALLOW_KEY_IN_DATA_DIR=1"), "{err}");
    drop(
        start_server(
            &app,
            &["serve"],
            &[no_env_key, ("CASEGATE_ALLOW_KEY_IN_DATA_DIR", "1")],
        )
        .expect("the explicit opt-in starts"),
    );
    // A key file named inside the data folder is refused the same way.
    let inside = in_data.display().to_string();
    let err = start_server(
        &app,
        &["serve"],
        &[no_env_key, ("CASEGATE_MASTER_KEY_FILE", inside.as_str())],
    )
    .err()
    .expect("refused");
    assert!(err.contains("inside the data folder"), "{err}");
    // Moved outside: it starts.
    let outside_dir = common::temp_dir("key");
    let outside = outside_dir.join("master.key");
    std::fs::rename(&in_data, &outside).unwrap();
    let outside = outside.display().to_string();
    drop(
        start_server(
            &app,
            &["serve"],
            &[no_env_key, ("CASEGATE_MASTER_KEY_FILE", outside.as_str())],
        )
        .expect("a key file outside the data folder starts"),
    );
}

#[tokio::test]
async fn backup_codes_are_stored_with_a_per_code_salt() {
    let app = spawn_app().await;
    // The two enrolled demo accounts were given the same backup codes.
    let rows: Vec<(i64, Vec<u8>, Option<Vec<u8>>)> = sqlx::query_as(
        "SELECT account_id, code_hash, salt FROM backup_codes ORDER BY account_id, id",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(rows.len(), 20);
    let mut hashes: Vec<&Vec<u8>> = rows.iter().map(|r| &r.1).collect();
    hashes.sort();
    hashes.dedup();
    assert_eq!(hashes.len(), 20, "equal codes do not give equal hashes");
    let mut salts: Vec<Vec<u8>> = rows.iter().map(|r| r.2.clone().unwrap()).collect();
    assert!(salts.iter().all(|s| s.len() == 16));
    salts.sort();
    salts.dedup();
    assert_eq!(salts.len(), 20);
    // And a backup code still signs in (once).
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
    assert_eq!(location(&r), "/sign-in/two-step");
    let code = casegate::demo::demo_backup_codes()[0].clone();
    let r = b.post("/sign-in/two-step", &[("backup_code", &code)]).await;
    assert_eq!(r.status(), 303);
    assert_ne!(location(&r), "/sign-in/two-step");
    let used = app
        .count("SELECT COUNT(*) FROM backup_codes WHERE used_at IS NOT NULL")
        .await;
    assert_eq!(used, 1);
}

// ------------------------------------------------ finding 11: a keyed audit chain

/// What someone with write access to the database (and the source code,
/// but not the master key) computes: the chain's published, unkeyed rule.
fn unkeyed_hash(prev: &str, seq: i64, e: &[String]) -> String {
    let mut material = String::new();
    for part in std::iter::once(prev.to_string())
        .chain(std::iter::once(seq.to_string()))
        .chain(e.iter().cloned())
    {
        material.push_str(&part.len().to_string());
        material.push(':');
        material.push_str(&part);
        material.push('|');
    }
    hex::encode(casegate::crypto::sha256(material.as_bytes()))
}

/// seq, at, actor, action, subject, ip, detail.
type AuditRow = (
    i64,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
);

fn audit_cli(app: &TestApp, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_casegate"))
        .args(args)
        .env("DATABASE_URL", &app.config.database_url)
        .env("CASEGATE_DATA_DIR", &app.data_dir)
        .env("CASEGATE_MASTER_KEY", common::MASTER_KEY)
        .env("CASEGATE_LOG", "error")
        .env_remove("CASEGATE_CONFIG")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

#[tokio::test]
async fn a_consistently_rewritten_audit_chain_is_found_without_the_key() {
    let app = spawn_app().await;
    // Real audited events: a sign-in and an officer's refusal.
    let admin = common::sign_in_demo(&app, "admin@agency.example").await;
    admin.get("/account/cases/add").await;
    let (ok, out) = audit_cli(&app, &["audit", "verify"]);
    assert!(ok, "{out}");
    // The attacker erases the refusal from its entry and recomputes every
    // link and the head with the unkeyed rule.
    sqlx::query(
        "UPDATE audit_events SET detail = 'nothing happened' WHERE action = 'authz.refused'",
    )
    .execute(app.db.pool())
    .await
    .unwrap();
    let rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT seq, at, actor, action, subject, ip, detail FROM audit_events ORDER BY seq",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    let mut prev = "0".repeat(64);
    for (seq, at, actor, action, subject, ip, detail) in rows {
        let parts = [
            at.to_string(),
            actor,
            action,
            subject.unwrap_or_default(),
            ip.unwrap_or_default(),
            detail,
        ];
        let h = unkeyed_hash(&prev, seq, &parts);
        sqlx::query("UPDATE audit_events SET prev_hash = $1, entry_hash = $2 WHERE seq = $3")
            .bind(&prev)
            .bind(&h)
            .bind(seq)
            .execute(app.db.pool())
            .await
            .unwrap();
        prev = h;
    }
    sqlx::query("UPDATE audit_head SET entry_hash = $1 WHERE id = 1")
        .bind(&prev)
        .execute(app.db.pool())
        .await
        .unwrap();
    let (ok, out) = audit_cli(&app, &["audit", "verify"]);
    assert!(!ok, "the rewrite is found: {out}");
    assert!(out.contains("BROKEN at entry 1"), "{out}");
}

#[tokio::test]
async fn a_recorded_head_finds_a_rolled_back_tail() {
    let app = spawn_app().await;
    let admin = common::sign_in_demo(&app, "admin@agency.example").await;
    let (ok, head) = audit_cli(&app, &["audit", "head"]);
    assert!(ok, "{head}");
    let head = head.trim().to_string();
    let (seq, hash) = head.split_once(':').unwrap();
    assert_eq!(hash.len(), 64, "{head}");
    let seq: i64 = seq.parse().unwrap();
    // More events, then the tail is rolled back to the recorded point and
    // the head row set back: a consistent (keyed) chain, one that verifies.
    admin.get("/account/cases/add").await;
    sqlx::query("DELETE FROM audit_events WHERE seq > $1")
        .bind(seq)
        .execute(app.db.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE audit_head SET seq = $1, entry_hash = $2 WHERE id = 1")
        .bind(seq)
        .bind(hash)
        .execute(app.db.pool())
        .await
        .unwrap();
    let (ok, out) = audit_cli(&app, &["audit", "verify", "--head", &head]);
    assert!(ok, "the recorded head is still there: {out}");
    // A rollback to before the recorded head is found.
    sqlx::query("DELETE FROM audit_events WHERE seq >= $1")
        .bind(seq)
        .execute(app.db.pool())
        .await
        .unwrap();
    let before: String = sqlx::query_scalar("SELECT entry_hash FROM audit_events WHERE seq = $1")
        .bind(seq - 1)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE audit_head SET seq = $1, entry_hash = $2 WHERE id = 1")
        .bind(seq - 1)
        .bind(&before)
        .execute(app.db.pool())
        .await
        .unwrap();
    let (ok, out) = audit_cli(&app, &["audit", "verify"]);
    assert!(
        ok,
        "without the recorded head the shortened chain verifies: {out}"
    );
    let (ok, out) = audit_cli(&app, &["audit", "verify", "--head", &head]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("recorded head is no longer in the log"),
        "{out}"
    );
}

#[tokio::test]
async fn an_unkeyed_chain_from_before_is_re_keyed_once_after_it_verifies() {
    let app = spawn_app().await;
    // A chain as the previous version wrote it: two unkeyed entries, and
    // migration 0012's flag.
    sqlx::query("DELETE FROM audit_events")
        .execute(app.db.pool())
        .await
        .unwrap();
    let mut prev = "0".repeat(64);
    for seq in 1..=2i64 {
        let parts = [
            "1800000000".to_string(),
            "system".into(),
            "old.event".into(),
            String::new(),
            String::new(),
            format!("n={seq}"),
        ];
        let h = unkeyed_hash(&prev, seq, &parts);
        sqlx::query("INSERT INTO audit_events (at, actor, action, subject, ip, detail, seq, prev_hash, entry_hash) VALUES (1800000000, 'system', 'old.event', NULL, NULL, $1, $2, $3, $4)")
            .bind(format!("n={seq}"))
            .bind(seq)
            .bind(&prev)
            .bind(&h)
            .execute(app.db.pool())
            .await
            .unwrap();
        prev = h;
    }
    sqlx::query("UPDATE audit_head SET seq = 2, entry_hash = $1, rekey_pending = 1 WHERE id = 1")
        .bind(&prev)
        .execute(app.db.pool())
        .await
        .unwrap();
    let (ok, out) = audit_cli(&app, &["audit", "verify"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("intact: 3 entries"),
        "re-keyed plus its own entry: {out}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'audit.rekeyed'")
            .await,
        1
    );
    let (ok, out) = audit_cli(&app, &["audit", "verify"]);
    assert!(ok && out.contains("intact: 3 entries"), "only once: {out}");
}

// ------------------------------------------------ finding 10: cookies and logs

const DEMO_TOTP: &[u8; 20] = b"casegate-demo-totp!!";

fn assert_cookie_rules(set_cookie: &str) {
    assert!(set_cookie.starts_with("__Host-"), "{set_cookie}");
    for attr in ["Path=/", "Secure", "HttpOnly", "SameSite=Lax"] {
        assert!(set_cookie.contains(attr), "{attr}: {set_cookie}");
    }
    assert!(!set_cookie.contains("Domain"), "{set_cookie}");
}

#[tokio::test]
async fn every_cookie_is_host_prefixed_secure_and_http_only() {
    let app = spawn_app().await;
    let r = app.get("/?lang=es").await;
    let cookies: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("__Host-lang=es")),
        "{cookies:?}"
    );
    for c in &cookies {
        assert_cookie_rules(c);
    }
    // The remembered language is used.
    let html = app
        .http
        .get(app.url("/"))
        .header("cookie", "__Host-lang=es")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("lang=\"es\""), "Spanish page");
    // Signing in sets the session cookie by the same rules.
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
    for c in r.headers().get_all("set-cookie") {
        assert_cookie_rules(c.to_str().unwrap());
    }
}

#[tokio::test]
async fn failed_authorization_is_logged_and_audited_with_the_actor() {
    let app = spawn_app().await;
    // An applicant at the console.
    let maria = common::sign_in_demo(&app, "maria.nunez@example.com").await;
    assert_eq!(maria.get("/officer").await.status(), 404);
    let maria_id = account_id(&app, "maria.nunez@example.com").await;
    // An officer outside their role (intake at the mail room).
    let intake = common::enrolled_account(&app, "intake@agency.example", Role::Intake).await;
    assert_eq!(intake.get("/officer/mail").await.status(), 404);
    let intake_id = account_id(&app, "intake@agency.example").await;
    // Another person's case.
    let other = common::enrolled_account(&app, "bea@example.com", Role::Applicant).await;
    force_link(&app, maria_id).await;
    assert_eq!(
        other
            .get(&format!("/account/cases/{RECEIPT}"))
            .await
            .status(),
        404
    );
    let other_id = account_id(&app, "bea@example.com").await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    for (actor, who) in [
        (format!("account:{maria_id}"), maria_id),
        ("officer:intake".to_string(), intake_id),
        (format!("account:{other_id}"), other_id),
    ] {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'authz.refused' AND actor = $1 AND subject = $2",
        )
        .bind(&actor)
        .bind(format!("account:{who}"))
        .fetch_one(app.db.pool())
        .await
        .unwrap();
        assert_eq!(n, 1, "{actor}");
    }
}

#[tokio::test]
async fn a_panicking_handler_answers_the_plain_500_page_with_a_request_id() {
    let app = spawn_app().await;
    async fn boom() -> &'static str {
        let fail = std::hint::black_box(true);
        if fail {
            panic!("secret detail in a panic");
        }
        "unreachable"
    }
    let routes =
        axum::Router::<casegate::app::AppState>::new().route("/boom", axum::routing::get(boom));
    let router = casegate::web::with_middleware(routes, app.state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let r = app
        .http
        .get(format!("http://{addr}/boom"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert!(r.headers().contains_key("x-request-id"));
    let body = r.text().await.unwrap();
    assert!(body.contains("Something went wrong on our side"), "{body}");
    assert!(
        !body.contains("secret detail") && !body.contains("panicked"),
        "{body}"
    );
    // The server still answers.
    let r = app
        .http
        .get(format!("http://{addr}/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_log_of_a_whole_journey_holds_no_secret_and_names_each_request() {
    use casegate::auth::totp::{self, TotpSecret};
    let app = common::spawn_with(common::Options {
        demo: false,
        ..common::Options::default()
    })
    .await;
    let mut server = start_server(
        &app,
        &["serve", "--demo"],
        &[("CASEGATE_LOG", "debug,sqlx=debug,hyper=info,h2=info")],
    )
    .unwrap();
    let mut b = app.browser();
    b.base = format!("http://{}", server.addr);
    // Sign in: password, then a TOTP code.
    let r = b
        .post(
            "/sign-in",
            &[
                ("email", "maria.nunez@example.com"),
                ("password", casegate::demo::DEMO_PASSWORD),
            ],
        )
        .await;
    assert_eq!(location(&r), "/sign-in/two-step");
    assert!(r.headers().contains_key("x-request-id"));
    let secret = TotpSecret::from_bytes(DEMO_TOTP).unwrap();
    let code = totp::code_at(&secret, totp::step_of(chrono::Utc::now().timestamp()));
    let r = b.post("/sign-in/two-step", &[("code", &code)]).await;
    assert_eq!(r.status(), 303);
    // A wrong code, a wrong access code, then the right one.
    let link = |code: &'static str| {
        [
            ("receipt", RECEIPT),
            ("code", code),
            ("dob_month", "1"),
            ("dob_day", "9"),
            ("dob_year", "1990"),
        ]
    };
    b.post("/account/cases/add", &link("ZZZZ-ZZZZ-ZZZZ")).await;
    let r = b.post("/account/cases/add", &link("DEM0-C0DE-0009")).await;
    assert_eq!(r.status(), 303);
    // Change of address, an upload, the case page, sign out.
    let fields = [
        ("street", "77 Ocean Drive"),
        ("unit", ""),
        ("city", "Miami"),
        ("state", "FL"),
        ("zip", "33139"),
    ];
    b.post("/account/address/confirm", &fields).await;
    let request_id: i64 = sqlx::query_scalar("SELECT d.id FROM document_requests d JOIN cases c ON c.id = d.case_id WHERE c.receipt_number = 'YSC2608000001'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let r = b
        .upload(
            &format!("/account/cases/{RECEIPT}/requests/{request_id}/upload"),
            "lease.pdf",
            pdf(),
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        b.get(&format!("/account/cases/{RECEIPT}")).await.status(),
        200
    );
    let session = b.cookie("__Host-casegate_session").unwrap();
    let csrf = b.cookie("__Host-csrf").unwrap();
    b.post("/sign-out", &[]).await;
    let a_number: String = sqlx::query_scalar(
        "SELECT p.a_number FROM persons p JOIN cases c ON c.person_id = p.id WHERE c.receipt_number = $1",
    )
    .bind(RECEIPT)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    drop(b);
    // Stop the server, read everything it logged (dropping it removes the log).
    let _ = server.child.kill();
    let _ = server.child.wait();
    let log = std::fs::read_to_string(&server.log).unwrap();
    drop(server);
    assert!(log.lines().count() > 10, "the log was written: {log}");
    let digits = a_number.trim_start_matches('A').to_string();
    for (what, secret) in [
        ("password", casegate::demo::DEMO_PASSWORD.to_string()),
        ("TOTP code", format!("code={code}")),
        ("access code", "DEM0-C0DE-0009".to_string()),
        ("access code", "DEM0C0DE0009".to_string()),
        ("wrong access code", "ZZZZ-ZZZZ-ZZZZ".to_string()),
        ("session token", session),
        ("CSRF token", csrf),
        ("A-Number", digits),
    ] {
        assert!(
            !log.contains(&secret),
            "the log holds the {what} `{secret}`"
        );
    }
    assert!(
        !log.contains(&format!("\"{code}\"")),
        "the log holds the TOTP code"
    );
    // Request lines carry the request id and the client IP; signed-in ones the actor.
    assert!(log.contains("request_id="), "{log}");
    assert!(log.contains("ip=127.0.0.1"), "{log}");
    assert!(log.contains("actor=applicant:"), "{log}");
    assert!(
        !log.contains('\u{1b}'),
        "no terminal colour codes in a log file"
    );
}

// ------------------------------- issue 18: backup codes are held, never leaked

/// Every log line of this test binary, from here on (a global subscriber at
/// TRACE, so nothing the server logs escapes the check).
fn captured_logs() -> std::sync::Arc<std::sync::Mutex<Vec<u8>>> {
    use std::sync::{Arc, Mutex, OnceLock};
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let w = buf.clone();
        let sub = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || Sink(w.clone()))
            .finish();
        let _ = tracing::subscriber::set_global_default(sub);
        buf
    })
    .clone()
}

fn codes_in(page: &str) -> Vec<String> {
    page.split("<code>")
        .skip(1)
        .filter_map(|s| s.split("</code>").next())
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn new_backup_codes_stay_with_their_session_until_saved_and_never_reach_the_logs() {
    let logs = captured_logs();
    let app = spawn_app().await;
    let maria = common::sign_in_demo(&app, "maria.nunez@example.com").await;
    let r = maria.post("/account/security/backup-codes", &[]).await;
    assert_eq!(r.status(), 200);
    let codes = codes_in(&r.text().await.unwrap());
    assert_eq!(codes.len(), 10);

    // Header links, other account pages and a typed address lead back to them.
    for path in [
        "/account",
        "/account/security",
        "/status",
        "/",
        "/account/cases/add",
    ] {
        assert_eq!(
            location(&maria.get(path).await),
            "/account/backup-codes",
            "{path}"
        );
    }
    let r = maria.post("/account/notifications", &[("on", "no")]).await;
    assert_eq!(
        location(&r),
        "/account/backup-codes",
        "a form elsewhere too"
    );
    // The language switch shows the same codes in Spanish.
    let (status, es) = maria.text("/account/backup-codes?lang=es").await;
    assert_eq!(status, 200);
    assert!(es.contains("Guarde sus códigos de respaldo"), "{es}");
    assert_eq!(codes_in(&es), codes, "the same codes");
    // Download: a text file, never cached.
    let r = maria.get("/account/backup-codes/download").await;
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert!(
        h["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"),
        "{h:?}"
    );
    assert_eq!(h["cache-control"], "no-store");
    assert!(
        h["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let txt = r.text().await.unwrap();
    assert!(codes.iter().all(|c| txt.contains(c.as_str())), "{txt}");
    // Print: a page with the codes and no header to leave by.
    let (status, print) = maria.text("/account/backup-codes/print").await;
    assert_eq!(status, 200);
    assert_eq!(codes_in(&print), codes);
    assert!(!print.contains("usa-header"));

    // At rest: sealed, not readable in the session row.
    let sealed: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT pending_backup_sealed FROM sessions WHERE pending_backup_sealed IS NOT NULL",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(sealed.len(), 1);
    for c in &codes {
        assert!(
            !sealed[0].windows(c.len()).any(|w| w == c.as_bytes()),
            "a code in clear in the database"
        );
    }

    // Another session of the same person (and the sealed row copied into
    // it) cannot read them.
    let other = common::sign_in_demo(&app, "maria.nunez@example.com").await;
    let other_hash = casegate::auth::session::hash_id(
        &app.secrets,
        &other.cookie("__Host-casegate_session").unwrap(),
    );
    sqlx::query("UPDATE sessions SET pending_backup_sealed = $1 WHERE id_hash = $2")
        .bind(&sealed[0])
        .bind(&other_hash)
        .execute(app.db.pool())
        .await
        .unwrap();
    let r = other.get("/account/backup-codes").await;
    assert_eq!(
        location(&r),
        "/account",
        "another session's codes do not open"
    );
    assert_eq!(
        other.get("/account/backup-codes/download").await.status(),
        404
    );
    assert_eq!(other.get("/account/backup-codes/print").await.status(), 404);
    sqlx::query("UPDATE sessions SET pending_backup_sealed = NULL WHERE id_hash = $1")
        .bind(&other_hash)
        .execute(app.db.pool())
        .await
        .unwrap();
    // Someone not signed in gets nothing either.
    assert_eq!(
        location(&app.browser().get("/account/backup-codes/download").await),
        "/sign-in?why=required"
    );

    // Continue without ticking the box: refused, codes still there.
    let r = maria.post("/account/backup-codes/confirm", &[]).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("usa-error-message"));
    assert_eq!(codes_in(&page), codes);
    // Confirmed: forgotten, and the page is gone.
    let r = maria
        .post("/account/backup-codes/confirm", &[("saved", "yes")])
        .await;
    assert_eq!(location(&r), "/account/security");
    assert_eq!(
        location(&maria.get("/account/backup-codes").await),
        "/account"
    );
    assert_eq!(
        maria.get("/account/backup-codes/download").await.status(),
        404
    );
    assert_eq!(maria.get("/account/security").await.status(), 200);
    let left: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE pending_backup_sealed IS NOT NULL")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(left, 0);

    // Never in the logs (which did capture this test's requests).
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).to_string();
    assert!(text.contains("/account/backup-codes"), "logs were captured");
    for c in &codes {
        assert!(!text.contains(c.as_str()), "a backup code in the logs");
        assert!(
            !text.contains(&c.replace('-', "")),
            "a backup code in the logs"
        );
    }
}
