//! Reading the development mailbox (`dev_mailbox`): each stored message parsed (mail-parser)
//! into what `/_dev/mail` shows, as letter_opener or Mailpit do: headers, text, HTML with its
//! `cid:` images pointing at the attachments, and the attachments themselves.

use mail_parser::{MessageParser, MimeHeaders};

use crate::db::{self, Pool};
use crate::error::{Error, Result};

/// A message in the list.
#[derive(Debug, Clone)]
pub struct MailboxEntry {
    pub id: i64,
    pub to: String,
    pub subject: String,
    pub received_at: String,
}

#[derive(Debug, Clone)]
pub struct MailboxAttachment {
    pub index: usize,
    pub name: String,
    pub content_type: String,
    pub content_id: Option<String>,
    pub size: usize,
}

/// One message, opened.
#[derive(Debug, Clone)]
pub struct MailboxMessage {
    pub id: i64,
    pub envelope_from: String,
    pub envelope_to: Vec<String>,
    pub subject: String,
    /// The header block as it arrived.
    pub headers: String,
    pub text: Option<String>,
    pub html: Option<String>,
    pub attachments: Vec<MailboxAttachment>,
    pub raw: Vec<u8>,
}

fn received(at: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    at.to_offset(time::UtcOffset::UTC).format(&f).unwrap_or_default()
}

/// The newest 200 messages.
pub async fn list(pool: &Pool) -> Result<Vec<MailboxEntry>> {
    Ok(db::mail::messages(pool, 200)
        .await?
        .into_iter()
        .map(|m| {
            let subject = MessageParser::default().parse(&m.raw).and_then(|p| p.subject().map(String::from));
            MailboxEntry {
                id: m.id,
                to: m.rcpt_to.join(", "),
                subject: subject.unwrap_or_else(|| "(no subject)".into()),
                received_at: received(m.received_at),
            }
        })
        .collect())
}

/// One message; `base` is where its attachments are served, for the HTML's `cid:` links.
pub async fn open(pool: &Pool, id: i64, base: &str) -> Result<MailboxMessage> {
    let stored = db::mail::message(pool, id).await?.ok_or(Error::NotFound("message"))?;
    let parsed = MessageParser::default().parse(&stored.raw).ok_or(Error::NotFound("message"))?;
    let attachments: Vec<MailboxAttachment> = parsed
        .attachments()
        .enumerate()
        .map(|(index, part)| MailboxAttachment {
            index,
            name: part.attachment_name().unwrap_or("attachment").to_string(),
            content_type: part
                .content_type()
                .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("octet-stream")))
                .unwrap_or_else(|| "application/octet-stream".into()),
            content_id: part.content_id().map(String::from),
            size: part.contents().len(),
        })
        .collect();
    let html = parsed.body_html(0).map(|html| {
        attachments.iter().fold(html.into_owned(), |html, a| match &a.content_id {
            Some(cid) => html.replace(&format!("cid:{cid}"), &format!("{base}/attachments/{}", a.index)),
            None => html,
        })
    });
    let raw_text = String::from_utf8_lossy(&stored.raw);
    let headers = raw_text.split("\r\n\r\n").next().unwrap_or_default().to_string();
    Ok(MailboxMessage {
        id: stored.id,
        envelope_from: stored.mail_from.clone(),
        envelope_to: stored.rcpt_to.clone(),
        subject: parsed.subject().unwrap_or("(no subject)").to_string(),
        headers,
        text: parsed.body_text(0).map(|t| t.into_owned()),
        html,
        attachments,
        raw: stored.raw.clone(),
    })
}

/// One attachment's bytes and content type.
pub async fn attachment(pool: &Pool, id: i64, index: usize) -> Result<(String, Vec<u8>)> {
    let stored = db::mail::message(pool, id).await?.ok_or(Error::NotFound("message"))?;
    let parsed = MessageParser::default().parse(&stored.raw).ok_or(Error::NotFound("message"))?;
    let part = parsed.attachments().nth(index).ok_or(Error::NotFound("attachment"))?;
    let content_type = part
        .content_type()
        .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("octet-stream")))
        .unwrap_or_else(|| "application/octet-stream".into());
    Ok((content_type, part.contents().to_vec()))
}
