//! Webhook attempts over HTTP: one POST to the addresses the target policy
//! vetted (the name is not resolved again, so it cannot be pointed
//! elsewhere between the check and the connection), no redirects, a
//! timeout (`--webhook-timeout`), and the first KiB of the answer kept.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use onramp_domain::webhooks::delivery::{SNIPPET_BYTES, SendOutcome, WebhookSender};

/// Clients kept for reuse: building one loads the TLS roots (milliseconds),
/// and a kept client keeps its connections open to the receiver.
const CLIENT_CACHE: usize = 1024;

/// Sends webhook attempts with reqwest, one client per host and vetted
/// address set (a client is pinned to the addresses it may connect to).
#[derive(Debug)]
pub struct HttpSender {
    timeout: Duration,
    clients: std::sync::Mutex<std::collections::HashMap<(String, Vec<SocketAddr>), reqwest::Client>>,
}

impl HttpSender {
    /// A sender whose receivers have `timeout` to answer.
    pub fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            clients: std::sync::Mutex::default(),
        }
    }

    fn client(&self, host: &str, addresses: &[SocketAddr]) -> Result<reqwest::Client, reqwest::Error> {
        let key = (host.to_owned(), addresses.to_vec());
        let mut clients = self.clients.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(client) = clients.get(&key) {
            return Ok(client.clone());
        }
        crate::webhook::install_crypto_provider();
        let client = reqwest::Client::builder()
            .resolve_to_addrs(host, addresses)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(self.timeout)
            .no_proxy()
            .user_agent("Onramp-Webhooks/1")
            .build()?;
        if clients.len() >= CLIENT_CACHE {
            clients.clear();
        }
        clients.insert(key, client.clone());
        Ok(client)
    }
}

#[async_trait]
impl WebhookSender for HttpSender {
    async fn post(&self, url: &str, addresses: &[SocketAddr], headers: &[(&'static str, String)], body: Vec<u8>) -> SendOutcome {
        let started = Instant::now();
        let host = reqwest::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        let sent = match self.client(&host, addresses) {
            Ok(client) => send(&client, url, headers, body).await,
            Err(e) => Err(e),
        };
        let mut outcome = match sent {
            Ok(outcome) => outcome,
            Err(e) => SendOutcome {
                error: Some(error_kind(&e).to_owned()),
                ..SendOutcome::default()
            },
        };
        outcome.latency_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        outcome
    }
}

async fn send(
    client: &reqwest::Client,
    url: &str,
    headers: &[(&'static str, String)],
    body: Vec<u8>,
) -> Result<SendOutcome, reqwest::Error> {
    let mut request = client.post(url).header(reqwest::header::CONTENT_TYPE, "application/json");
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let mut response = request.body(body).send().await?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let mut snippet = Vec::new();
    while snippet.len() < SNIPPET_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => snippet.extend_from_slice(&chunk),
            _ => break,
        }
    }
    snippet.truncate(SNIPPET_BYTES);
    Ok(SendOutcome {
        status: Some(status),
        error: None,
        latency_ms: 0,
        snippet: String::from_utf8_lossy(&snippet).into_owned(),
        retry_after,
    })
}

fn error_kind(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_builder() {
        "invalid_request"
    } else {
        "network"
    }
}
