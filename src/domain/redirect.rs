//! Where a sign-in may send the browser next: a path on this site, judged by a URL parser
//! (WHATWG, the browsers' own rules) rather than by looking at the string's first characters.

use url::{Position, Url};

/// A stand-in origin: `next` is resolved against it and must stay on it.
const BASE: &str = "https://tern.invalid/";

/// `next` if it is a path on this site, normalised as a browser would read it; else `fallback`.
/// Refused: anything with a control character, whitespace or a backslash (raw or
/// percent-encoded, which browsers strip or turn into `/`), anything not starting with exactly
/// one `/`, and anything whose resolved form leaves the site or starts with `//`.
pub fn safe_next(next: Option<&str>, fallback: &str) -> String {
    next.and_then(same_site_path).unwrap_or_else(|| fallback.to_string())
}

fn same_site_path(next: &str) -> Option<String> {
    if !next.starts_with('/') || next.starts_with("//") || suspicious(next) {
        return None;
    }
    // What a server or browser might decode it to, twice over, must be as harmless.
    let mut decoded = next.to_string();
    for _ in 0..2 {
        decoded = percent_decode(&decoded)?;
        if suspicious(&decoded) || decoded.starts_with("//") {
            return None;
        }
    }
    let base = Url::parse(BASE).expect("a valid base");
    let resolved = base.join(next).ok()?;
    if resolved.origin() != base.origin() || !resolved.username().is_empty() || resolved.password().is_some() {
        return None;
    }
    let path = &resolved[Position::BeforePath..Position::AfterQuery];
    (path.starts_with('/') && !path.starts_with("//")).then(|| path.to_string())
}

fn suspicious(s: &str) -> bool {
    s.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\')
}

/// Decodes `%XX`; `None` when the bytes are not UTF-8 (nothing legitimate needs that).
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_are_kept() {
        assert_eq!(safe_next(Some("/admin/orders?status=paid"), "/account"), "/admin/orders?status=paid");
        assert_eq!(safe_next(Some("/orders/1#qr"), "/account"), "/orders/1");
        assert_eq!(safe_next(None, "/account"), "/account");
        assert_eq!(safe_next(Some("/a/../admin"), "/account"), "/admin", "normalised as a browser would");
    }

    #[test]
    fn the_known_bypasses_fall_back() {
        for hostile in [
            "/%09/evil.example",
            "/\t/evil.example",
            "/\r\n/evil.example",
            "/%0d%0a/evil.example",
            "\\\\evil.example",
            "/\\evil.example",
            "/%5Cevil.example",
            "//evil.example",
            "/%2F%2Fevil.example",
            "/%2f/evil.example",
            "/%252F%252Fevil.example",
            "/.//evil.example",
            "/%2e//evil.example",
            "//tern.example@evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "http:/evil.example",
            " /evil",
            "",
            "evil.example",
        ] {
            assert_eq!(safe_next(Some(hostile), "/account"), "/account", "{hostile:?}");
        }
        // An `@` or a scheme inside a path is only a path on this site.
        for odd in ["/@evil.example", "/https://evil.example", "/javascript:alert(1)"] {
            let kept = safe_next(Some(odd), "/account");
            assert!(kept.starts_with('/') && !kept.starts_with("//"), "{odd:?} -> {kept:?}");
        }
    }
}
