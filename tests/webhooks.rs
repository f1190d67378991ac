//! Webhooks (issue 19, push instead of polling), through the real server and
//! a real local HTTP receiver: every delivery is verified by its Standard
//! Webhooks signature; a receiver that is down for a while and a worker that
//! dies mid-batch lose nothing; protected cases produce nothing; private
//! targets are refused (SSRF); one client cannot see or end another's
//! subscription.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use casegate::auth::account::Role;
use casegate::domain::status::transition;
use casegate::domain::{CaseStatus, FormType};
use casegate::store::Db;
use casegate::webhooks::{self, SigningSecret, TargetRules, Worker, WorkerConfig};
use common::{Options, TestApp, spawn_with};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------
// The receiver
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: Vec<u8>,
}

#[derive(Default)]
struct Inbox {
    got: Mutex<Vec<Received>>,
    /// The status to answer (0 = 200).
    answer: AtomicU16,
    /// Milliseconds to wait before answering.
    delay_ms: AtomicU64,
}

/// A real HTTP listener on a fixed loopback port that can go down (the port
/// refuses connections) and come back.
struct Receiver {
    addr: SocketAddr,
    inbox: Arc<Inbox>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

async fn receive(State(inbox): State<Arc<Inbox>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let delay = inbox.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    inbox.got.lock().unwrap().push(Received {
        id: h("webhook-id"),
        timestamp: h("webhook-timestamp"),
        signature: h("webhook-signature"),
        body: body.to_vec(),
    });
    match inbox.answer.load(Ordering::SeqCst) {
        0 => StatusCode::OK,
        n => StatusCode::from_u16(n).unwrap(),
    }
}

impl Receiver {
    async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut r = Receiver {
            addr,
            inbox: Arc::new(Inbox::default()),
            stop: None,
            task: None,
        };
        r.serve(listener);
        r
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(self.inbox.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        self.stop = Some(tx);
        self.task = Some(tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        }));
    }

    fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    async fn down(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.abort();
            let _ = t.await;
        }
    }

    async fn up(&mut self) {
        let listener = tokio::net::TcpListener::bind(self.addr).await.unwrap();
        self.serve(listener);
    }

    fn received(&self) -> Vec<Received> {
        self.inbox.got.lock().unwrap().clone()
    }
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn loopback_app() -> Options {
    let mut o = Options::default();
    o.extra.push(("CASEGATE_WEBHOOK_ALLOW_LOOPBACK", "1"));
    o
}

fn worker_for(db: &Db, app: &TestApp) -> Worker {
    Worker::new(
        db.clone(),
        app.secrets.clone(),
        WorkerConfig {
            rules: TargetRules {
                allow_loopback: true,
                allow_private: false,
            },
            concurrency: 4,
            timeout: Duration::from_secs(2),
            max_attempts: 10,
        },
    )
    .unwrap()
}

async fn subscribe(app: &TestApp, token: &str, url: &str, receipts: &[&str]) -> reqwest::Response {
    app.http
        .post(app.url("/case-status/webhooks"))
        .bearer_auth(token)
        .json(&json!({"url": url, "receiptNumbers": receipts}))
        .send()
        .await
        .unwrap()
}

/// (case id, receipt, form, status) of demo cases of unprotected persons
/// that are still pending.
async fn open_cases(app: &TestApp, protected: bool) -> Vec<(i64, String, String, String)> {
    let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
        "SELECT c.id, c.receipt_number, c.form, c.status FROM cases c \
         JOIN persons p ON p.id = c.person_id WHERE p.protected = $1 ORDER BY c.id",
    )
    .bind(i64::from(protected))
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    rows.into_iter()
        .filter(|(_, _, _, s)| CaseStatus::from_code(s).is_some_and(|s| s.is_pending()))
        .collect()
}

/// A status this case may move to next (a pending one when there is one).
fn next_status(form: &str, status: &str) -> CaseStatus {
    let form = FormType::parse(form).unwrap();
    let from = CaseStatus::from_code(status).unwrap();
    let allowed: Vec<CaseStatus> = CaseStatus::ALL
        .into_iter()
        .filter(|to| *to != from && transition(form, Some(from), *to).is_ok())
        .collect();
    allowed
        .iter()
        .copied()
        .find(|s| s.is_pending())
        .or(allowed.first().copied())
        .expect("some transition")
}

/// Moves a case one step; returns the new status code.
async fn step(app: &TestApp, case_id: i64) -> String {
    let (form, status): (String, String) =
        sqlx::query_as("SELECT form, status FROM cases WHERE id = $1")
            .bind(case_id)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    let to = next_status(&form, &status);
    app.clock.advance_secs(1);
    common::change_status(
        app,
        case_id,
        to,
        "officer:test",
        app.clock.now().timestamp(),
    )
    .await
    .unwrap();
    to.code().to_string()
}

async fn delivery_ids(db: &Db) -> Vec<String> {
    sqlx::query_scalar("SELECT message_id FROM webhook_deliveries ORDER BY id")
        .fetch_all(db.pool())
        .await
        .unwrap()
}

async fn pending(db: &Db) -> i64 {
    webhooks::store::queue_depth(db).await.unwrap()
}

/// Checks every received request against the subscription's secret.
fn assert_signed(got: &[Received], secret: &SigningSecret) {
    for r in got {
        let ts: i64 = r.timestamp.parse().expect("webhook-timestamp is a number");
        let expected = secret.sign(&r.id, ts, &r.body);
        assert!(
            r.signature.split(' ').any(|s| s == expected),
            "signature of {} does not verify",
            r.id
        );
        assert!(r.id.starts_with("msg_"), "{}", r.id);
    }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

/// A receiver down while cases change, a worker that dies holding a claim
/// and a second instance that takes over: every delivery arrives, signed,
/// each id at least once, and the payload is what the Case Status API shows.
#[tokio::test]
async fn deliveries_survive_a_down_receiver_and_a_restart_and_verify_by_signature() {
    let app = spawn_with(loopback_app()).await;
    let mut receiver = Receiver::start().await;
    let token = app.token(1000, false).await;
    let cases = open_cases(&app, false).await;
    assert!(cases.len() >= 3, "demo has open cases");
    let cases = &cases[..3];
    let receipts: Vec<&str> = cases.iter().map(|c| c.1.as_str()).collect();
    let resp = subscribe(&app, &token, &receiver.url(), &receipts).await;
    assert_eq!(resp.status(), 201);
    let created: Value = resp.json().await.unwrap();
    let secret = SigningSecret::from_whsec(created["secret"].as_str().unwrap()).unwrap();
    let sub_id = created["id"].as_str().unwrap().to_string();

    // Up: a change is delivered by the worker, signed.
    let worker = worker_for(&app.db, &app);
    step(&app, cases[0].0).await;
    let (claimed, delivered) = worker.run_once(app.clock.now().timestamp()).await.unwrap();
    assert_eq!((claimed, delivered), (1, 1));
    assert_eq!(receiver.received().len(), 1);

    // Down: six changes wait, retried with backoff, nothing lost.
    receiver.down().await;
    for _ in 0..2 {
        for c in cases {
            step(&app, c.0).await;
        }
    }
    assert_eq!(pending(&app.db).await, 6);
    let (claimed, delivered) = worker.run_once(app.clock.now().timestamp()).await.unwrap();
    assert_eq!((claimed, delivered), (6, 0));
    assert_eq!(pending(&app.db).await, 6, "failed tries stay queued");
    // Not due again yet: the next pass claims nothing.
    let (claimed, _) = worker.run_once(app.clock.now().timestamp()).await.unwrap();
    assert_eq!(claimed, 0, "backoff holds the retries");

    // The client sees them pending through the API.
    let shown: Value = app
        .http
        .get(app.url(&format!("/case-status/webhooks/{sub_id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let deliveries = shown["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 7);
    let states: BTreeMap<String, usize> = deliveries.iter().fold(BTreeMap::new(), |mut m, d| {
        *m.entry(d["status"].as_str().unwrap().to_string())
            .or_default() += 1;
        m
    });
    assert_eq!(
        states,
        BTreeMap::from([("delivered".into(), 1), ("pending".into(), 6)])
    );
    let retried = deliveries
        .iter()
        .find(|d| d["status"] == "pending")
        .unwrap();
    assert_eq!(retried["attempts"], 1);
    assert!(retried["nextAttemptAt"].is_string());

    // Back up, but slow: instance A claims the due batch and dies mid-send.
    receiver.up().await;
    receiver.inbox.delay_ms.store(1500, Ordering::SeqCst);
    app.clock.advance_secs(3600);
    let dying = worker_for(&app.db, &app);
    let now = app.clock.now().timestamp();
    let a = tokio::spawn(async move { dying.run_once(now).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    a.abort();
    let _ = a.await;
    let locked: i64 = app
        .count("SELECT COUNT(*) FROM webhook_deliveries WHERE locked_until IS NOT NULL AND delivered_at IS NULL")
        .await;
    assert_eq!(locked, 6, "the dead instance's lease holds its rows");

    // Instance B: its own connection pool on the same database, the server's
    // worker loop. Until the lease expires it must not take the rows.
    receiver.inbox.delay_ms.store(0, Ordering::SeqCst);
    let db_b = Db::connect(&app.config.database_url, app.config.engine, 3)
        .await
        .unwrap();
    let worker_b = worker_for(&db_b, &app);
    let (claimed, _) = worker_b
        .run_once(app.clock.now().timestamp())
        .await
        .unwrap();
    assert_eq!(claimed, 0, "leased rows are not claimed twice");
    app.clock.advance_secs(24 * 3600);
    let wake = Arc::new(tokio::sync::Notify::new());
    let task = webhooks::spawn_worker(worker_b, app.state.clock.clone(), wake.clone());
    wake.notify_one();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while pending(&app.db).await > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "deliveries still pending"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    task.abort();

    // Every delivery arrived at least once, signed; nothing beyond the ids queued.
    let got = receiver.received();
    assert_signed(&got, &secret);
    let queued: BTreeSet<String> = delivery_ids(&app.db).await.into_iter().collect();
    let seen: BTreeSet<String> = got.iter().map(|r| r.id.clone()).collect();
    assert_eq!(queued.len(), 7);
    assert_eq!(
        seen, queued,
        "each delivery id arrives, none missing, none invented"
    );
    let mut per_id: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &got {
        *per_id.entry(r.id.as_str()).or_default() += 1;
    }
    assert!(
        per_id.values().all(|n| *n <= 2),
        "at most the one resend of a send cut short: {per_id:?}"
    );
    let delivered = app
        .count("SELECT COUNT(*) FROM webhook_deliveries WHERE delivered_at IS NOT NULL")
        .await;
    assert_eq!(delivered, 7);

    // The payload carries exactly the Case Status API's object.
    let last = got
        .iter()
        .filter(|r| {
            serde_json::from_slice::<Value>(&r.body).unwrap()["data"]["case_status"]
                ["receiptNumber"]
                == cases[2].1.as_str()
        })
        .max_by_key(|r| r.timestamp.clone())
        .unwrap();
    let body: Value = serde_json::from_slice(&last.body).unwrap();
    assert_eq!(body["type"], "case_status.updated");
    // (The first token expired while the clock moved a day.)
    let fresh = app.token(1000, false).await;
    let api: Value = app
        .http
        .get(app.url(&format!("/case-status/{}", cases[2].1)))
        .bearer_auth(&fresh)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys = |v: &Value| -> BTreeSet<String> { v.as_object().unwrap().keys().cloned().collect() };
    assert_eq!(
        keys(&body["data"]["case_status"]),
        keys(&api["case_status"]),
        "same fields as the API"
    );
    // Nothing changed since that case's last delivery: the same object.
    assert_eq!(body["data"]["case_status"], api["case_status"]);
}

/// Failing answers are retried with the same id until the limit, then the
/// delivery is marked failed (no more tries).
#[tokio::test]
async fn a_refusing_receiver_gets_retries_with_the_same_id_then_the_delivery_fails() {
    let app = spawn_with(loopback_app()).await;
    let receiver = Receiver::start().await;
    receiver.inbox.answer.store(500, Ordering::SeqCst);
    let token = app.token(1000, false).await;
    let case = open_cases(&app, false).await.remove(0);
    assert_eq!(
        subscribe(&app, &token, &receiver.url(), &[&case.1])
            .await
            .status(),
        201
    );
    step(&app, case.0).await;
    let worker = Worker::new(
        app.db.clone(),
        app.secrets.clone(),
        WorkerConfig {
            rules: TargetRules {
                allow_loopback: true,
                allow_private: false,
            },
            concurrency: 2,
            timeout: Duration::from_secs(2),
            max_attempts: 3,
        },
    )
    .unwrap();
    for _ in 0..5 {
        worker.run_once(app.clock.now().timestamp()).await.unwrap();
        app.clock.advance_secs(7200);
    }
    let got = receiver.received();
    assert_eq!(got.len(), 3, "three tries, then given up");
    assert!(
        got.iter().all(|r| r.id == got[0].id),
        "one webhook-id across retries"
    );
    let (attempts, failed, status): (i64, Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT attempts, failed_at, last_status FROM webhook_deliveries")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(attempts, 3);
    assert!(failed.is_some());
    assert_eq!(status, Some(500));
}

/// 1367: subscribing answers alike for a protected, an unknown and an
/// ordinary receipt; changes to a protected case queue nothing; a case that
/// became protected before its delivery left is not sent.
#[tokio::test]
async fn protected_cases_never_produce_a_delivery_and_subscribing_reveals_nothing() {
    let app = spawn_with(loopback_app()).await;
    let receiver = Receiver::start().await;
    let token = app.token(1000, false).await;
    let hidden = open_cases(&app, true).await;
    assert!(!hidden.is_empty(), "demo has a protected open case");
    let hidden = &hidden[0];
    let open = open_cases(&app, false).await.remove(0);

    let mut shapes = Vec::new();
    for receipt in [hidden.1.as_str(), "EAC0000000000", open.1.as_str()] {
        let resp = subscribe(&app, &token, &receiver.url(), &[receipt]).await;
        assert_eq!(resp.status(), 201, "{receipt}");
        let v: Value = resp.json().await.unwrap();
        let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(v["status"], "active");
        assert_eq!(v["receiptNumbers"], json!([receipt]));
        shapes.push(keys);
    }
    assert!(
        shapes.windows(2).all(|w| w[0] == w[1]),
        "same answer: {shapes:?}"
    );

    step(&app, hidden.0).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM webhook_deliveries").await,
        0
    );

    // Queued while visible, protected before it left: not sent.
    step(&app, open.0).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM webhook_deliveries").await,
        1
    );
    sqlx::query(
        "UPDATE persons SET protected = 1 WHERE id = (SELECT person_id FROM cases WHERE id = $1)",
    )
    .bind(open.0)
    .execute(app.db.pool())
    .await
    .unwrap();
    let worker = worker_for(&app.db, &app);
    worker.run_once(app.clock.now().timestamp()).await.unwrap();
    assert!(
        receiver.received().is_empty(),
        "nothing about a protected case leaves"
    );
    assert_eq!(pending(&app.db).await, 0);
}

/// SSRF: private, link-local and (without the setting) loopback targets and
/// plain http are refused, and nothing is stored.
#[tokio::test]
async fn private_network_targets_are_refused() {
    let strict = spawn_with(Options::default()).await;
    let token = strict.token(1000, false).await;
    for url in [
        "http://127.0.0.1:9/hook",
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://[::1]/hook",
        "https://10.0.0.5/hook",
        "https://192.168.1.10/hook",
        "https://172.16.0.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::ffff:169.254.169.254]/",
        "https://[fd12::1]/hook",
        "https://0.0.0.0/hook",
        "https://2130706433/hook",
        "http://hooks.example.com/plain-http",
        "file:///etc/passwd",
        "https://user:pass@hooks.example.com/",
    ] {
        let resp = subscribe(&strict, &token, url, &["EAC9999103403"]).await;
        assert_eq!(resp.status(), 422, "{url}");
        let v: Value = resp.json().await.unwrap();
        assert!(v["message"].as_str().unwrap().starts_with("url"), "{v}");
    }
    assert_eq!(
        strict
            .count("SELECT COUNT(*) FROM webhook_subscriptions")
            .await,
        0
    );

    // Loopback allowed for tests does not open private networks.
    let app = spawn_with(loopback_app()).await;
    let token = app.token(1000, false).await;
    for url in [
        "http://10.0.0.5/hook",
        "https://10.0.0.5/hook",
        "https://169.254.169.254/latest/meta-data/",
    ] {
        assert_eq!(
            subscribe(&app, &token, url, &["EAC9999103403"])
                .await
                .status(),
            422,
            "{url}"
        );
    }
    assert_eq!(
        subscribe(&app, &token, "http://127.0.0.1:9/hook", &["EAC9999103403"])
            .await
            .status(),
        201
    );
}

/// One client's subscriptions are invisible to another: show and delete
/// answer like a missing one (and are audited), lists are separate.
#[tokio::test]
async fn a_client_cannot_see_or_delete_another_clients_subscription() {
    let app = spawn_with(loopback_app()).await;
    let a = app.token(1000, false).await;
    let b = app.token(1000, false).await;
    let resp = subscribe(&app, &a, "http://127.0.0.1:9/hook", &["EAC9999103403"]).await;
    let id = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/case-status/webhooks/{id}");

    let missing = app
        .http
        .get(app.url("/case-status/webhooks/ws_000000000000000000000000"))
        .bearer_auth(&b)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let missing_body = missing.text().await.unwrap();
    let theirs = app
        .http
        .get(app.url(&path))
        .bearer_auth(&b)
        .send()
        .await
        .unwrap();
    assert_eq!(theirs.status(), 404);
    assert_eq!(
        theirs.text().await.unwrap(),
        missing_body,
        "answers like a missing one"
    );
    let del = app
        .http
        .delete(app.url(&path))
        .bearer_auth(&b)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 404);
    let list_b: Value = app
        .http
        .get(app.url("/case-status/webhooks"))
        .bearer_auth(&b)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list_b["webhooks"], json!([]));
    assert!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'authz.refused'")
            .await
            >= 2
    );

    // The owner still has it, active; then ends it.
    let mine = app
        .http
        .get(app.url(&path))
        .bearer_auth(&a)
        .send()
        .await
        .unwrap();
    assert_eq!(mine.status(), 200);
    assert_eq!(mine.json::<Value>().await.unwrap()["status"], "active");
    let del = app
        .http
        .delete(app.url(&path))
        .bearer_auth(&a)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 204);
    let gone = app
        .http
        .get(app.url(&path))
        .bearer_auth(&a)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);

    // No token: the API's 401.
    let anon = app
        .http
        .get(app.url("/case-status/webhooks"))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 401);
}

/// Officers (admins) see every client's subscriptions and their deliveries,
/// and disable one after a confirmation; nothing more is queued or sent for
/// it, and the client sees it disabled. Other roles are refused.
#[tokio::test]
async fn admins_see_subscriptions_in_the_console_and_disable_one_after_confirming() {
    let app = spawn_with(loopback_app()).await;
    let receiver = Receiver::start().await;
    receiver.inbox.answer.store(503, Ordering::SeqCst);
    let token = app.token(1000, false).await;
    let case = open_cases(&app, false).await.remove(0);
    let created: Value = subscribe(&app, &token, &receiver.url(), &[&case.1])
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    step(&app, case.0).await;
    worker_for(&app.db, &app)
        .run_once(app.clock.now().timestamp())
        .await
        .unwrap();
    let webhook_id: String = sqlx::query_scalar("SELECT message_id FROM webhook_deliveries")
        .fetch_one(app.db.pool())
        .await
        .unwrap();

    let clerk = common::enrolled_account(
        &app,
        "adjudicator@agency.example",
        casegate::auth::account::Role::Adjudicator,
    )
    .await;
    assert_eq!(clerk.get("/officer/webhooks").await.status(), 404);
    assert_eq!(
        clerk
            .post(&format!("/officer/webhooks/{id}/disable"), &[])
            .await
            .status(),
        404
    );

    let admin = common::sign_in_demo(&app, "admin@agency.example").await;
    let (status, list) = admin.text("/officer/webhooks").await;
    assert_eq!(status, 200);
    assert!(
        list.contains("test tracker") && list.contains(&receiver.url()),
        "{list}"
    );
    let (status, page) = admin.text(&format!("/officer/webhooks/{id}")).await;
    assert_eq!(status, 200);
    assert!(page.contains(&webhook_id), "the delivery is listed");
    assert!(page.contains("503"), "with the receiver's last answer");
    assert!(page.contains("Waiting to be sent"));
    let (status, confirm) = admin.text(&format!("/officer/webhooks/{id}/disable")).await;
    assert_eq!(status, 200);
    assert!(confirm.contains("Yes, disable it"));
    let (_, es) = admin
        .text(&format!("/officer/webhooks/{id}/disable?lang=es"))
        .await;
    assert!(es.contains("Sí, desactivarla"));
    let done = admin
        .post(&format!("/officer/webhooks/{id}/disable"), &[])
        .await;
    assert_eq!(common::location(&done), format!("/officer/webhooks/{id}"));

    // The pending delivery is given up, nothing new is queued, the client sees it.
    assert_eq!(pending(&app.db).await, 0);
    step(&app, case.0).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM webhook_deliveries").await,
        1
    );
    let shown: Value = app
        .http
        .get(app.url(&format!("/case-status/webhooks/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["status"], "disabled");
    assert_eq!(shown["deliveries"][0]["status"], "failed");
    assert!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'webhook.disable'")
            .await
            == 1
    );
}

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The fan-out benchmark (`bench/webhooks`, not part of the suite): N case
/// changes, committed one transaction each as the officer actions do, each
/// followed by S subscriptions of S API clients, delivered by the server's
/// worker to a local receiver that verifies every signature. Prints one
/// `BENCH` line: changes committed per second, and changes (and deliveries)
/// per second from the first commit until the last delivery arrived.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run through bench/webhooks"]
async fn fan_out_benchmark() {
    let changes = env_num("BENCH_WEBHOOK_CHANGES", 2000);
    let subscribers = env_num("BENCH_WEBHOOK_SUBSCRIBERS", 4);
    let concurrency = env_num("BENCH_WEBHOOK_CONCURRENCY", 8);
    let app = spawn_with(loopback_app()).await;
    let receiver = Receiver::start().await;
    let cases = open_cases(&app, false).await;
    let receipts: Vec<&str> = cases.iter().map(|c| c.1.as_str()).collect();
    let mut secrets = Vec::new();
    for _ in 0..subscribers {
        let token = app.token(1_000_000, false).await;
        let v: Value = subscribe(&app, &token, &receiver.url(), &receipts)
            .await
            .json()
            .await
            .unwrap();
        secrets.push(SigningSecret::from_whsec(v["secret"].as_str().unwrap()).unwrap());
    }
    let worker = Worker::new(
        app.db.clone(),
        app.secrets.clone(),
        WorkerConfig {
            rules: TargetRules {
                allow_loopback: true,
                allow_private: false,
            },
            concurrency,
            timeout: Duration::from_secs(5),
            max_attempts: 15,
        },
    )
    .unwrap();
    let task = webhooks::spawn_worker(
        worker,
        app.state.clock.clone(),
        app.state.webhook_wake.clone(),
    );
    let expected = changes * subscribers;
    let t0 = std::time::Instant::now();
    for i in 0..changes {
        let (case_id, _, form, _) = &cases[i % cases.len()];
        let status: String = sqlx::query_scalar("SELECT status FROM cases WHERE id = $1")
            .bind(case_id)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
        let to = next_status(form, &status);
        common::change_status(
            &app,
            *case_id,
            to,
            "officer:bench",
            app.clock.now().timestamp(),
        )
        .await
        .unwrap();
    }
    let committed = t0.elapsed();
    while receiver.inbox.got.lock().unwrap().len() < expected {
        assert!(
            t0.elapsed() < Duration::from_secs(600),
            "deliveries did not finish"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let drained = t0.elapsed();
    task.abort();
    let got = receiver.received();
    // Each subscriber's secret verifies its own deliveries: check that every
    // request verifies under one of them.
    for r in &got {
        let ts: i64 = r.timestamp.parse().unwrap();
        assert!(
            secrets
                .iter()
                .any(|s| s.sign(&r.id, ts, &r.body) == r.signature),
            "unsigned delivery"
        );
    }
    let ids: BTreeSet<&str> = got.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), expected, "each delivery once");
    println!(
        "BENCH engine={:?} changes={changes} subscribers={subscribers} concurrency={concurrency} cases={} deliveries={} commit_s={:.3} drain_s={:.3} commits_per_s={:.0} changes_per_s={:.0} deliveries_per_s={:.0}",
        common::engine(),
        cases.len(),
        got.len(),
        committed.as_secs_f64(),
        drained.as_secs_f64(),
        changes as f64 / committed.as_secs_f64(),
        changes as f64 / drained.as_secs_f64(),
        got.len() as f64 / drained.as_secs_f64(),
    );
}

/// The delivery is written in the change's own transaction: a change that
/// rolls back (the officer action failed later on) leaves no delivery, and
/// one that commits always has its delivery.
#[tokio::test]
async fn a_rolled_back_change_queues_nothing() {
    let app = spawn_with(loopback_app()).await;
    let token = app.token(1000, false).await;
    let case = open_cases(&app, false).await.remove(0);
    assert_eq!(
        subscribe(&app, &token, "http://127.0.0.1:9/hook", &[&case.1])
            .await
            .status(),
        201
    );
    let to = next_status(&case.2, &case.3);
    let mut tx = app.db.pool().begin().await.unwrap();
    let changed = casegate::casework::change_status(
        &mut tx,
        &app.state,
        case.0,
        to,
        "officer:test",
        app.clock.now().timestamp(),
    )
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    drop(changed);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM webhook_deliveries").await,
        0
    );
    step(&app, case.0).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM webhook_deliveries").await,
        1
    );
}

// ---------------------------------------------------------------------------
// Applicant tokens (their own cases)
// ---------------------------------------------------------------------------

const MARIA: &str = "maria.nunez@example.com";
const MINE: &str = "EAC9999103403";
const THEIRS: &str = "LIN9999106498";
const APPLICANT_HOOKS: &str = "/account/case-service/api/webhooks";

async fn account_of(app: &TestApp, email: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM accounts WHERE email = $1")
        .bind(email)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn link(app: &TestApp, receipt: &str, account: Option<i64>) {
    sqlx::query("UPDATE cases SET account_id = $1 WHERE receipt_number = $2")
        .bind(account)
        .bind(receipt)
        .execute(app.db.pool())
        .await
        .unwrap();
}

/// Creates a personal token on Connected apps (as an applicant does);
/// returns it.
async fn personal_token(b: &common::Browser, name: &str) -> String {
    let r = b
        .post(
            "/account/security/apps/tokens",
            &[("name", name), ("expiry", "30")],
        )
        .await;
    assert_eq!(r.status(), 201);
    let html = r.text().await.unwrap();
    let i = html.find("cgp_").expect("the new token is shown");
    html[i..i + 44].to_string()
}

async fn applicant_subscribe(
    app: &TestApp,
    token: &str,
    url: &str,
    receipts: &[&str],
) -> reqwest::Response {
    app.http
        .post(app.url(APPLICANT_HOOKS))
        .bearer_auth(token)
        .json(&json!({"url": url, "receiptNumbers": receipts}))
        .send()
        .await
        .unwrap()
}

async fn with_bearer(
    app: &TestApp,
    method: reqwest::Method,
    token: &str,
    path: &str,
) -> reqwest::Response {
    app.http
        .request(method, app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn deliveries_count(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM webhook_deliveries").await
}

/// An applicant's personal token subscribes to a case linked to its account
/// and receives signed deliveries with what the Case Status API shows;
/// another person's (or an unknown, or an unlinked) receipt is refused with
/// one answer; a case no longer linked, and a revoked token, get nothing
/// more, even a delivery already queued.
#[tokio::test]
async fn an_applicant_token_follows_its_own_case_until_it_is_revoked() {
    let app = spawn_with(loopback_app()).await;
    let receiver = Receiver::start().await;
    let maria = account_of(&app, MARIA).await;
    // An open case of hers that can move a few more steps.
    let (id, mine_owned, _, _) = open_cases(&app, false)
        .await
        .into_iter()
        .find(|c| c.1 != THEIRS)
        .expect("an open case");
    let mine = mine_owned.as_str();
    link(&app, mine, Some(maria)).await;
    let b = common::sign_in_demo(&app, MARIA).await;
    let token = personal_token(&b, "tracker").await;

    // Someone else's, an unknown and an unlinked receipt: one answer.
    let bea = common::enrolled_account(&app, "bea@example.com", Role::Applicant).await;
    link(
        &app,
        THEIRS,
        Some(account_of(&app, "bea@example.com").await),
    )
    .await;
    let unlinked: String = sqlx::query_scalar(
        "SELECT receipt_number FROM cases WHERE account_id IS NULL ORDER BY id LIMIT 1",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let mut answers = BTreeSet::new();
    for receipts in [
        vec![THEIRS],
        vec![mine, THEIRS],
        vec!["EAC0000000000"],
        vec![unlinked.as_str()],
    ] {
        let r = applicant_subscribe(&app, &token, &receiver.url(), &receipts).await;
        assert_eq!(r.status(), 404, "{receipts:?}");
        answers.insert(r.text().await.unwrap());
    }
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'authz.refused'")
            .await
            >= 2,
        "the attempts on another person's case are audited"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM webhook_subscriptions")
            .await,
        0
    );
    // Bea's browser session and API clients' tokens are not applicant tokens.
    assert_eq!(bea.get(APPLICANT_HOOKS).await.status(), 401);
    let client = app.token(1000, false).await;
    let r = applicant_subscribe(&app, &client, &receiver.url(), &[mine]).await;
    assert_eq!(r.status(), 401);

    // Her own case: subscribed, listed, and a change is delivered, signed.
    let r = applicant_subscribe(&app, &token, &receiver.url(), &[mine]).await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let secret = SigningSecret::from_whsec(created["secret"].as_str().unwrap()).unwrap();
    let sub_id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["receiptNumbers"], json!([mine]));
    assert_eq!(created["status"], "active");
    let list: Value = with_bearer(&app, reqwest::Method::GET, &token, APPLICANT_HOOKS)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["webhooks"][0]["id"], sub_id.as_str());
    assert!(list["webhooks"][0].get("secret").is_none());

    let worker = worker_for(&app.db, &app);
    step(&app, id).await;
    let (claimed, delivered) = worker.run_once(app.clock.now().timestamp()).await.unwrap();
    assert_eq!((claimed, delivered), (1, 1));
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert_signed(&got, &secret);
    let body: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(body["type"], "case_status.updated");
    let api: Value = app
        .http
        .get(app.url(&format!("/case-status/{mine}")))
        .bearer_auth(&client)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["data"]["case_status"], api["case_status"]);
    let shown: Value = with_bearer(
        &app,
        reqwest::Method::GET,
        &token,
        &format!("{APPLICANT_HOOKS}/{sub_id}"),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(shown["deliveries"][0]["status"], "delivered");

    // No longer linked to her account: nothing is queued.
    link(&app, mine, None).await;
    step(&app, id).await;
    assert_eq!(deliveries_count(&app).await, 1);
    link(&app, mine, Some(maria)).await;
    // Nor while her account is an officer's.
    let set_role = |role: &'static str| {
        let db = app.db.clone();
        async move {
            sqlx::query("UPDATE accounts SET role = $1 WHERE email = $2")
                .bind(role)
                .bind(MARIA)
                .execute(db.pool())
                .await
                .unwrap();
        }
    };
    set_role("adjudicator").await;
    step(&app, id).await;
    assert_eq!(deliveries_count(&app).await, 1);
    set_role("applicant").await;

    // A change queued, then the token revoked: it is not sent, and later
    // changes queue nothing.
    step(&app, id).await;
    assert_eq!(deliveries_count(&app).await, 2);
    let token_id: i64 = sqlx::query_scalar("SELECT MAX(id) FROM applicant_tokens")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let r = b
        .post(
            &format!("/account/security/apps/tokens/{token_id}/revoke"),
            &[],
        )
        .await;
    assert!(r.status().is_success() || r.status().is_redirection());
    assert_eq!(
        with_bearer(&app, reqwest::Method::GET, &token, APPLICANT_HOOKS)
            .await
            .status(),
        401
    );
    let (claimed, delivered) = worker.run_once(app.clock.now().timestamp()).await.unwrap();
    assert_eq!((claimed, delivered), (1, 0));
    step(&app, id).await;
    assert_eq!(deliveries_count(&app).await, 2);
    assert_eq!(pending(&app.db).await, 0);
    let (claimed, _) = worker.run_once(app.clock.now().timestamp()).await.unwrap();
    assert_eq!(claimed, 0);
    assert_eq!(receiver.received().len(), 1, "nothing after the revocation");

    // Housekeeping forgets the ended token with its subscription.
    app.clock.advance_secs(31 * 86_400);
    casegate::api_guard::applicant::store::purge(&app.db, app.clock.now().timestamp())
        .await
        .unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM applicant_tokens").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM webhook_subscriptions")
            .await,
        0
    );
    assert_eq!(deliveries_count(&app).await, 0);
}

/// Another account's token neither sees nor ends an applicant's
/// subscription (it answers like a missing one, and is audited); the owner
/// does.
#[tokio::test]
async fn another_accounts_token_cannot_see_or_delete_an_applicant_subscription() {
    let app = spawn_with(loopback_app()).await;
    link(&app, MINE, Some(account_of(&app, MARIA).await)).await;
    let maria = common::sign_in_demo(&app, MARIA).await;
    let mine = personal_token(&maria, "mine").await;
    let bea = common::enrolled_account(&app, "bea@example.com", Role::Applicant).await;
    let theirs = personal_token(&bea, "theirs").await;
    let r = applicant_subscribe(&app, &mine, "http://127.0.0.1:9/hook", &[MINE]).await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("{APPLICANT_HOOKS}/{id}");

    let missing = with_bearer(
        &app,
        reqwest::Method::GET,
        &theirs,
        &format!("{APPLICANT_HOOKS}/ws_000000000000000000000000"),
    )
    .await;
    assert_eq!(missing.status(), 404);
    let missing_body = missing.text().await.unwrap();
    let seen = with_bearer(&app, reqwest::Method::GET, &theirs, &path).await;
    assert_eq!(seen.status(), 404);
    assert_eq!(seen.text().await.unwrap(), missing_body);
    let del = with_bearer(&app, reqwest::Method::DELETE, &theirs, &path).await;
    assert_eq!(del.status(), 404);
    let list: Value = with_bearer(&app, reqwest::Method::GET, &theirs, APPLICANT_HOOKS)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["webhooks"], json!([]));
    // Nor through the API clients' routes.
    let client = app.token(1000, false).await;
    let other = with_bearer(
        &app,
        reqwest::Method::GET,
        &client,
        &format!("/case-status/webhooks/{id}"),
    )
    .await;
    assert_eq!(other.status(), 404);
    assert!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'authz.refused'")
            .await
            >= 3
    );

    // The owner still has it, then ends it.
    let own = with_bearer(&app, reqwest::Method::GET, &mine, &path).await;
    assert_eq!(own.status(), 200);
    assert_eq!(own.json::<Value>().await.unwrap()["status"], "active");
    let del = with_bearer(&app, reqwest::Method::DELETE, &mine, &path).await;
    assert_eq!(del.status(), 204);
    let gone = with_bearer(&app, reqwest::Method::GET, &mine, &path).await;
    assert_eq!(gone.status(), 404);
    assert_eq!(
        with_bearer(&app, reqwest::Method::GET, "", APPLICANT_HOOKS)
            .await
            .status(),
        401
    );
}
