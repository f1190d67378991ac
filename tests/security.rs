//! Attack tests of the security review (issue 16), against the real server:
//! each one fails on the code before its fix.

mod common;

use casegate::auth::account::Role;
use common::{Browser, TestApp, location, spawn_app};

// ------------------------------------------- finding 5: officers are not applicants

const RECEIPT: &str = "YSC2608000001";

fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec()
}

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
