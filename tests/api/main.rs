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
mod fulfilment;
mod helpers;
mod lifecycle;
mod openapi;
mod orders_api;
mod pages;
mod provisioning;
mod reconcile;
mod security;
mod telnyx_client;
mod ux_forms;
mod ux_plans;
mod ux_policy;
mod ux_search;
mod ux_status;
mod worker;
