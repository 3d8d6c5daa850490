//! Check-in at the door: the code a confirmation's QR code carries opens a page
//! that names the person and the event, and a button checks them in for a day (a
//! tour counts each day). Staff without a scanner type the code instead.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::CookieJar;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use yui_domain::EventId;
use yui_domain::Locale;
use yui_domain::account::{FieldError, Problem};
use yui_domain::checkin::CheckinCode;
use yui_domain::registration::may_check_in;
use yui_store::{Event, Registration};

use super::form::{Form, text, today};
use super::manage::status_name;
use crate::error::PageError;
use crate::extract::{CsrfForm, EventCheckIn, Lang, Staff, TenantPath};
use crate::render::{base_context, date_text, render};
use crate::security::csrf_token;
use crate::{AppState, WebError};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{slug}/checkin/{code}", get(page).post(check_in))
        .route("/t/{slug}/events/{id}/checkin", get(typed_page).post(typed))
}

/// The registration a code names in the path's tenant, with its event; 404 for a
/// code that is malformed, unknown, or of another tenant.
async fn registration_of_code(
    state: &AppState,
    tenant: &TenantPath,
    code: &str,
) -> Result<(CheckinCode, Registration, Event, Vec<NaiveDate>), PageError> {
    let code = CheckinCode::parse(code).ok_or(WebError::NotFound)?;
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let r = tx
        .registration_by_code(&code)
        .await?
        .ok_or(WebError::NotFound)?;
    let event = tx.event(r.event_id).await?;
    let attended: Vec<NaiveDate> = tx
        .attendance(event.id)
        .await?
        .into_iter()
        .filter(|a| a.registration_id == r.id)
        .map(|a| a.day)
        .collect();
    tx.commit().await?;
    Ok((code, r, event, attended))
}

#[derive(Debug, Serialize)]
struct DayChoice {
    value: String,
    label: String,
    selected: bool,
    attended: bool,
}

#[derive(Debug, Default, Deserialize)]
struct Notice {
    done: Option<String>,
    day: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn render_code_page(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    staff: &Staff<EventCheckIn>,
    code: &str,
    notice: Option<String>,
    error: Option<FieldError>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let (code, r, event, attended) = registration_of_code(state, &staff.tenant, code).await?;
    let fields = event.fields()?;
    let today = today(state);
    let preselect = if fields.days.iter().any(|d| d.date == today) {
        today
    } else {
        fields.days.first().map(|d| d.date).unwrap_or(today)
    };
    let days: Vec<DayChoice> = fields
        .days
        .iter()
        .map(|d| DayChoice {
            value: d.date.format("%Y-%m-%d").to_string(),
            label: date_text(locale, d.date),
            selected: d.date == preselect,
            attended: attended.contains(&d.date),
        })
        .collect();
    let errors: Vec<FieldError> = error.into_iter().collect();
    let form = Form {
        state,
        locale,
        errors: &errors,
        year: None,
    };
    let slug = staff.tenant.slug();
    let action = format!("/t/{slug}/checkin/{}", code.as_str());
    let (jar, csrf) = csrf_token(state, jar);
    let mut ctx = base_context(state, locale, Some(&staff.account), &action);
    ctx.insert("slug", slug);
    ctx.insert("action", &action);
    ctx.insert("csrf", &csrf);
    ctx.insert("code", &code.display());
    ctx.insert("name", &r.display_name);
    ctx.insert("event_id", &event.id.get());
    ctx.insert("title", fields.title(locale));
    ctx.insert("when", &super::flow::when_text(locale, &fields.days));
    ctx.insert("seat", r.seat_kind().name(locale));
    ctx.insert("status", &status_name(state, locale, r.status().code()));
    ctx.insert("may_check_in", &may_check_in(r.status()));
    ctx.insert("days", &days);
    ctx.insert("day_label", &form.label("day"));
    ctx.insert("errors", &form.summary());
    ctx.insert("notice", &notice);
    Ok((jar, render(state, "evs_checkin.html", ctx, locale, status)).into_response())
}

async fn page(
    State(state): State<AppState>,
    Path((_, code)): Path<(String, String)>,
    lang: Lang,
    staff: Staff<EventCheckIn>,
    jar: CookieJar,
    Query(q): Query<Notice>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let day = q
        .day
        .as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .map(|d| date_text(locale, d))
        .unwrap_or_default();
    let notice = match q.done.as_deref() {
        Some("in") => Some(text(&state, locale, "evs_checked_in").replace("{day}", &day)),
        Some("again") => {
            Some(text(&state, locale, "evs_checked_in_already").replace("{day}", &day))
        }
        _ => None,
    };
    render_code_page(
        &state,
        locale,
        jar,
        &staff,
        &code,
        notice,
        None,
        StatusCode::OK,
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
struct CheckinForm {
    #[serde(default)]
    day: String,
}

/// Checks the registrant in for the chosen day; a second scan the same day says so.
async fn check_in(
    State(state): State<AppState>,
    Path((_, code)): Path<(String, String)>,
    lang: Lang,
    staff: Staff<EventCheckIn>,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<CheckinForm>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let (code, r, event, _) = registration_of_code(&state, &staff.tenant, &code).await?;
    let fields = event.fields()?;
    let day = NaiveDate::parse_from_str(form.day.trim(), "%Y-%m-%d")
        .ok()
        .filter(|d| fields.days.iter().any(|x| x.date == *d));
    let Some(day) = day else {
        let e = FieldError {
            field: "day",
            problem: if form.day.trim().is_empty() {
                Problem::Required
            } else {
                Problem::InvalidChoice
            },
        };
        return render_code_page(
            &state,
            locale,
            jar,
            &staff,
            code.as_str(),
            None,
            Some(e),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    if !may_check_in(r.status()) {
        return render_code_page(
            &state,
            locale,
            jar,
            &staff,
            code.as_str(),
            Some(text(&state, locale, "evs_err_not_confirmed")),
            None,
            StatusCode::CONFLICT,
        )
        .await;
    }
    let now = state.now();
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    let first = tx.check_in(r.id, day, staff.account.id, now).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/t/{}/checkin/{}?done={}&day={}",
        staff.tenant.slug(),
        code.as_str(),
        if first { "in" } else { "again" },
        day.format("%Y-%m-%d")
    ))
    .into_response())
}

#[derive(Debug, Default, Deserialize)]
struct TypedForm {
    #[serde(default)]
    code: String,
}

#[allow(clippy::too_many_arguments)]
fn render_typed(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    staff: &Staff<EventCheckIn>,
    event: &Event,
    typed: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let fields = event.fields()?;
    let form = Form {
        state,
        locale,
        errors: &[],
        year: None,
    };
    let mut code = form.field("code", "text", typed, true);
    code.error = error.map(|k| {
        let sep = if locale == Locale::Ja { "：" } else { ": " };
        format!("{}{sep}{}", code.label, text(state, locale, k))
    });
    let slug = staff.tenant.slug();
    let action = format!("/t/{slug}/events/{}/checkin", event.id);
    let (jar, csrf) = csrf_token(state, jar);
    let mut ctx = base_context(state, locale, Some(&staff.account), &action);
    ctx.insert("slug", slug);
    ctx.insert("action", &action);
    ctx.insert("csrf", &csrf);
    ctx.insert("event_id", &event.id.get());
    ctx.insert("title", fields.title(locale));
    ctx.insert("when", &super::flow::when_text(locale, &fields.days));
    ctx.insert(
        "errors",
        &code
            .error
            .iter()
            .map(|m| serde_json::json!({ "field": "code", "message": m }))
            .collect::<Vec<_>>(),
    );
    ctx.insert("f", &code);
    Ok((
        jar,
        render(state, "evs_checkin_typed.html", ctx, locale, status),
    )
        .into_response())
}

async fn event_of(state: &AppState, tenant: &TenantPath, id: i64) -> Result<Event, PageError> {
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let event = tx.event(EventId::new(id)).await?;
    tx.commit().await?;
    Ok(event)
}

async fn typed_page(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, i64)>,
    lang: Lang,
    staff: Staff<EventCheckIn>,
    jar: CookieJar,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let event = event_of(&state, &staff.tenant, id).await?;
    render_typed(
        &state,
        locale,
        jar,
        &staff,
        &event,
        "",
        None,
        StatusCode::OK,
    )
}

/// A typed code (full-width, lower case and hyphens are fine) opens the same page
/// the QR code does, if it is a registration of this event.
async fn typed(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, i64)>,
    lang: Lang,
    staff: Staff<EventCheckIn>,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<TypedForm>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let event = event_of(&state, &staff.tenant, id).await?;
    let refuse = |key| {
        render_typed(
            &state,
            locale,
            jar,
            &staff,
            &event,
            &form.code,
            Some(key),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    let Some(code) = CheckinCode::parse(&form.code) else {
        let key = if form.code.trim().is_empty() {
            "err_required"
        } else {
            "evs_err_code_form"
        };
        return refuse(key);
    };
    let mut tx = state.store.tenant(staff.tenant.id).read().await?;
    let found = tx.registration_by_code(&code).await?;
    tx.commit().await?;
    match found {
        Some(r) if r.event_id == event.id => Ok(Redirect::to(&format!(
            "/t/{}/checkin/{}",
            staff.tenant.slug(),
            code.as_str()
        ))
        .into_response()),
        _ => refuse("evs_err_code_unknown"),
    }
}
