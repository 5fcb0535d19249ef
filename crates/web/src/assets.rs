//! Static files and the connect SDK, compiled into the binary.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const FILES: &[(&str, &str, &str)] = &[
    ("site.css", "text/css; charset=utf-8", include_str!("../static/site.css")),
    ("popup.js", "text/javascript; charset=utf-8", include_str!("../static/popup.js")),
    ("console.css", "text/css; charset=utf-8", include_str!("../static/console.css")),
    ("console.js", "text/javascript; charset=utf-8", include_str!("../static/console.js")),
    (
        "demo-vendor.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/demo-vendor.js"),
    ),
];

fn serve(content_type: &'static str, body: &'static str) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    response
}

pub async fn file(Path(name): Path<String>) -> Response {
    match FILES.iter().find(|(n, ..)| *n == name) {
        Some((_, content_type, body)) => serve(content_type, body),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// The SDK vendors include from the platform's own host.
pub async fn sdk() -> Response {
    let mut response = serve("text/javascript; charset=utf-8", include_str!("../static/connect.js"));
    // Loaded by vendor pages on other origins.
    response
        .headers_mut()
        .insert("cross-origin-resource-policy", HeaderValue::from_static("cross-origin"));
    response
}
