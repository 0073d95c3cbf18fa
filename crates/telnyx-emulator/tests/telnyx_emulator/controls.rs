//! Controls, quirks, the other endpoints, and the validator itself.

use super::*;

#[tokio::test]
async fn http_controls_quirks_and_the_action_list() {
    let t = start_with(TelnyxEmulatorConfig { action_delay: Duration::from_millis(200), ..config() }).await;
    t.emulator.set_quirks(Quirks { start_registering: true, activation_code_extra_fields: true, ..Quirks::default() });
    let bought = t.purchase(json!({ "amount": 1, "status": "standby", "tags": ["quirky"] })).await;
    let id = bought.body["data"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(bought.body["data"][0]["status"]["value"], "registering");
    assert_eq!(bought.body["data"][0]["actions_in_progress"], true);
    let code = t.get(&format!("/sim_cards/{id}/activation_code")).await.body;
    assert!(code["data"]["activation_code"].as_str().unwrap().ends_with("$2.999.1$1"), "{code}");
    tokio::time::sleep(Duration::from_millis(250)).await;
    let sim = t.get(&format!("/sim_cards/{id}?include_pin_puk_codes=true")).await.body;
    assert_eq!(sim["data"]["status"]["value"], "standby");
    assert!(all_digits(sim["data"]["pin_puk_codes"]["puk1"].as_str().unwrap(), 8));
    assert!(t.get(&format!("/sim_cards/{id}")).await.body["data"].get("pin_puk_codes").is_none());

    // A standby SIM that uses data is enabled by an `enable_standby_sim_card` action.
    t.emulator.add_usage_mb(&id, 1.0).unwrap();
    let actions =
        t.get(&format!("/sim_card_actions?filter[sim_card_id]={id}&filter[action_type]=enable_standby_sim_card")).await;
    assert_eq!(actions.body["data"][0]["status"]["value"], "completed");
    assert_eq!(actions.body["meta"]["total_results"], 1);
    assert_eq!(t.get(&format!("/sim_cards/{id}")).await.body["data"]["status"]["value"], "enabled");
    let sorted = t.get("/sim_cards?sort=-current_billing_period_consumed_data.amount").await;
    assert_eq!(sorted.status, StatusCode::OK);
    assert_eq!(t.get("/sim_card_actions?filter[status]=paused").await.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Controls over HTTP, with their own errors.
    assert_eq!(
        t.control("/_emulator/inject", json!({ "target": "get_sim", "fault": "server_error" })).await,
        StatusCode::OK
    );
    assert_eq!(t.get(&format!("/sim_cards/{id}")).await.code(), "10007");
    assert_eq!(
        t.control("/_emulator/inject", json!({ "target": "purchase", "fault": "melt" })).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        t.control("/_emulator/inject", json!({ "target": "moon", "fault": "hang" })).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(t.control("/_emulator/sims/nope/usage", json!({ "mb": 1.0 })).await, StatusCode::NOT_FOUND);
    assert_eq!(t.control(&format!("/_emulator/sims/{id}/billing_period"), json!({})).await, StatusCode::OK);
    assert_eq!(t.control("/_emulator/rate_limit", json!({ "limit": 500, "window_seconds": 10 })).await, StatusCode::OK);
    assert_eq!(t.get("/sim_cards").await.headers["x-ratelimit-limit"], "500");
    assert_eq!(t.get("/_emulator/sims").await.status, StatusCode::NOT_FOUND, "controls are not under /v2");
    let root = t.emulator.base_url().strip_suffix("/v2").expect("base ends with /v2").to_string();
    let without = t.http.post(format!("{root}/_emulator/rate_limit")).json(&json!({ "limit": 1, "window_seconds": 1 }));
    assert_eq!(without.send().await.expect("control").status(), StatusCode::UNAUTHORIZED, "controls need the token");
    assert_spec_conformant(&t.emulator);
}

#[tokio::test]
async fn the_spec_check_catches_broken_bodies() {
    let t = start().await;
    let id = t.buy("valid").await;
    t.get(&format!("/sim_cards/{id}")).await;
    t.get("/sim_cards").await;
    t.get("/sim_cards/6a09cdc3-8948-47f0-aa62-74ac943d6c58").await;
    let recorded = t.emulator.requests();
    assert!(spec_problems(&recorded).is_empty());

    let broken = |index: usize, edit: &dyn Fn(&mut RecordedRequest)| {
        let mut copy = recorded.clone();
        edit(&mut copy[index]);
        let problems = spec_problems(&copy);
        assert!(!problems.is_empty(), "the check misses a broken {} {}", copy[index].method, copy[index].path);
    };
    broken(0, &|r| r.response["data"][0]["status"]["value"] = json!("bogus"));
    broken(0, &|r| r.response["data"][0]["sim_card_group_id"] = json!("not-a-uuid"));
    broken(0, &|r| r.body = Some(json!({ "amount": 0 })));
    broken(1, &|r| r.response["data"]["data_limit"] = json!({ "amount": 100, "unit": "MB" }));
    broken(1, &|r| r.response = Value::Null);
    broken(2, &|r| r.response["meta"]["total_pages"] = json!("1"));
    broken(3, &|r| r.response["errors"][0]["code"] = json!(10005));
    broken(3, &|r| r.status = 201); // `default` covers errors only
    broken(0, &|r| {
        // An error the spec does not declare for purchases must still be the errors envelope.
        r.status = 500;
        r.response = json!({ "message": "boom" });
    });

    broken(1, &|r| r.path = "/sim_cards/x/teleport".into());
}
