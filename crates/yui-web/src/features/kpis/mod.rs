//! Key figures (KPI) per fiscal year: the staff dashboard with its charts (plain SVG
//! drawn on the server, each with its data table), the tenant admin's forms for
//! targets and historical years, the roll-up of a prefecture's municipalities and a
//! union's breakdown by municipality, and the JSON API (`api`).

use axum::Router;
use yui_domain::kpi::Figures;
use yui_domain::{FiscalYear, Tenant, TenantId, TenantKind};
use yui_store::StoreError;

use crate::AppState;
use crate::features::events::form::today;

pub mod api;
mod chart;
mod dashboard;
mod report;
mod statistics;

pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    (
        "kpi_dashboard.html",
        include_str!("templates/kpi_dashboard.html"),
    ),
    ("kpi_chart.html", include_str!("templates/kpi_chart.html")),
    (
        "kpi_statistics.html",
        include_str!("templates/kpi_statistics.html"),
    ),
    ("kpi_report.html", include_str!("templates/kpi_report.html")),
];

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .merge(api::router())
        .merge(dashboard::router())
        .merge(report::router())
        .merge(statistics::router())
}

/// The tenant's prefecture (1–47), for the inside/outside split of residence: a
/// prefecture's or municipality's code begins with it; a union takes its members'.
pub(crate) fn home_prefecture(tenant: &Tenant) -> Option<u8> {
    let code = match tenant.kind {
        TenantKind::Union => tenant.members.first().map(|m| &m.code),
        _ => tenant.code.as_ref(),
    }?;
    code.prefecture_prefix().parse().ok()
}

/// The figures of one tenant and year as of today in Tokyo.
pub(crate) async fn figures_of(
    state: &AppState,
    id: TenantId,
    tenant: &Tenant,
    year: FiscalYear,
) -> Result<Figures, StoreError> {
    let mut tx = state.store.tenant(id).read().await?;
    let f = tx
        .kpi_figures(year, today(state), home_prefecture(tenant))
        .await?;
    tx.commit().await?;
    Ok(f)
}
