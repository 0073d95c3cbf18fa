//! The admin order page and its actions: roles, confirmation steps, refunds, SIM control,
//! notes, and everything recorded with the acting operator.

use tern::domain::user::Role;
use tern::worker::JobResult;
use uuid::Uuid;

use crate::helpers::{Page, TestApp, spawn_app};

/// A ready order for a plan priced ¥1500, created through the admin plan form by `app`'s admin.
async fn ready_yen_order(app: &TestApp) -> Uuid {
    let plan = [
        ("name", "Japan 3 GB · 7 days (yen)"),
        ("kind", "local"),
        ("destination", "JP"),
        ("data", "3072"),
        ("validity_days", "7"),
        ("price", "1500"),
        ("currency", "JPY"),
        ("validity_start", "first_connection"),
        ("network_generation", "5G"),
        ("on_sale", "on"),
    ];
    let created = app.post_form("/admin/plans/new", &plan).await;
    assert_eq!(created.status(), 303, "the plan form takes 1500 JPY as 1500 minor units");
    let plan_id: Uuid = sqlx::query_scalar("select id from plans where currency = 'JPY' and price_minor = 1500")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    app.ready_order_of(&plan_id.to_string()).await
}

#[tokio::test]
async fn an_admin_refunds_in_part_then_in_full_after_confirming() {
    let app = spawn_app().await;
    let id = app.ready_order().await;
    let admin = app.sign_in_as(Role::Admin).await;
    let page = app.page(&format!("/admin/orders/{id}"), 200).await;
    assert!(page.contains("id=\"iccid\"") && page.contains("Refund"));

    // The first POST only asks for confirmation.
    let confirm = app.post_form(&format!("/admin/orders/{id}/refund"), &[("amount", "1.00")]).await;
    assert_eq!(confirm.status(), 200);
    assert!(confirm.text().await.unwrap().contains("Please confirm"));
    assert_eq!(app.refunded_minor(id).await, 0, "nothing moved yet");

    let done = app.post_form(&format!("/admin/orders/{id}/refund"), &[("amount", "1.00"), ("confirmed", "yes")]).await;
    assert_eq!(done.status(), 303);
    assert_eq!(app.refunded_minor(id).await, 100);
    assert_eq!(app.status(id).await, "ready");

    // More than what is left: refused, nothing changed.
    let too_much =
        app.post_form(&format!("/admin/orders/{id}/refund"), &[("amount", "999.00"), ("confirmed", "yes")]).await;
    assert_eq!(too_much.status(), 200);
    assert!(too_much.text().await.unwrap().contains("At most"));
    for bad in ["abc", "-1", "1.234", "0"] {
        let response =
            app.post_form(&format!("/admin/orders/{id}/refund"), &[("amount", bad), ("confirmed", "yes")]).await;
        assert_eq!(response.status(), 200, "{bad}");
    }
    assert_eq!(app.refunded_minor(id).await, 100);

    // The rest: the order is refunded and its SIM disabled.
    let full = app.post_form(&format!("/admin/orders/{id}/refund"), &[("amount", ""), ("confirmed", "yes")]).await;
    assert_eq!(full.status(), 303);
    assert_eq!(app.status(id).await, "refunded");
    let notice = app.page(&format!("/admin/orders/{id}?done=refunded"), 200).await;
    assert!(notice.contains("The refund was sent to Stripe."), "the notice says what happened");
    // Disabled by the job the refund queued in its transaction (durable, not best-effort).
    assert_eq!(app.telnyx.sims()[0]["status"]["value"], "enabled");
    assert_eq!(app.run_due(&["disable_esim"]).await, 1);
    assert_eq!(app.telnyx.sims()[0]["status"]["value"], "disabled");
    assert_eq!(app.event_count(id, "sim_disabled").await, 1);
    let by_admin: i64 = sqlx::query_scalar(
        "select count(*) from order_events where order_id = $1 and type = 'refund_requested' and user_id = $2",
    )
    .bind(id)
    .bind(admin.id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(by_admin, 2, "each refund names the admin");
    let page = app.page(&format!("/admin/orders/{id}"), 200).await;
    assert!(page.contains(&admin.email), "the timeline shows who acted");
    let audited: i64 = sqlx::query_scalar("select count(*) from audit_log where action = 'refund' and ip is not null")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(audited, 2);
}

#[tokio::test]
async fn support_may_look_retry_refresh_and_note_but_not_move_money_or_service() {
    let app = spawn_app().await;
    let id = app.ready_order().await;
    app.sign_in_as(Role::Support).await;
    app.page(&format!("/admin/orders/{id}"), 200).await;
    assert_eq!(app.post_form(&format!("/admin/orders/{id}/refresh-sim"), &[]).await.status(), 303);
    assert_eq!(app.event_count(id, "sim_status_refreshed").await, 1);
    for (path, form) in [
        ("refund", vec![("amount", ""), ("confirmed", "yes")]),
        ("sim", vec![("action", "disable"), ("confirmed", "yes")]),
        ("cancel", vec![("confirmed", "yes")]),
    ] {
        let response = app.post_form(&format!("/admin/orders/{id}/{path}"), &form).await;
        assert_eq!(response.status(), 403, "{path}");
    }
    assert_eq!(app.refunded_minor(id).await, 0);
    assert_eq!(app.status(id).await, "ready");
    assert_eq!(app.telnyx.sims()[0]["status"]["value"], "enabled");

    let note = "<script>alert('x')</script> called the customer";
    assert_eq!(app.post_form(&format!("/admin/orders/{id}/notes"), &[("note", note)]).await.status(), 303);
    let page = app.page(&format!("/admin/orders/{id}"), 200).await;
    assert!(!page.contains("<script>alert"), "escaped");
    assert!(page.contains("&#60;script&#62;"), "shown as text");
    assert_eq!(app.post_form(&format!("/admin/orders/{id}/notes"), &[("note", "  ")]).await.status(), 200);
    // The traveller never sees notes.
    let token_page =
        sqlx::query_scalar::<_, i64>("select count(*) from order_events where order_id = $1 and type = 'note'")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(token_page, 1);
}

#[tokio::test]
async fn a_failed_order_is_retried_from_the_admin_area() {
    let app = spawn_app().await;
    let (plan_id, _) = app.some_plan().await;
    let (id, _, session_id) = app.buy_plan(&plan_id).await;
    app.pay(&session_id).await;
    app.wait_status(id, "paid").await;
    app.telnyx.inject(telnyx_emulator::Target::Purchase, telnyx_emulator::Fault::OutOfStock, 1);
    assert!(matches!(app.worker().run_once().await.unwrap().unwrap().1, JobResult::Failed { .. }));
    assert_eq!(app.status(id).await, "provisioning_failed");
    app.sign_in_as(Role::Support).await;
    // The page says it in words: the status, why it failed (at the top, not only in the
    // timeline), when it was placed, and the order's short reference with its full id.
    let page = Page::parse(&app.page(&format!("/admin/orders/{id}"), 200).await);
    assert_eq!(page.text("#status"), "Provisioning failed");
    let reason = page.text("#failure-reason");
    assert!(reason.starts_with("Provisioning failed:") && reason.contains("out of eSIM inventory"), "{reason}");
    let reference = tern::domain::order::short_reference(id);
    assert_eq!(page.text("h1"), format!("Order {reference}"));
    assert_eq!(page.text("#order-id"), id.to_string());
    assert!(page.exists("button[data-copy=order-id]"));
    let placed = page.text(".facts div:last-child dd");
    let f = time::macros::format_description!("[day padding:none] [month repr:short] [year], [hour]:[minute] UTC");
    let shown = time::PrimitiveDateTime::parse(&placed, &f).unwrap_or_else(|e| panic!("{placed:?}: {e}"));
    let created: time::OffsetDateTime =
        sqlx::query_scalar("select created_at from orders where id = $1").bind(id).fetch_one(&app.pool).await.unwrap();
    assert_eq!(shown.assume_utc().unix_timestamp() / 60, created.unix_timestamp() / 60, "{placed}");
    let list = Page::parse(&app.page("/admin/orders", 200).await);
    assert!(list.text("tbody").contains("Provisioning failed"));
    assert_eq!(list.text(&format!("a[href='/admin/orders/{id}'] code")), reference);
    assert_eq!(app.post_form(&format!("/admin/orders/{id}/retry"), &[]).await.status(), 303);
    assert_eq!(app.worker().run_once().await.unwrap().unwrap().1, JobResult::Done);
    assert_eq!(app.status(id).await, "ready");
    // Retrying a ready order is refused.
    assert_eq!(app.post_form(&format!("/admin/orders/{id}/retry"), &[]).await.status(), 409);
}

#[tokio::test]
async fn an_admin_disables_and_enables_the_sim_and_cancels_unpaid_orders() {
    let app = spawn_app().await;
    let id = app.ready_order().await;
    app.sign_in_as(Role::Admin).await;
    let ask = app.post_form(&format!("/admin/orders/{id}/sim"), &[("action", "disable")]).await;
    assert!(ask.text().await.unwrap().contains("Please confirm"));
    assert_eq!(app.telnyx.sims()[0]["status"]["value"], "enabled");
    app.post_form(&format!("/admin/orders/{id}/sim"), &[("action", "disable"), ("confirmed", "yes")]).await;
    assert_eq!(app.telnyx.sims()[0]["status"]["value"], "disabled");
    app.post_form(&format!("/admin/orders/{id}/sim"), &[("action", "enable"), ("confirmed", "yes")]).await;
    assert_eq!(app.telnyx.sims()[0]["status"]["value"], "enabled");
    assert_eq!(app.event_count(id, "sim_disabled").await, 1);
    assert_eq!(app.event_count(id, "sim_enabled").await, 1);

    let (plan_id, _) = app.some_plan().await;
    let (unpaid, _, session_id) = app.buy_plan(&plan_id).await;
    app.post_form(&format!("/admin/orders/{unpaid}/cancel"), &[("confirmed", "yes")]).await;
    assert_eq!(app.status(unpaid).await, "expired");
    assert_eq!(app.stripe.session(&session_id).unwrap()["status"], "expired");
    // A paid order cannot be cancelled.
    assert_eq!(app.post_form(&format!("/admin/orders/{id}/cancel"), &[("confirmed", "yes")]).await.status(), 409);
}

#[tokio::test]
async fn the_admin_area_is_closed_to_customers_strangers_and_forged_forms() {
    let app = spawn_app().await;
    let id = app.ready_order().await;
    let signed_out = app.get(&format!("/admin/orders/{id}")).await;
    assert_eq!(signed_out.status(), 303);
    assert!(signed_out.headers()["location"].to_str().unwrap().starts_with("/account/sign-in"));
    app.sign_in_as(Role::Customer).await;
    app.page(&format!("/admin/orders/{id}"), 403).await;
    app.post_form("/account/sign-out", &[]).await;
    app.sign_in_as(Role::Admin).await;
    let forged = app
        .client
        .post(app.url(&format!("/admin/orders/{id}/refund")))
        .form(&[("confirmed", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403, "no CSRF token");
    assert_eq!(app.refunded_minor(id).await, 0);
    app.page(&format!("/admin/orders/{}", Uuid::new_v4()), 404).await;
}

#[tokio::test]
async fn a_yen_refund_is_typed_in_whole_yen() {
    let app = spawn_app().await;
    app.sign_in_as(Role::Admin).await;
    let id = ready_yen_order(&app).await;
    let page = app.page(&format!("/admin/orders/{id}"), 200).await;
    assert!(page.contains("¥1500") && page.contains("In JPY, which has no decimals"), "the hint names the currency");

    // Decimals are refused beside the field, and nothing is refunded.
    let refused =
        app.post_form(&format!("/admin/orders/{id}/refund"), &[("amount", "12.5"), ("confirmed", "yes")]).await;
    assert_eq!(refused.status(), 200);
    let html = refused.text().await.unwrap();
    let beside = Page::parse(&html).text("p.field__error#amount-error");
    assert!(beside.contains("JPY has no decimals"), "{beside}");
    assert!(html.contains("aria-describedby=\"amount-hint amount-error\" aria-invalid=\"true\""));
    assert!(html.contains("<a href=\"#amount\">JPY has no decimals"), "listed above the form, linked to the field");
    assert_eq!(app.refunded_minor(id).await, 0);
    assert!(!app.stripe.events().iter().any(|e| e["type"] == "refund.created"), "Stripe was not asked");

    // "1200" is ¥1200: 1200 minor units, not 120,000.
    let confirm = app.post_form(&format!("/admin/orders/{id}/refund"), &[("amount", "1200")]).await;
    assert!(confirm.text().await.unwrap().contains("Refund ¥1200 of order"));
    let done = app.post_form(&format!("/admin/orders/{id}/refund"), &[("amount", "1200"), ("confirmed", "yes")]).await;
    assert_eq!(done.status(), 303);
    assert_eq!(app.refunded_minor(id).await, 1200);
    let refunds: Vec<serde_json::Value> = app
        .stripe
        .events()
        .into_iter()
        .filter(|e| e["type"] == "refund.created")
        .map(|e| e["data"]["object"].clone())
        .collect();
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0]["amount"], 1200, "what Stripe received");
    assert_eq!(refunds[0]["currency"].as_str().map(str::to_ascii_uppercase).as_deref(), Some("JPY"));
    assert_eq!(app.status(id).await, "ready", "¥300 is left");
    let page = app.page(&format!("/admin/orders/{id}"), 200).await;
    assert!(page.contains("<dd id=\"refunded\">¥1200</dd>") && page.contains("all ¥300 left"), "the page shows it");
}
