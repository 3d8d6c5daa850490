//! Calendar files: one event's `.ics` and a tenant's feed of its published events,
//! every time written in Asia/Tokyo (the domain's `ics` adds the VTIMEZONE).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::extract::State;
use chrono::Duration;
use yui_domain::EventId;
use yui_domain::Locale;
use yui_domain::calendar::{CalendarEvent, ics};
use yui_domain::event::{EventStatus, SeatKind};

use super::flow::{event_ics, place_text};
use crate::error::PageError;
use crate::extract::TenantPath;
use crate::AppState;

/// Events a feed holds at most.
const FEED_LIMIT: i64 = 500;
/// How long past events stay in the feed, so a subscribed calendar keeps them.
const FEED_PAST_DAYS: i64 = 90;

fn calendar_response(body: String, filename: &str) -> Response {
    let mut res = (StatusCode::OK, body).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}

/// `/t/{slug}/events/{id}.ics`: a published or called-off event (drafts are 404).
pub(super) async fn event_file(
    state: &AppState,
    tenant: &TenantPath,
    id: EventId,
) -> Result<Response, PageError> {
    let event = super::public::shown_event(state, tenant, id).await?;
    let fields = event.fields()?;
    let body = event_ics(state, tenant.slug(), &event, &fields);
    Ok(calendar_response(body, &format!("event-{id}.ics")))
}

/// `/t/{slug}/events.ics`: the tenant's published events, recent and upcoming.
pub(super) async fn feed(
    State(state): State<AppState>,
    tenant: TenantPath,
) -> Result<Response, PageError> {
    let since = state.now() - Duration::days(FEED_PAST_DAYS);
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let events = tx.events(true, None, Some(since), FEED_LIMIT).await?;
    tx.commit().await?;
    let slug = tenant.slug();
    let mut parts = Vec::with_capacity(events.len());
    for e in &events {
        let fields = e.fields()?;
        let seat = if fields.format.offers(SeatKind::Onsite) {
            SeatKind::Onsite
        } else {
            SeatKind::Online
        };
        parts.push((
            format!("event-{}@{slug}.yui", e.id),
            place_text(Locale::Ja, &fields, seat),
            state.link(&format!("/t/{slug}/events/{}", e.id)),
            fields,
            e,
        ));
    }
    let entries: Vec<CalendarEvent<'_>> = parts
        .iter()
        .map(|(uid, location, url, fields, e)| CalendarEvent {
            uid,
            title: &fields.title,
            description: &fields.description,
            location,
            url: Some(url),
            days: &fields.days,
            updated_at: e.updated_at,
            cancelled: e.status() == EventStatus::Cancelled,
        })
        .collect();
    let body = ics(tenant.record.tenant.name.get(Locale::Ja), &entries);
    Ok(calendar_response(body, &format!("{slug}-events.ics")))
}
