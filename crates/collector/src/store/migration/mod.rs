//! Schema migrations, run at every start (each runs once), one file each.
//!
//! A migration's stored name is its file's name (`DeriveMigrationName`): never rename
//! one, or databases that ran it would run it again. Each file names the tables and
//! columns it touches in its own `DeriveIden` enums, as they were when it was written.

mod columns;
mod m0001_initial;
mod m0002_notifications;
mod m0003_web_sessions;
mod m0004_issue_list_indexes;
mod m0005_project_retention;
mod m0006_membership_roles;
mod m0007_account_management;
mod m0008_audit_log;
mod m0009_delivery_indexes;
mod m0010_snooze_and_next_release;
mod m0011_merges;
mod m0012_comments;
mod m0013_filter_values;
mod m0014_issue_tags;
mod m0015_monitors;
mod m0016_outreach;
mod m0017_customer_words;
mod m0018_two_factor;
mod m0019_alert_rules;
mod m0020_owners_and_tickets;
mod m0021_debug_files;
mod m0022_source_links;
mod m0023_source_bundles;
mod m0024_feedback;
mod m0025_release_health;
mod m0026_issue_environments;

use sea_orm_migration::prelude::*;

/// All migrations, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_initial::Migration),
            Box::new(m0002_notifications::Migration),
            Box::new(m0003_web_sessions::Migration),
            Box::new(m0004_issue_list_indexes::Migration),
            Box::new(m0005_project_retention::Migration),
            Box::new(m0006_membership_roles::Migration),
            Box::new(m0007_account_management::Migration),
            Box::new(m0008_audit_log::Migration),
            Box::new(m0009_delivery_indexes::Migration),
            Box::new(m0010_snooze_and_next_release::Migration),
            Box::new(m0011_merges::Migration),
            Box::new(m0012_comments::Migration),
            Box::new(m0013_filter_values::Migration),
            Box::new(m0014_issue_tags::Migration),
            Box::new(m0015_monitors::Migration),
            Box::new(m0016_outreach::Migration),
            Box::new(m0017_customer_words::Migration),
            Box::new(m0018_two_factor::Migration),
            Box::new(m0019_alert_rules::Migration),
            Box::new(m0020_owners_and_tickets::Migration),
            Box::new(m0021_debug_files::Migration),
            Box::new(m0022_source_links::Migration),
            Box::new(m0023_source_bundles::Migration),
            Box::new(m0024_feedback::Migration),
            Box::new(m0025_release_health::Migration),
            Box::new(m0026_issue_environments::Migration),
        ]
    }
}
