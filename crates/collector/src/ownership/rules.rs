//! Ownership rules as written, read and matched: pure, so that the store's ingest
//! batch can apply them inside its transaction (see the module above for the syntax).

use globset::{Glob, GlobMatcher};
use mayday_protocol::Event;

/// Most rules a project has.
pub const MAX_RULES: usize = 200;
/// Longest rule line.
const MAX_LINE: usize = 1000;
/// In-app frames' files and modules kept per event for matching.
const MAX_FRAMES: usize = 50;

/// What an event says that rules match against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    /// The files of its in-app frames.
    pub paths: Vec<String>,
    /// The modules of its in-app frames.
    pub modules: Vec<String>,
    /// The request's URL.
    pub url: Option<String>,
    /// Its tags.
    pub tags: Vec<(String, String)>,
}

impl Subject {
    /// What `event` says, capped: in-app frames' files (`filename`, else `abs_path`) and
    /// modules, each once, the request's URL, the tags.
    pub fn of(event: &Event) -> Subject {
        let frames = event
            .exception
            .iter()
            .flat_map(|e| e.values.iter())
            .filter_map(|e| e.stacktrace.as_ref())
            .flat_map(|s| s.frames.iter())
            .filter(|f| f.in_app == Some(true));
        let mut subject = Subject::default();
        for frame in frames {
            if let Some(path) = frame.filename.as_deref().or(frame.abs_path.as_deref())
                && subject.paths.len() < MAX_FRAMES
                && !subject.paths.iter().any(|p| p == path)
            {
                subject.paths.push(capped(path));
            }
            if let Some(module) = frame.module.as_deref()
                && subject.modules.len() < MAX_FRAMES
                && !subject.modules.iter().any(|m| m == module)
            {
                subject.modules.push(capped(module));
            }
        }
        subject.url = event
            .request
            .as_ref()
            .and_then(|r| r.url.as_deref())
            .map(capped);
        subject.tags = event
            .tags
            .iter()
            .flatten()
            .take(50)
            .map(|(k, v)| (capped(k), capped(v)))
            .collect();
        subject
    }
}

fn capped(text: &str) -> String {
    crate::encode::first_chars(text, 500).to_owned()
}

/// What a rule matches.
#[derive(Debug, Clone)]
enum Matcher {
    Path(GlobMatcher),
    Module(GlobMatcher),
    Url(GlobMatcher),
    Tag { key: String, value: GlobMatcher },
}

/// One rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The line as written (trimmed), shown on the issue it assigned.
    pub text: String,
    /// The owner's email, lowercased.
    pub owner: String,
    matcher: Matcher,
}

impl Rule {
    fn matches(&self, subject: &Subject) -> bool {
        match &self.matcher {
            Matcher::Path(glob) => subject.paths.iter().any(|p| glob.is_match(p)),
            Matcher::Module(glob) => subject.modules.iter().any(|m| glob.is_match(m)),
            Matcher::Url(glob) => subject.url.as_deref().is_some_and(|u| glob.is_match(u)),
            Matcher::Tag { key, value } => subject
                .tags
                .iter()
                .any(|(k, v)| k == key && value.is_match(v)),
        }
    }
}

/// A project's rules, in order.
#[derive(Debug, Clone, Default)]
pub struct Ownership {
    /// The rules.
    pub rules: Vec<Rule>,
}

/// Why rules were refused: the line and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OwnershipError {
    /// A line is not a rule.
    #[error("line {line}: {problem}")]
    Line {
        /// 1-based.
        line: usize,
        /// What is wrong, and how it is written.
        problem: String,
    },
    /// Too many rules.
    #[error("{0} rules; at most {MAX_RULES}")]
    TooMany(usize),
}

impl Ownership {
    /// Reads rules; each mistake names its line.
    pub fn parse(text: &str) -> Result<Ownership, OwnershipError> {
        let mut rules = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let problem = |problem: &str| OwnershipError::Line {
                line,
                problem: problem.to_owned(),
            };
            if trimmed.len() > MAX_LINE {
                return Err(problem("too long (1,000 characters at most)"));
            }
            let mut parts = trimmed.split_whitespace();
            let (Some(pattern), Some(owner)) = (parts.next(), parts.next()) else {
                return Err(problem(
                    "write a rule as KIND:PATTERN OWNER, such as path:src/billing/* jane@example.com",
                ));
            };
            if parts.next().is_some() {
                return Err(problem(
                    "one owner per rule (the first match assigns one person)",
                ));
            }
            let owner = crate::address::check(owner)
                .map_err(|e| problem(&format!("{owner:?} is not an email address: {e}")))?
                .to_lowercase();
            let (kind, value) = pattern.split_once(':').ok_or_else(|| {
                problem("start with path:, module:, url: or tag: (such as path:src/billing/*)")
            })?;
            let glob = |value: &str| {
                Glob::new(value)
                    .map(|g| g.compile_matcher())
                    .map_err(|e| problem(&format!("{value:?} is not a glob: {e}")))
            };
            if value.is_empty() {
                return Err(problem(&format!("{kind}: needs a pattern")));
            }
            let matcher = match kind {
                "path" => Matcher::Path(glob(value)?),
                "module" => Matcher::Module(glob(value)?),
                "url" => Matcher::Url(glob(value)?),
                "tag" => {
                    let (key, value) = value
                        .split_once('=')
                        .filter(|(k, v)| !k.is_empty() && !v.is_empty())
                        .ok_or_else(|| problem("write a tag rule as tag:key=value"))?;
                    Matcher::Tag {
                        key: key.to_owned(),
                        value: glob(value)?,
                    }
                }
                other => {
                    return Err(problem(&format!(
                        "{other}: is not a kind of rule (path:, module:, url: or tag:)"
                    )));
                }
            };
            rules.push((
                line,
                Rule {
                    text: trimmed.to_owned(),
                    owner,
                    matcher,
                },
            ));
        }
        if rules.len() > MAX_RULES {
            return Err(OwnershipError::TooMany(rules.len()));
        }
        Ok(Ownership {
            rules: rules.into_iter().map(|(_, rule)| rule).collect(),
        })
    }

    /// The first rule that matches `subject`.
    pub fn owner_of(&self, subject: &Subject) -> Option<&Rule> {
        self.rules.iter().find(|rule| rule.matches(subject))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject() -> Subject {
        Subject {
            paths: vec!["src/billing/invoice.rs".into()],
            modules: vec!["shop::checkout::pay".into()],
            url: Some("https://shop.example.com/checkout/pay".into()),
            tags: vec![("tenant".into(), "acme".into())],
        }
    }

    #[test]
    fn each_kind_matches_and_the_first_wins() {
        for (rules, owner) in [
            (
                "path:src/billing/* jane@example.com",
                Some("jane@example.com"),
            ),
            (
                "module:shop::checkout::* omar@example.com",
                Some("omar@example.com"),
            ),
            ("url:*/checkout* jane@example.com", Some("jane@example.com")),
            ("tag:tenant=acme omar@example.com", Some("omar@example.com")),
            ("tag:tenant=other omar@example.com", None),
            ("path:src/cart/* jane@example.com", None),
            (
                "# billing first\npath:src/billing/* jane@example.com\n\ntag:tenant=acme omar@example.com",
                Some("jane@example.com"),
            ),
        ] {
            let ownership = Ownership::parse(rules).expect(rules);
            let found = ownership.owner_of(&subject()).map(|r| r.owner.as_str());
            assert_eq!(found, owner, "{rules}");
        }
    }

    #[test]
    fn mistakes_name_the_line() {
        for (text, said) in [
            (
                "path:src/* jane@example.com\nsrc/* jane@example.com",
                "line 2: start with path:",
            ),
            (
                "color:red jane@example.com",
                "line 1: color: is not a kind of rule",
            ),
            ("path:src/*", "line 1: write a rule as KIND:PATTERN OWNER"),
            (
                "path:src/* jane",
                "line 1: \"jane\" is not an email address",
            ),
            (
                "tag:tenant jane@example.com",
                "line 1: write a tag rule as tag:key=value",
            ),
            ("path:src/[x jane@example.com", "is not a glob"),
            ("path:a a@example.com b@example.com", "one owner per rule"),
        ] {
            let error = Ownership::parse(text).unwrap_err().to_string();
            assert!(error.contains(said), "{text}: {error}");
        }
    }
}
