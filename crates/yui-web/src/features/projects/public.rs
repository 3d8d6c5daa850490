//! The public list of a region's open projects and a project's page. The page of a
//! draft, closed, members-only project or one of a host not approved is 404 to the
//! public; staff and the host's members see it with its co-design thread.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Serialize;
use yui_domain::account::FieldError;
use yui_domain::host::HostStatus;
use yui_domain::{Locale, ProjectId};
use yui_store::{Account, Project};

use super::{facts, project_rows, text};
use crate::error::PageError;
use crate::extract::{Lang, TenantPath, Viewer};
use crate::features::hosts::Access;
use crate::features::hosts::form::{Builder, Kind, error_lines};
use crate::render::{base_context, datetime_text, render};
use crate::security::csrf_token;
use crate::{AppState, WebError};

/// How many projects a page of the public list shows.
pub(super) const LIST_LIMIT: i64 = 50;

/// A page of a list: the projects older than `before` (a project id), newest first.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Before {
    before: Option<String>,
}

impl Before {
    /// The id to continue after; anything that is no id starts at the newest.
    pub(super) fn id(&self) -> Option<ProjectId> {
        self.before.as_deref().and_then(|b| b.parse().ok())
    }
}

pub(super) async fn list(
    State(state): State<AppState>,
    lang: Lang,
    tenant: TenantPath,
    Viewer(viewer): Viewer,
    axum::extract::Query(page): axum::extract::Query<Before>,
) -> Result<Response, PageError> {
    let locale = lang.or(viewer
        .as_ref()
        .map_or(tenant.record.tenant.default_locale, Account::locale));
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let projects = tx.open_public_projects(page.id(), LIST_LIMIT).await?;
    tx.commit().await?;
    // A full page may have older ones after it.
    let older = (projects.len() == usize::try_from(LIST_LIMIT).unwrap_or(usize::MAX))
        .then(|| projects.last().map(|p| p.id.get()))
        .flatten();
    let slug = tenant.slug();
    let mut ctx = base_context(
        &state,
        locale,
        viewer.as_ref(),
        &format!("/t/{slug}/projects"),
    );
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    ctx.insert("heading", &text(&state, locale, "hp_projects_title"));
    ctx.insert("public", &true);
    ctx.insert("older", &older);
    ctx.insert("projects", &project_rows(&state, locale, &projects));
    Ok(render(&state, "projects.html", ctx, locale, StatusCode::OK))
}

/// What staff and the host's members see besides the public page.
pub(super) struct Inside<'a> {
    pub access: &'a Access,
    pub can_edit: bool,
    pub comment: &'a str,
    pub errors: Vec<FieldError>,
    /// A refusal that is no field's fault (e.g. opening for a host not approved).
    pub problem: Option<&'static str>,
    pub notice: Option<&'static str>,
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn render_project(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    viewer: Option<&Account>,
    tenant: &TenantPath,
    p: &Project,
    inside: Option<Inside<'_>>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let slug = tenant.slug();
    let mut ctx = base_context(
        state,
        locale,
        viewer,
        &format!("/t/{slug}/projects/{}", p.id),
    );
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    ctx.insert("project_id", &p.id.get());
    ctx.insert("host_id", &p.host_id.get());
    ctx.insert("title", &p.title);
    ctx.insert("challenge", &p.challenge);
    ctx.insert("help_wanted", &p.help_wanted);
    ctx.insert("facts", &facts(state, locale, p));
    ctx.insert(
        "status",
        &text(state, locale, &format!("hp_project_status_{}", p.status)),
    );
    ctx.insert(
        "visibility",
        &text(state, locale, &format!("hp_visibility_{}", p.visibility)),
    );
    let ibox = crate::features::applications::project_box(
        state,
        tenant,
        viewer,
        inside.as_ref().map(|i| i.access),
        p,
    )
    .await?;
    ctx.insert("ibox", &ibox);
    let mut jar = jar;
    if ibox.member && inside.is_none() {
        let (j, csrf) = csrf_token(state, jar);
        jar = j;
        ctx.insert("csrf", &csrf);
    }
    if let Some(inside) = inside {
        let mut tx = state.store.tenant(tenant.id).read().await?;
        let comments = tx.project_comments(p.id).await?;
        let transitions = tx.project_transitions(p.id).await?;
        tx.commit().await?;
        #[derive(Serialize)]
        struct CommentRow {
            author: String,
            at: String,
            body: String,
        }
        let comments: Vec<CommentRow> = comments
            .into_iter()
            .map(|c| CommentRow {
                author: c.author_name.unwrap_or_default(),
                at: datetime_text(locale, c.created_at),
                body: c.body,
            })
            .collect();
        let history: Vec<String> = transitions
            .into_iter()
            .map(|t| {
                text(state, locale, "hp_transition_line")
                    .replace("{at}", &datetime_text(locale, t.at))
                    .replace(
                        "{from}",
                        &text(
                            state,
                            locale,
                            &format!("hp_project_status_{}", t.from_status),
                        ),
                    )
                    .replace(
                        "{to}",
                        &text(state, locale, &format!("hp_project_status_{}", t.to_status)),
                    )
                    .replace(
                        "{who}",
                        &t.actor_name
                            .filter(|n| !n.is_empty())
                            .unwrap_or_else(|| text(state, locale, "no_name")),
                    )
            })
            .collect();
        let moves: Vec<(&str, String)> = if inside.can_edit {
            p.status()
                .next()
                .into_iter()
                .map(|to| {
                    (
                        to.code(),
                        text(state, locale, &format!("hp_project_to_{}", to.code())),
                    )
                })
                .collect()
        } else {
            Vec::new()
        };
        let comment_input = Builder {
            state,
            locale,
            errors: &inside.errors,
        }
        .input(
            "body",
            Kind::Textarea,
            inside.comment,
            yui_domain::project::COMMENT_MAX,
            true,
        );
        let (j, csrf) = csrf_token(state, jar);
        jar = j;
        ctx.insert("inside", &true);
        ctx.insert("staff", &inside.access.sees_all_projects());
        ctx.insert("can_edit", &inside.can_edit);
        ctx.insert("moves", &moves);
        ctx.insert("comments", &comments);
        ctx.insert("history", &history);
        ctx.insert("comment_input", &comment_input);
        ctx.insert("csrf", &csrf);
        ctx.insert("errors", &error_lines(state, locale, &inside.errors));
        ctx.insert("problem", &inside.problem.map(|k| text(state, locale, k)));
        ctx.insert("notice", &inside.notice.map(|k| text(state, locale, k)));
    } else {
        ctx.insert("inside", &false);
    }
    Ok((jar, render(state, "project.html", ctx, locale, status)).into_response())
}

/// Whether the public may read project `p` of host status `host`.
fn shown(p: &Project, host: Option<HostStatus>) -> bool {
    p.is_public() && host == Some(HostStatus::Approved)
}

/// Whether a members-only project that is open, of an approved host, shows to
/// `viewer` as a live member of the tenant.
async fn members_see(
    state: &AppState,
    tenant: &TenantPath,
    viewer: Option<&Account>,
    p: &Project,
    host: Option<HostStatus>,
) -> Result<bool, PageError> {
    let Some(viewer) = viewer else {
        return Ok(false);
    };
    if p.status != "open" || p.visibility != "members" || host != Some(HostStatus::Approved) {
        return Ok(false);
    }
    let mut tx = state.store.account(viewer.id).read().await?;
    let m = tx.membership(tenant.id).await?;
    tx.commit().await?;
    Ok(m.is_some_and(|m| m.is_live()))
}

/// The project and the person's way in: `None` for the public page, `Some` for
/// staff and the host's members. 404 when neither applies.
pub(super) async fn look_up(
    state: &AppState,
    tenant: &TenantPath,
    viewer: Option<Account>,
    id: ProjectId,
) -> Result<(Project, Option<(Access, bool)>, Option<Account>), PageError> {
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let Some(project) = tx.project(id).await? else {
        tx.commit().await?;
        return Err(WebError::NotFound.into());
    };
    let host = tx.host(project.host_id).await?.map(|h| h.status());
    tx.commit().await?;
    let access = match viewer.clone() {
        Some(account) => match Access::of(state, account, tenant.slug()).await {
            Ok(a) => Some(a),
            Err(WebError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let inside = match access {
        Some(a) => {
            let mut tx = state.store.tenant(tenant.id).read().await?;
            let sees = a.can_see_projects_of(&mut tx, project.host_id).await?;
            let edits = a.can_edit_projects_of(&mut tx, project.host_id).await?;
            tx.commit().await?;
            sees.then_some((a, edits))
        }
        None => None,
    };
    if inside.is_none()
        && !shown(&project, host)
        && !members_see(state, tenant, viewer.as_ref(), &project, host).await?
    {
        return Err(WebError::NotFound.into());
    }
    Ok((project, inside, viewer))
}

pub(super) async fn detail(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, i64)>,
    lang: Lang,
    tenant: TenantPath,
    Viewer(viewer): Viewer,
    jar: CookieJar,
    notice: axum::extract::Query<super::manage::Notice>,
) -> Result<Response, PageError> {
    let locale = lang.or(viewer
        .as_ref()
        .map_or(tenant.record.tenant.default_locale, Account::locale));
    let (project, inside, viewer) = look_up(&state, &tenant, viewer, ProjectId::new(id)).await?;
    let inside = inside.as_ref().map(|(access, can_edit)| Inside {
        access,
        can_edit: *can_edit,
        comment: "",
        errors: Vec::new(),
        problem: None,
        notice: notice.key(),
    });
    render_project(
        &state,
        locale,
        jar,
        viewer.as_ref(),
        &tenant,
        &project,
        inside,
        StatusCode::OK,
    )
    .await
}
