//! Catalogue editing in the admin area: admins create and edit destinations and plans, the
//! storefront and the API show the change, every bad field is refused beside it with nothing
//! changed, every change is audited, and nobody else can edit anything.

use serde_json::Value;
use sqlx::PgPool;
use tern::domain::user::{Role, User};
use tern::services::catalogue::CatalogueStore;
use tern::services::catalogue_admin::{self, DestinationInput, Operator, PlanInput};
use uuid::Uuid;

use scraper::Selector;

use crate::helpers::{Page, TestApp, eventually, fresh_database, spawn_app};

type Fields = Vec<(&'static str, String)>;

/// Everything a catalogue edit could touch: the catalogue's rows (with `updated_at`) and the
/// catalogue entries of the audit log.
async fn fingerprint(pool: &PgPool) -> String {
    sqlx::query_scalar(
        "select concat_ws(' | ',
            (select string_agg(d::text, ',' order by d.iso) from destinations d),
            (select string_agg(p::text, ',' order by p.id) from plans p),
            (select string_agg(c::text, ',' order by c.plan_id, c.destination_iso) from plan_coverage c),
            (select count(*)::text from audit_log where action like 'plan%' or action like 'destination%'))",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

/// The catalogue audit entries, oldest first: (action, target, user id, details).
async fn audit_entries(pool: &PgPool) -> Vec<(String, Option<String>, Option<Uuid>, Value)> {
    sqlx::query_as(
        "select action, target, user_id, details from audit_log
          where action like 'plan%' or action like 'destination%' order by id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn post(app: &TestApp, path: &str, fields: &[(&'static str, String)]) -> reqwest::Response {
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.post_form(path, &fields).await
}

fn with(mut fields: Fields, name: &'static str, value: &str) -> Fields {
    fields.retain(|(k, _)| *k != name);
    fields.push((name, value.to_string()));
    fields
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_string()
}

/// The plan a save redirected to (`…#plan-<id>`).
fn saved_plan(response: &reqwest::Response) -> Uuid {
    location(response).rsplit("#plan-").next().unwrap().parse().unwrap()
}

/// What a browser would submit for the first admin form of `html` (the CSRF token left out):
/// text inputs and checked boxes, each select's chosen option (or its first), and textareas.
fn form_fields(html: &str) -> Fields {
    let page = Page::parse(html);
    let form = page.one("form[method=post][action^='/admin/']");
    let leak = |s: &str| -> &'static str { Box::leak(s.to_string().into_boxed_str()) };
    let pick = |css: &str| Selector::parse(css).unwrap();
    let mut fields = Fields::new();
    for input in form.select(&pick("input[name]")) {
        let (name, value) = (input.value().attr("name").unwrap(), input.value().attr("value").unwrap_or_default());
        let checkbox = input.value().attr("type") == Some("checkbox");
        if name != "csrf_token" && (!checkbox || input.value().attr("checked").is_some()) {
            fields.push((leak(name), value.to_string()));
        }
    }
    for select in form.select(&pick("select[name]")) {
        let option = select.select(&pick("option[selected]")).next().or_else(|| select.select(&pick("option")).next());
        let value = option.and_then(|o| o.value().attr("value")).unwrap_or_default();
        fields.push((leak(select.value().attr("name").unwrap()), value.to_string()));
    }
    for textarea in form.select(&pick("textarea[name]")) {
        fields.push((leak(textarea.value().attr("name").unwrap()), textarea.text().collect()));
    }
    fields
}

fn destination_form(iso: &str, name: &str) -> Fields {
    vec![
        ("iso", iso.into()),
        ("name", name.into()),
        ("aliases", "Testia, Republic of Test".into()),
        ("region", "europe".into()),
        ("popularity_rank", String::new()),
    ]
}

fn local_plan_form(name: &str, iso: &str, price: &str) -> Fields {
    vec![
        ("name", name.into()),
        ("kind", "local".into()),
        ("destination", iso.into()),
        ("region", String::new()),
        ("coverage", String::new()),
        ("data", "5120".into()),
        ("fair_use_mb", String::new()),
        ("throttle_kbps", String::new()),
        ("validity_days", "15".into()),
        ("price", price.into()),
        ("currency", "USD".into()),
        ("validity_start", "first_connection".into()),
        ("hotspot", "on".into()),
        ("network_generation", "5G".into()),
        ("operators", "Testcom, Example Mobile".into()),
        ("on_sale", "on".into()),
        ("sim_card_group_id", String::new()),
        ("fine_print", "Activates on arrival.".into()),
    ]
}

/// The cheapest on-sale local plan for Japan in the seed.
async fn japan_plan(pool: &PgPool) -> Uuid {
    sqlx::query_scalar(
        "select id from plans where kind = 'local' and destination_iso = 'JP' and on_sale order by price_minor limit 1",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn an_admin_changes_a_plans_price_and_the_shop_and_api_show_it() {
    let app = spawn_app().await;
    let admin = app.sign_in_as(Role::Admin).await;
    let id = japan_plan(&app.pool).await;
    let before: i64 =
        sqlx::query_scalar("select price_minor from plans where id = $1").bind(id).fetch_one(&app.pool).await.unwrap();
    assert_ne!(before, 1234);

    // The form comes filled in with the plan as it is; only the price is changed.
    let form = app.page(&format!("/admin/plans/{id}/edit"), 200).await;
    let fields = form_fields(&form);
    assert!(fields.contains(&("destination", "JP".into())), "{fields:?}");
    let response = post(&app, &format!("/admin/plans/{id}/edit"), &with(fields, "price", "12.34")).await;
    assert_eq!(response.status(), 303);
    assert!(location(&response).ends_with(&format!("saved=plan%3A{id}#plan-{id}")), "{}", location(&response));

    let price: i64 =
        sqlx::query_scalar("select price_minor from plans where id = $1").bind(id).fetch_one(&app.pool).await.unwrap();
    assert_eq!(price, 1234);
    let list = app.page(&location(&response), 200).await;
    assert!(list.contains("Saved the plan"), "the list confirms the change");
    eventually("the API shows the new price", || async {
        app.json(&format!("/api/v1/plans/{id}"), 200).await["price"]["amount_minor"] == 1234
    })
    .await;
    eventually("the plan page shows the new price", || async {
        app.page(&format!("/plans/{id}"), 200).await.contains("$12.34")
    })
    .await;

    let entries = audit_entries(&app.pool).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    let (action, target, user, details) = &entries[0];
    assert_eq!((action.as_str(), target.clone(), *user), ("plan_updated", Some(format!("plan:{id}")), Some(admin.id)));
    let changes = details["changes"].as_object().unwrap();
    assert_eq!(changes.keys().collect::<Vec<_>>(), ["price_minor"], "only the price changed: {details}");
    assert_eq!(details["changes"]["price_minor"], serde_json::json!({ "from": before, "to": 1234 }));
    let ip: Option<String> = sqlx::query_scalar("select ip from audit_log where action = 'plan_updated'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(ip.as_deref(), Some("127.0.0.1"));
}

#[tokio::test]
async fn an_admin_creates_a_destination_and_a_local_plan_that_appear_on_its_page() {
    let app = spawn_app().await;
    app.sign_in_as(Role::Admin).await;
    app.page("/destinations/xq", 404).await;

    let response =
        post(&app, "/admin/destinations/new", &with(destination_form("xq", "Testland"), "popularity_rank", "3")).await;
    assert_eq!(response.status(), 303);
    assert!(location(&response).ends_with("saved=destination%3AXQ#destination-XQ"), "{}", location(&response));
    let row: (String, Vec<String>, String, Option<i32>) =
        sqlx::query_as("select name, aliases, region_id, popularity_rank from destinations where iso = 'XQ'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(row, ("Testland".into(), vec!["Testia".into(), "Republic of Test".into()], "europe".into(), Some(3)));

    let response = post(&app, "/admin/plans/new", &local_plan_form("Testland 5 GB · 15 days", "XQ", "7.5")).await;
    assert_eq!(response.status(), 303);
    let id = saved_plan(&response);
    let (price, coverage): (i64, Vec<String>) = sqlx::query_as(
        "select price_minor, array(select destination_iso::text from plan_coverage where plan_id = p.id) from plans p where id = $1",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((price, coverage), (750, vec!["XQ".to_string()]), "a local plan covers its destination");

    eventually("the destination page lists the new plan", || async {
        let response = app.get("/destinations/xq").await;
        response.status() == 200 && response.text().await.unwrap().contains(&format!("/plans/{id}"))
    })
    .await;
    let html = app.page("/destinations/xq", 200).await;
    assert!(html.contains("Testland 5 GB · 15 days") && html.contains("$7.50"));
    let search = app.page("/destinations?q=testia", 200).await;
    assert!(search.contains("/destinations/xq"), "found by its alias");
    let api = app.json(&format!("/api/v1/plans/{id}"), 200).await;
    assert_eq!(api["operators"], serde_json::json!(["Testcom", "Example Mobile"]));
    assert_eq!((api["hotspot"].as_bool(), api["top_up"].as_bool()), (Some(true), Some(false)));

    let list = app.page("/admin/catalogue?q=testland", 200).await;
    assert!(list.contains("/admin/destinations/XQ/edit") && list.contains(&format!("/admin/plans/{id}/edit")));
    assert!(!list.contains("/admin/destinations/JP/edit"), "the filter leaves Japan out");

    let actions: Vec<(String, Option<String>)> =
        audit_entries(&app.pool).await.into_iter().map(|(action, target, ..)| (action, target)).collect();
    assert_eq!(
        actions,
        [
            ("destination_created".into(), Some("destination:XQ".into())),
            ("plan_created".into(), Some(format!("plan:{id}")))
        ]
    );
}

#[tokio::test]
async fn a_regional_unlimited_plan_is_written_with_its_coverage_and_can_be_edited_again() {
    let app = spawn_app().await;
    app.sign_in_as(Role::Admin).await;
    let fields = local_plan_form("Baltics Unlimited · 10 days", "", "19.00");
    let fields = with(with(with(fields, "kind", "regional"), "region", "europe"), "coverage", "lt, LV ee");
    let fields = with(with(with(fields, "data", "unlimited"), "fair_use_mb", "2048"), "throttle_kbps", "512");
    let fields = with(fields, "sim_card_group_id", "3fa85f64-5717-4562-b3fc-2c963f66afa6");
    let response = post(&app, "/admin/plans/new", &fields).await;
    assert_eq!(response.status(), 303);
    let id = saved_plan(&response);
    let api = app.json(&format!("/api/v1/plans/{id}"), 200).await;
    assert_eq!(api["coverage"], serde_json::json!(["EE", "LT", "LV"]));
    assert_eq!((api["unlimited"].as_bool(), api["region"].as_str()), (Some(true), Some("europe")));

    // Edited again: one country fewer, taken off sale, limited data.
    let form = form_fields(&app.page(&format!("/admin/plans/{id}/edit"), 200).await);
    assert!(form.contains(&("sim_card_group_id", "3fa85f64-5717-4562-b3fc-2c963f66afa6".into())), "{form:?}");
    let form = with(with(with(form, "coverage", "EE, LV"), "data", "3072"), "fair_use_mb", "");
    let mut form = with(form, "throttle_kbps", "");
    form.retain(|(k, _)| *k != "on_sale");
    assert_eq!(post(&app, &format!("/admin/plans/{id}/edit"), &form).await.status(), 303);
    let (coverage, data_mb, on_sale): (Vec<String>, Option<i32>, bool) = sqlx::query_as(
        "select array(select destination_iso::text from plan_coverage where plan_id = p.id order by 1), data_mb, on_sale
           from plans p where id = $1",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((coverage, data_mb, on_sale), (vec!["EE".to_string(), "LV".to_string()], Some(3072), false));
    let list = app.page("/admin/catalogue?q=baltics", 200).await;
    assert!(list.contains(&format!("/admin/plans/{id}/edit")), "plans off sale are still listed for admins");
}

#[tokio::test]
async fn each_bad_field_comes_back_beside_the_field_and_nothing_changes() {
    let app = spawn_app().await;
    app.sign_in_as(Role::Admin).await;
    let plan = japan_plan(&app.pool).await;
    let edit = format!("/admin/plans/{plan}/edit");
    let current = form_fields(&app.page(&edit, 200).await);
    let unlimited = with(with(local_plan_form("Unlimited", "JP", "10"), "data", "unlimited"), "throttle_kbps", "512");
    let cases: Vec<(&str, Fields, &str, &str)> = vec![
        ("/admin/destinations/new", destination_form("J1", "Testland"), "iso", "2-letter ISO 3166-1 code"),
        ("/admin/destinations/new", destination_form("JPN", "Testland"), "iso", "2-letter ISO 3166-1 code"),
        ("/admin/destinations/new", destination_form("jp", "Testland"), "iso", "Japan already has the code JP."),
        ("/admin/destinations/new", destination_form("XQ", "France"), "name", "France (FR) already has this name."),
        (
            "/admin/destinations/new",
            with(destination_form("XQ", "Testland"), "region", "atlantis"),
            "region",
            "Choose one of the regions.",
        ),
        (
            "/admin/destinations/JP/edit",
            with(destination_form("", "Japan"), "popularity_rank", "0"),
            "popularity_rank",
            "1 or more",
        ),
        (&edit, with(current.clone(), "price", "12.999"), "price", "Use at most 2 decimals."),
        (&edit, with(current.clone(), "price", "-1"), "price", "The price must be more than zero."),
        (&edit, with(current.clone(), "price", "abc"), "price", "Enter the price as a number, such as 12.99."),
        (&edit, with(current.clone(), "price", "0"), "price", "The price must be more than zero."),
        (&edit, with(current.clone(), "validity_days", "0"), "validity_days", "Enter a number of days from 1 to 365."),
        (&edit, with(current.clone(), "sim_card_group_id", "not-a-uuid"), "sim_card_group_id", "a UUID such as"),
        (&edit, with(current.clone(), "coverage", "JP, KR"), "coverage", "A local plan covers exactly its destination"),
        ("/admin/plans/new", unlimited, "fair_use_mb", "An unlimited plan needs its daily fair-use amount, in MB."),
        (
            "/admin/plans/new",
            local_plan_form("Nowhere 1 GB", "", "5"),
            "destination",
            "Choose the country of this local plan.",
        ),
        (
            "/admin/plans/new",
            local_plan_form("Atlantis 1 GB", "XX", "5"),
            "destination",
            "No destination has the code XX.",
        ),
        (
            "/admin/plans/new",
            with(local_plan_form("Japan 1 GB", "JP", "5"), "currency", "dollars"),
            "currency",
            "3-letter ISO 4217",
        ),
    ];
    let before = fingerprint(&app.pool).await;
    for (path, fields, field, message) in cases {
        let response = post(&app, path, &fields).await;
        assert_eq!(response.status(), 200, "{path} {field}");
        let html = response.text().await.unwrap();
        let page = Page::parse(&html);
        let beside = page.texts(&format!("p.field__error#{field}-error"));
        assert!(!beside.is_empty(), "{field}: no message beside it");
        assert!(beside[0].contains(message), "{field}: {beside:?}");
        assert!(html.contains(&format!("id=\"{field}\"")) && html.contains("aria-invalid=\"true\""), "{field} marked");
        let typed = fields.iter().find(|(k, _)| *k == field).map(|(_, v)| v.as_str()).unwrap_or_default();
        if !["region", "destination", "coverage"].contains(&field) {
            assert!(html.contains(&format!("value=\"{typed}\"")), "{field}: what was typed is kept");
        }
        assert!(html.contains("Nothing was saved."));
        assert_eq!(fingerprint(&app.pool).await, before, "{path} {field}: nothing changed");
    }
}

#[tokio::test]
async fn support_users_get_403_and_change_nothing() {
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
async fn signed_out_clients_are_sent_to_sign_in() {
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
async fn a_post_without_the_csrf_token_is_refused() {
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

#[tokio::test]
async fn an_admin_edits_a_destination_and_search_follows() {
    let app = spawn_app().await;
    app.sign_in_as(Role::Admin).await;
    let list = app.page("/admin/catalogue?q=japan", 200).await;
    for link in ["/admin/destinations/new", "/admin/plans/new", "/admin/destinations/JP/edit"] {
        assert!(list.contains(link), "{link}");
    }
    let form = form_fields(&app.page("/admin/destinations/jp/edit", 200).await);
    assert!(form.contains(&("name", "Japan".into())) && form.contains(&("region", "asia".into())), "{form:?}");
    assert!(!form.iter().any(|(k, _)| *k == "iso"), "the code is not editable");
    let form = with(with(form, "aliases", "Nippon, Nihon"), "iso", "ZZ");
    let response = post(&app, "/admin/destinations/JP/edit", &form).await;
    assert_eq!(response.status(), 303);
    assert!(app.page(&location(&response), 200).await.contains("Saved the destination"));
    let aliases: Vec<String> =
        sqlx::query_scalar("select aliases from destinations where iso = 'JP'").fetch_one(&app.pool).await.unwrap();
    assert_eq!(aliases, ["Nippon", "Nihon"]);
    let zz: i64 =
        sqlx::query_scalar("select count(*) from destinations where iso = 'ZZ'").fetch_one(&app.pool).await.unwrap();
    assert_eq!(zz, 0, "a posted iso is ignored when editing");
    eventually("search finds Japan by its new alias", || async {
        app.page("/destinations?q=nippon", 200).await.contains("/destinations/jp")
    })
    .await;
    let entries = audit_entries(&app.pool).await;
    assert_eq!(entries.len(), 1);
    assert_eq!((entries[0].0.as_str(), entries[0].1.as_deref()), ("destination_updated", Some("destination:JP")));
    assert_eq!(entries[0].3["changes"]["aliases"]["to"], serde_json::json!(["Nippon", "Nihon"]));

    for path in [
        "/admin/destinations/xx/edit",
        "/admin/plans/not-a-uuid/edit",
        &format!("/admin/plans/{}/edit", Uuid::new_v4()),
    ] {
        app.page(path, 404).await;
    }
}

async fn create_user(pool: &PgPool, email: &str, role: Role) -> User {
    let mut conn = pool.acquire().await.unwrap();
    tern::db::users::create(&mut *conn, email, "not a password hash", role).await.unwrap().unwrap()
}

/// The checks read the in-memory snapshot, which can be a moment behind the database (another
/// process's edit). What PostgreSQL then refuses is still a message beside the field, and the
/// whole write — plan and coverage — is rolled back.
#[tokio::test]
async fn constraints_missed_by_a_stale_snapshot_are_field_errors_and_roll_back() {
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

/// The ids of the rows of the list's `table` (`plans` or `destinations`).
fn row_ids(html: &str, table: &str) -> Vec<String> {
    Page::parse(html).attrs(&format!("#{table} tbody tr"), "id")
}

/// The `rel` (`prev` or `next`) link of a section's pager, without its fragment.
fn pager_link(html: &str, section: &str, rel: &str) -> Option<String> {
    let href = Page::parse(html).attr(&format!("#{section}-pager a[rel={rel}]"), "href")?;
    Some(href.split('#').next().unwrap().to_string())
}

/// Every row of `section` from `first` on, following its Next links: the row ids in order,
/// and how many pages there were.
async fn walk(app: &TestApp, first: &str, section: &str) -> (Vec<String>, usize) {
    let (mut ids, mut pages, mut path) = (Vec::new(), 0, Some(first.to_string()));
    while let Some(here) = path {
        let html = app.page(&here, 200).await;
        let rows = row_ids(&html, section);
        assert!(!rows.is_empty() && rows.len() <= catalogue_admin::PER_PAGE, "{here}: {} rows", rows.len());
        ids.extend(rows);
        pages += 1;
        assert!(pages < 100, "the Next links go round in circles");
        path = pager_link(&html, section, "next");
    }
    (ids, pages)
}

fn sorted(mut items: Vec<String>) -> Vec<String> {
    items.sort();
    items
}

#[tokio::test]
async fn catalogue_pages_walk_every_destination_and_plan_exactly_once() {
    let app = spawn_app().await;
    app.sign_in_as(Role::Admin).await;
    let plans: Vec<Uuid> = sqlx::query_scalar("select id from plans").fetch_all(&app.pool).await.unwrap();
    let isos: Vec<String> =
        sqlx::query_scalar("select iso::text from destinations").fetch_all(&app.pool).await.unwrap();

    let (walked, pages) = walk(&app, "/admin/catalogue", "plans").await;
    assert_eq!(walked.len(), plans.len(), "as many rows as plans: none twice, none left out");
    assert_eq!(sorted(walked), sorted(plans.iter().map(|id| format!("plan-{id}")).collect()));
    assert_eq!(pages, plans.len().div_ceil(catalogue_admin::PER_PAGE));
    assert!(pages > 2, "the seed fills several pages");

    let (walked, pages) = walk(&app, "/admin/catalogue", "destinations").await;
    assert_eq!(walked.len(), isos.len());
    assert_eq!(sorted(walked), sorted(isos.iter().map(|iso| format!("destination-{iso}")).collect()));
    assert_eq!(pages, isos.len().div_ceil(catalogue_admin::PER_PAGE));

    let first = app.page("/admin/catalogue", 200).await;
    let page = Page::parse(&first);
    assert_eq!(page.text("#plans-count"), format!("Showing 1–25 of {} (page 1 of 15).", plans.len()));
    assert!(page.text("#plans-title").contains(&format!("({})", plans.len())));
    assert_eq!(pager_link(&first, "plans", "prev"), None);
    // On a phone the destinations fill many screens: the plans are one tap away.
    assert_eq!(page.attrs("#sections a", "href"), ["#destinations-title", "#plans-title"]);
    // Each section turns on its own; the other keeps its page.
    let second = app.page("/admin/catalogue?destinations_page=2&plans_page=2", 200).await;
    assert_eq!(pager_link(&second, "plans", "prev").as_deref(), Some("/admin/catalogue?destinations_page=2"));
    assert_eq!(
        pager_link(&second, "destinations", "next").as_deref(),
        Some("/admin/catalogue?destinations_page=3&plans_page=2")
    );
    // Past the end: nothing listed, and said so.
    let past = app.page("/admin/catalogue?plans_page=99", 200).await;
    assert!(row_ids(&past, "plans").is_empty());
    assert!(Page::parse(&past).text("#plans-count").contains("No plans on this page"));
    assert_eq!(pager_link(&past, "plans", "prev").as_deref(), Some("/admin/catalogue?plans_page=98"));
}

#[tokio::test]
async fn catalogue_search_narrows_by_destination_name_or_code_and_plan_name() {
    let app = spawn_app().await;
    app.sign_in_as(Role::Admin).await;
    let japan: Vec<Uuid> =
        sqlx::query_scalar("select id from plans where destination_iso = 'JP'").fetch_all(&app.pool).await.unwrap();
    let japan = sorted(japan.iter().map(|id| format!("plan-{id}")).collect());
    assert!(!japan.is_empty());

    // By code and by name, in any case: Japan, and its plans.
    for q in ["jp", "JP", "japan", "jApAn"] {
        let html = app.page(&format!("/admin/catalogue?q={q}"), 200).await;
        assert_eq!(row_ids(&html, "destinations"), ["destination-JP"], "q={q}");
        assert_eq!(sorted(row_ids(&html, "plans")), japan, "q={q}");
        assert_eq!(Page::parse(&html).attr("input#q", "value").as_deref(), Some(q), "the search is echoed");
    }
    // Accents do not matter.
    let html = app.page("/admin/catalogue?q=turkiye", 200).await;
    assert_eq!(row_ids(&html, "destinations"), ["destination-TR"]);

    // By plan name, over several pages that keep the search.
    let month: Vec<Uuid> =
        sqlx::query_scalar("select id from plans where name ilike '%30 days%'").fetch_all(&app.pool).await.unwrap();
    assert!(month.len() > 2 * catalogue_admin::PER_PAGE, "the seed has pages of 30-day plans");
    let first = app.page("/admin/catalogue?q=30+DAYS", 200).await;
    assert!(row_ids(&first, "destinations").is_empty());
    assert!(first.contains("No destination matches “30 DAYS”."));
    assert_eq!(pager_link(&first, "plans", "next").as_deref(), Some("/admin/catalogue?q=30+DAYS&plans_page=2"));
    let (walked, _) = walk(&app, "/admin/catalogue?q=30+DAYS", "plans").await;
    assert_eq!(sorted(walked), sorted(month.iter().map(|id| format!("plan-{id}")).collect()));

    let html = app.page("/admin/catalogue?q=zzqx", 200).await;
    assert!(html.contains("No destination matches “zzqx”.") && html.contains("No plan matches “zzqx”."));
    assert!(html.contains("href=\"/admin/catalogue\""), "a way back to everything");
}

#[tokio::test]
async fn bad_catalogue_parameters_are_a_400_naming_the_parameter() {
    let app = spawn_app().await;
    app.sign_in_as(Role::Admin).await;
    let long = "x".repeat(101);
    let cases = [
        ("plans_page=0", "plans_page"),
        ("plans_page=two", "plans_page"),
        ("plans_page=1&plans_page=2", "plans_page"),
        ("destinations_page=-1", "destinations_page"),
        ("destinations_page=10001", "destinations_page"),
        ("destinations_page=1.5", "destinations_page"),
        (&format!("q={long}"), "q"),
        ("q=a&q=b", "q"),
    ];
    for (query, param) in cases {
        let html = app.page(&format!("/admin/catalogue?{query}"), 400).await;
        assert!(html.contains(&format!("The “{param}” in this page’s address ")), "{query}: {html}");
    }
    // A control character is refused before any handler, naming the field (http::guard).
    assert!(app.page("/admin/catalogue?q=a%00b", 422).await.contains("The field “q” holds a control character"));
    // The edit forms carry the list's parameters, and check them too; nothing is saved.
    let plan = japan_plan(&app.pool).await;
    let html = app.page(&format!("/admin/plans/{plan}/edit?plans_page=x"), 400).await;
    assert!(html.contains("The “plans_page” in this page’s address "));
    app.page(&format!("/admin/destinations/JP/edit?q={long}"), 400).await;
    let before = fingerprint(&app.pool).await;
    let fields = form_fields(&app.page(&format!("/admin/plans/{plan}/edit"), 200).await);
    let response = post(&app, &format!("/admin/plans/{plan}/edit?destinations_page=0"), &fields).await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("The “destinations_page” in this page’s address "));
    assert_eq!(fingerprint(&app.pool).await, before);
}

#[tokio::test]
async fn saving_returns_to_the_page_and_row_of_the_item_with_a_notice() {
    let app = spawn_app().await;
    app.sign_in_as(Role::Admin).await;

    // A plan on the third page, opened from there: the form carries the list's pages along.
    let list = app.page("/admin/catalogue?plans_page=3&destinations_page=2", 200).await;
    let row = row_ids(&list, "plans")[4].clone();
    let id: Uuid = row.strip_prefix("plan-").unwrap().parse().unwrap();
    let edit = Page::parse(&list).attr(&format!("#{row} a[href*='/edit']"), "href").unwrap();
    assert_eq!(edit, format!("/admin/plans/{id}/edit?destinations_page=2&plans_page=3"));
    let form_html = app.page(&edit, 200).await;
    let form = Page::parse(&form_html);
    let action = form.attr("form[method=post][action^='/admin/']", "action").unwrap();
    assert_eq!(action, edit, "the form posts to itself, parameters included");
    assert_eq!(
        form.attr("a.button[href^='/admin/catalogue']", "href").unwrap(),
        format!("/admin/catalogue?destinations_page=2&plans_page=3#plan-{id}"),
        "Cancel goes back to the row"
    );
    // The fine print has room.
    let rows: u32 = form.attr("textarea#fine_print", "rows").unwrap().parse().unwrap();
    assert!(rows >= 8, "{rows} rows");

    let name: String =
        sqlx::query_scalar("select name from plans where id = $1").bind(id).fetch_one(&app.pool).await.unwrap();
    let response = post(&app, &action, &with(form_fields(&form_html), "fine_print", "New fine print.")).await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        location(&response),
        format!("/admin/catalogue?destinations_page=2&plans_page=3&saved=plan%3A{id}#plan-{id}")
    );
    let back = app.page(&location(&response), 200).await;
    assert!(row_ids(&back, "plans").contains(&row), "the page shows the saved plan");
    assert_eq!(Page::parse(&back).text("p.alert[role=status]"), format!("Saved the plan “{name}”."));

    // From a search: back to it. Renamed so that the search no longer finds it: back to the
    // unsearched page that holds it.
    let japan = japan_plan(&app.pool).await;
    let edit = format!("/admin/plans/{japan}/edit?q=japan");
    let fields = form_fields(&app.page(&edit, 200).await);
    let response = post(&app, &edit, &with(fields.clone(), "name", "Japan Saver · 7 days")).await;
    assert_eq!(location(&response), format!("/admin/catalogue?q=japan&saved=plan%3A{japan}#plan-{japan}"));
    let response = post(&app, &edit, &with(fields, "name", "Zzz Tokyo Saver")).await;
    assert_eq!(response.status(), 303);
    let found = location(&response);
    assert!(found.contains("q=japan"), "a local plan of Japan is still found by its country: {found}");
    let edit = format!("/admin/plans/{japan}/edit?q=saver&plans_page=1");
    let fields = form_fields(&app.page(&edit, 200).await);
    let response = post(&app, &edit, &with(fields, "name", "Zzz Tokyo Lite")).await;
    let found = location(&response);
    let plans: i64 = sqlx::query_scalar("select count(*) from plans").fetch_one(&app.pool).await.unwrap();
    let last_page = (plans as usize).div_ceil(catalogue_admin::PER_PAGE);
    assert_eq!(found, format!("/admin/catalogue?plans_page={last_page}&saved=plan%3A{japan}#plan-{japan}"));
    let back = app.page(&found, 200).await;
    assert!(row_ids(&back, "plans").contains(&format!("plan-{japan}")));
    assert!(back.contains("Saved the plan “Zzz Tokyo Lite”."));

    // A destination, saved while the plans were on page 4: its own page, the plans' kept.
    let edit = "/admin/destinations/JP/edit?plans_page=4";
    let fields = form_fields(&app.page(edit, 200).await);
    let response = post(&app, edit, &fields).await;
    let found = location(&response);
    assert!(found.contains("plans_page=4") && found.ends_with("saved=destination%3AJP#destination-JP"), "{found}");
    let back = app.page(&found, 200).await;
    assert!(row_ids(&back, "destinations").contains(&"destination-JP".to_string()), "{found}");
    assert!(back.contains("Saved the destination"));

    // A new plan: the page that lists it.
    let response = post(&app, "/admin/plans/new", &local_plan_form("Japan Brand New 1 GB", "JP", "5")).await;
    let id = saved_plan(&response);
    let back = app.page(&location(&response), 200).await;
    assert!(row_ids(&back, "plans").contains(&format!("plan-{id}")), "{}", location(&response));
}
