//! Catalogue editing in the admin area: admins create and edit destinations and plans, the
//! storefront and the API show the change, every bad field is refused beside it with nothing
//! changed, and every change is audited. Who may edit, and what holds behind the checks, is
//! `admin_catalogue_guards.rs`.

use serde_json::Value;
use sqlx::PgPool;
use tern::domain::user::Role;
use uuid::Uuid;

use scraper::Selector;

use crate::helpers::{Page, TestApp, eventually, spawn_app};

pub(crate) type Fields = Vec<(&'static str, String)>;

/// Everything a catalogue edit could touch: the catalogue's rows (with `updated_at`) and the
/// catalogue entries of the audit log.
pub(crate) async fn fingerprint(pool: &PgPool) -> String {
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
pub(crate) async fn audit_entries(pool: &PgPool) -> Vec<(String, Option<String>, Option<Uuid>, Value)> {
    sqlx::query_as(
        "select action, target, user_id, details from audit_log
          where action like 'plan%' or action like 'destination%' order by id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

pub(crate) async fn post(app: &TestApp, path: &str, fields: &[(&'static str, String)]) -> reqwest::Response {
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.post_form(path, &fields).await
}

pub(crate) fn with(mut fields: Fields, name: &'static str, value: &str) -> Fields {
    fields.retain(|(k, _)| *k != name);
    fields.push((name, value.to_string()));
    fields
}

pub(crate) fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_string()
}

/// The plan a save redirected to (`…#plan-<id>`).
pub(crate) fn saved_plan(response: &reqwest::Response) -> Uuid {
    location(response).rsplit("#plan-").next().unwrap().parse().unwrap()
}

/// What a browser would submit for the first admin form of `html` (the CSRF token left out):
/// text inputs and checked boxes, each select's chosen option (or its first), and textareas.
pub(crate) fn form_fields(html: &str) -> Fields {
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

pub(crate) fn destination_form(iso: &str, name: &str) -> Fields {
    vec![
        ("iso", iso.into()),
        ("name", name.into()),
        ("aliases", "Testia, Republic of Test".into()),
        ("region", "europe".into()),
        ("popularity_rank", String::new()),
    ]
}

pub(crate) fn local_plan_form(name: &str, iso: &str, price: &str) -> Fields {
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
pub(crate) async fn japan_plan(pool: &PgPool) -> Uuid {
    sqlx::query_scalar(
        "select id from plans where kind = 'local' and destination_iso = 'JP' and on_sale order by price_minor limit 1",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
pub(crate) async fn an_admin_changes_a_plans_price_and_the_shop_and_api_show_it() {
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
pub(crate) async fn an_admin_creates_a_destination_and_a_local_plan_that_appear_on_its_page() {
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
pub(crate) async fn a_regional_unlimited_plan_is_written_with_its_coverage_and_can_be_edited_again() {
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
pub(crate) async fn each_bad_field_comes_back_beside_the_field_and_nothing_changes() {
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
pub(crate) async fn an_admin_edits_a_destination_and_search_follows() {
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
