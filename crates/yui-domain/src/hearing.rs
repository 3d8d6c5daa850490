//! Hearings (ヒアリング): the secretariat's intake interviews with a talent or a host
//! organization — when it was held, notes, needs, strengths, the next step and when
//! it is due. Seen by the tenant's staff only.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::account::{FieldError, Problem};

/// The longest notes.
pub const NOTES_MAX: usize = 8000;
/// The longest needs, strengths or next step.
pub const FIELD_MAX: usize = 2000;

/// The hearing form as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HearingInput {
    #[serde(default)]
    pub held_on: String,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub needs: String,
    #[serde(default)]
    pub strengths: String,
    #[serde(default)]
    pub next_step: String,
    #[serde(default)]
    pub next_due_on: String,
}

/// A checked hearing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HearingFields {
    pub held_on: NaiveDate,
    pub notes: String,
    pub needs: String,
    pub strengths: String,
    pub next_step: String,
    pub next_due_on: Option<NaiveDate>,
}

/// A date as typed: `2026-11-30`, also `2026/11/30` and full-width digits.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let text: String = text
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            '/' | '／' | '－' => '-',
            c => c,
        })
        .collect();
    NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok()
}

/// A multi-line text: trimmed, line ends made `\n`, at most `max` characters.
fn text(
    field: &'static str,
    value: &str,
    max: usize,
    required: bool,
    errors: &mut Vec<FieldError>,
) -> String {
    let value = value.trim().replace("\r\n", "\n");
    if required && value.is_empty() {
        errors.push(FieldError {
            field,
            problem: Problem::Required,
        });
    } else if value.chars().count() > max {
        errors.push(FieldError {
            field,
            problem: Problem::TooLong { max },
        });
    }
    value
}

/// Checks a hearing: a date it was held, notes, and an optional due date for the
/// next step that is not before the hearing.
pub fn check_hearing(input: &HearingInput) -> Result<HearingFields, Vec<FieldError>> {
    let mut errors = Vec::new();
    let held_on = if input.held_on.trim().is_empty() {
        errors.push(FieldError {
            field: "held_on",
            problem: Problem::Required,
        });
        None
    } else {
        let d = parse_date(&input.held_on);
        if d.is_none() {
            errors.push(FieldError {
                field: "held_on",
                problem: Problem::InvalidDate,
            });
        }
        d
    };
    let notes = text("notes", &input.notes, NOTES_MAX, true, &mut errors);
    let needs = text("needs", &input.needs, FIELD_MAX, false, &mut errors);
    let strengths = text("strengths", &input.strengths, FIELD_MAX, false, &mut errors);
    let next_step = text("next_step", &input.next_step, FIELD_MAX, false, &mut errors);
    let next_due_on = if input.next_due_on.trim().is_empty() {
        None
    } else {
        match parse_date(&input.next_due_on) {
            Some(d) if held_on.is_some_and(|h| d < h) => {
                errors.push(FieldError {
                    field: "next_due_on",
                    problem: Problem::DateInPast,
                });
                None
            }
            Some(d) => Some(d),
            None => {
                errors.push(FieldError {
                    field: "next_due_on",
                    problem: Problem::InvalidDate,
                });
                None
            }
        }
    };
    match held_on {
        Some(held_on) if errors.is_empty() => Ok(HearingFields {
            held_on,
            notes,
            needs,
            strengths,
            next_step,
            next_due_on,
        }),
        _ => Err(errors),
    }
}

/// The earliest date a hearing form accepts.
pub const EARLIEST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// The latest date a hearing form accepts on `today` (Asia/Tokyo): one year ahead.
pub fn latest_date(today: NaiveDate) -> NaiveDate {
    today
        .checked_add_months(chrono::Months::new(12))
        .unwrap_or(NaiveDate::MAX)
}

/// [`check_hearing`] as of `today` (Asia/Tokyo): also refuses a date held or due
/// before [`EARLIEST_DATE`] or after [`latest_date`] — a typo such as 2962 for 2026
/// would otherwise sit at the top of every list for ever.
pub fn check_hearing_on(
    input: &HearingInput,
    today: NaiveDate,
) -> Result<HearingFields, Vec<FieldError>> {
    let latest = latest_date(today);
    let outside: Vec<FieldError> = [
        ("held_on", &input.held_on),
        ("next_due_on", &input.next_due_on),
    ]
    .into_iter()
    .filter(|(_, text)| parse_date(text).is_some_and(|d| d < EARLIEST_DATE || d > latest))
    .map(|(field, _)| FieldError {
        field,
        problem: Problem::DateOutOfRange,
    })
    .collect();
    let mut errors = match check_hearing(input) {
        Ok(fields) if outside.is_empty() => return Ok(fields),
        Ok(_) => Vec::new(),
        Err(errors) => errors,
    };
    for e in outside {
        // One problem per field: the range replaces "due before the hearing".
        errors.retain(|x| x.field != e.field);
        errors.push(e);
    }
    // In the form's order.
    let order = [
        "held_on",
        "notes",
        "needs",
        "strengths",
        "next_step",
        "next_due_on",
    ];
    errors.sort_by_key(|e| order.iter().position(|f| *f == e.field));
    Err(errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> HearingInput {
        HearingInput {
            held_on: "2026-11-30".into(),
            notes: "販路開拓の相談".into(),
            needs: "EC".into(),
            strengths: String::new(),
            next_step: "提案書".into(),
            next_due_on: "２０２６／１２／１０".into(),
        }
    }

    #[test]
    fn a_good_hearing() {
        let h = check_hearing(&input()).unwrap();
        assert_eq!(h.held_on, NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
        assert_eq!(h.next_due_on, NaiveDate::from_ymd_opt(2026, 12, 10));
    }

    #[test]
    fn bad_fields_are_named() {
        let bad = HearingInput {
            held_on: "30 Nov".into(),
            notes: "  ".into(),
            next_due_on: "x".into(),
            ..input()
        };
        let fields: Vec<&str> = check_hearing(&bad)
            .unwrap_err()
            .iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["held_on", "notes", "next_due_on"]);
        let early = HearingInput {
            next_due_on: "2026-11-01".into(),
            ..input()
        };
        let e = check_hearing(&early).unwrap_err();
        assert_eq!(e[0].field, "next_due_on");
        assert_eq!(e[0].problem, Problem::DateInPast);
    }

    #[test]
    fn dates_far_ahead_or_long_ago_are_refused() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        assert!(check_hearing_on(&input(), today).is_ok());
        for (held, due) in [
            ("2962-11-30", ""),
            ("1999-12-31", ""),
            ("2026-11-30", "2027-12-01"),
        ] {
            let mut i = input();
            i.held_on = held.into();
            i.next_due_on = due.into();
            let e = check_hearing_on(&i, today).unwrap_err();
            assert!(
                e.iter().all(|e| e.problem == Problem::DateOutOfRange),
                "{held} {due}: {e:?}"
            );
            assert_eq!(e.len(), 1, "{held} {due}: {e:?}");
        }
        // A year ahead is the last day accepted.
        let mut i = input();
        i.held_on = "2027-11-30".into();
        i.next_due_on = String::new();
        assert!(check_hearing_on(&i, today).is_ok());
    }
}
