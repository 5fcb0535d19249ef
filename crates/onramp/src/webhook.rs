//! The operator's alert webhook: a signed JSON POST per attempt.

use std::time::Duration;

use async_trait::async_trait;
use onramp_domain::clock::now_ms;
use onramp_domain::infra::secret::Secret;
use onramp_domain::usage::service::{AlertNotifier, webhook_signature};

/// The header that carries `t=<unix seconds>,v1=<hex HMAC-SHA256>`.
pub const SIGNATURE_HEADER: &str = "onramp-signature";

/// reqwest is built without a default TLS crypto provider (the default one
/// compiles aws-lc); this process uses ring. Idempotent.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub struct WebhookNotifier {
    client: reqwest::Client,
    url: String,
    secret: Secret,
}

impl WebhookNotifier {
    /// # Errors
    /// A message when the HTTP client cannot be built.
    pub fn new(url: String, secret: Secret) -> Result<Self, String> {
        install_crypto_provider();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot build the webhook client: {e}"))?;
        Ok(Self { client, url, secret })
    }
}

#[async_trait]
impl AlertNotifier for WebhookNotifier {
    async fn send(&self, body: &[u8]) -> Result<(), String> {
        let signature = webhook_signature(self.secret.expose().as_bytes(), now_ms() / 1000, body);
        let response = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature)
            .body(body.to_vec())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("the webhook answered {}", response.status()))
        }
    }
}
