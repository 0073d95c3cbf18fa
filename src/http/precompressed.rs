//! Bodies kept compressed ahead of time: a cached catalogue response or a static file is
//! compressed once (gzip and brotli) when it is stored, and each request is answered with the
//! variant its `Accept-Encoding` prefers, so compression costs nothing per request. The
//! compression layer around these routes leaves a response that already has a
//! `Content-Encoding` alone.

use std::io::Write;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// Bodies smaller than this are sent as they are (as the compression layer does).
const MIN_SIZE: usize = 32;

/// How hard to compress: `Quick` on a request's path (a catalogue page rendered for a new
/// snapshot), `Best` for what is compressed once per process (static files).
#[derive(Debug, Clone, Copy)]
pub enum Effort {
    Quick,
    Best,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

/// A body with its compressed variants (each kept only when smaller).
#[derive(Debug, Clone)]
pub struct Precompressed {
    pub identity: Bytes,
    gzip: Option<Bytes>,
    br: Option<Bytes>,
}

impl Precompressed {
    pub fn new(body: Bytes, effort: Effort) -> Self {
        if body.len() < MIN_SIZE {
            return Self { identity: body, gzip: None, br: None };
        }
        let (gzip_level, br_quality) = match effort {
            Effort::Quick => (6, 5),
            Effort::Best => (9, 11),
        };
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(gzip_level));
        let gzip = gz.write_all(&body).and_then(|()| gz.finish()).ok();
        let mut br = Vec::new();
        let params = brotli::enc::BrotliEncoderParams { quality: br_quality, ..Default::default() };
        let br = brotli::BrotliCompress(&mut &body[..], &mut br, &params).ok().map(|_| br);
        let smaller = |v: Option<Vec<u8>>| v.filter(|v| v.len() < body.len()).map(Bytes::from);
        Self { gzip: smaller(gzip), br: smaller(br), identity: body }
    }

    /// Bytes held, all variants together.
    pub fn size(&self) -> usize {
        self.identity.len() + self.gzip.as_ref().map_or(0, Bytes::len) + self.br.as_ref().map_or(0, Bytes::len)
    }

    /// The variant for a request with these headers, and its encoding.
    pub fn pick(&self, request: &HeaderMap) -> (Encoding, Bytes) {
        let accept = request.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("");
        let (br_ok, gzip_ok) = accepted(accept);
        match (&self.br, &self.gzip) {
            (Some(br), _) if br_ok => (Encoding::Brotli, br.clone()),
            (_, Some(gzip)) if gzip_ok => (Encoding::Gzip, gzip.clone()),
            _ => (Encoding::Identity, self.identity.clone()),
        }
    }

    /// The response for a request with these headers: the body in the encoding it prefers,
    /// with `content_type`, `Content-Encoding` and `Vary: Accept-Encoding`.
    pub fn respond(&self, request: &HeaderMap, content_type: HeaderValue) -> Response {
        let (encoding, body) = self.pick(request);
        let mut response = ([(header::CONTENT_TYPE, content_type)], body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        match encoding {
            Encoding::Brotli => headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br")),
            Encoding::Gzip => headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip")),
            Encoding::Identity => None,
        };
        response
    }
}

/// Whether `Accept-Encoding` allows brotli and gzip: named (or `*`) with a q above 0.
fn accepted(accept: &str) -> (bool, bool) {
    let mut br = None;
    let mut gzip = None;
    let mut any = None;
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let ok = Some(q > 0.0);
        match name.as_str() {
            "br" => br = ok,
            "gzip" | "x-gzip" => gzip = ok,
            "*" => any = ok,
            _ => {}
        }
    }
    (br.or(any).unwrap_or(false), gzip.or(any).unwrap_or(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(accept: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(accept).unwrap());
        h
    }

    #[test]
    fn accept_encoding_is_read_with_its_weights() {
        assert_eq!(accepted("gzip, deflate, br"), (true, true));
        assert_eq!(accepted("gzip"), (false, true));
        assert_eq!(accepted("br;q=0, gzip;q=0.5"), (false, true));
        assert_eq!(accepted("*"), (true, true));
        assert_eq!(accepted("*;q=0"), (false, false));
        assert_eq!(accepted("br;q=0, *"), (false, true));
        assert_eq!(accepted(""), (false, false));
        assert_eq!(accepted("identity"), (false, false));
    }

    #[test]
    fn each_request_gets_the_variant_it_prefers_and_each_decodes_to_the_body() {
        let body = Bytes::from("<p>Japan, 12 plans</p>".repeat(200));
        let p = Precompressed::new(body.clone(), Effort::Quick);
        let (enc, br) = p.pick(&headers("gzip, br"));
        assert_eq!(enc, Encoding::Brotli);
        let mut out = Vec::new();
        brotli::BrotliDecompress(&mut &br[..], &mut out).unwrap();
        assert_eq!(out, body);
        let (enc, gz) = p.pick(&headers("gzip"));
        assert_eq!(enc, Encoding::Gzip);
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut out).unwrap();
        assert_eq!(out, body);
        assert_eq!(p.pick(&HeaderMap::new()), (Encoding::Identity, body.clone()));
        assert!(p.size() > body.len() && p.size() < 2 * body.len());
        let tiny = Precompressed::new(Bytes::from_static(b"ok"), Effort::Best);
        assert_eq!(tiny.pick(&headers("br")).0, Encoding::Identity);
    }
}
