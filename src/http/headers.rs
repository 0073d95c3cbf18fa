//! The security headers every response carries, whatever produced it (a handler, a static
//! file, the API, a panic caught as a 500, a timeout's 503): it is the outermost layer. CSP
//! (forms may go to this site and to Stripe's checkout only), HSTS over HTTPS, a
//! Permissions-Policy, no sniffing, no framing; and on every path that carries an access token
//! or an activation code, `Cache-Control: no-store` and `Referrer-Policy: no-referrer`.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                   object-src 'none'; base-uri 'self'; frame-ancestors 'none'";
const PERMISSIONS: &str = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()";
const HSTS: &str = "max-age=63072000; includeSubDomains";

/// What the headers depend on, fixed at start.
#[derive(Clone, Debug)]
pub struct HeaderPolicy {
    /// Added to every CSP that lacks one: `form-action 'self' <checkout origin>`.
    form_action: String,
    csp: HeaderValue,
    hsts: bool,
}

impl HeaderPolicy {
    /// `checkout_origin`: where the checkout form sends the browser (Stripe's, or the
    /// emulator's). `https`: the site is served over HTTPS (HSTS).
    pub fn new(checkout_origin: &str, https: bool) -> Self {
        let form_action = format!("form-action 'self' {checkout_origin}");
        let csp =
            HeaderValue::from_str(&format!("{CSP}; {form_action}")).unwrap_or_else(|_| HeaderValue::from_static(CSP));
        Self { form_action, csp, hsts: https }
    }
}

/// `scheme://host[:port]` of a URL (what CSP source lists name).
pub fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    format!("{scheme}://{host}")
}

/// Paths whose responses carry an access token or an activation code (or set the cookie
/// holding one): never stored by any cache, never named in a Referer.
pub fn carries_secrets(path: &str) -> bool {
    const PREFIXES: [&str; 5] = ["/orders/", "/api/v1/orders", "/api/v1/auth/", "/api/v1/me/", "/admin/orders/"];
    PREFIXES.iter().any(|p| path.starts_with(p)) || (path.starts_with("/plans/") && path.ends_with("/checkout"))
}

/// The middleware (outermost in `http::app`).
pub async fn security_headers(State(policy): State<HeaderPolicy>, request: Request, next: Next) -> Response {
    let secret = carries_secrets(request.uri().path());
    let mut response = next.run(request).await;
    apply(&policy, secret, response.headers_mut());
    response
}

fn apply(policy: &HeaderPolicy, secret: bool, headers: &mut HeaderMap) {
    let mut set_default = |name: HeaderName, value: HeaderValue| {
        headers.entry(name).or_insert(value);
    };
    set_default(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    set_default(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    set_default(HeaderName::from_static("permissions-policy"), HeaderValue::from_static(PERMISSIONS));
    set_default(HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin"));
    set_default(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin"));
    match headers.get(header::CONTENT_SECURITY_POLICY).and_then(|v| v.to_str().ok()) {
        None => {
            headers.insert(header::CONTENT_SECURITY_POLICY, policy.csp.clone());
        }
        // A page's own policy (the API reference's) still restricts where forms go.
        Some(own) if !own.contains("form-action") => {
            if let Ok(value) = HeaderValue::from_str(&format!("{own}; {}", policy.form_action)) {
                headers.insert(header::CONTENT_SECURITY_POLICY, value);
            }
        }
        Some(_) => {}
    }
    if policy.hsts {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    if secret {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_and_secret_paths() {
        assert_eq!(origin_of("http://127.0.0.1:1234/"), "http://127.0.0.1:1234");
        assert_eq!(origin_of("https://api.stripe.com/v1"), "https://api.stripe.com");
        assert!(carries_secrets("/orders/abc/qr.png") && carries_secrets("/api/v1/orders/x/esim"));
        assert!(carries_secrets("/plans/x/checkout") && carries_secrets("/admin/orders/x"));
        assert!(!carries_secrets("/plans/x") && !carries_secrets("/static/site.css") && !carries_secrets("/"));
    }

    #[test]
    fn a_page_policy_of_its_own_still_gets_form_action() {
        let policy = HeaderPolicy::new("https://checkout.stripe.com", true);
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'self'"));
        apply(&policy, false, &mut headers);
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.ends_with("form-action 'self' https://checkout.stripe.com"), "{csp}");
        assert!(headers.contains_key(header::STRICT_TRANSPORT_SECURITY));
    }
}
