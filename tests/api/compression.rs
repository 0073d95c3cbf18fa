//! Compression for the public pages a traveller on roaming data loads (issue 13): gzip and
//! brotli that decode to the very page, a home page under 10 KB over the wire, and nothing
//! compressed that carries a secret (an order's page, a form with its CSRF token).

use std::io::Read;

use crate::helpers::{TestApp, spawn_app};

/// GET `path` asking for `encoding`: (Content-Encoding, the bytes as sent). reqwest is built
/// without its decompression features, so the body is what went over the wire.
async fn fetch(app: &TestApp, path: &str, encoding: &str) -> (Option<String>, Vec<u8>) {
    let response = app.client.get(app.url(path)).header("accept-encoding", encoding).send().await.unwrap();
    assert_eq!(response.status(), 200, "GET {path}");
    let sent = response.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_string());
    (sent, response.bytes().await.unwrap().to_vec())
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).unwrap();
    out
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(bytes, 4096).read_to_end(&mut out).unwrap();
    out
}

#[tokio::test]
async fn public_pages_go_out_as_gzip_or_brotli_and_decode_to_the_page() {
    let app = spawn_app().await;
    for path in ["/", "/destinations/jp", "/help", "/api/v1/plans", "/api/v1/openapi.json", "/static/css/tern.css"] {
        let (plain_encoding, plain) = fetch(&app, path, "identity").await;
        assert_eq!(plain_encoding, None, "{path} uncompressed when not asked");
        let (gzip_encoding, gzip) = fetch(&app, path, "gzip").await;
        assert_eq!(gzip_encoding.as_deref(), Some("gzip"), "{path}");
        assert_eq!(gunzip(&gzip), plain, "{path}: gzip decodes to the page");
        let (br_encoding, br) = fetch(&app, path, "br, gzip").await;
        assert_eq!(br_encoding.as_deref(), Some("br"), "{path}: brotli preferred");
        assert_eq!(unbrotli(&br), plain, "{path}: brotli decodes to the page");
        assert!(br.len() < plain.len() / 2, "{path}: {} bytes for {}", br.len(), plain.len());
    }
    let (_, home) = fetch(&app, "/", "gzip").await;
    assert!(home.len() <= 10 * 1024, "the home page is {} bytes over the wire with gzip", home.len());
}

#[tokio::test]
async fn nothing_carrying_a_secret_is_compressed() {
    let app = spawn_app().await;
    let (plan_id, _) = app.some_plan().await;
    // The checkout form carries the session's CSRF token.
    let (encoding, _) = fetch(&app, &format!("/plans/{plan_id}/checkout"), "br, gzip").await;
    assert_eq!(encoding, None, "a page with a CSRF token");
    // The order page carries the order's details (and, once ready, its activation code).
    let (id, _, _) = app.buy_plan(&plan_id).await;
    let (encoding, _) = fetch(&app, &format!("/orders/{id}"), "br, gzip").await;
    assert_eq!(encoding, None, "an order page");
    let (encoding, _) = fetch(&app, "/account/sign-in", "br, gzip").await;
    assert_eq!(encoding, None, "the sign-in form");
}
