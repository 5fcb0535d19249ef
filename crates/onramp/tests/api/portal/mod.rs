//! The partner portal: applying, portal users and invitations (`team`).

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use onramp_domain::infra::secret::Secret;
use onramp_domain::infra::throttle::LoginSource;
use onramp_domain::portal::NewApplication;
use onramp_domain::tenancy::Tenant;

use crate::helpers::{TestServer, host};

mod team;

pub(crate) const PASSWORD: &str = "Portal-person-pw-1";

pub(crate) fn application(company: &str, email: &str) -> NewApplication {
    NewApplication {
        company: company.into(),
        contact_name: "Ann Example".into(),
        email: email.into(),
        intended_use: "Provision shop accounts".into(),
        password: Secret::new(PASSWORD.into()),
    }
}

pub(crate) async fn tenant(server: &TestServer, platform_id: &str, env: &str) -> Arc<Tenant> {
    server.core.tenancy().resolve_host(&host(platform_id, env)).await.unwrap()
}

pub(crate) fn source() -> LoginSource {
    LoginSource::Direct(IpAddr::V4(Ipv4Addr::LOCALHOST))
}
