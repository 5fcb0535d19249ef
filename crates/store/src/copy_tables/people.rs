//! The tables of the people who run the product: operators and their
//! console sessions, partners' portal users, SCIM tokens and what SCIM
//! keeps of Users and its Groups (after the accounts they name), service
//! users' OAuth client secrets and revoked access tokens.

use super::Kind::{Blob, Int, Text};
use super::Table;

pub(super) const PEOPLE: &[Table] = &[
    (
        "operators",
        &[
            ("id", Text),
            ("email", Text),
            ("role", Text),
            ("password_hash", Text),
            ("totp_secret", Blob),
            ("totp_last_step", Int),
            ("disabled_at", Int),
            ("created_at", Int),
            ("updated_at", Int),
        ],
    ),
    ("operator_recovery_codes", &[("operator_id", Text), ("code_hash", Text)]),
    (
        "operator_sessions",
        &[
            ("token_hash", Text),
            ("operator_id", Text),
            ("stage", Text),
            ("pending_totp", Blob),
            ("created_at", Int),
            ("last_seen_at", Int),
        ],
    ),
    (
        "partner_applications",
        &[
            ("partner_id", Text),
            ("contact_name", Text),
            ("contact_email", Text),
            ("intended_use", Text),
            ("created_at", Int),
        ],
    ),
    (
        "portal_users",
        &[
            ("id", Text),
            ("env_id", Text),
            ("partner_id", Text),
            ("email", Text),
            ("name", Text),
            ("password_hash", Text),
            ("created_at", Int),
            ("updated_at", Int),
            ("totp_secret", Blob),
            ("totp_last_step", Int),
        ],
    ),
    ("portal_recovery_codes", &[("user_id", Text), ("code_hash", Text)]),
    (
        "portal_sessions",
        &[
            ("token_hash", Text),
            ("user_id", Text),
            ("created_at", Int),
            ("last_seen_at", Int),
            ("stage", Text),
            ("pending_totp", Blob),
        ],
    ),
    (
        "portal_invitations",
        &[
            ("token_hash", Text),
            ("env_id", Text),
            ("partner_id", Text),
            ("email", Text),
            ("invited_by", Text),
            ("created_at", Int),
            ("expires_at", Int),
            ("used_at", Int),
        ],
    ),
    (
        "scim_tokens",
        &[
            ("id", Text),
            ("env_id", Text),
            ("name", Text),
            ("token_hash", Text),
            ("created_at", Int),
            ("revoked_at", Int),
        ],
    ),
    (
        "scim_users",
        &[("env_id", Text), ("account_id", Text), ("external_id", Text), ("attributes", Text)],
    ),
    (
        "account_groups",
        &[
            ("env_id", Text),
            ("id", Text),
            ("display_name", Text),
            ("display_key", Text),
            ("external_id", Text),
            ("version", Int),
            ("created_at", Int),
            ("updated_at", Int),
        ],
    ),
    ("group_members", &[("env_id", Text), ("group_id", Text), ("account_id", Text)]),
    (
        "oauth_client_secrets",
        &[
            ("id", Text),
            ("env_id", Text),
            ("service_user_id", Text),
            ("secret_hash", Text),
            ("created_at", Int),
            ("expires_at", Int),
            ("revoked_at", Int),
        ],
    ),
    (
        "revoked_tokens",
        &[("env_id", Text), ("jti", Text), ("expires_at", Int), ("revoked_at", Int)],
    ),
];
