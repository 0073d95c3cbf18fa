//! Running Tern in production: the Prometheus metrics after a purchase, request ids,
//! readiness while migrations run and while draining, and the JSON logs of a whole purchase
//! by the real binary, scanned for secrets.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use secrecy::SecretString;
use telnyx_emulator::{Fault, Target};
use tern::crypto::Cipher;
use tern::startup::{AppOptions, Application};

use crate::helpers::{TestApp, fast_worker_config, fresh_database, spawn_app, spawn_app_with_worker};

/// The samples of a Prometheus text page: `name{labels}` → value.
fn samples(page: &str) -> HashMap<String, f64> {
    page.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            Some((series.to_string(), value.parse().ok()?))
        })
        .collect()
}

/// The sum of every sample of `name` whose labels include all of `labels`.
fn total(samples: &HashMap<String, f64>, name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|(series, _)| {
            let (n, rest) = series.split_once('{').unwrap_or((series.as_str(), ""));
            n == name && labels.iter().all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")))
        })
        .map(|(_, v)| v)
        .sum()
}

async fn scrape(app: &TestApp) -> HashMap<String, f64> {
    let response = app.client.get(format!("http://{}/metrics", app.metrics_addr)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    samples(&response.text().await.unwrap())
}

#[tokio::test]
async fn a_purchase_moves_the_main_metrics() {
    let app = spawn_app_with_worker().await;
    let receiver = crate::webhooks_receiver::Receiver::ok().await;
    let key = crate::webhooks_receiver::api_key(&app, tern::domain::webhook::KeyRole::Integrator).await;
    crate::webhooks_receiver::register(&app, &key, &receiver.url, &[]).await;
    let before = scrape(&app).await;
    let (plan_id, _) = app.some_plan().await;
    let (id, _, session_id) = app.buy_plan(&plan_id).await;
    app.pay(&session_id).await;
    app.wait_ready(id).await;
    app.wait_for_mail("ana@example.com", "Your eSIM is ready").await;
    receiver.wait_for_type("esim.ready").await;
    let after = scrape(&app).await;
    let moved = |name: &str, labels: &[(&str, &str)]| total(&after, name, labels) - total(&before, name, labels);

    assert!(moved("tern_http_requests_total", &[("route", "/plans/{id}/checkout"), ("status", "303")]) >= 1.0);
    assert!(moved("tern_http_request_duration_seconds_count", &[("route", "/plans/{id}/checkout")]) >= 1.0);
    for kind in ["created", "paid", "ready"] {
        assert!(moved("tern_order_events_total", &[("kind", kind)]) >= 1.0, "order events: {kind}");
    }
    assert!(moved("tern_job_runs_total", &[("kind", "provision_esim"), ("outcome", "done")]) >= 1.0);
    assert!(moved("tern_job_attempts_total", &[("kind", "provision_esim")]) >= 1.0);
    assert!(moved("tern_paid_to_ready_seconds_count", &[]) >= 1.0);
    let provider = |p: &str, op: &str| {
        moved("tern_provider_request_duration_seconds_count", &[("provider", p), ("operation", op), ("outcome", "ok")])
    };
    assert!(provider("stripe", "create_checkout_session") >= 1.0);
    assert!(provider("telnyx", "purchase_esims") >= 1.0);
    assert!(provider("telnyx", "activation_code") >= 1.0);
    assert!(provider("smtp", "send") >= 2.0, "payment received and eSIM ready were sent");
    assert!(moved("tern_webhook_deliveries_total", &[("outcome", "delivered")]) >= 3.0, "created, paid, ready");
    assert!(moved("tern_webhook_delivery_duration_seconds_count", &[]) >= 3.0);
    // Sampled when scraped: the pool is open, and the catalogue was loaded at least once.
    assert!(total(&after, "tern_db_pool_connections", &[("state", "open")]) >= 1.0);
    assert!(total(&after, "tern_catalogue_generation", &[]) >= 1.0);
    assert!(total(&after, "tern_catalogue_reload_seconds_count", &[]) >= 1.0);
}

#[tokio::test]
async fn a_failing_provider_call_is_counted_by_its_class() {
    let app = spawn_app().await;
    let before = scrape(&app).await;
    let (id, _) = app.paid_order().await;
    app.telnyx.inject(Target::Purchase, Fault::RateLimited { reset_seconds: 1 }, 1);
    app.worker().run_once().await.unwrap();
    let after = scrape(&app).await;
    let labels = [("provider", "telnyx"), ("operation", "purchase_esims"), ("class", "rate_limited")];
    assert!(
        total(&after, "tern_provider_errors_total", &labels) - total(&before, "tern_provider_errors_total", &labels)
            >= 1.0
    );
    assert_eq!(app.status(id).await, "provisioning", "the job waits for its retry");
    let queued = [("kind", "provision_esim"), ("status", "queued")];
    assert!(total(&after, "tern_jobs", &queued) >= 1.0, "the queue depth is sampled");
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_a_sent_one_is_kept() {
    let app = spawn_app().await;
    let response = app.get("/").await;
    let id = response.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 4);
    let other = app.get("/").await;
    assert_ne!(other.headers()["x-request-id"].to_str().unwrap(), id, "one id per request");
    let echoed = app.client.get(app.url("/healthz")).header("x-request-id", "lb-1234").send().await.unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "lb-1234");
}

fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

/// `/readyz`'s status and text; `(0, "")` while the port does not answer (the stand-in server
/// hands over to the real one).
async fn readyz(client: &reqwest::Client, addr: SocketAddr) -> (u16, String) {
    match client.get(format!("http://{addr}/readyz")).send().await {
        Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
        Err(_) => (0, String::new()),
    }
}

#[tokio::test]
async fn readiness_is_503_while_migrations_run_and_while_draining() {
    let pool = fresh_database().await;
    // Hold the migrations table, as another instance migrating would: this one's start waits.
    let mut blocker = pool.begin().await.unwrap();
    sqlx::query("lock table _sqlx_migrations in access exclusive mode").execute(&mut *blocker).await.unwrap();

    let mut config = tern::config::Config::from_lookup(|_| None).unwrap();
    config.addr = free_addr();
    config.secret_key = Some(SecretString::from(Cipher::generate_key()));
    config.shutdown_drain = Duration::from_secs(60);
    let options = AppOptions {
        pool: Some(pool.clone()),
        worker: fast_worker_config(),
        reconcile_every: None,
        ..Default::default()
    };
    let addr = config.addr;
    let building = tokio::spawn(async move { Application::build(&config, options).await });
    // No connection reuse: each probe is a new connection, as a load balancer's would be.
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let starting = loop {
        match readyz(&client, addr).await {
            (0, _) => tokio::time::sleep(Duration::from_millis(20)).await,
            answer => break answer,
        }
    };
    assert_eq!(starting.0, 503);
    assert!(starting.1.contains("migrations"), "{}", starting.1);
    let health = client.get(format!("http://{addr}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200, "alive while it starts");
    assert!(!building.is_finished(), "the start waits for the migrations lock");

    blocker.rollback().await.unwrap();
    let application = building.await.unwrap().expect("the application builds");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(application.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let serving = loop {
        let (status, body) = readyz(&client, addr).await;
        if status == 200 {
            break body;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(serving, "ready");

    stop.send(()).unwrap();
    let draining = loop {
        let (status, body) = readyz(&client, addr).await;
        if status == 503 {
            break body;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(draining, "shutting down");
    let page = client.get(format!("http://{addr}/")).send().await.unwrap();
    assert_eq!(page.status(), 200, "requests are still served while draining");
    running.abort();
}
