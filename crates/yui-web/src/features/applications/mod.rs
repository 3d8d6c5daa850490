//! Interest marks and applications (issue 10 item 5): the 「気になる」 toggle and the
//! proposal form for a region's members, the thread of an application for its
//! talent, the host's members and the staff, the host's dashboard, the
//! coordinator's inbox, CSV exports, and the hourly digest of new messages.
//!
//! Who sees an applicant is one rule, applied by the store's [`Audience`]: host
//! members while the talent's consent covers host organizations, staff while the
//! membership is live. Everyone else gets 404, whatever the id.

pub mod digest;
mod pages;

use axum::Router;
use axum::routing::{get, post};
use yui_domain::{AccountId, ApplicationId, Locale, Permission, ProjectId};
use yui_store::{Account, Application, Audience, Project};

use crate::extract::TenantPath;
use crate::features::hosts::Access;
use crate::{AppState, WebError};

pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    ("apply.html", include_str!("templates/apply.html")),
    (
        "application.html",
        include_str!("templates/application.html"),
    ),
    (
        "host_dashboard.html",
        include_str!("templates/host_dashboard.html"),
    ),
    ("inbox.html", include_str!("templates/inbox.html")),
    ("ap_table.html", include_str!("templates/ap_table.html")),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/t/{slug}/projects/{project}/interest",
            post(pages::interest),
        )
        .route(
            "/t/{slug}/projects/{project}/apply",
            get(pages::apply_page).post(pages::apply),
        )
        .route("/t/{slug}/applications/{id}", get(pages::thread))
        .route("/t/{slug}/applications/{id}/messages", post(pages::message))
        .route("/t/{slug}/applications/{id}/status", post(pages::status))
        .route("/t/{slug}/host", get(pages::host_dashboard))
        .route("/t/{slug}/inbox", get(pages::inbox))
        .route("/t/{slug}/applications.csv", get(pages::applications_csv))
        .route("/t/{slug}/talents.csv", get(pages::talents_csv))
}

pub(crate) fn text(state: &AppState, locale: Locale, key: &str) -> String {
    state.inner.catalogs.text(locale, key).to_owned()
}

/// How the person reading an application stands to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reader {
    /// The applicant.
    Talent,
    /// A member of the project's host.
    Host,
    /// The tenant's staff (coordinators).
    Staff,
}

/// Whether `account` is the tenant's staff for applications: they read talents.
pub(crate) fn is_staff(state: &AppState, account: AccountId, slug: &str) -> bool {
    state
        .authz
        .check(account, slug, Permission::TalentRead, state.now())
}

/// The application `id` as `account` may read it, and how they stand to it; 404
/// when they may not (another tenant's id, another host's, another talent's, or an
/// applicant whose consent no longer covers them).
pub(crate) async fn readable(
    state: &AppState,
    tenant: &TenantPath,
    account: &Account,
    id: ApplicationId,
) -> Result<(Application, Reader), WebError> {
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let Some(app) = tx.application(id).await? else {
        tx.commit().await?;
        return Err(WebError::NotFound);
    };
    if app.account_id == account.id {
        tx.commit().await?;
        return Ok((app, Reader::Talent));
    }
    if is_staff(state, account.id, tenant.slug()) {
        let seen = tx.application_for(Audience::Staff, id).await?;
        tx.commit().await?;
        return seen.map(|a| (a, Reader::Staff)).ok_or(WebError::NotFound);
    }
    let member = tx.is_host_member(app.host_id, account.id).await?;
    let own = state.authz.check(
        account.id,
        tenant.slug(),
        Permission::ProjectWriteOwn,
        state.now(),
    ) || state.authz.check(
        account.id,
        tenant.slug(),
        Permission::HostWriteOwn,
        state.now(),
    );
    if member && own {
        let seen = tx.application_for(Audience::Hosts, id).await?;
        tx.commit().await?;
        return seen.map(|a| (a, Reader::Host)).ok_or(WebError::NotFound);
    }
    tx.commit().await?;
    Err(WebError::NotFound)
}

/// The project `id` if a live member of the tenant may mark or apply to it: open,
/// of an approved host, public or for the region's members.
pub(crate) async fn open_to_members(
    state: &AppState,
    tenant: &TenantPath,
    id: ProjectId,
) -> Result<Project, WebError> {
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let project = tx.project(id).await?;
    let host = match &project {
        Some(p) => tx.host(p.host_id).await?,
        None => None,
    };
    tx.commit().await?;
    match (project, host) {
        (Some(p), Some(h))
            if p.status == "open" && h.status() == yui_domain::host::HostStatus::Approved =>
        {
            Ok(p)
        }
        _ => Err(WebError::NotFound),
    }
}

/// What a project page shows about interest and applying, for whoever reads it.
#[derive(Debug, Default, serde::Serialize)]
pub(crate) struct ProjectBox {
    /// A signed-in live member: the toggle and the apply link.
    pub member: bool,
    pub interested: bool,
    /// For the host's members and staff: how many marked it, and whose names they
    /// may see.
    pub count: Option<i64>,
    pub names: Vec<String>,
}

/// The interest box of project `p` for `viewer`.
pub(crate) async fn project_box(
    state: &AppState,
    tenant: &TenantPath,
    viewer: Option<&Account>,
    access: Option<&Access>,
    p: &Project,
) -> Result<ProjectBox, WebError> {
    let mut out = ProjectBox::default();
    let Some(viewer) = viewer else {
        return Ok(out);
    };
    let membership = {
        let mut tx = state.store.account(viewer.id).read().await?;
        let m = tx.membership(tenant.id).await?;
        tx.commit().await?;
        m
    };
    let mut tx = state.store.tenant(tenant.id).read().await?;
    if membership.is_some_and(|m| m.is_live()) && p.status == "open" {
        out.member = true;
        out.interested = tx.is_interested(p.id, viewer.id).await?;
    }
    let audience = if is_staff(state, viewer.id, tenant.slug()) {
        Some(Audience::Staff)
    } else if access.is_some() && tx.is_host_member(p.host_id, viewer.id).await? {
        Some(Audience::Hosts)
    } else {
        None
    };
    if let Some(audience) = audience {
        let counts = tx.interest_counts().await?;
        out.count = Some(
            counts
                .iter()
                .find(|(id, _)| *id == p.id)
                .map_or(0, |(_, n)| *n),
        );
        out.names = tx
            .interest_marks(audience, Some(p.id), 200)
            .await?
            .into_iter()
            .map(|m| m.display_name)
            .collect();
    }
    tx.commit().await?;
    Ok(out)
}
