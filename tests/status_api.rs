//! The USCIS-compatible Case Status API over HTTP against the real server.

mod common;

use common::spawn_app;
use serde_json::Value;

async fn json(resp: reqwest::Response) -> (u16, Value) {
    let s = resp.status().as_u16();
    (s, resp.json().await.unwrap())
}

#[tokio::test]
async fn token_then_case_status_exactly_like_the_torch_api() {
    let app = spawn_app().await;
    let (id, secret) = app.api_client(10, false).await;
    let (status, tok) = json(
        app.http
            .post(app.url("/oauth/accesstoken"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", id.as_str()),
                ("client_secret", secret.as_str()),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(tok["token_type"], "Bearer");
    assert_eq!(tok["expires_in"], "1800");
    let token = tok["access_token"].as_str().unwrap();

    let (status, v) = json(
        app.http
            .get(app.url("/case-status/EAC9999103403"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(v["message"], "Query was successful");
    let cs = &v["case_status"];
    assert_eq!(cs["receiptNumber"], "EAC9999103403");
    assert_eq!(cs["formType"], "I-130");
    assert_eq!(cs["modifiedDate"], "09-05-2023 14:28:46");
    let submitted = cs["submittedDate"].as_str().unwrap();
    assert!(
        submitted.len() == 19
            && submitted.as_bytes()[2] == b'-'
            && submitted.as_bytes()[10] == b' ',
        "{submitted}"
    );
    assert_eq!(cs["current_case_status_text_en"], "Case Was Approved");
    assert_eq!(cs["current_case_status_text_es"], "Caso Fue Aprobado");
    assert!(
        cs["current_case_status_desc_en"]
            .as_str()
            .unwrap()
            .starts_with("On September 5, 2023, we approved your Form I-130,")
    );
    assert!(
        cs["current_case_status_desc_es"]
            .as_str()
            .unwrap()
            .starts_with("El 5 de septiembre de 2023, aprobamos su Formulario I-130,")
    );
    let hist = cs["hist_case_status"].as_array().unwrap();
    assert_eq!(hist.len(), 4);
    assert_eq!(hist[0]["date"], "2023-09-05");
    assert_eq!(hist[3]["date"], "2023-01-10");
    assert!(
        hist[0]["completed_text_en"]
            .as_str()
            .unwrap()
            .contains("approved")
    );
    assert!(
        hist[0]["completed_text_es"]
            .as_str()
            .unwrap()
            .contains("aprobamos")
    );

    // The sandbox's history-less cases answer null history.
    let (_, v) = json(
        app.http
            .get(app.url("/case-status/SRC9999132694"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(v["case_status"]["hist_case_status"].is_null());
    assert_eq!(
        v["case_status"]["current_case_status_text_en"],
        "Card Was Mailed To Me"
    );
}

#[tokio::test]
async fn error_codes_match_the_contract() {
    let app = spawn_app().await;
    let token = app.token(100, false).await;
    let get = |path: &str, auth: Option<&str>| {
        let mut r = app.http.get(app.url(path));
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        r.send()
    };
    let bearer = format!("Bearer {token}");
    let (s, v) = json(
        get("/case-status/EAC0000000000", Some(&bearer))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, v["code"].as_u64()), (404, Some(404)));
    let protected: String = sqlx::query_scalar(
        "SELECT c.receipt_number FROM cases c JOIN persons p ON p.id = c.person_id WHERE p.protected = 1",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let (s2, v2) = json(
        get(&format!("/case-status/{protected}"), Some(&bearer))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s2, &v2),
        (404, &v),
        "protected answers exactly like unknown"
    );
    let (s, v) = json(
        get("/case-status/EAC99991034", Some(&bearer))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, v["code"].as_u64()), (422, Some(422)));
    let (s, _) = json(
        get("/case-status/XYZ9999103403", Some(&bearer))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 422, "unknown office prefix is a format error");
    let (s, v) = json(get("/case-status/EAC9999103403", None).await.unwrap()).await;
    assert_eq!((s, v["code"].as_u64()), (401, Some(401)));
    let (s, _) = json(
        get("/case-status/EAC9999103403", Some("Bearer nope"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 401);
    // Lower case and dashes work in the path too.
    let (s, _) = json(
        get("/case-status/eac-9999103403", Some(&bearer))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200);
    // Unknown API routes answer JSON, not a page.
    let (s, v) = json(get("/api/nothing", Some(&bearer)).await.unwrap()).await;
    assert_eq!((s, v["code"].as_u64()), (404, Some(404)));
}

#[tokio::test]
async fn tokens_expire_after_1800_seconds() {
    let app = spawn_app().await;
    let token = app.token(100, false).await;
    app.clock.advance_secs(1799);
    let r = app
        .http
        .get(app.url("/case-status/EAC9999103403"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    app.clock.advance_secs(1);
    let r = app
        .http
        .get(app.url("/case-status/EAC9999103403"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn over_the_rate_answers_429_with_retry_after() {
    let app = spawn_app().await;
    let token = app.token(3, false).await;
    let mut codes = vec![];
    for _ in 0..5 {
        let r = app
            .http
            .get(app.url("/case-status/EAC9999103403"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        codes.push(r.status().as_u16());
        if r.status() == 429 {
            assert_eq!(r.headers()["retry-after"], "1");
            let v: Value = r.json().await.unwrap();
            assert_eq!(v["code"], 429);
        }
    }
    assert_eq!(codes, vec![200, 200, 200, 429, 429]);
    // The clock moves on one second: the bucket has refilled.
    app.clock.advance_secs(1);
    let r = app
        .http
        .get(app.url("/case-status/EAC9999103403"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn bad_credentials_and_grants_are_refused() {
    let app = spawn_app().await;
    let (id, secret) = app.api_client(10, false).await;
    let post = |form: Vec<(&'static str, String)>| {
        app.http
            .post(app.url("/oauth/accesstoken"))
            .form(&form)
            .send()
    };
    let (s, v) = json(
        post(vec![
            ("grant_type", "client_credentials".into()),
            ("client_id", id.clone()),
            ("client_secret", "wrong".into()),
        ])
        .await
        .unwrap(),
    )
    .await;
    assert_eq!((s, v["code"].as_u64()), (401, Some(401)));
    let (s2, v2) = json(
        post(vec![
            ("grant_type", "client_credentials".into()),
            ("client_id", "cgunknown".into()),
            ("client_secret", secret.clone()),
        ])
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(
        (s2, &v2),
        (401, &v),
        "unknown client and wrong secret look the same"
    );
    let (s, _) = json(
        post(vec![
            ("grant_type", "password".into()),
            ("client_id", id.clone()),
            ("client_secret", secret.clone()),
        ])
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(s, 400);
    // HTTP Basic is accepted too (RFC 6749 §2.3.1).
    let r = app
        .http
        .post(app.url("/oauth/accesstoken"))
        .basic_auth(&id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The secret is stored only as a keyed hash.
    let stored: Vec<u8> =
        sqlx::query_scalar("SELECT secret_hash FROM api_clients WHERE client_id = $1")
            .bind(&id)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(stored.len(), 32);
    assert_ne!(stored, secret.as_bytes());
}

#[tokio::test]
async fn openapi_document_describes_both_endpoints() {
    let app = spawn_app().await;
    let (s, v) = json(app.get("/api/openapi.json").await).await;
    assert_eq!(s, 200);
    assert!(v["paths"]["/oauth/accesstoken"]["post"].is_object());
    let responses = &v["paths"]["/case-status/{receiptNumber}"]["get"]["responses"];
    for code in ["200", "401", "404", "422", "429"] {
        assert!(responses[code].is_object(), "{code}");
    }
}

/// Issue 19 item 2: the details a client written for the real sandbox reads.
#[tokio::test]
async fn torch_exactness_dates_challenge_rate_headers_and_etag() {
    let app = spawn_app().await;
    let token = app.token(100, false).await;

    // submittedDate is when the case was received, never after modifiedDate.
    let resp = app
        .http
        .get(app.url("/case-status/EAC9999103403"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let h = resp.headers().clone();
    let v: Value = resp.json().await.unwrap();
    let cs = &v["case_status"];
    let parse = |s: &Value| {
        chrono::NaiveDateTime::parse_from_str(s.as_str().unwrap(), "%m-%d-%Y %H:%M:%S").unwrap()
    };
    let (sub, modi) = (parse(&cs["submittedDate"]), parse(&cs["modifiedDate"]));
    assert!(sub <= modi, "{sub} after {modi}");
    assert_eq!(sub.date().to_string(), "2023-01-10", "the received date");

    // The published field names and types, exactly.
    let mut top: Vec<_> = v.as_object().unwrap().keys().map(String::as_str).collect();
    top.sort_unstable();
    assert_eq!(top, ["case_status", "message"]);
    let mut keys: Vec<_> = cs.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "current_case_status_desc_en",
            "current_case_status_desc_es",
            "current_case_status_text_en",
            "current_case_status_text_es",
            "formType",
            "hist_case_status",
            "modifiedDate",
            "receiptNumber",
            "submittedDate",
        ]
    );
    for k in keys.iter().filter(|k| **k != "hist_case_status") {
        assert!(cs[*k].is_string(), "{k} is a string");
    }
    for entry in cs["hist_case_status"].as_array().unwrap() {
        let mut ek: Vec<_> = entry
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        ek.sort_unstable();
        assert_eq!(ek, ["completed_text_en", "completed_text_es", "date"]);
        assert!(ek.iter().all(|k| entry[*k].is_string()));
    }

    // Rate headers, in both spellings, on every authorized answer.
    for name in [
        "ratelimit",
        "ratelimit-policy",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
    ] {
        assert!(h.contains_key(name), "missing {name}");
    }
    assert_eq!(h["x-ratelimit-limit"], "1000000");
    assert_eq!(h["x-ratelimit-remaining"], "999999");
    assert!(
        h["ratelimit-policy"]
            .to_str()
            .unwrap()
            .contains("\"burst\";q=100;w=1")
    );

    // ETag, and If-None-Match answers 304 with no body.
    let etag = h["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    let r304 = app
        .http
        .get(app.url("/case-status/EAC9999103403"))
        .bearer_auth(&token)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r304.status(), 304);
    assert_eq!(r304.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(r304.headers()["x-ratelimit-remaining"], "999998");
    assert!(r304.bytes().await.unwrap().is_empty());
    let other = app
        .http
        .get(app.url("/case-status/EAC9999103403"))
        .bearer_auth(&token)
        .header("if-none-match", "\"stale\"")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);

    // 401 carries the RFC 6750 challenge.
    let none = app.get("/case-status/EAC9999103403").await;
    assert_eq!(none.status(), 401);
    assert_eq!(
        none.headers()["www-authenticate"],
        "Bearer realm=\"casegate\""
    );
    let bad = app
        .http
        .get(app.url("/case-status/EAC9999103403"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    assert!(
        bad.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer realm=\"casegate\", error=\"invalid_token\"")
    );
}

/// Issue 19 item 1: every staging receipt number developer.uscis.gov
/// publishes answers 200 — on the API, the status JSON and `/status` — with
/// history exactly where the sandbox lists it, and consistent dates.
#[tokio::test]
async fn all_fifty_sandbox_receipts_answer() {
    let app = spawn_app().await;
    let token = app.token(1_000, false).await;
    // Prefix (11 characters) and the last two digits, as published.
    let range = |p: &str, nums: &[u32]| -> Vec<String> {
        nums.iter().map(|n| format!("{p}{n:02}")).collect()
    };
    let mut with_history = range("EAC99991034", &[3, 4, 5, 10, 11, 16, 19]);
    with_history.extend(range("LIN99991064", &[98, 99]));
    with_history.extend(range("LIN99991065", &[4, 5, 6]));
    with_history.extend(range("SRC99991027", &(77..=87).collect::<Vec<_>>()));
    with_history.extend(range("SRC99991327", &[10, 19]));
    let mut without = range(
        "EAC99991034",
        &[
            0, 2, 6, 7, 8, 9, 12, 13, 14, 15, 20, 21, 24, 25, 26, 28, 29, 31, 32,
        ],
    );
    without.extend(range("LIN99991065", &[1, 7]));
    without.extend(range("SRC99991326", &[94, 95]));
    without.extend(range("SRC99991327", &[6, 7]));
    assert_eq!((with_history.len(), without.len()), (25, 25));
    let parse = |s: &Value| {
        chrono::NaiveDateTime::parse_from_str(s.as_str().unwrap(), "%m-%d-%Y %H:%M:%S").unwrap()
    };
    for (receipts, has_history) in [(&with_history, true), (&without, false)] {
        for r in receipts.iter() {
            assert_eq!(r.len(), 13, "{r}");
            let (s, v) = json(
                app.http
                    .get(app.url(&format!("/case-status/{r}")))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(s, 200, "{r}");
            let cs = &v["case_status"];
            assert_eq!(cs["receiptNumber"], r.as_str());
            assert!(
                parse(&cs["submittedDate"]) <= parse(&cs["modifiedDate"]),
                "{r}"
            );
            assert_eq!(
                cs["hist_case_status"].is_array(),
                has_history,
                "{r} history"
            );
            if let Some(h) = cs["hist_case_status"].as_array() {
                // Newest first, ending with the receipt.
                let dates: Vec<_> = h.iter().map(|e| e["date"].as_str().unwrap()).collect();
                let mut sorted = dates.clone();
                sorted.sort_unstable_by(|a, b| b.cmp(a));
                assert_eq!(dates, sorted, "{r}");
            }
            let csol = app.get(&format!("/csol-api/case-statuses/{r}")).await;
            let cv: Value = csol.json().await.unwrap();
            assert_eq!(cv["CaseStatusResponse"]["isValid"], true, "{r}");
            assert_eq!(
                cv["CaseStatusResponse"]["detailsEng"]["actionCodeText"],
                cs["current_case_status_text_en"]
            );
            let page = app.get(&format!("/status?receipt={r}")).await;
            assert_eq!(page.status(), 200, "{r}");
            let body = page
                .text()
                .await
                .unwrap()
                .replace("&#39;", "'")
                .replace("&#x27;", "'");
            let title = cs["current_case_status_text_en"].as_str().unwrap();
            assert!(body.contains(title), "{r}: /status shows {title}");
        }
    }
    app.assert_status_rows_in_step().await;
}

/// Issue 19 item 6: an officer action produces one of the new statuses, its
/// letter is issued, and every interface shows the agency's wording.
#[tokio::test]
async fn an_officer_reopens_a_denied_case_and_trackers_see_it() {
    let app = spawn_app().await;
    let adj = common::enrolled_account(
        &app,
        "adjudicator@agency.example",
        casegate::auth::account::Role::Adjudicator,
    )
    .await;
    // EAC9999103419: a sandbox I-131 that was denied.
    let r = adj
        .post(
            "/officer/cases/EAC9999103419/status",
            &[("to", "case_was_reopened")],
        )
        .await;
    assert_eq!(common::location(&r), "/officer/cases/EAC9999103419");
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM notices WHERE receipt_number = 'EAC9999103419'")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    assert!(kinds.contains(&"reopening".to_string()), "{kinds:?}");
    let csol: Value = app
        .get("/csol-api/case-statuses/EAC9999103419")
        .await
        .json()
        .await
        .unwrap();
    let r = &csol["CaseStatusResponse"];
    assert_eq!(r["detailsEng"]["actionCodeText"], "Case Was Reopened");
    assert_eq!(r["detailsSpa"]["actionCodeText"], "Caso Fue Reabierto");
    let html = app
        .get("/status?receipt=EAC9999103419")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Case Was Reopened"));
    // A case that was never denied cannot be "reopened".
    let r = adj
        .post(
            "/officer/cases/EAC9999103403/status",
            &[("to", "case_was_reopened")],
        )
        .await;
    assert!(common::location(&r).contains("EAC9999103403"));
    let (s, v) = json(
        app.http
            .get(app.url("/case-status/EAC9999103403"))
            .bearer_auth(app.token(10, false).await)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        v["case_status"]["current_case_status_text_en"],
        "Case Was Approved"
    );
    app.assert_status_rows_in_step().await;
}

/// Issue 19 item 6: scheduling a biometrics appointment records its time and
/// place in the appointment notice, and trackers see the agency's title.
#[tokio::test]
async fn an_officer_schedules_biometrics_with_time_and_place() {
    let app = spawn_app().await;
    let adj = common::enrolled_account(
        &app,
        "adjudicator@agency.example",
        casegate::auth::account::Role::Adjudicator,
    )
    .await;
    // A date in the past, or no place, is refused with the form's message.
    let r = adj
        .post(
            "/officer/cases/EAC9999103413/biometrics",
            &[("when", "2020-01-01 09:00"), ("place", "ASC")],
        )
        .await;
    assert_eq!(
        common::location(&r),
        "/officer/cases/EAC9999103413?error=interview"
    );
    // Attack: a mail-room officer may not do case work.
    let mail = common::enrolled_account(
        &app,
        "mailroom@agency.example",
        casegate::auth::account::Role::Mailroom,
    )
    .await;
    let r = mail
        .post(
            "/officer/cases/EAC9999103413/biometrics",
            &[("when", "2027-03-01 08:00"), ("place", "ASC")],
        )
        .await;
    // Outside the officer's role: refused as a missing page.
    assert_eq!(r.status(), 404);
    // EAC9999103413: a sandbox I-130 with its receipt notice sent.
    let r = adj
        .post(
            "/officer/cases/EAC9999103413/biometrics",
            &[
                ("when", "2027-03-01 08:00"),
                (
                    "place",
                    "Application Support Center, 100 Main St, Burlington VT",
                ),
            ],
        )
        .await;
    assert_eq!(common::location(&r), "/officer/cases/EAC9999103413");
    let (kind, body): (String, Option<String>) = sqlx::query_as(
        "SELECT kind, body FROM notices WHERE receipt_number = 'EAC9999103413' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(kind, "biometrics");
    let body = body.unwrap();
    assert!(body.contains("March 1, 2027 08:00"), "{body}");
    assert!(body.contains("100 Main St"), "{body}");
    let csol: Value = app
        .get("/csol-api/case-statuses/EAC9999103413")
        .await
        .json()
        .await
        .unwrap();
    let r = &csol["CaseStatusResponse"];
    assert_eq!(
        r["detailsEng"]["actionCodeText"],
        "Biometrics Appointment Was Scheduled"
    );
    assert_eq!(
        r["detailsSpa"]["actionCodeText"],
        "Cita de Servicios Biométricos Fue Programada"
    );
    app.assert_status_rows_in_step().await;
}
