//! Webhook deliveries, checked by a receiver that verifies like Tern's handler.

use super::*;

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
