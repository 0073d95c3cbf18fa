//! The order lifecycle seen from outside: operators' internal entries never reach the
//! traveller, on the order page or through the API.

use tern::domain::user::Role;
use tern::worker::JobResult;

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
