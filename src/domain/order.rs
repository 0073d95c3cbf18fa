//! Orders: their lifecycle and the rules of moving between states.

use std::fmt;
use std::str::FromStr;

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    AwaitingPayment,
    Paid,
    Provisioning,
    Ready,
    PaymentFailed,
    Expired,
    ProvisioningFailed,
    Refunded,
}

impl OrderStatus {
    pub const ALL: &'static [OrderStatus] = &[
        Self::AwaitingPayment,
        Self::Paid,
        Self::Provisioning,
        Self::Ready,
        Self::PaymentFailed,
        Self::Expired,
        Self::ProvisioningFailed,
        Self::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingPayment => "awaiting_payment",
            Self::Paid => "paid",
            Self::Provisioning => "provisioning",
            Self::Ready => "ready",
            Self::PaymentFailed => "payment_failed",
            Self::Expired => "expired",
            Self::ProvisioningFailed => "provisioning_failed",
            Self::Refunded => "refunded",
        }
    }

    /// How a traveller reads it.
    pub fn label(self) -> &'static str {
        match self {
            Self::AwaitingPayment => "Awaiting payment",
            Self::Paid => "Paid — preparing your eSIM",
            Self::Provisioning => "Preparing your eSIM",
            Self::Ready => "Ready to install",
            Self::PaymentFailed => "Payment failed",
            Self::Expired => "Checkout expired",
            Self::ProvisioningFailed => "We could not prepare your eSIM",
            Self::Refunded => "Refunded",
        }
    }

    /// Whether money has been received for the order (it is then never lost).
    pub fn is_paid(self) -> bool {
        matches!(self, Self::Paid | Self::Provisioning | Self::Ready | Self::ProvisioningFailed | Self::Refunded)
    }

    /// Whether `self → next` is a move the lifecycle allows. States only move forward: a
    /// late `expired` never overrides `paid`, and nothing leaves `refunded`.
    pub fn can_become(self, next: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, next),
            (AwaitingPayment, Paid | PaymentFailed | Expired)
                | (Paid, Provisioning | Ready | ProvisioningFailed | Refunded)
                | (Provisioning, Ready | ProvisioningFailed | Refunded)
                | (Ready, Refunded)
                | (ProvisioningFailed, Provisioning | Ready | Refunded)
        )
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrderStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL.iter().copied().find(|st| st.as_str() == s).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|s| s.as_str()).collect();
            format!("must be one of: {}", names.join(", "))
        })
    }
}

/// Who caused an order event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Traveller,
    Stripe,
    System,
    Admin,
}

impl Actor {
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::Traveller => "traveller",
            Actor::Stripe => "stripe",
            Actor::System => "system",
            Actor::Admin => "admin",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::OrderStatus::*;
    use super::*;

    #[test]
    fn states_only_move_forward() {
        assert!(AwaitingPayment.can_become(Paid));
        assert!(Paid.can_become(Provisioning));
        assert!(Provisioning.can_become(Ready));
        assert!(Ready.can_become(Refunded));
        assert!(!Paid.can_become(Expired), "a late expiry never overrides a payment");
        assert!(!Paid.can_become(Paid), "paid happens once");
        assert!(!Refunded.can_become(Ready));
        assert!(!Expired.can_become(Paid));
        assert!(!AwaitingPayment.can_become(Refunded));
    }

    #[test]
    fn names_round_trip() {
        for s in OrderStatus::ALL {
            assert_eq!(s.as_str().parse::<OrderStatus>().unwrap(), *s);
        }
        assert!("lost".parse::<OrderStatus>().is_err());
        assert!(Refunded.is_paid() && !Expired.is_paid());
    }
}

/// An order as Tern keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub id: uuid::Uuid,
    pub plan_id: uuid::Uuid,
    pub plan_name: String,
    pub amount: crate::domain::Money,
    pub email: String,
    pub status: OrderStatus,
    pub stripe_session_id: Option<String>,
    pub stripe_payment_intent_id: Option<String>,
    pub needs_review: bool,
    /// The account it belongs to, if any.
    pub user_id: Option<uuid::Uuid>,
    pub access_token_sha256: Vec<u8>,
    pub paid_at: Option<time::OffsetDateTime>,
    pub created_at: time::OffsetDateTime,
}

/// One entry of an order's timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderEvent {
    pub kind: String,
    pub actor: String,
    pub details: serde_json::Value,
    pub created_at: time::OffsetDateTime,
}

impl OrderEvent {
    /// How the timeline reads it.
    pub fn label(&self) -> String {
        match self.kind.as_str() {
            "created" => "Order placed".into(),
            "checkout_started" => "Sent to secure payment".into(),
            "checkout_failed" => "Payment page could not be opened".into(),
            "payment_pending" => "Payment submitted; waiting for the bank".into(),
            "paid" => "Payment received".into(),
            "payment_failed" => "Payment failed".into(),
            "expired" => "Checkout expired unpaid".into(),
            "flagged_for_review" => "Payment held for review".into(),
            "refunded" => "Refunded".into(),
            "partially_refunded" => "Partly refunded".into(),
            "provisioning_started" | "provisioning_retried" => "Preparing your eSIM".into(),
            "provisioning_retry" => "eSIM provider busy; trying again".into(),
            "esim_purchased" | "esim_adopted" => "eSIM issued".into(),
            "ready" => "eSIM ready to install".into(),
            "claimed" => "Added to your account".into(),
            "note" => "Internal note".into(),
            "sim_enabled" => "eSIM enabled".into(),
            "sim_disabled" => "eSIM disabled".into(),
            "sim_status_refreshed" => "eSIM status checked".into(),
            "refund_requested" => "Refund issued".into(),
            "provisioning_retry_requested" => "eSIM preparation restarted".into(),
            "cancelled" => "Cancelled before payment".into(),
            "provisioning_failed" => "eSIM could not be prepared".into(),
            other => other.replace('_', " "),
        }
    }

    /// Operators' own entries (notes, status checks), not shown to travellers.
    pub fn is_internal(&self) -> bool {
        matches!(self.kind.as_str(), "note" | "sim_status_refreshed")
    }

    pub fn at(&self) -> String {
        let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
        self.created_at.to_offset(time::UtcOffset::UTC).format(&f).unwrap_or_default()
    }
}
