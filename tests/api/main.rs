//! HTTP and database tests: each test gets a fresh database on a real PostgreSQL and the
//! app on port 0.

mod catalogue_api;
mod cluster;
mod helpers;
mod openapi;
mod pages;
