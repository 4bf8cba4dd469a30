//! One uptime check: GET the URL, compare the status with the accepted range, look for
//! the keyword, note the TLS certificate's expiry.

use std::time::Duration;

use crate::monitors::HttpSpec;
use crate::monitors::runs::CheckResult;
use crate::outbound::Outbound;
use crate::store::now_ms;

/// The User-Agent of uptime checks.
pub const USER_AGENT: &str = concat!("Mayday-Uptime/", env!("CARGO_PKG_VERSION"));
/// Most of a page read to look for the keyword.
const MAX_BODY: usize = 1 << 20;

/// Checks `spec`'s URL now.
pub async fn check(outbound: &Outbound, spec: &HttpSpec) -> CheckResult {
    let started_at = now_ms();
    let timeout = Duration::from_secs(spec.timeout_seconds.max(1));
    let max_body = if spec.keyword.is_some() { MAX_BODY } else { 0 };
    match outbound.get(&spec.url, USER_AGENT, timeout, max_body).await {
        Ok(fetched) => {
            let error = if !spec.expect_status.accepts(fetched.status) {
                Some(format!("HTTP {}", fetched.status))
            } else {
                spec.keyword
                    .as_deref()
                    .filter(|keyword| !String::from_utf8_lossy(&fetched.body).contains(keyword))
                    .map(|keyword| format!("keyword {keyword:?} not found"))
            };
            CheckResult {
                started_at,
                duration_ms: i64::try_from(fetched.elapsed.as_millis()).unwrap_or(i64::MAX),
                http_status: Some(fetched.status),
                error,
                cert_expires_at: fetched.cert_expires_at,
                summary: None,
            }
        }
        Err(error) => CheckResult {
            started_at,
            duration_ms: now_ms() - started_at,
            http_status: None,
            error: Some(error.to_string()),
            cert_expires_at: None,
            summary: None,
        },
    }
}
