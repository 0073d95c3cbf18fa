//! Waiting for an order to settle: `GET /api/v1/orders/{id}?wait=` answers as soon as the
//! order is ready (or has ended without an eSIM), instead of the app asking again and again.
//! Every process listens on `order_settled` (sent by the lifecycle at commit, whichever
//! process made the move) and wakes only the reads waiting on that order.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use uuid::Uuid;

use crate::db::Pool;
use crate::db::notify::{self, Listener};
use crate::domain::order::Order;
use crate::error::Result;

type Waiting = Arc<Mutex<HashMap<Uuid, watch::Sender<()>>>>;

/// The reads waiting for orders to settle, in this process.
#[derive(Clone)]
pub struct Settlements {
    waiting: Waiting,
    /// `true` once the server is shutting down: waits end at once, so the drain is not held.
    closing: Arc<watch::Sender<bool>>,
}

impl Default for Settlements {
    fn default() -> Self {
        Settlements { waiting: Waiting::default(), closing: Arc::new(watch::channel(false).0) }
    }
}

impl Settlements {
    /// Starts following `order_settled` on a connection of its own.
    pub async fn follow(pool: Pool) -> Result<Self> {
        let settlements = Settlements::default();
        let listener = Listener::connect(&pool, notify::ORDER_SETTLED).await?;
        tokio::spawn(follow(settlements.clone(), pool, listener));
        Ok(settlements)
    }

    /// Starts watching an order. Take the watch *before* reading the order: a settlement
    /// committed after the read then wakes it, and one committed before is in the read.
    pub fn watch(&self, order_id: Uuid) -> Watch {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        let receiver = waiting.entry(order_id).or_insert_with(|| watch::channel(()).0).subscribe();
        Watch { waiting: self.waiting.clone(), order_id, receiver: Some(receiver), closing: self.closing.subscribe() }
    }

    /// Ends every wait now and every later one at once: the server is shutting down, and each
    /// waiting read answers with the order as it is.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    fn wake(&self, order_id: Option<Uuid>) {
        let waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        match order_id {
            Some(id) => waiting.get(&id).into_iter().for_each(|tx| tx.send_replace(())),
            None => waiting.values().for_each(|tx| tx.send_replace(())),
        }
    }

    /// How many orders have a read waiting on them.
    pub fn watched(&self) -> usize {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// One read waiting for one order; it stops watching when dropped.
pub struct Watch {
    waiting: Waiting,
    order_id: Uuid,
    receiver: Option<watch::Receiver<()>>,
    closing: watch::Receiver<bool>,
}

impl Watch {
    /// Waits until the order may have settled (its announcement, or a listener reconnect that
    /// may have lost one), `limit` has passed, or the server is closing. `true` when woken:
    /// read the order again.
    pub async fn woken_within(&mut self, limit: Duration) -> bool {
        let Some(receiver) = self.receiver.as_mut() else { return false };
        let closing = self.closing.wait_for(|closing| *closing);
        tokio::select! {
            changed = tokio::time::timeout(limit, receiver.changed()) => matches!(changed, Ok(Ok(()))),
            _ = closing => false,
        }
    }
}

/// `order` once it has settled, read again by `read` each time it may have (the watch must
/// have been taken before `order` was read), or as it is when `wait` has passed.
pub async fn until_settled<F, Fut>(mut watch: Watch, wait: Duration, mut order: Order, mut read: F) -> Result<Order>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Order>>,
{
    let until = tokio::time::Instant::now() + wait;
    while order.status.in_progress() {
        let left = until.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() || !watch.woken_within(left).await {
            break;
        }
        order = read().await?;
    }
    Ok(order)
}

impl Drop for Watch {
    fn drop(&mut self) {
        drop(self.receiver.take());
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        // Watches subscribe under this lock, so no count is missed.
        if waiting.get(&self.order_id).is_some_and(|tx| tx.receiver_count() == 0) {
            waiting.remove(&self.order_id);
        }
    }
}

/// Wakes the reads waiting on each announced order. After a reconnect it wakes them all, as
/// announcements sent meanwhile are lost; each then reads its order again.
async fn follow(settlements: Settlements, pool: Pool, mut listener: Listener) {
    loop {
        match listener.recv().await {
            Ok(Some(payload)) => match Uuid::parse_str(&payload) {
                Ok(id) => settlements.wake(Some(id)),
                Err(_) => tracing::warn!(payload, "order_settled: not an order id"),
            },
            Ok(None) => {
                tracing::warn!("order_settled listener reconnected; waking every waiting read");
                settlements.wake(None);
            }
            Err(_) if pool.is_closed() => return,
            Err(e) => {
                tracing::error!(error = %e, "order_settled listener failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_watch_wakes_for_its_own_order_only_and_is_forgotten_when_dropped() {
        let settlements = Settlements::default();
        let (mine, other) = (Uuid::new_v4(), Uuid::new_v4());
        let mut watch = settlements.watch(mine);
        let mut second = settlements.watch(mine);
        settlements.wake(Some(other));
        assert!(!watch.woken_within(Duration::from_millis(20)).await, "woken by another order");
        settlements.wake(Some(mine));
        assert!(watch.woken_within(Duration::from_millis(20)).await);
        assert!(second.woken_within(Duration::from_millis(20)).await);
        drop(watch);
        assert_eq!(settlements.watched(), 1, "still watched by the second read");
        drop(second);
        assert_eq!(settlements.watched(), 0);
    }

    #[tokio::test]
    async fn a_wake_before_the_watch_is_not_seen_and_a_reconnect_wakes_everyone() {
        let settlements = Settlements::default();
        let id = Uuid::new_v4();
        let _early = settlements.watch(id);
        settlements.wake(Some(id));
        let mut late = settlements.watch(id);
        assert!(!late.woken_within(Duration::from_millis(20)).await, "saw a wake from before it watched");
        settlements.wake(None);
        assert!(late.woken_within(Duration::from_millis(20)).await);
    }

    #[tokio::test]
    async fn closing_ends_waits_at_once_and_later_ones_too() {
        let settlements = Settlements::default();
        let mut watch = settlements.watch(Uuid::new_v4());
        let closer = settlements.clone();
        let started = tokio::time::Instant::now();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            closer.close();
        });
        assert!(!watch.woken_within(Duration::from_secs(30)).await);
        assert!(started.elapsed() < Duration::from_secs(10), "the wait outlived the close");
        let mut later = settlements.watch(Uuid::new_v4());
        assert!(!later.woken_within(Duration::from_secs(30)).await);
    }
}
