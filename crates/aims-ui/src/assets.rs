//! The embedded static files (CSS, JS, SVG icons), served under `/static/` with long cache
//! lifetimes. Pages link them with a content hash in the query (`?v=…`), so a new release
//! busts the cache while unchanged files stay cached for a year.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "static/"]
struct Static;

/// Content hash prefix of each embedded file, computed once.
static VERSIONS: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
    Static::iter()
        .filter_map(|name| {
            let file = Static::get(&name)?;
            let hash: String = file.metadata.sha256_hash().iter().take(6).map(|b| format!("{b:02x}")).collect();
            Some((name.into_owned(), hash))
        })
        .collect()
});

/// The URL of a static file, versioned by its content.
pub(crate) fn url(name: &str) -> String {
    match VERSIONS.get(name) {
        Some(version) => format!("/static/{name}?v={version}"),
        None => format!("/static/{name}"),
    }
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

pub(crate) async fn serve(Path(path): Path<String>) -> Response {
    let Some(file) = Static::get(&path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type(&path))),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
        ],
        file.data.into_owned(),
    )
        .into_response()
}
