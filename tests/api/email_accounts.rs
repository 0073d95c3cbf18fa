//! Accounts by email: sign-up answers the same whether or not the address has an account (its
//! owner gets an email instead); a new address is verified by a link before guest orders show
//! in "My eSIMs"; password reset links are single-use, expire in an hour and are stored hashed.

use crate::helpers::{Page, TestApp, spawn_app};

const PASSWORD: &str = "a long enough password";

fn token_of(link: &str) -> String {
    link.split("token=").nth(1).unwrap().to_string()
}

async fn sign_up(app: &TestApp, email: &str) -> reqwest::Response {
    app.post_form("/account/sign-up", &[("email", email), ("password", PASSWORD)]).await
}

#[tokio::test]
async fn sign_up_answers_the_same_and_an_existing_owner_gets_an_email() {
    let app = spawn_app().await;
    let first = sign_up(&app, "dee@example.com").await;
    let again = sign_up(&app, "DEE@example.com").await;
    for response in [&first, &again] {
        assert_eq!(response.status(), 303);
        assert_eq!(response.headers()["location"], "/account/check-email");
    }
    assert_eq!(app.get("/account").await.status(), 303, "no one is signed in by signing up");
    let check = app.page("/account/check-email", 200).await;
    assert!(Page::parse(&check).text("#check-email").contains("We sent an email"));
    app.wait_for_mail("dee@example.com", "Confirm your email address").await;
    let exists = app.wait_for_mail("dee@example.com", "You already have a Tern account").await;
    assert!(exists.text().contains(&app.url("/account/sign-in")));
    let users: i64 = sqlx::query_scalar("select count(*) from users").fetch_one(&app.pool).await.unwrap();
    assert_eq!(users, 1);
}

#[tokio::test]
async fn guest_orders_show_in_my_esims_only_once_the_address_is_verified() {
    let app = spawn_app().await;
    let (order_id, _) = app.paid_order().await;
    sign_up(&app, "ana@example.com").await;
    app.post_form("/account/sign-in", &[("email", "ana@example.com"), ("password", PASSWORD)]).await;
    let before = app.page("/account", 200).await;
    assert!(!before.contains(&order_id.to_string()) && before.contains("No eSIMs yet"), "not verified yet");

    let mail = app.wait_for_mail("ana@example.com", "Confirm your email address").await;
    let link = mail.link(&app.url("/account/verify?token="));
    let page = app.get(link.strip_prefix(&app.url("")).unwrap()).await;
    assert_eq!(page.status(), 200, "opening the link uses nothing (a mail scanner may fetch it)");
    assert_eq!(page.headers()["cache-control"], "no-store");
    let token = token_of(&link);

    let wrong = app.post_form("/account/verify", &[("token", "not-the-token")]).await;
    assert_eq!(wrong.status(), 200);
    assert!(wrong.text().await.unwrap().contains("id=\"dead-link\""));
    let verified = app.post_form("/account/verify", &[("token", &token)]).await;
    assert_eq!(verified.status(), 303);
    let after = app.page("/account", 200).await;
    assert!(after.contains(&format!("/orders/{order_id}")), "the guest order is in My eSIMs");
    assert_eq!(app.event_count(order_id, "claimed").await, 1);
    let reused = app.post_form("/account/verify", &[("token", &token)]).await;
    assert_eq!(reused.status(), 200, "single use");

    // A verified account also gets guest orders placed later with its address.
    app.post_form("/account/sign-out", &[]).await;
    let (later, _) = app.paid_order().await;
    app.post_form("/account/sign-in", &[("email", "ana@example.com"), ("password", PASSWORD)]).await;
    assert!(app.page("/account", 200).await.contains(&format!("/orders/{later}")));
}

#[tokio::test]
async fn a_verification_link_expires() {
    let app = spawn_app().await;
    sign_up(&app, "eve@example.com").await;
    let mail = app.wait_for_mail("eve@example.com", "Confirm your email address").await;
    sqlx::query("update account_tokens set expires_at = now() - interval '1 second'").execute(&app.pool).await.unwrap();
    let expired =
        app.post_form("/account/verify", &[("token", &token_of(&mail.link(&app.url("/account/verify"))))]).await;
    assert_eq!(expired.status(), 200);
    let verified: bool =
        sqlx::query_scalar("select email_verified_at is not null from users").fetch_one(&app.pool).await.unwrap();
    assert!(!verified);
}

#[tokio::test]
async fn a_password_reset_link_works_once_for_an_hour_and_is_stored_hashed() {
    let app = spawn_app().await;
    let hash = tern::services::accounts::hash_password("the old password!".into()).await.unwrap();
    tern::db::users::create(&app.pool, "flo@example.com", &hash, tern::domain::user::Role::Customer).await.unwrap();
    // Flo is still signed in on another device, with the old password.
    let other_device = crate::helpers::browser();
    let fields = [("email", "flo@example.com"), ("password", "the old password!")];
    assert_eq!(app.post_form_on(&other_device, "/account/sign-in", &fields).await.status(), 303);
    assert_eq!(other_device.get(app.url("/account")).send().await.unwrap().status(), 200);

    let known = app.post_form("/account/forgot-password", &[("email", "flo@example.com")]).await;
    let unknown = app.post_form("/account/forgot-password", &[("email", "nobody@example.com")]).await;
    assert_eq!((known.status(), unknown.status()), (reqwest::StatusCode::OK, reqwest::StatusCode::OK));
    let text = |html: String| Page::parse(&html).text("#reset-sent");
    assert_eq!(text(known.text().await.unwrap()), text(unknown.text().await.unwrap()), "the same answer");

    let mail = app.wait_for_mail("flo@example.com", "Reset your Tern password").await;
    let link = mail.link(&app.url("/account/reset-password?token="));
    let token = token_of(&link);
    let (stored, ttl): (Vec<u8>, f64) = sqlx::query_as(
        "select token_sha256, extract(epoch from expires_at - created_at)::float8 from account_tokens where purpose = 'reset_password'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(stored, tern::domain::token::digest(&token).to_vec(), "stored as its SHA-256");
    assert!((ttl - 3600.0).abs() < 5.0, "expires in an hour: {ttl}");
    assert!(app.mails().await.iter().all(|m| !m.to.contains(&"nobody@example.com".to_string())));

    assert_eq!(app.get("/account/reset-password?token=wrong").await.status(), 410, "a wrong token");
    assert_eq!(app.get(link.strip_prefix(&app.url("")).unwrap()).await.status(), 200);
    let short = app.post_form("/account/reset-password", &[("token", &token), ("password", "short")]).await;
    assert_eq!(short.status(), 200, "a bad password is a field error and uses nothing");
    let reset = app.post_form("/account/reset-password", &[("token", &token), ("password", "the new password!")]).await;
    assert_eq!(reset.status(), 303);
    let after = other_device.get(app.url("/account")).send().await.unwrap();
    assert_eq!(after.status(), 303, "the reset ended the other device's session (ASVS V3.3.3)");
    app.post_form("/account/sign-out", &[]).await;
    let signed_in =
        app.post_form("/account/sign-in", &[("email", "flo@example.com"), ("password", "the new password!")]).await;
    assert_eq!(signed_in.status(), 303, "the new password works");
    let again = app.post_form("/account/reset-password", &[("token", &token), ("password", "a third password!")]).await;
    assert_eq!(again.status(), 200, "single use");
    assert_eq!(app.get(link.strip_prefix(&app.url("")).unwrap()).await.status(), 410);

    // An expired link is refused too.
    app.post_form("/account/sign-out", &[]).await;
    app.post_form("/account/forgot-password", &[("email", "flo@example.com")]).await;
    crate::helpers::eventually("a second reset email", || async {
        app.mails_to("flo@example.com", "Reset your Tern password").await.len() == 2
    })
    .await;
    let second = app.mails_to("flo@example.com", "Reset your Tern password").await.remove(1);
    sqlx::query("update account_tokens set expires_at = now() - interval '1 second' where used_at is null")
        .execute(&app.pool)
        .await
        .unwrap();
    let expired = token_of(&second.link(&app.url("/account/reset-password?token=")));
    let refused =
        app.post_form("/account/reset-password", &[("token", &expired), ("password", "a fourth password!")]).await;
    assert_eq!(refused.status(), 200, "expired");
}
