//! Test harness: spawns the real server on a random port against a fresh real
//! database — SQLite by default, PostgreSQL when `CASEGATE_TEST_POSTGRES` holds
//! an admin URL (the test command runs the suite both ways).

#![allow(dead_code)]

pub mod check;
pub mod samples;
pub mod smtp;

#[allow(unused_imports)] // not every test file uses every helper
pub use check::{assert_no_leak, between, eventually};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use casegate::app::AppState;
use casegate::config::{Config, DbEngine};
use casegate::secrets::Secrets;
use casegate::store::Db;
use casegate::web;
use chrono::{DateTime, Utc};

pub const MASTER_KEY: &str = "5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e";

/// A clock the test moves by hand (unix milliseconds).
#[derive(Clone)]
pub struct TestClock(Arc<AtomicI64>);

impl TestClock {
    pub fn at(t: DateTime<Utc>) -> TestClock {
        TestClock(Arc::new(AtomicI64::new(t.timestamp_millis())))
    }
    pub fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.0.load(Ordering::SeqCst)).unwrap()
    }
    pub fn advance_secs(&self, s: i64) {
        self.0.fetch_add(s * 1000, Ordering::SeqCst);
    }
    pub fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub state: AppState,
    pub db: Db,
    pub secrets: Secrets,
    pub clock: TestClock,
    pub config: Config,
    pub data_dir: PathBuf,
    pub http: reqwest::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    // Dropped after the server is told to stop: the database, then the folder.
    _database: TestDatabase,
    _folder: TempDir,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A temporary folder, removed (with everything in it) when dropped, also
/// when the test fails.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One test's database: a fresh PostgreSQL database (dropped, with its open
/// connections, when this is dropped) or a SQLite file in the test's folder.
pub struct TestDatabase {
    pub url: String,
    /// `(admin URL, database name)` on PostgreSQL.
    postgres: Option<(String, String)>,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot be blocked on:
        // the DROP runs on a thread with a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                let Ok(admin_db) = Db::connect(&admin, DbEngine::Postgres, 1).await else {
                    return;
                };
                let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(admin_db.pool())
                    .await;
                admin_db.close().await;
            });
        });
        let _ = dropped.join();
    }
}

fn unique(prefix: &str) -> String {
    use rand::Rng;
    format!(
        "{prefix}_{}_{:08x}",
        std::process::id(),
        rand::thread_rng().r#gen::<u32>()
    )
}

/// Which engine this test run uses.
///
/// A test command that must run on PostgreSQL sets `CASEGATE_REQUIRE_POSTGRES`
/// (as `scripts/test` does): then a missing `CASEGATE_TEST_POSTGRES` fails
/// every test instead of quietly running them on SQLite and skipping the
/// PostgreSQL-only ones.
pub fn engine() -> DbEngine {
    if std::env::var("CASEGATE_TEST_POSTGRES").is_ok_and(|v| !v.is_empty()) {
        DbEngine::Postgres
    } else {
        assert!(
            std::env::var_os("CASEGATE_REQUIRE_POSTGRES").is_none(),
            "PostgreSQL is required (CASEGATE_REQUIRE_POSTGRES) but CASEGATE_TEST_POSTGRES is unset"
        );
        DbEngine::Sqlite
    }
}

/// A fresh, empty database for one test (see [`TestDatabase`]); on SQLite a
/// file in `data_dir`.
pub async fn fresh_database(data_dir: &Path) -> TestDatabase {
    // Fails here when PostgreSQL is required but not configured.
    engine();
    match std::env::var("CASEGATE_TEST_POSTGRES") {
        Ok(admin) if !admin.is_empty() => {
            let name = unique("casegate_test");
            let admin_db = Db::connect(&admin, DbEngine::Postgres, 1).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(admin_db.pool())
                .await
                .unwrap();
            admin_db.close().await;
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
            TestDatabase {
                url: format!("{base}/{name}"),
                postgres: Some((admin.clone(), name)),
            }
        }
        _ => TestDatabase {
            url: format!("sqlite://{}", data_dir.join("casegate.db").display()),
            postgres: None,
        },
    }
}

/// A fresh folder under the system's temporary folder, removed when the
/// returned guard is dropped.
pub fn temp_dir(tag: &str) -> TempDir {
    let dir = std::env::temp_dir().join(unique(&format!("casegate-test-{tag}")));
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

pub fn test_config(
    data_dir: &std::path::Path,
    database_url: &str,
    extra: &[(&str, &str)],
) -> Config {
    let mut vars: Vec<(String, String)> = vec![
        ("CASEGATE_BIND".into(), "127.0.0.1:0".into()),
        ("CASEGATE_DATA_DIR".into(), data_dir.display().to_string()),
        ("DATABASE_URL".into(), database_url.to_string()),
        ("CASEGATE_MASTER_KEY".into(), MASTER_KEY.into()),
        ("CASEGATE_DB_MAX_CONNECTIONS".into(), "5".into()),
    ];
    for (k, v) in extra {
        vars.push((k.to_string(), v.to_string()));
    }
    Config::from_lookup(|k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())).unwrap()
}

pub struct Options {
    pub demo: bool,
    pub now: DateTime<Utc>,
    pub extra: Vec<(&'static str, &'static str)>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            demo: true,
            now: "2026-11-20T15:00:00Z".parse().unwrap(),
            extra: vec![],
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_with(Options::default()).await
}

pub async fn spawn_with(opts: Options) -> TestApp {
    let folder = temp_dir("app");
    let data_dir = folder.to_path_buf();
    let database = fresh_database(&data_dir).await;
    let config = test_config(&data_dir, &database.url, &opts.extra);
    let secrets = Secrets::load_or_create(
        config.master_key_hex.as_deref(),
        &data_dir,
        &mut rand::rngs::OsRng,
    )
    .unwrap();
    let db = Db::connect(
        &config.database_url,
        config.engine,
        config.db_max_connections,
    )
    .await
    .unwrap();
    db.migrate().await.unwrap();
    if opts.demo {
        casegate::demo::load(&db, &secrets, opts.now.timestamp())
            .await
            .unwrap();
    }
    let clock = TestClock::at(opts.now);
    let c2 = clock.clone();
    let state = AppState::new(
        config.clone(),
        db.clone(),
        secrets.clone(),
        Arc::new(move || c2.now()),
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let st = state.clone();
    tokio::spawn(async move {
        let _ = web::serve(st, listener, async {
            let _ = rx.await;
        })
        .await;
    });
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        addr,
        base: format!("http://{addr}"),
        state,
        db,
        secrets,
        clock,
        config,
        data_dir,
        http,
        shutdown: Some(tx),
        _database: database,
        _folder: folder,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    /// Creates an API client and returns (client_id, client_secret).
    pub async fn api_client(&self, rate: u32, intake: bool) -> (String, String) {
        let mut scopes = vec![casegate::flows::status_api::SCOPE_STATUS];
        if intake {
            scopes.push(casegate::flows::status_api::SCOPE_INTAKE);
        }
        let c = casegate::flows::status_api::create_client(
            &self.db,
            &self.secrets,
            &mut rand::rngs::OsRng,
            "test tracker",
            &scopes,
            casegate::api_guard::Allowance {
                rate_per_sec: rate,
                daily_quota: 1_000_000,
            },
            self.clock.now().timestamp(),
        )
        .await
        .unwrap();
        (c.client_id, c.client_secret)
    }

    pub async fn token(&self, rate: u32, intake: bool) -> String {
        let (id, secret) = self.api_client(rate, intake).await;
        let resp = self
            .http
            .post(self.url("/oauth/accesstoken"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", id.as_str()),
                ("client_secret", secret.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let v: serde_json::Value = resp.json().await.unwrap();
        v["access_token"].as_str().unwrap().to_string()
    }

    /// The one-read status table agrees with the tables it mirrors (SQLite;
    /// PostgreSQL reads the join itself and has no such table).
    pub async fn assert_status_rows_in_step(&self) {
        let drift = casegate::status_read::store::status_rows_drift(&self.db)
            .await
            .unwrap();
        assert!(
            matches!(drift, None | Some(0)),
            "status_rows drift: {drift:?}"
        );
        if engine() == DbEngine::Sqlite {
            assert!(drift.is_some());
        }
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(self.db.pool())
            .await
            .unwrap()
    }
}

/// The CSV header intake expects.
pub const CSV_HEADER: &str = "a_number,given_name,family_name,date_of_birth,street,unit,city,state,zip,email,form,office,received_date,channel,protected";

/// A valid intake row for person `i` (deterministic).
pub fn csv_row(i: u32, channel: &str) -> String {
    let office = if channel == "online" {
        "IOE"
    } else {
        ["EAC", "WAC", "LIN", "SRC", "NBC"][(i % 5) as usize]
    };
    format!(
        "A{:09},Given{i},Family{i},1980-01-{:02},{} Main Street,Apt {},Springfield,IL,62701,,I-765,{office},2026-10-{:02},{channel},no",
        100_000 + i,
        (i % 28) + 1,
        i + 1,
        i % 90 + 1,
        (i % 20) + 1,
    )
}

/// A visitor with its own cookies (sessions and the CSRF cookie), like a
/// browser: `Secure` cookies are kept even over the test's plain HTTP.
pub struct Browser {
    pub base: String,
    http: reqwest::Client,
    jar: std::sync::Mutex<std::collections::BTreeMap<String, String>>,
    csrf_key: [u8; 32],
    /// Sent as `X-Test-Client-Ip` (honoured when the app is started with
    /// `CASEGATE_CLIENT_IP_HEADER=X-Test-Client-Ip`), to act from several addresses.
    ip: Option<String>,
}

impl TestApp {
    pub fn browser(&self) -> Browser {
        let jar = std::collections::BTreeMap::from([(
            "__Host-csrf".to_string(),
            casegate::crypto::random_hex(&mut rand::rngs::OsRng, 16),
        )]);
        Browser {
            base: self.base.clone(),
            http: self.http.clone(),
            jar: std::sync::Mutex::new(jar),
            csrf_key: self.secrets.session_key,
            ip: None,
        }
    }

    /// A visitor whose requests come from `ip` (see [`Browser`]).
    pub fn browser_from(&self, ip: &str) -> Browser {
        let mut b = self.browser();
        b.ip = Some(ip.to_string());
        b
    }
}

impl Browser {
    fn cookie_header(&self) -> String {
        let jar = self.jar.lock().unwrap();
        jar.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn store(&self, resp: &reqwest::Response) {
        let mut jar = self.jar.lock().unwrap();
        for v in resp.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let first = v.split(';').next().unwrap();
            let (k, val) = first.split_once('=').unwrap();
            if val.is_empty() || v.contains("Max-Age=0") {
                jar.remove(k);
            } else {
                jar.insert(k.to_string(), val.to_string());
            }
        }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar.lock().unwrap().get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.jar
            .lock()
            .unwrap()
            .insert(name.to_string(), value.to_string());
    }

    pub fn csrf(&self) -> String {
        casegate::auth::csrf::token_for(
            &self.csrf_key,
            &self.cookie("__Host-csrf").unwrap_or_default(),
        )
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("x-test-client-ip", self.ip.as_deref().unwrap_or(""))
            .send()
            .await
            .unwrap();
        self.store(&resp);
        resp
    }

    pub async fn text(&self, path: &str) -> (u16, String) {
        let r = self.get(path).await;
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// Posts a form with this visitor's CSRF token added.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut body: Vec<(&str, String)> =
            fields.iter().map(|(k, v)| (*k, v.to_string())).collect();
        body.push(("csrf", self.csrf()));
        self.post_raw(path, &body).await
    }

    /// Posts one file as `multipart/form-data` (field `file`), with the CSRF
    /// token in the query string as the upload forms do.
    pub async fn upload(&self, path: &str, file_name: &str, bytes: Vec<u8>) -> reqwest::Response {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_string()),
        );
        let resp = self
            .http
            .post(format!("{}{path}?csrf={}", self.base, self.csrf()))
            .header("cookie", self.cookie_header())
            .multipart(form)
            .send()
            .await
            .unwrap();
        self.store(&resp);
        resp
    }

    /// Several files in one upload, as `<input type=file multiple>` sends them.
    pub async fn upload_many(&self, path: &str, files: &[(&str, Vec<u8>)]) -> reqwest::Response {
        let mut form = reqwest::multipart::Form::new();
        for (name, bytes) in files {
            form = form.part(
                "file",
                reqwest::multipart::Part::bytes(bytes.clone()).file_name(name.to_string()),
            );
        }
        let resp = self
            .http
            .post(format!("{}{path}?csrf={}", self.base, self.csrf()))
            .header("cookie", self.cookie_header())
            .multipart(form)
            .send()
            .await
            .unwrap();
        self.store(&resp);
        resp
    }

    /// Posts exactly these fields (no CSRF token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, String)]) -> reqwest::Response {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("x-test-client-ip", self.ip.as_deref().unwrap_or(""))
            .form(fields)
            .send()
            .await
            .unwrap();
        self.store(&resp);
        resp
    }
}

/// The `Location` of a redirect ("" when there is none).
pub fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

const DEMO_TOTP: &[u8; 20] = b"casegate-demo-totp!!";

/// Signs in an account that uses the demo password and TOTP key
/// (password, then the code of the next step).
pub async fn sign_in_demo(app: &TestApp, email: &str) -> Browser {
    sign_in_demo_in(app, email, "en").await
}

/// [`sign_in_demo`] by someone who reads the site in `lang` (`en`, `es`).
pub async fn sign_in_demo_in(app: &TestApp, email: &str, lang: &str) -> Browser {
    use casegate::auth::totp::{self, TotpSecret};
    let b = app.browser();
    b.set_cookie("__Host-lang", lang);
    let r = b
        .post(
            "/sign-in",
            &[
                ("email", email),
                ("password", casegate::demo::DEMO_PASSWORD),
            ],
        )
        .await;
    assert_eq!(location(&r), "/sign-in/two-step", "{email}");
    app.clock.advance_secs(30);
    let secret = TotpSecret::from_bytes(DEMO_TOTP).unwrap();
    let code = totp::code_at(&secret, totp::step_of(app.clock.now().timestamp()));
    assert_eq!(
        b.post("/sign-in/two-step", &[("code", &code)])
            .await
            .status(),
        303,
        "{email}"
    );
    b
}

/// Creates a confirmed, enrolled account with the demo password and TOTP key
/// and signs it in.
pub async fn enrolled_account(
    app: &TestApp,
    email: &str,
    role: casegate::auth::account::Role,
) -> Browser {
    use casegate::auth::account;
    let e = casegate::domain::Email::parse(email).unwrap();
    let now = app.clock.now().timestamp();
    let hash = casegate::auth::password::hash_blocking(
        &app.secrets.password_pepper,
        casegate::demo::DEMO_PASSWORD,
        &mut rand::rngs::OsRng,
    )
    .unwrap();
    let id = account::create(&app.db, &e, role, Some(&hash), now)
        .await
        .unwrap()
        .unwrap();
    account::confirm_email(&app.db, id, now).await.unwrap();
    let secret = casegate::auth::totp::TotpSecret::from_bytes(DEMO_TOTP).unwrap();
    account::enrol_totp(
        &app.db,
        id,
        &casegate::auth::seal_totp(&app.secrets, id, &secret),
        0,
        now,
    )
    .await
    .unwrap();
    sign_in_demo(app, email).await
}

/// Options of a server that serves uploads not scanned clean (the operator's
/// opt-in, `CASEGATE_SERVE_UNSCANNED_UPLOADS`), for tests without a clamd
/// that download what they uploaded.
#[allow(dead_code)]
pub fn serving_unscanned() -> Options {
    let mut o = Options::default();
    o.extra.push(("CASEGATE_SERVE_UNSCANNED_UPLOADS", "1"));
    o
}

/// `casework::change_status` in a transaction of its own, committed (or
/// rolled back when refused), as a test's shortcut for one status change.
pub async fn change_status(
    app: &TestApp,
    case_id: i64,
    to: casegate::domain::CaseStatus,
    actor: &str,
    now: i64,
) -> Result<(), casegate::casework::ChangeError> {
    let mut tx = app.db.pool().begin().await.unwrap();
    let changed =
        casegate::casework::change_status(&mut tx, &app.state, case_id, to, actor, now).await?;
    tx.commit().await.unwrap();
    changed.committed(&app.state);
    Ok(())
}
