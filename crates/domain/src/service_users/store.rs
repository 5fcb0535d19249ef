//! What service users need from storage.

use async_trait::async_trait;

use crate::audit::AuditEvent;
use crate::ids::{EnvId, ServiceUserId};
use crate::service_users::ServiceUser;
use crate::store::StoreError;

#[async_trait]
pub trait ServiceUserStore: Send + Sync {
    async fn create_service_user(&self, user: &ServiceUser, audit: &AuditEvent) -> Result<(), StoreError>;
    async fn service_user_by_name(&self, env_id: &EnvId, username: &str) -> Result<Option<ServiceUser>, StoreError>;
    async fn service_user(&self, env_id: &EnvId, id: &ServiceUserId) -> Result<Option<ServiceUser>, StoreError>;
    async fn service_users(&self, env_id: &EnvId) -> Result<Vec<ServiceUser>, StoreError>;
    async fn update_service_user(&self, user: &ServiceUser, audit: &AuditEvent) -> Result<(), StoreError>;
}
