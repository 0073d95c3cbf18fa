//! Email end to end over real SMTP: lettre sends to the in-process SMTP server, and each test
//! parses what arrived (mail-parser). The eSIM email, its CID-inline QR code (decoded with
//! rqrr), its link; a server that refuses then accepts; a server down for the whole purchase.

use uuid::Uuid;

use crate::helpers::{Mail, TestApp, eventually, spawn_app_with_worker};

const BUYER: &str = "ana@example.com";

/// The order's activation code, decrypted as the order page does.
async fn activation_code(app: &TestApp, id: Uuid) -> String {
    let order = tern::services::orders::by_id(&app.pool, id).await.unwrap();
    tern::services::esim::details(&app.pool, &app.provisioner.cipher, &order).await.unwrap().unwrap().code.raw
}

/// A ready order bought through the pages and paid on the emulator.
async fn ready_order(app: &TestApp) -> Uuid {
    let (plan_id, _) = app.some_plan().await;
    let (id, _, session) = app.buy_plan(&plan_id).await;
    app.pay(&session).await;
    app.wait_ready(id).await;
    id
}

fn decode_qr(png: &[u8]) -> String {
    let image = image::load_from_memory(png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code");
    grids[0].decode().unwrap().1
}

#[tokio::test]
async fn the_esim_email_carries_the_code_its_qr_as_a_cid_image_and_a_working_link() {
    let app = spawn_app_with_worker().await;
    let id = ready_order(&app).await;
    let mail = app.wait_for_mail(BUYER, "Your eSIM is ready").await;
    let code = activation_code(&app, id).await;

    assert_eq!(mail.header_to(), BUYER);
    assert!(mail.subject().starts_with("Your eSIM is ready"), "{}", mail.subject());
    let text = mail.text();
    assert!(text.contains(&code), "the text part holds the activation code");
    for promise in ["iOS 17.4+", "esimsetup.apple.com", "esimsetup.android.com", "data roaming", "SM-DP+", "support@"] {
        assert!(text.contains(promise), "the text part has {promise}");
    }
    let inline = mail.inline_parts();
    assert_eq!(inline.len(), 1, "one inline image");
    let (cid, content_type, png) = &inline[0];
    assert_eq!(content_type, "image/png");
    assert_eq!(decode_qr(png), code, "the CID image decodes to exactly the activation code");
    let html = mail.html();
    assert!(html.contains(&format!("src=\"cid:{cid}\"")), "the HTML shows the image by cid:");
    assert!(!html.contains("data:image") && !html.contains("src=\"http"), "no data: URIs, no remote images");
    assert!(html.contains("prefers-color-scheme: dark"), "legible in dark mode");

    // The order link opens the order page, without any session.
    let link = mail.link(&app.url(&format!("/orders/{id}?token=")));
    let stranger = crate::helpers::link_opener();
    let page = stranger.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains(&code), "the link shows the eSIM");
    let forged = stranger.get(link.replace("token=", "token=x")).send().await.unwrap();
    assert_eq!(forged.status(), 404, "a wrong token opens nothing");

    // Payment received came first, and each send is an order event.
    app.wait_for_mail(BUYER, "Payment received").await;
    eventually("both sends are order events", || async { app.event_count(id, "email_sent").await == 2 }).await;
}

#[tokio::test]
async fn a_server_that_refuses_then_accepts_delivers_exactly_once() {
    let app = spawn_app_with_worker().await;
    app.mailbox.refuse_for_now(true);
    let id = ready_order(&app).await;
    eventually("the eSIM email was refused and will be retried", || async {
        app.event_count(id, "email_delayed").await >= 2
    })
    .await;
    assert!(app.mails().await.is_empty(), "nothing arrived while refused");
    app.mailbox.refuse_for_now(false);
    app.wait_for_mail(BUYER, "Your eSIM is ready").await;
    eventually("both emails are sent", || async { app.event_count(id, "email_sent").await == 2 }).await;
    let ready: Vec<Mail> = app.mails_to(BUYER, "Your eSIM is ready").await;
    assert_eq!(ready.len(), 1, "one delivery, no duplicate");
    assert_eq!(app.mails_to(BUYER, "Payment received").await.len(), 1);
    assert!(ready[0].message_id().contains(&id.to_string()), "the Message-ID comes from the job key");
}

#[tokio::test]
async fn with_smtp_down_for_the_whole_purchase_the_order_is_ready_and_the_mail_goes_later() {
    let app = spawn_app_with_worker().await;
    app.mailbox.stop();
    let id = ready_order(&app).await;
    eventually("the eSIM email waits for the server", || async { app.event_count(id, "email_delayed").await >= 2 })
        .await;
    assert_eq!(app.status(id).await, "ready", "a down SMTP server delays mail and nothing else");
    app.mailbox.restart().await.unwrap();
    let mail = app.wait_for_mail(BUYER, "Your eSIM is ready").await;
    assert!(mail.text().contains(&activation_code(&app, id).await));
    eventually("both emails are sent", || async { app.event_count(id, "email_sent").await == 2 }).await;
    assert_eq!(app.mails_to(BUYER, "Your eSIM is ready").await.len(), 1);
}

#[tokio::test]
async fn a_refused_recipient_puts_the_order_on_needs_attention() {
    let app = spawn_app_with_worker().await;
    app.mailbox.reject_recipient(BUYER);
    let id = ready_order(&app).await;
    eventually("the refusal is final", || async { app.event_count(id, "email_failed").await >= 1 }).await;
    assert_eq!(app.event_count(id, "email_sent").await, 0);
    app.sign_in_as(tern::domain::user::Role::Support).await;
    let dashboard = app.page("/admin", 200).await;
    assert!(dashboard.contains(&id.to_string()) && dashboard.contains("email refused"), "on needs attention");
    // Operators see the failure; the traveller's timeline does not.
    let order = app.page(&format!("/admin/orders/{id}"), 200).await;
    assert!(order.contains("email_failed"));
}
