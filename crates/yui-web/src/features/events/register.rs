//! A person's moves on their own registration: registering (through
//! `flow::register`, so the one mail goes out with it), cancelling or leaving the
//! waitlist (through `flow::cancel`, which tells whoever is promoted), and the
//! logistics form approved people fill in. Another person's registration is 404.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum_extra::extract::CookieJar;
use yui_domain::account::FieldError;
use yui_domain::event::question::check_answers;
use yui_domain::registration::{
    check_idempotency_key, may_cancel, may_fill_logistics, seat_kind_typed,
};
use yui_domain::{EventId, RegistrationId};
use yui_store::{Account, Registration};

use super::flow;
use super::public::{Shown, locale_of, render_detail, shown_event};
use crate::error::PageError;
use crate::extract::{CsrfForm, CsrfOnly, Lang, SignedIn, TenantPath};
use crate::render::echo;
use crate::{AppState, WebError};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/t/{slug}/events/{id}/register",
            post(register).get(back_to_event),
        )
        .route(
            "/t/{slug}/registrations/{id}/cancel",
            post(cancel).get(back_to_me),
        )
        .route(
            "/t/{slug}/registrations/{id}/logistics",
            post(logistics).get(back_to_me),
        )
}

/// A form's target opened as a page: after signing in from a form posted while
/// signed out (or with an expired session), the browser arrives here with GET.
/// The event's page (or the person's own page) is where they can post again.
async fn back_to_event(Path((slug, id)): Path<(String, String)>) -> Response {
    match id.parse::<EventId>() {
        Ok(id) if slug.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') => {
            Redirect::to(&format!("/t/{slug}/events/{id}")).into_response()
        }
        _ => Redirect::to("/me").into_response(),
    }
}

async fn back_to_me() -> Response {
    Redirect::to("/me").into_response()
}

/// The event's page with a notice of what was done, scrolled to the person's
/// registration (the status, code and QR code are far below the notice on a phone).
fn detail_path(tenant: &TenantPath, event: EventId, done: &str) -> String {
    format!(
        "/t/{}/events/{event}?done={done}#registration",
        tenant.slug()
    )
}

/// What a form shows again: every pair but the tokens, each cut to what a field
/// may hold.
fn kept(pairs: &[(String, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .filter(|(k, _)| k != "csrf" && k != "idempotency_key")
        .map(|(k, v)| (k.clone(), echo(v.clone())))
        .collect()
}

async fn register(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, i64)>,
    lang: Lang,
    SignedIn(account): SignedIn,
    tenant: TenantPath,
    jar: CookieJar,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let locale = locale_of(lang, Some(&account), &tenant);
    let event = shown_event(&state, &tenant, EventId::new(id)).await?;
    let fields = event.fields()?;
    let again = |shown: Shown, status: StatusCode| {
        let state = state.clone();
        let tenant = tenant.clone();
        let event = event.clone();
        let account = account.clone();
        let jar = jar.clone();
        async move {
            render_detail(
                &state,
                locale,
                jar,
                Some(&account),
                &tenant,
                &event,
                shown,
                status,
            )
            .await
        }
    };
    // The organizer will write to this address: it must be the person's own.
    if account.email_verified_at.is_none() {
        let shown = Shown {
            pairs: kept(&pairs),
            problem: Some("evp_needs_verified"),
            ..Shown::default()
        };
        return again(shown, StatusCode::FORBIDDEN).await;
    }
    if event.registration_open(state.now()).is_err() {
        let shown = Shown {
            pairs: kept(&pairs),
            problem: Some("evp_closed"),
            ..Shown::default()
        };
        return again(shown, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let mut errors: Vec<FieldError> = Vec::new();
    let seat = seat_kind_typed(fields.format, get("attendance"));
    if let Err(e) = &seat {
        errors.push(e.clone());
    }
    let answers = match check_answers(&fields.questions, &pairs) {
        Ok(a) => Some(a),
        Err(e) => {
            errors.extend(e);
            None
        }
    };
    let (Ok(seat), Some(answers), true) = (seat, answers, errors.is_empty()) else {
        let shown = Shown {
            pairs: kept(&pairs),
            errors,
            ..Shown::default()
        };
        return again(shown, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    // A form without a usable key still registers once: the store keeps one live
    // registration per person and event.
    let key = get("idempotency_key").and_then(check_idempotency_key);
    flow::register(
        &state,
        &tenant,
        &account,
        &event,
        &fields,
        flow::Request {
            seat_kind: seat,
            answers: &answers,
            idempotency_key: key,
        },
    )
    .await?;
    Ok(Redirect::to(&detail_path(&tenant, event.id, "registered")).into_response())
}

/// The person's own registration in this tenant; anyone else's is 404.
async fn own(
    state: &AppState,
    tenant: &TenantPath,
    account: &Account,
    id: i64,
) -> Result<Registration, WebError> {
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let r = tx.registration(RegistrationId::new(id)).await?;
    tx.commit().await?;
    if r.account_id != account.id {
        return Err(WebError::NotFound);
    }
    Ok(r)
}

async fn cancel(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, i64)>,
    lang: Lang,
    SignedIn(account): SignedIn,
    tenant: TenantPath,
    jar: CookieJar,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let r = own(&state, &tenant, &account, id).await?;
    let event = shown_event(&state, &tenant, r.event_id).await?;
    // A second click, after the first went through: show the result, not an error.
    if r.status() == yui_domain::registration::RegistrationStatus::Cancelled {
        return Ok(Redirect::to(&detail_path(&tenant, event.id, "cancelled")).into_response());
    }
    if !may_cancel(r.status(), event.starts_at, state.now()) {
        let locale = locale_of(lang, Some(&account), &tenant);
        let shown = Shown {
            problem: Some("evp_cannot_cancel"),
            ..Shown::default()
        };
        return render_detail(
            &state,
            locale,
            jar,
            Some(&account),
            &tenant,
            &event,
            shown,
            StatusCode::CONFLICT,
        )
        .await;
    }
    // Already cancelled by a second click: the page shows it either way.
    flow::cancel(&state, &tenant, r.id, account.id).await?;
    Ok(Redirect::to(&detail_path(&tenant, event.id, "cancelled")).into_response())
}

async fn logistics(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, i64)>,
    lang: Lang,
    SignedIn(account): SignedIn,
    tenant: TenantPath,
    jar: CookieJar,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let locale = locale_of(lang, Some(&account), &tenant);
    let r = own(&state, &tenant, &account, id).await?;
    let event = shown_event(&state, &tenant, r.event_id).await?;
    let fields = event.fields()?;
    let now = state.now();
    if !may_fill_logistics(fields.logistics_form, r.status(), event.ends_at, now) {
        return Err(WebError::NotFound.into());
    }
    match check_answers(&fields.logistics, &pairs) {
        Ok(answers) => {
            let mut tx = state.store.tenant(tenant.id).write().await?;
            tx.save_logistics(r.id, &answers, now).await?;
            tx.commit().await?;
            Ok(Redirect::to(&detail_path(&tenant, event.id, "logistics")).into_response())
        }
        Err(errors) => {
            let shown = Shown {
                logistics_pairs: kept(&pairs),
                logistics_errors: errors,
                ..Shown::default()
            };
            render_detail(
                &state,
                locale,
                jar,
                Some(&account),
                &tenant,
                &event,
                shown,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}
