//! Orders: their states and the transition table (`OrderStatus::can_become`); events in `event`.

mod event;

pub use event::{Actor, EventKind, OrderEvent};

/// A moment as staff pages show it: "1 Dec 2026, 19:48 UTC".
pub fn utc_label(at: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!("[day padding:none] [month repr:short] [year], [hour]:[minute] UTC");
    at.to_offset(time::UtcOffset::UTC).format(&f).unwrap_or_default()
}

/// An order's short reference (the first 8 hex digits, upper case), as emails and staff
/// pages name it.
pub fn short_reference(id: uuid::Uuid) -> String {
    id.simple().to_string()[..8].to_uppercase()
}

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

    /// How staff read it: plain words, the same in the order list, the order page and filters.
    pub fn staff_label(self) -> &'static str {
        match self {
            Self::AwaitingPayment => "Awaiting payment",
            Self::Paid => "Paid",
            Self::Provisioning => "Provisioning",
            Self::Ready => "Ready",
            Self::PaymentFailed => "Payment failed",
            Self::Expired => "Expired",
            Self::ProvisioningFailed => "Provisioning failed",
            Self::Refunded => "Refunded",
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

    /// Whether the order is still on its way (awaiting payment, paid, being prepared) rather
    /// than settled: ready, or ended without an eSIM for now.
    pub fn in_progress(self) -> bool {
        matches!(self, Self::AwaitingPayment | Self::Paid | Self::Provisioning)
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
