//! The issue list's search box: free words matched in the title, the culprit, or a tag
//! value or message of the issue's events (`issue_tag`, kept at ingest), and a few
//! operators, as the list page documents them:
//!
//! - `user:jane@example.com` (or an id, username or name): issues that affected this
//!   user, whichever identity matches; `user.email:` for the email only;
//! - `release:shop@2.4.1`, `environment:production`: issues with events there;
//! - `level:error` (`fatal`, `error`, `warning`, `info`, `debug`);
//! - `is:regressed`: issues that came back after being resolved; `is:unassigned`:
//!   issues nobody is assigned to;
//! - `assigned:me`, `assigned:jane@example.com`: issues assigned to you, to Jane.
//!
//! Values may be quoted (`release:"shop 2.4"`). `Error: boom` (nothing after the colon)
//! and `https://shop.example/x` are free text; any other `key:value` with a key that is
//! none of these is refused, naming the keys there are. Bare words match the affected
//! users' names, emails and ids too.
//!
//! A search that is one event id (32 hex digits, with or without dashes, or the
//! 8-character prefix error pages show) is an [`EventIdQuery`]: the list opens that event.

use crate::store::EventLevel;

/// A parsed search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Search {
    /// Free words, each to be found in the title, the culprit, a tag value or a message.
    pub words: Vec<String>,
    /// `user.email:`.
    pub user_email: Option<String>,
    /// `user:`: any identity (id, email, username, name).
    pub user: Option<String>,
    /// `release:`.
    pub release: Option<String>,
    /// `environment:`.
    pub environment: Option<String>,
    /// `level:`.
    pub level: Option<EventLevel>,
    /// `is:regressed`.
    pub regressed: bool,
    /// `is:unassigned`.
    pub unassigned: bool,
    /// `assigned:`: `me` or an email.
    pub assigned: Option<String>,
}

/// Why a search was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    /// A `key:value` whose key is not one the search knows.
    #[error("{key}: is not a search key (the keys are {KEYS})")]
    UnknownKey {
        /// The key.
        key: String,
    },
    /// More free words than are searched.
    #[error(
        "the search has {count} words; at most {MAX_WORDS} are searched (remove some, or use user:, release:, environment:, level:)"
    )]
    TooManyWords {
        /// How many there were.
        count: usize,
    },
    /// An operator's value is not one it takes.
    #[error("{key}:{value} is not a valid search ({expected})")]
    Value {
        /// The operator.
        key: &'static str,
        /// What was given.
        value: String,
        /// What it takes.
        expected: &'static str,
    },
}

/// Longest search kept, in characters.
const MAX_CHARS: usize = 500;

/// Most free words searched: each costs a pass over titles, culprits, users and tags,
/// so a search of hundreds of words would be a way to keep the database busy.
pub const MAX_WORDS: usize = 8;

/// The keys the search knows, for messages.
pub const KEYS: &str = "user:, user.email:, release:, environment:, level:, is:, assigned:";

/// An event id typed or pasted into the search box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventIdQuery(pub String);

impl EventIdQuery {
    /// The id in `input` when the whole input is one: 32 hex digits (a UUID's dashes
    /// allowed), or exactly 8 (the prefix error pages show); lowercase, without dashes.
    pub fn parse(input: &str) -> Option<EventIdQuery> {
        let text = input.trim();
        let hex: String = text.chars().filter(|c| *c != '-').collect();
        let dashes = text.len() - hex.len();
        let all_hex = !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit());
        match (hex.len(), dashes) {
            (32, 0 | 4) | (8, 0) if all_hex => Some(EventIdQuery(hex.to_ascii_lowercase())),
            _ => None,
        }
    }

    /// Whether it is a prefix rather than a whole id.
    pub fn is_prefix(&self) -> bool {
        self.0.len() < 32
    }
}

/// Parses the search box's text.
pub fn parse(input: &str) -> Result<Search, SearchError> {
    let input: String = input.chars().take(MAX_CHARS).collect();
    let mut search = Search::default();
    for token in tokens(&input) {
        let Some((key, value)) = token.split_once(':').filter(|(_, v)| !v.is_empty()) else {
            search.words.push(unquote(&token));
            continue;
        };
        let value = unquote(value);
        match key.to_ascii_lowercase().as_str() {
            "user.email" => search.user_email = Some(value),
            "user" => search.user = Some(value),
            "release" => search.release = Some(value),
            "environment" | "env" => search.environment = Some(value),
            "level" => {
                search.level =
                    Some(
                        value
                            .to_ascii_lowercase()
                            .parse()
                            .map_err(|_| SearchError::Value {
                                key: "level",
                                value: value.clone(),
                                expected: "fatal, error, warning, info or debug",
                            })?,
                    )
            }
            "is" if value.eq_ignore_ascii_case("regressed") => search.regressed = true,
            "is" if value.eq_ignore_ascii_case("unassigned") => search.unassigned = true,
            "is" => {
                return Err(SearchError::Value {
                    key: "is",
                    value,
                    expected: "is:regressed or is:unassigned",
                });
            }
            "assigned" => search.assigned = Some(value.to_lowercase()),
            _ if value.starts_with("//") || !is_key(key) => search.words.push(unquote(&token)),
            _ => {
                return Err(SearchError::UnknownKey {
                    key: key.to_owned(),
                });
            }
        }
    }
    search.words.retain(|w| !w.is_empty());
    if search.words.len() > MAX_WORDS {
        return Err(SearchError::TooManyWords {
            count: search.words.len(),
        });
    }
    Ok(search)
}

/// Whether `key` looks like a search key (letters, digits, `.`, `_`), so that `key:`
/// is a key the person meant and not text such as `(see: below)` or `a/b:c`.
fn is_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
}

/// Splits on spaces outside double quotes.
fn tokens(input: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in input.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

fn unquote(value: &str) -> String {
    value.replace('"', "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_eight_words() {
        let eight = "a b c d e f g h";
        assert_eq!(parse(eight).unwrap().words.len(), 8);
        let many = "- ".repeat(248) + "zz";
        assert_eq!(parse(&many), Err(SearchError::TooManyWords { count: 249 }));
        assert!(
            parse(&format!("{eight} i"))
                .unwrap_err()
                .to_string()
                .contains("at most 8 are searched")
        );
        // Operators are not words.
        assert!(parse(&format!("{eight} level:error release:1.0")).is_ok());
    }

    #[test]
    fn operators_and_words() {
        let search = parse(
            r#"checkout user.email:jane@example.com release:"shop 2.4" level:Error is:regressed env:prod Error: boom"#,
        )
        .unwrap();
        assert_eq!(search.words, vec!["checkout", "Error:", "boom"]);
        assert_eq!(search.user_email.as_deref(), Some("jane@example.com"));
        assert_eq!(search.release.as_deref(), Some("shop 2.4"));
        assert_eq!(search.environment.as_deref(), Some("prod"));
        assert_eq!(search.level, Some(EventLevel::Error));
        assert!(search.regressed);
        assert_eq!(parse("").unwrap(), Search::default());
    }

    #[test]
    fn bad_values_are_named() {
        let error = parse("level:loud").unwrap_err();
        assert_eq!(
            error.to_string(),
            "level:loud is not a valid search (fatal, error, warning, info or debug)"
        );
        assert!(parse("is:sleeping").is_err());
        let assigned = parse("assigned:Jane@Example.com is:unassigned").unwrap();
        assert_eq!(assigned.assigned.as_deref(), Some("jane@example.com"));
        assert!(assigned.unassigned);
        // Unknown keys are refused, naming the ones there are; URLs are words.
        let unknown = parse("foo:bar").unwrap_err().to_string();
        assert!(unknown.contains("foo: is not a search key"), "{unknown}");
        assert!(unknown.contains("user.email:"), "{unknown}");
        assert_eq!(
            parse("https://shop.example/checkout").unwrap().words,
            vec!["https://shop.example/checkout"]
        );
        assert_eq!(parse("user:42").unwrap().user.as_deref(), Some("42"));
    }

    #[test]
    fn event_ids_as_pasted() {
        let full = "d5862e62-93b1-4b0e-9a3c-1e2f3a4b5c6d";
        assert_eq!(
            EventIdQuery::parse(full),
            Some(EventIdQuery("d5862e6293b14b0e9a3c1e2f3a4b5c6d".into()))
        );
        assert_eq!(
            EventIdQuery::parse(" D5862E6293B14B0E9A3C1E2F3A4B5C6D "),
            Some(EventIdQuery("d5862e6293b14b0e9a3c1e2f3a4b5c6d".into()))
        );
        let short = EventIdQuery::parse("d5862e62").unwrap();
        assert!(short.is_prefix());
        for not_an_id in ["checkout", "d5862e6", "d5862e62 boom", "zzzzzzzz", ""] {
            assert_eq!(EventIdQuery::parse(not_an_id), None, "{not_an_id}");
        }
    }
}
