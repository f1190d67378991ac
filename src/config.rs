//! One typed configuration for every tunable.
//!
//! Sources, later ones win: built-in defaults → an optional TOML file
//! (`CASEGATE_CONFIG` or `--config`) → environment variables. Every setting is
//! one row of the `settings!` table below: the row gives the `Config` field,
//! the environment variable, the TOML key, the documented default and meaning
//! (the README table and `--help` are generated from them) and the parsing.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

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

/// Settings whose value never appears in `Debug` output (logs, panics).
const SECRET_SETTINGS: &[&str] = &["CASEGATE_MASTER_KEY", "CASEGATE_SMTP_URL"];

/// One declarative table of every setting. Each row names the `Config` field,
/// its type, environment variable, TOML key, the default and meaning the README
/// and `--help` print, and how the raw value (environment, else file) becomes
/// the typed value; `v` is that raw value ([`Raw`]) and earlier rows are in
/// scope (defaults derived from them). From the rows come the `Config` struct,
/// [`SETTINGS`], the file's accepted keys and the redacted `Debug`.
///
/// - `fields`: one `Config` field each.
/// - `inputs`: read like fields, but only used to build a `derived` field.
/// - `derived`: `Config` fields computed from the rows above.
macro_rules! settings {
    (
        fields {
            $(
                $(#[doc = $doc:literal])*
                $field:ident: $ty:ty {
                    env: $env:literal, toml: $toml:literal, default: $shown:literal,
                    meaning: $meaning:literal,
                    value: |$v:ident| $value:expr $(,)?
                }
            )*
        }
        inputs {
            $(
                $input:ident: $ity:ty {
                    env: $ienv:literal, toml: $itoml:literal, default: $ishown:literal,
                    meaning: $imeaning:literal,
                    value: |$iv:ident| $ivalue:expr $(,)?
                }
            )*
        }
        derived {
            $(
                $(#[doc = $ddoc:literal])*
                $derived:ident: $dty:ty = $dvalue:expr
            ),* $(,)?
        }
    ) => {
        #[derive(Clone)]
        pub struct Config {
            $( $(#[doc = $doc])* pub $field: $ty, )*
            $( $(#[doc = $ddoc])* pub $derived: $dty, )*
        }

        /// Every setting, in the order the README lists them.
        pub const SETTINGS: &[Setting] = &[
            $( Setting { env: $env, toml: $toml, default: $shown, meaning: $meaning }, )*
            $( Setting { env: $ienv, toml: $itoml, default: $ishown, meaning: $imeaning }, )*
        ];

        impl std::fmt::Debug for Config {
            /// Every field, except that secrets (the master key, the SMTP URL
            /// with its password) print as `<redacted>`.
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let mut d = f.debug_struct("Config");
                $(
                    if SECRET_SETTINGS.contains(&$env) {
                        d.field(stringify!($field), &"<redacted>");
                    } else {
                        d.field(stringify!($field), &self.$field);
                    }
                )*
                $( d.field(stringify!($derived), &self.$derived); )*
                d.finish()
            }
        }

        impl Config {
            fn from_sources(
                mut file: FileConfig,
                env: impl Fn(&str) -> Option<String>,
            ) -> Result<Config, ConfigError> {
                $(
                    let $field: $ty = {
                        let $v = Raw::new($env, env($env), file.take($toml))?;
                        $value
                    };
                )*
                $(
                    let $input: $ity = {
                        let $iv = Raw::new($ienv, env($ienv), file.take($itoml))?;
                        $ivalue
                    };
                )*
                $( let $derived: $dty = $dvalue; )*
                Ok(Config { $( $field, )* $( $derived, )* })
            }
        }
    };
}

settings! {
    fields {
        bind: SocketAddr {
            env: "CASEGATE_BIND", toml: "bind", default: "`127.0.0.1:8080`",
            meaning: "address and port the server listens on",
            value: |v| v.address("127.0.0.1:8080")?,
        }
        data_dir: PathBuf {
            env: "CASEGATE_DATA_DIR", toml: "data_dir", default: "`./casegate-data`",
            meaning: "folder for the SQLite database, the master key, the email outbox and uploads",
            value: |v| PathBuf::from(v.text_or("./casegate-data")),
        }
        database_url: String {
            env: "DATABASE_URL", toml: "database_url", default: "`sqlite://<data_dir>/casegate.db`",
            meaning: "`sqlite://…` or `postgres://…`",
            value: |v| v.text().unwrap_or_else(|| {
                format!("sqlite://{}", data_dir.join("casegate.db").to_string_lossy())
            }),
        }
        db_max_connections: u32 {
            env: "CASEGATE_DB_MAX_CONNECTIONS", toml: "db_max_connections", default: "`16`",
            meaning: "database pool size",
            value: |v| v.positive(16)?,
        }
        /// How long a request waits for a pool connection before the database
        /// counts as unavailable (503).
        db_acquire_timeout_ms: u64 {
            env: "CASEGATE_DB_ACQUIRE_TIMEOUT_MS", toml: "db_acquire_timeout_ms", default: "`5000`",
            meaning: "how long a request waits for a database connection before it answers 503 \"temporarily unavailable\" (keep it short: a database outage then fails fast)",
            value: |v| v.positive(5000)?,
        }
        /// SQLite only: how long a write waits for another writer's lock before
        /// the database counts as unavailable (503).
        db_busy_timeout_ms: u64 {
            env: "CASEGATE_DB_BUSY_TIMEOUT_MS", toml: "db_busy_timeout_ms", default: "`15000`",
            meaning: "SQLite only: how long a write waits for another writer's lock before it answers 503",
            value: |v| v.at_least_zero(15000)?,
        }
        agency_name: String {
            env: "CASEGATE_AGENCY_NAME", toml: "agency_name", default: "`Example Immigration Services Agency`",
            meaning: "agency name on pages, notices and emails (English)",
            value: |v| v.text_or("Example Immigration Services Agency"),
        }
        agency_name_es: String {
            env: "CASEGATE_AGENCY_NAME_ES", toml: "agency_name_es", default: "`Agencia de Servicios de Inmigración de Ejemplo`",
            meaning: "agency name in Spanish",
            value: |v| v.text_or("Agencia de Servicios de Inmigración de Ejemplo"),
        }
        /// How status texts name the agency ("Case Is Being Actively Reviewed
        /// By …"); the agency name unless set.
        agency_short_name: String {
            env: "CASEGATE_AGENCY_SHORT_NAME", toml: "agency_short_name", default: "the agency name",
            meaning: "how case status texts (pages and the Case Status API alike) name the agency, e.g. `USCIS` for that agency",
            value: |v| v.text().unwrap_or_else(|| agency_name.clone()),
        }
        agency_short_name_es: String {
            env: "CASEGATE_AGENCY_SHORT_NAME_ES", toml: "agency_short_name_es", default: "the short name, else the Spanish agency name",
            meaning: "the same in Spanish",
            value: |v| v.text().unwrap_or_else(|| {
                if agency_short_name == agency_name {
                    agency_name_es.clone()
                } else {
                    agency_short_name.clone()
                }
            }),
        }
        public_url: String {
            env: "CASEGATE_PUBLIC_URL", toml: "public_url", default: "`http://<bind>`",
            meaning: "external address of the portal, printed on letters",
            value: |v| v.text()
                .unwrap_or_else(|| format!("http://{bind}"))
                .trim_end_matches('/')
                .to_string(),
        }
        log_format: LogFormat {
            env: "CASEGATE_LOG_FORMAT", toml: "log_format", default: "`text`",
            meaning: "`text` or `json` (structured logs on stderr)",
            value: |v| match v.text_or("text").as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                other => return Err(v.invalid(format!("`{other}` is neither `text` nor `json`"))),
            },
        }
        log_filter: String {
            env: "CASEGATE_LOG", toml: "log", default: "`info,sqlx::query=error`",
            meaning: "log filter (tracing env-filter syntax)",
            value: |v| v.text_or("info,sqlx::query=error"),
        }
        /// Hex master key; when absent it is read from `master_key_file` (or,
        /// for the demo and one-shot commands, generated into the data folder).
        master_key_hex: Option<String> {
            env: "CASEGATE_MASTER_KEY", toml: "master_key", default: "unset: `CASEGATE_MASTER_KEY_FILE`; only `serve --demo` (and the one-shot commands) generate `<data_dir>/master.key` (0600)",
            meaning: "64 hex chars; every server secret (HMAC keys, pepper, letter-sealing key, audit-chain key) is derived from it. Give every instance sharing a database the same value",
            value: |v| match v.text() {
                Some(k) if k.len() != 64 || hex::decode(&k).is_err() => {
                    return Err(v.invalid("must be 64 hexadecimal characters (32 bytes)".into()));
                }
                key => key,
            },
        }
        api_token_ttl_secs: i64 {
            env: "CASEGATE_API_TOKEN_TTL_SECS", toml: "api_token_ttl_secs", default: "`1800`",
            meaning: "lifetime of API access tokens",
            value: |v| v.positive(1800)?,
        }
        api_default_rate_per_sec: u32 {
            env: "CASEGATE_API_RATE_PER_SEC", toml: "api_rate_per_sec", default: "`10`",
            meaning: "default request rate of new API clients",
            value: |v| v.positive(10)?,
        }
        api_default_daily_quota: u32 {
            env: "CASEGATE_API_DAILY_QUOTA", toml: "api_daily_quota", default: "`10000`",
            meaning: "default daily quota of new API clients (10,000 a day and 10 a second are the production figures of developer.uscis.gov)",
            value: |v| v.positive(10000)?,
        }
        access_notice_code_days: i64 {
            env: "CASEGATE_ACCESS_NOTICE_CODE_DAYS", toml: "access_notice_code_days", default: "`90`",
            meaning: "validity of the code on an intake Account Access Notice",
            value: |v| v.positive(90)?,
        }
        status_cache_ttl_ms: u64 {
            env: "CASEGATE_STATUS_CACHE_TTL_MS", toml: "status_cache_ttl_ms", default: "`1000`",
            meaning: "how long one instance may reuse a status it read (0 disables)",
            value: |v| v.at_least_zero(1000)?,
        }
        intake_batch_rows: usize {
            env: "CASEGATE_INTAKE_BATCH_ROWS", toml: "intake_batch_rows", default: "`50000`",
            meaning: "rows committed per transaction by `casegate intake` (each batch holds the write lock for ~2.5 s on SQLite; lower it if the server takes writes during an intake)",
            value: |v| v.positive(50000)?,
        }
        max_body_bytes: usize {
            env: "CASEGATE_MAX_BODY_BYTES", toml: "max_body_bytes", default: "`1048576`",
            meaning: "largest accepted request body",
            value: |v| v.positive(1048576)?,
        }
        /// The request line and headers must arrive within this many seconds
        /// (slow "slowloris" clients are disconnected; idle keep-alive too).
        header_read_timeout_secs: u64 {
            env: "CASEGATE_HEADER_READ_TIMEOUT_SECS", toml: "header_read_timeout_secs", default: "`20`",
            meaning: "a client must send its request line and headers within this many seconds, else it is disconnected (slow-client protection; also closes idle keep-alive connections)",
            value: |v| v.positive(20)?,
        }
        /// A request body must arrive in full within this many seconds.
        request_body_timeout_secs: u64 {
            env: "CASEGATE_REQUEST_BODY_TIMEOUT_SECS", toml: "request_body_timeout_secs", default: "`120`",
            meaning: "a request body (a form, an upload of up to 12 MB) must arrive in full within this many seconds, else the answer is 408 and the connection is closed",
            value: |v| v.positive(120)?,
        }
        /// `smtp://user:pass@host:port` (STARTTLS when offered) or `smtps://…`;
        /// unset → emails are written as `.eml` files into `<data_dir>/outbox/`.
        smtp_url: Option<String> {
            env: "CASEGATE_SMTP_URL", toml: "smtp_url", default: "unset: emails are written to `<data_dir>/outbox/*.eml`",
            meaning: "SMTP relay: `smtp://user:pass@host:587` (STARTTLS whenever the relay offers it) or `smtps://…` (implicit TLS)",
            value: |v| v.non_empty(),
        }
        mail_from: String {
            env: "CASEGATE_MAIL_FROM", toml: "mail_from", default: "`<agency name> <no-reply@casegate.invalid>`",
            meaning: "From address of every email",
            value: |v| v.text().unwrap_or_else(|| {
                format!("{} <no-reply@casegate.invalid>", agency_name.replace(['<', '>', '"'], ""))
            }),
        }
        captcha_difficulty: u8 {
            env: "CASEGATE_CAPTCHA_DIFFICULTY", toml: "captcha_difficulty", default: "`14`",
            meaning: "proof-of-work difficulty (leading zero bits of SHA-256)",
            value: |v| v.within(14, 0, 28)?,
        }
        captcha_ttl_secs: i64 {
            env: "CASEGATE_CAPTCHA_TTL_SECS", toml: "captcha_ttl_secs", default: "`1800`",
            meaning: "how long a CAPTCHA challenge (and so a form) stays valid",
            value: |v| v.positive(1800)?,
        }
        captcha_min_fill_secs: i64 {
            env: "CASEGATE_CAPTCHA_MIN_FILL_SECS", toml: "captcha_min_fill_secs", default: "`5`",
            meaning: "without JavaScript: seconds between showing a form and accepting it",
            value: |v| v.at_least_zero(5)?,
        }
        verify_floor_ms: u64 {
            env: "CASEGATE_VERIFY_FLOOR_MS", toml: "verify_floor_ms", default: "`400`",
            meaning: "every identity-verification answer takes at least this long, so timing reveals nothing",
            value: |v| v.at_least_zero(400)?,
        }
        /// `host:port` of a ClamAV clamd for scanning uploads; unset → "not scanned".
        clamd: Option<String> {
            env: "CASEGATE_CLAMD", toml: "clamd", default: "unset: uploads are marked \"not scanned\"",
            meaning: "`host:port` of a ClamAV clamd; uploads wait as \"pending scan\" until it answers, infected files are quarantined",
            value: |v| v.non_empty(),
        }
        /// Serve uploads that are not (yet) scanned clean. Off: fail closed.
        serve_unscanned_uploads: bool {
            env: "CASEGATE_SERVE_UNSCANNED_UPLOADS", toml: "serve_unscanned_uploads", default: "`0`",
            meaning: "`1`: uploads that are not (yet) scanned clean can be downloaded. Default: only files ClamAV scanned clean are served (fail closed)",
            value: |v| v.flag()?,
        }
        /// A file holding the master key (64 hex characters), outside the data folder.
        master_key_file: Option<PathBuf> {
            env: "CASEGATE_MASTER_KEY_FILE", toml: "master_key_file", default: "unset",
            meaning: "file holding the master key (64 hex characters), outside the data folder; used when `CASEGATE_MASTER_KEY` is unset",
            value: |v| v.non_empty().map(PathBuf::from),
        }
        /// Accept a master key file inside the data folder (the operator's explicit opt-in).
        allow_key_in_data_dir: bool {
            env: "CASEGATE_ALLOW_KEY_IN_DATA_DIR", toml: "allow_key_in_data_dir", default: "`0`",
            meaning: "`1`: accept a master key file inside the data folder (a copy of the folder then holds the key). Without it `serve` refuses to start on such a key, except with `--demo`",
            value: |v| v.flag()?,
        }
        /// Header carrying the client IP set by a trusted reverse proxy
        /// (the right-most value is used); unset → the TCP peer address.
        client_ip_header: Option<String> {
            env: "CASEGATE_CLIENT_IP_HEADER", toml: "client_ip_header", default: "unset: the TCP peer address",
            meaning: "header your reverse proxy sets with the client IP (e.g. `x-forwarded-for`; right-most value used). Only set it behind a proxy that overwrites it",
            value: |v| v.text()
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty()),
        }
        /// Change of address without an account: days between confirming the
        /// letter's code and the new address going on file.
        address_change_hold_days: i64 {
            env: "CASEGATE_ADDRESS_CHANGE_HOLD_DAYS", toml: "address_change_hold_days", default: "`10`",
            meaning: "days between confirming a change of address (the letter's code) and the new address going on file; the old address and the email on file can stop it meanwhile",
            value: |v| v.positive(10)?,
        }
    }
    inputs {
        help_phone: Option<String> {
            env: "CASEGATE_HELP_PHONE", toml: "help_phone", default: "`800-555-0100` (demo)",
            meaning: "phone number people can call for help, on `/help` and on every dead end; an empty value leaves it off",
            value: |v| v.contact("800-555-0100"),
        }
        help_hours: Option<String> {
            env: "CASEGATE_HELP_HOURS", toml: "help_hours", default: "`Monday to Friday, 8 a.m. to 8 p.m. Eastern Time` (demo)",
            meaning: "when the phone line answers (English)",
            value: |v| v.contact("Monday to Friday, 8 a.m. to 8 p.m. Eastern Time"),
        }
        help_hours_es: Option<String> {
            env: "CASEGATE_HELP_HOURS_ES", toml: "help_hours_es", default: "`De lunes a viernes, de 8 a. m. a 8 p. m., hora del Este` (demo)",
            meaning: "when the phone line answers (Spanish)",
            value: |v| v.contact("De lunes a viernes, de 8 a. m. a 8 p. m., hora del Este"),
        }
        help_email: Option<String> {
            env: "CASEGATE_HELP_EMAIL", toml: "help_email", default: "`help@agency.example` (demo)",
            meaning: "email address for help; an empty value leaves it off",
            value: |v| v.contact("help@agency.example"),
        }
        help_mail_address: Option<String> {
            env: "CASEGATE_HELP_MAIL_ADDRESS", toml: "help_mail_address", default: "`Change of Address (AR-11); P.O. Box 0000; Springfield, IL 62701` (demo)",
            meaning: "postal address for a paper Form AR-11 and letters, lines separated by `;`; an empty value leaves it off",
            value: |v| v.contact("Change of Address (AR-11); P.O. Box 0000; Springfield, IL 62701"),
        }
    }
    derived {
        /// Which engine `database_url` selects.
        engine: DbEngine = engine_of(&database_url)?,
        /// How people reach the agency, shown on `/help` and on every dead end.
        help: HelpContacts = HelpContacts {
            phone: help_phone,
            hours: help_hours,
            hours_es: help_hours_es,
            email: help_email,
            mail_address: help_mail_address,
        },
    }
}

/// The README's configuration table, generated from [`SETTINGS`] (a test
/// checks the README carries exactly these lines).
pub fn settings_markdown() -> String {
    let mut out = String::from("| variable | TOML key | default | meaning |\n|---|---|---|---|\n");
    for s in SETTINGS {
        out.push_str(&format!(
            "| `{}` | `{}` | {} | {} |\n",
            s.env, s.toml, s.default, s.meaning
        ));
    }
    out
}

/// The settings listing printed by `casegate --help`, from [`SETTINGS`].
pub fn settings_help() -> String {
    let mut out = String::from(
        "Settings (environment variable, TOML key in --config, default; \
         the environment overrides the file):\n",
    );
    for s in SETTINGS {
        out.push_str(&format!(
            "\n  {} ({})\n      default: {}\n      {}\n",
            s.env,
            s.toml,
            s.default.replace('`', ""),
            s.meaning.replace('`', "")
        ));
    }
    out
}

/// The TOML file's values by key; only the keys of [`SETTINGS`] are accepted.
#[derive(Debug, Default)]
pub struct FileConfig(toml::Table);

impl FileConfig {
    /// Parses a configuration file's text; an unknown key is an error.
    pub fn parse(text: &str) -> Result<FileConfig, String> {
        let table: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
        if let Some(key) = table
            .keys()
            .find(|k| !SETTINGS.iter().any(|s| s.toml == k.as_str()))
        {
            return Err(format!("unknown setting `{key}`"));
        }
        Ok(FileConfig(table))
    }

    fn take(&mut self, key: &str) -> Option<toml::Value> {
        self.0.remove(key)
    }
}

/// One setting's raw value as found (environment first, else the file), with
/// the parsers every row uses. Errors name the environment variable.
struct Raw {
    name: &'static str,
    value: Option<String>,
}

impl Raw {
    fn new(
        name: &'static str,
        from_env: Option<String>,
        from_file: Option<toml::Value>,
    ) -> Result<Raw, ConfigError> {
        let value = match (from_env, from_file) {
            (Some(v), _) => Some(v),
            (None, None) => None,
            (None, Some(toml::Value::String(s))) => Some(s),
            (None, Some(toml::Value::Integer(i))) => Some(i.to_string()),
            (None, Some(toml::Value::Boolean(b))) => Some(b.to_string()),
            (None, Some(other)) => {
                return Err(ConfigError::Invalid {
                    name,
                    message: format!(
                        "the file gives a {}; expected a string, a number or true/false",
                        other.type_str()
                    ),
                });
            }
        };
        Ok(Raw { name, value })
    }

    fn invalid(&self, message: String) -> ConfigError {
        ConfigError::Invalid {
            name: self.name,
            message,
        }
    }

    fn text(&self) -> Option<String> {
        self.value.clone()
    }

    fn text_or(&self, default: &str) -> String {
        self.text().unwrap_or_else(|| default.to_string())
    }

    /// Unset or blank → `None`.
    fn non_empty(&self) -> Option<String> {
        self.text().filter(|s| !s.trim().is_empty())
    }

    /// A help contact: the (demo) default when unset, `None` when blank.
    fn contact(&self, default: &str) -> Option<String> {
        Some(self.text_or(default).trim().to_string()).filter(|s| !s.is_empty())
    }

    fn address(&self, default: &str) -> Result<SocketAddr, ConfigError> {
        let raw = self.text_or(default);
        raw.parse()
            .map_err(|_| self.invalid(format!("`{raw}` is not an address:port")))
    }

    fn number(&self, default: i64) -> Result<i64, ConfigError> {
        let raw = self.text().unwrap_or_else(|| default.to_string());
        raw.trim()
            .parse::<i64>()
            .map_err(|_| self.invalid(format!("`{raw}` is not a number")))
    }

    fn fit<T: TryFrom<i64>>(&self, n: i64) -> Result<T, ConfigError> {
        T::try_from(n).map_err(|_| self.invalid(format!("`{n}` is too large")))
    }

    /// A number greater than zero.
    fn positive<T: TryFrom<i64>>(&self, default: i64) -> Result<T, ConfigError> {
        let n = self.number(default)?;
        if n <= 0 {
            return Err(self.invalid("must be greater than zero".into()));
        }
        self.fit(n)
    }

    /// A number; a negative one counts as zero.
    fn at_least_zero<T: TryFrom<i64>>(&self, default: i64) -> Result<T, ConfigError> {
        let n = self.number(default)?.max(0);
        self.fit(n)
    }

    fn within<T: TryFrom<i64>>(&self, default: i64, low: i64, high: i64) -> Result<T, ConfigError> {
        let n = self.number(default)?;
        if !(low..=high).contains(&n) {
            return Err(self.invalid(format!("must be between {low} and {high}")));
        }
        self.fit(n)
    }

    /// `1`/`true`/`yes` or `0`/`false`/`no`/empty; unset → off.
    fn flag(&self) -> Result<bool, ConfigError> {
        match self.value.as_deref().map(str::trim) {
            None => Ok(false),
            Some("1" | "true" | "yes") => Ok(true),
            Some("" | "0" | "false" | "no") => Ok(false),
            Some(other) => Err(self.invalid(format!("`{other}` is neither 1 nor 0"))),
        }
    }
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
                FileConfig::parse(&text).map_err(|message| ConfigError::Toml {
                    path: path.clone(),
                    message,
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
        let file =
            FileConfig::parse("agency_name = \"File Agency\"\nbind = \"127.0.0.1:9000\"").unwrap();
        let c = Config::from_sources(file, |k| {
            (k == "CASEGATE_BIND").then(|| "127.0.0.1:9100".to_string())
        })
        .unwrap();
        assert_eq!(c.agency_name, "File Agency");
        assert_eq!(c.bind.port(), 9100);
        assert!(FileConfig::parse("nonsense_key = 1").is_err());
    }

    #[test]
    fn file_values_keep_their_types_and_rules() {
        let file = FileConfig::parse(
            "db_max_connections = 4\nserve_unscanned_uploads = true\nhelp_phone = \"\"",
        )
        .unwrap();
        let c = Config::from_sources(file, |_| None).unwrap();
        assert_eq!(c.db_max_connections, 4);
        assert!(c.serve_unscanned_uploads);
        assert_eq!(c.help.phone, None);
        let file = FileConfig::parse("api_rate_per_sec = 0").unwrap();
        let e = Config::from_sources(file, |_| None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "CASEGATE_API_RATE_PER_SEC has an invalid value: must be greater than zero"
        );
        let file = FileConfig::parse("bind = [1]").unwrap();
        assert!(Config::from_sources(file, |_| None).is_err());
    }

    #[test]
    fn debug_output_redacts_the_master_key_and_smtp_password() {
        let key = "ab".repeat(32);
        let c = with(&[
            ("CASEGATE_MASTER_KEY", &key),
            ("CASEGATE_SMTP_URL", "smtp://mailer:hunter2secret@relay:587"),
        ])
        .unwrap();
        let shown = format!("{c:?} {c:#?}");
        assert!(!shown.contains(&key), "{shown}");
        assert!(!shown.contains("hunter2secret"), "{shown}");
        assert!(shown.contains("master_key_hex: \"<redacted>\""), "{shown}");
        assert!(shown.contains("agency_name"), "{shown}");
    }

    #[test]
    fn the_readme_table_is_the_generated_one() {
        let readme = include_str!("../README.md");
        let table = settings_markdown();
        assert!(
            readme.contains(&table),
            "README.md's configuration table differs from config::SETTINGS; \
             replace it with:\n{table}"
        );
        let help = settings_help();
        for s in SETTINGS {
            assert!(help.contains(s.env), "{}", s.env);
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
