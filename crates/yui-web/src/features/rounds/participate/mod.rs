//! The pages talents and host members use in a matching round: the round page
//! (entry, the talent's ranked list, their result and answer, and in the second
//! phase the projects with open seats and the offers made to them), and a project's
//! page for its host's members (their list of entrants after the 面談, the
//! project's result and answer, and in the second phase its applicants and offers).
//!
//! Each side reads its own list and never the other side's: the talent page names
//! no host's rank, the host page no talent's (not even the rank a pair was matched
//! at). Lists change only while the round takes them, decided again in the writing
//! transaction after [`yui_store::TenantTx::lock_round_for_lists`].

mod host;
mod talent;

use std::collections::HashMap;

use axum::Router;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use yui_domain::account::Problem;
use yui_domain::ids::RoundId;
use yui_domain::round::{self, RankingProblem, RoundPhase, RoundStatus};
use yui_domain::{AccountId, Locale, Permission};
use yui_store::{Round, StoreError};

use crate::extract::TenantPath;
use crate::features::events::form::text;
use crate::render::{datetime_text, labelled_message};
use crate::{AppState, WebError};

pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    (
        "rdp_round.html",
        include_str!("../templates/rdp_round.html"),
    ),
    (
        "rdp_project.html",
        include_str!("../templates/rdp_project.html"),
    ),
    (
        "rdp_dates.html",
        include_str!("../templates/rdp_dates.html"),
    ),
];

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{slug}/rounds/{round}", get(talent::page))
        .route("/t/{slug}/rounds/{round}/enter", post(talent::enter))
        .route("/t/{slug}/rounds/{round}/withdraw", post(talent::withdraw))
        .route("/t/{slug}/rounds/{round}/ranking", post(talent::ranking))
        .route("/t/{slug}/rounds/{round}/answer", post(talent::answer))
        .route("/t/{slug}/rounds/{round}/apply", post(talent::apply))
        .route(
            "/t/{slug}/rounds/{round}/offers/{offer}",
            post(talent::answer_offer),
        )
        .route(
            "/t/{slug}/rounds/{round}/projects/{project}",
            get(host::page),
        )
        .route(
            "/t/{slug}/rounds/{round}/projects/{project}/ranking",
            post(host::ranking),
        )
        .route(
            "/t/{slug}/rounds/{round}/projects/{project}/answer",
            post(host::answer),
        )
        .route(
            "/t/{slug}/rounds/{round}/projects/{project}/offer",
            post(host::offer),
        )
}

/// An id in a path or form; anything but a number is no such thing (404).
pub(super) fn id_of(raw: &str) -> Result<i64, WebError> {
    raw.trim().parse().map_err(|_| WebError::NotFound)
}

/// The round `raw` of the path's tenant as `account` may see it: a draft is the
/// staff's alone, another tenant's id is no round at all.
pub(super) async fn visible_round(
    state: &AppState,
    tenant: &TenantPath,
    account: AccountId,
    raw: &str,
) -> Result<Round, WebError> {
    let id = RoundId::new(id_of(raw)?);
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let found = tx.round(id).await;
    tx.commit().await?;
    match found {
        Ok(r) if r.status().is_public() || is_staff(state, tenant, account) => Ok(r),
        Ok(_) | Err(StoreError::NotFound) => Err(WebError::NotFound),
        Err(e) => Err(e.into()),
    }
}

pub(super) fn is_staff(state: &AppState, tenant: &TenantPath, account: AccountId) -> bool {
    state
        .authz
        .check(account, tenant.slug(), Permission::RoundRead, state.now())
}

/// A one-button form's `answer` to a published match.
#[derive(Debug, Deserialize)]
pub(super) struct AnswerForm {
    #[serde(default)]
    pub pair: String,
    #[serde(default)]
    pub answer: String,
}

impl AnswerForm {
    /// The pair and the answer; anything else was not sent by our page.
    pub(super) fn parse(&self) -> Result<(i64, round::Answer), WebError> {
        let answer = match self.answer.as_str() {
            "confirmed" => round::Answer::Confirmed,
            "declined" => round::Answer::Declined,
            _ => return Err(WebError::BadRequest("answer".to_owned())),
        };
        Ok((id_of(&self.pair)?, answer))
    }
}

/// `?done=` after a change: which notice the page shows.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Done {
    pub done: Option<String>,
}

impl Done {
    pub(super) fn notice(&self, state: &AppState, locale: Locale) -> Option<String> {
        let code = self.done.as_deref()?;
        const KNOWN: &[&str] = &[
            "entered",
            "withdrawn",
            "ranked",
            "confirmed",
            "declined",
            "applied",
            "accepted",
            "offer_declined",
            "offered",
        ];
        KNOWN
            .contains(&code)
            .then(|| text(state, locale, &format!("rdp_done_{code}")))
    }
}

/// A field error of a ranking form, whose field names are made of ids.
#[derive(Debug, Clone, Serialize)]
pub(super) struct RankError {
    pub field: String,
    pub message: String,
}

/// The page's notice, refusal and field errors after a post.
#[derive(Debug, Default)]
pub(super) struct Outcome {
    pub problem: Option<String>,
    pub errors: Vec<RankError>,
    /// What was typed into the ranking form, by field name, shown again.
    pub typed: Option<HashMap<String, String>>,
}

impl Outcome {
    pub(super) fn problem(state: &AppState, locale: Locale, key: &str) -> Outcome {
        Outcome {
            problem: Some(text(state, locale, key)),
            ..Outcome::default()
        }
    }
}

/// The ranked list typed beside `items` (field `rank_<id>`, labelled `label`),
/// checked against the side's `limit`: most preferred first, or the errors naming
/// the item's field.
pub(super) fn typed_ranking<T: Copy + Eq + std::hash::Hash>(
    state: &AppState,
    locale: Locale,
    items: &[(T, i64, String)],
    form: &HashMap<String, String>,
    limit: u32,
) -> Result<Vec<T>, Outcome> {
    let field = |id: i64| format!("rank_{id}");
    let typed: Vec<(T, &str)> = items
        .iter()
        .map(|(item, id, _)| {
            (
                *item,
                form.get(&field(*id)).map(String::as_str).unwrap_or(""),
            )
        })
        .collect();
    let label_of = |item: T| {
        items
            .iter()
            .find(|(i, _, _)| *i == item)
            .map(|(_, id, label)| (field(*id), label.clone()))
            .unwrap_or_default()
    };
    let kept = || {
        Some(
            items
                .iter()
                .map(|(_, id, _)| {
                    let f = field(*id);
                    let v = form.get(&f).cloned().unwrap_or_default();
                    (f, crate::render::echo(v))
                })
                .collect(),
        )
    };
    let list = match round::ranking_from_numbers(&typed) {
        Ok(list) => list,
        Err((item, problem)) => {
            let (f, label) = label_of(item);
            let problem = match problem {
                // Two fields with one number: say which, in words a person uses.
                Problem::Taken => {
                    return Err(Outcome {
                        errors: vec![RankError {
                            field: f,
                            message: format!(
                                "{label}{}{}",
                                sep(locale),
                                text(state, locale, "rdp_err_same_number")
                            ),
                        }],
                        typed: kept(),
                        ..Outcome::default()
                    });
                }
                other => other,
            };
            return Err(Outcome {
                errors: vec![RankError {
                    field: f,
                    message: labelled_message(state, locale, &label, problem),
                }],
                typed: kept(),
                ..Outcome::default()
            });
        }
    };
    let in_round = items.iter().map(|(i, _, _)| *i).collect();
    match round::check_ranking(&list, &in_round, limit) {
        Ok(()) => Ok(list),
        Err(RankingProblem::TooMany { max }) => Err(Outcome {
            problem: Some(text(state, locale, "rdp_err_too_many").replace("{n}", &max.to_string())),
            typed: kept(),
            ..Outcome::default()
        }),
        // The items are the round's own: neither can happen from this form.
        Err(RankingProblem::Twice(_) | RankingProblem::NotInRound(_)) => {
            Err(Outcome::problem(state, locale, "rdp_err_list"))
        }
    }
}

fn sep(locale: Locale) -> &'static str {
    if locale == Locale::Ja { "：" } else { ": " }
}

/// A ranking form's fields as posted, by name (the CSRF token among them).
pub(super) fn form_map(pairs: Vec<(String, String)>) -> HashMap<String, String> {
    pairs.into_iter().collect()
}

/// The round's dates and where it stands, as both pages show them.
#[derive(Debug, Serialize)]
pub(super) struct RoundView {
    pub id: i64,
    pub title: String,
    pub status: &'static str,
    pub status_text: String,
    pub stage: String,
    pub entry_opens: String,
    pub entry_closes: String,
    pub ranks_close: String,
}

impl RoundView {
    pub(super) fn new(
        state: &AppState,
        locale: Locale,
        r: &Round,
        now: DateTime<Utc>,
    ) -> RoundView {
        let phase = RoundPhase::at(r.status(), r.dates(), now);
        let at = |t| datetime_text(locale, t);
        let stage = match (r.status(), phase) {
            (RoundStatus::Draft, _) => text(state, locale, "rdp_stage_draft"),
            (RoundStatus::Open, RoundPhase::NotYet) => {
                text(state, locale, "rdp_stage_not_yet").replace("{at}", &at(r.entry_opens_at))
            }
            (RoundStatus::Open, RoundPhase::Entry) => {
                text(state, locale, "rdp_stage_entry").replace("{at}", &at(r.entry_closes_at))
            }
            (RoundStatus::Open, RoundPhase::Ranking) => {
                text(state, locale, "rdp_stage_ranking").replace("{at}", &at(r.ranks_close_at))
            }
            (RoundStatus::Open | RoundStatus::Closed, _) => text(state, locale, "rdp_stage_closed"),
            (RoundStatus::Published, _) => text(state, locale, "rdp_stage_published"),
            (RoundStatus::SecondPhase, _) => text(state, locale, "rdp_stage_second_phase"),
            (RoundStatus::Finished, _) => text(state, locale, "rdp_stage_finished"),
        };
        RoundView {
            id: r.id.get(),
            title: r.title().get(locale).to_owned(),
            status: r.status().code(),
            status_text: text(state, locale, &format!("rdp_status_{}", r.status().code())),
            stage,
            entry_opens: at(r.entry_opens_at),
            entry_closes: at(r.entry_closes_at),
            ranks_close: at(r.ranks_close_at),
        }
    }
}

/// The second phase's current offer round (1 = first) and when the phase ends.
pub(super) fn offer_round(r: &Round, now: DateTime<Utc>) -> Option<u32> {
    if r.status() != RoundStatus::SecondPhase {
        return None;
    }
    r.offer_rounds()?.current(now)
}

/// Text for a match's status.
pub(super) fn match_text(state: &AppState, locale: Locale, status: round::MatchStatus) -> String {
    text(state, locale, &format!("rdp_match_{}", status.code()))
}

/// A link to a project's page in a round, for the host dashboard.
#[derive(Debug, Serialize)]
pub(crate) struct RoundLink {
    pub round: i64,
    pub project: i64,
    pub title: String,
}

/// The rounds in which projects of `account`'s hosts take part, as links to each
/// project's page there: how a host member finds the pages where they rank.
pub(crate) async fn host_round_links(
    state: &AppState,
    tx: &mut yui_store::TenantTx,
    account: &yui_store::Account,
    slug: &str,
    locale: Locale,
) -> Result<Vec<RoundLink>, StoreError> {
    if !state
        .authz
        .check(account.id, slug, Permission::ProjectWriteOwn, state.now())
    {
        return Ok(Vec::new());
    }
    Ok(tx
        .rounds_of_host_member(account.id)
        .await?
        .into_iter()
        .map(|r| {
            let round = match locale {
                Locale::Ja => r.title_ja,
                Locale::En => r.title_en,
            };
            RoundLink {
                round: r.round_id.get(),
                project: r.project_id.get(),
                title: text(state, locale, "rdp_host_round_link")
                    .replace("{round}", &round)
                    .replace("{project}", &r.project_title),
            }
        })
        .collect())
}
