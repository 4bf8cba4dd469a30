//! Releases: how each release of a project is doing (requests, failure and crash
//! rates, per route, new issues and regressions in it, its deploys) and the deploy
//! check CI waits on ([`check`]): did this release make things worse than the one
//! before?

pub mod check;

use serde::{Deserialize, Serialize};

use crate::store::entities::{MonitorStatus, deploy, project};
use crate::store::{Store, StoreError, Totals, now_ms};
use check::{MIN_REQUESTS, Rates, Verdict, worse};

/// How far back the releases page and the comparison look.
const LOOKBACK_MS: i64 = 90 * 86_400_000;
/// The longest release or environment name.
const MAX_NAME: usize = 200;

/// Why a deploy was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// A missing or overlong name.
    #[error("{0}")]
    Bad(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A route's (or a release's) figures.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    /// The release, or the route (`GET /checkout`; "" when the sender names none).
    pub name: String,
    pub requests: i64,
    pub errored: i64,
    pub crashed: i64,
    /// Failed (5xx and panics) over requests.
    pub failure_rate: f64,
    /// Panics over requests.
    pub crash_rate: f64,
    /// Requests that did not panic, over requests.
    pub crash_free_rate: f64,
    pub first_seen: Option<i64>,
    pub last_seen: Option<i64>,
}

impl From<&Totals> for Figures {
    fn from(t: &Totals) -> Figures {
        let requests = t.requests();
        let share = |n: i64| {
            if requests == 0 {
                0.0
            } else {
                n as f64 / requests as f64
            }
        };
        Figures {
            name: t.key.clone(),
            requests,
            errored: t.errored,
            crashed: t.crashed,
            failure_rate: share(t.errored + t.crashed),
            crash_rate: share(t.crashed),
            crash_free_rate: 1.0 - share(t.crashed),
            first_seen: (requests > 0).then_some(t.first),
            last_seen: (requests > 0).then_some(t.last),
        }
    }
}

impl Figures {
    fn rates(&self) -> Rates {
        Rates {
            requests: self.requests,
            failed: self.errored + self.crashed,
        }
    }
}

/// One release of the list.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseSummary {
    pub version: String,
    #[serde(flatten)]
    pub figures: Figures,
    /// Issues first seen in it.
    pub new_issues: usize,
    /// The latest deploy's time, if one was recorded.
    pub deployed_at: Option<i64>,
    /// The release before it (see [`detail`]) and its failure rate.
    pub previous: Option<String>,
    pub previous_failure_rate: Option<f64>,
}

/// The Releases page: the list, requests per hour of every release over the last
/// [`CHART_DAYS`] and the deploys in that time, to mark on the chart.
#[derive(Debug, Clone)]
pub struct Overview {
    pub releases: Vec<ReleaseSummary>,
    /// (hour start, requests, failed), oldest first.
    pub hours: Vec<(i64, i64, i64)>,
    pub deploys: Vec<DeployRef>,
    /// Where the chart starts (ms).
    pub chart_from: i64,
}

/// How many days the Releases page's chart shows.
pub const CHART_DAYS: i64 = 7;

/// `project`'s releases with the chart's figures (in `environment` when given).
pub async fn overview(
    store: &Store,
    project: &project::Model,
    environment: Option<&str>,
) -> Result<Overview, StoreError> {
    let hour = 3_600_000;
    let now = now_ms();
    let chart_from = now - now.rem_euclid(hour) - (CHART_DAYS * 24 - 1) * hour;
    let releases = list(store, project, environment).await?;
    let hours = store
        .health_hours(project.id, None, environment, chart_from)
        .await?;
    let deploys = store
        .deploys(project.id, None)
        .await?
        .into_iter()
        .filter(|d| d.deployed_at >= chart_from)
        .filter(|d| environment.is_none_or(|e| e == d.environment))
        .map(|d| DeployRef::from(&d))
        .collect();
    Ok(Overview {
        releases,
        hours,
        deploys,
        chart_from,
    })
}

/// A release in detail: its figures, the previous release's, per route (worst
/// first), its issues and deploys.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseDetail {
    pub version: String,
    pub environment: Option<String>,
    #[serde(flatten)]
    pub figures: Figures,
    pub previous: Option<Figures>,
    pub routes: Vec<Figures>,
    pub new_issues: Vec<IssueRef>,
    pub regressions: Vec<IssueRef>,
    pub deploys: Vec<DeployRef>,
    /// Requests and failures per hour, for the chart.
    pub hours: Vec<(i64, i64, i64)>,
}

/// An issue, named.
#[derive(Debug, Clone, Serialize)]
pub struct IssueRef {
    pub id: i64,
    pub title: String,
    pub link: String,
}

/// A deploy.
#[derive(Debug, Clone, Serialize)]
pub struct DeployRef {
    pub release: String,
    pub environment: String,
    pub deployed_at: i64,
}

impl From<&deploy::Model> for DeployRef {
    fn from(d: &deploy::Model) -> DeployRef {
        DeployRef {
            release: d.release.clone(),
            environment: d.environment.clone(),
            deployed_at: d.deployed_at,
        }
    }
}

fn figures_of(totals: &[Totals], name: &str) -> Option<Figures> {
    totals.iter().find(|t| t.key == name).map(Figures::from)
}

/// A project's releases, most recently seen first.
pub async fn list(
    store: &Store,
    project: &project::Model,
    environment: Option<&str>,
) -> Result<Vec<ReleaseSummary>, StoreError> {
    let totals = store
        .release_totals(project.id, environment, now_ms() - LOOKBACK_MS)
        .await?;
    let deploys = store.deploys(project.id, None).await?;
    let mut names: Vec<String> = totals.iter().map(|t| t.key.clone()).collect();
    for name in store.issue_releases(project.id).await? {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let new_issues = store.new_issue_counts(project.id).await?;
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let figures = figures_of(&totals, &name).unwrap_or_else(|| {
            Figures::from(&Totals {
                key: name.clone(),
                ..Totals::default()
            })
        });
        let previous = previous_of(&totals, &deploys, &name, environment);
        out.push(ReleaseSummary {
            previous_failure_rate: previous
                .as_deref()
                .and_then(|p| figures_of(&totals, p))
                .filter(|f| f.requests > 0)
                .map(|f| f.failure_rate),
            previous,
            new_issues: new_issues.get(&name).copied().unwrap_or(0),
            deployed_at: deploys
                .iter()
                .find(|d| d.release == name && environment.is_none_or(|e| e == d.environment))
                .map(|d| d.deployed_at),
            version: name,
            figures,
        });
    }
    Ok(out)
}

/// Where the window of `version` starts: its latest deploy (to `environment`), else
/// its first request, else now.
fn window_start(
    deploys: &[deploy::Model],
    environment: Option<&str>,
    figures: Option<&Figures>,
) -> i64 {
    deploys
        .iter()
        .find(|d| environment.is_none_or(|e| e == d.environment))
        .map(|d| d.deployed_at)
        .or_else(|| figures.and_then(|f| f.first_seen))
        .unwrap_or_else(now_ms)
}

/// The release before `version`: the one deployed (to `environment`, when given)
/// before `version`'s latest deploy, when both were deployed; else, of the others, the
/// one last seen most recently that was first seen before it.
fn previous_of(
    totals: &[Totals],
    deploys: &[deploy::Model],
    version: &str,
    environment: Option<&str>,
) -> Option<String> {
    // Newest first.
    let mut deploys = deploys
        .iter()
        .filter(|d| environment.is_none_or(|e| e == d.environment));
    if deploys.clone().any(|d| d.release == version) {
        let before = deploys
            .by_ref()
            .skip_while(|d| d.release != version)
            .find(|d| d.release != version);
        if let Some(before) = before {
            return Some(before.release.clone());
        }
    }
    let first = totals.iter().find(|t| t.key == version).map(|t| t.first);
    totals
        .iter()
        .filter(|t| t.key != version && first.is_none_or(|f| t.first < f))
        .max_by_key(|t| t.last)
        .map(|t| t.key.clone())
}

/// `version` of `project` in detail.
pub async fn detail(
    store: &Store,
    project: &project::Model,
    version: &str,
    environment: Option<&str>,
    base_url: &str,
) -> Result<ReleaseDetail, StoreError> {
    let since = now_ms() - LOOKBACK_MS;
    let totals = store.release_totals(project.id, environment, since).await?;
    let figures = figures_of(&totals, version).unwrap_or_else(|| {
        Figures::from(&Totals {
            key: version.to_owned(),
            ..Totals::default()
        })
    });
    let all_deploys = store.deploys(project.id, None).await?;
    let previous = previous_of(&totals, &all_deploys, version, environment)
        .and_then(|p| figures_of(&totals, &p));
    let mut routes: Vec<Figures> = store
        .route_totals(project.id, version, environment, since)
        .await?
        .iter()
        .map(Figures::from)
        .collect();
    worst_first(&mut routes);
    let deploys: Vec<deploy::Model> = all_deploys
        .into_iter()
        .filter(|d| d.release == version)
        .collect();
    let start = window_start(&deploys, environment, Some(&figures));
    let issue_ref = |i: &crate::store::entities::issue::Model| IssueRef {
        id: i.id,
        title: i.title.clone(),
        link: format!("{base_url}/projects/{}/issues/{}", project.id, i.id),
    };
    Ok(ReleaseDetail {
        version: version.to_owned(),
        environment: environment.map(str::to_owned),
        new_issues: store
            .issues_first_seen_in(project.id, version)
            .await?
            .iter()
            .map(issue_ref)
            .collect(),
        regressions: store
            .issues_regressed_in(project.id, version, start)
            .await?
            .iter()
            .map(issue_ref)
            .collect(),
        deploys: deploys.iter().map(DeployRef::from).collect(),
        hours: store
            .health_hours(project.id, Some(version), environment, since)
            .await?,
        figures,
        previous,
        routes,
    })
}

/// Routes worst first: failure rate among those with enough requests, then by count.
fn worst_first(routes: &mut [Figures]) {
    routes.sort_by(|a, b| {
        let enough = |f: &Figures| f.requests >= MIN_REQUESTS;
        enough(b)
            .cmp(&enough(a))
            .then(b.failure_rate.total_cmp(&a.failure_rate))
            .then(b.requests.cmp(&a.requests))
    });
}

/// Records that `version` went out to `environment` now.
pub async fn record_deploy(
    store: &Store,
    project_id: i64,
    version: &str,
    environment: &str,
) -> Result<deploy::Model, DeployError> {
    let bad = |what: &str| DeployError::Bad(format!("{what}: 1 to {MAX_NAME} characters"));
    let version = version.trim();
    let environment = environment.trim();
    if version.is_empty() || version.chars().count() > MAX_NAME {
        return Err(bad("the release"));
    }
    if environment.is_empty() || environment.chars().count() > MAX_NAME {
        return Err(bad("environment (such as \"production\")"));
    }
    Ok(store
        .record_deploy(project_id, version, environment, now_ms())
        .await?)
}

/// What a reason of a verdict is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonKind {
    /// An issue first seen in the release.
    NewIssue,
    /// An issue resolved before the deploy, back in the release.
    Regression,
    /// The release's failure rate against the previous one's.
    FailureRate,
    /// A route's failure rate against its rate in the previous release.
    RouteFailureRate,
    /// An uptime or sitemap monitor down since the deploy.
    MonitorDown,
    /// Said, not failing (such as: nothing to compare with).
    Note,
}

/// One reason of a verdict, with where to look.
#[derive(Debug, Clone, Serialize)]
pub struct Reason {
    pub kind: ReasonKind,
    pub text: String,
    pub link: String,
}

/// The deploy check's answer.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub verdict: Verdict,
    pub release: String,
    pub previous: Option<String>,
    pub environment: Option<String>,
    /// The window's start (ms): the deploy, else the release's first request.
    pub since: i64,
    pub current: Rates,
    pub previous_rates: Option<Rates>,
    pub reasons: Vec<Reason>,
    /// The rule, in words.
    pub rule: String,
}

/// `2.50%`.
pub fn percent(rate: f64) -> String {
    format!("{:.2}%", rate * 100.0)
}

/// Did `version` make things worse than `previous` (else the release before it)?
pub async fn check(
    store: &Store,
    project: &project::Model,
    version: &str,
    previous: Option<&str>,
    environment: Option<&str>,
    base_url: &str,
) -> Result<Check, StoreError> {
    let releases = format!("{base_url}/projects/{}/releases", project.id);
    let all_deploys = store.deploys(project.id, None).await?;
    let deploys: Vec<deploy::Model> = all_deploys
        .iter()
        .filter(|d| d.release == version)
        .cloned()
        .collect();
    let all = store
        .release_totals(project.id, environment, now_ms() - LOOKBACK_MS)
        .await?;
    let current_all = figures_of(&all, version);
    let since = window_start(&deploys, environment, current_all.as_ref());
    let window = store.release_totals(project.id, environment, since).await?;
    let current = figures_of(&window, version).map_or_else(Rates::default, |f| f.rates());
    let previous = previous
        .map(str::to_owned)
        .or_else(|| previous_of(&all, &all_deploys, version, environment));
    let previous_rates = previous
        .as_deref()
        .and_then(|p| figures_of(&all, p))
        .map(|f| f.rates());
    let mut reasons = Vec::new();
    let issue_link = |id: i64| format!("{base_url}/projects/{}/issues/{id}", project.id);
    for issue in store.issues_first_seen_in(project.id, version).await? {
        reasons.push(Reason {
            kind: ReasonKind::NewIssue,
            text: format!("new issue first seen in {version}: {}", issue.title),
            link: issue_link(issue.id),
        });
    }
    for issue in store
        .issues_regressed_in(project.id, version, since)
        .await?
    {
        reasons.push(Reason {
            kind: ReasonKind::Regression,
            text: format!("resolved issue came back in {version}: {}", issue.title),
            link: issue_link(issue.id),
        });
    }
    if let Some(before) = previous_rates {
        if worse(current, before) {
            reasons.push(Reason {
                kind: ReasonKind::FailureRate,
                text: format!(
                    "{} of {} requests failed since the deploy, against {} in {}",
                    percent(current.rate()),
                    current.requests,
                    percent(before.rate()),
                    previous.as_deref().unwrap_or_default()
                ),
                link: format!("{releases}/{}", crate::encode::path_segment(version)),
            });
        }
        let previous_routes = match &previous {
            Some(p) => store.route_totals(project.id, p, environment, 0).await?,
            None => Vec::new(),
        };
        for route in store
            .route_totals(project.id, version, environment, since)
            .await?
            .iter()
            .map(Figures::from)
            .filter(|r| !r.name.is_empty())
        {
            let against = previous_routes
                .iter()
                .find(|r| r.key == route.name)
                .map(Figures::from)
                .map(|f| f.rates())
                .filter(|r| r.enough())
                .unwrap_or(before);
            if worse(route.rates(), against) {
                reasons.push(Reason {
                    kind: ReasonKind::RouteFailureRate,
                    text: format!(
                        "{} fails {} of {} requests, against {} before",
                        route.name,
                        percent(route.failure_rate),
                        route.requests,
                        percent(against.rate())
                    ),
                    link: format!("{releases}/{}", crate::encode::path_segment(version)),
                });
            }
        }
    }
    for monitor in store.monitors(project.id).await? {
        let failing = matches!(
            monitor.status,
            MonitorStatus::Down
                | MonitorStatus::Error
                | MonitorStatus::Missed
                | MonitorStatus::Timeout
        );
        if failing && !monitor.paused && monitor.state_since >= since {
            reasons.push(Reason {
                kind: ReasonKind::MonitorDown,
                text: format!(
                    "monitor {} is {} since the deploy",
                    monitor.name, monitor.status
                ),
                link: format!("{base_url}/projects/{}/monitors/{}", project.id, monitor.id),
            });
        }
    }
    let verdict = if !reasons.is_empty() {
        Verdict::Fail
    } else if !current.enough() {
        Verdict::NotEnoughData
    } else {
        Verdict::Pass
    };
    if previous_rates.is_none_or(|r| !r.enough()) && verdict != Verdict::Fail {
        reasons.push(Reason {
            kind: ReasonKind::Note,
            text: format!(
                "no earlier release with {MIN_REQUESTS} requests to compare failure rates with"
            ),
            link: releases.clone(),
        });
    }
    Ok(Check {
        verdict,
        release: version.to_owned(),
        previous,
        environment: environment.map(str::to_owned),
        since,
        current,
        previous_rates,
        reasons,
        rule: format!(
            "fails on an issue first seen in the release, a resolved issue back in it, a monitor down since the deploy, or a failure rate (overall or per route) with at least {MIN_REQUESTS} requests on both sides, above twice the previous release's and more than 1 percentage point above it; not enough data under {MIN_REQUESTS} requests"
        ),
    })
}
