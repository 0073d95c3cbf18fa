//! Outbound webhooks: the closed catalogue of event types, which order event sends which, and
//! the roles of the API keys that manage endpoints.

use std::fmt;
use std::str::FromStr;

use super::EventKind;

macro_rules! event_types {
    ($($variant:ident => $name:literal, $about:literal;)*) => {
        /// Every type of event Tern delivers to webhook endpoints.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum EventType {
            $($variant,)*
        }

        impl EventType {
            pub const ALL: &'static [EventType] = &[$(Self::$variant,)*];

            /// The `type` field of the payload.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)*
                }
            }

            /// When it is sent.
            pub fn about(self) -> &'static str {
                match self {
                    $(Self::$variant => $about,)*
                }
            }
        }
    };
}

event_types! {
    OrderCreated => "order.created", "An order was placed; it awaits payment.";
    OrderPaid => "order.paid", "The payment was confirmed; the eSIM is being prepared.";
    OrderPaymentFailed => "order.payment_failed", "The payment failed.";
    OrderExpired => "order.expired", "The checkout expired unpaid.";
    OrderCancelled => "order.cancelled", "The order was cancelled before payment.";
    OrderRefunded => "order.refunded", "Money was refunded, in full or in part (`refund`: `full` or `partial`).";
    EsimReady => "esim.ready", "The eSIM is ready to install.";
    EsimProvisioningFailed => "esim.provisioning_failed", "The eSIM could not be prepared; an operator will look.";
    EsimEnabled => "esim.enabled", "The SIM was enabled.";
    EsimDisabled => "esim.disabled", "The SIM was disabled.";
    Ping => "ping", "A test sent on request (`POST /webhook_endpoints/{id}/test`).";
}

impl EventType {
    /// The type an order event is delivered as, if any.
    pub fn for_order_event(kind: EventKind) -> Option<EventType> {
        Some(match kind {
            EventKind::Created => Self::OrderCreated,
            EventKind::Paid => Self::OrderPaid,
            EventKind::PaymentFailed => Self::OrderPaymentFailed,
            EventKind::Expired => Self::OrderExpired,
            EventKind::Cancelled => Self::OrderCancelled,
            EventKind::Refunded | EventKind::PartiallyRefunded => Self::OrderRefunded,
            EventKind::Ready => Self::EsimReady,
            EventKind::ProvisioningFailed => Self::EsimProvisioningFailed,
            EventKind::SimEnabled => Self::EsimEnabled,
            EventKind::SimDisabled => Self::EsimDisabled,
            _ => return None,
        })
    }

    /// The types an endpoint can filter on (a `ping` is always sent when asked for).
    pub fn subscribable() -> impl Iterator<Item = EventType> {
        Self::ALL.iter().copied().filter(|t| *t != Self::Ping)
    }

    /// Whether the data is about an order's eSIM (else about the order).
    pub fn is_esim(self) -> bool {
        self.as_str().starts_with("esim.")
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL.iter().copied().find(|t| t.as_str() == s).ok_or_else(|| format!("unknown event type {s:?}"))
    }
}

/// What an API key may do: an `integrator` manages its own webhook endpoints; an `admin` key
/// manages every endpoint and may read operator reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRole {
    Admin,
    Integrator,
}

impl KeyRole {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyRole::Admin => "admin",
            KeyRole::Integrator => "integrator",
        }
    }
}

impl FromStr for KeyRole {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "admin" => Ok(KeyRole::Admin),
            "integrator" => Ok(KeyRole::Integrator),
            _ => Err("must be admin or integrator".into()),
        }
    }
}

impl fmt::Display for KeyRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_round_trip_and_every_listed_type_is_sent_by_some_event() {
        for t in EventType::ALL {
            assert_eq!(t.as_str().parse::<EventType>().unwrap(), *t);
            let sent = EventKind::ALL.iter().any(|k| EventType::for_order_event(*k) == Some(*t));
            assert!(sent || *t == EventType::Ping, "{t} is never sent");
        }
        assert_eq!(EventType::for_order_event(EventKind::Note), None, "operators' notes stay inside");
        assert!(!EventType::subscribable().any(|t| t == EventType::Ping));
        assert!("order.lost".parse::<EventType>().is_err());
    }

    #[test]
    fn key_roles_round_trip() {
        for r in [KeyRole::Admin, KeyRole::Integrator] {
            assert_eq!(r.as_str().parse::<KeyRole>().unwrap(), r);
        }
        assert!("customer".parse::<KeyRole>().is_err());
    }
}
