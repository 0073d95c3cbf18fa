//! The job worker never stalls: several jobs run at once, so a hung Telnyx call delays only
//! its own order; short leases renewed by a heartbeat, so a dead worker's job is taken over
//! soon and a slow but live one is not; and a runner that lost its claim writes nothing.

use std::future::Future;
use std::time::{Duration, Instant};

use telnyx_emulator::{Fault, Target};
use tern::worker::{JobResult, Worker, WorkerConfig};

use crate::helpers::{TestApp, spawn_app, spawn_app_with_worker};

/// A test lease: a dead worker's job comes back after about this long.
const SHORT_LEASE: Duration = Duration::from_secs(2);

fn short_lease_worker(app: &TestApp) -> Worker {
    // The kinds this app's stepped workers run (not email, which the app sends on its own).
    Worker { config: WorkerConfig { lease: SHORT_LEASE, ..app.worker().config }, ..app.worker() }
}

/// Polls `check` until it gives a value; panics after `bound` (an "eventually" bound, not a
/// measured time).
async fn within<T, F, Fut>(bound: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + bound;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Buys and pays a plan, with the application's own worker running (so the order may be past
/// `paid` as soon as it is paid).
async fn bought(app: &TestApp, plan_id: &str) -> uuid::Uuid {
    let (id, _, session_id) = app.buy_plan(plan_id).await;
    app.pay(&session_id).await;
    id
}

#[tokio::test]
async fn a_hung_telnyx_call_delays_only_its_own_order() {
    let app = spawn_app_with_worker().await;
    // Far longer than the client's timeout: only that timeout ends the call.
    app.telnyx.inject(Target::Purchase, Fault::Hang(Duration::from_secs(600)), 1);
    let (plan_id, _) = app.some_plan().await;
    let hung = bought(&app, &plan_id).await;
    app.wait_status(hung, "provisioning").await;

    let mut others = Vec::new();
    for _ in 0..10 {
        others.push(bought(&app, &plan_id).await);
    }
    for order in &others {
        app.wait_ready(*order).await;
    }
    assert_eq!(app.status(hung).await, "provisioning", "the hung call is still waiting");
    assert!(tern::clients::telnyx::WRITE_TIMEOUT < WorkerConfig::default().lease, "calls end before leases do");

    // The client's timeout ends the hung call; the retry buys the eSIM.
    within(Duration::from_secs(90), "the hung order is ready after a retry", || async {
        (app.status(hung).await == "ready").then_some(())
    })
    .await;
    assert_eq!(app.telnyx.sims().len(), 11);
}

#[tokio::test]
async fn a_dead_workers_job_is_taken_over_after_its_short_lease() {
    assert!(WorkerConfig::default().lease <= Duration::from_secs(30), "not five minutes");
    let app = spawn_app().await;
    let (id, _) = app.paid_order().await;
    app.telnyx.inject(Target::Purchase, Fault::Hang(Duration::from_secs(600)), 1);
    let doomed = short_lease_worker(&app);
    let dead = tokio::spawn(async move { doomed.run_once().await });
    // The hung purchase reached Telnyx: the process dies mid-call, not before it.
    crate::helpers::eventually("the purchase is in flight", || async {
        app.telnyx.in_flight().iter().any(|r| r.method == "POST" && r.path == "/actions/purchase/esims")
    })
    .await;
    // The process dies mid-call: no more heartbeats, nothing written about the job.
    dead.abort();
    let _ = dead.await;

    let second = short_lease_worker(&app);
    let result = within(Duration::from_secs(30), "a second worker takes the job over", || async {
        second.run_once().await.unwrap().map(|(job, result)| (job.kind, result))
    })
    .await;
    assert_eq!(result, ("provision_esim".to_string(), JobResult::Done));
    assert_eq!(app.status(id).await, "ready");
}

#[tokio::test]
async fn a_job_running_longer_than_its_lease_keeps_it_by_heartbeat() {
    let app = spawn_app().await;
    let (id, _) = app.paid_order().await;
    // A purchase that answers only after three leases.
    app.telnyx.inject(Target::Purchase, Fault::Hang(SHORT_LEASE * 3), 1);
    let first = short_lease_worker(&app);
    let running = tokio::spawn(async move { first.run_once().await });
    app.wait_status(id, "provisioning").await;

    let second = short_lease_worker(&app);
    let mut looks = 0;
    while !running.is_finished() {
        assert!(second.run_once().await.unwrap().is_none(), "taken over while its heartbeat runs");
        looks += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(looks > 0);
    let (_, result) = running.await.unwrap().unwrap().expect("the first worker ran the job");
    assert_eq!(result, JobResult::Done);
    assert_eq!(app.status(id).await, "ready");
    assert_eq!(app.telnyx.purchases(), 1, "one runner, one purchase");
}

#[tokio::test]
async fn a_runner_whose_job_was_taken_over_writes_nothing() {
    let app = spawn_app().await;
    let (id, _) = app.paid_order().await;
    let stale = tern::services::jobs::claim(&app.pool, Duration::from_millis(200)).await.unwrap().expect("a job");
    let second = app.worker();
    let result = within(Duration::from_secs(30), "the expired claim is taken over", || async {
        second.run_once().await.unwrap().map(|(job, result)| (job.kind, result))
    })
    .await;
    assert_eq!(result, ("provision_esim".to_string(), JobResult::Done));

    use tern::services::jobs;
    assert!(!jobs::heartbeat(&app.pool, &stale, Duration::from_secs(60)).await.unwrap(), "no heartbeat");
    assert!(!jobs::retry_later(&app.pool, &stale, Duration::ZERO, "late").await.unwrap(), "no retry");
    assert!(!jobs::give_up(&app.pool, &stale, "late").await.unwrap(), "no failure");
    assert!(!jobs::complete(&app.pool, &stale).await.unwrap(), "no completion");
    assert_eq!(app.status(id).await, "ready");
    assert_eq!(app.event_count(id, "provisioning_retry").await, 0);
    assert_eq!(app.event_count(id, "provisioning_failed").await, 0);
    assert!(app.worker().run_once().await.unwrap().is_none(), "the job stays done");
}

#[tokio::test]
async fn an_esim_is_claimed_before_the_messages_due_beside_it() {
    use tern::services::jobs::{self, JobKinds};
    let app = spawn_app().await;
    let (id, _) = app.paid_order().await;
    // A webhook delivery that has been due for a minute, longer than the order's provisioning.
    sqlx::query(
        "insert into jobs (kind, key, order_id, run_at) values ('deliver_webhook', 'test:early', $1, now() - interval '1 minute')",
    )
    .bind(id)
    .execute(&app.pool)
    .await
    .unwrap();

    let lease = Duration::from_secs(30);
    let first = jobs::claim(&app.pool, lease).await.unwrap().expect("a job");
    assert_eq!((first.kind.as_str(), first.order_id), ("provision_esim", Some(id)), "the eSIM first");
    // A batch claim takes what is left (the emails are the background mail worker's), and says
    // by its size that nothing else is due.
    let not_mail = JobKinds::Except(&["send_email"]);
    let rest = jobs::claim_many(&app.pool, lease, not_mail, 5).await.unwrap();
    let keys: Vec<&str> = rest.iter().map(|j| j.key.as_str()).collect();
    assert_eq!(keys, ["test:early"]);
    assert!(jobs::claim_many(&app.pool, lease, not_mail, 5).await.unwrap().is_empty(), "all claimed");
}

/// A job's status, and whether it was last written by the transaction that wrote one of its
/// order's `event`s (`now()` is the transaction's start: the same instant only then).
async fn done_with_event(app: &TestApp, kind: &str, key: &str, event: &str) -> (String, bool) {
    sqlx::query_as(
        "select j.status, bool_or(j.updated_at = e.created_at) from jobs j
           join order_events e on e.order_id = j.order_id and e.type = $3
          where j.kind = $1 and j.key = $2 group by j.status",
    )
    .bind(kind)
    .bind(key)
    .bind(event)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_jobs_last_transaction_marks_it_done_with_what_it_wrote() {
    let app = spawn_app_with_worker().await;
    let (plan_id, _) = app.some_plan().await;
    let id = bought(&app, &plan_id).await;
    app.wait_ready(id).await;
    let provisioning = done_with_event(&app, "provision_esim", &id.to_string(), "ready").await;
    assert_eq!(provisioning, ("done".into(), true), "the move to ready marks the job done, in one transaction");
    crate::helpers::eventually("both emails are sent", || async { app.event_count(id, "email_sent").await == 2 }).await;
    let email = done_with_event(&app, "send_email", &format!("{id}:esim_ready"), "email_sent").await;
    assert_eq!(email, ("done".into(), true), "an email is recorded as sent where its job is done");
}

#[tokio::test]
async fn a_retry_that_comes_due_later_runs_with_nothing_else_queued() {
    // Nothing is queued after the retry is scheduled: only the worker's own idle clock can
    // notice that it has come due (no NOTIFY says so).
    let app = spawn_app_with_worker().await;
    app.telnyx.inject(Target::Purchase, Fault::RateLimited { reset_seconds: 1 }, 1);
    let (plan_id, _) = app.some_plan().await;
    let id = bought(&app, &plan_id).await;
    // Due a second after the 429; the idle clock ticks every 50 ms here. The bound is an
    // "eventually", far above both.
    within(Duration::from_secs(10), "the retry runs once it is due", || async {
        (app.status(id).await == "ready").then_some(())
    })
    .await;
    assert_eq!(app.event_count(id, "provisioning_retry").await, 1, "one 429, one retry");
}
