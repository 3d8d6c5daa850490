//! The fiscal-year report (成果報告) of a tenant, for those who read reports (tenant
//! admins, municipal staff): a printable page, a CSV (UTF-8 with a byte-order mark,
//! for Japanese Excel) and an Excel workbook, each with the year's figures and their
//! splits, the targets, the years since the start, the events held and the case
//! studies published. Every one of them — the page included, since it shows the
//! same numbers — is written to the audit log as an export.
//!
//! The page and the workbook are drawn from one model ([`Sheet`]s of [`Table`]s),
//! so what is printed and what is opened in Excel cannot drift apart. The CSV keeps
//! its own flat layout (section, item, value, target), which tools already read.

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use yui_domain::account::FieldError;
use yui_domain::audit::AuditAction;
use yui_domain::fiscal::tokyo;
use yui_domain::kpi::{self, Figures, History, KpiCode, Tally, matches_per_year};
use yui_domain::program::fiscal_label_in;
use yui_domain::talent::Prefecture;
use yui_domain::{FiscalYear, Locale, TenantKind};
use yui_store::{AuditEntry, AuditTx, CaseStudy, EventHeld, KpiTarget};

use super::figures_of;
use crate::AppState;
use crate::error::PageError;
use crate::extract::{ReportRead, Staff};
use crate::features::events::form::{Field, text, today};
use crate::features::hosts::form::{ErrorLine, keep};
use crate::render::{base_context, date_text, labelled_message, render};

mod csv;
mod page;
mod xlsx;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{slug}/kpis/report.csv", get(csv::csv))
        .route("/t/{slug}/kpis/report", get(page::page))
        .route("/t/{slug}/kpis/report.xlsx", get(xlsx::xlsx))
}

#[derive(Debug, Default, Deserialize)]
struct ReportQuery {
    fy: Option<String>,
}

impl ReportQuery {
    /// The year asked for (this year when none is), or the field's error.
    fn year(&self, state: &AppState) -> Result<FiscalYear, FieldError> {
        match self.fy.as_deref() {
            None => Ok(FiscalYear::containing(today(state))),
            Some(raw) => kpi::parse_year("fy", raw),
        }
    }
}

/// Everything one report shows, read in one go.
struct ReportData {
    year: FiscalYear,
    figures: Figures,
    targets: Vec<KpiTarget>,
    history: Vec<History>,
    starts: Vec<(NaiveDate, u64)>,
    events: Vec<EventHeld>,
    cases: Vec<CaseStudy>,
    /// The day the report was made (Tokyo).
    made_on: NaiveDate,
}

/// Reads the year's report and records its export as `format` in the audit log, in
/// the same transaction: no report leaves without its audit row.
/// The report's data for the year the query names, loaded and audited as an
/// export in `format`; or, when the query names no year, the page that says so
/// (answered as it is, whatever format was asked for).
async fn load_asked(
    state: &AppState,
    locale: Locale,
    staff: &Staff<ReportRead>,
    q: &ReportQuery,
    format: &str,
    ip: String,
) -> Result<Result<ReportData, Response>, PageError> {
    match q.year(state) {
        Ok(year) => Ok(Ok(load(state, staff, year, format, ip).await?)),
        Err(e) => {
            let raw = q.fy.as_deref().unwrap_or_default();
            Ok(Err(bad_year(state, locale, staff, raw, &e)))
        }
    }
}

async fn load(
    state: &AppState,
    staff: &Staff<ReportRead>,
    year: FiscalYear,
    format: &str,
    ip: String,
) -> Result<ReportData, PageError> {
    let figures = figures_of(state, staff.tenant.id, &staff.tenant.record.tenant, year).await?;
    let now = state.now();
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    let targets = tx.kpi_targets(year).await?;
    let history = tx.kpi_history().await?;
    let starts = tx.engagement_starts(year).await?;
    let events = tx.events_held(year, now).await?;
    let cases = tx.public_case_studies_of_year(year).await?;
    let entry = AuditEntry {
        actor_id: Some(staff.account.id),
        action: AuditAction::Export,
        detail: serde_json::json!({ "report": "kpis", "fiscal_year": year.0, "format": format }),
        ip,
    };
    tx.audit(&entry, now).await?;
    tx.commit().await?;
    Ok(ReportData {
        year,
        figures,
        targets,
        history,
        starts,
        events,
        cases,
        made_on: now.with_timezone(&tokyo()).date_naive(),
    })
}

/// A year that is not one: the report page in the person's language with the
/// error on its year field, 400, and nothing read or audited.
fn bad_year(
    state: &AppState,
    locale: Locale,
    staff: &Staff<ReportRead>,
    raw: &str,
    error: &FieldError,
) -> Response {
    let label = text(state, locale, "kpi_field_fy");
    let message = labelled_message(state, locale, &label, error.problem);
    let slug = staff.tenant.slug();
    let mut ctx = base_context(
        state,
        locale,
        Some(&staff.account),
        &format!("/t/{slug}/kpis/report"),
    );
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", staff.tenant.record.tenant.name.get(locale));
    ctx.insert("year_label", "");
    ctx.insert("year", &None::<i32>);
    ctx.insert("made_on", "");
    ctx.insert(
        "errors",
        &vec![ErrorLine {
            field: "fy",
            message: message.clone(),
        }],
    );
    ctx.insert(
        "year_fields",
        &vec![year_field(state, locale, raw, Some(message))],
    );
    ctx.insert("sheets", &Vec::<Sheet>::new());
    render(
        state,
        "kpi_report.html",
        ctx,
        locale,
        StatusCode::BAD_REQUEST,
    )
}

/// The year chooser's field.
fn year_field(state: &AppState, locale: Locale, value: &str, error: Option<String>) -> Field {
    Field {
        name: "fy",
        label: text(state, locale, "kpi_field_fy"),
        input_type: "number",
        value: keep(value, 20),
        error,
        required: true,
        hint: None,
        choices: Vec::new(),
        checked: false,
    }
}

/// One cell: its text as shown, and for numbers the value a spreadsheet keeps.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Cell {
    text: String,
    /// A number (a rate as a fraction: 0.8 for 80%).
    value: Option<f64>,
    numeric: bool,
    percent: bool,
    href: Option<String>,
    /// The language of a text written by people (a case's title), when it is
    /// not the page's.
    lang: Option<&'static str>,
}

impl Cell {
    fn text(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            value: None,
            numeric: false,
            percent: false,
            href: None,
            lang: None,
        }
    }

    #[allow(clippy::cast_precision_loss)]
    fn num(n: u64) -> Cell {
        Cell {
            value: Some(n as f64),
            numeric: true,
            ..Cell::text(n.to_string())
        }
    }

    /// A count that may not exist (a KPI without an actual, a missing target).
    fn maybe(n: Option<u64>) -> Cell {
        n.map_or_else(|| Cell::text("—"), Cell::num)
    }

    #[allow(clippy::cast_precision_loss)]
    fn percent(p: Option<u64>) -> Cell {
        match p {
            Some(p) => Cell {
                value: Some(p as f64 / 100.0),
                numeric: true,
                percent: true,
                ..Cell::text(format!("{p}%"))
            },
            None => Cell::text("—"),
        }
    }

    fn link(text: impl Into<String>, href: String) -> Cell {
        Cell {
            href: Some(href),
            ..Cell::text(text)
        }
    }
}

/// A row: its header cell, then the data cells.
#[derive(Debug, Clone, Serialize)]
pub(super) struct TableRow {
    head: Cell,
    cells: Vec<Cell>,
}

fn row(head: impl Into<String>, cells: Vec<Cell>) -> TableRow {
    TableRow {
        head: Cell::text(head),
        cells,
    }
}

/// A table with its caption and column headers (the first names the row headers).
#[derive(Debug, Clone, Serialize)]
pub(super) struct Table {
    id: String,
    caption: String,
    columns: Vec<String>,
    rows: Vec<TableRow>,
    /// What to say instead of an empty table.
    empty: Option<String>,
}

/// A part of the report: a section of the page, a sheet of the workbook.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Sheet {
    id: &'static str,
    title: String,
    tables: Vec<Table>,
}

/// The report as sheets of tables, in `locale`.
fn sheets(
    state: &AppState,
    locale: Locale,
    slug: &str,
    kind: TenantKind,
    members: &[(String, String)],
    data: &ReportData,
) -> Vec<Sheet> {
    let t = |key: &str| text(state, locale, key);
    let f = &data.figures;
    let name = |k: KpiCode| k.name(locale).to_owned();

    let summary = Table {
        id: "report-summary".into(),
        caption: t("kpi_summary_caption"),
        columns: vec![
            t("kpi_col_kpi"),
            t("kpi_col_actual"),
            t("kpi_col_target"),
            t("kpi_col_achieved"),
        ],
        rows: KpiCode::ALL
            .iter()
            .map(|k| {
                let actual = f.actual(*k);
                let target = data.targets.iter().find(|t| t.kpi == *k).map(|t| t.target);
                let achieved = match (actual, target) {
                    (Some(a), Some(t)) if t > 0 => Some((a * 100 + t / 2) / t),
                    _ => None,
                };
                row(
                    name(*k),
                    vec![
                        Cell::maybe(actual),
                        Cell::maybe(target),
                        Cell::percent(achieved),
                    ],
                )
            })
            .collect(),
        empty: None,
    };
    let related = Table {
        id: "report-related".into(),
        caption: t("kpi_related_heading"),
        columns: vec![t("kpi_col_type"), t("kpi_col_people")],
        rows: vec![
            row(
                t("kpi_related_exchange"),
                vec![Cell::num(f.attendees.total)],
            ),
            row(t("kpi_related_work"), vec![Cell::num(f.related_work.total)]),
        ],
        empty: None,
    };
    let cumulative = Table {
        id: "report-cumulative".into(),
        caption: t("kpi_cumulative_heading"),
        columns: vec![t("kpi_col_kpi"), t("kpi_col_actual")],
        rows: vec![
            row(
                t("kpi_cumulative_matches"),
                vec![Cell::num(f.cumulative_matches)],
            ),
            row(
                t("kpi_cumulative_hosts"),
                vec![Cell::num(f.cumulative_hosts)],
            ),
        ],
        empty: None,
    };
    let years = Table {
        id: "report-years".into(),
        caption: t("kpi_years_chart"),
        columns: vec![t("kpi_col_year"), name(KpiCode::Matches)],
        // As of the report's year: history entered for later years is not in it.
        rows: matches_per_year(&data.starts, &data.history)
            .iter()
            .filter(|(y, _)| **y <= data.year)
            .map(|(y, n)| row(fiscal_label_in(*y, locale), vec![Cell::num(*n)]))
            .collect(),
        empty: Some(t("kpi_report_none")),
    };
    let mut summary_tables = vec![summary, related, cumulative, years];
    let history: Vec<&History> = data
        .history
        .iter()
        .filter(|h| h.fiscal_year <= data.year)
        .collect();
    if !history.is_empty() {
        summary_tables.push(Table {
            id: "report-history".into(),
            caption: t("kpi_history_caption"),
            columns: vec![
                t("kpi_col_year"),
                t("kpi_field_matches"),
                t("kpi_field_hosts"),
                t("kpi_field_participants"),
            ],
            rows: history
                .iter()
                .map(|h| {
                    row(
                        fiscal_label_in(h.fiscal_year, locale),
                        vec![
                            Cell::num(h.matches),
                            Cell::num(h.hosts),
                            Cell::num(h.participants),
                        ],
                    )
                })
                .collect(),
            empty: None,
        });
    }

    let residence = |label: String, t: &Tally| {
        row(
            label,
            vec![
                Cell::num(t.inside),
                Cell::num(t.outside),
                Cell::num(t.unknown),
                Cell::num(t.total),
            ],
        )
    };
    let mut splits = vec![
        Table {
            id: "report-event-kinds".into(),
            caption: t("kpi_report_by_event_kind"),
            columns: vec![
                t("kpi_col_event_kind"),
                name(KpiCode::Registrations),
                name(KpiCode::Attended),
            ],
            rows: f
                .by_event_kind
                .iter()
                .map(|k| {
                    row(
                        k.kind.name(locale),
                        vec![Cell::num(k.registrations), Cell::num(k.attended)],
                    )
                })
                .collect(),
            empty: Some(t("kpi_report_none")),
        },
        Table {
            id: "report-project-kinds".into(),
            caption: t("kpi_report_by_project_kind"),
            columns: vec![
                t("kpi_col_project_kind"),
                name(KpiCode::Matches),
                name(KpiCode::HostsEngaged),
            ],
            rows: vec![
                row(
                    t("kpi_kind_business"),
                    vec![
                        Cell::num(f.matches.business),
                        Cell::num(f.hosts_engaged.business),
                    ],
                ),
                row(
                    t("kpi_kind_fan_community"),
                    vec![
                        Cell::num(f.matches.fan_community),
                        Cell::num(f.hosts_engaged.fan_community),
                    ],
                ),
            ],
            empty: None,
        },
        Table {
            id: "report-residence".into(),
            caption: t("kpi_report_by_residence"),
            columns: vec![
                t("kpi_col_kpi"),
                t("kpi_inside"),
                t("kpi_outside"),
                t("kpi_unknown"),
                t("kpi_col_total"),
            ],
            rows: vec![
                residence(name(KpiCode::Registrations), &f.registrations),
                residence(name(KpiCode::Attendees), &f.attendees),
                residence(name(KpiCode::RoundEntries), &f.round_entries),
                residence(name(KpiCode::Matches), &f.matches),
                residence(name(KpiCode::NewlyRelated), &f.newly_related),
                residence(t("kpi_related_work"), &f.related_work),
            ],
            empty: None,
        },
    ];
    let mut homes: Vec<u8> = f
        .attendees
        .prefectures
        .keys()
        .chain(f.newly_related.prefectures.keys())
        .chain(f.matches.prefectures.keys())
        .copied()
        .collect();
    homes.sort_unstable();
    homes.dedup();
    if !homes.is_empty() {
        splits.push(Table {
            id: "report-prefectures".into(),
            caption: t("kpi_prefecture_caption"),
            columns: vec![
                t("kpi_col_prefecture"),
                t("kpi_col_attendees"),
                t("kpi_col_matches"),
                t("kpi_col_newly_related"),
            ],
            rows: homes
                .iter()
                .filter_map(|code| {
                    let p = Prefecture::new(*code)?;
                    let get = |t: &Tally| Cell::num(t.prefectures.get(code).copied().unwrap_or(0));
                    Some(row(
                        p.name(locale),
                        vec![get(&f.attendees), get(&f.matches), get(&f.newly_related)],
                    ))
                })
                .collect(),
            empty: None,
        });
    }
    splits.push(Table {
        id: "report-continuation".into(),
        caption: t("kpi_continuation_chart"),
        columns: vec![
            t("kpi_col_months"),
            t("kpi_col_eligible"),
            t("kpi_col_continued"),
            t("kpi_col_rate"),
        ],
        rows: f
            .continuation
            .iter()
            .map(|c| {
                row(
                    t("kpi_months").replace("{n}", &c.months.to_string()),
                    vec![
                        Cell::num(c.eligible),
                        Cell::num(c.continued),
                        Cell::percent(c.percent()),
                    ],
                )
            })
            .collect(),
        empty: Some(t("kpi_report_none")),
    });
    if kind == TenantKind::Union {
        splits.push(Table {
            id: "report-members".into(),
            caption: t("kpi_report_by_member"),
            columns: vec![
                t("kpi_col_municipality"),
                name(KpiCode::Matches),
                name(KpiCode::HostsEngaged),
            ],
            rows: members
                .iter()
                .map(|(code, label)| {
                    let get =
                        |t: &Tally| Cell::num(t.municipalities.get(code).copied().unwrap_or(0));
                    row(label.clone(), vec![get(&f.matches), get(&f.hosts_engaged)])
                })
                .collect(),
            empty: None,
        });
    }

    let events = Table {
        id: "report-events".into(),
        caption: t("kpi_report_events_caption"),
        columns: vec![
            t("kpi_col_event_title"),
            t("kpi_col_date"),
            t("kpi_col_event_kind"),
            name(KpiCode::Registrations),
            name(KpiCode::Attended),
        ],
        rows: data
            .events
            .iter()
            .map(|e| {
                let day = e.starts_at.with_timezone(&tokyo()).date_naive();
                TableRow {
                    head: Cell::text(e.title.clone()),
                    cells: vec![
                        Cell::text(day.format("%Y-%m-%d").to_string()),
                        Cell::text(e.kind.map(|k| k.name(locale)).unwrap_or_default()),
                        Cell::num(e.registrations),
                        Cell::num(e.attended),
                    ],
                }
            })
            .collect(),
        empty: Some(t("kpi_report_no_events")),
    };

    let cases = Table {
        id: "report-cases".into(),
        caption: t("kpi_report_cases_caption"),
        columns: vec![
            t("kpi_col_case_title"),
            t("kpi_col_published"),
            t("kpi_col_host"),
            t("kpi_col_summary"),
            t("kpi_col_url"),
        ],
        rows: data
            .cases
            .iter()
            .map(|c| {
                let url = state.link(&format!("/t/{slug}/cases/{}", c.id));
                let (title, title_lang) = pick(locale, &c.title_ja, &c.title_en);
                let (summary, summary_lang) = pick(locale, &c.overview_ja, &c.overview_en);
                let published = c
                    .published_at
                    .map(|at| date_text(locale, at.with_timezone(&tokyo()).date_naive()))
                    .unwrap_or_default();
                TableRow {
                    head: Cell {
                        lang: title_lang,
                        ..Cell::link(title, url.clone())
                    },
                    cells: vec![
                        Cell::text(published),
                        Cell::text(c.host_name.clone()),
                        Cell {
                            lang: summary_lang,
                            ..Cell::text(summary)
                        },
                        Cell::link(url.clone(), url),
                    ],
                }
            })
            .collect(),
        empty: Some(t("kpi_report_no_cases")),
    };

    vec![
        Sheet {
            id: "summary",
            title: t("kpi_sheet_summary"),
            tables: summary_tables,
        },
        Sheet {
            id: "splits",
            title: t("kpi_sheet_splits"),
            tables: splits,
        },
        Sheet {
            id: "events",
            title: t("kpi_sheet_events"),
            tables: vec![events],
        },
        Sheet {
            id: "cases",
            title: t("kpi_sheet_cases"),
            tables: vec![cases],
        },
    ]
}

/// A case's text in the reader's language when written in it, else the Japanese,
/// with its language marked when it differs from the page's.
fn pick(locale: Locale, ja: &str, en: &str) -> (String, Option<&'static str>) {
    match locale {
        Locale::En if !en.trim().is_empty() => (en.to_owned(), None),
        Locale::En => (ja.to_owned(), Some("ja")),
        Locale::Ja => (ja.to_owned(), None),
    }
}

/// The union's member municipalities as (code, name), for its breakdown.
fn members_of(tenant: &yui_domain::Tenant, locale: Locale) -> Vec<(String, String)> {
    tenant
        .members
        .iter()
        .map(|m| (m.code.as_str().to_owned(), m.name.get(locale).to_owned()))
        .collect()
}

/// The download's file name: ASCII only (slugs are), so a plain `filename` serves
/// every browser.
fn file_name(slug: &str, year: FiscalYear, ext: &str) -> String {
    format!("kpis-{slug}-{}.{ext}", year.0)
}
