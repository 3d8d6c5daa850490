//! Key figures in the JSON API, for a staff token of the tenant whose owner may read
//! them: `GET /api/v1/tenants/{slug}/kpis?fiscal_year=YYYY`. Another tenant's token,
//! a talent's or a host member's answers 404, as if the tenant did not exist.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yui_domain::kpi::{self, Figures, Tally};
use yui_domain::program::fiscal_label_in;
use yui_domain::{FiscalYear, Locale, Permission};

use crate::AppState;
use crate::error::{ApiError, ApiErrorBody};
use crate::extract::{Bearer, ClientIp};
use crate::features::events::api::ApiLocalized;
use crate::features::events::form::today;
use crate::features::hosts::api::{audit_use, token_tenant};

pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route("/api/v1/tenants/{slug}/kpis", get(kpis))
}

/// A count split by project kind (engagement figures), by the talent's residence
/// and by the host's municipality (engagement figures).
#[derive(Debug, Serialize, ToSchema)]
pub struct KpiBreakdown {
    pub total: u64,
    pub business: u64,
    pub fan_community: u64,
    /// Living in the tenant's prefecture.
    pub inside_prefecture: u64,
    pub outside_prefecture: u64,
    /// No residence given.
    pub residence_unknown: u64,
    /// Per prefecture code ("01"–"47").
    pub prefectures: BTreeMap<String, u64>,
    /// Per host municipality (local-government code).
    pub municipalities: BTreeMap<String, u64>,
}

impl From<&Tally> for KpiBreakdown {
    fn from(t: &Tally) -> Self {
        KpiBreakdown {
            total: t.total,
            business: t.business,
            fan_community: t.fan_community,
            inside_prefecture: t.inside,
            outside_prefecture: t.outside,
            residence_unknown: t.unknown,
            prefectures: t
                .prefectures
                .iter()
                .map(|(k, v)| (format!("{k:02}"), *v))
                .collect(),
            municipalities: t.municipalities.clone(),
        }
    }
}

/// Registrations and attendance of one event kind.
#[derive(Debug, Serialize, ToSchema)]
pub struct KpiEventKind {
    /// `seminar`, `lecture`, `fieldwork` or `matching_event`.
    pub kind: String,
    pub registrations: u64,
    pub attended: u64,
}

/// Continuation at N months of the engagements started in the year: those whose
/// N-month mark has passed are `eligible`; those still running or completed (not
/// ended) at the mark `continued`.
#[derive(Debug, Serialize, ToSchema)]
pub struct KpiContinuation {
    pub months: u32,
    pub eligible: u64,
    pub continued: u64,
    /// Whole percent; null with nothing eligible.
    pub percent: Option<u64>,
}

/// Related people by the national typology, each person once per type.
#[derive(Debug, Serialize, ToSchema)]
pub struct KpiRelatedPeople {
    /// 参加・交流型: distinct people who attended an event.
    pub exchange: u64,
    /// 就労型: distinct people with an engagement running in the year.
    pub work: u64,
}

/// A target entered by the tenant admin, with the year's actual value.
#[derive(Debug, Serialize, ToSchema)]
pub struct KpiTargetJson {
    pub kpi: String,
    pub target: u64,
    pub actual: Option<u64>,
}

/// A tenant's key figures for one fiscal year (April–March, Japan dates).
#[derive(Debug, Serialize, ToSchema)]
pub struct KpiFigures {
    pub fiscal_year: i32,
    /// `2025年度（令和7年度）` / `FY2025`.
    pub fiscal_year_label: ApiLocalized,
    /// Registrations not cancelled, for events of the year's program.
    pub registrations: u64,
    /// Registrations with at least one day checked in.
    pub attended: u64,
    /// Distinct people who attended.
    pub attendees: u64,
    pub round_entries: u64,
    /// Engagements started in the year.
    pub matches: u64,
    /// Distinct hosts with an engagement started in the year.
    pub hosts_engaged: u64,
    /// Since the program began: historical years entered by staff plus the platform's.
    pub cumulative_matches: u64,
    pub cumulative_hosts: u64,
    /// Distinct people whose first activity in the tenant falls in the year.
    pub newly_related: u64,
    pub related_people: KpiRelatedPeople,
    pub continuation: Vec<KpiContinuation>,
    pub by_event_kind: Vec<KpiEventKind>,
    /// Splits of each count, by KPI name.
    pub breakdown: BTreeMap<String, KpiBreakdown>,
    pub targets: Vec<KpiTargetJson>,
}

/// The figures as the API shows them.
pub(crate) fn figures_json(f: &Figures, targets: &[yui_store::KpiTarget]) -> KpiFigures {
    let breakdown = [
        ("registrations", &f.registrations),
        ("attended", &f.attended),
        ("attendees", &f.attendees),
        ("round_entries", &f.round_entries),
        ("matches", &f.matches),
        ("hosts_engaged", &f.hosts_engaged),
        ("newly_related", &f.newly_related),
        ("related_work", &f.related_work),
    ]
    .into_iter()
    .map(|(k, t)| (k.to_owned(), KpiBreakdown::from(t)))
    .collect();
    KpiFigures {
        fiscal_year: f.fiscal_year.0,
        fiscal_year_label: ApiLocalized {
            ja: fiscal_label_in(f.fiscal_year, Locale::Ja),
            en: fiscal_label_in(f.fiscal_year, Locale::En),
        },
        registrations: f.registrations.total,
        attended: f.attended.total,
        attendees: f.attendees.total,
        round_entries: f.round_entries.total,
        matches: f.matches.total,
        hosts_engaged: f.hosts_engaged.total,
        cumulative_matches: f.cumulative_matches,
        cumulative_hosts: f.cumulative_hosts,
        newly_related: f.newly_related.total,
        related_people: KpiRelatedPeople {
            exchange: f.attendees.total,
            work: f.related_work.total,
        },
        continuation: f
            .continuation
            .iter()
            .map(|c| KpiContinuation {
                months: c.months,
                eligible: c.eligible,
                continued: c.continued,
                percent: c.percent(),
            })
            .collect(),
        by_event_kind: f
            .by_event_kind
            .iter()
            .map(|k| KpiEventKind {
                kind: k.kind.code().to_owned(),
                registrations: k.registrations,
                attended: k.attended,
            })
            .collect(),
        breakdown,
        targets: targets
            .iter()
            .map(|t| KpiTargetJson {
                kpi: t.kpi.code().to_owned(),
                target: t.target,
                actual: f.actual(t.kpi),
            })
            .collect(),
    }
}

#[derive(Debug, Deserialize)]
pub struct KpiQuery {
    fiscal_year: Option<String>,
}

/// A tenant's key figures for a fiscal year.
#[utoipa::path(
    get,
    path = "/api/v1/tenants/{slug}/kpis",
    tag = "kpis",
    params(
        ("slug" = String, Path, description = "Tenant slug"),
        ("fiscal_year" = Option<i32>, Query, description = "The fiscal year by the calendar year it starts in (2025 = April 2025 to March 2026); the current one when absent")
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, body = KpiFigures),
        (status = 400, body = ApiErrorBody, description = "fiscal_year is not a year from 2000 to 2100"),
        (status = 401, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody, description = "No such tenant, not this token's tenant, or no permission to read KPIs")
    )
)]
pub async fn kpis(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<KpiQuery>,
    ClientIp(ip): ClientIp,
    Bearer(p): Bearer,
) -> Result<Response, ApiError> {
    let tenant = token_tenant(&state, &slug, &p, &[Permission::KpiRead]).await?;
    let year = match q.fiscal_year.as_deref() {
        None => FiscalYear::containing(today(&state)),
        Some(raw) => match kpi::parse_year("fiscal_year", raw) {
            Ok(y) => y,
            Err(_) => {
                let mut body = ApiErrorBody::new(
                    "invalid",
                    "fiscal_year must be a year from 2000 to 2100, e.g. 2025.",
                );
                body.fields
                    .insert("fiscal_year".to_owned(), "invalid".to_owned());
                return Ok((StatusCode::BAD_REQUEST, Json(body)).into_response());
            }
        },
    };
    let figures = super::figures_of(&state, tenant.id, &tenant.record.tenant, year).await?;
    let now = state.now();
    let mut tx = state.store.tenant(tenant.id).write().await?;
    let targets = tx.kpi_targets(year).await?;
    audit_use(&mut tx, &p, "kpis", ip, now).await?;
    tx.commit().await?;
    Ok(Json(figures_json(&figures, &targets)).into_response())
}
