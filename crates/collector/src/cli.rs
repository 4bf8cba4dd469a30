//! Commands: `serve` (the default), `project`, `user`, `token`.

use std::io::Read;

use anyhow::{Context, bail};
use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::store::{Store, random_hex};

/// Mayday collector: crash reports in, issues out.
#[derive(Debug, Parser)]
#[command(name = "mayday-collector", version, about)]
pub struct Cli {
    /// Settings for every command.
    #[command(flatten)]
    pub config: Config,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the collector (the default).
    Serve,
    /// Manage projects.
    #[command(subcommand)]
    Project(ProjectCommand),
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

/// Project commands.
#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a project; prints its DSN and nothing else.
    Create {
        /// The project's name.
        name: String,
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
    },
    /// Set a project's events-per-minute limit per key (0: the collector's default).
    RateLimit {
        /// The project's name.
        name: String,
        /// Events per minute.
        per_minute: i64,
    },
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
}

/// Token commands.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for an account; prints the token (shown only once).
    Create {
        /// The account's email.
        #[arg(long)]
        email: String,
    },
}

/// Hashes a password with Argon2id and a random salt.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow::anyhow!("hashing the password failed: {e}"))
}

/// Runs a command other than `serve`.
pub async fn run(config: &Config, store: &Store, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve => unreachable_serve(),
        Command::Project(ProjectCommand::Create { name }) => {
            let created = store.create_project(&name).await?;
            let key = &created.keys[0];
            println!("{}", config.dsn(&key.public_key, created.project.id));
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
        Command::Project(ProjectCommand::AddMember { name, email }) => {
            store.add_member(&name, &email).await?;
        }
        Command::Project(ProjectCommand::RateLimit { name, per_minute }) => {
            store.set_rate_limit(&name, per_minute).await?;
        }
        Command::User(UserCommand::Create { email, name, admin }) => {
            if !email.contains('@') {
                bail!("{email:?} is not an email address");
            }
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .context("reading the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']);
            if password.chars().count() < 8 {
                bail!("the password (read from standard input) must have at least 8 characters");
            }
            let hash = hash_password(password)?;
            let account = store
                .create_account(&email, name.as_deref(), &hash, admin)
                .await?;
            eprintln!(
                "created {}account {}",
                if account.is_admin { "admin " } else { "" },
                account.email
            );
        }
        Command::Token(TokenCommand::Create { email }) => {
            let account = store.account_by_email(&email).await?;
            let token = random_hex(2);
            store
                .create_token(account.id, &crate::api::token_hash(&token))
                .await?;
            println!("{token}");
        }
    }
    Ok(())
}

fn unreachable_serve() {
    // `main` runs `serve` itself; nothing to do here.
}
