//! HTTP and database tests: each test gets a fresh database on a real PostgreSQL and the
//! app on port 0.

mod accounts;
mod admin_catalogue;
mod admin_order;
mod admin_orders;
mod browser;
mod catalogue_api;
mod checkout;
mod cluster;
mod email;
mod email_accounts;
mod email_admin;
mod email_find;
mod fulfilment;
mod helpers;
mod integrity;
mod lifecycle;
mod mobile_api;
mod openapi;
mod ops;
mod ops_logs;
mod orders_api;
mod pages;
mod provisioning;
mod reconcile;
mod security;
mod telnyx_client;
mod webhooks;
mod webhooks_admin;
mod webhooks_api;
mod webhooks_receiver;
mod worker;
