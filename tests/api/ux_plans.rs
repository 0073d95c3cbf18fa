//! Plan comparison at a glance: compact rows with exact prices per GB, badges and a Buy button,
//! sorted and filtered by a GET form; invalid values are a plain 400 (issue 13, step 2).

use crate::helpers::{Page, TestApp, spawn_app, text_of};

/// Each row's (name, price text, price-per-GB text, badges), in page order.
fn rows(page: &Page) -> Vec<(String, String, String, Vec<String>)> {
    page.select(".plan-row")
        .into_iter()
        .map(|row| {
            let texts =
                |css: &str| row.select(&scraper::Selector::parse(css).unwrap()).map(text_of).collect::<Vec<String>>();
            let dds = texts(".plan-row__facts dd");
            (texts(".plan-row__name")[0].clone(), dds[2].clone(), dds[3].clone(), texts(".feature"))
        })
        .collect()
}

async fn plans_page(app: &TestApp, path: &str) -> Page {
    Page::parse(&app.page(path, 200).await)
}

/// "$12.34" as cents; the seeded catalogue is in USD.
fn cents(text: &str) -> i64 {
    let digits: String = text.trim_start_matches('$').replace('.', "");
    digits.parse().unwrap_or_else(|_| panic!("not a price: {text}"))
}

#[tokio::test]
async fn each_plan_is_a_compact_row_with_facts_badges_and_a_buy_button() {
    let app = spawn_app().await;
    let page = plans_page(&app, "/destinations/jp").await;
    let rows = page.select(".plan-row");
    assert!(rows.len() >= 10, "Japan's plans as rows: {}", rows.len());
    assert!(!page.exists("table.plans"), "no wide table any more");
    let buys = page.attrs(".plan-row a.plan-row__buy", "href");
    assert_eq!(buys.len(), rows.len(), "a Buy button on each row");
    assert!(buys.iter().all(|h| h.starts_with("/plans/") && h.ends_with("/checkout")));
    let dts = page.texts(".plan-row:first-child .plan-row__facts dt");
    assert_eq!(dts, ["Data", "Validity", "Price", "Price per GB"]);
    // The Buy link's accessible name says which plan.
    let first_name = page.text(".plan-row:first-child .plan-row__name");
    assert_eq!(page.text(".plan-row:first-child .plan-row__buy"), format!("Buy {first_name}"));
    // Badges come from the plan's facts: every unlimited plan says so.
    for (name, _, per_gb, badges) in self::rows(&page) {
        assert_eq!(name.contains("Unlimited"), badges.contains(&"Unlimited".to_string()), "{name}: {badges:?}");
        assert_eq!(per_gb == "—", name.contains("Unlimited"), "{name}: per GB {per_gb}");
    }
    // The buy page answers.
    app.page(&buys[0], 200).await;
}

#[tokio::test]
async fn the_price_per_gb_is_exact_integer_arithmetic() {
    let app = spawn_app().await;
    let api = app.json("/api/v1/plans?destination=jp&unlimited=false&per_page=100", 200).await;
    let page = plans_page(&app, "/destinations/jp").await;
    let by_name: std::collections::HashMap<String, (String, String)> =
        rows(&page).into_iter().map(|(n, p, g, _)| (n, (p, g))).collect();
    let mut checked = 0;
    for plan in api["data"].as_array().unwrap() {
        let name = plan["name"].as_str().unwrap();
        let minor = plan["price"]["amount_minor"].as_i64().unwrap();
        let mb = plan["data_mb"].as_i64().unwrap();
        let (price, per_gb) = &by_name[name];
        assert_eq!(cents(price), minor, "{name}");
        // Half up: minor × 1024 / MB.
        assert_eq!(cents(per_gb.trim_end_matches("/GB")), (minor * 1024 * 2 + mb) / (2 * mb), "{name}");
        checked += 1;
    }
    assert!(checked >= 5);
}

#[tokio::test]
async fn sorting_and_filtering_is_a_get_form_that_works_without_javascript() {
    let app = spawn_app().await;
    let page = plans_page(&app, "/destinations/jp").await;
    let form = page.one("form.plan-controls");
    assert_eq!(form.value().attr("method"), Some("get"));
    assert_eq!(form.value().attr("action"), Some("/destinations/jp"));
    let options = page.attrs("#plan-sort option", "value");
    assert_eq!(options, ["price", "price_per_gb", "days", "data"]);
    let boxes = page.attrs("form.plan-controls input[type='checkbox']", "name");
    assert_eq!(boxes, ["unlimited", "hotspot", "5g", "on_arrival"]);

    let prices: Vec<i64> = rows(&page).iter().map(|r| cents(&r.1)).collect();
    assert!(prices.windows(2).all(|w| w[0] <= w[1]), "cheapest first by default: {prices:?}");

    let by_gb = plans_page(&app, "/destinations/jp?sort=price_per_gb").await;
    let per_gb: Vec<String> = rows(&by_gb).into_iter().map(|r| r.2).collect();
    let limited: Vec<i64> = per_gb.iter().filter(|g| *g != "—").map(|g| cents(g.trim_end_matches("/GB"))).collect();
    assert!(limited.windows(2).all(|w| w[0] <= w[1]), "cheapest per GB first: {per_gb:?}");
    let first_unlimited = per_gb.iter().position(|g| g == "—").unwrap_or(per_gb.len());
    assert!(per_gb[first_unlimited..].iter().all(|g| g == "—"), "unlimited plans last: {per_gb:?}");
    assert_eq!(by_gb.attr("#plan-sort option[selected]", "value").as_deref(), Some("price_per_gb"));

    let unlimited = plans_page(&app, "/destinations/jp?unlimited=true&sort=days").await;
    let found = rows(&unlimited);
    assert!(!found.is_empty() && found.len() < prices.len());
    assert!(found.iter().all(|r| r.3.contains(&"Unlimited".to_string())));
    assert!(unlimited.exists("input[name='unlimited'][checked]"), "the filter stays ticked");
    assert!(unlimited.text(".plan-controls__count").contains(&format!("{} of {}", found.len(), prices.len())));

    let hotspot_5g = plans_page(&app, "/destinations/jp?hotspot=true&5g=true&on_arrival=true").await;
    for (name, _, _, badges) in rows(&hotspot_5g) {
        for badge in ["Hotspot", "5G", "Starts on arrival"] {
            assert!(badges.contains(&badge.to_string()), "{name} lacks {badge}");
        }
    }
}

#[tokio::test]
async fn invalid_sort_and_filter_values_are_a_plain_400_never_a_500() {
    let app = spawn_app().await;
    for (query, param) in [("sort=cheapest", "sort"), ("hotspot=yes", "hotspot"), ("sort=price&sort=days", "sort")] {
        for path in ["/destinations/jp", "/plans"] {
            let page = Page::parse(&app.page(&format!("{path}?{query}"), 400).await);
            assert!(page.text(".error-page .lead").contains(&format!("The “{param}”")), "{path}?{query}");
        }
    }
    app.page("/plans?type=weekly", 400).await;
}

#[tokio::test]
async fn regional_and_global_lists_and_the_home_page_use_the_same_rows() {
    let app = spawn_app().await;
    let regional = plans_page(&app, "/plans?type=regional").await;
    let names: Vec<String> = rows(&regional).into_iter().map(|r| r.0).collect();
    assert!(names.iter().any(|n| n == "Europe 10 GB · 30 days"), "{names:?}");
    assert!(regional.exists("form.plan-controls input[type='hidden'][name='type'][value='regional']"));
    let global = plans_page(&app, "/plans?type=global&sort=data").await;
    assert!(rows(&global).iter().all(|r| text_of(global.one(".plan-row .badge")) == "Global" && !r.0.is_empty()));

    let home = plans_page(&app, "/").await;
    assert!(home.select("#regional .plan-row").len() <= 6, "the home page shows a few, cheapest first");
    assert!(home.exists("#regional a[href='/plans?type=regional']"), "and links the full list");
    assert!(home.exists("#global .plan-row .plan-row__buy"));
    assert!(home.select(".region-list a").len() == 7, "regions as one compact list");
}
