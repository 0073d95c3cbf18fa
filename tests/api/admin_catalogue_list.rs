//! The admin catalogue list: pages that walk every destination and plan once, search, strict
//! parameters, and saving that returns to the item's page and row.

use crate::helpers::{Page, TestApp, spawn_app};
use tern::domain::user::Role;
use tern::services::catalogue_admin;
use uuid::Uuid;

/// The ids of the rows of the list's `table` (`plans` or `destinations`).
use crate::admin_catalogue::*;

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
