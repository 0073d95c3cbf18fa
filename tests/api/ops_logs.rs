//! The real binary with `TERN_LOG_FORMAT=json`: a whole purchase through its API and the
//! Stripe emulator's hosted page, then SIGTERM. Every log line is JSON, request lines carry a
//! request id, job lines the order id, and no secret, token, activation code or full email
//! appears anywhere.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Page, scratch_dir};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test]
async fn a_purchase_logs_json_lines_with_ids_and_no_secrets() {
    tern::startup::install_crypto_provider();
    let dir = scratch_dir("json-logs");
    let log_path = dir.path().join("tern.log");
    let port = free_port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_tern"))
        .env_remove("DATABASE_URL")
        .env("TERN_DATA_DIR", dir.path())
        .env("TERN_ADDR", format!("127.0.0.1:{port}"))
        .env("TERN_LOG_FORMAT", "json")
        .env("TERN_SHUTDOWN_DRAIN_SECONDS", "0")
        .env("RUST_LOG", "debug,sqlx=warn,hyper=info,h2=info,reqwest=info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .expect("the tern binary starts");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut ready = false;
    for _ in 0..900 {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await
            && r.status() == 200
        {
            ready = true;
            break;
        }
        assert!(server.try_wait().unwrap().is_none(), "the server exited during start-up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "the server became ready");

    let email = "loggable.traveller@example.com";
    let plans: Value =
        client.get(format!("{base}/api/v1/plans?per_page=1")).send().await.unwrap().json().await.unwrap();
    let plan_id = plans["data"][0]["id"].as_str().unwrap();
    let created: Value = client
        .post(format!("{base}/api/v1/orders"))
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .json(&json!({ "plan_id": plan_id, "email": email }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap_or_else(|| panic!("an order: {created}")).to_string();
    let token = created["access_token"].as_str().unwrap().to_string();
    // Pay on the emulator's hosted page, as a traveller's browser would.
    let checkout = created["checkout_url"].as_str().unwrap();
    let page = Page::parse(&client.get(checkout).send().await.unwrap().text().await.unwrap());
    let action = page.attr("form.actions", "action").expect("the pay form");
    let origin = checkout.split("/pay/").next().unwrap();
    let paid = client.post(format!("{origin}{action}")).form(&[("action", "pay")]).send().await.unwrap();
    assert!(paid.status().is_redirection() || paid.status().is_success(), "{}", paid.status());

    let order_url = format!("{base}/api/v1/orders/{id}");
    let mut status = String::new();
    for _ in 0..600 {
        let order: Value = client.get(&order_url).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        status = order["status"].as_str().unwrap_or_default().to_string();
        if status == "ready" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "ready");
    let esim: Value =
        client.get(format!("{order_url}/esim")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let code = esim["activation_code"].as_str().unwrap().to_string();
    let matching_id = esim["matching_id"].as_str().unwrap().to_string();

    unsafe {
        libc::kill(server.id() as i32, libc::SIGTERM);
    }
    let exited = tokio::task::spawn_blocking(move || server.wait()).await.unwrap().unwrap();
    assert!(exited.success(), "SIGTERM stops the server cleanly: {exited:?}");

    let logs = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<Value> = logs
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    assert!(lines.len() > 20, "a purchase logs something: {} lines", lines.len());
    let has = |pred: &dyn Fn(&Value) -> bool| lines.iter().any(pred);
    assert!(has(&|l| l["span"]["request_id"].as_str().is_some_and(|r| r.len() == 36)), "request spans carry ids");
    assert!(
        has(&|l| l["span"]["order.id"] == id.as_str() || l["order.id"] == id.as_str()),
        "order lines carry order.id"
    );
    assert!(has(&|l| l["span"]["name"] == "job" && l["span"]["order.id"] == id.as_str()), "job spans carry order.id");

    let secret_key = std::fs::read_to_string(dir.path().join("secret.key")).unwrap();
    for (what, secret) in [
        ("the order token", token.as_str()),
        ("the activation code", code.as_str()),
        ("the matching id", matching_id.as_str()),
        ("the full email", email),
        ("the encryption key", secret_key.trim()),
        ("the Stripe key", "sk_test_"),
        ("the Stripe webhook secret", "whsec_"),
        ("the Telnyx key", "KEY_tern_emulator"),
    ] {
        assert!(!logs.contains(secret), "{what} appears in the logs");
    }
}
