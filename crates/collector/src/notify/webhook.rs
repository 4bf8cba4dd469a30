//! Webhooks: the facts as JSON (with a `text` field chat tools display), signed with
//! HMAC-SHA256 over the body.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::Message;
use super::facts::Facts;
use crate::outbound::Outbound;

/// The header carrying `sha256=<hex HMAC of the body>`.
pub const SIGNATURE_HEADER: &str = "x-mayday-signature";

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
        "feedback": facts.said,
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

/// Posts `message` to `url` through `outbound` (its address policy, no redirects);
/// any 2xx is delivered (its status is returned). The error says what failed, neither
/// the remote's answer nor the URL (a chat webhook's URL is its password, and the error
/// is logged and shown to every member on the issue page).
pub async fn post(
    outbound: &Outbound,
    url: &str,
    secret: &str,
    message: &dyn Message,
) -> Result<u16, String> {
    let body = serde_json::to_vec(&message.payload()).map_err(|e| e.to_string())?;
    let signature = signature(secret, &body);
    outbound
        .post_json(url, &[(SIGNATURE_HEADER, signature)], body)
        .await
        .map_err(|error| error.to_string())
}
