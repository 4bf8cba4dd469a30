//! Requests the collector makes to addresses its users give it (webhooks, uptime checks,
//! sitemap runs), so that a project admin cannot make the collector reach what only the
//! collector's own network can reach.
//!
//! A target's host is resolved and refused when any address is loopback, private,
//! shared (CGNAT), link-local (which holds the cloud metadata address 169.254.169.254),
//! unique-local, multicast, unspecified or broadcast, unless the instance allows
//! private targets (`MAYDAY_ALLOW_PRIVATE_TARGETS=1`). The check runs when the target
//! is saved and again at every connection, in the client's own resolver, so that a name
//! that changes its address after the check cannot get past it. Redirects are not
//! followed; errors say what failed, never what the remote answered.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// Whether private targets are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetPolicy {
    /// Only public addresses (the default).
    PublicOnly,
    /// Any address: for a collector whose webhooks live on its own network.
    AllowPrivate,
}

/// Why a target is refused or a request failed; shown to admins as `last_error`.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    /// Not an http(s) URL with a host.
    #[error("{0:?} is not an http:// or https:// URL")]
    BadUrl(String),
    /// The host resolves to an address the policy refuses.
    #[error("{host} is a {kind} address; set MAYDAY_ALLOW_PRIVATE_TARGETS=1 to allow it")]
    Private {
        /// The host as written.
        host: String,
        /// Which kind of address.
        kind: &'static str,
    },
    /// The host does not resolve.
    #[error("{0} does not resolve")]
    Unresolved(String),
    /// No answer in time.
    #[error("timed out")]
    Timeout,
    /// The connection could not be made.
    #[error("could not connect")]
    Connect,
    /// Answered with a status other than 2xx (redirects included: not followed).
    #[error("HTTP {0}")]
    Status(u16),
    /// Anything else on the way.
    #[error("request failed")]
    Other,
}

/// What kind of non-public address `ip` is, if it is one. IPv6 forms that carry an
/// IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64
/// `64:ff9b::/96` and `64:ff9b:1::/48`, 6to4 `2002::/16`) are judged by that address:
/// `64:ff9b::a9fe:a9fe` is the metadata address 169.254.169.254.
pub fn private_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => private_kind_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_ipv4(v6) {
                return private_kind_v4(v4);
            }
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if v6.is_multicast() {
                Some("multicast")
            } else if first & 0xfe00 == 0xfc00 {
                Some("unique-local")
            } else if first & 0xffc0 == 0xfe80 {
                Some("link-local")
            } else {
                None
            }
        }
    }
}

/// The IPv4 address an IPv6 address carries, for the forms that carry one.
fn embedded_ipv4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let low = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    match s {
        // IPv4-compatible (deprecated): ::a.b.c.d, but not :: and ::1.
        [0, 0, 0, 0, 0, 0, hi, lo] if hi != 0 => Some(low(hi, lo)),
        // NAT64, well-known prefix (RFC 6052): 64:ff9b::a.b.c.d.
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(low(hi, lo)),
        // NAT64, local-use prefix (RFC 8215): 64:ff9b:1::/48, the address in the last
        // 32 bits as a /96 within it carries it.
        [0x64, 0xff9b, 1, _, _, _, hi, lo] => Some(low(hi, lo)),
        // 6to4 (RFC 3056): 2002:AABB:CCDD::/48 carries AA.BB.CC.DD.
        [0x2002, hi, lo, ..] => Some(low(hi, lo)),
        _ => None,
    }
}

fn private_kind_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if a == 100 && (64..128).contains(&b) {
        Some("shared (CGNAT)")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if ip.is_unspecified() || a == 0 {
        Some("unspecified")
    } else if ip.is_broadcast() {
        Some("broadcast")
    } else {
        None
    }
}

/// Checks `url` now: a well-formed http(s) URL whose host resolves, and only to
/// addresses the policy allows.
pub async fn check_target(url: &str, policy: TargetPolicy) -> Result<url::Url, OutboundError> {
    let parsed = url::Url::parse(url).map_err(|_| OutboundError::BadUrl(url.to_owned()))?;
    let host = match parsed.host() {
        Some(host) if matches!(parsed.scheme(), "http" | "https") => host.to_owned(),
        _ => return Err(OutboundError::BadUrl(url.to_owned())),
    };
    if policy == TargetPolicy::AllowPrivate {
        return Ok(parsed);
    }
    let port = parsed.port_or_known_default().unwrap_or(80);
    let addresses: Vec<SocketAddr> = match host {
        url::Host::Ipv4(ip) => vec![SocketAddr::new(ip.into(), port)],
        url::Host::Ipv6(ip) => vec![SocketAddr::new(ip.into(), port)],
        url::Host::Domain(name) => tokio::net::lookup_host((name.as_str(), port))
            .await
            .map_err(|_| OutboundError::Unresolved(name.clone()))?
            .collect(),
    };
    let host = parsed.host_str().unwrap_or_default().to_owned();
    if addresses.is_empty() {
        return Err(OutboundError::Unresolved(host));
    }
    for address in addresses {
        if let Some(kind) = private_kind(address.ip()) {
            return Err(OutboundError::Private { host, kind });
        }
    }
    Ok(parsed)
}

/// A resolver that never hands the client an address the policy refuses.
struct PublicResolver;

impl reqwest::dns::Resolve for PublicResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if let Some(kind) = found.iter().find_map(|a| private_kind(a.ip())) {
                return Err(Box::new(OutboundError::Private { host, kind })
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            let addrs: reqwest::dns::Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

/// Sends requests to user-given targets under one policy.
#[derive(Debug, Clone)]
pub struct Outbound {
    client: reqwest::Client,
    policy: TargetPolicy,
}

impl Outbound {
    /// A client that follows no redirects and gives up after `timeout`.
    pub fn new(policy: TargetPolicy, timeout: Duration) -> Outbound {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("mayday-collector/", env!("CARGO_PKG_VERSION")))
            .tls_info(true);
        if policy == TargetPolicy::PublicOnly {
            builder = builder.dns_resolver(Arc::new(PublicResolver));
        }
        Outbound {
            client: builder.build().unwrap_or_default(),
            policy,
        }
    }

    /// The policy this client enforces.
    pub fn policy(&self) -> TargetPolicy {
        self.policy
    }

    /// POSTs `body` (JSON) to `url` with `headers`; any 2xx is success.
    pub async fn post_json(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        body: Vec<u8>,
    ) -> Result<u16, OutboundError> {
        let parsed = self.allowed(url)?;
        let mut request = self
            .client
            .post(parsed)
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.body(body).send().await.map_err(classify)?;
        let status = response.status();
        if status.is_success() {
            Ok(status.as_u16())
        } else {
            Err(OutboundError::Status(status.as_u16()))
        }
    }

    /// `url` parsed, refused when it is not http(s) or is a literal address the policy
    /// refuses (the resolver sees names only).
    fn allowed(&self, url: &str) -> Result<url::Url, OutboundError> {
        let parsed = url::Url::parse(url).map_err(|_| OutboundError::BadUrl(url.to_owned()))?;
        if !matches!(parsed.scheme(), "http" | "https") || !parsed.has_host() {
            return Err(OutboundError::BadUrl(url.to_owned()));
        }
        if self.policy == TargetPolicy::PublicOnly {
            let literal = match parsed.host() {
                Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
                Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
                _ => None,
            };
            if let Some(kind) = literal.and_then(private_kind) {
                return Err(OutboundError::Private {
                    host: parsed.host_str().unwrap_or_default().to_owned(),
                    kind,
                });
            }
        }
        Ok(parsed)
    }

    /// GETs `url` as `user_agent` within `timeout`, keeping at most `max_body` bytes of
    /// the answer. Any status is an answer (the caller decides what counts as up);
    /// redirects are not followed.
    pub async fn get(
        &self,
        url: &str,
        user_agent: &str,
        timeout: Duration,
        max_body: usize,
    ) -> Result<Fetched, OutboundError> {
        let parsed = self.allowed(url)?;
        let started = std::time::Instant::now();
        let mut response = self
            .client
            .get(parsed)
            .header(reqwest::header::USER_AGENT, user_agent)
            .timeout(timeout)
            .send()
            .await
            .map_err(classify)?;
        let status = response.status().as_u16();
        let cert_expires_at = response
            .extensions()
            .get::<reqwest::tls::TlsInfo>()
            .and_then(|info| info.peer_certificate())
            .and_then(certificate_expiry);
        let mut body = Vec::new();
        while body.len() < max_body {
            match tokio::time::timeout(timeout.saturating_sub(started.elapsed()), response.chunk())
                .await
            {
                Ok(Ok(Some(chunk))) => {
                    let room = max_body - body.len();
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
                Ok(Ok(None)) => break,
                Ok(Err(error)) => return Err(classify(error)),
                Err(_) => return Err(OutboundError::Timeout),
            }
        }
        Ok(Fetched {
            status,
            body,
            elapsed: started.elapsed(),
            cert_expires_at,
        })
    }
}

/// An answer to [`Outbound::get`].
#[derive(Debug, Clone)]
pub struct Fetched {
    /// Its status.
    pub status: u16,
    /// Its body, up to the size asked for.
    pub body: Vec<u8>,
    /// From sending the request to the end of the body read.
    pub elapsed: Duration,
    /// When the server's TLS certificate expires (Unix ms), for https.
    pub cert_expires_at: Option<i64>,
}

/// When the DER certificate `der` stops being valid (Unix ms).
pub fn certificate_expiry(der: &[u8]) -> Option<i64> {
    use x509_cert::der::Decode;
    let certificate = x509_cert::Certificate::from_der(der).ok()?;
    let not_after = certificate
        .tbs_certificate()
        .validity()
        .not_after
        .to_unix_duration();
    i64::try_from(not_after.as_millis()).ok()
}

/// What went wrong, without the remote's words.
fn classify(error: reqwest::Error) -> OutboundError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(cause) = source {
        if let Some(OutboundError::Private { host, kind }) = cause.downcast_ref::<OutboundError>() {
            return OutboundError::Private {
                host: host.clone(),
                kind,
            };
        }
        source = cause.source();
    }
    if error.is_timeout() {
        OutboundError::Timeout
    } else if error.is_connect() {
        OutboundError::Connect
    } else {
        OutboundError::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_public_addresses_are_named() {
        for (ip, kind) in [
            ("127.0.0.1", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local"),
            ("100.100.100.200", "shared (CGNAT)"),
            ("0.0.0.0", "unspecified"),
            ("224.0.0.1", "multicast"),
            ("::1", "loopback"),
            ("::ffff:127.0.0.1", "loopback"),
            ("fd00:ec2::254", "unique-local"),
            ("fe80::1", "link-local"),
            ("ff02::1", "multicast"),
        ] {
            assert_eq!(private_kind(ip.parse().unwrap()), Some(kind), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:2800:220:1::1", "8.8.8.8"] {
            assert_eq!(private_kind(ip.parse().unwrap()), None, "{ip}");
        }
    }

    /// IPv6 forms that carry an IPv4 address are as public as that address.
    #[test]
    fn embedded_ipv4_is_judged_by_the_ipv4() {
        for (ip, kind) in [
            // IPv4-mapped and IPv4-compatible.
            ("::ffff:169.254.169.254", Some("link-local")),
            ("::ffff:10.0.0.1", Some("private")),
            ("::10.0.0.1", Some("private")),
            ("::127.0.0.1", Some("loopback")),
            ("::8.8.8.8", None),
            // NAT64, the well-known prefix and the local-use one.
            ("64:ff9b::a9fe:a9fe", Some("link-local")),
            ("64:ff9b::169.254.169.254", Some("link-local")),
            ("64:ff9b::7f00:1", Some("loopback")),
            ("64:ff9b::192.168.0.1", Some("private")),
            ("64:ff9b::8.8.8.8", None),
            ("64:ff9b:1::a9fe:a9fe", Some("link-local")),
            ("64:ff9b:1:abcd::10.1.1.1", Some("private")),
            ("64:ff9b:1::93.184.216.34", None),
            // 6to4: the address is in the second and third groups.
            ("2002:a9fe:a9fe::1", Some("link-local")),
            ("2002:c0a8:0101::", Some("private")),
            ("2002:0808:0808::1", None),
        ] {
            assert_eq!(private_kind(ip.parse().unwrap()), kind, "{ip}");
        }
    }

    #[test]
    fn certificate_expiry_is_read_from_der() {
        // A self-signed certificate for shop.example, valid until 2026-12-06 18:52:09 UTC.
        let der = include_bytes!("../tests/fixtures/certificate-shop-example.der");
        assert_eq!(certificate_expiry(der), Some(1_796_583_129_000));
        assert_eq!(certificate_expiry(b"not a certificate"), None);
    }

    #[tokio::test]
    async fn targets_are_checked_by_address() {
        let public = TargetPolicy::PublicOnly;
        assert!(matches!(
            check_target("http://127.0.0.1:9/x", public).await,
            Err(OutboundError::Private { .. })
        ));
        assert!(matches!(
            check_target("http://localhost:9/x", public).await,
            Err(OutboundError::Private { .. })
        ));
        assert!(matches!(
            check_target("http://[::1]/x", public).await,
            Err(OutboundError::Private { .. })
        ));
        assert!(matches!(
            check_target("ftp://example.com/", public).await,
            Err(OutboundError::BadUrl(_))
        ));
        assert!(
            check_target("http://127.0.0.1:9/x", TargetPolicy::AllowPrivate)
                .await
                .is_ok()
        );
    }
}
