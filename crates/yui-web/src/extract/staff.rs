use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use yui_domain::Permission;
use yui_store::Account;

use super::tenant::TenantPath;
use super::viewer::{NotSignedIn, SignedIn};
use crate::error::PageError;
use crate::{AppState, WebError};

/// A permission as a type, so a route states what it needs in its signature.
pub trait Needs: Send + Sync + 'static {
    const PERMISSION: Permission;
    /// Another permission that lets one in as well, if any.
    const OR: Option<Permission> = None;
}

macro_rules! needs {
    ($($name:ident),* $(,)?) => {$(
        #[doc = concat!("Needs [`Permission::", stringify!($name), "`].")]
        #[derive(Debug, Clone, Copy)]
        pub struct $name;
        impl Needs for $name {
            const PERMISSION: Permission = Permission::$name;
        }
    )*};
}

needs!(
    StaffRead,
    StaffInvite,
    StaffRevoke,
    AuditRead,
    TenantRead,
    TenantSuspend,
    TenantResume,
    TenantOnboard,
    TenantOffboard,
    TalentRead,
    HearingRead,
    HearingWrite,
    PoolScout,
    ProgramManage,
    EventRead,
    EventManage,
    EventCheckIn,
    RegistrationManage,
    RoundRead,
    RoundManage,
    NewsletterSend,
    KpiRead,
    TenantConfigure,
    ReportRead,
    CaseStudyManage
);

/// Reading the whole platform's audit log (the operators' `audit` read).
#[derive(Debug, Clone, Copy)]
pub struct PlatformAuditRead;
impl Needs for PlatformAuditRead {
    const PERMISSION: Permission = Permission::AuditRead;
}

/// Reading the tenant's members: talent read (coordinators), or creating exports
/// (tenant admins), since `talents.csv` gives the same members.
#[derive(Debug, Clone, Copy)]
pub struct TalentList;
impl Needs for TalentList {
    const PERMISSION: Permission = Permission::TalentRead;
    const OR: Option<Permission> = Some(Permission::ExportCreate);
}

/// Seeing a tenant's programs: those who run them, and anyone who reads its events.
#[derive(Debug, Clone, Copy)]
pub struct ProgramView;

impl Needs for ProgramView {
    const PERMISSION: Permission = Permission::EventRead;
    const OR: Option<Permission> = Some(Permission::ProgramManage);
}

/// An event's registrants or subsidies as CSV: those who read its registrants, or
/// who create exports (tenant admins hand the finance office its list).
#[derive(Debug, Clone, Copy)]
pub struct EventExport;

impl Needs for EventExport {
    const PERMISSION: Permission = Permission::EventRead;
    const OR: Option<Permission> = Some(Permission::ExportCreate);
}

/// A signed-in person holding `P` (or `P::OR`) in the path's tenant. Anyone else gets 404 with
/// nothing of the tenant — the same answer as for a tenant that does not exist — and
/// a visitor who is not signed in is sent to sign in.
#[derive(Debug, Clone)]
pub struct Staff<P> {
    pub account: Account,
    pub tenant: TenantPath,
    _needs: PhantomData<P>,
}

impl<P: Needs> FromRequestParts<AppState> for Staff<P> {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let (account, slug) = signed_in_at(parts, state).await?;
        // The permission first: someone without it learns nothing of the tenant,
        // not even whether it is suspended.
        let now = state.now();
        let allowed = state.authz.check(account.id, &slug, P::PERMISSION, now)
            || P::OR.is_some_and(|p| state.authz.check(account.id, &slug, p, now));
        if !allowed {
            return Err(not_found());
        }
        let tenant = TenantPath::load(state, &slug)
            .await
            .map_err(|e| PageError(e).into_response())?;
        Ok(Staff {
            account,
            tenant,
            _needs: PhantomData,
        })
    }
}

fn not_found() -> Response {
    PageError(WebError::NotFound).into_response()
}

/// The signed-in person (else to the sign-in page) and the path's tenant slug (else
/// 404): what both staff extractors start from.
async fn signed_in_at(parts: &mut Parts, state: &AppState) -> Result<(Account, String), Response> {
    let SignedIn(account) = SignedIn::from_request_parts(parts, state)
        .await
        .map_err(NotSignedIn::into_response)?;
    let slug = TenantPath::slug_of(parts).await.ok_or_else(not_found)?;
    Ok((account, slug))
}

/// A signed-in person who may read `P` in the path's tenant: its staff while it is
/// active (as [`Staff`]), and a platform operator holding `P` platform-wide even
/// while it is suspended — operators must be able to look into a tenant they
/// suspended. The tenant's own staff still get 503 for a suspended tenant; anyone
/// else 404. Only for reading routes: a suspended tenant changes nothing.
#[derive(Debug, Clone)]
pub struct StaffOrOperator<P> {
    pub account: Account,
    pub tenant: TenantPath,
    _needs: PhantomData<P>,
}

impl<P: Needs> FromRequestParts<AppState> for StaffOrOperator<P> {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let (account, slug) = signed_in_at(parts, state).await?;
        let now = state.now();
        let operator = state.authz.check_platform(account.id, P::PERMISSION, now);
        // The permission first, as for `Staff`: nothing of the tenant to the others.
        if !operator && !state.authz.check(account.id, &slug, P::PERMISSION, now) {
            return Err(not_found());
        }
        let tenant = if operator {
            TenantPath::load_even_suspended(state, &slug).await
        } else {
            TenantPath::load(state, &slug).await
        }
        .map_err(|e| PageError(e).into_response())?;
        Ok(StaffOrOperator {
            account,
            tenant,
            _needs: PhantomData,
        })
    }
}

/// A signed-in platform operator holding `P` on the platform; anyone else gets 404.
#[derive(Debug, Clone)]
pub struct Operator<P> {
    pub account: Account,
    _needs: PhantomData<P>,
}

impl<P: Needs> FromRequestParts<AppState> for Operator<P> {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let SignedIn(account) = SignedIn::from_request_parts(parts, state)
            .await
            .map_err(NotSignedIn::into_response)?;
        if !state
            .authz
            .check_platform(account.id, P::PERMISSION, state.now())
        {
            return Err(PageError(WebError::NotFound).into_response());
        }
        Ok(Operator {
            account,
            _needs: PhantomData,
        })
    }
}
