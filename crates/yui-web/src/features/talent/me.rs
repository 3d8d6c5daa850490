//! The talent's own pages: the dashboard across regions (`/me`), the page of one
//! region (`/t/{slug}/me`), and withdrawing consent there — the host organizations'
//! part alone, or all of it by leaving. Withdrawal works whatever the wording given
//! and even while the region is suspended: taking consent back is never blocked.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use yui_store::ConsentChange;

use crate::error::PageError;
use crate::extract::{CsrfForm, Lang, SignedIn, TalentMember, TenantPath};
use crate::render::{base_context, datetime_text, render};
use crate::security::csrf_token;
use crate::{AppState, WebError};

/// A region on the dashboard.
#[derive(Debug, Serialize)]
struct RegionRow {
    slug: String,
    name: String,
    live: bool,
    outdated: bool,
    hosts: bool,
    consented: String,
    version: i32,
    left: Option<String>,
}

/// One of the talent's applications on the dashboard.
#[derive(Debug, Serialize)]
struct ApplicationRow {
    id: i64,
    slug: String,
    region: String,
    project: String,
    host: String,
    status: String,
    can_withdraw: bool,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct DashboardQuery {
    left: Option<String>,
}

pub(super) async fn dashboard(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(account): SignedIn,
    jar: CookieJar,
    Query(q): Query<DashboardQuery>,
) -> Result<Response, PageError> {
    let locale = lang.or(account.locale());
    let mut tx = state.store.account(account.id).read().await?;
    let memberships = tx.memberships().await?;
    let profile = tx.talent_profile().await?;
    let mine = tx.my_applications().await?;
    tx.commit().await?;
    let mut regions = Vec::new();
    let mut names = std::collections::HashMap::new();
    for m in memberships {
        // Suspended regions are listed too: the person must see where they are a member.
        let tenant = match TenantPath::load_even_suspended(&state, &m.tenant_slug).await {
            Ok(t) => t,
            Err(WebError::NotFound) => continue,
            Err(e) => return Err(e.into()),
        };
        let m2 = &m.membership;
        names.insert(
            m.tenant_slug.clone(),
            tenant.record.tenant.name.get(locale).to_owned(),
        );
        regions.push(RegionRow {
            name: tenant.record.tenant.name.get(locale).to_owned(),
            live: m2.is_live(),
            outdated: m2.is_live() && m2.is_outdated(&tenant.record.tenant.consent),
            hosts: m2.hosts_since.is_some(),
            consented: datetime_text(locale, m2.consented_at),
            version: m2.consent_version,
            left: m2.left_at.map(|at| datetime_text(locale, at)),
            slug: m.tenant_slug,
        });
    }
    let scouts = crate::features::scouts::my_scout_rows(&state, locale, &account).await?;
    let my_events = crate::features::events::my_event_rows(&state, locale, &account).await?;
    let (jar, csrf) = csrf_token(&state, jar);
    let mut ctx = base_context(&state, locale, Some(&account), "/me");
    ctx.insert("scouts", &scouts);
    ctx.insert("my_events", &my_events);
    ctx.insert("csrf", &csrf);
    ctx.insert("regions", &regions);
    let applications: Vec<ApplicationRow> = mine
        .into_iter()
        .map(|a| {
            let status = yui_domain::application::ApplicationStatus::parse(&a.status);
            ApplicationRow {
                id: a.id.get(),
                region: names.get(&a.tenant_slug).cloned().unwrap_or_default(),
                slug: a.tenant_slug,
                project: a.project_title,
                host: a.host_name,
                status: state
                    .inner
                    .catalogs
                    .text(locale, &format!("ap_status_{}", a.status))
                    .to_owned(),
                can_withdraw: status.is_some_and(|s| {
                    s.can_become(
                        yui_domain::application::ApplicationStatus::Withdrawn,
                        yui_domain::application::Side::Talent,
                    )
                }),
            }
        })
        .collect();
    ctx.insert("applications", &applications);
    ctx.insert("has_profile", &profile.is_some());
    ctx.insert(
        "in_pool",
        &profile.as_ref().is_some_and(|p| p.pool_opt_in_at.is_some()),
    );
    ctx.insert("verified", &account.email_verified_at.is_some());
    ctx.insert(
        "notice",
        &q.left
            .map(|_| state.inner.catalogs.text(locale, "left_region_notice")),
    );
    Ok((
        jar,
        render(
            &state,
            "talent_me.html",
            ctx,
            locale,
            axum::http::StatusCode::OK,
        ),
    )
        .into_response())
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct RegionQuery {
    joined: Option<String>,
    hosts: Option<String>,
    newsletter: Option<String>,
}

pub(super) async fn region(
    State(state): State<AppState>,
    lang: Lang,
    member: TalentMember,
    jar: CookieJar,
    Query(q): Query<RegionQuery>,
) -> Result<Response, PageError> {
    let TalentMember {
        account,
        tenant,
        membership,
    } = member;
    let locale = lang.or(account.locale());
    let c = &state.inner.catalogs;
    let slug = tenant.slug();
    let notice = if q.joined.is_some() {
        Some(c.text(locale, "joined_region"))
    } else if q.newsletter.is_some() {
        Some(c.text(locale, "nl_optin_saved"))
    } else {
        q.hosts.map(|_| c.text(locale, "saved"))
    };
    let newsletter = crate::features::newsletters::opted_in(&state, tenant.id, account.id).await?;
    let (jar, csrf) = csrf_token(&state, jar);
    let mut ctx = base_context(&state, locale, Some(&account), &format!("/t/{slug}/me"));
    ctx.insert("csrf", &csrf);
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    ctx.insert("notice", &notice);
    ctx.insert("version", &membership.consent_version);
    ctx.insert("consented", &datetime_text(locale, membership.consented_at));
    ctx.insert("hosts", &membership.hosts_since.is_some());
    ctx.insert("newsletter", &newsletter);
    Ok((
        jar,
        render(
            &state,
            "talent_region.html",
            ctx,
            locale,
            axum::http::StatusCode::OK,
        ),
    )
        .into_response())
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct HostsForm {
    /// Present when the box is ticked.
    hosts: Option<String>,
}

/// The path's tenant even while suspended: withdrawing consent is never blocked.
async fn tenant_for_withdrawal(
    state: &AppState,
    parts_slug: &str,
) -> Result<TenantPath, PageError> {
    Ok(TenantPath::load_even_suspended(state, parts_slug).await?)
}

pub(super) async fn hosts(
    State(state): State<AppState>,
    SignedIn(account): SignedIn,
    axum::extract::Path(slug): axum::extract::Path<String>,
    CsrfForm(form): CsrfForm<HostsForm>,
) -> Result<Response, PageError> {
    let tenant = tenant_for_withdrawal(&state, &slug).await?;
    let mut tx = state.store.account(account.id).write().await?;
    let change = tx
        .set_hosts_consent(tenant.id, form.hosts.is_some(), state.now())
        .await?;
    if change == ConsentChange::NotMember {
        tx.rollback().await?;
        return Err(WebError::NotFound.into());
    }
    tx.commit().await?;
    Ok(Redirect::to(&format!("/t/{slug}/me?hosts=saved")).into_response())
}

pub(super) async fn leave(
    State(state): State<AppState>,
    SignedIn(account): SignedIn,
    axum::extract::Path(slug): axum::extract::Path<String>,
    CsrfForm(_): CsrfForm<crate::extract::CsrfOnly>,
) -> Result<Response, PageError> {
    let tenant = tenant_for_withdrawal(&state, &slug).await?;
    let mut tx = state.store.account(account.id).write().await?;
    if tx.leave_tenant(tenant.id, state.now()).await? == ConsentChange::NotMember {
        tx.rollback().await?;
        return Err(WebError::NotFound.into());
    }
    tx.commit().await?;
    Ok(Redirect::to("/me?left=1").into_response())
}
