//! The fiscal-year report (成果報告) as CSV (UTF-8 with a byte-order mark, for
//! Japanese Excel): the year's figures with their targets and splits, the years
//! since the start, and the events held. Every download is written to the audit log.

use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use yui_domain::audit::AuditAction;
use yui_domain::fiscal::tokyo;
use yui_domain::kpi::{self, KpiCode};
use yui_domain::program::fiscal_label_in;
use yui_domain::{FiscalYear, Locale};
use yui_store::{AuditEntry, AuditTx};

use super::figures_of;
use crate::AppState;
use crate::WebError;
use crate::error::PageError;
use crate::extract::{ClientIp, Lang, ReportRead, Staff};
use crate::features::events::form::{text, today};
use crate::render::csv::CsvDoc;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/t/{slug}/kpis/report.csv", get(csv))
}

#[derive(Debug, Default, Deserialize)]
struct ReportQuery {
    fy: Option<String>,
}

/// The year's report as CSV: section, item, value, target.
async fn csv(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<ReportRead>,
    ClientIp(ip): ClientIp,
    Query(q): Query<ReportQuery>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let year = match q.fy.as_deref() {
        None => FiscalYear::containing(today(&state)),
        Some(raw) => kpi::parse_year("fy", raw)
            .map_err(|_| WebError::BadRequest("fy: not a fiscal year".to_owned()))?,
    };
    let f = figures_of(&state, staff.tenant.id, &staff.tenant.record.tenant, year).await?;
    let now = state.now();
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    let targets = tx.kpi_targets(year).await?;
    let events = tx.events_held(year).await?;
    let entry = AuditEntry {
        actor_id: Some(staff.account.id),
        action: AuditAction::Export,
        detail: serde_json::json!({ "report": "kpis", "fiscal_year": year.0, "format": "csv" }),
        ip,
    };
    tx.audit(&entry, now).await?;
    tx.commit().await?;

    let t = |key: &str| text(&state, locale, key);
    let mut doc = CsvDoc::new(&[
        &t("kpi_col_section"),
        &t("kpi_col_kpi"),
        &t("kpi_col_actual"),
        &t("kpi_col_target"),
    ])?;
    let label = fiscal_label_in(year, locale);
    let section = format!("{} {label}", t("kpi_summary"));
    for k in KpiCode::ALL {
        let target = targets.iter().find(|t| t.kpi == *k).map(|t| t.target);
        doc.row([
            section.clone(),
            k.name(locale).to_owned(),
            f.actual(*k).map(|v| v.to_string()).unwrap_or_default(),
            target.map(|v| v.to_string()).unwrap_or_default(),
        ])?;
    }
    let split = t("kpi_details_heading");
    for k in &f.by_event_kind {
        for (what, v) in [
            (KpiCode::Registrations, k.registrations),
            (KpiCode::Attended, k.attended),
        ] {
            doc.row([
                split.clone(),
                format!("{} {}", k.kind.name(locale), what.name(locale)),
                v.to_string(),
                String::new(),
            ])?;
        }
    }
    for (name, tally) in [
        (KpiCode::Matches.name(locale), &f.matches),
        (KpiCode::NewlyRelated.name(locale), &f.newly_related),
    ] {
        for (part, v) in [
            (t("kpi_inside"), tally.inside),
            (t("kpi_outside"), tally.outside),
            (t("kpi_unknown"), tally.unknown),
        ] {
            doc.row([
                split.clone(),
                format!("{name} {part}"),
                v.to_string(),
                String::new(),
            ])?;
        }
    }
    for (part, v) in [
        (t("kpi_kind_business"), f.matches.business),
        (t("kpi_kind_fan_community"), f.matches.fan_community),
    ] {
        let name = KpiCode::Matches.name(locale);
        doc.row([
            split.clone(),
            format!("{name} {part}"),
            v.to_string(),
            String::new(),
        ])?;
    }
    for c in &f.continuation {
        doc.row([
            t("kpi_continuation_chart"),
            t("kpi_months").replace("{n}", &c.months.to_string()),
            c.percent().map(|p| format!("{p}%")).unwrap_or_default(),
            String::new(),
        ])?;
    }
    doc.row([
        t("kpi_related_heading"),
        t("kpi_related_exchange"),
        f.attendees.total.to_string(),
        String::new(),
    ])?;
    doc.row([
        t("kpi_related_heading"),
        t("kpi_related_work"),
        f.related_work.total.to_string(),
        String::new(),
    ])?;
    let held = t("kpi_events_held");
    for e in &events {
        let day = e.starts_at.with_timezone(&tokyo()).format("%Y-%m-%d");
        let kind = e.kind.map(|k| k.name(locale)).unwrap_or_default();
        doc.row([
            held.clone(),
            format!("{day} {kind} {}", e.title),
            e.registrations.to_string(),
            e.attended.to_string(),
        ])?;
    }
    let name = match locale {
        Locale::Ja | Locale::En => format!("kpis-{}-{}.csv", staff.tenant.slug(), year.0),
    };
    Ok(doc.into_response(&name)?.into_response())
}
