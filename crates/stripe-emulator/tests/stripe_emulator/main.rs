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
use stripe_emulator::{StripeEmulator, StripeEmulatorConfig};
use stripe_types::Currency;
use stripe_webhook::{EventObject, Webhook};

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

mod api;
mod basic_auth;
mod events;
mod pay_page;
mod webhooks;
