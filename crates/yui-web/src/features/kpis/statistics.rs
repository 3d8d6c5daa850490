//! Anonymous statistics across every tenant, for platform operators: people counts
//! per tenant and year, with every cell below five people suppressed (and a total
//! that would give a suppressed cell back), so no one can be singled out.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use yui_domain::kpi::{self, MIN_CELL};
use yui_domain::program::fiscal_label_in;
use yui_domain::{FiscalYear, Locale};
use yui_store::PlatformReason;

use crate::error::PageError;
use crate::extract::{Lang, Operator, TenantRead};
use crate::features::events::form::today;
use crate::render::{base_context, render};
use crate::{AppState, WebError};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/ops/statistics", get(page))
}

#[derive(Debug, Default, Deserialize)]
struct StatisticsQuery {
    fy: Option<String>,
}

#[derive(Debug, Serialize)]
struct StatRow {
    name: String,
    cells: Vec<String>,
}

/// A cell as shown: the count, or the suppression mark.
fn shown(n: Option<u64>) -> String {
    n.map_or_else(|| format!("<{MIN_CELL}"), |n| n.to_string())
}

async fn page(
    State(state): State<AppState>,
    lang: Lang,
    operator: Operator<TenantRead>,
    Query(q): Query<StatisticsQuery>,
) -> Result<Response, PageError> {
    let locale = lang.or(Locale::Ja);
    let year = match q.fy.as_deref().filter(|raw| !raw.trim().is_empty()) {
        None => FiscalYear::containing(today(&state)),
        // Not silently another year: a table under the wrong year misleads.
        Some(raw) => kpi::parse_year("fy", raw)
            .map_err(|_| WebError::BadRequest("fy: not a fiscal year".to_owned()))?,
    };
    let tenants = state.store.list_tenants().await?;
    let mut tx = state
        .store
        .platform(PlatformReason::AnonymousStatistics)
        .read()
        .await?;
    let counts = tx.people_counts(year).await?;
    tx.commit().await?;
    let raw: Vec<Vec<u64>> = counts
        .iter()
        .map(|c| vec![c.attendees, c.engaged])
        .collect();
    let (cells, totals) = kpi::suppress(&raw);
    let rows: Vec<StatRow> = counts
        .iter()
        .zip(cells)
        .map(|(c, cells)| StatRow {
            name: tenants
                .iter()
                .find(|t| t.id == c.tenant)
                .map(|t| t.tenant.name.get(locale).to_owned())
                .unwrap_or_default(),
            cells: cells.into_iter().map(shown).collect(),
        })
        .collect();
    let mut ctx = base_context(&state, locale, Some(&operator.account), "/ops/statistics");
    ctx.insert("year", &year.0);
    ctx.insert("year_label", &fiscal_label_in(year, locale));
    ctx.insert("rows", &rows);
    ctx.insert("totals", &totals.into_iter().map(shown).collect::<Vec<_>>());
    ctx.insert("min_cell", &MIN_CELL);
    Ok(render(
        &state,
        "kpi_statistics.html",
        ctx,
        locale,
        StatusCode::OK,
    ))
}
