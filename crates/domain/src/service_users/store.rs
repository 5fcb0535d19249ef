//! What service users need from storage.

use async_trait::async_trait;

use crate::audit::AuditEvent;
use crate::service_users::ServiceUser;
use crate::store::StoreError;

#[async_trait]
pub trait ServiceUserStore: Send + Sync {
    async fn create_service_user(&self, user: &ServiceUser, audit: &AuditEvent) -> Result<(), StoreError>;
    async fn service_user_by_name(&self, env_id: &str, username: &str) -> Result<Option<ServiceUser>, StoreError>;
    async fn service_user(&self, env_id: &str, id: &str) -> Result<Option<ServiceUser>, StoreError>;
    async fn service_users(&self, env_id: &str) -> Result<Vec<ServiceUser>, StoreError>;
    async fn update_service_user(&self, user: &ServiceUser, audit: &AuditEvent) -> Result<(), StoreError>;
}
