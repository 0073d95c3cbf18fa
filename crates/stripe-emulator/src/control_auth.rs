//! The test controls' guard: every `/_emulator/…` request must carry this run's control token
//! in `X-Emulator-Token`, so that a web page the developer happens to visit cannot drive the
//! emulator: it does not know the token, and a cross-site request cannot even send the header
//! without a CORS preflight, which is never answered.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::RngCore;
use serde_json::json;

use super::state::Shared;

/// The header the token travels in.
pub const HEADER: &str = "x-emulator-token";

/// A fresh token for one run: 192 random bits, hex.
pub fn generate() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub async fn require(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let sent = request.headers().get(HEADER).map(|v| v.as_bytes()).unwrap_or_default();
    let expected = shared.control_token.as_bytes();
    let same = sent.len() == expected.len() && sent.iter().zip(expected).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    if same {
        return next.run(request).await;
    }
    let message = "Test controls need this run's control token in the X-Emulator-Token header \
                   (printed by `tern emulators`; `control_token()` on the emulator handle).";
    (StatusCode::UNAUTHORIZED, Json(json!({ "error": { "message": message } }))).into_response()
}
