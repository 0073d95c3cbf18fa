//! The order lifecycle seen from outside: operators' internal entries never reach the
//! traveller, on the order page or through the API.

use tern::domain::user::Role;
use tern::worker::JobResult;
use time::OffsetDateTime;

use crate::helpers::spawn_app;

#[tokio::test]
async fn an_internal_note_never_reaches_the_travellers_page_or_the_api() {
    let app = spawn_app().await;
    let (plan_id, _) = app.some_plan().await;
    let (id, token, session_id) = app.buy_plan(&plan_id).await;
    app.pay(&session_id).await;
    app.wait_status(id, "paid").await;
    assert_eq!(app.worker().run_once().await.unwrap().unwrap().1, JobResult::Done);

    app.sign_in_as(Role::Support).await;
    let secret = "customer sounded upset 7f3a9c";
    assert_eq!(app.post_form(&format!("/admin/orders/{id}/notes"), &[("note", secret)]).await.status(), 303);
    assert_eq!(app.post_form(&format!("/admin/orders/{id}/refresh-sim"), &[]).await.status(), 303);
    assert_eq!(app.event_count(id, "note").await, 1);
    assert_eq!(app.event_count(id, "sim_status_refreshed").await, 1);
    let staff_page = app.page(&format!("/admin/orders/{id}"), 200).await;
    assert!(staff_page.contains(secret), "staff see the note");

    let page = app.order_page(id, &token, "").await;
    assert!(page.contains("Payment received"), "the traveller's timeline is there");
    for hidden in [secret, "Internal note", "eSIM status checked"] {
        assert!(!page.contains(hidden), "the order page shows {hidden:?}");
    }

    let api =
        reqwest::Client::new().get(app.url(&format!("/api/v1/orders/{id}"))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(api.status(), 200);
    let body: serde_json::Value = api.json().await.unwrap();
    let kinds: Vec<&str> = body["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"paid") && kinds.contains(&"ready"), "{kinds:?}");
    assert!(!kinds.contains(&"note") && !kinds.contains(&"sim_status_refreshed"), "{kinds:?}");
    assert!(!body.to_string().contains(secret));
}

/// The statements that change an order or its eSIM stamp `updated_at` themselves (no trigger
/// does): after the move to `ready`, both rows say they last changed in that transaction. The
/// PaymentIntent is written with the move to `paid`, as the `paid` event names it.
#[tokio::test]
async fn an_order_and_its_esim_say_when_they_last_changed_and_the_payment_intent_is_kept() {
    let app = spawn_app().await;
    let (plan_id, _) = app.some_plan().await;
    let (id, _, session_id) = app.buy_plan(&plan_id).await;
    app.pay(&session_id).await;
    app.wait_status(id, "paid").await;
    let (paid_at, updated_at): (OffsetDateTime, OffsetDateTime) =
        sqlx::query_as("select paid_at, updated_at from orders where id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(updated_at, paid_at, "paying stamps the order");
    assert_eq!(app.worker().run_once().await.unwrap().unwrap().1, JobResult::Done);

    type Stamps = (OffsetDateTime, OffsetDateTime, OffsetDateTime, Option<OffsetDateTime>);
    let (order_updated, ready_event, esim_updated, ready_at): Stamps = sqlx::query_as(
        "select o.updated_at, e.created_at, s.updated_at, s.ready_at
           from orders o join esims s on s.order_id = o.id
           join order_events e on e.order_id = o.id and e.type = 'ready'
          where o.id = $1",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(order_updated, ready_event, "the move to ready stamps the order");
    assert_eq!(Some(esim_updated), ready_at, "storing the code stamps the eSIM");

    let (kept, named): (Option<String>, Option<String>) = sqlx::query_as(
        "select o.stripe_payment_intent_id, e.details->>'payment_intent'
           from orders o join order_events e on e.order_id = o.id and e.type = 'paid' where o.id = $1",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(kept.as_deref().is_some_and(|pi| pi.starts_with("pi_")), "{kept:?}");
    assert_eq!(kept, named);
}
