//! iCalendar (RFC 5545) text for events: the attachment on a confirmation, an event's
//! `.ics` and a tenant's feed. Times are written in Asia/Tokyo with its VTIMEZONE, so
//! calendars abroad still show the hour the region means.

use chrono::{DateTime, Utc};

use crate::event::EventDay;

/// One event as a calendar shows it; each day of a tour becomes its own entry, so a
/// calendar does not show the night between as busy.
#[derive(Debug, Clone)]
pub struct CalendarEvent<'a> {
    /// Unique and stable across updates (e.g. `event-42@iwate.yui.example`).
    pub uid: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub location: &'a str,
    pub url: Option<&'a str>,
    pub days: &'a [EventDay],
    /// When the entry was last changed; calendars keep the newest.
    pub updated_at: DateTime<Utc>,
    pub cancelled: bool,
}

const TOKYO: &str = "BEGIN:VTIMEZONE\r\nTZID:Asia/Tokyo\r\nBEGIN:STANDARD\r\n\
DTSTART:19700101T000000\r\nTZOFFSETFROM:+0900\r\nTZOFFSETTO:+0900\r\nTZNAME:JST\r\n\
END:STANDARD\r\nEND:VTIMEZONE\r\n";

/// Escapes a TEXT value: backslash, semicolon, comma and line breaks; other control
/// characters are dropped (they would break the line structure).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.replace("\r\n", "\n").chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' | '\r' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A content line folded at 75 octets, never inside a UTF-8 character.
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

fn vevent(out: &mut String, e: &CalendarEvent<'_>) {
    let stamp = e.updated_at.format("%Y%m%dT%H%M%SZ").to_string();
    for (i, day) in e.days.iter().enumerate() {
        line(out, "BEGIN:VEVENT");
        let uid = if e.days.len() == 1 {
            e.uid.to_owned()
        } else {
            format!("{}-day{}", e.uid, i + 1)
        };
        line(out, &format!("UID:{}", escape(&uid)));
        line(out, &format!("DTSTAMP:{stamp}"));
        line(out, &format!("LAST-MODIFIED:{stamp}"));
        let local = |t: chrono::NaiveTime| day.date.and_time(t).format("%Y%m%dT%H%M%S").to_string();
        line(
            out,
            &format!("DTSTART;TZID=Asia/Tokyo:{}", local(day.starts)),
        );
        line(out, &format!("DTEND;TZID=Asia/Tokyo:{}", local(day.ends)));
        let title = if e.days.len() == 1 {
            e.title.to_owned()
        } else {
            format!("{} ({}/{})", e.title, i + 1, e.days.len())
        };
        line(out, &format!("SUMMARY:{}", escape(&title)));
        let mut description = e.description.to_owned();
        if !day.itinerary.is_empty() {
            if !description.is_empty() {
                description.push_str("\n\n");
            }
            description.push_str(&day.itinerary);
        }
        if !description.is_empty() {
            line(out, &format!("DESCRIPTION:{}", escape(&description)));
        }
        if !e.location.is_empty() {
            line(out, &format!("LOCATION:{}", escape(e.location)));
        }
        if let Some(url) = e.url {
            // A URI value is not TEXT: no escaping, but no line breaks either.
            line(out, &format!("URL:{}", url.replace(['\r', '\n'], "")));
        }
        line(
            out,
            if e.cancelled {
                "STATUS:CANCELLED"
            } else {
                "STATUS:CONFIRMED"
            },
        );
        line(out, "END:VEVENT");
    }
}

/// A calendar of events: one event's `.ics`, or a tenant's feed named `name`.
pub fn ics(name: &str, events: &[CalendarEvent<'_>]) -> String {
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, "PRODID:-//Yui//Events//JA");
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(&mut out, &format!("X-WR-CALNAME:{}", escape(name)));
    line(&mut out, "X-WR-TIMEZONE:Asia/Tokyo");
    out.push_str(TOKYO);
    for e in events {
        vevent(&mut out, e);
    }
    line(&mut out, "END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, NaiveTime, TimeZone};

    fn day(d: u32, h1: u32, h2: u32, itinerary: &str) -> EventDay {
        EventDay {
            date: NaiveDate::from_ymd_opt(2025, 11, d).unwrap(),
            starts: NaiveTime::from_hms_opt(h1, 0, 0).unwrap(),
            ends: NaiveTime::from_hms_opt(h2, 0, 0).unwrap(),
            itinerary: itinerary.into(),
        }
    }

    fn event<'a>(days: &'a [EventDay], title: &'a str) -> CalendarEvent<'a> {
        CalendarEvent {
            uid: "event-7@iwate.yui.example",
            title,
            description: "集合: 北上駅",
            location: "夏油温泉, 北上市",
            url: Some("https://iwate.yui.example/events/7"),
            days,
            updated_at: Utc.with_ymd_and_hms(2025, 10, 1, 3, 4, 5).unwrap(),
            cancelled: false,
        }
    }

    #[test]
    fn a_two_day_tour() {
        let days = [day(8, 13, 18, "温泉街; 事業者訪問"), day(9, 9, 15, "")];
        let text = ics("遠恋複業", &[event(&days, "夏油温泉フィールドワーク")]);
        assert!(text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(text.ends_with("END:VCALENDAR\r\n"));
        assert!(text.contains("TZID:Asia/Tokyo\r\n"));
        assert!(text.contains("UID:event-7@iwate.yui.example-day1\r\n"));
        assert!(text.contains("UID:event-7@iwate.yui.example-day2\r\n"));
        assert!(text.contains("DTSTART;TZID=Asia/Tokyo:20251108T130000\r\n"));
        assert!(text.contains("DTEND;TZID=Asia/Tokyo:20251109T150000\r\n"));
        assert!(text.contains("SUMMARY:夏油温泉フィールドワーク (2/2)\r\n"));
        assert!(text.contains("DESCRIPTION:集合: 北上駅\\n\\n温泉街\\; 事業者訪問\r\n"));
        assert!(text.contains("LOCATION:夏油温泉\\, 北上市\r\n"));
        assert!(text.contains("DTSTAMP:20251001T030405Z\r\n"));
        assert_eq!(text.matches("\r\nBEGIN:VEVENT\r\n").count(), 2);
    }

    #[test]
    fn hostile_text_cannot_add_properties() {
        let days = [day(8, 13, 18, "")];
        let mut e = event(&days, "x\r\nEND:VEVENT\r\nBEGIN:VEVENT\\");
        e.url = Some("https://a.example/\r\nATTACH:evil");
        e.cancelled = true;
        let text = ics("a,b", &[e]);
        assert_eq!(text.matches("\r\nBEGIN:VEVENT\r\n").count(), 1);
        assert!(text.contains("SUMMARY:x\\nEND:VEVENT\\nBEGIN:VEVENT\\\\\r\n"));
        assert!(text.contains("URL:https://a.example/ATTACH:evil\r\n"));
        assert!(text.contains("X-WR-CALNAME:a\\,b\r\n"));
        assert!(text.contains("STATUS:CANCELLED\r\n"));
        assert!(!text.contains("\r\nATTACH"));
    }

    #[test]
    fn long_lines_fold_between_characters() {
        let days = [day(8, 13, 18, "")];
        let title = "地方複業のはじめかた".repeat(10);
        let text = ics("x", &[event(&days, &title)]);
        for l in text.split("\r\n") {
            assert!(l.len() <= 75, "{l}");
        }
        let unfolded = text.replace("\r\n ", "");
        assert!(unfolded.contains(&format!("SUMMARY:{title}\r\n")));
    }
}
