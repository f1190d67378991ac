//! Hostile input against the real server (issue 7, "proof under pressure"):
//! oversized bodies, headers and URLs; slow clients; malformed multipart;
//! invalid UTF-8; SQL and HTML injection in every form; path traversal in
//! upload names; zip bombs and polyglots. Each is refused or neutralised
//! with a clear answer — never a 500, a stack trace, a database message or
//! raw input echoed as HTML — and the server is healthy afterwards.

mod common;

use std::time::{Duration, Instant};

use common::samples::{jpeg_with_comment, multipart, pdf};
use common::{Browser, Options, TestApp, assert_no_leak, between, location, spawn_app, spawn_with};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

// ---------------------------------------------------------------- helpers

const SESSION: &str = "__Host-casegate_session";

/// The injection string never comes back as live HTML (compared without
/// regard to case: addresses are upper-cased by normalisation).
fn assert_not_echoed(what: &str, body: &str, payload: &str) {
    if !payload.contains(['<', '>', '"']) {
        return;
    }
    let lower = body.to_lowercase();
    let p = payload.to_lowercase();
    assert!(!lower.contains(&p), "{what}: `{payload}` echoed raw");
    for fragment in ["<script>alert", "<img src=x", "onerror=alert(1)>"] {
        if p.contains(fragment) {
            assert!(!lower.contains(fragment), "{what}: `{fragment}` echoed raw");
        }
    }
}

/// `/healthz` answers 200 and a normal page still works, quickly.
async fn assert_healthy(app: &TestApp) {
    let started = Instant::now();
    let r = app.get("/healthz").await;
    assert_eq!(r.status(), 200, "healthz");
    let r = app.get("/status?receipt=EAC9999103403").await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("EAC9999103403"));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "normal requests are slow: {:?}",
        started.elapsed()
    );
}

/// Sends raw bytes and reads the answer until the server closes the
/// connection (or `limit` passes). The status is 0 when the connection was
/// closed or reset without an answer.
async fn raw(app: &TestApp, request: &[u8], limit: Duration) -> (u16, String) {
    let s = TcpStream::connect(app.addr).await.unwrap();
    // Read while writing: the server may answer (and close) before it has
    // read the whole request, and an answer read only after the write fails
    // could be lost to the connection reset that closing with unread data
    // causes.
    let (mut rd, mut wr) = s.into_split();
    let request = request.to_vec();
    let writer = tokio::spawn(async move {
        let _ = wr.write_all(&request).await;
        wr
    });
    let answer = read_answer(&mut rd, limit).await;
    let _ = writer.await;
    answer
}

async fn read_answer(
    s: &mut (impl tokio::io::AsyncRead + Unpin),
    limit: Duration,
) -> (u16, String) {
    let mut buf = Vec::new();
    let read = tokio::time::timeout(limit, async {
        let mut chunk = [0u8; 8192];
        loop {
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no answer and no close within {limit:?}");
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|t| t.get(..3))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// A raw request head with the visitor's cookies.
fn head(method: &str, target: &str, b: &Browser, extra: &str) -> String {
    let mut cookies = format!("__Host-csrf={}", b.cookie("__Host-csrf").unwrap());
    if let Some(s) = b.cookie(SESSION) {
        cookies.push_str(&format!("; {SESSION}={s}"));
    }
    format!("{method} {target} HTTP/1.1\r\nHost: localhost\r\nCookie: {cookies}\r\n{extra}\r\n")
}

fn pct(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The demo applicant with the open request for evidence on YSC2608000001,
/// and that request's upload path.
async fn applicant_with_request(app: &TestApp) -> (Browser, i64, String) {
    let b = common::sign_in_demo(app, "maria.nunez@example.com").await;
    let r = b
        .post(
            "/account/cases/add",
            &[
                ("receipt", "YSC2608000001"),
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
    let path = format!("/account/cases/YSC2608000001/requests/{id}");
    (b, id, path)
}

/// The `file` part, its name given as raw bytes (NUL, RTL marks, anything).
fn file_part(name: &[u8], body: Vec<u8>) -> (Vec<u8>, Vec<u8>) {
    common::samples::file_part(name, "application/octet-stream", body)
}

/// Posts a raw multipart body to the upload route with the visitor's
/// cookies and CSRF token.
async fn post_multipart(
    app: &TestApp,
    b: &Browser,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
    lang: &str,
) -> (u16, String, reqwest::header::HeaderMap) {
    let mut cookies = format!("__Host-csrf={}", b.cookie("__Host-csrf").unwrap());
    if let Some(s) = b.cookie(SESSION) {
        cookies.push_str(&format!("; {SESSION}={s}"));
    }
    let r = app
        .http
        .post(app.url(&format!("{path}/upload?csrf={}", b.csrf())))
        .header("cookie", cookies)
        .header("content-type", content_type)
        .header("accept-language", lang)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, r.text().await.unwrap(), headers)
}

async fn count_uploads(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM uploads").await
}

// ------------------------------------------------------- oversized bodies

#[tokio::test]
async fn oversized_bodies_are_refused_with_413_in_plain_language() {
    let app = spawn_app().await;
    let b = app.browser();
    // A form well over the 1 MiB limit, with a length announced...
    let big = "a".repeat(4 * 1024 * 1024);
    for lang in ["en", "es"] {
        let r = app
            .http
            .post(app.url("/sign-in"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept-language", lang)
            .header(
                "cookie",
                format!("__Host-csrf={}", b.cookie("__Host-csrf").unwrap()),
            )
            .body(format!("csrf={}&email={big}&password=x", b.csrf()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 413, "{lang}");
        assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
        let html = r.text().await.unwrap();
        let expected = if lang == "es" {
            "más grande de lo que aceptamos"
        } else {
            "larger than we accept"
        };
        assert!(html.contains(expected), "{lang}: {html}");
        assert_no_leak("form over the limit", &html);
    }
    // ... and sent chunked, with no length up front.
    let mut req = head(
        "POST",
        "/sign-in",
        &b,
        "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n",
    )
    .into_bytes();
    let chunk = vec![b'a'; 64 * 1024];
    req.extend_from_slice(format!("5\r\nemail\r\n{:x}\r\n", chunk.len()).as_bytes());
    let mut body = Vec::new();
    for _ in 0..32 {
        body.extend_from_slice(&chunk);
        body.extend_from_slice(format!("\r\n{:x}\r\n", chunk.len()).as_bytes());
    }
    req.extend_from_slice(&body);
    req.extend_from_slice(b"\r\n0\r\n\r\n");
    let (status, text) = raw(&app, &req, Duration::from_secs(10)).await;
    assert_eq!(status, 413, "chunked form");
    assert!(text.contains("larger than we accept"), "{text}");
    assert_healthy(&app).await;

    // An upload over the 12 MB limit (and over the 13 MB request cap).
    let (a, _, path) = applicant_with_request(&app).await;
    let too_big = {
        let mut v = pdf();
        v.resize(14 * 1024 * 1024, b' ');
        v
    };
    let r = a
        .upload(&format!("{path}/upload"), "big.pdf", too_big)
        .await;
    assert_eq!(r.status(), 413);
    let html = r.text().await.unwrap();
    assert!(html.contains("larger than we accept"), "{html}");
    assert_no_leak("upload over the limit", &html);
    // Just over 12 MB: refused on the form, in the visitor's words.
    let just_over = {
        let mut v = pdf();
        v.resize(12 * 1024 * 1024 + 100, b' ');
        v.extend_from_slice(b"\n%%EOF\n");
        v
    };
    let r = a
        .upload(&format!("{path}/upload"), "big.pdf", just_over)
        .await;
    // Under the request cap, so the form itself refuses it.
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("larger than 12 MB"));
    assert_eq!(count_uploads(&app).await, 0);
    assert_healthy(&app).await;

    // The API: JSON `{code, message}` with 413, both for the token endpoint
    // and for bulk intake.
    let token = app.token(100, true).await;
    for (path, auth) in [
        ("/oauth/accesstoken", None),
        ("/api/intake", Some(format!("Bearer {token}"))),
    ] {
        let mut req = app
            .http
            .post(app.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(big.clone());
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 413, "{path}");
        assert_eq!(r.headers()["content-type"], "application/json", "{path}");
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["code"], 413, "{path}");
        assert!(v["message"].is_string(), "{path}");
    }
    assert_healthy(&app).await;
}

// ------------------------------------------------- oversized headers, URLs

#[tokio::test]
async fn oversized_headers_and_urls_are_refused_not_hung() {
    let app = spawn_app().await;
    let limit = Duration::from_secs(10);
    // hyper answers 431 before the router (`raw` reads the answer while it
    // still writes, so a refusal that races the request is still seen).
    // One 64 KiB header.
    let req = format!(
        "GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    let (status, _) = raw(&app, req.as_bytes(), limit).await;
    assert_eq!(status, 431, "64 KiB header");
    // A thousand headers.
    let mut req = String::from("GET / HTTP/1.1\r\nHost: localhost\r\n");
    for i in 0..1000 {
        req.push_str(&format!("X-H{i}: v\r\n"));
    }
    req.push_str("Connection: close\r\n\r\n");
    let (status, _) = raw(&app, req.as_bytes(), limit).await;
    assert_eq!(status, 431, "1000 headers");
    // A huge cookie (the header a browser would actually grow).
    let req = format!(
        "GET / HTTP/1.1\r\nHost: localhost\r\nCookie: lang={}\r\nConnection: close\r\n\r\n",
        "e".repeat(100 * 1024)
    );
    let (status, _) = raw(&app, req.as_bytes(), limit).await;
    assert_eq!(status, 431, "huge cookie");
    assert_healthy(&app).await;
    // An oversized URL and query string.
    for target in [
        format!("/status?receipt={}", "A".repeat(100 * 1024)),
        format!("/{}", "a/".repeat(40 * 1024)),
        format!("/case-status/{}", "E".repeat(70 * 1024)),
    ] {
        let req = format!("GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        let (status, _) = raw(&app, req.as_bytes(), limit).await;
        assert_eq!(status, 431, "URL of {} bytes", target.len());
    }
    // Long but under the limits: answered normally, in plain language.
    let r = app
        .get(&format!("/status?receipt={}", "A".repeat(8 * 1024)))
        .await;
    // The status form answers a malformed receipt with 422 and its message.
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert_no_leak("long receipt", &html);
    assert!(!html.contains(&"A".repeat(200)), "long input not echoed");
    assert_healthy(&app).await;
}

// ------------------------------------------------------------ slow clients

fn slow() -> Options {
    Options {
        extra: vec![
            ("CASEGATE_HEADER_READ_TIMEOUT_SECS", "2"),
            ("CASEGATE_REQUEST_BODY_TIMEOUT_SECS", "3"),
        ],
        ..Options::default()
    }
}

#[tokio::test]
async fn the_timeouts_are_configuration_with_documented_defaults() {
    let c = common::test_config(std::path::Path::new("/tmp"), "sqlite://x.db", &[]);
    assert_eq!(c.header_read_timeout_secs, 20);
    assert_eq!(c.request_body_timeout_secs, 120);
    let c = common::test_config(
        std::path::Path::new("/tmp"),
        "sqlite://x.db",
        &[
            ("CASEGATE_HEADER_READ_TIMEOUT_SECS", "5"),
            ("CASEGATE_REQUEST_BODY_TIMEOUT_SECS", "7"),
        ],
    );
    assert_eq!(
        (c.header_read_timeout_secs, c.request_body_timeout_secs),
        (5, 7)
    );
}

#[tokio::test]
async fn slowloris_clients_are_disconnected_while_others_are_served() {
    let app = spawn_with(slow()).await;
    let started = Instant::now();
    let mut dribblers = Vec::new();
    for i in 0..50 {
        let addr = app.addr;
        dribblers.push(tokio::spawn(async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            let line = format!("GET /?n={i} HTTP/1.1\r\nHost: localhost\r\nX-Slow: ");
            let (mut rd, mut wr) = s.split();
            let writer = async {
                for byte in line.bytes().chain(std::iter::repeat(b'a')) {
                    if wr.write_all(&[byte]).await.is_err() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            };
            let reader = async {
                let mut buf = Vec::new();
                let _ = rd.read_to_end(&mut buf).await;
                buf
            };
            let answer = tokio::select! {
                buf = reader => buf,
                () = writer => Vec::new(),
            };
            (Instant::now(), String::from_utf8_lossy(&answer).to_string())
        }));
    }
    // Meanwhile, everyone else is served promptly.
    tokio::time::sleep(Duration::from_millis(800)).await;
    for _ in 0..5 {
        let t = Instant::now();
        let r = app.get("/status?receipt=EAC9999103403").await;
        assert_eq!(r.status(), 200);
        assert!(
            t.elapsed() < Duration::from_millis(1500),
            "a normal request took {:?} next to 50 slow clients",
            t.elapsed()
        );
    }
    // Every slow client is cut off by the 2 s header timeout (not at once,
    // and not never).
    for d in dribblers {
        let (closed_at, answer) = tokio::time::timeout(Duration::from_secs(10), d)
            .await
            .expect("a slow client is disconnected")
            .unwrap();
        let after = closed_at - started;
        assert!(
            after >= Duration::from_millis(1500) && after < Duration::from_secs(6),
            "closed after {after:?}"
        );
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "{answer}"
        );
    }
    assert_healthy(&app).await;
}

#[tokio::test]
async fn a_stalled_or_dripping_body_times_out_with_408() {
    let app = spawn_with(slow()).await;
    let b = app.browser();
    // A form that announces 1000 bytes, sends a few, then stalls.
    let slow_clients: Vec<_> = (0..50)
        .map(|_| {
            let addr = app.addr;
            let req = head(
                "POST",
                "/sign-in",
                &b,
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\nAccept-Language: es\r\n",
            );
            let csrf = b.csrf();
            tokio::spawn(async move {
                let started = Instant::now();
                let mut s = TcpStream::connect(addr).await.unwrap();
                s.write_all(req.as_bytes()).await.unwrap();
                s.write_all(format!("csrf={csrf}&email=").as_bytes())
                    .await
                    .unwrap();
                let answer = read_answer(&mut s, Duration::from_secs(10)).await;
                (started.elapsed(), answer)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let t = Instant::now();
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert!(t.elapsed() < Duration::from_millis(1000));
    for c in slow_clients {
        let (after, (status, text)) = c.await.unwrap();
        assert_eq!(status, 408, "{text}");
        assert!(text.contains("Esto tardó demasiado"), "{text}");
        assert_no_leak("stalled body", &text);
        assert!(
            after >= Duration::from_millis(2500) && after < Duration::from_secs(6),
            "{after:?}"
        );
    }
    // A body dripped one byte every 200 ms: the deadline is for the whole body.
    let mut s = TcpStream::connect(app.addr).await.unwrap();
    let req = head(
        "POST",
        "/sign-in",
        &b,
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n",
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let started = Instant::now();
    let (mut rd, mut wr) = s.split();
    let writer = async {
        loop {
            if wr.write_all(b"a").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let reader = async {
        let mut buf = Vec::new();
        let _ = rd.read_to_end(&mut buf).await;
        String::from_utf8_lossy(&buf).to_string()
    };
    let text = tokio::select! {
        t = reader => t,
        () = writer => String::new(),
    };
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("This took too long"));
    assert!(started.elapsed() < Duration::from_secs(6));
    // An upload that starts and stalls.
    let (a, _, path) = applicant_with_request(&app).await;
    let boundary = "XyZzY";
    let mut body = multipart(boundary, &[file_part(b"a.pdf", pdf())]);
    body.truncate(body.len() - 20);
    let mut s = TcpStream::connect(app.addr).await.unwrap();
    let req = head(
        "POST",
        &format!("{path}/upload?csrf={}", a.csrf()),
        &a,
        &format!(
            "Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n",
            body.len() + 5000
        ),
    );
    s.write_all(req.as_bytes()).await.unwrap();
    s.write_all(&body).await.unwrap();
    let (status, text) = read_answer(&mut s, Duration::from_secs(10)).await;
    assert_eq!(status, 408, "{text}");
    assert_eq!(count_uploads(&app).await, 0);
    assert_healthy(&app).await;
}

// ------------------------------------------------------ malformed multipart

#[tokio::test]
async fn malformed_multipart_is_a_400_on_the_upload_form() {
    let app = spawn_app().await;
    let (a, _, path) = applicant_with_request(&app).await;
    let good = multipart("AaB03x", &[file_part(b"a.pdf", pdf())]);
    let mut truncated = good.clone();
    truncated.truncate(good.len() / 2);
    let nameless = multipart(
        "AaB03x",
        &[(
            b"Content-Disposition: form-data; filename=\"a.pdf\"".to_vec(),
            pdf(),
        )],
    );
    let huge_header = multipart(
        "AaB03x",
        &[(
            format!(
                "Content-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\nX-Junk: {}",
                "j".repeat(256 * 1024)
            )
            .into_bytes(),
            pdf(),
        )],
    );
    let garbage_header = {
        let mut v = b"--AaB03x\r\n".to_vec();
        v.extend_from_slice(&vec![b'\xff'; 64 * 1024]);
        v.extend_from_slice(b"\r\n\r\n%PDF-1.4\r\n--AaB03x--\r\n");
        v
    };
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        ("no boundary", "multipart/form-data", good.clone()),
        (
            "wrong boundary",
            "multipart/form-data; boundary=SomethingElse",
            good.clone(),
        ),
        (
            "truncated",
            "multipart/form-data; boundary=AaB03x",
            truncated,
        ),
        ("no name", "multipart/form-data; boundary=AaB03x", nameless),
        (
            "huge part header",
            "multipart/form-data; boundary=AaB03x",
            huge_header,
        ),
        (
            "garbage part header",
            "multipart/form-data; boundary=AaB03x",
            garbage_header,
        ),
        ("not multipart", "application/pdf", pdf()),
        ("empty", "multipart/form-data; boundary=AaB03x", Vec::new()),
    ];
    for (what, content_type, body) in cases {
        let (status, html, _) = post_multipart(&app, &a, &path, content_type, body, "en").await;
        assert_eq!(status, 400, "{what}: {html}");
        assert!(
            html.contains("We could not read the upload"),
            "{what}: {html}"
        );
        assert!(html.contains("YSC2608000001"), "{what}: the form page");
        assert_no_leak(what, &html);
    }
    let (status, html, _) =
        post_multipart(&app, &a, &path, "multipart/form-data", good.clone(), "es").await;
    assert_eq!(status, 400);
    assert!(html.contains("No pudimos leer el archivo"), "{html}");
    assert_eq!(count_uploads(&app).await, 0);
    // The same well-formed body is accepted, so the refusals were about form.
    let (status, _, _) = post_multipart(
        &app,
        &a,
        &path,
        "multipart/form-data; boundary=AaB03x",
        good,
        "en",
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(count_uploads(&app).await, 1);
    assert_healthy(&app).await;
}

// ------------------------------------------------------------ invalid UTF-8

#[tokio::test]
async fn invalid_utf8_in_forms_queries_and_paths_is_never_a_500() {
    let app = spawn_app().await;
    let b = app.browser();
    // Form fields: percent-encoded and raw invalid bytes.
    for body in [
        format!("csrf={}&email=%FF%FE%00&password=%C3%28", b.csrf()).into_bytes(),
        {
            let mut v = format!("csrf={}&email=", b.csrf()).into_bytes();
            v.extend_from_slice(b"\xff\xfe\xc3\x28@example.com&password=\xed\xa0\x80");
            v
        },
    ] {
        // Sign-in, sign-up and password recovery refuse an email that is
        // not an email address as the person's error (422); recovery answers
        // every well-formed address alike, so it still reveals nothing.
        for (path, expected) in [
            ("/sign-in", 422),
            ("/sign-up", 422),
            ("/forgot-password", 422),
        ] {
            let r = app
                .http
                .post(app.url(path))
                .header("content-type", "application/x-www-form-urlencoded")
                .header(
                    "cookie",
                    format!("__Host-csrf={}", b.cookie("__Host-csrf").unwrap()),
                )
                .body(body.clone())
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let html = r.text().await.unwrap();
            assert_eq!(status, expected, "{path}: {html}");
            assert_no_leak(path, &html);
        }
    }
    // Query strings: a malformed receipt is a 422; an invalid language or a
    // reset link's fields are ignored or re-asked on a normal page.
    for (target, expected) in [
        ("/status?receipt=%FF%FE", 422),
        ("/status?receipt=EAC%C3%28", 422),
        ("/status?lang=%FF&receipt=EAC9999103403", 200),
        ("/forgot-password/reset?email=%FF&code=%FE", 200),
        ("/access-code?lang=%ED%A0%80", 200),
    ] {
        let r = app.get(target).await;
        let status = r.status().as_u16();
        let html = r.text().await.unwrap();
        assert_eq!(status, expected, "{target}");
        assert_no_leak(target, &html);
    }
    // Path segments (a signed-in visitor, so the handler is reached).
    let (a, id, _) = applicant_with_request(&app).await;
    // A routed path whose segment is not UTF-8 is a 400; an unrouted one a 404.
    for (target, expected) in [
        ("/account/cases/%FF%FE".to_string(), 400),
        (
            format!("/account/cases/YSC2608000001/requests/%FF{id}"),
            400,
        ),
        (
            "/account/cases/EAC%C3%289999103403/notices/1".to_string(),
            400,
        ),
        ("/assets/%FF%FE.css".to_string(), 400),
        ("/%FF".to_string(), 404),
    ] {
        let r = a.get(&target).await;
        let status = r.status().as_u16();
        let html = r.text().await.unwrap();
        assert_eq!(status, expected, "{target}: {html}");
        assert_no_leak(&target, &html);
    }
    // The API: JSON errors.
    let token = app.token(100, false).await;
    for target in ["/case-status/%FF%FE", "/case-status/EAC%C3%289999103403"] {
        let r = app
            .http
            .get(app.url(target))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        assert_eq!(status, 400, "{target}");
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["code"], status, "{target}");
    }
    // Raw bytes that are not even ASCII in the request line.
    let (status, _) = raw(
        &app,
        b"GET /status?receipt=\xff\xfe HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(status, 400, "raw bytes");
    let (status, _) = raw(
        &app,
        b"GET /account/cases/\xc3\x28 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(status, 400, "raw path");
    assert_healthy(&app).await;
}

// --------------------------------------------------------------- injection

const PAYLOADS: [&str; 7] = [
    "' OR 1=1 --",
    "'; DROP TABLE cases; --",
    "\" OR \"\"=\"",
    "1; SELECT pg_sleep(5)",
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "EAC9999103403' OR '1'='1",
];

/// Row counts of the tables an injection would hurt; a dropped table makes
/// the count itself fail.
async fn table_counts(app: &TestApp) -> Vec<(&'static str, i64)> {
    let mut out = Vec::new();
    for (name, sql) in [
        ("cases", "SELECT COUNT(*) FROM cases"),
        ("persons", "SELECT COUNT(*) FROM persons"),
        ("case_history", "SELECT COUNT(*) FROM case_history"),
        ("access_codes", "SELECT COUNT(*) FROM access_codes"),
        (
            "document_requests",
            "SELECT COUNT(*) FROM document_requests",
        ),
    ] {
        out.push((name, app.count(sql).await));
    }
    out
}

fn timed_ok(what: &str, started: Instant) {
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{what}: took {:?} (an injected sleep?)",
        started.elapsed()
    );
}

async fn check_answer(what: &str, payload: &str, r: reqwest::Response, started: Instant) {
    let status = r.status().as_u16();
    let body = r.text().await.unwrap();
    assert!(
        matches!(status, 200 | 303 | 400 | 401 | 403 | 404 | 422 | 429),
        "{what} with {payload:?}: {status}\n{body}"
    );
    assert_no_leak(what, &body);
    assert_not_echoed(what, &body, payload);
    timed_ok(what, started);
}

fn maria_access_form() -> Vec<(&'static str, String)> {
    [
        ("id_kind", "a_number"),
        ("a_number", "A-012-345-678"),
        ("receipt", ""),
        ("given_name", "maria jose"),
        ("family_name", "Nunez-Garcia"),
        ("dob_month", "2"),
        ("dob_day", "14"),
        ("dob_year", "1985"),
        ("street", "123 Main Street"),
        ("unit", "Apartment 4"),
        ("city", "springfield"),
        ("state", "IL"),
        ("zip", "62701"),
        ("delivery", "post"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect()
}

#[tokio::test]
async fn injection_in_every_public_form_is_answered_normally() {
    let app = spawn_with(Options {
        extra: vec![
            ("CASEGATE_CAPTCHA_DIFFICULTY", "0"),
            ("CASEGATE_VERIFY_FLOOR_MS", "0"),
        ],
        ..Options::default()
    })
    .await;
    let before = table_counts(&app).await;
    let accounts_before = app.count("SELECT COUNT(*) FROM accounts").await;
    let mut issued = 0;
    for payload in PAYLOADS {
        // Check case status.
        let t = Instant::now();
        let r = app.get(&format!("/status?receipt={}", pct(payload))).await;
        check_answer("status lookup", payload, r, t).await;

        // Request an access code: the payload in each field in turn, the
        // others those of a real person. The clock moves a day each time so
        // the rate limits never hide the answer.
        let mut fields: Vec<&str> = maria_access_form().iter().map(|f| f.0).collect();
        fields.extend(["captcha_token", "captcha_solution"]);
        for field in fields {
            app.clock.advance_secs(86_400 + 1);
            let v = app.browser();
            let page = v.get("/access-code").await.text().await.unwrap();
            let token = between(&page, "name=\"captcha_token\" value=\"", "\"")
                .unwrap()
                .to_string();
            let mut form = maria_access_form();
            form.push(("captcha_token", token));
            form.push(("captcha_solution", "0".to_string()));
            form.push(("csrf", v.csrf()));
            if field == "receipt" {
                form.iter_mut().find(|f| f.0 == "id_kind").unwrap().1 = "receipt".into();
            }
            form.iter_mut().find(|f| f.0 == field).unwrap().1 = payload.to_string();
            let codes = app.count("SELECT COUNT(*) FROM access_codes").await;
            let t = Instant::now();
            let r = v.post_raw("/access-code", &form).await;
            check_answer(&format!("access code, {field}"), payload, r, t).await;
            if app.count("SELECT COUNT(*) FROM access_codes").await != codes {
                // Only the radio choice between A-Number and receipt may be
                // anything: whatever is not "receipt" means the A-Number, and
                // the real person's details were all given and verified.
                assert_eq!(field, "id_kind", "{payload:?} in {field} issued a code");
                issued += 1;
            }
        }

        // Create an account, confirm the email.
        for (email, password) in [
            (
                payload.to_string(),
                "lantern meadow copper violin".to_string(),
            ),
            (
                format!("new{}@example.com", payload.len()),
                payload.to_string(),
            ),
            (format!("{payload}@example.com"), payload.repeat(2)),
        ] {
            app.clock.advance_secs(3_601);
            let v = app.browser();
            let t = Instant::now();
            let r = v
                .post("/sign-up", &[("email", &email), ("password", &password)])
                .await;
            check_answer("sign-up", payload, r, t).await;
        }
        for (email, code) in [(payload, "123456"), ("maria.nunez@example.com", payload)] {
            let v = app.browser();
            let t = Instant::now();
            let r = v
                .post("/sign-up/confirm", &[("email", email), ("code", code)])
                .await;
            check_answer("sign-up confirmation", payload, r, t).await;
        }

        // Sign in.
        for (email, password) in [
            (payload, casegate::demo::DEMO_PASSWORD),
            ("nobody@example.com", payload),
        ] {
            let v = app.browser();
            let t = Instant::now();
            let r = v
                .post("/sign-in", &[("email", email), ("password", password)])
                .await;
            check_answer("sign-in", payload, r, t).await;
        }

        // Recovery.
        app.clock.advance_secs(3_601);
        let v = app.browser();
        let t = Instant::now();
        let r = v.post("/forgot-password", &[("email", payload)]).await;
        check_answer("forgot password", payload, r, t).await;
        for (email, code, password) in [
            (payload, "123456", "lantern meadow copper violin"),
            (
                "maria.nunez@example.com",
                payload,
                "lantern meadow copper violin",
            ),
            ("maria.nunez@example.com", "123456", payload),
        ] {
            let t = Instant::now();
            let r = v
                .post(
                    "/forgot-password/reset",
                    &[("email", email), ("code", code), ("password", password)],
                )
                .await;
            check_answer("password reset", payload, r, t).await;
        }
        let t = Instant::now();
        let r = app
            .get(&format!(
                "/forgot-password/reset?email={}&code={}",
                pct(payload),
                pct(payload)
            ))
            .await;
        check_answer("reset link", payload, r, t).await;
    }
    // The API: token request fields and the receipt in the path.
    let token = app.token(1_000, false).await;
    for payload in PAYLOADS {
        for (k, v) in [
            ("grant_type", payload),
            ("client_id", payload),
            ("client_secret", payload),
        ] {
            let mut form = vec![
                ("grant_type", "client_credentials"),
                ("client_id", "no-such-client"),
                ("client_secret", "nope"),
            ];
            form.iter_mut().find(|f| f.0 == k).unwrap().1 = v;
            let t = Instant::now();
            let r = app
                .http
                .post(app.url("/oauth/accesstoken"))
                .form(&form)
                .send()
                .await
                .unwrap();
            // A wrong grant type is a 400; bad credentials a 401.
            let expected = if k == "grant_type" { 400 } else { 401 };
            assert_eq!(r.status().as_u16(), expected, "{k}: {payload:?}");
            let v: serde_json::Value = r.json().await.unwrap();
            assert!(v["code"].is_u64() && v["message"].is_string());
            timed_ok("token", t);
        }
        let t = Instant::now();
        let r = app
            .http
            .get(app.url(&format!(
                "/case-status/{}",
                pct(payload).replace('+', "%20")
            )))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        // Never a receipt number: the API's format error.
        assert_eq!(status, 422, "{payload}");
        assert_eq!(r.headers()["content-type"], "application/json");
        let body = r.text().await.unwrap();
        assert_no_leak("case-status API", &body);
        assert!(!body.contains('<'), "{body}");
        timed_ok("case-status API", t);
        let r = app
            .http
            .get(app.url("/case-status/EAC9999103403"))
            .bearer_auth(payload)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    let mut after = table_counts(&app).await;
    after.iter_mut().find(|t| t.0 == "access_codes").unwrap().1 -= issued;
    assert_eq!(after, before, "tables intact");
    let accounts_after = app.count("SELECT COUNT(*) FROM accounts").await;
    assert!(accounts_after >= accounts_before);
    // Any account the payloads created holds the email as typed, not SQL's doing.
    let emails: Vec<String> = sqlx::query_scalar("SELECT email FROM accounts")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert!(emails.iter().all(|e| e.contains('@')), "{emails:?}");
    assert_healthy(&app).await;
}

#[tokio::test]
async fn injection_in_every_applicant_form_is_answered_normally() {
    let app = spawn_with(common::serving_unscanned()).await;
    let (a, request_id, path) = applicant_with_request(&app).await;
    let before = table_counts(&app).await;
    let base_address = [
        ("street", "123 Main Street"),
        ("unit", "Apt 4"),
        ("city", "Springfield"),
        ("state", "IL"),
        ("zip", "62701"),
    ];
    for payload in PAYLOADS {
        // Change of address: preview, then confirm what the preview accepted.
        for field in ["street", "unit", "city", "state", "zip"] {
            let mut form = base_address.to_vec();
            form.iter_mut().find(|f| f.0 == field).unwrap().1 = payload;
            let t = Instant::now();
            let r = a.post("/account/address", &form).await;
            check_answer(&format!("address, {field}"), payload, r, t).await;
            let t = Instant::now();
            let r = a.post("/account/address/confirm", &form).await;
            check_answer(&format!("address confirm, {field}"), payload, r, t).await;
            let t = Instant::now();
            let r = a.get("/account/address").await;
            check_answer("address page", payload, r, t).await;
        }
        // Link a case.
        let base = [
            ("receipt", "EAC9999103403"),
            ("code", "DEM0-C0DE-0001"),
            ("dob_month", "2"),
            ("dob_day", "14"),
            ("dob_year", "1985"),
        ];
        for field in ["receipt", "code", "dob_month", "dob_day", "dob_year"] {
            let mut form = base.to_vec();
            form.iter_mut().find(|f| f.0 == field).unwrap().1 = payload;
            let t = Instant::now();
            let r = a.post("/account/cases/add", &form).await;
            if r.status() == 303 {
                panic!("{field} = {payload:?} linked a case");
            }
            check_answer(&format!("link a case, {field}"), payload, r, t).await;
        }
        // Case pages by a hostile receipt and ids.
        for target in [
            format!("/account/cases/{}", pct(payload).replace('+', "%20")),
            format!(
                "/account/cases/YSC2608000001/requests/{}",
                pct(payload).replace('+', "%20")
            ),
            format!("/officer/cases?q={}", pct(payload)),
        ] {
            let t = Instant::now();
            let r = a.get(&target).await;
            check_answer(&target, payload, r, t).await;
        }
    }
    // Evidence upload file names.
    for payload in PAYLOADS {
        let t = Instant::now();
        let r = a
            .upload(&format!("{path}/upload"), &format!("{payload}.pdf"), pdf())
            .await;
        assert_eq!(r.status(), 303, "{payload}");
        timed_ok("upload", t);
    }
    let t = Instant::now();
    let r = a.get(&path).await;
    let html = r.text().await.unwrap();
    for payload in PAYLOADS {
        assert_not_echoed("request page", &html, payload);
    }
    assert_no_leak("request page", &html);
    timed_ok("request page", t);
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM uploads ORDER BY id")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert_eq!(ids.len(), PAYLOADS.len());
    for id in ids {
        let r = a.get(&format!("{path}/uploads/{id}")).await;
        assert_eq!(r.status(), 200);
        let cd = r.headers()["content-disposition"].to_str().unwrap();
        assert!(cd.starts_with("attachment;"), "{cd}");
        assert!(cd.is_ascii() && !cd.contains(['\r', '\n']), "{cd}");
    }
    let _ = request_id;
    assert_eq!(table_counts(&app).await, before, "tables intact");
    assert_healthy(&app).await;
}

// ------------------------------------------------------------ upload names

#[tokio::test]
async fn hostile_upload_names_are_stored_under_random_names_inside_the_data_dir() {
    let app = spawn_with(common::serving_unscanned()).await;
    let (a, _, path) = applicant_with_request(&app).await;
    let passwd_before = std::fs::metadata("/etc/passwd")
        .and_then(|m| m.modified())
        .ok();
    let long = format!("{}.pdf", "n".repeat(5000));
    let names: Vec<Vec<u8>> = vec![
        b"../../etc/passwd".to_vec(),
        b"..\\..\\x.pdf".to_vec(),
        b"/etc/cron.d/casegate-evil.pdf".to_vec(),
        b"C:\\Windows\\System32\\evil.pdf".to_vec(),
        b"nul\0byte.pdf".to_vec(),
        long.into_bytes(),
        "invoice\u{202E}fdp.exe".as_bytes().to_vec(),
        b"....//....//....//x.pdf".to_vec(),
        b"%2e%2e%2f%2e%2e%2fy.pdf".to_vec(),
        b"..".to_vec(),
    ];
    let mut stored = 0;
    for name in &names {
        let body = multipart("AaB03x", &[file_part(name, pdf())]);
        let (status, html, _) = post_multipart(
            &app,
            &a,
            &path,
            "multipart/form-data; boundary=AaB03x",
            body,
            "en",
        )
        .await;
        let shown = String::from_utf8_lossy(name);
        if name.contains(&0) && status == 400 {
            // A NUL in a header is malformed multipart: refused on the form.
            assert!(html.contains("We could not read the upload"), "{html}");
            continue;
        }
        assert_eq!(status, 303, "{shown}: {html}");
        stored += 1;
    }
    let rows: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT id, storage_key, display_name FROM uploads ORDER BY id")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    assert_eq!(rows.len(), stored);
    let uploads = app.data_dir.join("uploads");
    for (_, key, display) in &rows {
        assert!(
            key.len() == 32 && key.bytes().all(|b| b.is_ascii_hexdigit()),
            "{key}"
        );
        assert!(uploads.join(&key[..2]).join(key).is_file());
        assert!(
            !display.contains(['/', '\\', '\0', '\u{202E}']) && !display.contains(".."),
            "{display:?}"
        );
        assert!(
            !display.is_empty() && display.chars().count() <= 100,
            "{display:?}"
        );
    }
    let displays: Vec<&str> = rows.iter().map(|r| r.2.as_str()).collect();
    assert!(displays.contains(&"passwd"), "{displays:?}");
    assert!(displays.contains(&"x.pdf"), "{displays:?}");
    assert!(displays.contains(&"invoicefdp.exe"), "{displays:?}");
    // Nothing but random keys under uploads/, nothing new next to the data dir.
    for entry in walk(&uploads) {
        let rel = entry
            .strip_prefix(&uploads)
            .unwrap()
            .to_string_lossy()
            .to_string();
        let ok = rel.len() == 2 + 1 + 32 && rel.as_bytes()[2] == b'/';
        assert!(ok, "unexpected file in uploads: {rel}");
    }
    for entry in walk(&app.data_dir) {
        let n = entry.file_name().unwrap().to_string_lossy().to_string();
        assert!(
            !n.contains("passwd") && !n.contains("evil") && !n.ends_with(".pdf"),
            "{entry:?}"
        );
    }
    let parent = app.data_dir.parent().unwrap();
    for stray in ["x.pdf", "y.pdf", "passwd", "etc"] {
        assert!(!parent.join(stray).exists(), "{stray} outside the data dir");
        assert!(
            !app.data_dir.join(stray).exists(),
            "{stray} in the data dir"
        );
    }
    assert!(!std::path::Path::new("/etc/cron.d/casegate-evil.pdf").exists());
    assert_eq!(
        std::fs::metadata("/etc/passwd")
            .and_then(|m| m.modified())
            .ok(),
        passwd_before
    );
    // Shown escaped and sanitised; downloaded as attachments with safe names.
    let html = a.get(&path).await.text().await.unwrap();
    assert!(!html.contains('\u{202E}'));
    assert!(!html.contains("../"));
    for (id, _, _) in rows {
        let r = a.get(&format!("{path}/uploads/{id}")).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/pdf");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        let cd = r.headers()["content-disposition"].to_str().unwrap();
        assert!(cd.starts_with("attachment; filename=\""), "{cd}");
        assert!(!cd.contains("..") && !cd.contains('/'), "{cd}");
    }
    assert_healthy(&app).await;
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

// ------------------------------------------------- zip bombs and polyglots

/// Writes bits least-significant first, as DEFLATE does.
struct Bits {
    out: Vec<u8>,
    acc: u32,
    n: u32,
}

impl Bits {
    fn put(&mut self, value: u32, count: u32) {
        self.acc |= value << self.n;
        self.n += count;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }
    /// Huffman codes are sent most-significant bit first.
    fn put_code(&mut self, code: u32, len: u32) {
        let mut rev = 0;
        for i in 0..len {
            rev |= ((code >> i) & 1) << (len - 1 - i);
        }
        self.put(rev, len);
    }
    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// A raw DEFLATE stream (one fixed-Huffman block) that inflates to
/// `1 + 258 * copies` zero bytes: 13 bits of input per 258 bytes out.
fn deflate_bomb(copies: usize) -> Vec<u8> {
    let mut b = Bits {
        out: Vec::new(),
        acc: 0,
        n: 0,
    };
    b.put(1, 1); // final block
    b.put(1, 2); // fixed Huffman
    b.put_code(0x30, 8); // literal 0
    for _ in 0..copies {
        b.put_code(0b1100_0101, 8); // length code 285: 258 bytes
        b.put_code(0, 5); // distance code 0: distance 1
    }
    b.put_code(0, 7); // end of block (256)
    b.finish()
}

/// A one-entry ZIP whose entry inflates to `declared` bytes.
fn zip_bomb(entry: &str, copies: usize) -> Vec<u8> {
    let data = deflate_bomb(copies);
    let declared = (1 + 258 * copies) as u32;
    let mut z = Vec::new();
    z.extend_from_slice(b"PK\x03\x04\x14\0\0\0\x08\0\0\0\0\0");
    z.extend_from_slice(&0u32.to_le_bytes()); // CRC (not checked by anyone honest)
    z.extend_from_slice(&(data.len() as u32).to_le_bytes());
    z.extend_from_slice(&declared.to_le_bytes());
    z.extend_from_slice(&(entry.len() as u16).to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    z.extend_from_slice(entry.as_bytes());
    let data_at = 0u32;
    z.extend_from_slice(&data);
    let cd_at = z.len() as u32;
    z.extend_from_slice(b"PK\x01\x02\x14\0\x14\0\0\0\x08\0\0\0\0\0");
    z.extend_from_slice(&0u32.to_le_bytes());
    z.extend_from_slice(&(data.len() as u32).to_le_bytes());
    z.extend_from_slice(&declared.to_le_bytes());
    z.extend_from_slice(&(entry.len() as u16).to_le_bytes());
    z.extend_from_slice(&[0; 12]);
    z.extend_from_slice(&data_at.to_le_bytes());
    z.extend_from_slice(entry.as_bytes());
    let cd_len = z.len() as u32 - cd_at;
    z.extend_from_slice(b"PK\x05\x06\0\0\0\0\x01\0\x01\0");
    z.extend_from_slice(&cd_len.to_le_bytes());
    z.extend_from_slice(&cd_at.to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    z
}

#[tokio::test]
async fn zip_bombs_and_polyglots_are_refused_or_served_only_as_attachments() {
    // The bomb is real: 4 M copies inflate to ~1 GB from ~6.5 MB.
    let inflated = 1 + 258 * 4_000_000usize;
    assert!(inflated > 1_000_000_000);
    let app = spawn_with(common::serving_unscanned()).await;
    let (a, _, path) = applicant_with_request(&app).await;
    let upload_path = format!("{path}/upload");

    // A PDF that carries a whole ZIP (the end record near its end).
    let mut pdf_zip = pdf();
    pdf_zip.extend(zip_bomb("payload.exe", 1_000));
    pdf_zip.extend_from_slice(b"\n%%EOF\n");
    // A PDF with HTML/JS where a sniffing browser would look.
    let mut pdf_html = b"%PDF-1.4\n<html><script>alert(document.cookie)</script></html>\n".to_vec();
    pdf_html.extend(pdf());
    // A JPEG with a PHP payload after the end of the image, and one with
    // HTML/JS there.
    let mut jpeg_php = jpeg_with_comment(b"");
    jpeg_php.extend_from_slice(b"<?php system($_GET['c']); ?>");
    let mut jpeg_js = jpeg_with_comment(b"");
    jpeg_js.extend_from_slice(b"<script>alert(1)</script>");
    // A GIFAR: a GIF with a Java archive appended.
    let mut gifar = b"GIF89a\x01\0\x01\0\0\0\0,\0\0\0\0\x01\0\x01\0\0\x02\0;".to_vec();
    gifar.extend(zip_bomb("META-INF/MANIFEST.MF", 10));
    let mut pdf_deep_html = pdf();
    pdf_deep_html.truncate(pdf_deep_html.len() - 6);
    pdf_deep_html.extend(vec![b' '; 2048]);
    pdf_deep_html.extend_from_slice(b"<html><script>alert(1)</script></html>");
    pdf_deep_html.extend(vec![b' '; 2048]);
    pdf_deep_html.extend_from_slice(b"\n%%EOF\n");
    // HTML inside a JPEG comment near the start.
    let jpeg_html = jpeg_with_comment(b"<html><body onload=alert(1)>");
    // Each refusal says what the file really is.
    let zip = "This file is a compressed folder (such as a .zip file)";
    let active_pdf = "This file is a PDF document, but it contains something we cannot accept";
    let active_jpeg = "This file is a JPEG image, but it contains something we cannot accept";
    let refused: Vec<(&str, Vec<u8>, &str)> = vec![
        ("bomb.zip", zip_bomb("zeros.bin", 4_000_000), zip),
        ("resume.docx", zip_bomb("[Content_Types].xml", 400_000), zip),
        ("statement.pdf", zip_bomb("statement.pdf", 400_000), zip),
        ("pdf-zip.pdf", pdf_zip, active_pdf),
        ("pdf-html.pdf", pdf_html, active_pdf),
        // HTML deep inside a PDF: the checks cover the whole file.
        ("deep.pdf", pdf_deep_html, active_pdf),
        ("photo.jpg", jpeg_php, "damaged or incomplete"),
        ("photo1.jpg", jpeg_js, active_jpeg),
        (
            "gifar.gif",
            gifar,
            "This file is an image in a format we do not accept",
        ),
        ("photo2.jpg", jpeg_html, active_jpeg),
        (
            "page.html",
            b"<!doctype html><script>alert(1)</script>".to_vec(),
            "This file is a web page",
        ),
        (
            "shell.php.jpg",
            b"<?php echo 1; ?>".to_vec(),
            "This file is a plain text file",
        ),
    ];
    for (name, bytes, message) in refused {
        let t = Instant::now();
        let r = a.upload(&upload_path, name, bytes).await;
        assert_eq!(r.status(), 422, "{name}");
        let html = r.text().await.unwrap();
        assert!(html.contains(message), "{name}: {html}");
        assert_no_leak(name, &html);
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "{name}: {:?}",
            t.elapsed()
        );
    }
    assert_eq!(count_uploads(&app).await, 0);
    assert_healthy(&app).await;

    // Real PDFs and JPEGs with hostile content inside stay what they are:
    // stored, and served only as attachments of the detected type.
    let mut pdf_stream_bomb = b"%PDF-1.4\n1 0 obj<</Filter/FlateDecode/Length 0>>stream\n".to_vec();
    pdf_stream_bomb.extend(deflate_bomb(1_000_000));
    pdf_stream_bomb.extend_from_slice(b"\nendstream endobj\ntrailer<<>>\n%%EOF\n");
    let jpeg_php_comment = jpeg_with_comment(b"<?php system($_GET['c']); ?>");
    let accepted = [
        ("stream.pdf", pdf_stream_bomb, "application/pdf"),
        ("comment.jpg", jpeg_php_comment, "image/jpeg"),
    ];
    for (name, bytes, _) in &accepted {
        let r = a.upload(&upload_path, name, bytes.clone()).await;
        assert_eq!(r.status(), 303, "{name}");
    }
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM uploads ORDER BY id")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    for (id, (name, bytes, mime)) in ids.into_iter().zip(accepted) {
        let r = a.get(&format!("{path}/uploads/{id}")).await;
        assert_eq!(r.status(), 200);
        let h = r.headers().clone();
        assert_eq!(h["content-type"], mime, "{name}");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert!(
            h["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment;"),
            "{name}"
        );
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("sandbox")
        );
        assert_eq!(
            r.bytes().await.unwrap().to_vec(),
            bytes,
            "{name}: as stored"
        );
    }
    assert_healthy(&app).await;
}

#[tokio::test]
async fn raw_requests_reach_the_real_router() {
    // A sanity check that the raw helper and the real router agree.
    let app = spawn_app().await;
    let (status, text) = raw(
        &app,
        b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let r = app.get("/").await;
    assert_eq!(r.status(), 200);
    assert_eq!(location(&r), "");
}
