//! The admin pages of webhooks and API keys: admins create an endpoint (its secret shown once),
//! see its deliveries, and revoke keys; bad input comes back beside its field; support staff
//! are refused.

use tern::domain::user::Role;
use tern::domain::webhook::KeyRole;

use crate::helpers::{Page, eventually, spawn_app_with_worker};
use crate::webhooks_receiver::{Receiver, api_key, get};

#[tokio::test]
async fn an_admin_creates_an_endpoint_tests_it_and_sees_the_delivery() {
    let app = spawn_app_with_worker().await;
    let receiver = Receiver::ok().await;
    app.sign_in_as(Role::Admin).await;
    let refused =
        app.post_form("/admin/webhooks", &[("url", "http://169.254.169.254/"), ("event_types", "order.paid")]).await;
    assert_eq!(refused.status(), 200);
    let page = Page::parse(&refused.text().await.unwrap());
    assert!(page.text("#url-error").contains("169.254.169.254"), "the message is beside the URL field");

    let created = app
        .post_form(
            "/admin/webhooks",
            &[("url", &receiver.url), ("event_types", "order.paid"), ("event_types", "esim.ready")],
        )
        .await;
    assert_eq!(created.status(), 200);
    let page = Page::parse(&created.text().await.unwrap());
    let secret = page.text("#secret");
    assert!(secret.starts_with("whsec_"), "the secret is shown once: {secret}");

    let id: uuid::Uuid = sqlx::query_scalar("select id from webhook_endpoints").fetch_one(&app.pool).await.unwrap();
    let types: Vec<String> =
        sqlx::query_scalar("select unnest(event_types) from webhook_endpoints").fetch_all(&app.pool).await.unwrap();
    assert_eq!(types, ["order.paid", "esim.ready"]);
    assert_eq!(app.post_form(&format!("/admin/webhooks/{id}/test"), &[]).await.status(), 303);
    receiver.wait_for(1).await[0].verify(&secret).unwrap();
    eventually("the delivery is on the page", || async {
        app.page(&format!("/admin/webhooks/{id}"), 200).await.contains("<code>ping</code>")
    })
    .await;
    let shown = app.page(&format!("/admin/webhooks/{id}"), 200).await;
    assert!(!shown.contains(&secret), "never shown again");
    let audited: i64 = sqlx::query_scalar("select count(*) from audit_log where action like 'webhook_endpoint.%'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(audited, 2, "create and test are audited");

    let refused = app.post_form(&format!("/admin/webhooks/{id}/recover"), &[("since", "tomorrow")]).await;
    assert_eq!(refused.status(), 200);
    assert!(!Page::parse(&refused.text().await.unwrap()).text("#since-error").is_empty());
}

#[tokio::test]
async fn an_admin_lists_and_revokes_api_keys_and_support_cannot() {
    let app = spawn_app_with_worker().await;
    let key = api_key(&app, KeyRole::Integrator).await;
    assert_eq!(get(&app, &key, "/api/v1/webhook_endpoints").await.0, 200);
    app.sign_in_as(Role::Admin).await;
    let html = app.page("/admin/api-keys", 200).await;
    assert!(html.contains(&key[..15]), "the key's first characters");
    assert!(!html.contains(&key), "never the key itself");
    let id: uuid::Uuid = sqlx::query_scalar("select id from api_keys").fetch_one(&app.pool).await.unwrap();
    assert_eq!(app.post_form(&format!("/admin/api-keys/{id}/revoke"), &[]).await.status(), 303);
    assert_eq!(get(&app, &key, "/api/v1/webhook_endpoints").await.0, 401, "revoked at once");

    let support = spawn_app_with_worker().await;
    support.sign_in_as(Role::Support).await;
    assert_eq!(support.get("/admin/api-keys").await.status(), 403);
    assert_eq!(support.get("/admin/webhooks").await.status(), 403);
}
