//! What an email says, before it is rendered: one `Content` per kind of message, the facts it
//! shows, and the renderer (askama templates in `http::email`, wired in at start-up) that turns
//! it into a subject, an HTML part and a text part with the same content.

/// An email to one address.
#[derive(Debug, Clone)]
pub struct Email {
    pub to: String,
    pub content: Content,
    /// `SUPPORT_EMAIL`: the contact every email names.
    pub support_email: String,
    /// The shop's public address (`TERN_PUBLIC_URL`).
    pub shop_url: String,
}

/// The order as emails name it.
#[derive(Debug, Clone)]
pub struct OrderSummary {
    /// The first eight characters of the id, as support asks for it.
    pub reference: String,
    pub plan_name: String,
    pub amount: String,
    pub status: String,
    pub placed_on: String,
    /// Opens the order page (a link token of its own).
    pub link: String,
}

/// The facts of the "eSIM ready" email.
#[derive(Debug, Clone)]
pub struct EsimReady {
    pub order: OrderSummary,
    /// The Content-ID of the QR PNG (`<img src="cid:…">`).
    pub qr_cid: String,
    pub qr_png: Vec<u8>,
    pub activation_code: String,
    pub sm_dp_address: String,
    pub matching_id: String,
    pub confirmation_code_required: bool,
    pub ios_install_url: String,
    pub android_install_url: String,
    pub iccid: String,
    pub data: String,
    pub validity: String,
    pub validity_start: String,
}

#[derive(Debug, Clone)]
pub enum Content {
    PaymentReceived(OrderSummary),
    EsimReady(Box<EsimReady>),
    ProvisioningFailed {
        order: OrderSummary,
        refunded: Option<String>,
    },
    Refunded {
        order: OrderSummary,
        amount: String,
        full: bool,
    },
    /// `/orders/find`: every order of the address.
    FindOrders(Vec<OrderSummary>),
    VerifyEmail {
        link: String,
    },
    ResetPassword {
        link: String,
    },
    /// Someone tried to sign up with an address that has an account.
    AccountExists {
        sign_in_link: String,
        reset_link: String,
    },
}

impl Content {
    /// The inline image the message carries, if any: (Content-ID, PNG).
    pub fn inline_png(&self) -> Option<(&str, &[u8])> {
        match self {
            Content::EsimReady(e) => Some((e.qr_cid.as_str(), e.qr_png.as_slice())),
            _ => None,
        }
    }
}

/// A rendered email.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// Renders an email (the askama templates of `http::email`).
pub type Renderer = fn(&Email) -> anyhow::Result<Rendered>;
