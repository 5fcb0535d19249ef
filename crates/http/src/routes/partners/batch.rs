//! Batch creation: up to 1,000 accounts per request, each item on its own.

use axum::Extension;
use axum::extract::State;
use onramp_domain::clock::rfc3339;
use onramp_domain::infra::secret::Secret;
use onramp_domain::partners::provisioning::{BatchItem, SignInLink};
use onramp_domain::{DomainError, FieldCode, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::camel_case_fields;
use crate::extract::{AccountsWrite, Json, PartnerAuthorized};
use crate::openapi::{IdempotencyKey, PartnerRefusals};
use crate::problem::{ApiError, ApiResult, ErrorCause, ErrorCode, Problem};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
/// One item; its fields are checked like `POST /v1/partners/create`'s, item
/// by item (a bad item is refused in `results`, the others are created), so
/// the schema names the fields without their rules.
pub struct BatchItemBody {
    pub primary_email: String,
    /// Either `password` …
    #[schema(value_type = Option<String>, format = Password)]
    pub password: Option<Secret>,
    /// … or an existing hash: argon2id, argon2i, bcrypt (`$2a$`/`$2b$`/`$2y$`) or scrypt PHC string, within the cost ceiling.
    pub password_hash: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub redirect: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// 1 to 1,000 items, each a `BatchItemBody` (see the schemas), created or
    /// refused on its own: an item that is not one (not an object, a field of
    /// the wrong type, an unknown field) is refused in `results`
    /// (`invalid_item`, `unknown_field`) while the others are created.
    #[schema(value_type = Vec<serde_json::Value>, min_items = 1, max_items = 1000)]
    pub accounts: Vec<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchError {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchResult {
    pub index: usize,
    /// 201 created, or the status the item alone would have got (400, 409).
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub complete_purchase_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<BatchError>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResponse {
    pub results: Vec<BatchResult>,
}

fn batch_item(value: serde_json::Value) -> Result<BatchItem, DomainError> {
    let body: BatchItemBody = serde_json::from_value(value).map_err(|e| {
        let message = e.to_string();
        let code = if message.starts_with("unknown field") {
            FieldCode::UnknownField
        } else {
            FieldCode::InvalidItem
        };
        DomainError::Validation(vec![FieldError::new("item", code, message)])
    })?;
    Ok(BatchItem {
        email: body.primary_email,
        password: body.password,
        password_hash: body.password_hash,
        first_name: body.first_name,
        last_name: body.last_name,
        redirect: body.redirect,
    })
}

/// One item's result; the cause of an item's server error goes to `cause`
/// (the first one), for the access log.
fn batch_result(index: usize, outcome: Result<SignInLink, DomainError>, cause: &mut Option<ErrorCause>) -> BatchResult {
    match outcome {
        Ok(link) => BatchResult {
            index,
            status: 201,
            account_id: Some(link.account_id.into()),
            complete_purchase_url: Some(link.url.expose().to_owned()),
            expires_at: Some(rfc3339(link.expires_at)),
            error: None,
        },
        Err(e) => {
            let api = camel_case_fields(ApiError::from(e));
            if cause.is_none() {
                cause.clone_from(&api.cause);
            }
            let first = api.errors.first();
            BatchResult {
                index,
                status: api.code.status().as_u16(),
                account_id: None,
                complete_purchase_url: None,
                expires_at: None,
                error: Some(BatchError {
                    code: first.map_or(api.code.name(), |f| f.code.as_str()).to_owned(),
                    message: first.map_or_else(|| api.detail.clone().unwrap_or_default(), |f| f.message.clone()),
                    field: first.map(|f| f.field.clone()),
                }),
            }
        }
    }
}

/// Create up to 1,000 accounts at once; each item is created or rejected on its own.
///
/// Items may carry `passwordHash` (argon2id/argon2i, bcrypt or scrypt) instead of `password`, so a
/// platform can migrate users without knowing their passwords; such accounts log in with their old
/// password and are re-hashed to argon2id then. A `passwordHash` costlier than the server's ceiling
/// (bcrypt cost over 12; argon2 or scrypt over twice the server's argon2id memory or work) is
/// refused for its item (`password_hash_too_costly`). Bodies up to 2 MiB.
///
/// The items' `password`s are hashed in this partner's turns on the shared hashing workers. They
/// are queued all together or not at all: when they do not fit in the environment's share of the
/// queue, the whole request gets `503 overloaded` with `Retry-After` and nothing is created. If
/// the client goes away, its hashes still queued are dropped.
#[utoipa::path(
    post, path = "/v1/partners/accounts/batch", operation_id = "partner_batch_create", tag = "partners",
    request_body = BatchRequest, security(("api_key" = ["accounts:write"])),
    params(IdempotencyKey),
    responses(
        (status = 200, description = "One result per item, in order", body = BatchResponse),
        PartnerRefusals,
        (status = 409, description = "Idempotency-Key reused with another body (`idempotency_key_reused`), or its stored response cannot be read (`idempotency_response_unreadable`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn batch_create(
    State(state): State<AppState>,
    caller: PartnerAuthorized<AccountsWrite>,
    Json(body): Json<BatchRequest>,
) -> ApiResult<(Option<Extension<ErrorCause>>, Json<BatchResponse>)> {
    if body.accounts.is_empty() || body.accounts.len() > 1000 {
        return Err(ApiError::fields(
            ErrorCode::ValidationFailed,
            "accounts must hold 1 to 1000 items",
            vec![FieldError::new(
                "accounts",
                FieldCode::InvalidLength,
                "accounts must hold 1 to 1000 items",
            )],
        ));
    }
    let items = body.accounts.into_iter().map(batch_item).collect();
    let outcomes = state
        .core
        .provisioning()
        .partner_batch_create(&caller.tenant, caller.partner(), &caller.actor(), items)
        .await?;
    let mut cause = None;
    let results = outcomes
        .into_iter()
        .enumerate()
        .map(|(i, o)| batch_result(i, o, &mut cause))
        .collect();
    Ok((cause.map(Extension), Json(BatchResponse { results })))
}
