//! The test-mode mailbox at `/_dev/mail` (only while the development mailbox runs, never in
//! production): the messages the in-process SMTP server received, each with its headers, text,
//! HTML (its `cid:` images served from the attachments) and attachments.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::error::Error;
use crate::http::errors::HtmlError;
use crate::http::page::PageContext;
use crate::http::state::SiteMode;
use crate::services::Pool;
use crate::services::mail::mailbox::{self, MailboxEntry, MailboxMessage};

#[derive(Template, WebTemplate)]
#[template(path = "dev/mail_list.html")]
pub struct MailListPage {
    pub ctx: PageContext,
    pub messages: Vec<MailboxEntry>,
}

#[derive(Template, WebTemplate)]
#[template(path = "dev/mail_show.html")]
pub struct MailPage {
    pub ctx: PageContext,
    pub message: MailboxMessage,
}

fn only_in_development(mode: SiteMode) -> Result<(), HtmlError> {
    if mode.dev_mailbox { Ok(()) } else { Err(Error::NotFound("page").into()) }
}

fn message_id(id: &str) -> Result<i64, HtmlError> {
    id.parse().map_err(|_| Error::NotFound("message").into())
}

/// Pages showing mail (tokens, activation codes) are never stored.
fn private(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub async fn list(
    State(mode): State<SiteMode>,
    State(pool): State<Pool>,
    ctx: PageContext,
) -> Result<Response, HtmlError> {
    only_in_development(mode)?;
    let messages = mailbox::list(&pool).await?;
    Ok(private(MailListPage { ctx: ctx.titled("Test mailbox"), messages }.into_response()))
}

pub async fn show(
    State(mode): State<SiteMode>,
    State(pool): State<Pool>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    only_in_development(mode)?;
    let id = message_id(&id)?;
    let message = mailbox::open(&pool, id, &format!("/_dev/mail/{id}")).await?;
    Ok(private(MailPage { ctx: ctx.titled(&message.subject), message }.into_response()))
}

/// The HTML part on its own, as a mail client shows it (no scripts, no forms, no remote loads).
pub async fn html(
    State(mode): State<SiteMode>,
    State(pool): State<Pool>,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    only_in_development(mode)?;
    let id = message_id(&id)?;
    let message = mailbox::open(&pool, id, &format!("/_dev/mail/{id}")).await?;
    let html = message.html.ok_or(Error::NotFound("HTML part"))?;
    let mut response =
        ([(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"))], html).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox allow-top-navigation-by-user-activation allow-popups"),
    );
    Ok(private(response))
}

pub async fn raw(
    State(mode): State<SiteMode>,
    State(pool): State<Pool>,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    only_in_development(mode)?;
    let message = mailbox::open(&pool, message_id(&id)?, "").await?;
    Ok(private(
        ([(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"))], message.raw).into_response(),
    ))
}

pub async fn attachment(
    State(mode): State<SiteMode>,
    State(pool): State<Pool>,
    Path((id, index)): Path<(String, String)>,
) -> Result<Response, HtmlError> {
    only_in_development(mode)?;
    let index: usize = index.parse().map_err(|_| Error::NotFound("attachment"))?;
    let (content_type, bytes) = mailbox::attachment(&pool, message_id(&id)?, index).await?;
    let content_type =
        HeaderValue::from_str(&content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    Ok(private(([(header::CONTENT_TYPE, content_type)], bytes).into_response()))
}
