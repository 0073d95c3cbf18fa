//! The stand-in for Stripe's hosted Checkout page at `/pay/{session id}`: the order and one
//! plain HTML form whose buttons pay, decline, pay by a delayed method, cancel, or settle a
//! delayed payment.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

use super::objects::{DelayedOutcome, PaymentStatus, Session, SessionStatus};
use super::state::{Shared, State as EmulatorState};

pub fn router() -> Router<Arc<Shared>> {
    Router::new().route("/pay/{id}", get(show_pay_page).post(submit_pay_page))
}

/// Where the session stands, as the buyer sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageState {
    Open,
    /// Completed with a delayed method; waiting for the money.
    Processing,
    Paid,
    PaymentFailed,
    Expired,
    NotFound,
}

impl PageState {
    fn of(session: &Session) -> Self {
        match (session.status, session.payment_status, session.delayed) {
            (SessionStatus::Open, _, _) => Self::Open,
            (SessionStatus::Expired, _, _) => Self::Expired,
            (SessionStatus::Complete, PaymentStatus::Paid, _) => Self::Paid,
            (SessionStatus::Complete, PaymentStatus::Unpaid, Some(DelayedOutcome::Failed)) => Self::PaymentFailed,
            (SessionStatus::Complete, PaymentStatus::Unpaid, _) => Self::Processing,
        }
    }
}

pub struct PageItem {
    pub name: String,
    pub description: Option<String>,
    pub quantity: i64,
    pub unit_price: String,
    pub amount: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "stripe_pay.html")]
pub struct PayPage {
    pub session_id: String,
    pub state: PageState,
    pub items: Vec<PageItem>,
    pub total: String,
    /// The email the session was created with; otherwise the page asks for one.
    pub customer_email: Option<String>,
    pub paid_email: Option<String>,
    pub can_cancel: bool,
    pub notice: Option<String>,
}

impl PayPage {
    fn not_found(session_id: &str) -> Self {
        Self {
            session_id: session_id.to_owned(),
            state: PageState::NotFound,
            items: Vec::new(),
            total: String::new(),
            customer_email: None,
            paid_email: None,
            can_cancel: false,
            notice: None,
        }
    }

    fn of(session: &Session, notice: Option<String>) -> Self {
        let currency = session.currency.as_str();
        Self {
            session_id: session.id.clone(),
            state: PageState::of(session),
            items: session
                .line_items
                .iter()
                .map(|item| PageItem {
                    name: item.name.clone(),
                    description: item.description.clone(),
                    quantity: item.quantity,
                    unit_price: format_amount(item.unit_amount, currency),
                    amount: format_amount(item.amount(), currency),
                })
                .collect(),
            total: format_amount(session.amount_total(), currency),
            customer_email: session.customer_email.clone(),
            paid_email: session.paid_email.clone(),
            can_cancel: session.cancel_url.is_some(),
            notice,
        }
    }

    fn render(state: &EmulatorState, session_id: &str, notice: Option<String>) -> Response {
        match state.sessions.get(session_id) {
            Some(session) => Self::of(session, notice).into_response(),
            None => (StatusCode::NOT_FOUND, Self::not_found(session_id)).into_response(),
        }
    }
}

async fn show_pay_page(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    shared.update(|state, _| PayPage::render(state, &id, None))
}

#[derive(Debug, Deserialize)]
pub struct PayForm {
    action: String,
    #[serde(default)]
    email: Option<String>,
}

async fn submit_pay_page(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Form(form): Form<PayForm>,
) -> Response {
    let email = form.email.as_deref();
    shared.update(|state, now| {
        let outcome = match form.action.as_str() {
            "pay" => state.pay(&id, email, now).map(|()| success_redirect(state, &id)),
            "pay_delayed" => state.pay_delayed(&id, email, now).map(|()| success_redirect(state, &id)),
            // A declined card changes nothing: the buyer stays on the page with a message.
            "decline" => state.require_open(&id).map(|()| {
                let notice = "Your card was declined. Try another card.".to_owned();
                PayPage::render(state, &id, Some(notice))
            }),
            // Cancelling leaves the session open until it expires.
            "cancel" => state.require_open(&id).map(|()| cancel_redirect(state, &id)),
            "settle_succeeded" => state.settle_delayed(&id, true, now).map(|()| PayPage::render(state, &id, None)),
            "settle_failed" => state.settle_delayed(&id, false, now).map(|()| PayPage::render(state, &id, None)),
            other => {
                let notice = format!("Unknown action: {other}");
                let mut response = PayPage::render(state, &id, Some(notice));
                *response.status_mut() = StatusCode::BAD_REQUEST;
                return response;
            }
        };
        outcome.unwrap_or_else(|refusal| PayPage::render(state, &id, Some(refusal.to_string())))
    })
}

fn success_redirect(state: &EmulatorState, id: &str) -> Response {
    match state.sessions.get(id) {
        Some(session) => Redirect::to(&session.success_redirect()).into_response(),
        None => PayPage::render(state, id, None),
    }
}

fn cancel_redirect(state: &EmulatorState, id: &str) -> Response {
    match state.sessions.get(id).and_then(|s| s.cancel_url.as_deref()) {
        Some(url) => Redirect::to(url).into_response(),
        None => PayPage::render(state, id, Some("This session has no cancel URL.".to_owned())),
    }
}

/// Minor units as a decimal amount with the currency code: `12.99 EUR`, `1500 JPY`.
pub fn format_amount(minor: i64, currency: &str) -> String {
    const ZERO_DECIMAL: [&str; 16] = [
        "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
    ];
    const THREE_DECIMAL: [&str; 5] = ["bhd", "jod", "kwd", "omr", "tnd"];
    let code = currency.to_ascii_uppercase();
    let digits = if ZERO_DECIMAL.contains(&currency) {
        0
    } else if THREE_DECIMAL.contains(&currency) {
        3
    } else {
        2
    };
    if digits == 0 {
        return format!("{minor} {code}");
    }
    let unit = 10u64.pow(digits);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:0width$} {code}", abs / unit, abs % unit, width = digits as usize)
}

#[cfg(test)]
mod tests {
    use super::format_amount;

    #[test]
    fn amounts_use_the_currency_exponent() {
        assert_eq!(format_amount(1299, "eur"), "12.99 EUR");
        assert_eq!(format_amount(5, "usd"), "0.05 USD");
        assert_eq!(format_amount(1500, "jpy"), "1500 JPY");
        assert_eq!(format_amount(1234, "kwd"), "1.234 KWD");
    }
}
