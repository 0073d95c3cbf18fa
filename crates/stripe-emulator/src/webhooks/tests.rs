//! Unit tests of `webhooks`: signatures, key rotation, finding events by id, and how many
//! deliveries run at once.

use super::*;

#[test]
fn signature_matches_the_documented_test_vector() {
    let header = signature_header(&["whsec_test_secret".to_owned()], 1_700_000_000, r#"{"id":"evt_1"}"#);
    assert_eq!(header, "t=1700000000,v1=248a374f50f943a28b0f6ab50faf9a7e7e29b710fa26df9fb1618b9bf8ea9c9a");
}

#[test]
fn rotation_signs_with_the_new_and_the_previous_secret() {
    let mut webhooks = WebhookState::new("whsec_a".into());
    webhooks.rotate_secret("whsec_b");
    webhooks.rotate_secret("whsec_c");
    let header = signature_header(&webhooks.secrets, 1, "{}");
    assert_eq!(header.matches(",v1=").count(), 2);
    assert_eq!(webhooks.secrets, vec!["whsec_c".to_owned(), "whsec_b".to_owned()]);
}

fn take(webhooks: &mut WebhookState) -> DeliveryJob {
    match webhooks.next() {
        NextDelivery::Send(job) => job,
        NextDelivery::WaitUntil(_) | NextDelivery::Busy | NextDelivery::Idle => panic!("a delivery should be due"),
    }
}

#[test]
fn deliveries_and_redeliveries_find_their_event_by_id() {
    let mut webhooks = WebhookState::new("whsec_a".into());
    webhooks.set_url("http://127.0.0.1:1/hook".into());
    for n in 0..3 {
        webhooks.emit("test.event", json!({ "n": n }), n);
    }
    let ids: Vec<String> = webhooks.events().iter().map(|e| e["id"].as_str().unwrap_or_default().to_owned()).collect();
    for (n, id) in ids.iter().enumerate() {
        let job = take(&mut webhooks);
        assert_eq!(&job.event_id, id);
        let body: Value = serde_json::from_str(&job.body).expect("json");
        assert_eq!((body["id"].as_str(), body["data"]["object"]["n"].as_u64()), (Some(id.as_str()), Some(n as u64)));
        // The second attempt fails (and is retried after a backoff).
        webhooks.finish(&job, n != 1);
    }
    let pending: Vec<Value> = webhooks.events().iter().map(|e| e["pending_webhooks"].clone()).collect();
    assert_eq!(pending, [json!(0), json!(1), json!(0)]);

    webhooks.redeliver(&ids[1]).expect("known event");
    let job = take(&mut webhooks);
    assert_eq!(job.event_id, ids[1]);
    assert!(job.body.contains(&ids[1]));
    assert_eq!(webhooks.redeliver("evt_unknown"), Err(Refusal::NoSuchEvent("evt_unknown".into())));
}

#[test]
fn deliveries_are_made_one_at_a_time_unless_more_are_allowed() {
    let mut webhooks = WebhookState::new("whsec_a".into());
    webhooks.set_url("http://127.0.0.1:1/hook".into());
    for n in 0..3 {
        webhooks.emit("test.event", json!({ "n": n }), n);
    }
    let first = take(&mut webhooks);
    assert!(matches!(webhooks.next(), NextDelivery::Busy), "one in flight by default");
    webhooks.set_concurrency(2);
    let second = take(&mut webhooks);
    assert!(matches!(webhooks.next(), NextDelivery::Busy), "two in flight at most");
    webhooks.finish(&first, true);
    let third = take(&mut webhooks);
    let order: Vec<&str> = [&first, &second, &third].iter().map(|j| j.event_id.as_str()).collect();
    let ids: Vec<String> = webhooks.events().iter().map(|e| e["id"].as_str().unwrap_or_default().to_owned()).collect();
    assert_eq!(order, ids, "started in queue order");
    webhooks.finish(&second, true);
    webhooks.finish(&third, true);
    assert!(webhooks.is_settled());
}
