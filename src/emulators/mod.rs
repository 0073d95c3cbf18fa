//! Local stand-ins for Stripe and Telnyx that speak their real wire formats, so tests and
//! offline runs exercise the same client code as production without leaving 127.0.0.1.

pub mod stripe;
pub mod telnyx;
