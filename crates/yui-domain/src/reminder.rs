//! Reminder mails before an event: when each is due, and never twice.
//!
//! An offset is how long before the start a reminder goes out. The store records the
//! offsets already sent per registration; this module only decides.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::account::{FieldError, Problem};

/// The longest offset: a reminder a month ahead is an announcement, not a reminder.
pub const OFFSET_MAX_MINUTES: i64 = 30 * 24 * 60;
/// More reminders than this is spam.
pub const OFFSETS_MAX: usize = 5;

/// How long before the start a reminder goes out, in whole minutes. Stored and
/// written in tenant files as its code (`2d`), which a person can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Offset(i64);

impl TryFrom<String> for Offset {
    type Error = String;
    fn try_from(code: String) -> Result<Offset, String> {
        Offset::parse(&code).ok_or_else(|| format!("not a reminder offset: {code}"))
    }
}

impl From<Offset> for String {
    fn from(o: Offset) -> String {
        o.code()
    }
}

impl Offset {
    /// `None` outside 1 minute ..= 30 days.
    pub fn minutes(minutes: i64) -> Option<Offset> {
        (1..=OFFSET_MAX_MINUTES)
            .contains(&minutes)
            .then_some(Offset(minutes))
    }

    pub fn as_minutes(self) -> i64 {
        self.0
    }

    pub fn duration(self) -> Duration {
        Duration::minutes(self.0)
    }

    /// As a tenant file or form writes it: `2d`, `2h`, `90m`.
    pub fn parse(text: &str) -> Option<Offset> {
        let t = text.trim();
        let (number, unit) = t.split_at(t.len().checked_sub(1)?);
        if !number.bytes().all(|b| b.is_ascii_digit()) || number.is_empty() {
            return None;
        }
        let n: i64 = number.parse().ok()?;
        let minutes = match unit {
            "d" => n.checked_mul(24 * 60)?,
            "h" => n.checked_mul(60)?,
            "m" => n,
            _ => return None,
        };
        Offset::minutes(minutes)
    }

    /// The shortest of `2d`, `2h`, `90m` that says it exactly.
    pub fn code(self) -> String {
        if self.0 % (24 * 60) == 0 {
            format!("{}d", self.0 / (24 * 60))
        } else if self.0 % 60 == 0 {
            format!("{}h", self.0 / 60)
        } else {
            format!("{}m", self.0)
        }
    }
}

/// The platform's default: two days and two hours before the start.
pub fn default_offsets() -> Vec<Offset> {
    vec![Offset(2 * 24 * 60), Offset(2 * 60)]
}

/// A tenant's list of offsets as written (`["2d", "2h"]`): each valid, no more than
/// [`OFFSETS_MAX`], duplicates dropped, longest first (the order they go out).
pub fn check_offsets(field: &'static str, texts: &[String]) -> Result<Vec<Offset>, FieldError> {
    if texts.len() > OFFSETS_MAX {
        return Err(FieldError {
            field,
            problem: Problem::TooMany { max: OFFSETS_MAX },
        });
    }
    let mut offsets = Vec::with_capacity(texts.len());
    for t in texts {
        let Some(o) = Offset::parse(t) else {
            return Err(FieldError {
                field,
                problem: Problem::InvalidChoice,
            });
        };
        offsets.push(o);
    }
    offsets.sort_unstable_by(|a, b| b.cmp(a));
    offsets.dedup();
    Ok(offsets)
}

/// The reminders to send now for an event starting at `starts_at`.
///
/// An offset is due once its moment has come and the event has not started. When a
/// node was down past several moments, only the nearest one to the start is sent:
/// two reminders in the same minute say nothing the second one does not.
pub fn due_reminders(
    starts_at: DateTime<Utc>,
    offsets: &[Offset],
    now: DateTime<Utc>,
    already_sent: &[Offset],
) -> Vec<Offset> {
    if now >= starts_at {
        return Vec::new();
    }
    let passed: Vec<Offset> = offsets
        .iter()
        .copied()
        .filter(|o| starts_at - o.duration() <= now)
        .collect();
    // The nearest passed moment is the shortest offset; longer ones that were missed
    // are stale and are marked sent by the caller so they are not retried.
    let Some(nearest) = passed.iter().copied().min() else {
        return Vec::new();
    };
    if already_sent.contains(&nearest) {
        return Vec::new();
    }
    vec![nearest]
}

/// Offsets whose moment has passed without being sent and that will never be sent
/// because a nearer one is due or sent: the store marks them so nothing retries them.
pub fn stale_reminders(
    starts_at: DateTime<Utc>,
    offsets: &[Offset],
    now: DateTime<Utc>,
    already_sent: &[Offset],
) -> Vec<Offset> {
    let due = due_reminders(starts_at, offsets, now, already_sent);
    let mut stale: Vec<Offset> = offsets
        .iter()
        .copied()
        .filter(|o| {
            starts_at - o.duration() <= now && !already_sent.contains(o) && !due.contains(o)
        })
        .collect();
    stale.sort_unstable_by(|a, b| b.cmp(a));
    stale.dedup();
    stale
}

/// Offsets whose moment had passed when a person registered: the confirmation mail
/// stands in for them, so the store records them as sent with the registration and
/// a late registrant is not sent a "two days before" mail a minute after confirming.
pub fn covered_by_confirmation(
    starts_at: DateTime<Utc>,
    offsets: &[Offset],
    registered_at: DateTime<Utc>,
) -> Vec<Offset> {
    offsets
        .iter()
        .copied()
        .filter(|o| starts_at - o.duration() <= registered_at)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 8, d, h, m, 0).unwrap()
    }

    #[test]
    fn offsets_parse_and_print() {
        assert_eq!(Offset::parse("2d").unwrap().as_minutes(), 2880);
        assert_eq!(Offset::parse(" 2h ").unwrap().as_minutes(), 120);
        assert_eq!(Offset::parse("90m").unwrap().code(), "90m");
        assert_eq!(Offset::parse("120m").unwrap().code(), "2h");
        assert_eq!(Offset::parse("1440m").unwrap().code(), "1d");
        assert_eq!(Offset::parse("30d").unwrap().code(), "30d");
        for bad in [
            "",
            "d",
            "0h",
            "31d",
            "-2h",
            "+2h",
            "2x",
            "2 h",
            "２h",
            "99999999999999999999d",
            "2",
            "h2",
            "2dd",
        ] {
            assert_eq!(Offset::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn tenant_lists_checked() {
        let list = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            check_offsets("reminders", &list(&["2h", "2d", "120m"])).unwrap(),
            default_offsets()
        );
        assert_eq!(check_offsets("reminders", &[]).unwrap(), vec![]);
        assert_eq!(
            check_offsets("reminders", &list(&["1h"; 6])).unwrap_err(),
            FieldError {
                field: "reminders",
                problem: Problem::TooMany { max: 5 }
            }
        );
        assert_eq!(
            check_offsets("reminders", &list(&["2d", "40d"]))
                .unwrap_err()
                .problem,
            Problem::InvalidChoice
        );
    }

    #[test]
    fn due_at_each_moment_once() {
        let start = at(25, 10, 0);
        let offsets = default_offsets();
        let two_days = offsets[0];
        let two_hours = offsets[1];
        assert!(due_reminders(start, &offsets, at(23, 9, 59), &[]).is_empty());
        assert_eq!(
            due_reminders(start, &offsets, at(23, 10, 0), &[]),
            vec![two_days]
        );
        assert!(due_reminders(start, &offsets, at(24, 0, 0), &[two_days]).is_empty());
        assert_eq!(
            due_reminders(start, &offsets, at(25, 8, 0), &[two_days]),
            vec![two_hours]
        );
        assert!(due_reminders(start, &offsets, at(25, 9, 0), &[two_days, two_hours]).is_empty());
        // Never once the event has started, even if nothing went out.
        assert!(due_reminders(start, &offsets, at(25, 10, 0), &[]).is_empty());
        assert!(due_reminders(start, &offsets, at(26, 0, 0), &[]).is_empty());
    }

    #[test]
    fn late_registrants_get_only_the_reminders_ahead() {
        let start = at(25, 10, 0);
        let offsets = default_offsets();
        let registered = at(24, 10, 0);
        let sent = covered_by_confirmation(start, &offsets, registered);
        assert_eq!(sent, [offsets[0]]);
        assert!(due_reminders(start, &offsets, at(24, 10, 1), &sent).is_empty());
        assert_eq!(
            due_reminders(start, &offsets, at(25, 8, 0), &sent),
            [offsets[1]]
        );
        assert!(covered_by_confirmation(start, &offsets, at(1, 0, 0)).is_empty());
    }

    #[test]
    fn missed_moments_collapse_to_the_nearest() {
        let start = at(25, 10, 0);
        let offsets = default_offsets();
        // Registered (or the node came back) an hour before: only the 2-hour one.
        assert_eq!(
            due_reminders(start, &offsets, at(25, 9, 0), &[]),
            vec![offsets[1]]
        );
        assert_eq!(
            stale_reminders(start, &offsets, at(25, 9, 0), &[]),
            vec![offsets[0]]
        );
        assert!(stale_reminders(start, &offsets, at(24, 0, 0), &[]).is_empty());
        assert!(stale_reminders(start, &offsets, at(24, 0, 0), &[offsets[0]]).is_empty());
    }
}
