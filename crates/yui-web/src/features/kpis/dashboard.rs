//! The KPI dashboard of a fiscal year (`/t/{slug}/kpis?fy=YYYY`) for those who read
//! KPIs (tenant admins, coordinators, municipal staff): every figure as a chart and
//! its table, targets against actuals, the years since the program began, a union's
//! breakdown by municipality and — for a prefecture's admin — its municipalities side
//! by side and summed (aggregates only). The tenant admin's forms set targets and
//! enter the years before the platform.
//!
//! A union's breakdown is by the host organization's municipality (`hosts.
//! municipality_code`): engagement figures (matches, hosts) have one; events and
//! people do not carry a member municipality, so they are not split.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use yui_domain::account::{FieldError, Problem};
use yui_domain::audit::AuditAction;
use yui_domain::kpi::{
    self, Figures, HistoryInput, KpiCode, MAX_TARGETS, Tally, TargetInput, matches_per_year,
};
use yui_domain::program::fiscal_label_in;
use yui_domain::talent::Prefecture;
use yui_domain::{FiscalYear, Locale, Permission, TenantKind};
use yui_store::{Account, AuditEntry, AuditTx, StoreError};

use super::chart::{Chart, Datum, Row};
use super::figures_of;
use crate::AppState;
use crate::error::PageError;
use crate::extract::{ClientIp, CsrfForm, KpiRead, Lang, Staff, TenantConfigure, TenantPath};
use crate::features::events::form::{Choice, Field, text, today};
use crate::features::hosts::form::{ErrorLine, keep};
use crate::render::{base_context, labelled_message, render};
use crate::security::csrf_token;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{slug}/kpis", get(page))
        .route("/t/{slug}/kpis/targets", post(save_target))
        .route("/t/{slug}/kpis/history", post(save_history))
}

#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    fy: Option<String>,
    done: Option<String>,
}

/// The historical year's form as typed; its year is `history_year` so that the page's
/// two forms never share an input id.
#[derive(Debug, Clone, Default, Deserialize)]
struct HistoryForm {
    #[serde(default)]
    history_year: String,
    #[serde(default)]
    matches: String,
    #[serde(default)]
    hosts: String,
    #[serde(default)]
    participants: String,
}

/// What the page's forms show: the values typed, or the year's.
struct Inputs {
    target: TargetInput,
    history: HistoryForm,
}

impl Inputs {
    fn for_year(year: FiscalYear) -> Inputs {
        Inputs {
            target: TargetInput {
                fiscal_year: year.0.to_string(),
                ..Default::default()
            },
            history: HistoryForm::default(),
        }
    }
}

/// The page's inputs, labelled `kpi_field_<name>`, with errors in the person's language.
struct KpiForm<'a> {
    state: &'a AppState,
    locale: Locale,
    errors: &'a [FieldError],
}

impl KpiForm<'_> {
    fn label(&self, name: &str) -> String {
        text(self.state, self.locale, &format!("kpi_field_{name}"))
    }

    fn message(&self, e: &FieldError) -> String {
        labelled_message(self.state, self.locale, &self.label(e.field), e.problem)
    }

    fn summary(&self) -> Vec<ErrorLine> {
        self.errors
            .iter()
            .map(|e| ErrorLine {
                field: e.field,
                message: self.message(e),
            })
            .collect()
    }

    fn field(
        &self,
        name: &'static str,
        input_type: &'static str,
        value: &str,
        required: bool,
    ) -> Field {
        Field {
            name,
            label: self.label(name),
            input_type,
            value: keep(value, 20),
            error: self
                .errors
                .iter()
                .find(|e| e.field == name)
                .map(|e| self.message(e)),
            required,
            hint: None,
            choices: Vec::new(),
            checked: false,
        }
    }

    fn hint(&self, mut f: Field, key: &str) -> Field {
        f.hint = Some(text(self.state, self.locale, key));
        f
    }
}

fn pct(actual: u64, target: u64) -> String {
    if target == 0 {
        return "—".to_owned();
    }
    format!("{}%", (actual * 100 + target / 2) / target)
}

fn num(v: Option<u64>) -> String {
    v.map_or_else(|| "—".to_owned(), |v| v.to_string())
}

#[derive(Debug, Serialize)]
struct SummaryRow {
    name: String,
    actual: String,
    target: String,
    achieved: String,
}

#[derive(Debug, Serialize)]
struct HistoryRow {
    year: String,
    matches: u64,
    hosts: u64,
    participants: u64,
}

/// Column headers of a roll-up, and its rows.
#[derive(Debug, Serialize)]
struct Rollup {
    columns: Vec<String>,
    rows: Vec<Row>,
    chart: Chart,
}

/// The counts a roll-up or a breakdown lists, with their names.
fn headline(state: &AppState, locale: Locale, f: &Figures) -> Vec<(String, String)> {
    let name = |k: KpiCode| k.name(locale).to_owned();
    let six = f
        .continuation
        .iter()
        .find(|c| c.months == 6)
        .and_then(|c| c.percent());
    vec![
        (
            name(KpiCode::Registrations),
            f.registrations.total.to_string(),
        ),
        (name(KpiCode::Attended), f.attended.total.to_string()),
        (name(KpiCode::Attendees), f.attendees.total.to_string()),
        (
            name(KpiCode::RoundEntries),
            f.round_entries.total.to_string(),
        ),
        (name(KpiCode::Matches), f.matches.total.to_string()),
        (
            name(KpiCode::HostsEngaged),
            f.hosts_engaged.total.to_string(),
        ),
        (
            name(KpiCode::NewlyRelated),
            f.newly_related.total.to_string(),
        ),
        (
            text(state, locale, "kpi_related_work"),
            f.related_work.total.to_string(),
        ),
        (name(KpiCode::Continuation6), num(six)),
        (
            name(KpiCode::CumulativeMatches),
            f.cumulative_matches.to_string(),
        ),
        (
            name(KpiCode::CumulativeHosts),
            f.cumulative_hosts.to_string(),
        ),
    ]
}

/// The prefecture's own figures and each child municipality's whose KPIs the viewer
/// may read (the `children` grant of a prefecture's admin), side by side and summed.
async fn rollup(
    state: &AppState,
    locale: Locale,
    account: &Account,
    tenant: &TenantPath,
    own: &Figures,
    year: FiscalYear,
) -> Result<Option<Rollup>, PageError> {
    if tenant.record.tenant.kind != TenantKind::Prefecture {
        return Ok(None);
    }
    let now = state.now();
    let mut parts: Vec<(String, Figures)> = Vec::new();
    for child in state.store.children_of(tenant.id).await? {
        if !state
            .authz
            .check(account.id, &child.slug, Permission::KpiRead, now)
        {
            continue;
        }
        let path = TenantPath::load(state, &child.slug).await?;
        let f = figures_of(state, path.id, &path.record.tenant, year).await?;
        parts.push((child.name(locale).to_owned(), f));
    }
    if parts.is_empty() {
        return Ok(None);
    }
    let mut total = Figures::empty(year);
    total.merge(own);
    for (_, f) in &parts {
        total.merge(f);
    }
    let own_name = tenant.record.tenant.name.get(locale).to_owned();
    let mut columns = vec![text(state, locale, "kpi_col_kpi"), own_name.clone()];
    columns.extend(parts.iter().map(|(n, _)| n.clone()));
    columns.push(text(state, locale, "kpi_col_total"));
    let mut tables: Vec<Vec<(String, String)>> = vec![headline(state, locale, own)];
    tables.extend(parts.iter().map(|(_, f)| headline(state, locale, f)));
    tables.push(headline(state, locale, &total));
    let rows = tables[0]
        .iter()
        .enumerate()
        .map(|(i, (label, _))| Row {
            label: label.clone(),
            cells: tables.iter().map(|t| t[i].1.clone()).collect(),
        })
        .collect();
    let mut data = vec![Datum::new(own_name, own.matches.total)];
    data.extend(
        parts
            .iter()
            .map(|(n, f)| Datum::new(n.clone(), f.matches.total)),
    );
    let chart = Chart::bars(
        "kpi-rollup",
        text(state, locale, "kpi_rollup_chart"),
        data,
        vec![
            text(state, locale, "kpi_col_tenant"),
            KpiCode::Matches.name(locale).to_owned(),
        ],
        Vec::new(),
    );
    Ok(Some(Rollup {
        columns,
        rows,
        chart,
    }))
}

/// A residence split's cells: inside, outside, unknown, total.
fn residence_cells(t: &Tally) -> Vec<String> {
    vec![
        t.inside.to_string(),
        t.outside.to_string(),
        t.unknown.to_string(),
        t.total.to_string(),
    ]
}

#[allow(clippy::too_many_arguments)]
async fn render_page(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    account: &Account,
    tenant: &TenantPath,
    year: FiscalYear,
    inputs: &Inputs,
    errors: &[FieldError],
    notice: Option<&str>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let spec = &tenant.record.tenant;
    let f = figures_of(state, tenant.id, spec, year).await?;
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let targets = tx.kpi_targets(year).await?;
    let history = tx.kpi_history().await?;
    let starts = tx.engagement_starts(year).await?;
    tx.commit().await?;
    let t = |key: &str| text(state, locale, key);

    let summary: Vec<SummaryRow> = KpiCode::ALL
        .iter()
        .map(|k| {
            let actual = f.actual(*k);
            let target = targets.iter().find(|t| t.kpi == *k).map(|t| t.target);
            SummaryRow {
                name: k.name(locale).to_owned(),
                actual: num(actual),
                target: num(target),
                achieved: match (actual, target) {
                    (Some(a), Some(t)) => pct(a, t),
                    _ => "—".to_owned(),
                },
            }
        })
        .collect();
    let target_chart = (!targets.is_empty()).then(|| {
        let data = targets
            .iter()
            .map(|tg| Datum {
                label: tg.kpi.name(locale).to_owned(),
                value: f.actual(tg.kpi).unwrap_or(0),
                target: Some(tg.target),
                text: Some(format!("{} / {}", num(f.actual(tg.kpi)), tg.target)),
            })
            .collect();
        let rows = targets
            .iter()
            .map(|tg| Row {
                label: tg.kpi.name(locale).to_owned(),
                cells: vec![
                    num(f.actual(tg.kpi)),
                    tg.target.to_string(),
                    f.actual(tg.kpi)
                        .map_or_else(|| "—".to_owned(), |a| pct(a, tg.target)),
                ],
            })
            .collect();
        Chart::bars(
            "kpi-targets",
            t("kpi_targets_chart"),
            data,
            vec![
                t("kpi_col_kpi"),
                t("kpi_col_actual"),
                t("kpi_col_target"),
                t("kpi_col_achieved"),
            ],
            rows,
        )
    });

    let events = Chart::bars(
        "kpi-events",
        t("kpi_events_chart"),
        f.by_event_kind
            .iter()
            .map(|k| Datum::new(k.kind.name(locale), k.registrations))
            .collect(),
        vec![
            t("kpi_col_event_kind"),
            KpiCode::Registrations.name(locale).to_owned(),
            KpiCode::Attended.name(locale).to_owned(),
        ],
        f.by_event_kind
            .iter()
            .map(|k| Row {
                label: k.kind.name(locale).to_owned(),
                cells: vec![k.registrations.to_string(), k.attended.to_string()],
            })
            .collect(),
    );

    let kinds = Chart::bars(
        "kpi-kinds",
        t("kpi_kinds_chart"),
        vec![
            Datum::new(t("kpi_kind_business"), f.matches.business),
            Datum::new(t("kpi_kind_fan_community"), f.matches.fan_community),
        ],
        vec![
            t("kpi_col_project_kind"),
            KpiCode::Matches.name(locale).to_owned(),
            KpiCode::HostsEngaged.name(locale).to_owned(),
        ],
        vec![
            Row {
                label: t("kpi_kind_business"),
                cells: vec![
                    f.matches.business.to_string(),
                    f.hosts_engaged.business.to_string(),
                ],
            },
            Row {
                label: t("kpi_kind_fan_community"),
                cells: vec![
                    f.matches.fan_community.to_string(),
                    f.hosts_engaged.fan_community.to_string(),
                ],
            },
        ],
    );

    let residence_rows = vec![
        Row {
            label: KpiCode::Registrations.name(locale).to_owned(),
            cells: residence_cells(&f.registrations),
        },
        Row {
            label: KpiCode::Attendees.name(locale).to_owned(),
            cells: residence_cells(&f.attendees),
        },
        Row {
            label: KpiCode::RoundEntries.name(locale).to_owned(),
            cells: residence_cells(&f.round_entries),
        },
        Row {
            label: KpiCode::Matches.name(locale).to_owned(),
            cells: residence_cells(&f.matches),
        },
        Row {
            label: KpiCode::NewlyRelated.name(locale).to_owned(),
            cells: residence_cells(&f.newly_related),
        },
        Row {
            label: t("kpi_related_work"),
            cells: residence_cells(&f.related_work),
        },
    ];
    let residence = Chart::bars(
        "kpi-residence",
        t("kpi_residence_chart"),
        vec![
            Datum::new(t("kpi_inside"), f.newly_related.inside),
            Datum::new(t("kpi_outside"), f.newly_related.outside),
            Datum::new(t("kpi_unknown"), f.newly_related.unknown),
        ],
        vec![
            t("kpi_col_kpi"),
            t("kpi_inside"),
            t("kpi_outside"),
            t("kpi_unknown"),
            t("kpi_col_total"),
        ],
        residence_rows,
    );
    // Per prefecture: every prefecture someone lives in, for the people counts.
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
    let per_prefecture: Vec<Row> = homes
        .iter()
        .filter_map(|code| {
            let p = Prefecture::new(*code)?;
            let get = |t: &Tally| t.prefectures.get(code).copied().unwrap_or(0).to_string();
            Some(Row {
                label: p.name(locale).to_owned(),
                cells: vec![get(&f.attendees), get(&f.matches), get(&f.newly_related)],
            })
        })
        .collect();

    let continuation = Chart::bars(
        "kpi-continuation",
        t("kpi_continuation_chart"),
        f.continuation
            .iter()
            .map(|c| Datum {
                label: t("kpi_months").replace("{n}", &c.months.to_string()),
                value: c.percent().unwrap_or(0),
                target: None,
                text: Some(
                    c.percent()
                        .map_or_else(|| "—".to_owned(), |p| format!("{p}%")),
                ),
            })
            .collect(),
        vec![
            t("kpi_col_months"),
            t("kpi_col_eligible"),
            t("kpi_col_continued"),
            t("kpi_col_rate"),
        ],
        f.continuation
            .iter()
            .map(|c| Row {
                label: t("kpi_months").replace("{n}", &c.months.to_string()),
                cells: vec![
                    c.eligible.to_string(),
                    c.continued.to_string(),
                    c.percent()
                        .map_or_else(|| "—".to_owned(), |p| format!("{p}%")),
                ],
            })
            .collect(),
    );

    let per_year = matches_per_year(&starts, &history);
    let years = Chart::bars(
        "kpi-years",
        t("kpi_years_chart"),
        per_year
            .iter()
            .map(|(y, n)| Datum::new(fiscal_label_in(*y, locale), *n))
            .collect(),
        vec![t("kpi_col_year"), KpiCode::Matches.name(locale).to_owned()],
        per_year
            .iter()
            .map(|(y, n)| Row {
                label: fiscal_label_in(*y, locale),
                cells: vec![n.to_string()],
            })
            .collect(),
    );

    // A union: engagement figures by the host's member municipality.
    let members = (spec.kind == TenantKind::Union).then(|| {
        let rows: Vec<Row> = spec
            .members
            .iter()
            .map(|m| {
                let code = m.code.as_str();
                let get = |t: &Tally| t.municipalities.get(code).copied().unwrap_or(0);
                Row {
                    label: m.name.get(locale).to_owned(),
                    cells: vec![
                        get(&f.matches).to_string(),
                        get(&f.hosts_engaged).to_string(),
                    ],
                }
            })
            .collect();
        Chart::bars(
            "kpi-members",
            t("kpi_members_chart"),
            spec.members
                .iter()
                .map(|m| {
                    Datum::new(
                        m.name.get(locale),
                        f.matches
                            .municipalities
                            .get(m.code.as_str())
                            .copied()
                            .unwrap_or(0),
                    )
                })
                .collect(),
            vec![
                t("kpi_col_municipality"),
                KpiCode::Matches.name(locale).to_owned(),
                KpiCode::HostsEngaged.name(locale).to_owned(),
            ],
            rows,
        )
    });

    let rollup = rollup(state, locale, account, tenant, &f, year).await?;

    let may_edit = state.authz.check(
        account.id,
        tenant.slug(),
        Permission::TenantConfigure,
        state.now(),
    );
    let form = KpiForm {
        state,
        locale,
        errors,
    };
    let mut kpi_field = form.field("kpi", "select", "", true);
    kpi_field.choices = KpiCode::ALL
        .iter()
        .map(|k| Choice {
            value: k.code().to_owned(),
            label: k.name(locale).to_owned(),
            selected: k.code() == inputs.target.kpi.trim(),
        })
        .collect();
    let target_fields = vec![
        form.field("fiscal_year", "number", &inputs.target.fiscal_year, true),
        kpi_field,
        form.hint(
            form.field("target", "number", &inputs.target.target, false),
            "kpi_hint_target",
        ),
    ];
    let history_fields = vec![
        form.field("history_year", "number", &inputs.history.history_year, true),
        form.field("matches", "number", &inputs.history.matches, false),
        form.field("hosts", "number", &inputs.history.hosts, false),
        form.field(
            "participants",
            "number",
            &inputs.history.participants,
            false,
        ),
    ];
    let history_rows: Vec<HistoryRow> = history
        .iter()
        .map(|h| HistoryRow {
            year: fiscal_label_in(h.fiscal_year, locale),
            matches: h.matches,
            hosts: h.hosts,
            participants: h.participants,
        })
        .collect();

    let slug = tenant.slug();
    let path = format!("/t/{slug}/kpis?fy={}", year.0);
    let (jar, csrf) = csrf_token(state, jar);
    let mut ctx = base_context(state, locale, Some(account), &path);
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", spec.name.get(locale));
    ctx.insert("year", &year.0);
    ctx.insert("year_label", &fiscal_label_in(year, locale));
    ctx.insert("summary", &summary);
    ctx.insert(
        "target_charts",
        &target_chart.into_iter().collect::<Vec<_>>(),
    );
    ctx.insert(
        "charts",
        &vec![events, kinds, residence, continuation, years],
    );
    ctx.insert("per_prefecture", &per_prefecture);
    ctx.insert("related_exchange", &f.attendees.total);
    ctx.insert("related_work", &f.related_work.total);
    ctx.insert("cumulative_matches", &f.cumulative_matches);
    ctx.insert("cumulative_hosts", &f.cumulative_hosts);
    ctx.insert("member_charts", &members.into_iter().collect::<Vec<_>>());
    let rollup_charts: Vec<Chart> = rollup.iter().map(|r| r.chart.clone()).collect();
    ctx.insert("rollup", &rollup);
    ctx.insert("rollup_charts", &rollup_charts);
    ctx.insert("may_edit", &may_edit);
    ctx.insert(
        "may_report",
        &state.authz.check(
            account.id,
            tenant.slug(),
            Permission::ReportRead,
            state.now(),
        ),
    );
    ctx.insert("max_targets", &MAX_TARGETS);
    ctx.insert(
        "year_fields",
        &vec![form.field("fy", "number", &year.0.to_string(), true)],
    );
    ctx.insert("target_fields", &target_fields);
    ctx.insert("history_fields", &history_fields);
    ctx.insert("history", &history_rows);
    ctx.insert("csrf", &csrf);
    ctx.insert("errors", &form.summary());
    ctx.insert("notice", &notice.map(|k| text(state, locale, k)));
    Ok((
        jar,
        render(state, "kpi_dashboard.html", ctx, locale, status),
    )
        .into_response())
}

fn current_year(state: &AppState) -> FiscalYear {
    FiscalYear::containing(today(state))
}

async fn page(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<KpiRead>,
    jar: CookieJar,
    Query(q): Query<PageQuery>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let (year, errors) = match q.fy.as_deref().map(|raw| kpi::parse_year("fy", raw)) {
        None => (current_year(&state), Vec::new()),
        Some(Ok(y)) => (y, Vec::new()),
        Some(Err(e)) => (current_year(&state), vec![e]),
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let notice = match q.done.as_deref() {
        Some("target") => Some("kpi_done_target"),
        Some("history") => Some("kpi_done_history"),
        _ => None,
    };
    render_page(
        &state,
        locale,
        jar,
        &staff.account,
        &staff.tenant,
        year,
        &Inputs::for_year(year),
        &errors,
        notice,
        status,
    )
    .await
}

/// Sets or (empty) removes a target; a fifth KPI in a year is refused on its field.
async fn save_target(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<TenantConfigure>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    CsrfForm(input): CsrfForm<TargetInput>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let refuse = |errors: Vec<FieldError>, jar| {
        let (state, staff) = (&state, &staff);
        let year = kpi::parse_year("fiscal_year", &input.fiscal_year)
            .unwrap_or_else(|_| current_year(state));
        let inputs = Inputs {
            target: input.clone(),
            history: HistoryForm::default(),
        };
        async move {
            render_page(
                state,
                locale,
                jar,
                &staff.account,
                &staff.tenant,
                year,
                &inputs,
                &errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    };
    let (year, code, target) = match kpi::check_target(&input) {
        Ok(v) => v,
        Err(errors) => return refuse(errors, jar).await,
    };
    let now = state.now();
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    match tx
        .put_kpi_target(year, code, target, staff.account.id, now)
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict(f)) if f == "kpi" => {
            tx.rollback().await?;
            let too_many = vec![FieldError {
                field: "kpi",
                problem: Problem::TooMany { max: MAX_TARGETS },
            }];
            return refuse(too_many, jar).await;
        }
        Err(e) => return Err(e.into()),
    }
    let entry = AuditEntry {
        actor_id: Some(staff.account.id),
        action: AuditAction::KpiFiguresEdited,
        detail: serde_json::json!({ "fiscal_year": year.0, "kpi": code.code(), "target": target }),
        ip,
    };
    tx.audit(&entry, now).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/t/{}/kpis?fy={}&done=target",
        staff.tenant.slug(),
        year.0
    ))
    .into_response())
}

/// Enters (or with every figure empty removes) a year before the platform.
async fn save_history(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<TenantConfigure>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    CsrfForm(input): CsrfForm<HistoryForm>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let checked = kpi::check_history(
        &HistoryInput {
            fiscal_year: input.history_year.clone(),
            matches: input.matches.clone(),
            hosts: input.hosts.clone(),
            participants: input.participants.clone(),
        },
        FiscalYear::containing(today(&state)),
    );
    let (year, history) = match checked {
        Ok(v) => v,
        Err(errors) => {
            let errors: Vec<FieldError> = errors
                .into_iter()
                .map(|e| FieldError {
                    field: if e.field == "fiscal_year" {
                        "history_year"
                    } else {
                        e.field
                    },
                    problem: e.problem,
                })
                .collect();
            let year = current_year(&state);
            let inputs = Inputs {
                target: Inputs::for_year(year).target,
                history: input,
            };
            return render_page(
                &state,
                locale,
                jar,
                &staff.account,
                &staff.tenant,
                year,
                &inputs,
                &errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let now = state.now();
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    tx.ensure_active().await?;
    tx.put_kpi_history(year, history.as_ref(), staff.account.id, now)
        .await?;
    let entry = AuditEntry {
        actor_id: Some(staff.account.id),
        action: AuditAction::KpiFiguresEdited,
        detail: serde_json::json!({
            "fiscal_year": year.0,
            "history": history.map(|h| [h.matches, h.hosts, h.participants]),
        }),
        ip,
    };
    tx.audit(&entry, now).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/t/{}/kpis?fy={}&done=history",
        staff.tenant.slug(),
        year.0
    ))
    .into_response())
}
