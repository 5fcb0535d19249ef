//! Request ids and the one access-log line per request, which also carries
//! the cause of a server error (see [`ErrorCause`]).

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Level;

use crate::problem::ErrorCause;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled on this task (empty outside one).
pub fn current_request_id() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_default()
}

/// What the inner layers learned about a request, for the access log.
#[derive(Debug, Clone, Default)]
pub struct LogContext {
    pub instance: String,
    pub environment: &'static str,
    /// `service_user:<id>` or `ip:<addr>`; never a secret.
    pub credential: String,
}

/// An incoming id is echoed only if it is short and plain.
fn sane(value: &HeaderValue) -> Option<String> {
    let s = value.to_str().ok()?;
    let ok = (1..=128).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    ok.then(|| s.to_owned())
}

/// The metrics label of a method: the standard ones by name, any other
/// token (which a client may invent freely) as `OTHER`, so labels stay few.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "OTHER",
    }
}

pub async fn request_id(req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(sane)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let started = Instant::now();
    let method = req.method().clone();
    let method_label = method_label(&method);
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "<unmatched>".to_owned(), |m| m.as_str().to_owned());
    let mut response = REQUEST_ID.scope(id.clone(), next.run(req)).await;
    let ctx = response.extensions_mut().remove::<LogContext>().unwrap_or_default();
    let elapsed = started.elapsed();
    let status = response.status().as_u16().to_string();
    metrics::counter!("onramp_http_requests_total", "method" => method_label, "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("onramp_http_request_duration_seconds", "method" => method_label, "route" => route.clone())
        .record(elapsed.as_secs_f64());
    // The one line per request; a server error's cause (never in the body) rides on it.
    let cause = response.extensions_mut().remove::<ErrorCause>();
    let error = cause.as_ref().map(|c| tracing::field::display(&c.0));
    macro_rules! access_line {
        ($level:expr) => {
            tracing::event!(
                target: "onramp::access",
                $level,
                method = %method,
                route = %route,
                status = response.status().as_u16(),
                latency_us = elapsed.as_micros() as u64,
                request_id = %id,
                instance = %ctx.instance,
                environment = ctx.environment,
                credential = %ctx.credential,
                error,
                "request"
            )
        };
    }
    // An outage is expected to pass; a bug (or a batch item's failure) is not.
    match response.status() {
        StatusCode::SERVICE_UNAVAILABLE => access_line!(Level::WARN),
        s if s.is_server_error() || cause.is_some() => access_line!(Level::ERROR),
        _ => access_line!(Level::INFO),
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}
