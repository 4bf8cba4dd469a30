//! `monitor` commands: uptime checks and sitemap smoke tests created, listed, paused,
//! resumed and removed from the command line, through the same domain functions as the
//! UI and the API.

use anyhow::Context;
use clap::Subcommand;

use crate::audit::Actor;
use crate::config::Config;
use crate::monitors::{self, HttpSpec, MonitorSettings, MonitorSpec, SitemapSpec, StatusRange};
use crate::store::Store;

/// Monitor commands.
#[derive(Debug, Subcommand)]
pub enum MonitorCommand {
    /// Check a URL on a schedule: down after FAILURES failed checks in a row, recovered
    /// on the first success after that; prints the monitor's id and slug.
    Http {
        /// The project's name.
        project: String,
        /// The monitor's name (its slug is made from it).
        name: String,
        /// The URL to GET.
        url: String,
        /// Seconds between checks.
        #[arg(long, default_value_t = 60)]
        interval_seconds: u64,
        /// Seconds before a check gives up.
        #[arg(long, default_value_t = 10)]
        timeout_seconds: u64,
        /// Failed checks in a row before the site counts as down.
        #[arg(long, default_value_t = 2)]
        failures: u64,
        /// Statuses that count as up, such as `200-399` or `204`.
        #[arg(long, default_value = "200-399")]
        expect_status: StatusRange,
        /// Text the page must contain.
        #[arg(long)]
        keyword: Option<String>,
    },
    /// Request every page of a sitemap on a schedule; each failing page becomes an issue
    /// of the project; prints the monitor's id and slug.
    Sitemap {
        /// The project's name.
        project: String,
        /// The monitor's name.
        name: String,
        /// The sitemap (or sitemap index) URL.
        sitemap_url: String,
        /// Minutes between runs.
        #[arg(long, default_value_t = 60)]
        interval_minutes: u64,
        /// Most pages requested per run.
        #[arg(long, default_value_t = 500)]
        max_urls: u64,
        /// Requests under way at once.
        #[arg(long, default_value_t = 4)]
        concurrency: u64,
    },
    /// List a project's monitors: id, slug, kind, status, paused.
    List {
        /// The project's name.
        project: String,
    },
    /// Stop checking a monitor until it is resumed.
    Pause {
        /// The project's name.
        project: String,
        /// The monitor's slug.
        slug: String,
    },
    /// Check a paused monitor again.
    Resume {
        /// The project's name.
        project: String,
        /// The monitor's slug.
        slug: String,
    },
    /// Remove a monitor and its results.
    Remove {
        /// The project's name.
        project: String,
        /// The monitor's slug.
        slug: String,
    },
}

/// Runs a `monitor` command.
pub(super) async fn run(
    config: &Config,
    store: &Store,
    command: MonitorCommand,
) -> anyhow::Result<()> {
    let rules = crate::monitors::MonitorRules::of(config);
    let created = match command {
        MonitorCommand::Http {
            project,
            name,
            url,
            interval_seconds,
            timeout_seconds,
            failures,
            expect_status,
            keyword,
        } => {
            let project = store.project_by_name(&project).await?;
            let spec = MonitorSpec::Http(HttpSpec {
                url,
                interval_seconds,
                timeout_seconds,
                failures,
                expect_status,
                keyword: keyword.filter(|k| !k.is_empty()),
            });
            monitors::create(
                store,
                Actor::Cli,
                rules,
                project.id,
                MonitorSettings { name, spec },
            )
            .await?
        }
        MonitorCommand::Sitemap {
            project,
            name,
            sitemap_url,
            interval_minutes,
            max_urls,
            concurrency,
        } => {
            let project = store.project_by_name(&project).await?;
            let spec = MonitorSpec::Sitemap(SitemapSpec {
                url: sitemap_url,
                interval_minutes,
                max_urls,
                concurrency,
            });
            monitors::create(
                store,
                Actor::Cli,
                rules,
                project.id,
                MonitorSettings { name, spec },
            )
            .await?
        }
        MonitorCommand::List { project } => {
            let project = store.project_by_name(&project).await?;
            for monitor in store.monitors(project.id).await? {
                println!(
                    "{}\t{}\t{}\t{}{}",
                    monitor.id,
                    monitor.slug,
                    monitor.kind,
                    monitor.status,
                    if monitor.paused { "\tpaused" } else { "" }
                );
            }
            return Ok(());
        }
        MonitorCommand::Pause { project, slug } => {
            let project = store.project_by_name(&project).await?;
            let monitor = find_monitor(store, project.id, &slug).await?;
            monitors::set_paused(store, Actor::Cli, monitor.id, true).await?;
            return Ok(());
        }
        MonitorCommand::Resume { project, slug } => {
            let project = store.project_by_name(&project).await?;
            let monitor = find_monitor(store, project.id, &slug).await?;
            monitors::set_paused(store, Actor::Cli, monitor.id, false).await?;
            return Ok(());
        }
        MonitorCommand::Remove { project, slug } => {
            let project = store.project_by_name(&project).await?;
            let monitor = find_monitor(store, project.id, &slug).await?;
            monitors::remove(store, Actor::Cli, &monitor).await?;
            return Ok(());
        }
    };
    println!("{}\t{}", created.id, created.slug);
    Ok(())
}

async fn find_monitor(
    store: &Store,
    project_id: i64,
    slug: &str,
) -> anyhow::Result<crate::store::entities::monitor::Model> {
    store
        .monitor_by_slug(project_id, slug)
        .await?
        .with_context(|| format!("no monitor {slug} in this project"))
}
