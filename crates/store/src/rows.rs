//! Row to domain-record mapping.

use onramp_domain::account::{Account, PersonName};
use onramp_domain::audit::AuditEvent;
use onramp_domain::partner::{ApiKey, Partner, PartnerStatus};
use onramp_domain::signing::SigningKey;
use onramp_domain::store::{IdempotencyRecord, ServiceUser, Session, StoreError};
use onramp_domain::tenancy::{EnvKind, Environment, Instance, PlatformId};
use sqlx::Row;
use sqlx::any::AnyRow;

type R<T> = Result<T, StoreError>;

fn get<T>(row: &AnyRow, col: &str) -> R<T>
where
    T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(col).map_err(crate::map_err)
}

fn json<T: serde::de::DeserializeOwned>(row: &AnyRow, col: &str) -> R<T> {
    let text: String = get(row, col)?;
    serde_json::from_str(&text).map_err(|e| StoreError::other(format!("column {col}: {e}")))
}

fn platform_id(row: &AnyRow) -> R<PlatformId> {
    let raw: String = get(row, "platform_id")?;
    PlatformId::parse(&raw).map_err(StoreError::other)
}

pub fn instance(row: &AnyRow) -> R<Instance> {
    Ok(Instance {
        platform_id: platform_id(row)?,
        name: get(row, "name")?,
        region: get(row, "region")?,
        app_url: get(row, "app_url")?,
        features: json(row, "features")?,
        rate_limits: json(row, "rate_limits")?,
        link_template: get(row, "link_template")?,
        login_link_ttl_secs: get(row, "login_link_ttl_secs")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

pub fn environment(row: &AnyRow, hostnames: Vec<String>) -> R<Environment> {
    let kind: String = get(row, "kind")?;
    Ok(Environment {
        id: get(row, "id")?,
        platform_id: platform_id(row)?,
        kind: kind.parse::<EnvKind>().map_err(StoreError::other)?,
        hostnames,
        cors_origins: json(row, "cors_origins")?,
    })
}

pub fn signing_key(row: &AnyRow) -> R<SigningKey> {
    Ok(SigningKey {
        kid: get(row, "kid")?,
        env_id: get(row, "env_id")?,
        seed: get(row, "seed")?,
        created_at: get(row, "created_at")?,
        retired_at: get(row, "retired_at")?,
    })
}

pub fn service_user(row: &AnyRow) -> R<ServiceUser> {
    Ok(ServiceUser {
        id: get(row, "id")?,
        env_id: get(row, "env_id")?,
        username: get(row, "username")?,
        password_hash: get(row, "password_hash")?,
        roles: json(row, "roles")?,
        disabled_at: get(row, "disabled_at")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

pub fn account(row: &AnyRow) -> R<Account> {
    Ok(Account {
        id: get(row, "id")?,
        env_id: get(row, "env_id")?,
        email: get(row, "email")?,
        name: PersonName {
            first_name: get(row, "first_name")?,
            last_name: get(row, "last_name")?,
        },
        password_hash: get(row, "password_hash")?,
        partner_id: get(row, "partner_id")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

pub fn partner(row: &AnyRow) -> R<Partner> {
    let status: String = get(row, "status")?;
    let kind: String = get(row, "kind")?;
    Ok(Partner {
        id: get(row, "id")?,
        env_id: get(row, "env_id")?,
        platform_id: get(row, "platform_id")?,
        environment: kind.parse::<EnvKind>().map_err(StoreError::other)?,
        name: get(row, "name")?,
        status: status.parse::<PartnerStatus>().map_err(StoreError::other)?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

pub fn api_key(row: &AnyRow) -> R<ApiKey> {
    Ok(ApiKey {
        key_id: get(row, "key_id")?,
        partner_id: get(row, "partner_id")?,
        env_id: get(row, "env_id")?,
        key_hash: get(row, "key_hash")?,
        scopes: json(row, "scopes")?,
        created_at: get(row, "created_at")?,
        expires_at: get(row, "expires_at")?,
        retires_at: get(row, "retires_at")?,
        revoked_at: get(row, "revoked_at")?,
        last_used_at: get(row, "last_used_at")?,
    })
}

pub fn session(row: &AnyRow) -> R<Session> {
    Ok(Session {
        token_hash: get(row, "token_hash")?,
        env_id: get(row, "env_id")?,
        account_id: get(row, "account_id")?,
        created_at: get(row, "created_at")?,
        expires_at: get(row, "expires_at")?,
    })
}

pub fn audit_event(row: &AnyRow) -> R<AuditEvent> {
    Ok(AuditEvent {
        id: get(row, "id")?,
        platform_id: get(row, "platform_id")?,
        environment: get(row, "environment")?,
        actor: get(row, "actor")?,
        action: get(row, "action")?,
        target: get(row, "target")?,
        request_id: get(row, "request_id")?,
        detail: json(row, "detail")?,
        created_at: get(row, "created_at")?,
    })
}

pub fn environment_ref(row: &AnyRow) -> R<(PlatformId, EnvKind)> {
    let kind: String = get(row, "kind")?;
    Ok((
        platform_id(row)?,
        kind.parse::<EnvKind>().map_err(|e| StoreError::Other(e.message.into()))?,
    ))
}

pub fn idempotency(row: &AnyRow) -> R<IdempotencyRecord> {
    Ok(IdempotencyRecord {
        env_id: get(row, "env_id")?,
        key_hash: get(row, "key_hash")?,
        fingerprint: get(row, "fingerprint")?,
        status: get(row, "status")?,
        body: get(row, "body")?,
        created_at: get(row, "created_at")?,
    })
}
