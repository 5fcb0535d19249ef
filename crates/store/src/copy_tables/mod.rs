//! The tables `onramp copy` carries and their columns, in dependency order;
//! the schema-parity test holds the migrations of both backends to this list.

#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Text,
    Int,
    Blob,
}

use Kind::{Blob, Int, Text};

mod people;

/// A table and its columns.
pub(crate) type Table = (&'static str, &'static [(&'static str, Kind)]);

/// Every table, parents before children (foreign keys): the product's
/// tables, then those of the people who run it (operators, portal users,
/// SCIM and OAuth clients).
pub(crate) fn tables() -> impl Iterator<Item = &'static Table> {
    PRODUCT.iter().chain(people::PEOPLE)
}

/// The product's tables, parents before children.
const PRODUCT: &[Table] = &[
    // Which master key sealed the signing seeds below: they are copied
    // sealed, so the target serves with the same master key file.
    ("master_key_check", &[("id", Text), ("check_value", Text), ("created_at", Int)]),
    (
        "instances",
        &[
            ("platform_id", Text),
            ("name", Text),
            ("region", Text),
            ("app_url", Text),
            ("features", Text),
            ("rate_limits", Text),
            ("created_at", Int),
            ("updated_at", Int),
            ("link_template", Text),
            ("login_link_ttl_secs", Int),
        ],
    ),
    (
        "environments",
        &[("id", Text), ("platform_id", Text), ("kind", Text), ("cors_origins", Text)],
    ),
    ("hostnames", &[("hostname", Text), ("env_id", Text)]),
    (
        "signing_keys",
        &[
            ("kid", Text),
            ("env_id", Text),
            ("seed", Blob),
            ("created_at", Int),
            ("retired_at", Int),
            ("alg", Text),
        ],
    ),
    (
        "service_users",
        &[
            ("id", Text),
            ("env_id", Text),
            ("username", Text),
            ("password_hash", Text),
            ("roles", Text),
            ("disabled_at", Int),
            ("created_at", Int),
            ("updated_at", Int),
        ],
    ),
    (
        "accounts",
        &[
            ("env_id", Text),
            ("id", Text),
            ("email", Text),
            ("email_normalized", Text),
            ("first_name", Text),
            ("last_name", Text),
            ("password_hash", Text),
            ("created_at", Int),
            ("updated_at", Int),
            ("partner_id", Text),
            ("active", Int),
        ],
    ),
    (
        "partners",
        &[
            ("id", Text),
            ("env_id", Text),
            ("name", Text),
            ("status", Text),
            ("created_at", Int),
            ("updated_at", Int),
            ("allowed_scopes", Text),
        ],
    ),
    (
        "api_keys",
        &[
            ("key_id", Text),
            ("partner_id", Text),
            ("env_id", Text),
            ("key_hash", Text),
            ("scopes", Text),
            ("created_at", Int),
            ("expires_at", Int),
            ("retires_at", Int),
            ("revoked_at", Int),
            ("last_used_at", Int),
            ("rotated_to", Text),
        ],
    ),
    (
        "webhook_endpoints",
        &[
            ("id", Text),
            ("env_id", Text),
            ("partner_id", Text),
            ("url", Text),
            ("description", Text),
            ("event_types", Text),
            ("secret", Blob),
            ("previous_secret", Blob),
            ("previous_secret_expires_at", Int),
            ("event_cursor", Int),
            ("cursor_lease_until", Int),
            ("disabled_at", Int),
            ("disabled_reason", Text),
            ("failing_since", Int),
            ("created_at", Int),
            ("updated_at", Int),
        ],
    ),
    (
        "webhook_messages",
        &[
            ("endpoint_id", Text),
            ("event_id", Text),
            ("env_id", Text),
            ("sequence", Int),
            ("attempts", Int),
            ("next_attempt_at", Int),
            ("lease_until", Int),
            ("state", Text),
            ("created_at", Int),
        ],
    ),
    (
        "webhook_attempts",
        &[
            ("endpoint_id", Text),
            ("event_id", Text),
            ("event_type", Text),
            ("attempt", Int),
            ("attempted_at", Int),
            ("status_code", Int),
            ("error", Text),
            ("latency_ms", Int),
            ("response_snippet", Text),
        ],
    ),
    (
        "sessions",
        &[
            ("token_hash", Text),
            ("env_id", Text),
            ("account_id", Text),
            ("created_at", Int),
            ("expires_at", Int),
        ],
    ),
    (
        "session_flashes",
        &[("env_id", Text), ("token_hash", Text), ("sealed", Blob), ("expires_at", Int)],
    ),
    (
        "login_tokens",
        &[
            ("token_hash", Text),
            ("env_id", Text),
            ("account_id", Text),
            ("redirect", Text),
            ("created_at", Int),
            ("expires_at", Int),
            ("used_at", Int),
        ],
    ),
    (
        "idempotency_keys",
        &[
            ("env_id", Text),
            ("key_hash", Text),
            ("fingerprint", Text),
            ("status", Int),
            ("body", Blob),
            ("created_at", Int),
        ],
    ),
    (
        "audit_events",
        &[
            ("id", Text),
            ("platform_id", Text),
            ("environment", Text),
            ("actor", Text),
            ("action", Text),
            ("target", Text),
            ("request_id", Text),
            ("detail", Text),
            ("created_at", Int),
        ],
    ),
    ("event_sequences", &[("env_id", Text), ("last_sequence", Int)]),
    (
        "events",
        &[
            ("env_id", Text),
            ("sequence", Int),
            ("id", Text),
            ("type", Text),
            ("partner_id", Text),
            ("platform_id", Text),
            ("environment", Text),
            ("actor_type", Text),
            ("actor_id", Text),
            ("data", Text),
            ("created_at", Int),
        ],
    ),
    (
        "usage_minutes",
        &[
            ("key_id", Text),
            ("partner_id", Text),
            ("env_id", Text),
            ("route", Text),
            ("status_class", Text),
            ("minute", Int),
            ("count", Int),
            ("denied", Int),
            ("limited", Int),
        ],
    ),
    (
        "usage_hours",
        &[
            ("env_id", Text),
            ("key_id", Text),
            ("partner_id", Text),
            ("route", Text),
            ("status_class", Text),
            ("hour", Int),
            ("count", Int),
            ("limited", Int),
        ],
    ),
    (
        "alerts",
        &[
            ("id", Text),
            ("env_id", Text),
            ("partner_id", Text),
            ("key_id", Text),
            ("kind", Text),
            ("detail", Text),
            ("created_at", Int),
            ("delivery", Text),
            ("attempts", Int),
            ("delivered_at", Int),
        ],
    ),
    (
        "alert_settings",
        &[
            ("env_id", Text),
            ("partner_id", Text),
            ("volume_factor", Text),
            ("volume_min", Int),
            ("error_share", Text),
            ("error_min", Int),
            ("updated_at", Int),
        ],
    ),
    (
        "vendor_apps",
        &[
            ("id", Text),
            ("env_id", Text),
            ("account_id", Text),
            ("name", Text),
            ("origins", Text),
            ("redirect_uris", Text),
            ("id_token_alg", Text),
            ("key_id", Text),
            ("key_hash", Text),
            ("key_created_at", Int),
            ("created_at", Int),
            ("updated_at", Int),
            ("suspended_at", Int),
        ],
    ),
    (
        "grants",
        &[
            ("env_id", Text),
            ("account_id", Text),
            ("app_id", Text),
            ("scopes", Text),
            ("granted_at", Int),
        ],
    ),
    (
        "auth_codes",
        &[
            ("code_hash", Text),
            ("env_id", Text),
            ("app_id", Text),
            ("account_id", Text),
            ("code_challenge", Text),
            ("created_at", Int),
            ("expires_at", Int),
            ("used_at", Int),
            ("redirect_uri", Text),
            ("scope", Text),
            ("nonce", Text),
            ("auth_time", Int),
            ("access_jti", Text),
            ("access_exp", Int),
        ],
    ),
];
