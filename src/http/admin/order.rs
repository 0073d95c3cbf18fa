//! One order for operators: everything about it, and what can be done to it. Actions that move
//! money or service go through a confirmation page first.

use crate::http::errors::FORM_REFUSED;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use uuid::Uuid;

use super::{AdminUser, ReauthedAdmin, StaffUser};
use crate::domain::order::{Order, OrderEvent};
use crate::domain::{Money, OrderStatus};
use crate::error::Error;
use crate::http::auth::ClientIp;
use crate::http::errors::HtmlError;
use crate::http::forms::FieldErrors;
use crate::http::page::PageContext;
use crate::http::state::AppState;
use crate::services::order_admin::{self, Operator};
use crate::services::orders::{self, EsimFacts, StaffView};

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/orders/{id}", get(show))
        .route("/orders/{id}/retry", post(retry))
        .route("/orders/{id}/refresh-sim", post(refresh_sim))
        .route("/orders/{id}/sim", post(set_sim))
        .route("/orders/{id}/refund", post(refund))
        .route("/orders/{id}/cancel", post(cancel))
        .route("/orders/{id}/notes", post(add_note))
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/order.html")]
pub struct OrderAdminPage {
    pub ctx: PageContext,
    pub order: Order,
    pub refunded: Money,
    pub refundable: Money,
    pub esim: Option<EsimFacts>,
    pub events: Vec<(OrderEvent, Option<String>)>,
    pub notice: Option<String>,
    pub note_errors: FieldErrors,
    pub refund_errors: FieldErrors,
    pub account_email: Option<String>,
    /// The order's short reference (`short_reference`).
    pub reference: String,
    /// When it was placed, as staff read times.
    pub placed: String,
    /// Why provisioning failed, from its last `provisioning_failed` event, while it stands.
    pub failure: Option<String>,
}

/// The reason the last `provisioning_failed` event gave, when the order is in that state.
fn failure_reason(order: &Order, events: &[(OrderEvent, Option<String>)]) -> Option<String> {
    if order.status != crate::domain::OrderStatus::ProvisioningFailed {
        return None;
    }
    let last = events.iter().rev().find(|(e, _)| e.kind == crate::domain::EventKind::ProvisioningFailed)?;
    Some(last.0.details["reason"].as_str().unwrap_or("no reason was recorded").to_string())
}

/// An order id from the path; anything else is no such order.
pub(super) fn parse_id(id: &str) -> Result<Uuid, Error> {
    Uuid::parse_str(id).map_err(|_| Error::NotFound("order"))
}

async fn page(state: &AppState, ctx: PageContext, id: Uuid) -> Result<OrderAdminPage, HtmlError> {
    let StaffView { order, esim, events, account_email } = orders::for_staff(&state.pool, id).await?;
    let refundable = order_admin::refundable(&state.pool, &order).await?;
    let reference = crate::domain::order::short_reference(order.id);
    Ok(OrderAdminPage {
        ctx: ctx.titled(&format!("Order {reference}")),
        placed: crate::domain::order::utc_label(order.created_at),
        failure: failure_reason(&order, &events),
        reference,
        refunded: Money::new(order.amount.minor - refundable.minor, order.amount.currency.clone()),
        refundable,
        esim,
        events,
        notice: None,
        note_errors: FieldErrors::default(),
        refund_errors: FieldErrors::default(),
        account_email,
        order,
    })
}

/// Which form a field error belongs to.
enum Field {
    Refund,
    Note,
}

/// The order page again (`FORM_REFUSED`), with the message beside the field that was wrong.
async fn rerender(
    state: &AppState,
    ctx: PageContext,
    id: Uuid,
    field: Field,
    errors: Vec<crate::error::FieldError>,
) -> Result<Response, HtmlError> {
    let mut p = page(state, ctx, id).await?;
    match field {
        Field::Refund => p.refund_errors = errors.into(),
        Field::Note => p.note_errors = errors.into(),
    }
    Ok((FORM_REFUSED, p).into_response())
}

#[derive(Deserialize)]
pub struct Notice {
    done: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    StaffUser(_): StaffUser,
    ctx: PageContext,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<Notice>,
) -> Result<Response, HtmlError> {
    let mut p = page(&state, ctx, parse_id(&id)?).await?;
    p.notice = q.done.as_deref().and_then(notice_for).map(str::to_owned);
    Ok(p.into_response())
}

/// What an action did, in words, for the notice its redirect shows; unknown keys show none.
fn notice_for(done: &str) -> Option<&'static str> {
    Some(match done {
        "retry" => "Provisioning was queued again; the order moves on within seconds.",
        "refreshed" => "The SIM's status was read again from Telnyx.",
        "enabled" => "The SIM was enabled at Telnyx.",
        "disabled" => "The SIM was disabled at Telnyx.",
        "refunded" => "The refund was sent to Stripe. A full refund also disables the SIM within seconds.",
        "cancelled" => "The order was cancelled and its checkout closed.",
        "noted" => "The note was added to the timeline.",
        _ => return None,
    })
}

fn done(id: Uuid, what: &str) -> Response {
    Redirect::to(&format!("/admin/orders/{id}?done={what}")).into_response()
}

async fn retry(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    let id = parse_id(&id)?;
    order_admin::retry_provisioning(&state.pool, &Operator { user: &user, ip }, id).await?;
    Ok(done(id, "retry"))
}

async fn refresh_sim(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    let id = parse_id(&id)?;
    order_admin::refresh_sim(&state.pool, &state.provisioner, &Operator { user: &user, ip }, id).await?;
    Ok(done(id, "refreshed"))
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    amount: String,
    confirmed: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/confirm.html")]
pub struct ConfirmPage {
    pub ctx: PageContext,
    pub question: String,
    pub action_url: String,
    pub fields: Vec<(&'static str, String)>,
    pub back: String,
}

fn confirm(
    ctx: PageContext,
    question: String,
    action_url: String,
    fields: Vec<(&'static str, String)>,
    id: Uuid,
) -> Result<Response, HtmlError> {
    Ok(ConfirmPage {
        ctx: ctx.titled("Please confirm"),
        question,
        action_url,
        fields,
        back: format!("/admin/orders/{id}"),
    }
    .into_response())
}

async fn set_sim(
    State(state): State<AppState>,
    ReauthedAdmin(user): ReauthedAdmin,
    ctx: PageContext,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, HtmlError> {
    let id = parse_id(&id)?;
    let enable = match form.action.as_str() {
        "enable" => true,
        "disable" => false,
        _ => return Err(Error::BadRequest { code: "bad_action", message: "Choose enable or disable.".into() }.into()),
    };
    if form.confirmed.as_deref() != Some("yes") {
        let question = format!(
            "{} the eSIM of order {id}? The traveller's data {} at once.",
            if enable { "Enable" } else { "Disable" },
            if enable { "works again" } else { "stops" }
        );
        return confirm(ctx, question, format!("/admin/orders/{id}/sim"), vec![("action", form.action)], id);
    }
    order_admin::set_sim_enabled(&state.pool, &state.provisioner, &Operator { user: &user, ip }, id, enable).await?;
    Ok(done(id, if enable { "enabled" } else { "disabled" }))
}

/// The refund amount typed in the order's currency (`Money::parse_major`); `None` for an empty
/// field (refund everything left).
fn parse_amount(raw: &str, currency: &str) -> Result<Option<Money>, Error> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    Money::parse_major(raw, currency).map(Some).map_err(|message| Error::invalid("amount", message))
}

async fn refund(
    State(state): State<AppState>,
    ReauthedAdmin(user): ReauthedAdmin,
    ctx: PageContext,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, HtmlError> {
    let id = parse_id(&id)?;
    let order = orders::by_id(&state.pool, id).await?;
    let amount = match parse_amount(&form.amount, &order.amount.currency) {
        Ok(a) => a,
        Err(Error::Invalid(fields)) => return rerender(&state, ctx, id, Field::Refund, fields).await,
        Err(e) => return Err(e.into()),
    };
    if form.confirmed.as_deref() != Some("yes") {
        let left = order_admin::refundable(&state.pool, &order).await?;
        let what = amount.map(|a| a.to_string()).unwrap_or_else(|| format!("everything left ({left})"));
        let question = format!(
            "Refund {what} of order {id} to {}? Money goes back to the card; this cannot be undone.",
            order.email
        );
        return confirm(ctx, question, format!("/admin/orders/{id}/refund"), vec![("amount", form.amount)], id);
    }
    match order_admin::refund(&state.pool, &state.payments, &Operator { user: &user, ip }, id, amount.map(|a| a.minor))
        .await
    {
        Ok(_) => Ok(done(id, "refunded")),
        Err(Error::Invalid(fields)) => rerender(&state, ctx, id, Field::Refund, fields).await,
        Err(e) => Err(e.into()),
    }
}

async fn cancel(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    ctx: PageContext,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, HtmlError> {
    let id = parse_id(&id)?;
    if form.confirmed.as_deref() != Some("yes") {
        return confirm(
            ctx,
            format!("Cancel unpaid order {id}? Its payment page stops working."),
            format!("/admin/orders/{id}/cancel"),
            vec![],
            id,
        );
    }
    order_admin::cancel_unpaid(&state.pool, &state.payments, &Operator { user: &user, ip }, id).await?;
    Ok(done(id, "cancelled"))
}

#[derive(Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    note: String,
}

async fn add_note(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ctx: PageContext,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Form(form): Form<NoteForm>,
) -> Result<Response, HtmlError> {
    let id = parse_id(&id)?;
    match order_admin::add_note(&state.pool, &Operator { user: &user, ip }, id, &form.note).await {
        Ok(()) => Ok(done(id, "noted")),
        Err(Error::Invalid(fields)) => rerender(&state, ctx, id, Field::Note, fields).await,
        Err(e) => Err(e.into()),
    }
}

impl OrderAdminPage {
    pub fn is_failed(&self) -> bool {
        self.order.status == OrderStatus::ProvisioningFailed
    }

    pub fn is_unpaid(&self) -> bool {
        self.order.status == OrderStatus::AwaitingPayment
    }

    pub fn can_refund(&self) -> bool {
        self.order.status.is_paid() && self.refundable.minor > 0 && self.order.stripe_payment_intent_id.is_some()
    }

    /// The refund field's hint: how to type an amount in the order's currency.
    pub fn refund_hint(&self) -> String {
        let currency = &self.order.amount.currency;
        match Money::exponent_of(currency) {
            0 => format!("In {currency}, which has no decimals: a whole amount, such as 1500."),
            _ => format!("In {currency}, such as 12.50."),
        }
    }

    pub fn refund_label(&self) -> String {
        format!("Refund amount (empty: all {} left)", self.refundable)
    }

    pub fn details_text(event: &OrderEvent) -> String {
        if event.details.as_object().is_some_and(|o| o.is_empty()) { String::new() } else { event.details.to_string() }
    }
}
