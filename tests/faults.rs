//! Faults, through the real server: an SMTP relay that goes away and comes
//! back, a server killed with SIGKILL in the middle of evidence uploads, and a
//! database that becomes unreachable (PostgreSQL behind a TCP proxy the test
//! switches off) or unwritable (SQLite held by another writer's lock).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use casegate::app::AppState;
use casegate::config::DbEngine;
use casegate::outbox::OutboxConfig;
use casegate::store::Db;
use casegate::web;
use common::samples::{file_part, multipart};
use common::smtp::SmtpSink;
use common::{
    Browser, Options, TestApp, assert_no_leak, between, eventually, location, spawn_with,
};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

// ---------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------

// ---------------------------------------------------------------------------
// 1. The SMTP relay is down for a while, then back
// ---------------------------------------------------------------------------

struct Challenge {
    token: String,
    salt: String,
    difficulty: u8,
}

async fn challenge(app: &TestApp) -> Challenge {
    let html = app.get("/access-code").await.text().await.unwrap();
    Challenge {
        token: between(&html, "name=\"captcha_token\" value=\"", "\"")
            .unwrap()
            .to_string(),
        salt: between(&html, "data-captcha-salt=\"", "\"")
            .unwrap()
            .to_string(),
        difficulty: between(&html, "data-captcha-difficulty=\"", "\"")
            .unwrap()
            .parse()
            .unwrap(),
    }
}

/// An access-code request by email, as a visitor fills it in.
#[allow(clippy::too_many_arguments)]
fn person(
    a_number: &str,
    given: &str,
    family: &str,
    dob: (&str, &str, &str),
    street: &str,
    unit: &str,
    city: &str,
    state: &str,
    zip: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("id_kind", "a_number".into()),
        ("a_number", a_number.into()),
        ("given_name", given.into()),
        ("family_name", family.into()),
        ("dob_month", dob.0.into()),
        ("dob_day", dob.1.into()),
        ("dob_year", dob.2.into()),
        ("street", street.into()),
        ("unit", unit.into()),
        ("city", city.into()),
        ("state", state.into()),
        ("zip", zip.into()),
        ("delivery", "email".into()),
    ]
}

async fn request_code_by_email(app: &TestApp, form: &[(&'static str, String)]) {
    let c = challenge(app).await;
    let nonce = casegate::captcha::solve(&c.salt, c.difficulty).to_string();
    let visitor = app.browser();
    let mut body = form.to_vec();
    body.push(("captcha_token", c.token));
    body.push(("captcha_solution", nonce));
    body.push(("csrf", visitor.csrf()));
    let r = visitor.post_raw("/access-code", &body).await;
    let status = r.status();
    let html = r.text().await.unwrap();
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("We are sending your access code"), "{html}");
}

type OutboxRow = (
    String,
    String,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    Option<String>,
);

async fn outbox_rows(db: &Db) -> Vec<OutboxRow> {
    sqlx::query_as(
        "SELECT to_addr, message_id, attempts, next_attempt_at, sent_at, failed_at, last_error \
         FROM outbox ORDER BY id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap()
}

/// Proves: emails caused through the web while the relay is down are kept
/// (pending, retry scheduled after the backoff, not hammered); once the relay
/// is back the real outbox worker delivers each one exactly once — counted by
/// recipient and Message-ID — and later retry intervals send nothing more.
#[tokio::test]
async fn emails_queued_while_the_relay_is_down_are_each_delivered_once_when_it_returns() {
    let sink = SmtpSink::start().await;
    let url: &'static str = Box::leak(sink.url().into_boxed_str());
    sink.stop().await;
    let app = spawn_with(Options {
        extra: vec![
            ("CASEGATE_SMTP_URL", url),
            ("CASEGATE_CAPTCHA_DIFFICULTY", "6"),
            ("CASEGATE_VERIFY_FLOOR_MS", "0"),
        ],
        ..Options::default()
    })
    .await;
    // The server's own worker, on the server's (test) clock: moving the clock
    // past a backoff is what lets this run in seconds.
    let worker = casegate::outbox::spawn_worker(
        app.db.clone(),
        app.secrets.clone(),
        OutboxConfig::from_config(&app.config),
        app.state.clock.clone(),
        app.state.outbox_wake.clone(),
    );

    // Three demo persons ask for an access code by email…
    for form in [
        person(
            "A-012-345-678",
            "María José",
            "Núñez García",
            ("2", "14", "1985"),
            "123 Main Street",
            "Apt 4",
            "Springfield",
            "IL",
            "62701",
        ),
        person(
            "A055512345",
            "Oluwaseun",
            "Adeyemi",
            ("11", "3", "1992"),
            "9 Harbor Road",
            "Suite 200",
            "Burlington",
            "VT",
            "05401",
        ),
        person(
            "A066600022",
            "Ana",
            "Pereira",
            ("1", "9", "1990"),
            "18 West Lake Drive",
            "",
            "Lincoln",
            "NE",
            "68508",
        ),
    ] {
        request_code_by_email(&app, &form).await;
    }
    // …and three newcomers sign up (each gets a confirmation code).
    let newcomers = [
        "fault.one@example.com",
        "fault.two@example.com",
        "fault.three@example.com",
    ];
    for email in newcomers {
        let r = app
            .browser()
            .post(
                "/sign-up",
                &[
                    ("email", email),
                    ("password", "violet harbor pencil thunder"),
                ],
            )
            .await;
        assert_eq!(r.status(), 200, "{email}");
    }
    let expected: BTreeSet<String> = [
        "maria.nunez@example.com",
        "seun.adeyemi@example.com",
        "ana.pereira@example.com",
    ]
    .into_iter()
    .chain(newcomers)
    .map(str::to_string)
    .collect();

    // The worker tries each once, fails (connection refused) and schedules a retry.
    eventually(
        Duration::from_secs(10),
        "every email tried once",
        || async {
            let rows = outbox_rows(&app.db).await;
            rows.len() == 6 && rows.iter().all(|r| r.2 >= 1)
        },
    )
    .await;
    // Give it more passes: with the clock standing still nothing is due again.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let now = app.clock.now().timestamp();
    let rows = outbox_rows(&app.db).await;
    assert_eq!(
        rows.iter().map(|r| r.0.clone()).collect::<BTreeSet<_>>(),
        expected
    );
    for (to, _, attempts, next_at, sent, failed, error) in &rows {
        assert_eq!(*attempts, 1, "{to}: retried before its backoff");
        assert!(*next_at > now, "{to}: a retry is scheduled");
        assert_eq!((*sent, *failed), (None, None), "{to}: still pending");
        assert!(error.is_some(), "{to}: the failure is recorded");
    }
    assert_eq!(sink.count(), 0);
    assert_eq!(casegate::outbox::queue_depth(&app.db).await.unwrap(), 6);

    // The relay is back; the backoff passes.
    sink.restart().await;
    app.clock.advance_secs(31);
    app.state.outbox_wake.notify_one();
    let got = sink.wait_for(6, Duration::from_secs(15)).await;
    assert_eq!(got.len(), 6);
    // Later retry intervals (and more passes) send nothing again.
    for _ in 0..3 {
        app.clock.advance_secs(3_600);
        app.state.outbox_wake.notify_one();
        tokio::time::sleep(Duration::from_millis(1200)).await;
    }
    let msgs = sink.messages();
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    for m in &msgs {
        assert_eq!(m.rcpt_to.len(), 1);
        let id = m.header("Message-ID").expect("a Message-ID");
        *seen.entry((m.rcpt_to[0].clone(), id)).or_default() += 1;
    }
    assert!(
        seen.values().all(|n| *n == 1),
        "a message was delivered twice: {seen:?}"
    );
    assert_eq!(msgs.len(), 6, "{seen:?}");
    assert_eq!(
        seen.keys().map(|k| k.0.clone()).collect::<BTreeSet<_>>(),
        expected,
        "every recipient got its email"
    );
    // The Message-IDs are the ones queued, and every row is marked sent.
    let rows = outbox_rows(&app.db).await;
    for (to, message_id, attempts, _, sent, failed, _) in &rows {
        assert!(
            seen.keys().any(|(r, id)| r == to
                && id.trim_matches(['<', '>']) == message_id.trim_matches(['<', '>'])),
            "{to} {message_id} not delivered: {seen:?}"
        );
        assert_eq!(
            (*attempts, sent.is_some(), *failed),
            (2, true, None),
            "{to}"
        );
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE body_sealed IS NOT NULL")
            .await,
        0
    );
    worker.abort();
}

// ---------------------------------------------------------------------------
// 2. kill -9 in the middle of upload handling
// ---------------------------------------------------------------------------

/// The real `casegate serve` binary as a child process.
struct Server {
    child: std::process::Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(data_dir: &Path, database_url: &str) -> Server {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_casegate"))
        .args(["serve", "--demo"])
        .env("CASEGATE_BIND", "127.0.0.1:0")
        .env("CASEGATE_DATA_DIR", data_dir)
        .env("DATABASE_URL", database_url)
        .env("CASEGATE_MASTER_KEY", common::MASTER_KEY)
        .env("CASEGATE_DB_MAX_CONNECTIONS", "5")
        .env("CASEGATE_LOG", "warn")
        .env("CASEGATE_SERVE_UNSCANNED_UPLOADS", "1")
        .env_remove("CASEGATE_CONFIG")
        .env_remove("CASEGATE_SMTP_URL")
        .env_remove("CASEGATE_CLAMD")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("the server printed where it listens")
            .unwrap();
        if let Some(rest) = line.strip_prefix("casegate is listening on http://") {
            break rest.trim().to_string();
        }
    };
    // Keep reading so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines.by_ref() {});
    Server { child, addr }
}

const DEMO_TOTP: &[u8; 20] = b"casegate-demo-totp!!";

/// Signs María in on a server that runs on the real clock.
async fn sign_in_real_clock(b: &Browser) {
    use casegate::auth::totp::{self, TotpSecret};
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
    let secret = TotpSecret::from_bytes(DEMO_TOTP).unwrap();
    let code = totp::code_at(&secret, totp::step_of(chrono::Utc::now().timestamp()));
    let r = b.post("/sign-in/two-step", &[("code", &code)]).await;
    assert_eq!(r.status(), 303);
}

/// A valid PDF of about `mb` megabytes, different for every `tag`.
fn big_pdf(tag: &str, mb: usize) -> Vec<u8> {
    let mut pdf = format!("%PDF-1.4\n% {tag}\n1 0 obj<<>>endobj\n").into_bytes();
    let mut x: u32 = tag
        .bytes()
        .fold(7, |a, b| a.wrapping_mul(31).wrapping_add(b.into()));
    while pdf.len() < mb * 1024 * 1024 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        pdf.push(b'0' + (x % 10) as u8);
        if x.is_multiple_of(64) {
            pdf.push(b'\n');
        }
    }
    pdf.extend_from_slice(b"\ntrailer<<>>\n%%EOF\n");
    pdf
}

fn sha_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

const BOUNDARY: &str = "casegate-fault-boundary-7f3a";

/// The upload form's body with one PDF file part.
fn pdf_upload_body(name: &str, bytes: &[u8]) -> Vec<u8> {
    multipart(
        BOUNDARY,
        &[file_part(
            name.as_bytes(),
            "application/pdf",
            bytes.to_vec(),
        )],
    )
}

/// An upload over a raw connection, so the test decides how much of the body
/// is sent and a dying server is an outcome, not a panic.
struct RawUpload {
    stream: TcpStream,
}

impl RawUpload {
    /// Sends the request head and the first `send` bytes of the body.
    async fn start(addr: &str, path: &str, b: &Browser, body: &[u8], send: usize) -> RawUpload {
        let cookie = [
            casegate::auth::csrf::COOKIE,
            casegate::auth::session::COOKIE,
        ]
        .iter()
        .filter_map(|n| b.cookie(n).map(|v| format!("{n}={v}")))
        .collect::<Vec<_>>()
        .join("; ");
        let head = format!(
            "POST {path}?csrf={} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\n\
             Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            b.csrf(),
            body.len()
        );
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(&body[..send]).await.unwrap();
        stream.flush().await.unwrap();
        RawUpload { stream }
    }

    /// Sends the rest and reads the status code (None: the server died).
    async fn finish(mut self, rest: &[u8]) -> Option<u16> {
        self.stream.write_all(rest).await.ok()?;
        self.status().await
    }

    /// Reads the status code (None: the server died).
    async fn status(mut self) -> Option<u16> {
        let mut buf = Vec::new();
        self.stream.read_to_end(&mut buf).await.ok()?;
        let head = String::from_utf8_lossy(&buf);
        head.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
    }
}

type UploadDbRow = (i64, String, String, i64);

async fn upload_rows(db: &Db, request_id: i64) -> Vec<UploadDbRow> {
    sqlx::query_as(
        "SELECT id, storage_key, sha256, size FROM uploads WHERE request_id = $1 ORDER BY id",
    )
    .bind(request_id)
    .fetch_all(db.pool())
    .await
    .unwrap()
}

/// Every file under the uploads folder: (live object keys, temporary files).
fn stored_files(uploads: &Path) -> (BTreeSet<String>, Vec<PathBuf>) {
    let mut keys = BTreeSet::new();
    let mut temps = vec![];
    let Ok(fans) = std::fs::read_dir(uploads) else {
        return (keys, temps);
    };
    for fan in fans {
        let fan = fan.unwrap().path();
        if !fan.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&fan).unwrap() {
            let f = f.unwrap();
            let name = f.file_name().to_string_lossy().to_string();
            if name.starts_with('.') {
                temps.push(f.path());
            } else if fan.file_name().unwrap() != "quarantine" {
                keys.insert(name);
            }
        }
    }
    (keys, temps)
}

/// Every upload row has its stored file with the recorded size and SHA-256.
fn assert_rows_match_files(uploads: &Path, rows: &[UploadDbRow]) {
    for (id, key, sha, size) in rows {
        let bytes = std::fs::read(uploads.join(&key[..2]).join(key))
            .unwrap_or_else(|e| panic!("upload {id}: stored file {key} missing: {e}"));
        assert_eq!(bytes.len() as i64, *size, "upload {id}: size");
        assert_eq!(&sha_hex(&bytes), sha, "upload {id}: SHA-256");
    }
}

/// Proves: after SIGKILL in the middle of concurrent uploads, on both engines,
/// every upload row has its file with the recorded size and SHA-256, every
/// upload the server confirmed is there, the interrupted one left no row, a
/// temporary file left by a killed write is swept when the server starts,
/// files without a row are reachable by nobody, and the applicant can simply
/// upload the interrupted file again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_upload_restarts_consistent_and_the_upload_can_be_retried() {
    // A fresh database and data folder; the real binary loads the demo data.
    let app = spawn_with(Options {
        demo: false,
        ..Options::default()
    })
    .await;
    let uploads = app.data_dir.join("uploads");
    let server = start_server(&app.data_dir, &app.config.database_url);
    let mut b = app.browser();
    b.base = format!("http://{}", server.addr);
    sign_in_real_clock(&b).await;
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
    assert_eq!(r.status(), 303, "case linked");
    let request_id: i64 = sqlx::query_scalar(
        "SELECT d.id FROM document_requests d JOIN cases c ON c.id = d.case_id \
         WHERE c.receipt_number = 'YSC2608000001'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let path = format!("/account/cases/YSC2608000001/requests/{request_id}/upload");

    // Four uploads of 3 MB at once, all confirmed.
    let done: Vec<Vec<u8>> = (0..4).map(|i| big_pdf(&format!("done-{i}"), 3)).collect();
    let bodies: Vec<Vec<u8>> = done
        .iter()
        .enumerate()
        .map(|(i, f)| pdf_upload_body(&format!("done-{i}.pdf"), f))
        .collect();
    let mut tasks = tokio::task::JoinSet::new();
    for body in bodies {
        let (addr, path) = (server.addr.clone(), path.clone());
        let up = RawUpload::start(&addr, &path, &b, &body, 0).await;
        tasks.spawn(async move { up.finish(&body).await });
    }
    while let Some(status) = tasks.join_next().await {
        assert_eq!(status.unwrap(), Some(303), "a completed upload");
    }
    // One upload is in flight: half of its body has arrived.
    let interrupted = big_pdf("interrupted", 4);
    let interrupted_body = pdf_upload_body("interrupted.pdf", &interrupted);
    let half = interrupted_body.len() / 2;
    let in_flight = RawUpload::start(&server.addr, &path, &b, &interrupted_body, half).await;
    // Two more have just arrived whole when the server dies, so it is busy
    // checking, storing or recording them: each either lands whole or not at all.
    let racing: Vec<Vec<u8>> = (0..2).map(|i| big_pdf(&format!("race-{i}"), 3)).collect();
    let mut racers = vec![];
    for (i, f) in racing.iter().enumerate() {
        let body = pdf_upload_body(&format!("race-{i}.pdf"), f);
        racers.push(RawUpload::start(&server.addr, &path, &b, &body, body.len()).await);
    }
    // A few milliseconds more or less moves the kill across reading the
    // body, checking it, writing the file and inserting the row.
    let jitter = Duration::from_millis(rand::Rng::gen_range(&mut rand::thread_rng(), 0..60));
    tokio::time::sleep(jitter).await;
    let mut server = server;
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
    assert!(
        in_flight.finish(&interrupted_body[half..]).await != Some(303),
        "the interrupted upload was not accepted"
    );
    let mut raced = vec![];
    for up in racers {
        raced.push(up.status().await);
    }
    drop(server);

    // A write cut short by the kill leaves a temporary file next to the
    // objects. The kill lands in that window only now and then, so the test
    // also plants one, as a crash during an earlier write would leave it.
    let (_, left) = stored_files(&uploads);
    println!("temporary files left by the kill: {}", left.len());
    let fan = uploads.join("ab");
    std::fs::create_dir_all(&fan).unwrap();
    std::fs::write(
        fan.join(format!(".ab{}.tmp", "0".repeat(30))),
        b"half a document",
    )
    .unwrap();

    let rows = upload_rows(&app.db, request_id).await;
    assert_rows_match_files(&uploads, &rows);
    let shas: BTreeSet<&str> = rows.iter().map(|r| r.2.as_str()).collect();
    for f in &done {
        assert!(
            shas.contains(sha_hex(f).as_str()),
            "a confirmed upload is kept"
        );
    }
    for (f, status) in racing.iter().zip(&raced) {
        if *status == Some(303) {
            assert!(
                shas.contains(sha_hex(f).as_str()),
                "a confirmed upload is kept"
            );
        }
    }
    assert!(
        !shas.contains(sha_hex(&interrupted).as_str()),
        "half an upload never becomes a row"
    );

    // The server starts again on the same data folder and database.
    let server = start_server(&app.data_dir, &app.config.database_url);
    b.base = format!("http://{}", server.addr);
    let (keys, temps) = stored_files(&uploads);
    assert!(
        temps.is_empty(),
        "temporary files are swept at start-up: {temps:?}"
    );
    let rows = upload_rows(&app.db, request_id).await;
    assert_rows_match_files(&uploads, &rows);
    // A file without a row (written just before the kill, never recorded) is
    // addressed by nothing: downloads go through upload rows only, and the
    // applicant's page lists exactly the rows.
    let row_keys: BTreeSet<String> = rows.iter().map(|r| r.1.clone()).collect();
    let orphans: Vec<&String> = keys.difference(&row_keys).collect();
    println!(
        "killed {jitter:?} after the last body: {} upload rows, {} racing uploads confirmed, {} stored file(s) without a row",
        rows.len(),
        raced.iter().filter(|s| **s == Some(303)).count(),
        orphans.len()
    );
    let (status, page) = b
        .text(&format!(
            "/account/cases/YSC2608000001/requests/{request_id}"
        ))
        .await;
    assert_eq!(status, 200, "the session survived the restart");
    for (id, ..) in &rows {
        assert!(
            page.contains(&format!("/uploads/{id}")),
            "upload {id} listed"
        );
    }
    // One download link (and one "Remove" button) per row.
    assert_eq!(
        page.matches(&format!(
            "href=\"/account/cases/YSC2608000001/requests/{request_id}/uploads/"
        ))
        .count(),
        rows.len(),
        "only rows are listed"
    );
    assert_eq!(page.matches("/remove\"").count(), rows.len());
    for (id, _, sha, _) in &rows {
        let r = b
            .get(&format!(
                "/account/cases/YSC2608000001/requests/{request_id}/uploads/{id}"
            ))
            .await;
        assert_eq!(r.status(), 200);
        assert_eq!(&sha_hex(&r.bytes().await.unwrap()), sha);
    }
    let next_id = rows.iter().map(|r| r.0).max().unwrap_or(0) + 1;
    let r = b
        .get(&format!(
            "/account/cases/YSC2608000001/requests/{request_id}/uploads/{next_id}"
        ))
        .await;
    assert_eq!(r.status(), 404);

    // The applicant tries the interrupted file again: it lands whole.
    let r = b
        .upload(&path, "interrupted.pdf", interrupted.clone())
        .await;
    assert_eq!(r.status(), 303);
    let rows = upload_rows(&app.db, request_id).await;
    assert_rows_match_files(&uploads, &rows);
    let last = rows.last().unwrap();
    assert_eq!(
        (&last.2, last.3),
        (&sha_hex(&interrupted), interrupted.len() as i64)
    );
    let r = b.get("/healthz").await;
    assert_eq!(r.status(), 200);
}

// ---------------------------------------------------------------------------
// 3. The database is unavailable
// ---------------------------------------------------------------------------

/// How the proxy fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outage {
    /// Nothing listens: new connections are refused.
    Refuse,
    /// Connections are accepted and closed at once (a balancer with no backend).
    Drop,
}

/// A TCP proxy in front of PostgreSQL that the test can switch off: every
/// open connection is cut, and new ones are refused or dropped.
struct Proxy {
    addr: std::net::SocketAddr,
    upstream: String,
    up: Arc<AtomicBool>,
    cut: tokio::sync::watch::Sender<u64>,
    task: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(t) = self.task.lock().unwrap().take() {
            t.abort();
        }
    }
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (cut, _) = tokio::sync::watch::channel(0u64);
        let p = Proxy {
            addr: listener.local_addr().unwrap(),
            upstream,
            up: Arc::new(AtomicBool::new(true)),
            cut,
            task: std::sync::Mutex::new(None),
        };
        p.serve(listener);
        p
    }

    fn serve(&self, listener: TcpListener) {
        let (up, cut, upstream) = (self.up.clone(), self.cut.clone(), self.upstream.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                if !up.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let mut cut_rx = cut.subscribe();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut_rx.changed() => {}
                    }
                });
            }
        });
        *self.task.lock().unwrap() = Some(task);
    }

    async fn down(&self, how: Outage) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.send_modify(|n| *n += 1);
        if how == Outage::Refuse
            && let Some(t) = self.task.lock().unwrap().take()
        {
            t.abort();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    async fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
        if self.task.lock().unwrap().is_none() {
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket.set_reuseaddr(true).unwrap();
            socket.bind(self.addr).unwrap();
            self.serve(socket.listen(64).unwrap());
        }
    }
}

/// A second server over the same database (through `database_url`), with
/// the short database timeouts a deployment that must fail fast would use.
struct Instance {
    base: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

async fn instance(app: &TestApp, database_url: &str, extra: &[(&str, &str)]) -> Instance {
    let config = common::test_config(&app.data_dir, database_url, extra);
    let db = Db::from_config(&config).await.unwrap();
    let clock = app.clock.clone();
    let state = AppState::new(
        config,
        db,
        app.secrets.clone(),
        Arc::new(move || clock.now()),
    )
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = web::serve(state, listener, async {
            let _ = rx.await;
        })
        .await;
    });
    Instance {
        base: format!("http://{addr}"),
        shutdown: Some(tx),
    }
}

struct Answer {
    status: u16,
    retry_after: Option<String>,
    content_type: String,
    body: String,
    took: Duration,
}

async fn answer(resp: reqwest::Response, started: Instant) -> Answer {
    let h = resp.headers();
    let retry_after = h
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let content_type = h
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap();
    Answer {
        status,
        retry_after,
        content_type,
        body,
        took: started.elapsed(),
    }
}

/// The requests an outage must answer well.
async fn probe(
    http: &reqwest::Client,
    visitor: &Browser,
    base: &str,
    bearer: &str,
    receipt: &str,
) -> Vec<(&'static str, Answer)> {
    let mut out = vec![];
    let t = Instant::now();
    let r = http.get(format!("{base}/healthz")).send().await.unwrap();
    out.push(("healthz", answer(r, t).await));
    let t = Instant::now();
    let r = http.get(format!("{base}/livez")).send().await.unwrap();
    out.push(("livez", answer(r, t).await));
    let t = Instant::now();
    let r = http
        .get(format!("{base}/status?receipt={receipt}"))
        .send()
        .await
        .unwrap();
    out.push(("status page", answer(r, t).await));
    let t = Instant::now();
    let r = http
        .get(format!("{base}/status?receipt={receipt}&lang=es"))
        .send()
        .await
        .unwrap();
    out.push(("status page (es)", answer(r, t).await));
    let t = Instant::now();
    let r = visitor
        .post(
            "/sign-in",
            &[
                ("email", "maria.nunez@example.com"),
                ("password", casegate::demo::DEMO_PASSWORD),
            ],
        )
        .await;
    out.push(("sign-in", answer(r, t).await));
    let t = Instant::now();
    let r = http
        .get(format!("{base}/case-status/{receipt}"))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap();
    out.push(("case status API", answer(r, t).await));
    out
}

fn assert_unavailable(what: &str, name: &str, a: &Answer, write_only: bool) {
    match name {
        "livez" => assert_eq!(a.status, 200, "livez never needs the database"),
        "healthz" if write_only => assert_eq!(a.status, 200, "reads still work"),
        "healthz" => {
            assert_eq!(a.status, 503, "{what}: {}", a.body);
            assert!(a.retry_after.is_some(), "{what}: Retry-After");
        }
        "status page" | "status page (es)" | "case status API" if write_only => {
            assert_eq!(a.status, 200, "{what}: reads still work: {}", a.body);
        }
        "case status API" => {
            assert_eq!(a.status, 503, "{what}: {}", a.body);
            assert!(a.retry_after.is_some(), "{what}: Retry-After");
            assert!(a.content_type.starts_with("application/json"), "{what}");
            let v: serde_json::Value = serde_json::from_str(&a.body).unwrap();
            assert_eq!(v["code"], 503);
            assert_eq!(v["message"], "Service unavailable");
        }
        _ => {
            assert_eq!(a.status, 503, "{what}: {}", a.body);
            assert!(a.retry_after.is_some(), "{what}: Retry-After");
            assert!(a.content_type.starts_with("text/html"), "{what}");
            let plain = if name.ends_with("(es)") {
                "Este servicio no está disponible en este momento"
            } else {
                "This service is temporarily unavailable"
            };
            assert!(a.body.contains(plain), "{what}: plain words:\n{}", a.body);
        }
    }
    assert_no_leak(what, &a.body);
    assert!(
        a.took < Duration::from_secs(4),
        "{what} answered in {:?}: an outage must fail fast",
        a.took
    );
}

fn assert_served(name: &str, a: &Answer) {
    let ok = match name {
        "sign-in" => a.status == 303,
        _ => a.status == 200,
    };
    assert!(ok, "{name} after recovery: {} {}", a.status, a.body);
}

/// Proves (PostgreSQL): while the database cannot be reached, the status page
/// (an uncached receipt, English and Spanish), the sign-in POST and the Case
/// Status API answer 503 quickly — the plain-language page or the API's JSON,
/// with `Retry-After` — `/healthz` says 503, `/livez` 200, and no database
/// message reaches a body; once the network is back the same server recovers
/// by itself within seconds.
#[tokio::test]
async fn while_postgres_is_unreachable_requests_fail_fast_and_recover_without_a_restart() {
    if common::engine() != DbEngine::Postgres {
        println!(
            "skipped: needs PostgreSQL (CASEGATE_TEST_POSTGRES); a SQLite file has no network \
             to cut — see while_sqlite_is_locked_by_another_writer_writes_answer_503_and_recover"
        );
        return;
    }
    let app = spawn_with(Options::default()).await;
    let bearer = app.token(1000, false).await;
    let url = &app.config.database_url;
    // postgres://user@host:port/db → the proxy's address in place of host:port.
    let (scheme, rest) = url.split_once("://").unwrap();
    let (auth_host, db_path) = rest.split_once('/').unwrap();
    let (auth, host) = match auth_host.rsplit_once('@') {
        Some((a, h)) => (format!("{a}@"), h.to_string()),
        None => (String::new(), auth_host.to_string()),
    };
    let upstream = if host.contains(':') {
        host.clone()
    } else {
        format!("{host}:5432")
    };
    let proxy = Proxy::start(upstream).await;
    let proxied = format!("{scheme}://{auth}{}/{db_path}", proxy.addr);
    let server = instance(
        &app,
        &proxied,
        &[
            ("CASEGATE_DB_ACQUIRE_TIMEOUT_MS", "1000"),
            ("CASEGATE_STATUS_CACHE_TTL_MS", "0"),
        ],
    )
    .await;
    let mut visitor = app.browser();
    visitor.base = server.base.clone();

    let before = probe(&app.http, &visitor, &server.base, &bearer, "EAC9999103403").await;
    for (name, a) in &before {
        assert_served(name, a);
    }

    for (how, receipt) in [
        (Outage::Refuse, "LIN9999106498"),
        (Outage::Drop, "SRC9999102777"),
    ] {
        proxy.down(how).await;
        let mut visitor = app.browser();
        visitor.base = server.base.clone();
        let during = probe(&app.http, &visitor, &server.base, &bearer, receipt).await;
        for (name, a) in &during {
            assert_unavailable(&format!("{how:?}: {name}"), name, a, false);
        }

        proxy.restore().await;
        let recovered = Instant::now();
        eventually(Duration::from_secs(5), "healthz 200 again", || async {
            app.http
                .get(format!("{}/healthz", server.base))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
        })
        .await;
        println!("{how:?}: healthz 200 again after {:?}", recovered.elapsed());
        let mut visitor = app.browser();
        visitor.base = server.base.clone();
        let after = probe(&app.http, &visitor, &server.base, &bearer, receipt).await;
        for (name, a) in &after {
            assert_served(name, a);
        }
    }
}

/// Proves (SQLite): when another process holds the database's write lock past
/// the busy timeout, writes (the sign-in POST) answer 503 with the
/// plain-language page and `Retry-After` instead of an internal error, reads
/// (status page, API, `/healthz`) keep working, nothing leaks, and writes
/// succeed again as soon as the lock is released, without a restart.
#[tokio::test]
async fn while_sqlite_is_locked_by_another_writer_writes_answer_503_and_recover() {
    if common::engine() != DbEngine::Sqlite {
        println!("skipped: the SQLite variant (PostgreSQL runs the proxy variant)");
        return;
    }
    let app = spawn_with(Options::default()).await;
    let bearer = app.token(1000, false).await;
    let server = instance(
        &app,
        &app.config.database_url,
        &[
            ("CASEGATE_DB_ACQUIRE_TIMEOUT_MS", "1000"),
            ("CASEGATE_DB_BUSY_TIMEOUT_MS", "300"),
            ("CASEGATE_STATUS_CACHE_TTL_MS", "0"),
        ],
    )
    .await;
    let mut visitor = app.browser();
    visitor.base = server.base.clone();
    let before = probe(&app.http, &visitor, &server.base, &bearer, "EAC9999103403").await;
    for (name, a) in &before {
        assert_served(name, a);
    }

    // Another process's writer: an exclusive transaction left open.
    let mut holder = {
        use sqlx::Connection;
        sqlx::AnyConnection::connect(&format!("{}?mode=rw", app.config.database_url))
            .await
            .unwrap()
    };
    sqlx::raw_sql("BEGIN EXCLUSIVE")
        .execute(&mut holder)
        .await
        .unwrap();
    let visitor = {
        let mut v = app.browser();
        v.base = server.base.clone();
        v
    };
    let during = probe(&app.http, &visitor, &server.base, &bearer, "LIN9999106498").await;
    for (name, a) in &during {
        assert_unavailable(name, name, a, true);
    }

    sqlx::raw_sql("COMMIT").execute(&mut holder).await.unwrap();
    let visitor = {
        let mut v = app.browser();
        v.base = server.base.clone();
        v
    };
    let after = probe(&app.http, &visitor, &server.base, &bearer, "LIN9999106498").await;
    for (name, a) in &after {
        assert_served(name, a);
    }
}
