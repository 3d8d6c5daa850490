//! The report as a page to read and print: every table with its caption and
//! headers, each part starting a new A4 sheet when printed (the print rules are in
//! the site's stylesheet), no script needed.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use yui_domain::program::fiscal_label_in;

use super::{ReportQuery, load_asked, members_of, sheets, year_field};
use crate::AppState;
use crate::error::PageError;
use crate::extract::{ClientIp, Lang, ReportRead, Staff};
use crate::features::events::form::text;
use crate::features::hosts::form::ErrorLine;
use crate::render::{base_context, date_text, render};

pub(super) async fn page(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<ReportRead>,
    ClientIp(ip): ClientIp,
    Query(q): Query<ReportQuery>,
) -> Result<Response, PageError> {
    let spec = &staff.tenant.record.tenant;
    let locale = lang.or(spec.default_locale);
    let data = match load_asked(&state, locale, &staff, &q, "html", ip).await? {
        Ok(data) => data,
        Err(page) => return Ok(page),
    };
    let year = data.year;
    let slug = staff.tenant.slug();
    let members = members_of(spec, locale);
    let parts = sheets(&state, locale, slug, spec.kind, &members, &data);

    let mut ctx = base_context(
        &state,
        locale,
        Some(&staff.account),
        &format!("/t/{slug}/kpis/report?fy={}", year.0),
    );
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", spec.name.get(locale));
    ctx.insert("year", &year.0);
    ctx.insert("year_label", &fiscal_label_in(year, locale));
    ctx.insert(
        "made_on",
        &text(&state, locale, "kpi_report_made")
            .replace("{date}", &date_text(locale, data.made_on)),
    );
    ctx.insert("errors", &Vec::<ErrorLine>::new());
    ctx.insert(
        "year_fields",
        &vec![year_field(&state, locale, &year.0.to_string(), None)],
    );
    ctx.insert("sheets", &parts);
    Ok(render(
        &state,
        "kpi_report.html",
        ctx,
        locale,
        StatusCode::OK,
    ))
}
