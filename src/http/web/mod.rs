//! The traveller's storefront: server-rendered askama pages that work without JavaScript.

mod account;
mod account_email;
mod catalogue;
mod checkout;
mod dev_mail;
mod find_order;
mod mfa;
mod order_cookie;
mod orders;
mod plan_list;
mod policy;
mod status;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::errors::{ErrorPage, html_response};
use crate::http::state::{AppState, SiteMode};

pub fn router(state: &AppState) -> Router<AppState> {
    let catalogue = Router::new()
        .route("/", get(catalogue::home))
        .route("/destinations", get(catalogue::list_destinations))
        .route("/destinations/{iso}", get(catalogue::show_destination))
        .route("/plans", get(plan_list::list_plans))
        .route("/plans/{id}", get(catalogue::show_plan))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), crate::http::cache::cached))
        .layer(crate::http::compression::public());
    let policy = Router::new()
        .route("/help", get(policy::help))
        .route("/devices", get(policy::compatible_devices))
        .route("/refund-policy", get(policy::refund_policy))
        .route("/terms", get(policy::terms))
        .route("/privacy", get(policy::privacy))
        .route("/contact", get(policy::contact))
        .layer(crate::http::compression::public());
    Router::new().merge(catalogue).merge(policy).route("/favicon.ico", get(favicon))
}

/// Browsers ask for `/favicon.ico` whatever the page links: the SVG icon answers.
async fn favicon() -> Response {
    const ICON: &[u8] = include_bytes!("../../../static/favicon.svg");
    (
        [
            (axum::http::header::CONTENT_TYPE, "image/svg+xml"),
            (axum::http::header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        ICON,
    )
        .into_response()
}

/// Pages that need the session: checkout, orders, accounts.
pub fn session_router() -> Router<AppState> {
    use axum::routing::post;
    Router::new()
        .route("/plans/{id}/checkout", get(checkout::show_checkout).post(checkout::submit_checkout))
        .route("/orders/{id}", get(orders::show_order))
        .route("/orders/{id}/qr.png", get(orders::show_qr))
        .route("/orders/{id}/status", get(status::order_status))
        .route("/account", get(account::my_esims))
        .route("/account/sign-in", get(account::show_sign_in).post(account::submit_sign_in))
        .route("/account/sign-up", get(account::show_sign_up).post(account::submit_sign_up))
        .route("/account/sign-out", post(account::sign_out))
        .route("/account/check-email", get(account_email::check_email))
        .route("/account/verify", get(account_email::show_verify).post(account_email::submit_verify))
        .route("/account/forgot-password", post(account_email::submit_forgot))
        .route("/account/reset-password", get(account_email::show_reset).post(account_email::submit_reset))
        .route("/orders/find", get(find_order::show_find).post(find_order::submit_find))
        .route("/_dev/mail", get(dev_mail::list))
        .route("/_dev/mail/{id}", get(dev_mail::show))
        .route("/_dev/mail/{id}/html", get(dev_mail::html))
        .route("/_dev/mail/{id}/raw", get(dev_mail::raw))
        .route("/_dev/mail/{id}/attachments/{index}", get(dev_mail::attachment))
        .route("/account/sign-out-everywhere", post(account::sign_out_everywhere))
        .route("/account/mfa", get(mfa::show_mfa).post(mfa::submit_mfa))
}

tokio::task_local! {
    static SITE_MODE: SiteMode;
}

/// Makes the site mode known to every page rendered for this request, error pages included.
pub async fn with_site_mode(State(mode): State<SiteMode>, request: Request, next: Next) -> Response {
    SITE_MODE.scope(mode, next.run(request)).await
}

/// What every page's layout shows.
#[derive(Clone)]
pub struct Layout {
    pub title: String,
    pub description: String,
    pub test_mode: bool,
    /// Echoed in the header's search box.
    pub search_query: String,
    /// `SUPPORT_EMAIL`.
    pub support_email: &'static str,
}

impl Layout {
    pub fn new(title: &str) -> Self {
        Self {
            title: title.to_string(),
            description: "Travel eSIM data plans for 90+ destinations. Buy online, install from a QR code in a minute."
                .to_string(),
            test_mode: SITE_MODE.try_with(|m| m.test_mode).unwrap_or(false),
            search_query: String::new(),
            support_email: SITE_MODE.try_with(|m| m.support_email).unwrap_or(crate::config::DEFAULT_SUPPORT_EMAIL),
        }
    }

    pub fn described(mut self, description: String) -> Self {
        self.description = description;
        self
    }
}

/// The fallback for unknown paths outside the API.
pub async fn not_found() -> Response {
    html_response(StatusCode::NOT_FOUND, ErrorPage::not_found())
}

/// What a panic turns into: a plain 500 page, no details.
pub fn internal_error_page() -> Response {
    tracing::error!("a handler panicked");
    let page = ErrorPage::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong on our side. Please try again in a moment.".into(),
    );
    (StatusCode::INTERNAL_SERVER_ERROR, page).into_response()
}
