//! Files under the crate's `static/` directory, read once at start. Pages link each under a
//! name holding a hash of its content (`url("css/tern.css")` is `/static/css/tern.1a2b3c4d5e.css`),
//! served with `Cache-Control: public, max-age=31536000, immutable`: a browser keeps it for a
//! year and a changed file gets a new name. The plain name still answers, cached for an hour,
//! for what cannot know the hash (a browser's own favicon request, an old email). CSS is served
//! minified; every text file is compressed once, on its first request.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{LazyLock, OnceLock};

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path as UrlPath;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use super::precompressed::{Effort, Precompressed};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const SHORT: &str = "public, max-age=3600";

struct Asset {
    content_type: &'static str,
    body: Bytes,
    /// Compressed on first request (text only).
    compressed: OnceLock<Precompressed>,
}

struct Assets {
    files: Vec<Asset>,
    /// Plain and hashed names, each to its file.
    by_name: HashMap<String, (usize, bool)>,
    /// Plain name to hashed name.
    hashed: HashMap<String, String>,
}

static ASSETS: LazyLock<Assets> = LazyLock::new(|| load(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/static"))));

/// The URL of the static file `name` (a path under `static/`), under its hashed name. A name
/// that is not there gets its plain URL (and a 404), never a panic.
pub fn url(name: &str) -> String {
    match ASSETS.hashed.get(name) {
        Some(hashed) => format!("/static/{hashed}"),
        None => format!("/static/{name}"),
    }
}

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/static/{*path}", get(serve))
}

async fn serve(UrlPath(path): UrlPath<String>, request: HeaderMap) -> Response {
    let Some(&(index, hashed)) = ASSETS.by_name.get(path.as_str()) else {
        return (StatusCode::NOT_FOUND, "Not found").into_response();
    };
    let asset = &ASSETS.files[index];
    let content_type = HeaderValue::from_static(asset.content_type);
    let mut response = if is_text(asset.content_type) {
        let compressed = asset.compressed.get_or_init(|| Precompressed::new(asset.body.clone(), Effort::Best));
        compressed.respond(&request, content_type)
    } else {
        ([(header::CONTENT_TYPE, content_type)], asset.body.clone()).into_response()
    };
    let cache = HeaderValue::from_static(if hashed { IMMUTABLE } else { SHORT });
    response.headers_mut().insert(header::CACHE_CONTROL, cache);
    response
}

fn load(root: &Path) -> Assets {
    let mut assets = Assets { files: Vec::new(), by_name: HashMap::new(), hashed: HashMap::new() };
    let mut names = Vec::new();
    walk(root, root, &mut names);
    names.sort();
    for (name, path) in names {
        let Ok(raw) = std::fs::read(&path) else { continue };
        let content_type = content_type(&name);
        let body = if content_type.starts_with("text/css") { minify_css(raw) } else { raw };
        let hashed = hashed_name(&name, &body);
        let index = assets.files.len();
        assets.files.push(Asset { content_type, body: Bytes::from(body), compressed: OnceLock::new() });
        assets.by_name.insert(name.clone(), (index, false));
        assets.by_name.insert(hashed.clone(), (index, true));
        assets.hashed.insert(name, hashed);
    }
    assets
}

/// Every file under `dir`, as (name relative to `root` with `/`, path).
fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, std::path::PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(root, &path, out);
        } else if let Ok(relative) = path.strip_prefix(root) {
            let name = relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
            out.push((name, path));
        }
    }
}

/// `css/tern.css` with its content's hash: `css/tern.1a2b3c4d5e.css`.
fn hashed_name(name: &str, body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hash: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    let (dir, file) = name.rsplit_once('/').map_or(("", name), |(d, f)| (d, f));
    let file = match file.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}.{hash}.{ext}"),
        _ => format!("{file}.{hash}"),
    };
    if dir.is_empty() { file } else { format!("{dir}/{file}") }
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase()).as_deref() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json") => "application/json",
        Some("woff2") => "font/woff2",
        _ => "text/plain; charset=utf-8",
    }
}

fn is_text(content_type: &str) -> bool {
    content_type.starts_with("text/") || content_type == "image/svg+xml" || content_type == "application/json"
}

/// The stylesheet without comments and needless whitespace (`minifier`); the file as it is
/// if that fails.
fn minify_css(raw: Vec<u8>) -> Vec<u8> {
    let Ok(text) = std::str::from_utf8(&raw) else { return raw };
    match minifier::css::minify(text) {
        Ok(min) => min.to_string().into_bytes(),
        Err(e) => {
            tracing::warn!(error = %e, "the stylesheet could not be minified: served as it is");
            raw
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_hold_a_hash_of_the_content() {
        assert_eq!(hashed_name("css/tern.css", b"a"), "css/tern.ca978112ca.css");
        assert_ne!(hashed_name("css/tern.css", b"a"), hashed_name("css/tern.css", b"b"));
        assert_eq!(hashed_name("favicon.svg", b"a"), "favicon.ca978112ca.svg");
        assert_eq!(hashed_name("flags/LICENSE", b"a"), "flags/LICENSE.ca978112ca");
    }

    #[test]
    fn every_file_answers_under_both_names_and_css_is_minified() {
        let css = url("css/tern.css");
        assert!(
            css.starts_with("/static/css/tern.") && css.ends_with(".css") && css.len() > "/static/css/tern.css".len()
        );
        let (index, hashed) = ASSETS.by_name[css.trim_start_matches("/static/")];
        assert!(hashed);
        assert_eq!(ASSETS.by_name["css/tern.css"], (index, false));
        let body = std::str::from_utf8(&ASSETS.files[index].body).unwrap();
        assert!(!body.contains("/*") && !body.contains("\n  "), "minified");
        assert!(body.contains('{'), "still a stylesheet");
        assert_eq!(url("nothing/here.css"), "/static/nothing/here.css");
    }
}
