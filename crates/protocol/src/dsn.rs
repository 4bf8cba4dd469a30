//! DSNs: `{scheme}://{public_key}[:{secret}]@{host}[:{port}]/[{path}/]{project_id}`.

use std::fmt;
use std::str::FromStr;

use url::Url;

/// Why a DSN could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DsnError {
    /// Not a URL at all.
    #[error("DSN is not a valid URL: {0}")]
    InvalidUrl(#[from] url::ParseError),
    /// Only `http` and `https` are supported.
    #[error("DSN scheme must be http or https, got {0:?}")]
    UnsupportedScheme(String),
    /// The part before `@` is missing.
    #[error("DSN has no public key (expected scheme://KEY@host/project)")]
    MissingPublicKey,
    /// There is no host.
    #[error("DSN has no host")]
    MissingHost,
    /// The last path segment is missing or empty.
    #[error("DSN has no project id (expected scheme://key@host/PROJECT_ID)")]
    MissingProjectId,
}

/// A parsed DSN: where to send events and with which key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Dsn {
    scheme: String,
    public_key: String,
    secret_key: Option<String>,
    host: String,
    port: Option<u16>,
    path: String,
    project_id: String,
}

impl Dsn {
    /// The public key, sent as `sentry_key`.
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// The legacy secret key, when the DSN has one.
    pub fn secret_key(&self) -> Option<&str> {
        self.secret_key.as_deref()
    }

    /// The project id.
    pub fn project_id(&self) -> &str {
        &self.project_id
    }

    /// The host.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, when explicit.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    fn base(&self) -> String {
        match self.port {
            Some(port) => format!("{}://{}:{}{}", self.scheme, self.host, port, self.path),
            None => format!("{}://{}{}", self.scheme, self.host, self.path),
        }
    }

    /// The envelope endpoint: `.../api/{project_id}/envelope/`.
    pub fn envelope_url(&self) -> Url {
        let url = format!("{}api/{}/envelope/", self.base(), self.project_id);
        // Every component was validated when the DSN was parsed.
        Url::parse(&url).unwrap_or_else(|_| unreachable_url())
    }

    /// The legacy store endpoint: `.../api/{project_id}/store/`.
    pub fn store_url(&self) -> Url {
        let url = format!("{}api/{}/store/", self.base(), self.project_id);
        Url::parse(&url).unwrap_or_else(|_| unreachable_url())
    }
}

#[cold]
fn unreachable_url() -> Url {
    // Only reachable if `Url` rejects what it produced itself while parsing the DSN.
    Url::parse("http://invalid.invalid/").expect("static URL is valid")
}

impl FromStr for Dsn {
    type Err = DsnError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let url = Url::parse(s.trim())?;
        let scheme = url.scheme().to_owned();
        if scheme != "http" && scheme != "https" {
            return Err(DsnError::UnsupportedScheme(scheme));
        }
        let public_key = url.username().to_owned();
        if public_key.is_empty() {
            return Err(DsnError::MissingPublicKey);
        }
        let secret_key = url.password().map(str::to_owned);
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or(DsnError::MissingHost)?
            .to_owned();
        let port = url.port();
        let full_path = url.path();
        let trimmed = full_path.trim_end_matches('/');
        let (path, project_id) = match trimmed.rfind('/') {
            Some(pos) => (&trimmed[..=pos], &trimmed[pos + 1..]),
            None => ("/", trimmed),
        };
        if project_id.is_empty() {
            return Err(DsnError::MissingProjectId);
        }
        Ok(Dsn {
            scheme,
            public_key,
            secret_key,
            host,
            port,
            path: path.to_owned(),
            project_id: project_id.to_owned(),
        })
    }
}

impl fmt::Display for Dsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.public_key)?;
        if let Some(secret) = &self.secret_key {
            write!(f, ":{secret}")?;
        }
        write!(f, "@{}", self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        write!(f, "{}{}", self.path, self.project_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_dsn() {
        let dsn: Dsn = "https://abc:def@sentry.example.com:9000/sub/42"
            .parse()
            .unwrap();
        assert_eq!(dsn.public_key(), "abc");
        assert_eq!(dsn.secret_key(), Some("def"));
        assert_eq!(dsn.host(), "sentry.example.com");
        assert_eq!(dsn.port(), Some(9000));
        assert_eq!(dsn.project_id(), "42");
        assert_eq!(
            dsn.envelope_url().as_str(),
            "https://sentry.example.com:9000/sub/api/42/envelope/"
        );
        assert_eq!(
            dsn.to_string(),
            "https://abc:def@sentry.example.com:9000/sub/42"
        );
    }

    #[test]
    fn default_port_and_trailing_slash() {
        let dsn: Dsn = "http://key@localhost/7/".parse().unwrap();
        assert_eq!(dsn.port(), None);
        assert_eq!(dsn.project_id(), "7");
        assert_eq!(dsn.store_url().as_str(), "http://localhost/api/7/store/");
    }

    #[test]
    fn clear_errors() {
        let cases = [
            ("not a url", "not a valid URL"),
            ("ftp://k@h/1", "scheme must be http or https"),
            ("http://h/1", "no public key"),
            ("http://k@h/", "no project id"),
        ];
        for (input, expected) in cases {
            let err = input.parse::<Dsn>().unwrap_err().to_string();
            assert!(err.contains(expected), "{input}: {err}");
        }
    }
}
