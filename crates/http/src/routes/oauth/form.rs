//! The form-encoded body of an OAuth request (RFC 6749 appendix B), read
//! strictly: only `application/x-www-form-urlencoded`, no parameter twice
//! (§3.2), and a parameter sent without a value counts as omitted.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};

use super::errors::{OAuthAnswer, OAuthResponse};

/// Longest parameter name or value quoted back in an error.
const QUOTED: usize = 40;

/// The request's parameters.
#[derive(Debug, Default)]
pub struct OAuthForm(HashMap<String, String>);

impl OAuthForm {
    /// A parameter's value; `None` when absent or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A parameter the request must have.
    ///
    /// # Errors
    /// `invalid_request` naming it.
    pub fn require(&self, name: &str) -> Result<&str, OAuthResponse> {
        self.get(name)
            .ok_or_else(|| OAuthResponse::invalid_request(format!("the `{name}` parameter is required")))
    }

    /// Parses a body.
    ///
    /// # Errors
    /// `invalid_request` for a repeated parameter.
    pub fn parse(body: &[u8]) -> Result<Self, OAuthResponse> {
        let mut params = HashMap::new();
        let mut seen = std::collections::HashSet::new();
        for (name, value) in url::form_urlencoded::parse(body) {
            if !seen.insert(name.clone()) {
                let shown: String = name.chars().take(QUOTED).collect();
                return Err(OAuthResponse::invalid_request(format!("the `{shown}` parameter is repeated")));
            }
            if !value.is_empty() {
                params.insert(name.into_owned(), value.into_owned());
            }
        }
        Ok(Self(params))
    }
}

impl<S: Send + Sync> FromRequest<S> for OAuthForm {
    type Rejection = OAuthAnswer;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(OAuthResponse::invalid_request("send the parameters as Content-Type: application/x-www-form-urlencoded").into());
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            let why = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                "the body is larger than 64 KiB"
            } else {
                "the body could not be read"
            };
            OAuthAnswer::from(OAuthResponse::invalid_request(why))
        })?;
        Ok(Self::parse(&bytes)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_read_strictly() {
        let form = OAuthForm::parse(b"grant_type=client_credentials&scope=a+b%20c&empty=").unwrap();
        assert_eq!(form.get("grant_type"), Some("client_credentials"));
        assert_eq!(form.get("scope"), Some("a b c"));
        assert_eq!(form.get("empty"), None, "a parameter without a value is omitted");
        assert!(OAuthForm::parse(b"scope=a&scope=b").is_err());
        assert!(OAuthForm::parse(b"scope=&scope=b").is_err(), "repeated, even empty");
    }
}
