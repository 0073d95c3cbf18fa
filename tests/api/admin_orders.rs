//! The admin order list: filters, search, sorting, strict parameters, escaping and access
//! (paging: `admin_orders_pages.rs`; its CSV export, the dashboard and the audit log:
//! `admin_dashboard.rs`).

use sqlx::PgPool;
use tern::domain::user::Role;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::helpers::{Page, TestApp, spawn_app};

/// Plans of the seeded catalogue the tests place orders for.
pub(crate) struct Plans {
    pub(crate) jp: Uuid,
    pub(crate) jp_other: Uuid,
    pub(crate) fr: Uuid,
    pub(crate) europe: Uuid,
    pub(crate) global: Uuid,
}

pub(crate) async fn plans(pool: &PgPool) -> Plans {
    let one = |sql: &'static str| async move { sqlx::query_scalar::<_, Uuid>(sql).fetch_one(pool).await.unwrap() };
    Plans {
        jp: one("select id from plans where kind = 'local' and destination_iso = 'JP' order by price_minor limit 1")
            .await,
        jp_other: one(
            "select id from plans where kind = 'local' and destination_iso = 'JP' order by price_minor desc limit 1",
        )
        .await,
        fr: one("select id from plans where kind = 'local' and destination_iso = 'FR' order by price_minor limit 1")
            .await,
        europe: one("select p.id from plans p where p.kind = 'regional' and p.region_id = 'europe'
                and not exists (select 1 from plan_coverage c where c.plan_id = p.id and c.destination_iso = 'JP')
              order by p.price_minor limit 1")
        .await,
        global: one("select p.id from plans p where p.kind = 'global'
                and exists (select 1 from plan_coverage c where c.plan_id = p.id and c.destination_iso = 'JP')
              order by p.price_minor limit 1")
        .await,
    }
}

/// An order to insert directly; `new` gives a ready USD order placed an hour ago.
pub(crate) struct NewOrder {
    pub(crate) email: String,
    pub(crate) plan: Uuid,
    pub(crate) plan_name: Option<String>,
    pub(crate) status: &'static str,
    pub(crate) amount: i64,
    pub(crate) currency: &'static str,
    pub(crate) created_at: OffsetDateTime,
    pub(crate) paid_at: Option<OffsetDateTime>,
    pub(crate) needs_review: bool,
}

impl NewOrder {
    pub(crate) fn new(email: &str, plan: Uuid) -> Self {
        let created_at = OffsetDateTime::now_utc() - Duration::hours(1);
        Self {
            email: email.to_string(),
            plan,
            plan_name: None,
            status: "ready",
            amount: 1000,
            currency: "USD",
            created_at,
            paid_at: Some(created_at),
            needs_review: false,
        }
    }
    pub(crate) fn status(mut self, status: &'static str) -> Self {
        self.status = status;
        self
    }
    pub(crate) fn amount(mut self, amount: i64, currency: &'static str) -> Self {
        (self.amount, self.currency) = (amount, currency);
        self
    }
    pub(crate) fn at(mut self, created_at: OffsetDateTime) -> Self {
        self.created_at = created_at;
        self.paid_at = self.paid_at.map(|_| created_at);
        self
    }
    pub(crate) fn paid(mut self, paid_at: Option<OffsetDateTime>) -> Self {
        self.paid_at = paid_at;
        self
    }
    pub(crate) fn flagged(mut self) -> Self {
        self.needs_review = true;
        self
    }
    pub(crate) fn named(mut self, plan_name: &str) -> Self {
        self.plan_name = Some(plan_name.to_string());
        self
    }

    pub(crate) async fn insert(self, pool: &PgPool) -> Uuid {
        sqlx::query_scalar(
            "insert into orders (plan_id, plan_name, amount_minor, currency, email, status, access_token_sha256,
                                 needs_review, created_at, paid_at)
             select p.id, coalesce($2, p.name), $3, $4, $5, $6::order_status,
                    decode(md5(random()::text) || md5(random()::text), 'hex'), $7, $8, $9
               from plans p where p.id = $1
             returning id",
        )
        .bind(self.plan)
        .bind(self.plan_name)
        .bind(self.amount)
        .bind(self.currency)
        .bind(self.email)
        .bind(self.status)
        .bind(self.needs_review)
        .bind(self.created_at)
        .bind(self.paid_at)
        .fetch_one(pool)
        .await
        .unwrap()
    }
}

pub(crate) async fn add_esim(pool: &PgPool, order: Uuid, iccid: &str) {
    sqlx::query("insert into esims (order_id, tag, iccid) values ($1, 'tern-order-' || $1::text, $2)")
        .bind(order)
        .bind(iccid)
        .execute(pool)
        .await
        .unwrap();
}

pub(crate) async fn add_event(pool: &PgPool, order: Uuid, kind: &str) {
    sqlx::query("insert into order_events (order_id, type, actor) values ($1, $2, 'traveller')")
        .bind(order)
        .bind(kind)
        .execute(pool)
        .await
        .unwrap();
}

pub(crate) fn at(rfc3339: &str) -> OffsetDateTime {
    OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339).unwrap()
}

pub(crate) fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Text as askama's HTML escaper writes it.
pub(crate) fn escaped(text: &str) -> String {
    text.replace('&', "&#38;").replace('<', "&#60;").replace('>', "&#62;").replace('"', "&#34;").replace('\'', "&#39;")
}

/// The order ids a page links to, in page order.
pub(crate) fn listed(html: &str) -> Vec<Uuid> {
    listed_in(&Page::parse(html), "")
}

/// The order ids linked from inside `scope` (a selector; empty: the whole page), in page order.
pub(crate) fn listed_in(page: &Page, scope: &str) -> Vec<Uuid> {
    let links = page.attrs(&format!("{scope} [href^='/admin/orders/']"), "href");
    links.iter().filter_map(|href| href["/admin/orders/".len()..].get(..36)?.parse().ok()).collect()
}

/// The `rel="next"` link of a page.
pub(crate) fn next_link(html: &str) -> Option<String> {
    Page::parse(html).attr("[href][rel=next]", "href")
}

pub(crate) async fn ids_for(app: &TestApp, query: &str) -> Vec<Uuid> {
    listed(&app.page(&format!("/admin/orders?{query}"), 200).await)
}

pub(crate) fn sorted(mut ids: Vec<Uuid>) -> Vec<Uuid> {
    ids.sort();
    ids
}

#[tokio::test]
pub(crate) async fn only_staff_may_look_and_visitors_are_sent_to_sign_in() {
    let app = spawn_app().await;
    for path in ["/admin", "/admin/orders", "/admin/orders.csv", "/admin/audit"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 303, "{path}");
        assert_eq!(response.headers()["location"], format!("/account/sign-in?next={path}").as_str());
    }
    app.sign_in_as(Role::Customer).await;
    for path in ["/admin", "/admin/orders", "/admin/orders.csv", "/admin/audit"] {
        app.page(path, 403).await;
    }
    app.sign_in_as(Role::Support).await;
    for path in ["/admin", "/admin/orders", "/admin/orders.csv", "/admin/audit"] {
        app.get(path).await.error_for_status().unwrap();
    }
    app.sign_in_as(Role::Admin).await;
    app.page("/admin/orders", 200).await;
}

#[tokio::test]
pub(crate) async fn filters_narrow_the_order_list() {
    let app = spawn_app().await;
    let p = plans(&app.pool).await;
    let pool = &app.pool;
    let jp = NewOrder::new("jp@example.com", p.jp).at(at("2026-03-10T10:00:00Z")).insert(pool).await;
    let jp_off_sale =
        NewOrder::new("jp2@example.com", p.jp_other).status("paid").at(at("2026-03-11T23:59:59Z")).insert(pool).await;
    let fr = NewOrder::new("fr@example.com", p.fr).status("expired").at(at("2026-03-12T00:00:00Z")).insert(pool).await;
    let europe = NewOrder::new("eu@example.com", p.europe).at(at("2026-03-13T08:00:00Z")).insert(pool).await;
    let global = NewOrder::new("gl@example.com", p.global)
        .status("provisioning_failed")
        .at(at("2026-03-14T08:00:00Z"))
        .insert(pool)
        .await;
    // Orders of a plan taken off sale are still found by destination and type.
    sqlx::query("update plans set on_sale = false where id = $1").bind(p.jp_other).execute(pool).await.unwrap();
    app.sign_in_as(Role::Support).await;

    assert_eq!(ids_for(&app, "").await, vec![global, europe, fr, jp_off_sale, jp], "newest first, unfiltered");
    assert_eq!(ids_for(&app, "status=ready").await, vec![europe, jp]);
    assert_eq!(ids_for(&app, "status=provisioning_failed").await, vec![global]);
    assert_eq!(ids_for(&app, "destination=JP").await, vec![global, jp_off_sale, jp], "local JP plans and the global");
    assert_eq!(ids_for(&app, "destination=jp").await, vec![global, jp_off_sale, jp], "any case");
    assert_eq!(ids_for(&app, "destination=FR").await, vec![global, europe, fr]);
    assert_eq!(ids_for(&app, "type=local").await, vec![fr, jp_off_sale, jp]);
    assert_eq!(ids_for(&app, "type=regional").await, vec![europe]);
    assert_eq!(ids_for(&app, "type=global&destination=JP").await, vec![global]);
    assert_eq!(ids_for(&app, "type=regional&destination=JP").await, Vec::<Uuid>::new());
    // Inclusive UTC days: the 11th ends at 23:59:59.999999, the 12th starts at midnight.
    assert_eq!(ids_for(&app, "from=2026-03-11&to=2026-03-11").await, vec![jp_off_sale]);
    assert_eq!(ids_for(&app, "from=2026-03-12").await, vec![global, europe, fr]);
    assert_eq!(ids_for(&app, "to=2026-03-11").await, vec![jp_off_sale, jp]);
    assert_eq!(ids_for(&app, "from=2026-03-10&to=2026-03-13&status=ready&type=local").await, vec![jp]);

    // The form shows the current values.
    let html = app.page("/admin/orders?status=ready&destination=JP&type=local&from=2026-03-01&q=jp", 200).await;
    assert!(html.contains("<option value=\"ready\" selected>"), "{html}");
    assert!(html.contains("<option value=\"JP\" selected>"));
    assert!(html.contains("<option value=\"local\" selected>"));
    assert!(html.contains("name=\"from\" type=\"date\" value=\"2026-03-01\""));
    assert!(html.contains("name=\"q\" type=\"search\" value=\"jp\""));
    for label in ["for=\"q\"", "for=\"status\"", "for=\"destination\"", "for=\"type\"", "for=\"from\"", "for=\"to\""] {
        assert!(html.contains(label), "a label {label}");
    }
}

#[tokio::test]
pub(crate) async fn search_finds_orders_by_id_email_and_iccid() {
    let app = spawn_app().await;
    let p = plans(&app.pool).await;
    let pool = &app.pool;
    let ann = NewOrder::new("Ann.Lee@Example.com", p.jp).insert(pool).await;
    let anna = NewOrder::new("anna@example.org", p.jp).insert(pool).await;
    let bob = NewOrder::new("bob@example.com", p.fr).insert(pool).await;
    add_esim(pool, bob, "8988307000000000017").await;
    app.sign_in_as(Role::Support).await;

    assert_eq!(ids_for(&app, &format!("q={bob}")).await, vec![bob], "an order id");
    assert_eq!(ids_for(&app, &format!("q={}", Uuid::new_v4())).await, Vec::<Uuid>::new());
    assert_eq!(sorted(ids_for(&app, "q=ann").await), sorted(vec![ann, anna]), "a part of an email, any case");
    assert_eq!(ids_for(&app, "q=ANN.LEE%40example.COM").await, vec![ann], "a whole email, any case");
    assert_eq!(ids_for(&app, "q=LEE").await, vec![ann], "any part: the middle");
    assert_eq!(sorted(ids_for(&app, "q=example.co").await), sorted(vec![ann, bob]), "any part: the domain");
    assert_eq!(ids_for(&app, "q=.org").await, vec![anna], "any part: the end");
    // The trigram index can serve it (the planner picks it over a scan once the table is big).
    let mut conn = app.pool.acquire().await.unwrap();
    sqlx::query("set enable_seqscan = off").execute(&mut *conn).await.unwrap();
    let plan: Vec<String> = sqlx::query_scalar("explain select id from orders where lower(email) like '%lee%'")
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    assert!(plan.iter().any(|l| l.contains("orders_email_trgm_idx")), "{plan:?}");
    sqlx::query("reset enable_seqscan").execute(&mut *conn).await.unwrap();
    assert_eq!(ids_for(&app, "q=8988307000000000017").await, vec![bob], "an ICCID");
    assert_eq!(ids_for(&app, "q=898830700000000001").await, Vec::<Uuid>::new(), "an ICCID matches exactly");
    assert_eq!(ids_for(&app, "q=%25").await, Vec::<Uuid>::new(), "% is not a wildcard");
    assert_eq!(ids_for(&app, "q=_nn").await, Vec::<Uuid>::new(), "_ is not a wildcard");
    let html = app.page("/admin/orders?q=8988307000000000017", 200).await;
    assert!(html.contains("<code>8988307000000000017</code>"), "the ICCID column");
}

#[tokio::test]
pub(crate) async fn sorts_order_the_list() {
    let app = spawn_app().await;
    let p = plans(&app.pool).await;
    let pool = &app.pool;
    let now = OffsetDateTime::now_utc();
    let cheap = NewOrder::new("a@example.com", p.jp).amount(300, "USD").at(now - Duration::hours(3)).insert(pool).await;
    let dear = NewOrder::new("b@example.com", p.jp).amount(9000, "USD").at(now - Duration::hours(1)).insert(pool).await;
    let mid = NewOrder::new("c@example.com", p.jp).amount(2000, "USD").at(now - Duration::hours(2)).insert(pool).await;
    app.sign_in_as(Role::Support).await;

    assert_eq!(ids_for(&app, "sort=newest").await, vec![dear, mid, cheap]);
    assert_eq!(ids_for(&app, "sort=oldest").await, vec![cheap, mid, dear]);
    assert_eq!(ids_for(&app, "sort=amount_desc").await, vec![dear, mid, cheap]);
    assert_eq!(ids_for(&app, "sort=amount_asc").await, vec![cheap, mid, dear]);
    let html = app.page("/admin/orders?sort=amount_asc", 200).await;
    assert!(html.contains("<option value=\"amount_asc\" selected>"));
    assert!(html.contains("$3.00") && html.contains("$90.00"), "amounts shown");
}

#[tokio::test]
pub(crate) async fn bad_parameters_are_a_400_naming_the_parameter() {
    let app = spawn_app().await;
    app.sign_in_as(Role::Support).await;
    let long = "x".repeat(101);
    let cases = [
        ("status=lost", "status"),
        ("status=paid&status=ready", "status"),
        ("destination=XX", "destination"),
        ("type=weekly", "type"),
        ("from=2026-13-01", "from"),
        ("from=2026-02-30", "from"),
        ("to=yesterday", "to"),
        ("from=2026-05-02&to=2026-05-01", "to"),
        ("sort=price", "sort"),
        ("cursor=garbage", "cursor"),
        ("cursor=1_not-a-uuid", "cursor"),
        ("page=2", "page"),
        ("sort=amount_desc&page=101", "page"),
        ("sort=amount_desc&page=0", "page"),
        ("sort=amount_asc&cursor=1_00000000-0000-0000-0000-000000000000", "cursor"),
        (&format!("q={long}"), "q"),
    ];
    for (query, param) in cases {
        let html = app.page(&format!("/admin/orders?{query}"), 400).await;
        assert!(html.contains(&format!("The “{param}” in this page’s address ")), "{query}: {html}");
    }
    let html = app.page("/admin/orders.csv?type=weekly", 400).await;
    assert!(html.contains("The “type” in this page’s address "));
    let html = app.page("/admin/audit?cursor=abc", 400).await;
    assert!(html.contains("The “cursor” in this page’s address "));
}

#[tokio::test]
pub(crate) async fn hostile_search_text_is_harmless_and_escaped() {
    let app = spawn_app().await;
    let p = plans(&app.pool).await;
    NewOrder::new("victim@example.com", p.jp).insert(&app.pool).await;
    app.sign_in_as(Role::Support).await;

    let html = app.page(&format!("/admin/orders?q={}", encode("'; drop table orders; --")), 200).await;
    assert!(html.contains("No orders match"));
    assert!(html.contains(&format!("value=\"{}\"", escaped("'; drop table orders; --"))), "{html}");
    let count: i64 = sqlx::query_scalar("select count(*) from orders").fetch_one(&app.pool).await.unwrap();
    assert_eq!(count, 1, "the table is still there");

    let html = app.page(&format!("/admin/orders?q={}", encode("<script>alert(1)</script>")), 200).await;
    assert!(!html.contains("<script>alert(1)"), "not echoed raw");
    assert!(html.contains(&escaped("<script>alert(1)</script>")));
    let html = app.page(&format!("/admin/orders?q={}", encode("\"><img src=x>")), 200).await;
    assert!(!html.contains("<img src=x>"));
    let next = html.contains("href=\"/admin/orders.csv?q=%22%3E%3Cimg+src%3Dx%3E\"");
    assert!(next, "the export link carries the search, URL-encoded");
}
