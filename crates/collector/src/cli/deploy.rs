//! `deploy` commands, the step after deploying: record that a release went out, then
//! ask whether it made things worse (`deploy check`, exit 0 pass, 1 fail, 2 not enough
//! data when the wait ends). Against the database this command opens, or a running
//! collector with `--url` and `--token`.

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Subcommand;

use crate::config::Config;
use crate::release_health::{self, check::Verdict};
use crate::store::Store;

/// Deploy commands.
#[derive(Debug, Subcommand)]
pub enum DeployCommand {
    /// Record that a release went out now ("since the deploy" windows start here).
    Record {
        /// The project's name.
        #[arg(long)]
        project: String,
        /// The release, as the app reports it (`shop@2.4.0`).
        #[arg(long)]
        release: String,
        /// The environment.
        #[arg(long, default_value = "production")]
        environment: String,
        /// A running collector (default: the database this command opens).
        #[arg(long, requires = "token")]
        url: Option<String>,
        /// An API token of a project member who can triage, for `--url`.
        #[arg(long, env = "MAYDAY_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
    /// Did the release make things worse than the one before? Prints the verdict and
    /// its reasons; exits 0 (pass), 1 (fail) or 2 (not enough data when the wait ends).
    Check {
        /// The project's name.
        #[arg(long)]
        project: String,
        /// The release.
        #[arg(long)]
        release: String,
        /// The release to compare with (default: the one seen before it).
        #[arg(long)]
        previous: Option<String>,
        /// Only this environment (default: all).
        #[arg(long)]
        environment: Option<String>,
        /// Keep asking while there is not enough data, up to this long: `90s`, `10m`, `1h`.
        #[arg(long, value_parser = parse_wait, default_value = "0s")]
        wait: Duration,
        /// A running collector (default: the database this command opens).
        #[arg(long, requires = "token")]
        url: Option<String>,
        /// An API token of a project member, for `--url`.
        #[arg(long, env = "MAYDAY_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
}

/// `90s`, `10m`, `1h`, `0`.
fn parse_wait(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (digits, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a wait such as 90s, 10m or 1h"))?;
    let seconds = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("{text:?} is not a wait such as 90s, 10m or 1h")),
    };
    Ok(Duration::from_secs(seconds))
}

/// Between two asks while waiting for data.
const POLL: Duration = Duration::from_secs(10);

/// The exit code when the check could not run (an unknown project, a collector that
/// cannot be reached, a refused token): apart from 1, a failing release.
pub const COULD_NOT_CHECK: i32 = 3;

/// Runs `command`, against the collector at `--url` or the database `config` names
/// (opened only then); returns the exit code.
pub async fn run(config: &Config, command: DeployCommand) -> anyhow::Result<i32> {
    match command {
        DeployCommand::Record {
            project,
            release,
            environment,
            url: Some(url),
            token: Some(token),
        } => {
            let client = reqwest::Client::new();
            let base = url.trim_end_matches('/');
            let id = super::remote::project_id(&client, base, &token, &project).await?;
            let answer = super::remote::json(
                client
                    .post(format!(
                        "{base}/api/v1/projects/{id}/releases/{}/deploys",
                        crate::encode::path_segment(&release)
                    ))
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(serde_json::json!({ "environment": environment }).to_string()),
                "recording the deploy",
            )
            .await?;
            println!(
                "recorded: {release} to {environment} at {}",
                answer["deployed_at"].as_str().unwrap_or_default()
            );
            Ok(0)
        }
        DeployCommand::Record {
            project,
            release,
            environment,
            ..
        } => {
            let store = Store::connect(&config.database_url).await?;
            let project = store.project_by_name(&project).await.with_context(|| {
                format!("no project {project:?} in this database (`mayday-collector project list` names them)")
            })?;
            release_health::record_deploy(&store, project.id, &release, &environment)
                .await
                .map_err(|e| anyhow::anyhow!(e.to_string()))?;
            println!("recorded: {release} to {environment}");
            Ok(0)
        }
        DeployCommand::Check {
            project,
            release,
            previous,
            environment,
            wait,
            url,
            token,
        } => {
            let deadline = Instant::now() + wait;
            let remote = match (url, token) {
                (Some(url), Some(token)) => {
                    let client = reqwest::Client::new();
                    let base = url.trim_end_matches('/').to_owned();
                    let id = super::remote::project_id(&client, &base, &token, &project).await?;
                    Some((client, base, token, id))
                }
                _ => None,
            };
            let local = match &remote {
                Some(_) => None,
                None => {
                    let store = Store::connect(&config.database_url).await?;
                    let project = store.project_by_name(&project).await.with_context(|| {
                format!("no project {project:?} in this database (`mayday-collector project list` names them)")
            })?;
                    Some((store, project))
                }
            };
            loop {
                let answer: serde_json::Value = match (&remote, &local) {
                    (Some((client, base, token, id)), _) => {
                        let mut query = Vec::new();
                        if let Some(e) = &environment {
                            query.push(("environment", e.as_str()));
                        }
                        if let Some(p) = &previous {
                            query.push(("previous", p.as_str()));
                        }
                        super::remote::json(
                            client
                                .get(format!(
                                    "{base}/api/v1/projects/{id}/releases/{}/check",
                                    crate::encode::path_segment(&release)
                                ))
                                .query(&query)
                                .bearer_auth(token),
                            "the deploy check",
                        )
                        .await?
                    }
                    (None, Some((store, project))) => serde_json::to_value(
                        release_health::check(
                            store,
                            project,
                            &release,
                            previous.as_deref(),
                            environment.as_deref(),
                            &config.base_url(),
                        )
                        .await?,
                    )?,
                    (None, None) => unreachable!("one of the two is set"),
                };
                let verdict: Verdict = serde_json::from_value(answer["verdict"].clone())
                    .context("the collector's answer has no verdict")?;
                if verdict != Verdict::NotEnoughData || Instant::now() + POLL > deadline {
                    print(&answer);
                    return Ok(verdict.exit_code());
                }
                tokio::time::sleep(POLL).await;
            }
        }
    }
}

/// The verdict, its figures and each reason with its link.
fn print(answer: &serde_json::Value) {
    let verdict = match answer["verdict"].as_str() {
        Some("pass") => "PASS",
        Some("fail") => "FAIL",
        _ => "NOT ENOUGH DATA",
    };
    let rate = |r: &serde_json::Value| {
        let requests = r["requests"].as_i64().unwrap_or(0);
        let failed = r["failed"].as_i64().unwrap_or(0);
        if requests == 0 {
            "no requests".to_owned()
        } else {
            format!(
                "{requests} requests, {:.2}% failed",
                failed as f64 * 100.0 / requests as f64
            )
        }
    };
    println!(
        "{verdict} {} against {} ({}): {}; before: {}",
        answer["release"].as_str().unwrap_or_default(),
        answer["previous"].as_str().unwrap_or("no earlier release"),
        answer["environment"].as_str().unwrap_or("all environments"),
        rate(&answer["current"]),
        if answer["previous_rates"].is_null() {
            "no requests".to_owned()
        } else {
            rate(&answer["previous_rates"])
        },
    );
    for reason in answer["reasons"].as_array().into_iter().flatten() {
        println!(
            "- {}: {}\n  {}",
            reason["kind"].as_str().unwrap_or_default(),
            reason["text"].as_str().unwrap_or_default(),
            reason["link"].as_str().unwrap_or_default()
        );
    }
    println!("rule: {}", answer["rule"].as_str().unwrap_or_default());
}
