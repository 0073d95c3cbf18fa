//! Webhook endpoints for admins at `/admin/webhooks`: the list and a create form, and one
//! endpoint's page with its delivery log and what the API can do (enable or disable, rotate the
//! secret, test, recover since a time, retry a delivery, delete). A new secret is shown once, on
//! the page that answers its creation. Every action is audited (`services::webhooks::endpoints`).

use crate::http::errors::FORM_REFUSED;
use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use secrecy::ExposeSecret;

use super::AdminUser;
use crate::domain::order::utc_label as utc;
use crate::domain::webhook::EventType;
use crate::error::Error;
use crate::http::auth::ClientIp;
use crate::http::errors::HtmlError;
use crate::http::forms::FieldErrors;
use crate::http::page::PageContext;
use crate::http::state::AppState;
use crate::services::webhooks::endpoints::{self, Delivery, Endpoint, EndpointInput, Manager};
use crate::services::{Operator, Pool};

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/webhooks", get(list).post(create))
        .route("/webhooks/{id}", get(show))
        .route("/webhooks/{id}/enabled", post(set_enabled))
        .route("/webhooks/{id}/rotate", post(rotate))
        .route("/webhooks/{id}/test", post(test))
        .route("/webhooks/{id}/recover", post(recover))
        .route("/webhooks/{id}/delete", post(delete))
        .route("/webhook-deliveries/{id}/retry", post(retry))
}

/// A type's checkbox.
pub struct TypeChoice {
    pub name: &'static str,
    pub checked: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/webhooks.html")]
pub struct WebhooksPage {
    pub ctx: PageContext,
    pub endpoints: Vec<Endpoint>,
    pub url: String,
    pub description: String,
    pub types: Vec<TypeChoice>,
    pub errors: FieldErrors,
}

pub struct DeliveryLine {
    pub id: i64,
    pub when: String,
    pub event_type: String,
    pub attempt: i32,
    pub outcome: String,
    pub latency_ms: i32,
    pub excerpt: String,
}

impl From<Delivery> for DeliveryLine {
    fn from(d: Delivery) -> Self {
        let outcome = match (d.status_code, d.error) {
            (Some(status), _) => status.to_string(),
            (None, Some(error)) => error,
            (None, None) => "—".into(),
        };
        Self {
            id: d.id,
            when: utc(d.attempted_at),
            event_type: d.event_type,
            attempt: d.attempt,
            outcome,
            latency_ms: d.latency_ms,
            excerpt: d.response_excerpt.unwrap_or_default(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/webhook.html")]
pub struct WebhookPage {
    pub ctx: PageContext,
    pub endpoint: Endpoint,
    pub types: String,
    pub created: String,
    pub deliveries: Vec<DeliveryLine>,
    /// A secret just made, shown this once.
    pub secret: Option<String>,
    pub notice: Option<String>,
    pub since: String,
    pub errors: FieldErrors,
}

/// The form's fields, repeated `event_types` included.
fn fields(body: &Bytes) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

fn field(fields: &[(String, String)], name: &str) -> Option<String> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

fn list_page(ctx: PageContext, endpoints: Vec<Endpoint>, input: &EndpointInput, errors: FieldErrors) -> WebhooksPage {
    let chosen = input.event_types.clone().unwrap_or_default();
    let types = EventType::subscribable()
        .map(|t| TypeChoice { name: t.as_str(), checked: chosen.iter().any(|c| c == t.as_str()) });
    WebhooksPage {
        ctx: ctx.titled("Webhooks"),
        endpoints,
        url: input.url.clone().unwrap_or_default(),
        description: input.description.clone().unwrap_or_default(),
        types: types.collect(),
        errors,
    }
}

async fn list(
    AdminUser(user): AdminUser,
    ctx: PageContext,
    State(pool): State<Pool>,
) -> Result<WebhooksPage, HtmlError> {
    let op = Operator { user: &user, ip: None };
    let all = endpoints::list(&pool, &Manager::Operator(&op)).await?;
    Ok(list_page(ctx, all, &EndpointInput::default(), FieldErrors::default()))
}

async fn create(
    AdminUser(user): AdminUser,
    ctx: PageContext,
    ClientIp(ip): ClientIp,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, HtmlError> {
    let form = fields(&body);
    let input = EndpointInput {
        url: Some(field(&form, "url").unwrap_or_default()),
        description: field(&form, "description"),
        event_types: Some(form.iter().filter(|(k, _)| k == "event_types").map(|(_, v)| v.clone()).collect()),
        enabled: Some(true),
    };
    let op = Operator { user: &user, ip };
    let manager = Manager::Operator(&op);
    match endpoints::create(&state.pool, &state.webhooks, &manager, &input).await {
        Ok((endpoint, secret)) => {
            let secret = Some(secret.expose_secret().to_string());
            Ok(page(&state.pool, ctx, &manager, endpoint, secret, Some("Endpoint created".into()))
                .await?
                .into_response())
        }
        Err(Error::Invalid(errors)) => {
            let all = endpoints::list(&state.pool, &manager).await?;
            Ok((FORM_REFUSED, list_page(ctx, all, &input, errors.into())).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

async fn page(
    pool: &Pool,
    ctx: PageContext,
    manager: &Manager<'_>,
    endpoint: Endpoint,
    secret: Option<String>,
    notice: Option<String>,
) -> Result<WebhookPage, Error> {
    let deliveries = endpoints::deliveries(pool, manager, &endpoint.id.to_string()).await?;
    let types = if endpoint.event_types.is_empty() { "every type".into() } else { endpoint.event_types.join(", ") };
    Ok(WebhookPage {
        ctx: ctx.titled("Webhook endpoint"),
        types,
        created: utc(endpoint.created_at),
        endpoint,
        deliveries: deliveries.into_iter().map(DeliveryLine::from).collect(),
        secret,
        notice,
        since: String::new(),
        errors: FieldErrors::default(),
    })
}

async fn show(
    AdminUser(user): AdminUser,
    ctx: PageContext,
    State(pool): State<Pool>,
    Path(id): Path<String>,
) -> Result<WebhookPage, HtmlError> {
    let op = Operator { user: &user, ip: None };
    let manager = Manager::Operator(&op);
    let endpoint = endpoints::get(&pool, &manager, &id).await?;
    Ok(page(&pool, ctx, &manager, endpoint, None, None).await?)
}

fn back(id: &str) -> Response {
    Redirect::to(&format!("/admin/webhooks/{id}")).into_response()
}

async fn set_enabled(
    AdminUser(user): AdminUser,
    ClientIp(ip): ClientIp,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, HtmlError> {
    let op = Operator { user: &user, ip };
    let enabled = field(&fields(&body), "enabled").as_deref() == Some("true");
    let input = EndpointInput { enabled: Some(enabled), ..Default::default() };
    endpoints::update(&state.pool, &state.webhooks, &Manager::Operator(&op), &id, &input).await?;
    Ok(back(&id))
}

async fn rotate(
    AdminUser(user): AdminUser,
    ctx: PageContext,
    ClientIp(ip): ClientIp,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<WebhookPage, HtmlError> {
    let op = Operator { user: &user, ip };
    let manager = Manager::Operator(&op);
    let (endpoint, secret) = endpoints::rotate_secret(&state.pool, &state.webhooks, &manager, &id).await?;
    let notice = Some("New secret made; the old one signs too for 24 hours".to_string());
    Ok(page(&state.pool, ctx, &manager, endpoint, Some(secret.expose_secret().to_string()), notice).await?)
}

async fn test(
    AdminUser(user): AdminUser,
    ClientIp(ip): ClientIp,
    State(pool): State<Pool>,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    let op = Operator { user: &user, ip };
    endpoints::send_test(&pool, &Manager::Operator(&op), &id).await?;
    Ok(back(&id))
}

async fn recover(
    AdminUser(user): AdminUser,
    ctx: PageContext,
    ClientIp(ip): ClientIp,
    State(pool): State<Pool>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, HtmlError> {
    let op = Operator { user: &user, ip };
    let manager = Manager::Operator(&op);
    // The form's datetime-local input is UTC without a zone.
    let since = field(&fields(&body), "since").unwrap_or_default();
    let rfc3339 = if since.len() == 16 { format!("{since}:00Z") } else { since.clone() };
    match endpoints::recover(&pool, &manager, &id, Some(&rfc3339)).await {
        Ok(n) => {
            let endpoint = endpoints::get(&pool, &manager, &id).await?;
            let notice = Some(format!("{n} events queued to be sent again"));
            Ok(page(&pool, ctx, &manager, endpoint, None, notice).await?.into_response())
        }
        Err(Error::Invalid(errors)) => {
            let endpoint = endpoints::get(&pool, &manager, &id).await?;
            let mut refused = page(&pool, ctx, &manager, endpoint, None, None).await?;
            refused.since = since;
            refused.errors = errors.into();
            Ok((FORM_REFUSED, refused).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

async fn delete(
    AdminUser(user): AdminUser,
    ClientIp(ip): ClientIp,
    State(pool): State<Pool>,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    let op = Operator { user: &user, ip };
    endpoints::delete(&pool, &Manager::Operator(&op), &id).await?;
    Ok(Redirect::to("/admin/webhooks").into_response())
}

async fn retry(
    AdminUser(user): AdminUser,
    ClientIp(ip): ClientIp,
    State(pool): State<Pool>,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    let op = Operator { user: &user, ip };
    let attempt = endpoints::retry(&pool, &Manager::Operator(&op), &id).await?;
    Ok(back(&attempt.endpoint_id.to_string()))
}
