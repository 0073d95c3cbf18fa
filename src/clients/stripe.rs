//! Stripe Checkout through async-stripe: create, retrieve and expire Checkout Sessions, refund.

use std::collections::HashMap;

use secrecy::{ExposeSecret, SecretString};
use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionLineItemsPriceData,
    CreateCheckoutSessionPaymentIntentData, ExpireCheckoutSession, ProductData, RetrieveCheckoutSession,
};
use stripe_checkout::{CheckoutSessionMode, CheckoutSessionPaymentStatus, CheckoutSessionStatus};
use stripe_core::event::ListEvent;
use stripe_core::refund::{CreateRefund, CreateRefundReason};
use stripe_types::{Currency, RangeQueryTs};

/// What went wrong talking to Stripe. The text is for logs, never for travellers.
#[derive(Debug, thiserror::Error)]
pub enum StripeClientError {
    #[error("stripe answered {status}: {message}")]
    Api { status: u16, code: Option<String>, message: String },
    #[error("stripe request failed: {0}")]
    Transport(String),
    #[error("stripe client configuration: {0}")]
    Config(String),
}

impl From<StripeError> for StripeClientError {
    fn from(e: StripeError) -> Self {
        match e {
            StripeError::Stripe(err, status) => StripeClientError::Api {
                status,
                code: err.code.as_ref().map(|c| c.to_string()),
                message: err.message.clone().unwrap_or_default(),
            },
            other => StripeClientError::Transport(other.to_string()),
        }
    }
}

impl super::CallOutcome for StripeClientError {
    fn class(&self) -> &'static str {
        match self {
            StripeClientError::Api { status, .. } => super::status_class(*status),
            StripeClientError::Transport(_) => "network",
            StripeClientError::Config(_) => "config",
        }
    }
}

/// What Tern asks Stripe to charge for one order.
#[derive(Debug, Clone)]
pub struct CheckoutRequest {
    pub order_id: String,
    pub product_name: String,
    pub description: String,
    pub amount_minor: i64,
    /// ISO 4217, any case.
    pub currency: String,
    pub customer_email: String,
    /// Must contain the literal `{CHECKOUT_SESSION_ID}`.
    pub success_url: String,
    pub cancel_url: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// A created session: where to send the buyer.
#[derive(Debug, Clone)]
pub struct CreatedSession {
    pub id: String,
    pub url: String,
}

/// The facts of a session that fulfilment relies on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionFacts {
    pub id: String,
    /// `open`, `complete` or `expired`.
    pub status: String,
    /// `paid`, `unpaid` or `no_payment_required`.
    pub payment_status: String,
    pub amount_total: Option<i64>,
    /// Upper case ISO 4217.
    pub currency: Option<String>,
    pub payment_intent: Option<String>,
    pub client_reference_id: Option<String>,
    /// When Stripe created the session (Unix seconds).
    pub created: i64,
}

impl SessionFacts {
    pub fn is_paid(&self) -> bool {
        self.payment_status == "paid" || self.payment_status == "no_payment_required"
    }
}

/// One event from Stripe's events list.
#[derive(Debug, Clone)]
pub struct ListedEvent {
    pub id: String,
    pub created: i64,
    /// `{id, type, created, data: {object}}`: what a webhook delivery carries.
    pub body: serde_json::Value,
}

/// A page of Stripe's events list, newest first.
#[derive(Debug, Clone)]
pub struct EventPage {
    pub events: Vec<ListedEvent>,
    pub has_more: bool,
}

/// Stripe's API, reached with async-stripe.
#[derive(Clone)]
pub struct StripeClient {
    client: Client,
}

impl StripeClient {
    /// `base_url`: Stripe's (`https://api.stripe.com/`) or an emulator's; it must end in `/`.
    pub fn new(secret_key: &SecretString, base_url: &str) -> Result<Self, StripeClientError> {
        let base = if base_url.ends_with('/') { base_url.to_string() } else { format!("{base_url}/") };
        let client = ClientBuilder::new(secret_key.expose_secret())
            .url(base)
            .build()
            .map_err(|e| StripeClientError::Config(e.to_string()))?;
        Ok(Self { client })
    }

    pub async fn create_checkout_session(&self, req: &CheckoutRequest) -> Result<CreatedSession, StripeClientError> {
        super::observed("stripe", "create_checkout_session", async move {
            let currency: Currency = req
                .currency
                .to_ascii_lowercase()
                .parse()
                .map_err(|_| StripeClientError::Config(format!("unknown currency {}", req.currency)))?;
            let mut price = CreateCheckoutSessionLineItemsPriceData::new(currency);
            price.unit_amount = Some(req.amount_minor);
            let mut product = ProductData::new(req.product_name.as_str());
            product.description = Some(req.description.clone());
            price.product_data = Some(product);
            let mut item = CreateCheckoutSessionLineItems::new();
            item.price_data = Some(price);
            item.quantity = Some(1);
            let metadata = HashMap::from([("order_id".to_string(), req.order_id.clone())]);
            let mut payment_intent = CreateCheckoutSessionPaymentIntentData::new();
            payment_intent.metadata = Some(metadata.clone());
            let key = idempotency_key(&format!("checkout-{}", req.order_id))?;
            let session = CreateCheckoutSession::new()
                .mode(CheckoutSessionMode::Payment)
                .line_items(vec![item])
                .success_url(req.success_url.as_str())
                .cancel_url(req.cancel_url.as_str())
                .client_reference_id(req.order_id.as_str())
                .customer_email(req.customer_email.as_str())
                .metadata(metadata)
                .payment_intent_data(payment_intent)
                .expires_at(req.expires_at)
                .customize()
                .request_strategy(RequestStrategy::Idempotent(key))
                .send(&self.client)
                .await?;
            let url = session.url.ok_or_else(|| StripeClientError::Transport("the new session has no url".into()))?;
            Ok(CreatedSession { id: session.id.as_str().to_string(), url })
        })
        .await
    }

    pub async fn retrieve_session(&self, id: &str) -> Result<SessionFacts, StripeClientError> {
        super::observed("stripe", "retrieve_session", async move {
            let s = RetrieveCheckoutSession::new(id).expand(vec!["line_items".to_string()]).send(&self.client).await?;
            Ok(SessionFacts {
                id: s.id.as_str().to_string(),
                status: match s.status {
                    Some(CheckoutSessionStatus::Open) => "open".into(),
                    Some(CheckoutSessionStatus::Complete) => "complete".into(),
                    Some(CheckoutSessionStatus::Expired) => "expired".into(),
                    Some(other) => other.to_string(),
                    None => "unknown".into(),
                },
                payment_status: match s.payment_status {
                    CheckoutSessionPaymentStatus::Paid => "paid".into(),
                    CheckoutSessionPaymentStatus::Unpaid => "unpaid".into(),
                    CheckoutSessionPaymentStatus::NoPaymentRequired => "no_payment_required".into(),
                    other => other.to_string(),
                },
                amount_total: s.amount_total,
                currency: s.currency.map(|c| c.to_string().to_ascii_uppercase()),
                payment_intent: s.payment_intent.as_ref().map(|pi| pi.id().as_str().to_string()),
                client_reference_id: s.client_reference_id.clone(),
                created: s.created,
            })
        })
        .await
    }

    /// Refunds `amount` (all that remains when `None`) of a payment. `key` makes a retry safe.
    pub async fn refund(
        &self,
        payment_intent: &str,
        amount: Option<i64>,
        key: &str,
    ) -> Result<String, StripeClientError> {
        super::observed("stripe", "refund", async move {
            let mut request =
                CreateRefund::new().payment_intent(payment_intent).reason(CreateRefundReason::RequestedByCustomer);
            if let Some(amount) = amount {
                request = request.amount(amount);
            }
            let refund = request
                .customize()
                .request_strategy(RequestStrategy::Idempotent(idempotency_key(key)?))
                .send(&self.client)
                .await?;
            Ok(refund.id.as_str().to_string())
        })
        .await
    }

    pub async fn expire_session(&self, id: &str) -> Result<(), StripeClientError> {
        super::observed("stripe", "expire_session", async move {
            ExpireCheckoutSession::new(id).send(&self.client).await?;
            Ok(())
        })
        .await
    }
}

impl StripeClient {
    /// A page of events created after `created_after` (Unix seconds), newest first, older
    /// than the event `starting_after` when given.
    pub async fn list_events(
        &self,
        created_after: i64,
        starting_after: Option<&str>,
        limit: i64,
    ) -> Result<EventPage, StripeClientError> {
        self.list_events_of(None, created_after, starting_after, limit).await
    }

    /// Like `list_events`, of one `type` only when given (`charge.refunded`).
    pub async fn list_events_of(
        &self,
        kind: Option<&str>,
        created_after: i64,
        starting_after: Option<&str>,
        limit: i64,
    ) -> Result<EventPage, StripeClientError> {
        super::observed("stripe", "list_events", async move {
            let mut request = ListEvent::new().created(RangeQueryTs::gt(created_after)).limit(limit);
            if let Some(kind) = kind {
                request = request.type_(kind);
            }
            if let Some(cursor) = starting_after {
                request = request.starting_after(cursor);
            }
            let list = request.send(&self.client).await?;
            let events = list
                .data
                .into_iter()
                .map(|event| {
                    let object = miniserde::json::to_string(&event.data.object);
                    let object: serde_json::Value = serde_json::from_str(&object)
                        .map_err(|e| StripeClientError::Transport(format!("event {}: {e}", event.id.as_str())))?;
                    let body = serde_json::json!({
                        "id": event.id.as_str(),
                        "type": event.type_.as_str(),
                        "created": event.created,
                        "data": { "object": object },
                    });
                    Ok(ListedEvent { id: event.id.as_str().to_string(), created: event.created, body })
                })
                .collect::<Result<Vec<_>, StripeClientError>>()?;
            Ok(EventPage { events, has_more: list.has_more })
        })
        .await
    }
}

fn idempotency_key(key: &str) -> Result<IdempotencyKey, StripeClientError> {
    IdempotencyKey::new(key).map_err(|e| StripeClientError::Config(e.to_string()))
}
