//! The OpenAPI document's frame; paths come from the routers.

use utoipa::Modify;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Onramp API",
        description = "Account provisioning for platform instances. Each instance has a staging and a production environment, \
                       addressed by Host: `api.staging.<platform_id>.<domain>` and `api.<platform_id>.<domain>`. \
                       Errors are RFC 9457 problem documents with a stable `code`."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Service-user login and signing keys"),
        (name = "client accounts", description = "Client accounts and sessions (feature `client-accounts`)"),
        (name = "user integration", description = "One-click sign-up on vendor sites: code exchange and profiles (feature `user-integration`)"),
        (name = "partners", description = "Partner provisioning with `x-api-key` (feature `partners`); camelCase fields"),
        (name = "operations", description = "Health and readiness"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Header(
                utoipa::openapi::security::ApiKeyValue::new("x-api-key"),
            )),
        );
    }
}

/// Documents the answers every tenant endpoint can give whatever its
/// handler does (unknown Host, rate limits, outages, body problems), so the
/// document lists every status a client can see.
pub fn add_common_responses(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::ResponseBuilder;
    use utoipa::openapi::content::ContentBuilder;

    let problem = |description: &str| {
        let content = ContentBuilder::new()
            .schema(Some(utoipa::openapi::Ref::from_schema_name("Problem")))
            .build();
        ResponseBuilder::new()
            .description(description)
            .content("application/problem+json", content)
            .build()
    };
    for item in api.paths.paths.values_mut() {
        let ops = [&mut item.get, &mut item.post, &mut item.patch, &mut item.delete, &mut item.put];
        for op in ops.into_iter().flatten() {
            let mut add = |status: &str, description: &str| {
                op.responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| problem(description).into());
            };
            add("404", "Unknown instance (`unknown_instance`) or resource (`not_found`)");
            add("429", "Rate limited (`rate_limited`); see `Retry-After`");
            add("500", "Internal error; the body carries only the request id");
            add(
                "503",
                "Database unavailable (`unavailable`) or password hashing overloaded (`overloaded`)",
            );
            if op.security.is_some() {
                add("401", "Missing or invalid credentials (`unauthenticated`)");
            }
            if op.request_body.is_some() || op.parameters.as_ref().is_some_and(|p| !p.is_empty()) {
                add(
                    "400",
                    "Invalid input (`invalid_json`, `validation_failed`, `unknown_field`, `invalid_query`)",
                );
            }
            if op.request_body.is_some() {
                add("413", "Body larger than 64 KiB (`payload_too_large`)");
                add("415", "Body not sent as application/json (`unsupported_media_type`)");
            }
        }
    }
}

/// Lists every error code (with its status) in the `Problem` schema, so the
/// document covers the whole error table.
pub fn document_error_codes(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

    let Some(RefOr::T(Schema::Object(problem))) = api.components.as_mut().and_then(|c| c.schemas.get_mut("Problem")) else {
        return;
    };
    let codes = crate::problem::ErrorCode::ALL;
    let table: Vec<String> = codes.iter().map(|c| format!("`{}` ({})", c.name(), c.status().as_u16())).collect();
    let code = ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(format!("Stable error code: {}.", table.join(", "))))
        .enum_values(Some(codes.iter().map(|c| c.name())));
    problem.properties.insert("code".into(), code.into());
}
