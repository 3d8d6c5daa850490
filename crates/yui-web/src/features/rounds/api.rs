//! Rounds in the JSON API: the facts anyone may read of a round that is not a draft
//! (projects and seats, dates, limits, and the interim count of first choices while
//! lists are open and the coordinator turned it on — never anything else of anyone's
//! list), and for staff the round's current result in the output shape of
//! `yui match solve`. Another tenant's slug, ids or token answer 404.

use std::collections::{BTreeMap, HashMap, HashSet};

use axum::Json;
use axum::extract::{Path, State};
use axum::routing::get;
use serde::Serialize;
use utoipa::ToSchema;
use yui_domain::ids::RoundId;
use yui_domain::project::Visibility;
use yui_domain::round::{self, MatchStatus, RoundPhase};
use yui_domain::{Permission, ProjectId};
use yui_store::{Round, StoreError};

use crate::error::{ApiError, ApiErrorBody};
use crate::extract::{Bearer, ClientIp, TenantPath};
use crate::features::events::api::{ApiLocalized, rfc3339};
use crate::features::hosts::api::{audit_use, token_tenant};
use crate::{AppState, WebError};

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/v1/tenants/{slug}/rounds/{round}", get(facts))
        .route("/api/v1/tenants/{slug}/rounds/{round}/result", get(result))
}

/// A project taking part in a round.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoundProjectFacts {
    pub id: i64,
    /// The project's title and host, for public projects; absent for a project
    /// shown to the tenant's members only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    pub seats: u32,
    /// 中間公表: talents who rank the project first, while lists are open and the
    /// coordinator publishes it; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_choices: Option<u32>,
}

/// What anyone may read of a round.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoundFacts {
    pub id: i64,
    pub title: ApiLocalized,
    /// `open`, `closed`, `published`, `second_phase` or `finished`.
    pub status: String,
    /// `engine` (both sides rank) or `manual` (the coordinator pairs).
    pub mode: String,
    /// RFC 3339 in Tokyo time.
    pub entry_opens_at: String,
    pub entry_closes_at: String,
    pub ranks_close_at: String,
    /// The most projects a talent may rank, and entrants a project may rank.
    pub talent_rank_limit: u32,
    pub host_rank_limit: u32,
    /// Whether the interim count is published (while lists are open).
    pub interim: bool,
    pub projects: Vec<RoundProjectFacts>,
}

/// One pair of a result, as `yui match solve` writes it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResultAssignment {
    /// The talent's account id, as a string.
    pub talent: String,
    /// The project's id, as a string.
    pub project: String,
    /// The project's place in the talent's list; null for a pair the coordinator made
    /// off the talent's list.
    pub rank: Option<u32>,
}

/// The counts a coordinator reads first, as `yui match solve` writes them; a pair off
/// the talent's list counts in `matched` alone.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResultSummary {
    pub talents: u32,
    pub projects: u32,
    pub matched: u32,
    pub unmatched: u32,
    pub first_choice: u32,
    pub second_choice: u32,
    pub third_choice: u32,
    pub later_choice: u32,
    pub seats: u32,
    pub open_seats: u32,
}

impl From<round::ResultSummary> for ResultSummary {
    fn from(s: round::ResultSummary) -> Self {
        ResultSummary {
            talents: s.talents,
            projects: s.projects,
            matched: s.matched,
            unmatched: s.unmatched,
            first_choice: s.first_choice,
            second_choice: s.second_choice,
            third_choice: s.third_choice,
            later_choice: s.later_choice,
            seats: s.seats,
            open_seats: s.open_seats,
        }
    }
}

/// A round's current result in the output shape of `yui match solve`: assignments
/// sorted by talent id (byte order), unmatched talents sorted, open seats per project.
/// Declined pairs are not in it: their talent is unmatched and the seat open.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoundResult {
    pub assignments: Vec<ResultAssignment>,
    pub unmatched_talents: Vec<String>,
    pub open_seats: BTreeMap<String, u32>,
    pub summary: ResultSummary,
}

fn round_id(raw: &str) -> Result<RoundId, ApiError> {
    raw.parse()
        .map(RoundId::new)
        .map_err(|_| WebError::NotFound.into())
}

/// A round of `tenant`; a draft (or another tenant's id) is 404.
fn shown(round: Result<Round, StoreError>) -> Result<Round, ApiError> {
    match round {
        Ok(r) if r.status().is_public() => Ok(r),
        Ok(_) | Err(StoreError::NotFound) => Err(WebError::NotFound.into()),
        Err(e) => Err(e.into()),
    }
}

/// A round's public facts.
#[utoipa::path(
    get,
    path = "/api/v1/tenants/{slug}/rounds/{round}",
    tag = "rounds",
    params(
        ("slug" = String, Path, description = "Tenant slug"),
        ("round" = i64, Path, description = "Round id")
    ),
    responses(
        (status = 200, body = RoundFacts),
        (status = 404, body = ApiErrorBody, description = "No such tenant or round, or a draft"),
        (status = 503, body = ApiErrorBody, description = "The tenant is suspended")
    )
)]
pub async fn facts(
    State(state): State<AppState>,
    Path((slug, round)): Path<(String, String)>,
) -> Result<Json<RoundFacts>, ApiError> {
    let round = round_id(&round)?;
    let tenant = TenantPath::load(&state, &slug).await?;
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let r = shown(tx.round(round).await)?;
    let seats = tx.round_projects(round).await?;
    let phase = RoundPhase::at(r.status(), r.dates(), state.now());
    let interim = r.interim_on && phase.may_rank();
    let counts: HashMap<ProjectId, i64> = if interim {
        tx.first_choice_counts(round).await?.into_iter().collect()
    } else {
        HashMap::new()
    };
    tx.commit().await?;
    let projects = seats
        .into_iter()
        .map(|rp| {
            let public = Visibility::parse(&rp.visibility) == Some(Visibility::Public);
            RoundProjectFacts {
                id: rp.project_id.get(),
                title: public.then_some(rp.title),
                host: public.then_some(rp.host_name),
                seats: u32::try_from(rp.seats).unwrap_or(0),
                first_choices: interim.then(|| {
                    u32::try_from(counts.get(&rp.project_id).copied().unwrap_or(0)).unwrap_or(0)
                }),
            }
        })
        .collect();
    Ok(Json(RoundFacts {
        id: r.id.get(),
        title: ApiLocalized {
            ja: r.title_ja.clone(),
            en: r.title_en.clone(),
        },
        status: r.status().code().to_owned(),
        mode: r.mode().code().to_owned(),
        entry_opens_at: rfc3339(r.entry_opens_at),
        entry_closes_at: rfc3339(r.entry_closes_at),
        ranks_close_at: rfc3339(r.ranks_close_at),
        talent_rank_limit: r.talent_limit(),
        host_rank_limit: r.host_limit(),
        interim,
        projects,
    }))
}

/// The round's current result, for staff (drafts included).
#[utoipa::path(
    get,
    path = "/api/v1/tenants/{slug}/rounds/{round}/result",
    tag = "rounds",
    params(
        ("slug" = String, Path, description = "Tenant slug"),
        ("round" = i64, Path, description = "Round id")
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, body = RoundResult),
        (status = 401, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody, description = "No such tenant or round, not this token's tenant, or no permission to read rounds")
    )
)]
pub async fn result(
    State(state): State<AppState>,
    Path((slug, round)): Path<(String, String)>,
    ClientIp(ip): ClientIp,
    Bearer(p): Bearer,
) -> Result<Json<RoundResult>, ApiError> {
    let tenant = token_tenant(&state, &slug, &p, &[Permission::RoundRead]).await?;
    let round = round_id(&round)?;
    let now = state.now();
    let mut tx = state.store.tenant(tenant.id).write().await?;
    match tx.round(round).await {
        Ok(_) => {}
        Err(StoreError::NotFound) => return Err(WebError::NotFound.into()),
        Err(e) => return Err(e.into()),
    }
    let seats = tx.round_projects(round).await?;
    let entrants = tx.round_entries(round).await?;
    let pairs = tx.round_pairs(round).await?;
    audit_use(&mut tx, &p, "rounds.result", ip, now).await?;
    tx.commit().await?;

    let live: Vec<_> = pairs
        .iter()
        .filter(|p| p.status() != MatchStatus::Declined)
        .collect();
    let mut assignments: Vec<ResultAssignment> = live
        .iter()
        .map(|p| ResultAssignment {
            talent: p.account_id.get().to_string(),
            project: p.project_id.get().to_string(),
            rank: p.talent_rank.and_then(|r| u32::try_from(r).ok()),
        })
        .collect();
    assignments.sort_by(|a, b| a.talent.cmp(&b.talent));
    let paired: HashSet<i64> = live.iter().map(|p| p.account_id.get()).collect();
    let mut unmatched_talents: Vec<String> = entrants
        .iter()
        .filter(|e| !paired.contains(&e.account_id.get()))
        .map(|e| e.account_id.get().to_string())
        .collect();
    unmatched_talents.sort();
    let mut open_seats = BTreeMap::new();
    let mut held_per_project = Vec::with_capacity(seats.len());
    for rp in &seats {
        let seats = u32::try_from(rp.seats).unwrap_or(0);
        let held = live
            .iter()
            .filter(|p| p.project_id == rp.project_id)
            .count() as u32;
        open_seats.insert(rp.project_id.get().to_string(), seats.saturating_sub(held));
        held_per_project.push((seats, held));
    }
    let ranks: Vec<Option<u32>> = assignments.iter().map(|a| a.rank).collect();
    let summary = round::ResultSummary::of(
        &ranks,
        entrants.len() as u32,
        unmatched_talents.len() as u32,
        &held_per_project,
    )
    .into();
    Ok(Json(RoundResult {
        assignments,
        unmatched_talents,
        open_seats,
        summary,
    }))
}
