//! Commands: `serve` (the default), `project`, `user`, `token`, `monitor` (in
//! [`monitors`]), `backup`, `restore`.

pub mod debug_files;
pub mod deploy;
mod monitors;
mod remote;

pub use debug_files::DebugFilesCommand;
pub use monitors::MonitorCommand;

use std::io::Read;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use crate::audit::Actor;
use crate::config::{CommonSettings, Config, ServeSettings};
use crate::store::{ProjectRole, Store};
use crate::{accounts, membership, projects, webhooks};

/// Mayday collector: crash reports in, issues out.
///
/// With no command it serves (the same as `serve`). Every setting is a flag or a
/// `MAYDAY_*` environment variable; yes/no settings take `1`/`0`, `true`/`false`,
/// `yes`/`no` or `on`/`off`.
#[derive(Debug, Parser)]
#[command(name = "mayday-collector", version, about, long_about)]
pub struct Cli {
    /// Settings of every command.
    #[command(flatten)]
    pub common: CommonSettings,
    /// Settings of the collector when it serves (no command given).
    #[command(flatten)]
    pub serve: ServeSettings,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// The settings this command line (and the environment) give.
    pub fn config(&self) -> Config {
        let serve = match &self.command {
            Some(Command::Serve(serve)) => serve.clone(),
            _ => self.serve.clone(),
        };
        Config::new(self.common.clone(), serve)
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the collector (the default).
    Serve(ServeSettings),
    /// Manage projects.
    #[command(subcommand)]
    Project(ProjectCommand),
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage monitors: uptime checks and sitemap smoke tests (cron monitors are created
    /// by their check-ins).
    #[command(subcommand)]
    Monitor(MonitorCommand),
    /// Record a deploy, and check whether the release made things worse (for CI).
    #[command(subcommand)]
    Deploy(deploy::DeployCommand),
    /// Upload and list debug files, for the frames of stripped release binaries.
    #[command(subcommand, name = "debug-files")]
    DebugFiles(DebugFilesCommand),
    /// Write a consistent copy of the SQLite database to PATH while the collector serves
    /// and ingests (PostgreSQL: use pg_dump; this says how). Never overwrites a file.
    Backup {
        /// The new file, such as /var/backups/mayday-2026-12-05.db.
        path: std::path::PathBuf,
    },
    /// Put the backup PATH in place of the SQLite database (refused while a collector
    /// serves it). The database it replaces is kept beside it as NAME.before-restore.
    Restore {
        /// The backup file.
        path: std::path::PathBuf,
    },
}

/// Project commands.
#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a project; prints its DSN and nothing else.
    Create {
        /// The project's name.
        name: String,
    },
    /// Rename a project (its DSNs and links do not change: they name it by id).
    Rename {
        /// The project's name.
        name: String,
        /// Its new name.
        new_name: String,
    },
    /// List projects with their DSNs.
    List,
    /// Let an account see a project.
    AddMember {
        /// The project's name.
        name: String,
        /// The account's email.
        #[arg(long)]
        email: String,
        /// `member` (issues and events) or `admin` (also settings, keys, recipients,
        /// webhooks, members). An existing member gets the new role.
        #[arg(long, default_value = "member")]
        role: ProjectRole,
    },
    /// Remove an account from a project.
    RemoveMember {
        /// The project's name.
        name: String,
        /// The account's email.
        #[arg(long)]
        email: String,
    },
    /// Set a project's events-per-minute limit per key (0: the collector's default).
    RateLimit {
        /// The project's name.
        name: String,
        /// Events per minute.
        per_minute: i64,
    },
    /// Manage who gets a project's notification emails.
    Recipients {
        /// The project's name.
        name: String,
        /// What to do.
        #[command(subcommand)]
        action: RecipientAction,
    },
    /// Manage a project's webhooks.
    Webhook {
        /// The project's name.
        name: String,
        /// What to do.
        #[command(subcommand)]
        action: WebhookAction,
    },
    /// Notify when an issue gets more than EVENTS events within MINUTES (0 events: off).
    Spike {
        /// The project's name.
        name: String,
        /// Events.
        #[arg(long)]
        events: i64,
        /// Minutes.
        #[arg(long, default_value_t = 10)]
        minutes: i64,
    },
}

/// Recipient actions.
#[derive(Debug, Subcommand)]
pub enum RecipientAction {
    /// Add an email address.
    Add {
        /// The address.
        email: String,
    },
    /// Remove an email address.
    Remove {
        /// The address.
        email: String,
    },
    /// List the addresses.
    List,
}

/// Webhook actions.
#[derive(Debug, Subcommand)]
pub enum WebhookAction {
    /// Add a URL; prints the webhook's id and its signing secret.
    Add {
        /// Where to POST.
        url: String,
        /// The HMAC secret (default: a random one).
        #[arg(long)]
        secret: Option<String>,
    },
    /// Remove a webhook by id.
    Remove {
        /// The webhook's id.
        id: i64,
    },
    /// List the webhooks.
    List,
}

/// Account commands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account; the password is read from standard input.
    Create {
        /// Email address (the sign-in name).
        #[arg(long)]
        email: String,
        /// Full name.
        #[arg(long)]
        name: Option<String>,
        /// Admins see and manage every project.
        #[arg(long)]
        admin: bool,
    },
    /// Set an account's password, read from standard input (for one who forgot it, or
    /// the only admin locked out); its sessions end.
    Password {
        /// The account's email.
        #[arg(long)]
        email: String,
    },
    /// Remove an account's second factor (a lost phone and no recovery code left): the
    /// next sign-in asks for the password alone; its sessions end.
    #[command(name = "reset-2fa")]
    Reset2fa {
        /// The account's email.
        #[arg(long)]
        email: String,
    },
    /// Stop an account from signing in; its sessions and tokens stop working.
    Deactivate {
        /// The account's email.
        #[arg(long)]
        email: String,
    },
    /// Let a deactivated account sign in again.
    Activate {
        /// The account's email.
        #[arg(long)]
        email: String,
    },
    /// Remove an account with its memberships, tokens and sessions.
    Remove {
        /// The account's email.
        #[arg(long)]
        email: String,
    },
}

/// Token commands.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for an account; prints the token (shown only once).
    Create {
        /// The account's email.
        #[arg(long)]
        email: String,
        /// Where the token is used, to tell tokens apart when revoking one.
        #[arg(long, default_value = "")]
        name: String,
    },
    /// List an account's tokens: id, name, created, last used.
    List {
        /// The account's email.
        #[arg(long)]
        email: String,
    },
    /// Revoke one of an account's tokens.
    Revoke {
        /// The account's email.
        #[arg(long)]
        email: String,
        /// The token's id (from `token list`).
        id: i64,
    },
}

/// A password from standard input (a pipe, or typed and ended with Ctrl-D), without its
/// line ending.
fn read_password() -> anyhow::Result<String> {
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .context("reading the password from standard input")?;
    Ok(password.trim_end_matches(['\r', '\n']).to_owned())
}

/// A password refused, said as the command line's user needs it.
fn password_error(error: accounts::AccountError) -> anyhow::Error {
    match error {
        accounts::AccountError::PasswordTooShort => anyhow::anyhow!(
            "the password (read from standard input) needs at least {} characters",
            accounts::MIN_PASSWORD_CHARS
        ),
        other => other.into(),
    }
}

/// The command line and the environment, parsed; on a mistake, the message (naming the
/// environment variable when the bad value came from one) is printed and the exit code
/// returned.
pub fn parse() -> Result<Cli, std::process::ExitCode> {
    use clap::{CommandFactory, FromArgMatches};
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let result = Cli::command()
        .try_get_matches_from(&args)
        .and_then(|matches| Cli::from_arg_matches(&matches));
    match result {
        Ok(cli) => Ok(cli),
        Err(error) => {
            if let Some(message) = from_environment(&error, &args) {
                eprintln!("error: {message}");
                return Err(std::process::ExitCode::from(2));
            }
            let code = if error.use_stderr() { 2 } else { 0 };
            let _ = error.print();
            Err(std::process::ExitCode::from(code))
        }
    }
}

/// When `error` is a bad value that came from an environment variable (the flag is not
/// on the command line), says so, naming the variable.
fn from_environment(error: &clap::Error, args: &[std::ffi::OsString]) -> Option<String> {
    use clap::CommandFactory;
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if !matches!(
        error.kind(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation
    ) {
        return None;
    }
    let Some(ContextValue::String(arg)) = error.get(ContextKind::InvalidArg) else {
        return None;
    };
    let long = arg
        .split([' ', '=', '['])
        .next()?
        .trim_start_matches('-')
        .to_owned();
    let on_command_line = args
        .iter()
        .filter_map(|a| a.to_str())
        .any(|a| a == format!("--{long}") || a.starts_with(&format!("--{long}=")));
    if on_command_line {
        return None;
    }
    let command = Cli::command();
    let mut commands = vec![&command];
    commands.extend(command.get_subcommands());
    let env = commands
        .iter()
        .flat_map(|c| c.get_arguments())
        .find(|a| a.get_long() == Some(long.as_str()))?
        .get_env()?
        .to_string_lossy()
        .into_owned();
    let value = std::env::var(&env).ok()?;
    let expected = match error.get(ContextKind::ValidValue) {
        Some(ContextValue::Strings(values)) => format!(" (expected one of: {})", values.join(", ")),
        _ => String::new(),
    };
    // clap's first line: "error: invalid value 'x' for '--flag <FLAG>': why".
    let why = error
        .to_string()
        .lines()
        .next()
        .and_then(|l| l.rsplit_once("': ").map(|(_, why)| why.to_owned()))
        .unwrap_or_default();
    let why = if why.is_empty() {
        String::new()
    } else {
        format!(": {why}")
    };
    Some(format!(
        "{env}={value:?} is not a valid value for --{long}{expected}{why}; fix or unset {env}"
    ))
}

pub async fn run(config: &Config, store: &Store, command: Command) -> anyhow::Result<()> {
    match command {
        // `main` runs the server itself, and restores before opening the database.
        Command::Serve(_) | Command::Restore { .. } => {}
        Command::Backup { path } => {
            let bytes = store.backup(&path).await?;
            println!(
                "backed up {} to {} ({bytes} bytes, as committed at {})",
                crate::store::redact(&config.database_url),
                path.display(),
                chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC")
            );
        }
        Command::Project(ProjectCommand::Create { name }) => {
            let created = projects::create(store, Actor::Cli, &name).await?;
            let key = &created.keys[0];
            println!("{}", config.dsn(&key.public_key, created.project.id));
        }
        Command::Project(ProjectCommand::Rename { name, new_name }) => {
            let project = store.project_by_name(&name).await?;
            projects::rename(store, Actor::Cli, project.id, &new_name).await?;
        }
        Command::Project(ProjectCommand::List) => {
            for p in store.list_projects().await? {
                let dsn = p
                    .keys
                    .iter()
                    .find(|k| k.active)
                    .map(|k| config.dsn(&k.public_key, p.project.id))
                    .unwrap_or_else(|| "(no active key)".into());
                println!("{}\t{}\t{}", p.project.id, p.project.name, dsn);
            }
        }
        Command::Project(ProjectCommand::AddMember { name, email, role }) => {
            let project = store.project_by_name(&name).await?;
            membership::add(store, Actor::Cli, project.id, &email, role).await?;
        }
        Command::Project(ProjectCommand::RemoveMember { name, email }) => {
            let project = store.project_by_name(&name).await?;
            if !membership::remove(store, Actor::Cli, project.id, &email).await? {
                bail!("{email} is not a member of {name}");
            }
        }
        Command::Project(ProjectCommand::RateLimit { name, per_minute }) => {
            let project = store.project_by_name(&name).await?;
            projects::set_rate_limit(store, Actor::Cli, project.id, per_minute).await?;
        }
        Command::Project(ProjectCommand::Recipients { name, action }) => {
            let project = store.project_by_name(&name).await?;
            match action {
                RecipientAction::Add { email } => {
                    projects::add_recipient(store, Actor::Cli, project.id, &email).await?;
                }
                RecipientAction::Remove { email } => {
                    if !projects::remove_recipient(store, Actor::Cli, project.id, &email).await? {
                        bail!("{email} is not a recipient of {name}");
                    }
                }
                RecipientAction::List => {
                    for email in store.recipients(project.id).await? {
                        println!("{email}");
                    }
                }
            }
        }
        Command::Project(ProjectCommand::Webhook { name, action }) => {
            let project = store.project_by_name(&name).await?;
            match action {
                WebhookAction::Add { url, secret } => {
                    let hook =
                        webhooks::add(store, config, Actor::Cli, project.id, &url, secret).await?;
                    println!("{}\t{}", hook.id, hook.secret);
                }
                WebhookAction::Remove { id } => {
                    if !webhooks::remove(store, Actor::Cli, project.id, id).await? {
                        bail!("{name} has no webhook {id}");
                    }
                }
                WebhookAction::List => {
                    for hook in store.webhooks(project.id).await? {
                        println!("{}\t{}", hook.id, hook.url);
                    }
                }
            }
        }
        Command::Project(ProjectCommand::Spike {
            name,
            events,
            minutes,
        }) => {
            let project = store.project_by_name(&name).await?;
            projects::set_spike(store, Actor::Cli, project.id, events, minutes).await?;
        }
        Command::User(UserCommand::Create { email, name, admin }) => {
            accounts::check_email(&email)?;
            let password = read_password()?;
            let account =
                accounts::create_account(store, &email, name.as_deref(), &password, admin)
                    .await
                    .map_err(password_error)?;
            eprintln!(
                "created {}account {}",
                if account.is_admin { "admin " } else { "" },
                account.email
            );
        }
        Command::Token(TokenCommand::Create { email, name }) => {
            let account = store.account_by_email(&email).await?;
            let token = accounts::create_api_token(store, account.id, &name).await?;
            println!("{token}");
        }
        Command::Token(TokenCommand::List { email }) => {
            let account = store.account_by_email(&email).await?;
            for token in store.tokens(account.id).await? {
                println!(
                    "{}\t{}\t{}\t{}",
                    token.id,
                    token.name,
                    token.created_at,
                    token
                        .last_used_at
                        .map_or("never".to_owned(), |t| t.to_string())
                );
            }
        }
        Command::Token(TokenCommand::Revoke { email, id }) => {
            let account = store.account_by_email(&email).await?;
            if !store.revoke_token(account.id, id).await? {
                bail!("{email} has no token {id}");
            }
        }
        Command::User(UserCommand::Password { email }) => {
            let account = store.account_by_email(&email).await?;
            let password = read_password()?;
            accounts::reset_password(store, &account, &password)
                .await
                .map_err(password_error)?;
            eprintln!("password of {} set; its sessions ended", account.email);
        }
        Command::User(UserCommand::Reset2fa { email }) => {
            let account = store.account_by_email(&email).await?;
            if store.clear_totp(account.id).await? {
                eprintln!(
                    "two-factor sign-in of {} removed; its sessions ended (it can set it up again on /account/two-factor)",
                    account.email
                );
            } else {
                eprintln!("{} has no second factor; nothing changed", account.email);
            }
        }
        Command::User(UserCommand::Deactivate { email }) => {
            let account = store.account_by_email(&email).await?;
            store.set_account_active(account.id, false).await?;
        }
        Command::User(UserCommand::Activate { email }) => {
            let account = store.account_by_email(&email).await?;
            store.set_account_active(account.id, true).await?;
        }
        Command::User(UserCommand::Remove { email }) => {
            let account = store.account_by_email(&email).await?;
            store.remove_account(account.id).await?;
        }
        Command::Monitor(command) => monitors::run(config, store, command).await?,
        Command::DebugFiles(command) => debug_files::run(config, store, command).await?,
        // Run before a database is opened (main.rs).
        Command::Deploy(_) => {}
    }
    Ok(())
}
