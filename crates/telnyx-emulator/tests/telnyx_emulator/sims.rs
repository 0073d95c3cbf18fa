//! Activation codes, actions, data limits.

use super::*;

#[tokio::test]
async fn the_activation_code_is_stable_until_the_esim_is_installed() {
    let t = start().await;
    let id = t.buy("code").await;
    let first = t.get(&format!("/sim_cards/{id}/activation_code")).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["data"]["record_type"], "sim_card_activation_code");
    let code = first.body["data"]["activation_code"].as_str().unwrap().to_owned();
    let matching_id = code.strip_prefix("LPA:1$smdp.tern.test$").expect(&code);
    let groups: Vec<&str> = matching_id.split('-').collect();
    assert_eq!(groups.len(), 4, "{code}");
    assert_eq!(groups[0], "TN");
    for group in &groups[1..] {
        assert!(group.len() == 4 && group.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()), "{code}");
    }
    let again = t.get(&format!("/sim_cards/{id}/activation_code")).await;
    assert_eq!(again.body["data"]["activation_code"], code.as_str());

    t.emulator.mark_installed(&id).unwrap();
    let refused = t.get(&format!("/sim_cards/{id}/activation_code")).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!refused.code().is_empty());
    let sim = t.get(&format!("/sim_cards/{id}")).await.body;
    assert!(all_digits(sim["data"]["eid"].as_str().unwrap(), 32));

    // The same through the HTTP control.
    let other = t.buy("code-2").await;
    assert_eq!(t.control(&format!("/_emulator/sims/{other}/installed"), json!({})).await, StatusCode::OK);
    assert_eq!(t.get(&format!("/sim_cards/{other}/activation_code")).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(t.emulator.mark_installed("no-such-sim").is_err());
    assert_spec_conformant(&t.emulator);
}

#[tokio::test]
async fn enable_disable_and_standby_actions_reach_their_terminal_state() {
    // Long enough that the reads below see the action running even on a busy machine.
    let t = start_with(TelnyxEmulatorConfig { action_delay: Duration::from_millis(1000), ..config() }).await;
    let answer = t.purchase(json!({ "amount": 1, "sim_card_group_id": GROUP, "status": "disabled" })).await;
    let id = answer.body["data"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(answer.body["data"][0]["status"]["value"], "disabled");

    let started = t.post(&format!("/sim_cards/{id}/actions/enable"), None).await;
    assert_eq!(started.status, StatusCode::ACCEPTED);
    let action = &started.body["data"];
    assert_eq!(action["record_type"], "sim_card_action");
    assert_eq!(action["action_type"], "enable");
    assert_eq!(action["sim_card_id"], id.as_str());
    assert_eq!(action["status"]["value"], "in-progress");
    let action_id = action["id"].as_str().unwrap().to_owned();

    let sim = t.get(&format!("/sim_cards/{id}")).await.body;
    assert_eq!(sim["data"]["status"]["value"], "enabling");
    assert_eq!(sim["data"]["actions_in_progress"], true);
    assert_eq!(t.get(&format!("/sim_card_actions/{action_id}")).await.body["data"]["status"]["value"], "in-progress");
    let busy = t.post(&format!("/sim_cards/{id}/actions/disable"), None).await;
    assert_eq!(busy.status, StatusCode::UNPROCESSABLE_ENTITY, "one action at a time");

    tokio::time::sleep(Duration::from_millis(1050)).await;
    let done = t.get(&format!("/sim_card_actions/{action_id}")).await.body;
    assert_eq!(done["data"]["status"]["value"], "completed");
    let sim = t.get(&format!("/sim_cards/{id}")).await.body;
    assert_eq!(sim["data"]["status"]["value"], "enabled");
    assert_eq!(sim["data"]["actions_in_progress"], false);

    // With no delay the next read already sees the end.
    let t = start().await;
    let id = t.buy("instant").await;
    for (path, during, end) in [
        ("disable", "disabling", "disabled"),
        ("set_standby", "setting_standby", "standby"),
        ("enable", "enabling", "enabled"),
    ] {
        let started = t.post(&format!("/sim_cards/{id}/actions/{path}"), None).await;
        assert_eq!(started.status, StatusCode::ACCEPTED, "{path}");
        assert_eq!(started.body["data"]["status"]["value"], "in-progress");
        assert_ne!(during, end);
        let action_id = started.body["data"]["id"].as_str().unwrap();
        let action = t.get(&format!("/sim_card_actions/{action_id}")).await.body;
        assert_eq!(action["data"]["status"]["value"], "completed", "{path}");
        assert!(action["data"]["status"].get("reason").is_none());
        assert_eq!(t.get(&format!("/sim_cards/{id}")).await.body["data"]["status"]["value"], end);
    }
    assert_eq!(t.get("/sim_card_actions/6a09cdc3-8948-47f0-aa62-74ac943d6c58").await.code(), "10005");
    assert_spec_conformant(&t.emulator);
}

#[tokio::test]
async fn forced_outcomes_missing_groups_and_data_limits_stop_actions() {
    let t = start().await;
    let id = t.buy("forced").await;
    t.emulator.force_next_action("failed", "The network refused the SIM.");
    let started = t.post(&format!("/sim_cards/{id}/actions/disable"), None).await;
    let action_id = started.body["data"]["id"].as_str().unwrap();
    let action = t.get(&format!("/sim_card_actions/{action_id}")).await.body;
    assert_eq!(action["data"]["status"], json!({ "value": "failed", "reason": "The network refused the SIM." }));
    assert_eq!(
        t.get(&format!("/sim_cards/{id}")).await.body["data"]["status"]["value"],
        "enabled",
        "back where it was"
    );

    assert_eq!(
        t.control("/_emulator/actions/force", json!({ "status": "interrupted", "reason": "Timed out." })).await,
        StatusCode::OK
    );
    let started = t.post(&format!("/sim_cards/{id}/actions/disable"), None).await;
    let action_id = started.body["data"]["id"].as_str().unwrap();
    assert_eq!(t.get(&format!("/sim_card_actions/{action_id}")).await.body["data"]["status"]["value"], "interrupted");
    assert_eq!(t.control("/_emulator/actions/force", json!({ "status": "completed" })).await, StatusCode::BAD_REQUEST);

    // Without a group: no enable, no standby (70007); disable still works.
    t.emulator.remove_from_group(&id).unwrap();
    let refused = t.post(&format!("/sim_cards/{id}/actions/enable"), None).await;
    assert_eq!((refused.status, refused.code()), (StatusCode::UNPROCESSABLE_ENTITY, "70007"));
    assert_eq!(t.post(&format!("/sim_cards/{id}/actions/set_standby"), None).await.code(), "70007");
    assert_eq!(t.post(&format!("/sim_cards/{id}/actions/disable"), None).await.status, StatusCode::ACCEPTED);

    // Over the data limit: every action is refused until the limit is raised.
    let id = t.buy("limited").await;
    t.patch(&format!("/sim_cards/{id}"), json!({ "data_limit": { "amount": "10.0", "unit": "MB" } })).await;
    t.emulator.add_usage_mb(&id, 12.0).unwrap();
    assert_eq!(t.get(&format!("/sim_cards/{id}")).await.body["data"]["status"]["value"], "data_limit_exceeded");
    let refused = t.post(&format!("/sim_cards/{id}/actions/enable"), None).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        t.post(&format!("/sim_cards/{id}/actions/disable"), None).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_spec_conformant(&t.emulator);
}

#[tokio::test]
async fn patch_sets_the_data_limit_and_usage_follows_it() {
    let t = start().await;
    let id = t.buy("limit").await;
    let answer =
        t.patch(&format!("/sim_cards/{id}"), json!({ "data_limit": { "amount": "100.0", "unit": "MB" } })).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["data"]["data_limit"], json!({ "amount": "100.0", "unit": "MB" }));
    assert_eq!(answer.body["data"]["live_data_session"], "disconnected", "a full SIMCard");

    t.emulator.add_usage_mb(&id, 60.0).unwrap();
    let sim = t.get(&format!("/sim_cards/{id}")).await.body;
    assert_eq!(sim["data"]["current_billing_period_consumed_data"], json!({ "amount": "60.0", "unit": "MB" }));
    assert_eq!(sim["data"]["status"]["value"], "enabled");
    assert_eq!(t.control(&format!("/_emulator/sims/{id}/usage"), json!({ "mb": 50.5 })).await, StatusCode::OK);
    let sim = t.get(&format!("/sim_cards/{id}")).await.body;
    assert_eq!(sim["data"]["current_billing_period_consumed_data"]["amount"], "110.5");
    assert_eq!(sim["data"]["status"]["value"], "data_limit_exceeded");

    // Raising the limit (1 GB = 1024 MB here) clears it; so does a new billing period.
    let raised = t.patch(&format!("/sim_cards/{id}"), json!({ "data_limit": { "amount": "1.0", "unit": "GB" } })).await;
    assert_eq!(raised.body["data"]["status"]["value"], "enabled");
    t.patch(&format!("/sim_cards/{id}"), json!({ "data_limit": { "amount": "50.0", "unit": "MB" } })).await;
    assert_eq!(t.get(&format!("/sim_cards/{id}")).await.body["data"]["status"]["value"], "data_limit_exceeded");
    t.emulator.new_billing_period(&id).unwrap();
    let sim = t.get(&format!("/sim_cards/{id}")).await.body;
    assert_eq!(sim["data"]["current_billing_period_consumed_data"]["amount"], "0.0");
    assert_eq!(sim["data"]["status"]["value"], "enabled");

    let tagged = t.patch(&format!("/sim_cards/{id}"), json!({ "tags": ["renamed"], "sim_card_group_id": GROUP })).await;
    assert_eq!(tagged.body["data"]["tags"], json!(["renamed"]));
    assert_eq!(t.search("filter[tags][]=renamed").await, [id.as_str()]);

    for (body, pointer) in [
        (json!({ "data_limit": { "amount": "abc", "unit": "MB" } }), "/data_limit/amount"),
        (json!({ "data_limit": { "amount": "-5.0", "unit": "MB" } }), "/data_limit/amount"),
        (json!({ "data_limit": { "amount": 100, "unit": "MB" } }), "/data_limit/amount"),
        (json!({ "data_limit": { "amount": "100.0", "unit": "TB" } }), "/data_limit/unit"),
        (json!({ "tags": "one" }), "/tags"),
    ] {
        let answer = t.patch(&format!("/sim_cards/{id}"), body.clone()).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(answer.body["errors"][0]["source"]["pointer"], pointer, "{body}");
    }
    let sim = t.get(&format!("/sim_cards/{id}")).await.body;
    assert_eq!(sim["data"]["data_limit"]["amount"], "50.0", "refused patches change nothing");
    let missing = t.patch("/sim_cards/6a09cdc3-8948-47f0-aa62-74ac943d6c58", json!({ "tags": [] })).await;
    assert_eq!((missing.status, missing.code()), (StatusCode::NOT_FOUND, "10005"));
    assert_spec_conformant(&t.emulator);
}
