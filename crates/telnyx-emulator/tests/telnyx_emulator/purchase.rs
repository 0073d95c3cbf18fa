//! Purchase and search.

use super::*;

#[tokio::test]
async fn a_purchase_with_tags_is_found_by_both_tag_filter_forms() {
    let t = start().await;
    let answer = t
        .purchase(
            json!({ "amount": 1, "sim_card_group_id": GROUP, "status": "enabled", "tags": ["tern-order-a", "common"] }),
        )
        .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED);
    assert_eq!(answer.body["errors"], json!([]));
    let sim = &answer.body["data"][0];
    assert_eq!(answer.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(sim["record_type"], "sim_card");
    assert_eq!(sim["type"], "esim");
    assert_eq!(sim["status"]["value"], "enabled");
    assert!(sim["status"]["reason"].is_string());
    assert_eq!(sim["esim_installation_status"], "released");
    assert_eq!(sim["eid"], Value::Null);
    assert_eq!(sim["tags"], json!(["tern-order-a", "common"]));
    assert_eq!(sim["sim_card_group_id"], GROUP);
    assert_eq!(sim["version"], "4.3");
    assert_eq!(sim["actions_in_progress"], false);
    assert_eq!(sim["current_billing_period_consumed_data"], json!({ "amount": "0.0", "unit": "MB" }));
    assert!(sim.get("activation_code").is_none(), "purchases carry no activation code");
    assert!(is_millisecond_utc(sim["created_at"].as_str().unwrap()), "{}", sim["created_at"]);
    let a = sim["id"].as_str().unwrap().to_owned();

    let other = t.purchase(json!({ "amount": 1, "status": "standby", "tags": ["tern-order-b", "common"] })).await;
    let b = other.body["data"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(other.body["data"][0]["status"]["value"], "standby");
    assert_eq!(other.body["data"][0]["sim_card_group_id"], DEFAULT_SIM_CARD_GROUP_ID, "default group");

    // reqwest's .query percent-encodes the brackets; a hand-written URL keeps them raw.
    let encoded = t.send(t.request(Method::GET, "/sim_cards").query(&[("filter[tags][]", "tern-order-a")])).await;
    assert_eq!(ids(&encoded.body), [a.as_str()]);
    assert_eq!(t.search("filter[tags]=tern-order-a").await, [a.as_str()]);
    assert_eq!(t.search("filter[tags][]=tern-order-a").await, [a.as_str()]);
    assert_eq!(t.search("filter%5Btags%5D=tern-order-a").await, [a.as_str()]);
    // Repeated keys are AND-ed.
    assert_eq!(t.search("filter[tags][]=tern-order-a&filter[tags][]=common").await, [a.as_str()]);
    assert!(t.search("filter[tags][]=tern-order-a&filter[tags][]=tern-order-b").await.is_empty());
    assert_eq!(t.search("filter[tags]=common").await, [a.as_str(), b.as_str()]);
    assert!(t.search("filter[tags][]=tern-order").await.is_empty(), "tags match whole");
    assert_eq!(t.search("filter[status][]=standby").await, [b.as_str()]);
    assert_eq!(t.search(&format!("filter[sim_card_group_id]={GROUP}")).await, [a.as_str()]);

    let queries: Vec<String> = t.emulator.requests().into_iter().map(|r| r.query).collect();
    assert!(queries.iter().any(|q| q.contains("filter%5Btags%5D%5B%5D=tern-order-a")), "{queries:?}");
    assert!(queries.iter().any(|q| q.contains("filter[tags]=tern-order-a")), "{queries:?}");
    assert_eq!(t.emulator.purchases(), 2);
    assert_spec_conformant(&t.emulator);
}

#[tokio::test]
async fn identifiers_look_real_and_iccids_pass_luhn() {
    let t = start().await;
    let answer = t.purchase(json!({ "amount": 20, "tags": ["bulk"] })).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED);
    let sims = answer.body["data"].as_array().unwrap();
    assert_eq!(sims.len(), 20);
    let mut iccids = std::collections::HashSet::new();
    for sim in sims {
        let iccid = sim["iccid"].as_str().unwrap();
        assert!(all_digits(iccid, 20) && iccid.starts_with("89") && luhn_valid(iccid), "{iccid}");
        assert!(iccids.insert(iccid.to_owned()), "unique ICCIDs");
        let imsi = sim["imsi"].as_str().unwrap();
        assert!(all_digits(imsi, 15) && imsi.starts_with("00101"), "{imsi}");
        let msisdn = sim["msisdn"].as_str().unwrap();
        assert!(msisdn.starts_with("+1202555") && all_digits(&msisdn[1..], 11), "{msisdn}");
        assert!(uuid::Uuid::parse_str(sim["id"].as_str().unwrap()).is_ok());
    }
    assert!(!luhn_valid("89310410106543789301"), "the checker rejects the spec's bad example");
    let stored: Vec<Value> = t.emulator.sims().into_iter().map(|s| s["id"].clone()).collect();
    let answered: Vec<Value> = sims.iter().map(|s| s["id"].clone()).collect();
    assert_eq!(stored, answered, "sims() in creation order");
    assert_spec_conformant(&t.emulator);
}

#[tokio::test]
async fn purchase_validation_answers_422_with_a_pointer() {
    let t = start().await;
    for (body, pointer, code) in [
        (json!({ "amount": 0 }), "/amount", "10015"),
        (json!({ "amount": "1" }), "/amount", "10015"),
        (json!({ "amount": 1.5 }), "/amount", "10015"),
        (json!({}), "/amount", "10004"),
        (json!({ "amount": 1, "status": "active" }), "/status", "10015"),
        (json!({ "amount": 1, "tags": ["ok", 7] }), "/tags/1", "10015"),
        (json!({ "amount": 1, "tags": "solo" }), "/tags", "10015"),
        (json!({ "amount": 1, "sim_card_group_id": "group-1" }), "/sim_card_group_id", "10015"),
        (json!({ "amount": 1, "whitelabel_name": "Tern!" }), "/whitelabel_name", "10015"),
    ] {
        let answer = t.purchase(body.clone()).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(answer.code(), code, "{body}");
        assert_eq!(answer.body["errors"][0]["source"]["pointer"], pointer, "{body}");
    }
    let garbage = t.send(t.request(Method::POST, "/actions/purchase/esims").body("amount=1")).await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
    assert!(t.emulator.sims().is_empty());
    assert_eq!(t.emulator.purchases(), 0);
    assert_spec_conformant(&t.emulator);
}
