//! Platform instances: host resolution for requests, and the operator's
//! instance, hostname, feature and signing-key commands.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::json;

use crate::app::{CoreConfig, TtlCache};
use crate::audit::{Actor, AuditEvent};
use crate::error::{DomainError, FieldCode, Validator};
use crate::ids::EnvId;
use crate::store::Store;
use crate::tenancy::signing::sealed::SeedSealer;
use crate::tenancy::signing::{KeyRing, SigningKey};
use crate::tenancy::{
    EnvKind, Environment, Feature, Instance, PlatformId, Tenant, canonical_host, parse_app_url, parse_canonical_host, parse_hostname,
    parse_origin, parse_region,
};

/// What the operator gives to create an instance.
#[derive(Debug, Clone)]
pub struct NewInstance {
    pub platform_id: String,
    pub name: String,
    pub region: String,
    pub app_url: String,
}

/// Changes to an instance; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default)]
pub struct InstanceChanges {
    pub name: Option<String>,
    pub region: Option<String>,
    pub app_url: Option<String>,
    /// `(route or "default", requests per minute)`; 0 removes the override.
    pub rate_limits: Vec<(String, u32)>,
    /// Sign-in link template with `{token}` and optionally `{app_url}`, `{redirect}`.
    pub link_template: Option<String>,
    /// Lifetime of sign-in links in seconds (1 to 604800).
    pub login_link_ttl_secs: Option<i64>,
}

/// Changes to one environment's hostnames and CORS origins.
#[derive(Debug, Clone, Default)]
pub struct EnvChanges {
    pub add_hosts: Vec<String>,
    pub remove_hosts: Vec<String>,
    pub add_origins: Vec<String>,
    pub remove_origins: Vec<String>,
}

/// `default`, or a route template as rate limits name it: `POST /v1/client/login`.
fn parse_rate_limit_route(raw: &str) -> Result<(), crate::FieldError> {
    let valid = raw == "default"
        || raw.split_once(' ').is_some_and(|(method, path)| {
            matches!(method, "GET" | "POST" | "PUT" | "PATCH" | "DELETE") && path.starts_with('/') && !path.contains(char::is_whitespace)
        });
    if valid {
        Ok(())
    } else {
        Err(crate::FieldError::new(
            "rate_limit",
            FieldCode::InvalidRoute,
            format!("`{raw}` is not `default` or a route like `POST /v1/client/login`"),
        ))
    }
}

fn parse_display_name(raw: &str) -> Result<String, crate::FieldError> {
    crate::accounts::parse_name_part("name", raw)
}

/// Instances, environments, hosts and signing keys, with the caches that
/// keep host resolution and token verification off the database.
pub struct Tenancy {
    pub(super) store: Arc<dyn Store>,
    pub(super) config: Arc<CoreConfig>,
    /// Tenants by lowercase host; cleared by every local settings write.
    tenants: TtlCache<String, Option<Arc<Tenant>>>,
    pub(super) keyrings: TtlCache<EnvId, Arc<KeyRing>>,
    pub(super) sealer: SeedSealer,
}

impl Tenancy {
    pub(crate) fn new(store: Arc<dyn Store>, config: Arc<CoreConfig>, sealer: SeedSealer) -> Self {
        Self {
            sealer,
            tenants: TtlCache::new(config.settings_ttl, Arc::clone(&config.clock)),
            keyrings: TtlCache::new(config.settings_ttl, Arc::clone(&config.clock)),
            store,
            config,
        }
    }

    /// Every instance, by platform id.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn instances(&self) -> Result<Vec<Instance>, DomainError> {
        Ok(self.store.instances().await?)
    }

    /// Whether the database answers (for `/readyz`).
    ///
    /// # Errors
    /// `Unavailable` when it does not.
    pub async fn ping(&self) -> Result<(), DomainError> {
        Ok(self.store.ping().await?)
    }

    /// Resolves a request's `Host` (port ignored, case-insensitive) to its tenant.
    ///
    /// # Errors
    /// `UnknownInstance` when no instance answers at this host.
    pub async fn resolve_host(&self, host: &str) -> Result<Arc<Tenant>, DomainError> {
        let host = strip_port(host).to_ascii_lowercase();
        let found = self.tenants.get_or_load(&host, async || self.load_tenant(&host).await).await?;
        found.ok_or(DomainError::UnknownInstance)
    }

    async fn load_tenant(&self, host: &str) -> Result<Option<Arc<Tenant>>, DomainError> {
        let target = match parse_canonical_host(host, &self.config.base_domain) {
            Some(t) => Some(t),
            None => match self.store.environment_by_hostname(host).await? {
                Some(t) => Some(t),
                None if matches!(host, "localhost" | "127.0.0.1" | "[::1]") => self.config.local_host_env.clone(),
                None => None,
            },
        };
        let Some((pid, kind)) = target else { return Ok(None) };
        let (Some(instance), Some(env)) = (self.store.instance(&pid).await?, self.store.environment(&pid, kind).await?) else {
            return Ok(None);
        };
        Ok(Some(Arc::new(Tenant { instance, env })))
    }

    /// Creates an instance with its two environments and a signing key for each.
    ///
    /// # Errors
    /// `Validation` for bad input, `Conflict` if the platform id is taken.
    pub async fn create_instance(&self, actor: &Actor, new: NewInstance) -> Result<Instance, DomainError> {
        let mut v = Validator::default();
        let pid = v.check(PlatformId::parse(&new.platform_id));
        let name = v.check(parse_display_name(&new.name));
        let region = v.check(parse_region(&new.region));
        let app_url = v.check(parse_app_url(&new.app_url));
        v.finish()?;
        let (Some(pid), Some(name), Some(region), Some(app_url)) = (pid, name, region, app_url) else {
            unreachable!()
        };
        let now = self.config.clock.now_ms();
        let instance = Instance {
            platform_id: pid.clone(),
            name,
            region,
            app_url,
            features: Default::default(),
            rate_limits: BTreeMap::new(),
            link_template: None,
            login_link_ttl_secs: None,
            created_at: now,
            updated_at: now,
        };
        let envs: Vec<Environment> = EnvKind::ALL
            .into_iter()
            .map(|kind| Environment {
                id: EnvId::generate(),
                platform_id: pid.clone(),
                kind,
                hostnames: Vec::new(),
                cors_origins: Vec::new(),
            })
            .collect();
        let keys: Vec<SigningKey> = envs
            .iter()
            .flat_map(|e| SigningKey::generate_set(&e.id, now, &self.sealer))
            .collect();
        let audit = AuditEvent::new(actor, &pid, None, "instance.created", pid.as_str())
            .with_detail(json!({ "name": instance.name, "region": instance.region, "app_url": instance.app_url }));
        self.store.create_instance(&instance, &envs, &keys, &audit).await?;
        Ok(instance)
    }

    /// # Errors
    /// `NotFound("instance")` when it does not exist.
    pub async fn instance(&self, platform_id: &PlatformId) -> Result<Instance, DomainError> {
        self.store.instance(platform_id).await?.ok_or(DomainError::NotFound("instance"))
    }

    /// # Errors
    /// `NotFound` for an unknown instance.
    pub async fn environment(&self, platform_id: &PlatformId, kind: EnvKind) -> Result<Environment, DomainError> {
        let instance = self.instance(platform_id).await?;
        self.store
            .environment(&instance.platform_id, kind)
            .await?
            .ok_or(DomainError::NotFound("environment"))
    }

    /// # Errors
    /// `Validation` for bad settings, `NotFound` for an unknown instance.
    pub async fn update_instance(
        &self,
        actor: &Actor,
        platform_id: &PlatformId,
        changes: InstanceChanges,
    ) -> Result<Instance, DomainError> {
        let mut instance = self.instance(platform_id).await?;
        let mut v = Validator::default();
        if let Some(name) = changes.name.as_deref().and_then(|n| v.check(parse_display_name(n))) {
            instance.name = name;
        }
        if let Some(region) = changes.region.as_deref().and_then(|r| v.check(parse_region(r))) {
            instance.region = region;
        }
        if let Some(url) = changes.app_url.as_deref().and_then(|u| v.check(parse_app_url(u))) {
            instance.app_url = url;
        }
        if let Some(template) = &changes.link_template {
            let ok = template.contains("{token}")
                && (template.starts_with("{app_url}") || template.starts_with("https://") || template.starts_with("http://"))
                && template.len() <= 2048
                && !template.chars().any(|c| c.is_whitespace() || c.is_control());
            if ok {
                instance.link_template = Some(template.clone());
            } else {
                v.push(crate::FieldError::new(
                    "link_template",
                    FieldCode::InvalidTemplate,
                    "link_template must start with {app_url} or http(s):// and contain {token}",
                ));
            }
        }
        if let Some(ttl) = changes.login_link_ttl_secs {
            if (1..=604_800).contains(&ttl) {
                instance.login_link_ttl_secs = Some(ttl);
            } else {
                v.push(crate::FieldError::new(
                    "login_link_ttl",
                    FieldCode::OutOfRange,
                    "login_link_ttl must be between 1 second and 7 days",
                ));
            }
        }
        for (route, per_minute) in &changes.rate_limits {
            if v.check(parse_rate_limit_route(route)).is_none() {
                continue;
            }
            match per_minute {
                0 => instance.rate_limits.remove(route),
                n => instance.rate_limits.insert(route.clone(), *n),
            };
        }
        v.finish()?;
        instance.updated_at = self.config.clock.now_ms();
        let audit = AuditEvent::new(actor, platform_id, None, "instance.updated", platform_id.as_str()).with_detail(json!({
            "name": instance.name, "region": instance.region, "app_url": instance.app_url, "rate_limits": instance.rate_limits,
        }));
        self.store.update_instance(&instance, &audit).await?;
        self.tenants.clear();
        Ok(instance)
    }

    /// Switches features on and off.
    ///
    /// # Errors
    /// `Validation` for an unknown feature name.
    pub async fn set_features(
        &self,
        actor: &Actor,
        platform_id: &PlatformId,
        enable: &[String],
        disable: &[String],
    ) -> Result<Instance, DomainError> {
        let mut instance = self.instance(platform_id).await?;
        let mut v = Validator::default();
        let enable: Vec<Feature> = enable.iter().filter_map(|f| v.check(f.parse())).collect();
        let disable: Vec<Feature> = disable.iter().filter_map(|f| v.check(f.parse())).collect();
        v.finish()?;
        instance.features.extend(enable);
        instance.features.retain(|f| !disable.contains(f));
        instance.updated_at = self.config.clock.now_ms();
        let audit = AuditEvent::new(actor, platform_id, None, "instance.features_changed", platform_id.as_str())
            .with_detail(json!({ "features": instance.features }));
        self.store.update_instance(&instance, &audit).await?;
        self.tenants.clear();
        Ok(instance)
    }

    /// Adds or removes an environment's extra hostnames and CORS origins.
    ///
    /// # Errors
    /// `Validation` for malformed hosts or origins, `Conflict` for a hostname
    /// another environment already has.
    pub async fn update_environment(
        &self,
        actor: &Actor,
        platform_id: &PlatformId,
        kind: EnvKind,
        changes: EnvChanges,
    ) -> Result<Environment, DomainError> {
        let mut env = self.environment(platform_id, kind).await?;
        let mut v = Validator::default();
        let add_hosts: Vec<String> = changes.add_hosts.iter().filter_map(|h| v.check(parse_hostname(h))).collect();
        let add_origins: Vec<String> = changes.add_origins.iter().filter_map(|o| v.check(parse_origin(o))).collect();
        for host in &add_hosts {
            if parse_canonical_host(host, &self.config.base_domain).is_some() {
                v.push(crate::FieldError::new(
                    "hostname",
                    FieldCode::ReservedHostname,
                    format!("`{host}` is a canonical API host"),
                ));
            }
        }
        v.finish()?;
        env.hostnames
            .retain(|h| !changes.remove_hosts.iter().any(|r| r.eq_ignore_ascii_case(h)));
        env.hostnames.extend(add_hosts);
        env.hostnames.sort();
        env.hostnames.dedup();
        env.cors_origins
            .retain(|o| !changes.remove_origins.iter().any(|r| r.eq_ignore_ascii_case(o)));
        env.cors_origins.extend(add_origins);
        env.cors_origins.sort();
        env.cors_origins.dedup();
        let audit = AuditEvent::new(actor, platform_id, Some(kind.as_str()), "environment.updated", env.id.as_str())
            .with_detail(json!({ "hostnames": env.hostnames, "cors_origins": env.cors_origins }));
        self.store.update_environment(&env, &audit).await?;
        self.tenants.clear();
        Ok(env)
    }

    /// The canonical API host of an environment.
    pub fn host_of(&self, platform_id: &PlatformId, kind: EnvKind) -> String {
        canonical_host(platform_id, kind, &self.config.base_domain)
    }
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split_once(']').map_or(host, |(h, _)| &host[..=h.len()]);
    }
    host.rsplit_once(':')
        .map_or(host, |(h, port)| if port.chars().all(|c| c.is_ascii_digit()) { h } else { host })
}

#[cfg(test)]
mod tests {
    #[test]
    fn strips_ports() {
        assert_eq!(super::strip_port("api.acme.localhost:8080"), "api.acme.localhost");
        assert_eq!(super::strip_port("localhost"), "localhost");
        assert_eq!(super::strip_port("[::1]:80"), "[::1]");
    }
}
