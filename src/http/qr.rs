//! QR codes for pages: the shared PNG (`crate::qr`) as a `data:` URL for an `<img src>`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

pub use crate::qr::png;

/// The QR PNG of `text` as a `data:` URL.
pub fn data_url(text: &str) -> anyhow::Result<String> {
    Ok(format!("data:image/png;base64,{}", STANDARD.encode(png(text)?)))
}
