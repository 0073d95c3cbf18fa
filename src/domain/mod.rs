//! The domain: pure types and rules, no I/O. Nothing here imports another layer of Tern.

pub mod catalogue;
pub mod client_addr;
pub mod email;
pub mod lpa;
pub mod money;
pub mod order;
pub mod plan_list;
pub mod query;
pub mod redirect;
pub mod search;
pub mod session;
pub mod text;
pub mod token;
pub mod user;
pub mod webhook;

pub use catalogue::{Catalogue, DataAllowance, Destination, Plan, PlanKind, Region, ValidityStart};
pub use email::Email;
pub use money::Money;
pub use order::{Actor, EventKind, OrderStatus};
