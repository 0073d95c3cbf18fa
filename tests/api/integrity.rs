//! The integrity report: each finding seeded (in the database or the emulators) and fixed in
//! one click, checking the end state; the page, the lock and the schedule (the JSON API:
//! `integrity_api.rs`).

use std::time::Duration;

use telnyx_emulator::{Fault, Target};
use tern::domain::user::Role;
use tern::services::integrity::{self, FindingKind, Report, Trigger};
use tern::services::provisioning::tag_for;
use tern::worker::JobResult;
use uuid::Uuid;

use crate::helpers::{Page, TestApp, eventually, spawn_app};

async fn run(app: &TestApp) -> Report {
    integrity::run(&app.pool, &app.payments, &app.provisioner, Trigger::Operator).await.unwrap().expect("not locked")
}

/// The run's findings of `kind`, as keys.
fn keys(report: &Report, kind: FindingKind) -> Vec<String> {
    report.findings.iter().filter(|f| f.kind == kind).map(|f| f.key.clone()).collect()
}

/// The one finding of `kind`; its count is 1.
fn only(report: &Report, kind: FindingKind) -> integrity::Finding {
    let found: Vec<_> = report.findings.iter().filter(|f| f.kind == kind).cloned().collect();
    assert_eq!(found.len(), 1, "{kind:?}: {:#?}", report.findings);
    assert_eq!(report.counts.iter().find(|(k, _)| *k == kind).unwrap().1, 1);
    found.into_iter().next().unwrap()
}

/// Clicks the finding's fix on the admin page (as the signed-in user).
async fn click_fix(app: &TestApp, key: &str) -> reqwest::Response {
    app.post_form("/admin/integrity/fix", &[("finding", key)]).await
}

async fn fixed(app: &TestApp, key: &str, fix: &str) {
    let response = click_fix(app, key).await;
    assert_eq!(response.status(), 303, "{key}: {}", response.text().await.unwrap());
    assert_eq!(response.headers()["location"], format!("/admin/integrity?done={fix}").as_str());
    let report = integrity::report(&app.pool).await.unwrap();
    assert!(report.findings.iter().all(|f| f.key != key), "the fixed finding left the report");
}

pub(crate) async fn audited(app: &TestApp, action: &str, target: &str) -> i64 {
    sqlx::query_scalar("select count(*) from audit_log where action = $1 and target = $2")
        .bind(action)
        .bind(target)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn sql(app: &TestApp, statement: &str, id: Uuid) {
    sqlx::query(statement).bind(id).execute(&app.pool).await.unwrap();
}

fn sim_status(app: &TestApp, sim_id: &str) -> String {
    let sims = app.telnyx.sims();
    let sim = sims.iter().find(|s| s["id"] == sim_id).expect("the SIM exists");
    sim["status"]["value"].as_str().unwrap().to_string()
}

async fn sim_of(app: &TestApp, id: Uuid) -> String {
    sqlx::query_scalar("select telnyx_sim_id from esims where order_id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// A paid order whose provisioning failed for good (Telnyx out of stock).
pub(crate) async fn failed_order(app: &TestApp) -> Uuid {
    let (id, _) = app.paid_order().await;
    app.telnyx.inject(Target::Purchase, Fault::OutOfStock, 1);
    assert!(matches!(app.worker().run_once().await.unwrap().unwrap().1, JobResult::Failed { .. }));
    assert_eq!(app.status(id).await, "provisioning_failed");
    id
}

#[tokio::test]
async fn a_paid_order_stuck_for_ten_minutes_is_retried() {
    let app = spawn_app().await;
    let (id, _) = app.paid_order().await;
    assert!(keys(&run(&app).await, FindingKind::StuckPaid).is_empty(), "not before ten minutes");
    sql(&app, "update orders set paid_at = now() - interval '11 minutes' where id = $1", id).await;
    let finding = only(&run(&app).await, FindingKind::StuckPaid);
    assert_eq!(finding.order_id, Some(id));

    app.sign_in_as(Role::Support).await;
    fixed(&app, &finding.key, "retry_provisioning").await;
    assert_eq!(app.event_count(id, "provisioning_retry_requested").await, 1);
    assert_eq!(audited(&app, "integrity.retry_provisioning", &format!("order:{id}")).await, 1);
    assert_eq!(app.worker().run_once().await.unwrap().unwrap().1, JobResult::Done);
    assert_eq!(app.status(id).await, "ready");
    assert!(keys(&run(&app).await, FindingKind::StuckPaid).is_empty());
}

#[tokio::test]
async fn an_order_awaiting_payment_but_paid_at_stripe_is_confirmed() {
    let app = spawn_app().await;
    let (plan_id, _) = app.some_plan().await;
    let (id, _, session_id) = app.buy_plan(&plan_id).await;
    app.stripe.drop_next_events(1);
    app.pay(&session_id).await;
    app.stripe.wait_for_deliveries().await;
    assert_eq!(app.status(id).await, "awaiting_payment", "no webhook arrived");
    sql(&app, "update orders set created_at = now() - interval '11 minutes' where id = $1", id).await;
    let finding = only(&run(&app).await, FindingKind::PaidAtStripe);

    app.sign_in_as(Role::Support).await;
    fixed(&app, &finding.key, "confirm_payment").await;
    assert_eq!(app.status(id).await, "paid");
    assert_eq!(app.event_count(id, "paid").await, 1);
    assert_eq!(audited(&app, "integrity.confirm_payment", &format!("order:{id}")).await, 1);
    assert!(keys(&run(&app).await, FindingKind::PaidAtStripe).is_empty());
}

#[tokio::test]
async fn a_refund_made_at_stripe_and_never_heard_of_is_applied_and_the_sim_disabled() {
    let app = spawn_app().await;
    let id = app.ready_order().await;
    let sim = sim_of(&app, id).await;
    // Refunded in Stripe's dashboard; neither `charge.refunded` nor `refund.created` arrives.
    app.stripe.drop_next_events(2);
    app.payments.stripe.refund(&app.payment_intent(id).await, None, "dashboard-refund").await.unwrap();
    app.stripe.wait_for_deliveries().await;
    assert_eq!(app.status(id).await, "ready");
    let finding = only(&run(&app).await, FindingKind::RefundedAtStripe);

    // Money moves are for admins.
    app.sign_in_as(Role::Support).await;
    assert_eq!(click_fix(&app, &finding.key).await.status(), 403);
    assert_eq!(app.status(id).await, "ready");

    app.sign_in_as(Role::Admin).await;
    fixed(&app, &finding.key, "apply_refund").await;
    assert_eq!(app.status(id).await, "refunded");
    assert_eq!(app.event_count(id, "refunded").await, 1);
    assert_eq!(app.refunded_minor(id).await, app.some_plan().await.1);
    assert_eq!(app.run_due(&["disable_esim"]).await, 1);
    assert_eq!(sim_status(&app, &sim), "disabled");
    assert_eq!(audited(&app, "integrity.apply_refund", &format!("order:{id}")).await, 1);
    let again = run(&app).await;
    assert!(keys(&again, FindingKind::RefundedAtStripe).is_empty());
    assert!(keys(&again, FindingKind::RefundedSimEnabled).is_empty());
}

#[tokio::test]
async fn a_refunded_order_whose_sim_is_still_enabled_gets_it_disabled() {
    let app = spawn_app().await;
    let id = app.ready_order().await;
    let sim = sim_of(&app, id).await;
    // The refund's webhook arrives: the order is refunded, but nothing disables its SIM.
    app.payments.stripe.refund(&app.payment_intent(id).await, None, "dashboard-refund").await.unwrap();
    app.stripe.wait_for_deliveries().await;
    app.wait_status(id, "refunded").await;
    assert_eq!(sim_status(&app, &sim), "enabled");
    let finding = only(&run(&app).await, FindingKind::RefundedSimEnabled);
    assert_eq!(finding.sim_id.as_deref(), Some(sim.as_str()));

    app.sign_in_as(Role::Admin).await;
    fixed(&app, &finding.key, "disable_sim").await;
    assert_eq!(sim_status(&app, &sim), "disabled");
    assert_eq!(app.event_count(id, "sim_disabled").await, 1);
    assert_eq!(audited(&app, "integrity.disable_sim", &format!("order:{id}")).await, 1);
    assert!(keys(&run(&app).await, FindingKind::RefundedSimEnabled).is_empty());
}

#[tokio::test]
async fn a_ready_order_that_was_never_paid_gets_its_sim_disabled() {
    let app = spawn_app().await;
    let id = app.ready_order().await;
    let sim = sim_of(&app, id).await;
    assert!(keys(&run(&app).await, FindingKind::ReadyUnpaid).is_empty());
    sql(&app, "update orders set paid_at = null where id = $1", id).await;
    let finding = only(&run(&app).await, FindingKind::ReadyUnpaid);

    app.sign_in_as(Role::Admin).await;
    fixed(&app, &finding.key, "disable_sim").await;
    assert_eq!(sim_status(&app, &sim), "disabled");
    assert_eq!(app.event_count(id, "sim_disabled").await, 1);
    assert_eq!(audited(&app, "integrity.disable_sim", &format!("order:{id}")).await, 1);
    assert!(keys(&run(&app).await, FindingKind::ReadyUnpaid).is_empty());
}

#[tokio::test]
async fn a_sim_bought_for_an_order_that_never_stored_it_is_adopted_not_bought_again() {
    let app = spawn_app().await;
    let (id, _) = app.paid_order().await;
    app.telnyx.fail_next_purchase_after_creating(Fault::ServerError);
    assert!(matches!(app.worker().run_once().await.unwrap().unwrap().1, JobResult::Retrying { .. }));
    assert_eq!(app.telnyx.purchases(), 1);
    let bought = app.telnyx.sims()[0]["id"].as_str().unwrap().to_string();
    assert!(keys(&run(&app).await, FindingKind::StraySim).is_empty(), "in flight: left to its job");
    sql(&app, "update orders set paid_at = now() - interval '11 minutes' where id = $1", id).await;
    let finding = only(&run(&app).await, FindingKind::StraySim);
    assert_eq!((finding.order_id, finding.sim_id.as_deref()), (Some(id), Some(bought.as_str())));

    app.sign_in_as(Role::Support).await;
    fixed(&app, &finding.key, "adopt_sim").await;
    assert_eq!(app.event_count(id, "esim_adopted").await, 1);
    assert_eq!(audited(&app, "integrity.adopt_sim", &format!("order:{id}")).await, 1);
    assert_eq!(app.worker().run_once().await.unwrap().unwrap().1, JobResult::Done);
    assert_eq!(app.status(id).await, "ready");
    assert_eq!(sim_of(&app, id).await, bought);
    assert_eq!(app.telnyx.purchases(), 1, "no second purchase");
}

#[tokio::test]
async fn a_sim_tagged_for_an_order_that_does_not_exist_is_disabled() {
    let app = spawn_app().await;
    let ghost = Uuid::new_v4();
    let bought = app.provisioner.telnyx.purchase_esims(1, None, &[tag_for(ghost)]).await.unwrap();
    let sim = bought.sims[0].id.clone();
    let finding = only(&run(&app).await, FindingKind::StraySim);
    assert_eq!((finding.order_id, finding.sim_id.as_deref()), (None, Some(sim.as_str())));

    app.sign_in_as(Role::Admin).await;
    fixed(&app, &finding.key, "disable_sim").await;
    assert_eq!(sim_status(&app, &sim), "disabled");
    assert_eq!(audited(&app, "integrity.disable_sim", &format!("sim:{sim}")).await, 1);
    assert!(keys(&run(&app).await, FindingKind::StraySim).is_empty(), "a disabled stray is harmless");
}

#[tokio::test]
async fn an_order_with_two_sims_keeps_its_own_and_the_other_is_disabled() {
    let app = spawn_app().await;
    let id = app.ready_order().await;
    let own = sim_of(&app, id).await;
    let extra = app.provisioner.telnyx.purchase_esims(1, None, &[tag_for(id)]).await.unwrap().sims[0].id.clone();
    let report = run(&app).await;
    let finding = only(&report, FindingKind::TwoSims);
    assert_eq!(finding.order_id, Some(id));
    assert!(keys(&report, FindingKind::StraySim).is_empty(), "listed once, as two SIMs");

    app.sign_in_as(Role::Admin).await;
    fixed(&app, &finding.key, "disable_sim").await;
    assert_eq!(sim_status(&app, &extra), "disabled");
    assert_eq!(sim_status(&app, &own), "enabled", "the order's own SIM is kept");
    assert_eq!(app.status(id).await, "ready");
    assert_eq!(audited(&app, "integrity.disable_sim", &format!("order:{id}")).await, 1);
    assert!(keys(&run(&app).await, FindingKind::TwoSims).is_empty());
}

#[tokio::test]
async fn a_failed_provisioning_is_retried_to_ready() {
    let app = spawn_app().await;
    let id = failed_order(&app).await;
    let finding = only(&run(&app).await, FindingKind::ProvisioningFailed);
    assert!(finding.note.contains("70001"), "the job's error is shown: {}", finding.note);

    app.sign_in_as(Role::Support).await;
    fixed(&app, &finding.key, "retry_provisioning").await;
    assert_eq!(app.event_count(id, "provisioning_retry_requested").await, 1);
    assert_eq!(audited(&app, "integrity.retry_provisioning", &format!("order:{id}")).await, 1);
    assert_eq!(app.worker().run_once().await.unwrap().unwrap().1, JobResult::Done);
    assert_eq!(app.status(id).await, "ready");
    assert!(keys(&run(&app).await, FindingKind::ProvisioningFailed).is_empty());
}

#[tokio::test]
async fn the_page_lists_findings_with_counts_and_refuses_bad_fixes() {
    let app = spawn_app().await;
    let (a, b) = (failed_order(&app).await, failed_order(&app).await);
    app.sign_in_as(Role::Support).await;
    let before = Page::parse(&app.page("/admin/integrity", 200).await);
    assert_eq!(before.text("#run"), "The report has not run yet.");

    // Run from the page.
    let response = app.post_form("/admin/integrity/run", &[]).await;
    assert_eq!(response.headers()["location"], "/admin/integrity?done=run");
    let page = Page::parse(&app.page("/admin/integrity?done=run", 200).await);
    assert_eq!(page.text("#total"), "2");
    assert_eq!(page.text("#counts tr[data-kind=provisioning_failed] .count"), "2");
    assert_eq!(page.text("#counts tr[data-kind=stuck_paid] .count"), "0");
    let rows = page.attrs("section[data-kind=provisioning_failed] tr[data-finding]", "data-finding");
    let mut expected = vec![format!("provisioning_failed:{a}"), format!("provisioning_failed:{b}")];
    expected.sort();
    assert_eq!(rows, expected);
    assert_eq!(page.select("section[data-kind=provisioning_failed] form input[name=csrf_token]").len(), 2);

    // A fix without the CSRF token changes nothing.
    let forged = app.client.post(app.url("/admin/integrity/fix")).form(&[("finding", rows[0].as_str())]).send().await;
    assert_eq!(forged.unwrap().status(), 403);
    // An unknown or empty finding: the page again, saying why.
    let unknown = click_fix(&app, "provisioning_failed:nope").await;
    assert_eq!(unknown.status(), 404);
    assert!(Page::parse(&unknown.text().await.unwrap()).text("#error").contains("not in the latest report"));
    assert_eq!(click_fix(&app, " ").await.status(), 200);
    assert_eq!(app.status(a).await, "provisioning_failed");
    assert_eq!(app.event_count(a, "provisioning_retry_requested").await, 0);
}

#[tokio::test]
async fn one_run_at_a_time_across_processes() {
    let app = spawn_app().await;
    let mut other = app.pool.begin().await.unwrap();
    assert!(tern::db::integrity::try_lock_run(&mut *other).await.unwrap());
    let busy = integrity::run(&app.pool, &app.payments, &app.provisioner, Trigger::Schedule).await.unwrap();
    assert!(busy.is_none(), "another process is running it");
    app.sign_in_as(Role::Support).await;
    assert_eq!(app.post_form("/admin/integrity/run", &[]).await.status(), 409);
    other.rollback().await.unwrap();
    assert!(run(&app).await.run.is_some());
}

#[tokio::test]
async fn the_scheduled_run_puts_its_findings_on_the_dashboard() {
    let app = spawn_app().await;
    failed_order(&app).await;
    app.sign_in_as(Role::Support).await;
    let dashboard = Page::parse(&app.page("/admin", 200).await);
    assert!(!dashboard.exists("#integrity-attention"), "no run yet");

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let schedule = tokio::spawn(integrity::run_until(
        app.pool.clone(),
        app.payments.clone(),
        app.provisioner.clone(),
        Duration::from_millis(50),
        async {
            let _ = stopped.await;
        },
    ));
    eventually("the scheduled run stored its findings", || async {
        integrity::report(&app.pool).await.unwrap().run.is_some()
    })
    .await;
    let _ = stop.send(());
    schedule.await.unwrap();
    let report = integrity::report(&app.pool).await.unwrap();
    assert_eq!(report.run.unwrap().trigger, "schedule");

    let dashboard = Page::parse(&app.page("/admin", 200).await);
    assert_eq!(dashboard.texts("#integrity-attention li"), vec!["Provisioning failed: 1".to_string()]);
    assert!(!dashboard.exists("#attention-none"));
}

#[tokio::test]
async fn telnyx_is_read_page_by_page() {
    let app = spawn_app().await;
    // 250 SIMs fill the first page (Telnyx's largest); the stray one is on the second.
    app.provisioner.telnyx.purchase_esims(250, None, &["someone-else".to_string()]).await.unwrap();
    let ghost = Uuid::new_v4();
    let stray = app.provisioner.telnyx.purchase_esims(1, None, &[tag_for(ghost)]).await.unwrap().sims[0].id.clone();
    let report = run(&app).await;
    assert_eq!(only(&report, FindingKind::StraySim).sim_id.as_deref(), Some(stray.as_str()));
    assert!(report.run.unwrap().notes.is_empty(), "nothing was capped or failed");
    let listed: Vec<String> = app
        .telnyx
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path == "/sim_cards")
        .map(|r| r.query.clone())
        .collect();
    assert_eq!(listed.len(), 2, "two pages: {listed:?}");
}
