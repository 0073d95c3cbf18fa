//! The admin order list's CSV export, the dashboard's known figures and what needs attention,
//! and the audit log's pages.

use crate::helpers::{Page, spawn_app, text_of};
use tern::domain::user::Role;
use time::{Duration, OffsetDateTime};

use crate::admin_orders::*;

#[tokio::test]
async fn the_csv_export_has_every_matching_order_quoted_and_guarded() {
    let app = spawn_app().await;
    let p = plans(&app.pool).await;
    let pool = &app.pool;
    let now = OffsetDateTime::now_utc();
    let plain =
        NewOrder::new("plain@example.com", p.jp).amount(1299, "USD").at(now - Duration::hours(5)).insert(pool).await;
    add_esim(pool, plain, "8988307000000000025").await;
    let formula = NewOrder::new("+44@example.com", p.jp)
        .named("=HYPERLINK(\"http://evil.example\",\"click\")")
        .at(now - Duration::hours(4))
        .insert(pool)
        .await;
    let quoted = NewOrder::new("\"odd,name\"@example.com", p.fr)
        .named("-2+3")
        .at(now - Duration::hours(3))
        .flagged()
        .insert(pool)
        .await;
    let lines =
        NewOrder::new("@lines@example.com", p.fr).named("two\nlines").at(now - Duration::hours(2)).insert(pool).await;
    NewOrder::new("gone@example.com", p.fr).status("expired").at(now - Duration::hours(1)).insert(pool).await;
    let user = app.sign_in_as(Role::Support).await;

    let response = app.get("/admin/orders.csv?status=ready").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(response.headers()["content-disposition"], "attachment; filename=\"orders.csv\"");
    let body = response.text().await.unwrap();
    let rows: Vec<&str> = body.split_terminator("\r\n").collect();
    assert_eq!(rows[0], "created_at,order_id,email,plan,amount,currency,status,needs_review,iccid,plan_id");
    assert_eq!(rows.len(), 5, "header + the four ready orders, not the expired one: {body}");
    assert!(
        rows[1].contains(&format!(",{lines},'@lines@example.com,\"two\nlines\",10.00,USD,ready,false,,")),
        "{}",
        rows[1]
    );
    assert!(
        rows[2].contains(&format!(",{quoted},\"\"\"odd,name\"\"@example.com\",'-2+3,10.00,USD,ready,true,,")),
        "{}",
        rows[2]
    );
    assert!(
        rows[3].contains(&format!(
            ",{formula},'+44@example.com,\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\",10.00,USD,ready,false,,"
        )),
        "{}",
        rows[3]
    );
    assert!(rows[4].contains(&format!(",{plain},plain@example.com,")), "{}", rows[4]);
    assert!(rows[4].contains(",12.99,USD,ready,false,8988307000000000025,"), "{}", rows[4]);
    assert!(!body.contains("gone@example.com"));

    let sorted_csv = app.get("/admin/orders.csv?sort=amount_desc").await.text().await.unwrap();
    let first_row = sorted_csv.split_terminator("\r\n").nth(1).unwrap();
    assert!(first_row.contains(&plain.to_string()), "the export keeps the sort: {first_row}");
    assert_eq!(sorted_csv.split_terminator("\r\n").count(), 6, "no filter: all five orders");

    let audited: (Option<String>, serde_json::Value) = sqlx::query_as(
        "select user_email, details from audit_log where action = 'orders_exported' order by id limit 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(audited.0.as_deref(), Some(user.email.as_str()), "the export is audited");
    assert_eq!(audited.1["rows"], 4);
    assert_eq!(audited.1["filters"]["status"], "ready");
}

#[tokio::test]
async fn the_dashboard_shows_known_figures_and_what_needs_attention() {
    let app = spawn_app().await;
    let p = plans(&app.pool).await;
    let pool = &app.pool;
    let now = OffsetDateTime::now_utc();
    let ago = |minutes: i64| now - Duration::minutes(minutes);
    let day = 24 * 60;
    let jp_name: String =
        sqlx::query_scalar("select name from plans where id = $1").bind(p.jp).fetch_one(pool).await.unwrap();

    let a = NewOrder::new("a@example.com", p.jp).amount(1000, "USD").at(ago(day)).insert(pool).await;
    let fresh = NewOrder::new("b@example.com", p.jp)
        .status("paid")
        .amount(500, "USD")
        .at(ago(120))
        .paid(Some(ago(1)))
        .insert(pool)
        .await;
    let failed = NewOrder::new("c@example.com", p.europe)
        .status("provisioning_failed")
        .amount(700, "EUR")
        .at(ago(3 * day))
        .insert(pool)
        .await;
    let refunded =
        NewOrder::new("d@example.com", p.global).status("refunded").amount(9900, "USD").at(ago(day)).insert(pool).await;
    let unpaid =
        NewOrder::new("e@example.com", p.jp).status("awaiting_payment").paid(None).at(ago(60)).insert(pool).await;
    let expired = NewOrder::new("f@example.com", p.fr).status("expired").paid(None).at(ago(5 * day)).insert(pool).await;
    let stuck = NewOrder::new("g@example.com", p.fr)
        .status("provisioning")
        .amount(1200, "USD")
        .at(ago(40))
        .paid(Some(ago(30)))
        .insert(pool)
        .await;
    let review = NewOrder::new("h@example.com", p.jp).amount(800, "USD").at(ago(2 * day)).flagged().insert(pool).await;
    let old = NewOrder::new("i@example.com", p.jp).amount(5000, "USD").at(ago(45 * day)).insert(pool).await;
    for order in [a, fresh, failed, refunded, unpaid, expired, stuck] {
        add_event(pool, order, "checkout_started").await;
    }
    add_event(pool, old, "checkout_started").await;
    app.sign_in_as(Role::Support).await;

    let html = app.page("/admin", 200).await;
    let page = Page::parse(&html);
    let text = |id: &str| page.text(&format!("#{id}"));
    assert_eq!(text("orders-total"), "8", "orders placed in 30 days");
    assert_eq!(text("paid-total"), "5", "paid, provisioning, ready, provisioning_failed; not refunded");
    assert_eq!(text("revenue-total-USD"), "$35.00", "1000 + 500 + 1200 + 800, refunds excluded");
    assert_eq!(text("revenue-total-EUR"), "€7.00", "per currency");
    assert_eq!(text("conversion"), "71.4%", "5 of 7 checkouts paid (the refund was paid too)");

    let top_plans = page.texts("#top-plans li");
    assert!(top_plans.contains(&format!("{jp_name}: 3")), "{top_plans:?}");
    let top_destinations = page.texts("#top-destinations li");
    assert!(top_destinations.iter().any(|li| li.ends_with("Japan: 3")), "{top_destinations:?}");
    assert!(top_destinations.iter().any(|li| li.ends_with("Europe (regional plans): 1")));

    let attention = page.text("#attention");
    let flagged = listed_in(&page, "#attention");
    assert_eq!(sorted(flagged), sorted(vec![failed, stuck, review]), "{attention}");
    assert!(attention.contains("eSIM could not be prepared"));
    assert!(attention.contains("paid more than 10 minutes ago"));
    assert!(attention.contains("payment flagged for review"));

    // The chart and its accessible fallback.
    assert!(html.contains("role=\"img\" aria-labelledby=\"chart-orders-title chart-orders-desc\""));
    assert!(html.contains("<title id=\"chart-orders-title\">Orders per day, last 30 days</title>"));
    assert!(html.contains("<title id=\"chart-revenue-usd-title\">"));
    assert!(html.contains("<title id=\"chart-revenue-eur-title\">"));
    assert_eq!(html.matches("<th scope=\"row\">").count(), 30, "one table row per day");
    let today = now.date().to_string();
    let today_row = page
        .select("tr")
        .into_iter()
        .find(|row| row.select(&scraper::Selector::parse("th[scope=row]").unwrap()).any(|th| text_of(th) == today))
        .expect("a row for today");
    let cells: Vec<String> = today_row.select(&scraper::Selector::parse("td").unwrap()).map(text_of).collect();
    assert!(cells.iter().any(|td| td == "€0.00"), "{cells:?}");
}

#[tokio::test]
async fn the_dashboard_is_calm_without_orders() {
    let app = spawn_app().await;
    app.sign_in_as(Role::Admin).await;
    let html = app.page("/admin", 200).await;
    assert!(Page::parse(&html).exists("#attention-none"));
    assert!(html.contains("id=\"orders-total\">0<"));
    assert!(html.contains("id=\"conversion\">—<"));
}

#[tokio::test]
async fn the_audit_log_lists_sign_ins_newest_first_in_pages() {
    let app = spawn_app().await;
    let user = app.sign_in_as(Role::Support).await;
    let html = app.page("/admin/audit", 200).await;
    let page = Page::parse(&html);
    let row = page
        .select("tr")
        .into_iter()
        .find(|row| row.select(&scraper::Selector::parse("code").unwrap()).any(|code| text_of(code) == "sign_in"))
        .map(text_of)
        .expect("the sign-in is listed");
    assert!(row.contains(&user.email), "who: {row}");
    assert!(row.contains("127.0.0.1"), "from where");

    sqlx::query(
        "insert into audit_log (user_email, action, target, details, ip)
         select 'ops@example.com', 'test_action_' || n, 'order ' || n, jsonb_build_object('n', n, 'note', '<b>x</b>'), '10.0.0.1'
           from generate_series(1, 150) n",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let first = app.page("/admin/audit", 200).await;
    assert_eq!(first.matches("<tr>").count(), 101, "a header and 100 entries");
    assert!(first.find("test_action_150<").unwrap() < first.find("test_action_149<").unwrap(), "newest first");
    assert!(first.contains(&escaped(r#"{"n": 150, "note": "<b>x</b>"}"#)), "details shown as escaped JSON text");
    assert!(!first.contains("<b>x</b>"));
    let next = next_link(&first).expect("a link to older entries");
    let second = app.page(&next, 200).await;
    assert_eq!(second.matches("<tr>").count(), 1 + 52, "the other 50, the sign-in and the MFA enrolment");
    assert!(second.contains("test_action_50<") && !second.contains("test_action_51<"));
    assert!(second.contains("<code>sign_in</code>"));
    assert!(next_link(&second).is_none());
}
