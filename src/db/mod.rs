//! The only place that writes SQL. Functions take an executor; services own transactions.

pub mod admin_reports;
pub mod catalogue;
pub mod catalogue_admin;
pub mod esims;
pub mod idempotency;
pub mod jobs;
pub mod orders;
pub mod stripe_events;
pub mod users;

use sqlx::{PgConnection, PgExecutor};

/// Creates `name` unless it exists (the embedded cluster's first start).
pub async fn ensure_database(conn: &mut PgConnection, name: &str) -> sqlx::Result<()> {
    let exists: bool = sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
        .bind(name)
        .fetch_one(&mut *conn)
        .await?;
    if !exists {
        // Identifiers cannot be bound; quote it as PostgreSQL does.
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        sqlx::query(&format!("create database {quoted}")).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Creates database `name` as a copy of `template` (tests: a fresh migrated database each).
pub async fn create_database_from(conn: &mut PgConnection, name: &str, template: &str) -> sqlx::Result<()> {
    let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    sqlx::query(&format!("create database {} template {}", q(name), q(template))).execute(conn).await?;
    Ok(())
}

/// A round trip to the database, for readiness checks.
pub async fn ping(executor: impl PgExecutor<'_>) -> sqlx::Result<()> {
    sqlx::query("select 1").execute(executor).await.map(|_| ())
}
