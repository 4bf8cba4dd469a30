//! `debug-files` commands: upload debug files (split with `objcopy --only-keep-debug`,
//! or unstripped binaries) to a project, into the database the command opens or, with
//! `--url` and `--token`, to a running collector over its API (from CI); list them.

use anyhow::{Context, bail};
use clap::Subcommand;

use crate::audit::Actor;
use crate::config::Config;
use crate::store::Store;

/// Debug file commands.
#[derive(Debug, Subcommand)]
pub enum DebugFilesCommand {
    /// Upload debug files to a project; prints each one's debug id and name.
    Upload {
        /// The project's name.
        #[arg(long)]
        project: String,
        /// A running collector to upload to, such as https://mayday.example.com
        /// (default: the database this command opens).
        #[arg(long, requires = "token")]
        url: Option<String>,
        /// An API token of a project admin, for `--url`.
        #[arg(long, env = "MAYDAY_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// The files.
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
    /// List a project's debug files.
    List {
        /// The project's name.
        #[arg(long)]
        project: String,
    },
}

/// Uploads over HTTP, before any database is opened: `Ok(true)` when `command` was
/// such an upload.
pub async fn run_remote(command: &DebugFilesCommand) -> anyhow::Result<bool> {
    let DebugFilesCommand::Upload {
        project,
        url: Some(url),
        token: Some(token),
        files,
    } = command
    else {
        return Ok(false);
    };
    let client = reqwest::Client::new();
    let base = url.trim_end_matches('/');
    let projects: serde_json::Value = client
        .get(format!("{base}/api/v1/projects"))
        .bearer_auth(token)
        .send()
        .await
        .with_context(|| format!("cannot reach {base}"))?
        .error_for_status()
        .context("the collector refused the token (a project admin's API token is needed)")?
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b).unwrap_or_default())?;
    let id = projects["projects"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == project.as_str())
        .and_then(|p| p["id"].as_i64())
        .with_context(|| format!("{base} has no project {project:?} this token can see"))?;
    for path in files {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let name = file_name(path);
        let answer = client
            .post(format!("{base}/api/v1/projects/{id}/debug-files"))
            .query(&[("name", name.as_str())])
            .bearer_auth(token)
            .body(bytes)
            .send()
            .await
            .with_context(|| format!("uploading {}", path.display()))?;
        let status = answer.status();
        let body: serde_json::Value = answer
            .bytes()
            .await
            .map(|b| serde_json::from_slice(&b).unwrap_or_default())
            .unwrap_or_default();
        if !status.is_success() {
            let detail = body["detail"].as_str().unwrap_or("no reason given");
            bail!("{}: HTTP {status}: {detail}", path.display());
        }
        println!(
            "{}\t{}",
            body["debug_id"].as_str().unwrap_or_default(),
            name
        );
    }
    Ok(true)
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "debug file".into())
}

/// Runs `command` against `store`.
pub(super) async fn run(
    config: &Config,
    store: &Store,
    command: DebugFilesCommand,
) -> anyhow::Result<()> {
    match command {
        DebugFilesCommand::Upload { project, files, .. } => {
            let project = store.project_by_name(&project).await?;
            for path in files {
                let bytes = std::fs::read(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                let name = file_name(&path);
                let file = crate::debug_files::upload(
                    store,
                    Actor::Cli,
                    project.id,
                    &name,
                    &bytes,
                    config.debug_files_max_bytes,
                )
                .await
                .with_context(|| format!("{} was not stored", path.display()))?;
                println!("{}\t{}", file.debug_id, file.name);
            }
        }
        DebugFilesCommand::List { project } => {
            let project = store.project_by_name(&project).await?;
            for file in store.debug_files(project.id).await? {
                println!(
                    "{}\t{}\t{}\t{}",
                    file.id, file.debug_id, file.size, file.name
                );
            }
        }
    }
    Ok(())
}
