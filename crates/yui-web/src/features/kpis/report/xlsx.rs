//! The report as an Excel workbook: one sheet per part of the page (summary,
//! breakdown, events held, case studies), numbers as numbers and rates as
//! percentages, so that staff can sum and chart them without retyping.
//!
//! Every text goes in as a string cell (`write_string`), which Excel never runs as a
//! formula, whatever it starts with: the workbook needs no `'` in front of `=`
//! the way the CSV does.

use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use rust_xlsxwriter::{Format, FormatAlign, Url, Workbook, Worksheet, XlsxError};
use yui_domain::program::fiscal_label_in;

use super::{Cell, ReportQuery, Sheet, file_name, load_asked, members_of, sheets};
use crate::error::PageError;
use crate::extract::{ClientIp, Lang, ReportRead, Staff};
use crate::features::events::form::text;
use crate::render::date_text;
use crate::{AppState, WebError};

const CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Excel's paper size code for A4.
const A4: u8 = 9;

pub(super) async fn xlsx(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<ReportRead>,
    ClientIp(ip): ClientIp,
    Query(q): Query<ReportQuery>,
) -> Result<Response, PageError> {
    let spec = &staff.tenant.record.tenant;
    let locale = lang.or(spec.default_locale);
    let data = match load_asked(&state, locale, &staff, &q, "xlsx", ip).await? {
        Ok(data) => data,
        Err(page) => return Ok(page),
    };
    let year = data.year;
    let slug = staff.tenant.slug();
    let members = members_of(spec, locale);
    let parts = sheets(&state, locale, slug, spec.kind, &members, &data);
    let title = format!(
        "{} {} {}",
        spec.name.get(locale),
        text(&state, locale, "kpi_report_title"),
        fiscal_label_in(year, locale)
    );
    let made =
        text(&state, locale, "kpi_report_made").replace("{date}", &date_text(locale, data.made_on));
    let bytes =
        workbook(&title, &made, &parts).map_err(|e| WebError::Internal(format!("xlsx: {e}")))?;

    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    let disposition = format!("attachment; filename=\"{}\"", file_name(slug, year, "xlsx"));
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition)
            .map_err(|e| WebError::Internal(format!("xlsx name: {e}")))?,
    );
    // Unpublished figures: never kept by a shared cache.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// The workbook's bytes: each sheet headed by the report's title and date, then
/// its tables one under another, each with its caption and column headers.
fn workbook(title: &str, made: &str, parts: &[Sheet]) -> Result<Vec<u8>, XlsxError> {
    let heading = Format::new().set_bold().set_font_size(14);
    let bold = Format::new().set_bold();
    let header = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Top);
    let formats = Formats {
        percent: Format::new().set_num_format("0%"),
        wrap: Format::new().set_text_wrap().set_align(FormatAlign::Top),
    };
    let mut book = Workbook::new();
    for part in parts {
        let ws = book.add_worksheet();
        ws.set_name(&part.title)?;
        ws.set_paper_size(A4);
        ws.set_portrait();
        // As wide as one page, as long as it takes.
        ws.set_print_fit_to_pages(1, 0);
        ws.write_string_with_format(0, 0, title, &heading)?;
        ws.write_string(1, 0, made)?;
        let mut r: u32 = 3;
        let mut columns: u16 = 1;
        for table in &part.tables {
            ws.write_string_with_format(r, 0, &table.caption, &bold)?;
            r += 1;
            if table.rows.is_empty() {
                ws.write_string(r, 0, table.empty.as_deref().unwrap_or_default())?;
                r += 2;
                continue;
            }
            for (c, name) in (0u16..).zip(&table.columns) {
                ws.write_string_with_format(r, c, name, &header)?;
                columns = columns.max(c + 1);
            }
            r += 1;
            for row in &table.rows {
                write_cell(ws, r, 0, &row.head, &formats)?;
                for (c, cell) in (1u16..).zip(&row.cells) {
                    write_cell(ws, r, c, cell, &formats)?;
                }
                r += 1;
            }
            r += 1;
        }
        ws.set_column_width(0, 36)?;
        for c in 1..columns {
            ws.set_column_width(c, 18)?;
        }
    }
    book.save_to_buffer()
}

struct Formats {
    percent: Format,
    wrap: Format,
}

fn write_cell(
    ws: &mut Worksheet,
    r: u32,
    c: u16,
    cell: &Cell,
    f: &Formats,
) -> Result<(), XlsxError> {
    match (cell.value, &cell.href) {
        (Some(v), _) if cell.percent => ws.write_number_with_format(r, c, v, &f.percent)?,
        (Some(v), _) => ws.write_number(r, c, v)?,
        (None, Some(href)) if *href == cell.text => ws.write_url(r, c, Url::new(href.as_str()))?,
        (None, Some(href)) => {
            ws.write_url_with_text(r, c, Url::new(href.as_str()), cell.text.as_str())?
        }
        (None, None) if cell.text.chars().count() > 40 => {
            ws.write_string_with_format(r, c, cell.text.as_str(), &f.wrap)?
        }
        (None, None) => ws.write_string(r, c, cell.text.as_str())?,
    };
    Ok(())
}
