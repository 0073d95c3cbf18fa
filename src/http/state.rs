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
    /// Session cookies only over HTTPS (production).
    pub secure_cookies: bool,
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
