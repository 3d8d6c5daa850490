//! Scouting (スカウト): a coordinator searches the shared pool (talents who opted in
//! and are not members of the tenant) and invites one to an open project of the
//! tenant with a short message (`/t/{slug}/scouts`), at most the tenant's daily
//! limit per coordinator per day. The talent sees their scouts on `/me` and at
//! `/me/scouts/{id}`: accepting goes through the tenant's join page (consent), then
//! to the project; declining ends it. Another tenant's staff and another person
//! get 404.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use yui_domain::account::{FieldError, Problem};
use yui_domain::scout::{MESSAGE_MAX, ScoutStatus, check_message};
use yui_domain::search::query_words;
use yui_domain::{AccountId, Locale, ProjectId, ScoutId};
use yui_store::{Account, MyScout, Reach, ScoutOutcome, TalentQuery};

use crate::error::PageError;
use crate::extract::{CsrfForm, CsrfOnly, Lang, PoolScout, SignedIn, Staff, TenantPath};
use crate::features::hosts::form::{Builder, Kind, error_lines};
use crate::render::{base_context, datetime_text, render};
use crate::security::csrf_token;
use crate::{AppState, WebError};

pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    ("scouts.html", include_str!("templates/scouts.html")),
    ("scout_new.html", include_str!("templates/scout_new.html")),
    ("my_scout.html", include_str!("templates/my_scout.html")),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{slug}/scouts", get(list).post(send))
        .route("/t/{slug}/scouts/new", get(new_page))
        .route("/me/scouts/{id}", get(my_scout))
        .route("/me/scouts/{id}/accept", post(accept))
        .route("/me/scouts/{id}/decline", post(decline))
}

/// A status in the reader's language.
pub(crate) fn status_text(state: &AppState, locale: Locale, status: ScoutStatus) -> String {
    state
        .inner
        .catalogs
        .text(locale, &format!("sc_status_{}", status.code()))
        .to_owned()
}

/// The most pool talents the scout page lists.
const POOL_PAGE: u32 = 50;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    q: String,
    sent: Option<String>,
}

#[derive(Debug, Serialize)]
struct HitRow {
    id: i64,
    name: String,
    kana: String,
}

#[derive(Debug, Serialize)]
struct SentRow {
    project: String,
    talent: Option<String>,
    status: String,
    sent: String,
}

async fn list(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<PoolScout>,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let tenant = &staff.tenant;
    let locale = lang.or(tenant.record.tenant.default_locale);
    let now = state.now();
    let mut tx = state.store.tenant(tenant.id).read().await?;
    // Scouting is for the shared pool: the query leaves members out before its limit.
    let hits = tx
        .search_talents(&TalentQuery {
            words: query_words(&q.q),
            reach: Reach::PoolOutsiders,
            limit: POOL_PAGE,
            ..TalentQuery::default()
        })
        .await?;
    let scouts = tx.scouts().await?;
    let today = tx.scouts_sent_today(staff.account.id, now).await?;
    tx.commit().await?;
    let hits: Vec<HitRow> = hits
        .into_iter()
        .map(|h| HitRow {
            id: h.account_id.get(),
            name: h.display_name,
            kana: h.kana,
        })
        .collect();
    let sent: Vec<SentRow> = scouts
        .iter()
        .map(|s| SentRow {
            project: s.project_title.clone(),
            talent: s.talent_name.clone(),
            status: status_text(&state, locale, s.status(now)),
            sent: datetime_text(locale, s.created_at),
        })
        .collect();
    let slug = tenant.slug();
    let c = &state.inner.catalogs;
    let mut ctx = base_context(
        &state,
        locale,
        Some(&staff.account),
        &format!("/t/{slug}/scouts"),
    );
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    ctx.insert("q", &q.q);
    ctx.insert("hits", &hits);
    ctx.insert("sent", &sent);
    ctx.insert(
        "allowance",
        &c.text(locale, "sc_allowance")
            .replace("{sent}", &today.to_string())
            .replace(
                "{limit}",
                &tenant.record.tenant.scouting.daily_limit.to_string(),
            ),
    );
    ctx.insert(
        "notice",
        &q.sent.as_ref().map(|_| c.text(locale, "sc_sent_notice")),
    );
    Ok(render(&state, "scouts.html", ctx, locale, StatusCode::OK).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct NewQuery {
    #[serde(default)]
    talent: String,
}

/// The scout form as typed.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ScoutForm {
    #[serde(default)]
    talent: String,
    #[serde(default)]
    project: String,
    #[serde(default)]
    message: String,
}

#[allow(clippy::too_many_arguments)]
async fn render_new(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    staff: &Staff<PoolScout>,
    talent: AccountId,
    form: &ScoutForm,
    errors: &[FieldError],
    problem: Option<&str>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let tenant = &staff.tenant;
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let name = tx.pool_talent(talent).await?;
    let projects = tx.projects().await?;
    tx.commit().await?;
    let Some(name) = name else {
        return Err(WebError::NotFound.into());
    };
    let options: Vec<(String, String)> = projects
        .iter()
        .filter(|p| p.status == "open")
        .map(|p| (p.id.to_string(), p.title.clone()))
        .collect();
    let b = Builder {
        state,
        locale,
        errors,
    };
    let chosen = vec![form.project.clone()];
    let inputs = vec![
        b.choices("project", Kind::Select, options.clone(), &chosen, true),
        b.input("message", Kind::Textarea, &form.message, MESSAGE_MAX, true),
    ];
    let slug = tenant.slug();
    let (jar, csrf) = csrf_token(state, jar);
    let mut ctx = base_context(
        state,
        locale,
        Some(&staff.account),
        &format!("/t/{slug}/scouts/new?talent={talent}"),
    );
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    ctx.insert("talent", &talent.get());
    ctx.insert("name", &name);
    ctx.insert("has_projects", &!options.is_empty());
    ctx.insert("inputs", &inputs);
    ctx.insert("csrf", &csrf);
    ctx.insert("errors", &error_lines(state, locale, errors));
    ctx.insert(
        "problem",
        &problem.map(|k| state.inner.catalogs.text(locale, k)),
    );
    Ok((jar, render(state, "scout_new.html", ctx, locale, status)).into_response())
}

async fn new_page(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<PoolScout>,
    jar: CookieJar,
    Query(q): Query<NewQuery>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let Ok(talent) = q.talent.parse::<AccountId>() else {
        return Err(WebError::NotFound.into());
    };
    let form = ScoutForm::default();
    render_new(
        &state,
        locale,
        jar,
        &staff,
        talent,
        &form,
        &[],
        None,
        StatusCode::OK,
    )
    .await
}

async fn send(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<PoolScout>,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<ScoutForm>,
) -> Result<Response, PageError> {
    let tenant = &staff.tenant;
    let locale = lang.or(tenant.record.tenant.default_locale);
    let Ok(talent) = form.talent.parse::<AccountId>() else {
        return Err(WebError::NotFound.into());
    };
    let refuse = |errors: Vec<FieldError>, problem: Option<&'static str>, status| {
        let (state, jar, staff, form) = (&state, jar.clone(), &staff, &form);
        async move {
            render_new(
                state, locale, jar, staff, talent, form, &errors, problem, status,
            )
            .await
        }
    };
    let mut errors = Vec::new();
    let project = form.project.parse::<ProjectId>().ok();
    if project.is_none() {
        errors.push(FieldError {
            field: "project",
            problem: Problem::Required,
        });
    }
    let message = match check_message(&form.message) {
        Ok(m) => Some(m),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let (Some(project), Some(message)) = (project, message) else {
        return refuse(errors, None, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let now = state.now();
    let mut tx = state.store.tenant(tenant.id).write().await?;
    let outcome = tx
        .send_scout(
            project,
            talent,
            staff.account.id,
            &message,
            tenant.record.tenant.scouting.daily_limit,
            now,
        )
        .await;
    let outcome = match outcome {
        Ok(o) => o,
        Err(yui_store::StoreError::Conflict(_)) => ScoutOutcome::AlreadyOpen,
        Err(e) => {
            tx.rollback().await?;
            return Err(e.into());
        }
    };
    let (id, email, display_name, mail_locale, project_title) = match outcome {
        ScoutOutcome::Sent {
            id,
            email,
            display_name,
            locale,
            project_title,
        } => (id, email, display_name, locale, project_title),
        other => {
            tx.rollback().await?;
            return match other {
                ScoutOutcome::NotInPool => Err(WebError::NotFound.into()),
                ScoutOutcome::ProjectNotOpen => {
                    let e = vec![FieldError {
                        field: "project",
                        problem: Problem::InvalidChoice,
                    }];
                    refuse(e, None, StatusCode::UNPROCESSABLE_ENTITY).await
                }
                ScoutOutcome::AlreadyOpen => {
                    refuse(Vec::new(), Some("sc_already_open"), StatusCode::CONFLICT).await
                }
                _ => {
                    refuse(
                        Vec::new(),
                        Some("sc_limit_reached"),
                        StatusCode::TOO_MANY_REQUESTS,
                    )
                    .await
                }
            };
        }
    };
    let mail = yui_mail::NewMail {
        tenant: Some(yui_mail::MailTenant::from_tenant(
            tenant.id,
            &tenant.record.tenant,
        )),
        to: email,
        locale: Locale::parse(&mail_locale).unwrap_or(locale),
        kind: yui_mail::MailKind::Scout,
        vars: serde_json::json!({
            "display_name": display_name,
            "project_title": project_title,
            "message": message,
            "link": state.link(&format!("/me/scouts/{id}")),
        }),
        attachment: None,
    };
    if let Err(e) = state.inner.outbox.enqueue(&mut tx, &mail, now).await {
        tx.rollback().await?;
        return Err(e.into());
    }
    tx.commit().await?;
    Ok(Redirect::to(&format!("/t/{}/scouts?sent=1", tenant.slug())).into_response())
}

/// The person's scout `id`, else 404.
async fn mine(state: &AppState, account: &Account, id: &str) -> Result<MyScout, PageError> {
    let Ok(id) = id.parse::<ScoutId>() else {
        return Err(WebError::NotFound.into());
    };
    let mut tx = state.store.account(account.id).read().await?;
    let s = tx.my_scout(id).await?;
    tx.commit().await?;
    s.ok_or_else(|| WebError::NotFound.into())
}

/// A scout on the talent's dashboard.
#[derive(Debug, Serialize)]
pub(crate) struct MyScoutRow {
    pub id: i64,
    pub tenant_name: String,
    pub project: String,
    pub status: String,
    pub open: bool,
    pub sent: String,
}

/// The person's scouts, for the dashboard.
pub(crate) async fn my_scout_rows(
    state: &AppState,
    locale: Locale,
    account: &Account,
) -> Result<Vec<MyScoutRow>, PageError> {
    let mut tx = state.store.account(account.id).read().await?;
    let scouts = tx.my_scouts().await?;
    tx.commit().await?;
    let now = state.now();
    let mut rows = Vec::new();
    for s in scouts {
        let tenant_name = match TenantPath::load_even_suspended(state, &s.tenant_slug).await {
            Ok(t) => t.record.tenant.name.get(locale).to_owned(),
            Err(_) => s.tenant_slug.clone(),
        };
        let status = s.status(now);
        rows.push(MyScoutRow {
            id: s.id.get(),
            tenant_name,
            project: s.project_title.clone(),
            status: status_text(state, locale, status),
            open: status == ScoutStatus::Open,
            sent: datetime_text(locale, s.created_at),
        });
    }
    Ok(rows)
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct MyScoutQuery {
    done: Option<String>,
}

async fn my_scout(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(account): SignedIn,
    jar: CookieJar,
    Path(id): Path<String>,
    Query(q): Query<MyScoutQuery>,
) -> Result<Response, PageError> {
    let locale = lang.or(account.locale());
    let scout = mine(&state, &account, &id).await?;
    let tenant = TenantPath::load_even_suspended(&state, &scout.tenant_slug).await?;
    let status = scout.status(state.now());
    let (jar, csrf) = csrf_token(&state, jar);
    let c = &state.inner.catalogs;
    let mut ctx = base_context(&state, locale, Some(&account), &format!("/me/scouts/{id}"));
    ctx.insert("id", &scout.id.get());
    ctx.insert("slug", &scout.tenant_slug);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    ctx.insert("project", &scout.project_title);
    ctx.insert("project_id", &scout.project_id.get());
    ctx.insert("message", &scout.message);
    ctx.insert("status", &status_text(&state, locale, status));
    ctx.insert("open", &(status == ScoutStatus::Open));
    ctx.insert("accepted", &(status == ScoutStatus::Accepted));
    ctx.insert("sent", &datetime_text(locale, scout.created_at));
    ctx.insert("csrf", &csrf);
    ctx.insert(
        "notice",
        &q.done.as_deref().map(|d| {
            let key = if d == "declined" {
                "sc_done_declined"
            } else {
                "sc_done_other"
            };
            c.text(locale, key).to_owned()
        }),
    );
    Ok((
        jar,
        render(&state, "my_scout.html", ctx, locale, StatusCode::OK),
    )
        .into_response())
}

/// Accepting: a person whose consent to the tenant is live and current accepts at
/// once and goes to the project; anyone else goes through the tenant's join page
/// first, which accepts the scout together with the consent.
async fn accept(
    State(state): State<AppState>,
    SignedIn(account): SignedIn,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let scout = mine(&state, &account, &id).await?;
    let now = state.now();
    if scout.status(now) != ScoutStatus::Open {
        return Ok(Redirect::to(&format!("/me/scouts/{}", scout.id)).into_response());
    }
    let tenant = TenantPath::load(&state, &scout.tenant_slug).await?;
    let mut tx = state.store.account(account.id).write().await?;
    let member = tx
        .membership(tenant.id)
        .await?
        .filter(|m| m.is_live() && !m.is_outdated(&tenant.record.tenant.consent));
    if member.is_none() {
        tx.rollback().await?;
        return Ok(
            Redirect::to(&format!("/t/{}/join?scout={}", scout.tenant_slug, scout.id))
                .into_response(),
        );
    }
    tx.answer_scout(scout.id, ScoutStatus::Accepted, now)
        .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/t/{}/projects/{}",
        scout.tenant_slug, scout.project_id
    ))
    .into_response())
}

async fn decline(
    State(state): State<AppState>,
    SignedIn(account): SignedIn,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let scout = mine(&state, &account, &id).await?;
    let mut tx = state.store.account(account.id).write().await?;
    tx.answer_scout(scout.id, ScoutStatus::Declined, state.now())
        .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/me/scouts/{}?done=declined", scout.id)).into_response())
}
