//! The issue list's search box: free words matched in the title, the culprit, or a tag
//! value or message of the issue's events (`issue_tag`, kept at ingest), and a few
//! operators, as the list page documents them:
//!
//! - `user.email:jane@example.com`: issues that affected this user;
//! - `release:shop@2.4.1`, `environment:production`: issues with events there;
//! - `level:error` (`fatal`, `error`, `warning`, `info`, `debug`);
//! - `is:regressed`: issues that came back after being resolved.
//!
//! Values may be quoted (`release:"shop 2.4"`). A word with a colon that is not one of
//! these (`Error: boom`) is free text.

use crate::store::EventLevel;

/// A parsed search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Search {
    /// Free words, each to be found in the title, the culprit, a tag value or a message.
    pub words: Vec<String>,
    /// `user.email:`.
    pub user_email: Option<String>,
    /// `release:`.
    pub release: Option<String>,
    /// `environment:`.
    pub environment: Option<String>,
    /// `level:`.
    pub level: Option<EventLevel>,
    /// `is:regressed`.
    pub regressed: bool,
}

/// Why a search was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
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
            "is" => {
                return Err(SearchError::Value {
                    key: "is",
                    value,
                    expected: "is:regressed",
                });
            }
            _ => search.words.push(unquote(&token)),
        }
    }
    search.words.retain(|w| !w.is_empty());
    Ok(search)
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
        // Unknown keys are words.
        assert_eq!(parse("os:linux").unwrap().words, vec!["os:linux"]);
    }
}
