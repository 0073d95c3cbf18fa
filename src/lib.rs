//! Tern: a travel eSIM storefront. Library crate; `main.rs` is a thin binary around it.

pub mod clients;
pub mod cluster;
pub mod config;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod qr;
pub mod services;
pub mod startup;
pub mod telemetry;
pub mod worker;

pub use db::MIGRATOR;
