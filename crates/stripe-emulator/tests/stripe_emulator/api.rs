//! The Checkout Session and Refund API through async-stripe: round trip, parameter errors,
//! keys, idempotency, expiry, refunds, injected failures and the control routes.

use super::*;

#[tokio::test]
async fn stripe_emulator_session_round_trip_through_async_stripe() {
    let stripe = start().await;
    let session = session_request(&stripe.emulator, "ord_1").send(&stripe.client).await.expect("created");
    let id = session.id.as_str().to_owned();
    assert!(id.starts_with("cs_test_") && id.len() == 66, "{id}");
    assert_eq!(session.status.as_ref().map(|s| s.as_str()), Some("open"));
    assert_eq!(session.payment_status.as_str(), "unpaid");
    assert_eq!(session.url, Some(format!("{}pay/{id}", stripe.emulator.base_url())));
    assert_eq!(session.amount_total, Some(TOTAL));
    assert_eq!(session.amount_subtotal, Some(TOTAL));
    assert_eq!(session.currency, Some(Currency::EUR));
    assert_eq!(session.client_reference_id.as_deref(), Some("ord_1"));
    let metadata = session.metadata.expect("metadata");
    assert_eq!(metadata.get("order_id").map(String::as_str), Some("ord_1"));

    let retrieved = RetrieveCheckoutSession::new(id.as_str())
        .expand(vec!["line_items".to_string()])
        .send(&stripe.client)
        .await
        .expect("retrieved");
    let items = retrieved.line_items.expect("expanded line items");
    assert_eq!(items.data.len(), 2);
    assert_eq!(items.data[0].amount_total, 2 * 1299);
    assert_eq!(items.data[0].quantity, Some(2));
    assert_eq!(items.data[0].description.as_deref(), Some("Japan 10 GB"));
    assert!(items.data[0].id.as_str().starts_with("li_"));
    assert_eq!(items.data[1].amount_total, 50);
    assert!(retrieved.payment_intent.is_none());

    let first_page =
        ListLineItemsCheckoutSession::new(id.as_str()).limit(1).send(&stripe.client).await.expect("listed");
    assert_eq!(first_page.data.len(), 1);
    assert!(first_page.has_more);

    stripe.emulator.pay(&id).await.expect("paid");
    let paid = RetrieveCheckoutSession::new(id.as_str()).send(&stripe.client).await.expect("retrieved after payment");
    assert_eq!(paid.status.as_ref().map(|s| s.as_str()), Some("complete"));
    assert_eq!(paid.payment_status.as_str(), "paid");
    assert!(paid.url.is_none());
    let payment_intent = paid.payment_intent.expect("payment intent after payment");
    assert!(payment_intent.id().as_str().starts_with("pi_"));
    let details = paid.customer_details.expect("customer details");
    assert_eq!(details.email.as_deref(), Some("buyer@example.com"));
    assert!(stripe.emulator.pay(&id).await.is_err(), "a paid session cannot be paid again");
}

#[tokio::test]
async fn stripe_emulator_reports_invalid_parameters_with_their_param() {
    let stripe = start().await;
    let now = stripe.emulator.now();

    let negative = session_request(&stripe.emulator, "ord_neg")
        .line_items(vec![line_item("Bad", -1, 1)])
        .send(&stripe.client)
        .await;
    let (error, status) = api_error(negative);
    assert_eq!(status, 400);
    assert_eq!(error.type_, ApiErrorsType::InvalidRequestError);
    assert_eq!(error.param.as_deref(), Some("line_items[0][price_data][unit_amount]"));
    assert_eq!(error.code, Some(ApiErrorsCode::ParameterInvalidInteger));

    let too_soon = session_request(&stripe.emulator, "ord_soon").expires_at(now + 60).send(&stripe.client).await;
    let (error, status) = api_error(too_soon);
    assert_eq!(status, 400);
    assert_eq!(error.param.as_deref(), Some("expires_at"));

    let no_items = session_request(&stripe.emulator, "ord_empty").line_items(Vec::new()).send(&stripe.client).await;
    let (error, status) = api_error(no_items);
    assert_eq!(status, 400);
    assert_eq!(error.param.as_deref(), Some("line_items"));
    assert_eq!(error.code, Some(ApiErrorsCode::ParameterMissing));

    let bad_url = session_request(&stripe.emulator, "ord_url").success_url("not a url").send(&stripe.client).await;
    let (error, status) = api_error(bad_url);
    assert_eq!(status, 400);
    assert_eq!(error.param.as_deref(), Some("success_url"));
    assert_eq!(error.code, Some(ApiErrorsCode::UrlInvalid));

    let zero_quantity = session_request(&stripe.emulator, "ord_qty")
        .line_items(vec![line_item("None", 100, 0)])
        .send(&stripe.client)
        .await;
    let (error, _) = api_error(zero_quantity);
    assert_eq!(error.param.as_deref(), Some("line_items[0][quantity]"));
}

#[tokio::test]
async fn stripe_emulator_refuses_a_wrong_key_and_unknown_sessions() {
    let stripe = start().await;
    let wrong = client_with_key(&stripe.emulator, "sk_test_wrong");
    let (error, status) = api_error(session_request(&stripe.emulator, "ord").send(&wrong).await);
    assert_eq!(status, 401);
    assert_eq!(error.type_, ApiErrorsType::InvalidRequestError);

    let missing = RetrieveCheckoutSession::new("cs_test_nope").send(&stripe.client).await;
    let (error, status) = api_error(missing);
    assert_eq!(status, 404);
    assert_eq!(error.code, Some(ApiErrorsCode::ResourceMissing));
    assert_eq!(error.param.as_deref(), Some("session"));
}

#[tokio::test]
async fn stripe_emulator_replays_idempotent_requests_and_rejects_changed_parameters() {
    let stripe = start().await;
    let key = || RequestStrategy::Idempotent(IdempotencyKey::new("checkout-ord_7-1").expect("key"));
    let request = session_request(&stripe.emulator, "ord_7");
    let first = request.clone().customize().request_strategy(key()).send(&stripe.client).await;
    let again = request.customize().request_strategy(key()).send(&stripe.client).await;
    assert_eq!(first.expect("first").id, again.expect("replay").id);

    let changed =
        session_request(&stripe.emulator, "ord_other").customize().request_strategy(key()).send(&stripe.client).await;
    let (error, status) = api_error(changed);
    assert_eq!(status, 400);
    assert_eq!(error.type_, ApiErrorsType::IdempotencyError);

    // On the wire: the replay is byte for byte, marked as such; brackets may be percent-encoded.
    let body = format!(
        "mode=payment&success_url=https://t.example/ok&expires_at={}\
         &line_items%5B0%5D%5Bprice_data%5D%5Bcurrency%5D=eur\
         &line_items%5B0%5D%5Bprice_data%5D%5Bunit_amount%5D=700\
         &line_items%5B0%5D%5Bprice_data%5D%5Bproduct_data%5D%5Bname%5D=Raw&line_items%5B0%5D%5Bquantity%5D=3",
        stripe.emulator.now() + 7200
    );
    let post = || {
        http()
            .post(format!("{}v1/checkout/sessions", stripe.emulator.base_url()))
            .bearer_auth(API_KEY)
            .header("idempotency-key", "raw-1")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.clone())
            .send()
    };
    let original = post().await.expect("sent");
    assert_eq!(original.status(), StatusCode::OK);
    let original = original.bytes().await.expect("body");
    let replay = post().await.expect("sent again");
    assert_eq!(replay.headers().get("idempotent-replayed").map(|v| v.as_bytes()), Some(&b"true"[..]));
    assert_eq!(replay.bytes().await.expect("body"), original);
    let json: Value = serde_json::from_slice(&original).expect("json");
    assert_eq!(json["amount_total"], 2100);
}

#[tokio::test]
async fn stripe_emulator_expires_open_sessions_only() {
    let stripe = start().await;
    let id = create_session(&stripe, "ord_exp").await;
    let expired = ExpireCheckoutSession::new(id.as_str()).send(&stripe.client).await.expect("expired");
    assert_eq!(expired.status.as_ref().map(|s| s.as_str()), Some("expired"));
    assert!(expired.url.is_none());
    let (error, status) = api_error(ExpireCheckoutSession::new(id.as_str()).send(&stripe.client).await);
    assert_eq!(status, 400);
    assert_eq!(error.type_, ApiErrorsType::InvalidRequestError);
    let kinds: Vec<Value> = stripe.emulator.events().iter().map(|e| e["type"].clone()).collect();
    assert_eq!(kinds, vec![Value::from("checkout.session.expired")]);
    assert!(stripe.emulator.pay(&id).await.is_err(), "an expired session cannot be paid");
}

#[tokio::test]
async fn stripe_emulator_expires_sessions_when_the_clock_passes_expires_at() {
    let stripe = start().await;
    let session = session_request(&stripe.emulator, "ord_clock")
        // Stripe's floor is 30 minutes after creation: a minute of margin, so that a second
        // passing before the emulator creates it cannot put this under the floor.
        .expires_at(stripe.emulator.now() + 1860)
        .send(&stripe.client)
        .await
        .expect("created");
    stripe.emulator.advance_clock(1861);
    // The sweep emits the event without anyone asking for the session.
    let mut swept = false;
    for _ in 0..40 {
        if stripe.emulator.events().iter().any(|e| e["type"] == "checkout.session.expired") {
            swept = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(swept, "the sweep expired the session");
    let retrieved = RetrieveCheckoutSession::new(session.id.as_str()).send(&stripe.client).await.expect("retrieved");
    assert_eq!(retrieved.status.as_ref().map(|s| s.as_str()), Some("expired"));

    // Lazily, on access: no waiting for the sweep.
    let other = create_session(&stripe, "ord_clock_2").await;
    stripe.emulator.advance_clock(3601);
    let session = stripe.emulator.session(&other).expect("session");
    assert_eq!(session["status"], "expired");
}

#[tokio::test]
async fn stripe_emulator_refunds_partially_fully_and_refuses_the_rest() {
    let stripe = start().await;
    let (_, payment_intent) = paid_session(&stripe, "ord_r").await;
    let refund = |amount: Option<i64>, key: &str| {
        let mut request =
            CreateRefund::new().payment_intent(payment_intent.as_str()).reason(CreateRefundReason::RequestedByCustomer);
        if let Some(amount) = amount {
            request = request.amount(amount);
        }
        request
            .customize()
            .request_strategy(RequestStrategy::Idempotent(IdempotencyKey::new(key).expect("key")))
            .send(&stripe.client)
    };

    let partial = refund(Some(500), "refund-ord_r-1").await.expect("partial refund");
    assert_eq!(partial.amount, 500);
    assert_eq!(partial.status.as_deref(), Some("succeeded"));
    assert!(partial.id.as_str().starts_with("re_"));

    let (error, status) = api_error(refund(Some(TOTAL), "refund-ord_r-2").await);
    assert_eq!(status, 400);
    assert_eq!(error.code, Some(ApiErrorsCode::AmountTooLarge));

    let rest = refund(None, "refund-ord_r-3").await.expect("refund of the rest");
    assert_eq!(rest.amount, TOTAL - 500);

    let (error, status) = api_error(refund(None, "refund-ord_r-4").await);
    assert_eq!(status, 400);
    assert_eq!(error.code, Some(ApiErrorsCode::ChargeAlreadyRefunded));

    let unknown = CreateRefund::new().payment_intent("pi_unknown").send(&stripe.client).await;
    assert_eq!(api_error(unknown).1, 404);

    let events = stripe.emulator.events();
    let refunded: Vec<&Value> =
        events.iter().filter(|e| e["type"] == "charge.refunded").map(|e| &e["data"]["object"]).collect();
    assert_eq!(refunded.len(), 2);
    assert_eq!(refunded[0]["refunded"], false);
    assert_eq!(refunded[0]["amount_refunded"], 500);
    assert_eq!(refunded[1]["refunded"], true);
    assert_eq!(refunded[1]["amount_refunded"], TOTAL);
    assert_eq!(refunded[1]["payment_intent"], payment_intent.as_str());
}

#[tokio::test]
async fn stripe_emulator_answers_injected_failures_with_retry_hints() {
    let stripe = start().await;
    let id = create_session(&stripe, "ord_f").await;
    stripe.emulator.fail_next_requests(503, 1, Some(false));
    let (error, status) = api_error(RetrieveCheckoutSession::new(id.as_str()).send(&stripe.client).await);
    assert_eq!(status, 503);
    assert_eq!(error.type_, ApiErrorsType::ApiError);

    // A retrying strategy gets through once the injected failure is used up.
    stripe.emulator.fail_next_requests(500, 1, Some(true));
    let retried = RetrieveCheckoutSession::new(id.as_str())
        .customize()
        .request_strategy(RequestStrategy::Retry(2))
        .send(&stripe.client)
        .await;
    assert_eq!(retried.expect("retried").id.as_str(), id);

    // `Stripe-Should-Retry: false` stops the same strategy at once.
    stripe.emulator.fail_next_requests(500, 2, Some(false));
    let stopped = RetrieveCheckoutSession::new(id.as_str())
        .customize()
        .request_strategy(RequestStrategy::Retry(3))
        .send(&stripe.client)
        .await;
    assert_eq!(api_error(stopped).1, 500);
    let (_, status) = api_error(RetrieveCheckoutSession::new(id.as_str()).send(&stripe.client).await);
    assert_eq!(status, 500, "the second injected failure was still pending");
    RetrieveCheckoutSession::new(id.as_str()).send(&stripe.client).await.expect("back to normal");
}

#[tokio::test]
async fn stripe_emulator_control_routes_take_json_and_form_bodies() {
    let stripe = start().await;
    let id = create_session(&stripe, "ord_c").await;
    let base = stripe.emulator.base_url();
    let token = stripe.emulator.control_token();
    let without = http().post(format!("{base}_emulator/sessions/{id}/pay")).send().await.expect("pay without token");
    assert_eq!(without.status(), StatusCode::UNAUTHORIZED, "controls need this run's token");
    let wrong = http().post(format!("{base}_emulator/clock/advance")).header("x-emulator-token", "0000").send();
    assert_eq!(wrong.await.expect("wrong token").status(), StatusCode::UNAUTHORIZED);
    let before = stripe.emulator.now();
    let response = http()
        .post(format!("{base}_emulator/clock/advance"))
        .header("x-emulator-token", &token)
        .form(&[("seconds", "120")])
        .send()
        .await
        .expect("advance");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(stripe.emulator.now() >= before + 120);

    let response = http()
        .post(format!("{base}_emulator/sessions/{id}/pay"))
        .header("x-emulator-token", &token)
        .json(&serde_json::json!({ "email": "json@example.com" }))
        .send()
        .await
        .expect("pay");
    assert_eq!(response.status(), StatusCode::OK);
    let session = stripe.emulator.session(&id).expect("session");
    assert_eq!(session["payment_status"], "paid");
    assert_eq!(session["customer_details"]["email"], "json@example.com");

    let again = http().post(format!("{base}_emulator/sessions/{id}/pay")).header("x-emulator-token", &token).send();
    let again = again.await.expect("pay again");
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    let unknown =
        http().post(format!("{base}_emulator/sessions/cs_test_nope/expire")).header("x-emulator-token", &token);
    let unknown = unknown.send().await.expect("expire unknown");
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}
