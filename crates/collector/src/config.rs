//! Settings, from flags or `MAYDAY_*` environment variables, validated once at start.

use std::net::SocketAddr;

/// Settings every command reads (they may follow any command): where the database is,
/// how the collector is reached from outside (for DSNs and links), which targets
/// monitors and webhooks may reach, and what is logged.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonSettings {
    /// Address to listen on.
    #[arg(
        long,
        env = "MAYDAY_LISTEN",
        default_value = "127.0.0.1:8300",
        global = true
    )]
    pub listen: SocketAddr,

    /// Database: `sqlite://PATH?mode=rwc` (created with its folder) or
    /// `postgres://USER@HOST:PORT/DB`.
    #[arg(
        long,
        env = "MAYDAY_DATABASE_URL",
        default_value = "sqlite://./mayday-data/mayday.db?mode=rwc",
        global = true
    )]
    pub database_url: String,

    /// Public URL of this collector, used in DSNs and links [default: http://LISTEN].
    #[arg(long, env = "MAYDAY_BASE_URL", global = true)]
    pub base_url: Option<String>,

    /// Lets webhooks, uptime checks and sitemap runs reach loopback, private and other
    /// non-public addresses: `1`, `true`, `yes` or `on` (`0`, `false`, `no`, `off`: the
    /// default). Off by default: a project admin could otherwise make the collector
    /// reach its own network.
    #[arg(
        long,
        env = "MAYDAY_ALLOW_PRIVATE_TARGETS",
        value_parser = yes_or_no,
        num_args = 0..=1,
        require_equals = true,
        default_value = "false",
        default_missing_value = "true",
        global = true
    )]
    pub allow_private_targets: bool,

    /// Most monitors one project may have: a check-in naming a new monitor past it is
    /// answered 429 (its existing monitors keep working), and admins cannot add more.
    #[arg(
        long,
        env = "MAYDAY_MAX_MONITORS_PER_PROJECT",
        default_value_t = 100,
        global = true
    )]
    pub max_monitors_per_project: u64,

    /// How many bytes of debug files a project may keep (1 GiB by default); an upload
    /// past it is refused until some are deleted.
    #[arg(
        long,
        env = "MAYDAY_DEBUG_FILES_MAX_BYTES",
        default_value_t = 1 << 30,
        global = true
    )]
    pub debug_files_max_bytes: u64,

    /// What is logged, in `tracing` filter syntax: `info`, `debug`,
    /// `info,mayday_collector::notify=debug`. Output is plain text on standard error
    /// (coloured only on a terminal).
    #[arg(
        long,
        env = "MAYDAY_LOG",
        default_value = "info,sqlx=warn,sea_orm=warn",
        global = true
    )]
    pub log: String,
}

/// The settings of a running collector (`serve`, the default command). Each is a flag
/// before the command or a `MAYDAY_*` variable.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeSettings {
    /// Largest event accepted, in bytes after decompression.
    #[arg(long, env = "MAYDAY_MAX_EVENT_BYTES", default_value_t = 1 << 20)]
    pub max_event_bytes: usize,

    /// Largest envelope accepted, in bytes, compressed or not.
    #[arg(long, env = "MAYDAY_MAX_ENVELOPE_BYTES", default_value_t = 20 << 20)]
    pub max_envelope_bytes: usize,

    /// Bytes of request bodies held at once, across all requests; past it ingest answers
    /// 503 with `Retry-After` before reading more.
    #[arg(long, env = "MAYDAY_MAX_BYTES_IN_FLIGHT", default_value_t = 64 << 20)]
    pub max_bytes_in_flight: usize,

    /// Events per minute accepted per DSN key, unless the project sets its own; 0 means
    /// no limit.
    #[arg(long, env = "MAYDAY_RATE_LIMIT", default_value_t = 6000)]
    pub rate_limit: u64,

    /// Events kept per issue; older ones are deleted (counts are kept).
    #[arg(
        long,
        env = "MAYDAY_RETENTION_EVENTS_PER_ISSUE",
        default_value_t = 1000
    )]
    pub retention_events_per_issue: u64,

    /// Days an event is kept.
    #[arg(long, env = "MAYDAY_RETENTION_DAYS", default_value_t = 90)]
    pub retention_days: u64,

    /// Most events committed in one transaction.
    #[arg(long, env = "MAYDAY_BATCH_MAX", default_value_t = 256)]
    pub batch_max: usize,

    /// Reverse proxies whose `X-Forwarded-For` is believed (addresses or networks,
    /// comma-separated: `127.0.0.1,10.0.0.0/8`). Requests from anywhere else are
    /// known by their own address, whatever they claim.
    #[arg(
        long,
        env = "MAYDAY_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_parser = parse_network
    )]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// When set, `/metrics` answers only requests with `Authorization: Bearer <token>`.
    #[arg(long, env = "MAYDAY_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// SMTP server for notification emails: `smtp://user:pass@host:587` (STARTTLS),
    /// `smtps://user:pass@host:465` (TLS) or `smtp://host:25?tls=none` (a local server
    /// without TLS).
    #[arg(long, env = "MAYDAY_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// Sender of notification emails.
    #[arg(
        long,
        env = "MAYDAY_EMAIL_FROM",
        default_value = "Mayday <mayday@localhost>"
    )]
    pub email_from: String,

    /// The throttle of alert rules that set none: at most one frequency alert per rule
    /// and issue in this many minutes (new issues, regressions and reappearances always
    /// alert).
    #[arg(long, env = "MAYDAY_NOTIFY_WINDOW_MINUTES", default_value_t = 60)]
    pub notify_window_minutes: u64,

    /// First retry delay of a failed notification, in milliseconds (doubles each time).
    #[arg(long, env = "MAYDAY_NOTIFY_RETRY_BASE_MS", default_value_t = 5000)]
    pub notify_retry_base_ms: u64,

    /// How often the notification worker looks for work, in milliseconds.
    #[arg(long, env = "MAYDAY_NOTIFY_POLL_MS", default_value_t = 1000)]
    pub notify_poll_ms: u64,

    /// How often the monitor scheduler looks for missed check-ins, timed-out runs and
    /// due checks, in milliseconds.
    #[arg(long, env = "MAYDAY_SCHEDULER_TICK_MS", default_value_t = 1000)]
    pub scheduler_tick_ms: u64,

    /// Where debug files are written to be read when symbolicating (they are kept in
    /// the database; this is a cache, safe to delete). Default: `mayday-debug-files` in
    /// the system's temporary folder.
    #[arg(long, env = "MAYDAY_SYMBOL_CACHE_DIR")]
    pub symbol_cache_dir: Option<std::path::PathBuf>,

    /// How long a search or list of issues may take, in milliseconds, waiting for a
    /// connection included; past it the search is stopped and the page says to narrow
    /// it. At most 4 run at once, 2 per project.
    #[arg(long, env = "MAYDAY_READ_TIME_LIMIT_MS", default_value_t = 5000)]
    pub read_time_limit_ms: u64,

    /// Everyone signs in with a second factor (an authenticator app's code): an account
    /// without one is sent to set it up before any other page. `1` or `0` (the default).
    #[arg(
        long,
        env = "MAYDAY_REQUIRE_TWO_FACTOR",
        value_parser = yes_or_no,
        num_args = 0..=1,
        require_equals = true,
        default_value = "false",
        default_missing_value = "true"
    )]
    pub require_two_factor: bool,

    /// With an `https://` MAYDAY_BASE_URL, every answer says
    /// `Strict-Transport-Security: max-age=31536000` (browsers keep to https for a year);
    /// `0` turns it off (for a test domain that may go back to http).
    #[arg(
        long,
        env = "MAYDAY_HSTS",
        value_parser = yes_or_no,
        num_args = 0..=1,
        require_equals = true,
        default_value = "true",
        default_missing_value = "true"
    )]
    pub hsts: bool,
}

/// Every setting of the collector, as the code reads them: the common settings and the
/// serve settings, parsed by [`crate::cli::Cli`].
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Database URL.
    pub database_url: String,
    /// Public URL, when set.
    pub base_url: Option<String>,
    /// Whether user-given targets may be non-public addresses.
    pub allow_private_targets: bool,
    /// Most monitors per project.
    pub max_monitors_per_project: u64,
    /// Most bytes of debug files per project.
    pub debug_files_max_bytes: u64,
    /// Where debug files are cached for symbolication.
    pub symbol_cache_dir: std::path::PathBuf,
    /// The log filter.
    pub log: String,
    /// Largest event, decompressed.
    pub max_event_bytes: usize,
    /// Largest envelope.
    pub max_envelope_bytes: usize,
    /// Request body bytes held at once.
    pub max_bytes_in_flight: usize,
    /// Events per minute per key (0: none).
    pub rate_limit: u64,
    /// Events kept per issue.
    pub retention_events_per_issue: u64,
    /// Days events are kept.
    pub retention_days: u64,
    /// Most events per transaction.
    pub batch_max: usize,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The token `/metrics` asks for, if any.
    pub metrics_token: Option<String>,
    /// The SMTP server, if any.
    pub smtp_url: Option<String>,
    /// Sender of notification emails.
    pub email_from: String,
    /// The default throttle of alert rules, minutes.
    pub notify_window_minutes: u64,
    /// First retry delay of a notification, ms.
    pub notify_retry_base_ms: u64,
    /// How often the notification worker looks for work, ms.
    pub notify_poll_ms: u64,
    /// How often the scheduler ticks, ms.
    pub scheduler_tick_ms: u64,
    /// How long a bounded read may take.
    pub read_time_limit: std::time::Duration,
    /// Whether every account must sign in with a second factor.
    pub require_two_factor: bool,
    /// Whether an https base URL brings `Strict-Transport-Security`.
    pub hsts: bool,
}

impl Config {
    /// The settings from their two groups.
    pub fn new(common: CommonSettings, serve: ServeSettings) -> Config {
        Config {
            listen: common.listen,
            database_url: common.database_url,
            base_url: common.base_url,
            allow_private_targets: common.allow_private_targets,
            max_monitors_per_project: common.max_monitors_per_project,
            debug_files_max_bytes: common.debug_files_max_bytes,
            symbol_cache_dir: serve
                .symbol_cache_dir
                .unwrap_or_else(|| std::env::temp_dir().join("mayday-debug-files")),
            log: common.log,
            max_event_bytes: serve.max_event_bytes,
            max_envelope_bytes: serve.max_envelope_bytes,
            max_bytes_in_flight: serve.max_bytes_in_flight,
            rate_limit: serve.rate_limit,
            retention_events_per_issue: serve.retention_events_per_issue,
            retention_days: serve.retention_days,
            batch_max: serve.batch_max,
            trusted_proxies: serve.trusted_proxies,
            metrics_token: serve.metrics_token,
            smtp_url: serve.smtp_url,
            email_from: serve.email_from,
            notify_window_minutes: serve.notify_window_minutes,
            notify_retry_base_ms: serve.notify_retry_base_ms,
            notify_poll_ms: serve.notify_poll_ms,
            scheduler_tick_ms: serve.scheduler_tick_ms,
            read_time_limit: std::time::Duration::from_millis(serve.read_time_limit_ms.max(1)),
            require_two_factor: serve.require_two_factor,
            hsts: serve.hsts,
        }
    }
}

/// A setting that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The base URL is not an absolute http(s) URL.
    #[error("MAYDAY_BASE_URL {0:?} must be an absolute http:// or https:// URL")]
    BaseUrl(String),
    /// A limit is zero.
    #[error("{0} must be greater than zero")]
    Zero(&'static str),
}

impl Config {
    /// Which addresses webhooks (and other user-given targets) may reach.
    /// Which addresses webhooks and monitors may reach.
    pub fn target_policy(&self) -> crate::outbound::TargetPolicy {
        if self.allow_private_targets {
            crate::outbound::TargetPolicy::AllowPrivate
        } else {
            crate::outbound::TargetPolicy::PublicOnly
        }
    }

    /// Checks the settings that clap cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(base) = &self.base_url {
            let ok = url::Url::parse(base)
                .map(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
                .unwrap_or(false);
            if !ok {
                return Err(ConfigError::BaseUrl(base.clone()));
            }
        }
        for (name, value) in [
            ("MAYDAY_MAX_EVENT_BYTES", self.max_event_bytes),
            ("MAYDAY_MAX_ENVELOPE_BYTES", self.max_envelope_bytes),
            ("MAYDAY_BATCH_MAX", self.batch_max),
            ("MAYDAY_MAX_BYTES_IN_FLIGHT", self.max_bytes_in_flight),
            (
                "MAYDAY_RETENTION_EVENTS_PER_ISSUE",
                self.retention_events_per_issue as usize,
            ),
            ("MAYDAY_RETENTION_DAYS", self.retention_days as usize),
        ] {
            if value == 0 {
                return Err(ConfigError::Zero(name));
            }
        }
        // The SMTP settings are checked where the mailer is made (`AppInner::new`).
        Ok(())
    }

    /// The `Strict-Transport-Security` every answer carries, if any: with an https base
    /// URL, unless turned off.
    pub fn hsts(&self) -> Option<&'static str> {
        let https = self
            .base_url
            .as_deref()
            .is_some_and(|b| b.trim().to_ascii_lowercase().starts_with("https://"));
        (https && self.hsts).then_some("max-age=31536000")
    }

    /// The public base URL, without a trailing slash.
    pub fn base_url(&self) -> String {
        self.base_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
            .trim_end_matches('/')
            .to_owned()
    }

    /// The DSN for a project's key: `scheme://KEY@host[:port]/PROJECT_ID`.
    pub fn dsn(&self, public_key: &str, project_id: i64) -> String {
        let base = self.base_url();
        let (scheme, rest) = base.split_once("://").unwrap_or(("http", base.as_str()));
        format!("{scheme}://{public_key}@{rest}/{project_id}")
    }
}

/// A yes/no setting: `1`, `true`, `yes`, `on` or `0`, `false`, `no`, `off`, in any case.
pub fn yes_or_no(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" | "y" => Ok(true),
        "0" | "false" | "no" | "off" | "n" | "" => Ok(false),
        _ => Err("expected 1 or 0, true or false, yes or no, on or off".to_owned()),
    }
}

/// An address or network: `10.0.0.0/8`, or `127.0.0.1` for that address alone.
fn parse_network(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{text:?} is neither an IP address nor a network like 10.0.0.0/8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yes_and_no_as_people_write_them() {
        for yes in ["1", "true", "Yes", "ON", "on"] {
            assert_eq!(yes_or_no(yes), Ok(true), "{yes}");
        }
        for no in ["0", "false", "NO", "off"] {
            assert_eq!(yes_or_no(no), Ok(false), "{no}");
        }
        assert!(yes_or_no("maybe").unwrap_err().contains("yes or no"));
    }
}
