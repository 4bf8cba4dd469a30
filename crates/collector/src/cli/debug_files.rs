//! `debug-files` commands: upload debug files (split with `objcopy --only-keep-debug`,
//! or unstripped binaries) to a project, into the database the command opens or, with
//! `--url` and `--token`, to a running collector over its API (from CI), with
//! `--include-sources` also each file's source bundle; list them.

use anyhow::Context;
use clap::Subcommand;

use crate::audit::Actor;
use crate::config::Config;
use crate::debug_files;
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
        /// Also upload a source bundle of each file: the source files its line tables
        /// name, read from this machine (run it where the build ran), so the issue
        /// page shows the lines around each of the app's frames.
        #[arg(long)]
        include_sources: bool,
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
        include_sources,
        files,
    } = command
    else {
        return Ok(false);
    };
    let client = reqwest::Client::new();
    let base = url.trim_end_matches('/');
    let id = super::remote::project_id(&client, base, token, project).await?;
    for (path, name, bytes) in read_files(files, *include_sources)? {
        let body = super::remote::json(
            client
                .post(format!("{base}/api/v1/projects/{id}/debug-files"))
                .query(&[("name", name.as_str())])
                .bearer_auth(token)
                .body(bytes),
            &format!("uploading {}", path.display()),
        )
        .await?;
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

/// The files to upload (path, name, bytes): each of `files` and, with
/// `include_sources`, after each ELF file its source bundle (`NAME.src.zip`).
fn read_files(
    files: &[std::path::PathBuf],
    include_sources: bool,
) -> anyhow::Result<Vec<(std::path::PathBuf, String, Vec<u8>)>> {
    let mut out = Vec::new();
    for path in files {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let name = file_name(path);
        let bundle = if include_sources && !debug_files::source_bundle::is_bundle(&bytes) {
            let info = debug_files::inspect(&name, &bytes)?;
            let bundle = debug_files::bundle_sources(path, &info)?;
            if bundle.is_none() {
                eprintln!(
                    "{}: none of the source files its line tables name can be read here (run --include-sources where the build ran)",
                    path.display()
                );
            }
            bundle
        } else {
            None
        };
        out.push((path.clone(), name.clone(), bytes));
        if let Some(bundle) = bundle {
            out.push((path.clone(), format!("{name}.src.zip"), bundle));
        }
    }
    Ok(out)
}

/// Runs `command` against `store`.
pub(super) async fn run(
    config: &Config,
    store: &Store,
    command: DebugFilesCommand,
) -> anyhow::Result<()> {
    match command {
        DebugFilesCommand::Upload {
            project,
            files,
            include_sources,
            ..
        } => {
            let project = store.project_by_name(&project).await?;
            for (path, name, bytes) in read_files(&files, include_sources)? {
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
                    "{}\t{}\t{}\t{}\t{}",
                    file.id, file.debug_id, file.kind, file.size, file.name
                );
            }
        }
    }
    Ok(())
}
