//! `/orders/find`: the same page for an address with orders and one without, mail only for
//! the first, limits per address and per IP; and header injection through an email field.

use crate::helpers::{Page, eventually, spawn_app};

#[tokio::test]
async fn finding_orders_answers_the_same_and_mails_only_a_known_address() {
    let app = spawn_app().await;
    let (id, _) = app.paid_order().await;
    app.wait_for_mail("ana@example.com", "Payment received").await;

    let known = app.post_form("/orders/find", &[("email", "ana@example.com")]).await;
    let unknown = app.post_form("/orders/find", &[("email", "nobody@example.com")]).await;
    assert_eq!(known.status(), 200);
    assert_eq!(unknown.status(), 200);
    let text = |html: String| Page::parse(&html).text("#find-sent");
    let (known, unknown) = (text(known.text().await.unwrap()), text(unknown.text().await.unwrap()));
    assert_eq!(known.replace("ana@example.com", "ADDRESS"), unknown.replace("nobody@example.com", "ADDRESS"));

    let list = app.wait_for_mail("ana@example.com", "Your Tern orders").await;
    let link = list.link(&app.url(&format!("/orders/{id}?token=")));
    assert_eq!(
        crate::helpers::link_opener().get(&link).send().await.unwrap().status(),
        200,
        "each link opens its order"
    );
    // Nothing for the unknown address, even once the known one's list has gone out.
    let jobs: i64 = sqlx::query_scalar("select count(*) from jobs where kind = 'send_email' and payload->>'to' = $1")
        .bind("nobody@example.com")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(jobs, 0);
    assert!(app.mails().await.iter().all(|m| !m.to.contains(&"nobody@example.com".to_string())));
}

#[tokio::test]
async fn finding_orders_is_rate_limited_per_address_and_per_ip() {
    let app = spawn_app().await;
    for _ in 0..tern::services::find_order::PER_ADDRESS {
        assert_eq!(app.post_form("/orders/find", &[("email", "cy@example.com")]).await.status(), 200);
    }
    let limited = app.post_form("/orders/find", &[("email", "CY@example.com")]).await;
    assert_eq!(limited.status(), 429, "per address, whatever the case");
    assert!(limited.text().await.unwrap().contains("Too many requests"));
    let mut last = 0;
    for n in 0..tern::services::find_order::PER_IP {
        last = app.post_form("/orders/find", &[("email", &format!("p{n}@example.com"))]).await.status().as_u16();
    }
    assert_eq!(last, 429, "per IP across addresses");
}

#[tokio::test]
async fn a_signed_in_traveller_is_offered_the_same_lookup() {
    let app = spawn_app().await;
    let user = app.sign_in_as(tern::domain::user::Role::Customer).await;
    let html = app.page("/account", 200).await;
    assert_eq!(Page::parse(&html).attr("a#find-orders", "href").as_deref(), Some("/orders/find"));
    let form = app.page("/orders/find", 200).await;
    assert_eq!(Page::parse(&form).attr("input#email", "value").as_deref(), Some(user.email.as_str()));
}

#[tokio::test]
async fn header_injection_through_an_email_field_is_a_field_error() {
    let app = spawn_app().await;
    let hostile = "ana@example.com\r\nBcc: victim@example.com";
    let find = app.post_form("/orders/find", &[("email", hostile)]).await;
    assert_eq!(find.status(), 200);
    assert!(find.text().await.unwrap().contains("id=\"email-error\""));

    let (plan_id, _) = app.some_plan().await;
    let checkout = app
        .post_form(
            &format!("/plans/{plan_id}/checkout"),
            &[("email", hostile), ("device_confirmed", "on"), ("step", "pay")],
        )
        .await;
    assert_eq!(checkout.status(), 200);
    assert!(checkout.text().await.unwrap().contains("id=\"email-error\""));

    let forgot = app.post_form("/account/forgot-password", &[("email", "a@example.com\nBcc: b@example.com")]).await;
    assert_eq!(forgot.status(), 200);
    let orders: i64 = sqlx::query_scalar("select count(*) from orders").fetch_one(&app.pool).await.unwrap();
    let mails: i64 =
        sqlx::query_scalar("select count(*) from jobs where kind = 'send_email'").fetch_one(&app.pool).await.unwrap();
    assert_eq!((orders, mails), (0, 0), "nothing was created or queued");
    eventually("no message ever left", || async { app.mails().await.is_empty() }).await;
}
