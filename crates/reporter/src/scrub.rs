//! Secret scrubbing, on by default, following Sentry's data-handling rules.
//!
//! A header or query parameter whose name contains one of the sensitive words has its
//! value replaced by `[Filtered]`; the `Cookie` header keeps each cookie's name and loses
//! every value. Scrubbing runs in the background worker, before anything leaves the app.

use mayday_protocol::Pairs;

/// What a filtered value becomes.
pub const FILTERED: &str = "[Filtered]";

/// Name fragments that mark a value as secret (compared case-insensitively).
pub const DEFAULT_SENSITIVE: &[&str] = &[
    "auth",
    "token",
    "secret",
    "password",
    "passwd",
    "pwd",
    "key",
    "jwt",
    "bearer",
    "session",
    "csrf",
    "xsrf",
    "credentials",
    "cookie",
    // Payment fields, as request bodies name them (`card_number`, `cvv`).
    "card",
    "cvv",
    "cvc",
    "iban",
];

/// Headers in which proxies and CDNs pass on the client's IP address; removed unless the
/// app opted in to sending IP addresses.
pub const IP_HEADERS: &[&str] = &[
    "x-forwarded-for",
    "x-real-ip",
    "forwarded",
    "cf-connecting-ip",
    "true-client-ip",
    "x-client-ip",
];

/// Decides which names are secret and filters their values.
#[derive(Debug, Clone)]
pub struct Scrubber {
    fragments: Vec<String>,
}

impl Default for Scrubber {
    fn default() -> Self {
        Scrubber {
            fragments: DEFAULT_SENSITIVE.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

impl Scrubber {
    /// Adds name fragments to filter, besides the defaults (case-insensitive).
    pub fn with_extra<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.fragments
            .extend(names.into_iter().map(|n| n.as_ref().to_ascii_lowercase()));
        self
    }

    /// Whether a header or parameter named `name` holds a secret.
    pub fn is_sensitive(&self, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        self.fragments.iter().any(|f| name.contains(f.as_str()))
    }

    /// Filters header values in place; `Cookie` is filtered cookie by cookie.
    pub fn scrub_headers(&self, headers: &mut Pairs) {
        for (name, value) in &mut headers.0 {
            if name.eq_ignore_ascii_case("cookie") {
                *value = scrub_cookie(value);
            } else if self.is_sensitive(name) {
                *value = FILTERED.to_owned();
            }
        }
    }

    /// Filters the values of fields with sensitive names (tracing fields, breadcrumb
    /// data), at any depth of nested objects.
    pub fn scrub_fields(&self, fields: &mut serde_json::Map<String, serde_json::Value>) {
        for (name, value) in fields.iter_mut() {
            if self.is_sensitive(name) {
                *value = serde_json::Value::String(FILTERED.to_owned());
            } else if let serde_json::Value::Object(inner) = value {
                self.scrub_fields(inner);
            }
        }
    }

    /// Filters the values of sensitive fields anywhere in `value`: objects at any depth,
    /// and the objects inside arrays (a request body).
    pub fn scrub_value(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(fields) => {
                for (name, value) in fields.iter_mut() {
                    if self.is_sensitive(name) {
                        *value = serde_json::Value::String(FILTERED.to_owned());
                    } else {
                        self.scrub_value(value);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.scrub_value(v)),
            _ => {}
        }
    }

    /// Returns the query string with sensitive parameters' values filtered.
    ///
    /// Parameters are kept in order and re-encoded.
    pub fn scrub_query(&self, query: &str) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            if self.is_sensitive(&name) {
                out.append_pair(&name, FILTERED);
            } else {
                out.append_pair(&name, &value);
            }
        }
        out.finish()
    }
}

/// Keeps each cookie's name and filters its value: `a=1; b=2` becomes
/// `a=[Filtered]; b=[Filtered]`.
pub fn scrub_cookie(header: &str) -> String {
    header
        .split(';')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|cookie| match cookie.split_once('=') {
            Some((name, _)) => format!("{}={FILTERED}", name.trim()),
            None => FILTERED.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One row per rule: header name, value in, value out.
    #[test]
    fn header_rules() {
        let cases = [
            ("Authorization", "Bearer abc.def", FILTERED),
            ("X-Api-Key", "k-123", FILTERED),
            ("X-Auth-Token", "t", FILTERED),
            ("X-Client-Secret", "s", FILTERED),
            ("X-Password", "p", FILTERED),
            ("X-Passwd", "p", FILTERED),
            ("X-Pwd", "p", FILTERED),
            ("X-Jwt", "j", FILTERED),
            ("X-Bearer", "b", FILTERED),
            ("X-Session-Id", "s", FILTERED),
            ("X-CSRF-Token", "c", FILTERED),
            ("X-XSRF-TOKEN", "x", FILTERED),
            ("X-Credentials", "c", FILTERED),
            ("Set-Cookie", "sid=1", FILTERED),
            (
                "Cookie",
                "sid=abc; theme=dark",
                "sid=[Filtered]; theme=[Filtered]",
            ),
            ("Cookie", "lonely", FILTERED),
            ("User-Agent", "Firefox/86.0", "Firefox/86.0"),
            ("Accept", "text/html", "text/html"),
            ("Host", "shop.example", "shop.example"),
        ];
        let scrubber = Scrubber::default();
        for (name, input, expected) in cases {
            let mut headers: Pairs = [(name, input)].into_iter().collect();
            scrubber.scrub_headers(&mut headers);
            assert_eq!(headers.get(name), Some(expected), "header {name}");
        }
    }

    #[test]
    fn query_rules() {
        let cases = [
            ("bundle=team", "bundle=team"),
            ("token=abc&page=2", "token=%5BFiltered%5D&page=2"),
            (
                "api_key=1&password=2&q=x",
                "api_key=%5BFiltered%5D&password=%5BFiltered%5D&q=x",
            ),
            ("sessionid=9", "sessionid=%5BFiltered%5D"),
            ("", ""),
        ];
        let scrubber = Scrubber::default();
        for (input, expected) in cases {
            assert_eq!(scrubber.scrub_query(input), expected, "query {input}");
        }
    }

    #[test]
    fn extra_names_are_filtered_too() {
        let scrubber = Scrubber::default().with_extra(["X-Tenant"]);
        let mut headers: Pairs = [("x-tenant", "acme"), ("x-other", "ok")]
            .into_iter()
            .collect();
        scrubber.scrub_headers(&mut headers);
        assert_eq!(headers.get("x-tenant"), Some(FILTERED));
        assert_eq!(headers.get("x-other"), Some("ok"));
        assert_eq!(
            scrubber.scrub_query("x-tenant=a"),
            "x-tenant=%5BFiltered%5D"
        );
    }
}
