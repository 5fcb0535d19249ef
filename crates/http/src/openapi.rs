//! The OpenAPI document's frame and what its operations share; paths come
//! from the routers. Parameters and responses that several handlers have in
//! common are declared here once: [`IdempotencyKey`] and the refusal sets
//! (`*Refusals`) in the handlers' annotations, and the answers every tenant
//! route can give as reusable `components/responses` ([`add_common_responses`]).

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, IntoResponses, Modify, ToSchema};

use crate::problem::{Problem, ProblemField};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Onramp API",
        description = "Account provisioning for platform instances. Each instance has a staging and a production environment, \
                       addressed by Host: `api.staging.<platform_id>.<domain>` and `api.<platform_id>.<domain>`. \
                       Errors are RFC 9457 problem documents with a stable `code`."
    ),
    modifiers(&BearerAuth),
    components(schemas(Problem, ProblemField, crate::routes::partners::batch::BatchItemBody)),
    tags(
        (name = "auth", description = "Service-user login and signing keys"),
        (name = "client accounts", description = "Client accounts and sessions (feature `client-accounts`)"),
        (name = "groups", description = "Groups of accounts, read-only (feature `client-accounts`); the identity provider writes them over SCIM"),
        (name = "user integration", description = "One-click sign-up on vendor sites: code exchange and profiles (feature `user-integration`)"),
        (name = "partners", description = "Partner provisioning with `x-api-key` (feature `partners`); camelCase fields"),
        (name = "events", description = "Lifecycle events of the environment, in `sequence` order"),
        (name = "webhooks", description = "Webhook endpoints of the environment and their signing secrets (Standard Webhooks); delivery comes next"),
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

/// A string schema declared once and referenced by name (`value_type`).
macro_rules! string_schema {
    ($(#[$doc:meta])* $name:ident, $description:literal, $pattern:literal, $min:expr, $max:expr) => {
        $(#[$doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some($description))
                    .pattern(Some($pattern))
                    .min_length($min)
                    .max_length($max)
                    .into()
            }
        }

        impl ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }
    };
}

string_schema!(
    /// A first or last name as the domain accepts it (`parse_name_part`).
    NamePart,
    "1 to 100 characters, not blank, without control, zero-width or bidirectional-override characters",
    r"^[^\u0000-\u001F\u007F-\u009F\u200B-\u200F\u2028-\u202E\uFEFF]*[^\s\u0000-\u001F\u007F-\u009F\u200B-\u200F\u2028-\u202E\uFEFF][^\u0000-\u001F\u007F-\u009F\u200B-\u200F\u2028-\u202E\uFEFF]*$",
    Some(1),
    Some(100)
);

string_schema!(
    /// Where a sign-in link lands.
    Redirect,
    "A path on the platform: one `/` (not `//` or `/\\`), no control characters; encoded slashes and dot segments that would leave the platform are refused too",
    r"^/[^/\\\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$",
    None,
    None
);

/// The `Idempotency-Key` header of creating endpoints (CONVENTIONS §3).
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKey {
    /// 1 to 255 visible ASCII characters; makes retries safe
    #[param(rename = "Idempotency-Key", min_length = 1, max_length = 255, pattern = "^[!-~]+$")]
    pub idempotency_key: Option<String>,
}

/// How the client account API refuses a caller (`Authorized<ClientAccounts>`).
#[derive(IntoResponses)]
pub enum ClientAccountRefusals {
    /// Missing or invalid service token (`unauthenticated`)
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthenticated(Problem),
    /// Feature `client-accounts` disabled (`feature_disabled`) or role `service` missing (`forbidden`)
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
}

/// How routes that need only a service user with role `service` (events,
/// webhooks; no instance feature) refuse a caller (`Authorized<EventFeed>`).
#[derive(IntoResponses)]
pub enum ServiceRefusals {
    /// Missing or invalid service token (`unauthenticated`)
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthenticated(Problem),
    /// Role `service` missing (`forbidden`)
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
}

/// How the partner API refuses a key (`PartnerAuthorized<_>`); the scope an
/// operation needs is named in its `security` requirement.
#[derive(IntoResponses)]
pub enum PartnerRefusals {
    /// Feature `partners` off (`feature_disabled`), partner not approved (`partner_not_approved`), or the key lacks the scope named in `security` (`forbidden`)
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
}

/// No such account among the calling partner's.
#[derive(IntoResponses)]
#[response(
    status = 404,
    description = "No such account among this partner's (`not_found`)",
    content_type = "application/problem+json"
)]
pub struct PartnerAccountNotFound(pub Problem);

/// How user integration refuses a vendor app key (`VendorAuthorized`).
#[derive(IntoResponses)]
pub enum VendorRefusals {
    /// Feature `user-integration` off (`feature_disabled`)
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
}

/// When an operation can get a common answer.
#[derive(Clone, Copy)]
enum When {
    Always,
    /// It requires credentials.
    Secured,
    /// It takes a body or parameters.
    Input,
    /// It takes a body.
    Body,
}

/// The answers every tenant endpoint can give whatever its handler does:
/// status, name under `components/responses`, description, and when.
const COMMON_RESPONSES: [(&str, &str, &str, When); 8] = [
    (
        "400",
        "InvalidInput",
        "Invalid input (`invalid_json`, `validation_failed`, `unknown_field`, `invalid_query`)",
        When::Input,
    ),
    (
        "401",
        "Unauthenticated",
        "Missing or invalid credentials (`unauthenticated`)",
        When::Secured,
    ),
    (
        "404",
        "NotFound",
        "Unknown instance (`unknown_instance`) or resource (`not_found`)",
        When::Always,
    ),
    (
        "413",
        "PayloadTooLarge",
        "Body larger than 64 KiB (`payload_too_large`)",
        When::Body,
    ),
    (
        "415",
        "UnsupportedMediaType",
        "Body not sent as application/json (`unsupported_media_type`)",
        When::Body,
    ),
    (
        "429",
        "RateLimited",
        "Rate limited (`rate_limited`); see `Retry-After`",
        When::Always,
    ),
    (
        "500",
        "Internal",
        "Internal error; the body carries only the request id",
        When::Always,
    ),
    (
        "503",
        "Unavailable",
        "Database unavailable (`unavailable`) or password hashing overloaded (`overloaded`)",
        When::Always,
    ),
];

/// Documents the answers every tenant endpoint can give (unknown Host, rate
/// limits, outages, body problems) as reusable responses, referenced from
/// each operation that does not describe that status itself, so the
/// document lists every status a client can see.
pub fn add_common_responses(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::content::ContentBuilder;
    use utoipa::openapi::{Ref, ResponseBuilder};

    let components = api.components.get_or_insert_with(Default::default);
    for (_, name, description, _) in COMMON_RESPONSES {
        let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
        let response = ResponseBuilder::new()
            .description(description)
            .content("application/problem+json", content)
            .build();
        components.responses.insert(name.to_owned(), response.into());
    }
    for item in api.paths.paths.values_mut() {
        let ops = [&mut item.get, &mut item.post, &mut item.patch, &mut item.delete, &mut item.put];
        for op in ops.into_iter().flatten() {
            let has_body = op.request_body.is_some();
            let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
            for (status, name, _, when) in COMMON_RESPONSES {
                let applies = match when {
                    When::Always => true,
                    When::Secured => op.security.is_some(),
                    When::Input => has_body || has_params,
                    When::Body => has_body,
                };
                if applies {
                    op.responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| Ref::from_response_name(name).into());
                }
            }
        }
    }
}

/// Lists every error code (with its status) in the `Problem` schema and
/// every field code in `ProblemField`, so the document covers both tables of
/// `docs/errors.md`.
pub fn document_error_codes(api: &mut utoipa::openapi::OpenApi) {
    use onramp_domain::FieldCode;
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

    let Some(schemas) = api.components.as_mut().map(|c| &mut c.schemas) else {
        return;
    };
    if let Some(RefOr::T(Schema::Object(problem))) = schemas.get_mut("Problem") {
        let codes = crate::problem::ErrorCode::ALL;
        let table: Vec<String> = codes.iter().map(|c| format!("`{}` ({})", c.name(), c.status().as_u16())).collect();
        let code = ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(format!("Stable error code: {}.", table.join(", "))))
            .enum_values(Some(codes.iter().map(|c| c.name())));
        problem.properties.insert("code".into(), code.into());
    }
    if let Some(RefOr::T(Schema::Object(field))) = schemas.get_mut("ProblemField") {
        let code = ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("Stable code of the rule the field breaks (see docs/errors.md)."))
            .enum_values(Some(FieldCode::ALL.iter().map(|c| c.as_str())));
        field.properties.insert("code".into(), code.into());
    }
}
