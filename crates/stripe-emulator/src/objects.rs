//! The emulator's Stripe objects (Checkout Session, line item, PaymentIntent, Charge, Refund)
//! and their JSON in Stripe's shape, with every key async-stripe rc.10 requires.

use std::collections::BTreeMap;

use rand::Rng;
use rand::distr::Alphanumeric;
use serde_json::{Value, json};

/// The API version events are rendered in (async-stripe rc.10's pin).
pub const API_VERSION: &str = "2026-09-30.endive";

/// `prefix` + `len` random alphanumerics, Stripe's id shape.
pub fn new_id(prefix: &str, len: usize) -> String {
    let suffix: String = rand::rng().sample_iter(&Alphanumeric).take(len).map(char::from).collect();
    format!("{prefix}{suffix}")
}

/// Checkout Session ids: `cs_test_` + 58 characters (66 in all).
pub fn new_session_id() -> String {
    new_id("cs_test_", 58)
}

/// Other objects: prefix + 24 characters (`pi_`, `ch_`, `re_`, `evt_`, `li_` …).
pub fn new_object_id(prefix: &str) -> String {
    new_id(prefix, 24)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    Open,
    Complete,
    Expired,
}

impl SessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Complete => "complete",
            Self::Expired => "expired",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentStatus {
    Paid,
    Unpaid,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Paid => "paid",
            Self::Unpaid => "unpaid",
        }
    }
}

/// How a completed-but-unpaid (delayed method) session ended, if it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DelayedOutcome {
    Pending,
    Succeeded,
    Failed,
}

#[derive(Debug, Clone)]
pub struct LineItem {
    pub id: String,
    pub price_id: String,
    pub product_id: String,
    pub name: String,
    pub description: Option<String>,
    pub unit_amount: i64,
    pub quantity: i64,
}

impl LineItem {
    pub fn amount(&self) -> i64 {
        self.unit_amount * self.quantity
    }

    pub fn to_json(&self, currency: &str, created: i64) -> Value {
        let amount = self.amount();
        json!({
            "id": self.id,
            "object": "item",
            "amount_discount": 0,
            "amount_subtotal": amount,
            "amount_tax": 0,
            "amount_total": amount,
            "currency": currency,
            "description": self.name,
            "quantity": self.quantity,
            "price": {
                "id": self.price_id,
                "object": "price",
                "active": false,
                "billing_scheme": "per_unit",
                "created": created,
                "currency": currency,
                "livemode": false,
                "lookup_key": null,
                "metadata": {},
                "nickname": null,
                "product": self.product_id,
                "recurring": null,
                "tax_behavior": "unspecified",
                "type": "one_time",
                "unit_amount": self.unit_amount,
                "unit_amount_decimal": self.unit_amount.to_string(),
            },
        })
    }
}

#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub created: i64,
    pub expires_at: i64,
    pub status: SessionStatus,
    pub payment_status: PaymentStatus,
    pub delayed: Option<DelayedOutcome>,
    pub currency: String,
    pub line_items: Vec<LineItem>,
    pub client_reference_id: Option<String>,
    pub customer_email: Option<String>,
    /// The email the buyer paid with (`customer_details.email`), set on completion.
    pub paid_email: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub payment_intent_metadata: BTreeMap<String, String>,
    pub success_url: String,
    pub cancel_url: Option<String>,
    pub payment_intent: Option<String>,
}

impl Session {
    pub fn amount_total(&self) -> i64 {
        self.line_items.iter().map(LineItem::amount).sum()
    }

    /// The session as the API returns it; `url` is the local pay page while open.
    pub fn to_json(&self, base_url: &str) -> Value {
        let amount = self.amount_total();
        let url = (self.status == SessionStatus::Open).then(|| format!("{base_url}pay/{}", self.id));
        let customer_details = self.paid_email.as_ref().map(|email| {
            json!({
                "address": null,
                "business_name": null,
                "email": email,
                "individual_name": null,
                "name": null,
                "phone": null,
                "tax_exempt": "none",
                "tax_ids": [],
            })
        });
        json!({
            "id": self.id,
            "object": "checkout.session",
            "after_expiration": null,
            "allow_promotion_codes": null,
            "amount_subtotal": amount,
            "amount_total": amount,
            "automatic_tax": { "enabled": false, "liability": null, "provider": null, "status": null },
            "billing_address_collection": null,
            "cancel_url": self.cancel_url,
            "client_reference_id": self.client_reference_id,
            "client_secret": null,
            "created": self.created,
            "currency": self.currency,
            "custom_fields": [],
            "custom_text": {
                "after_submit": null,
                "shipping_address": null,
                "submit": null,
                "terms_of_service_acceptance": null,
            },
            "customer": null,
            "customer_creation": "if_required",
            "customer_details": customer_details,
            "customer_email": self.customer_email,
            "expires_at": self.expires_at,
            "invoice": null,
            "livemode": false,
            "locale": null,
            "metadata": self.metadata,
            "mode": "payment",
            "payment_intent": self.payment_intent,
            "payment_link": null,
            "payment_method_collection": "if_required",
            "payment_method_types": ["card"],
            "payment_status": self.payment_status.as_str(),
            "shipping_options": [],
            "status": self.status.as_str(),
            "submit_type": null,
            "subscription": null,
            "success_url": self.success_url,
            "total_details": { "amount_discount": 0, "amount_shipping": 0, "amount_tax": 0 },
            "ui_mode": "hosted_page",
            "url": url,
        })
    }

    /// `success_url` with Stripe's `{CHECKOUT_SESSION_ID}` template filled in.
    pub fn success_redirect(&self) -> String {
        self.success_url.replace("{CHECKOUT_SESSION_ID}", &self.id)
    }
}

/// A page of line items in Stripe's list envelope.
pub fn line_item_list(session: &Session, items: &[LineItem], has_more: bool) -> Value {
    json!({
        "object": "list",
        "data": items
            .iter()
            .map(|item| item.to_json(&session.currency, session.created))
            .collect::<Vec<_>>(),
        "has_more": has_more,
        "url": format!("/v1/checkout/sessions/{}/line_items", session.id),
    })
}

#[derive(Debug, Clone)]
pub struct PaymentIntent {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub charge: Option<String>,
    pub metadata: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct Charge {
    pub id: String,
    pub payment_intent: String,
    pub amount: i64,
    pub amount_refunded: i64,
    pub currency: String,
    pub email: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub created: i64,
}

impl Charge {
    pub fn remaining(&self) -> i64 {
        self.amount - self.amount_refunded
    }

    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "object": "charge",
            "amount": self.amount,
            "amount_captured": self.amount,
            "amount_refunded": self.amount_refunded,
            "balance_transaction": null,
            "billing_details": { "address": null, "email": self.email, "name": null, "phone": null },
            "captured": true,
            "created": self.created,
            "currency": self.currency,
            "customer": null,
            "description": null,
            "disputed": false,
            "failure_code": null,
            "failure_message": null,
            "livemode": false,
            "metadata": self.metadata,
            "paid": true,
            "payment_intent": self.payment_intent,
            "receipt_email": self.email,
            "refunded": self.amount_refunded >= self.amount,
            "status": "succeeded",
        })
    }
}

#[derive(Debug, Clone)]
pub struct Refund {
    pub id: String,
    pub amount: i64,
    pub charge: String,
    pub payment_intent: String,
    pub currency: String,
    pub reason: Option<String>,
    pub status: &'static str,
    pub metadata: BTreeMap<String, String>,
    pub created: i64,
}

impl Refund {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "object": "refund",
            "amount": self.amount,
            "balance_transaction": null,
            "charge": self.charge,
            "created": self.created,
            "currency": self.currency,
            "metadata": self.metadata,
            "payment_intent": self.payment_intent,
            "reason": self.reason,
            "receipt_number": null,
            "status": self.status,
        })
    }
}
