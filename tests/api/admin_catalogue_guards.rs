//! Who may edit the catalogue, and what holds behind the checks: a support user gets 403, a
//! signed-out client is sent to sign in, a post without the CSRF token is refused (each
//! changing nothing), and what PostgreSQL refuses behind a stale snapshot is still a field
//! error with the whole write rolled back.

use sqlx::PgPool;
use tern::domain::user::{Role, User};
use tern::services::catalogue::CatalogueStore;
use tern::services::catalogue_admin::{self, DestinationInput, Operator, PlanInput};

use crate::admin_catalogue::{destination_form, fingerprint, japan_plan, local_plan_form, location, post, with};
use crate::helpers::{fresh_database, spawn_app};

#[tokio::test]
pub(crate) async fn support_users_get_403_and_change_nothing() {
    let app = spawn_app().await;
    app.sign_in_as(Role::Support).await;
    let plan = japan_plan(&app.pool).await;
    let before = fingerprint(&app.pool).await;
    for path in ["/admin/catalogue", "/admin/destinations/new", "/admin/destinations/JP/edit", "/admin/plans/new"] {
        app.page(path, 403).await;
    }
    app.page(&format!("/admin/plans/{plan}/edit"), 403).await;
    let posts = [
        ("/admin/destinations/new".to_string(), destination_form("XQ", "Testland")),
        ("/admin/destinations/JP/edit".to_string(), destination_form("", "Nippon")),
        ("/admin/plans/new".to_string(), local_plan_form("Japan 1 GB", "JP", "5")),
        (format!("/admin/plans/{plan}/edit"), local_plan_form("Japan 1 GB", "JP", "5")),
    ];
    for (path, fields) in &posts {
        assert_eq!(post(&app, path, fields).await.status(), 403, "POST {path}");
    }
    assert_eq!(fingerprint(&app.pool).await, before);
}

#[tokio::test]
pub(crate) async fn signed_out_clients_are_sent_to_sign_in() {
    let app = spawn_app().await;
    let before = fingerprint(&app.pool).await;
    let response = app.get("/admin/catalogue").await;
    assert_eq!(response.status(), 303);
    assert!(location(&response).starts_with("/account/sign-in"), "{}", location(&response));
    let response = post(&app, "/admin/plans/new", &local_plan_form("Japan 1 GB", "JP", "5")).await;
    assert_eq!(response.status(), 303);
    assert!(location(&response).starts_with("/account/sign-in"));
    assert_eq!(fingerprint(&app.pool).await, before);
}

#[tokio::test]
pub(crate) async fn a_post_without_the_csrf_token_is_refused() {
    let app = spawn_app().await;
    app.sign_in_as(Role::Admin).await;
    let plan = japan_plan(&app.pool).await;
    let before = fingerprint(&app.pool).await;
    let fields = local_plan_form("Japan 1 GB", "JP", "5");
    for path in ["/admin/plans/new".to_string(), format!("/admin/plans/{plan}/edit")] {
        let response = app.client.post(app.url(&path)).form(&fields).send().await.unwrap();
        assert_eq!(response.status(), 403, "{path}");
        let forged = with(fields.clone(), "csrf_token", "forged");
        let response = app.client.post(app.url(&path)).form(&forged).send().await.unwrap();
        assert_eq!(response.status(), 403, "{path} with a wrong token");
    }
    let response = app
        .client
        .post(app.url("/admin/destinations/new"))
        .form(&destination_form("XQ", "Testland"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(fingerprint(&app.pool).await, before);
    // The same form with the token goes through: the 403s above were the token's doing.
    assert_eq!(post(&app, "/admin/plans/new", &fields).await.status(), 303);
}

pub(crate) async fn create_user(pool: &PgPool, email: &str, role: Role) -> User {
    let mut conn = pool.acquire().await.unwrap();
    tern::db::users::create(&mut *conn, email, "not a password hash", role).await.unwrap().unwrap()
}

/// The checks read the in-memory snapshot, which can be a moment behind the database (another
/// process's edit). What PostgreSQL then refuses is still a message beside the field, and the
/// whole write — plan and coverage — is rolled back.
#[tokio::test]
pub(crate) async fn constraints_missed_by_a_stale_snapshot_are_field_errors_and_roll_back() {
    let pool = fresh_database().await;
    let store = CatalogueStore::default();
    store.reload(&pool).await.unwrap();
    let user = create_user(&pool, "admin@example.com", Role::Admin).await;
    let editor = Operator { user: &user, ip: None };

    // Another process adds XQ; this snapshot (not following NOTIFY) does not know it.
    sqlx::query("insert into destinations (iso, name, region_id) values ('XQ', 'Testland', 'europe')")
        .execute(&pool)
        .await
        .unwrap();
    let input =
        DestinationInput { iso: "XQ".into(), name: "Otherland".into(), region: "europe".into(), ..Default::default() };
    let error = catalogue_admin::create_destination(&pool, &store, &editor, &input).await.unwrap_err();
    assert!(matches!(&error, tern::error::Error::Invalid(f) if f[0].field == "iso"), "{error:?}");

    // This snapshot knows XQ now, then another process removes it: the plan row is written
    // first, its coverage is refused, and the plan goes with it.
    store.reload(&pool).await.unwrap();
    sqlx::query("delete from destinations where iso = 'XQ'").execute(&pool).await.unwrap();
    let input = PlanInput {
        name: "Stale regional".into(),
        kind: "regional".into(),
        region: "europe".into(),
        coverage: "FR, XQ".into(),
        data: "1024".into(),
        validity_days: "7".into(),
        price: "5".into(),
        ..PlanInput::new_plan()
    };
    let error = catalogue_admin::create_plan(&pool, &store, &editor, &input).await.unwrap_err();
    assert!(matches!(&error, tern::error::Error::Invalid(f) if f[0].field == "coverage"), "{error:?}");
    let plans: i64 =
        sqlx::query_scalar("select count(*) from plans where name = 'Stale regional'").fetch_one(&pool).await.unwrap();
    let audited: i64 = sqlx::query_scalar("select count(*) from audit_log").fetch_one(&pool).await.unwrap();
    assert_eq!((plans, audited), (0, 0));

    // A support user cannot use the service either.
    let support = create_user(&pool, "support@example.com", Role::Support).await;
    let input = PlanInput { coverage: "FR".into(), ..input };
    let error =
        catalogue_admin::create_plan(&pool, &store, &Operator { user: &support, ip: None }, &input).await.unwrap_err();
    assert!(matches!(error, tern::error::Error::Forbidden(_)));
}
