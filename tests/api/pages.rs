//! The storefront's pages: content, search, errors in the site layout, static files, headers.

use crate::helpers::{Page, spawn_app};

/// Names of the destinations a results page links to, in page order.
fn destination_links(html: &str) -> Vec<String> {
    Page::parse(html)
        .attrs("[href^='/destinations/']", "href")
        .into_iter()
        .map(|href| href["/destinations/".len()..].to_string())
        .collect()
}

#[tokio::test]
async fn home_shows_search_popular_destinations_regions_and_multi_country_plans() {
    let app = spawn_app().await;
    let html = app.page("/", 200).await;
    assert!(html.contains("<form") && html.contains("action=\"/destinations\"") && html.contains("name=\"q\""));
    for popular in ["/destinations/jp", "/destinations/us", "/destinations/gb"] {
        assert!(html.contains(popular), "home links {popular}");
    }
    for region in ["Europe", "Asia", "North America", "Latin America", "Middle East", "Africa", "Oceania"] {
        assert!(html.contains(region), "home shows region {region}");
    }
    assert!(html.contains("/destinations?region=oceania"));
    assert!(html.contains("id=\"regional\"") && html.contains("id=\"global\""));
    assert!(html.contains("Europe 10 GB · 30 days") || html.contains("Europe 10 GB &middot; 30 days"));
    assert!(html.contains("Global"));
    assert!(html.contains("/static/css/tern."));
}

#[tokio::test]
async fn search_matches_names_codes_and_aliases_ignoring_case_and_accents() {
    let app = spawn_app().await;
    for (query, iso) in [
        ("UK", "gb"),
        ("usa", "us"),
        ("Turkey", "tr"),
        ("T%C3%BCrkiye", "tr"),
        ("TURKIYE", "tr"),
        ("japan", "jp"),
        ("JP", "jp"),
        ("cote+d", "ci"),
    ] {
        let html = app.page(&format!("/destinations?q={query}"), 200).await;
        let links = destination_links(&html);
        assert_eq!(links.first().map(String::as_str), Some(iso), "q={query} found {links:?}");
    }
    let html = app.page("/destinations?q=atlantis", 200).await;
    assert!(destination_links(&html).is_empty());
    assert!(html.contains("atlantis"), "the query is echoed");
}

#[tokio::test]
async fn browsing_a_region_lists_only_its_destinations() {
    let app = spawn_app().await;
    let asia = destination_links(&app.page("/destinations?region=asia", 200).await);
    assert!(asia.contains(&"jp".to_string()) && asia.contains(&"th".to_string()));
    assert!(!asia.contains(&"fr".to_string()));
    let all = destination_links(&app.page("/destinations", 200).await);
    assert!(all.len() >= 60, "all destinations listed: {}", all.len());
}

#[tokio::test]
async fn bad_query_values_answer_400_in_the_site_layout() {
    let app = spawn_app().await;
    let html = app.page("/destinations?region=atlantis", 400).await;
    assert!(html.contains("“region”") && html.contains("choose one of Europe, Asia"), "names the parameter and why");
    assert!(html.contains("/static/css/tern."), "in the site layout");
    let long = "x".repeat(101);
    let html = app.page(&format!("/destinations?q={long}"), 400).await;
    assert!(html.contains("use at most 100 characters"));
    app.page("/destinations?q=a&q=b", 400).await;
}

#[tokio::test]
async fn a_destination_page_compares_local_regional_and_global_plans_by_price() {
    let app = spawn_app().await;
    let html = app.page("/destinations/jp", 200).await;
    assert!(html.contains("Japan"));
    for column in ["Data", "Validity", "Price", "Price per GB", "Hotspot", "Starts on arrival", "Buy"] {
        assert!(html.contains(column), "column {column}");
    }
    // Same order as the API's, which is checked to be by price.
    let api = app.json("/api/v1/destinations/jp", 200).await;
    let ids: Vec<String> =
        api["plans"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_string()).collect();
    let positions: Vec<usize> = ids.iter().map(|id| html.find(&format!("/plans/{id}")).expect("plan linked")).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "plans appear in price order");
    let kinds: Vec<&str> = api["plans"].as_array().unwrap().iter().map(|p| p["kind"].as_str().unwrap()).collect();
    for kind in ["local", "regional", "global"] {
        assert!(kinds.contains(&kind), "Japan has {kind} plans");
    }
    // ISO codes in any case.
    app.page("/destinations/JP", 200).await;
}

#[tokio::test]
async fn a_plan_page_shows_the_fine_print_and_coverage() {
    let app = spawn_app().await;
    let plans = app.json("/api/v1/plans?unlimited=true&per_page=1", 200).await;
    let plan = &plans["data"][0];
    let html = app.page(&format!("/plans/{}", plan["id"].as_str().unwrap()), 200).await;
    assert!(html.contains("Unlimited"));
    assert!(html.contains("kbps"), "fair-use throttle stated");
    assert!(html.contains(&format!("/plans/{}/checkout", plan["id"].as_str().unwrap())), "Buy button");
    let global = app.json("/api/v1/plans?type=global&per_page=1", 200).await;
    let html = app.page(&format!("/plans/{}", global["data"][0]["id"].as_str().unwrap()), 200).await;
    let covered = global["data"][0]["coverage"].as_array().unwrap().len();
    assert!(covered >= 50);
    assert!(destination_links(&html).len() >= covered, "every covered country is linked");
}

#[tokio::test]
async fn unknown_destinations_plans_and_paths_are_404_pages() {
    let app = spawn_app().await;
    for path in [
        "/destinations/xx",
        "/destinations/japan",
        "/plans/not-a-uuid",
        "/plans/3f1c2a9e-6b0d-4f5e-9a41-2c7d8e0b5a13",
        "/nowhere",
    ] {
        let html = app.page(path, 404).await;
        assert!(html.contains("/static/css/tern."), "{path} in the site layout");
        assert!(html.contains("404"), "{path}");
    }
}

#[tokio::test]
async fn static_files_are_served_with_cache_headers_and_pages_with_security_headers() {
    let app = spawn_app().await;
    let css = app.get("/static/css/tern.css").await;
    assert_eq!(css.status(), 200);
    assert!(css.headers()["content-type"].to_str().unwrap().starts_with("text/css"));
    assert_eq!(css.headers()["cache-control"], "public, max-age=3600", "the plain name: an hour");
    let plain = css.text().await.unwrap();
    // Pages link the content-hashed name, kept for a year.
    let home = app.page("/", 200).await;
    let href = Page::parse(&home).attr("link[rel=stylesheet]", "href").unwrap();
    assert!(
        href.starts_with("/static/css/tern.") && href.ends_with(".css") && href != "/static/css/tern.css",
        "{href}"
    );
    let hashed = app.get(&href).await;
    assert_eq!(hashed.status(), 200);
    assert_eq!(hashed.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(hashed.text().await.unwrap(), plain, "the same stylesheet");
    assert!(!plain.contains("/*") && plain.lines().count() < 5, "served minified");
    let logo = Page::parse(&home).attr("img.brand__logo", "src").unwrap();
    assert_eq!(app.get(&logo).await.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(app.get("/static/css/tern.0000000000.css").await.status(), 404, "a wrong hash is no file");
    let page = app.get("/").await;
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'self'"));
    assert_eq!(app.get("/static/nothing.css").await.status(), 404);
}

#[tokio::test]
async fn health_checks() {
    let app = spawn_app().await;
    assert_eq!(app.page("/healthz", 200).await, "ok");
    assert_eq!(app.page("/readyz", 200).await, "ready");
    app.pool.close().await;
    assert_eq!(app.get("/readyz").await.status(), 503, "readiness follows the database");
    assert_eq!(app.get("/healthz").await.status(), 200, "liveness does not");
}

#[tokio::test]
async fn catalogue_edits_reach_the_pages_without_a_restart() {
    let app = spawn_app().await;
    let plan = app.json("/api/v1/plans?destination=jp&type=local&per_page=1", 200).await["data"][0].clone();
    let id = plan["id"].as_str().unwrap().to_string();
    sqlx::query("update plans set price_minor = 12345 where id = $1::uuid").bind(&id).execute(&app.pool).await.unwrap();
    crate::helpers::eventually("the new price is served", || async {
        app.json(&format!("/api/v1/plans/{id}"), 200).await["price"]["amount_minor"] == 12345
    })
    .await;
    assert!(app.page(&format!("/plans/{id}"), 200).await.contains("$123.45"));
}

#[tokio::test]
async fn cached_pages_and_json_never_mix_and_follow_catalogue_edits() {
    let app = spawn_app().await;
    for _ in 0..2 {
        let page = app.get("/destinations/jp").await;
        assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let json = app.get("/api/v1/destinations/jp").await;
        assert_eq!(json.headers()["content-type"], "application/json");
    }
    sqlx::query("update destinations set name = 'Nippon' where iso = 'JP'").execute(&app.pool).await.unwrap();
    crate::helpers::eventually("the cached page shows the edit", || async {
        app.page("/destinations/jp", 200).await.contains("Nippon")
    })
    .await;
}

#[tokio::test]
async fn flags_are_svg_images_built_from_the_iso_code() {
    let app = spawn_app().await;
    let japan = Page::parse(&app.page("/destinations/jp", 200).await);
    let flag = japan.one("h1 img.flag");
    let src = flag.value().attr("src").unwrap();
    assert!(src.starts_with("/static/flags/jp.") && src.ends_with(".svg"), "the hashed name: {src}");
    assert_eq!(app.get(src).await.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(flag.value().attr("alt"), Some(""), "decorative: the name is next to it");
    let html = app.page("/destinations", 200).await;
    assert!(!html.chars().any(|c| ('\u{1F1E6}'..='\u{1F1FF}').contains(&c)), "no flag emoji left");
    let all = Page::parse(&html);
    let srcs = all.attrs(".dest-card img.flag", "src");
    assert!(srcs.len() >= 60, "every card has a flag: {}", srcs.len());
    assert!(srcs.iter().all(|s| s.starts_with("/static/flags/")), "every seeded destination ships a flag: {srcs:?}");
    assert!(all.attrs(".dest-card img.flag", "alt").iter().all(String::is_empty));

    let svg = app.get("/static/flags/jp.svg").await;
    assert_eq!(svg.status(), 200);
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.unwrap().starts_with("<svg"));
    // The shipped list is exactly the directory's files.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/static/flags");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().unwrap().strip_suffix(".svg").map(str::to_string))
        .collect();
    files.sort();
    assert_eq!(files, tern::domain::catalogue::FLAG_CODES);
    // The heavy ones are linked as their PNG: it ships, and is light.
    let mexico = Page::parse(&app.page("/destinations/mx", 200).await);
    let src = mexico.one("h1 img.flag").value().attr("src").unwrap().to_string();
    assert!(src.starts_with("/static/flags/mx.") && src.ends_with(".png"), "{src}");
    let png = app.get(&src).await;
    assert_eq!(png.headers()["content-type"], "image/png");
    assert_eq!(png.headers()["cache-control"], "public, max-age=31536000, immutable");
    for code in tern::domain::catalogue::RASTER_FLAG_CODES {
        let size = std::fs::metadata(format!("{dir}/{code}.png")).map(|m| m.len());
        assert!(size.as_ref().is_ok_and(|n| *n < 4096), "{code}.png ships and is under 4 KB: {size:?}");
    }

    // A destination added later, without a shipped flag, shows the neutral globe.
    sqlx::query("insert into destinations (iso, name, aliases, region_id) values ('XK', 'Kosovo', '{}', 'europe')")
        .execute(&app.pool)
        .await
        .unwrap();
    crate::helpers::eventually("the new destination is served", || async {
        app.get("/destinations/xk").await.status() == 200
    })
    .await;
    let kosovo = Page::parse(&app.page("/destinations/xk", 200).await);
    let globe = kosovo.attr("h1 img.flag", "src").unwrap();
    assert!(globe.starts_with("/static/img/globe."), "{globe}");
    assert_eq!(app.get(&globe).await.headers()["content-type"], "image/svg+xml");
}
