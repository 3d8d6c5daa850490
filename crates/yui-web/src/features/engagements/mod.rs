//! Engagements (issue 13): the partnerships matches became, and their follow-up
//! (伴走). Coordinators list them (`/t/{slug}/engagements`, filtered by status or
//! at risk), enter one (`/new`), and manage each (`/t/{slug}/engagements/{id}`):
//! terms kept as history, status moves, renewal, the mentor. The talent and the
//! host's members see only their own engagements, write monthly check-ins and a
//! reflection at the end of a term; an assigned mentor reads them and writes notes.
//! Anyone else, and every id of another tenant, gets 404.

mod detail;
pub mod digest;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use yui_domain::account::{FieldError, Problem};
use yui_domain::audit::AuditAction;
use yui_domain::engagement::{
    CheckinSide, Compensation, EndReason, EngagementStatus, RiskCause, TermsInput, WorkStyle,
    check_start, check_terms, japan_day,
};
use yui_domain::ids::EngagementId;
use yui_domain::{AccountId, Locale, Permission, ProjectId};
use yui_store::{
    Account, AuditEntry, AuditTx, EngagementFilter, EngagementRecord, NewEngagement, StoreError,
};

use crate::error::PageError;
use crate::extract::{ClientIp, CsrfForm, Lang, SignedIn, TenantPath};
use crate::features::hosts::form::{Builder, Input, Kind, error_lines};
use crate::render::{base_context, date_text, render};
use crate::security::csrf_token;
use crate::{AppState, WebError};

/// The most engagements a list shows.
const LIST_MAX: i64 = 500;

pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    ("eg_list.html", include_str!("templates/eg_list.html")),
    ("eg_new.html", include_str!("templates/eg_new.html")),
    ("eg_detail.html", include_str!("templates/eg_detail.html")),
];

pub fn router() -> Router<AppState> {
    use axum::routing::{get, post};
    Router::new()
        .route("/t/{slug}/engagements", get(list).post(create))
        .route("/t/{slug}/engagements/new", get(new_page))
        .route("/t/{slug}/engagements/{id}", get(detail::page))
        .route("/t/{slug}/engagements/{id}/status", post(detail::status))
        .route("/t/{slug}/engagements/{id}/terms", post(detail::terms))
        .route("/t/{slug}/engagements/{id}/mentor", post(detail::mentor))
        .route("/t/{slug}/engagements/{id}/checkins", post(detail::checkin))
        .route("/t/{slug}/engagements/{id}/notes", post(detail::note))
        .route(
            "/t/{slug}/engagements/{id}/reflections",
            post(detail::reflection),
        )
}

/// How the viewer takes part in one engagement; decides what the page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Seat {
    /// The secretariat: everything, and every change.
    Staff,
    /// The assigned mentor: reads it all, writes notes.
    Mentor,
    Talent,
    Host,
}

impl Seat {
    /// The check-ins this seat writes and reads of its own.
    fn side(self) -> Option<CheckinSide> {
        match self {
            Seat::Talent => Some(CheckinSide::Talent),
            Seat::Host => Some(CheckinSide::Host),
            Seat::Staff | Seat::Mentor => None,
        }
    }
}

fn allowed(state: &AppState, account: AccountId, tenant: &TenantPath, p: Permission) -> bool {
    state.authz.check(account, tenant.slug(), p, state.now())
}

/// The viewer's seat at `e`, or `None` (the page then answers 404). Mentors are
/// restricted to engagements assigned to them here, on top of their permission.
async fn seat_at(
    state: &AppState,
    tenant: &TenantPath,
    account: AccountId,
    e: &EngagementRecord,
) -> Result<Option<Seat>, WebError> {
    if allowed(state, account, tenant, Permission::EngagementManage) {
        return Ok(Some(Seat::Staff));
    }
    if e.mentor_id == Some(account) && allowed(state, account, tenant, Permission::CheckinWrite) {
        return Ok(Some(Seat::Mentor));
    }
    // The engagement is visible only while the talent's membership is live.
    if e.account_id == account {
        return Ok(Some(Seat::Talent));
    }
    if allowed(state, account, tenant, Permission::EngagementReportOwn) {
        let mut tx = state.store.tenant(tenant.id).read().await?;
        let member = tx.is_host_member(e.host_id, account).await?;
        tx.commit().await?;
        if member {
            return Ok(Some(Seat::Host));
        }
    }
    Ok(None)
}

/// The engagement `raw` of the path's tenant with the viewer's seat; 404 for a bad
/// id, another tenant's, or one the viewer has no part in.
pub(crate) async fn visible(
    state: &AppState,
    tenant: &TenantPath,
    account: AccountId,
    raw: &str,
) -> Result<(EngagementRecord, Seat), WebError> {
    let id: EngagementId = raw.trim().parse().map_err(|_| WebError::NotFound)?;
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let found = tx.engagement(id).await?;
    tx.commit().await?;
    let Some(e) = found else {
        return Err(WebError::NotFound);
    };
    match seat_at(state, tenant, account, &e).await? {
        Some(seat) => Ok((e, seat)),
        None => Err(WebError::NotFound),
    }
}

pub(crate) fn text(state: &AppState, locale: Locale, key: &str) -> String {
    state.inner.catalogs.text(locale, key).to_owned()
}

/// `(value, label)` choices of a named list, labelled `{prefix}{value}`.
fn options(
    state: &AppState,
    locale: Locale,
    prefix: &str,
    values: impl Iterator<Item = &'static str>,
    blank: bool,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if blank {
        out.push((String::new(), text(state, locale, "eg_choose")));
    }
    out.extend(values.map(|v| (v.to_owned(), text(state, locale, &format!("{prefix}{v}")))));
    out
}

/// The terms inputs, with `input`'s values and `errors`.
pub(crate) fn terms_inputs(
    state: &AppState,
    locale: Locale,
    input: &TermsInput,
    errors: &[FieldError],
) -> Vec<Input> {
    let b = Builder {
        state,
        locale,
        errors,
    };
    vec![
        b.hint(
            b.input(
                "term_starts_on",
                Kind::Text,
                &input.term_starts_on,
                20,
                true,
            ),
            "hs_date_hint",
        ),
        b.hint(
            b.input("term_ends_on", Kind::Text, &input.term_ends_on, 20, false),
            "hs_date_hint",
        ),
        b.input(
            "hours_per_month",
            Kind::Number,
            &input.hours_per_month,
            10,
            false,
        ),
        b.choices(
            "term_work_style",
            Kind::Select,
            options(
                state,
                locale,
                "eg_style_",
                WorkStyle::ALL.iter().map(|w| w.as_str()),
                true,
            ),
            std::slice::from_ref(&input.term_work_style),
            true,
        ),
        b.choices(
            "compensation",
            Kind::Select,
            options(
                state,
                locale,
                "eg_comp_",
                Compensation::ALL.iter().map(|c| c.as_str()),
                true,
            ),
            std::slice::from_ref(&input.compensation),
            true,
        ),
        b.hint(
            b.input("amount_yen", Kind::Number, &input.amount_yen, 20, false),
            "eg_amount_hint",
        ),
        b.input(
            "terms_note",
            Kind::Textarea,
            &input.terms_note,
            yui_domain::engagement::TEXT_MAX,
            false,
        ),
    ]
}

/// An engagement as a list row.
#[derive(Debug, Serialize)]
struct Row {
    id: i64,
    talent: String,
    host: String,
    project: String,
    status: String,
    status_text: String,
    started_on: Option<String>,
    mentor: Option<String>,
    risks: Vec<String>,
}

fn risk_texts(state: &AppState, locale: Locale, causes: &[RiskCause]) -> Vec<String> {
    causes
        .iter()
        .map(|c| {
            let key = match c {
                RiskCause::Silent => "eg_risk_silent",
                RiskCause::LowSatisfaction => "eg_risk_low_satisfaction",
                RiskCause::Concern => "eg_risk_concern",
            };
            text(state, locale, key)
        })
        .collect()
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    status: Option<String>,
    at_risk: Option<String>,
    done: Option<String>,
}

/// Whether the viewer may see a list at all: staff, a mentor, a host member, or a
/// talent whose membership is live. Anyone else gets 404, as for no tenant.
async fn may_list(
    state: &AppState,
    tenant: &TenantPath,
    account: &Account,
) -> Result<(), WebError> {
    if [Permission::EngagementRead, Permission::EngagementReportOwn]
        .into_iter()
        .any(|p| allowed(state, account.id, tenant, p))
    {
        return Ok(());
    }
    let mut tx = state.store.account(account.id).read().await?;
    let m = tx.membership(tenant.id).await?;
    tx.commit().await?;
    match m {
        Some(m) if m.is_live() => Ok(()),
        _ => Err(WebError::NotFound),
    }
}

/// The list: every engagement for staff (filtered by status or at risk), the
/// assigned ones for a mentor, one's own for a talent or a host member.
async fn list(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(account): SignedIn,
    tenant: TenantPath,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    may_list(&state, &tenant, &account).await?;
    let locale = lang.or(tenant.record.tenant.default_locale);
    let now = state.now();
    let staff = allowed(&state, account.id, &tenant, Permission::EngagementManage);
    let mentor = !staff && allowed(&state, account.id, &tenant, Permission::CheckinWrite);
    let status = q.status.as_deref().and_then(EngagementStatus::parse);
    let at_risk_only = q.at_risk.as_deref() == Some("1");
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let risks = if staff || mentor {
        tx.at_risk_engagements(now).await?
    } else {
        Vec::new()
    };
    let found = if staff {
        tx.engagements(
            EngagementFilter {
                status,
                ..EngagementFilter::default()
            },
            LIST_MAX,
        )
        .await?
    } else if mentor {
        tx.engagements(
            EngagementFilter {
                status,
                mentor: Some(account.id),
                ..EngagementFilter::default()
            },
            LIST_MAX,
        )
        .await?
    } else {
        let mut own = tx
            .engagements(
                EngagementFilter {
                    talent: Some(account.id),
                    ..EngagementFilter::default()
                },
                LIST_MAX,
            )
            .await?;
        own.extend(
            tx.engagements(
                EngagementFilter {
                    host_member: Some(account.id),
                    ..EngagementFilter::default()
                },
                LIST_MAX,
            )
            .await?,
        );
        own
    };
    tx.commit().await?;
    let rows: Vec<Row> = found
        .iter()
        .filter_map(|e| {
            let causes = risks
                .iter()
                .find(|r| r.engagement.id == e.id)
                .map(|r| r.causes.as_slice())
                .unwrap_or(&[]);
            if at_risk_only && causes.is_empty() {
                return None;
            }
            Some(Row {
                id: e.id.get(),
                talent: e.talent_name.clone(),
                host: e.host_name.clone(),
                project: e.project_title.clone(),
                status: e.status.clone(),
                status_text: text(&state, locale, &format!("eg_status_{}", e.status)),
                started_on: e.started_on.map(|d| date_text(locale, d)),
                mentor: e.mentor_name.clone(),
                risks: risk_texts(&state, locale, causes),
            })
        })
        .collect();
    let slug = tenant.slug();
    let mut ctx = base_context(
        &state,
        locale,
        Some(&account),
        &format!("/t/{slug}/engagements"),
    );
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    ctx.insert("rows", &rows);
    ctx.insert("staff", &staff);
    ctx.insert("filters", &(staff || mentor));
    ctx.insert(
        "statuses",
        &options(
            &state,
            locale,
            "eg_status_",
            EngagementStatus::ALL.iter().map(|s| s.as_str()),
            false,
        ),
    );
    ctx.insert("status", &status.map(EngagementStatus::as_str));
    ctx.insert("at_risk", &at_risk_only);
    ctx.insert(
        "notice",
        &q.done
            .as_deref()
            .filter(|d| *d == "created")
            .map(|_| text(&state, locale, "eg_done_created")),
    );
    Ok(render(&state, "eg_list.html", ctx, locale, StatusCode::OK).into_response())
}

/// The create form as typed.
#[derive(Debug, Default, Deserialize)]
struct CreateForm {
    #[serde(default)]
    talent: String,
    #[serde(default)]
    project: String,
    #[serde(default)]
    started_on: String,
    #[serde(flatten)]
    terms: TermsInput,
}

/// Staff holding the engagement permission in the path's tenant; 404 for others.
fn staff_only(state: &AppState, account: &Account, tenant: &TenantPath) -> Result<(), WebError> {
    if allowed(state, account.id, tenant, Permission::EngagementManage) {
        Ok(())
    } else {
        Err(WebError::NotFound)
    }
}

#[allow(clippy::too_many_arguments)]
async fn render_new(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    account: &Account,
    tenant: &TenantPath,
    form: &CreateForm,
    errors: &[FieldError],
    status: StatusCode,
) -> Result<Response, PageError> {
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let members = tx.talent_members().await?;
    let projects = tx.projects().await?;
    tx.commit().await?;
    let b = Builder {
        state,
        locale,
        errors,
    };
    let mut talents = vec![(String::new(), text(state, locale, "eg_choose"))];
    talents.extend(
        members
            .iter()
            .map(|m| (m.account_id.to_string(), m.display_name.clone())),
    );
    let mut project_options = vec![(String::new(), text(state, locale, "eg_choose"))];
    project_options.extend(
        projects
            .iter()
            .map(|p| (p.id.to_string(), format!("{} — {}", p.title, p.host_name))),
    );
    let mut inputs = vec![
        b.choices(
            "talent",
            Kind::Select,
            talents,
            std::slice::from_ref(&form.talent),
            true,
        ),
        b.choices(
            "project",
            Kind::Select,
            project_options,
            std::slice::from_ref(&form.project),
            true,
        ),
        b.hint(
            b.input("started_on", Kind::Text, &form.started_on, 20, false),
            "eg_started_on_hint",
        ),
    ];
    inputs.extend(terms_inputs(state, locale, &form.terms, errors));
    let slug = tenant.slug();
    let (jar, csrf) = csrf_token(state, jar);
    let mut ctx = base_context(
        state,
        locale,
        Some(account),
        &format!("/t/{slug}/engagements/new"),
    );
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    ctx.insert("csrf", &csrf);
    ctx.insert("inputs", &inputs);
    ctx.insert("errors", &error_lines(state, locale, errors));
    Ok((jar, render(state, "eg_new.html", ctx, locale, status)).into_response())
}

async fn new_page(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(account): SignedIn,
    tenant: TenantPath,
    jar: CookieJar,
) -> Result<Response, PageError> {
    staff_only(&state, &account, &tenant)?;
    let locale = lang.or(tenant.record.tenant.default_locale);
    render_new(
        &state,
        locale,
        jar,
        &account,
        &tenant,
        &CreateForm::default(),
        &[],
        StatusCode::OK,
    )
    .await
}

fn required_id<T: std::str::FromStr>(
    errors: &mut Vec<FieldError>,
    field: &'static str,
    raw: &str,
) -> Option<T> {
    if raw.trim().is_empty() {
        errors.push(FieldError {
            field,
            problem: Problem::Required,
        });
        return None;
    }
    let v = raw.trim().parse().ok();
    if v.is_none() {
        errors.push(FieldError {
            field,
            problem: Problem::InvalidChoice,
        });
    }
    v
}

/// Creates an engagement: proposed, or active when a start date is given.
async fn create(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(account): SignedIn,
    tenant: TenantPath,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<CreateForm>,
) -> Result<Response, PageError> {
    staff_only(&state, &account, &tenant)?;
    let locale = lang.or(tenant.record.tenant.default_locale);
    let now = state.now();
    let mut errors = Vec::new();
    let talent: Option<AccountId> = required_id(&mut errors, "talent", &form.talent);
    let project: Option<ProjectId> = required_id(&mut errors, "project", &form.project);
    let started_on = if form.started_on.trim().is_empty() {
        None
    } else {
        match check_start(&form.started_on, japan_day(now)) {
            Ok(d) => Some(d),
            Err(e) => {
                errors.extend(e);
                None
            }
        }
    };
    let terms = match check_terms(&form.terms) {
        Ok(t) => Some(t),
        Err(e) => {
            errors.extend(e);
            None
        }
    };
    let (Some(talent), Some(project), Some(terms), true) =
        (talent, project, terms, errors.is_empty())
    else {
        return render_new(
            &state,
            locale,
            jar,
            &account,
            &tenant,
            &form,
            &errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let mut tx = state.store.tenant(tenant.id).write().await?;
    let made = tx
        .create_engagement_with_terms(
            &NewEngagement {
                talent,
                project,
                round: None,
                created_by: Some(account.id),
                terms: Some(&terms),
                started_on,
            },
            now,
        )
        .await;
    let refused = match made {
        Ok(Some(id)) => Ok(id),
        // The talent already works on this project (a second click, or a colleague
        // was quicker): one partnership, counted once.
        Err(StoreError::Conflict(what)) if what == "engagement" => Err(FieldError {
            field: "talent",
            problem: Problem::AlreadyEngaged,
        }),
        Err(e) => return Err(WebError::from(e).into()),
        Ok(None) => {
            let project_here = tx.project(project).await?.is_some();
            // A talent who left or a project deleted (or another tenant's) since the
            // form was drawn: name the field that no longer fits.
            Err(FieldError {
                field: if project_here { "talent" } else { "project" },
                problem: Problem::InvalidChoice,
            })
        }
    };
    let id = match refused {
        Ok(id) => id,
        Err(error) => {
            tx.rollback().await?;
            let errors = [error];
            return render_new(
                &state,
                locale,
                jar,
                &account,
                &tenant,
                &form,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    tx.audit(
        &AuditEntry {
            actor_id: Some(account.id),
            action: AuditAction::EngagementCreated,
            detail: serde_json::json!({
                "engagement": id.get(), "talent": talent.get(), "project": project.get(),
                "started_on": started_on, "compensation": terms.compensation.as_str(),
            }),
            ip,
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/t/{}/engagements/{id}?done=created",
        tenant.slug()
    ))
    .into_response())
}

/// A reason's label, for pages and the digest.
pub(crate) fn reason_text(state: &AppState, locale: Locale, reason: &str) -> String {
    EndReason::parse(reason).map_or_else(String::new, |r| {
        text(state, locale, &format!("eg_reason_{}", r.as_str()))
    })
}
