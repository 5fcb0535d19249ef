//! Extractors that turn malformed input into our problem format and make the
//! permissions of a handler visible in its signature.

use std::marker::PhantomData;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use onramp_domain::audit::Actor;
use onramp_domain::partners::service::PartnerPrincipal;
use onramp_domain::partners::{Partner, PartnerStatus, Scope};
use onramp_domain::tenancy::{Feature, Tenant};
use onramp_domain::{DomainError, FieldCode, FieldError};
use serde::de::DeserializeOwned;

use crate::middleware::guard::Credential;
use crate::problem::{ApiError, ErrorCode};

mod service;

pub use service::{Authorized, ClientAccounts, EventFeed, PartnerLinks, Policy};

/// A JSON body: `415` unless sent as JSON, `413` over the body limit,
/// `400 invalid_json` / `unknown_field` / `validation_failed` otherwise.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "send the body as Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e: BytesRejection| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(ErrorCode::PayloadTooLarge, "the body is larger than 64 KiB")
            } else {
                ApiError::new(ErrorCode::InvalidJson, "the body could not be read")
            }
        })?;
        parse_json(&bytes).map(Json)
    }
}

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}

/// Parses a JSON body into `T`, naming the offending field on failure.
///
/// # Errors
/// `invalid_json`, `unknown_field` or `validation_failed`.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = inner.to_string();
        match inner.classify() {
            serde_json::error::Category::Data => data_error(&path, &message),
            _ => ApiError::new(ErrorCode::InvalidJson, format!("the body is not valid JSON: {message}")),
        }
    })
}

fn backticked(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

fn data_error(path: &str, message: &str) -> ApiError {
    let clean = message.split(" at line ").next().unwrap_or(message);
    let join = |name: &str| {
        if path.is_empty() || path == "." {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    if clean.starts_with("unknown field") {
        // The path already ends at the unknown field.
        let name = backticked(clean).unwrap_or("?");
        let field = if path.ends_with(name) { path.to_owned() } else { join(name) };
        let msg = format!("unknown field `{field}`");
        return ApiError::fields(
            ErrorCode::UnknownField,
            msg.clone(),
            vec![FieldError::new(field, FieldCode::UnknownField, msg)],
        );
    }
    if clean.starts_with("missing field") {
        let field = join(backticked(clean).unwrap_or("?"));
        let msg = format!("{field} is required");
        return ApiError::fields(
            ErrorCode::ValidationFailed,
            msg.clone(),
            vec![FieldError::new(field, FieldCode::Required, msg)],
        );
    }
    let field = if path.is_empty() || path == "." {
        "body".to_owned()
    } else {
        path.to_owned()
    };
    let msg = format!("{field}: {clean}");
    ApiError::fields(
        ErrorCode::ValidationFailed,
        msg.clone(),
        vec![FieldError::new(field, FieldCode::InvalidType, msg)],
    )
}

/// Query parameters; malformed ones get `400 invalid_query`.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded_query(query).map(Query)
    }
}

fn serde_urlencoded_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    axum::extract::Query::<T>::try_from_uri(
        &format!("/?{query}")
            .parse()
            .map_err(|_| ApiError::new(ErrorCode::InvalidQuery, "malformed query string"))?,
    )
    .map(|q| q.0)
    .map_err(|e| ApiError::new(ErrorCode::InvalidQuery, e.body_text()))
}

/// A path parameter; one that cannot be decoded names no resource (`404`).
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|_| ApiError::new(ErrorCode::NotFound, "no such resource"))
    }
}

/// The tenant (instance + environment) the request's Host resolved to.
pub struct CurrentTenant(pub Arc<Tenant>);

impl<S: Send + Sync> FromRequestParts<S> for CurrentTenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Arc<Tenant>>()
            .cloned()
            .map(CurrentTenant)
            .ok_or_else(|| ApiError::new(ErrorCode::Internal, ""))
    }
}

/// What a partner endpoint requires of its key.
pub trait ScopePolicy {
    /// The scope the key needs; `None` for any valid key.
    const SCOPE: Option<Scope>;
}

/// `accounts:write`.
pub struct AccountsWrite;
impl ScopePolicy for AccountsWrite {
    const SCOPE: Option<Scope> = Some(Scope::AccountsWrite);
}

/// `accounts:read`.
pub struct AccountsRead;
impl ScopePolicy for AccountsRead {
    const SCOPE: Option<Scope> = Some(Scope::AccountsRead);
}

/// `usage:read`.
pub struct UsageRead;
impl ScopePolicy for UsageRead {
    const SCOPE: Option<Scope> = Some(Scope::UsageRead);
}

/// `webhooks:manage`.
pub struct WebhooksManage;
impl ScopePolicy for WebhooksManage {
    const SCOPE: Option<Scope> = Some(Scope::WebhooksManage);
}

/// Any valid key of an approved partner (e.g. to rotate itself).
pub struct AnyScope;
impl ScopePolicy for AnyScope {
    const SCOPE: Option<Scope> = None;
}

/// A partner authenticated by `x-api-key` with scope `P::SCOPE`: `401`
/// (`WWW-Authenticate: ApiKey`) without a valid key, `403` when the feature
/// `partners` is off, the partner is not approved or the scope is missing.
pub struct PartnerAuthorized<P> {
    pub tenant: Arc<Tenant>,
    pub principal: Arc<PartnerPrincipal>,
    _policy: PhantomData<P>,
}

impl<P> PartnerAuthorized<P> {
    pub fn partner(&self) -> &Partner {
        &self.principal.partner
    }

    /// The audit actor for changes made with this key.
    pub fn actor(&self) -> Actor {
        Credential::PartnerKey(Arc::clone(&self.principal)).actor()
    }
}

impl<S: Send + Sync, P: ScopePolicy> FromRequestParts<S> for PartnerAuthorized<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let CurrentTenant(tenant) = CurrentTenant::from_request_parts(parts, state).await?;
        let Some(Credential::PartnerKey(principal)) = parts.extensions.get::<Credential>().cloned() else {
            let detail = "a valid API key for this environment is required in the x-api-key header";
            return Err(ApiError {
                challenge: "ApiKey",
                ..ApiError::new(ErrorCode::Unauthenticated, detail)
            });
        };
        tenant.require(Feature::Partners)?;
        if principal.partner.status != PartnerStatus::Active {
            return Err(DomainError::PartnerNotApproved(principal.partner.status.as_str()).into());
        }
        if let Some(scope) = P::SCOPE
            && !principal.key.has(scope)
        {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                format!("this API key lacks the `{scope}` scope"),
            ));
        }
        // Narrowing the partner's allowance reaches keys issued before it.
        if let Some(scope) = P::SCOPE
            && !principal.partner.allows(scope)
        {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                format!("the operator does not allow this partner the `{scope}` scope"),
            ));
        }
        Ok(Self {
            tenant,
            principal,
            _policy: PhantomData,
        })
    }
}

/// A vendor app authenticated by its `x-api-key` (scope `users:connect`),
/// with the instance feature `user-integration` on.
pub struct VendorAuthorized {
    pub tenant: Arc<Tenant>,
    pub app: Arc<onramp_domain::integration::VendorApp>,
}

impl<S: Send + Sync> FromRequestParts<S> for VendorAuthorized {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let CurrentTenant(tenant) = CurrentTenant::from_request_parts(parts, state).await?;
        let Some(Credential::VendorApp(app)) = parts.extensions.get::<Credential>().cloned() else {
            let detail = "a valid app key for this environment is required in the x-api-key header";
            return Err(ApiError {
                challenge: "ApiKey",
                ..ApiError::new(ErrorCode::Unauthenticated, detail)
            });
        };
        tenant.require(Feature::UserIntegration)?;
        Ok(Self { tenant, app })
    }
}

/// A JSON body that may be absent: an empty body (with or without a
/// Content-Type) is `None`; anything else must be valid JSON for `T`.
pub struct OptionalJson<T>(pub Option<T>);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let has_type = req.headers().contains_key(header::CONTENT_TYPE);
        if declared == Some(0) || (declared.is_none() && !has_type && !req.headers().contains_key(header::TRANSFER_ENCODING)) {
            return Ok(Self(None));
        }
        // JSON `null` is no body too: the document calls the body nullable.
        Json::<Option<T>>::from_request(req, state).await.map(|Json(v)| Self(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        a: String,
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        inner: Inner,
        n: u32,
    }

    fn code(body: &str) -> (ErrorCode, Vec<String>) {
        let e = parse_json::<Outer>(body.as_bytes()).unwrap_err();
        (e.code, e.errors.into_iter().map(|f| f.field).collect())
    }

    #[test]
    fn names_fields() {
        assert_eq!(code("{"), (ErrorCode::InvalidJson, vec![]));
        assert_eq!(
            code(r#"{"inner":{"a":"x","b":1},"n":1}"#),
            (ErrorCode::UnknownField, vec!["inner.b".into()])
        );
        assert_eq!(
            code(r#"{"inner":{"a":"x"},"n":"x"}"#),
            (ErrorCode::ValidationFailed, vec!["n".into()])
        );
        assert_eq!(code(r#"{"inner":{"a":"x"}}"#), (ErrorCode::ValidationFailed, vec!["n".into()]));
        assert_eq!(code("[]").0, ErrorCode::ValidationFailed);
    }
}
