//! The store against a real SQLite file and, when configured, a real PostgreSQL.

use crate::common;

use mayday_collector::access;
use mayday_collector::store::{
    Alerting, EventLevel, EventUser, IssueFilter, IssueSort, IssueStatus, NewEvent, ProjectRole,
    Snooze, Store, encode_payload, now_ms,
};

fn new_event(
    project_id: i64,
    fingerprint: &str,
    user: Option<&str>,
    at: i64,
    release: &str,
) -> NewEvent {
    NewEvent {
        project_id,
        event_id: uuid::Uuid::new_v4().simple().to_string(),
        received_at: at,
        timestamp: at,
        level: EventLevel::Error,
        environment: Some("production".into()),
        release: Some(release.into()),
        user: user.map(|id| EventUser {
            key: format!("id:{id}"),
            id: Some(id.into()),
            email: Some(format!("{id}@example.com")),
            ..Default::default()
        }),
        fingerprint: fingerprint.into(),
        title: format!("Error: {fingerprint}"),
        culprit: Some("shop::checkout".into()),
        payload: encode_payload(br#"{"message":"x"}"#).unwrap(),
        tags: vec![("release".into(), release.into())],
        paths: Vec::new(),
        modules: Vec::new(),
        url: None,
        ownership: None,
    }
}

#[tokio::test]
async fn batches_group_count_users_and_reopen_regressions() {
    for db in common::databases().await {
        let store = Store::connect(&db.url).await.unwrap();
        let project = store.create_project("shop").await.unwrap().project;
        let now = now_ms();
        let batch = vec![
            new_event(project.id, "a", Some("1"), now, "shop@1.0.0"),
            new_event(project.id, "a", Some("2"), now + 1, "shop@1.0.1"),
            new_event(project.id, "a", Some("1"), now + 2, "shop@1.0.1"),
            new_event(project.id, "b", None, now + 3, "shop@1.0.1"),
        ];
        let results = store.ingest_batch(&batch, Alerting::default()).await;
        let stored: Vec<_> = results.into_iter().map(Result::unwrap).collect();
        assert!(
            stored[0].new_issue && !stored[1].new_issue && stored[3].new_issue,
            "{}",
            db.kind
        );
        assert_eq!(stored[0].issue_id, stored[2].issue_id);

        let a = store.issue(stored[0].issue_id).await.unwrap().unwrap();
        assert_eq!((a.event_count, a.user_count), (3, 2), "{}", db.kind);
        assert_eq!(a.first_release.as_deref(), Some("shop@1.0.0"));
        assert_eq!(a.last_release.as_deref(), Some("shop@1.0.1"));
        assert_eq!(a.status, IssueStatus::Unresolved);
        let users = store.issue_users(a.id).await.unwrap();
        assert_eq!(users.len(), 2);
        assert_eq!(
            users
                .iter()
                .find(|u| u.user_id.as_deref() == Some("1"))
                .unwrap()
                .event_count,
            2
        );

        // The same event id again changes nothing.
        let again = store
            .ingest_batch(&batch[..1], Alerting::default())
            .await
            .remove(0)
            .unwrap();
        assert!(again.duplicate);
        assert_eq!(store.issue(a.id).await.unwrap().unwrap().event_count, 3);

        // Resolved, then seen again: reopened, regression recorded.
        store
            .set_issue_status(a.id, IssueStatus::Resolved)
            .await
            .unwrap();
        let back = store
            .ingest_batch(
                &[new_event(
                    project.id,
                    "a",
                    Some("3"),
                    now + 10,
                    "shop@1.0.2",
                )],
                Alerting::default(),
            )
            .await
            .remove(0)
            .unwrap();
        assert!(back.regression, "{}", db.kind);
        let a = store.issue(a.id).await.unwrap().unwrap();
        assert_eq!(a.status, IssueStatus::Unresolved);
        assert_eq!(a.regression_count, 1);
        assert!(a.last_regressed_at.is_some());

        // Ignored issues stay ignored.
        store
            .set_issue_status(a.id, IssueStatus::Ignored)
            .await
            .unwrap();
        store
            .ingest_batch(
                &[new_event(project.id, "a", None, now + 11, "r")],
                Alerting::default(),
            )
            .await
            .remove(0)
            .unwrap();
        assert_eq!(
            store.issue(a.id).await.unwrap().unwrap().status,
            IssueStatus::Ignored
        );
    }
}

#[tokio::test]
async fn issue_list_filters_sorts_and_pages() {
    for db in common::databases().await {
        let store = Store::connect(&db.url).await.unwrap();
        let project = store.create_project("shop").await.unwrap().project;
        let now = now_ms();
        let mut batch = Vec::new();
        for i in 0..5 {
            for _ in 0..=i {
                let mut e = new_event(project.id, &format!("f{i}"), None, now + i, "shop@1.0.0");
                if i == 4 {
                    e.environment = Some("staging".into());
                    e.release = Some("shop@2.0.0".into());
                }
                if i == 2 {
                    // A tag under the environment's key: the event's field decides.
                    e.tags.push(("environment".into(), "staging".into()));
                }
                batch.push(e);
            }
        }
        for result in store.ingest_batch(&batch, Alerting::default()).await {
            result.unwrap();
        }
        let list = |filter: IssueFilter| {
            let store = store.clone();
            async move {
                store
                    .list_issues(
                        project.id,
                        &IssueFilter {
                            limit: 50,
                            ..filter
                        },
                    )
                    .await
                    .unwrap()
            }
        };
        let by_events = list(IssueFilter {
            sort: IssueSort::Events,
            ..Default::default()
        })
        .await;
        let counts: Vec<i64> = by_events.iter().map(|i| i.event_count).collect();
        assert_eq!(counts, [5, 4, 3, 2, 1], "{}", db.kind);
        let staging = list(IssueFilter {
            environment: Some("staging".into()),
            ..Default::default()
        })
        .await;
        assert_eq!(staging.len(), 1);
        assert_eq!(staging[0].title, "Error: f4");
        let release = list(IssueFilter {
            release: Some("shop@1.0.0".into()),
            ..Default::default()
        })
        .await;
        assert_eq!(release.len(), 4);
        for word in ["staging", "shop@2.0.0"] {
            let searched = list(IssueFilter {
                words: vec![word.into()],
                ..Default::default()
            })
            .await;
            assert!(
                searched.is_empty(),
                "environments and releases have their own filters, not the search box: {word}"
            );
        }
        let searched = list(IssueFilter {
            words: vec!["f3".into()],
            ..Default::default()
        })
        .await;
        assert_eq!(searched.len(), 1);
        let wildcard = list(IssueFilter {
            words: vec!["%".into()],
            ..Default::default()
        })
        .await;
        assert!(
            wildcard.is_empty(),
            "LIKE wildcards in the query are literal"
        );
        let page = store
            .list_issues(
                project.id,
                &IssueFilter {
                    limit: 2,
                    offset: 2,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(page.len(), 2);
        store
            .set_issue_status(by_events[0].id, IssueStatus::Resolved)
            .await
            .unwrap();
        let resolved = list(IssueFilter {
            status: Some(IssueStatus::Resolved),
            ..Default::default()
        })
        .await;
        assert_eq!(resolved.len(), 1);
    }
}

#[tokio::test]
async fn retention_keeps_the_newest_events_and_the_counts() {
    for db in common::databases().await {
        let store = Store::connect(&db.url).await.unwrap();
        let project = store.create_project("shop").await.unwrap().project;
        let now = now_ms();
        let mut batch: Vec<_> = (0..12)
            .map(|i| new_event(project.id, "a", None, now + i, "r"))
            .collect();
        let mut old = new_event(project.id, "old", None, now, "r");
        old.received_at = now - 100 * 86_400_000;
        batch.push(old);
        let stored: Vec<_> = store
            .ingest_batch(&batch, Alerting::default())
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let deleted = store.apply_retention(5, 90 * 86_400_000).await.unwrap();
        assert_eq!(deleted, 7 + 1, "{}", db.kind);
        assert_eq!(
            store.stored_event_count(stored[0].issue_id).await.unwrap(),
            5
        );
        let events = store.issue_events(stored[0].issue_id, 0, 50).await.unwrap();
        assert_eq!(events[0].row.timestamp, now + 11, "the newest are kept");
        assert_eq!(
            store
                .issue(stored[0].issue_id)
                .await
                .unwrap()
                .unwrap()
                .event_count,
            12,
            "count kept"
        );
        assert_eq!(
            store.stored_event_count(stored[12].issue_id).await.unwrap(),
            0
        );
    }
}

/// A tag row's time moves forward only when an event is more than an hour newer than
/// it: a batch does not rewrite (and send to the log) a row that is already there.
#[tokio::test]
async fn tag_times_move_forward_by_the_hour() {
    use sea_orm::ConnectionTrait;
    for db in common::databases().await {
        let store = Store::connect(&db.url).await.unwrap();
        let project = store.create_project("shop").await.unwrap().project;
        let start = now_ms() - 3 * 3_600_000;
        let tagged = |at: i64| {
            let mut event = new_event(project.id, "a", None, at, "r");
            event.tags = vec![("region".into(), "eu".into())];
            event
        };
        let conn = store.connection();
        let backend = conn.get_database_backend();
        let issue = std::cell::Cell::new(0);
        let times = async |at: i64| -> (i64, i64) {
            let stored = store.ingest_batch(&[tagged(at)], Alerting::default()).await;
            let issue_id = stored[0].as_ref().unwrap().issue_id;
            issue.set(issue_id);
            let last_seen = async |key: &str| -> i64 {
                let sql = format!(
                    "SELECT last_seen FROM issue_tag WHERE issue_id = {issue_id} AND key = '{key}'"
                );
                conn.query_one(sea_orm::Statement::from_string(backend, sql))
                    .await
                    .unwrap()
                    .unwrap()
                    .try_get("", "last_seen")
                    .unwrap()
            };
            let tag = last_seen("region").await;
            let environment = last_seen("environment").await;
            (tag, environment)
        };
        assert_eq!(times(start).await, (start, start), "{}", db.kind);
        // Ten minutes later: within the hour, the rows stay as they were.
        assert_eq!(times(start + 600_000).await, (start, start), "{}", db.kind);
        // An older event never moves them back.
        assert_eq!(
            times(start - 7_200_000).await,
            (start, start),
            "{}",
            db.kind
        );
        // Past the hour, they move to the newer time.
        let later = start + 3_600_001;
        assert_eq!(times(later).await, (later, later), "{}", db.kind);
        // The issue itself is exact whatever its tags did.
        let issue = store.issue(issue.get()).await.unwrap().unwrap();
        assert_eq!(
            (issue.event_count, issue.last_seen),
            (4, later),
            "{}",
            db.kind
        );
    }
}

/// Past one delete batch: 4,500 events past their age and an issue 3,000 events over
/// its cap go in bounded deletes, each its own write, and everything else stays.
#[tokio::test]
async fn retention_deletes_in_bounded_batches() {
    use sea_orm::ConnectionTrait;
    const OLD: i64 = 4_500;
    assert!(OLD as u64 > mayday_collector::store::retention::DELETE_BATCH * 2);
    for db in common::databases().await {
        let store = Store::connect(&db.url).await.unwrap();
        let project = store.create_project("shop").await.unwrap().project;
        let now = now_ms();
        let batch = vec![
            new_event(project.id, "crowded", None, now, "r"),
            new_event(project.id, "recent", None, now, "r"),
        ];
        let stored: Vec<_> = store
            .ingest_batch(&batch, Alerting::default())
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let (crowded, recent) = (stored[0].issue_id, stored[1].issue_id);
        // Copies of the stored events: OLD of the recent issue's received 100 days ago,
        // 3,000 more of the crowded issue's, received now.
        let copy = |issue_id: i64, count: i64, received_at: i64, prefix: &str| {
            format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) \
                 INSERT INTO event (project_id, issue_id, event_id, received_at, timestamp, level, \
                 environment, release, user_key, payload) \
                 SELECT e.project_id, e.issue_id, '{prefix}' || n.i, {received_at}, e.timestamp, \
                 e.level, e.environment, e.release, e.user_key, e.payload \
                 FROM n, (SELECT * FROM event WHERE issue_id = {issue_id} LIMIT 1) AS e"
            )
        };
        let db_conn = store.connection();
        db_conn
            .execute_unprepared(&copy(recent, OLD, now - 100 * 86_400_000, "old"))
            .await
            .unwrap();
        db_conn
            .execute_unprepared(&copy(crowded, 3_000, now, "many"))
            .await
            .unwrap();
        db_conn
            .execute_unprepared(&format!(
                "UPDATE issue SET event_count = event_count + 3000 WHERE id = {crowded}"
            ))
            .await
            .unwrap();

        let deleted = store.apply_retention(1_000, 90 * 86_400_000).await.unwrap();
        assert_eq!(deleted, OLD as u64 + 2_001, "{}", db.kind);
        assert_eq!(store.stored_event_count(crowded).await.unwrap(), 1_000);
        assert_eq!(
            store.stored_event_count(recent).await.unwrap(),
            1,
            "{}",
            db.kind
        );
        assert_eq!(
            store.apply_retention(1_000, 90 * 86_400_000).await.unwrap(),
            0,
            "{}: nothing left to delete",
            db.kind
        );
    }
}

#[tokio::test]
async fn accounts_tokens_and_visibility() {
    for db in common::databases().await {
        let store = Store::connect(&db.url).await.unwrap();
        let shop = store.create_project("shop").await.unwrap().project;
        let blog = store.create_project("blog").await.unwrap().project;
        assert!(matches!(
            store.create_project("shop").await,
            Err(mayday_collector::store::StoreError::Conflict(_))
        ));
        let admin = store
            .create_account("Admin@Example.com", None, "h", true)
            .await
            .unwrap();
        let dev = store
            .create_account("dev@example.com", Some("Dev"), "h", false)
            .await
            .unwrap();
        assert_eq!(admin.email, "admin@example.com");
        store
            .add_member(shop.id, dev.id, ProjectRole::Member)
            .await
            .unwrap();
        store
            .add_member(shop.id, dev.id, ProjectRole::Member)
            .await
            .unwrap();
        assert_eq!(
            access::visible_projects(&store, &admin)
                .await
                .unwrap()
                .len(),
            2
        );
        let seen: Vec<_> = access::visible_projects(&store, &dev)
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.id)
            .collect();
        assert_eq!(seen, [shop.id], "{}", db.kind);
        assert!(access::visible_project(&store, &dev, shop.id).await.is_ok());
        assert!(matches!(
            access::visible_project(&store, &dev, blog.id).await,
            Err(access::AccessError::NotFound(_))
        ));
        store
            .create_token(dev.id, "hash-1", "laptop")
            .await
            .unwrap();
        assert_eq!(
            store.account_by_token("hash-1").await.unwrap().unwrap().id,
            dev.id
        );
        assert!(store.account_by_token("nope").await.unwrap().is_none());
    }
}

#[tokio::test]
async fn ui_queries_on_both_databases() {
    for db in common::databases().await {
        let store = Store::connect(&db.url).await.unwrap();
        let project = store.create_project("shop").await.unwrap().project;
        let now = now_ms();
        let batch = vec![
            new_event(project.id, "a", None, now - 86_400_000, "shop@1.0"),
            new_event(project.id, "a", None, now, "shop@1.1"),
            new_event(project.id, "a", None, now, "shop@1.1"),
        ];
        let mut batch = batch;
        batch[0].received_at = now - 86_400_000;
        let stored: Vec<_> = store
            .ingest_batch(&batch, Alerting::default())
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let issue_id = stored[0].issue_id;
        let counts = store.daily_counts(&[issue_id], 14).await.unwrap();
        let bars = &counts[&issue_id];
        assert_eq!(bars.len(), 14, "{}", db.kind);
        assert_eq!(
            (bars[12], bars[13]),
            (1, 2),
            "{}: yesterday and today",
            db.kind
        );
        let breakdown = store.breakdown(issue_id).await.unwrap();
        assert_eq!(
            breakdown.releases[0],
            (Some("shop@1.1".to_owned()), 2),
            "{}",
            db.kind
        );
        assert_eq!(
            breakdown.environments,
            vec![(Some("production".to_owned()), 3)]
        );
        let events = store.issue_events(issue_id, 0, 10).await.unwrap();
        let middle = &events[1].row;
        let links = store.event_links(issue_id, middle.id).await.unwrap();
        assert_eq!(
            links.newer.as_deref(),
            Some(events[0].row.event_id.as_str())
        );
        assert_eq!(
            links.older.as_deref(),
            Some(events[2].row.event_id.as_str())
        );
        let summary = store.project_summary(project.id).await.unwrap();
        assert_eq!(summary.unresolved_issues, 1);
        assert_eq!(summary.events_last_day, 2, "{}", db.kind);
    }
}

#[tokio::test]
async fn a_project_can_keep_fewer_events_than_the_default() {
    for db in common::databases().await {
        let store = Store::connect(&db.url).await.unwrap();
        let strict = store.create_project("strict").await.unwrap().project;
        let relaxed = store.create_project("relaxed").await.unwrap().project;
        store.set_retention(strict.id, 2, 0).await.unwrap();
        let now = now_ms();
        let batch: Vec<_> = (0..5)
            .flat_map(|i| {
                [
                    new_event(strict.id, "a", None, now + i, "r"),
                    new_event(relaxed.id, "a", None, now + i, "r"),
                ]
            })
            .collect();
        let stored: Vec<_> = store
            .ingest_batch(&batch, Alerting::default())
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        store.apply_retention(4, 90 * 86_400_000).await.unwrap();
        assert_eq!(
            store.stored_event_count(stored[0].issue_id).await.unwrap(),
            2,
            "{}: its own limit",
            db.kind
        );
        assert_eq!(
            store.stored_event_count(stored[1].issue_id).await.unwrap(),
            4,
            "{}: the default",
            db.kind
        );
    }
}

/// An issue's first seen is its earliest event's time, whatever order events arrive in;
/// later events leave it alone.
#[tokio::test]
async fn first_seen_moves_back_only_for_an_earlier_event() {
    for db in common::databases().await {
        let store = Store::connect(&db.url).await.unwrap();
        let project = store.create_project("shop").await.unwrap().project;
        let now = now_ms();
        let ingest = |times: &[i64]| {
            let batch: Vec<NewEvent> = times
                .iter()
                .map(|&at| new_event(project.id, "a", None, at, "shop@1.0.0"))
                .collect();
            let store = store.clone();
            async move {
                let stored = store.ingest_batch(&batch, Alerting::default()).await;
                let id = stored[0].as_ref().unwrap().issue_id;
                store.issue(id).await.unwrap().unwrap()
            }
        };
        let seen = |issue: &mayday_collector::store::entities::issue::Model| {
            (issue.first_seen, issue.last_seen, issue.event_count)
        };
        let issue = ingest(&[now]).await;
        assert_eq!(seen(&issue), (now, now, 1), "{}", db.kind);
        let issue = ingest(&[now + 10]).await;
        assert_eq!(seen(&issue), (now, now + 10, 2), "{}: later", db.kind);
        let issue = ingest(&[now - 50]).await;
        assert_eq!(
            seen(&issue),
            (now - 50, now + 10, 3),
            "{}: earlier",
            db.kind
        );
        let issue = ingest(&[now + 20, now - 100, now + 5]).await;
        assert_eq!(
            seen(&issue),
            (now - 100, now + 20, 6),
            "{}: both in one batch",
            db.kind
        );
        assert_eq!(issue.title, "Error: a");
    }
}

/// A batch costs a handful of statements, the same for 10 events as for 200.
#[tokio::test]
async fn a_batch_is_a_handful_of_statements_whatever_its_size() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    for db in common::databases().await {
        let mut store = Store::connect(&db.url).await.unwrap();
        let project = store.create_project("shop").await.unwrap().project;
        store
            .add_recipient(project.id, "team@example.com")
            .await
            .unwrap();
        let statements = Arc::new(AtomicUsize::new(0));
        let counter = statements.clone();
        store.on_write_statement(move || {
            counter.fetch_add(1, Ordering::Relaxed);
        });
        let now = now_ms();
        let mut per_batch = Vec::new();
        for (round, size) in [(0, 10usize), (1, 200)] {
            // New issues (a notification each), known issues, users, a duplicate.
            let mut batch: Vec<NewEvent> = (0..size)
                .map(|i| {
                    let user = (i % 7).to_string();
                    new_event(
                        project.id,
                        &format!("f{}-{}", round, i % 5),
                        Some(&user),
                        now + i as i64,
                        "shop@1.0.0",
                    )
                })
                .collect();
            batch.push(batch[0].clone());
            statements.store(0, Ordering::Relaxed);
            let stored: Vec<_> = store
                .ingest_batch(&batch, Alerting::default())
                .await
                .into_iter()
                .map(Result::unwrap)
                .collect();
            per_batch.push(statements.load(Ordering::Relaxed));
            assert_eq!(
                stored.iter().filter(|s| s.new_issue).count(),
                5,
                "{}",
                db.kind
            );
            assert!(stored.last().unwrap().duplicate);
            assert_eq!(stored.iter().filter(|s| s.notifications > 0).count(), 5);
        }
        assert_eq!(
            per_batch[0], per_batch[1],
            "{}: 10 and 200 events cost the same statements",
            db.kind
        );
        assert!(
            per_batch[1] <= 14,
            "{}: {} statements for a batch",
            db.kind,
            per_batch[1]
        );
    }
}

/// Two stores on one database (two collectors) writing the same issues at once: every
/// count exact, every event stored once, each new issue created once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_keep_exact_counts() {
    for db in common::databases().await {
        let first = Store::connect(&db.url).await.unwrap();
        let second = Store::connect(&db.url).await.unwrap();
        let project = first.create_project("shop").await.unwrap().project;
        let now = now_ms();
        let mut tasks = Vec::new();
        for (writer, store) in [first.clone(), second.clone()].into_iter().enumerate() {
            tasks.push(tokio::spawn(async move {
                let mut new_issues = 0;
                for round in 0..20 {
                    // Both writers send the same fingerprints, and a share of the same
                    // event ids (an SDK retrying against the other collector).
                    let batch: Vec<NewEvent> = (0..25)
                        .map(|i| {
                            let mut event = new_event(
                                project.id,
                                &format!("f{}", i % 6),
                                Some(&(i % 4).to_string()),
                                now + round * 100 + i,
                                "shop@1.0.0",
                            );
                            if i % 5 == 0 {
                                event.event_id = format!("{:032x}", round * 1000 + i);
                            } else {
                                event.event_id = format!(
                                    "{:032x}",
                                    1 << 40 | (writer as i64) << 32 | round << 8 | i
                                );
                            }
                            event
                        })
                        .collect();
                    for result in store.ingest_batch(&batch, Alerting::default()).await {
                        if result.expect("no error under contention").new_issue {
                            new_issues += 1;
                        }
                    }
                }
                new_issues
            }));
        }
        let mut new_issues = 0;
        for task in tasks {
            new_issues += task.await.unwrap();
        }
        let issues = first
            .list_issues(
                project.id,
                &IssueFilter {
                    limit: 100,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(issues.len(), 6, "{}", db.kind);
        assert_eq!(new_issues, 6, "{}: each issue created once", db.kind);
        let counted: i64 = issues.iter().map(|i| i.event_count).sum();
        let mut stored = 0;
        for issue in &issues {
            let events = first.stored_event_count(issue.id).await.unwrap();
            assert_eq!(
                issue.event_count as u64, events,
                "{}: {}",
                db.kind, issue.title
            );
            stored += events;
            let users = first.issue_users(issue.id).await.unwrap();
            assert_eq!(issue.user_count as usize, users.len());
            // The earliest event of `f{k}` is round 0's `i = k`, whichever writer's
            // batch came last.
            let k: i64 = issue.fingerprint.trim_start_matches('f').parse().unwrap();
            assert_eq!(issue.first_seen, now + k, "{}: {}", db.kind, issue.title);
            assert_eq!(issue.last_seen, now + 19 * 100 + 24 - (24 - k) % 6);
        }
        // 2 writers x 20 rounds x 25 events, of which the shared ids count once.
        assert_eq!(stored, 2 * 20 * 25 - 20 * 5, "{}", db.kind);
        assert_eq!(counted as u64, stored);
    }
}

/// Ignored until more events, more users or a date, the issue comes back by itself;
/// resolved in the next release, only an event of a newer release reopens it.
#[tokio::test]
async fn snoozes_run_out_and_next_release_resolves_wait_for_a_newer_release() {
    for db in common::databases().await {
        let store = Store::connect(&db.url).await.unwrap();
        let project = store.create_project("shop").await.unwrap().project;
        let now = now_ms();
        let one = async |fingerprint: &str, user: Option<&str>, release: &str, at: i64| {
            let event = new_event(project.id, fingerprint, user, at, release);
            store
                .ingest_batch(&[event], Alerting::default())
                .await
                .remove(0)
                .unwrap()
        };
        let status = async |id: i64| store.issue(id).await.unwrap().unwrap().status;

        // Two more events.
        let events = one("by-events", None, "shop@1.0.0", now).await.issue_id;
        store
            .snooze_issue(events, Snooze::MoreEvents(2))
            .await
            .unwrap();
        one("by-events", None, "shop@1.0.0", now + 1).await;
        assert_eq!(status(events).await, IssueStatus::Ignored, "{}", db.url);
        one("by-events", None, "shop@1.0.0", now + 2).await;
        assert_eq!(status(events).await, IssueStatus::Unresolved, "{}", db.url);
        assert_eq!(
            store.issue(events).await.unwrap().unwrap().snooze_events,
            None
        );

        // One more user.
        let users = one("by-users", Some("1"), "shop@1.0.0", now).await.issue_id;
        store
            .snooze_issue(users, Snooze::MoreUsers(1))
            .await
            .unwrap();
        one("by-users", Some("1"), "shop@1.0.0", now + 1).await;
        one("by-users", None, "shop@1.0.0", now + 2).await;
        assert_eq!(
            status(users).await,
            IssueStatus::Ignored,
            "same user, no user"
        );
        one("by-users", Some("2"), "shop@1.0.0", now + 3).await;
        assert_eq!(status(users).await, IssueStatus::Unresolved);

        // A date: back when the sweep runs after it, or with an event after it.
        let later = one("by-date", None, "shop@1.0.0", now).await.issue_id;
        let past = one("by-past-date", None, "shop@1.0.0", now).await.issue_id;
        store
            .snooze_issue(later, Snooze::Until(now + 3_600_000))
            .await
            .unwrap();
        store
            .snooze_issue(past, Snooze::Until(now - 1))
            .await
            .unwrap();
        assert_eq!(store.wake_snoozed(now_ms()).await.unwrap().len(), 1);
        assert_eq!(status(past).await, IssueStatus::Unresolved);
        assert_eq!(status(later).await, IssueStatus::Ignored);
        one("by-date", None, "shop@1.0.0", now + 1).await;
        assert_eq!(
            status(later).await,
            IssueStatus::Ignored,
            "an event before the date"
        );

        // Resolved in the next release.
        let fixed = one("next", None, "shop@1.9.0", now).await.issue_id;
        one("next", None, "shop@2.0.0", now + 1).await;
        store.resolve_in_next_release(fixed).await.unwrap();
        let again = one("next", None, "shop@2.0.0", now + 2).await;
        assert!(!again.regression);
        let old = one("next", None, "shop@1.9.0", now + 3).await;
        assert!(!old.regression, "an older release still running");
        assert_eq!(status(fixed).await, IssueStatus::Resolved);
        let newer = one("next", None, "shop@2.0.1", now + 4).await;
        assert!(newer.regression, "{}", db.url);
        let issue = store.issue(fixed).await.unwrap().unwrap();
        assert_eq!(issue.status, IssueStatus::Unresolved);
        assert_eq!(issue.resolved_in_release, None);
        assert_eq!(issue.regression_count, 1);
        assert_eq!(issue.event_count, 5, "every event counted");
    }
}

/// Merging moves events, users and counts to the target, later events of the merged
/// fingerprint join it too; unmerging gives exactly those back.
#[tokio::test]
async fn merge_and_unmerge_move_events_users_and_counts_exactly() {
    for db in common::databases().await {
        let store = Store::connect(&db.url).await.unwrap();
        let project = store.create_project("shop").await.unwrap().project;
        let now = now_ms();
        let batch = vec![
            new_event(project.id, "a", Some("1"), now, "r"),
            new_event(project.id, "a", Some("2"), now + 1, "r"),
            new_event(project.id, "a", None, now + 2, "r"),
            new_event(project.id, "b", Some("2"), now + 3, "r"),
            new_event(project.id, "b", Some("3"), now + 4, "r2"),
        ];
        let stored: Vec<_> = store
            .ingest_batch(&batch, Alerting::default())
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let (a, b) = (stored[0].issue_id, stored[3].issue_id);
        let issue = async |id: i64| store.issue(id).await.unwrap().unwrap();
        let listed = async || {
            store
                .list_issues(
                    project.id,
                    &IssueFilter {
                        limit: 10,
                        ..Default::default()
                    },
                )
                .await
                .unwrap()
                .iter()
                .map(|i| i.id)
                .collect::<Vec<_>>()
        };

        let merged = store.merge_issues(project.id, a, &[b]).await.unwrap();
        assert_eq!(
            (merged.event_count, merged.user_count),
            (5, 3),
            "{}",
            db.url
        );
        // The header says when and in which release it was last seen: the merged
        // issue's latest event's.
        assert_eq!(
            (merged.last_seen, merged.last_release.as_deref()),
            (now + 4, Some("r2"))
        );
        assert_eq!(
            (merged.first_seen, merged.first_release.as_deref()),
            (now, Some("r"))
        );
        assert_eq!(listed().await, vec![a], "the merged issue is hidden");
        assert_eq!(issue(b).await.merged_into, Some(a));
        let users = store.issue_users(a).await.unwrap();
        assert_eq!(
            users
                .iter()
                .find(|u| u.user_key == "id:2")
                .unwrap()
                .event_count,
            2
        );
        let events = store
            .event_list(a, &Default::default(), 0, 50)
            .await
            .unwrap();
        assert_eq!(events.len(), 5);
        assert!(
            store.merge_issues(project.id, b, &[a]).await.is_err(),
            "a merged issue is not a target"
        );

        // A new event of the merged fingerprint joins the target.
        let later = store
            .ingest_batch(
                &[new_event(project.id, "b", Some("4"), now + 5, "r")],
                Alerting::default(),
            )
            .await
            .remove(0)
            .unwrap();
        assert_eq!(later.issue_id, a);
        assert!(!later.new_issue);
        assert_eq!(issue(a).await.event_count, 6);

        let back = store.unmerge_issue(project.id, b).await.unwrap();
        assert_eq!(
            (back.event_count, back.user_count, back.merged_into),
            (3, 3, None),
            "{}",
            db.url
        );
        let target = issue(a).await;
        assert_eq!((target.event_count, target.user_count), (3, 2));
        assert_eq!(
            store
                .event_list(b, &Default::default(), 0, 50)
                .await
                .unwrap()
                .len(),
            3
        );
        assert_eq!(
            store
                .event_list(a, &Default::default(), 0, 50)
                .await
                .unwrap()
                .len(),
            3
        );
        let users = store.issue_users(a).await.unwrap();
        assert_eq!(
            users
                .iter()
                .find(|u| u.user_key == "id:2")
                .unwrap()
                .event_count,
            1
        );
        let mut ids = listed().await;
        ids.sort();
        assert_eq!(ids, vec![a, b]);
        // The list's release filter finds the unmerged issue by its events again.
        let in_r2 = store
            .list_issues(
                project.id,
                &IssueFilter {
                    release: Some("r2".into()),
                    limit: 10,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(in_r2.iter().any(|i| i.id == b), "{}", db.url);
        let again = store
            .ingest_batch(
                &[new_event(project.id, "b", None, now + 6, "r")],
                Alerting::default(),
            )
            .await
            .remove(0)
            .unwrap();
        assert_eq!(again.issue_id, b, "its own again");
    }
}

/// A query that never ends by itself.
const ENDLESS: &str =
    "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n";

async fn endless(
    db: &sea_orm::DatabaseConnection,
) -> Result<(), mayday_collector::store::StoreError> {
    use sea_orm::ConnectionTrait;
    let statement = sea_orm::Statement::from_string(db.get_database_backend(), ENDLESS);
    db.query_one(statement).await?;
    Ok(())
}

async fn quick(
    db: &sea_orm::DatabaseConnection,
) -> Result<(), mayday_collector::store::StoreError> {
    use sea_orm::ConnectionTrait;
    db.execute_unprepared("SELECT 1").await?;
    Ok(())
}

/// Whether PostgreSQL still runs an endless query (always false on SQLite).
async fn endless_running(store: &Store) -> bool {
    use sea_orm::ConnectionTrait;
    if store.backend_name() != "postgres" {
        return false;
    }
    let db = store.connection();
    let row = db
        .query_one(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT count(*) AS n FROM pg_stat_activity \
             WHERE state = 'active' AND query LIKE 'WITH RECURSIVE n(x)%'",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap() > 0
}

/// Reads people shape run apart: stopped at their time limit, stopped when their reader
/// goes away (the connection free again at once, the query gone from PostgreSQL), at
/// most two per project, so another project's read finds a connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bounded_reads_stop_on_time_and_when_abandoned_and_leave_room_for_others() {
    use mayday_collector::store::StoreError;
    use std::time::Duration;
    for db in common::databases().await {
        let store = Store::connect(&db.url).await.unwrap();
        // Stopped at its limit, saying so.
        store.set_read_time_limit(Duration::from_millis(300));
        let error = store.bounded_read(1, endless).await.unwrap_err();
        assert!(
            matches!(error, StoreError::TimedOut(_)),
            "{}: {error}",
            db.kind
        );
        assert!(
            error.to_string().contains("took longer than 300 ms"),
            "{error}"
        );

        // Abandoned by their readers: every connection comes back (a quick read in each
        // of four projects would otherwise wait out the minute).
        store.set_read_time_limit(Duration::from_secs(60));
        for project in [1, 1, 2, 2] {
            let abandoned = tokio::time::timeout(
                Duration::from_millis(200),
                store.bounded_read(project, endless),
            )
            .await;
            assert!(
                abandoned.is_err(),
                "{}: still running when given up",
                db.kind
            );
        }
        let quick_reads = (3..7).map(|project| store.bounded_read(project, quick));
        let answered = tokio::time::timeout(
            Duration::from_secs(20),
            futures_util::future::join_all(quick_reads),
        )
        .await
        .unwrap_or_else(|_| panic!("{}: the abandoned reads still hold connections", db.kind));
        assert!(
            answered.iter().all(Result::is_ok),
            "{}: {answered:?}",
            db.kind
        );
        for _ in 0..50 {
            if !endless_running(&store).await {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            !endless_running(&store).await,
            "{}: cancelled on the server",
            db.kind
        );

        // Two slow reads of project 7 take its share, not everyone's.
        let slow: Vec<_> = (0..2)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store.bounded_read(7, endless).await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let other = tokio::time::timeout(Duration::from_secs(20), store.bounded_read(8, quick))
            .await
            .expect("another project's read is not kept waiting");
        assert!(other.is_ok(), "{}: {other:?}", db.kind);
        store.set_read_time_limit(Duration::from_millis(300));
        let third = store.bounded_read(7, quick).await;
        assert!(
            matches!(third, Err(StoreError::Busy)),
            "{}: {third:?}",
            db.kind
        );
        for task in slow {
            task.abort();
        }
        let again = tokio::time::timeout(
            Duration::from_secs(20),
            futures_util::future::join_all((0..4).map(|n| store.bounded_read(9 + n, quick))),
        )
        .await
        .expect("connections back after the slow reads were abandoned");
        assert!(again.iter().all(Result::is_ok), "{}: {again:?}", db.kind);
    }
}
