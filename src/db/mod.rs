//! The only place that writes SQL. Functions take an executor (`impl PgExecutor`, as bors
//! does): a pool for a one-off statement, a transaction when services need several to hold
//! together. Services name the pool and transactions through the aliases below.

pub mod admin_reports;
pub mod catalogue;
pub mod catalogue_admin;
pub mod constraints;
pub mod esims;
pub mod idempotency;
pub mod jobs;
pub mod notify;
pub mod order_events;
pub mod orders;
pub mod stripe_events;
mod types;
pub mod users;

use sqlx::{PgConnection, PgExecutor};

/// The embedded migrations, run at every start.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The connection pool services and the app state hold.
pub type Pool = sqlx::PgPool;
/// A connection inside a transaction, as `transition` and friends take it.
pub type Conn = sqlx::PgConnection;
/// A transaction a service opens with `pool.begin()`.
pub type Tx = sqlx::Transaction<'static, sqlx::Postgres>;
/// What the database answers when a statement fails.
pub type DbError = sqlx::Error;

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

/// Makes the transaction a read-only snapshot: every read in it sees the same moment. The
/// first statement of the transaction.
pub async fn read_only_snapshot(tx: &mut Conn) -> sqlx::Result<()> {
    sqlx::query("set transaction isolation level repeatable read, read only").execute(tx).await.map(|_| ())
}
