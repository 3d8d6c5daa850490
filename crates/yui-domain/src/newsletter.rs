//! Newsletters (関係人口のコミュニティ化): what staff write to the members of their
//! tenant who opted in, and the pace at which a tenant's newsletters leave.
//!
//! The subject goes into a mail header. It is one line of text: line breaks and
//! other control characters are refused here, so nothing typed can start a header
//! of its own.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::Locale;
use crate::account::{FieldError, Problem};

/// The longest subject, in characters.
pub const SUBJECT_MAX: usize = 150;
/// The longest body, in characters.
pub const BODY_MAX: usize = 10_000;
/// Newsletter mails of one tenant per minute, unless configured otherwise.
pub const DEFAULT_PER_MINUTE: u32 = 60;

/// The compose form as typed. `send_key` is the form's own random key: the same
/// form posted twice is one newsletter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewsletterInput {
    #[serde(default)]
    pub subject_ja: String,
    #[serde(default)]
    pub body_ja: String,
    #[serde(default)]
    pub subject_en: String,
    #[serde(default)]
    pub body_en: String,
    #[serde(default)]
    pub send_key: String,
}

/// One language's text of a newsletter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewsletterText {
    pub subject: String,
    pub body: String,
}

/// A checked newsletter: Japanese always, English when given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewsletterFields {
    pub ja: NewsletterText,
    pub en: Option<NewsletterText>,
    pub send_key: String,
}

impl NewsletterFields {
    /// The text a reader of `locale` gets: their language, else Japanese.
    pub fn text(&self, locale: Locale) -> &NewsletterText {
        match (locale, &self.en) {
            (Locale::En, Some(en)) => en,
            _ => &self.ja,
        }
    }
}

fn subject(field: &'static str, value: &str, errors: &mut Vec<FieldError>) -> String {
    let value = value.trim();
    if value.chars().any(char::is_control) {
        errors.push(FieldError {
            field,
            problem: Problem::LineBreak,
        });
    } else if value.chars().count() > SUBJECT_MAX {
        errors.push(FieldError {
            field,
            problem: Problem::TooLong { max: SUBJECT_MAX },
        });
    }
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn body(field: &'static str, value: &str, errors: &mut Vec<FieldError>) -> String {
    let value = value.trim().replace("\r\n", "\n").replace('\r', "\n");
    if value.chars().count() > BODY_MAX {
        errors.push(FieldError {
            field,
            problem: Problem::TooLong { max: BODY_MAX },
        });
    }
    value
}

fn required(field: &'static str, value: &str, errors: &mut Vec<FieldError>) {
    if value.is_empty() && !errors.iter().any(|e| e.field == field) {
        errors.push(FieldError {
            field,
            problem: Problem::Required,
        });
    }
}

/// Checks a newsletter: a Japanese subject and body; an English subject and body
/// both or neither; subjects on one line.
pub fn check_newsletter(input: &NewsletterInput) -> Result<NewsletterFields, Vec<FieldError>> {
    let mut errors = Vec::new();
    let subject_ja = subject("subject_ja", &input.subject_ja, &mut errors);
    let body_ja = body("body_ja", &input.body_ja, &mut errors);
    let subject_en = subject("subject_en", &input.subject_en, &mut errors);
    let body_en = body("body_en", &input.body_en, &mut errors);
    required("subject_ja", &subject_ja, &mut errors);
    required("body_ja", &body_ja, &mut errors);
    let en = if subject_en.is_empty() && body_en.is_empty() {
        None
    } else {
        required("subject_en", &subject_en, &mut errors);
        required("body_en", &body_en, &mut errors);
        Some(NewsletterText {
            subject: subject_en,
            body: body_en,
        })
    };
    let send_key = input.send_key.trim();
    let key_ok = (16..=64).contains(&send_key.len())
        && send_key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !key_ok {
        // Only a form not made by the page lacks it: ask to send again from the page.
        errors.push(FieldError {
            field: "send_key",
            problem: Problem::Required,
        });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(NewsletterFields {
        ja: NewsletterText {
            subject: subject_ja,
            body: body_ja,
        },
        en,
        send_key: send_key.to_owned(),
    })
}

/// When each of `count` newsletter mails may leave, at `per_minute` a minute
/// starting with the first free slot (`free`, or `now` if that has passed): evenly
/// spaced, so a tenant never sends more than `per_minute` in any minute. Returns
/// the slots and the next free one after them.
pub fn pace(
    now: DateTime<Utc>,
    free: Option<DateTime<Utc>>,
    per_minute: u32,
    count: usize,
) -> (Vec<DateTime<Utc>>, DateTime<Utc>) {
    let start = free.filter(|f| *f > now).unwrap_or(now);
    let step = TimeDelta::milliseconds(60_000 / i64::from(per_minute.max(1)));
    let slots: Vec<DateTime<Utc>> = (0..count)
        .map(|i| start + step * i32::try_from(i).unwrap_or(i32::MAX))
        .collect();
    let next = start + step * i32::try_from(count).unwrap_or(i32::MAX);
    (slots, next)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn input() -> NewsletterInput {
        NewsletterInput {
            subject_ja: " 秋の 交流会のお知らせ ".into(),
            body_ja: "本文\r\n二行目".into(),
            send_key: "0123456789abcdef0123".into(),
            ..NewsletterInput::default()
        }
    }

    #[test]
    fn japanese_is_needed_english_is_optional_but_whole() {
        let f = check_newsletter(&input()).unwrap();
        assert_eq!(f.ja.subject, "秋の 交流会のお知らせ");
        assert_eq!(f.ja.body, "本文\n二行目");
        assert_eq!(f.text(Locale::En), &f.ja);
        let mut half = input();
        half.subject_en = "Autumn meet-up".into();
        let errors = check_newsletter(&half).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "body_en");
        half.body_en = "Body".into();
        let f = check_newsletter(&half).unwrap();
        assert_eq!(f.text(Locale::En).subject, "Autumn meet-up");
        let errors = check_newsletter(&NewsletterInput::default()).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["subject_ja", "body_ja", "send_key"]);
    }

    #[test]
    fn a_subject_cannot_carry_a_header() {
        for forged in ["件名\r\nBcc: all@example.jp", "件名\nX: y", "件名\u{0}"] {
            let mut i = input();
            i.subject_ja = forged.into();
            let errors = check_newsletter(&i).unwrap_err();
            assert_eq!(errors[0].field, "subject_ja");
            assert_eq!(errors[0].problem, Problem::LineBreak);
        }
    }

    #[test]
    fn the_pace_spreads_mails_over_minutes() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let (slots, next) = pace(now, None, 2, 5);
        let secs: Vec<i64> = slots.iter().map(|s| (*s - now).num_seconds()).collect();
        assert_eq!(secs, [0, 30, 60, 90, 120]);
        assert_eq!((next - now).num_seconds(), 150);
        // A second send waits for the first; a free slot in the past is now.
        let (slots, _) = pace(now, Some(next), 2, 1);
        assert_eq!(slots[0], next);
        let (slots, _) = pace(now, Some(now - TimeDelta::hours(1)), 2, 1);
        assert_eq!(slots[0], now);
    }
}
