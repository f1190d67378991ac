//! The Case Status Online JSON (`/csol-api/…`) over HTTP against the real
//! server: field names and types as published clients read them.

mod common;

use common::spawn_app;
use serde_json::Value;

async fn get_json(app: &common::TestApp, path: &str, token: Option<&str>) -> (u16, Value) {
    let mut r = app.http.get(app.url(path));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let resp = r.send().await.unwrap();
    let s = resp.status().as_u16();
    (s, resp.json().await.unwrap())
}

fn assert_details_shape(d: &Value) {
    let obj = d.as_object().unwrap();
    let mut keys: Vec<_> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "actionCodeDesc",
            "actionCodeText",
            "empty",
            "formNum",
            "formTitle"
        ]
    );
    for k in ["actionCodeDesc", "actionCodeText", "formNum", "formTitle"] {
        assert!(obj[k].is_string(), "{k} is a string");
    }
    assert!(obj["empty"].is_boolean());
}

#[tokio::test]
async fn token_then_status_with_the_published_field_names() {
    let app = spawn_app().await;
    let (s, auth) = get_json(&app, "/csol-api/ui-auth", None).await;
    assert_eq!(s, 200);
    let token = auth["JwtResponse"]["accessToken"].as_str().unwrap();
    assert_eq!(token.split('.').count(), 3, "a JWT");

    let (s, v) = get_json(&app, "/csol-api/case-statuses/EAC9999103403", Some(token)).await;
    assert_eq!(s, 200);
    assert_eq!(v.as_object().unwrap().len(), 1);
    let r = &v["CaseStatusResponse"];
    let mut keys: Vec<_> = r.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["detailsEng", "detailsSpa", "isValid", "receiptNumber"]
    );
    assert_eq!(r["receiptNumber"], "EAC9999103403");
    assert_eq!(r["isValid"], true);
    assert_details_shape(&r["detailsEng"]);
    assert_details_shape(&r["detailsSpa"]);
    assert_eq!(r["detailsEng"]["formNum"], "I-130");
    assert_eq!(r["detailsEng"]["empty"], false);
    assert_eq!(r["detailsEng"]["actionCodeText"], "Case Was Approved");
    assert_eq!(r["detailsSpa"]["actionCodeText"], "Caso Fue Aprobado");
    assert!(
        r["detailsEng"]["actionCodeDesc"]
            .as_str()
            .unwrap()
            .starts_with("On September 5, 2023, we approved your Form I-130,")
    );
    assert!(
        r["detailsSpa"]["actionCodeDesc"]
            .as_str()
            .unwrap()
            .starts_with("El 5 de septiembre de 2023, aprobamos su Formulario I-130,")
    );
    assert!(!r["detailsEng"]["formTitle"].as_str().unwrap().is_empty());

    // The same texts as the public status page (one catalogue).
    let page = app
        .http
        .get(app.url("/status?receipt=EAC9999103403"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Case Was Approved"));

    // Some clients send no token: answered alike.
    let (s, bare) = get_json(&app, "/csol-api/case-statuses/eac-9999103403", None).await;
    assert_eq!((s, &bare), (200, &v));

    // A forged or garbled token is refused, so the client fetches a new one.
    let mut forged = token.to_string();
    forged.push('x');
    let resp = app
        .http
        .get(app.url("/csol-api/case-statuses/EAC9999103403"))
        .bearer_auth(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(
        resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
}

#[tokio::test]
async fn unknown_and_protected_receipts_answer_exactly_alike() {
    let app = spawn_app().await;
    let protected: String = sqlx::query_scalar(
        "SELECT c.receipt_number FROM cases c JOIN persons p ON p.id = c.person_id WHERE p.protected = 1",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let (s1, mut unknown) = get_json(&app, "/csol-api/case-statuses/EAC0000000000", None).await;
    let (s2, mut prot) =
        get_json(&app, &format!("/csol-api/case-statuses/{protected}"), None).await;
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(unknown["CaseStatusResponse"]["isValid"], false);
    assert_eq!(unknown["CaseStatusResponse"]["detailsEng"]["empty"], true);
    assert_details_shape(&unknown["CaseStatusResponse"]["detailsEng"]);
    assert_details_shape(&unknown["CaseStatusResponse"]["detailsSpa"]);
    assert_eq!(
        prot["CaseStatusResponse"]["receiptNumber"],
        protected.as_str()
    );
    // Apart from the echoed receipt, byte for byte the same.
    unknown["CaseStatusResponse"]["receiptNumber"] = Value::Null;
    prot["CaseStatusResponse"]["receiptNumber"] = Value::Null;
    assert_eq!(unknown, prot);
}

/// Attack: a scraper walking a receipt range from one address is stopped.
#[tokio::test]
async fn a_range_walk_from_one_ip_gets_429_with_retry_after() {
    let app = spawn_app().await;
    for i in 0..60 {
        let (s, _) = get_json(
            &app,
            &format!("/csol-api/case-statuses/EAC99991{i:05}"),
            None,
        )
        .await;
        assert_eq!(s, 200, "lookup {i}");
    }
    let resp = app
        .http
        .get(app.url("/csol-api/case-statuses/EAC9999103403"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["code"], 429);
    // Fetching a fresh token does not reset the count.
    let (_, auth) = get_json(&app, "/csol-api/ui-auth", None).await;
    let token = auth["JwtResponse"]["accessToken"].as_str().unwrap();
    let (s, _) = get_json(&app, "/csol-api/case-statuses/EAC9999103403", Some(token)).await;
    assert_eq!(s, 429);
}

/// Issue 19 item 7: the OpenAPI document describes the status JSON with the
/// same field names the contract above pins, and the Torch API's new headers.
#[tokio::test]
async fn openapi_describes_the_status_json_and_torch_headers() {
    let app = spawn_app().await;
    let (s, v) = get_json(&app, "/api/openapi.json", None).await;
    assert_eq!(s, 200);
    assert!(v["paths"]["/csol-api/ui-auth"]["get"].is_object());
    let get = &v["paths"]["/csol-api/case-statuses/{receipt}"]["get"];
    for code in ["200", "401", "429"] {
        assert!(get["responses"][code].is_object(), "{code}");
    }
    let schemas = &v["components"]["schemas"];
    assert_eq!(
        schemas["CsolDetails"]["required"],
        serde_json::json!([
            "formNum",
            "formTitle",
            "actionCodeText",
            "actionCodeDesc",
            "empty"
        ])
    );
    assert_eq!(
        schemas["CsolCaseStatus"]["properties"]["CaseStatusResponse"]["required"],
        serde_json::json!(["receiptNumber", "isValid", "detailsEng", "detailsSpa"])
    );
    let torch = &v["paths"]["/case-status/{receiptNumber}"]["get"]["responses"];
    assert!(torch["304"].is_object());
    assert!(torch["200"]["headers"]["ETag"].is_object());
    assert!(torch["200"]["headers"]["X-RateLimit-Remaining"].is_object());
    assert!(torch["401"]["headers"]["WWW-Authenticate"].is_object());
}
