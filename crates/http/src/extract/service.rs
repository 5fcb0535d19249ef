//! Service users' requests: what an endpoint requires of a service token
//! ([`Policy`]) and the extractor that checks it ([`Authorized`]).

use std::marker::PhantomData;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use onramp_domain::audit::Actor;
use onramp_domain::service_users::Role;
use onramp_domain::tenancy::signing::ServiceClaims;
use onramp_domain::tenancy::{Feature, Tenant};

use super::CurrentTenant;
use crate::middleware::guard::Credential;
use crate::problem::{ApiError, ErrorCode};

/// What an endpoint requires of its caller.
pub trait Policy {
    /// The instance feature that must be on, if any.
    const FEATURE: Option<Feature>;
    /// The role the service user must have.
    const ROLE: Role;
}

/// Redeeming partner sign-in links: feature `partners`, role `service`.
pub struct PartnerLinks;

impl Policy for PartnerLinks {
    const FEATURE: Option<Feature> = Some(Feature::Partners);
    const ROLE: Role = Role::Service;
}

/// The client account API: feature `client-accounts`, role `service`.
pub struct ClientAccounts;

impl Policy for ClientAccounts {
    const FEATURE: Option<Feature> = Some(Feature::ClientAccounts);
    const ROLE: Role = Role::Service;
}

/// The environment's event feed and webhooks: role `service`, any features
/// (events come from all of them).
pub struct EventFeed;

impl Policy for EventFeed {
    const FEATURE: Option<Feature> = None;
    const ROLE: Role = Role::Service;
}

/// A service user authorised under policy `P`, in the request's tenant.
/// `401` without valid credentials, `403` when the feature is off or the
/// role is missing.
pub struct Authorized<P> {
    pub tenant: Arc<Tenant>,
    pub claims: Arc<ServiceClaims>,
    _policy: PhantomData<P>,
}

impl<P> Authorized<P> {
    /// The audit actor for changes made by this caller.
    pub fn actor(&self) -> Actor {
        Credential::ServiceUser(Arc::clone(&self.claims)).actor()
    }
}

impl<S: Send + Sync, P: Policy> FromRequestParts<S> for Authorized<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let CurrentTenant(tenant) = CurrentTenant::from_request_parts(parts, state).await?;
        let Some(Credential::ServiceUser(claims)) = parts.extensions.get::<Credential>().cloned() else {
            return Err(ApiError::new(
                ErrorCode::Unauthenticated,
                "a valid service token for this environment is required",
            ));
        };
        if let Some(feature) = P::FEATURE {
            tenant.require(feature)?;
        }
        if !claims.r.contains(&P::ROLE) {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                format!("this endpoint needs the `{}` role", P::ROLE),
            ));
        }
        Ok(Self {
            tenant,
            claims,
            _policy: PhantomData,
        })
    }
}
