//! The environments and releases seen per project, for the issue list's selects (a
//! distinct scan of a million events, or of every issue, per page view is too slow),
//! filled from the events already stored; and an index for the tabs' counts.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FilterValue {
    Table,
    Id,
    ProjectId,
    Kind,
    Value,
    LastSeen,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(FilterValue::Table)
                .col(
                    ColumnDef::new(FilterValue::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(FilterValue::ProjectId)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(FilterValue::Kind).text().not_null())
                .col(ColumnDef::new(FilterValue::Value).text().not_null())
                .col(
                    ColumnDef::new(FilterValue::LastSeen)
                        .big_integer()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("filter_value_project_kind_value")
                .table(FilterValue::Table)
                .col(FilterValue::ProjectId)
                .col(FilterValue::Kind)
                .col(FilterValue::Value)
                .unique()
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        // The tabs count the issues that are not merged, per status: a partial index
        // holds exactly those.
        db.execute_unprepared(
            "CREATE INDEX issue_live_status ON issue (project_id, status) \
             WHERE merged_into IS NULL",
        )
        .await?;
        for (kind, column) in [("environment", "environment"), ("release", "release")] {
            db.execute_unprepared(&format!(
                "INSERT INTO filter_value (project_id, kind, value, last_seen) \
                 SELECT project_id, '{kind}', {column}, MAX(received_at) FROM event \
                 WHERE {column} IS NOT NULL GROUP BY project_id, {column}"
            ))
            .await?;
        }
        Ok(())
    }
}
