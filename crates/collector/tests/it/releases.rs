//! Releases and the deploy check: the store's request counts on SQLite and PostgreSQL
//! (added by two writers at once, rolled up to hours), and, end to end, the demo app's
//! reporter counting requests of release A then B, `mayday-collector deploy check`
//! answering, and the official Python SDK's sessions counted.

use crate::common;

use mayday_collector::store::{HealthCount, MINUTE_MS, Store, now_ms};

fn count(release: &str, route: &str, at: i64, ok: i64, errored: i64, crashed: i64) -> HealthCount {
    HealthCount {
        release: release.into(),
        environment: "production".into(),
        route: route.into(),
        at,
        ok,
        errored,
        crashed,
    }
}

#[tokio::test]
async fn counts_add_up_exactly_with_two_writers_and_roll_up_to_hours() {
    for db in common::databases().await {
        let store = Store::connect(&db.url).await.unwrap();
        let other = Store::connect(&db.url).await.unwrap();
        let project = store.create_project("shop").await.unwrap().project;
        // Two days ago, so the roll-up below folds it.
        let old = now_ms() - 2 * 86_400_000;
        let old = old - old.rem_euclid(3_600_000);
        let now = now_ms();

        // 40 adds of one each to the same minute bucket, half through each store, at once.
        let mut adds = Vec::new();
        for i in 0..40 {
            let writer = if i % 2 == 0 {
                store.clone()
            } else {
                other.clone()
            };
            let pid = project.id;
            adds.push(tokio::spawn(async move {
                writer
                    .add_health(pid, &[count("2.0.0", "GET /checkout", now, 1, 0, 0)])
                    .await
            }));
        }
        for add in adds {
            add.await.unwrap().unwrap();
        }
        store
            .add_health(
                project.id,
                &[
                    count("2.0.0", "POST /pay", now, 90, 8, 2),
                    count("1.0.0", "GET /checkout", old, 100, 1, 0),
                    count("1.0.0", "GET /checkout", old + MINUTE_MS, 50, 0, 0),
                    count("1.0.0", "GET /checkout", old + 5 * MINUTE_MS, 50, 1, 0),
                ],
            )
            .await
            .unwrap();

        let totals = store.release_totals(project.id, None, 0).await.unwrap();
        assert_eq!(totals.len(), 2, "{}", db.kind);
        assert_eq!(totals[0].key, "2.0.0", "most recently seen first");
        assert_eq!(
            (totals[0].ok, totals[0].errored, totals[0].crashed),
            (130, 8, 2),
            "{}: every add of both writers counted",
            db.kind
        );
        assert_eq!(totals[1].requests(), 202, "{}", db.kind);
        let routes = store
            .route_totals(project.id, "2.0.0", Some("production"), 0)
            .await
            .unwrap();
        assert_eq!(routes.len(), 2, "{}", db.kind);
        assert!(
            store
                .route_totals(project.id, "2.0.0", Some("staging"), 0)
                .await
                .unwrap()
                .is_empty()
        );

        // The day-old minutes fold into one hour; the figures stay the same.
        let folded = store.roll_up_health(now - 86_400_000).await.unwrap();
        assert_eq!(folded, 3, "{}: three old minute buckets", db.kind);
        let counts = |t: &[mayday_collector::store::Totals]| {
            t.iter()
                .map(|t| (t.key.clone(), t.ok, t.errored, t.crashed))
                .collect::<Vec<_>>()
        };
        let after = store.release_totals(project.id, None, 0).await.unwrap();
        assert_eq!(counts(&after), counts(&totals), "{}", db.kind);
        let hours = store
            .health_hours(project.id, Some("1.0.0"), None, 0)
            .await
            .unwrap();
        assert_eq!(hours, vec![(old, 202, 2)], "{}", db.kind);
        // Rolling up again changes nothing.
        assert_eq!(store.roll_up_health(now - 86_400_000).await.unwrap(), 0);
        assert_eq!(
            counts(&store.release_totals(project.id, None, 0).await.unwrap()),
            counts(&totals)
        );

        store
            .record_deploy(project.id, "2.0.0", "production", now)
            .await
            .unwrap();
        let deploys = store.deploys(project.id, None).await.unwrap();
        assert_eq!(deploys.len(), 1);
        assert_eq!(deploys[0].release, "2.0.0");
    }
}
