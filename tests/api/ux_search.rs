//! Forgiving search: regions and their plans, aliases from the catalogue data (cities, islands,
//! other languages), typos, and "did you mean" (issue 13, step 3).

use crate::helpers::{Page, spawn_app};

/// ISO codes of the destination cards a results page shows, in order.
fn destinations(page: &Page) -> Vec<String> {
    page.attrs(".card-grid a[href^='/destinations/']", "href")
        .into_iter()
        .map(|href| href["/destinations/".len()..].to_string())
        .collect()
}

#[tokio::test]
async fn cities_islands_and_names_in_other_languages_find_their_country() {
    let app = spawn_app().await;
    for (query, iso) in [
        ("tokyo", "jp"),
        ("hawaii", "us"),
        ("bali", "id"),
        ("T%C3%BCrkei", "tr"),
        ("Allemagne", "de"),
        ("Jap%C3%B3n", "jp"),
        ("japn", "jp"),
        ("Barcelona", "es"),
        ("thialand", "th"),
    ] {
        let page = Page::parse(&app.page(&format!("/destinations?q={query}"), 200).await);
        let found = destinations(&page);
        assert_eq!(found.first().map(String::as_str), Some(iso), "q={query} found {found:?}");
    }
    // The API searches the same index.
    let api = app.json("/api/v1/destinations?q=tokyo", 200).await;
    assert_eq!(api["data"][0]["iso"], "JP");
}

#[tokio::test]
async fn regions_and_their_regional_plans_are_found_by_name_and_alias() {
    let app = spawn_app().await;
    for query in ["europe", "schengen", "Europa"] {
        let page = Page::parse(&app.page(&format!("/destinations?q={query}"), 200).await);
        assert!(page.exists("#region-europe-title"), "q={query} finds the Europe region");
        let plans = page.texts(".region-result .plan-row__name");
        assert!(!plans.is_empty() && plans.iter().all(|n| n.starts_with("Europe")), "q={query}: {plans:?}");
        assert!(page.exists(".region-result a[href='/destinations?region=europe']"));
        assert!(page.exists(".region-result .plan-row__buy"));
    }
}

#[tokio::test]
async fn exact_and_prefix_matches_rank_above_typos() {
    let app = spawn_app().await;
    // "oman" is exact for Oman and one edit from other keys ("roman"...): the exact match leads.
    let page = Page::parse(&app.page("/destinations?q=oman", 200).await);
    assert_eq!(destinations(&page).first().map(String::as_str), Some("om"));
    let page = Page::parse(&app.page("/destinations?q=jap", 200).await);
    assert_eq!(destinations(&page), ["jp"], "three letters: prefix only, no typo matches");
}

#[tokio::test]
async fn nothing_found_offers_the_closest_name() {
    let app = spawn_app().await;
    let page = Page::parse(&app.page("/destinations?q=jpa", 200).await);
    assert!(destinations(&page).is_empty());
    assert_eq!(page.text(".did-you-mean"), "Did you mean Japan?");
    assert_eq!(page.attr(".did-you-mean a", "href").as_deref(), Some("/destinations?q=Japan"));
    let page = Page::parse(&app.page("/destinations?q=atlantis", 200).await);
    assert!(destinations(&page).is_empty());
    assert!(page.text("#results-title").contains("atlantis"));
}

#[tokio::test]
async fn aliases_changed_in_the_catalogue_data_are_searchable_at_once() {
    let app = spawn_app().await;
    sqlx::query("update destinations set aliases = aliases || array['Ryukyu'] where iso = 'JP'")
        .execute(&app.pool)
        .await
        .unwrap();
    crate::helpers::eventually("the new alias is searchable", || async {
        destinations(&Page::parse(&app.page("/destinations?q=ryukyu", 200).await)).first().map(String::as_str)
            == Some("jp")
    })
    .await;
}
