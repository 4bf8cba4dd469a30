//! The issue list's environment and release filters read `issue_tag` (one row per
//! issue and value, kept at ingest under the keys `environment` and `release`) instead
//! of two indexes on `event`: those two indexes took a B-tree write per stored event
//! and most of a log page per distinct issue in every ingest batch, for a filter that
//! only asks whether an issue has ever been seen in a value.
//!
//! The rows are filled from the stored events while their indexes are still there to
//! list the pairs; tags an SDK sent under those two keys are replaced, since the event's own
//! fields are what the filters mean.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Event {
    Table,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared("DELETE FROM issue_tag WHERE key IN ('environment', 'release')")
            .await?;
        // The distinct pairs come from the index alone; the time of the latest
        // event stands for the value's own (a row kept a little longer by retention),
        // since reading each event's time would read every stored row: at a million
        // events, 0.1 s against 3 s on SQLite.
        for column in ["environment", "release"] {
            db.execute_unprepared(&format!(
                "INSERT INTO issue_tag (issue_id, key, value, last_seen) \
                 SELECT seen.issue_id, '{column}', seen.value, issue.last_seen \
                 FROM (SELECT DISTINCT issue_id, {column} AS value FROM event \
                       WHERE {column} IS NOT NULL) AS seen \
                 JOIN issue ON issue.id = seen.issue_id"
            ))
            .await?;
        }
        for name in ["event_issue_environment", "event_issue_release"] {
            m.drop_index(
                Index::drop()
                    .name(name)
                    .table(Event::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
