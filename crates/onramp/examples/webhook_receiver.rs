//! A fast webhook receiver for the benchmarks (bench/webhooks.sh,
//! bench/webhook_cost.sh): answers every POST with `204` at once, counts
//! distinct `webhook-id`s, and prints `TOTAL SECONDS REQUESTS` when the
//! count reaches TOTAL (seconds since the first request); a `GET` answers
//! the number of POSTs so far. Cheap on CPU, so that what a benchmark
//! measures is the server, not its receiver.
//!
//!   cargo run --release -p onramp --example webhook_receiver -- PORT TOTAL

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::IntoResponse;

#[derive(Default)]
struct Seen {
    ids: HashSet<Vec<u8>>,
    requests: u64,
    first: Option<Instant>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: webhook_receiver PORT TOTAL";
    let port: u16 = args.next().and_then(|a| a.parse().ok()).expect(usage);
    let total: usize = args.next().and_then(|a| a.parse().ok()).expect(usage);
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let app = axum::Router::new().fallback(move |method: Method, headers: HeaderMap, _body: axum::body::Bytes| {
        let seen = Arc::clone(&seen);
        async move {
            let mut seen = seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if method == Method::GET {
                return seen.requests.to_string().into_response();
            }
            let now = Instant::now();
            let first = *seen.first.get_or_insert(now);
            seen.requests += 1;
            let id = headers.get("webhook-id").map(|v| v.as_bytes().to_vec()).unwrap_or_default();
            if seen.ids.insert(id) && seen.ids.len() == total {
                println!("{total} {:.3} {}", (now - first).as_secs_f64(), seen.requests);
            }
            StatusCode::NO_CONTENT.into_response()
        }
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("port free");
    println!("ready");
    axum::serve(listener, app).await.expect("serves");
}
