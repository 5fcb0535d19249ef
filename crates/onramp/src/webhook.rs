//! The operator's alert webhook: a JSON POST per attempt, signed the
//! Standard Webhooks way (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature`), and with the earlier `onramp-signature` header for
//! receivers written before it.

use std::time::Duration;

use async_trait::async_trait;
use onramp_domain::clock::now_ms;
use onramp_domain::infra::secret::Secret;
use onramp_domain::usage::service::{AlertNotifier, webhook_signature};
use onramp_domain::webhooks::secret::WebhookSecret;
use onramp_domain::webhooks::signature;

/// The earlier header, `t=<unix seconds>,v1=<hex HMAC-SHA256>` keyed with
/// the secret's text; kept for receivers that check it (deprecated).
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
    signing: WebhookSecret,
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
        let signing = WebhookSecret::configured(secret.expose());
        Ok(Self {
            client,
            url,
            secret,
            signing,
        })
    }
}

#[async_trait]
impl AlertNotifier for WebhookNotifier {
    async fn send(&self, id: &str, body: &[u8]) -> Result<(), String> {
        let timestamp = now_ms() / 1000;
        let legacy = webhook_signature(self.secret.expose().as_bytes(), timestamp, body);
        let standard = signature::sign(&self.signing, id, timestamp, body);
        let response = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", standard)
            .header(SIGNATURE_HEADER, legacy)
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

#[cfg(test)]
mod tests {
    use super::webhook_signature;

    /// Receivers verify this header with their own HMAC code, so its bytes
    /// must never change. Expected values computed independently with
    /// Python: `hmac.new(secret, f"{t}.".encode() + body, hashlib.sha256).hexdigest()`.
    #[test]
    fn signature_matches_fixed_vectors() {
        let body = br#"{"alert":"usage_burst","partner_id":"p_1"}"#;
        assert_eq!(
            webhook_signature(b"whsec-onramp-test", 1_700_000_000, body),
            "t=1700000000,v1=8125b9079231f9821c76435fba35dd0e5a324853e4d91a5c9972c08b8109a947"
        );
        assert_eq!(
            webhook_signature(b"secret", 1_700_000_000, b"{}"),
            "t=1700000000,v1=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"
        );
        assert_eq!(
            webhook_signature(b"", 0, b""),
            "t=0,v1=b849d5a581847b281957065739df36df2463d1977ea8d6e1e4e6cf33fadc68c3"
        );
    }
}
