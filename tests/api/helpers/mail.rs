//! Reading what the development SMTP server received: each message parsed with mail-parser.

use mail_parser::{MessageParser, MimeHeaders};

use super::{TestApp, eventually};

/// One received message.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: Vec<String>,
    pub raw: Vec<u8>,
}

impl Mail {
    fn parsed(&self) -> mail_parser::Message<'_> {
        MessageParser::default().parse(&self.raw).expect("a parseable message")
    }

    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_string()
    }

    pub fn text(&self) -> String {
        self.parsed().body_text(0).map(|t| t.into_owned()).unwrap_or_default()
    }

    pub fn html(&self) -> String {
        self.parsed().body_html(0).map(|t| t.into_owned()).unwrap_or_default()
    }

    pub fn message_id(&self) -> String {
        self.parsed().message_id().unwrap_or_default().to_string()
    }

    pub fn header_to(&self) -> String {
        let parsed = self.parsed();
        parsed.to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default().to_string()
    }

    /// The inline attachments: (Content-ID, content type, bytes).
    pub fn inline_parts(&self) -> Vec<(String, String, Vec<u8>)> {
        self.parsed()
            .attachments()
            .filter_map(|part| {
                let cid = part.content_id()?.to_string();
                let ctype = part
                    .content_type()
                    .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("")))
                    .unwrap_or_default();
                Some((cid, ctype, part.contents().to_vec()))
            })
            .collect()
    }

    /// The first link in the text part that starts with `prefix`.
    pub fn link(&self, prefix: &str) -> String {
        let text = self.text();
        text.split_whitespace()
            .find(|w| w.starts_with(prefix))
            .unwrap_or_else(|| panic!("no link starting with {prefix} in:\n{text}"))
            .to_string()
    }
}

impl TestApp {
    /// Every message received so far, oldest first.
    pub async fn mails(&self) -> Vec<Mail> {
        let mut all: Vec<Mail> =
            self.mailbox.messages().await.unwrap().into_iter().map(|m| Mail { to: m.rcpt_to, raw: m.raw }).collect();
        all.reverse();
        all
    }

    /// Messages to `to` whose subject contains `subject`.
    pub async fn mails_to(&self, to: &str, subject: &str) -> Vec<Mail> {
        self.mails()
            .await
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(to)) && m.subject().contains(subject))
            .collect()
    }

    /// Waits (bounded) for a message to `to` whose subject contains `subject`.
    pub async fn wait_for_mail(&self, to: &str, subject: &str) -> Mail {
        eventually(&format!("an email \"{subject}\" reaches {to}"), || async {
            !self.mails_to(to, subject).await.is_empty()
        })
        .await;
        self.mails_to(to, subject).await.remove(0)
    }
}
