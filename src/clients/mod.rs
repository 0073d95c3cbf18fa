//! Clients of the providers' real APIs. Base URLs come from configuration, so tests and
//! offline runs point the same clients at the local emulators.

pub mod stripe;
pub mod telnyx;
