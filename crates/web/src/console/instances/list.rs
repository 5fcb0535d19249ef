//! The list of instances, 50 a page (`?limit=`, `?cursor=`), found by a platform id or name
//! substring; and creating one (its form sits beneath the list).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use onramp_domain::tenancy::Feature;
use onramp_domain::tenancy::service::NewInstance;
use serde::Deserialize;

use super::{InstanceForm, feature_boxes};
use crate::WebState;
use crate::console::session::{Admin, ConsoleCsrf, ConsoleForm, Operator};
use crate::console::views::{Nav, domain_failure, link, refusal};
use crate::views::{redirect, render};

/// Rows a page without `?limit=` (1 to 200).
const PAGE: u32 = 50;

#[derive(Template)]
#[template(path = "console/instances.html")]
struct List {
    csrf: String,
    email: String,
    role: &'static str,
    current: &'static str,
    admin: bool,
    error: Option<String>,
    /// The filter as given.
    q: String,
    /// Platform id, name, region, features.
    rows: Vec<(String, String, String, String)>,
    /// The link to the next page, with the filter.
    next: Option<String>,
    form: InstanceForm,
    features: Vec<(&'static str, &'static str, bool)>,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    cursor: Option<String>,
    limit: Option<u32>,
}

async fn list_page(state: &WebState, nav: Nav, admin: bool, query: &ListQuery, form: InstanceForm, error: Option<String>) -> Response {
    let q = query.q.trim();
    let limit = query.limit.unwrap_or(PAGE).clamp(1, 200);
    let page = match state.core.tenancy().instances_page(q, query.cursor.as_deref(), limit).await {
        Ok(page) => page,
        Err(e) => return domain_failure(&e),
    };
    let rows = page
        .items
        .iter()
        .map(|i| {
            let features: Vec<&str> = i.features.iter().map(|f| f.as_str()).collect();
            (i.platform_id.to_string(), i.name.clone(), i.region.clone(), features.join(", "))
        })
        .collect();
    let limit = query.limit.map(|_| limit.to_string()).unwrap_or_default();
    let next = page
        .next_cursor
        .map(|cursor| link("/instances", &[("q", q), ("limit", &limit), ("cursor", &cursor)]));
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let page = List {
        csrf: nav.csrf,
        email: nav.email,
        role: nav.role,
        current: nav.current,
        admin,
        error,
        q: q.to_owned(),
        rows,
        next,
        features: feature_boxes(&form),
        form,
    };
    render(status, &page)
}

pub async fn list(
    State(state): State<WebState>,
    Operator(console): Operator,
    csrf: ConsoleCsrf,
    Query(query): Query<ListQuery>,
) -> Response {
    let admin = console.operator.is_admin();
    let nav = Nav::new(&console, csrf.value, "instances");
    list_page(&state, nav, admin, &query, InstanceForm::default(), None).await
}

pub async fn create(State(state): State<WebState>, Admin(console): Admin, ConsoleForm(form): ConsoleForm<InstanceForm>) -> Response {
    let actor = console.actor();
    let new = NewInstance {
        platform_id: form.platform_id.trim().to_owned(),
        name: form.name.clone(),
        region: form.region.clone(),
        app_url: form.app_url.clone(),
    };
    let features: Vec<String> = Feature::ALL
        .iter()
        .filter(|&&f| form.checked(f))
        .map(|f| f.as_str().to_owned())
        .collect();
    let created = match state.core.tenancy().create_instance(&actor, new).await {
        Ok(instance) => instance,
        Err(e) => {
            let nav = Nav::new(&console, form.csrf.clone(), "instances");
            return match refusal(&e) {
                Some(why) => list_page(&state, nav, true, &ListQuery::default(), form, Some(why)).await,
                None => domain_failure(&e),
            };
        }
    };
    if !features.is_empty()
        && let Err(e) = state
            .core
            .tenancy()
            .set_features(&actor, &created.platform_id, &features, &[])
            .await
    {
        return domain_failure(&e);
    }
    redirect(&format!("/instances/{}?created=1", created.platform_id))
}
