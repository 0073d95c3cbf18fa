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

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgExecutor};

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

/// Connections a process holds at most.
pub const MAX_CONNECTIONS: u32 = 10;

/// A pooled connection idle for longer than this is pinged before it is handed out, so one the
/// server closed meanwhile (a restart, an idle timeout) is replaced instead of failing a
/// request. One used more recently is handed out as it is: sqlx's own test pings on every
/// acquire, a round trip of its own (Sync, ReadyForQuery) for each of the ~30 acquires of an
/// order, and under load every connection is back in the pool within milliseconds.
pub const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// How every pool of the application is built: [`MAX_CONNECTIONS`], [`PING_AFTER_IDLE`], and a
/// request waits at most 5 s for a connection.
pub fn pool_options() -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > PING_AFTER_IDLE {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
}

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
