//! Check-in (受付): the code on a confirmation that staff scan or type at the door,
//! and attendance day by day for events that span days.
//!
//! Randomness comes in as bytes, so the code is a pure function of them.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Letters and digits that cannot be mistaken for one another when read aloud or
/// off a phone held up at the door: no 0/O, 1/I/L, and no U (it reads as V).
pub const ALPHABET: &[u8; 30] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Characters in a code: 30^8 ≈ 6.6·10^11, far beyond guessing at an event's door.
pub const CODE_LEN: usize = 8;

/// A check-in code in its normal form: upper-case letters of [`ALPHABET`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CheckinCode(String);

impl CheckinCode {
    /// A code from random bytes; `None` when too few bytes were given. Each byte is
    /// reduced modulo the alphabet, so the caller should pass bytes from a CSPRNG.
    pub fn from_random(bytes: &[u8]) -> Option<CheckinCode> {
        if bytes.len() < CODE_LEN {
            return None;
        }
        let code = bytes[..CODE_LEN]
            .iter()
            .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
            .collect();
        Some(CheckinCode(code))
    }

    /// A typed or scanned code: full-width letters from a Japanese input method,
    /// lower case, spaces and hyphens (as printed, `ABCD-EFGH`) are accepted.
    pub fn parse(typed: &str) -> Option<CheckinCode> {
        let mut code = String::with_capacity(CODE_LEN);
        for c in typed.chars() {
            let c = match c {
                '！'..='～' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
                c => c,
            };
            if c.is_whitespace() || matches!(c, '-' | '‐' | '−' | 'ー' | '―') {
                continue;
            }
            let c = c.to_ascii_uppercase();
            if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
                return None;
            }
            code.push(c);
            // A pasted page is not a code; stop before reading all of it.
            if code.len() > CODE_LEN {
                return None;
            }
        }
        (code.len() == CODE_LEN).then_some(CheckinCode(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// As printed on a confirmation: two groups of four, easier to read out.
    pub fn display(&self) -> String {
        let (a, b) = self.0.split_at(CODE_LEN / 2);
        format!("{a}-{b}")
    }
}

impl std::fmt::Display for CheckinCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a check-in for a day is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckinRefusal {
    /// The date is not one of the event's days.
    NotAnEventDay,
    /// Already checked in that day: a second scan changes nothing.
    AlreadyCheckedIn,
}

/// The days a registrant was present, for an event of one or several days.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attendance {
    days: Vec<NaiveDate>,
}

impl Attendance {
    pub fn days(&self) -> &[NaiveDate] {
        &self.days
    }

    /// Records presence on `day`, one of `event_days`.
    pub fn check_in(
        &mut self,
        event_days: &[NaiveDate],
        day: NaiveDate,
    ) -> Result<(), CheckinRefusal> {
        if !event_days.contains(&day) {
            return Err(CheckinRefusal::NotAnEventDay);
        }
        if self.days.contains(&day) {
            return Err(CheckinRefusal::AlreadyCheckedIn);
        }
        self.days.push(day);
        self.days.sort_unstable();
        Ok(())
    }

    /// Present on any day: a tour's participant who came only the first day attended.
    pub fn attended(&self) -> bool {
        !self.days.is_empty()
    }

    /// Present on every day of the event (e.g. for a travel subsidy that asks it).
    pub fn attended_all(&self, event_days: &[NaiveDate]) -> bool {
        !event_days.is_empty() && event_days.iter().all(|d| self.days.contains(d))
    }

    /// Whether the registration is a no-show once the event is over: no day at all.
    pub fn no_show(&self) -> bool {
        self.days.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, m, d).unwrap()
    }

    #[test]
    fn alphabet_has_no_look_alikes() {
        for c in b"01OILU" {
            assert!(!ALPHABET.contains(c), "{}", char::from(*c));
        }
        let mut sorted = ALPHABET.to_vec();
        sorted.dedup();
        assert_eq!(sorted.len(), ALPHABET.len());
    }

    #[test]
    fn code_from_bytes() {
        let code = CheckinCode::from_random(&[0, 1, 2, 3, 30, 31, 255, 62]).unwrap();
        assert_eq!(code.as_str().len(), CODE_LEN);
        assert!(code.as_str().bytes().all(|b| ALPHABET.contains(&b)));
        assert_eq!(&code.as_str()[..4], "2345");
        assert_eq!(CheckinCode::from_random(&[0; 7]), None);
        // Extra bytes are ignored, the same prefix makes the same code.
        assert_eq!(
            CheckinCode::from_random(&[9; 12]),
            CheckinCode::from_random(&[9; 8])
        );
    }

    #[test]
    fn typed_codes_normalise() {
        let code = CheckinCode::from_random(&[0, 1, 2, 3, 10, 11, 12, 13]).unwrap();
        assert_eq!(code.display(), "2345-CDEF");
        for typed in [
            "2345CDEF",
            "2345-cdef",
            " 2345 cdef ",
            "２３４５－ＣＤＥＦ",
            "２３４５ｃｄｅｆ",
            "2345　CDEF",
        ] {
            assert_eq!(CheckinCode::parse(typed).as_ref(), Some(&code), "{typed}");
        }
    }

    #[test]
    fn hostile_codes_refused() {
        for typed in [
            "",
            "2345CDE",
            "2345CDEFG",
            "2345CDE0",
            "2345CDEO",
            "2345CDEI",
            "2345CDE1",
            "2345CDÉF",
            "2345CDE\u{200B}F",
            "2345CDEF\0",
            "'; drop",
            "２３４５ＣＤＥあ",
        ] {
            assert_eq!(CheckinCode::parse(typed), None, "{typed:?}");
        }
    }

    #[test]
    fn attendance_per_day() {
        let tour = [day(11, 8), day(11, 9)];
        let mut a = Attendance::default();
        assert!(a.no_show());
        assert_eq!(
            a.check_in(&tour, day(11, 10)),
            Err(CheckinRefusal::NotAnEventDay)
        );
        a.check_in(&tour, day(11, 9)).unwrap();
        assert_eq!(
            a.check_in(&tour, day(11, 9)),
            Err(CheckinRefusal::AlreadyCheckedIn)
        );
        assert!(a.attended() && !a.attended_all(&tour));
        a.check_in(&tour, day(11, 8)).unwrap();
        assert_eq!(a.days(), &tour);
        assert!(a.attended_all(&tour));
        assert!(!a.attended_all(&[]));
    }
}
