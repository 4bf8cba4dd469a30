//! Webhooks: the facts as JSON (with a `text` field chat tools display), signed with
//! HMAC-SHA256 over the body.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::facts::Facts;

/// The header carrying `sha256=<hex HMAC of the body>`.
pub const SIGNATURE_HEADER: &str = "x-mayday-signature";

/// Accepts a webhook URL: `http://` or `https://` with a host; else says why not.
pub fn check_url(url: &str) -> Result<(), String> {
    match url::Url::parse(url) {
        Ok(parsed)
            if matches!(parsed.scheme(), "http" | "https") && parsed.host_str().is_some() =>
        {
            Ok(())
        }
        _ => Err(format!("{url:?} is not an http:// or https:// URL")),
    }
}

/// The JSON body posted for `facts`.
pub fn payload(facts: &Facts) -> serde_json::Value {
    serde_json::json!({
        "text": facts.text(),
        "kind": facts.kind,
        "project": facts.project,
        "environment": facts.environment,
        "issue": {
            "id": facts.issue_id,
            "title": facts.title,
            "culprit": facts.culprit,
            "event_count": facts.event_count,
            "user_count": facts.user_count,
        },
        "event": {
            "id": facts.event_id,
            "release": facts.release,
            "server_name": facts.server_name,
            "time": facts.time_utc,
            "frames": facts.frames,
        },
        "user": facts.user,
        "request": {"method": facts.method, "url": facts.url, "route": facts.route, "browser": facts.browser},
        "url": facts.link,
    })
}

/// `sha256=<hex>` of `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| {
        Hmac::<Sha256>::new_from_slice(b"").expect("an empty HMAC key is valid")
    });
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Posts `facts` to `url`; any 2xx is delivered.
pub async fn post(
    client: &reqwest::Client,
    url: &str,
    secret: &str,
    facts: &Facts,
) -> Result<(), String> {
    let body = serde_json::to_vec(&payload(facts)).map_err(|e| e.to_string())?;
    let response = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature(secret, &body))
        .body(body)
        .send()
        .await
        .map_err(|e| format!("POST {url}: {e}"))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("POST {url}: HTTP {}", response.status()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_like_the_rfc_4231_vector() {
        // RFC 4231 test case 2.
        let sig = signature("Jefe", b"what do ya want for nothing?");
        assert_eq!(
            sig,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
