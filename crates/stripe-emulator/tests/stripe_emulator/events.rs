//! `GET /v1/events` through async-stripe's `ListEvent` (newest first, `limit`,
//! `starting_after`, `created[gt]`) and its list envelope as raw JSON.

use stripe_core::event::ListEvent;
use stripe_types::RangeQueryTs;

use super::*;

fn ids(list: &stripe_types::List<stripe_core::Event>) -> Vec<String> {
    list.data.iter().map(|e| e.id.as_str().to_owned()).collect()
}

#[tokio::test]
async fn stripe_emulator_lists_events_newest_first_with_paging_and_created_filter() {
    let stripe = start().await;
    let (_, payment_intent) = paid_session(&stripe, "ord_events").await;
    CreateRefund::new().payment_intent(payment_intent.as_str()).send(&stripe.client).await.expect("refunded");
    let recorded: Vec<String> = stripe.emulator.events().iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(recorded.len(), 3, "completed, charge.refunded, refund.created");

    let all = ListEvent::new().send(&stripe.client).await.expect("listed");
    let newest_first: Vec<String> = recorded.iter().rev().cloned().collect();
    assert_eq!(ids(&all), newest_first);
    assert!(!all.has_more);
    let types: Vec<&str> = all.data.iter().map(|e| e.type_.as_str()).collect();
    assert_eq!(types, ["refund.created", "charge.refunded", "checkout.session.completed"]);
    let completed = &all.data[2];
    let object = miniserde::json::to_string(&completed.data.object);
    let object: Value = serde_json::from_str(&object).unwrap();
    assert_eq!(object["object"], "checkout.session");
    assert_eq!(object["payment_status"], "paid");

    // Pages of one, following `starting_after`.
    let first = ListEvent::new().limit(1).send(&stripe.client).await.expect("page 1");
    assert_eq!(ids(&first), newest_first[..1]);
    assert!(first.has_more);
    let second = ListEvent::new().limit(2).starting_after(newest_first[0].as_str()).send(&stripe.client).await.unwrap();
    assert_eq!(ids(&second), newest_first[1..]);
    assert!(!second.has_more);

    // Only what was created after a time.
    stripe.emulator.advance_clock(120);
    let later = stripe.emulator.now() - 1;
    stripe.emulator.expire(&create_session(&stripe, "ord_later").await).await.unwrap();
    let recent = ListEvent::new().created(RangeQueryTs::gt(later)).send(&stripe.client).await.unwrap();
    let types: Vec<&str> = recent.data.iter().map(|e| e.type_.as_str()).collect();
    assert_eq!(types, ["checkout.session.expired"]);
}

#[tokio::test]
async fn stripe_emulator_events_list_has_stripes_shape_and_checks_its_parameters() {
    let stripe = start().await;
    paid_session(&stripe, "ord_shape").await;
    let url = format!("{}v1/events", stripe.emulator.base_url());
    let response = http().get(format!("{url}?limit=5&created%5Bgt%5D=0")).bearer_auth(API_KEY).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["object"], "list");
    assert_eq!(body["url"], "/v1/events");
    assert_eq!(body["has_more"], false);
    assert_eq!(body["data"][0]["object"], "event");
    assert_eq!(body["data"][0]["type"], "checkout.session.completed");

    let too_many = http().get(format!("{url}?limit=101")).bearer_auth(API_KEY).send().await.unwrap();
    assert_eq!(too_many.status(), 400);
    let unknown = http().get(format!("{url}?starting_after=evt_nope")).bearer_auth(API_KEY).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    let unauthenticated = http().get(&url).send().await.unwrap();
    assert_eq!(unauthenticated.status(), 401);
}
