//! The domain: pure types and rules, no I/O. Nothing here imports another layer of Tern.

pub mod catalogue;
pub mod money;
pub mod query;
pub mod search;

pub use catalogue::{Catalogue, DataAllowance, Destination, Plan, PlanKind, Region, ValidityStart};
pub use money::Money;
