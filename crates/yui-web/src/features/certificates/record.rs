//! The talent's activity record across regions, and issuing a certificate for one
//! region and fiscal year. Only the person's own rows are read, in regions whose
//! member they are.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use yui_domain::account::FieldError;
use yui_domain::audit::AuditAction;
use yui_domain::certificate::{
    self, ActivityKind, CertificateCode, Payload, YearRecord, by_fiscal_year,
};
use yui_domain::{FiscalYear, Locale};
use yui_store::{Account, AuditEntry, AuditTx, NewCertificate};

use super::{ActivityView, activity_view, fiscal_year_text, signing_key};
use crate::error::PageError;
use crate::extract::{ClientIp, CsrfForm, Lang, SignedIn, TenantPath};
use crate::render::{FieldView, base_context, datetime_text, error_views, render};
use crate::security::csrf_token;
use crate::{AppState, WebError};

/// One fiscal year of one region on the record page.
#[derive(Debug, Serialize)]
struct YearView {
    fiscal_year: i32,
    label: String,
    count: usize,
    events: usize,
    months: usize,
    cases: usize,
    meets_minimum: bool,
    activities: Vec<ActivityView>,
}

#[derive(Debug, Serialize)]
struct RegionView {
    slug: String,
    name: String,
    years: Vec<YearView>,
}

#[derive(Debug, Serialize)]
struct CertificateRow {
    code: String,
    region: String,
    fiscal_year: String,
    issued: String,
    revoked: bool,
}

fn year_view(state: &AppState, locale: Locale, y: &YearRecord) -> YearView {
    YearView {
        fiscal_year: y.fiscal_year.0,
        label: fiscal_year_text(locale, y.fiscal_year),
        count: y.activities.len(),
        events: y.count(ActivityKind::Event),
        months: y.count(ActivityKind::EngagementMonth),
        cases: y.count(ActivityKind::CaseStudy),
        meets_minimum: y.meets_premium_minimum(),
        activities: y
            .activities
            .iter()
            .map(|a| activity_view(state, locale, a))
            .collect(),
    }
}

/// The tenant if the person is a live member of it: the record and certificates
/// exist only where the person takes part. Anything else is 404.
async fn member_tenant(
    state: &AppState,
    account: &Account,
    slug: &str,
) -> Result<TenantPath, WebError> {
    let tenant = TenantPath::load(state, slug).await?;
    let mut tx = state.store.account(account.id).read().await?;
    let live = tx.membership(tenant.id).await?.is_some_and(|m| m.is_live());
    tx.commit().await?;
    if live {
        Ok(tenant)
    } else {
        Err(WebError::NotFound)
    }
}

pub(super) async fn activities(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(account): SignedIn,
) -> Result<Response, PageError> {
    let locale = lang.or(account.locale());
    let mut tx = state.store.account(account.id).read().await?;
    let memberships = tx.memberships().await?;
    let mut mine = tx.my_activities().await?;
    let certificates = tx.my_certificates().await?;
    tx.commit().await?;
    let mut regions = Vec::new();
    let mut names = std::collections::HashMap::new();
    for m in memberships {
        let tenant = match TenantPath::load_even_suspended(&state, &m.tenant_slug).await {
            Ok(t) => t,
            Err(WebError::NotFound) => continue,
            Err(e) => return Err(e.into()),
        };
        let name = tenant.record.tenant.name.get(locale).to_owned();
        names.insert(m.tenant_slug.clone(), name.clone());
        if !m.membership.is_live() {
            continue;
        }
        let (here, rest): (Vec<_>, Vec<_>) = mine.into_iter().partition(|(t, _)| *t == tenant.id);
        mine = rest;
        let acts: Vec<_> = here.into_iter().map(|(_, a)| a).collect();
        regions.push(RegionView {
            slug: m.tenant_slug,
            name,
            years: by_fiscal_year(acts)
                .iter()
                .map(|y| year_view(&state, locale, y))
                .collect(),
        });
    }
    let certificates: Vec<CertificateRow> = certificates
        .into_iter()
        .map(|c| CertificateRow {
            region: names.get(&c.tenant_slug).cloned().unwrap_or_default(),
            fiscal_year: fiscal_year_text(locale, FiscalYear(c.fiscal_year)),
            issued: datetime_text(locale, c.issued_at),
            revoked: c.revoked_at.is_some(),
            code: c.code,
        })
        .collect();
    let mut ctx = base_context(&state, locale, Some(&account), "/me/activities");
    ctx.insert("regions", &regions);
    ctx.insert("certificates", &certificates);
    ctx.insert("minimum", &certificate::PREMIUM_MIN_ACTIVITIES);
    Ok(render(
        &state,
        "cert_activities.html",
        ctx,
        locale,
        StatusCode::OK,
    ))
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct IssueForm {
    #[serde(default)]
    printed_name: String,
}

/// The person's record in this tenant for year `fy`, which must be a year number.
async fn year_record(
    state: &AppState,
    account: &Account,
    tenant: &TenantPath,
    fy: &str,
) -> Result<YearRecord, WebError> {
    let fy: i32 = fy.parse().map_err(|_| WebError::NotFound)?;
    if !(2000..=2100).contains(&fy) {
        return Err(WebError::NotFound);
    }
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let acts = tx.activities_of(account.id).await?;
    tx.commit().await?;
    Ok(by_fiscal_year(acts)
        .into_iter()
        .find(|y| y.fiscal_year == FiscalYear(fy))
        .unwrap_or(YearRecord {
            fiscal_year: FiscalYear(fy),
            activities: Vec::new(),
        }))
}

/// The name the form starts with: the profile's, else the account's.
async fn default_name(state: &AppState, account: &Account) -> Result<String, WebError> {
    let mut tx = state.store.account(account.id).read().await?;
    let profile = tx.talent_profile().await?;
    tx.commit().await?;
    Ok(profile
        .map(|p| p.profile.display_name)
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| account.display_name.clone()))
}

#[allow(clippy::too_many_arguments)]
fn issue_form_page(
    state: &AppState,
    locale: Locale,
    account: &Account,
    csrf: &str,
    tenant: &TenantPath,
    year: &YearRecord,
    name: String,
    errors: &[FieldError],
) -> Response {
    let slug = tenant.slug();
    let path = format!("/t/{slug}/me/certificates/{}", year.fiscal_year.0);
    let mut ctx = base_context(state, locale, Some(account), &path);
    let mut field = FieldView::new(state, locale, "printed_name", "text", name, "name", errors);
    field.hint = Some(
        state
            .inner
            .catalogs
            .text(locale, "cert_name_hint")
            .to_owned(),
    );
    ctx.insert("name_field", &field);
    ctx.insert("errors", &error_views(state, locale, errors));
    ctx.insert("csrf", csrf);
    ctx.insert("action", &path);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    ctx.insert("year", &year_view(state, locale, year));
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(state, "cert_issue.html", ctx, locale, status)
}

pub(super) async fn issue_page(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(account): SignedIn,
    jar: CookieJar,
    Path((slug, fy)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let locale = lang.or(account.locale());
    let tenant = member_tenant(&state, &account, &slug).await?;
    let year = year_record(&state, &account, &tenant, &fy).await?;
    let name = default_name(&state, &account).await?;
    let (jar, csrf) = csrf_token(&state, jar);
    Ok((
        jar,
        issue_form_page(&state, locale, &account, &csrf, &tenant, &year, name, &[]),
    )
        .into_response())
}

pub(super) async fn issue(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(account): SignedIn,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Path((slug, fy)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<IssueForm>,
) -> Result<Response, PageError> {
    let locale = lang.or(account.locale());
    let tenant = member_tenant(&state, &account, &slug).await?;
    let year = year_record(&state, &account, &tenant, &fy).await?;
    let name = match certificate::check_name(&form.printed_name) {
        Ok(name) => name,
        Err(problem) => {
            let (jar, csrf) = csrf_token(&state, jar);
            let errors = [FieldError {
                field: "printed_name",
                problem,
            }];
            return Ok((
                jar,
                issue_form_page(
                    &state,
                    locale,
                    &account,
                    &csrf,
                    &tenant,
                    &year,
                    form.printed_name,
                    &errors,
                ),
            )
                .into_response());
        }
    };
    // The page offers no form for a year without activities; a forged post gets
    // the page again, saying so.
    if year.activities.is_empty() {
        let (jar, csrf) = csrf_token(&state, jar);
        return Ok((
            jar,
            issue_form_page(&state, locale, &account, &csrf, &tenant, &year, name, &[]),
        )
            .into_response());
    }
    let key = signing_key(&state).await?;
    let code = CertificateCode::from_random(rand::random());
    let now = state.now();
    let payload = Payload::new(
        &code,
        &name,
        tenant.record.tenant.name.get(Locale::Ja),
        tenant.slug(),
        &year,
        now,
    );
    let text = payload.canonical();
    let signature = key.sign(&text);
    let key_id = key.key_id();
    let mut tx = state.store.tenant(tenant.id).write().await?;
    tx.insert_certificate(&NewCertificate {
        code: &code,
        account: account.id,
        fiscal_year: year.fiscal_year,
        payload: &text,
        signature: &signature,
        key_id: &key_id,
        now,
    })
    .await?;
    // The code stays out of the log: it opens the public page with the name.
    let entry = AuditEntry {
        actor_id: Some(account.id),
        action: AuditAction::CertificateIssued,
        detail: serde_json::json!({
            "fiscal_year": year.fiscal_year.0,
            "activities": year.activities.len(),
            "key_id": key_id,
        }),
        ip,
    };
    tx.audit(&entry, now).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/me/certificates/{code}?issued=1")).into_response())
}
