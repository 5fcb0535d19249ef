//! The token endpoint's client-credentials grant, introspection and
//! revocation.

use std::sync::Arc;

use crate::audit::Actor;
use crate::audit::AuditEvent;
use crate::error::DomainError;
use crate::infra::secret::{Secret, random_token};
use crate::oauth::service::OAuth;
use crate::oauth::{OAuthCode, OAuthError, client_id_of};
use crate::service_users::{Role, ServiceUser};
use crate::tenancy::Tenant;
use crate::tenancy::signing::{AUDIENCE, KeyAlg, ServiceClaims, TYP_ACCESS_TOKEN};

/// An access token just issued.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub token: String,
    pub expires_in: u64,
    /// The granted scopes, space-separated.
    pub scope: String,
}

/// The roles `requested` names (space-separated), in the user's order; all
/// of the user's roles when nothing is requested.
fn granted_roles(user: &ServiceUser, requested: Option<&str>) -> Result<Vec<Role>, OAuthError> {
    let Some(requested) = requested else {
        return Ok(user.roles.clone());
    };
    let mut names: Vec<&str> = requested.split(' ').filter(|s| !s.is_empty()).collect();
    if names.is_empty() {
        return Ok(user.roles.clone());
    }
    names.sort_unstable();
    names.dedup();
    if let Some(unknown) = names.iter().find(|n| !user.roles.iter().any(|r| r.as_str() == **n)) {
        let shown: String = unknown.chars().take(64).collect();
        return Err(OAuthError::refused(
            OAuthCode::InvalidScope,
            format!("scope `{shown}` is not one of this client's roles"),
        ));
    }
    Ok(user.roles.iter().filter(|r| names.contains(&r.as_str())).cloned().collect())
}

impl OAuth {
    /// The client-credentials grant (RFC 6749 §4.4): an RFC 9068 access
    /// token for the authenticated service user, with the requested scopes
    /// (a subset of its roles; all of them by default) as its `scope` and
    /// `r` claims, signed EdDSA like today's service tokens.
    ///
    /// # Errors
    /// `invalid_scope` for a scope that is not one of the user's roles.
    pub async fn client_credentials(&self, tenant: &Tenant, user: &ServiceUser, scope: Option<&str>) -> Result<AccessToken, OAuthError> {
        let roles = granted_roles(user, scope)?;
        let scope = roles.iter().map(Role::as_str).collect::<Vec<_>>().join(" ");
        let ttl = self.config.service_token_ttl.as_secs();
        let iat = self.config.clock.now_ms() / 1000;
        let claims = ServiceClaims {
            r: roles,
            exp: iat + ttl as i64,
            iat,
            sub: user.id.clone(),
            reg: tenant.instance.region.clone(),
            iss: self.tenancy.issuer(tenant),
            aud: AUDIENCE.to_owned(),
            jti: random_token("", 22),
            env: tenant.env.kind.as_str().to_owned(),
            pid: tenant.instance.platform_id.to_string(),
            client_id: Some(client_id_of(&user.id)),
            scope: Some(scope.clone()),
        };
        let token = self
            .tenancy
            .keyring(tenant)
            .await?
            .sign_as(KeyAlg::EdDsa, TYP_ACCESS_TOKEN, &claims)?;
        Ok(AccessToken {
            token,
            expires_in: ttl,
            scope,
        })
    }

    /// Introspection (RFC 7662) by the client `client_id`/`secret`: the
    /// claims of `token` if it is active in the tenant's environment — it
    /// verifies, its user is active, and it is not revoked, the revocation
    /// read from the database in the client's authentication query, so a
    /// revocation through any node shows at once for one query in all.
    ///
    /// # Errors
    /// `invalid_client` as [`Self::authenticate_client`]; storage failures.
    pub async fn introspect(
        &self,
        tenant: &Tenant,
        client_id: &str,
        secret: &Secret,
        token: &str,
    ) -> Result<Option<Arc<ServiceClaims>>, OAuthError> {
        let claims = match self.service_users.authenticate_service(tenant, token).await {
            Ok(claims) => Some(claims),
            Err(DomainError::Unauthenticated) => None,
            Err(e) => return Err(e.into()),
        };
        let jti = claims.as_ref().map(|c| c.jti.as_str());
        let found = self.authenticate_client_asking(tenant, client_id, secret, jti).await?;
        Ok(claims.filter(|_| !found.token_revoked))
    }

    /// Revokes `token` (RFC 7009) for the authenticated `client`: from now
    /// on this node refuses it, every other node within the settings ttl.
    /// A token that is not valid here (unknown, expired, already revoked)
    /// needs nothing done: success, as §2.2 says.
    ///
    /// # Errors
    /// `unauthorized_client` for a valid token of another service user.
    pub async fn revoke(&self, tenant: &Tenant, actor: &Actor, client: &ServiceUser, token: &str) -> Result<(), OAuthError> {
        let claims = match self.service_users.authenticate_service(tenant, token).await {
            Ok(claims) => claims,
            Err(DomainError::Unauthenticated) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        if claims.sub != client.id {
            return Err(OAuthError::refused(
                OAuthCode::UnauthorizedClient,
                "the token was not issued to this client",
            ));
        }
        let now = self.config.clock.now_ms();
        let audit = AuditEvent::new(
            actor,
            &tenant.instance.platform_id,
            Some(tenant.env.kind.as_str()),
            "oauth_token.revoked",
            &claims.jti,
        )
        .with_detail(serde_json::json!({ "service_user_id": claims.sub, "client_id": claims.client_id }));
        self.store
            .revoke_token(&tenant.env.id, &claims.jti, claims.exp * 1000, now, &audit)
            .await?;
        self.revoked.forget(&tenant.env.id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(roles: &[&str]) -> ServiceUser {
        ServiceUser {
            id: "u".into(),
            env_id: "e".into(),
            username: "svc".into(),
            password_hash: String::new(),
            roles: roles.iter().map(|r| Role::from(*r)).collect(),
            disabled_at: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn names(roles: &[Role]) -> Vec<&str> {
        roles.iter().map(Role::as_str).collect()
    }

    #[test]
    fn scopes_are_a_subset_of_the_roles() {
        let u = user(&["service", "reports", "admin"]);
        assert_eq!(names(&granted_roles(&u, None).unwrap()), ["service", "reports", "admin"]);
        assert_eq!(names(&granted_roles(&u, Some("")).unwrap()), ["service", "reports", "admin"]);
        assert_eq!(names(&granted_roles(&u, Some("admin service")).unwrap()), ["service", "admin"]);
        assert_eq!(names(&granted_roles(&u, Some("reports reports")).unwrap()), ["reports"]);
        for bad in ["owner", "service owner", "Service", "service\treports"] {
            assert!(
                matches!(
                    granted_roles(&u, Some(bad)),
                    Err(OAuthError::Refused {
                        code: OAuthCode::InvalidScope,
                        ..
                    })
                ),
                "{bad:?}"
            );
        }
    }
}
