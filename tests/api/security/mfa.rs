//! ASVS V2.7, V2.8, V4.3.1 and V4.1: staff MFA (TOTP enrolment and codes, recovery codes,
//! a second factor within 15 minutes for refunds, SIM and catalogue changes) and the CLI that
//! never promotes an account silently.

use serde_json::Value;
use tern::domain::user::Role;

use super::auth::location;
use crate::helpers::{PASSWORD, Page, spawn_app, totp_code};

// ---- V2.7, V2.8: staff MFA ----------------------------------------------------------------

#[tokio::test]
pub(crate) async fn v2_7_staff_enrol_totp_at_first_sign_in_and_give_a_code_every_time() {
    let app = spawn_app().await;
    let admin = app.create_user("ops@example.com", Role::Support).await;
    let response = app.post_form("/account/sign-in", &[("email", admin.email.as_str()), ("password", PASSWORD)]).await;
    assert_eq!(location(&response), "/account/mfa?next=%2Faccount");
    // Password alone opens nothing of the admin area.
    assert!(location(&app.get("/admin").await).starts_with("/account/sign-in"));

    let (secret, enrolment_code) = app.enrol_mfa_with_code().await;
    assert_eq!(app.get("/admin").await.status(), 200);
    // The secret is encrypted at rest; the recovery codes are hashed.
    let stored: Vec<u8> = sqlx::query_scalar("select secret_enc from user_mfa").fetch_one(&app.pool).await.unwrap();
    assert!(!stored.windows(8).any(|w| w == &secret.as_bytes()[..8]), "never in the clear");
    let digests: Vec<Vec<u8>> =
        sqlx::query_scalar("select code_sha256 from mfa_recovery_codes").fetch_all(&app.pool).await.unwrap();
    assert_eq!(digests.len(), 10);
    assert!(digests.iter().all(|d| d.len() == 32));
    let audit: String =
        sqlx::query_scalar("select string_agg(details::text, ' ') from audit_log").fetch_one(&app.pool).await.unwrap();
    assert!(!audit.contains(&secret));

    // The next sign-in asks for a code (no new secret shown); a wrong one is a field error.
    app.post_form("/account/sign-out", &[]).await;
    let response = app
        .post_form("/account/sign-in", &[("email", admin.email.as_str()), ("password", PASSWORD), ("next", "/admin")])
        .await;
    assert_eq!(location(&response), "/account/mfa?next=%2Fadmin");
    let page = Page::parse(&app.page("/account/mfa?next=/admin", 200).await);
    assert!(!page.exists("#mfa-secret"), "the secret is shown only while enrolling");
    let wrong = app.post_form("/account/mfa", &[("code", "000000"), ("next", "/admin")]).await;
    assert_eq!(wrong.status(), 200);
    assert!(wrong.text().await.unwrap().contains("That code is not right"));
    // The enrolment code was used already: a code is accepted once (RFC 6238 §5.2).
    let replay = app.post_form("/account/mfa", &[("code", &enrolment_code), ("next", "/admin")]).await;
    assert_eq!(replay.status(), 200, "a used code is refused");
    let response = app.post_form("/account/mfa", &[("code", &totp_code(&secret, 1)), ("next", "/admin")]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/admin");
    assert_eq!(app.get("/admin").await.status(), 200);
}

#[tokio::test]
pub(crate) async fn v2_8_recovery_codes_work_once_and_failed_codes_slow_down() {
    let app = spawn_app().await;
    let admin = app.create_user("lost-phone@example.com", Role::Admin).await;
    app.post_form("/account/sign-in", &[("email", admin.email.as_str()), ("password", PASSWORD)]).await;
    let page = Page::parse(&app.page("/account/mfa", 200).await);
    let secret = page.text("#mfa-secret");
    let enrolled = app.post_form("/account/mfa", &[("code", &totp_code(&secret, 0))]).await;
    let codes = Page::parse(&enrolled.text().await.unwrap()).texts("#recovery-codes code");
    assert_eq!(codes.len(), 10);
    app.post_form("/account/sign-out", &[]).await;

    app.post_form("/account/sign-in", &[("email", admin.email.as_str()), ("password", PASSWORD)]).await;
    let response = app.post_form("/account/mfa", &[("code", &codes[0].to_uppercase())]).await;
    assert_eq!(response.status(), 303, "a recovery code signs in");
    app.post_form("/account/sign-out", &[]).await;
    app.post_form("/account/sign-in", &[("email", admin.email.as_str()), ("password", PASSWORD)]).await;
    assert_eq!(app.post_form("/account/mfa", &[("code", &codes[0])]).await.status(), 200, "once");

    let free = tern::domain::session::FREE_FAILURES;
    for _ in 1..free {
        app.post_form("/account/mfa", &[("code", "123456")]).await;
    }
    let slowed = app.post_form("/account/mfa", &[("code", &codes[1])]).await;
    assert_eq!(slowed.status(), 429, "guessing codes is slowed down like passwords");
}

#[tokio::test]
pub(crate) async fn v4_3_1_refunds_sims_and_catalogue_changes_need_a_second_factor_within_15_minutes() {
    let app = spawn_app().await;
    let (order, _) = app.paid_order().await;
    let (admin, secret) = app.sign_in_with_secret(Role::Admin).await;
    let secret = secret.unwrap();
    // Just signed in: allowed at once.
    assert_eq!(app.get("/admin/destinations/new").await.status(), 200);

    sqlx::query("update user_sessions set mfa_at = now() - interval '16 minutes' where user_id = $1")
        .bind(admin.id)
        .execute(&app.pool)
        .await
        .unwrap();
    let refund = app.post_form(&format!("/admin/orders/{order}/refund"), &[("amount", ""), ("confirmed", "yes")]).await;
    assert_eq!(refund.status(), 303);
    assert!(location(&refund).starts_with("/account/mfa?next="), "{}", location(&refund));
    assert_eq!(app.refunded_minor(order).await, 0, "nothing refunded");
    let sim =
        app.post_form(&format!("/admin/orders/{order}/sim"), &[("action", "disable"), ("confirmed", "yes")]).await;
    assert!(location(&sim).starts_with("/account/mfa"));
    let edit = app.get("/admin/destinations/new").await;
    assert_eq!(location(&edit), "/account/mfa?next=%2Fadmin%2Fdestinations%2Fnew");
    // Viewing is not sensitive.
    assert_eq!(app.get(&format!("/admin/orders/{order}")).await.status(), 200);

    let response =
        app.post_form("/account/mfa", &[("code", &totp_code(&secret, 1)), ("next", "/admin/destinations/new")]).await;
    assert_eq!(location(&response), "/admin/destinations/new");
    assert_eq!(app.get("/admin/destinations/new").await.status(), 200);
    let refund = app.post_form(&format!("/admin/orders/{order}/refund"), &[("amount", ""), ("confirmed", "yes")]).await;
    assert_eq!(refund.status(), 303);
    assert!(!location(&refund).starts_with("/account/mfa"));
    assert!(app.refunded_minor(order).await > 0, "refunded once re-authenticated");
}

// ---- V4.1: the CLI never promotes silently ------------------------------------------------

#[tokio::test]
pub(crate) async fn v4_1_admin_create_refuses_an_existing_account_unless_promoted_then_requires_mfa() {
    use tern::services::accounts::create_admin;
    let app = spawn_app().await;
    let response =
        app.post_form("/account/sign-up", &[("email", "self@example.com"), ("password", "the traveller's own")]).await;
    assert_eq!(response.status(), 303);
    app.post_form("/account/sign-out", &[]).await;

    let refused = create_admin(&app.pool, "self@example.com", "the operator's password", false).await;
    assert!(matches!(refused, Err(tern::error::Error::Conflict { code: "account_exists", .. })));
    let role: String = sqlx::query_scalar("select role::text from users").fetch_one(&app.pool).await.unwrap();
    assert_eq!(role, "customer", "nothing changed");

    let user = create_admin(&app.pool, "self@example.com", "the operator's password", true).await.unwrap();
    assert_eq!(user.role, Role::Admin);
    let old =
        app.post_form("/account/sign-in", &[("email", "self@example.com"), ("password", "the traveller's own")]).await;
    assert_eq!(old.status(), 200, "the typed password replaced the old one");
    let new = app
        .post_form("/account/sign-in", &[("email", "self@example.com"), ("password", "the operator's password")])
        .await;
    assert_eq!(location(&new), "/account/mfa?next=%2Faccount", "MFA enrolment is required");
    assert!(Page::parse(&app.page("/account/mfa", 200).await).exists("#mfa-secret"));
    let audit: Value = sqlx::query_scalar("select details from audit_log where action = 'admin_promoted'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(audit["previous_role"], "customer");

    // `tern admin reset-mfa`: an enrolled admin enrols again.
    app.enrol_mfa().await;
    tern::services::mfa::reset(&app.pool, "self@example.com").await.unwrap();
    assert_eq!(app.get("/admin").await.status(), 303, "their sessions ended");
    app.post_form("/account/sign-in", &[("email", "self@example.com"), ("password", "the operator's password")]).await;
    assert!(Page::parse(&app.page("/account/mfa", 200).await).exists("#mfa-secret"), "a new enrolment");
}

// ---- V7, V2.2: the client's address ------------------------------------------------------
