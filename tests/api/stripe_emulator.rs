//! The Stripe emulator driven by the real async-stripe client and a local webhook receiver
//! that verifies every delivery with `stripe_webhook::Webhook::construct_event`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::Value;
use stripe::{
    ApiErrorsCode, ApiErrorsType, Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest,
};
use stripe_checkout::CheckoutSessionMode;
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionLineItemsPriceData,
    CreateCheckoutSessionPaymentIntentData, ExpireCheckoutSession, ListLineItemsCheckoutSession, ProductData,
    RetrieveCheckoutSession,
};
use stripe_core::refund::{CreateRefund, CreateRefundReason};
use stripe_types::Currency;
use stripe_webhook::{EventObject, Webhook};
use tern::emulators::stripe::{StripeEmulator, StripeEmulatorConfig};

const API_KEY: &str = "sk_test_emulator_key";
const WEBHOOK_SECRET: &str = "whsec_emulator_secret";
const SUCCESS_URL: &str = "https://tern.example/checkout/success?session_id={CHECKOUT_SESSION_ID}";
const CANCEL_URL: &str = "https://tern.example/cart";

struct Stripe {
    emulator: StripeEmulator,
    client: Client,
}

async fn start() -> Stripe {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let emulator =
        StripeEmulator::start(StripeEmulatorConfig { api_key: API_KEY.into(), webhook_secret: WEBHOOK_SECRET.into() })
            .await
            .expect("emulator starts");
    let client = client_with_key(&emulator, API_KEY);
    Stripe { emulator, client }
}

fn client_with_key(emulator: &StripeEmulator, key: &str) -> Client {
    ClientBuilder::new(key).url(emulator.base_url()).build().expect("client")
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("http client")
}

fn line_item(name: &str, unit_amount: i64, quantity: u64) -> CreateCheckoutSessionLineItems {
    let mut price = CreateCheckoutSessionLineItemsPriceData::new(Currency::EUR);
    price.unit_amount = Some(unit_amount);
    let mut product = ProductData::new(name);
    product.description = Some(format!("{name}, data only"));
    price.product_data = Some(product);
    let mut item = CreateCheckoutSessionLineItems::new();
    item.price_data = Some(price);
    item.quantity = Some(quantity);
    item
}

/// Tern's request: two items (2 × 12.99 + 1 × 0.50 = 26.48 EUR), metadata, expiry in an hour.
fn session_request(emulator: &StripeEmulator, order_id: &str) -> CreateCheckoutSession {
    let mut payment_intent = CreateCheckoutSessionPaymentIntentData::new();
    payment_intent.metadata = Some(HashMap::from([("order_id".into(), order_id.into())]));
    CreateCheckoutSession::new()
        .mode(CheckoutSessionMode::Payment)
        .line_items(vec![line_item("Japan 10 GB", 1299, 2), line_item("Top-up", 50, 1)])
        .success_url(SUCCESS_URL)
        .cancel_url(CANCEL_URL)
        .client_reference_id(order_id)
        .customer_email("buyer@example.com")
        .metadata(HashMap::from([("order_id".into(), order_id.into())]))
        .expires_at(emulator.now() + 3600)
        .payment_intent_data(payment_intent)
}

const TOTAL: i64 = 2 * 1299 + 50;

async fn create_session(stripe: &Stripe, order_id: &str) -> String {
    let session = session_request(&stripe.emulator, order_id).send(&stripe.client).await.expect("session created");
    session.id.as_str().to_owned()
}

/// A session paid on the emulator; returns (session id, payment intent id).
async fn paid_session(stripe: &Stripe, order_id: &str) -> (String, String) {
    let id = create_session(stripe, order_id).await;
    stripe.emulator.pay(&id).await.expect("paid");
    let session = RetrieveCheckoutSession::new(id.as_str()).send(&stripe.client).await.expect("retrieved");
    let payment_intent = session.payment_intent.expect("payment intent");
    (id, payment_intent.id().as_str().to_owned())
}

fn api_error(result: Result<impl std::fmt::Debug, StripeError>) -> (Box<stripe::ApiErrors>, u16) {
    match result {
        Err(StripeError::Stripe(error, status)) => (error, status),
        other => panic!("expected a Stripe API error, got {other:?}"),
    }
}

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
        .expires_at(stripe.emulator.now() + 1800)
        .send(&stripe.client)
        .await
        .expect("created");
    stripe.emulator.advance_clock(1801);
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
    let before = stripe.emulator.now();
    let response = http()
        .post(format!("{base}_emulator/clock/advance"))
        .form(&[("seconds", "120")])
        .send()
        .await
        .expect("advance");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(stripe.emulator.now() >= before + 120);

    let response = http()
        .post(format!("{base}_emulator/sessions/{id}/pay"))
        .json(&serde_json::json!({ "email": "json@example.com" }))
        .send()
        .await
        .expect("pay");
    assert_eq!(response.status(), StatusCode::OK);
    let session = stripe.emulator.session(&id).expect("session");
    assert_eq!(session["payment_status"], "paid");
    assert_eq!(session["customer_details"]["email"], "json@example.com");

    let again = http().post(format!("{base}_emulator/sessions/{id}/pay")).send().await.expect("pay again");
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    let unknown =
        http().post(format!("{base}_emulator/sessions/cs_test_nope/expire")).send().await.expect("expire unknown");
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

// ---------------------------------------------------------------------------------------------
// The hosted page stand-in.

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

// ---------------------------------------------------------------------------------------------
// Webhook deliveries, checked by a receiver that verifies like Tern's handler.

#[derive(Debug, Clone)]
struct Delivery {
    event_id: String,
    kind: String,
    /// The `EventObject` variant async-stripe parsed the event into, as an event type.
    parsed_as: &'static str,
    /// The id of the parsed `data.object`.
    object_id: String,
    verified_with: Vec<String>,
}

#[derive(Clone)]
struct Receiver {
    secrets: Arc<Vec<String>>,
    deliveries: Arc<Mutex<Vec<Delivery>>>,
    attempts: Arc<AtomicUsize>,
    refuse_first: Arc<AtomicUsize>,
}

impl Receiver {
    fn deliveries(&self) -> Vec<Delivery> {
        self.deliveries.lock().expect("lock").clone()
    }

    fn event_ids(&self) -> Vec<String> {
        self.deliveries().into_iter().map(|d| d.event_id).collect()
    }
}

/// Listens on 127.0.0.1:0, verifying with each of `secrets`; returns the receiver and its URL.
async fn start_receiver(secrets: &[&str]) -> (Receiver, String) {
    let receiver = Receiver {
        secrets: Arc::new(secrets.iter().map(|s| s.to_string()).collect()),
        deliveries: Arc::default(),
        attempts: Arc::default(),
        refuse_first: Arc::default(),
    };
    let app = Router::new().route("/webhooks/stripe", post(receive)).with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind receiver");
    let url = format!("http://{}/webhooks/stripe", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (receiver, url)
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
    receiver.attempts.fetch_add(1, Ordering::SeqCst);
    let refuse = receiver.refuse_first.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
    if refuse {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    let signature = headers.get("stripe-signature").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let mut delivery = Delivery {
        event_id: String::new(),
        kind: String::new(),
        parsed_as: "unparsed",
        object_id: String::new(),
        verified_with: Vec::new(),
    };
    for secret in receiver.secrets.iter() {
        if let Ok(event) = Webhook::construct_event(&body, signature, secret) {
            delivery.event_id = event.id.as_str().to_owned();
            delivery.kind = event.type_.as_str().to_owned();
            (delivery.parsed_as, delivery.object_id) = parsed(&event.data.object);
            delivery.verified_with.push(secret.clone());
        }
    }
    let verified = !delivery.verified_with.is_empty();
    receiver.deliveries.lock().expect("lock").push(delivery);
    if verified { StatusCode::OK } else { StatusCode::BAD_REQUEST }
}

fn parsed(object: &EventObject) -> (&'static str, String) {
    match object {
        EventObject::CheckoutSessionCompleted(s) => ("checkout.session.completed", s.id.to_string()),
        EventObject::CheckoutSessionAsyncPaymentSucceeded(s) => {
            ("checkout.session.async_payment_succeeded", s.id.to_string())
        }
        EventObject::CheckoutSessionAsyncPaymentFailed(s) => {
            ("checkout.session.async_payment_failed", s.id.to_string())
        }
        EventObject::CheckoutSessionExpired(s) => ("checkout.session.expired", s.id.to_string()),
        EventObject::ChargeRefunded(charge) => ("charge.refunded", charge.id.to_string()),
        EventObject::RefundCreated(refund) => ("refund.created", refund.id.to_string()),
        EventObject::RefundUpdated(refund) => ("refund.updated", refund.id.to_string()),
        _ => ("other", String::new()),
    }
}

async fn start_with_receiver() -> (Stripe, Receiver) {
    let stripe = start().await;
    let (receiver, url) = start_receiver(&[WEBHOOK_SECRET]).await;
    stripe.emulator.set_webhook_url(url);
    (stripe, receiver)
}

#[tokio::test]
async fn stripe_emulator_events_verify_and_parse_with_async_stripe() {
    let stripe = start().await;
    let (receiver, url) = start_receiver(&[WEBHOOK_SECRET]).await;

    // Created before the URL is known: queued, delivered once it is set.
    let (_, payment_intent) = paid_session(&stripe, "ord_w1").await;
    stripe.emulator.wait_for_deliveries().await;
    assert!(receiver.deliveries().is_empty());
    stripe.emulator.set_webhook_url(url);

    CreateRefund::new().payment_intent(payment_intent.as_str()).amount(100).send(&stripe.client).await.expect("refund");
    let expired = create_session(&stripe, "ord_w2").await;
    ExpireCheckoutSession::new(expired.as_str()).send(&stripe.client).await.expect("expired");
    let delayed_ok = create_session(&stripe, "ord_w3").await;
    stripe.emulator.pay_delayed(&delayed_ok).await.expect("delayed");
    stripe.emulator.settle_delayed(&delayed_ok, true).await.expect("settled");
    let delayed_failed = create_session(&stripe, "ord_w4").await;
    stripe.emulator.pay_delayed(&delayed_failed).await.expect("delayed");
    stripe.emulator.settle_delayed(&delayed_failed, false).await.expect("failed");

    // Pending refunds turn `succeeded` on the next sweep, with `refund.updated`.
    stripe.emulator.pending_refunds(true);
    let pending =
        CreateRefund::new().payment_intent(payment_intent.as_str()).send(&stripe.client).await.expect("pending refund");
    assert_eq!(pending.status.as_deref(), Some("pending"));
    for _ in 0..30 {
        if stripe.emulator.events().iter().any(|e| e["type"] == "refund.updated") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stripe.emulator.wait_for_deliveries().await;

    let events = stripe.emulator.events();
    let deliveries = receiver.deliveries();
    let created: Vec<(&str, &str)> =
        events.iter().map(|e| (e["id"].as_str().unwrap_or_default(), e["type"].as_str().unwrap_or_default())).collect();
    let delivered: Vec<(&str, &str)> = deliveries.iter().map(|d| (d.event_id.as_str(), d.kind.as_str())).collect();
    assert_eq!(delivered, created, "every event, once, in order");
    for (delivery, event) in deliveries.iter().zip(&events) {
        assert_eq!(delivery.parsed_as, delivery.kind, "parsed into the matching variant");
        assert_eq!(delivery.object_id, event["data"]["object"]["id"].as_str().unwrap_or_default());
        assert!(delivery.event_id.starts_with("evt_"));
        assert_eq!(event["api_version"], "2026-09-30.endive");
        assert_eq!(event["pending_webhooks"], 0, "delivered events have nothing pending");
    }
    let kinds: Vec<&str> = created.iter().map(|(_, kind)| *kind).collect();
    for kind in [
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
        "charge.refunded",
        "refund.created",
        "refund.updated",
    ] {
        assert!(kinds.contains(&kind), "{kind} among {kinds:?}");
    }
}

#[tokio::test]
async fn stripe_emulator_releases_held_events_in_reverse_order() {
    let (stripe, receiver) = start_with_receiver().await;
    stripe.emulator.hold_events(true);
    for order in ["ord_h1", "ord_h2", "ord_h3"] {
        let id = create_session(&stripe, order).await;
        stripe.emulator.expire(&id).await.expect("expired");
    }
    stripe.emulator.wait_for_deliveries().await;
    assert!(receiver.deliveries().is_empty(), "held events are not delivered");

    stripe.emulator.release_events(true).await;
    stripe.emulator.wait_for_deliveries().await;
    let mut created: Vec<String> =
        stripe.emulator.events().iter().map(|e| e["id"].as_str().unwrap_or_default().to_owned()).collect();
    created.reverse();
    assert_eq!(receiver.event_ids(), created);

    // Holding ended with the release: new events flow again.
    let id = create_session(&stripe, "ord_h4").await;
    stripe.emulator.expire(&id).await.expect("expired");
    stripe.emulator.wait_for_deliveries().await;
    assert_eq!(receiver.deliveries().len(), 4);
}

#[tokio::test]
async fn stripe_emulator_duplicates_deliveries_with_the_same_event_id() {
    let (stripe, receiver) = start_with_receiver().await;
    stripe.emulator.duplicate_deliveries(true);
    let id = create_session(&stripe, "ord_dup").await;
    stripe.emulator.pay(&id).await.expect("paid");
    stripe.emulator.wait_for_deliveries().await;
    let ids = receiver.event_ids();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], ids[1]);
    assert_eq!(receiver.deliveries()[0].kind, "checkout.session.completed");
}

#[tokio::test]
async fn stripe_emulator_retries_failed_deliveries_until_they_arrive() {
    let (stripe, receiver) = start_with_receiver().await;
    // Injected on the emulator's side: the two failed attempts are never sent.
    stripe.emulator.fail_next_deliveries(2);
    let id = create_session(&stripe, "ord_retry").await;
    stripe.emulator.pay(&id).await.expect("paid");
    stripe.emulator.wait_for_deliveries().await;
    assert_eq!(receiver.deliveries().len(), 1);
    assert_eq!(receiver.attempts.load(Ordering::SeqCst), 1);

    // Refused by the endpoint: answered 500 twice, then accepted, same event each time.
    receiver.refuse_first.store(2, Ordering::SeqCst);
    stripe.emulator.expire(&create_session(&stripe, "ord_retry_2").await).await.expect("expired");
    stripe.emulator.wait_for_deliveries().await;
    assert_eq!(receiver.attempts.load(Ordering::SeqCst), 1 + 3);
    let deliveries = receiver.deliveries();
    assert_eq!(deliveries.len(), 2);
    assert_eq!(deliveries[1].kind, "checkout.session.expired");
}

#[tokio::test]
async fn stripe_emulator_drops_events_and_redelivers_on_request() {
    let (stripe, receiver) = start_with_receiver().await;
    stripe.emulator.drop_next_events(1);
    let dropped = create_session(&stripe, "ord_drop").await;
    stripe.emulator.pay(&dropped).await.expect("paid");
    let kept = create_session(&stripe, "ord_keep").await;
    stripe.emulator.expire(&kept).await.expect("expired");
    stripe.emulator.wait_for_deliveries().await;
    let events = stripe.emulator.events();
    assert_eq!(events.len(), 2);
    let dropped_id = events[0]["id"].as_str().expect("id").to_owned();
    assert_eq!(receiver.event_ids(), vec![events[1]["id"].as_str().expect("id").to_owned()]);

    stripe.emulator.redeliver(&dropped_id).await.expect("redelivered");
    stripe.emulator.wait_for_deliveries().await;
    assert_eq!(receiver.event_ids().last(), Some(&dropped_id));
    assert!(stripe.emulator.redeliver("evt_unknown").await.is_err());
}

#[tokio::test]
async fn stripe_emulator_signs_with_both_secrets_after_a_rotation() {
    let stripe = start().await;
    let (receiver, url) = start_receiver(&[WEBHOOK_SECRET, "whsec_rotated"]).await;
    stripe.emulator.set_webhook_url(url);
    let before = create_session(&stripe, "ord_rot1").await;
    stripe.emulator.expire(&before).await.expect("expired");
    stripe.emulator.wait_for_deliveries().await;
    stripe.emulator.rotate_webhook_secret("whsec_rotated");
    let after = create_session(&stripe, "ord_rot2").await;
    stripe.emulator.expire(&after).await.expect("expired");
    stripe.emulator.wait_for_deliveries().await;

    let deliveries = receiver.deliveries();
    assert_eq!(deliveries.len(), 2);
    assert_eq!(deliveries[0].verified_with, vec![WEBHOOK_SECRET.to_owned()]);
    assert_eq!(deliveries[1].verified_with, vec![WEBHOOK_SECRET.to_owned(), "whsec_rotated".to_owned()]);
}
