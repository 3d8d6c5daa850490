//! Extractors: what a request carries, as types, checked once before any handler
//! runs. A handler that takes [`Staff<P>`] cannot run for someone without `P` in the
//! path's tenant; one that takes [`CsrfForm<T>`] cannot run for a forged form.

mod bearer;
mod csrf;
mod lang;
mod staff;
mod tenant;
mod viewer;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

pub use bearer::Bearer;
pub use csrf::{CsrfForm, CsrfOnly};
pub use lang::Lang;
pub(crate) use lang::{lang_cookie, remember_query_lang};
pub use staff::{
    AuditRead, Needs, Operator, PlatformAuditRead, Staff, StaffInvite, StaffOrOperator, StaffRead,
    StaffRevoke, TenantRead, TenantResume, TenantSuspend,
};
pub use tenant::TenantPath;
pub use viewer::{SignedIn, Viewer};

/// The client's address, for throttling and the audit log.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_default();
        Ok(ClientIp(ip))
    }
}
