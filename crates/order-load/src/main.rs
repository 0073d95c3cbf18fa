//! The buyers of `bench/orders.sh`: N concurrent buyers, each looping create
//! (`POST /api/v1/orders`) -> pay (the Stripe emulator's control) -> wait
//! (`GET /api/v1/orders/{id}?wait=20`, again while the order is still in progress) until ready,
//! for a fixed time. Prints orders/s and the paid -> ready latency percentiles read from each
//! order's own event times.
//!
//! ```text
//! order-load BASE STRIPE BUYERS SECONDS     # STRIPE_CONTROL_TOKEN in the environment
//! ```
//!
//! It replaced a Python driver (threads on `http.client`) that used 1.6-2.2 ms of CPU per
//! order, a tenth of what the 2 cores spend on one: here the buyers are tasks on one thread
//! and each keeps its connections open, as a buyer's app does.

use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

type Http = Client<HttpConnector, Full<Bytes>>;

/// The longest one request may take (a read waits at most 20 s for its order).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Statuses an order passes through on its way to `ready`.
const IN_PROGRESS: [&str; 3] = ["awaiting_payment", "paid", "provisioning"];

struct Run {
    base: String,
    stripe: String,
    control_token: String,
    plan: String,
    wait_seconds: u64,
    stop_at: Instant,
}

/// One request; the answer's JSON, or why it failed (a status of 400 or more is a failure).
async fn call(
    http: &Http,
    method: &str,
    url: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Result<Value, String> {
    let mut request = hyper::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let body = match body {
        Some(body) => {
            request = request.header("content-type", "application/json");
            Bytes::from(body.to_string())
        }
        None => Bytes::new(),
    };
    let request = request.body(Full::new(body)).map_err(|e| format!("{method} {url}: {e}"))?;
    let answer = async {
        let response = http.request(request).await.map_err(|e| e.to_string())?;
        let status = response.status();
        let payload = response.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
        Ok::<_, String>((status, payload))
    };
    // A server that stops answering fails the order instead of holding the run forever.
    let (status, payload) = tokio::time::timeout(REQUEST_TIMEOUT, answer)
        .await
        .map_err(|_| format!("{method} {url}: no answer within {REQUEST_TIMEOUT:?}"))?
        .map_err(|e| format!("{method} {url}: {e}"))?;
    if status.as_u16() >= 400 {
        return Err(format!(
            "{method} {url}: {status} {}",
            String::from_utf8_lossy(&payload[..payload.len().min(200)])
        ));
    }
    if payload.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&payload).map_err(|e| format!("{method} {url}: {e}"))
}

/// When the order's first event of `kind` happened.
fn event_at(order: &Value, kind: &str) -> Option<OffsetDateTime> {
    let event = order["events"].as_array()?.iter().find(|e| e["type"] == kind)?;
    OffsetDateTime::parse(event["at"].as_str()?, &Rfc3339).ok()
}

/// One order from creation to `ready`: its paid -> ready time in milliseconds.
async fn one_order(http: &Http, run: &Run) -> Result<f64, String> {
    let key = uuid::Uuid::new_v4().to_string();
    let created = call(
        http,
        "POST",
        &format!("{}/api/v1/orders", run.base),
        Some(json!({"plan_id": run.plan, "email": "bench@example.com"})),
        &[("idempotency-key", &key)],
    )
    .await?;
    let field = |name: &str| {
        created[name].as_str().map(str::to_owned).ok_or_else(|| format!("created order without {name}: {created}"))
    };
    let (id, checkout_url, token) = (field("id")?, field("checkout_url")?, field("access_token")?);
    let session = checkout_url.rsplit('/').next().unwrap_or_default();
    let pay = format!("{}/_emulator/sessions/{session}/pay", run.stripe);
    call(http, "POST", &pay, Some(json!({})), &[("x-emulator-token", &run.control_token)]).await?;
    let auth = format!("Bearer {token}");
    let url = format!("{}/api/v1/orders/{id}?wait={}", run.base, run.wait_seconds);
    loop {
        let order = call(http, "GET", &url, None, &[("authorization", &auth)]).await?;
        let status = order["status"].as_str().unwrap_or_default();
        if status == "ready" {
            let (Some(paid), Some(ready)) = (event_at(&order, "paid"), event_at(&order, "ready")) else {
                return Err(format!("order {id} is ready without paid and ready events"));
            };
            return Ok((ready - paid).as_seconds_f64() * 1000.0);
        }
        if !IN_PROGRESS.contains(&status) {
            return Err(format!("order {id} ended {status}"));
        }
    }
}

/// A buyer: orders one after another until the run's end; its latencies and failures.
async fn buyer(http: Http, run: std::sync::Arc<Run>) -> (Vec<f64>, u64) {
    let (mut latencies, mut failures) = (Vec::new(), 0);
    while Instant::now() < run.stop_at {
        match one_order(&http, &run).await {
            Ok(ms) => latencies.push(ms),
            Err(e) => {
                // A failed order is counted, never hidden.
                failures += 1;
                eprintln!("bench: order failed: {e}");
            }
        }
    }
    (latencies, failures)
}

/// The `p`th percentile of sorted `values`, as the Python driver took it (no interpolation).
fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values[((p / 100.0 * values.len() as f64) as usize).min(values.len() - 1)]
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let [_, base, stripe, buyers, seconds] = args.as_slice() else {
        return Err("usage: order-load BASE STRIPE BUYERS SECONDS (STRIPE_CONTROL_TOKEN set)".into());
    };
    let buyers: usize = buyers.parse().map_err(|_| format!("BUYERS: not a number: {buyers}"))?;
    let seconds: f64 = seconds.parse().map_err(|_| format!("SECONDS: not a number: {seconds}"))?;
    let control_token = std::env::var("STRIPE_CONTROL_TOKEN").map_err(|_| "STRIPE_CONTROL_TOKEN is not set")?;
    // How long one read waits for the order to settle (the API's most is 20 s): an app asks
    // once and is answered when the order is ready.
    let wait_seconds = std::env::var("WAIT_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(20);

    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let http: Http = Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(120)).build(connector);
    let plans = call(&http, "GET", &format!("{base}/api/v1/plans?destination=jp&per_page=1"), None, &[]).await?;
    let plan = plans["data"][0]["id"].as_str().ok_or_else(|| format!("no plan for jp: {plans}"))?.to_owned();

    let started = Instant::now();
    let run = std::sync::Arc::new(Run {
        base: base.clone(),
        stripe: stripe.clone(),
        control_token,
        plan,
        wait_seconds,
        stop_at: started + Duration::from_secs_f64(seconds),
    });
    let tasks: Vec<_> = (0..buyers).map(|_| tokio::spawn(buyer(http.clone(), run.clone()))).collect();
    let (mut latencies, mut failures) = (Vec::new(), 0);
    for task in tasks {
        let (mine, failed) = task.await.map_err(|e| format!("a buyer panicked: {e}"))?;
        latencies.extend(mine);
        failures += failed;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    println!(
        "buyers={buyers} orders={} failed={failures} orders/s={:.1} paid->ready p50={:.0}ms p95={:.0}ms p99={:.0}ms",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        percentile(&latencies, 50.0),
        percentile(&latencies, 95.0),
        percentile(&latencies, 99.0),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_taken_without_interpolation_and_clamped() {
        let values: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&values, 50.0), 6.0);
        assert_eq!(percentile(&values, 95.0), 10.0);
        assert_eq!(percentile(&values, 100.0), 10.0);
        assert!(percentile(&[], 50.0).is_nan());
    }

    #[test]
    fn an_event_time_is_read_from_the_orders_timeline() {
        let order = json!({"events": [
            {"type": "paid", "at": "2026-12-03T19:01:55.250Z"},
            {"type": "ready", "at": "2026-12-03T19:01:55.300500Z"},
        ]});
        let (paid, ready) = (event_at(&order, "paid").unwrap(), event_at(&order, "ready").unwrap());
        assert_eq!((ready - paid).as_seconds_f64() * 1000.0, 50.5);
        assert!(event_at(&order, "refunded").is_none());
    }
}
