//! Commands that talk to a running collector over its API (`--url`, `--token`), from CI.

use anyhow::Context;

/// The id of the project named `project` that `token` can see at `base`.
pub(super) async fn project_id(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    project: &str,
) -> anyhow::Result<i64> {
    let projects: serde_json::Value = client
        .get(format!("{base}/api/v1/projects"))
        .bearer_auth(token)
        .send()
        .await
        .with_context(|| format!("cannot reach {base}"))?
        .error_for_status()
        .context("the collector refused the token (an API token of a project member is needed: mayday-collector token create)")?
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b).unwrap_or_default())?;
    projects["projects"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == project)
        .and_then(|p| p["id"].as_i64())
        .with_context(|| format!("{base} has no project {project:?} this token can see"))
}

/// The JSON answer of `request`, or an error naming the collector's reason.
pub(super) async fn json(
    request: reqwest::RequestBuilder,
    what: &str,
) -> anyhow::Result<serde_json::Value> {
    let answer = request
        .send()
        .await
        .with_context(|| format!("{what}: the collector cannot be reached"))?;
    let status = answer.status();
    let body: serde_json::Value = answer
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b).unwrap_or_default())
        .unwrap_or_default();
    if !status.is_success() {
        anyhow::bail!(
            "{what}: HTTP {status}: {}",
            body["detail"].as_str().unwrap_or("no reason given")
        );
    }
    Ok(body)
}
