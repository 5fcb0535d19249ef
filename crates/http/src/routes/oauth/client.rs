//! Client authentication (RFC 6749 §2.3.1): `client_secret_basic` (HTTP
//! Basic with the form-urlencoded id and secret) or `client_secret_post`
//! (`client_id` and `client_secret` in the body), never both.

use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use onramp_domain::infra::secret::Secret;

use super::errors::OAuthResponse;
use super::form::OAuthForm;

/// A client's id and secret as presented, not yet checked.
pub struct Presented {
    pub client_id: String,
    pub secret: Secret,
}

/// The `Authorization: Basic` credentials, if that header uses Basic.
///
/// # Errors
/// `invalid_client` for a Basic header that does not decode.
fn basic(headers: &HeaderMap) -> Result<Option<Presented>, OAuthResponse> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().unwrap_or_default();
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let malformed = || OAuthResponse::invalid_client("the Basic credentials do not decode");
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    // Both halves are form-urlencoded before encoding (§2.3.1).
    let unescape = |s: &str| -> String {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok(Some(Presented {
        client_id: unescape(id),
        secret: Secret::new(unescape(secret)),
    }))
}

/// The client credentials of a request, by exactly one method.
///
/// # Errors
/// `invalid_request` when both methods are used (or the body's `client_id`
/// differs from Basic's), `invalid_client` when none is.
pub fn presented(headers: &HeaderMap, form: &OAuthForm) -> Result<Presented, OAuthResponse> {
    let in_body = (form.get("client_id"), form.get("client_secret"));
    match (basic(headers)?, in_body) {
        (Some(_), (_, Some(_))) => Err(OAuthResponse::invalid_request(
            "use one client authentication method, not Basic and client_secret both",
        )),
        (Some(b), (Some(id), None)) if id != b.client_id => {
            Err(OAuthResponse::invalid_request("client_id differs from the Basic credentials"))
        }
        (Some(b), _) => Ok(b),
        (None, (Some(id), Some(secret))) => Ok(Presented {
            client_id: id.to_owned(),
            secret: Secret::new(secret.to_owned()),
        }),
        (None, _) => Err(OAuthResponse::invalid_client(
            "client authentication is required: HTTP Basic, or client_id and client_secret in the body",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(auth: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, auth.parse().unwrap());
        h
    }

    #[test]
    fn basic_credentials_are_form_urlencoded() {
        let encoded = STANDARD.encode("svc_a%3Ab:onr_cs_x%2By+z");
        let got = basic(&headers(&format!("Basic {encoded}"))).ok().flatten().unwrap();
        assert_eq!(got.client_id, "svc_a:b");
        assert_eq!(got.secret.expose(), "onr_cs_x+y z");
        assert!(basic(&headers("Bearer abc")).ok().unwrap().is_none());
        assert!(basic(&headers("Basic !!!")).is_err());
        assert!(basic(&headers(&format!("Basic {}", STANDARD.encode("no-colon")))).is_err());
    }
}
