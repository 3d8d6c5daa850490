//! `/events`: upcoming published events of every active region, for anyone,
//! narrowed by region (a prefecture takes in its municipalities), kind, online or
//! on site, and month. A value that is no choice is named in an error (422), never
//! a failed request.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use yui_domain::account::{FieldError, Problem};
use yui_domain::event::{EventKind, SeatKind, tokyo_instant};
use yui_domain::{Locale, TenantId};
use yui_store::{Account, EventQuery, PlatformReason};

use super::public::{event_row, text};
use crate::AppState;
use crate::error::PageError;
use crate::extract::{Lang, Viewer};
use crate::features::hosts::form::{Choice, Input, Kind};
use crate::render::{base_context, labelled_message, render};

/// Events a page shows.
const PAGE: i64 = 30;
/// The last page reachable: deeper offsets cost the database for nobody's benefit.
const PAGES_MAX: i64 = 100;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/events", get(page))
}

/// The filters as typed: text, so a bad value can be named.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Params {
    #[serde(default)]
    region: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    attendance: String,
    #[serde(default)]
    month: String,
    #[serde(default)]
    page: String,
}

/// `YYYY-MM` → the month's first day.
fn month_start(typed: &str) -> Option<NaiveDate> {
    let (y, m) = typed.trim().split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1)
}

/// The start of the month and of the next one, as instants in Tokyo.
fn month_span(first: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let next = first.checked_add_months(chrono::Months::new(1))?;
    let midnight = chrono::NaiveTime::MIN;
    Some((
        tokyo_instant(first, midnight)?,
        tokyo_instant(next, midnight)?,
    ))
}

pub(super) async fn page(
    State(state): State<AppState>,
    lang: Lang,
    Viewer(viewer): Viewer,
    Query(params): Query<Params>,
) -> Result<Response, PageError> {
    let locale = lang.or(viewer.as_ref().map_or(Locale::Ja, Account::locale));
    let now = state.now();
    // The regions to choose from: the home page's directory, each prefecture
    // followed by its municipalities.
    let top = state.store.top_level_tenants().await?;
    let mut regions: Vec<(TenantId, String, String)> = Vec::new();
    for t in &top {
        regions.push((t.id, t.slug.clone(), t.name(locale).to_owned()));
        if t.children > 0 {
            for c in state.store.children_of(t.id).await? {
                regions.push((c.id, c.slug.clone(), format!("　{}", c.name(locale))));
            }
        }
    }
    let mut errors: Vec<FieldError> = Vec::new();
    fn bad(errors: &mut Vec<FieldError>, field: &'static str) {
        errors.push(FieldError {
            field,
            problem: Problem::InvalidChoice,
        });
    }
    let region = match params.region.trim() {
        "" => None,
        s => match regions.iter().find(|(_, slug, _)| slug == s) {
            Some((id, _, _)) => Some(*id),
            None => {
                bad(&mut errors, "region");
                None
            }
        },
    };
    let kind = match params.kind.trim() {
        "" => None,
        s => EventKind::parse(s).or_else(|| {
            bad(&mut errors, "kind");
            None
        }),
    };
    let seat_kind = match params.attendance.trim() {
        "" => None,
        s => SeatKind::parse(s).or_else(|| {
            bad(&mut errors, "attendance");
            None
        }),
    };
    let month = match params.month.trim() {
        "" => None,
        s => match month_start(s).and_then(month_span) {
            Some(span) => Some(span),
            None => {
                errors.push(FieldError {
                    field: "month",
                    problem: Problem::InvalidDate,
                });
                None
            }
        },
    };
    let page: i64 = params
        .page
        .trim()
        .parse()
        .ok()
        .filter(|p| (1..=PAGES_MAX).contains(p))
        .unwrap_or(1);
    let mut rows = Vec::new();
    let mut more = false;
    if errors.is_empty() {
        let (from, until) = match month {
            Some((start, end)) => (start.max(now), Some(end)),
            None => (now, None),
        };
        let q = EventQuery {
            from: Some(from),
            until,
            kind,
            seat_kind,
            region,
            limit: PAGE + 1,
            offset: (page - 1) * PAGE,
            ..EventQuery::default()
        };
        let mut tx = state
            .store
            .platform(PlatformReason::PublicListings)
            .read()
            .await?;
        let listed = tx.list_events(&q).await?;
        tx.commit().await?;
        more = listed.len() > PAGE as usize;
        for l in listed.iter().take(PAGE as usize) {
            let mut row = event_row(&state, locale, &l.tenant_slug, &l.event)?;
            row.region = match locale {
                Locale::Ja => l.tenant_name_ja.clone(),
                Locale::En => l.tenant_name_en.clone(),
            };
            rows.push(row);
        }
    }

    let label = |name: &str| text(&state, locale, &format!("evp_field_{name}"));
    let input = |name: &'static str, options: Vec<(String, String)>, chosen: &str| {
        let l = label(name);
        let mut choices = vec![Choice {
            value: String::new(),
            label: text(&state, locale, "search_any"),
            selected: chosen.is_empty(),
        }];
        choices.extend(options.into_iter().map(|(value, label)| Choice {
            selected: value == chosen,
            value,
            label,
        }));
        Input {
            name,
            error: errors
                .iter()
                .find(|e| e.field == name)
                .map(|e| labelled_message(&state, locale, &l, e.problem)),
            label: l,
            kind: Kind::Select,
            value: String::new(),
            required: false,
            hint: None,
            choices,
        }
    };
    let month_input = {
        let l = label("month");
        Input {
            name: "month",
            error: errors
                .iter()
                .find(|e| e.field == "month")
                .map(|e| labelled_message(&state, locale, &l, e.problem)),
            label: l,
            kind: Kind::Text,
            value: crate::features::hosts::form::keep(params.month.trim(), 20),
            required: false,
            hint: Some(text(&state, locale, "evp_month_hint")),
            choices: Vec::new(),
        }
    };
    let fields = vec![
        input(
            "region",
            regions
                .iter()
                .map(|(_, slug, name)| (slug.clone(), name.clone()))
                .collect(),
            params.region.trim(),
        ),
        input(
            "kind",
            EventKind::ALL
                .iter()
                .map(|k| (k.code().to_owned(), k.name(locale).to_owned()))
                .collect(),
            params.kind.trim(),
        ),
        input(
            "attendance",
            SeatKind::ALL
                .iter()
                .map(|k| (k.code().to_owned(), k.name(locale).to_owned()))
                .collect(),
            params.attendance.trim(),
        ),
        month_input,
    ];
    let error_lines: Vec<serde_json::Value> = fields
        .iter()
        .filter_map(|f| {
            f.error
                .as_ref()
                .map(|m| serde_json::json!({"field": f.name, "message": m}))
        })
        .collect();
    // The next page keeps the filters.
    let next = more.then(|| {
        let mut url = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("region", params.region.trim()),
            ("kind", params.kind.trim()),
            ("attendance", params.attendance.trim()),
            ("month", params.month.trim()),
        ] {
            if !v.is_empty() {
                url.append_pair(k, v);
            }
        }
        url.append_pair("page", &(page + 1).to_string());
        format!("/events?{}", url.finish())
    });
    let mut ctx = base_context(&state, locale, viewer.as_ref(), "/events");
    ctx.insert("fields", &fields);
    ctx.insert("errors", &error_lines);
    ctx.insert("events", &rows);
    ctx.insert("next", &next);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(render(&state, "evp_across.html", ctx, locale, status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months() {
        assert_eq!(month_start("2026-07"), NaiveDate::from_ymd_opt(2026, 7, 1));
        for bad in ["2026-13", "2026-7", "26-07", "2026/07", "", "2026-07-01"] {
            assert_eq!(month_start(bad), None, "{bad}");
        }
        let (a, b) = month_span(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()).unwrap();
        assert_eq!(a.to_rfc3339(), "2026-11-30T15:00:00+00:00");
        assert_eq!(b.to_rfc3339(), "2026-12-31T15:00:00+00:00");
    }
}
