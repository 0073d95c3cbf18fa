//! PostgreSQL notifications: the channels Tern listens on, and a listener that reconnects.

use std::time::Duration;

use sqlx::postgres::PgListener;

use super::{DbError, Pool};

/// Sent by triggers on every catalogue table: each process reloads its snapshot.
pub const CATALOGUE_CHANGED: &str = "catalogue_changed";
/// Sent when a job is queued: idle workers wake.
pub const JOBS_QUEUED: &str = "jobs_queued";
/// Sent, with the order's id, when an order settles (`orders::set_status`): API reads waiting
/// for it answer.
pub const ORDER_SETTLED: &str = "order_settled";

/// What a wait for a notification ended with.
#[derive(Debug, PartialEq, Eq)]
pub enum Wake {
    /// A notification came (any buffered ones behind it were drained).
    Notified,
    /// The connection was lost and re-established: notifications sent meanwhile are lost.
    Reconnected,
    /// Nothing came within the wait.
    TimedOut,
}

/// A connection listening on one channel; it reconnects by itself after a lost connection.
pub struct Listener(PgListener);

impl Listener {
    pub async fn connect(pool: &Pool, channel: &str) -> Result<Self, DbError> {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(channel).await?;
        Ok(Listener(listener))
    }

    /// Waits for the next notification, at most `timeout` when one is given.
    pub async fn wait(&mut self, timeout: Option<Duration>) -> Result<Wake, DbError> {
        let next = self.0.try_recv();
        let got = match timeout {
            Some(limit) => match tokio::time::timeout(limit, next).await {
                Ok(got) => got?,
                Err(_) => return Ok(Wake::TimedOut),
            },
            None => next.await?,
        };
        Ok(if got.is_some() { Wake::Notified } else { Wake::Reconnected })
    }

    /// The next notification's payload; `None` when the connection was lost and re-established
    /// (notifications sent meanwhile are lost).
    pub async fn recv(&mut self) -> Result<Option<String>, DbError> {
        Ok(self.0.try_recv().await?.map(|n| n.payload().to_owned()))
    }

    /// Drops the notifications already received: a burst coalesces into one wake-up.
    pub fn drain(&mut self) {
        while self.0.next_buffered().is_some() {}
    }
}
