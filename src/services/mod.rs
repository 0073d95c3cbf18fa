//! Use-cases shared by the web pages, the API and background tasks.

pub mod accounts;
pub mod admin_reports;
pub mod catalogue;
pub mod catalogue_admin;
pub mod checkout;
pub mod esim;
pub mod idempotency;
pub mod order_admin;
pub mod provisioning;
pub mod stripe_events;
