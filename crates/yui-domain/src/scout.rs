//! Scouting (スカウト): a coordinator invites a talent of the shared pool to one of
//! the tenant's open projects; the talent accepts (joining the tenant with consent)
//! or declines. At most the tenant's daily limit per coordinator per day.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use crate::account::{FieldError, Problem};
use crate::fiscal::tokyo;

/// The longest scout message.
pub const MESSAGE_MAX: usize = 1000;
/// How long a scout waits for an answer.
pub const OPEN_DAYS: i64 = 30;

/// Where a scout stands. `open` moves once, to one of the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoutStatus {
    Open,
    Accepted,
    Declined,
    Withdrawn,
    Expired,
}

impl ScoutStatus {
    pub const ALL: [ScoutStatus; 5] = [
        ScoutStatus::Open,
        ScoutStatus::Accepted,
        ScoutStatus::Declined,
        ScoutStatus::Withdrawn,
        ScoutStatus::Expired,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ScoutStatus::Open => "open",
            ScoutStatus::Accepted => "accepted",
            ScoutStatus::Declined => "declined",
            ScoutStatus::Withdrawn => "withdrawn",
            ScoutStatus::Expired => "expired",
        }
    }

    pub fn parse(code: &str) -> Option<ScoutStatus> {
        ScoutStatus::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Whether a scout may move from `self` to `to`: only an open one moves.
    pub fn can_become(self, to: ScoutStatus) -> bool {
        self == ScoutStatus::Open && to != ScoutStatus::Open
    }

    /// The status as of `now`: an open scout past `expires_at` reads as expired.
    pub fn as_of(self, expires_at: DateTime<Utc>, now: DateTime<Utc>) -> ScoutStatus {
        if self == ScoutStatus::Open && now >= expires_at {
            ScoutStatus::Expired
        } else {
            self
        }
    }
}

/// When a scout sent at `now` expires.
pub fn expires_at(now: DateTime<Utc>) -> DateTime<Utc> {
    now + Duration::days(OPEN_DAYS)
}

/// The day (Asia/Tokyo) a scout sent at `now` counts against the daily limit.
pub fn scout_day(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&tokyo()).date_naive()
}

/// Checks a scout message: required, at most [`MESSAGE_MAX`] characters.
pub fn check_message(text: &str) -> Result<String, FieldError> {
    let text = text.trim().replace("\r\n", "\n");
    if text.is_empty() {
        return Err(FieldError {
            field: "message",
            problem: Problem::Required,
        });
    }
    if text.chars().count() > MESSAGE_MAX {
        return Err(FieldError {
            field: "message",
            problem: Problem::TooLong { max: MESSAGE_MAX },
        });
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn only_open_scouts_move() {
        assert!(ScoutStatus::Open.can_become(ScoutStatus::Accepted));
        assert!(!ScoutStatus::Declined.can_become(ScoutStatus::Accepted));
        assert!(!ScoutStatus::Open.can_become(ScoutStatus::Open));
        for s in ScoutStatus::ALL {
            assert_eq!(ScoutStatus::parse(s.code()), Some(s));
        }
    }

    #[test]
    fn the_day_is_tokyo_s_and_scouts_expire() {
        let late = Utc.with_ymd_and_hms(2026, 11, 30, 15, 30, 0).unwrap();
        assert_eq!(
            scout_day(late),
            NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
        );
        let sent = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        let until = expires_at(sent);
        assert_eq!(ScoutStatus::Open.as_of(until, sent), ScoutStatus::Open);
        assert_eq!(ScoutStatus::Open.as_of(until, until), ScoutStatus::Expired);
        assert_eq!(
            ScoutStatus::Declined.as_of(until, until),
            ScoutStatus::Declined
        );
    }

    #[test]
    fn messages() {
        assert_eq!(
            check_message("  よろしく\r\nお願いします ").unwrap(),
            "よろしく\nお願いします"
        );
        assert_eq!(check_message(" ").unwrap_err().problem, Problem::Required);
        let long = "あ".repeat(MESSAGE_MAX + 1);
        assert!(matches!(
            check_message(&long).unwrap_err().problem,
            Problem::TooLong { .. }
        ));
    }
}
