//! The staff API's event body (shared/DESIGN.md: `POST /api/v1/tenants/{slug}/events`)
//! as the event form, so both are checked by the same rules.

use chrono::{DateTime, Days, FixedOffset};
use serde::Deserialize;

use super::{Audience, DAYS_MAX, DayInput, EventInput, TravelSubsidy};
use crate::account::FieldError;
use crate::fiscal::tokyo;

/// Seats per kind as the API gives them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiCapacity {
    pub onsite: Option<u32>,
    pub online: Option<u32>,
}

/// `{"kind", "title", "starts_at", "ends_at", "format", "capacity", "selection"}`;
/// the window and audience are optional (registration opens at once; for talent).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiEventBody {
    pub kind: String,
    pub title: String,
    pub starts_at: DateTime<FixedOffset>,
    pub ends_at: DateTime<FixedOffset>,
    pub format: String,
    #[serde(default)]
    pub capacity: ApiCapacity,
    pub selection: String,
    #[serde(default)]
    pub audience: Option<String>,
    #[serde(default)]
    pub venue: Option<String>,
    #[serde(default)]
    pub online_url: Option<String>,
    #[serde(default)]
    pub opens_at: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    pub closes_at: Option<DateTime<FixedOffset>>,
}

/// An instant as the form types it: Tokyo's local time.
fn local(t: DateTime<FixedOffset>) -> String {
    t.with_timezone(&tokyo())
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

impl ApiEventBody {
    /// The body as the event form. An event over several Tokyo dates becomes one day
    /// per date, each from the start's hour to the end's (a tour's daily programme).
    pub fn into_input(self) -> EventInput {
        let start = self.starts_at.with_timezone(&tokyo());
        let end = self.ends_at.with_timezone(&tokyo());
        let mut days = Vec::new();
        let mut date = start.date_naive();
        // An end before the start gives one day whose end the form refuses.
        while days.is_empty() || (date <= end.date_naive() && days.len() <= DAYS_MAX) {
            days.push(DayInput {
                date: date.format("%Y-%m-%d").to_string(),
                starts: start.format("%H:%M").to_string(),
                ends: end.format("%H:%M").to_string(),
                itinerary: String::new(),
            });
            match date.checked_add_days(Days::new(1)) {
                Some(next) => date = next,
                None => break,
            }
        }
        let seats = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
        EventInput {
            kind: self.kind,
            audience: self
                .audience
                .unwrap_or_else(|| Audience::Talent.code().to_owned()),
            title: self.title,
            format: self.format,
            selection: self.selection,
            days,
            capacity_onsite: seats(self.capacity.onsite),
            capacity_online: seats(self.capacity.online),
            venue: self.venue.unwrap_or_default(),
            online_url: self.online_url.unwrap_or_default(),
            opens_at: self.opens_at.map(local).unwrap_or_default(),
            closes_at: self.closes_at.map(local).unwrap_or_default(),
            subsidy: TravelSubsidy::None.code().to_owned(),
            ..EventInput::default()
        }
    }
}

/// The API's name for a form field in an error: days are `starts_at` and `ends_at`,
/// seats are `capacity.onsite` and `capacity.online`.
pub fn api_field(error: &FieldError) -> &'static str {
    let f = error.field;
    if f.starts_with("day") {
        if f.ends_with("_ends") {
            "ends_at"
        } else {
            "starts_at"
        }
    } else {
        match f {
            "capacity_onsite" => "capacity.onsite",
            "capacity_online" => "capacity.online",
            f => f,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Problem;
    use crate::event::{Capacity, Format, check_event};
    use chrono::NaiveDate;

    fn body(json: &str) -> ApiEventBody {
        serde_json::from_str(json).unwrap()
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 8, 1).unwrap()
    }

    #[test]
    fn the_contract_body() {
        let b = body(
            r#"{"kind": "seminar", "title": "地方複業のはじめかた",
                "starts_at": "2025-08-25T10:00:00Z", "ends_at": "2025-08-25T20:00:00+09:00",
                "format": "online", "capacity": {"online": 100}, "selection": "first_come"}"#,
        );
        let input = b.into_input();
        assert_eq!(input.days.len(), 1);
        assert_eq!(input.days[0].starts, "19:00");
        let e = check_event(&input, today()).unwrap();
        assert_eq!(e.format, Format::Online);
        assert_eq!(
            e.capacity,
            Capacity {
                onsite: None,
                online: Some(100)
            }
        );
        assert_eq!(
            e.starts_at().unwrap().to_rfc3339(),
            "2025-08-25T10:00:00+00:00"
        );
    }

    #[test]
    fn a_tour_over_two_dates() {
        let b = body(
            r#"{"kind": "fieldwork", "title": "夏油温泉", "venue": "夏油温泉",
                "starts_at": "2025-11-08T09:00:00+09:00", "ends_at": "2025-11-09T17:00:00+09:00",
                "format": "onsite", "capacity": {"onsite": 10}, "selection": "screened",
                "closes_at": "2025-11-01T00:00:00+09:00"}"#,
        );
        let e = check_event(&b.into_input(), today()).unwrap();
        assert_eq!(e.days.len(), 2);
        assert_eq!(
            e.window.closes_at.unwrap().to_rfc3339(),
            "2025-10-31T15:00:00+00:00"
        );
    }

    #[test]
    fn errors_use_the_api_names() {
        let b = body(
            r#"{"kind": "seminar", "title": "x",
                "starts_at": "2025-08-25T20:00:00+09:00", "ends_at": "2025-08-25T19:00:00+09:00",
                "format": "hybrid", "capacity": {"online": 10}, "selection": "first_come",
                "venue": "v"}"#,
        );
        let errors = check_event(&b.into_input(), today()).unwrap_err();
        let fields: Vec<(&str, Problem)> =
            errors.iter().map(|e| (api_field(e), e.problem)).collect();
        assert_eq!(
            fields,
            [
                ("ends_at", Problem::InvalidDate),
                ("capacity.onsite", Problem::Required)
            ]
        );
        // A body spanning months is cut at the days a form holds, and refused there.
        let b = body(
            r#"{"kind": "seminar", "title": "x",
                "starts_at": "2025-09-01T10:00:00+09:00", "ends_at": "2026-09-01T11:00:00+09:00",
                "format": "online", "capacity": {"online": 10}, "selection": "first_come"}"#,
        );
        let input = b.into_input();
        assert_eq!(input.days.len(), DAYS_MAX + 1);
        let errors = check_event(&input, today()).unwrap_err();
        assert_eq!(api_field(&errors[0]), "starts_at");
        assert_eq!(errors[0].problem, Problem::TooMany { max: DAYS_MAX });
        assert!(serde_json::from_str::<ApiEventBody>(r#"{"kind": "seminar"}"#).is_err());
    }
}
