//! Provisioning: buying the eSIM from (emulated) Telnyx as a durable job, retries, failures,
//! never two eSIMs, and the confirmation page with its QR code.

use std::time::Duration;

use base64::Engine;
use serde_json::Value;
use telnyx_emulator::{Fault, Target};
use tern::worker::JobResult;

use crate::helpers::{Page, TestApp, spawn_app};

async fn run_job(app: &TestApp) -> JobResult {
    app.worker().run_once().await.unwrap().expect("a job to run").1
}

/// Waits out a retry delay, then runs the job again.
async fn run_job_after_delay(app: &TestApp, result: &JobResult) -> JobResult {
    if let JobResult::Retrying { delay } = result {
        tokio::time::sleep(*delay + Duration::from_millis(20)).await;
    }
    run_job(app).await
}

fn decode_qr(png: &[u8]) -> String {
    let image = image::load_from_memory(png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    grids[0].decode().unwrap().1
}

#[tokio::test]
async fn a_paid_order_gets_one_esim_and_a_scannable_qr_code() {
    let app = spawn_app().await;
    let (id, token) = app.paid_order().await;
    let page = app.order_page(id, &token, "").await;
    assert!(page.contains("preparing your eSIM") && page.contains("http-equiv=\"refresh\""));
    let esim = app.client.get(app.url(&format!("/api/v1/orders/{id}/esim"))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(esim.status(), 409);
    assert_eq!(esim.json::<Value>().await.unwrap()["code"], "esim_not_ready");

    assert_eq!(run_job(&app).await, JobResult::Done);
    assert_eq!(app.status(id).await, "ready");
    for kind in ["provisioning_started", "esim_purchased", "ready"] {
        assert_eq!(app.event_count(id, kind).await, 1, "{kind}");
    }
    assert_eq!(app.telnyx.purchases(), 1);
    let sims = app.telnyx.sims();
    assert_eq!(sims.len(), 1);
    assert_eq!(sims[0]["tags"][0], format!("tern-order-{}", id.simple()));
    let plan_mb: i32 =
        sqlx::query_scalar("select p.data_mb from orders o join plans p on p.id = o.plan_id where o.id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(sims[0]["data_limit"]["amount"], format!("{plan_mb}.0"), "data limit = the plan's data");

    let sealed: Vec<u8> = sqlx::query_scalar("select activation_code_sealed from esims where order_id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(!sealed.windows(4).any(|w| w == b"LPA:"), "encrypted at rest");

    let page = app.order_page(id, &token, "").await;
    assert!(!page.contains("http-equiv=\"refresh\""), "no more refreshing once ready");
    let parsed = Page::parse(&page);
    let code = parsed.text("code#activation-code");
    assert!(code.starts_with("LPA:1$"), "{code}");
    let src = parsed.attr("img#qr", "src").expect("the QR code image");
    let data_url = src.strip_prefix("data:image/png;base64,").expect("an inline PNG");
    let png = base64::engine::general_purpose::STANDARD.decode(data_url).unwrap();
    assert_eq!(decode_qr(&png), code, "the QR code holds exactly the activation code");
    let (w, h) = image::load_from_memory(&png).unwrap().to_luma8().dimensions();
    assert!(w >= 320 && h >= 320, "large enough to scan from another screen");
    assert!(page.contains("esimsetup.apple.com/esim_qrcode_provisioning?carddata=LPA%3A1%24"));
    assert!(page.contains(&format!("<code id=\"sm-dp\">{}</code>", code.split('$').nth(1).unwrap())));

    let qr = app.get(&format!("/orders/{id}/qr.png?token={token}")).await;
    assert_eq!(qr.status(), 200);
    assert_eq!(qr.headers()["content-type"], "image/png");
    assert_eq!(qr.headers()["cache-control"], "no-store");
    assert_eq!(decode_qr(&qr.bytes().await.unwrap()), code);
    assert_eq!(app.get(&format!("/orders/{id}/qr.png?token=nope")).await.status(), 404);
    assert_eq!(reqwest::get(app.url(&format!("/orders/{id}/qr.png"))).await.unwrap().status(), 404, "no cookie");

    let esim: Value = app
        .client
        .get(app.url(&format!("/api/v1/orders/{id}/esim")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(esim["activation_code"], code);
    assert_eq!(esim["iccid"], sims[0]["iccid"]);
    assert!(esim["ios_install_url"].as_str().unwrap().starts_with("https://esimsetup.apple.com/"));

    // Running again buys nothing more.
    assert!(app.worker().run_once().await.unwrap().is_none(), "the job is done");
    assert_eq!(app.telnyx.purchases(), 1);
}

#[tokio::test]
async fn server_errors_rate_limits_and_timeouts_are_retried() {
    let app = spawn_app().await;
    let (id, _) = app.paid_order().await;
    app.telnyx.inject(Target::Purchase, Fault::ServerError, 1);
    let first = run_job(&app).await;
    assert!(matches!(first, JobResult::Retrying { .. }), "{first:?}");
    assert_eq!(app.status(id).await, "provisioning");
    assert_eq!(app.event_count(id, "provisioning_retry").await, 1);

    app.telnyx.inject(Target::ListSims, Fault::RateLimited { reset_seconds: 1 }, 1);
    let second = run_job_after_delay(&app, &first).await;
    match second {
        JobResult::Retrying { delay } => {
            assert!(delay >= Duration::from_secs(1), "honours x-ratelimit-reset: {delay:?}")
        }
        other => panic!("{other:?}"),
    }
    let run_at_in: f64 = sqlx::query_scalar(
        "select extract(epoch from run_at - now())::float8 from jobs where order_id = $1 and kind = 'provision_esim'",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(run_at_in > 0.5, "not due before the rate limit resets");

    let third = run_job_after_delay(&app, &second).await;
    assert_eq!(third, JobResult::Done);
    assert_eq!(app.status(id).await, "ready");
    assert_eq!(app.telnyx.purchases(), 1);
}

#[tokio::test]
async fn a_timeout_is_retried() {
    let mut app = spawn_app().await;
    app.provisioner.telnyx =
        app.provisioner.telnyx.clone().with_timeouts(Duration::from_millis(300), Duration::from_millis(300));
    let (id, _) = app.paid_order().await;
    // The first attempt buys without a tag look-up: the hang hits a later step.
    app.telnyx.inject(Target::ActivationCode, Fault::Hang(Duration::from_secs(2)), 1);
    let first = run_job(&app).await;
    assert!(matches!(first, JobResult::Retrying { .. }), "{first:?}");
    let reason: String =
        sqlx::query_scalar("select last_error from jobs where order_id = $1 and kind = 'provision_esim'")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(reason.contains("timed out"), "{reason}");
    assert_eq!(run_job_after_delay(&app, &first).await, JobResult::Done);
}

#[tokio::test]
async fn out_of_inventory_fails_the_order_without_a_retry_storm() {
    let app = spawn_app().await;
    let (id, _) = app.paid_order().await;
    app.telnyx.inject(Target::Purchase, Fault::OutOfStock, 1);
    let result = run_job(&app).await;
    assert!(matches!(&result, JobResult::Failed { reason } if reason.contains("70001")), "{result:?}");
    assert_eq!(app.status(id).await, "provisioning_failed");
    assert_eq!(app.event_count(id, "provisioning_failed").await, 1);
    let (job_status, attempts): (String, i32) =
        sqlx::query_as("select status, attempts from jobs where order_id = $1 and kind = 'provision_esim'")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((job_status.as_str(), attempts), ("failed", 1));
    assert!(app.worker().run_once().await.unwrap().is_none(), "not retried");
    assert_eq!(app.telnyx.sims().len(), 0);
}

#[tokio::test]
async fn retries_end_in_provisioning_failed() {
    let app = spawn_app().await;
    let (id, token) = app.paid_order().await;
    // The first attempt buys without a tag look-up: the failures hit a later step.
    app.telnyx.inject(Target::ActivationCode, Fault::ServerError, 10);
    let mut result = run_job(&app).await;
    let mut runs = 1;
    while matches!(result, JobResult::Retrying { .. }) {
        result = run_job_after_delay(&app, &result).await;
        runs += 1;
    }
    assert!(matches!(result, JobResult::Failed { .. }));
    assert_eq!(runs, app.worker().config.max_attempts);
    assert_eq!(app.status(id).await, "provisioning_failed");
    let page = app.order_page(id, &token, "").await;
    assert!(page.contains("We could not prepare your eSIM") && page.contains("refund"), "an honest message");
    assert!(!page.contains("10007"), "no internal details");
}

#[tokio::test]
async fn a_crash_between_purchase_and_save_adopts_the_sim_instead_of_buying_again() {
    let app = spawn_app().await;
    let (id, _) = app.paid_order().await;
    app.telnyx.fail_next_purchase_after_creating(Fault::ServerError);
    app.telnyx.delay_tag_visibility(Duration::from_millis(150));
    let first = run_job(&app).await;
    assert!(matches!(first, JobResult::Retrying { .. }), "{first:?}");
    assert_eq!(app.telnyx.sims().len(), 1, "Telnyx did buy one");
    // Right away the tag search does not show it yet: the worker waits instead of buying.
    let mut result = run_job_after_delay(&app, &first).await;
    while matches!(result, JobResult::Retrying { .. }) {
        result = run_job_after_delay(&app, &result).await;
    }
    assert_eq!(result, JobResult::Done);
    assert_eq!(app.telnyx.purchases(), 1, "no second purchase");
    assert_eq!(app.telnyx.sims().len(), 1);
    assert_eq!(app.event_count(id, "esim_adopted").await, 1);
    assert_eq!(app.status(id).await, "ready");
}

#[tokio::test]
async fn two_workers_racing_for_one_job_provision_once() {
    let app = spawn_app().await;
    let (id, _) = app.paid_order().await;
    let (a, b) = (app.worker(), app.worker());
    let (ra, rb) = tokio::join!(a.run_once(), b.run_once());
    let claimed = [ra.unwrap(), rb.unwrap()].into_iter().flatten().count();
    assert_eq!(claimed, 1, "one job, one claim");
    assert_eq!(app.status(id).await, "ready");
    assert_eq!(app.telnyx.purchases(), 1);

    // Several orders, two workers running side by side: each order gets exactly one eSIM.
    let mut orders = Vec::new();
    for _ in 0..4 {
        orders.push(app.paid_order().await.0);
    }
    app.start_extra_worker();
    app.start_extra_worker();
    for order in &orders {
        app.wait_ready(*order).await;
    }
    assert_eq!(app.telnyx.purchases(), 5);
    assert_eq!(app.telnyx.sims().len(), 5);
}

#[tokio::test]
async fn a_job_held_by_a_dead_worker_is_taken_up_after_its_lease() {
    let app = spawn_app().await;
    let (id, _) = app.paid_order().await;
    // As if a worker claimed it and then the process died.
    sqlx::query("update jobs set status = 'running', attempts = 1, locked_until = now() + interval '1 hour' where order_id = $1 and kind = 'provision_esim'")
        .bind(id)
        .execute(&app.pool)
        .await
        .unwrap();
    assert!(app.worker().run_once().await.unwrap().is_none(), "leased to someone else");
    sqlx::query(
        "update jobs set locked_until = now() - interval '1 second' where order_id = $1 and kind = 'provision_esim'",
    )
    .bind(id)
    .execute(&app.pool)
    .await
    .unwrap();
    assert_eq!(run_job(&app).await, JobResult::Done);
    assert_eq!(app.status(id).await, "ready");
}

#[tokio::test]
async fn a_refund_before_provisioning_buys_nothing() {
    let app = spawn_app().await;
    let (id, _) = app.paid_order().await;
    let pi: String = sqlx::query_scalar("select stripe_payment_intent_id from orders where id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    app.payments.stripe.refund(&pi, None, "refund-before").await.unwrap();
    app.wait_status(id, "refunded").await;
    assert_eq!(run_job(&app).await, JobResult::Done);
    assert_eq!(app.telnyx.purchases(), 0);
    assert_eq!(app.status(id).await, "refunded");
}

/// The spec's operation for a concrete request path (`/sim_cards/<uuid>` → `/sim_cards/{id}`).
fn operation<'a>(spec: &'a Value, method: &str, path: &str) -> Option<&'a Value> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    spec["paths"].as_object()?.iter().find_map(|(template, item)| {
        let t: Vec<&str> = template.trim_matches('/').split('/').collect();
        let matches = t.len() == parts.len() && t.iter().zip(&parts).all(|(a, b)| a.starts_with('{') || a == b);
        matches.then(|| &item[method.to_ascii_lowercase()]).filter(|op| !op.is_null())
    })
}

#[tokio::test]
async fn every_request_the_client_sends_is_valid_against_telnyx_spec() {
    let app = spawn_app().await;
    let (id, _) = app.paid_order().await;
    assert_eq!(run_job(&app).await, JobResult::Done);
    let sim_id: String = sqlx::query_scalar("select telnyx_sim_id from esims where order_id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(app.provisioner.telnyx.disable(&sim_id).await.unwrap().status, "disabled");
    assert_eq!(app.provisioner.telnyx.enable(&sim_id).await.unwrap().status, "enabled");

    let spec: Value = serde_json::from_str(include_str!("../fixtures/telnyx-openapi-esim.json")).unwrap();
    let requests = app.telnyx.requests();
    let operations: std::collections::HashSet<String> = requests
        .iter()
        .map(|r| format!("{} {}", r.method, r.path.split('/').take(2).collect::<Vec<_>>().join("/")))
        .collect();
    assert!(operations.len() >= 3, "{operations:?}");
    let mut bodies = 0;
    for request in &requests {
        let op = operation(&spec, &request.method, &request.path)
            .unwrap_or_else(|| panic!("{} {} is not a Telnyx operation", request.method, request.path));
        if let Some(params) = op["parameters"].as_array() {
            for param in params.iter().filter(|p| p["in"] == "query") {
                let name = param["name"].as_str().unwrap();
                assert!(param["required"] != true || request.query.contains(name), "{} needs {name}", request.path);
            }
        }
        if let Some(body) = &request.body {
            let schema = &op["requestBody"]["content"]["application/json"]["schema"];
            assert!(!schema.is_null(), "{} {} takes no body", request.method, request.path);
            let validator = jsonschema::validator_for(&serde_json::json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "allOf": [schema],
                "components": spec["components"],
            }))
            .unwrap();
            let errors: Vec<String> =
                validator.iter_errors(body).map(|e| format!("{e} at {}", e.instance_path)).collect();
            assert!(errors.is_empty(), "{} {}: {errors:?}", request.method, request.path);
            bodies += 1;
        }
    }
    assert!(bodies >= 2, "the purchase and the data limit were checked");
    // The check itself can fail: a body Telnyx would refuse.
    let purchase = operation(&spec, "POST", "/actions/purchase/esims").unwrap();
    let validator = jsonschema::validator_for(&serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "allOf": [&purchase["requestBody"]["content"]["application/json"]["schema"]],
        "components": spec["components"],
    }))
    .unwrap();
    assert!(!validator.is_valid(&serde_json::json!({"amount": "one", "status": "sleeping"})));
}
