//! Paging the admin order list: following Next walks every order exactly once in each sort,
//! with the filter kept and unshifted by an order placed meanwhile, and the amount sorts stop
//! after 100 pages, saying why.

use tern::domain::user::Role;
use time::Duration;
use uuid::Uuid;

use crate::admin_orders::{NewOrder, at, listed, next_link, plans};
use crate::helpers::{TestApp, spawn_app};

/// Follows the Next links from `first`, returning every order id seen and the number of pages.
pub(crate) async fn walk(app: &TestApp, first: &str) -> (Vec<Uuid>, usize) {
    let (mut seen, mut pages, mut next) = (Vec::new(), 0, Some(first.to_string()));
    while let Some(path) = next {
        let html = app.page(&path, 200).await;
        let ids = listed(&html);
        assert!(ids.len() <= 50, "50 a page");
        seen.extend(ids);
        pages += 1;
        next = next_link(&html);
        assert!(pages < 10, "the walk ends");
    }
    (seen, pages)
}

#[tokio::test]
pub(crate) async fn pages_walk_every_order_exactly_once() {
    let app = spawn_app().await;
    let p = plans(&app.pool).await;
    // 120 orders, three at each instant: the id breaks the ties.
    let base = at("2026-04-01T12:00:00.123456Z");
    for i in 0..120 {
        let plan = if i % 2 == 0 { p.jp } else { p.fr };
        NewOrder::new(&format!("walk{i}@example.com"), plan)
            .amount(100 + (i % 7) * 100, "USD")
            .at(base + Duration::minutes(i / 3))
            .insert(&app.pool)
            .await;
    }
    app.sign_in_as(Role::Support).await;
    let expected = |condition: &'static str, order: &'static str| {
        let sql = format!("select id from orders where {condition} order by {order}");
        let (pool, jp) = (app.pool.clone(), p.jp);
        async move { sqlx::query_scalar::<_, Uuid>(&sql).bind(jp).fetch_all(&pool).await.unwrap() }
    };
    let all = "$1 is not null";

    let (newest, pages) = walk(&app, "/admin/orders").await;
    assert_eq!(pages, 3);
    assert_eq!(newest, expected(all, "created_at desc, id desc").await, "every order once, newest first");
    let (oldest, pages) = walk(&app, "/admin/orders?sort=oldest&destination=JP").await;
    assert_eq!(pages, 2);
    assert_eq!(oldest, expected("plan_id = $1", "created_at, id").await, "oldest first, the filter kept");
    let (by_amount, pages) = walk(&app, "/admin/orders?sort=amount_desc").await;
    assert_eq!(pages, 3);
    assert_eq!(by_amount, expected(all, "amount_minor desc, created_at desc, id desc").await);
    let (by_amount, _) = walk(&app, "/admin/orders?sort=amount_asc").await;
    assert_eq!(by_amount, expected(all, "amount_minor, created_at, id").await);

    // An order placed while paging does not shift the pages after the cursor.
    let first = app.page("/admin/orders", 200).await;
    NewOrder::new("late@example.com", p.jp).at(base + Duration::days(1)).insert(&app.pool).await;
    let second = app.page(&next_link(&first).unwrap(), 200).await;
    assert_eq!(listed(&second), newest[50..100].to_vec());
    assert!(second.contains("First page"));
}

#[tokio::test]
pub(crate) async fn amount_sorts_stop_after_100_pages() {
    let app = spawn_app().await;
    let p = plans(&app.pool).await;
    sqlx::query(
        "insert into orders (plan_id, plan_name, amount_minor, currency, email, status, access_token_sha256)
         select $1, 'Bulk', 100 + n, 'USD', 'bulk' || n || '@example.com', 'ready',
                decode(md5(n || 'a') || md5(n || 'b'), 'hex')
           from generate_series(1, 5020) n",
    )
    .bind(p.jp)
    .execute(&app.pool)
    .await
    .unwrap();
    app.sign_in_as(Role::Support).await;

    let html = app.page("/admin/orders?sort=amount_desc&page=99", 200).await;
    assert_eq!(listed(&html).len(), 50);
    assert_eq!(next_link(&html).as_deref(), Some("/admin/orders?sort=amount_desc&page=100"));
    assert!(!html.contains("stops after 100 pages"));
    let last = app.page("/admin/orders?sort=amount_desc&page=100", 200).await;
    assert_eq!(listed(&last).len(), 50);
    assert!(last.contains("$1.21") && last.contains("$1.70"), "orders 4,951 to 5,000 by amount");
    assert!(next_link(&last).is_none());
    assert!(last.contains("stops after 100 pages"), "says why the list ends");
}
