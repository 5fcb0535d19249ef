//! Discovery (RFC 7644 §4): `/ServiceProviderConfig`, `/ResourceTypes`
//! and `/Schemas`, describing exactly what this server does: kept in step
//! with the handlers (the tests read them back).

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use onramp_domain::scim::users::MAX_RESULTS;
use serde_json::{Value, json};

use super::{BASE, MEDIA_TYPE, ScimCaller};
use crate::problem::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;

const CONFIG_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

fn scim(body: Value) -> Response {
    let mut response = axum::Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
    response
}

fn list(resources: Vec<Value>) -> Value {
    json!({ "schemas": [LIST_SCHEMA], "totalResults": resources.len(), "startIndex": 1,
            "itemsPerPage": resources.len(), "Resources": resources })
}

fn origin(state: &AppState, caller: &ScimCaller) -> String {
    state.core.tenancy().issuer(&caller.tenant)
}

pub async fn service_provider_config(State(state): State<AppState>, caller: ScimCaller) -> Response {
    let location = format!("{}{BASE}/ServiceProviderConfig", origin(&state, &caller));
    scim(json!({
        "schemas": [CONFIG_SCHEMA],
        "patch": { "supported": true },
        "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
        "filter": { "supported": true, "maxResults": MAX_RESULTS },
        "changePassword": { "supported": false },
        "sort": { "supported": false },
        "etag": { "supported": true },
        "authenticationSchemes": [{
            "type": "oauthbearertoken", "name": "SCIM token", "primary": true,
            "description": "A SCIM token of the environment (onramp scim-token issue) as Authorization: Bearer onr_scim_…",
        }],
        "meta": { "resourceType": "ServiceProviderConfig", "location": location },
    }))
}

fn user_type(origin: &str) -> Value {
    json!({
        "schemas": [RESOURCE_TYPE_SCHEMA], "id": "User", "name": "User", "endpoint": "/Users",
        "description": "An account of the environment", "schema": USER,
        "schemaExtensions": [{ "schema": ENTERPRISE, "required": false }],
        "meta": { "resourceType": "ResourceType", "location": format!("{origin}{BASE}/ResourceTypes/User") },
    })
}

fn group_type(origin: &str) -> Value {
    json!({
        "schemas": [RESOURCE_TYPE_SCHEMA], "id": "Group", "name": "Group", "endpoint": "/Groups",
        "description": "A group of the environment's accounts", "schema": GROUP,
        "meta": { "resourceType": "ResourceType", "location": format!("{origin}{BASE}/ResourceTypes/Group") },
    })
}

pub async fn resource_types(State(state): State<AppState>, caller: ScimCaller) -> Response {
    let origin = origin(&state, &caller);
    scim(list(vec![user_type(&origin), group_type(&origin)]))
}

pub async fn resource_type(State(state): State<AppState>, caller: ScimCaller, Path(id): Path<String>) -> ApiResult<Response> {
    let origin = origin(&state, &caller);
    match id.as_str() {
        "User" => Ok(scim(user_type(&origin))),
        "Group" => Ok(scim(group_type(&origin))),
        _ => Err(ApiError::new(ErrorCode::NotFound, format!("no resource type `{id}`"))),
    }
}

/// An attribute's description; `sub` for a complex one.
fn attr(name: &str, kind: &str, multi: bool, required: bool, mutability: &str, sub: &[Value]) -> Value {
    let mut a = json!({
        "name": name, "type": kind, "multiValued": multi, "required": required, "caseExact": false,
        "mutability": mutability, "returned": if mutability == "writeOnly" { "never" } else { "default" },
        "uniqueness": if name == "userName" { "server" } else { "none" },
    });
    if !sub.is_empty() {
        a["subAttributes"] = json!(sub);
    }
    a
}

fn text(name: &str) -> Value {
    attr(name, "string", false, false, "readWrite", &[])
}

fn multi_text(name: &str) -> Value {
    let parts = [
        text("value"),
        text("type"),
        attr("primary", "boolean", false, false, "readWrite", &[]),
    ];
    attr(name, "complex", true, false, "readWrite", &parts)
}

fn schemas_of(origin: &str) -> Vec<Value> {
    let user = vec![
        attr("userName", "string", false, true, "readWrite", &[]),
        attr(
            "name",
            "complex",
            false,
            true,
            "readWrite",
            &[text("givenName"), text("familyName")],
        ),
        multi_text("emails"),
        attr("active", "boolean", false, false, "readWrite", &[]),
        attr("password", "string", false, false, "writeOnly", &[]),
        text("externalId"),
        text("displayName"),
        text("nickName"),
        text("title"),
        text("userType"),
        text("preferredLanguage"),
        text("locale"),
        text("timezone"),
        multi_text("phoneNumbers"),
    ];
    let enterprise = vec![
        text("employeeNumber"),
        text("department"),
        attr("manager", "complex", false, false, "readWrite", &[text("value")]),
    ];
    let schema = |id: &str, name: &str, attributes: Vec<Value>| {
        json!({ "schemas": [SCHEMA_SCHEMA], "id": id, "name": name, "attributes": attributes,
                "meta": { "resourceType": "Schema", "location": format!("{origin}{BASE}/Schemas/{id}") } })
    };
    vec![
        schema(USER, "User", user),
        schema(ENTERPRISE, "EnterpriseUser", enterprise),
        schema(GROUP, "Group", group_attributes()),
    ]
}

/// The Group schema as served: `displayName` unique (compared without
/// case), members referring to Users by id.
fn group_attributes() -> Vec<Value> {
    let mut display_name = attr("displayName", "string", false, true, "readWrite", &[]);
    display_name["uniqueness"] = json!("server");
    let mut reference = attr("$ref", "reference", false, false, "immutable", &[]);
    reference["referenceTypes"] = json!(["User"]);
    let members = [
        attr("value", "string", false, false, "immutable", &[]),
        attr("display", "string", false, false, "readOnly", &[]),
        reference,
        attr("type", "string", false, false, "immutable", &[]),
    ];
    vec![
        display_name,
        text("externalId"),
        attr("members", "complex", true, false, "readWrite", &members),
    ]
}

pub async fn schemas(State(state): State<AppState>, caller: ScimCaller) -> Response {
    scim(list(schemas_of(&origin(&state, &caller))))
}

pub async fn schema(State(state): State<AppState>, caller: ScimCaller, Path(id): Path<String>) -> ApiResult<Response> {
    schemas_of(&origin(&state, &caller))
        .into_iter()
        .find(|s| s["id"] == id.as_str())
        .map(scim)
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no schema `{id}`")))
}
