//! Operators and an order's email: "Resend eSIM email" and "Correct the email address and
//! resend" (after a confirmation step), each audited and an order event.

use tern::domain::user::Role;

use crate::helpers::{Page, eventually, spawn_app};

#[tokio::test]
async fn support_resends_the_esim_email() {
    let app = spawn_app().await;
    let id = app.ready_order().await;
    app.wait_for_mail("ana@example.com", "Your eSIM is ready").await;
    app.sign_in_as(Role::Support).await;
    let page = app.page(&format!("/admin/orders/{id}"), 200).await;
    assert!(Page::parse(&page).attr("button#resend-email", "type").is_some());
    let response = app.post_form(&format!("/admin/orders/{id}/resend-email"), &[]).await;
    assert_eq!(response.status(), 303);
    eventually("a second eSIM email", || async {
        app.mails_to("ana@example.com", "Your eSIM is ready").await.len() == 2
    })
    .await;
    let mails = app.mails_to("ana@example.com", "Your eSIM is ready").await;
    assert_ne!(mails[0].message_id(), mails[1].message_id(), "a resend is a new message");
    assert_eq!(app.event_count(id, "email_resent").await, 1);
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action = 'email_resent' and target = $1")
            .bind(format!("order:{id}"))
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(audited, 1);
    // Only a paid order has something to resend.
    let (plan_id, _) = app.some_plan().await;
    let (unpaid, _, _) = app.buy_plan(&plan_id).await;
    assert_eq!(app.post_form(&format!("/admin/orders/{unpaid}/resend-email"), &[]).await.status(), 409);
}

#[tokio::test]
async fn an_operator_corrects_a_typo_in_the_address_after_confirming() {
    let app = spawn_app().await;
    let id = app.ready_order().await;
    app.sign_in_as(Role::Support).await;
    let path = format!("/admin/orders/{id}/email");

    let bad = app.post_form(&path, &[("email", "ana@example\r\nBcc: x@example.com")]).await;
    assert_eq!(bad.status(), 200, "a bad address is a field error");
    assert!(bad.text().await.unwrap().contains("id=\"email-error\""));

    let confirm = app.post_form(&path, &[("email", "ana@example.org")]).await;
    assert_eq!(confirm.status(), 200);
    let html = confirm.text().await.unwrap();
    assert!(html.contains("ana@example.org") && html.contains("id=\"confirm\""), "a confirmation step first");
    let email: String =
        sqlx::query_scalar("select email from orders where id = $1").bind(id).fetch_one(&app.pool).await.unwrap();
    assert_eq!(email, "ana@example.com", "nothing changes before confirming");

    let done = app.post_form(&path, &[("email", "ana@example.org"), ("confirmed", "yes")]).await;
    assert_eq!(done.status(), 303);
    let mail = app.wait_for_mail("ana@example.org", "Your eSIM is ready").await;
    assert_eq!(mail.header_to(), "ana@example.org");
    assert_eq!(app.event_count(id, "email_corrected").await, 1);
    let audited: i64 = sqlx::query_scalar("select count(*) from audit_log where action = 'email_corrected'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(audited, 1);
    let timeline = app.page(&format!("/admin/orders/{id}"), 200).await;
    assert!(timeline.contains("email_corrected") && timeline.contains("ana@example.org"));
}
