//! The traveller's order page: for the holder of the order's access cookie (set by checkout, or
//! by a `?token=` link, which then redirects to the clean URL), its account, or the visitor
//! Stripe sends back after paying (the session id, checked with Stripe, proves them; they get
//! the cookie). It confirms the payment from there too, in case the webhook is slow.

use crate::services::Pool;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};

use super::Layout;
use super::order_cookie;
use crate::domain::OrderStatus;
use crate::domain::ValidityStart;
use crate::domain::order::{Order, OrderEvent};
use crate::domain::user::User;
use crate::error::Error;
use crate::http::auth::MaybeUser;
use crate::http::errors::HtmlError;
use crate::http::extract::QueryParams;
use crate::http::page::PageContext;
use crate::http::qr;
use crate::http::state::SiteMode;
use crate::services::catalogue::CatalogueStore;
use crate::services::checkout::Payments;
use crate::services::esim;
use crate::services::order_access;
use crate::services::orders;
use crate::services::payments;
use crate::services::provisioning::Provisioner;
use crate::services::reconcile;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Redirect;

/// What the confirmation page shows of a ready eSIM.
pub struct EsimView {
    pub iccid: String,
    pub qr_data_url: String,
    pub qr_png_url: String,
    pub activation_code: String,
    pub sm_dp_address: String,
    pub matching_id: String,
    pub confirmation_code_required: bool,
    pub ios_install_url: String,
    pub android_install_url: String,
}

/// The plan's facts, as the confirmation page repeats them.
pub struct PlanFacts {
    pub data: String,
    pub validity: String,
    pub validity_start: &'static str,
    pub starts_on_installation: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "web/order.html")]
pub struct OrderPage {
    pub ctx: PageContext,
    pub order: Order,
    pub events: Vec<OrderEvent>,
    pub headline: String,
    pub message: String,
    pub refresh_seconds: Option<u32>,
    /// Preparation is taking longer than usual (see `status::view`).
    pub taking_longer: bool,
    pub taking_longer_text: &'static str,
    pub esim: Option<EsimView>,
    pub plan: Option<PlanFacts>,
}

#[allow(clippy::too_many_arguments)]
pub async fn show_order(
    State(pool): State<Pool>,
    State(payments): State<Payments>,
    State(provisioner): State<Provisioner>,
    State(store): State<CatalogueStore>,
    State(mode): State<SiteMode>,
    MaybeUser(viewer): MaybeUser,
    Path(id): Path<String>,
    QueryParams(params): QueryParams,
    headers: HeaderMap,
) -> Result<Response, HtmlError> {
    let session_id = params.text("session_id").ok().flatten();
    // A link with the token (the emailed one): the token goes into the cookie, out of the URL.
    if let Some(token) = params.text("token").ok().flatten() {
        let order = orders::for_viewer(&pool, &id, Some(&token), viewer.as_ref()).await?;
        let clean = match &session_id {
            Some(s) => format!(
                "/orders/{}?session_id={}",
                order.id,
                form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
            ),
            None => format!("/orders/{}", order.id),
        };
        let cookie = order_cookie::set(order.id, &token, mode.secure_cookies);
        return Ok(([(header::SET_COOKIE, cookie)], Redirect::to(&clean)).into_response());
    }
    let cipher = &provisioner.cipher;
    let mut set_cookie = None;
    let by_cookie = match order_cookie::read(&headers) {
        Some(value) => order_access::by_cookie(&pool, cipher, &id, &value, viewer.as_ref()).await.ok(),
        None => None,
    };
    let mut order = match (by_cookie, &session_id) {
        (Some(order), _) => order,
        // Back from Stripe without the cookie (another browser): the session proves the visitor.
        (None, Some(session)) => match order_access::by_checkout_session(&pool, &payments, &id, session).await {
            Ok(order) => {
                set_cookie =
                    Some(order_cookie::set(order.id, &order_access::grant(cipher, &order), mode.secure_cookies));
                order
            }
            Err(e) => orders::for_viewer(&pool, &id, None, viewer.as_ref()).await.map_err(|_| e)?,
        },
        (None, None) => orders::for_viewer(&pool, &id, None, viewer.as_ref()).await?,
    };
    let returning_from_payment = session_id.is_some() && session_id == order.stripe_session_id;
    if returning_from_payment && order.status == OrderStatus::AwaitingPayment {
        if let Err(e) = payments::fulfil_checkout(&pool, &payments, session_id.as_deref().unwrap_or_default()).await {
            tracing::warn!(order.id = %order.id, error = %e, "confirming the payment from the success page failed");
        }
        order = orders::by_id(&pool, order.id).await?;
    } else if reconcile::confirm_on_read(&pool, &payments, &order).await {
        order = orders::by_id(&pool, order.id).await?;
    }
    let events = orders::timeline(&pool, order.id).await?;
    let esim = match esim::details(&pool, cipher, &order).await? {
        None => None,
        Some(details) => Some(EsimView {
            iccid: details.iccid,
            qr_data_url: qr::data_url(&details.code.raw)?,
            qr_png_url: format!("/orders/{}/qr.png", order.id),
            ios_install_url: details.code.ios_install_url(),
            android_install_url: details.code.android_install_url(),
            activation_code: details.code.raw,
            sm_dp_address: details.code.sm_dp_address,
            matching_id: details.code.matching_id,
            confirmation_code_required: details.code.confirmation_code_required,
        }),
    };
    let plan = store.snapshot().plan(order.plan_id).map(|p| PlanFacts {
        data: p.data_label(),
        validity: p.validity_label(),
        validity_start: p.validity_start.label(),
        starts_on_installation: p.validity_start == ValidityStart::Installation,
    });
    let (headline, message, refresh) = describe(&order, returning_from_payment);
    let retried = events.iter().any(|e| e.kind == crate::domain::EventKind::ProvisioningRetry);
    let taking_longer = super::status::view(&order, retried, returning_from_payment).taking_longer;
    let mut response = OrderPage {
        // No forms on this page.
        ctx: PageContext::public(Layout::new(&format!("Order: {}", order.plan_name))),
        headline: headline.to_string(),
        message: message.to_string(),
        refresh_seconds: refresh.then_some(3),
        taking_longer,
        taking_longer_text: super::status::TAKING_LONGER,
        order,
        events,
        esim,
        plan,
    }
    .into_response();
    // The page carries the activation code: never stored by any cache (`http::headers` too).
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(cookie) = set_cookie {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// The QR code alone, as a PNG: for the browser holding the order's cookie, its account, or
/// (mobile apps, `GET /api/v1/orders/{id}/esim`) the access token as a bearer token or the
/// `token` parameter. Never cached.
pub async fn show_qr(
    State(pool): State<Pool>,
    State(provisioner): State<Provisioner>,
    MaybeUser(viewer): MaybeUser,
    Path(id): Path<String>,
    QueryParams(params): QueryParams,
    headers: HeaderMap,
) -> Result<Response, HtmlError> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let order = match params.text("token").ok().flatten().or(bearer) {
        Some(token) => orders::for_viewer(&pool, &id, Some(&token), viewer.as_ref()).await?,
        None => by_cookie_or_account(&pool, &provisioner, &id, &headers, viewer.as_ref()).await?,
    };
    let details = esim::details(&pool, &provisioner.cipher, &order).await?.ok_or(Error::NotFound("eSIM"))?;
    let png = qr::png(&details.code.raw)?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/png")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        png,
    )
        .into_response())
}

/// The page's headline and message, and whether it should refresh itself.
pub(super) fn describe(order: &Order, returning_from_payment: bool) -> (&'static str, &'static str, bool) {
    if order.needs_review {
        return (
            "We are checking your payment",
            "Something about this payment needs a person to look at it. We will email you; nothing more is needed from you.",
            false,
        );
    }
    match order.status {
        OrderStatus::AwaitingPayment if returning_from_payment => {
            ("Confirming your payment…", "This takes a few seconds. Please keep this page open.", true)
        }
        OrderStatus::AwaitingPayment => (
            "Waiting for payment",
            "We have not received your payment yet. If you paid with a bank transfer or a delayed method, this page updates when it arrives.",
            false,
        ),
        OrderStatus::Paid | OrderStatus::Provisioning => (
            "Payment received — preparing your eSIM",
            "Your eSIM is being prepared. This usually takes a few seconds.",
            true,
        ),
        OrderStatus::Ready => ("Your eSIM is ready", "Install it from the details below.", false),
        OrderStatus::PaymentFailed => (
            "Your payment did not go through",
            "Nothing was charged. You can buy the plan again with another payment method.",
            false,
        ),
        OrderStatus::Expired => {
            ("This checkout expired", "Nothing was charged. You can buy the plan again whenever you like.", false)
        }
        OrderStatus::ProvisioningFailed => (
            "We could not prepare your eSIM",
            "Your payment is safe. Our team has been alerted and will retry or refund you in full; we will email you.",
            false,
        ),
        OrderStatus::Refunded => ("This order was refunded", "The refund is on its way to your payment method.", false),
    }
}

/// The order for the browser holding its access cookie, or for its account.
pub(super) async fn by_cookie_or_account(
    pool: &Pool,
    provisioner: &Provisioner,
    id: &str,
    headers: &HeaderMap,
    viewer: Option<&User>,
) -> Result<Order, Error> {
    match order_cookie::read(headers) {
        Some(value) => order_access::by_cookie(pool, &provisioner.cipher, id, &value, viewer).await,
        None => orders::for_viewer(pool, id, None, viewer).await,
    }
}
