//! Intake: bulk CSV (CLI and API), duplicates, crash safety, codes, notices.

mod common;

use std::collections::HashSet;

use casegate::crypto::open;
use casegate::domain::AccessCode;
use common::{CSV_HEADER, Options, csv_row, spawn_app, spawn_with};

fn write_csv(dir: &std::path::Path, name: &str, rows: &[String]) -> std::path::PathBuf {
    let path = dir.join(name);
    let mut text = String::from(CSV_HEADER);
    text.push('\n');
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    path
}

fn no_demo() -> Options {
    Options {
        demo: false,
        ..Options::default()
    }
}

#[tokio::test]
async fn bad_rows_are_reported_by_line_and_good_rows_land_once() {
    let app = spawn_with(no_demo()).await;
    let mut rows: Vec<String> = (0..30)
        .map(|i| csv_row(i, if i % 3 == 0 { "online" } else { "paper" }))
        .collect();
    rows[4] = rows[4].replacen("A000100004", "A-000-000-000", 1); // line 6
    rows[9] = rows[9].replace("I-765", "I-999"); // line 11
    let path = write_csv(&app.data_dir, "filings.csv", &rows);
    let mut reported = vec![];
    let summary = casegate::flows::intake::cli::run_file(
        &app.db,
        &app.secrets,
        &path,
        7, // several batches
        90,
        app.clock.now(),
        false,
        &mut |line, reason| reported.push((line, reason.to_string())),
    )
    .await
    .unwrap();
    assert_eq!(
        reported,
        vec![
            (6, "invalid A-Number".to_string()),
            (11, "unknown form `I-999`".to_string())
        ]
    );
    assert_eq!(
        (summary.rows, summary.created, summary.rejected),
        (30, 28, 2)
    );
    let paper = rows
        .iter()
        .enumerate()
        .filter(|(i, r)| *i != 4 && *i != 9 && r.ends_with("paper,no"))
        .count() as i64;
    assert_eq!(summary.access_notices as i64, paper);
    assert_eq!(app.count("SELECT COUNT(*) FROM cases").await, 28);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM case_history WHERE status = 'case_was_received'")
            .await,
        28
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM notices WHERE kind = 'receipt'")
            .await,
        28
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM notices WHERE kind = 'access_notice' AND mail_state = 'queued'"
        )
        .await,
        paper
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM notices WHERE kind = 'receipt' AND mail_state = 'none'")
            .await,
        28 - paper
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM access_codes WHERE channel = 'notice'")
            .await,
        paper
    );

    // Rerun: nothing new.
    let again = casegate::flows::intake::cli::run_file(
        &app.db,
        &app.secrets,
        &path,
        5,
        90,
        app.clock.now(),
        false,
        &mut |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!((again.created, again.duplicates), (0, 28));
    assert_eq!(app.count("SELECT COUNT(*) FROM cases").await, 28);

    // Receipt numbers are unique, well formed, from the filing's office and fiscal year.
    let receipts: Vec<(String, String)> =
        sqlx::query_as("SELECT receipt_number, office FROM cases")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    let set: HashSet<_> = receipts.iter().map(|(r, _)| r.clone()).collect();
    assert_eq!(set.len(), 28);
    for (r, office) in &receipts {
        let parsed = casegate::domain::ReceiptNumber::parse(r).unwrap();
        assert_eq!(parsed.office().code(), office);
        assert_eq!(parsed.fiscal_year(), 27, "October 2026 is in FY2027");
    }
    app.assert_status_rows_in_step().await;
}

#[tokio::test]
async fn access_codes_are_stored_only_as_keyed_hashes_and_sealed_on_the_letter() {
    let app = spawn_with(no_demo()).await;
    let path = write_csv(&app.data_dir, "one.csv", &[csv_row(1, "paper")]);
    casegate::flows::intake::cli::run_file(
        &app.db,
        &app.secrets,
        &path,
        10,
        90,
        app.clock.now(),
        false,
        &mut |_, _| {},
    )
    .await
    .unwrap();
    let (hash, expires, issued): (Vec<u8>, i64, i64) =
        sqlx::query_as("SELECT code_hash, expires_at, issued_at FROM access_codes")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(expires - issued, 90 * 86_400);
    let (sealed, receipt): (Vec<u8>, String) = sqlx::query_as(
        "SELECT code_sealed, receipt_number FROM notices WHERE kind = 'access_notice'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let plain = open(&app.secrets.letter_key, receipt.as_bytes(), &sealed).unwrap();
    let code = AccessCode::parse(std::str::from_utf8(&plain).unwrap()).unwrap();
    assert_eq!(code.keyed_hash(&app.secrets.access_code_key).to_vec(), hash);
    assert!(!hash.windows(12).any(|w| w == code.as_str().as_bytes()));
    // Bound to its letter: it cannot be opened as another receipt's code.
    assert!(open(&app.secrets.letter_key, b"EAC0000000000", &sealed).is_err());
}

#[tokio::test]
async fn existing_people_are_found_not_duplicated() {
    let app = spawn_with(no_demo()).await;
    let first = csv_row(7, "paper");
    let second = first.replace("I-765", "I-131");
    let path = write_csv(&app.data_dir, "two.csv", &[first, second]);
    casegate::flows::intake::cli::run_file(
        &app.db,
        &app.secrets,
        &path,
        1,
        90,
        app.clock.now(),
        false,
        &mut |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM persons").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM cases").await, 2);
    app.assert_status_rows_in_step().await;
}

#[tokio::test]
async fn a_killed_intake_leaves_whole_cases_and_a_rerun_completes_it() {
    let app = spawn_with(no_demo()).await;
    let rows: Vec<String> = (0..12_000).map(|i| csv_row(i, "paper")).collect();
    let path = write_csv(&app.data_dir, "big.csv", &rows);
    let bin = env!("CARGO_BIN_EXE_casegate");
    let envs = [
        ("CASEGATE_DATA_DIR", app.data_dir.display().to_string()),
        ("DATABASE_URL", app.config.database_url.clone()),
        ("CASEGATE_MASTER_KEY", common::MASTER_KEY.to_string()),
        ("CASEGATE_INTAKE_BATCH_ROWS", "300".to_string()),
        ("CASEGATE_LOG", "warn".to_string()),
    ];
    let mut child = std::process::Command::new(bin)
        .arg("intake")
        .arg("--quiet")
        .arg(&path)
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once some batches have landed.
    let started = std::time::Instant::now();
    loop {
        let n = app.count("SELECT COUNT(*) FROM cases").await;
        if n >= 600 || started.elapsed().as_secs() > 60 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let cases = app.count("SELECT COUNT(*) FROM cases").await;
    assert!(cases > 0 && cases < 12_000, "killed mid-file: {cases}");
    assert_eq!(cases % 300, 0, "only whole batches land");
    for sql in [
        "SELECT COUNT(*) FROM case_history",
        "SELECT COUNT(*) FROM notices WHERE kind = 'receipt'",
        "SELECT COUNT(*) FROM notices WHERE kind = 'access_notice'",
        "SELECT COUNT(*) FROM access_codes",
    ] {
        assert_eq!(app.count(sql).await, cases, "{sql}");
    }
    let status = std::process::Command::new(bin)
        .arg("intake")
        .arg("--quiet")
        .arg(&path)
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let out = String::from_utf8_lossy(&status.stdout);
    assert!(out.contains(&format!("already imported: {cases}")), "{out}");
    assert_eq!(app.count("SELECT COUNT(*) FROM cases").await, 12_000);
    assert_eq!(app.count("SELECT COUNT(*) FROM notices").await, 24_000);
    app.assert_status_rows_in_step().await;
}

#[tokio::test]
async fn intake_over_the_api_needs_the_intake_scope() {
    let app = spawn_with(no_demo()).await;
    let body = format!(
        "{CSV_HEADER}\n{}\n{}\nA1,x\n",
        csv_row(1, "paper"),
        csv_row(2, "online")
    );
    let status_only = app.token(100, false).await;
    let r = app
        .http
        .post(app.url("/api/intake"))
        .bearer_auth(&status_only)
        .header("content-type", "text/csv")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = app
        .http
        .post(app.url("/api/intake"))
        .header("content-type", "text/csv")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let intake = app.token(100, true).await;
    let r = app
        .http
        .post(app.url("/api/intake"))
        .bearer_auth(&intake)
        .header("content-type", "text/csv")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["created"].as_array().unwrap().len(), 2);
    assert_eq!(v["errors"][0]["line"], 4);
    let receipt = v["created"][0]["receiptNumber"]
        .as_str()
        .unwrap()
        .to_string();
    // Codes exist only on the letters: the answer names receipts, never codes.
    for c in v["created"].as_array().unwrap() {
        let mut keys: Vec<&String> = c.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["accessNotice", "line", "receiptNumber"]);
    }
    // The new case is immediately visible on /status.
    let html = app
        .get(&format!("/status?receipt={receipt}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Case Was Received"));
    // Same body again: duplicates, no new cases.
    let r = app
        .http
        .post(app.url("/api/intake"))
        .bearer_auth(&intake)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["duplicates"].as_array().unwrap().len(), 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM cases").await, 2);
    app.assert_status_rows_in_step().await;
}

#[tokio::test]
async fn demo_data_is_idempotent_and_has_the_sandbox_receipts() {
    let app = spawn_app().await;
    let before = app.count("SELECT COUNT(*) FROM cases").await;
    casegate::demo::load(&app.db, &app.secrets, app.clock.now().timestamp())
        .await
        .unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM cases").await, before);
    for r in [
        "EAC9999103403",
        "LIN9999106498",
        "SRC9999102777",
        "EAC9999103400",
        "LIN9999106501",
        "SRC9999132694",
    ] {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases WHERE receipt_number = $1")
            .bind(r)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
        assert_eq!(n, 1, "{r}");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM cases WHERE receipt_number = 'EAC0000000000'")
            .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM persons WHERE protected = 1")
            .await,
        1
    );
    let statuses = app.count("SELECT COUNT(DISTINCT status) FROM cases").await;
    assert!(statuses >= 10, "{statuses} statuses");
    app.assert_status_rows_in_step().await;
}
