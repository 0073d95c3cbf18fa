//! The only place that writes SQL. Functions take an executor (`impl PgExecutor`, as bors
//! does): a pool for a one-off statement, a transaction when services need several to hold
//! together. Services name the pool and transactions through the aliases below.

pub mod account_tokens;
pub mod admin_reports;
pub mod api_keys;
pub mod catalogue;
pub mod catalogue_admin;
pub mod constraints;
pub mod esims;
pub mod idempotency;
pub mod integrity;
pub mod jobs;
pub mod logins;
pub mod mail;
pub mod mfa;
pub mod notify;
pub mod order_events;
pub mod orders;
pub mod rate_limits;
pub mod reconcile;
pub mod sealed;
pub mod stripe_events;
mod types;
pub mod users;
pub mod webhooks;

use sqlx::PgExecutor;

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
pub async fn ensure_database(executor: impl PgExecutor<'_>, name: &str) -> sqlx::Result<()> {
    match sqlx::query(&format!("create database {}", quoted(name))).execute(executor).await {
        // 42P04: duplicate_database.
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => Ok(()),
        other => other.map(|_| ()),
    }
}

/// Creates database `name` as a copy of `template` (tests: a fresh migrated database each).
pub async fn create_database_from(executor: impl PgExecutor<'_>, name: &str, template: &str) -> sqlx::Result<()> {
    sqlx::query(&format!("create database {} template {}", quoted(name), quoted(template))).execute(executor).await?;
    Ok(())
}

/// Identifiers cannot be bound; quoted as PostgreSQL does.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
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
