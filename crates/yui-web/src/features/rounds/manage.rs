//! The coordinator's pages of a matching round: the tenant's rounds and a new
//! round's form, and each round's page, where it is set up (projects and seats,
//! invitations), opened and closed, solved by the engine or paired by hand
//! (manual mode), reviewed with the engine's check (blocking pairs and rule
//! violations shown before publishing, so a manual change shows its cost),
//! adjusted with a recorded reason, published with a mail to both sides, and
//! given a second phase (二次募集) of timed offer rounds.
//!
//! Every change is a form post that answers a page: a person's mistake re-renders
//! the round's page with the error on its field and what was typed kept.

use std::collections::{HashMap, HashSet};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use yui_domain::account::{FieldError, Problem};
use yui_domain::audit::AuditAction;
use yui_domain::ids::RoundId;
use yui_domain::program::fiscal_label_in;
use yui_domain::round::{
    self, EntryRule, MatchStatus, RoundInput, RoundMode, RoundStatus, adjustment_reason,
    check_round, seats_from_text,
};
use yui_domain::{AccountId, FiscalYear, Locale, Permission, ProgramId, ProjectId};
use yui_mail::{MailKind, MailTenant, NewMail};
use yui_match::KeyedRound;
use yui_store::{
    Account, Adjustment, AuditEntry, AuditTx, NewPair, NewRound, PairOrigin, Recipient, Round,
    RoundPair, RoundProject, StoreError, TenantTx,
};

use crate::error::PageError;
use crate::extract::{ClientIp, CsrfForm, Lang, RoundManage, RoundRead, Staff, TenantPath};
use crate::features::events::form::{Field, Form, text, today};
use crate::render::{base_context, datetime_text, render};
use crate::security::csrf_token;
use crate::{AppState, WebError};

pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    ("rds_rounds.html", include_str!("templates/rds_rounds.html")),
    ("rds_round.html", include_str!("templates/rds_round.html")),
];

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{slug}/rounds", get(list).post(create))
        .route("/t/{slug}/rounds/{round}/manage", get(page))
        .route(
            "/t/{slug}/rounds/{round}/manage/projects",
            post(set_projects),
        )
        .route("/t/{slug}/rounds/{round}/manage/invite", post(invite))
        .route("/t/{slug}/rounds/{round}/manage/status", post(move_status))
        .route("/t/{slug}/rounds/{round}/manage/solve", post(solve))
        .route("/t/{slug}/rounds/{round}/manage/adjust", post(adjust))
        .route(
            "/t/{slug}/rounds/{round}/manage/second-phase",
            post(second_phase),
        )
}

/// The most rounds the list shows.
const LIST_LIMIT: i64 = 200;
/// The most addresses one invitation form takes.
const INVITE_MAX: usize = 200;
/// The second phase's limits (the table's CHECKs): offer rounds and their length.
const OFFER_ROUNDS_MAX: u32 = 20;
const OFFER_MINUTES_MAX: u32 = 10_080;

fn may(state: &AppState, account: &Account, tenant: &TenantPath, p: Permission) -> bool {
    state.authz.check(account.id, tenant.slug(), p, state.now())
}

fn round_id(raw: &str) -> Result<RoundId, PageError> {
    raw.parse()
        .map(RoundId::new)
        .map_err(|_| WebError::NotFound.into())
}

fn status_text(state: &AppState, locale: Locale, status: RoundStatus) -> String {
    text(state, locale, &format!("rds_status_{}", status.code()))
}

fn program_title(p: &yui_store::Program, locale: Locale) -> &str {
    match locale {
        Locale::En if !p.title_en.is_empty() => &p.title_en,
        _ => &p.title_ja,
    }
}

// ---------------------------------------------------------------------------
// The list and the new round's form

#[derive(Debug, Serialize)]
struct RoundRow {
    id: i64,
    title: String,
    year: String,
    status: String,
    mode: String,
    entry: String,
    ranks_close: String,
}

/// The new round's form, prefilled from the tenant's round template and the
/// program of the current fiscal year.
fn new_input(state: &AppState, tenant: &TenantPath, programs: &[yui_store::Program]) -> RoundInput {
    let template = &tenant.record.tenant.templates.matching_round;
    let year = FiscalYear::containing(today(state));
    let program = programs
        .iter()
        .find(|p| p.fiscal_year() == year)
        .or(programs.first())
        .map(|p| p.id.get().to_string())
        .unwrap_or_default();
    RoundInput {
        program,
        mode: RoundMode::Engine.code().to_owned(),
        entry_rule: EntryRule::Members.code().to_owned(),
        talent_rank_limit: template.talent_preference_limit.to_string(),
        host_rank_limit: template.host_preference_limit.to_string(),
        ..RoundInput::default()
    }
}

fn choice_field(form: &Form<'_>, name: &'static str, codes: &[&str], chosen: &str) -> Field {
    let options = codes
        .iter()
        .map(|c| {
            (
                (*c).to_owned(),
                text(form.state, form.locale, &format!("rds_{name}_{c}")),
            )
        })
        .collect();
    form.choose(name, "radio", options, chosen, true)
}

#[allow(clippy::too_many_arguments)]
async fn render_list(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    account: &Account,
    tenant: &TenantPath,
    input: Option<&RoundInput>,
    errors: &[FieldError],
    status: StatusCode,
) -> Result<Response, PageError> {
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let rounds = tx.rounds(LIST_LIMIT).await?;
    let programs = tx.programs().await?;
    tx.commit().await?;
    let years: HashMap<ProgramId, FiscalYear> =
        programs.iter().map(|p| (p.id, p.fiscal_year())).collect();
    let rows: Vec<RoundRow> = rounds
        .iter()
        .map(|r| RoundRow {
            id: r.id.get(),
            title: r.title().get(locale).to_owned(),
            year: years
                .get(&r.program_id)
                .map(|y| fiscal_label_in(*y, locale))
                .unwrap_or_default(),
            status: status_text(state, locale, r.status()),
            mode: text(state, locale, &format!("rds_mode_{}", r.mode().code())),
            entry: format!(
                "{} – {}",
                datetime_text(locale, r.entry_opens_at),
                datetime_text(locale, r.entry_closes_at)
            ),
            ranks_close: datetime_text(locale, r.ranks_close_at),
        })
        .collect();
    let fresh = new_input(state, tenant, &programs);
    let input = input.unwrap_or(&fresh);
    let form = Form {
        state,
        locale,
        errors,
        year: None,
    };
    let program_options = programs
        .iter()
        .map(|p| {
            (
                p.id.get().to_string(),
                format!(
                    "{} {}",
                    fiscal_label_in(p.fiscal_year(), locale),
                    program_title(p, locale)
                ),
            )
        })
        .collect();
    let slug = tenant.slug();
    let (jar, csrf) = csrf_token(state, jar);
    let mut ctx = base_context(state, locale, Some(account), &format!("/t/{slug}/rounds"));
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    ctx.insert("rounds", &rows);
    ctx.insert("has_programs", &!programs.is_empty());
    ctx.insert("csrf", &csrf);
    ctx.insert(
        "can_manage",
        &may(state, account, tenant, Permission::RoundManage),
    );
    ctx.insert(
        "fields",
        &vec![
            form.choose("program", "select", program_options, &input.program, true),
            form.field("title", "text", &input.title, true),
            form.field("title_en", "text", &input.title_en, false),
            form.hint(
                choice_field(
                    &form,
                    "mode",
                    &[RoundMode::Engine.code(), RoundMode::Manual.code()],
                    &input.mode,
                ),
                "rds_hint_mode",
            ),
            form.hint(
                choice_field(
                    &form,
                    "entry_rule",
                    &[EntryRule::Members.code(), EntryRule::Invited.code()],
                    &input.entry_rule,
                ),
                "rds_hint_entry_rule",
            ),
            form.hint(
                form.field(
                    "entry_opens_at",
                    "datetime-local",
                    &input.entry_opens_at,
                    true,
                ),
                "rds_hint_tokyo",
            ),
            form.field(
                "entry_closes_at",
                "datetime-local",
                &input.entry_closes_at,
                true,
            ),
            form.hint(
                form.field(
                    "ranks_close_at",
                    "datetime-local",
                    &input.ranks_close_at,
                    true,
                ),
                "rds_hint_ranks_close_at",
            ),
            form.field(
                "talent_rank_limit",
                "number",
                &input.talent_rank_limit,
                true,
            ),
            form.field("host_rank_limit", "number", &input.host_rank_limit, true),
            form.hint(
                form.check("interim_on", input.interim_on.is_some()),
                "rds_hint_interim_on",
            ),
        ],
    );
    ctx.insert("errors", &form.summary());
    Ok((jar, render(state, "rds_rounds.html", ctx, locale, status)).into_response())
}

async fn list(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<RoundRead>,
    jar: CookieJar,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    render_list(
        &state,
        locale,
        jar,
        &staff.account,
        &staff.tenant,
        None,
        &[],
        StatusCode::OK,
    )
    .await
}

/// Creates a round in `draft` in one of the tenant's programs.
async fn create(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<RoundManage>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    CsrfForm(input): CsrfForm<RoundInput>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let refuse = |errors: Vec<FieldError>, jar| {
        let (state, staff, input) = (&state, &staff, &input);
        async move {
            render_list(
                state,
                locale,
                jar,
                &staff.account,
                &staff.tenant,
                Some(input),
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    };
    let fields = match check_round(&input, today(&state)) {
        Ok(f) => f,
        Err(errors) => return refuse(errors, jar).await,
    };
    let now = state.now();
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    // Another tenant's program id is not found in this tenant: the field's error.
    match tx.program(ProgramId::new(fields.program)).await {
        Ok(_) => {}
        Err(StoreError::NotFound) => {
            tx.rollback().await?;
            let e = vec![FieldError {
                field: "program",
                problem: Problem::InvalidChoice,
            }];
            return refuse(e, jar).await;
        }
        Err(e) => return Err(e.into()),
    }
    let new = NewRound {
        program: ProgramId::new(fields.program),
        title: &fields.title,
        mode: fields.mode,
        entry_rule: fields.entry_rule,
        dates: fields.dates,
        talent_limit: fields.talent_limit,
        host_limit: fields.host_limit,
        interim_on: fields.interim_on,
    };
    let id = tx.create_round(&new, staff.account.id, now).await?;
    audit(
        &mut tx,
        &staff.account,
        AuditAction::RoundCreated,
        serde_json::json!({ "round": id, "program": fields.program }),
        &ip,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/t/{}/rounds/{id}/manage?done=created",
        staff.tenant.slug()
    ))
    .into_response())
}

async fn audit(
    tx: &mut TenantTx,
    account: &Account,
    action: AuditAction,
    detail: serde_json::Value,
    ip: &str,
    now: DateTime<Utc>,
) -> Result<(), PageError> {
    let entry = AuditEntry {
        actor_id: Some(account.id),
        action,
        detail,
        ip: ip.to_owned(),
    };
    tx.audit(&entry, now).await?;
    Ok(())
}

// ---------------------------------------------------------------------------
// The round's page

/// Everything the round's page shows, read in one transaction.
struct Loaded {
    round: Round,
    program_label: String,
    projects: Vec<RoundProject>,
    people: Vec<Recipient>,
    pairs: Vec<RoundPair>,
    lists: yui_store::RoundLists,
    first_choices: HashMap<ProjectId, i64>,
    invited: i64,
    adjustments: Vec<yui_store::AdjustmentRecord>,
    engagements: Vec<yui_store::Engagement>,
    offers: Vec<yui_store::Offer>,
    applications: i64,
    open_projects: Vec<yui_store::Project>,
}

async fn load(
    state: &AppState,
    tenant: &TenantPath,
    id: RoundId,
    locale: Locale,
) -> Result<Loaded, PageError> {
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let round = tx.round(id).await?;
    let program = tx.program(round.program_id).await?;
    let projects = tx.round_projects(id).await?;
    let people = tx.round_people(id).await?;
    let pairs = tx.round_pairs(id).await?;
    let lists = tx.round_lists(id).await?;
    let first_choices = tx.first_choice_counts(id).await?.into_iter().collect();
    let invited = tx.invitation_count(id).await?;
    let adjustments = tx.round_adjustments(id).await?;
    let engagements = tx.engagements_of_round(id).await?;
    let (offers, applications) = tx.round_offers(id).await?;
    let open_projects = if matches!(round.status(), RoundStatus::Draft | RoundStatus::Open) {
        tx.projects()
            .await?
            .into_iter()
            .filter(|p| p.status == "open")
            .collect()
    } else {
        Vec::new()
    };
    tx.commit().await?;
    Ok(Loaded {
        program_label: format!(
            "{} {}",
            fiscal_label_in(program.fiscal_year(), locale),
            program_title(&program, locale)
        ),
        round,
        projects,
        people,
        pairs,
        lists,
        first_choices,
        invited,
        adjustments,
        engagements,
        offers,
        applications,
        open_projects,
    })
}

#[derive(Debug, Serialize)]
struct ProjectRow {
    id: i64,
    title: String,
    host: String,
    seats: String,
    in_round: bool,
    first_choices: i64,
    held: u32,
    open: u32,
    error: Option<String>,
}

#[derive(Debug, Serialize)]
struct PersonRow {
    id: i64,
    name: String,
    ranked: usize,
}

#[derive(Debug, Serialize)]
struct PairRow {
    talent: String,
    project: String,
    rank: String,
    origin: String,
    status: String,
    talent_answer: String,
    host_answer: String,
}

/// One finding of the engine's check, as one line: who, what, and why.
#[derive(Debug, Serialize)]
struct CheckRow {
    line: String,
}

impl CheckRow {
    fn new(locale: Locale, talent: &str, project: &str, detail: &str) -> CheckRow {
        let who: Vec<&str> = [talent, project]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect();
        let sep = if locale == Locale::Ja { "：" } else { ": " };
        CheckRow {
            line: format!("{}{sep}{detail}", who.join(" — ")),
        }
    }
}

#[derive(Debug, Serialize)]
struct AdjustmentRow {
    action: String,
    talent: String,
    project: String,
    reason: String,
    at: String,
}

#[derive(Debug, Serialize)]
struct Action {
    to: &'static str,
    label: String,
    warning: Option<String>,
}

#[derive(Debug, Serialize)]
struct OfferRow {
    talent: String,
    project: String,
    offer_round: i64,
    status: String,
}

/// What a failed post leaves on the page: which form, its errors and what was typed.
#[derive(Debug, Default)]
struct Kept<'a> {
    errors: Vec<FieldError>,
    /// `projects`, `invite`, `adjust`, `second_phase` or `status`.
    form: &'a str,
    seats: HashMap<i64, String>,
    invite: String,
    adjust: AdjustForm,
    second: SecondPhaseForm,
    /// A refusal that is no one field's fault, as a message key.
    problem: Option<&'static str>,
}

fn choice_rank(rank: Option<i64>, state: &AppState, locale: Locale) -> String {
    match rank {
        Some(r) => text(state, locale, "rds_choice_n").replace("{n}", &r.to_string()),
        None => text(state, locale, "rds_choice_off_list"),
    }
}

fn answer_text(state: &AppState, locale: Locale, a: Option<round::Answer>) -> String {
    let key = match a {
        Some(round::Answer::Confirmed) => "rds_answer_confirmed",
        Some(round::Answer::Declined) => "rds_answer_declined",
        None => "rds_answer_waiting",
    };
    text(state, locale, key)
}

/// The engine's view of the pairs: blocking pairs and rule violations. Under review
/// that is the current pairs; once published it is the result as published (a
/// declined pair is the person's choice, not a flaw of the result).
fn check_rows(
    state: &AppState,
    locale: Locale,
    l: &Loaded,
    names: &HashMap<AccountId, String>,
    titles: &HashMap<ProjectId, String>,
) -> (Vec<CheckRow>, Vec<CheckRow>) {
    let name = |a: &AccountId| names.get(a).cloned().unwrap_or_else(|| "—".to_owned());
    let title = |p: &ProjectId| titles.get(p).cloned().unwrap_or_else(|| "—".to_owned());
    let Ok(keyed) = KeyedRound::new(&l.lists.talents, &l.lists.projects) else {
        return (Vec::new(), Vec::new());
    };
    let reviewing = l.round.status() == RoundStatus::Closed;
    let checked: Vec<(AccountId, ProjectId)> = l
        .pairs
        .iter()
        .filter(|p| p.origin() != PairOrigin::SecondPhase)
        .filter(|p| !reviewing || p.status() != MatchStatus::Declined)
        .map(|p| (p.account_id, p.project_id))
        .collect();
    let Ok(report) = keyed.check(&checked) else {
        return (Vec::new(), Vec::new());
    };
    let blocking = report
        .blocking_pairs
        .iter()
        .map(|(t, p, tr, pr)| {
            CheckRow::new(
                locale,
                &name(t),
                &title(p),
                &text(state, locale, "rds_blocking_detail")
                    .replace("{talent_rank}", &tr.to_string())
                    .replace("{project_rank}", &pr.to_string()),
            )
        })
        .collect();
    let mut violations: Vec<CheckRow> = report
        .unacceptable
        .iter()
        .map(|(t, p, by_talent, by_project)| {
            CheckRow::new(
                locale,
                &name(t),
                &title(p),
                &text(
                    state,
                    locale,
                    match (by_talent, by_project) {
                        (false, false) => "rds_violation_unlisted_both",
                        (false, true) => "rds_violation_unlisted_talent",
                        _ => "rds_violation_unlisted_project",
                    },
                ),
            )
        })
        .collect();
    violations.extend(report.over_capacity.iter().map(|(p, seats, n)| {
        CheckRow::new(
            locale,
            "",
            &title(p),
            &text(state, locale, "rds_violation_over_capacity")
                .replace("{seats}", &seats.to_string())
                .replace("{n}", &n.to_string()),
        )
    }));
    violations.extend(report.assigned_twice.iter().map(|t| {
        CheckRow::new(
            locale,
            &name(t),
            "",
            &text(state, locale, "rds_violation_twice"),
        )
    }));
    (blocking, violations)
}

#[allow(clippy::too_many_arguments)]
async fn render_round(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    account: &Account,
    tenant: &TenantPath,
    id: RoundId,
    notice: Option<&str>,
    kept: &Kept<'_>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let l = load(state, tenant, id, locale).await?;
    let r = &l.round;
    let now = state.now();
    let form = Form {
        state,
        locale,
        errors: &kept.errors,
        year: None,
    };
    let on = |name: &str| kept.form == name;
    let names: HashMap<AccountId, String> = l
        .people
        .iter()
        .map(|p| (p.account_id, display(state, locale, &p.display_name)))
        .collect();
    let titles: HashMap<ProjectId, String> = l
        .projects
        .iter()
        .map(|p| (p.project_id, p.title.clone()))
        .collect();
    let live: Vec<&RoundPair> = l
        .pairs
        .iter()
        .filter(|p| p.status() != MatchStatus::Declined)
        .collect();
    let held = |p: ProjectId| live.iter().filter(|x| x.project_id == p).count() as u32;

    // Projects: those in the round, then (while it is set up) the tenant's open ones.
    let mut project_rows: Vec<ProjectRow> = l
        .projects
        .iter()
        .map(|p| {
            let seats = u32::try_from(p.seats).unwrap_or(0);
            ProjectRow {
                id: p.project_id.get(),
                title: p.title.clone(),
                host: p.host_name.clone(),
                seats: kept
                    .seats
                    .get(&p.project_id.get())
                    .cloned()
                    .unwrap_or_else(|| seats.to_string()),
                in_round: true,
                first_choices: l.first_choices.get(&p.project_id).copied().unwrap_or(0),
                held: held(p.project_id),
                open: seats.saturating_sub(held(p.project_id)),
                error: None,
            }
        })
        .collect();
    let in_round: HashSet<ProjectId> = l.projects.iter().map(|p| p.project_id).collect();
    project_rows.extend(
        l.open_projects
            .iter()
            .filter(|p| !in_round.contains(&p.id))
            .map(|p| ProjectRow {
                id: p.id.get(),
                title: p.title.clone(),
                host: p.host_name.clone(),
                seats: kept.seats.get(&p.id.get()).cloned().unwrap_or_default(),
                in_round: false,
                first_choices: 0,
                held: 0,
                open: 0,
                error: None,
            }),
    );
    if on("projects") {
        for row in &mut project_rows {
            if let Err(problem) = seats_from_text(&row.seats) {
                row.error = Some(form.message(&FieldError {
                    field: "seats",
                    problem,
                }));
            }
        }
    }

    let lists_of: HashMap<AccountId, usize> = l
        .lists
        .talents
        .iter()
        .map(|(t, list)| (*t, list.len()))
        .collect();
    let people: Vec<PersonRow> = l
        .people
        .iter()
        .map(|p| PersonRow {
            id: p.account_id.get(),
            name: display(state, locale, &p.display_name),
            ranked: lists_of.get(&p.account_id).copied().unwrap_or(0),
        })
        .collect();
    let project_lists = l
        .lists
        .projects
        .iter()
        .filter(|(_, _, list)| !list.is_empty())
        .count();

    let name = |a: &AccountId| names.get(a).cloned().unwrap_or_else(|| "—".to_owned());
    let title = |p: &ProjectId| titles.get(p).cloned().unwrap_or_else(|| "—".to_owned());
    let pair_rows: Vec<PairRow> = l
        .pairs
        .iter()
        .map(|p| PairRow {
            talent: name(&p.account_id),
            project: title(&p.project_id),
            rank: choice_rank(p.talent_rank, state, locale),
            origin: text(state, locale, &format!("rds_origin_{}", p.origin().code())),
            status: text(state, locale, &format!("rds_match_{}", p.status().code())),
            talent_answer: answer_text(state, locale, p.talent_answer()),
            host_answer: answer_text(state, locale, p.host_answer()),
        })
        .collect();
    let paired: HashSet<AccountId> = live.iter().map(|p| p.account_id).collect();
    let unmatched: Vec<String> = l
        .people
        .iter()
        .filter(|p| !paired.contains(&p.account_id))
        .map(|p| display(state, locale, &p.display_name))
        .collect();
    let ranks: Vec<Option<u32>> = live
        .iter()
        .map(|p| p.talent_rank.and_then(|r| u32::try_from(r).ok()))
        .collect();
    let seat_use: Vec<(u32, u32)> = l
        .projects
        .iter()
        .map(|p| (u32::try_from(p.seats).unwrap_or(0), held(p.project_id)))
        .collect();
    let summary = round::ResultSummary::of(
        &ranks,
        l.people.len() as u32,
        unmatched.len() as u32,
        &seat_use,
    );
    let reviewing = !matches!(r.status(), RoundStatus::Draft | RoundStatus::Open);
    // The second phase waits for every answer: an unanswered pair holds its seat
    // and its talent, and could no longer be answered once the phase runs.
    let answers_pending = l.pairs.iter().any(|p| p.status() == MatchStatus::Proposed);
    let (blocking, violations) = if reviewing {
        check_rows(state, locale, &l, &names, &titles)
    } else {
        (Vec::new(), Vec::new())
    };

    let can_manage = may(state, account, tenant, Permission::RoundManage);
    let solved = r.solved_at.is_some() || r.mode() == RoundMode::Manual;
    let actions: Vec<Action> = [
        RoundStatus::Open,
        RoundStatus::Closed,
        RoundStatus::Published,
        RoundStatus::Finished,
    ]
    .into_iter()
    .filter(|to| r.status().can_become(*to))
    .filter(|to| *to != RoundStatus::Published || solved)
    .map(|to| Action {
        to: to.code(),
        label: text(
            state,
            locale,
            &format!("rds_to_{}_{}", r.status().code(), to.code()),
        ),
        warning: (to == RoundStatus::Published && !blocking.is_empty())
            .then(|| text(state, locale, "rds_publish_warning")),
    })
    .collect();

    let adjustments: Vec<AdjustmentRow> = l
        .adjustments
        .iter()
        .map(|a| AdjustmentRow {
            action: text(state, locale, &format!("rds_adjust_{}", a.action)),
            talent: name(&a.account_id),
            project: title(&a.project_id),
            reason: a.reason.clone(),
            at: datetime_text(locale, a.at),
        })
        .collect();
    let engagements: Vec<String> = l
        .engagements
        .iter()
        .map(|e| {
            text(state, locale, "rds_engagement_line")
                .replace("{talent}", &name(&e.account_id))
                .replace("{project}", &title(&e.project_id))
                .replace(
                    "{status}",
                    &text(state, locale, &format!("rds_engagement_{}", e.status)),
                )
        })
        .collect();
    let offers: Vec<OfferRow> = l
        .offers
        .iter()
        .map(|o| OfferRow {
            talent: name(&o.account_id),
            project: title(&o.project_id),
            offer_round: o.offer_round,
            status: text(state, locale, &format!("rds_offer_{}", o.status)),
        })
        .collect();
    let timing = r.offer_rounds().map(|o| match o.current(now) {
        Some(n) => text(state, locale, "rds_offer_round_now")
            .replace("{n}", &n.to_string())
            .replace("{of}", &o.rounds.to_string())
            .replace("{end}", &datetime_text(locale, o.ends_at())),
        None => text(state, locale, "rds_offer_rounds_over")
            .replace("{end}", &datetime_text(locale, o.ends_at())),
    });

    let people_options: Vec<(String, String)> = l
        .people
        .iter()
        .map(|p| {
            (
                p.account_id.get().to_string(),
                display(state, locale, &p.display_name),
            )
        })
        .collect();
    let project_options: Vec<(String, String)> = l
        .projects
        .iter()
        .map(|p| (p.project_id.get().to_string(), p.title.clone()))
        .collect();
    let adjust = &kept.adjust;
    let adjust_fields = vec![
        choice_field(
            &form,
            "action",
            &["add", "remove"],
            if adjust.action.is_empty() {
                "add"
            } else {
                &adjust.action
            },
        ),
        form.choose("talent", "select", people_options, &adjust.talent, true),
        form.choose("project", "select", project_options, &adjust.project, true),
        form.hint(
            form.field("reason", "textarea", &adjust.reason, true),
            "rds_hint_reason",
        ),
    ];
    let second = &kept.second;
    let second_fields = vec![
        form.field(
            "offer_rounds",
            "number",
            if second.offer_rounds.is_empty() {
                "3"
            } else {
                &second.offer_rounds
            },
            true,
        ),
        form.hint(
            form.field(
                "offer_minutes",
                "number",
                if second.offer_minutes.is_empty() {
                    "1440"
                } else {
                    &second.offer_minutes
                },
                true,
            ),
            "rds_hint_offer_minutes",
        ),
    ];
    let invite_field = form.hint(
        form.field("emails", "textarea", &kept.invite, true),
        "rds_hint_emails",
    );

    let slug = tenant.slug();
    let (jar, csrf) = csrf_token(state, jar);
    let mut ctx = base_context(
        state,
        locale,
        Some(account),
        &format!("/t/{slug}/rounds/{id}/manage"),
    );
    ctx.insert("slug", slug);
    ctx.insert("round_id", &id.get());
    ctx.insert("title", r.title().get(locale));
    ctx.insert("program", &l.program_label);
    ctx.insert("status_code", r.status().code());
    ctx.insert("status", &status_text(state, locale, r.status()));
    ctx.insert(
        "mode",
        &text(state, locale, &format!("rds_mode_{}", r.mode().code())),
    );
    ctx.insert("manual", &(r.mode() == RoundMode::Manual));
    ctx.insert(
        "entry_rule",
        &text(
            state,
            locale,
            &format!("rds_entry_rule_{}", r.entry_rule().code()),
        ),
    );
    ctx.insert(
        "entry",
        &format!(
            "{} – {}",
            datetime_text(locale, r.entry_opens_at),
            datetime_text(locale, r.entry_closes_at)
        ),
    );
    ctx.insert("ranks_close", &datetime_text(locale, r.ranks_close_at));
    ctx.insert(
        "limits",
        &text(state, locale, "rds_limits")
            .replace("{talent}", &r.talent_limit().to_string())
            .replace("{host}", &r.host_limit().to_string()),
    );
    ctx.insert("interim_on", &r.interim_on);
    ctx.insert("can_manage", &can_manage);
    ctx.insert(
        "setting_up",
        &matches!(r.status(), RoundStatus::Draft | RoundStatus::Open),
    );
    ctx.insert("reviewing", &reviewing);
    ctx.insert(
        "can_solve",
        &(r.status() == RoundStatus::Closed && r.mode() == RoundMode::Engine),
    );
    ctx.insert("can_adjust", &(r.status() == RoundStatus::Closed));
    ctx.insert(
        "can_start_second",
        &(r.status() == RoundStatus::Published && summary.open_seats > 0 && !answers_pending),
    );
    ctx.insert(
        "answers_pending",
        &(r.status() == RoundStatus::Published && answers_pending),
    );
    ctx.insert("second_phase", &(r.status() == RoundStatus::SecondPhase));
    ctx.insert("projects", &project_rows);
    ctx.insert("people", &people);
    ctx.insert(
        "people_counts",
        &text(state, locale, "rds_people_counts")
            .replace("{entrants}", &people.len().to_string())
            .replace("{invited}", &l.invited.to_string())
            .replace("{lists}", &project_lists.to_string()),
    );
    ctx.insert("pairs", &pair_rows);
    ctx.insert("unmatched", &unmatched);
    ctx.insert("summary", &summary);
    ctx.insert("blocking", &blocking);
    ctx.insert("violations", &violations);
    ctx.insert("actions", &actions);
    ctx.insert("adjustments", &adjustments);
    ctx.insert("engagements", &engagements);
    ctx.insert("offers", &offers);
    ctx.insert(
        "applications_text",
        &text(state, locale, "rds_applications").replace("{n}", &l.applications.to_string()),
    );
    ctx.insert(
        "blocking_intro",
        &text(state, locale, "rds_blocking_intro").replace("{n}", &blocking.len().to_string()),
    );
    ctx.insert("timing", &timing);
    ctx.insert("adjust_fields", &adjust_fields);
    ctx.insert("second_fields", &second_fields);
    ctx.insert("invite_field", &invite_field);
    ctx.insert("form", kept.form);
    ctx.insert("errors", &form.summary());
    ctx.insert("problem", &kept.problem.map(|k| text(state, locale, k)));
    ctx.insert("notice", &notice.map(|k| text(state, locale, k)));
    ctx.insert("csrf", &csrf);
    Ok((jar, render(state, "rds_round.html", ctx, locale, status)).into_response())
}

/// A person's name as the coordinator sees it; a blank name says so.
fn display(state: &AppState, locale: Locale, name: &str) -> String {
    if name.trim().is_empty() {
        text(state, locale, "no_name")
    } else {
        name.to_owned()
    }
}

#[derive(Debug, Default, Deserialize)]
struct Notice {
    done: Option<String>,
}

impl Notice {
    fn key(&self) -> Option<&'static str> {
        match self.done.as_deref()? {
            "created" => Some("rds_done_created"),
            "projects" => Some("rds_done_projects"),
            "invited" => Some("rds_done_invited"),
            "moved" => Some("rds_done_moved"),
            "published" => Some("rds_done_published"),
            "solved" => Some("rds_done_solved"),
            "adjusted" => Some("rds_done_adjusted"),
            "second_phase" => Some("rds_done_second_phase"),
            _ => None,
        }
    }
}

async fn page(
    State(state): State<AppState>,
    Path((_, round)): Path<(String, String)>,
    lang: Lang,
    staff: Staff<RoundRead>,
    jar: CookieJar,
    Query(notice): Query<Notice>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let id = round_id(&round)?;
    render_round(
        &state,
        locale,
        jar,
        &staff.account,
        &staff.tenant,
        id,
        notice.key(),
        &Kept::default(),
        StatusCode::OK,
    )
    .await
}

fn done(tenant: &TenantPath, id: RoundId, what: &str) -> Response {
    Redirect::to(&format!(
        "/t/{}/rounds/{id}/manage?done={what}",
        tenant.slug()
    ))
    .into_response()
}

/// Re-renders the round's page with a refused form's errors and what was typed.
async fn refuse(
    state: &AppState,
    lang: Lang,
    staff: &Staff<RoundManage>,
    jar: CookieJar,
    id: RoundId,
    kept: Kept<'_>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    render_round(
        state,
        locale,
        jar,
        &staff.account,
        &staff.tenant,
        id,
        None,
        &kept,
        status,
    )
    .await
}

/// The round locked for a change, in `tx`; a round no longer in one of `allowed`
/// is refused with the status form's error (another coordinator moved it).
async fn locked(
    tx: &mut TenantTx,
    id: RoundId,
    allowed: &[RoundStatus],
) -> Result<Result<Round, Vec<FieldError>>, PageError> {
    let r = tx.lock_round_for_lists(id).await?;
    if allowed.contains(&r.status()) {
        Ok(Ok(r))
    } else {
        Ok(Err(vec![FieldError {
            field: "status",
            problem: Problem::InvalidChoice,
        }]))
    }
}

// ---------------------------------------------------------------------------
// Set-up: projects and seats, invitations

async fn set_projects(
    State(state): State<AppState>,
    Path((_, round)): Path<(String, String)>,
    lang: Lang,
    staff: Staff<RoundManage>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let id = round_id(&round)?;
    let typed: HashMap<i64, String> = form
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("seats_")
                .and_then(|n| n.parse::<i64>().ok())
                .map(|n| (n, v.clone()))
        })
        .collect();
    let mut errors = Vec::new();
    let mut chosen: Vec<(ProjectId, u32)> = Vec::new();
    let mut ids: Vec<&i64> = typed.keys().collect();
    ids.sort();
    for n in ids {
        match seats_from_text(&typed[n]) {
            Ok(Some(seats)) => chosen.push((ProjectId::new(*n), seats)),
            Ok(None) => {}
            Err(problem) => errors.push(FieldError {
                // The field names are fixed strings; the row shows which project.
                field: "seats",
                problem,
            }),
        }
    }
    let kept = |errors| Kept {
        errors,
        form: "projects",
        seats: typed.clone(),
        ..Kept::default()
    };
    if !errors.is_empty() {
        return refuse(
            &state,
            lang,
            &staff,
            jar,
            id,
            kept(errors),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let now = state.now();
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    if let Err(e) = locked(&mut tx, id, &[RoundStatus::Draft, RoundStatus::Open]).await? {
        tx.rollback().await?;
        return refuse(&state, lang, &staff, jar, id, kept(e), StatusCode::CONFLICT).await;
    }
    // Only the tenant's open projects (or those already in the round) may take part.
    let open: HashSet<ProjectId> = tx
        .projects()
        .await?
        .into_iter()
        .filter(|p| p.status == "open")
        .map(|p| p.id)
        .chain(
            tx.round_projects(id)
                .await?
                .into_iter()
                .map(|p| p.project_id),
        )
        .collect();
    if chosen.iter().any(|(p, _)| !open.contains(p)) {
        tx.rollback().await?;
        let e = vec![FieldError {
            field: "seats",
            problem: Problem::InvalidChoice,
        }];
        return refuse(
            &state,
            lang,
            &staff,
            jar,
            id,
            kept(e),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    tx.set_round_projects(id, &chosen).await?;
    audit(
        &mut tx,
        &staff.account,
        AuditAction::RoundEdited,
        serde_json::json!({ "round": id, "projects": chosen.iter().map(|(p, s)| (p.get(), s)).collect::<Vec<_>>() }),
        &ip,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(done(&staff.tenant, id, "projects"))
}

#[derive(Debug, Default, Deserialize)]
struct InviteForm {
    #[serde(default)]
    emails: String,
}

/// Invites the tenant's members by address, one per line; addresses that are not
/// a member of the tenant are named in the error, the others are invited.
async fn invite(
    State(state): State<AppState>,
    Path((_, round)): Path<(String, String)>,
    lang: Lang,
    staff: Staff<RoundManage>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<InviteForm>,
) -> Result<Response, PageError> {
    let id = round_id(&round)?;
    let addresses: Vec<&str> = form
        .emails
        .split(|c: char| c == '\n' || c == ',' || c == '、' || c.is_whitespace())
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .collect();
    let kept = |errors, typed: String| Kept {
        errors,
        form: "invite",
        invite: typed,
        ..Kept::default()
    };
    let problem = if addresses.is_empty() {
        Some(Problem::Required)
    } else if addresses.len() > INVITE_MAX {
        Some(Problem::TooMany { max: INVITE_MAX })
    } else {
        None
    };
    if let Some(problem) = problem {
        let e = vec![FieldError {
            field: "emails",
            problem,
        }];
        return refuse(
            &state,
            lang,
            &staff,
            jar,
            id,
            kept(e, form.emails.clone()),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let now = state.now();
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    if let Err(e) = locked(&mut tx, id, &[RoundStatus::Draft, RoundStatus::Open]).await? {
        tx.rollback().await?;
        return refuse(
            &state,
            lang,
            &staff,
            jar,
            id,
            kept(e, form.emails.clone()),
            StatusCode::CONFLICT,
        )
        .await;
    }
    let mut unknown = Vec::new();
    let mut invited = 0;
    for a in &addresses {
        match tx
            .invite_member_by_email(id, a, staff.account.id, now)
            .await?
        {
            Some(true) => invited += 1,
            Some(false) => {}
            None => unknown.push(*a),
        }
    }
    if invited > 0 {
        audit(
            &mut tx,
            &staff.account,
            AuditAction::RoundEdited,
            serde_json::json!({ "round": id, "invited": invited }),
            &ip,
            now,
        )
        .await?;
    }
    tx.commit().await?;
    if unknown.is_empty() {
        return Ok(done(&staff.tenant, id, "invited"));
    }
    // The members found are invited; the form keeps only the addresses not found.
    let e = vec![FieldError {
        field: "emails",
        problem: Problem::InvalidEmail,
    }];
    refuse(
        &state,
        lang,
        &staff,
        jar,
        id,
        kept(e, unknown.join("\n")),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

// ---------------------------------------------------------------------------
// Status: open, close, reopen, publish, finish

#[derive(Debug, Default, Deserialize)]
struct StatusForm {
    #[serde(default)]
    to: String,
}

async fn move_status(
    State(state): State<AppState>,
    Path((_, round)): Path<(String, String)>,
    lang: Lang,
    staff: Staff<RoundManage>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<StatusForm>,
) -> Result<Response, PageError> {
    let id = round_id(&round)?;
    let status_error = |problem| Kept {
        errors: vec![FieldError {
            field: "status",
            problem,
        }],
        form: "status",
        ..Kept::default()
    };
    let Some(to) = RoundStatus::parse(form.to.trim()).filter(|s| *s != RoundStatus::SecondPhase)
    else {
        return refuse(
            &state,
            lang,
            &staff,
            jar,
            id,
            status_error(Problem::InvalidChoice),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let now = state.now();
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    let r = tx.round(id).await?;
    let from = r.status();
    let ready =
        to != RoundStatus::Published || r.solved_at.is_some() || r.mode() == RoundMode::Manual;
    let has_projects = to != RoundStatus::Open || !tx.round_projects(id).await?.is_empty();
    if !from.can_become(to) || !ready || !has_projects {
        tx.rollback().await?;
        // Opening without projects is refused on the seats, where it is mended.
        let kept = if has_projects {
            status_error(Problem::InvalidChoice)
        } else {
            Kept {
                errors: vec![FieldError {
                    field: "seats",
                    problem: Problem::Required,
                }],
                form: "projects",
                ..Kept::default()
            }
        };
        return refuse(&state, lang, &staff, jar, id, kept, StatusCode::CONFLICT).await;
    }
    // The move is conditional on the status read: of two coordinators publishing at
    // once, one moves the round and sends the mails; the other is refused here.
    match tx.move_round(id, from, to, staff.account.id, now).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            tx.rollback().await?;
            return refuse(
                &state,
                lang,
                &staff,
                jar,
                id,
                status_error(Problem::InvalidChoice),
                StatusCode::CONFLICT,
            )
            .await;
        }
        Err(e) => return Err(e.into()),
    }
    if to == RoundStatus::Open {
        // Attendees of the program's field work are invited without being asked for.
        tx.invite_fieldwork_attendees(id, now).await?;
    }
    if to == RoundStatus::Published {
        publish_mails(&state, &mut tx, &staff.tenant, &r, now).await?;
    }
    audit(
        &mut tx,
        &staff.account,
        AuditAction::RoundStatusChanged,
        serde_json::json!({ "round": id, "from": from.code(), "to": to.code() }),
        &ip,
        now,
    )
    .await?;
    tx.commit().await?;
    let what = if to == RoundStatus::Published {
        "published"
    } else {
        "moved"
    };
    Ok(done(&staff.tenant, id, what))
}

/// The publication's mails, in the publishing transaction (so a round is published
/// with its mails or not at all, and never mailed twice): each matched talent, each
/// entrant left unmatched, and each member of a host with matched talents.
async fn publish_mails(
    state: &AppState,
    tx: &mut TenantTx,
    tenant: &TenantPath,
    r: &Round,
    now: DateTime<Utc>,
) -> Result<(), PageError> {
    let people = tx.round_people(r.id).await?;
    let pairs = tx.round_pairs(r.id).await?;
    let projects = tx.round_projects(r.id).await?;
    let hosts = tx.round_host_members(r.id).await?;
    let slug = tenant.slug();
    let mail_tenant = MailTenant::from_tenant(tenant.id, &tenant.record.tenant);
    let titles: HashMap<ProjectId, &str> = projects
        .iter()
        .map(|p| (p.project_id, p.title.as_str()))
        .collect();
    let live: Vec<&RoundPair> = pairs
        .iter()
        .filter(|p| p.status() != MatchStatus::Declined)
        .collect();
    let round_link = state.link(&format!("/t/{slug}/rounds/{}", r.id));
    for person in &people {
        let locale = Locale::parse(&person.locale).unwrap_or(Locale::Ja);
        let pair = live.iter().find(|p| p.account_id == person.account_id);
        let (kind, vars) = match pair {
            Some(p) => (
                MailKind::RoundMatched,
                serde_json::json!({
                    "display_name": person.display_name,
                    "round_title": r.title().get(locale),
                    "project_title": titles.get(&p.project_id).copied().unwrap_or_default(),
                    "link": round_link,
                }),
            ),
            None => (
                MailKind::RoundUnmatched,
                serde_json::json!({
                    "display_name": person.display_name,
                    "round_title": r.title().get(locale),
                    "link": round_link,
                }),
            ),
        };
        enqueue(
            state,
            tx,
            &mail_tenant,
            &person.email,
            locale,
            kind,
            vars,
            now,
        )
        .await?;
    }
    for member in &hosts {
        let count = live
            .iter()
            .filter(|p| p.project_id == member.project_id)
            .count();
        if count == 0 {
            continue;
        }
        let locale = Locale::parse(&member.locale).unwrap_or(Locale::Ja);
        let vars = serde_json::json!({
            "display_name": member.display_name,
            "round_title": r.title().get(locale),
            "project_title": titles.get(&member.project_id).copied().unwrap_or_default(),
            "count": count.to_string(),
            "link": state.link(&format!("/t/{slug}/rounds/{}/projects/{}", r.id, member.project_id)),
        });
        enqueue(
            state,
            tx,
            &mail_tenant,
            &member.email,
            locale,
            MailKind::RoundHostMatched,
            vars,
            now,
        )
        .await?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn enqueue(
    state: &AppState,
    tx: &mut TenantTx,
    tenant: &MailTenant,
    to: &str,
    locale: Locale,
    kind: MailKind,
    vars: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), PageError> {
    let mail = NewMail {
        tenant: Some(tenant.clone()),
        to: to.to_owned(),
        locale,
        kind,
        vars,
        attachment: None,
    };
    state.inner.outbox.enqueue(tx, &mail, now).await?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Solve, adjust

/// Solves a closed round with the engine: the talent-optimal stable matching
/// replaces the round's pairs (the record of adjustments stays).
async fn solve(
    State(state): State<AppState>,
    Path((_, round)): Path<(String, String)>,
    lang: Lang,
    staff: Staff<RoundManage>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    CsrfForm(_): CsrfForm<StatusForm>,
) -> Result<Response, PageError> {
    let id = round_id(&round)?;
    let now = state.now();
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    let r = match locked(&mut tx, id, &[RoundStatus::Closed]).await? {
        Ok(r) if r.mode() == RoundMode::Engine => r,
        Ok(_) | Err(_) => {
            tx.rollback().await?;
            let kept = Kept {
                errors: vec![FieldError {
                    field: "status",
                    problem: Problem::InvalidChoice,
                }],
                form: "status",
                ..Kept::default()
            };
            return refuse(&state, lang, &staff, jar, id, kept, StatusCode::CONFLICT).await;
        }
    };
    let lists = tx.round_lists(r.id).await?;
    let keyed = KeyedRound::new(&lists.talents, &lists.projects)
        .map_err(|e| WebError::Internal(format!("round {id}: {e}")))?;
    let pairs: Vec<NewPair> = keyed.solve().into_iter().map(NewPair::from).collect();
    tx.replace_result(id, &pairs, now).await?;
    audit(
        &mut tx,
        &staff.account,
        AuditAction::RoundSolved,
        serde_json::json!({ "round": id, "pairs": pairs.len() }),
        &ip,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(done(&staff.tenant, id, "solved"))
}

#[derive(Debug, Default, Clone, Deserialize)]
struct AdjustForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    talent: String,
    #[serde(default)]
    project: String,
    #[serde(default)]
    reason: String,
}

/// Adds or removes a pair by hand, with the reason recorded in the round's log and
/// the audit log. The page then shows what the engine's check makes of it.
async fn adjust(
    State(state): State<AppState>,
    Path((_, round)): Path<(String, String)>,
    lang: Lang,
    staff: Staff<RoundManage>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<AdjustForm>,
) -> Result<Response, PageError> {
    let id = round_id(&round)?;
    let kept = |errors| Kept {
        errors,
        form: "adjust",
        adjust: form.clone(),
        ..Kept::default()
    };
    let mut errors = Vec::new();
    let action = match form.action.trim() {
        "add" => Some(Adjustment::Add),
        "remove" => Some(Adjustment::Remove),
        _ => None,
    };
    if action.is_none() {
        errors.push(FieldError {
            field: "action",
            problem: Problem::InvalidChoice,
        });
    }
    let chosen = |typed: &str| match typed.trim() {
        "" => Err(Problem::Required),
        t => t.parse::<i64>().map_err(|_| Problem::InvalidChoice),
    };
    let talent = match chosen(&form.talent) {
        Ok(n) => Some(AccountId::new(n)),
        Err(problem) => {
            errors.push(FieldError {
                field: "talent",
                problem,
            });
            None
        }
    };
    let project = match chosen(&form.project) {
        Ok(n) => Some(ProjectId::new(n)),
        Err(problem) => {
            errors.push(FieldError {
                field: "project",
                problem,
            });
            None
        }
    };
    let reason = adjustment_reason(&form.reason)
        .map_err(|e| errors.push(e))
        .ok();
    let (Some(action), Some(talent), Some(project), Some(reason), true) =
        (action, talent, project, reason, errors.is_empty())
    else {
        return refuse(
            &state,
            lang,
            &staff,
            jar,
            id,
            kept(errors),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let now = state.now();
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    if let Err(e) = locked(&mut tx, id, &[RoundStatus::Closed]).await? {
        tx.rollback().await?;
        return refuse(&state, lang, &staff, jar, id, kept(e), StatusCode::CONFLICT).await;
    }
    // Only the round's entrants and projects: ids of other rounds or tenants are
    // refused on their field.
    let entrant = tx
        .round_entry(id, talent)
        .await?
        .is_some_and(|e| e.is_live());
    let in_round = tx
        .round_projects(id)
        .await?
        .iter()
        .any(|p| p.project_id == project);
    let pairs = tx.pairs_of_talent(id, talent).await?;
    let mut errors = Vec::new();
    if !entrant {
        errors.push(FieldError {
            field: "talent",
            problem: Problem::InvalidChoice,
        });
    }
    if !in_round {
        errors.push(FieldError {
            field: "project",
            problem: Problem::InvalidChoice,
        });
    }
    let live = pairs.iter().filter(|p| p.status() != MatchStatus::Declined);
    match action {
        Adjustment::Add if entrant && live.clone().count() > 0 => {
            tx.rollback().await?;
            let mut kept = kept(Vec::new());
            kept.problem = Some("rds_err_talent_paired");
            return refuse(
                &state,
                lang,
                &staff,
                jar,
                id,
                kept,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        Adjustment::Remove if in_round && !live.clone().any(|p| p.project_id == project) => errors
            .push(FieldError {
                field: "project",
                problem: Problem::InvalidChoice,
            }),
        _ => {}
    }
    if !errors.is_empty() {
        tx.rollback().await?;
        return refuse(
            &state,
            lang,
            &staff,
            jar,
            id,
            kept(errors),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    tx.adjust_pair(id, action, talent, project, &reason, staff.account.id, now)
        .await?;
    audit(
        &mut tx,
        &staff.account,
        AuditAction::RoundAdjusted,
        serde_json::json!({
            "round": id,
            "action": form.action.trim(),
            "talent": talent,
            "project": project,
            "reason": reason,
        }),
        &ip,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(done(&staff.tenant, id, "adjusted"))
}

// ---------------------------------------------------------------------------
// The second phase

#[derive(Debug, Default, Clone, Deserialize)]
struct SecondPhaseForm {
    #[serde(default)]
    offer_rounds: String,
    #[serde(default)]
    offer_minutes: String,
}

fn number_in(typed: &str, field: &'static str, max: u32) -> Result<u32, FieldError> {
    // Full-width digits, as a Japanese input method types them.
    let t: String = typed
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_digit(c as u32 - '０' as u32, 10).unwrap_or(c),
            _ => c,
        })
        .collect();
    t.parse::<u32>()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or(FieldError {
            field,
            problem: if t.is_empty() {
                Problem::Required
            } else {
                Problem::OutOfRange {
                    min: 1,
                    max: max as usize,
                }
            },
        })
}

/// Starts the second phase of a published round: its offer rounds begin now.
async fn second_phase(
    State(state): State<AppState>,
    Path((_, round)): Path<(String, String)>,
    lang: Lang,
    staff: Staff<RoundManage>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<SecondPhaseForm>,
) -> Result<Response, PageError> {
    let id = round_id(&round)?;
    let kept = |errors| Kept {
        errors,
        form: "second_phase",
        second: form.clone(),
        ..Kept::default()
    };
    let rounds = number_in(&form.offer_rounds, "offer_rounds", OFFER_ROUNDS_MAX);
    let minutes = number_in(&form.offer_minutes, "offer_minutes", OFFER_MINUTES_MAX);
    let (rounds, minutes) = match (rounds, minutes) {
        (Ok(r), Ok(m)) => (r, m),
        (r, m) => {
            let errors: Vec<FieldError> = [r.err(), m.err()].into_iter().flatten().collect();
            return refuse(
                &state,
                lang,
                &staff,
                jar,
                id,
                kept(errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let now = state.now();
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    if tx
        .round_pairs(id)
        .await?
        .iter()
        .any(|p| p.status() == MatchStatus::Proposed)
    {
        tx.rollback().await?;
        let mut kept = kept(Vec::new());
        kept.problem = Some("rds_err_answers_pending");
        return refuse(&state, lang, &staff, jar, id, kept, StatusCode::CONFLICT).await;
    }
    match tx
        .start_second_phase(id, rounds, minutes, staff.account.id, now)
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            tx.rollback().await?;
            let e = vec![FieldError {
                field: "status",
                problem: Problem::InvalidChoice,
            }];
            return refuse(&state, lang, &staff, jar, id, kept(e), StatusCode::CONFLICT).await;
        }
        Err(e) => return Err(e.into()),
    }
    audit(
        &mut tx,
        &staff.account,
        AuditAction::RoundStatusChanged,
        serde_json::json!({
            "round": id,
            "from": RoundStatus::Published.code(),
            "to": RoundStatus::SecondPhase.code(),
            "offer_rounds": rounds,
            "offer_minutes": minutes,
        }),
        &ip,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(done(&staff.tenant, id, "second_phase"))
}
