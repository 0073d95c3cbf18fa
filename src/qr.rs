//! QR codes as PNG images, large enough to scan from another screen, with their quiet zone:
//! drawn once here for the order page, the eSIM API and the "eSIM ready" email.

use image::{ImageFormat, Luma};
use qrcode::{EcLevel, QrCode};

/// A PNG of `text` as a QR code (medium error correction, at least 320 px, 4-module quiet zone).
pub fn png(text: &str) -> anyhow::Result<Vec<u8>> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)?;
    let image = code.render::<Luma<u8>>().quiet_zone(true).min_dimensions(320, 320).build();
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, ImageFormat::Png)?;
    Ok(out.into_inner())
}
