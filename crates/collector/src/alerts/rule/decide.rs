//! How a rule decides about one event: its filters, then its conditions, first without
//! counts, then with the counts it asked for (the store reads them).

use std::time::Duration;

use globset::{Glob, GlobMatcher};

use super::{Action, Ask, Condition, Filter, Match, RuleError, RuleSpec};
use crate::store::entities::{EventLevel, NotificationKind, alert_rule};

/// The severity order of levels, for `level_at_least`.
pub fn severity(level: EventLevel) -> u8 {
    match level {
        EventLevel::Debug => 0,
        EventLevel::Info => 1,
        EventLevel::Warning => 2,
        EventLevel::Error => 3,
        EventLevel::Fatal => 4,
    }
}

/// What the store knows about the event that may fire a rule: the batch's newest
/// event of the issue, and what the batch did to the issue.
#[derive(Debug, Clone, Copy)]
pub struct Seen<'a> {
    /// The issue's first event.
    pub new_issue: bool,
    /// A resolved issue came back.
    pub regression: bool,
    /// An ignored issue came back.
    pub reappeared: bool,
    /// The event's level.
    pub level: EventLevel,
    /// Its environment.
    pub environment: Option<&'a str>,
    /// Its release.
    pub release: Option<&'a str>,
    /// Its tags.
    pub tags: &'a [(String, String)],
    /// The files of its in-app frames.
    pub paths: &'a [String],
    /// The request's URL.
    pub url: Option<&'a str>,
    /// The project's latest release, when a rule asked for it.
    pub latest_release: Option<&'a str>,
}

/// A rule read for deciding: its spec with the globs compiled once.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The rule's id.
    pub id: i64,
    /// The project.
    pub project_id: i64,
    /// As written.
    pub spec: RuleSpec,
    /// Each `path` and `url` filter's matcher, in the filters' order.
    globs: Vec<Option<GlobMatcher>>,
}

/// What a rule says about an event, before any count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum First {
    /// It does not fire.
    No,
    /// It fires, about this.
    Fires(NotificationKind),
    /// It depends on these counts.
    Needs(Vec<Ask>),
}

impl Compiled {
    /// Compiles a stored rule; a rule that no longer reads is skipped with a warning.
    pub fn new(row: &alert_rule::Model) -> Result<Compiled, RuleError> {
        let spec = RuleSpec::from_row(row)?;
        let globs = spec
            .filters
            .iter()
            .map(|filter| match filter {
                Filter::Path { value } | Filter::Url { value } => Glob::new(value)
                    .map(|glob| Some(glob.compile_matcher()))
                    .map_err(|e| RuleError::Invalid(e.to_string())),
                _ => Ok(None),
            })
            .collect::<Result<_, _>>()?;
        Ok(Compiled {
            id: row.id,
            project_id: row.project_id,
            spec,
            globs,
        })
    }

    /// Whether when it fires must be kept: for its throttle (it has a frequency
    /// condition) or to resolve its PagerDuty incidents. Rules with neither (the
    /// Default rule) cost the batch no reads or writes of their own.
    pub fn keeps_fires(&self) -> bool {
        self.spec.conditions.iter().any(|c| c.ask().is_some())
            || self
                .spec
                .actions
                .iter()
                .any(|a| matches!(a, Action::Pagerduty { .. }))
    }

    /// The throttle, with the collector's default.
    pub fn throttle(&self, default: Duration) -> i64 {
        self.spec.throttle_minutes.map_or(
            i64::try_from(default.as_millis()).unwrap_or(i64::MAX),
            |m| i64::from(m) * 60_000,
        )
    }

    /// Whether every filter holds for `seen`.
    pub fn filters_hold(&self, seen: &Seen<'_>) -> bool {
        self.spec
            .filters
            .iter()
            .zip(&self.globs)
            .all(|(filter, glob)| match filter {
                Filter::Environment { value } => seen.environment == Some(value.as_str()),
                Filter::LevelAtLeast { value } => {
                    severity(seen.level) >= severity(value.to_owned())
                }
                Filter::Release { value } if value == "latest" => {
                    seen.release.is_some() && seen.release == seen.latest_release
                }
                Filter::Release { value } => seen.release == Some(value.as_str()),
                Filter::Tag { key, value } => seen
                    .tags
                    .iter()
                    .any(|(k, v)| k.as_str() == key.as_str() && v.as_str() == value.as_str()),
                Filter::Path { .. } => glob
                    .as_ref()
                    .is_some_and(|g| seen.paths.iter().any(|p| g.is_match(p))),
                Filter::Url { .. } => glob
                    .as_ref()
                    .zip(seen.url)
                    .is_some_and(|(g, url)| g.is_match(url)),
            })
    }

    /// The state conditions (`first_seen`, `regression`, `reappeared`) that hold.
    fn state_fired(&self, seen: &Seen<'_>) -> Vec<NotificationKind> {
        self.spec
            .conditions
            .iter()
            .filter(|c| match c {
                Condition::FirstSeen => seen.new_issue,
                Condition::Regression => seen.regression,
                Condition::Reappeared => seen.reappeared,
                _ => false,
            })
            .map(Condition::kind)
            .collect()
    }

    /// Decides what it can without counts. `throttled`: the rule alerted about this
    /// issue within its throttle.
    pub fn first(&self, seen: &Seen<'_>, throttled: bool) -> First {
        if !self.filters_hold(seen) {
            return First::No;
        }
        let states = self.state_fired(seen);
        let asks: Vec<Ask> = self
            .spec
            .conditions
            .iter()
            .filter_map(Condition::ask)
            .collect();
        let stateful = self
            .spec
            .conditions
            .iter()
            .filter(|c| c.ask().is_none())
            .count();
        match self.spec.match_mode {
            Match::Any => {
                if let Some(kind) = states.first() {
                    First::Fires(*kind)
                } else if asks.is_empty() || throttled {
                    First::No
                } else {
                    First::Needs(asks)
                }
            }
            Match::All => {
                if states.len() < stateful {
                    First::No
                } else if asks.is_empty() {
                    states.first().map_or(First::No, |kind| First::Fires(*kind))
                } else if throttled && states.is_empty() {
                    First::No
                } else {
                    First::Needs(asks)
                }
            }
        }
    }

    /// Decides with the counts [`first`](Self::first) asked for; `count` answers each.
    pub fn then(&self, seen: &Seen<'_>, count: impl Fn(Ask) -> u64) -> Option<NotificationKind> {
        let over = |c: &Condition| match c {
            Condition::EventFrequency { value, .. } | Condition::UserFrequency { value, .. } => {
                c.ask().is_some_and(|ask| count(ask) > *value)
            }
            _ => false,
        };
        let states = self.state_fired(seen);
        let frequent: Vec<&Condition> = self.spec.conditions.iter().filter(|c| over(c)).collect();
        match self.spec.match_mode {
            Match::Any => states
                .first()
                .copied()
                .or_else(|| frequent.first().map(|c| c.kind())),
            Match::All => {
                let holds = self
                    .spec
                    .conditions
                    .iter()
                    .all(|c| over(c) || states.contains(&c.kind()));
                holds.then(|| {
                    states
                        .first()
                        .copied()
                        .or_else(|| frequent.first().map(|c| c.kind()))
                        .unwrap_or(NotificationKind::Spike)
                })
            }
        }
    }
}
