//! Case Status Online (`/status`) over HTTP against the real server.

mod common;

use common::spawn_app;

async fn body(resp: reqwest::Response) -> (u16, String) {
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

#[tokio::test]
async fn approved_case_shows_title_description_and_history_in_english() {
    let app = spawn_app().await;
    let (status, html) = body(app.get("/status?receipt=EAC9999103403").await).await;
    assert_eq!(status, 200);
    assert!(html.contains("<html lang=\"en\""));
    assert!(html.contains("Case Was Approved"));
    assert!(html.contains(
        "On September 5, 2023, we approved your Form I-130, Petition for Alien Relative, Receipt Number EAC9999103403."
    ));
    // History, newest first.
    let approved = html
        .find("On September 5, 2023, we approved your Form I-130.")
        .unwrap();
    let received = html
        .find("On January 10, 2023, we received your Form I-130")
        .unwrap();
    assert!(approved < received);
}

#[tokio::test]
async fn spanish_from_switcher_cookie_or_accept_language() {
    let app = spawn_app().await;
    let resp = app.get("/status?receipt=EAC9999103403&lang=es").await;
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("__Host-lang=es"))
        .expect("the switcher remembers the language");
    assert!(cookie.contains("SameSite=Lax"));
    let html = resp.text().await.unwrap();
    assert!(html.contains("<html lang=\"es\""));
    assert!(html.contains("Caso Fue Aprobado"));
    assert!(html.contains("El 5 de septiembre de 2023, aprobamos su Formulario I-130"));
    // The switcher keeps the receipt and offers English.
    assert!(html.contains("href=\"/status?receipt=EAC9999103403&#38;lang=en\""));

    let html = app
        .http
        .get(app.url("/status?receipt=EAC9999103403"))
        .header("accept-language", "es-MX,es;q=0.9,en;q=0.5")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Caso Fue Aprobado"));

    let html = app
        .http
        .get(app.url("/status?receipt=EAC9999103403"))
        .header("accept-language", "es")
        .header("cookie", "__Host-lang=en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Case Was Approved"),
        "the cookie beats the header"
    );
}

#[tokio::test]
async fn unknown_and_protected_receipts_get_the_same_answer() {
    let app = spawn_app().await;
    let protected: String = sqlx::query_scalar(
        "SELECT c.receipt_number FROM cases c JOIN persons p ON p.id = c.person_id WHERE p.protected = 1",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let (s1, unknown) = body(app.get("/status?receipt=EAC0000000000").await).await;
    let (s2, hidden) = body(app.get(&format!("/status?receipt={protected}")).await).await;
    assert_eq!(s1, 200);
    assert_eq!(s1, s2);
    assert!(unknown.contains("The receipt number entered is not recognized"));
    // Identical but for the echoed receipt number.
    assert_eq!(
        unknown.replace("EAC0000000000", "RECEIPT"),
        hidden.replace(&protected, "RECEIPT")
    );
    assert!(!hidden.contains("Actively Reviewed"));
}

/// A person protected after filing (a court order, say) disappears from the
/// public lookup at once, and a case written straight into the tables shows
/// its status and history: the one-read table follows every write.
#[tokio::test]
async fn later_writes_to_cases_people_and_history_reach_the_public_lookup() {
    let app = common::spawn_with(common::Options {
        extra: vec![("CASEGATE_STATUS_CACHE_TTL_MS", "0")],
        ..Default::default()
    })
    .await;
    let (_, before) = body(app.get("/status?receipt=EAC9999103403").await).await;
    assert!(before.contains("Case Was Approved"), "{before}");

    sqlx::query(
        "UPDATE persons SET protected = 1 WHERE id = \
         (SELECT person_id FROM cases WHERE receipt_number = 'EAC9999103403')",
    )
    .execute(app.db.pool())
    .await
    .unwrap();
    let (status, hidden) = body(app.get("/status?receipt=EAC9999103403").await).await;
    assert_eq!(status, 200);
    assert!(hidden.contains("The receipt number entered is not recognized"));
    assert!(!hidden.contains("Case Was Approved"));

    // History rows removed and added by hand (as the demo reset does).
    let case_id: i64 =
        sqlx::query_scalar("SELECT id FROM cases WHERE receipt_number = 'EAC9999103403'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    sqlx::query(
        "UPDATE persons SET protected = 0 WHERE id = (SELECT person_id FROM cases WHERE id = $1)",
    )
    .bind(case_id)
    .execute(app.db.pool())
    .await
    .unwrap();
    sqlx::query("DELETE FROM case_history WHERE case_id = $1")
        .bind(case_id)
        .execute(app.db.pool())
        .await
        .unwrap();
    let (_, bare) = body(app.get("/status?receipt=EAC9999103403").await).await;
    assert!(bare.contains("Case Was Approved"));
    assert!(!bare.contains("On January 10, 2023, we received your Form I-130"));
    sqlx::query(
        "INSERT INTO case_history (case_id, status, at, actor) VALUES ($1, 'case_was_received', 1673308800, 'test')",
    )
    .bind(case_id)
    .execute(app.db.pool())
    .await
    .unwrap();
    let (_, again) = body(app.get("/status?receipt=EAC9999103403").await).await;
    assert!(
        again.contains("On January 10, 2023, we received your Form I-130"),
        "{again}"
    );
    app.assert_status_rows_in_step().await;
}

#[tokio::test]
async fn malformed_input_explains_the_format_and_keeps_what_was_typed() {
    let app = spawn_app().await;
    let (status, html) = body(app.get("/status?receipt=XYZ12%3Cb%3E").await).await;
    assert_eq!(status, 422);
    assert!(html.contains("A receipt number has 3 letters followed by 10 numbers"));
    assert!(html.contains("aria-invalid=\"true\""));
    // What they typed comes back, escaped.
    assert!(
        html.contains("value=\"XYZ12&#60;b&#62;\"") || html.contains("value=\"XYZ12&lt;b&gt;\"")
    );
    assert!(!html.contains("XYZ12<b>"));
    // Lower case, dashes and spaces are accepted.
    let (status, html) = body(app.get("/status?receipt=eac-99-991-03403").await).await;
    assert_eq!(status, 200);
    assert!(html.contains("Case Was Approved"));
}

#[tokio::test]
async fn sandbox_cases_without_history_show_no_timeline() {
    let app = spawn_app().await;
    let (status, html) = body(app.get("/status?receipt=LIN9999106501").await).await;
    assert_eq!(status, 200);
    assert!(html.contains("Interview Was Scheduled"));
    assert!(!html.contains("Case history"));
}

#[tokio::test]
async fn every_page_carries_the_security_headers() {
    let app = spawn_app().await;
    for path in [
        "/",
        "/status",
        "/status?receipt=EAC9999103403",
        "/nope",
        "/assets/casegate.css",
    ] {
        let resp = app.get(path).await;
        let h = resp.headers();
        let csp = h.get("content-security-policy").unwrap().to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(h.get("strict-transport-security").is_some());
        assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
        assert_eq!(h.get("referrer-policy").unwrap(), "no-referrer");
    }
}

#[tokio::test]
async fn assets_are_served_from_the_binary_with_types_and_etags() {
    let app = spawn_app().await;
    let resp = app.get("/assets/uswds/css/uswds.min.css").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/css; charset=utf-8");
    let etag = resp.headers()["etag"].to_str().unwrap().to_string();
    let again = app
        .http
        .get(app.url("/assets/uswds/css/uswds.min.css"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    let font = app
        .get("/assets/uswds/fonts/source-sans-pro/sourcesanspro-regular-webfont.woff2")
        .await;
    assert_eq!(font.status(), 200);
    assert_eq!(font.headers()["content-type"], "font/woff2");
    assert_eq!(app.get("/assets/../Cargo.toml").await.status(), 404);
    assert_eq!(app.get("/assets/nope.css").await.status(), 404);
}

#[tokio::test]
async fn not_found_page_is_plain_language_in_the_visitors_language() {
    let app = spawn_app().await;
    let resp = app
        .http
        .get(app.url("/no/such/page"))
        .header("accept-language", "es")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let html = resp.text().await.unwrap();
    assert!(html.contains("No pudimos encontrar esa página"));
}

#[tokio::test]
async fn health_metrics_and_liveness() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz").await.text().await.unwrap(), "ok\n");
    assert_eq!(app.get("/livez").await.status(), 200);
    app.get("/status?receipt=EAC9999103403").await;
    let m = app.get("/metrics").await.text().await.unwrap();
    assert!(m.contains(
        "casegate_http_requests_total{method=\"GET\",route=\"/status\",status=\"2xx\"} 1"
    ));
    assert!(m.contains("casegate_http_request_duration_seconds_bucket"));
    assert!(m.contains("casegate_db_pool_connections"));
    // Demo paper filings queue their letters.
    assert!(m.contains("casegate_letters_queued 22"), "{m}");
}

#[tokio::test]
async fn healthz_fails_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.db.close().await;
    let resp = app.get("/healthz").await;
    assert_eq!(resp.status(), 503);
    assert_eq!(
        resp.text().await.unwrap(),
        "database unavailable\n",
        "plain text for load balancers"
    );
    let page = app.get("/status?receipt=EAC9999103403").await;
    assert_eq!(page.status(), 503);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("temporarily unavailable")
    );
}

#[tokio::test]
async fn framework_errors_become_plain_language_pages() {
    let app = spawn_app().await;
    let b = app.browser();
    // A body over the limit.
    let big = "a".repeat(2 * 1024 * 1024);
    let r = app
        .http
        .post(app.url("/sign-in"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "cookie",
            format!("__Host-csrf={}", b.cookie("__Host-csrf").unwrap()),
        )
        .body(format!("csrf={}&email={big}", b.csrf()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
    let html = r.text().await.unwrap();
    assert!(html.contains("We could not process your request"), "{html}");
    assert!(!html.contains("length limit"), "no library message");
    // On the API, the same as JSON.
    let r = app
        .http
        .post(app.url("/oauth/accesstoken"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["code"], 413);
}
