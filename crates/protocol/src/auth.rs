//! The `X-Sentry-Auth` header: `Sentry sentry_key=..., sentry_version=7, ...`.

use std::fmt;

/// Why an auth header could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The header does not start with `Sentry `.
    #[error("auth header must start with \"Sentry \"")]
    MissingPrefix,
    /// A part is not `name=value`.
    #[error("auth header part {0:?} is not name=value")]
    MalformedPart(String),
    /// No `sentry_key`.
    #[error("auth header has no sentry_key")]
    MissingKey,
}

/// The parsed fields of an `X-Sentry-Auth` header (or the same fields from a query string).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SentryAuth {
    /// The DSN's public key.
    pub key: String,
    /// The legacy secret key, if sent.
    pub secret: Option<String>,
    /// The protocol version, such as `7`.
    pub version: Option<String>,
    /// The client, such as `sentry.python/2.0.0`.
    pub client: Option<String>,
}

impl SentryAuth {
    /// Auth for `key` by a client named `client`, protocol version 7.
    pub fn new(key: impl Into<String>, client: impl Into<String>) -> Self {
        SentryAuth {
            key: key.into(),
            secret: None,
            version: Some("7".into()),
            client: Some(client.into()),
        }
    }

    /// Parses the header value.
    pub fn parse(header: &str) -> Result<Self, AuthError> {
        let header = header.trim();
        let rest = header
            .get(..7)
            .filter(|p| p.eq_ignore_ascii_case("sentry "))
            .map(|_| &header[7..])
            .ok_or(AuthError::MissingPrefix)?;
        let mut auth = SentryAuth::default();
        for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = part
                .split_once('=')
                .ok_or_else(|| AuthError::MalformedPart(part.to_owned()))?;
            auth.set(name.trim(), value.trim());
        }
        if auth.key.is_empty() {
            return Err(AuthError::MissingKey);
        }
        Ok(auth)
    }

    /// Reads the same fields from query parameters (`sentry_key=...&sentry_version=7`),
    /// as browser SDKs send them; `None` when there is no `sentry_key`.
    pub fn from_query(query: &str) -> Option<Self> {
        let mut auth = SentryAuth::default();
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            auth.set(&name, &value);
        }
        (!auth.key.is_empty()).then_some(auth)
    }

    fn set(&mut self, name: &str, value: &str) {
        match name {
            "sentry_key" => self.key = value.to_owned(),
            "sentry_secret" => self.secret = Some(value.to_owned()),
            "sentry_version" => self.version = Some(value.to_owned()),
            "sentry_client" => self.client = Some(value.to_owned()),
            // sentry_timestamp and future fields are not needed.
            _ => {}
        }
    }
}

impl fmt::Display for SentryAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Sentry sentry_version={}, sentry_key={}",
            self.version.as_deref().unwrap_or("7"),
            self.key
        )?;
        if let Some(client) = &self.client {
            write!(f, ", sentry_client={client}")?;
        }
        if let Some(secret) = &self.secret {
            write!(f, ", sentry_secret={secret}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_header() {
        let auth = SentryAuth::parse(
            "Sentry sentry_version=7, sentry_client=sentry.python/2.0, sentry_key=abc, sentry_timestamp=1",
        )
        .unwrap();
        assert_eq!(auth.key, "abc");
        assert_eq!(auth.version.as_deref(), Some("7"));
        assert_eq!(auth.client.as_deref(), Some("sentry.python/2.0"));
    }

    #[test]
    fn round_trips() {
        let auth = SentryAuth::new("k", "mayday.rust/0.1.0");
        assert_eq!(SentryAuth::parse(&auth.to_string()).unwrap(), auth);
    }

    #[test]
    fn from_query() {
        let auth = SentryAuth::from_query("sentry_version=7&sentry_key=xyz").unwrap();
        assert_eq!(auth.key, "xyz");
        assert!(SentryAuth::from_query("a=b").is_none());
    }

    #[test]
    fn clear_errors() {
        assert_eq!(SentryAuth::parse("Bearer x"), Err(AuthError::MissingPrefix));
        assert_eq!(
            SentryAuth::parse("Sentry sentry_version=7"),
            Err(AuthError::MissingKey)
        );
        assert!(matches!(
            SentryAuth::parse("Sentry garbage"),
            Err(AuthError::MalformedPart(_))
        ));
    }
}
