//! What happens to money: paying a session (at once or by a delayed method), settling a
//! delayed payment, and refunds, each with the events Stripe sends for it.

use std::fmt;

use serde_json::Value;

use super::error::ApiError;
use super::form::Params;
use super::objects::{Charge, DelayedOutcome, PaymentIntent, PaymentStatus, Refund, SessionStatus, new_object_id};
use super::state::State;

/// The email used when neither the session nor the buyer gave one (Stripe's test-mode habit).
const DEFAULT_EMAIL: &str = "test@example.com";
const REFUND_REASONS: [&str; 3] = ["duplicate", "fraudulent", "requested_by_customer"];

/// Why a session action was not possible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NoSuchSession(String),
    NoSuchEvent(String),
    NotOpen(SessionStatus),
    NotAwaitingSettlement,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoSuchSession(id) => write!(f, "No such checkout session: '{id}'"),
            Self::NoSuchEvent(id) => write!(f, "No such event: '{id}'"),
            Self::NotOpen(status) => write!(f, "This Checkout Session is not open (status: {}).", status.as_str()),
            Self::NotAwaitingSettlement => {
                write!(f, "This Checkout Session has no delayed payment awaiting settlement.")
            }
        }
    }
}

impl State {
    fn open_session(&mut self, id: &str) -> Result<&mut super::objects::Session, Refusal> {
        let session = self.sessions.get_mut(id).ok_or_else(|| Refusal::NoSuchSession(id.to_owned()))?;
        if session.status != SessionStatus::Open {
            return Err(Refusal::NotOpen(session.status));
        }
        Ok(session)
    }

    /// Succeeds for an open session: all a declined card or a cancel needs.
    pub fn require_open(&mut self, id: &str) -> Result<(), Refusal> {
        self.open_session(id).map(|_| ())
    }

    /// Card payment: `complete` + `paid`, a PaymentIntent with its Charge,
    /// `checkout.session.completed`.
    pub fn pay(&mut self, id: &str, email: Option<&str>, now: i64) -> Result<(), Refusal> {
        let (payment_intent, paid_email) = self.start_payment(id, email)?;
        self.create_charge(&payment_intent, Some(paid_email), now);
        if let Some(session) = self.sessions.get_mut(id) {
            session.payment_status = PaymentStatus::Paid;
        }
        self.emit_session_event("checkout.session.completed", id, now);
        Ok(())
    }

    /// Delayed method: `complete` + `unpaid` until settled, `checkout.session.completed`.
    pub fn pay_delayed(&mut self, id: &str, email: Option<&str>, now: i64) -> Result<(), Refusal> {
        self.start_payment(id, email)?;
        if let Some(session) = self.sessions.get_mut(id) {
            session.delayed = Some(DelayedOutcome::Pending);
        }
        self.emit_session_event("checkout.session.completed", id, now);
        Ok(())
    }

    /// Ends a delayed payment: paid with `…async_payment_succeeded`, or
    /// `…async_payment_failed`.
    pub fn settle_delayed(&mut self, id: &str, succeed: bool, now: i64) -> Result<(), Refusal> {
        let session = self.sessions.get_mut(id).ok_or_else(|| Refusal::NoSuchSession(id.to_owned()))?;
        if session.delayed != Some(DelayedOutcome::Pending) {
            return Err(Refusal::NotAwaitingSettlement);
        }
        let payment_intent_id = session.payment_intent.clone().unwrap_or_default();
        let paid_email = session.paid_email.clone();
        if succeed {
            session.delayed = Some(DelayedOutcome::Succeeded);
            session.payment_status = PaymentStatus::Paid;
        } else {
            session.delayed = Some(DelayedOutcome::Failed);
        }
        let kind = if succeed {
            self.create_charge(&payment_intent_id, paid_email, now);
            "checkout.session.async_payment_succeeded"
        } else {
            "checkout.session.async_payment_failed"
        };
        self.emit_session_event(kind, id, now);
        Ok(())
    }

    /// Completes an open session with a new PaymentIntent (its Charge comes once the money
    /// arrives); returns the PaymentIntent's id and the email the buyer paid with.
    fn start_payment(&mut self, id: &str, email: Option<&str>) -> Result<(String, String), Refusal> {
        let session = self.open_session(id)?;
        let payment_intent = PaymentIntent {
            id: new_object_id("pi_"),
            amount: session.amount_total(),
            currency: session.currency.clone(),
            charge: None,
            metadata: session.payment_intent_metadata.clone(),
        };
        let email = email
            .filter(|e| !e.trim().is_empty())
            .map(str::to_owned)
            .or_else(|| session.customer_email.clone())
            .unwrap_or_else(|| DEFAULT_EMAIL.to_owned());
        session.status = SessionStatus::Complete;
        session.paid_email = Some(email.clone());
        session.payment_intent = Some(payment_intent.id.clone());
        let payment_intent_id = payment_intent.id.clone();
        self.payment_intents.insert(payment_intent_id.clone(), payment_intent);
        Ok((payment_intent_id, email))
    }

    /// The Charge of a PaymentIntent; `email` is the `paid_email` of the session that owns it
    /// (each PaymentIntent belongs to the one session that created it).
    fn create_charge(&mut self, payment_intent_id: &str, email: Option<String>, now: i64) {
        let Some(payment_intent) = self.payment_intents.get_mut(payment_intent_id) else {
            return;
        };
        let charge = Charge {
            id: new_object_id("ch_"),
            payment_intent: payment_intent.id.clone(),
            amount: payment_intent.amount,
            amount_refunded: 0,
            currency: payment_intent.currency.clone(),
            email,
            metadata: payment_intent.metadata.clone(),
            created: now,
        };
        payment_intent.charge = Some(charge.id.clone());
        self.charges.insert(charge.id.clone(), charge);
    }

    /// `POST /v1/refunds`: refunds (part of) a PaymentIntent's or Charge's remaining amount,
    /// with `charge.refunded` and `refund.created`.
    pub fn create_refund(&mut self, params: &Params, now: i64) -> Result<Value, ApiError> {
        let charge_id = self.refunded_charge_id(params)?;
        let amount_field = params.field("amount");
        let requested = amount_field.integer()?;
        let reason_field = params.field("reason");
        let reason = reason_field.string()?;
        if let Some(reason) = reason
            && !REFUND_REASONS.contains(&reason)
        {
            return Err(ApiError::invalid(
                reason_field.path(),
                format!("Invalid reason: must be one of {}", REFUND_REASONS.join(", ")),
            ));
        }
        let metadata = params.field("metadata").string_map()?;

        let Some(charge) = self.charges.get_mut(&charge_id) else {
            return Err(ApiError::resource_missing("charge", format!("No such charge: '{charge_id}'")));
        };
        if charge.remaining() <= 0 {
            return Err(ApiError::request_failed(
                "charge_already_refunded",
                None,
                format!("Charge {} has already been refunded.", charge.id),
            ));
        }
        let amount = requested.unwrap_or(charge.remaining());
        if amount < 1 {
            return Err(ApiError::request_failed(
                "amount_too_small",
                Some(amount_field.path()),
                "Refund amount must be a positive integer.",
            ));
        }
        if amount > charge.remaining() {
            return Err(ApiError::request_failed(
                "amount_too_large",
                Some(amount_field.path()),
                format!(
                    "Refund amount ({amount}) is greater than unrefunded amount on charge ({}).",
                    charge.remaining()
                ),
            ));
        }
        charge.amount_refunded += amount;
        let refund = Refund {
            id: new_object_id("re_"),
            amount,
            charge: charge.id.clone(),
            payment_intent: charge.payment_intent.clone(),
            currency: charge.currency.clone(),
            reason: reason.map(str::to_owned),
            status: if self.pending_refunds { "pending" } else { "succeeded" },
            metadata,
            created: now,
        };
        let charge_json = charge.to_json();
        let refund_json = refund.to_json();
        if refund.status == "pending" {
            self.pending_refund_ids.push(refund.id.clone());
        }
        self.refunds.insert(refund.id.clone(), refund);
        self.webhooks.emit("charge.refunded", charge_json, now);
        self.webhooks.emit("refund.created", refund_json.clone(), now);
        Ok(refund_json)
    }

    /// The charge a refund request names, by `payment_intent` or `charge`.
    fn refunded_charge_id(&self, params: &Params) -> Result<String, ApiError> {
        let charge_field = params.field("charge");
        if let Some(charge_id) = charge_field.string()? {
            return match self.charges.contains_key(charge_id) {
                true => Ok(charge_id.to_owned()),
                false => Err(ApiError::resource_missing(charge_field.path(), format!("No such charge: '{charge_id}'"))),
            };
        }
        let intent_field = params.field("payment_intent");
        let intent_id = intent_field.required_string()?;
        let payment_intent = self.payment_intents.get(intent_id).ok_or_else(|| {
            ApiError::resource_missing(intent_field.path(), format!("No such payment_intent: '{intent_id}'"))
        })?;
        payment_intent.charge.clone().ok_or_else(|| {
            ApiError::request_failed(
                "payment_intent_unexpected_state",
                Some(intent_field.path()),
                "This PaymentIntent does not have a successful charge to refund.",
            )
        })
    }

    /// Pending refunds succeed, oldest first, each with `refund.updated`.
    pub fn settle_pending_refunds(&mut self, now: i64) {
        for id in std::mem::take(&mut self.pending_refund_ids) {
            let Some(refund) = self.refunds.get_mut(&id).filter(|r| r.status == "pending") else {
                continue;
            };
            refund.status = "succeeded";
            let json = refund.to_json();
            self.webhooks.emit("refund.updated", json, now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::tests::{NOW, session, state};

    fn charge_email(state: &State, session_id: &str) -> Option<String> {
        let payment_intent = state.sessions[session_id].payment_intent.as_deref().expect("paid");
        let charge = state.payment_intents[payment_intent].charge.as_deref().expect("charged");
        state.charges[charge].email.clone()
    }

    #[test]
    fn each_charge_carries_the_email_its_own_session_was_paid_with() {
        let mut state = state();
        let ids: Vec<String> = ["a@t.example", "b@t.example", "c@t.example"]
            .into_iter()
            .map(|email| {
                let session = session(NOW, 3_600, Some(email));
                let id = session.id.clone();
                state.add_session(session);
                id
            })
            .collect();
        state.pay(&ids[0], None, NOW).expect("open");
        state.pay(&ids[1], Some("typed@t.example"), NOW).expect("open");
        state.pay_delayed(&ids[2], None, NOW).expect("open");
        state.settle_delayed(&ids[2], true, NOW + 60).expect("pending");
        assert_eq!(charge_email(&state, &ids[0]).as_deref(), Some("a@t.example"));
        assert_eq!(charge_email(&state, &ids[1]).as_deref(), Some("typed@t.example"));
        assert_eq!(charge_email(&state, &ids[2]).as_deref(), Some("c@t.example"));
        assert_eq!(state.charges.len(), 3);
    }

    #[test]
    fn pending_refunds_succeed_once_with_their_event() {
        let mut state = state();
        let session = session(NOW, 3_600, None);
        let id = session.id.clone();
        state.add_session(session);
        state.pay(&id, None, NOW).expect("open");
        let payment_intent = state.sessions[&id].payment_intent.clone().expect("paid");
        state.pending_refunds = true;
        let body = format!("payment_intent={payment_intent}&amount=100");
        let refund = state.create_refund(&Params::parse(body.as_bytes()).expect("params"), NOW).expect("refund");
        assert_eq!(refund["status"], "pending");
        let updated = |state: &State| state.webhooks.events().iter().filter(|e| e["type"] == "refund.updated").count();

        state.settle_pending_refunds(NOW + 1);
        let refund_id = refund["id"].as_str().expect("id");
        assert_eq!(state.refunds[refund_id].status, "succeeded");
        assert_eq!(updated(&state), 1);
        state.settle_pending_refunds(NOW + 2);
        assert_eq!(updated(&state), 1, "settled once");
    }
}
