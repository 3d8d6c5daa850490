//! The report as CSV: one flat table of section, item, value and target, every
//! cell neutralised against formula injection by [`CsvDoc`].

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use yui_domain::fiscal::tokyo;
use yui_domain::kpi::KpiCode;
use yui_domain::program::fiscal_label_in;

use super::{ReportQuery, file_name, load_asked};
use crate::AppState;
use crate::error::PageError;
use crate::extract::{ClientIp, Lang, ReportRead, Staff};
use crate::features::events::form::text;
use crate::render::csv::CsvDoc;

/// The year's report as CSV: section, item, value, target.
pub(super) async fn csv(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<ReportRead>,
    ClientIp(ip): ClientIp,
    Query(q): Query<ReportQuery>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let data = match load_asked(&state, locale, &staff, &q, "csv", ip).await? {
        Ok(data) => data,
        Err(page) => return Ok(page),
    };
    let year = data.year;
    let (f, targets, events) = (&data.figures, &data.targets, &data.events);

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
    doc.row([
        held.clone(),
        t("kpi_report_events_columns"),
        KpiCode::Registrations.name(locale).to_owned(),
        KpiCode::Attended.name(locale).to_owned(),
    ])?;
    for e in events {
        let day = e.starts_at.with_timezone(&tokyo()).format("%Y-%m-%d");
        let kind = e.kind.map(|k| k.name(locale)).unwrap_or_default();
        doc.row([
            held.clone(),
            format!("{day} {kind} {}", e.title),
            e.registrations.to_string(),
            e.attended.to_string(),
        ])?;
    }
    let cases = t("kpi_sheet_cases");
    doc.row([
        cases.clone(),
        t("kpi_report_cases_columns"),
        t("kpi_col_host"),
        t("kpi_col_url"),
    ])?;
    let slug = staff.tenant.slug();
    for c in &data.cases {
        let day = c
            .published_at
            .map(|at| at.with_timezone(&tokyo()).format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        let (title, _) = super::pick(locale, &c.title_ja, &c.title_en);
        doc.row([
            cases.clone(),
            format!("{day} {title}"),
            c.host_name.clone(),
            state.link(&format!("/t/{slug}/cases/{}", c.id)),
        ])?;
    }
    let name = file_name(slug, year, "csv");
    Ok(doc.into_response(&name)?.into_response())
}
