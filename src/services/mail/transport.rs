//! The SMTP side of email: the `Mailer` the worker sends with (lettre over tokio and rustls),
//! building the MIME message (text and HTML alternatives, the QR code as a CID-inline PNG, a
//! Message-ID stable across retries), and what an SMTP refusal means for a retry.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};

use super::message::{Email, Renderer};
use crate::crypto::Cipher;
use crate::services::catalogue::CatalogueStore;

/// SMTP calls end well before the worker's 30 s lease.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// What the mails need besides the transport.
#[derive(Clone)]
pub struct MailSettings {
    /// `MAIL_FROM`, e.g. `Tern <hello@tern.example>`.
    pub from: String,
    /// `SUPPORT_EMAIL`.
    pub support_email: String,
    /// Links in emails start here.
    pub public_url: String,
}

/// The SMTP transport the worker sends with, and what composing a message needs.
#[derive(Clone, Default)]
pub struct Mailer {
    inner: Option<Arc<Inner>>,
}

pub(super) struct Inner {
    pub transport: AsyncSmtpTransport<Tokio1Executor>,
    pub from: Mailbox,
    pub settings: MailSettings,
    pub cipher: Cipher,
    pub catalogue: CatalogueStore,
    pub render: Renderer,
}

/// An SMTP URL in lettre's form: `smtps://user:pass@host:465`,
/// `smtp://user:pass@host:587?tls=required`, or `smtp://host:25`.
pub fn smtp_transport(url: &SecretString) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
        .map_err(|e| anyhow::anyhow!("SMTP_URL cannot be used: {e}"))?;
    Ok(builder.timeout(Some(SMTP_TIMEOUT)).build())
}

/// Plain SMTP to a server on this machine (the development mailbox).
pub fn loopback_transport(port: u16) -> AsyncSmtpTransport<Tokio1Executor> {
    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1").port(port).timeout(Some(SMTP_TIMEOUT)).build()
}

impl Mailer {
    pub fn new(
        transport: AsyncSmtpTransport<Tokio1Executor>,
        settings: MailSettings,
        cipher: Cipher,
        catalogue: CatalogueStore,
        render: Renderer,
    ) -> anyhow::Result<Mailer> {
        let from: Mailbox = settings.from.parse().map_err(|e| anyhow::anyhow!("MAIL_FROM: {e}"))?;
        Ok(Mailer { inner: Some(Arc::new(Inner { transport, from, settings, cipher, catalogue, render })) })
    }

    pub(super) fn inner(&self) -> Option<&Inner> {
        self.inner.as_deref()
    }

    /// The domain Message-IDs are made in (the sender's).
    pub(super) fn id_domain(&self) -> String {
        self.inner.as_ref().map(|i| i.from.email.domain().to_string()).unwrap_or_else(|| "tern.invalid".into())
    }
}

/// How sending one message failed.
#[derive(Debug)]
pub enum SendError {
    /// The server refused the recipient or the message for good (5xx).
    Rejected(String),
    /// Try again later (4xx, connection refused, timeout...).
    Transient(String),
}

/// Renders `email` and hands it to the SMTP server, with `message_id` (without brackets).
pub(super) async fn deliver(inner: &Inner, email: &Email, message_id: &str) -> Result<(), SendError> {
    let to: Mailbox = email.to.parse().map_err(|e| SendError::Rejected(format!("the address cannot be used: {e}")))?;
    let rendered = (inner.render)(email).map_err(|e| SendError::Transient(format!("rendering failed: {e}")))?;
    let html = SinglePart::html(rendered.html);
    let body = match email.content.inline_png() {
        Some((cid, png)) => MultiPart::related().singlepart(html).singlepart(
            Attachment::new_inline(cid.to_string())
                .body(png.to_vec(), ContentType::parse("image/png").expect("image/png")),
        ),
        None => MultiPart::related().singlepart(html),
    };
    let message = Message::builder()
        .from(inner.from.clone())
        .reply_to(inner.settings.support_email.parse().unwrap_or_else(|_| inner.from.clone()))
        .to(to)
        .subject(rendered.subject)
        .message_id(Some(format!("<{message_id}>")))
        .multipart(MultiPart::alternative().singlepart(SinglePart::plain(rendered.text)).multipart(body))
        .map_err(|e| SendError::Rejected(format!("the message cannot be built: {e}")))?;
    crate::clients::observed("smtp", "send", async {
        match inner.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Rejected(smtp_reason(&e))),
            Err(e) => Err(SendError::Transient(smtp_reason(&e))),
        }
    })
    .await
}

/// SMTP sends in the provider metrics (`provider="smtp"`): `rejected` (5xx) or `deferred`.
impl crate::clients::CallOutcome for SendError {
    fn class(&self) -> &'static str {
        match self {
            SendError::Rejected(_) => "rejected",
            SendError::Transient(_) => "deferred",
        }
    }
}

/// The server's answer without anything that could hold a secret (the URL never appears).
fn smtp_reason(e: &lettre::transport::smtp::Error) -> String {
    match e.status() {
        Some(code) => format!("SMTP {code}: {e}"),
        None => format!("SMTP unavailable: {e}"),
    }
}
