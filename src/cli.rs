//! The `casegate` command line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::api_guard::Allowance;
use crate::app::AppState;
use crate::config::{Config, LogFormat};
use crate::flows::status_api::{self, SCOPE_INTAKE, SCOPE_STATUS};
use crate::notices::render::LetterContext;
use crate::secrets::Secrets;
use crate::store::Db;
use crate::web;

#[derive(Parser)]
#[command(
    name = "casegate",
    version,
    about = "Online-account portal for an immigration-benefits agency",
    after_long_help = crate::config::settings_help()
)]
struct Cli {
    /// Optional TOML configuration file (environment variables override it).
    #[arg(long, global = true, env = "CASEGATE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (migrates the database first).
    Serve {
        /// Load demo data (idempotent) and print demo identities.
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Import paper filings from a CSV file (see README for the columns).
    Intake {
        file: PathBuf,
        /// Never draw a progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Manage Case Status API clients.
    ApiClient {
        #[command(subcommand)]
        action: ApiClientAction,
    },
    /// Mail-room letters.
    Letters {
        #[command(subcommand)]
        action: LettersAction,
    },
    /// Officer accounts.
    Officer {
        #[command(subcommand)]
        action: OfficerAction,
    },
    /// Applicant accounts (support actions).
    Account {
        #[command(subcommand)]
        action: AccountAction,
    },
    /// The tamper-evident audit log.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// Measure the raw argon2id rate of this machine with casegate's
    /// parameters (for the sign-in benchmark).
    HashRate {
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// Parallel hashing threads (default: one per CPU).
        #[arg(long)]
        threads: Option<usize>,
    },
}

#[derive(Subcommand)]
enum AuditAction {
    /// Walk the keyed hash chain; exit 1 and name the first broken entry if any.
    Verify {
        /// A head recorded earlier with `audit head` (`<seq>:<hash>`): the
        /// log must still contain it.
        #[arg(long)]
        head: Option<String>,
    },
    /// Print the current head (`<seq>:<hash>`) of a verified chain, to record
    /// off-host (exit 1 if the chain is broken).
    Head,
}

#[derive(Subcommand)]
enum OfficerAction {
    /// Create an officer; prints a one-time set-up link (valid 24 hours).
    Create {
        email: String,
        /// intake, adjudicator, mailroom or admin.
        #[arg(long)]
        role: String,
    },
}

#[derive(Subcommand)]
enum AccountAction {
    /// Lost second factor (help-desk reset): removes the password and the
    /// second factor, ends every session, emails the owner a reset code and a
    /// notice. Nobody chooses or sees the password.
    StartReset {
        email: String,
        /// The identity evidence checked: photo_id_in_person,
        /// video_call_with_id, record_answers_and_mailed_code or
        /// mailed_code_to_address_on_file.
        #[arg(long)]
        evidence: String,
        /// What was checked, in a sentence (kept in the audit log).
        #[arg(long)]
        note: String,
    },
    /// Lifts a sign-in lock.
    Unlock { email: String },
}

#[derive(Subcommand)]
enum ApiClientAction {
    /// Create a client; prints client_id=… and client_secret=… (shown once).
    Create {
        name: String,
        /// Allow submitting filings through POST /api/intake as well.
        #[arg(long)]
        intake: bool,
        /// Requests per second (default from CASEGATE_API_RATE_PER_SEC).
        #[arg(long)]
        rate: Option<u32>,
        /// Requests per day (default from CASEGATE_API_DAILY_QUOTA).
        #[arg(long)]
        daily_quota: Option<u32>,
    },
}

#[derive(Subcommand)]
enum LettersAction {
    /// Write every queued letter as a PDF into DIR and mark it printed.
    Export { dir: PathBuf },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("casegate: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(&config);
    crate::ops::memory::configure_process();
    crate::store::sqlite_read::configure_process();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("casegate: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("casegate: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(config: &Config) {
    let filter = EnvFilter::try_new(&config.log_filter).unwrap_or_else(|_| EnvFilter::new("info"));
    // Colour codes only on a terminal and without `NO_COLOR` (no-color.org):
    // a log file or journald gets plain text.
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(!no_color && std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let _ = match config.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn open(config: &Config) -> Result<(Db, Secrets), BoxError> {
    open_with(config, crate::secrets::KeyRule::DataDirAllowed).await
}

async fn open_with(
    config: &Config,
    rule: crate::secrets::KeyRule,
) -> Result<(Db, Secrets), BoxError> {
    let secrets = Secrets::load(
        config.master_key_hex.as_deref(),
        config.master_key_file.as_deref(),
        &config.data_dir,
        rule,
        &mut rand::rngs::OsRng,
    )?;
    let db = Db::from_config(config).await?;
    db.migrate().await?;
    db.set_audit_key(secrets.audit_key);
    // A chain written before the audit log was keyed is re-keyed once.
    if let Some(n) = crate::audit::rekey_if_pending(&db).await? {
        tracing::warn!(
            entries = n,
            "audit log re-keyed (it was written before it was keyed)"
        );
    }
    Ok((db, secrets))
}

async fn run(command: Command, config: Config) -> Result<ExitCode, BoxError> {
    match command {
        Command::Migrate => {
            let db = Db::connect(
                &config.database_url,
                config.engine,
                config.db_max_connections,
            )
            .await?;
            let n = db.migrate().await?;
            println!("migrations applied: {n}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { demo } => serve(config, demo).await,
        Command::Intake { file, quiet } => {
            let (db, secrets) = open(&config).await?;
            let show = !quiet && std::io::IsTerminal::is_terminal(&std::io::stderr());
            let mut report = |line: u64, reason: &str| eprintln!("line {line}: {reason}");
            let summary = crate::flows::intake::cli::run_file(
                &db,
                &secrets,
                &file,
                config.intake_batch_rows,
                config.access_notice_code_days,
                chrono::Utc::now(),
                show,
                &mut report,
            )
            .await?;
            println!(
                "rows read: {}\ncases created: {}\naccess notices queued: {}\nalready imported: {}\nrows rejected: {}",
                summary.rows,
                summary.created,
                summary.access_notices,
                summary.duplicates,
                summary.rejected
            );
            db.close().await;
            Ok(if summary.rejected > 0 {
                ExitCode::from(3)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::ApiClient {
            action:
                ApiClientAction::Create {
                    name,
                    intake,
                    rate,
                    daily_quota,
                },
        } => {
            let (db, secrets) = open(&config).await?;
            let mut scopes = vec![SCOPE_STATUS];
            if intake {
                scopes.push(SCOPE_INTAKE);
            }
            let created = status_api::create_client(
                &db,
                &secrets,
                &mut rand::rngs::OsRng,
                name.trim(),
                &scopes,
                Allowance {
                    rate_per_sec: rate.unwrap_or(config.api_default_rate_per_sec),
                    daily_quota: daily_quota.unwrap_or(config.api_default_daily_quota),
                },
                chrono::Utc::now().timestamp(),
            )
            .await?;
            println!("client_id={}", created.client_id);
            println!("client_secret={}", created.client_secret);
            eprintln!("The secret is shown only now; store it safely.");
            db.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { action } => {
            let recorded = match &action {
                AuditAction::Verify { head: Some(h) } => Some(
                    crate::audit::Head::parse(h)
                        .ok_or("--head must be <seq>:<64 hexadecimal characters>")?,
                ),
                _ => None,
            };
            let (db, _secrets) = open(&config).await?;
            let result = crate::audit::verify_against(&db, recorded.as_ref()).await?;
            let head = crate::audit::head(&db).await?;
            db.close().await;
            match (result, action) {
                (crate::audit::Verification::Intact { entries }, AuditAction::Verify { .. }) => {
                    println!("audit log intact: {entries} entries");
                    if let Some(h) = recorded {
                        println!("recorded head {} found", h.seq);
                    }
                    Ok(ExitCode::SUCCESS)
                }
                (crate::audit::Verification::Intact { .. }, AuditAction::Head) => {
                    println!("{head}");
                    Ok(ExitCode::SUCCESS)
                }
                (crate::audit::Verification::Broken { seq, reason }, _) => {
                    println!("audit log BROKEN at entry {seq}: {reason}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::HashRate { seconds, threads } => {
            let threads = threads
                .unwrap_or_else(crate::auth::password::default_threads)
                .max(1);
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
            let pepper = [7u8; 32];
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    std::thread::spawn(move || {
                        // Like the server's hashing threads.
                        crate::auth::password::keep_work_area();
                        let mut n = 0u64;
                        while std::time::Instant::now() < deadline {
                            let _ = crate::auth::password::hash_blocking(
                                &pepper,
                                "benchmark passphrase here",
                                &mut rand::rngs::OsRng,
                            );
                            n += 1;
                        }
                        n
                    })
                })
                .collect();
            let total: u64 = handles.into_iter().map(|h| h.join().unwrap_or(0)).sum();
            println!(
                "threads={threads} hashes={total} seconds={seconds} rate={:.1}",
                total as f64 / seconds as f64
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Officer {
            action: OfficerAction::Create { email, role },
        } => {
            let (db, secrets) = open(&config).await?;
            let role = crate::auth::account::Role::parse(&role)
                .filter(|r| r.is_officer())
                .ok_or("--role must be intake, adjudicator, mailroom or admin")?;
            let email =
                crate::domain::Email::parse(&email).map_err(|_| "not a valid email address")?;
            let now = chrono::Utc::now().timestamp();
            let Some(id) = crate::auth::account::create(&db, &email, role, None, now).await? else {
                return Err("an account with this email already exists".into());
            };
            let code = crate::auth::new_email_code(&mut rand::rngs::OsRng);
            crate::auth::account::issue_email_code(
                &db,
                id,
                crate::auth::account::CodePurpose::OfficerSetup,
                &crate::auth::email_code_hash(&secrets, id, &code),
                now,
                now + crate::auth::email_codes::OFFICER_SETUP_VALID_SECS,
            )
            .await?;
            let link = format!(
                "{}/officer-setup?email={}&code={code}",
                config.public_url,
                form_urlencoded::byte_serialize(email.as_str().as_bytes()).collect::<String>()
            );
            println!("officer created: {} ({})", email.as_str(), role.code());
            println!("one-time set-up link (valid 24 hours): {link}");
            db.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Account { action } => {
            let (db, secrets) = open(&config).await?;
            use crate::auth::help_desk::{Evidence, EvidenceNote};
            let (email, reset) = match &action {
                AccountAction::StartReset {
                    email,
                    evidence,
                    note,
                } => {
                    let evidence = Evidence::parse(evidence).ok_or(
                        "--evidence must be one of: photo_id_in_person, video_call_with_id, \
                         record_answers_and_mailed_code, mailed_code_to_address_on_file",
                    )?;
                    let note = EvidenceNote::parse(note)
                        .ok_or("--note must say what was checked (1 to 500 characters)")?;
                    (email.clone(), Some((evidence, note)))
                }
                AccountAction::Unlock { email } => (email.clone(), None),
            };
            let email =
                crate::domain::Email::parse(&email).map_err(|_| "not a valid email address")?;
            let acct = crate::auth::account::by_email(&db, &email)
                .await?
                .ok_or("no account with this email")?;
            let now = chrono::Utc::now().timestamp();
            let state = AppState::new(config, db.clone(), secrets, Arc::new(chrono::Utc::now))?;
            if let Some((evidence, note)) = &reset {
                crate::auth::help_desk::start_reset(&state, &acct, *evidence, note, "cli", "cli")
                    .await
                    .map_err(|e| e.to_string())?;
                println!(
                    "reset started: password and second factor removed, sessions ended, \
                     reset code and notice emailed to the owner"
                );
                // Deliver now rather than waiting for a server's worker.
                let cfg = crate::outbox::OutboxConfig::from_config(&state.config);
                let transport = crate::outbox::Transport::from_config(&cfg)?;
                crate::outbox::run_once(&db, &state.secrets, &transport, &cfg, now).await?;
            } else {
                crate::auth::throttle::unlock_account(
                    &db,
                    acct.id,
                    &crate::auth::throttle::identifier_hash(
                        &state.secrets.identifier_key,
                        &acct.email,
                    ),
                )
                .await?;
                println!("account unlocked");
            }
            db.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Letters {
            action: LettersAction::Export { dir },
        } => {
            let (db, secrets) = open(&config).await?;
            let msgs = crate::i18n::Messages::for_agency(
                &config.agency_short_name,
                &config.agency_short_name_es,
            );
            let ctx = LetterContext {
                msgs,
                agency: &config.agency_name,
                public_url: &config.public_url,
                tz: config.time_zone,
            };
            let n = crate::notices::export::export(
                &db,
                &secrets,
                &ctx,
                &dir,
                chrono::Utc::now().timestamp(),
            )
            .await?;
            println!("letters exported: {n} (into {})", dir.display());
            db.close().await;
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn serve(config: Config, demo: bool) -> Result<ExitCode, BoxError> {
    // Outside the demo the master key lives apart from the data it protects.
    let rule = if demo {
        crate::secrets::KeyRule::DataDirAllowed
    } else {
        crate::secrets::KeyRule::OutsideDataDir {
            allow_in_data_dir: config.allow_key_in_data_dir,
        }
    };
    let (db, secrets) = open_with(&config, rule).await?;
    let identities = if demo {
        Some(crate::demo::load(&db, &secrets, chrono::Utc::now().timestamp()).await?)
    } else {
        // Demo accounts have public credentials: never live outside `--demo`.
        let n =
            crate::demo::disable_accounts(&db, &secrets, chrono::Utc::now().timestamp()).await?;
        if n > 0 {
            tracing::warn!(
                disabled = n,
                "demo accounts disabled: their credentials are public (start with --demo to use them again)"
            );
        }
        None
    };
    // Temporary files of uploads cut short by a crash or a kill.
    let uploads = crate::uploads::LocalStorage::new(config.data_dir.join("uploads"));
    match uploads.sweep_temp().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(removed = n, "unfinished upload files removed"),
        Err(e) => tracing::warn!(error = %e, "sweeping unfinished upload files failed"),
    }
    let outbox_cfg = crate::outbox::OutboxConfig::from_config(&config);
    // Refuse to start with an unusable SMTP URL or From address.
    let transport = crate::outbox::Transport::from_config(&outbox_cfg)?;
    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    let addr = listener.local_addr()?;
    let state = AppState::new(config, db.clone(), secrets, serve_clock())?;
    crate::outbox::spawn_worker(
        db.clone(),
        state.secrets.clone(),
        outbox_cfg,
        state.clock.clone(),
        state.outbox_wake.clone(),
    );
    crate::webhooks::spawn_worker(
        crate::webhooks::Worker::new(
            db.clone(),
            state.secrets.clone(),
            crate::webhooks::WorkerConfig::from_config(&state.config),
        )?,
        state.clock.clone(),
        state.webhook_wake.clone(),
    );
    spawn_housekeeping(state.clone());
    println!("casegate is listening on http://{addr}");
    println!("  email:        {}", transport.describe());
    drop(transport);
    println!("  case status:  http://{addr}/status");
    println!("  access code:  http://{addr}/access-code");
    println!("  API (OpenAPI): http://{addr}/api/openapi.json");
    if let Some(ids) = identities {
        println!("\nDemo data loaded. Try these (receipt numbers work on /status and the API):");
        for id in ids {
            println!(
                "  {:<13} {:<7} {} · {} · born {}{}  ({})",
                id.receipt,
                id.form,
                id.who,
                id.a_number,
                id.date_of_birth,
                id.access_code
                    .map(|c| format!(" · access code {c}"))
                    .unwrap_or_default(),
                id.note
            );
        }
        println!("  EAC0000000000 does not exist (not recognized).");
        println!(
            "\nDemo accounts (password \"{}\"):",
            crate::demo::DEMO_PASSWORD
        );
        for a in &crate::demo::ACCOUNTS {
            println!("  {:<28} {}", a.email, a.note);
        }
        println!(
            "  Two-step verification: add this key to an authenticator app: {}",
            crate::demo::demo_totp_key()
        );
        println!(
            "  or use a backup code (each works once, on a fresh demo data folder): {}",
            crate::demo::demo_backup_codes().join(" ")
        );
        println!(
            "\nAn API client for trying the Case Status API: {} api-client create \"My tracker\"",
            program_name()
        );
    }
    println!("\nPress Ctrl-C to stop the server (requests in flight are finished first).");
    web::serve(state, listener, web::shutdown_signal()).await?;
    db.close().await;
    Ok(ExitCode::SUCCESS)
}

/// How this program was started (`target/release/casegate` under
/// `cargo run --release`), for the commands the start-up output suggests.
fn program_name() -> String {
    std::env::args()
        .next()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "casegate".into())
}

/// The server's clock: the system clock. Debug builds only (the browser
/// tests' server, never a release build) honour `CASEGATE_TEST_CLOCK_FILE`: a
/// file holding a number of seconds added to the system clock, re-read on
/// every reading, so a browser journey can let days pass (a change of
/// address's hold) without waiting.
fn serve_clock() -> crate::app::Clock {
    if cfg!(debug_assertions)
        && let Ok(file) = std::env::var("CASEGATE_TEST_CLOCK_FILE")
    {
        tracing::warn!(file, "debug build: the clock follows the test clock file");
        return Arc::new(move || {
            let offset = std::fs::read_to_string(&file)
                .ok()
                .and_then(|s| s.trim().parse::<i64>().ok())
                .unwrap_or(0);
            chrono::Utc::now() + chrono::Duration::seconds(offset)
        });
    }
    Arc::new(chrono::Utc::now)
}

/// Periodic clean-up that must not block requests.
fn spawn_housekeeping(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            tick.tick().await;
            let now = state.now().timestamp();
            match status_api::store::purge_expired(&state.db, now).await {
                Ok(n) if n > 0 => tracing::info!(purged = n, "expired API tokens removed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "token purge failed"),
            }
            if let Err(e) = crate::api_guard::applicant::store::purge(&state.db, now).await {
                tracing::warn!(error = %e, "applicant token purge failed");
            }
            if let Err(e) =
                crate::flows::access_code::store::purge_spent_captchas(&state.db, now).await
            {
                tracing::warn!(error = %e, "captcha purge failed");
            }
            if let Err(e) = crate::limits::purge(&state.db, now).await {
                tracing::warn!(error = %e, "rate-limit purge failed");
            }
            if let Err(e) = crate::auth::throttle::purge(&state.db, now).await {
                tracing::warn!(error = %e, "sign-in throttle purge failed");
            }
            if let Err(e) = crate::outbox::purge_finished(&state.db, now - 30 * 86_400).await {
                tracing::warn!(error = %e, "outbox purge failed");
            }
            if let Err(e) =
                crate::webhooks::store::purge_finished(&state.db, now - 30 * 86_400).await
            {
                tracing::warn!(error = %e, "webhook delivery purge failed");
            }
            match crate::flows::processing_times::store::refresh(
                &state.db,
                state.now().date_naive(),
                now,
            )
            .await
            {
                Ok(n) => tracing::info!(figures = n, "processing times refreshed"),
                Err(e) => tracing::warn!(error = %e, "processing-time refresh failed"),
            }
            match crate::address_change::store::apply_due(&state.db, now).await {
                Ok(n) if n > 0 => tracing::info!(applied = n, "address changes took effect"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "address-change sweep failed"),
            }
            if let Err(e) = crate::uploads::evidence::sweep_pending(&state).await {
                tracing::warn!(error = %e, "pending-scan sweep failed");
            }
            match crate::flows::evidence::expire_drafts(&state, now).await {
                Ok(n) if n > 0 => tracing::info!(removed = n, "expired evidence drafts removed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "evidence draft expiry failed"),
            }
        }
    });
}
