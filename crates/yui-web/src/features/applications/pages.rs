//! The pages of interest and applications.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use yui_domain::account::FieldError;
use yui_domain::application::{
    ApplicationStatus, FREQUENCY_MAX, MESSAGE_MAX, PROPOSAL_MAX, ProposalInput, Side, WorkFormat,
    check_message, check_proposal, digest_due,
};
use yui_domain::audit::AuditAction;
use yui_domain::{AccountId, ApplicationId, Locale, Permission, ProjectId};
use yui_store::{Account, Application, Audience, AuditEntry, AuditTx, Project};

use super::{Reader, is_staff, open_to_members, readable, text};
use crate::error::PageError;
use crate::extract::{ClientIp, CsrfForm, CsrfOnly, Lang, SignedIn, TalentMember, TenantPath};
use crate::features::hosts::Access;
use crate::features::hosts::form::{Builder, Input, Kind, error_lines};
use crate::render::csv::CsvDoc;
use crate::render::{base_context, datetime_text, render};
use crate::security::csrf_token;
use crate::{AppState, WebError};

/// How many rows the inbox and dashboards show of each list.
const LIST_LIMIT: i64 = 100;
/// The most rows one CSV export holds.
const EXPORT_LIMIT: i64 = 100_000;

#[derive(Debug, Default, Deserialize)]
pub(super) struct Notice {
    done: Option<String>,
}

impl Notice {
    fn key(&self) -> Option<&'static str> {
        match self.done.as_deref() {
            Some("applied") => Some("ap_applied"),
            Some("already") => Some("ap_already_applied"),
            Some("sent") => Some("ap_message_sent"),
            Some("status") => Some("ap_status_changed"),
            _ => None,
        }
    }
}

/// Marks a project as interesting, or takes the mark back.
pub(super) async fn interest(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, i64)>,
    member: TalentMember,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let p = open_to_members(&state, &member.tenant, ProjectId::new(id)).await?;
    let mut tx = state.store.tenant(member.tenant.id).write().await?;
    tx.toggle_interest(p.id, member.account.id, state.now())
        .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/t/{}/projects/{}#interest",
        member.tenant.slug(),
        p.id
    ))
    .into_response())
}

fn proposal_inputs(
    state: &AppState,
    locale: Locale,
    input: &ProposalInput,
    errors: &[FieldError],
) -> Vec<Input> {
    let b = Builder {
        state,
        locale,
        errors,
    };
    let mut options = vec![(String::new(), text(state, locale, "ap_choose"))];
    options.extend(WorkFormat::ALL.iter().map(|f| {
        (
            f.code().to_owned(),
            text(state, locale, &format!("ap_format_{}", f.code())),
        )
    }));
    vec![
        b.input(
            "proposal",
            Kind::Textarea,
            &input.proposal,
            PROPOSAL_MAX,
            true,
        ),
        b.input(
            "approach",
            Kind::Textarea,
            &input.approach,
            PROPOSAL_MAX,
            true,
        ),
        b.hint(
            b.input(
                "frequency",
                Kind::Text,
                &input.frequency,
                FREQUENCY_MAX,
                true,
            ),
            "ap_frequency_hint",
        ),
        b.choices(
            "format",
            Kind::Select,
            options,
            std::slice::from_ref(&input.format),
            true,
        ),
    ]
}

#[allow(clippy::too_many_arguments)]
fn render_apply(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    account: &Account,
    tenant: &TenantPath,
    p: &Project,
    input: &ProposalInput,
    errors: &[FieldError],
    status: StatusCode,
    hosts_consent: bool,
) -> Response {
    let slug = tenant.slug();
    let path = format!("/t/{slug}/projects/{}/apply", p.id);
    let (jar, csrf) = csrf_token(state, jar);
    let mut ctx = base_context(state, locale, Some(account), &path);
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    ctx.insert("project_id", &p.id.get());
    ctx.insert("project_title", &p.title);
    ctx.insert("host_name", &p.host_name);
    ctx.insert("action", &path);
    ctx.insert("csrf", &csrf);
    ctx.insert("inputs", &proposal_inputs(state, locale, input, errors));
    ctx.insert("errors", &error_lines(state, locale, errors));
    // Without consent for host organizations only the secretariat reads it: say so
    // before the talent writes, with the way to change it.
    ctx.insert("hosts_consent", &hosts_consent);
    (jar, render(state, "apply.html", ctx, locale, status)).into_response()
}

/// The proposal form.
pub(super) async fn apply_page(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, i64)>,
    lang: Lang,
    member: TalentMember,
    jar: CookieJar,
) -> Result<Response, PageError> {
    let locale = lang.or(member.account.locale());
    let p = open_to_members(&state, &member.tenant, ProjectId::new(id)).await?;
    Ok(render_apply(
        &state,
        locale,
        jar,
        &member.account,
        &member.tenant,
        &p,
        &ProposalInput::default(),
        &[],
        StatusCode::OK,
        member.membership.hosts_since.is_some(),
    ))
}

/// Files the proposal; a second submission finds the live application and files
/// nothing.
pub(super) async fn apply(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, i64)>,
    lang: Lang,
    member: TalentMember,
    jar: CookieJar,
    CsrfForm(input): CsrfForm<ProposalInput>,
) -> Result<Response, PageError> {
    let locale = lang.or(member.account.locale());
    let p = open_to_members(&state, &member.tenant, ProjectId::new(id)).await?;
    let proposal = match check_proposal(&input) {
        Ok(p) => p,
        Err(errors) => {
            return Ok(render_apply(
                &state,
                locale,
                jar,
                &member.account,
                &member.tenant,
                &p,
                &input,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
                member.membership.hosts_since.is_some(),
            ));
        }
    };
    let now = state.now();
    let mut tx = state.store.tenant(member.tenant.id).write().await?;
    let (app, created) = tx
        .create_application(p.id, member.account.id, &proposal, now)
        .await?;
    tx.commit().await?;
    let done = if created { "applied" } else { "already" };
    Ok(Redirect::to(&format!(
        "/t/{}/applications/{app}?done={done}",
        member.tenant.slug()
    ))
    .into_response())
}

#[derive(Debug, Serialize)]
struct MessageRow {
    author: String,
    mine: bool,
    at: String,
    body: String,
}

struct Extra<'a> {
    body: &'a str,
    errors: Vec<FieldError>,
    problem: Option<&'static str>,
    notice: Option<&'static str>,
}

fn status_text(state: &AppState, locale: Locale, code: &str) -> String {
    text(state, locale, &format!("ap_status_{code}"))
}

#[allow(clippy::too_many_arguments)]
async fn render_thread(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    account: &Account,
    tenant: &TenantPath,
    app: &Application,
    reader: Reader,
    extra: Extra<'_>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let messages = tx.application_messages(app.id).await?;
    let transitions = tx.application_transitions(app.id).await?;
    tx.commit().await?;
    let slug = tenant.slug();
    let messages: Vec<MessageRow> = messages
        .into_iter()
        .map(|m| MessageRow {
            mine: m.author_id == Some(account.id),
            author: m
                .author_name
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| text(state, locale, "no_name")),
            at: datetime_text(locale, m.created_at),
            body: m.body,
        })
        .collect();
    let history: Vec<String> = transitions
        .into_iter()
        .map(|t| {
            text(state, locale, "hp_transition_line")
                .replace("{at}", &datetime_text(locale, t.at))
                .replace("{from}", &status_text(state, locale, &t.from_status))
                .replace("{to}", &status_text(state, locale, &t.to_status))
                .replace(
                    "{who}",
                    &t.actor_name
                        .filter(|n| !n.is_empty())
                        .unwrap_or_else(|| text(state, locale, "no_name")),
                )
        })
        .collect();
    let side = match reader {
        Reader::Talent => Side::Talent,
        Reader::Host | Reader::Staff => Side::Reviewer,
    };
    let moves: Vec<(&str, String)> = app
        .status()
        .next(side)
        .into_iter()
        .map(|to| {
            (
                to.code(),
                text(state, locale, &format!("ap_to_{}", to.code())),
            )
        })
        .collect();
    let body_input = Builder {
        state,
        locale,
        errors: &extra.errors,
    }
    .input("message", Kind::Textarea, extra.body, MESSAGE_MAX, true);
    let (jar, csrf) = csrf_token(state, jar);
    let path = format!("/t/{slug}/applications/{}", app.id);
    let mut ctx = base_context(state, locale, Some(account), &path);
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    ctx.insert("id", &app.id.get());
    ctx.insert("project_id", &app.project_id.get());
    ctx.insert("project_title", &app.project_title);
    ctx.insert("host_name", &app.host_name);
    ctx.insert("applicant", &app.display_name);
    ctx.insert("status", &status_text(state, locale, &app.status));
    ctx.insert(
        "format",
        &text(state, locale, &format!("ap_format_{}", app.format)),
    );
    ctx.insert("proposal", &app.proposal);
    ctx.insert("approach", &app.approach);
    ctx.insert("frequency", &app.frequency);
    ctx.insert("submitted", &datetime_text(locale, app.created_at));
    ctx.insert("is_talent", &(reader == Reader::Talent));
    ctx.insert("messages", &messages);
    ctx.insert("history", &history);
    ctx.insert("moves", &moves);
    ctx.insert("message_input", &body_input);
    ctx.insert("csrf", &csrf);
    ctx.insert("errors", &error_lines(state, locale, &extra.errors));
    ctx.insert("problem", &extra.problem.map(|k| text(state, locale, k)));
    ctx.insert("notice", &extra.notice.map(|k| text(state, locale, k)));
    Ok((jar, render(state, "application.html", ctx, locale, status)).into_response())
}

/// An application's page: the proposal, its status and history, the thread.
pub(super) async fn thread(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, i64)>,
    lang: Lang,
    SignedIn(account): SignedIn,
    tenant: TenantPath,
    jar: CookieJar,
    Query(notice): Query<Notice>,
) -> Result<Response, PageError> {
    let locale = lang.or(account.locale());
    let (app, reader) = readable(&state, &tenant, &account, ApplicationId::new(id)).await?;
    render_thread(
        &state,
        locale,
        jar,
        &account,
        &tenant,
        &app,
        reader,
        Extra {
            body: "",
            errors: Vec::new(),
            problem: None,
            notice: notice.key(),
        },
        StatusCode::OK,
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct MessageForm {
    #[serde(default)]
    message: String,
}

/// Adds a message to the thread; the other side hears of it in their next digest.
pub(super) async fn message(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, i64)>,
    lang: Lang,
    SignedIn(account): SignedIn,
    tenant: TenantPath,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<MessageForm>,
) -> Result<Response, PageError> {
    let locale = lang.or(account.locale());
    let (app, reader) = readable(&state, &tenant, &account, ApplicationId::new(id)).await?;
    let body = match check_message(&form.message) {
        Ok(b) => b,
        Err(mut e) => {
            e.field = "message";
            return render_thread(
                &state,
                locale,
                jar,
                &account,
                &tenant,
                &app,
                reader,
                Extra {
                    body: &form.message,
                    errors: vec![e],
                    problem: None,
                    notice: None,
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let now = state.now();
    let mut tx = state.store.tenant(tenant.id).write().await?;
    // The other side: the talent hears from the project's side; the host's
    // members hear from the talent only while the talent's consent covers them.
    let notify: Vec<AccountId> = match reader {
        Reader::Talent => {
            if tx.application_for(Audience::Hosts, app.id).await?.is_some() {
                tx.host_members(app.host_id)
                    .await?
                    .into_iter()
                    .map(|m| m.account_id)
                    .collect()
            } else {
                Vec::new()
            }
        }
        Reader::Host | Reader::Staff => vec![app.account_id],
    };
    tx.add_application_message(app.id, account.id, &body, &notify, digest_due(now), now)
        .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/t/{}/applications/{}?done=sent#messages",
        tenant.slug(),
        app.id
    ))
    .into_response())
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct StatusForm {
    #[serde(default)]
    to: String,
}

/// Moves the application: the talent withdraws, the project's side reviews.
pub(super) async fn status(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, i64)>,
    lang: Lang,
    SignedIn(account): SignedIn,
    tenant: TenantPath,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<StatusForm>,
) -> Result<Response, PageError> {
    let locale = lang.or(account.locale());
    let (app, reader) = readable(&state, &tenant, &account, ApplicationId::new(id)).await?;
    let side = match reader {
        Reader::Talent => Side::Talent,
        Reader::Host | Reader::Staff => Side::Reviewer,
    };
    let from = app.status();
    let moved = match ApplicationStatus::parse(&form.to) {
        Some(to) if from.can_become(to, side) => {
            let mut tx = state.store.tenant(tenant.id).write().await?;
            let done = tx
                .transition_application(app.id, from, to, account.id, state.now())
                .await?;
            tx.commit().await?;
            done
        }
        _ => false,
    };
    if !moved {
        return render_thread(
            &state,
            locale,
            jar,
            &account,
            &tenant,
            &app,
            reader,
            Extra {
                body: "",
                errors: Vec::new(),
                problem: Some("ap_err_status_move"),
                notice: None,
            },
            StatusCode::CONFLICT,
        )
        .await;
    }
    Ok(Redirect::to(&format!(
        "/t/{}/applications/{}?done=status",
        tenant.slug(),
        app.id
    ))
    .into_response())
}

#[derive(Debug, Serialize)]
struct AppRow {
    id: i64,
    project: String,
    host: String,
    applicant: String,
    status: String,
    at: String,
}

fn app_rows(state: &AppState, locale: Locale, apps: &[Application]) -> Vec<AppRow> {
    apps.iter()
        .map(|a| AppRow {
            id: a.id.get(),
            project: a.project_title.clone(),
            host: a.host_name.clone(),
            applicant: a.display_name.clone(),
            status: status_text(state, locale, &a.status),
            at: datetime_text(locale, a.created_at),
        })
        .collect()
}

#[derive(Debug, Serialize)]
struct ProjectLine {
    id: i64,
    title: String,
    status: String,
    interest: i64,
    names: Vec<String>,
    /// "and N others" when fewer names than the count are shown (those whose consent
    /// does not cover host organizations), else empty.
    others: String,
}

#[derive(Debug, Serialize)]
struct HostBlock {
    id: i64,
    name: String,
    projects: Vec<ProjectLine>,
    applications: Vec<AppRow>,
}

/// The host's dashboard: each of the person's hosts with its projects, their
/// interest (a count; names of those whose consent covers hosts) and applications.
pub(super) async fn host_dashboard(
    State(state): State<AppState>,
    lang: Lang,
    access: Access,
) -> Result<Response, PageError> {
    let locale = lang.or(access.account.locale());
    let tenant = &access.tenant;
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let hosts = tx.hosts_of_member(access.account.id).await?;
    if hosts.is_empty() {
        tx.commit().await?;
        return Err(WebError::NotFound.into());
    }
    let counts = tx.interest_counts().await?;
    let marks = tx
        .interest_marks(Audience::Hosts, None, EXPORT_LIMIT)
        .await?;
    let mut blocks = Vec::new();
    for h in hosts {
        let projects = tx.projects_of_host(h.id).await?;
        let apps = tx
            .applications(Audience::Hosts, Some(h.id), LIST_LIMIT)
            .await?;
        blocks.push(HostBlock {
            id: h.id.get(),
            name: h.name.clone(),
            projects: projects
                .iter()
                .map(|p| {
                    let interest = counts
                        .iter()
                        .find(|(id, _)| *id == p.id)
                        .map_or(0, |(_, n)| *n);
                    let names: Vec<String> = marks
                        .iter()
                        .filter(|m| m.project_id == p.id)
                        .map(|m| m.display_name.clone())
                        .collect();
                    let hidden = interest - i64::try_from(names.len()).unwrap_or(i64::MAX);
                    let others = match hidden {
                        ..=0 => String::new(),
                        1 => text(&state, locale, "ap_and_one_other"),
                        _ => text(&state, locale, "ap_and_others")
                            .replace("{n}", &hidden.to_string()),
                    };
                    ProjectLine {
                        id: p.id.get(),
                        title: p.title.clone(),
                        status: text(&state, locale, &format!("hp_project_status_{}", p.status)),
                        interest,
                        names,
                        others,
                    }
                })
                .collect(),
            applications: app_rows(&state, locale, &apps),
        });
    }
    let round_links = crate::features::rounds::participate::host_round_links(
        &state,
        &mut tx,
        &access.account,
        tenant.slug(),
        locale,
    )
    .await?;
    tx.commit().await?;
    let slug = tenant.slug();
    let mut ctx = base_context(
        &state,
        locale,
        Some(&access.account),
        &format!("/t/{slug}/host"),
    );
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    ctx.insert("hosts", &blocks);
    ctx.insert("round_links", &round_links);
    Ok(render(
        &state,
        "host_dashboard.html",
        ctx,
        locale,
        StatusCode::OK,
    ))
}

#[derive(Debug, Serialize)]
struct MarkRow {
    project_id: i64,
    project: String,
    name: String,
    at: String,
}

/// The coordinator's inbox: new applications, interest marks, and the slot where
/// hearings due will be listed.
pub(super) async fn inbox(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(account): SignedIn,
    Path(slug): Path<String>,
) -> Result<Response, PageError> {
    if !is_staff(&state, account.id, &slug) {
        return Err(WebError::NotFound.into());
    }
    let tenant = TenantPath::load(&state, &slug).await?;
    let locale = lang.or(account.locale());
    let sees_hearings = state
        .authz
        .check(account.id, &slug, Permission::HearingRead, state.now());
    let today = state
        .now()
        .with_timezone(&yui_domain::fiscal::tokyo())
        .date_naive();
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let apps = tx.applications(Audience::Staff, None, LIST_LIMIT).await?;
    let marks = tx.interest_marks(Audience::Staff, None, LIST_LIMIT).await?;
    let due = if sees_hearings {
        tx.hearings_due(today + chrono::Duration::days(crate::features::hearings::DUE_DAYS))
            .await?
    } else {
        Vec::new()
    };
    tx.commit().await?;
    let fresh: Vec<Application> = apps
        .into_iter()
        .filter(|a| a.status() == ApplicationStatus::Submitted)
        .collect();
    let marks: Vec<MarkRow> = marks
        .into_iter()
        .map(|m| MarkRow {
            project_id: m.project_id.get(),
            project: m.project_title,
            name: m.display_name,
            at: datetime_text(locale, m.created_at),
        })
        .collect();
    let mut ctx = base_context(&state, locale, Some(&account), &format!("/t/{slug}/inbox"));
    ctx.insert("slug", &slug);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    ctx.insert("applications", &app_rows(&state, locale, &fresh));
    ctx.insert("marks", &marks);
    // Hearings whose next step is due (for staff who may read hearings).
    let hearings: Vec<String> = due
        .iter()
        .map(|h| {
            let when = h.next_due_on.map(|d| d.to_string()).unwrap_or_default();
            format!("{when} {} — {}", h.subject_name, h.next_step)
        })
        .collect();
    ctx.insert("hearings_due", &hearings);
    ctx.insert(
        "can_export",
        &state
            .authz
            .check(account.id, &slug, Permission::ExportCreate, state.now()),
    );
    Ok(render(&state, "inbox.html", ctx, locale, StatusCode::OK))
}

/// The tenant for a CSV export, when `account` may export; 404 otherwise.
async fn exporter(
    state: &AppState,
    account: &Account,
    slug: &str,
) -> Result<TenantPath, PageError> {
    if !state
        .authz
        .check(account.id, slug, Permission::ExportCreate, state.now())
    {
        return Err(WebError::NotFound.into());
    }
    Ok(TenantPath::load(state, slug).await?)
}

/// Every application whose applicant's membership is live, as CSV, audited.
pub(super) async fn applications_csv(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(account): SignedIn,
    Path(slug): Path<String>,
    ClientIp(ip): ClientIp,
) -> Result<Response, PageError> {
    let tenant = exporter(&state, &account, &slug).await?;
    let locale = lang.or(tenant.record.tenant.default_locale);
    let now = state.now();
    let mut tx = state.store.tenant(tenant.id).write().await?;
    let apps = tx.applications(Audience::Staff, None, EXPORT_LIMIT).await?;
    let header: Vec<String> = [
        "hp_col_id",
        "ap_col_project",
        "hp_col_host",
        "ap_col_applicant",
        "hp_col_status",
        "hp_field_proposal",
        "hp_field_approach",
        "hp_field_frequency",
        "hp_field_format",
        "hp_col_created_at",
    ]
    .iter()
    .map(|k| text(&state, locale, k))
    .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut doc = CsvDoc::new(&header)?;
    for a in &apps {
        doc.row([
            a.id.to_string(),
            a.project_title.clone(),
            a.host_name.clone(),
            a.display_name.clone(),
            status_text(&state, locale, &a.status),
            a.proposal.clone(),
            a.approach.clone(),
            a.frequency.clone(),
            text(&state, locale, &format!("ap_format_{}", a.format)),
            datetime_text(locale, a.created_at),
        ])?;
    }
    tx.audit(
        &AuditEntry {
            actor_id: Some(account.id),
            action: AuditAction::Export,
            detail: serde_json::json!({ "export": "applications", "rows": doc.rows() }),
            ip,
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(doc.into_response(&format!("applications-{slug}.csv"))?)
}

/// Every member whose consent is live, as CSV, audited.
pub(super) async fn talents_csv(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(account): SignedIn,
    Path(slug): Path<String>,
    ClientIp(ip): ClientIp,
) -> Result<Response, PageError> {
    let tenant = exporter(&state, &account, &slug).await?;
    let locale = lang.or(tenant.record.tenant.default_locale);
    let now = state.now();
    let mut tx = state.store.tenant(tenant.id).write().await?;
    let members = tx.talent_members().await?;
    let header: Vec<String> = [
        "hp_col_id",
        "ap_col_name",
        "ap_col_kana",
        "ap_col_residence",
        "ap_col_consented_at",
        "ap_col_consent_version",
        "ap_col_hosts",
    ]
    .iter()
    .map(|k| text(&state, locale, k))
    .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut doc = CsvDoc::new(&header)?;
    for m in &members {
        doc.row([
            m.account_id.to_string(),
            m.display_name.clone(),
            m.kana.clone(),
            m.residence.map(|r| format!("{r:02}")).unwrap_or_default(),
            datetime_text(locale, m.consented_at),
            m.consent_version.to_string(),
            text(&state, locale, if m.hosts { "ap_yes" } else { "ap_no" }),
        ])?;
    }
    tx.audit(
        &AuditEntry {
            actor_id: Some(account.id),
            action: AuditAction::Export,
            detail: serde_json::json!({ "export": "talents", "rows": doc.rows() }),
            ip,
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(doc.into_response(&format!("talents-{slug}.csv"))?)
}
