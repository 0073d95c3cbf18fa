//! Emails as askama templates (`templates/email/`): each message an HTML part and a plain-text
//! part with the same content, no remote images (the QR code is a CID-inline attachment), legible
//! in dark mode and on small screens. `render` is the renderer the mailer is built with.

use askama::Template;

use crate::services::mail::{Content, Email, EsimReady, OrderSummary, Rendered};

/// What every email shows besides its own content.
pub struct Frame<'a> {
    pub support_email: &'a str,
    pub shop_url: &'a str,
}

macro_rules! email_templates {
    ($($name:ident, $html:literal, $text:literal, { $($field:ident: $ty:ty),* $(,)? };)*) => {
        $(
            pub mod $name {
                use super::*;
                #[derive(Template)]
                #[template(path = $html)]
                pub struct Html<'a> { pub frame: Frame<'a>, $(pub $field: $ty,)* }
                #[derive(Template)]
                #[template(path = $text)]
                pub struct Text<'a> { pub frame: Frame<'a>, $(pub $field: $ty,)* }
            }
        )*
    };
}

email_templates! {
    payment_received, "email/payment_received.html", "email/payment_received.txt", { order: &'a OrderSummary };
    esim_ready, "email/esim_ready.html", "email/esim_ready.txt", { esim: &'a EsimReady, order: &'a OrderSummary };
    provisioning_failed, "email/provisioning_failed.html", "email/provisioning_failed.txt",
        { order: &'a OrderSummary, refunded: &'a str };
    refunded, "email/refunded.html", "email/refunded.txt", { order: &'a OrderSummary, amount: &'a str, full: bool };
    find_orders, "email/find_orders.html", "email/find_orders.txt", { orders: &'a [OrderSummary] };
    account_link, "email/account_link.html", "email/account_link.txt",
        { heading: &'a str, intro: &'a str, button: &'a str, link: &'a str, after: &'a str };
}

/// Renders both parts of one template pair.
macro_rules! both {
    ($module:ident, $frame:expr, { $($field:ident: $value:expr),* $(,)? }) => {{
        let html = $module::Html { frame: $frame, $($field: $value,)* }.render()?;
        let text = $module::Text { frame: $frame, $($field: $value,)* }.render()?;
        (html, text)
    }};
}

/// The subject, HTML and text of `email`.
pub fn render(email: &Email) -> anyhow::Result<Rendered> {
    let frame = || Frame { support_email: &email.support_email, shop_url: &email.shop_url };
    let (subject, (html, text)) = match &email.content {
        Content::PaymentReceived(order) => (
            format!("Payment received: {} ({})", order.plan_name, order.reference),
            both!(payment_received, frame(), { order: order }),
        ),
        Content::EsimReady(esim) => (
            format!("Your eSIM is ready: {}", esim.order.plan_name),
            both!(esim_ready, frame(), { esim: esim, order: &esim.order }),
        ),
        Content::ProvisioningFailed { order, refunded } => (
            format!("We could not prepare your eSIM ({})", order.reference),
            both!(provisioning_failed, frame(), { order: order, refunded: refunded.as_deref().unwrap_or_default() }),
        ),
        Content::Refunded { order, amount, full } => (
            format!("Refund issued: {amount} ({})", order.reference),
            both!(refunded, frame(), { order: order, amount: amount, full: *full }),
        ),
        Content::FindOrders(orders) => {
            ("Your Tern orders".to_string(), both!(find_orders, frame(), { orders: orders }))
        }
        Content::VerifyEmail { link } => (
            "Confirm your email address".to_string(),
            both!(account_link, frame(), {
                heading: "Confirm your email address",
                intro: "Open this link to confirm the address of your new Tern account. Orders placed with this address then appear under My eSIMs.",
                button: "Confirm my address",
                link: link,
                after: "The link works for 24 hours. If you did not create an account, ignore this email.",
            }),
        ),
        Content::ResetPassword { link } => (
            "Reset your Tern password".to_string(),
            both!(account_link, frame(), {
                heading: "Reset your password",
                intro: "Someone asked to reset the password of the Tern account with this address. Open this link to choose a new one.",
                button: "Choose a new password",
                link: link,
                after: "The link works once, for one hour. If you did not ask, ignore this email: your password stays as it is.",
            }),
        ),
        Content::AccountExists { sign_in_link, reset_link } => (
            "You already have a Tern account".to_string(),
            both!(account_link, frame(), {
                heading: "You already have an account",
                intro: "Someone tried to create a Tern account with this address, which already has one. Sign in instead:",
                button: "Sign in",
                link: sign_in_link,
                after: &format!("Forgot your password? Reset it at {reset_link}. If this was not you, ignore this email."),
            }),
        ),
    };
    Ok(Rendered { subject, html, text })
}
