//! Instances: the list, creation, and one instance's settings (name,
//! region, app URL, features, rate limits, sign-in links, and per
//! environment its CORS origins and extra hostnames). Support operators
//! see the forms disabled; only admins change anything.

use std::collections::BTreeSet;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use onramp_domain::error::DomainError;
use onramp_domain::tenancy::service::{EnvChanges, InstanceChanges};
use onramp_domain::tenancy::{EnvKind, Feature, Instance, PlatformId};
use serde::Deserialize;

use super::session::{Admin, ConsoleCsrf, ConsoleForm, Operator};
use super::views::{Nav, domain_failure, refusal};
use crate::WebState;
use crate::views::{redirect, render};

pub mod list;

/// The form of an instance, as text fields.
#[derive(Debug, Default, Deserialize)]
pub struct InstanceForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    pub platform_id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub app_url: String,
    #[serde(rename = "client-accounts")]
    client_accounts: Option<String>,
    partners: Option<String>,
    #[serde(rename = "user-integration")]
    user_integration: Option<String>,
    #[serde(rename = "self-signup")]
    self_signup: Option<String>,
    scim: Option<String>,
    #[serde(default)]
    pub rate_limits: String,
    #[serde(default)]
    pub link_template: String,
    #[serde(default)]
    pub link_ttl: String,
    #[serde(default)]
    origins_staging: String,
    #[serde(default)]
    hosts_staging: String,
    #[serde(default)]
    origins_production: String,
    #[serde(default)]
    hosts_production: String,
}

csrf_field!(InstanceForm);

impl InstanceForm {
    pub(super) fn checked(&self, f: Feature) -> bool {
        match f {
            Feature::ClientAccounts => self.client_accounts.is_some(),
            Feature::Partners => self.partners.is_some(),
            Feature::UserIntegration => self.user_integration.is_some(),
            Feature::SelfSignup => self.self_signup.is_some(),
            Feature::Scim => self.scim.is_some(),
        }
    }

    fn of(instance: &Instance) -> Self {
        let on = |f| instance.features.contains(&f).then(String::new);
        Self {
            name: instance.name.clone(),
            region: instance.region.clone(),
            app_url: instance.app_url.clone(),
            client_accounts: on(Feature::ClientAccounts),
            partners: on(Feature::Partners),
            user_integration: on(Feature::UserIntegration),
            self_signup: on(Feature::SelfSignup),
            scim: on(Feature::Scim),
            rate_limits: instance
                .rate_limits
                .iter()
                .map(|(r, n)| format!("{r}={n}"))
                .collect::<Vec<_>>()
                .join("\n"),
            link_template: instance.link_template.clone().unwrap_or_default(),
            link_ttl: instance.login_link_ttl_secs.map(|s| s.to_string()).unwrap_or_default(),
            ..Self::default()
        }
    }

    fn envs(&self, kind: EnvKind) -> (&str, &str) {
        match kind {
            EnvKind::Staging => (&self.origins_staging, &self.hosts_staging),
            EnvKind::Production => (&self.origins_production, &self.hosts_production),
        }
    }
}

/// One checkbox per feature: field name, label, checked.
pub(super) fn feature_boxes(form: &InstanceForm) -> Vec<(&'static str, &'static str, bool)> {
    Feature::ALL.iter().map(|&f| (f.as_str(), f.as_str(), form.checked(f))).collect()
}

/// One environment's part of the page.
struct EnvView {
    kind: &'static str,
    host: String,
    origins: String,
    hosts: String,
}

#[derive(Template)]
#[template(path = "console/instance.html")]
struct Detail {
    csrf: String,
    email: String,
    role: &'static str,
    current: &'static str,
    admin: bool,
    notice: Option<String>,
    error: Option<String>,
    platform_id: String,
    name: String,
    form: InstanceForm,
    features: Vec<(&'static str, &'static str, bool)>,
    envs: Vec<EnvView>,
}

async fn detail_page(
    state: &WebState,
    nav: Nav,
    admin: bool,
    id: &PlatformId,
    shown: Option<InstanceForm>,
    outcome: (Option<String>, Option<String>),
) -> Response {
    let tenancy = state.core.tenancy();
    let instance = match tenancy.instance(id).await {
        Ok(i) => i,
        Err(e) => return domain_failure(&e),
    };
    let mut envs = Vec::new();
    for kind in [EnvKind::Staging, EnvKind::Production] {
        match tenancy.environment(id, kind).await {
            Ok(env) => envs.push(EnvView {
                kind: kind.as_str(),
                host: tenancy.host_of(id, kind),
                origins: env.cors_origins.join("\n"),
                hosts: env.hostnames.join("\n"),
            }),
            Err(e) => return domain_failure(&e),
        }
    }
    let form = shown.unwrap_or_else(|| InstanceForm::of(&instance));
    let status = if outcome.1.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = Detail {
        csrf: nav.csrf,
        email: nav.email,
        role: nav.role,
        current: nav.current,
        admin,
        notice: outcome.0,
        error: outcome.1,
        platform_id: instance.platform_id.to_string(),
        name: instance.name.clone(),
        features: feature_boxes(&form),
        form,
        envs,
    };
    render(status, &page)
}

#[derive(Deserialize)]
pub struct Shown {
    created: Option<String>,
    saved: Option<String>,
}

pub async fn detail(
    State(state): State<WebState>,
    Operator(console): Operator,
    csrf: ConsoleCsrf,
    Path(id): Path<String>,
    axum::extract::Query(shown): axum::extract::Query<Shown>,
) -> Response {
    let Ok(id) = PlatformId::lookup(&id) else {
        return domain_failure(&DomainError::NotFound("instance"));
    };
    let notice = match (shown.created, shown.saved) {
        (Some(_), _) => Some("Instance created.".to_owned()),
        (_, Some(_)) => Some("Saved.".to_owned()),
        _ => None,
    };
    let admin = console.operator.is_admin();
    detail_page(
        &state,
        Nav::new(&console, csrf.value, "instances"),
        admin,
        &id,
        None,
        (notice, None),
    )
    .await
}

/// Lines of a text area, trimmed, without blanks.
fn lines(text: &str) -> BTreeSet<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

/// The instance changes of the form against `instance`, or what is wrong.
fn changes(form: &InstanceForm, instance: &Instance) -> Result<InstanceChanges, String> {
    let mut rate_limits = Vec::new();
    let mut kept = BTreeSet::new();
    for line in lines(&form.rate_limits) {
        let (route, n) = line
            .rsplit_once('=')
            .ok_or_else(|| format!("Rate limit `{line}` is not route=requests"))?;
        let n: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("Rate limit `{line}` needs a whole number of requests"))?;
        kept.insert(route.trim().to_owned());
        rate_limits.push((route.trim().to_owned(), n));
    }
    rate_limits.extend(instance.rate_limits.keys().filter(|r| !kept.contains(*r)).map(|r| (r.clone(), 0)));
    let link_ttl = match form.link_ttl.trim() {
        "" => None,
        raw => Some(
            raw.parse::<i64>()
                .map_err(|_| "Sign-in link lifetime must be a number of seconds".to_owned())?,
        ),
    };
    let template = form.link_template.trim();
    Ok(InstanceChanges {
        name: Some(form.name.clone()),
        region: Some(form.region.clone()),
        app_url: Some(form.app_url.clone()),
        rate_limits,
        link_template: (!template.is_empty() && Some(template) != instance.link_template.as_deref()).then(|| template.to_owned()),
        login_link_ttl_secs: link_ttl.filter(|t| Some(*t) != instance.login_link_ttl_secs),
    })
}

/// Applies the form: settings, features, then each environment.
async fn apply(
    state: &WebState,
    actor: &onramp_domain::audit::Actor,
    id: &PlatformId,
    form: &InstanceForm,
) -> Result<(), Result<String, DomainError>> {
    let tenancy = state.core.tenancy();
    let instance = tenancy.instance(id).await.map_err(Err)?;
    let settings = changes(form, &instance).map_err(Ok)?;
    let explain = |e: DomainError| refusal(&e).ok_or(e);
    tenancy.update_instance(actor, id, settings).await.map_err(explain)?;
    let (on, off): (Vec<Feature>, Vec<Feature>) = Feature::ALL.iter().partition(|&&f| form.checked(f));
    let names = |fs: Vec<Feature>| fs.iter().map(|f| f.as_str().to_owned()).collect::<Vec<_>>();
    tenancy.set_features(actor, id, &names(on), &names(off)).await.map_err(explain)?;
    for kind in [EnvKind::Staging, EnvKind::Production] {
        let env = tenancy.environment(id, kind).await.map_err(Err)?;
        let (origins, hosts) = form.envs(kind);
        let (origins, hosts) = (lines(origins), lines(hosts));
        let before_origins: BTreeSet<String> = env.cors_origins.iter().cloned().collect();
        let before_hosts: BTreeSet<String> = env.hostnames.iter().cloned().collect();
        let env_changes = EnvChanges {
            add_hosts: hosts.difference(&before_hosts).cloned().collect(),
            remove_hosts: before_hosts.difference(&hosts).cloned().collect(),
            add_origins: origins.difference(&before_origins).cloned().collect(),
            remove_origins: before_origins.difference(&origins).cloned().collect(),
        };
        let unchanged = env_changes.add_hosts.is_empty()
            && env_changes.remove_hosts.is_empty()
            && env_changes.add_origins.is_empty()
            && env_changes.remove_origins.is_empty();
        if !unchanged {
            tenancy.update_environment(actor, id, kind, env_changes).await.map_err(explain)?;
        }
    }
    Ok(())
}

pub async fn update(
    State(state): State<WebState>,
    Admin(console): Admin,
    Path(id): Path<String>,
    ConsoleForm(form): ConsoleForm<InstanceForm>,
) -> Response {
    let Ok(id) = PlatformId::lookup(&id) else {
        return domain_failure(&DomainError::NotFound("instance"));
    };
    match apply(&state, &console.actor(), &id, &form).await {
        Ok(()) => redirect(&format!("/instances/{id}?saved=1")),
        Err(Ok(why)) => {
            let nav = Nav::new(&console, form.csrf.clone(), "instances");
            detail_page(&state, nav, true, &id, Some(form), (None, Some(why))).await
        }
        Err(Err(e)) => domain_failure(&e),
    }
}
