//! ASVS V2, V3, V4 and V5: sign-in, sessions, redirects and input (staff MFA and V4.1: `mfa.rs`;
//! V7: `logging.rs`).

use serde_json::{Value, json};
use tern::domain::user::Role;

use crate::helpers::{PASSWORD, Page, TestApp, spawn_app, spawn_app_trusting};

/// POSTs a form through the test client as if a trusted proxy forwarded it from `client`.
pub(crate) async fn post_from(app: &TestApp, client: &str, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    let token = app.csrf().await;
    let mut fields = form.to_vec();
    fields.push(("csrf_token", &token));
    app.client.post(app.url(path)).header("x-forwarded-for", client).form(&fields).send().await.unwrap()
}

pub(crate) fn location(response: &reqwest::Response) -> String {
    response.headers().get("location").map(|l| l.to_str().unwrap().to_string()).unwrap_or_default()
}

pub(crate) async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.pool).await.unwrap()
}

// ---- V5.1.5: open redirects -------------------------------------------------------------

#[tokio::test]
pub(crate) async fn v5_1_5_sign_in_next_accepts_only_same_site_paths() {
    let app = spawn_app().await;
    let user = app.create_user("nora@example.com", Role::Customer).await;
    let hostile = [
        "/%09/evil.example",
        "/\t/evil.example",
        "/\r\n/evil.example",
        "\\\\evil.example",
        "/\\evil.example",
        "/%5C/evil.example",
        "//evil.example",
        "/%2F%2Fevil.example",
        "/.//evil.example",
        "//tern.example@evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "http:/evil.example",
    ];
    for next in hostile {
        // The form the page renders carries only a safe value...
        let query: String = form_urlencoded::Serializer::new(String::new()).append_pair("next", next).finish();
        let page = Page::parse(&app.page(&format!("/account/sign-in?{query}"), 200).await);
        assert_eq!(page.attr("input[name=next]", "value").as_deref(), Some("/account"), "{next:?}");
        // ...and a forged post is sent home, not away (tab, CR/LF and NUL-like bytes included).
        let response =
            app.post_form("/account/sign-in", &[("email", &user.email), ("password", PASSWORD), ("next", next)]).await;
        if response.status() == 303 {
            assert_eq!(location(&response), "/account", "{next:?}");
        } else {
            assert_eq!(response.status(), 422, "{next:?}: a control character is refused outright");
        }
        app.post_form("/account/sign-out", &[]).await;
    }
    // A scheme or an `@` inside a path stays a path on this site.
    for next in ["/@evil.example", "/https://evil.example"] {
        let response =
            app.post_form("/account/sign-in", &[("email", &user.email), ("password", PASSWORD), ("next", next)]).await;
        let to = location(&response);
        assert!(to.starts_with('/') && !to.starts_with("//"), "{next:?} -> {to:?}");
        app.post_form("/account/sign-out", &[]).await;
    }
    let response = app
        .post_form("/account/sign-in", &[("email", &user.email), ("password", PASSWORD), ("next", "/orders?x=1")])
        .await;
    assert_eq!(location(&response), "/orders?x=1", "a same-site path is kept");
}

// ---- V5.1.4: control characters ---------------------------------------------------------

#[tokio::test]
pub(crate) async fn v5_1_4_control_characters_are_refused_before_the_database_everywhere() {
    let app = spawn_app().await;
    let audit_before = count(&app, "select count(*) from audit_log").await;

    // The sign-in form: a 422 page naming the field; nothing recorded.
    let response =
        app.post_form("/account/sign-in", &[("email", "ana\u{0}@example.com"), ("password", "whatever it is")]).await;
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("“email” holds a control character"));

    // The API token endpoint: problem+json naming the field.
    let response = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"email": "ana\u{0}@example.com", "password": "whatever it is"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "validation_failed");
    assert_eq!(problem["invalid_params"][0]["name"], "email");
    // Nested JSON and other control characters (escape, DEL) too.
    let (plan_id, _) = app.some_plan().await;
    let response = app
        .client
        .post(app.url("/api/v1/orders"))
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .json(&json!({"plan_id": plan_id, "email": "bo\u{1b}@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    assert_eq!(response.json::<Value>().await.unwrap()["invalid_params"][0]["name"], "email");
    assert_eq!(count(&app, "select count(*) from audit_log").await, audit_before, "nothing reached the database");

    // Checkout: no order is created.
    let response = app
        .post_form(
            &format!("/plans/{plan_id}/checkout"),
            &[("email", "cy\u{7f}@example.com"), ("device_confirmed", "on"), ("step", "pay")],
        )
        .await;
    assert_eq!(response.status(), 422);
    assert_eq!(count(&app, "select count(*) from orders").await, 0);

    // A query string (the search box).
    assert_eq!(app.get("/destinations?q=ja%00pan").await.status(), 422);

    // An admin form: the note is not added.
    let (order, _, _) = app.buy_plan(&plan_id).await;
    app.sign_in_as(Role::Support).await;
    let notes = "select count(*) from order_events where type = 'note'";
    let response = app.post_form(&format!("/admin/orders/{order}/notes"), &[("note", "called\u{0} them")]).await;
    assert_eq!(response.status(), 422);
    assert_eq!(count(&app, notes).await, 0);
    // Line breaks are text, not control characters: a multi-line note is fine.
    let response =
        app.post_form(&format!("/admin/orders/{order}/notes"), &[("note", "called them\r\nno answer")]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(count(&app, notes).await, 1);
}

// ---- V2.2.1: no lockout abuse -----------------------------------------------------------

#[tokio::test]
pub(crate) async fn v2_2_1_the_owner_signs_in_from_home_while_an_attacker_hammers_from_elsewhere() {
    let app = spawn_app_trusting("127.0.0.1/32").await;
    let owner = app.create_user("owner@example.com", Role::Admin).await;
    let free = tern::domain::session::FREE_FAILURES as usize;
    let mut statuses = Vec::new();
    for _ in 0..free + 5 {
        let response = post_from(
            &app,
            "203.0.113.66",
            "/account/sign-in",
            &[("email", "owner@example.com"), ("password", "guess guess guess")],
        )
        .await;
        statuses.push(response.status().as_u16());
    }
    assert!(statuses[..free].iter().all(|s| *s == 200), "{statuses:?}");
    assert!(statuses[free..].iter().all(|s| *s == 429), "then slowed down: {statuses:?}");
    let failures = count(&app, "select count(*) from audit_log where action = 'sign_in_failed'").await;
    assert_eq!(failures, free as i64, "a refused try tests no password and is not a failure");

    // The owner, from their own address, with the right password.
    let response =
        post_from(&app, "198.51.100.7", "/account/sign-in", &[("email", owner.email.as_str()), ("password", PASSWORD)])
            .await;
    assert_eq!(response.status(), 303, "not locked out");
    assert!(location(&response).starts_with("/account/mfa"));

    // The attacker's neighbours in the same IPv6 /64 share its slow-down.
    let mut v6 = Vec::new();
    for n in 0..free + 1 {
        let from = format!("2001:db8:1:2::{:x}", n + 1);
        let response =
            post_from(&app, &from, "/account/sign-in", &[("email", "owner@example.com"), ("password", "nope nope")])
                .await;
        v6.push(response.status().as_u16());
    }
    assert_eq!(v6.last(), Some(&429), "one /64, one source: {v6:?}");
}

#[tokio::test]
pub(crate) async fn v2_2_1_correct_sign_ins_never_count_towards_a_limit() {
    let app = spawn_app().await;
    let user = app.create_user("often@example.com", Role::Customer).await;
    for _ in 0..(tern::domain::session::FREE_FAILURES * 3) {
        let response = app.post_form("/account/sign-in", &[("email", &user.email), ("password", PASSWORD)]).await;
        assert_eq!(response.status(), 303);
    }
    // And a success clears that source's failures on the account.
    for _ in 0..tern::domain::session::FREE_FAILURES - 1 {
        app.post_form("/account/sign-in", &[("email", &user.email), ("password", "wrong wrong")]).await;
    }
    app.post_form("/account/sign-in", &[("email", &user.email), ("password", PASSWORD)]).await;
    for _ in 0..tern::domain::session::FREE_FAILURES - 1 {
        let response = app.post_form("/account/sign-in", &[("email", &user.email), ("password", "wrong wrong")]).await;
        assert_eq!(response.status(), 200);
    }
}

// ---- V3.3: session lifetimes and sign out everywhere ------------------------------------

pub(crate) async fn backdate(app: &TestApp, user: uuid::Uuid, column: &str, interval: &str) {
    sqlx::query(&format!("update user_sessions set {column} = now() - interval '{interval}' where user_id = $1"))
        .bind(user)
        .execute(&app.pool)
        .await
        .unwrap();
}

#[tokio::test]
pub(crate) async fn v3_3_staff_sessions_last_30_minutes_idle_and_12_hours_at_most() {
    let app = spawn_app().await;
    let staff = app.sign_in_as(Role::Support).await;
    backdate(&app, staff.id, "last_seen_at", "29 minutes").await;
    assert_eq!(app.get("/admin").await.status(), 200, "29 minutes idle is fine");
    backdate(&app, staff.id, "last_seen_at", "31 minutes").await;
    assert!(location(&app.get("/admin").await).starts_with("/account/sign-in"), "31 minutes idle is not");

    let staff = app.sign_in_as(Role::Admin).await;
    backdate(&app, staff.id, "created_at", "11 hours").await;
    assert_eq!(app.get("/admin").await.status(), 200);
    backdate(&app, staff.id, "created_at", "12 hours 1 minute").await;
    assert!(location(&app.get("/admin").await).starts_with("/account/sign-in"), "12 hours at most, however busy");
}

#[tokio::test]
pub(crate) async fn v3_3_traveller_sessions_last_7_days_idle_and_30_days_at_most() {
    let app = spawn_app().await;
    let traveller = app.sign_in_as(Role::Customer).await;
    backdate(&app, traveller.id, "last_seen_at", "6 days").await;
    assert_eq!(app.get("/account").await.status(), 200);
    backdate(&app, traveller.id, "created_at", "29 days").await;
    assert_eq!(app.get("/account").await.status(), 200);
    backdate(&app, traveller.id, "created_at", "30 days 1 minute").await;
    assert_eq!(location(&app.get("/account").await), "/account/sign-in?next=/account");

    let traveller = app.sign_in_as(Role::Customer).await;
    backdate(&app, traveller.id, "last_seen_at", "7 days 1 minute").await;
    assert_eq!(app.get("/account").await.status(), 303, "a week idle ends it");
}

#[tokio::test]
pub(crate) async fn v3_3_sign_out_everywhere_ends_every_session_and_api_token() {
    let app = spawn_app().await;
    let user = app.sign_in_as(Role::Customer).await;
    // The same account on a second device, and in the mobile app.
    let phone =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().unwrap();
    let html = phone.get(app.url("/account/sign-in")).send().await.unwrap().text().await.unwrap();
    let csrf = Page::parse(&html).attr("input[name=csrf_token]", "value").unwrap();
    let signed_in = phone
        .post(app.url("/account/sign-in"))
        .form(&[("email", user.email.as_str()), ("password", PASSWORD), ("csrf_token", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    assert_eq!(phone.get(app.url("/account")).send().await.unwrap().status(), 200);
    let token: Value = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"email": user.email, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = token["token"].as_str().unwrap();
    let me = || app.client.get(app.url("/api/v1/me/orders")).bearer_auth(bearer).send();
    assert_eq!(me().await.unwrap().status(), 200);

    let response = app.post_form("/account/sign-out-everywhere", &[]).await;
    assert_eq!(location(&response), "/account/sign-in");
    assert_eq!(app.get("/account").await.status(), 303, "this browser");
    assert_eq!(phone.get(app.url("/account")).send().await.unwrap().status(), 303, "the other device");
    assert_eq!(me().await.unwrap().status(), 401, "the API token");
    assert_eq!(count(&app, "select count(*) from audit_log where action = 'signed_out_everywhere'").await, 1);
}
