//! Trust pages: help (FAQ), compatible devices (kept as data in `devices.txt`, searchable),
//! the refund policy as the shop applies it, terms, privacy and contact.

use askama::Template;
use askama_web::WebTemplate;
use axum::response::{IntoResponse, Response};

use super::Layout;
use crate::domain::search::fold;
use crate::http::errors::HtmlError;
use crate::http::extract::QueryParams;
use crate::http::page::PageContext;

const DEVICES: &str = include_str!("devices.txt");

/// One line of the devices list.
pub struct Device {
    pub brand: &'static str,
    pub models: &'static str,
}

fn devices() -> impl Iterator<Item = Device> {
    DEVICES
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('|'))
        .map(|(brand, models)| Device { brand: brand.trim(), models: models.trim() })
}

/// Devices whose brand or model names contain every word of `q` (case and accents ignored).
pub fn matching_devices(q: &str) -> Vec<Device> {
    let words: Vec<String> = fold(q).split(' ').filter(|w| !w.is_empty()).map(str::to_string).collect();
    devices()
        .filter(|d| {
            let text = fold(&format!("{} {}", d.brand, d.models));
            words.iter().all(|w| text.contains(w.as_str()))
        })
        .collect()
}

macro_rules! static_page {
    ($name:ident, $path:literal, $handler:ident, $title:literal, $description:literal) => {
        #[derive(Template, WebTemplate)]
        #[template(path = $path)]
        pub struct $name {
            pub ctx: PageContext,
        }

        pub async fn $handler() -> Response {
            let layout = Layout::new($title).described($description.to_string());
            $name { ctx: PageContext::public(layout) }.into_response()
        }
    };
}

static_page!(
    HelpPage,
    "policy/help.html",
    help,
    "Help and questions",
    "Installing your eSIM, when validity starts, running out of data, roaming, and why there is no phone number."
);
static_page!(
    RefundPage,
    "policy/refund.html",
    refund_policy,
    "Refund policy",
    "When and how Tern refunds an eSIM order."
);
static_page!(TermsPage, "policy/terms.html", terms, "Terms of sale", "The terms under which Tern sells data eSIMs.");
static_page!(
    PrivacyPage,
    "policy/privacy.html",
    privacy,
    "Privacy",
    "What Tern keeps about you, why, and for how long."
);
static_page!(ContactPage, "policy/contact.html", contact, "Contact us", "How to reach Tern's support team.");

#[derive(Template, WebTemplate)]
#[template(path = "policy/devices.html")]
pub struct DevicesPage {
    pub ctx: PageContext,
    pub q: String,
    pub devices: Vec<Device>,
}

/// `/devices?q=pixel`: the compatible-devices list, narrowed by a search.
pub async fn compatible_devices(QueryParams(params): QueryParams) -> Result<Response, HtmlError> {
    let q = params.text("q")?.unwrap_or_default();
    let layout = Layout::new("Phones that take eSIMs")
        .described("Compatible phones, tablets and watches for Tern's data eSIMs.".to_string());
    Ok(DevicesPage { ctx: PageContext::public(layout), devices: matching_devices(&q), q }.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_device_list_parses_and_searches_by_every_word() {
        assert!(devices().count() >= 30);
        assert!(matching_devices("").len() >= 30);
        let pixel8 = matching_devices("pixel 8a");
        assert_eq!(pixel8.len(), 1);
        assert_eq!(pixel8[0].brand, "Google");
        assert!(matching_devices("GALAXY s24").iter().all(|d| d.brand == "Samsung"));
        assert!(matching_devices("nokia 3310").is_empty());
    }
}
