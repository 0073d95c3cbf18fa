//! The application state every handler receives, narrowed with `FromRef`.

use crate::services::Pool;
use axum::extract::FromRef;

use std::sync::Arc;

use crate::http::cache::{CachedCatalogue, ResponseCache};
use crate::services::catalogue::CatalogueStore;
use crate::services::checkout::Payments;
use crate::services::provisioning::Provisioner;

/// What the site shows about how it is running.
#[derive(Debug, Clone, Copy, Default)]
pub struct SiteMode {
    /// Payments and eSIMs are simulated by the local emulators.
    pub test_mode: bool,
    /// Cookies only over HTTPS (`TERN_PUBLIC_URL` is https, or production): Secure, the session
    /// one `__Host-` prefixed; HSTS.
    pub secure_cookies: bool,
    /// The in-process development mailbox runs (no `SMTP_URL`): `/_dev/mail` shows it.
    pub dev_mailbox: bool,
    /// `SUPPORT_EMAIL`, shown on the contact page and in the footer.
    pub support_email: &'static str,
}

#[derive(Clone, FromRef)]
pub struct AppState {
    pub pool: Pool,
    pub catalogue: CatalogueStore,
    pub mode: SiteMode,
    pub response_cache: Arc<ResponseCache>,
    pub payments: Payments,
    pub provisioner: Provisioner,
    pub sessions: tower_sessions_sqlx_store::PostgresStore,
    /// Starting, serving or draining: what `/readyz` reports.
    pub readiness: crate::http::health::Readiness,
    /// The security headers' settings (`http::headers`).
    pub headers: crate::http::headers::HeaderPolicy,
    /// `TERN_TRUSTED_PROXIES`: whose forwarding headers name the client (`http::auth::ClientIp`).
    pub trusted_proxies: Arc<crate::domain::client_addr::TrustedProxies>,
    /// Sealing endpoint secrets and the SSRF policy of webhook URLs.
    pub webhooks: crate::services::webhooks::Webhooks,
    /// The configurable rate limits of the API.
    pub limits: crate::services::rate_limit::Limits,
    /// The API reads waiting for orders to settle (`?wait=`).
    pub settlements: crate::services::settlements::Settlements,
}

impl FromRef<AppState> for CachedCatalogue {
    fn from_ref(state: &AppState) -> Self {
        CachedCatalogue {
            catalogue: state.catalogue.clone(),
            responses: state.response_cache.clone(),
            test_mode: state.mode.test_mode,
        }
    }
}
