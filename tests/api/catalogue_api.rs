//! The catalogue JSON API: envelopes, filters, paging, problem documents, and the seed.

use serde_json::Value;

use crate::helpers::spawn_app;

fn items(v: &Value) -> &Vec<Value> {
    v["data"].as_array().expect("data array")
}

async fn all_plans(app: &crate::helpers::TestApp, query: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for page in 1.. {
        let v = app.json(&format!("/api/v1/plans?per_page=100&page={page}&{query}"), 200).await;
        let batch = items(&v).clone();
        if batch.is_empty() {
            assert_eq!(out.len(), v["meta"]["total"].as_u64().unwrap() as usize, "meta.total counts every page");
            return out;
        }
        out.extend(batch);
    }
    unreachable!()
}

#[tokio::test]
async fn the_seeded_catalogue_is_large_and_varied() {
    let app = spawn_app().await;
    let regions = app.json("/api/v1/regions", 200).await;
    assert_eq!(items(&regions).len(), 7);
    assert!(items(&regions).iter().all(|r| r["destination_count"].as_u64().unwrap() >= 3));
    let destinations = app.json("/api/v1/destinations?per_page=100", 200).await;
    assert!(destinations["meta"]["total"].as_u64().unwrap() >= 60);

    let plans = all_plans(&app, "").await;
    assert!(plans.len() >= 200, "{} plans on sale", plans.len());
    let count = |f: &dyn Fn(&Value) -> bool| plans.iter().filter(|p| f(p)).count();
    assert!(count(&|p| p["kind"] == "regional") >= 5);
    assert!(count(&|p| p["kind"] == "global") >= 2);
    assert!(count(&|p| p["validity_start"] == "installation") >= 1);
    assert!(plans.iter().all(|p| p["on_sale"] == true));
    for p in plans.iter().filter(|p| p["unlimited"] == true) {
        assert!(p["data_mb"].is_null() && p["fair_use"]["throttle_kbps"].as_u64().unwrap() > 0, "{p}");
        assert!(p["price_per_gb"].is_null());
    }
    assert!(count(&|p| p["unlimited"] == true) >= 3);
    let prices: Vec<i64> = plans.iter().map(|p| p["price"]["amount_minor"].as_i64().unwrap()).collect();
    assert!(prices.windows(2).all(|w| w[0] <= w[1]), "cheapest first");
    assert!(prices.iter().all(|&p| (100..=20_000).contains(&p)), "realistic prices");
}

#[tokio::test]
async fn destinations_are_searched_and_paged() {
    let app = spawn_app().await;
    let v = app.json("/api/v1/destinations?q=usa", 200).await;
    assert_eq!(items(&v)[0]["iso"], "US");
    let v = app.json("/api/v1/destinations?q=t%C3%BCrk", 200).await;
    assert_eq!(items(&v)[0]["iso"], "TR");
    let v = app.json("/api/v1/destinations?region=oceania&per_page=2&page=2", 200).await;
    assert_eq!(v["meta"]["page"], 2);
    assert_eq!(v["meta"]["per_page"], 2);
    assert!(items(&v).iter().all(|d| d["region"] == "oceania"));
    let total = v["meta"]["total"].as_u64().unwrap();
    let past = app.json(&format!("/api/v1/destinations?region=oceania&per_page=2&page={}", total), 200).await;
    assert!(items(&past).is_empty(), "a page past the end is empty");
    let jp = app.json("/api/v1/destinations?q=japan", 200).await;
    assert!(items(&jp)[0]["from_price"]["amount_minor"].as_i64().unwrap() > 0);
}

#[tokio::test]
async fn a_destination_carries_its_plans_cheapest_first() {
    let app = spawn_app().await;
    let v = app.json("/api/v1/destinations/gb", 200).await;
    assert_eq!(v["iso"], "GB");
    assert_eq!(v["flag"], "🇬🇧");
    let plans = v["plans"].as_array().unwrap();
    assert_eq!(plans.len() as u64, v["plan_count"].as_u64().unwrap());
    assert!(plans.iter().all(|p| { p["coverage"].as_array().unwrap().contains(&Value::from("GB")) }));
    let prices: Vec<i64> = plans.iter().map(|p| p["price"]["amount_minor"].as_i64().unwrap()).collect();
    assert!(prices.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(v["from_price"]["amount_minor"].as_i64(), prices.first().copied());
}

#[tokio::test]
async fn plan_filters_narrow_the_list() {
    let app = spawn_app().await;
    for p in all_plans(&app, "type=global").await {
        assert_eq!(p["kind"], "global");
    }
    for p in all_plans(&app, "unlimited=false&max_price=900").await {
        assert!(p["price"]["amount_minor"].as_i64().unwrap() <= 900 && p["unlimited"] == false);
    }
    let asia = all_plans(&app, "region=asia").await;
    assert!(asia.iter().all(|p| p["region"] == "asia" || p["kind"] == "local"));
    assert!(asia.iter().any(|p| p["destination"] == "JP"));
    assert!(!asia.iter().any(|p| p["destination"] == "FR"));
    let jp = all_plans(&app, "destination=jp&min_days=30").await;
    assert!(!jp.is_empty());
    assert!(jp.iter().all(|p| p["validity_days"].as_u64().unwrap() >= 30));
    assert!(jp.iter().all(|p| { p["coverage"].as_array().unwrap().contains(&Value::from("JP")) }));
}

#[tokio::test]
async fn a_plan_by_id_and_unknown_plans() {
    let app = spawn_app().await;
    let first = &items(&app.json("/api/v1/plans?per_page=1", 200).await)[0].clone();
    let id = first["id"].as_str().unwrap();
    let one = app.json(&format!("/api/v1/plans/{id}"), 200).await;
    assert_eq!(&one, first);
    let p = app.problem("/api/v1/plans/3f1c2a9e-6b0d-4f5e-9a41-2c7d8e0b5a13", 404).await;
    assert_eq!(p["code"], "not_found");
    app.problem("/api/v1/plans/nope", 404).await;
    app.problem("/api/v1/destinations/zz", 404).await;
    app.problem("/api/v1/no-such-endpoint", 404).await;
}

#[tokio::test]
async fn retired_plans_are_readable_but_not_listed() {
    let app = spawn_app().await;
    let (id,): (uuid::Uuid,) = sqlx::query_as("select id from plans where not on_sale limit 1")
        .fetch_one(&app.pool)
        .await
        .expect("the seed has retired plans");
    let plan = app.json(&format!("/api/v1/plans/{id}"), 200).await;
    assert_eq!(plan["on_sale"], false);
    assert!(!all_plans(&app, "").await.iter().any(|p| p["id"] == id.to_string()));
    assert!(app.page(&format!("/plans/{id}"), 200).await.contains("No longer on sale"));
}

#[tokio::test]
async fn bad_parameters_are_problems_naming_the_parameter() {
    let app = spawn_app().await;
    for (path, param) in [
        ("/api/v1/destinations?per_page=0", "per_page"),
        ("/api/v1/destinations?per_page=101", "per_page"),
        ("/api/v1/destinations?page=-1", "page"),
        ("/api/v1/destinations?region=mars", "region"),
        ("/api/v1/plans?type=weekly", "type"),
        ("/api/v1/plans?min_days=abc", "min_days"),
        ("/api/v1/plans?max_price=-5", "max_price"),
        ("/api/v1/plans?unlimited=maybe", "unlimited"),
        ("/api/v1/plans?destination=atlantis", "destination"),
    ] {
        let p = app.problem(path, 400).await;
        assert_eq!(p["code"], "invalid_parameter", "{path}");
        assert_eq!(p["invalid_params"][0]["name"], param, "{path}");
        assert!(!p["invalid_params"][0]["reason"].as_str().unwrap().is_empty());
        assert!(p["type"].as_str().unwrap().starts_with("urn:tern:problem:"));
    }
}
