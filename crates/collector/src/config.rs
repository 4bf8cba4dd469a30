//! Settings, from flags or `MAYDAY_*` environment variables, validated once at start.

use std::net::SocketAddr;

/// Every setting of the collector. Each flag also reads the environment variable named
/// in `--help`.
#[derive(Debug, Clone, clap::Args)]
pub struct Config {
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

    /// Largest event accepted, in bytes after decompression.
    #[arg(long, env = "MAYDAY_MAX_EVENT_BYTES", default_value_t = 1 << 20, global = true)]
    pub max_event_bytes: usize,

    /// Largest envelope accepted, in bytes, compressed or not.
    #[arg(long, env = "MAYDAY_MAX_ENVELOPE_BYTES", default_value_t = 20 << 20, global = true)]
    pub max_envelope_bytes: usize,

    /// Events per minute accepted per DSN key, unless the project sets its own; 0 means
    /// no limit.
    /// Bytes of request bodies held at once, across all requests; past it ingest answers
    /// 503 with `Retry-After` before reading more.
    #[arg(
        long,
        env = "MAYDAY_MAX_BYTES_IN_FLIGHT",
        default_value_t = 64 << 20,
        global = true
    )]
    pub max_bytes_in_flight: usize,

    #[arg(long, env = "MAYDAY_RATE_LIMIT", default_value_t = 6000, global = true)]
    pub rate_limit: u64,

    /// Events kept per issue; older ones are deleted (counts are kept).
    #[arg(
        long,
        env = "MAYDAY_RETENTION_EVENTS_PER_ISSUE",
        default_value_t = 1000,
        global = true
    )]
    pub retention_events_per_issue: u64,

    /// Days an event is kept.
    #[arg(
        long,
        env = "MAYDAY_RETENTION_DAYS",
        default_value_t = 90,
        global = true
    )]
    pub retention_days: u64,

    /// Most events committed in one transaction.
    #[arg(long, env = "MAYDAY_BATCH_MAX", default_value_t = 256, global = true)]
    pub batch_max: usize,

    /// Reverse proxies whose `X-Forwarded-For` is believed (addresses or networks,
    /// comma-separated: `127.0.0.1,10.0.0.0/8`). Requests from anywhere else are
    /// known by their own address, whatever they claim.
    #[arg(
        long,
        env = "MAYDAY_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_parser = parse_network,
        global = true
    )]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Lets webhooks (and other user-given targets) reach loopback, private and other
    /// non-public addresses. Off by default: a project admin could otherwise make the
    /// collector reach its own network.
    #[arg(long, env = "MAYDAY_ALLOW_PRIVATE_TARGETS", global = true)]
    pub allow_private_targets: bool,

    /// When set, `/metrics` answers only requests with `Authorization: Bearer <token>`.
    #[arg(
        long,
        env = "MAYDAY_METRICS_TOKEN",
        global = true,
        hide_env_values = true
    )]
    pub metrics_token: Option<String>,

    /// SMTP server for notification emails: `smtp://user:pass@host:587` (STARTTLS),
    /// `smtps://user:pass@host:465` (TLS) or `smtp://host:25?tls=none` (local relay).
    #[arg(long, env = "MAYDAY_SMTP_URL", global = true)]
    pub smtp_url: Option<String>,

    /// Sender of notification emails.
    #[arg(
        long,
        env = "MAYDAY_EMAIL_FROM",
        default_value = "Mayday <mayday@localhost>",
        global = true
    )]
    pub email_from: String,

    /// At most one spike notification per issue in this many minutes (new issues and
    /// regressions always notify).
    #[arg(
        long,
        env = "MAYDAY_NOTIFY_WINDOW_MINUTES",
        default_value_t = 60,
        global = true
    )]
    pub notify_window_minutes: u64,

    /// First retry delay of a failed notification, in milliseconds (doubles each time).
    #[arg(
        long,
        env = "MAYDAY_NOTIFY_RETRY_BASE_MS",
        default_value_t = 5000,
        global = true
    )]
    pub notify_retry_base_ms: u64,

    /// How often the notification worker looks for work, in milliseconds.
    #[arg(
        long,
        env = "MAYDAY_NOTIFY_POLL_MS",
        default_value_t = 1000,
        global = true
    )]
    pub notify_poll_ms: u64,

    /// How often the monitor scheduler looks for missed check-ins, timed-out runs and
    /// due checks, in milliseconds.
    #[arg(
        long,
        env = "MAYDAY_SCHEDULER_TICK_MS",
        default_value_t = 1000,
        global = true
    )]
    pub scheduler_tick_ms: u64,
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

/// An address or network: `10.0.0.0/8`, or `127.0.0.1` for that address alone.
fn parse_network(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{text:?} is neither an IP address nor a network like 10.0.0.0/8"))
}
