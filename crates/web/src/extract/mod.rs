//! What a page handler needs before it can do its work, as extractors whose
//! rejections are pages: the tenant of the host, the signed-in person, a
//! form whose CSRF token is the request's. Each handler's signature says
//! which of them it needs.

mod client;
mod forms;
mod signed_in;
mod tenant;

pub use client::Visitor;
pub use forms::{CsrfCheck, CsrfForm, CsrfOnly, CsrfProtected, CsrfToken, ScopeBoxes, WebForm, csrf_failed};
pub use signed_in::SignedIn;
pub use tenant::PageTenant;
