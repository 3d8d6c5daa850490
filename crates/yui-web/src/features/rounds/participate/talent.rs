//! The round page of a talent: entry, the ranked list, the result and its answer,
//! and the second phase.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use yui_domain::round::{self, EntrantFacts, EntryRefusal, MatchStatus, RoundPhase, RoundStatus};
use yui_domain::{AccountId, Locale, Permission, ProjectId};
use yui_store::{Membership, Round, Side, StoreError, TenantTx};

use super::{
    AnswerForm, Done, Outcome, RoundView, form_map, id_of, is_staff, match_text, offer_round,
    typed_ranking, visible_round,
};
use crate::error::PageError;
use crate::extract::{CsrfForm, CsrfOnly, Lang, SignedIn, TalentMember, TenantPath};
use crate::features::events::form::text;
use crate::render::{base_context, render};
use crate::security::csrf_token;
use crate::{AppState, WebError};

#[derive(Debug, Serialize)]
struct ProjectRow {
    id: i64,
    title: String,
    host: String,
    seats: i64,
    first_choices: Option<i64>,
    field: String,
    value: String,
    error: Option<String>,
}

#[derive(Debug, Serialize)]
struct ResultView {
    pair: i64,
    project: String,
    host: String,
    status: &'static str,
    status_text: String,
    can_answer: bool,
    /// Confirmed by the talent, the host's answer still to come.
    waiting: bool,
}

#[derive(Debug, Serialize)]
struct OpenSeat {
    id: i64,
    title: String,
    host: String,
    open: i64,
    applied: bool,
}

#[derive(Debug, Serialize)]
struct OfferRow {
    id: i64,
    title: String,
    status_text: String,
    open: bool,
}

#[derive(Debug, Serialize)]
struct HostLink {
    round: i64,
    project: i64,
    title: String,
}

/// Why `account` may not enter `r`, if they may not: the round's rule, the
/// program's field-work rule, their attendance and invitation.
async fn refusal(
    tx: &mut TenantTx,
    r: &Round,
    account: AccountId,
) -> Result<Option<EntryRefusal>, StoreError> {
    let program = tx.program(r.program_id).await?;
    let attended = tx
        .fieldwork_attendees(r.program_id)
        .await?
        .contains(&account);
    let invited = tx.is_invited(r.id, account).await?;
    Ok(round::may_enter(
        r.entry_rule(),
        program.fieldwork_rule(),
        EntrantFacts {
            member: true,
            attended_fieldwork: attended,
            invited,
        },
    )
    .err())
}

fn back(tenant: &TenantPath, r: &Round, done: &str) -> Response {
    Redirect::to(&format!("/t/{}/rounds/{}?done={done}", tenant.slug(), r.id)).into_response()
}

/// What one person sees of a round: as a member of the region (`membership`), as
/// a host member (links to their projects' pages), or as staff.
#[allow(clippy::too_many_arguments)]
async fn render_round(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    account: &yui_store::Account,
    tenant: &TenantPath,
    r: &Round,
    membership: Option<&Membership>,
    notice: Option<String>,
    outcome: Outcome,
    status: StatusCode,
) -> Result<Response, PageError> {
    let now = state.now();
    let me = account.id;
    let phase = RoundPhase::at(r.status(), r.dates(), now);
    let interim = r.interim_on && phase.may_rank();
    let member = membership.is_some();
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let projects = tx.round_projects(r.id).await?;
    let counts: HashMap<ProjectId, i64> = if interim {
        tx.first_choice_counts(r.id).await?.into_iter().collect()
    } else {
        HashMap::new()
    };
    let entry = if member {
        tx.round_entry(r.id, me).await?.filter(|e| e.is_live())
    } else {
        None
    };
    let entered = entry.is_some();
    let list = if entered {
        tx.talent_preferences(r.id, me).await?
    } else {
        Vec::new()
    };
    let refused = if member && !entered {
        refusal(&mut tx, r, me).await?
    } else {
        None
    };
    let own_projects = if state
        .authz
        .check(me, tenant.slug(), Permission::ProjectWriteOwn, now)
    {
        tx.round_projects_of_member(r.id, me).await?
    } else {
        Vec::new()
    };
    let published = matches!(
        r.status(),
        RoundStatus::Published | RoundStatus::SecondPhase | RoundStatus::Finished
    );
    let pairs = if entered && published {
        tx.pairs_of_talent(r.id, me).await?
    } else {
        Vec::new()
    };
    let live_pair = pairs.iter().any(|p| p.status() != MatchStatus::Declined);
    let current = offer_round(r, now);
    let second_phase = entered && r.status() == RoundStatus::SecondPhase && !live_pair;
    let (all_pairs, applied, offers) = if second_phase {
        (
            tx.round_pairs(r.id).await?,
            tx.second_phase_applications_of(r.id, me).await?,
            tx.offers_to(r.id, me).await?,
        )
    } else {
        (Vec::new(), Vec::new(), Vec::new())
    };
    tx.commit().await?;

    let title_of = |id: ProjectId| {
        projects
            .iter()
            .find(|p| p.project_id == id)
            .map(|p| (p.title.clone(), p.host_name.clone()))
            .unwrap_or_default()
    };
    let typed = outcome.typed.as_ref();
    let rows: Vec<ProjectRow> = projects
        .iter()
        .map(|p| {
            let field = format!("rank_{}", p.project_id);
            let value = match typed {
                Some(t) => t.get(&field).cloned().unwrap_or_default(),
                None => list
                    .iter()
                    .position(|x| *x == p.project_id)
                    .map(|i| (i + 1).to_string())
                    .unwrap_or_default(),
            };
            ProjectRow {
                id: p.project_id.get(),
                title: p.title.clone(),
                host: p.host_name.clone(),
                seats: p.seats,
                first_choices: interim.then(|| counts.get(&p.project_id).copied().unwrap_or(0)),
                error: outcome
                    .errors
                    .iter()
                    .find(|e| e.field == field)
                    .map(|e| e.message.clone()),
                field,
                value,
            }
        })
        .collect();
    let result = pairs.last().map(|p| {
        let (project, host) = title_of(p.project_id);
        ResultView {
            pair: p.id,
            project,
            host,
            status: p.status().code(),
            status_text: match_text(state, locale, p.status()),
            can_answer: r.status() == RoundStatus::Published
                && p.status() == MatchStatus::Proposed
                && p.talent_answer().is_none(),
            waiting: p.status() == MatchStatus::Proposed && p.talent_answer().is_some(),
        }
    });
    let open_seats: Vec<OpenSeat> = if second_phase && current.is_some() {
        projects
            .iter()
            .filter_map(|p| {
                let held = all_pairs
                    .iter()
                    .filter(|x| x.project_id == p.project_id && x.status() != MatchStatus::Declined)
                    .count() as i64;
                let open = p.seats - held;
                (open > 0).then(|| OpenSeat {
                    id: p.project_id.get(),
                    title: p.title.clone(),
                    host: p.host_name.clone(),
                    open,
                    applied: applied.contains(&p.project_id),
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    let offer_rows: Vec<OfferRow> = offers
        .iter()
        .map(|o| {
            // An offer of an offer round that ended has expired, stored so or not.
            let open =
                o.status == "offered" && current.is_some_and(|n| i64::from(n) <= o.offer_round);
            let code = if o.status == "offered" && !open {
                "expired"
            } else {
                o.status.as_str()
            };
            OfferRow {
                id: o.id,
                title: title_of(o.project_id).0,
                status_text: text(state, locale, &format!("rdp_offer_{code}")),
                open,
            }
        })
        .collect();
    let host_links: Vec<HostLink> = own_projects
        .iter()
        .map(|id| HostLink {
            round: r.id.get(),
            project: id.get(),
            title: title_of(*id).0,
        })
        .collect();

    let slug = tenant.slug();
    let path = format!("/t/{slug}/rounds/{}", r.id);
    let (jar, csrf) = csrf_token(state, jar);
    let mut ctx = base_context(state, locale, Some(account), &path);
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    ctx.insert("round", &RoundView::new(state, locale, r, now));
    ctx.insert("projects", &rows);
    ctx.insert("interim", &interim);
    ctx.insert("member", &member);
    ctx.insert(
        "hosts_consent",
        &membership.is_some_and(|m| m.hosts_since.is_some()),
    );
    ctx.insert("entered", &entered);
    ctx.insert(
        "can_enter",
        &(member && !entered && refused.is_none() && phase.may_enter()),
    );
    ctx.insert(
        "refusal",
        &refused.map(|e| text(state, locale, &format!("rdp_refused_{}", e.code()))),
    );
    ctx.insert("can_rank", &(entered && phase.may_rank()));
    ctx.insert(
        "rank_help",
        &text(state, locale, "rdp_rank_help").replace("{n}", &r.talent_limit().to_string()),
    );
    ctx.insert("published", &(entered && published));
    ctx.insert("result", &result);
    ctx.insert("second_phase", &second_phase);
    ctx.insert("offer_round_running", &current.is_some());
    ctx.insert("open_seats", &open_seats);
    ctx.insert("offers", &offer_rows);
    ctx.insert("host_links", &host_links);
    ctx.insert("notice", &notice);
    ctx.insert("problem", &outcome.problem);
    ctx.insert("errors", &outcome.errors);
    ctx.insert("csrf", &csrf);
    Ok((jar, render(state, "rdp_round.html", ctx, locale, status)).into_response())
}

/// The round page.
pub(super) async fn page(
    State(state): State<AppState>,
    Path((_, raw)): Path<(String, String)>,
    Query(done): Query<Done>,
    lang: Lang,
    SignedIn(account): SignedIn,
    tenant: TenantPath,
    jar: CookieJar,
) -> Result<Response, PageError> {
    let locale = lang.or(account.locale());
    let r = visible_round(&state, &tenant, account.id, &raw).await?;
    let membership = {
        let mut tx = state.store.account(account.id).read().await?;
        let m = tx.membership(tenant.id).await?;
        tx.commit().await?;
        m
    };
    let member = membership
        .as_ref()
        .filter(|m| m.is_live() && !m.is_outdated(&tenant.record.tenant.consent));
    if member.is_none() && !is_staff(&state, &tenant, account.id) {
        // Neither a member nor staff: a host member of a project taking part still
        // reads the round (to find their project's page); anyone else joins first.
        let mut tx = state.store.tenant(tenant.id).read().await?;
        let hosting = !tx
            .round_projects_of_member(r.id, account.id)
            .await?
            .is_empty();
        tx.commit().await?;
        let allowed = hosting
            && state.authz.check(
                account.id,
                tenant.slug(),
                Permission::ProjectWriteOwn,
                state.now(),
            );
        if !allowed {
            let renew = if membership.as_ref().is_some_and(|m| m.is_live()) {
                "?renew=1"
            } else {
                ""
            };
            return Ok(Redirect::to(&format!("/t/{}/join{renew}", tenant.slug())).into_response());
        }
    }
    let notice = done.notice(&state, locale);
    render_round(
        &state,
        locale,
        jar,
        &account,
        &tenant,
        &r,
        member,
        notice,
        Outcome::default(),
        StatusCode::OK,
    )
    .await
}

/// Re-renders the round page for a member with what went wrong.
async fn refuse(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    member: &TalentMember,
    r: &Round,
    outcome: Outcome,
) -> Result<Response, PageError> {
    render_round(
        state,
        locale,
        jar,
        &member.account,
        &member.tenant,
        r,
        Some(&member.membership),
        None,
        outcome,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

/// Enters the round, if the talent may and entry is open.
pub(super) async fn enter(
    State(state): State<AppState>,
    Path((_, raw)): Path<(String, String)>,
    lang: Lang,
    member: TalentMember,
    jar: CookieJar,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let locale = lang.or(member.account.locale());
    let me = member.account.id;
    let r = visible_round(&state, &member.tenant, me, &raw).await?;
    let now = state.now();
    let mut tx = state.store.tenant(member.tenant.id).write().await?;
    let locked = tx.lock_round_for_lists(r.id).await?;
    let refused = if !RoundPhase::at(locked.status(), locked.dates(), now).may_enter() {
        Some("rdp_err_entry_closed".to_owned())
    } else {
        refusal(&mut tx, &locked, me)
            .await?
            .map(|e| format!("rdp_refused_{}", e.code()))
    };
    if let Some(key) = refused {
        tx.commit().await?;
        let outcome = Outcome::problem(&state, locale, &key);
        return refuse(&state, locale, jar, &member, &locked, outcome).await;
    }
    tx.enter_round(r.id, me, now).await?;
    tx.commit().await?;
    Ok(back(&member.tenant, &r, "entered"))
}

/// Leaves the round while lists are open; the talent's list goes with it.
pub(super) async fn withdraw(
    State(state): State<AppState>,
    Path((_, raw)): Path<(String, String)>,
    lang: Lang,
    member: TalentMember,
    jar: CookieJar,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let locale = lang.or(member.account.locale());
    let me = member.account.id;
    let r = visible_round(&state, &member.tenant, me, &raw).await?;
    let now = state.now();
    let mut tx = state.store.tenant(member.tenant.id).write().await?;
    let locked = tx.lock_round_for_lists(r.id).await?;
    let key = if !RoundPhase::at(locked.status(), locked.dates(), now).may_rank() {
        Some("rdp_err_ranks_closed")
    } else {
        match tx.withdraw_from_round(r.id, me, now).await {
            Ok(()) => None,
            Err(StoreError::NotFound) => Some("rdp_err_not_entered"),
            Err(e) => return Err(e.into()),
        }
    };
    tx.commit().await?;
    match key {
        Some(key) => {
            let outcome = Outcome::problem(&state, locale, key);
            refuse(&state, locale, jar, &member, &locked, outcome).await
        }
        None => Ok(back(&member.tenant, &r, "withdrawn")),
    }
}

/// Saves the talent's list from the numbers typed beside the projects.
pub(super) async fn ranking(
    State(state): State<AppState>,
    Path((_, raw)): Path<(String, String)>,
    lang: Lang,
    member: TalentMember,
    jar: CookieJar,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let locale = lang.or(member.account.locale());
    let me = member.account.id;
    let form = form_map(pairs);
    let r = visible_round(&state, &member.tenant, me, &raw).await?;
    let now = state.now();
    let mut tx = state.store.tenant(member.tenant.id).write().await?;
    let locked = tx.lock_round_for_lists(r.id).await?;
    let mut refused = None;
    if !RoundPhase::at(locked.status(), locked.dates(), now).may_rank() {
        refused = Some(Outcome::problem(&state, locale, "rdp_err_ranks_closed"));
    } else if !tx
        .lock_round_entry(r.id, me)
        .await?
        .is_some_and(|e| e.is_live())
    {
        refused = Some(Outcome::problem(&state, locale, "rdp_err_not_entered"));
    } else {
        let items: Vec<(ProjectId, i64, String)> = tx
            .round_projects(r.id)
            .await?
            .into_iter()
            .map(|p| (p.project_id, p.project_id.get(), p.title))
            .collect();
        match typed_ranking(&state, locale, &items, &form, locked.talent_limit()) {
            Ok(list) => tx.set_talent_preferences(r.id, me, &list).await?,
            Err(outcome) => refused = Some(outcome),
        }
    }
    tx.commit().await?;
    match refused {
        Some(outcome) => refuse(&state, locale, jar, &member, &locked, outcome).await,
        None => Ok(back(&member.tenant, &r, "ranked")),
    }
}

/// The talent's answer to their published match.
pub(super) async fn answer(
    State(state): State<AppState>,
    Path((_, raw)): Path<(String, String)>,
    lang: Lang,
    member: TalentMember,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<AnswerForm>,
) -> Result<Response, PageError> {
    let locale = lang.or(member.account.locale());
    let me = member.account.id;
    let r = visible_round(&state, &member.tenant, me, &raw).await?;
    let (pair, answer) = form.parse()?;
    let now = state.now();
    let mut tx = state.store.tenant(member.tenant.id).write().await?;
    let locked = tx.lock_round_for_lists(r.id).await?;
    let Some(own) = tx
        .pairs_of_talent(r.id, me)
        .await?
        .into_iter()
        .find(|p| p.id == pair)
    else {
        tx.commit().await?;
        return Err(WebError::NotFound.into());
    };
    let key = if locked.status() != RoundStatus::Published {
        Some("rdp_err_not_answerable")
    } else if own.status() != MatchStatus::Proposed || own.talent_answer().is_some() {
        Some("rdp_err_already_answered")
    } else {
        tx.answer_pair(r.id, pair, Side::Talent, answer, now)
            .await?;
        None
    };
    tx.commit().await?;
    match key {
        Some(key) => {
            let outcome = Outcome::problem(&state, locale, key);
            refuse(&state, locale, jar, &member, &locked, outcome).await
        }
        None => Ok(back(
            &member.tenant,
            &r,
            match answer {
                round::Answer::Confirmed => "confirmed",
                round::Answer::Declined => "declined",
            },
        )),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct ApplyForm {
    #[serde(default)]
    project: String,
}

/// In the second phase, a left-over entrant applies to a project with open seats.
pub(super) async fn apply(
    State(state): State<AppState>,
    Path((_, raw)): Path<(String, String)>,
    lang: Lang,
    member: TalentMember,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<ApplyForm>,
) -> Result<Response, PageError> {
    let locale = lang.or(member.account.locale());
    let me = member.account.id;
    let r = visible_round(&state, &member.tenant, me, &raw).await?;
    let project = ProjectId::new(id_of(&form.project)?);
    let now = state.now();
    let mut tx = state.store.tenant(member.tenant.id).write().await?;
    let locked = tx.lock_round_for_lists(r.id).await?;
    let Some(seats) = tx
        .round_projects(r.id)
        .await?
        .into_iter()
        .find(|p| p.project_id == project)
        .map(|p| p.seats)
    else {
        tx.commit().await?;
        return Err(WebError::NotFound.into());
    };
    let entered = tx.round_entry(r.id, me).await?.is_some_and(|e| e.is_live());
    let pairs = tx.round_pairs(r.id).await?;
    let live = |p: &&yui_store::RoundPair| p.status() != MatchStatus::Declined;
    let key = if offer_round(&locked, now).is_none() {
        Some("rdp_err_second_phase_only")
    } else if !entered || pairs.iter().filter(live).any(|p| p.account_id == me) {
        Some("rdp_err_not_left_over")
    } else if seats
        <= pairs
            .iter()
            .filter(live)
            .filter(|p| p.project_id == project)
            .count() as i64
    {
        Some("rdp_err_no_seat")
    } else {
        tx.apply_in_second_phase(r.id, me, project, now).await?;
        None
    };
    tx.commit().await?;
    match key {
        Some(key) => {
            let outcome = Outcome::problem(&state, locale, key);
            refuse(&state, locale, jar, &member, &locked, outcome).await
        }
        None => Ok(back(&member.tenant, &r, "applied")),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct OfferAnswerForm {
    #[serde(default)]
    answer: String,
}

/// The talent accepts or declines an offer made to them in the running offer round.
pub(super) async fn answer_offer(
    State(state): State<AppState>,
    Path((_, raw, offer)): Path<(String, String, String)>,
    lang: Lang,
    member: TalentMember,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<OfferAnswerForm>,
) -> Result<Response, PageError> {
    let locale = lang.or(member.account.locale());
    let me = member.account.id;
    let r = visible_round(&state, &member.tenant, me, &raw).await?;
    let offer = id_of(&offer)?;
    let accept = match form.answer.as_str() {
        "accept" => true,
        "decline" => false,
        _ => return Err(WebError::BadRequest("answer".to_owned()).into()),
    };
    let now = state.now();
    let mut tx = state.store.tenant(member.tenant.id).write().await?;
    let locked = tx.lock_round_for_lists(r.id).await?;
    let current = offer_round(&locked, now);
    if let Some(n) = current {
        tx.expire_offers(r.id, n, now).await?;
    }
    let Some(own) = tx
        .offers_to(r.id, me)
        .await?
        .into_iter()
        .find(|o| o.id == offer)
    else {
        tx.commit().await?;
        return Err(WebError::NotFound.into());
    };
    let key = if current.is_none() || own.status != "offered" {
        tx.commit().await?;
        Some("rdp_err_offer_closed")
    } else {
        match tx.answer_offer(r.id, offer, me, accept, now).await {
            Ok(_) => {
                tx.commit().await?;
                None
            }
            // Matched meanwhile (one live pair each): the failed write takes the
            // transaction with it.
            Err(StoreError::Conflict(_)) => {
                drop(tx);
                Some("rdp_err_offer_closed")
            }
            Err(e) => return Err(e.into()),
        }
    };
    match key {
        Some(key) => {
            let outcome = Outcome::problem(&state, locale, key);
            refuse(&state, locale, jar, &member, &locked, outcome).await
        }
        None => Ok(back(
            &member.tenant,
            &r,
            if accept { "accepted" } else { "offer_declined" },
        )),
    }
}
