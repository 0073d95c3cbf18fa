//! What happens to an order: the closed set of event kinds, who causes them, and which of them
//! a traveller may see.

use std::fmt;
use std::str::FromStr;

macro_rules! event_kinds {
    ($($variant:ident => $name:literal, $label:literal;)*) => {
        /// Every kind of order event. Stored as its `as_str` name in `order_events.type`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum EventKind {
            $($variant,)*
        }

        impl EventKind {
            pub const ALL: &'static [EventKind] = &[$(Self::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)*
                }
            }

            /// How the timeline reads it.
            pub fn label(self) -> &'static str {
                match self {
                    $(Self::$variant => $label,)*
                }
            }
        }
    };
}

event_kinds! {
    Created => "created", "Order placed";
    CheckoutStarted => "checkout_started", "Sent to secure payment";
    CheckoutFailed => "checkout_failed", "Payment page could not be opened";
    PaymentPending => "payment_pending", "Payment submitted; waiting for the bank";
    Paid => "paid", "Payment received";
    PaymentFailed => "payment_failed", "Payment failed";
    Expired => "expired", "Checkout expired unpaid";
    FlaggedForReview => "flagged_for_review", "Payment held for review";
    Refunded => "refunded", "Refunded";
    PartiallyRefunded => "partially_refunded", "Partly refunded";
    ProvisioningStarted => "provisioning_started", "Preparing your eSIM";
    ProvisioningRetried => "provisioning_retried", "Preparing your eSIM";
    ProvisioningRetry => "provisioning_retry", "eSIM provider busy; trying again";
    EsimPurchased => "esim_purchased", "eSIM issued";
    EsimAdopted => "esim_adopted", "eSIM issued";
    Ready => "ready", "eSIM ready to install";
    Claimed => "claimed", "Added to your account";
    Note => "note", "Internal note";
    SimEnabled => "sim_enabled", "eSIM enabled";
    SimDisabled => "sim_disabled", "eSIM disabled";
    SimStatusRefreshed => "sim_status_refreshed", "eSIM status checked";
    RefundRequested => "refund_requested", "Refund issued";
    ProvisioningRetryRequested => "provisioning_retry_requested", "eSIM preparation restarted";
    Cancelled => "cancelled", "Cancelled before payment";
    ProvisioningFailed => "provisioning_failed", "eSIM could not be prepared";
    EmailSent => "email_sent", "Email sent";
    EmailDelayed => "email_delayed", "Email delayed; trying again";
    EmailFailed => "email_failed", "Email could not be delivered";
    EmailResent => "email_resent", "Email sent again";
    EmailCorrected => "email_corrected", "Email address corrected";
}

impl EventKind {
    /// Operators' own entries: never shown to the traveller, on a page or in the API. The one
    /// list that says so.
    pub const INTERNAL: &'static [EventKind] =
        &[Self::Note, Self::SimStatusRefreshed, Self::EmailDelayed, Self::EmailFailed, Self::EmailCorrected];

    pub fn visible_to_traveller(self) -> bool {
        !Self::INTERNAL.contains(&self)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL.iter().copied().find(|k| k.as_str() == s).ok_or_else(|| format!("unknown event kind {s:?}"))
    }
}

/// Who caused an order event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Traveller,
    Stripe,
    Telnyx,
    System,
    /// A member of staff, by user id.
    Operator(uuid::Uuid),
}

impl Actor {
    /// The stored name (`order_events.actor`); an operator's id goes in `order_events.user_id`.
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::Traveller => "traveller",
            Actor::Stripe => "stripe",
            Actor::Telnyx => "telnyx",
            Actor::System => "system",
            Actor::Operator(_) => "admin",
        }
    }

    pub fn user_id(self) -> Option<uuid::Uuid> {
        match self {
            Actor::Operator(id) => Some(id),
            _ => None,
        }
    }

    /// Back from the stored name and user id.
    pub fn from_parts(name: &str, user_id: Option<uuid::Uuid>) -> Result<Actor, String> {
        Ok(match (name, user_id) {
            ("traveller", _) => Actor::Traveller,
            ("stripe", _) => Actor::Stripe,
            ("telnyx", _) => Actor::Telnyx,
            ("system", _) => Actor::System,
            ("admin", Some(id)) => Actor::Operator(id),
            (other, _) => return Err(format!("unknown actor {other:?}")),
        })
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of an order's timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderEvent {
    pub order_id: uuid::Uuid,
    pub kind: EventKind,
    pub actor: Actor,
    pub details: serde_json::Value,
    pub created_at: time::OffsetDateTime,
}

impl OrderEvent {
    /// How the timeline reads it.
    pub fn label(&self) -> &'static str {
        self.kind.label()
    }

    /// Operators' own entries (notes, status checks), not shown to travellers.
    pub fn is_internal(&self) -> bool {
        !self.kind.visible_to_traveller()
    }

    pub fn at(&self) -> String {
        super::utc_label(self.created_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_fit_the_column() {
        for k in EventKind::ALL {
            assert_eq!(k.as_str().parse::<EventKind>().unwrap(), *k);
            assert!(k.as_str().len() <= 40 && k.as_str().chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        }
        assert!("lost".parse::<EventKind>().is_err());
    }

    #[test]
    fn only_operator_entries_are_internal() {
        assert!(!EventKind::Note.visible_to_traveller());
        assert!(!EventKind::SimStatusRefreshed.visible_to_traveller());
        assert!(EventKind::Paid.visible_to_traveller() && EventKind::Ready.visible_to_traveller());
    }

    #[test]
    fn actors_round_trip() {
        let id = uuid::Uuid::new_v4();
        for a in [Actor::Traveller, Actor::Stripe, Actor::Telnyx, Actor::System, Actor::Operator(id)] {
            assert_eq!(Actor::from_parts(a.as_str(), a.user_id()).unwrap(), a);
        }
        assert!(Actor::from_parts("admin", None).is_err(), "an operator always has an id");
    }
}
