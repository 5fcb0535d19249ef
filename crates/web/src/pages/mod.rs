//! Page handlers, one module per area.

use serde::Deserialize;

/// Implements [`CsrfProtected`](crate::extract::CsrfProtected) for forms
/// whose `csrf` field carries the token.
macro_rules! csrf_field {
    ($($form:ty),+ $(,)?) => {
        $(impl $crate::extract::CsrfProtected for $form {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        })+
    };
}

pub mod account;
pub mod app_changes;
pub mod connect;
pub mod connections;
pub mod delete_account;
pub mod developers;
pub mod sign_in;

/// A form that is only a button: nothing but its token.
#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

csrf_field!(CsrfOnly);
