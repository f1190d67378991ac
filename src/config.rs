//! One typed configuration for every tunable.
//!
//! Sources, later ones win: built-in defaults → an optional TOML file
//! (`CASEGATE_CONFIG` or `--config`) → environment variables. Every setting is
//! listed in [`SETTINGS`], which is also what the README table documents.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration file {path} is not valid TOML: {message}")]
    Toml { path: PathBuf, message: String },
    #[error("{name} has an invalid value: {message}")]
    Invalid { name: &'static str, message: String },
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Which database engine a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbEngine {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub engine: DbEngine,
    pub db_max_connections: u32,
    /// How long a request waits for a pool connection before the database
    /// counts as unavailable (503).
    pub db_acquire_timeout_ms: u64,
    /// SQLite only: how long a write waits for another writer's lock before
    /// the database counts as unavailable (503).
    pub db_busy_timeout_ms: u64,
    pub agency_name: String,
    pub agency_name_es: String,
    /// How status texts name the agency ("Case Is Being Actively Reviewed
    /// By …"); the agency name unless set.
    pub agency_short_name: String,
    pub agency_short_name_es: String,
    pub public_url: String,
    pub log_format: LogFormat,
    pub log_filter: String,
    /// Hex master key; when absent it is generated into the data folder.
    pub master_key_hex: Option<String>,
    pub api_token_ttl_secs: i64,
    pub api_default_rate_per_sec: u32,
    pub api_default_daily_quota: u32,
    pub access_notice_code_days: i64,
    pub status_cache_ttl_ms: u64,
    pub intake_batch_rows: usize,
    pub max_body_bytes: usize,
    /// The request line and headers must arrive within this many seconds
    /// (slow "slowloris" clients are disconnected; idle keep-alive too).
    pub header_read_timeout_secs: u64,
    /// A request body must arrive in full within this many seconds.
    pub request_body_timeout_secs: u64,
    /// `smtp://user:pass@host:port` (STARTTLS when offered) or `smtps://…`;
    /// unset → emails are written as `.eml` files into `<data_dir>/outbox/`.
    pub smtp_url: Option<String>,
    pub mail_from: String,
    pub captcha_difficulty: u8,
    pub captcha_ttl_secs: i64,
    pub captcha_min_fill_secs: i64,
    pub verify_floor_ms: u64,
    /// Header carrying the client IP set by a trusted reverse proxy
    /// (the right-most value is used); unset → the TCP peer address.
    pub client_ip_header: Option<String>,
    /// `host:port` of a ClamAV clamd for scanning uploads; unset → "not scanned".
    pub clamd: Option<String>,
    /// Change of address without an account: days between confirming the
    /// letter's code and the new address going on file.
    pub address_change_hold_days: i64,
    // --- Security review (issue 16): uploads and the master key.
    /// Serve uploads that are not (yet) scanned clean. Off: fail closed.
    pub serve_unscanned_uploads: bool,
    /// A file holding the master key (64 hex characters), outside the data folder.
    pub master_key_file: Option<PathBuf>,
    /// Accept a master key file inside the data folder (the operator's explicit opt-in).
    pub allow_key_in_data_dir: bool,
    /// How people reach the agency, shown on `/help` and on every dead end.
    pub help: HelpContacts,
    // --- Webhooks (issue 19): push instead of polling.
    /// Webhook URLs may be `http://` to a loopback address (tests, local use).
    pub webhook_allow_loopback: bool,
    /// Webhook URLs may point into private networks (an internal receiver).
    pub webhook_allow_private: bool,
    /// Deliveries sent at once by one instance.
    pub webhook_concurrency: usize,
    /// Connect-and-answer limit of one delivery.
    pub webhook_timeout_ms: u64,
    /// Tries before a delivery is marked failed.
    pub webhook_max_attempts: u32,
}

/// The contact options an operator configures (`CASEGATE_HELP_*`). Each is
/// optional: an empty value leaves its line off the help page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HelpContacts {
    pub phone: Option<String>,
    /// Opening hours of the phone line, in English and in Spanish.
    pub hours: Option<String>,
    pub hours_es: Option<String>,
    pub email: Option<String>,
    /// Postal address for a paper AR-11 (change of address), one line each.
    pub mail_address: Option<String>,
}

impl HelpContacts {
    /// Whether at least one way to reach a person is configured.
    pub fn any(&self) -> bool {
        self.phone.is_some() || self.email.is_some() || self.mail_address.is_some()
    }

    /// `tel:` target: the digits and a leading `+` of the phone number.
    pub fn phone_href(&self) -> Option<String> {
        self.phone.as_ref().map(|p| {
            let digits: String = p
                .chars()
                .filter(|ch| ch.is_ascii_digit() || *ch == '+')
                .collect();
            format!("tel:{digits}")
        })
    }

    /// The AR-11 postal address split into its lines (`;` or a newline).
    pub fn mail_lines(&self) -> Vec<&str> {
        self.mail_address
            .as_deref()
            .map(|a| {
                a.split(['\n', ';'])
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Documentation of one setting: environment variable, TOML key, default, meaning.
pub struct Setting {
    pub env: &'static str,
    pub toml: &'static str,
    pub default: &'static str,
    pub meaning: &'static str,
}

pub const SETTINGS: &[Setting] = &[
    Setting {
        env: "CASEGATE_BIND",
        toml: "bind",
        default: "127.0.0.1:8080",
        meaning: "address and port the server listens on",
    },
    Setting {
        env: "CASEGATE_DATA_DIR",
        toml: "data_dir",
        default: "./casegate-data",
        meaning: "folder for the SQLite database, the master key, the email outbox and uploads",
    },
    Setting {
        env: "DATABASE_URL",
        toml: "database_url",
        default: "sqlite://<data_dir>/casegate.db",
        meaning: "`sqlite://…` or `postgres://…`; PostgreSQL for multi-instance deployments",
    },
    Setting {
        env: "CASEGATE_DB_MAX_CONNECTIONS",
        toml: "db_max_connections",
        default: "16",
        meaning: "database pool size",
    },
    Setting {
        env: "CASEGATE_DB_ACQUIRE_TIMEOUT_MS",
        toml: "db_acquire_timeout_ms",
        default: "5000",
        meaning: "how long a request waits for a database connection before it answers 503 \"temporarily unavailable\" (keep it short: a database outage then fails fast)",
    },
    Setting {
        env: "CASEGATE_DB_BUSY_TIMEOUT_MS",
        toml: "db_busy_timeout_ms",
        default: "15000",
        meaning: "SQLite only: how long a write waits for another writer's lock before it answers 503",
    },
    Setting {
        env: "CASEGATE_AGENCY_NAME",
        toml: "agency_name",
        default: "Example Immigration Services Agency",
        meaning: "agency name shown on pages, notices and emails (English)",
    },
    Setting {
        env: "CASEGATE_AGENCY_NAME_ES",
        toml: "agency_name_es",
        default: "Agencia de Servicios de Inmigración de Ejemplo",
        meaning: "agency name in Spanish",
    },
    Setting {
        env: "CASEGATE_AGENCY_SHORT_NAME",
        toml: "agency_short_name",
        default: "the agency name",
        meaning: "how case status texts (pages and the Case Status API alike) name the agency, e.g. `USCIS` for that agency",
    },
    Setting {
        env: "CASEGATE_AGENCY_SHORT_NAME_ES",
        toml: "agency_short_name_es",
        default: "the short name, else the Spanish agency name",
        meaning: "the same in Spanish",
    },
    Setting {
        env: "CASEGATE_PUBLIC_URL",
        toml: "public_url",
        default: "http://<bind>",
        meaning: "external address of the portal, printed on letters and in emails",
    },
    Setting {
        env: "CASEGATE_LOG_FORMAT",
        toml: "log_format",
        default: "text",
        meaning: "`text` or `json` (structured logs)",
    },
    Setting {
        env: "CASEGATE_LOG",
        toml: "log",
        default: "info,sqlx::query=error",
        meaning: "log filter (tracing env-filter syntax)",
    },
    Setting {
        env: "CASEGATE_MASTER_KEY",
        toml: "master_key",
        default: "generated into <data_dir>/master.key (0600)",
        meaning: "64 hex chars; every server secret (HMAC keys, pepper, letter sealing key) is derived from it. Give the same value to every instance sharing a database",
    },
    Setting {
        env: "CASEGATE_API_TOKEN_TTL_SECS",
        toml: "api_token_ttl_secs",
        default: "1800",
        meaning: "lifetime of Case Status API access tokens",
    },
    Setting {
        env: "CASEGATE_API_RATE_PER_SEC",
        toml: "api_rate_per_sec",
        default: "10",
        meaning: "default per-client request rate for new API clients",
    },
    Setting {
        env: "CASEGATE_API_DAILY_QUOTA",
        toml: "api_daily_quota",
        default: "10000",
        meaning: "default per-client daily request quota for new API clients",
    },
    Setting {
        env: "CASEGATE_ACCESS_NOTICE_CODE_DAYS",
        toml: "access_notice_code_days",
        default: "90",
        meaning: "validity of the access code printed on an intake Account Access Notice",
    },
    Setting {
        env: "CASEGATE_STATUS_CACHE_TTL_MS",
        toml: "status_cache_ttl_ms",
        default: "1000",
        meaning: "how long one instance may reuse a case status it read (0 disables the cache)",
    },
    Setting {
        env: "CASEGATE_INTAKE_BATCH_ROWS",
        toml: "intake_batch_rows",
        default: "2000",
        meaning: "rows committed per transaction by bulk intake",
    },
    Setting {
        env: "CASEGATE_MAX_BODY_BYTES",
        toml: "max_body_bytes",
        default: "1048576",
        meaning: "largest accepted request body outside uploads",
    },
    Setting {
        env: "CASEGATE_HEADER_READ_TIMEOUT_SECS",
        toml: "header_read_timeout_secs",
        default: "20",
        meaning: "a client must send its request line and headers within this many seconds, else it is disconnected (slow-client protection; also closes idle keep-alive connections)",
    },
    Setting {
        env: "CASEGATE_REQUEST_BODY_TIMEOUT_SECS",
        toml: "request_body_timeout_secs",
        default: "120",
        meaning: "a request body (a form, an upload of up to 12 MB) must arrive in full within this many seconds, else the answer is 408 and the connection is closed",
    },
    Setting {
        env: "CASEGATE_SMTP_URL",
        toml: "smtp_url",
        default: "unset: emails go to <data_dir>/outbox/*.eml",
        meaning: "SMTP relay, `smtp://user:pass@host:587` (STARTTLS whenever the relay offers it) or `smtps://…` (implicit TLS)",
    },
    Setting {
        env: "CASEGATE_MAIL_FROM",
        toml: "mail_from",
        default: "<agency name> <no-reply@casegate.invalid>",
        meaning: "From address of every email",
    },
    Setting {
        env: "CASEGATE_CAPTCHA_DIFFICULTY",
        toml: "captcha_difficulty",
        default: "14",
        meaning: "proof-of-work difficulty (leading zero bits of SHA-256)",
    },
    Setting {
        env: "CASEGATE_CAPTCHA_TTL_SECS",
        toml: "captcha_ttl_secs",
        default: "1800",
        meaning: "how long a CAPTCHA challenge (and so a form) stays valid",
    },
    Setting {
        env: "CASEGATE_CAPTCHA_MIN_FILL_SECS",
        toml: "captcha_min_fill_secs",
        default: "5",
        meaning: "without JavaScript: seconds that must pass between showing a form and accepting it",
    },
    Setting {
        env: "CASEGATE_VERIFY_FLOOR_MS",
        toml: "verify_floor_ms",
        default: "400",
        meaning: "every identity-verification answer takes at least this long, so timing reveals nothing",
    },
    Setting {
        env: "CASEGATE_CLIENT_IP_HEADER",
        toml: "client_ip_header",
        default: "unset: the TCP peer address",
        meaning: "header set by your reverse proxy with the client IP (e.g. `x-forwarded-for`; right-most value used). Only set it behind a proxy that overwrites it",
    },
    Setting {
        env: "CASEGATE_CLAMD",
        toml: "clamd",
        default: "unset: uploads are marked \"not scanned\"",
        meaning: "`host:port` of a ClamAV clamd; uploads wait as \"pending scan\" until it answers, infected files are quarantined",
    },
    // Contact options shown on /help and on every dead end (empty → left off).
    Setting {
        env: "CASEGATE_HELP_PHONE",
        toml: "help_phone",
        default: "`800-555-0100` (demo)",
        meaning: "phone number people can call for help; empty leaves it off the help page",
    },
    Setting {
        env: "CASEGATE_HELP_HOURS",
        toml: "help_hours",
        default: "`Monday to Friday, 8 a.m. to 8 p.m. Eastern Time` (demo)",
        meaning: "when the phone line answers (English)",
    },
    Setting {
        env: "CASEGATE_HELP_HOURS_ES",
        toml: "help_hours_es",
        default: "`De lunes a viernes, de 8 a. m. a 8 p. m., hora del Este` (demo)",
        meaning: "when the phone line answers (Spanish)",
    },
    Setting {
        env: "CASEGATE_HELP_EMAIL",
        toml: "help_email",
        default: "`help@agency.example` (demo)",
        meaning: "email address for help; empty leaves it off",
    },
    Setting {
        env: "CASEGATE_HELP_MAIL_ADDRESS",
        toml: "help_mail_address",
        default: "`Change of Address (AR-11); P.O. Box 0000; Springfield, IL 62701` (demo)",
        meaning: "postal address for a paper Form AR-11 and letters; lines separated by `;`; empty leaves it off",
    },
    // --- Security review (issue 16): uploads and the master key.
    Setting {
        env: "CASEGATE_SERVE_UNSCANNED_UPLOADS",
        toml: "serve_unscanned_uploads",
        default: "0",
        meaning: "`1`: uploads that are not (yet) scanned clean can be downloaded. Default: only files ClamAV scanned clean are served (fail closed)",
    },
    Setting {
        env: "CASEGATE_MASTER_KEY_FILE",
        toml: "master_key_file",
        default: "unset",
        meaning: "file holding the master key (64 hex characters), outside the data folder; used when `CASEGATE_MASTER_KEY` is unset",
    },
    Setting {
        env: "CASEGATE_ALLOW_KEY_IN_DATA_DIR",
        toml: "allow_key_in_data_dir",
        default: "0",
        meaning: "`1`: accept a master key file inside the data folder (a copy of the folder then holds the key). Without it `serve` refuses to start on such a key, except with `--demo`",
    },
    // Change of address without an account.
    Setting {
        env: "CASEGATE_ADDRESS_CHANGE_HOLD_DAYS",
        toml: "address_change_hold_days",
        default: "10",
        meaning: "days between confirming a change of address (the letter's code) and the new address going on file; the old address and the email on file can cancel it meanwhile",
    },
    // Webhooks (push instead of polling).
    Setting {
        env: "CASEGATE_WEBHOOK_ALLOW_LOOPBACK",
        toml: "webhook_allow_loopback",
        default: "0",
        meaning: "`1`: webhook URLs may be `http://` to a loopback address (tests, local development). Default: `https://` to public addresses only",
    },
    Setting {
        env: "CASEGATE_WEBHOOK_ALLOW_PRIVATE",
        toml: "webhook_allow_private",
        default: "0",
        meaning: "`1`: webhook URLs may point at private-network addresses (10/8, 172.16/12, 192.168/16, fc00::/7…), for a receiver inside the agency's network",
    },
    Setting {
        env: "CASEGATE_WEBHOOK_CONCURRENCY",
        toml: "webhook_concurrency",
        default: "8",
        meaning: "webhook deliveries one instance sends at once",
    },
    Setting {
        env: "CASEGATE_WEBHOOK_TIMEOUT_MS",
        toml: "webhook_timeout_ms",
        default: "5000",
        meaning: "time one webhook delivery may take (connect, send, answer) before it counts as failed and is retried",
    },
    Setting {
        env: "CASEGATE_WEBHOOK_MAX_ATTEMPTS",
        toml: "webhook_max_attempts",
        default: "15",
        meaning: "tries before a webhook delivery is marked failed (exponential backoff from 10 s, capped at one hour, with jitter: 15 tries span about 3 to 6 hours)",
    },
];

/// The TOML file's shape: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    bind: Option<String>,
    data_dir: Option<String>,
    database_url: Option<String>,
    db_max_connections: Option<u32>,
    db_acquire_timeout_ms: Option<u64>,
    db_busy_timeout_ms: Option<u64>,
    agency_name: Option<String>,
    agency_name_es: Option<String>,
    agency_short_name: Option<String>,
    agency_short_name_es: Option<String>,
    public_url: Option<String>,
    log_format: Option<String>,
    log: Option<String>,
    master_key: Option<String>,
    api_token_ttl_secs: Option<i64>,
    api_rate_per_sec: Option<u32>,
    api_daily_quota: Option<u32>,
    access_notice_code_days: Option<i64>,
    status_cache_ttl_ms: Option<u64>,
    intake_batch_rows: Option<usize>,
    max_body_bytes: Option<usize>,
    header_read_timeout_secs: Option<u64>,
    request_body_timeout_secs: Option<u64>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    captcha_difficulty: Option<u8>,
    captcha_ttl_secs: Option<i64>,
    captcha_min_fill_secs: Option<i64>,
    verify_floor_ms: Option<u64>,
    client_ip_header: Option<String>,
    clamd: Option<String>,
    help_phone: Option<String>,
    help_hours: Option<String>,
    help_hours_es: Option<String>,
    help_email: Option<String>,
    help_mail_address: Option<String>,
    serve_unscanned_uploads: Option<bool>,
    master_key_file: Option<String>,
    allow_key_in_data_dir: Option<bool>,
    address_change_hold_days: Option<i64>,
    webhook_allow_loopback: Option<bool>,
    webhook_allow_private: Option<bool>,
    webhook_concurrency: Option<usize>,
    webhook_timeout_ms: Option<u64>,
    webhook_max_attempts: Option<u32>,
}

impl Config {
    /// Loads from an optional file and the process environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let env_file = std::env::var("CASEGATE_CONFIG").ok().map(PathBuf::from);
        let file = file.map(Path::to_path_buf).or(env_file);
        let parsed = match file {
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?;
                toml::from_str::<FileConfig>(&text).map_err(|e| ConfigError::Toml {
                    path: path.clone(),
                    message: e.to_string(),
                })?
            }
            None => FileConfig::default(),
        };
        Self::from_sources(parsed, |name| std::env::var(name).ok())
    }

    /// Builds a config with defaults and an explicit lookup (used by tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        Self::from_sources(FileConfig::default(), lookup)
    }

    fn from_sources(
        file: FileConfig,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let pick = |name: &str, from_file: Option<String>| env(name).or(from_file);
        let bind_s = pick("CASEGATE_BIND", file.bind).unwrap_or_else(|| "127.0.0.1:8080".into());
        let bind: SocketAddr = bind_s.parse().map_err(|_| ConfigError::Invalid {
            name: "CASEGATE_BIND",
            message: format!("`{bind_s}` is not an address:port"),
        })?;
        let data_dir = PathBuf::from(
            pick("CASEGATE_DATA_DIR", file.data_dir).unwrap_or_else(|| "./casegate-data".into()),
        );
        let database_url = pick("DATABASE_URL", file.database_url).unwrap_or_else(|| {
            format!(
                "sqlite://{}",
                data_dir.join("casegate.db").to_string_lossy()
            )
        });
        let engine = engine_of(&database_url)?;
        let num = |name: &'static str, from_file: Option<String>, default: &str| {
            let raw = pick(name, from_file).unwrap_or_else(|| default.to_string());
            raw.trim().parse::<i64>().map_err(|_| ConfigError::Invalid {
                name,
                message: format!("`{raw}` is not a number"),
            })
        };
        let positive = |name: &'static str, v: i64| {
            if v <= 0 {
                Err(ConfigError::Invalid {
                    name,
                    message: "must be greater than zero".into(),
                })
            } else {
                Ok(v)
            }
        };
        let db_max_connections = positive(
            "CASEGATE_DB_MAX_CONNECTIONS",
            num(
                "CASEGATE_DB_MAX_CONNECTIONS",
                file.db_max_connections.map(|v| v.to_string()),
                "16",
            )?,
        )?;
        let log_format = match pick("CASEGATE_LOG_FORMAT", file.log_format)
            .unwrap_or_else(|| "text".into())
            .as_str()
        {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError::Invalid {
                    name: "CASEGATE_LOG_FORMAT",
                    message: format!("`{other}` is neither `text` nor `json`"),
                });
            }
        };
        let master_key_hex = pick("CASEGATE_MASTER_KEY", file.master_key);
        if let Some(k) = &master_key_hex
            && (k.len() != 64 || hex::decode(k).is_err())
        {
            return Err(ConfigError::Invalid {
                name: "CASEGATE_MASTER_KEY",
                message: "must be 64 hexadecimal characters (32 bytes)".into(),
            });
        }
        let public_url = pick("CASEGATE_PUBLIC_URL", file.public_url)
            .unwrap_or_else(|| format!("http://{bind}"))
            .trim_end_matches('/')
            .to_string();
        let agency_name = pick("CASEGATE_AGENCY_NAME", file.agency_name)
            .unwrap_or_else(|| "Example Immigration Services Agency".into());
        let agency_name_es = pick("CASEGATE_AGENCY_NAME_ES", file.agency_name_es)
            .unwrap_or_else(|| "Agencia de Servicios de Inmigración de Ejemplo".into());
        let short_name = pick("CASEGATE_AGENCY_SHORT_NAME", file.agency_short_name);
        let captcha_difficulty = num(
            "CASEGATE_CAPTCHA_DIFFICULTY",
            file.captcha_difficulty.map(|v| v.to_string()),
            "14",
        )?;
        if !(0..=28).contains(&captcha_difficulty) {
            return Err(ConfigError::Invalid {
                name: "CASEGATE_CAPTCHA_DIFFICULTY",
                message: "must be between 0 and 28".into(),
            });
        }
        // Help contacts: a demo value by default, an empty value leaves it off.
        let contact = |name: &str, from_file: Option<String>, default: &str| {
            Some(pick(name, from_file).unwrap_or_else(|| default.to_string()))
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let help = HelpContacts {
            phone: contact("CASEGATE_HELP_PHONE", file.help_phone, "800-555-0100"),
            hours: contact(
                "CASEGATE_HELP_HOURS",
                file.help_hours,
                "Monday to Friday, 8 a.m. to 8 p.m. Eastern Time",
            ),
            hours_es: contact(
                "CASEGATE_HELP_HOURS_ES",
                file.help_hours_es,
                "De lunes a viernes, de 8 a. m. a 8 p. m., hora del Este",
            ),
            email: contact(
                "CASEGATE_HELP_EMAIL",
                file.help_email,
                "help@agency.example",
            ),
            mail_address: contact(
                "CASEGATE_HELP_MAIL_ADDRESS",
                file.help_mail_address,
                "Change of Address (AR-11); P.O. Box 0000; Springfield, IL 62701",
            ),
        };
        let flag = |name: &'static str, from_file: Option<bool>| -> Result<bool, ConfigError> {
            match env(name) {
                None => Ok(from_file.unwrap_or(false)),
                Some(v) => match v.trim() {
                    "1" | "true" | "yes" => Ok(true),
                    "" | "0" | "false" | "no" => Ok(false),
                    other => Err(ConfigError::Invalid {
                        name,
                        message: format!("`{other}` is neither 1 nor 0"),
                    }),
                },
            }
        };
        let serve_unscanned_uploads = flag(
            "CASEGATE_SERVE_UNSCANNED_UPLOADS",
            file.serve_unscanned_uploads,
        )?;
        let allow_key_in_data_dir =
            flag("CASEGATE_ALLOW_KEY_IN_DATA_DIR", file.allow_key_in_data_dir)?;
        let master_key_file = pick("CASEGATE_MASTER_KEY_FILE", file.master_key_file)
            .filter(|s| !s.trim().is_empty())
            .map(PathBuf::from);
        let webhook_allow_loopback = flag(
            "CASEGATE_WEBHOOK_ALLOW_LOOPBACK",
            file.webhook_allow_loopback,
        )?;
        let webhook_allow_private =
            flag("CASEGATE_WEBHOOK_ALLOW_PRIVATE", file.webhook_allow_private)?;
        Ok(Config {
            help,
            webhook_allow_loopback,
            webhook_allow_private,
            webhook_concurrency: positive(
                "CASEGATE_WEBHOOK_CONCURRENCY",
                num(
                    "CASEGATE_WEBHOOK_CONCURRENCY",
                    file.webhook_concurrency.map(|v| v.to_string()),
                    "8",
                )?,
            )? as usize,
            webhook_timeout_ms: positive(
                "CASEGATE_WEBHOOK_TIMEOUT_MS",
                num(
                    "CASEGATE_WEBHOOK_TIMEOUT_MS",
                    file.webhook_timeout_ms.map(|v| v.to_string()),
                    "5000",
                )?,
            )? as u64,
            webhook_max_attempts: positive(
                "CASEGATE_WEBHOOK_MAX_ATTEMPTS",
                num(
                    "CASEGATE_WEBHOOK_MAX_ATTEMPTS",
                    file.webhook_max_attempts.map(|v| v.to_string()),
                    "15",
                )?,
            )? as u32,
            serve_unscanned_uploads,
            master_key_file,
            allow_key_in_data_dir,
            address_change_hold_days: positive(
                "CASEGATE_ADDRESS_CHANGE_HOLD_DAYS",
                num(
                    "CASEGATE_ADDRESS_CHANGE_HOLD_DAYS",
                    file.address_change_hold_days.map(|v| v.to_string()),
                    "10",
                )?,
            )?,
            clamd: pick("CASEGATE_CLAMD", file.clamd).filter(|s| !s.trim().is_empty()),
            smtp_url: pick("CASEGATE_SMTP_URL", file.smtp_url).filter(|s| !s.trim().is_empty()),
            mail_from: pick("CASEGATE_MAIL_FROM", file.mail_from).unwrap_or_else(|| {
                format!(
                    "{} <no-reply@casegate.invalid>",
                    agency_name.replace(['<', '>', '"'], "")
                )
            }),
            captcha_difficulty: captcha_difficulty as u8,
            captcha_ttl_secs: positive(
                "CASEGATE_CAPTCHA_TTL_SECS",
                num(
                    "CASEGATE_CAPTCHA_TTL_SECS",
                    file.captcha_ttl_secs.map(|v| v.to_string()),
                    "1800",
                )?,
            )?,
            captcha_min_fill_secs: num(
                "CASEGATE_CAPTCHA_MIN_FILL_SECS",
                file.captcha_min_fill_secs.map(|v| v.to_string()),
                "5",
            )?
            .max(0),
            verify_floor_ms: num(
                "CASEGATE_VERIFY_FLOOR_MS",
                file.verify_floor_ms.map(|v| v.to_string()),
                "400",
            )?
            .max(0) as u64,
            client_ip_header: pick("CASEGATE_CLIENT_IP_HEADER", file.client_ip_header)
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty()),
            bind,
            data_dir,
            database_url,
            engine,
            db_max_connections: db_max_connections as u32,
            db_acquire_timeout_ms: positive(
                "CASEGATE_DB_ACQUIRE_TIMEOUT_MS",
                num(
                    "CASEGATE_DB_ACQUIRE_TIMEOUT_MS",
                    file.db_acquire_timeout_ms.map(|v| v.to_string()),
                    "5000",
                )?,
            )? as u64,
            db_busy_timeout_ms: num(
                "CASEGATE_DB_BUSY_TIMEOUT_MS",
                file.db_busy_timeout_ms.map(|v| v.to_string()),
                "15000",
            )?
            .max(0) as u64,
            agency_short_name: short_name.clone().unwrap_or_else(|| agency_name.clone()),
            agency_short_name_es: pick("CASEGATE_AGENCY_SHORT_NAME_ES", file.agency_short_name_es)
                .or(short_name)
                .unwrap_or_else(|| agency_name_es.clone()),
            agency_name,
            agency_name_es,
            public_url,
            log_format,
            log_filter: pick("CASEGATE_LOG", file.log)
                .unwrap_or_else(|| "info,sqlx::query=error".into()),
            master_key_hex,
            api_token_ttl_secs: positive(
                "CASEGATE_API_TOKEN_TTL_SECS",
                num(
                    "CASEGATE_API_TOKEN_TTL_SECS",
                    file.api_token_ttl_secs.map(|v| v.to_string()),
                    "1800",
                )?,
            )?,
            api_default_rate_per_sec: positive(
                "CASEGATE_API_RATE_PER_SEC",
                num(
                    "CASEGATE_API_RATE_PER_SEC",
                    file.api_rate_per_sec.map(|v| v.to_string()),
                    "10",
                )?,
            )? as u32,
            api_default_daily_quota: positive(
                "CASEGATE_API_DAILY_QUOTA",
                num(
                    "CASEGATE_API_DAILY_QUOTA",
                    file.api_daily_quota.map(|v| v.to_string()),
                    "10000",
                )?,
            )? as u32,
            access_notice_code_days: positive(
                "CASEGATE_ACCESS_NOTICE_CODE_DAYS",
                num(
                    "CASEGATE_ACCESS_NOTICE_CODE_DAYS",
                    file.access_notice_code_days.map(|v| v.to_string()),
                    "90",
                )?,
            )?,
            status_cache_ttl_ms: num(
                "CASEGATE_STATUS_CACHE_TTL_MS",
                file.status_cache_ttl_ms.map(|v| v.to_string()),
                "1000",
            )?
            .max(0) as u64,
            intake_batch_rows: positive(
                "CASEGATE_INTAKE_BATCH_ROWS",
                num(
                    "CASEGATE_INTAKE_BATCH_ROWS",
                    file.intake_batch_rows.map(|v| v.to_string()),
                    // Fewer, larger commits rewrite hot index pages into the
                    // log less often (figures: README, "Performance").
                    "50000",
                )?,
            )? as usize,
            max_body_bytes: positive(
                "CASEGATE_MAX_BODY_BYTES",
                num(
                    "CASEGATE_MAX_BODY_BYTES",
                    file.max_body_bytes.map(|v| v.to_string()),
                    "1048576",
                )?,
            )? as usize,
            header_read_timeout_secs: positive(
                "CASEGATE_HEADER_READ_TIMEOUT_SECS",
                num(
                    "CASEGATE_HEADER_READ_TIMEOUT_SECS",
                    file.header_read_timeout_secs.map(|v| v.to_string()),
                    "20",
                )?,
            )? as u64,
            request_body_timeout_secs: positive(
                "CASEGATE_REQUEST_BODY_TIMEOUT_SECS",
                num(
                    "CASEGATE_REQUEST_BODY_TIMEOUT_SECS",
                    file.request_body_timeout_secs.map(|v| v.to_string()),
                    "120",
                )?,
            )? as u64,
        })
    }
}

fn engine_of(url: &str) -> Result<DbEngine, ConfigError> {
    if url.starts_with("sqlite:") {
        Ok(DbEngine::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(DbEngine::Postgres)
    } else {
        Err(ConfigError::Invalid {
            name: "DATABASE_URL",
            message: "must start with sqlite: or postgres://".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = with(&[]).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.data_dir, PathBuf::from("./casegate-data"));
        assert_eq!(c.engine, DbEngine::Sqlite);
        assert!(c.database_url.ends_with("casegate-data/casegate.db"));
        assert_eq!(c.api_token_ttl_secs, 1800);
        assert_eq!(c.api_default_rate_per_sec, 10);
        assert_eq!(c.api_default_daily_quota, 10_000);
        assert_eq!(c.access_notice_code_days, 90);
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
        assert_eq!(
            (c.db_acquire_timeout_ms, c.db_busy_timeout_ms),
            (5000, 15000)
        );
    }

    #[test]
    fn postgres_url_switches_engine() {
        let c = with(&[("DATABASE_URL", "postgres://u@localhost/db")]).unwrap();
        assert_eq!(c.engine, DbEngine::Postgres);
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = with(&[("CASEGATE_BIND", "nowhere")]).unwrap_err();
        assert!(e.to_string().contains("CASEGATE_BIND"));
        let e = with(&[("CASEGATE_MASTER_KEY", "abc")]).unwrap_err();
        assert!(e.to_string().contains("CASEGATE_MASTER_KEY"));
        let e = with(&[("DATABASE_URL", "mysql://x")]).unwrap_err();
        assert!(e.to_string().contains("DATABASE_URL"));
        let e = with(&[("CASEGATE_API_RATE_PER_SEC", "0")]).unwrap_err();
        assert!(e.to_string().contains("CASEGATE_API_RATE_PER_SEC"));
    }

    #[test]
    fn toml_file_is_read_and_env_wins() {
        let file: FileConfig =
            toml::from_str("agency_name = \"File Agency\"\nbind = \"127.0.0.1:9000\"").unwrap();
        let c = Config::from_sources(file, |k| {
            (k == "CASEGATE_BIND").then(|| "127.0.0.1:9100".to_string())
        })
        .unwrap();
        assert_eq!(c.agency_name, "File Agency");
        assert_eq!(c.bind.port(), 9100);
        assert!(toml::from_str::<FileConfig>("nonsense_key = 1").is_err());
    }

    #[test]
    fn the_readme_documents_every_setting() {
        let readme = include_str!("../README.md");
        for s in SETTINGS {
            assert!(
                readme.contains(&format!("| `{}` | `{}` |", s.env, s.toml)),
                "{}",
                s.env
            );
        }
    }

    #[test]
    fn help_contacts_default_to_demo_values_and_empty_hides_them() {
        let c = with(&[]).unwrap();
        assert_eq!(c.help.phone.as_deref(), Some("800-555-0100"));
        assert_eq!(c.help.phone_href().as_deref(), Some("tel:8005550100"));
        assert_eq!(c.help.mail_lines().len(), 3);
        let c = with(&[
            ("CASEGATE_HELP_PHONE", ""),
            ("CASEGATE_HELP_EMAIL", " "),
            (
                "CASEGATE_HELP_MAIL_ADDRESS",
                "Agency\nPO Box 1;Town, ST 00001",
            ),
        ])
        .unwrap();
        assert_eq!((c.help.phone.clone(), c.help.email.clone()), (None, None));
        assert_eq!(
            c.help.mail_lines(),
            vec!["Agency", "PO Box 1", "Town, ST 00001"]
        );
        assert!(c.help.any());
    }

    #[test]
    fn every_setting_is_documented_once() {
        let mut names: Vec<_> = SETTINGS.iter().map(|s| s.env).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), SETTINGS.len());
    }
}
