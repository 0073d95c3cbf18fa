//! The security suite (OWASP ASVS 4.0 level 2): each test names the ASVS item it checks.

mod auth;
mod logging;
mod mfa;
mod transport;
