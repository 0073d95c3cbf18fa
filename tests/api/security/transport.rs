//! ASVS V8, V14, V6 and V4.2: headers, tokens out of URLs and caches, idempotency, key rotation.

use std::time::Duration;

use axum::routing::get;
use serde_json::{Value, json};
use tower::ServiceExt;
use uuid::Uuid;

use crate::helpers::{Page, TestApp, browser, order_cookie, spawn_app, spawn_app_with};
use tern::domain::user::Role;

fn header(response: &reqwest::Response, name: &str) -> String {
    response.headers().get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

fn assert_security_headers(what: &str, headers: &axum::http::HeaderMap) {
    let get = |name: &str| headers.get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let csp = get("content-security-policy");
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"), "{what}: CSP {csp}");
    assert!(csp.contains("form-action 'self' http://127.0.0.1:"), "{what}: forms go here or to checkout: {csp}");
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(get("x-frame-options"), "DENY", "{what}");
    assert!(get("permissions-policy").contains("camera=()"), "{what}: Permissions-Policy");
    assert!(!get("referrer-policy").is_empty(), "{what}: Referrer-Policy");
}

/// A ready order bought through the web checkout: (id, access token, session id).
async fn ready_order(app: &TestApp) -> (Uuid, String, String) {
    let (plan_id, _) = app.some_plan().await;
    let (id, token, session_id) = app.buy_plan(&plan_id).await;
    app.pay(&session_id).await;
    app.wait_status(id, "paid").await;
    app.stripe.wait_for_deliveries().await;
    app.worker().run_once().await.unwrap().expect("the provisioning job");
    app.wait_status(id, "ready").await;
    (id, token, session_id)
}

async fn panics() -> &'static str {
    panic!("a handler bug")
}

#[tokio::test]
async fn asvs_14_4_security_headers_are_on_every_response() {
    let app = spawn_app().await;
    let (plan_id, _) = app.some_plan().await;
    for path in ["/", "/static/favicon.svg", "/api/v1/plans?per_page=1", "/no/such/page", "/api/v1/nope"] {
        let response = app.get(path).await;
        assert_security_headers(path, response.headers());
        assert!(header(&response, "strict-transport-security").is_empty(), "no HSTS over plain HTTP");
    }
    let checkout = app.get(&format!("/plans/{plan_id}/checkout")).await;
    assert_security_headers("checkout form", checkout.headers());
    assert!(header(&checkout, "content-security-policy").contains(app.stripe.base_url().trim_end_matches('/')));

    // A panic (500) and a timeout (503) under the same layer stack carry them too.
    let routes =
        axum::Router::new().route("/panic", get(panics)).route("/hang", get(std::future::pending::<&'static str>));
    let stack = tern::http::with_layers(routes, app.state.clone(), Duration::from_millis(100));
    for (path, status) in [("/panic", 500), ("/hang", 503)] {
        let request = axum::http::Request::get(path).body(axum::body::Body::empty()).unwrap();
        let response = stack.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{path}");
        assert_security_headers(path, response.headers());
    }
}

#[tokio::test]
async fn asvs_14_4_hsts_and_a_host_prefixed_secure_session_cookie_over_https() {
    let app = spawn_app_with(|c| c.public_url = Some("https://shop.example".into())).await;
    let response = app.get("/account/sign-in").await;
    assert!(header(&response, "strict-transport-security").starts_with("max-age="), "HSTS");
    let cookie = header(&response, "set-cookie");
    assert!(cookie.starts_with("__Host-tern_session="), "{cookie}");
    assert!(cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("Path=/"), "{cookie}");

    let plain = spawn_app().await;
    let cookie = header(&plain.get("/account/sign-in").await, "set-cookie");
    assert!(cookie.starts_with("tern_session=") && !cookie.contains("Secure"), "plain HTTP in development: {cookie}");
}

#[tokio::test]
async fn asvs_8_3_responses_with_codes_or_tokens_are_never_stored_nor_referred() {
    let app = spawn_app().await;
    let (id, token, _) = ready_order(&app).await;
    let page = app.get(&format!("/orders/{id}")).await;
    assert_eq!(page.status(), 200);
    assert_eq!(header(&page, "cache-control"), "no-store", "order page");
    assert_eq!(header(&page, "referrer-policy"), "no-referrer", "order page");
    let qr = app.get(&format!("/orders/{id}/qr.png")).await;
    assert_eq!((qr.status().as_u16(), header(&qr, "cache-control")), (200, "no-store".into()), "qr.png");
    let esim = app.client.get(app.url(&format!("/api/v1/orders/{id}/esim"))).bearer_auth(&token).send().await.unwrap();
    assert_eq!((esim.status().as_u16(), header(&esim, "cache-control")), (200, "no-store".into()), "eSIM API");
    let staff = browser();
    app.sign_in_on(&staff, Role::Support).await;
    let admin = staff.get(app.url(&format!("/admin/orders/{id}"))).send().await.unwrap();
    assert_eq!((admin.status().as_u16(), header(&admin, "cache-control")), (200, "no-store".into()), "admin page");
    // The catalogue stays cacheable.
    assert_ne!(header(&app.get("/").await, "cache-control"), "no-store");
}

#[tokio::test]
async fn asvs_8_3_1_the_order_token_stays_out_of_urls() {
    let app = spawn_app().await;
    let (plan_id, _) = app.some_plan().await;
    let (id, token, session_id) = app.buy_plan(&plan_id).await;
    let success = app.stripe.session(&session_id).unwrap()["success_url"].as_str().unwrap().to_string();
    assert!(success.ends_with(&format!("/orders/{id}?session_id={{CHECKOUT_SESSION_ID}}")), "{success}");
    assert!(!success.contains(&token));

    // An emailed link: the token moves into an HttpOnly cookie for this order only.
    let emailed = browser();
    let link = emailed.get(app.url(&format!("/orders/{id}?token={token}"))).send().await.unwrap();
    assert_eq!(link.status(), 303);
    assert_eq!(header(&link, "location"), format!("/orders/{id}"));
    let cookie = header(&link, "set-cookie");
    for part in [format!("Path=/orders/{id}"), "HttpOnly".into(), "SameSite=Lax".into()] {
        assert!(cookie.contains(&part), "{part} in {cookie}");
    }
    assert_eq!(emailed.get(app.url(&format!("/orders/{id}"))).send().await.unwrap().status(), 200, "clean URL");
    let wrong = browser().get(app.url(&format!("/orders/{id}?token=wrong"))).send().await.unwrap();
    assert_eq!((wrong.status().as_u16(), header(&wrong, "set-cookie")), (404, String::new()));

    // Back from Stripe in another browser: the paid session, read back from Stripe, proves it.
    app.pay(&session_id).await;
    let returning = browser();
    let back = returning.get(app.url(&format!("/orders/{id}?session_id={session_id}"))).send().await.unwrap();
    assert_eq!(back.status(), 200);
    let grant = order_cookie(&back).expect("a cookie for the order");
    assert!(grant.starts_with("g.") && !grant.contains(&token), "a grant, not the token");
    assert_eq!(returning.get(app.url(&format!("/orders/{id}"))).send().await.unwrap().status(), 200);
    let forged = browser().get(app.url(&format!("/orders/{id}"))).header("cookie", "tern_order=g.AAAA").send();
    assert_eq!(forged.await.unwrap().status(), 404, "a forged grant");

    // A session of another order proves nothing for this one; nor does an old session.
    let (other, _, _) = app.buy_plan(&plan_id).await;
    let mixed = browser().get(app.url(&format!("/orders/{other}?session_id={session_id}"))).send().await.unwrap();
    assert_eq!(mixed.status(), 404);
    app.stripe.advance_clock(-3 * 60 * 60);
    let (old, _, old_session) = app.buy_plan(&plan_id).await;
    app.stripe.advance_clock(3 * 60 * 60);
    let stale = browser().get(app.url(&format!("/orders/{old}?session_id={old_session}"))).send().await.unwrap();
    assert_eq!(stale.status(), 404, "a session created hours ago");
}

async fn create_order(client: &reqwest::Client, app: &TestApp, key: &str, body: &Value) -> (u16, Value) {
    let request = client.post(app.url("/api/v1/orders")).header("idempotency-key", key).json(body);
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn asvs_4_2_idempotency_keys_are_high_entropy_scoped_sealed_and_purged() {
    let app = spawn_app().await;
    let (plan_id, _) = app.some_plan().await;
    let body = json!({"plan_id": plan_id, "email": "app@example.com"});
    let (status, problem) = create_order(&app.client, &app, "1", &body).await;
    assert_eq!((status, problem["code"].as_str()), (400, Some("idempotency_key_invalid")));
    assert!(problem["detail"].as_str().unwrap().contains("UUID"));

    let key = Uuid::new_v4().to_string();
    let (status, first) = create_order(&app.client, &app, &key, &body).await;
    assert_eq!(status, 201);
    let (_, again) = create_order(&app.client, &app, &key, &body).await;
    assert_eq!(again["access_token"], first["access_token"], "the same client replays its answer");
    // Another client (another address) with the same key and body gets an order of its own.
    let elsewhere = reqwest::Client::builder().local_address(std::net::IpAddr::from([127, 0, 0, 2])).build().unwrap();
    let (status, theirs) = create_order(&elsewhere, &app, &key, &body).await;
    assert_eq!(status, 201);
    assert_ne!(theirs["access_token"], first["access_token"]);
    assert_ne!(theirs["id"], first["id"]);

    let rows: Vec<(Option<Value>, Option<Vec<u8>>)> =
        sqlx::query_as("select body, body_sealed from api_idempotency").fetch_all(&app.pool).await.unwrap();
    let token = first["access_token"].as_str().unwrap().as_bytes();
    for (clear, sealed) in &rows {
        assert!(clear.is_none(), "no answer in the clear");
        assert!(!sealed.as_ref().unwrap().windows(token.len()).any(|w| w == token), "sealed");
    }
    sqlx::query("update api_idempotency set created_at = now() - interval '25 hours'")
        .execute(&app.pool)
        .await
        .unwrap();
    create_order(&app.client, &app, &Uuid::new_v4().to_string(), &body).await;
    let left: i64 = sqlx::query_scalar("select count(*) from api_idempotency").fetch_one(&app.pool).await.unwrap();
    assert_eq!(left, 1, "keys older than 24 hours are purged");
}

#[tokio::test]
async fn availability_the_page_cache_is_keyed_by_route_and_read_parameters() {
    let app = spawn_app().await;
    let before = app.page("/", 200).await;
    let (entries, _) = app.state.response_cache.usage();
    for n in 0..50 {
        assert_eq!(app.page(&format!("/?n={n}"), 200).await, before);
    }
    assert_eq!(app.state.response_cache.usage().0, entries, "the home page ignores its query: one entry");
    let japan = app.page("/destinations?q=japan", 200).await;
    assert_eq!(app.page("/destinations?q=japan&utm_source=x", 200).await, japan);
    assert_ne!(app.page("/destinations?q=france", 200).await, japan, "parameters it reads are keyed");
}

#[tokio::test]
async fn asvs_8_2_activation_codes_are_masked_and_revealed_only_with_a_reason_audited() {
    let app = spawn_app().await;
    let (id, _, _) = ready_order(&app).await;
    let staff = browser();
    let user = app.sign_in_on(&staff, Role::Support).await;
    let html = staff.get(app.url(&format!("/admin/orders/{id}"))).send().await.unwrap().text().await.unwrap();
    let page = Page::parse(&html);
    assert!(page.exists("#activation-code-masked"));
    assert!(!html.contains("LPA:1$"), "masked by default");
    let csrf = page.attr("input[name=csrf_token]", "value").unwrap();
    let path = app.url(&format!("/admin/orders/{id}/activation-code"));

    let refused = staff.post(&path).form(&[("reason", ""), ("csrf_token", &csrf)]).send().await.unwrap();
    assert_eq!(refused.status(), 200, "a reason is required");
    assert!(!refused.text().await.unwrap().contains("LPA:1$"));
    assert_eq!(staff.get(&path).send().await.unwrap().status(), 405, "a POST, never a link");
    let audited = || async {
        let n: i64 = sqlx::query_scalar("select count(*) from audit_log where action = 'activation_code_revealed'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
        n
    };
    assert_eq!(audited().await, 0);

    let reason = "ticket #123: the traveller lost the QR code";
    let shown = staff.post(&path).form(&[("reason", reason), ("csrf_token", &csrf)]).send().await.unwrap();
    assert_eq!((shown.status().as_u16(), header(&shown, "cache-control")), (200, "no-store".into()));
    let code = Page::parse(&shown.text().await.unwrap()).text("#activation-code");
    assert!(code.starts_with("LPA:1$"), "{code}");
    let (who, target, why): (String, String, Value) =
        sqlx::query_as("select user_email, target, details from audit_log where action = 'activation_code_revealed'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((who, target), (user.email, format!("order:{id}")));
    assert_eq!(why["reason"], reason);
}

#[tokio::test]
async fn asvs_6_4_keys_rotate_and_every_sealed_value_is_re_encrypted_resumably() {
    use tern::crypto::{Cipher, key_id};
    let old = Cipher::generate_key();
    let app = spawn_app_with(|c| c.secret_key = Some(old.clone().into())).await;
    let (first, _, _) = ready_order(&app).await;
    let (second, _, _) = ready_order(&app).await;
    let key = Uuid::new_v4().to_string();
    let (plan_id, _) = app.some_plan().await;
    create_order(&app.client, &app, &key, &json!({"plan_id": plan_id, "email": "k@example.com"})).await;

    let new = Cipher::generate_key();
    let rotated = Cipher::from_keys(&format!("{new},{old}")).unwrap();
    let report = tern::services::key_rotation::rotate_all(&app.pool, &rotated, 1).await.unwrap();
    assert_eq!((report.activation_codes, report.idempotent_answers), (2, 1));
    assert!(report.batches >= 3, "one row per batch, each committed");
    let again = tern::services::key_rotation::rotate_all(&app.pool, &rotated, 1).await.unwrap();
    assert_eq!((again.activation_codes, again.idempotent_answers), (0, 0), "a second run has nothing left");

    let only_new = Cipher::from_keys(&new).unwrap();
    for id in [first, second] {
        let sealed: Vec<u8> = sqlx::query_scalar("select activation_code_sealed from esims where order_id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
        assert_eq!(key_id(&sealed), Some(only_new.current_key_id()), "carries the new key's version");
        assert!(only_new.decrypt(&sealed, id.as_bytes()).unwrap().starts_with("LPA:1$"));
        assert!(Cipher::from_keys(&old).unwrap().decrypt(&sealed, id.as_bytes()).is_err());
    }
    let config =
        tern::config::Config::from_lookup(|var| (var == "TERN_SECRET_KEYS").then(|| format!("{new},{old}"))).unwrap();
    assert!(tern::startup::cipher(&config).unwrap().is_current(&only_new.encrypt("x", b"")), "the first key seals");
    let legacy = tern::config::Config::from_lookup(|var| (var == "TERN_SECRET_KEY").then(|| old.clone())).unwrap();
    assert!(legacy.secret_key.is_some(), "the single-key setting is still read");
}

#[tokio::test]
async fn emulator_controls_need_the_per_run_token() {
    let app = spawn_app().await;
    let http = reqwest::Client::new();
    let stripe = format!("{}_emulator/sessions/cs_test_nope/pay", app.stripe.base_url());
    let telnyx = format!("{}/_emulator/inventory", app.telnyx.base_url().trim_end_matches("/v2"));
    for (url, token) in [(&stripe, app.stripe.control_token()), (&telnyx, app.telnyx.control_token())] {
        // What a page the developer visits could send: a simple cross-site form POST.
        let forged = http.post(url).form(&[("remaining", "0")]).send().await.unwrap();
        assert_eq!(forged.status(), 401, "{url}");
        let wrong = http.post(url).header("x-emulator-token", "guess").json(&json!({})).send().await.unwrap();
        assert_eq!(wrong.status(), 401, "{url}");
        let with = http.post(url).header("x-emulator-token", token).json(&json!({"remaining": 5})).send();
        assert_ne!(with.await.unwrap().status(), 401, "{url}: the run's token opens the controls");
    }
}
