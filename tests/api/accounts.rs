//! Accounts: sign-up and sign-in, sessions, CSRF, rate limits, "My eSIMs", claiming guest
//! orders, the mobile token flow, and the admin CLI.

use serde_json::{Value, json};
use tern::domain::user::Role;

use crate::helpers::{Page, TestApp, spawn_app};

fn session_cookie(app: &TestApp, response: &reqwest::Response) -> Option<String> {
    let _ = app;
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("tern_session="))
        .map(|c| c.split(';').next().unwrap().to_string())
}

#[tokio::test]
async fn a_traveller_signs_up_signs_out_and_back_in() {
    let app = spawn_app().await;
    let response = app
        .post_form("/account/sign-up", &[("email", "Ana@Example.com"), ("password", "a long enough password")])
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/account/check-email", "the same answer as for a taken address");
    let hash: String = sqlx::query_scalar("select password_hash from users").fetch_one(&app.pool).await.unwrap();
    assert!(hash.starts_with("$argon2id$"), "argon2id, never the password");
    let response = app
        .post_form("/account/sign-in", &[("email", "ana@example.com"), ("password", "a long enough password")])
        .await;
    assert_eq!(response.status(), 303);
    let html = app.page("/account", 200).await;
    assert!(html.contains("Signed in as Ana@example.com") && html.contains("No eSIMs yet"));

    assert_eq!(app.post_form("/account/sign-out", &[]).await.status(), 303);
    assert_eq!(app.get("/account").await.status(), 303, "signed out: sent to sign in");

    let response = app
        .post_form("/account/sign-in", &[("email", "ana@example.com"), ("password", "a long enough password")])
        .await;
    assert_eq!(response.status(), 303);
    assert!(app.page("/account", 200).await.contains("Signed in as"));
    let signed_in: i64 = sqlx::query_scalar("select count(*) from audit_log where action = 'sign_in'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(signed_in, 2);
}

#[tokio::test]
async fn the_session_id_changes_at_sign_in() {
    let app = spawn_app().await;
    app.sign_in_as(Role::Customer).await; // any account; then a fresh client signs in
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = client.get(app.url("/account/sign-in")).send().await.unwrap();
    let before = session_cookie(&app, &page).expect("a session before signing in");
    let html = page.text().await.unwrap();
    let token = Page::parse(&html).attr("input[name=csrf_token]", "value").expect("a CSRF field");
    let token = token.as_str();
    let hash = tern::services::accounts::hash_password("another long password".into()).await.unwrap();
    tern::db::users::create(&app.pool, "bo@example.com", &hash, Role::Customer).await.unwrap();
    let response = client
        .post(app.url("/account/sign-in"))
        .header("cookie", &before)
        .form(&[("email", "bo@example.com"), ("password", "another long password"), ("csrf_token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let after = session_cookie(&app, &response).expect("a new session cookie");
    assert_ne!(before, after, "no session fixation");
    assert!(response.headers()["set-cookie"].to_str().unwrap().contains("HttpOnly"));
    assert!(response.headers()["set-cookie"].to_str().unwrap().contains("SameSite=Lax"));
}

#[tokio::test]
async fn wrong_passwords_and_unknown_users_get_the_same_answer() {
    let app = spawn_app().await;
    app.post_form("/account/sign-up", &[("email", "cy@example.com"), ("password", "a long enough password")]).await;
    app.post_form("/account/sign-out", &[]).await;
    let wrong =
        app.post_form("/account/sign-in", &[("email", "cy@example.com"), ("password", "not the password")]).await;
    let unknown =
        app.post_form("/account/sign-in", &[("email", "nobody@example.com"), ("password", "not the password")]).await;
    assert_eq!(wrong.status(), 200);
    assert_eq!(unknown.status(), 200);
    let (a, b) = (wrong.text().await.unwrap(), unknown.text().await.unwrap());
    let message = "That email and password do not match an account.";
    assert!(a.contains(message) && b.contains(message));
    assert!(!b.contains("no account") && !b.contains("not found"));
}

#[tokio::test]
async fn sign_up_input_is_checked_beside_each_field() {
    let app = spawn_app().await;
    let response = app.post_form("/account/sign-up", &[("email", "not-an-email"), ("password", "short")]).await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("id=\"email-error\"") && html.contains("id=\"password-error\""));
    app.post_form("/account/sign-up", &[("email", "dee@example.com"), ("password", "a long enough password")]).await;
    app.post_form("/account/sign-out", &[]).await;
    let again = app
        .post_form("/account/sign-up", &[("email", "DEE@example.com"), ("password", "a long enough password")])
        .await;
    assert_eq!(again.status(), 303, "the same answer as for a new address (the owner gets an email)");
    let users: i64 = sqlx::query_scalar("select count(*) from users").fetch_one(&app.pool).await.unwrap();
    assert_eq!(users, 1);
}

#[tokio::test]
async fn sign_in_failures_slow_down_the_account_from_that_source() {
    let app = spawn_app().await;
    let mut last = 0;
    for _ in 0..=tern::domain::session::FREE_FAILURES {
        last = app
            .post_form("/account/sign-in", &[("email", "target@example.com"), ("password", "guess guess guess")])
            .await
            .status()
            .as_u16();
    }
    assert_eq!(last, 429);
    let html = app
        .post_form("/account/sign-in", &[("email", "target@example.com"), ("password", "x")])
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Too many attempts"));
    // Another account from the same place is not locked out yet.
    let other =
        app.post_form("/account/sign-in", &[("email", "other@example.com"), ("password", "guess guess guess")]).await;
    assert_eq!(other.status(), 200);
}

#[tokio::test]
async fn sign_up_and_sign_in_are_rate_limited_per_ip_across_accounts() {
    let app = spawn_app().await;
    let mut statuses = Vec::new();
    for n in 0..=tern::services::accounts::ATTEMPTS_PER_IP {
        let email = format!("walker{n}@example.com");
        statuses.push(
            app.post_form("/account/sign-in", &[("email", &email), ("password", "guess guess guess")])
                .await
                .status()
                .as_u16(),
        );
    }
    assert!(statuses[..statuses.len() - 1].iter().all(|s| *s == 200), "each account tried once: {statuses:?}");
    assert_eq!(*statuses.last().unwrap(), 429, "but not from one address without end");
    let response = app
        .post_form("/account/sign-up", &[("email", "new@example.com"), ("password", "a long enough password")])
        .await;
    assert_eq!(response.status(), 429, "sign-up shares the limit");
    let users: i64 = sqlx::query_scalar("select count(*) from users").fetch_one(&app.pool).await.unwrap();
    assert_eq!(users, 0);
}

#[tokio::test]
async fn forms_without_a_valid_csrf_token_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    app.csrf().await; // a session exists
    for token in [None, Some("forged")] {
        let mut form = vec![("email", "eve@example.com"), ("password", "a long enough password")];
        if let Some(t) = token {
            form.push(("csrf_token", t));
        }
        let response = app.client.post(app.url("/account/sign-up")).form(&form).send().await.unwrap();
        assert_eq!(response.status(), 403);
        assert!(response.text().await.unwrap().contains("did not come from this site"));
    }
    let users: i64 = sqlx::query_scalar("select count(*) from users").fetch_one(&app.pool).await.unwrap();
    assert_eq!(users, 0);
}

#[tokio::test]
async fn my_esims_lists_orders_placed_signed_in_and_claimed_guest_orders() {
    let app = spawn_app().await;
    let (plan_id, _) = app.some_plan().await;
    // A guest order, placed before signing up, with the same email.
    let (guest_order, token, _) = app.buy_plan(&plan_id).await;
    let user = app.sign_in_as(Role::Customer).await;
    sqlx::query("update orders set email = $1 where id = $2")
        .bind(&user.email)
        .bind(guest_order)
        .execute(&app.pool)
        .await
        .unwrap();
    assert!(!app.page("/account", 200).await.contains(&guest_order.to_string()));
    app.order_page(guest_order, &token, "").await;
    assert!(app.page("/account", 200).await.contains(&guest_order.to_string()), "claimed by opening its link");
    // From the account, the order opens without the token.
    app.page(&format!("/orders/{guest_order}"), 200).await;

    // An order placed while signed in belongs to the account.
    let (signed_in_order, _, _) = {
        let response = app
            .post_form(
                &format!("/plans/{plan_id}/checkout"),
                &[("email", user.email.as_str()), ("device_confirmed", "on"), ("step", "pay")],
            )
            .await;
        assert_eq!(response.status(), 303);
        let id: uuid::Uuid = sqlx::query_scalar("select id from orders where id <> $1")
            .bind(guest_order)
            .fetch_one(&app.pool)
            .await
            .unwrap();
        (id, (), ())
    };
    let owner: Option<uuid::Uuid> = sqlx::query_scalar("select user_id from orders where id = $1")
        .bind(signed_in_order)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(owner, Some(user.id));

    assert_eq!(
        app.get(&format!("/orders/{signed_in_order}")).await.status(),
        200,
        "the owner opens it without the token"
    );

    // Someone else's order never opens without its token (in a browser of their own: this one
    // holds the orders' access cookies).
    let stranger = crate::helpers::browser();
    app.sign_in_on(&stranger, Role::Customer).await;
    for order in [signed_in_order, guest_order] {
        assert_eq!(stranger.get(app.url(&format!("/orders/{order}"))).send().await.unwrap().status(), 404);
    }
}

#[tokio::test]
async fn the_mobile_token_flow() {
    let app = spawn_app().await;
    app.post_form("/account/sign-up", &[("email", "mo@example.com"), ("password", "a long enough password")]).await;
    let response = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"email": "mo@example.com", "password": "a long enough password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let token: Value = response.json().await.unwrap();
    let bearer = token["token"].as_str().unwrap().to_string();
    let stored: Vec<u8> = sqlx::query_scalar("select token_sha256 from api_tokens").fetch_one(&app.pool).await.unwrap();
    assert_ne!(stored, bearer.as_bytes(), "stored hashed");

    let plan_id = app.json("/api/v1/plans?per_page=1", 200).await["data"][0]["id"].clone();
    let created = app
        .client
        .post(app.url("/api/v1/orders"))
        .bearer_auth(&bearer)
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .json(&json!({"plan_id": plan_id, "email": "mo@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let mine: Value =
        app.client.get(app.url("/api/v1/me/orders")).bearer_auth(&bearer).send().await.unwrap().json().await.unwrap();
    assert_eq!(mine["data"][0]["id"], created["id"]);

    let wrong = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"email": "mo@example.com", "password": "wrong password!"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    assert_eq!(
        app.client.delete(app.url("/api/v1/auth/token")).bearer_auth(&bearer).send().await.unwrap().status(),
        204
    );
    let revoked = app.client.get(app.url("/api/v1/me/orders")).bearer_auth(&bearer).send().await.unwrap();
    assert_eq!(revoked.status(), 401, "a revoked token");
    assert_eq!(revoked.headers()["content-type"], "application/problem+json");

    // An expired token.
    let response = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"email": "mo@example.com", "password": "a long enough password"}))
        .send()
        .await
        .unwrap();
    let second = response.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string();
    sqlx::query("update api_tokens set expires_at = now() - interval '1 minute'").execute(&app.pool).await.unwrap();
    assert_eq!(app.client.get(app.url("/api/v1/me/orders")).bearer_auth(&second).send().await.unwrap().status(), 401);
    assert_eq!(app.client.get(app.url("/api/v1/me/orders")).send().await.unwrap().status(), 401);
}

/// Runs `tern` with `args` on the embedded cluster in `dir`, `stdin` piped in.
fn run_cli(dir: &std::path::Path, args: &[&str], stdin: &[u8]) -> std::process::Output {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env("TERN_DATA_DIR", dir)
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn the_cli_creates_an_admin_from_stdin() {
    let dir = crate::helpers::scratch_dir("cli");
    let create = ["admin", "create", "--email", "boss@example.com"];
    let out = run_cli(dir.path(), &create, b"a very long admin password\n");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("boss@example.com"));

    let out = run_cli(dir.path(), &["admin", "create", "--email", "boss2@example.com"], b"short\n");
    assert!(!out.status.success(), "a short password is refused");
    assert!(String::from_utf8_lossy(&out.stderr).contains("password"));

    // ASVS V4.1: an existing account is never promoted silently.
    let out = run_cli(dir.path(), &create, b"another long admin password\n");
    assert!(!out.status.success(), "an existing account is refused without --promote");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--promote"));
    let promote = ["admin", "create", "--email", "boss@example.com", "--promote"];
    let out = run_cli(dir.path(), &promote, b"another long admin password\n");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let out = run_cli(dir.path(), &["admin", "reset-mfa", "--email", "boss@example.com"], b"");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("enrol again"));
    let out = run_cli(dir.path(), &["admin", "reset-mfa", "--email", "nobody@example.com"], b"");
    assert!(!out.status.success(), "an unknown account is an error");
}
