//! A project's page in a round, for its host's members: their list of entrants,
//! the project's result and answer, and in the second phase its applicants and
//! offers. Nothing here reads a talent's list, nor the rank a pair was matched at.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use yui_domain::round::{self, MatchStatus, RoundPhase, RoundStatus};
use yui_domain::{AccountId, Locale, Permission, ProjectId};
use yui_store::{Account, Project, Round, Side, StoreError};

use super::{
    AnswerForm, Done, Outcome, RoundView, form_map, id_of, match_text, offer_round, typed_ranking,
    visible_round,
};
use crate::error::PageError;
use crate::extract::{CsrfForm, Lang, SignedIn, TenantPath};
use crate::features::events::form::text;
use crate::render::{base_context, datetime_text, render};
use crate::security::csrf_token;
use crate::{AppState, WebError};

/// The round and the project, when `account` is a member of the project's host with
/// the permission to act for it, the round is not a draft, and the project takes
/// part in it; 404 otherwise, whoever asks.
async fn host_project(
    state: &AppState,
    tenant: &TenantPath,
    account: AccountId,
    raw_round: &str,
    raw_project: &str,
) -> Result<(Round, Project), WebError> {
    let r = visible_round(state, tenant, account, raw_round).await?;
    let project = ProjectId::new(id_of(raw_project)?);
    if !r.status().is_public()
        || !state.authz.check(
            account,
            tenant.slug(),
            Permission::ProjectWriteOwn,
            state.now(),
        )
    {
        return Err(WebError::NotFound);
    }
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let found = tx.project(project).await?;
    let taking_part = tx
        .round_projects(r.id)
        .await?
        .iter()
        .any(|p| p.project_id == project);
    let member = match &found {
        Some(p) => tx.is_host_member(p.host_id, account).await?,
        None => false,
    };
    tx.commit().await?;
    match found {
        Some(p) if taking_part && member => Ok((r, p)),
        _ => Err(WebError::NotFound),
    }
}

#[derive(Debug, Serialize)]
struct EntrantRow {
    field: String,
    name: String,
    value: String,
    error: Option<String>,
}

#[derive(Debug, Serialize)]
struct PairRow {
    id: i64,
    name: String,
    status: &'static str,
    status_text: String,
    can_answer: bool,
    waiting: bool,
}

#[derive(Debug, Serialize)]
struct ApplicantRow {
    id: i64,
    name: String,
    offer: Option<String>,
    can_offer: bool,
}

fn back(tenant: &TenantPath, r: &Round, p: &Project, done: &str) -> Response {
    Redirect::to(&format!(
        "/t/{}/rounds/{}/projects/{}?done={done}",
        tenant.slug(),
        r.id,
        p.id
    ))
    .into_response()
}

#[allow(clippy::too_many_arguments)]
async fn render_project(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    account: &Account,
    tenant: &TenantPath,
    r: &Round,
    p: &Project,
    notice: Option<String>,
    outcome: Outcome,
    status: StatusCode,
) -> Result<Response, PageError> {
    let now = state.now();
    let phase = RoundPhase::at(r.status(), r.dates(), now);
    let current = offer_round(r, now);
    let published = matches!(
        r.status(),
        RoundStatus::Published | RoundStatus::SecondPhase | RoundStatus::Finished
    );
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let seats = tx
        .round_projects(r.id)
        .await?
        .into_iter()
        .find(|x| x.project_id == p.id)
        .map_or(0, |x| x.seats);
    let entrants = tx.entrants_for_hosts(r.id).await?;
    let live = tx.round_entries(r.id).await?.len();
    let list = tx.host_preferences(r.id, p.id).await?;
    let pairs = if published {
        tx.round_pairs(r.id).await?
    } else {
        Vec::new()
    };
    let (applicants, offers) = if r.status() == RoundStatus::SecondPhase {
        (
            tx.second_phase_applicants(r.id, p.id).await?,
            tx.offers_of_project(r.id, p.id).await?,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    tx.commit().await?;

    let names: HashMap<AccountId, &str> = entrants
        .iter()
        .map(|e| (e.account_id, e.display_name.as_str()))
        .collect();
    let hidden_name = text(state, locale, "rdp_name_hidden");
    let name_of = |id: AccountId| {
        names
            .get(&id)
            .map_or_else(|| hidden_name.clone(), |n| (*n).to_owned())
    };
    let typed = outcome.typed.as_ref();
    let rows: Vec<EntrantRow> = entrants
        .iter()
        .map(|e| {
            let field = format!("rank_{}", e.account_id);
            let value = match typed {
                Some(t) => t.get(&field).cloned().unwrap_or_default(),
                None => list
                    .iter()
                    .position(|x| *x == e.account_id)
                    .map(|i| (i + 1).to_string())
                    .unwrap_or_default(),
            };
            EntrantRow {
                error: outcome
                    .errors
                    .iter()
                    .find(|x| x.field == field)
                    .map(|x| x.message.clone()),
                field,
                name: e.display_name.clone(),
                value,
            }
        })
        .collect();
    let saved: Vec<String> = list.iter().map(|id| name_of(*id)).collect();
    let held = |x: &&yui_store::RoundPair| x.status() != MatchStatus::Declined;
    let own_pairs: Vec<PairRow> = pairs
        .iter()
        .filter(|x| x.project_id == p.id)
        .map(|x| PairRow {
            id: x.id,
            name: name_of(x.account_id),
            status: x.status().code(),
            status_text: match_text(state, locale, x.status()),
            can_answer: r.status() == RoundStatus::Published
                && x.status() == MatchStatus::Proposed
                && x.host_answer().is_none(),
            waiting: x.status() == MatchStatus::Proposed && x.host_answer().is_some(),
        })
        .collect();
    let holding = pairs
        .iter()
        .filter(held)
        .filter(|x| x.project_id == p.id)
        .count() as i64;
    let open_offers = offers
        .iter()
        .filter(|o| o.status == "offered" && current.is_some_and(|n| i64::from(n) <= o.offer_round))
        .count() as i64;
    let free = (seats - holding - open_offers).max(0);
    let applicant_rows: Vec<ApplicantRow> = applicants
        .iter()
        .map(|a| {
            let last = offers.iter().rev().find(|o| o.account_id == *a);
            let open = last.is_some_and(|o| {
                o.status == "offered" && current.is_some_and(|n| i64::from(n) <= o.offer_round)
            });
            let paired = pairs.iter().filter(held).any(|x| x.account_id == *a);
            ApplicantRow {
                id: a.get(),
                name: name_of(*a),
                offer: last.map(|o| {
                    let code = if o.status == "offered" && !open {
                        "expired"
                    } else {
                        o.status.as_str()
                    };
                    text(state, locale, &format!("rdp_offer_{code}"))
                }),
                can_offer: current.is_some() && free > 0 && !open && !paired,
            }
        })
        .collect();
    let offer_rounds = r.offer_rounds();

    let slug = tenant.slug();
    let path = format!("/t/{slug}/rounds/{}/projects/{}", r.id, p.id);
    let (jar, csrf) = csrf_token(state, jar);
    let mut ctx = base_context(state, locale, Some(account), &path);
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    ctx.insert("round", &RoundView::new(state, locale, r, now));
    ctx.insert("project_id", &p.id.get());
    ctx.insert("project_title", &p.title);
    ctx.insert("host_name", &p.host_name);
    ctx.insert("seats", &seats);
    ctx.insert("can_rank", &phase.may_rank());
    ctx.insert(
        "rank_help",
        &text(state, locale, "rdp_host_rank_help").replace("{n}", &r.host_limit().to_string()),
    );
    ctx.insert("entrants", &rows);
    ctx.insert("hidden", &(live.saturating_sub(entrants.len())));
    ctx.insert(
        "hidden_text",
        &text(state, locale, "rdp_entrants_hidden")
            .replace("{n}", &live.saturating_sub(entrants.len()).to_string()),
    );
    ctx.insert("saved", &saved);
    ctx.insert("published", &published);
    ctx.insert("pairs", &own_pairs);
    ctx.insert("second_phase", &(r.status() == RoundStatus::SecondPhase));
    ctx.insert("offer_round", &current);
    ctx.insert(
        "offer_round_text",
        &match (current, offer_rounds) {
            (Some(n), Some(o)) => text(state, locale, "rdp_offer_round_running")
                .replace("{n}", &n.to_string())
                .replace("{of}", &o.rounds.to_string())
                .replace("{at}", &datetime_text(locale, o.ends_at()))
                .replace("{free}", &free.to_string()),
            _ => String::new(),
        },
    );
    ctx.insert("applicants", &applicant_rows);
    ctx.insert("notice", &notice);
    ctx.insert("problem", &outcome.problem);
    ctx.insert("errors", &outcome.errors);
    ctx.insert("csrf", &csrf);
    Ok((jar, render(state, "rdp_project.html", ctx, locale, status)).into_response())
}

/// The project's page in the round.
pub(super) async fn page(
    State(state): State<AppState>,
    Path((_, raw_round, raw_project)): Path<(String, String, String)>,
    Query(done): Query<Done>,
    lang: Lang,
    SignedIn(account): SignedIn,
    tenant: TenantPath,
    jar: CookieJar,
) -> Result<Response, PageError> {
    let locale = lang.or(account.locale());
    let (r, p) = host_project(&state, &tenant, account.id, &raw_round, &raw_project).await?;
    let now = state.now();
    // Offers of offer rounds that ended expire as the page is read: the seats they
    // held are free again for this round's offers.
    if let Some(n) = offer_round(&r, now) {
        let mut tx = state.store.tenant(tenant.id).write().await?;
        tx.expire_offers(r.id, n, now).await?;
        tx.commit().await?;
    }
    let notice = done.notice(&state, locale);
    render_project(
        &state,
        locale,
        jar,
        &account,
        &tenant,
        &r,
        &p,
        notice,
        Outcome::default(),
        StatusCode::OK,
    )
    .await
}

/// Who is acting for which project, for the posts below.
struct Acting {
    account: Account,
    tenant: TenantPath,
    locale: Locale,
    round: Round,
    project: Project,
}

impl Acting {
    async fn load(
        state: &AppState,
        lang: Lang,
        account: Account,
        tenant: TenantPath,
        raw_round: &str,
        raw_project: &str,
    ) -> Result<Acting, WebError> {
        let locale = lang.or(account.locale());
        let (round, project) =
            host_project(state, &tenant, account.id, raw_round, raw_project).await?;
        Ok(Acting {
            account,
            tenant,
            locale,
            round,
            project,
        })
    }

    async fn refuse(
        &self,
        state: &AppState,
        jar: CookieJar,
        r: &Round,
        outcome: Outcome,
    ) -> Result<Response, PageError> {
        render_project(
            state,
            self.locale,
            jar,
            &self.account,
            &self.tenant,
            r,
            &self.project,
            None,
            outcome,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await
    }

    fn back(&self, done: &str) -> Response {
        back(&self.tenant, &self.round, &self.project, done)
    }
}

/// Saves the project's list of entrants from the numbers typed beside them.
pub(super) async fn ranking(
    State(state): State<AppState>,
    Path((_, raw_round, raw_project)): Path<(String, String, String)>,
    lang: Lang,
    SignedIn(account): SignedIn,
    tenant: TenantPath,
    jar: CookieJar,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let a = Acting::load(&state, lang, account, tenant, &raw_round, &raw_project).await?;
    let form = form_map(pairs);
    let (rid, pid) = (a.round.id, a.project.id);
    let now = state.now();
    let mut tx = state.store.tenant(a.tenant.id).write().await?;
    let locked = tx.lock_round_for_lists(rid).await?;
    let mut refused = None;
    if !RoundPhase::at(locked.status(), locked.dates(), now).may_rank() {
        refused = Some(Outcome::problem(&state, a.locale, "rdp_err_ranks_closed"));
    } else if tx.lock_round_project(rid, pid).await?.is_none() {
        tx.commit().await?;
        return Err(WebError::NotFound.into());
    } else {
        let items: Vec<(AccountId, i64, String)> = tx
            .entrants_for_hosts(rid)
            .await?
            .into_iter()
            .map(|e| (e.account_id, e.account_id.get(), e.display_name))
            .collect();
        match typed_ranking(&state, a.locale, &items, &form, locked.host_limit()) {
            Ok(list) => tx.set_host_preferences(rid, pid, &list).await?,
            Err(outcome) => refused = Some(outcome),
        }
    }
    tx.commit().await?;
    match refused {
        Some(outcome) => a.refuse(&state, jar, &locked, outcome).await,
        None => Ok(a.back("ranked")),
    }
}

/// The host's answer to a published match of the project.
pub(super) async fn answer(
    State(state): State<AppState>,
    Path((_, raw_round, raw_project)): Path<(String, String, String)>,
    lang: Lang,
    SignedIn(account): SignedIn,
    tenant: TenantPath,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<AnswerForm>,
) -> Result<Response, PageError> {
    let a = Acting::load(&state, lang, account, tenant, &raw_round, &raw_project).await?;
    let (pair, answer) = form.parse()?;
    let rid = a.round.id;
    let now = state.now();
    let mut tx = state.store.tenant(a.tenant.id).write().await?;
    let locked = tx.lock_round_for_lists(rid).await?;
    let Some(own) = tx
        .round_pairs(rid)
        .await?
        .into_iter()
        .find(|x| x.id == pair && x.project_id == a.project.id)
    else {
        tx.commit().await?;
        return Err(WebError::NotFound.into());
    };
    let key = if locked.status() != RoundStatus::Published {
        Some("rdp_err_not_answerable")
    } else if own.status() != MatchStatus::Proposed || own.host_answer().is_some() {
        Some("rdp_err_already_answered")
    } else {
        tx.answer_pair(rid, pair, Side::Host, answer, now).await?;
        None
    };
    tx.commit().await?;
    match key {
        Some(key) => {
            let outcome = Outcome::problem(&state, a.locale, key);
            a.refuse(&state, jar, &locked, outcome).await
        }
        None => Ok(a.back(match answer {
            round::Answer::Confirmed => "confirmed",
            round::Answer::Declined => "declined",
        })),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct OfferForm {
    #[serde(default)]
    talent: String,
}

/// In the running offer round, the host offers a seat to an applicant.
pub(super) async fn offer(
    State(state): State<AppState>,
    Path((_, raw_round, raw_project)): Path<(String, String, String)>,
    lang: Lang,
    SignedIn(account): SignedIn,
    tenant: TenantPath,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<OfferForm>,
) -> Result<Response, PageError> {
    let a = Acting::load(&state, lang, account, tenant, &raw_round, &raw_project).await?;
    let talent = AccountId::new(id_of(&form.talent)?);
    let (rid, pid) = (a.round.id, a.project.id);
    let now = state.now();
    let mut tx = state.store.tenant(a.tenant.id).write().await?;
    let locked = tx.lock_round_for_lists(rid).await?;
    let Some(n) = offer_round(&locked, now) else {
        tx.commit().await?;
        let outcome = Outcome::problem(&state, a.locale, "rdp_err_no_offer_round");
        return a.refuse(&state, jar, &locked, outcome).await;
    };
    tx.expire_offers(rid, n, now).await?;
    if !tx
        .second_phase_applicants(rid, pid)
        .await?
        .contains(&talent)
    {
        tx.commit().await?;
        return Err(WebError::NotFound.into());
    }
    let key = match tx.make_offer(rid, pid, talent, n, a.account.id, now).await {
        Ok(Some(_)) => {
            tx.commit().await?;
            None
        }
        Ok(None) => {
            tx.commit().await?;
            Some("rdp_err_no_seat_free")
        }
        // An open offer to them already: the failed write takes the transaction.
        Err(StoreError::Conflict(_)) => {
            drop(tx);
            Some("rdp_err_already_offered")
        }
        Err(e) => return Err(e.into()),
    };
    match key {
        Some(key) => {
            let outcome = Outcome::problem(&state, a.locale, key);
            a.refuse(&state, jar, &locked, outcome).await
        }
        None => Ok(a.back("offered")),
    }
}
