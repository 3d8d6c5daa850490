//! Joining a region (`/t/{slug}/join`): the tenant's consent text and its version,
//! and two separate choices — sharing the profile with the region's staff (which is
//! what joining is) and, optionally, with its host organizations. A person whose
//! consent is older than the tenant's wording comes here to agree again.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use yui_domain::Locale;
use yui_domain::account::{FieldError, Problem};
use yui_store::Account;

use crate::AppState;
use crate::error::PageError;
use crate::extract::{CsrfForm, Lang, SignedIn, TenantPath};
use crate::render::{base_context, datetime_text, error_views, field_message, render};
use crate::security::csrf_token;

#[derive(Debug, Default, Deserialize)]
pub(super) struct JoinQuery {
    renew: Option<String>,
    /// A scout being accepted: joining accepts it and leads to its project.
    scout: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct JoinForm {
    #[serde(default)]
    consent_staff: Option<String>,
    #[serde(default)]
    consent_hosts: Option<String>,
    /// The version the page showed: agreeing is to the text that was read.
    #[serde(default)]
    version: String,
    /// The scout the join page was opened for, if any.
    #[serde(default)]
    scout: String,
}

struct JoinView<'a> {
    errors: Vec<FieldError>,
    problem: Option<&'a str>,
    notice: Option<&'a str>,
    hosts: bool,
    status: StatusCode,
    scout: Option<String>,
}

fn render_join(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    account: &Account,
    tenant: &TenantPath,
    given: Option<&yui_store::Membership>,
    view: &JoinView<'_>,
) -> Response {
    let c = &state.inner.catalogs;
    let consent = &tenant.record.tenant.consent;
    let slug = tenant.slug();
    let (jar, csrf) = csrf_token(state, jar);
    let mut ctx = base_context(state, locale, Some(account), &format!("/t/{slug}/join"));
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    ctx.insert("version", &consent.version);
    // Paragraphs of lines: the template writes the breaks, the text stays escaped.
    let paragraphs: Vec<Vec<&str>> = consent
        .text
        .get(locale)
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| p.lines().collect())
        .collect();
    ctx.insert("consent_paragraphs", &paragraphs);
    ctx.insert("csrf", &csrf);
    ctx.insert("verified", &account.email_verified_at.is_some());
    ctx.insert("hosts", &view.hosts);
    ctx.insert("scout", &view.scout);
    ctx.insert("notice", &view.notice.map(|k| c.text(locale, k)));
    ctx.insert("problem", &view.problem.map(|k| c.text(locale, k)));
    ctx.insert("errors", &error_views(state, locale, &view.errors));
    ctx.insert(
        "staff_error",
        &view
            .errors
            .iter()
            .find(|e| e.field == "consent_staff")
            .map(|e| field_message(state, locale, e)),
    );
    ctx.insert(
        "given",
        &given.map(|m| {
            c.text(locale, "consent_given_before")
                .replace("{version}", &m.consent_version.to_string())
                .replace("{at}", &datetime_text(locale, m.consented_at))
        }),
    );
    (
        jar,
        render(state, "talent_join.html", ctx, locale, view.status),
    )
        .into_response()
}

async fn live_membership(
    state: &AppState,
    account: &Account,
    tenant: &TenantPath,
) -> Result<Option<yui_store::Membership>, PageError> {
    let mut tx = state.store.account(account.id).read().await?;
    let m = tx.membership(tenant.id).await?;
    tx.commit().await?;
    Ok(m.filter(yui_store::Membership::is_live))
}

pub(super) async fn page(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(account): SignedIn,
    tenant: TenantPath,
    jar: CookieJar,
    Query(q): Query<JoinQuery>,
) -> Result<Response, PageError> {
    let locale = lang.or(account.locale());
    // A region being set up takes no members yet: its consent wording is not final.
    if tenant.record.is_setting_up() {
        return Err(crate::WebError::NotFound.into());
    }
    let given = live_membership(&state, &account, &tenant).await?;
    let outdated = given
        .as_ref()
        .is_some_and(|m| m.is_outdated(&tenant.record.tenant.consent));
    let scout = q
        .scout
        .as_deref()
        .and_then(|s| s.parse::<yui_domain::ScoutId>().ok());
    if given.is_some() && !outdated {
        return Ok(match scout {
            // A member accepts a scout on its own page.
            Some(id) => Redirect::to(&format!("/me/scouts/{id}")),
            None => Redirect::to(&format!("/t/{}/me", tenant.slug())),
        }
        .into_response());
    }
    let notice = (outdated || q.renew.is_some()).then_some("consent_changed");
    let view = JoinView {
        errors: Vec::new(),
        problem: (account.email_verified_at.is_none()).then_some("join_needs_verified"),
        notice,
        hosts: given.as_ref().is_some_and(|m| m.hosts_since.is_some()),
        status: StatusCode::OK,
        scout: scout.map(|s| s.to_string()),
    };
    Ok(render_join(
        &state,
        locale,
        jar,
        &account,
        &tenant,
        given.as_ref().filter(|_| outdated),
        &view,
    ))
}

pub(super) async fn submit(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(account): SignedIn,
    tenant: TenantPath,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<JoinForm>,
) -> Result<Response, PageError> {
    let locale = lang.or(account.locale());
    if tenant.record.is_setting_up() {
        return Err(crate::WebError::NotFound.into());
    }
    let consent = &tenant.record.tenant.consent;
    let hosts = form.consent_hosts.is_some();
    let scout = form.scout.parse::<yui_domain::ScoutId>().ok();
    let refuse = |errors, problem, notice, status| JoinView {
        errors,
        problem,
        notice,
        hosts,
        status,
        scout: scout.map(|s| s.to_string()),
    };
    // The region would contact the person at this address, and consent must come
    // from whoever owns it: an address nobody proved joins nothing.
    if account.email_verified_at.is_none() {
        let view = refuse(
            Vec::new(),
            Some("join_needs_verified"),
            None,
            StatusCode::FORBIDDEN,
        );
        return Ok(render_join(
            &state, locale, jar, &account, &tenant, None, &view,
        ));
    }
    // The wording changed while the page was open: what was read is not what
    // would be recorded. Show the new text.
    if form.version != consent.version.to_string() {
        let view = refuse(
            Vec::new(),
            None,
            Some("consent_changed"),
            StatusCode::CONFLICT,
        );
        return Ok(render_join(
            &state, locale, jar, &account, &tenant, None, &view,
        ));
    }
    if form.consent_staff.is_none() {
        let errors = vec![FieldError {
            field: "consent_staff",
            problem: Problem::Required,
        }];
        let view = refuse(errors, None, None, StatusCode::UNPROCESSABLE_ENTITY);
        return Ok(render_join(
            &state, locale, jar, &account, &tenant, None, &view,
        ));
    }
    let mut tx = state.store.account(account.id).write().await?;
    let now = state.now();
    tx.join_tenant(tenant.id, consent, hosts, now).await?;
    // A scout of this tenant to this person, accepted with the consent.
    let accepted = match scout {
        Some(id) => match tx.my_scout(id).await? {
            Some(s) if s.tenant_id == tenant.id => tx
                .answer_scout(id, yui_domain::scout::ScoutStatus::Accepted, now)
                .await?
                .then_some(s.project_id),
            _ => None,
        },
        None => None,
    };
    tx.commit().await?;
    if let Some(project) = accepted {
        return Ok(
            Redirect::to(&format!("/t/{}/projects/{project}", tenant.slug())).into_response(),
        );
    }
    Ok(Redirect::to(&format!("/t/{}/me?joined=1", tenant.slug())).into_response())
}
