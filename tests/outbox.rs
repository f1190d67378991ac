//! The email outbox against a real database (SQLite, or PostgreSQL when
//! `CASEGATE_TEST_POSTGRES` is set) and a real SMTP server (tests/common/smtp.rs).

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use casegate::config::DbEngine;
use casegate::outbox::{
    self, OutboxConfig, OutgoingEmail, Transport, backoff_secs, enqueue, queue_depth, run_once,
};
use casegate::secrets::Secrets;
use casegate::store::Db;
use common::smtp::{Behavior, ReceivedMessage, SmtpSink};

const T0: i64 = 1_795_000_000;
const FROM: &str = "Agencia de Ejemplo <no-reply@casegate.invalid>";
const CODE: &str = "ZQ7K-4M9X-PW31";

struct Env {
    db: Db,
    url: String,
    secrets: Secrets,
    dir: common::TempDir,
    _database: common::TestDatabase,
}

async fn env() -> Env {
    let dir = common::temp_dir("outbox");
    let database = common::fresh_database(&dir).await;
    let url = database.url.clone();
    let db = Db::connect(&url, common::engine(), 5).await.unwrap();
    db.migrate().await.unwrap();
    let secrets =
        Secrets::load_or_create(Some(common::MASTER_KEY), &dir, &mut rand::rngs::OsRng).unwrap();
    Env {
        db,
        url,
        secrets,
        dir,
        _database: database,
    }
}

fn config(smtp_url: Option<String>, dir: &std::path::Path) -> OutboxConfig {
    OutboxConfig {
        smtp_url,
        from: FROM.into(),
        dir: dir.join("outbox"),
        max_attempts: 10,
        lease_secs: 120,
    }
}

fn spanish(to: &str) -> OutgoingEmail {
    OutgoingEmail {
        to: to.into(),
        subject: "Su código de acceso — Agencia".into(),
        text: format!(
            "Estimada señora Muñoz:\n\nSu código de acceso es {CODE}.\n.\n..dos puntos\n.punto inicial\n\nAtentamente,\nla Agencia\n"
        ),
    }
}

async fn put(e: &Env, msg: &OutgoingEmail, now: i64) -> i64 {
    let mut tx = e.db.pool().begin().await.unwrap();
    let id = enqueue(&mut *tx, &e.secrets, &mut rand::rngs::OsRng, msg, now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

#[derive(Debug)]
struct Row {
    attempts: i64,
    next_attempt_at: i64,
    locked_until: Option<i64>,
    sent_at: Option<i64>,
    failed_at: Option<i64>,
    last_error: Option<String>,
    body_sealed: Option<Vec<u8>>,
    message_id: String,
    created_at: i64,
}

type RawRow = (
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<Vec<u8>>,
    String,
    i64,
);

async fn row(db: &Db, id: i64) -> Row {
    let r: RawRow = sqlx::query_as(
        "SELECT attempts, next_attempt_at, locked_until, sent_at, failed_at, last_error, \
         body_sealed, message_id, created_at FROM outbox WHERE id = $1",
    )
    .bind(id)
    .fetch_one(db.pool())
    .await
    .unwrap();
    Row {
        attempts: r.0,
        next_attempt_at: r.1,
        locked_until: r.2,
        sent_at: r.3,
        failed_at: r.4,
        last_error: r.5,
        body_sealed: r.6,
        message_id: r.7,
        created_at: r.8,
    }
}

fn assert_headers(m: &ReceivedMessage, r: &Row, to: &str) {
    assert_eq!(
        m.header("Message-ID").as_deref(),
        Some(r.message_id.as_str())
    );
    assert_eq!(m.header_all("Message-ID").len(), 1);
    // lettre quotes a display name that has spaces.
    assert_eq!(
        m.header_decoded("From").as_deref(),
        Some("\"Agencia de Ejemplo\" <no-reply@casegate.invalid>")
    );
    assert_eq!(m.header("To").as_deref(), Some(to));
    assert_eq!(
        m.subject().as_deref(),
        Some("Su código de acceso — Agencia")
    );
    let ct = m.header("Content-Type").unwrap().to_ascii_lowercase();
    assert_eq!(ct, "text/plain; charset=utf-8");
    let date = m.header("Date").unwrap();
    let parsed = chrono::DateTime::parse_from_rfc2822(&date).unwrap();
    assert_eq!(parsed.timestamp(), r.created_at, "Date is the enqueue time");
    assert_eq!(m.text(), spanish(to).text);
}

#[tokio::test]
async fn delivers_once_with_headers_and_utf8_body_then_erases_body() {
    let e = env().await;
    let sink = SmtpSink::start().await;
    let cfg = config(Some(sink.url()), &e.dir);
    let transport = Transport::from_config(&cfg).unwrap();
    let id = put(&e, &spanish("ana.munoz@example.org"), T0).await;
    let before = row(&e.db, id).await;
    assert!(before.body_sealed.is_some());
    assert!(before.message_id.starts_with('<') && before.message_id.ends_with("@casegate>"));
    assert_eq!(queue_depth(&e.db).await.unwrap(), 1);

    assert_eq!(
        run_once(&e.db, &e.secrets, &transport, &cfg, T0)
            .await
            .unwrap(),
        1
    );
    let got = sink.messages();
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.mail_from, "no-reply@casegate.invalid");
    assert_eq!(m.rcpt_to, vec!["ana.munoz@example.org".to_string()]);
    assert_headers(m, &before, "ana.munoz@example.org");
    assert!(m.raw().is_ascii(), "7-bit transfer encoding on the wire");

    let after = row(&e.db, id).await;
    assert_eq!(after.sent_at, Some(T0));
    assert_eq!(after.body_sealed, None, "sealed body erased once sent");
    assert_eq!(after.locked_until, None);
    assert_eq!(after.failed_at, None);
    assert_eq!(queue_depth(&e.db).await.unwrap(), 0);

    // Nothing more to do, now or much later.
    for t in [T0, T0 + 10, T0 + 100_000] {
        assert_eq!(
            run_once(&e.db, &e.secrets, &transport, &cfg, t)
                .await
                .unwrap(),
            0
        );
    }
    assert_eq!(sink.count(), 1);
}

#[tokio::test]
async fn rolled_back_enqueue_leaves_nothing() {
    let e = env().await;
    let mut tx = e.db.pool().begin().await.unwrap();
    enqueue(
        &mut *tx,
        &e.secrets,
        &mut rand::rngs::OsRng,
        &spanish("a@example.org"),
        T0,
    )
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(queue_depth(&e.db).await.unwrap(), 0);
    // And enqueue also takes the pool directly.
    enqueue(
        e.db.pool(),
        &e.secrets,
        &mut rand::rngs::OsRng,
        &spanish("a@example.org"),
        T0,
    )
    .await
    .unwrap();
    assert_eq!(queue_depth(&e.db).await.unwrap(), 1);
}

#[tokio::test]
async fn outage_retries_with_backoff_and_then_delivers_exactly_once() {
    let e = env().await;
    let sink = SmtpSink::start().await;
    let cfg = config(Some(sink.url()), &e.dir);
    let transport = Transport::from_config(&cfg).unwrap();
    let id = put(&e, &spanish("b@example.org"), T0).await;
    let send = |t: i64| {
        let (db, s, tr, c) = (&e.db, &e.secrets, &transport, &cfg);
        async move { run_once(db, s, tr, c, t).await.unwrap() }
    };

    // 1. The relay takes the message but answers 451.
    sink.set_behavior(Behavior::Data451);
    let mut t = T0;
    assert_eq!(send(t).await, 0);
    let r = row(&e.db, id).await;
    assert_eq!((r.attempts, r.next_attempt_at), (1, t + backoff_secs(1)));
    assert!(r.last_error.as_deref().unwrap().contains("451"), "{r:?}");
    assert_eq!((r.locked_until, r.sent_at, r.failed_at), (None, None, None));
    assert!(r.body_sealed.is_some(), "kept for the retry");
    assert!(!r.last_error.unwrap().contains(CODE));

    // Not due yet: no try at all.
    let commands = sink.commands().len();
    assert_eq!(send(t + backoff_secs(1) - 1).await, 0);
    assert_eq!(row(&e.db, id).await.attempts, 1);
    assert_eq!(
        sink.commands().len(),
        commands,
        "the relay was not contacted"
    );

    // 2. 451 to MAIL FROM.
    sink.set_behavior(Behavior::Mail451);
    t += backoff_secs(1);
    assert_eq!(send(t).await, 0);
    let r = row(&e.db, id).await;
    assert_eq!((r.attempts, r.next_attempt_at), (2, t + backoff_secs(2)));

    // 3. The relay is down: connection refused.
    sink.stop().await;
    t += backoff_secs(2);
    assert_eq!(send(t).await, 0);
    let r = row(&e.db, id).await;
    assert_eq!((r.attempts, r.next_attempt_at), (3, t + backoff_secs(3)));
    assert!(r.last_error.is_some());

    // 4. Back, but greeting with 421.
    sink.restart().await;
    sink.set_behavior(Behavior::Greet421);
    t += backoff_secs(3);
    assert_eq!(send(t).await, 0);
    let r = row(&e.db, id).await;
    assert_eq!((r.attempts, r.next_attempt_at), (4, t + backoff_secs(4)));
    assert!(r.last_error.as_deref().unwrap().contains("421"), "{r:?}");
    assert_eq!(queue_depth(&e.db).await.unwrap(), 1, "nothing lost");
    assert_eq!(sink.count(), 0);

    // 5. Healthy again: delivered exactly once.
    sink.set_behavior(Behavior::Accept);
    t += backoff_secs(4);
    assert_eq!(send(t).await, 1);
    let r = row(&e.db, id).await;
    assert_eq!(
        (r.attempts, r.sent_at, r.body_sealed.is_none()),
        (5, Some(t), true)
    );
    for later in [t, t + 60, t + 7200] {
        assert_eq!(send(later).await, 0);
    }
    let got = sink.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].text(), spanish("b@example.org").text);
}

#[tokio::test]
async fn gives_up_after_max_attempts_and_erases_body() {
    let e = env().await;
    let sink = SmtpSink::start().await;
    sink.set_behavior(Behavior::Data451);
    let mut cfg = config(Some(sink.url()), &e.dir);
    cfg.max_attempts = 3;
    let transport = Transport::from_config(&cfg).unwrap();
    let id = put(&e, &spanish("c@example.org"), T0).await;
    let mut t = T0;
    for n in 1..=3 {
        assert_eq!(
            run_once(&e.db, &e.secrets, &transport, &cfg, t)
                .await
                .unwrap(),
            0
        );
        assert_eq!(row(&e.db, id).await.attempts, n);
        t += backoff_secs(n as u32);
    }
    let r = row(&e.db, id).await;
    assert_eq!(r.failed_at, Some(t - backoff_secs(3)));
    assert_eq!(r.body_sealed, None);
    assert_eq!(queue_depth(&e.db).await.unwrap(), 0);
    sink.set_behavior(Behavior::Accept);
    assert_eq!(
        run_once(&e.db, &e.secrets, &transport, &cfg, t + 86_400)
            .await
            .unwrap(),
        0
    );
    assert_eq!(sink.count(), 0);
}

#[tokio::test]
async fn permanent_rejection_and_bad_address_give_up_at_once() {
    let e = env().await;
    let sink = SmtpSink::start().await;
    sink.set_behavior(Behavior::Rcpt550);
    let cfg = config(Some(sink.url()), &e.dir);
    let transport = Transport::from_config(&cfg).unwrap();
    let rejected = put(&e, &spanish("nobody@example.org"), T0).await;
    let bad = put(&e, &spanish("not an address"), T0).await;
    assert_eq!(
        run_once(&e.db, &e.secrets, &transport, &cfg, T0)
            .await
            .unwrap(),
        0
    );
    let r = row(&e.db, rejected).await;
    assert_eq!((r.attempts, r.failed_at), (1, Some(T0)));
    assert!(r.last_error.as_deref().unwrap().contains("550"), "{r:?}");
    assert_eq!(r.body_sealed, None);
    let r = row(&e.db, bad).await;
    assert_eq!((r.attempts, r.failed_at), (1, Some(T0)));
    assert_eq!(r.last_error.as_deref(), Some("invalid recipient address"));
    assert_eq!(queue_depth(&e.db).await.unwrap(), 0);
}

#[tokio::test]
async fn a_live_lease_blocks_and_an_expired_one_is_reclaimed() {
    let e = env().await;
    let sink = SmtpSink::start().await;
    let cfg = config(Some(sink.url()), &e.dir);
    let transport = Transport::from_config(&cfg).unwrap();
    let id = put(&e, &spanish("d@example.org"), T0).await;
    // Another instance claimed it and then crashed.
    sqlx::query("UPDATE outbox SET locked_until = $1 WHERE id = $2")
        .bind(T0 + 120)
        .bind(id)
        .execute(e.db.pool())
        .await
        .unwrap();
    assert_eq!(
        run_once(&e.db, &e.secrets, &transport, &cfg, T0 + 60)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        run_once(&e.db, &e.secrets, &transport, &cfg, T0 + 120)
            .await
            .unwrap(),
        0
    );
    assert_eq!(sink.count(), 0);
    assert_eq!(
        run_once(&e.db, &e.secrets, &transport, &cfg, T0 + 121)
            .await
            .unwrap(),
        1
    );
    assert_eq!(sink.count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_workers_never_send_the_same_message_twice() {
    let e = env().await;
    let sink = SmtpSink::start().await;
    let cfg = config(Some(sink.url()), &e.dir);
    const N: usize = 150;
    const WORKERS: usize = 6;
    for i in 0..N {
        put(&e, &spanish(&format!("p{i}@example.org")), T0).await;
    }
    // Six "instances" (own pool, own SMTP transport, same clock) that claim
    // at the same moment, round after round, until the queue is empty.
    let barrier = Arc::new(tokio::sync::Barrier::new(WORKERS));
    let mut tasks = Vec::new();
    for _ in 0..WORKERS {
        let db = Db::connect(&e.url, common::engine(), 2).await.unwrap();
        let secrets = e.secrets.clone();
        let cfg = cfg.clone();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            let transport = Transport::from_config(&cfg).unwrap();
            let mut sent = 0;
            for _ in 0..N {
                barrier.wait().await;
                sent += run_once(&db, &secrets, &transport, &cfg, T0).await.unwrap();
                barrier.wait().await;
                if queue_depth(&db).await.unwrap() == 0 {
                    break;
                }
            }
            sent
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    let got = sink.messages();
    let ids: HashSet<String> = got
        .iter()
        .map(|m| m.header("Message-ID").unwrap())
        .collect();
    assert_eq!(ids.len(), N, "every message delivered");
    assert_eq!(got.len(), N, "and none twice");
    assert_eq!(total, N);
    let rcpts: HashSet<&String> = got.iter().flat_map(|m| &m.rcpt_to).collect();
    assert_eq!(rcpts.len(), N);
    assert_eq!(queue_depth(&e.db).await.unwrap(), 0);
}

#[tokio::test]
async fn files_transport_writes_a_complete_eml_atomically() {
    let e = env().await;
    let cfg = config(None, &e.dir);
    assert!(!cfg.dir.exists());
    let transport = Transport::from_config(&cfg).unwrap();
    assert!(matches!(&transport, Transport::Files(d) if *d == cfg.dir));
    let id = put(&e, &spanish("e@example.org"), T0).await;
    let before = row(&e.db, id).await;
    assert_eq!(
        run_once(&e.db, &e.secrets, &transport, &cfg, T0 + 5)
            .await
            .unwrap(),
        1
    );
    let names: Vec<String> = std::fs::read_dir(&cfg.dir)
        .unwrap()
        .map(|d| d.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, vec![outbox::files::file_name(T0, id)]);
    assert!(names[0].ends_with(&format!("-{id}.eml")));
    let bytes = std::fs::read(cfg.dir.join(&names[0])).unwrap();
    let m = ReceivedMessage {
        helo: String::new(),
        mail_from: String::new(),
        rcpt_to: vec![],
        data: bytes,
        auth: None,
    };
    assert!(m.header("MIME-Version").is_some());
    assert_headers(&m, &before, "e@example.org");
    let r = row(&e.db, id).await;
    assert_eq!((r.sent_at, r.body_sealed), (Some(T0 + 5), None));
}

#[tokio::test]
async fn plaintext_body_is_never_stored() {
    let e = env().await;
    let sink = SmtpSink::start().await;
    let cfg = config(Some(sink.url()), &e.dir);
    let transport = Transport::from_config(&cfg).unwrap();
    let id = put(&e, &spanish("f@example.org"), T0).await;
    let r = row(&e.db, id).await;
    let sealed = r.body_sealed.clone().unwrap();
    assert!(!contains(&sealed, CODE.as_bytes()));
    // Sealed under the letter key, bound to the Message-ID.
    let plain =
        casegate::crypto::open(&e.secrets.letter_key, r.message_id.as_bytes(), &sealed).unwrap();
    assert!(contains(&plain, CODE.as_bytes()));
    assert!(casegate::crypto::open(&e.secrets.letter_key, b"<other@casegate>", &sealed).is_err());

    let db_bytes = |e: &Env| -> Vec<u8> {
        let mut all = Vec::new();
        for entry in std::fs::read_dir(&e.dir).unwrap() {
            let p = entry.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            if name.starts_with("casegate.db") {
                all.extend(std::fs::read(&p).unwrap());
            }
        }
        all
    };
    match e.db.engine() {
        DbEngine::Sqlite => {
            let bytes = db_bytes(&e);
            assert!(
                contains(&bytes, b"f@example.org"),
                "the file is the right one"
            );
            assert!(!contains(&bytes, CODE.as_bytes()));
        }
        DbEngine::Postgres => {
            let hits: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM outbox WHERE subject LIKE $1 OR to_addr LIKE $1 \
                 OR message_id LIKE $1",
            )
            .bind(format!("%{CODE}%"))
            .fetch_one(e.db.pool())
            .await
            .unwrap();
            assert_eq!(hits, 0);
        }
    }
    assert_eq!(
        run_once(&e.db, &e.secrets, &transport, &cfg, T0)
            .await
            .unwrap(),
        1
    );
    assert!(sink.messages()[0].text().contains(CODE));
    if e.db.engine() == DbEngine::Sqlite {
        e.db.close().await;
        assert!(!contains(&db_bytes(&e), CODE.as_bytes()));
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn starttls_is_used_when_offered() {
    let e = env().await;
    let sink = SmtpSink::start().await;
    sink.set_starttls(true);
    let cfg = config(Some(sink.url()), &e.dir);
    let transport = Transport::from_config(&cfg).unwrap();
    let id = put(&e, &spanish("g@example.org"), T0).await;
    assert_eq!(
        run_once(&e.db, &e.secrets, &transport, &cfg, T0)
            .await
            .unwrap(),
        0
    );
    assert!(
        sink.commands().iter().any(|c| c == "STARTTLS"),
        "{:?}",
        sink.commands()
    );
    assert!(
        !sink.commands().iter().any(|c| c.starts_with("MAIL")),
        "no fallback to plain text when TLS was offered"
    );
    let r = row(&e.db, id).await;
    assert_eq!((r.attempts, r.failed_at), (1, None), "retried, not dropped");

    // A relay without STARTTLS gets plain SMTP (the sink's default).
    sink.set_starttls(false);
    assert_eq!(
        run_once(&e.db, &e.secrets, &transport, &cfg, T0 + backoff_secs(1))
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn credentials_come_from_the_url() {
    let e = env().await;
    let sink = SmtpSink::start().await;
    sink.set_auth(Some(("mailer", "p@ss wörd")));
    let good = format!("smtp://mailer:p%40ss%20w%C3%B6rd@{}", sink.addr());
    let bad = format!("smtp://mailer:wrong@{}", sink.addr());
    let id = put(&e, &spanish("h@example.org"), T0).await;

    let cfg_bad = config(Some(bad), &e.dir);
    let tr_bad = Transport::from_config(&cfg_bad).unwrap();
    assert_eq!(
        run_once(&e.db, &e.secrets, &tr_bad, &cfg_bad, T0)
            .await
            .unwrap(),
        0
    );
    let r = row(&e.db, id).await;
    assert_eq!(
        (r.attempts, r.failed_at),
        (1, None),
        "auth failures are retried"
    );
    assert!(r.last_error.as_deref().unwrap().contains("535"), "{r:?}");

    let cfg = config(Some(good), &e.dir);
    let tr = Transport::from_config(&cfg).unwrap();
    assert!(!tr.describe().contains("p%40ss"), "{}", tr.describe());
    assert_eq!(
        run_once(&e.db, &e.secrets, &tr, &cfg, T0 + 30)
            .await
            .unwrap(),
        1
    );
    let m = &sink.messages()[0];
    assert_eq!(m.auth, Some(("mailer".into(), "p@ss wörd".into())));
}

#[tokio::test]
async fn worker_sends_when_woken_and_after_a_restart_of_the_relay() {
    let e = env().await;
    let sink = SmtpSink::start().await;
    let cfg = config(Some(sink.url()), &e.dir);
    let clock_secs = Arc::new(std::sync::atomic::AtomicI64::new(T0));
    let c2 = clock_secs.clone();
    let clock: Arc<dyn Fn() -> chrono::DateTime<chrono::Utc> + Send + Sync> = Arc::new(move || {
        chrono::DateTime::from_timestamp(c2.load(std::sync::atomic::Ordering::SeqCst), 0).unwrap()
    });
    let wake = Arc::new(tokio::sync::Notify::new());
    let handle = outbox::spawn_worker(
        e.db.clone(),
        e.secrets.clone(),
        cfg.clone(),
        clock,
        wake.clone(),
    );
    put(&e, &spanish("i@example.org"), T0).await;
    wake.notify_one();
    sink.wait_for(1, Duration::from_secs(10)).await;

    // Relay down: the worker keeps the message.
    sink.stop().await;
    let id = put(&e, &spanish("j@example.org"), T0).await;
    wake.notify_one();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while row(&e.db, id).await.attempts == 0 {
        assert!(std::time::Instant::now() < deadline, "worker never tried");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(queue_depth(&e.db).await.unwrap(), 1);
    // Relay back and the clock past the backoff.
    sink.restart().await;
    clock_secs.fetch_add(backoff_secs(1), std::sync::atomic::Ordering::SeqCst);
    wake.notify_one();
    let got = sink.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 2);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.count(), 2);
    assert_eq!(queue_depth(&e.db).await.unwrap(), 0);
    handle.abort();
}

#[tokio::test]
async fn configuration_is_checked() {
    let dir = common::temp_dir("outbox-cfg");
    let mut cfg = config(Some("http://relay".into()), &dir);
    assert!(Transport::from_config(&cfg).is_err());
    cfg.smtp_url = Some("smtps://relay.example.org".into());
    assert!(matches!(
        Transport::from_config(&cfg),
        Ok(Transport::Smtp(_))
    ));
    cfg.from = "not a mailbox".into();
    assert!(Transport::from_config(&cfg).is_err());
    let d = OutboxConfig::new(None, FROM, dir.join("outbox"));
    assert_eq!(d.max_attempts, outbox::DEFAULT_MAX_ATTEMPTS);
    assert!(matches!(
        Transport::from_config(&d),
        Ok(Transport::Files(_))
    ));
}

#[tokio::test]
async fn finished_rows_can_be_purged() {
    let e = env().await;
    let cfg = config(None, &e.dir);
    let transport = Transport::from_config(&cfg).unwrap();
    put(&e, &spanish("k@example.org"), T0).await;
    put(&e, &spanish("l@example.org"), T0 + 1000).await;
    assert_eq!(
        run_once(&e.db, &e.secrets, &transport, &cfg, T0)
            .await
            .unwrap(),
        1
    );
    assert_eq!(outbox::purge_finished(&e.db, T0).await.unwrap(), 0);
    assert_eq!(outbox::purge_finished(&e.db, T0 + 1).await.unwrap(), 1);
    assert_eq!(queue_depth(&e.db).await.unwrap(), 1, "pending rows stay");
}

#[test]
fn sink_messages_decode_encoded_words_and_bodies() {
    let m = ReceivedMessage {
        helo: String::new(),
        mail_from: String::new(),
        rcpt_to: vec![],
        data: b"Subject: =?utf-8?Q?S=C3=AD?= =?utf-8?b?IHkgbm8=?= fin\r\n\
                Content-Transfer-Encoding: base64\r\n\
                X-Folded: a\r\n b\r\n\r\nw7FhbmRcbg==\r\n"
            .to_vec(),
        auth: None,
    };
    assert_eq!(m.subject().as_deref(), Some("Sí y no fin"));
    assert_eq!(m.header("x-folded").as_deref(), Some("a b"));
    assert_eq!(m.text(), "ñand\\n");
}
