//! Shared state of every handler.

use std::sync::Arc;

use onramp_domain::app::Core;

use crate::middleware::client_addr::TrustedProxies;
use crate::rate_limit::RateLimits;

/// Everything a handler may reach; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub core: Arc<Core>,
    pub limits: Arc<RateLimits>,
    /// Whose forwarded client addresses are believed.
    pub proxies: Arc<TrustedProxies>,
    /// Prometheus metrics, when the operator set a metrics token.
    pub metrics: Option<Arc<crate::routes::metrics::MetricsExport>>,
}
