//! Use-cases shared by the web pages, the API and background tasks.

pub mod accounts;
pub mod catalogue;
pub mod checkout;
pub mod esim;
pub mod idempotency;
pub mod provisioning;
pub mod stripe_events;
