//! Faults and inventory.

use super::*;

#[tokio::test]
async fn injected_server_errors_and_rate_limits_answer_before_any_work() {
    let t = start().await;
    t.emulator.inject(Target::Purchase, Fault::ServerError, 1);
    let failed = t.purchase(json!({ "amount": 1, "tags": ["x"] })).await;
    assert_eq!((failed.status, failed.code()), (StatusCode::INTERNAL_SERVER_ERROR, "10007"));
    assert!(t.emulator.sims().is_empty(), "nothing bought");
    let id = t.buy("after-500").await;

    t.emulator.inject(Target::Any, Fault::RateLimited { reset_seconds: 7 }, 2);
    for _ in 0..2 {
        let limited = t.get(&format!("/sim_cards/{id}")).await;
        assert_eq!((limited.status, limited.code()), (StatusCode::TOO_MANY_REQUESTS, "10011"));
        assert_eq!(limited.body["errors"][0]["title"], "Too many requests");
        assert_eq!(limited.headers["x-ratelimit-remaining"], "0");
        assert_eq!(limited.headers["x-ratelimit-reset"], "7");
    }
    let fine = t.get(&format!("/sim_cards/{id}")).await;
    assert_eq!(fine.status, StatusCode::OK);
    for name in ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"] {
        let value = fine.headers[name].to_str().unwrap();
        assert!(value.parse::<u64>().is_ok(), "{name}: {value}");
    }

    // A fault aimed at one endpoint leaves the others alone.
    t.emulator.inject(Target::GetSim, Fault::ServerError, 1);
    assert_eq!(t.get("/sim_cards").await.status, StatusCode::OK);
    assert_eq!(t.get(&format!("/sim_cards/{id}")).await.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(t.get(&format!("/sim_cards/{id}")).await.status, StatusCode::OK);

    // The budget: request limit + 1 is refused until the window resets.
    t.emulator.set_rate_limit(3, Duration::from_secs(60));
    for remaining in ["2", "1", "0"] {
        assert_eq!(t.get("/sim_cards").await.headers["x-ratelimit-remaining"], remaining);
    }
    let over = t.get("/sim_cards").await;
    assert_eq!((over.status, over.code()), (StatusCode::TOO_MANY_REQUESTS, "10011"));
    let reset: u64 = over.headers["x-ratelimit-reset"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&reset), "{reset}");
    assert_spec_conformant(&t.emulator);
}

#[tokio::test]
async fn an_injected_hang_outlasts_a_short_client_timeout() {
    let t = start().await;
    t.emulator.inject(Target::Purchase, Fault::Hang(Duration::from_millis(1500)), 1);
    let impatient = client(Some(Duration::from_millis(300)));
    let started = Instant::now();
    let error = impatient
        .post(t.url("/actions/purchase/esims"))
        .bearer_auth(API_KEY)
        .json(&json!({ "amount": 1, "tags": ["hung"] }))
        .send()
        .await
        .expect_err("the client gives up");
    assert!(error.is_timeout(), "{error}");
    assert!(started.elapsed() < Duration::from_millis(1200));
    tokio::time::sleep(Duration::from_millis(1700)).await;
    assert!(t.emulator.sims().is_empty(), "the hang came before the work and the client left");
    let log = t.emulator.requests();
    assert_eq!((log.len(), log[0].status), (1, 499), "logged as abandoned");

    // A patient client gets the normal answer after the delay.
    t.emulator.inject(Target::ListSims, Fault::Hang(Duration::from_millis(200)), 1);
    let started = Instant::now();
    assert_eq!(t.get("/sim_cards").await.status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_spec_conformant(&t.emulator);
}

#[tokio::test]
async fn out_of_stock_and_inventory_answer_202_with_70001() {
    let t = start_with(TelnyxEmulatorConfig { inventory: Some(2), ..config() }).await;
    t.emulator.inject(Target::Purchase, Fault::OutOfStock, 1);
    let none = t.purchase(json!({ "amount": 1 })).await;
    assert_eq!(none.status, StatusCode::ACCEPTED);
    assert_eq!(none.body["data"], json!([]));
    assert_eq!(none.body["errors"][0]["code"], "70001");
    assert_eq!(t.emulator.purchases(), 0);

    let short = t.purchase(json!({ "amount": 3, "tags": ["short"] })).await;
    assert_eq!(short.status, StatusCode::ACCEPTED);
    assert_eq!(short.body["data"].as_array().unwrap().len(), 2, "what it could create");
    assert_eq!(short.body["errors"][0]["code"], "70001");
    assert_eq!(t.emulator.purchases(), 1);
    let empty = t.purchase(json!({ "amount": 1 })).await;
    assert_eq!((empty.body["data"].as_array().unwrap().len(), empty.code()), (0, "70001"));
    assert_eq!(t.emulator.purchases(), 1, "a purchase that bought nothing does not count");

    t.emulator.set_inventory(None);
    t.buy("restocked").await;
    assert_eq!(t.control("/_emulator/inventory", json!({ "remaining": 0 })).await, StatusCode::OK);
    assert_eq!(t.purchase(json!({ "amount": 1 })).await.code(), "70001");
    assert_eq!(t.emulator.sims().len(), 3);
    assert_spec_conformant(&t.emulator);
}

#[tokio::test]
async fn a_purchase_can_fail_after_creating_its_sims() {
    let t = start().await;
    t.emulator.fail_next_purchase_after_creating(Fault::ServerError);
    let failed = t.purchase(json!({ "amount": 1, "sim_card_group_id": GROUP, "tags": ["tern-order-crash"] })).await;
    assert_eq!((failed.status, failed.code()), (StatusCode::INTERNAL_SERVER_ERROR, "10007"));
    assert_eq!(t.emulator.sims().len(), 1, "the SIM exists anyway");
    assert_eq!(t.emulator.purchases(), 1);
    let found = t.search("filter[tags][]=tern-order-crash").await;
    assert_eq!(found, [t.emulator.sims()[0]["id"].as_str().unwrap().to_owned()]);
    t.buy("next-is-normal").await;

    // Hang after creating: the client times out, the SIM is there.
    t.emulator.fail_next_purchase_after_creating(Fault::Hang(Duration::from_secs(2)));
    let impatient = client(Some(Duration::from_millis(300)));
    let error = impatient
        .post(t.url("/actions/purchase/esims"))
        .bearer_auth(API_KEY)
        .json(&json!({ "amount": 1, "tags": ["tern-order-hang"] }))
        .send()
        .await
        .expect_err("times out");
    assert!(error.is_timeout());
    assert_eq!(t.search("filter[tags][]=tern-order-hang").await.len(), 1);

    // New SIMs may reach tag searches late; the SIM itself is readable at once.
    t.emulator.delay_tag_visibility(Duration::from_millis(1000));
    let late = t.buy("tern-order-late").await;
    assert!(t.search("filter[tags][]=tern-order-late").await.is_empty());
    assert_eq!(t.get(&format!("/sim_cards/{late}")).await.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1050)).await;
    assert_eq!(t.search("filter[tags][]=tern-order-late").await, [late]);
    assert_spec_conformant(&t.emulator);
}
