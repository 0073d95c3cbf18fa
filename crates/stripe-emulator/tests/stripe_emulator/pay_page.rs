//! The hosted page stand-in: its buttons, redirects and delayed payments.

use super::*;

#[tokio::test]
async fn stripe_emulator_pay_page_offers_buttons_and_redirects_with_the_session_id() {
    let stripe = start().await;
    let id = create_session(&stripe, "ord_page").await;
    let page_url = format!("{}pay/{id}", stripe.emulator.base_url());

    let page = http().get(&page_url).send().await.expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    for button in ["id=\"pay\"", "id=\"decline\"", "id=\"pay-delayed\"", "id=\"cancel\""] {
        assert!(html.contains(button), "missing {button}");
    }
    assert!(html.contains("26.48 EUR"), "total shown");
    assert!(html.contains("buyer@example.com"));
    assert!(html.contains("Stripe emulator — test mode"));

    let submit = |action: &'static str| http().post(&page_url).form(&[("action", action)]).send();
    let declined = submit("decline").await.expect("decline");
    assert_eq!(declined.status(), StatusCode::OK);
    assert!(declined.text().await.expect("html").contains("declined"));
    assert_eq!(stripe.emulator.session(&id).expect("session")["status"], "open");

    let cancelled = submit("cancel").await.expect("cancel");
    assert_eq!(cancelled.status(), StatusCode::SEE_OTHER);
    assert_eq!(cancelled.headers()["location"], CANCEL_URL);
    assert_eq!(stripe.emulator.session(&id).expect("session")["status"], "open");
    assert!(stripe.emulator.events().is_empty(), "neither decline nor cancel sends events");

    let paid = submit("pay").await.expect("pay");
    assert_eq!(paid.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        paid.headers()["location"].to_str().expect("location"),
        format!("https://tern.example/checkout/success?session_id={id}")
    );
    let session = stripe.emulator.session(&id).expect("session");
    assert_eq!(session["status"], "complete");
    assert_eq!(session["payment_status"], "paid");

    let after = http().get(&page_url).send().await.expect("page").text().await.expect("html");
    assert!(after.contains("already paid"));
    assert!(!after.contains("id=\"pay\""));

    let expired_id = create_session(&stripe, "ord_page_2").await;
    stripe.emulator.expire(&expired_id).await.expect("expired");
    let expired = http().get(format!("{}pay/{expired_id}", stripe.emulator.base_url())).send().await.expect("page");
    assert!(expired.text().await.expect("html").contains("expired"));

    let missing = http().get(format!("{}pay/cs_test_missing", stripe.emulator.base_url())).send().await.expect("page");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn stripe_emulator_delayed_payments_complete_unpaid_then_settle() {
    let stripe = start().await;
    let succeeding = create_session(&stripe, "ord_d1").await;
    let page_url = format!("{}pay/{succeeding}", stripe.emulator.base_url());
    let delayed = http().post(&page_url).form(&[("action", "pay_delayed")]).send().await.expect("pay delayed");
    assert_eq!(delayed.status(), StatusCode::SEE_OTHER);
    let session = stripe.emulator.session(&succeeding).expect("session");
    assert_eq!((session["status"].as_str(), session["payment_status"].as_str()), (Some("complete"), Some("unpaid")));
    let page = http().get(&page_url).send().await.expect("page").text().await.expect("html");
    assert!(page.contains("id=\"settle-succeeded\"") && page.contains("id=\"settle-failed\""));

    let settled = http().post(&page_url).form(&[("action", "settle_succeeded")]).send().await.expect("settle");
    assert_eq!(settled.status(), StatusCode::OK);
    let retrieved = RetrieveCheckoutSession::new(succeeding.as_str()).send(&stripe.client).await.expect("retrieved");
    assert_eq!(retrieved.payment_status.as_str(), "paid");
    assert!(retrieved.payment_intent.is_some());

    let failing = create_session(&stripe, "ord_d2").await;
    stripe.emulator.pay_delayed(&failing).await.expect("delayed");
    stripe.emulator.settle_delayed(&failing, false).await.expect("failed");
    assert!(stripe.emulator.settle_delayed(&failing, true).await.is_err(), "settles once");
    assert_eq!(stripe.emulator.session(&failing).expect("session")["payment_status"], "unpaid");

    let kinds: Vec<String> =
        stripe.emulator.events().iter().map(|e| e["type"].as_str().unwrap_or_default().to_owned()).collect();
    assert_eq!(
        kinds,
        [
            "checkout.session.completed",
            "checkout.session.async_payment_succeeded",
            "checkout.session.completed",
            "checkout.session.async_payment_failed",
        ]
    );
}
