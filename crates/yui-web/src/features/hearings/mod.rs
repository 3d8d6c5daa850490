//! Hearings (ヒアリング): coordinators record intake interviews with a talent who is
//! a live member of the tenant (`/t/{slug}/talents/{account}/hearings`) or with a
//! host (`/t/{slug}/hosts/{host}/hearings`), edit them (`/t/{slug}/hearings/{id}`),
//! and see what is due (`/t/{slug}/hearings`). Staff holding the hearing permission
//! only: anyone else, another tenant's ids, and a talent who left all answer 404.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use chrono::Duration;
use serde::{Deserialize, Serialize};
use yui_domain::account::FieldError;
use yui_domain::hearing::{FIELD_MAX, HearingInput, NOTES_MAX, check_hearing_on};
use yui_domain::{AccountId, HearingId, HostId, Locale};
use yui_store::{Account, Hearing, HearingSubject};

use crate::error::PageError;
use crate::extract::{CsrfForm, HearingRead, HearingWrite, Lang, Staff, TenantPath};
use crate::features::hosts::form::{Builder, Input, Kind, error_lines};
use crate::render::{base_context, date_text, datetime_text, render};
use crate::security::csrf_token;
use crate::{AppState, WebError};

/// Days ahead the list of hearings due looks.
pub const DUE_DAYS: i64 = 14;

pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    ("hearings.html", include_str!("templates/hearings.html")),
    ("hearing.html", include_str!("templates/hearing.html")),
    (
        "hearings_index.html",
        include_str!("templates/hearings_index.html"),
    ),
    (
        "hearing_rows.html",
        include_str!("templates/hearing_rows.html"),
    ),
];

pub fn router() -> Router<AppState> {
    use axum::routing::get;
    Router::new()
        .route("/t/{slug}/hearings", get(index))
        .route("/t/{slug}/hearings/{id}", get(edit_page).post(edit))
        .route(
            "/t/{slug}/talents/{account}/hearings",
            get(talent_page).post(talent_create),
        )
        .route(
            "/t/{slug}/hosts/{host}/hearings",
            get(host_page).post(host_create),
        )
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct DoneQuery {
    done: Option<String>,
}

/// A hearing as the pages show it.
#[derive(Debug, Serialize)]
struct HearingRow {
    id: i64,
    subject: String,
    subject_href: String,
    held_on: String,
    notes: String,
    needs: String,
    strengths: String,
    next_step: String,
    next_due_on: Option<String>,
    overdue: bool,
    recorded_by: Option<String>,
    updated: String,
}

fn subject_href(slug: &str, h: &Hearing) -> String {
    match h.subject() {
        Some(HearingSubject::Talent(a)) => format!("/t/{slug}/talents/{a}/hearings"),
        Some(HearingSubject::Host(id)) => format!("/t/{slug}/hosts/{id}/hearings"),
        None => format!("/t/{slug}/hearings"),
    }
}

fn rows(state: &AppState, locale: Locale, slug: &str, hearings: &[Hearing]) -> Vec<HearingRow> {
    let today = state
        .now()
        .with_timezone(&yui_domain::fiscal::tokyo())
        .date_naive();
    hearings
        .iter()
        .map(|h| HearingRow {
            id: h.id.get(),
            subject: h.subject_name.clone(),
            subject_href: subject_href(slug, h),
            held_on: date_text(locale, h.held_on),
            notes: h.notes.clone(),
            needs: h.needs.clone(),
            strengths: h.strengths.clone(),
            next_step: h.next_step.clone(),
            next_due_on: h.next_due_on.map(|d| date_text(locale, d)),
            overdue: h.next_due_on.is_some_and(|d| d < today),
            recorded_by: h.recorded_by_name.clone().filter(|n| !n.is_empty()),
            updated: datetime_text(locale, h.updated_at),
        })
        .collect()
}

fn inputs(
    state: &AppState,
    locale: Locale,
    input: &HearingInput,
    errors: &[FieldError],
) -> Vec<Input> {
    let b = Builder {
        state,
        locale,
        errors,
    };
    vec![
        b.hint(
            b.input("held_on", Kind::Text, &input.held_on, 20, true),
            "hs_date_hint",
        ),
        b.input("notes", Kind::Textarea, &input.notes, NOTES_MAX, true),
        b.input("needs", Kind::Textarea, &input.needs, FIELD_MAX, false),
        b.input(
            "strengths",
            Kind::Textarea,
            &input.strengths,
            FIELD_MAX,
            false,
        ),
        b.input(
            "next_step",
            Kind::Textarea,
            &input.next_step,
            FIELD_MAX,
            false,
        ),
        b.hint(
            b.input("next_due_on", Kind::Text, &input.next_due_on, 20, false),
            "hs_date_hint",
        ),
    ]
}

fn input_of(h: &Hearing) -> HearingInput {
    HearingInput {
        held_on: h.held_on.to_string(),
        notes: h.notes.clone(),
        needs: h.needs.clone(),
        strengths: h.strengths.clone(),
        next_step: h.next_step.clone(),
        next_due_on: h.next_due_on.map(|d| d.to_string()).unwrap_or_default(),
    }
}

fn talent_subject(account: &str) -> Result<HearingSubject, PageError> {
    account
        .parse::<AccountId>()
        .map(HearingSubject::Talent)
        .map_err(|_| WebError::NotFound.into())
}

fn host_subject(host: &str) -> Result<HearingSubject, PageError> {
    host.parse::<HostId>()
        .map(HearingSubject::Host)
        .map_err(|_| WebError::NotFound.into())
}

fn subject_path(slug: &str, subject: HearingSubject) -> String {
    match subject {
        HearingSubject::Talent(a) => format!("/t/{slug}/talents/{a}/hearings"),
        HearingSubject::Host(h) => format!("/t/{slug}/hosts/{h}/hearings"),
    }
}

/// What the subject page shows besides the stored hearings.
struct SubjectView<'a> {
    input: Option<&'a HearingInput>,
    errors: Vec<FieldError>,
    notice: Option<&'static str>,
    status: StatusCode,
}

#[allow(clippy::too_many_arguments)]
async fn render_subject(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    account: &Account,
    tenant: &TenantPath,
    subject: HearingSubject,
    can_write: bool,
    view: SubjectView<'_>,
) -> Result<Response, PageError> {
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let name = tx.hearing_subject_name(subject).await?;
    let hearings = match name {
        Some(_) => tx.hearings_of(subject).await?,
        None => Vec::new(),
    };
    tx.commit().await?;
    let Some(name) = name else {
        return Err(WebError::NotFound.into());
    };
    let slug = tenant.slug();
    let path = subject_path(slug, subject);
    let (back, back_label) = match subject {
        HearingSubject::Talent(a) => (format!("/t/{slug}/talents/{a}"), "hs_back_talent"),
        HearingSubject::Host(h) => (format!("/t/{slug}/hosts/{h}"), "hs_back_host"),
    };
    let empty = HearingInput::default();
    let input = view.input.unwrap_or(&empty);
    let (jar, csrf) = csrf_token(state, jar);
    let c = &state.inner.catalogs;
    let mut ctx = base_context(state, locale, Some(account), &path);
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    ctx.insert("subject", &name);
    ctx.insert("action", &path);
    ctx.insert("back", &back);
    ctx.insert("back_label", c.text(locale, back_label));
    ctx.insert("hearings", &rows(state, locale, slug, &hearings));
    ctx.insert("can_write", &can_write);
    ctx.insert("csrf", &csrf);
    ctx.insert("inputs", &inputs(state, locale, input, &view.errors));
    ctx.insert("errors", &error_lines(state, locale, &view.errors));
    ctx.insert("notice", &view.notice.map(|k| c.text(locale, k)));
    Ok((
        jar,
        render(state, "hearings.html", ctx, locale, view.status),
    )
        .into_response())
}

fn may_write(state: &AppState, account: &Account, tenant: &TenantPath) -> bool {
    state.authz.check(
        account.id,
        tenant.slug(),
        yui_domain::Permission::HearingWrite,
        state.now(),
    )
}

async fn subject_page(
    state: AppState,
    lang: Lang,
    staff: Staff<HearingRead>,
    jar: CookieJar,
    subject: HearingSubject,
    q: DoneQuery,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let can_write = may_write(&state, &staff.account, &staff.tenant);
    let notice = match q.done.as_deref() {
        Some("saved") => Some("hs_saved"),
        _ => None,
    };
    let view = SubjectView {
        input: None,
        errors: Vec::new(),
        notice,
        status: StatusCode::OK,
    };
    render_subject(
        &state,
        locale,
        jar,
        &staff.account,
        &staff.tenant,
        subject,
        can_write,
        view,
    )
    .await
}

/// Today in Asia/Tokyo, the day hearing dates are checked against.
fn tokyo_today(state: &AppState) -> chrono::NaiveDate {
    state
        .now()
        .with_timezone(&yui_domain::fiscal::tokyo())
        .date_naive()
}

async fn subject_create(
    state: AppState,
    lang: Lang,
    staff: Staff<HearingWrite>,
    jar: CookieJar,
    subject: HearingSubject,
    input: HearingInput,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let fields = match check_hearing_on(&input, tokyo_today(&state)) {
        Ok(f) => f,
        Err(errors) => {
            let view = SubjectView {
                input: Some(&input),
                errors,
                notice: None,
                status: StatusCode::UNPROCESSABLE_ENTITY,
            };
            return render_subject(
                &state,
                locale,
                jar,
                &staff.account,
                &staff.tenant,
                subject,
                true,
                view,
            )
            .await;
        }
    };
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    let id = tx
        .create_hearing(subject, &fields, staff.account.id, state.now())
        .await?;
    if id.is_none() {
        tx.rollback().await?;
        return Err(WebError::NotFound.into());
    }
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "{}?done=saved",
        subject_path(staff.tenant.slug(), subject)
    ))
    .into_response())
}

pub(crate) async fn talent_page(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<HearingRead>,
    jar: CookieJar,
    Path((_, account)): Path<(String, String)>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let subject = talent_subject(&account)?;
    subject_page(state, lang, staff, jar, subject, q).await
}

pub(crate) async fn talent_create(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<HearingWrite>,
    jar: CookieJar,
    Path((_, account)): Path<(String, String)>,
    CsrfForm(input): CsrfForm<HearingInput>,
) -> Result<Response, PageError> {
    let subject = talent_subject(&account)?;
    subject_create(state, lang, staff, jar, subject, input).await
}

pub(crate) async fn host_page(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<HearingRead>,
    jar: CookieJar,
    Path((_, host)): Path<(String, String)>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let subject = host_subject(&host)?;
    subject_page(state, lang, staff, jar, subject, q).await
}

pub(crate) async fn host_create(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<HearingWrite>,
    jar: CookieJar,
    Path((_, host)): Path<(String, String)>,
    CsrfForm(input): CsrfForm<HearingInput>,
) -> Result<Response, PageError> {
    let subject = host_subject(&host)?;
    subject_create(state, lang, staff, jar, subject, input).await
}

/// The tenant's hearings: those due within [`DUE_DAYS`] (overdue included) and the
/// latest ones.
async fn index(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<HearingRead>,
) -> Result<Response, PageError> {
    let tenant = &staff.tenant;
    let locale = lang.or(tenant.record.tenant.default_locale);
    let today = state
        .now()
        .with_timezone(&yui_domain::fiscal::tokyo())
        .date_naive();
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let due = tx.hearings_due(today + Duration::days(DUE_DAYS)).await?;
    let latest = tx.hearings(50).await?;
    tx.commit().await?;
    let slug = tenant.slug();
    let mut ctx = base_context(
        &state,
        locale,
        Some(&staff.account),
        &format!("/t/{slug}/hearings"),
    );
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    ctx.insert("due", &rows(&state, locale, slug, &due));
    ctx.insert("latest", &rows(&state, locale, slug, &latest));
    Ok(render(&state, "hearings_index.html", ctx, locale, StatusCode::OK).into_response())
}

async fn visible(state: &AppState, tenant: &TenantPath, id: &str) -> Result<Hearing, PageError> {
    let Ok(id) = id.parse::<HearingId>() else {
        return Err(WebError::NotFound.into());
    };
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let h = tx.hearing(id).await?;
    tx.commit().await?;
    h.ok_or_else(|| WebError::NotFound.into())
}

#[allow(clippy::too_many_arguments)]
fn render_edit(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    account: &Account,
    tenant: &TenantPath,
    hearing: &Hearing,
    input: &HearingInput,
    errors: &[FieldError],
    can_write: bool,
    status: StatusCode,
) -> Response {
    let slug = tenant.slug();
    let path = format!("/t/{slug}/hearings/{}", hearing.id);
    let (jar, csrf) = csrf_token(state, jar);
    let mut ctx = base_context(state, locale, Some(account), &path);
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    ctx.insert("subject", &hearing.subject_name);
    ctx.insert("back", &subject_href(slug, hearing));
    ctx.insert("action", &path);
    ctx.insert("can_write", &can_write);
    ctx.insert(
        "hearing",
        &rows(state, locale, slug, std::slice::from_ref(hearing))[0],
    );
    ctx.insert("csrf", &csrf);
    ctx.insert("inputs", &inputs(state, locale, input, errors));
    ctx.insert("errors", &error_lines(state, locale, errors));
    (jar, render(state, "hearing.html", ctx, locale, status)).into_response()
}

async fn edit_page(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<HearingRead>,
    jar: CookieJar,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let hearing = visible(&state, &staff.tenant, &id).await?;
    let can_write = may_write(&state, &staff.account, &staff.tenant);
    Ok(render_edit(
        &state,
        locale,
        jar,
        &staff.account,
        &staff.tenant,
        &hearing,
        &input_of(&hearing),
        &[],
        can_write,
        StatusCode::OK,
    ))
}

async fn edit(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<HearingWrite>,
    jar: CookieJar,
    Path((_, id)): Path<(String, String)>,
    CsrfForm(input): CsrfForm<HearingInput>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let hearing = visible(&state, &staff.tenant, &id).await?;
    let fields = match check_hearing_on(&input, tokyo_today(&state)) {
        Ok(f) => f,
        Err(errors) => {
            return Ok(render_edit(
                &state,
                locale,
                jar,
                &staff.account,
                &staff.tenant,
                &hearing,
                &input,
                &errors,
                true,
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
        }
    };
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    let saved = tx.update_hearing(hearing.id, &fields, state.now()).await?;
    let Some(saved) = saved else {
        tx.rollback().await?;
        return Err(WebError::NotFound.into());
    };
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "{}?done=saved",
        subject_href(staff.tenant.slug(), &saved)
    ))
    .into_response())
}
