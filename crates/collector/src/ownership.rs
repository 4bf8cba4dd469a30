//! Ownership rules: who owns an issue, in Sentry's syntax, one rule per line, the
//! first that matches wins:
//!
//! ```text
//! # comments and blank lines are skipped
//! path:src/billing/* jane@example.com
//! module:shop::checkout::* omar@example.com
//! url:*/checkout* jane@example.com
//! tag:tenant=acme omar@example.com
//! ```
//!
//! `path:` matches the files of the event's in-app frames, `module:` their modules,
//! `url:` the request's URL, `tag:key=value` a tag (globs: `*` matches anything, `/`
//! included). The owner is a member of the project, by email. Ingest applies the rules
//! to each new issue (the store's batch), and [`apply_to_existing`] to open issues
//! nobody is assigned to; the issue keeps the rule that matched.

use globset::{Glob, GlobMatcher};
use mayday_protocol::Event;

use crate::audit::{self, Actor};
use crate::store::{AuditAction, Store, StoreError};

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
    text.chars().take(500).collect()
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

/// Why rules were not saved.
#[derive(Debug, thiserror::Error)]
pub enum SetError {
    /// The text does not read.
    #[error(transparent)]
    Rules(#[from] OwnershipError),
    /// An owner is not a member.
    #[error("line {line}: {owner} is not a member of the project (add them first)")]
    NotMember {
        /// 1-based.
        line: usize,
        /// The email.
        owner: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
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

/// Sets `project_id`'s rules to `text` after checking each line and that every owner
/// is a member; records the change.
pub async fn set_rules<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    project_id: i64,
    text: &str,
) -> Result<(), SetError> {
    Ownership::parse(text)?;
    let members: Vec<String> = store
        .members(project_id)
        .await?
        .into_iter()
        .map(|(account, _)| account.email.to_lowercase())
        .collect();
    for (index, line) in text.lines().enumerate() {
        let Ok(parsed) = Ownership::parse(line) else {
            continue;
        };
        if let Some(rule) = parsed.rules.first()
            && !members.contains(&rule.owner)
        {
            return Err(SetError::NotMember {
                line: index + 1,
                owner: rule.owner.clone(),
            });
        }
    }
    let text = text.trim();
    store
        .set_ownership_rules(project_id, (!text.is_empty()).then_some(text))
        .await?;
    let count = Ownership::parse(text).map_or(0, |o| o.rules.len());
    audit::record(
        store,
        actor,
        project_id,
        AuditAction::OwnershipChanged,
        format!("{count} ownership rules"),
    )
    .await?;
    Ok(())
}

/// Applies the rules to `project_id`'s open issues nobody is assigned to (the 1,000
/// seen last), by each one's latest event; returns how many were assigned.
pub async fn apply_to_existing<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    project_id: i64,
) -> Result<usize, StoreError> {
    let actor = actor.into();
    let project = store
        .project(project_id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("project {project_id}")))?;
    let Ok(ownership) = Ownership::parse(project.ownership_rules.as_deref().unwrap_or_default())
    else {
        return Ok(0);
    };
    if ownership.rules.is_empty() {
        return Ok(0);
    }
    let mut assigned = 0;
    for issue in store.unassigned_open_issues(project_id, 1000).await? {
        let Some(latest) = store.issue_events(issue.id, 0, 1).await?.pop() else {
            continue;
        };
        let Some(rule) = ownership.owner_of(&Subject::of(&latest.event)) else {
            continue;
        };
        let Ok(account) = store.account_by_email(&rule.owner).await else {
            continue;
        };
        store
            .assign_issue(issue.id, Some(account.id), Some(&rule.text))
            .await?;
        audit::record(
            store,
            actor,
            project_id,
            AuditAction::IssueAssigned,
            format!("issue {}: {} (rule {})", issue.id, rule.owner, rule.text),
        )
        .await?;
        assigned += 1;
    }
    Ok(assigned)
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
