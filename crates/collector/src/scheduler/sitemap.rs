//! One sitemap run: read the sitemap (a sitemap index's sitemaps too, gzipped or not),
//! request every page with bounded concurrency and count, and record each failing page
//! as an event of the project, grouped by route and status (`HTTP 500 on GET
//! /checkout`), so it shows up, notifies and resolves like any issue.

use std::io::Read;
use std::time::Duration;

use futures_util::StreamExt;
use mayday_protocol::{Event, EventId};
use serde::Serialize;

use crate::monitors::SitemapSpec;
use crate::monitors::runs::CheckResult;
use crate::outbound::Outbound;
use crate::state::AppState;
use crate::store::entities::monitor;
use crate::store::now_ms;

/// The User-Agent of sitemap runs.
pub const USER_AGENT: &str = concat!("Mayday-Smoke/", env!("CARGO_PKG_VERSION"));
/// Largest sitemap read (uncompressed), as the sitemap protocol allows.
const MAX_SITEMAP_BYTES: usize = 50 << 20;
/// Most sitemaps of an index read.
const MAX_SITEMAPS: usize = 50;
/// How long a sitemap or a page may take.
const TIMEOUT: Duration = Duration::from_secs(30);
/// Failing pages listed in a run's summary.
const LISTED_FAILURES: usize = 20;

/// A run's summary, kept with its result.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Summary {
    /// Pages requested.
    pub checked: usize,
    /// Pages that failed.
    pub failed: usize,
    /// The slowest page and its time.
    pub slowest: Option<(String, u64)>,
    /// The first failing pages: URL and what failed.
    pub failures: Vec<(String, String)>,
}

/// Runs `spec` for `monitor` now.
pub async fn run(
    state: &AppState,
    outbound: &Outbound,
    monitor: &monitor::Model,
    spec: &SitemapSpec,
) -> CheckResult {
    let started_at = now_ms();
    let max_urls = usize::try_from(spec.max_urls).unwrap_or(usize::MAX);
    let urls = match page_urls(outbound, &spec.url, max_urls).await {
        Ok(urls) => urls,
        Err(failure) => {
            record_failure(state, monitor, spec, &spec.url, &failure, None).await;
            return CheckResult {
                started_at,
                duration_ms: now_ms() - started_at,
                http_status: failure.status,
                error: Some(format!("the sitemap could not be read: {}", failure.what)),
                cert_expires_at: None,
                summary: None,
            };
        }
    };
    let concurrency = usize::try_from(spec.concurrency).unwrap_or(1).max(1);
    let results: Vec<(String, Result<u64, Failure>)> = futures_util::stream::iter(urls)
        .map(|url| async move {
            let result = match outbound.get(&url, USER_AGENT, TIMEOUT, 0).await {
                Ok(fetched) if (200..400).contains(&fetched.status) => {
                    Ok(u64::try_from(fetched.elapsed.as_millis()).unwrap_or(u64::MAX))
                }
                Ok(fetched) => Err(Failure {
                    status: Some(fetched.status),
                    what: format!("HTTP {}", fetched.status),
                    elapsed_ms: Some(u64::try_from(fetched.elapsed.as_millis()).unwrap_or(0)),
                }),
                Err(error) => Err(Failure {
                    status: None,
                    what: error.to_string(),
                    elapsed_ms: None,
                }),
            };
            (url, result)
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let mut summary = Summary {
        checked: results.len(),
        ..Summary::default()
    };
    for (url, result) in &results {
        match result {
            Ok(ms) => {
                if summary
                    .slowest
                    .as_ref()
                    .is_none_or(|(_, slowest)| ms > slowest)
                {
                    summary.slowest = Some((url.clone(), *ms));
                }
            }
            Err(failure) => {
                summary.failed += 1;
                if summary.failures.len() < LISTED_FAILURES {
                    summary.failures.push((url.clone(), failure.what.clone()));
                }
                record_failure(state, monitor, spec, url, failure, failure.elapsed_ms).await;
            }
        }
    }
    CheckResult {
        started_at,
        duration_ms: now_ms() - started_at,
        http_status: None,
        error: (summary.failed > 0)
            .then(|| format!("{} of {} pages failed", summary.failed, summary.checked)),
        cert_expires_at: None,
        summary: serde_json::to_string(&summary).ok(),
    }
}

/// Why a page (or the sitemap) failed.
#[derive(Debug, Clone)]
struct Failure {
    status: Option<u16>,
    what: String,
    elapsed_ms: Option<u64>,
}

/// The pages a sitemap lists (following a sitemap index one level), at most `max`.
async fn page_urls(outbound: &Outbound, url: &str, max: usize) -> Result<Vec<String>, Failure> {
    let document = fetch_xml(outbound, url).await?;
    let (is_index, found) = locations(&document).map_err(|what| Failure {
        status: None,
        what,
        elapsed_ms: None,
    })?;
    if !is_index {
        let mut urls = found;
        urls.truncate(max);
        return Ok(urls);
    }
    let mut urls = Vec::new();
    for sitemap in found.into_iter().take(MAX_SITEMAPS) {
        if urls.len() >= max {
            break;
        }
        // One unreadable sitemap of an index does not hide the others' pages.
        let Ok(document) = fetch_xml(outbound, &sitemap).await else {
            continue;
        };
        if let Ok((false, pages)) = locations(&document) {
            urls.extend(pages);
        }
    }
    urls.truncate(max);
    Ok(urls)
}

async fn fetch_xml(outbound: &Outbound, url: &str) -> Result<String, Failure> {
    let fetched = outbound
        .get(url, USER_AGENT, TIMEOUT, MAX_SITEMAP_BYTES)
        .await
        .map_err(|error| Failure {
            status: None,
            what: error.to_string(),
            elapsed_ms: None,
        })?;
    if !(200..300).contains(&fetched.status) {
        return Err(Failure {
            status: Some(fetched.status),
            what: format!("HTTP {}", fetched.status),
            elapsed_ms: None,
        });
    }
    let bytes = if fetched.body.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(fetched.body.as_slice())
            .take(MAX_SITEMAP_BYTES as u64)
            .read_to_end(&mut out)
            .map_err(|_| Failure {
                status: None,
                what: "the gzipped sitemap does not decompress".into(),
                elapsed_ms: None,
            })?;
        out
    } else {
        fetched.body
    };
    String::from_utf8(bytes).map_err(|_| Failure {
        status: None,
        what: "the sitemap is not UTF-8".into(),
        elapsed_ms: None,
    })
}

/// Whether `xml` is a sitemap index, and the `<loc>` of each entry (http(s) only).
pub fn locations(xml: &str) -> Result<(bool, Vec<String>), String> {
    let document = roxmltree::Document::parse(xml).map_err(|e| format!("not a sitemap: {e}"))?;
    let root = document.root_element();
    let (is_index, entry) = match root.tag_name().name() {
        "sitemapindex" => (true, "sitemap"),
        "urlset" => (false, "url"),
        other => return Err(format!("not a sitemap: the root element is <{other}>")),
    };
    let mut seen = std::collections::HashSet::new();
    let urls = root
        .children()
        .filter(|node| node.has_tag_name(entry))
        .filter_map(|node| node.children().find(|child| child.has_tag_name("loc")))
        .filter_map(|loc| loc.text())
        .map(|text| text.trim().to_owned())
        .filter(|url| url.starts_with("http://") || url.starts_with("https://"))
        .filter(|url| seen.insert(url.clone()))
        .collect();
    Ok((is_index, urls))
}

/// `/products/42/reviews` → `/products/:id/reviews`: pages that differ by an id group
/// together.
pub fn route(url: &str) -> String {
    let path = url::Url::parse(url)
        .map(|u| u.path().to_owned())
        .unwrap_or_else(|_| url.to_owned());
    path.split('/')
        .map(|segment| {
            let digits = !segment.is_empty() && segment.chars().all(|c| c.is_ascii_digit());
            let uuid =
                segment.len() >= 32 && segment.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
            if digits || uuid { ":id" } else { segment }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Records a failing page as an event of the monitor's project.
async fn record_failure(
    state: &AppState,
    monitor: &monitor::Model,
    spec: &SitemapSpec,
    url: &str,
    failure: &Failure,
    elapsed_ms: Option<u64>,
) {
    let route = route(url);
    let status = failure
        .status
        .map_or_else(|| "no answer".to_owned(), |s| s.to_string());
    let title = match failure.status {
        Some(code) => format!("HTTP {code} on GET {route}"),
        None => format!("{} on GET {route}", failure.what),
    };
    let event = serde_json::json!({
        "event_id": EventId::new().to_string(),
        "level": "error",
        "platform": "other",
        "logger": "mayday.sitemap",
        "message": title,
        "transaction": format!("GET {route}"),
        "fingerprint": ["mayday-sitemap", route, status],
        "request": {"method": "GET", "url": url},
        "tags": {"monitor": monitor.slug, "http.status": status},
        "extra": {
            "sitemap": spec.url,
            "error": failure.what,
            "response_ms": elapsed_ms,
        },
    });
    let event: Event = match serde_json::from_value(event) {
        Ok(event) => event,
        Err(error) => {
            tracing::warn!(%error, "building a sitemap event failed");
            return;
        }
    };
    let project = match state.store.project(monitor.project_id).await {
        Ok(Some(project)) => project,
        Ok(None) => return,
        Err(error) => {
            tracing::warn!(%error, "loading a monitor's project failed");
            return;
        }
    };
    if let Err(error) = crate::pipeline::sample::record_internal(state, &project, event).await {
        tracing::warn!(detail = %error.detail, "recording a failing page failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sitemaps_and_indexes() {
        let urlset = r#"<?xml version="1.0" encoding="UTF-8"?>
            <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
              <url><loc> https://shop.example/ </loc><lastmod>2026-01-01</lastmod></url>
              <url><loc>https://shop.example/checkout</loc></url>
              <url><loc>https://shop.example/checkout</loc></url>
              <url><loc>javascript:alert(1)</loc></url>
            </urlset>"#;
        assert_eq!(
            locations(urlset).unwrap(),
            (
                false,
                vec![
                    "https://shop.example/".to_owned(),
                    "https://shop.example/checkout".to_owned()
                ]
            )
        );
        let index = r#"<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
              <sitemap><loc>https://shop.example/sitemap-1.xml</loc></sitemap></sitemapindex>"#;
        assert_eq!(
            locations(index).unwrap(),
            (true, vec!["https://shop.example/sitemap-1.xml".to_owned()])
        );
        assert!(locations("<html></html>").is_err());
        assert!(locations("not xml").is_err());
    }

    #[test]
    fn routes_group_ids() {
        assert_eq!(
            route("https://shop.example/products/42/reviews"),
            "/products/:id/reviews"
        );
        assert_eq!(route("https://shop.example/checkout?x=1"), "/checkout");
        assert_eq!(
            route("https://shop.example/o/123e4567-e89b-12d3-a456-426614174000"),
            "/o/:id"
        );
        assert_eq!(route("https://shop.example/"), "/");
    }
}
