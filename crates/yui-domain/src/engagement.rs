//! Engagements: the partnership a match became, and its follow-up (伴走).
//!
//! The state machine (proposed → active ⇄ paused → completed / ended, and a
//! completed one active again only through a renewal), the terms kept as history,
//! the monthly check-ins, the reflections at the end of a term, and the at-risk rule
//! the coordinators' daily digest lists. No I/O: times and days are passed in.

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::account::{FieldError, Problem};
use crate::hearing::parse_date;

/// The longest progress report or mentor's note.
pub const PROGRESS_MAX: usize = 4000;
/// The longest concern, end note, terms note or reflection answer.
pub const TEXT_MAX: usize = 2000;
/// The most hours in a month (31 days of 24 hours).
pub const HOURS_MAX: u32 = 744;
/// The largest amount in yen a form takes (a billion: far beyond any side job).
pub const AMOUNT_MAX: u64 = 1_000_000_000;
/// Days without a check-in after which an active engagement is at risk.
pub const SILENT_DAYS: i64 = 45;
/// A satisfaction at or below this puts an engagement at risk.
pub const LOW_SATISFACTION: u8 = 2;

macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The name stored in the database and used in forms.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }

            /// The value with this exact name.
            pub fn parse(s: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }
    };
}

named_enum!(
    /// Where an engagement stands.
    EngagementStatus {
        /// Confirmed by both sides (or entered by a coordinator), not started yet.
        Proposed => "proposed",
        Active => "active",
        /// On hold (a busy season, a leave); check-ins are not expected.
        Paused => "paused",
        /// The term ran its course.
        Completed => "completed",
        /// Stopped before or without completing, with a reason.
        Ended => "ended",
    }
);

named_enum!(
    /// Why an engagement ended (the reports count these).
    EndReason {
        GoalReached => "goal_reached",
        TermOver => "term_over",
        HostCircumstances => "host_circumstances",
        TalentCircumstances => "talent_circumstances",
        Mismatch => "mismatch",
        Other => "other",
    }
);

named_enum!(
    /// How the talent works with the host.
    WorkStyle {
        Remote => "remote",
        Onsite => "onsite",
        Mixed => "mixed",
    }
);

named_enum!(
    /// What the talent receives.
    Compensation {
        /// プロボノ: nothing.
        ProBono => "pro_bono",
        /// 実費のみ: travel and costs.
        Expenses => "expenses",
        /// 謝礼.
        Honorarium => "honorarium",
        /// 業務委託: a paid contract.
        Contract => "contract",
    }
);

named_enum!(
    /// Why a row of terms was written.
    TermsChange {
        Initial => "initial",
        /// A change during the term (from pro bono to a paid contract).
        Change => "change",
        /// A new term.
        Renewal => "renewal",
    }
);

named_enum!(
    /// Who wrote a check-in: the talent, the host, or the mentor (a note).
    CheckinSide {
        Talent => "talent",
        Host => "host",
        Mentor => "mentor",
    }
);

named_enum!(
    /// Whether a side wishes to continue after a term.
    ContinueWish {
        Yes => "yes",
        Maybe => "maybe",
        No => "no",
    }
);

impl Compensation {
    /// Whether the terms state an amount (an honorarium or a contract's fee).
    pub fn has_amount(self) -> bool {
        matches!(self, Compensation::Honorarium | Compensation::Contract)
    }
}

/// Why a move of the state machine is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveError {
    /// The machine has no such move from the current status.
    NotAllowed,
    /// Starting needs a start date and terms.
    NeedsStart,
    /// Ending needs a reason from the list.
    NeedsReason,
}

impl EngagementStatus {
    /// Whether `self → to` is one of the machine's plain moves. A completed
    /// engagement becomes active again only through [`check_renewal`].
    pub fn can_move_to(self, to: EngagementStatus) -> bool {
        use EngagementStatus::*;
        matches!(
            (self, to),
            (Proposed, Active)
                | (Active, Paused)
                | (Paused, Active)
                | (Active | Paused, Completed | Ended)
                | (Proposed, Ended)
        )
    }

    /// The statuses a coordinator may move to from here.
    pub fn next(self) -> Vec<EngagementStatus> {
        EngagementStatus::ALL
            .iter()
            .copied()
            .filter(|to| self.can_move_to(*to))
            .collect()
    }

    /// Whether the partnership is under way (check-ins expected or possible).
    pub fn is_running(self) -> bool {
        matches!(self, EngagementStatus::Active | EngagementStatus::Paused)
    }
}

/// Checks a move: allowed from `from`, starting with a start date and terms,
/// ending with a reason.
pub fn check_move(
    from: EngagementStatus,
    to: EngagementStatus,
    has_start_and_terms: bool,
    reason: Option<EndReason>,
) -> Result<(), MoveError> {
    if !from.can_move_to(to) {
        return Err(MoveError::NotAllowed);
    }
    if from == EngagementStatus::Proposed && to == EngagementStatus::Active && !has_start_and_terms
    {
        return Err(MoveError::NeedsStart);
    }
    if to == EngagementStatus::Ended && reason.is_none() {
        return Err(MoveError::NeedsReason);
    }
    Ok(())
}

/// A renewal (a new term) is for an engagement that ran: active, paused or
/// completed. It makes the engagement active again.
pub fn check_renewal(from: EngagementStatus) -> Result<(), MoveError> {
    match from {
        EngagementStatus::Active | EngagementStatus::Paused | EngagementStatus::Completed => Ok(()),
        _ => Err(MoveError::NotAllowed),
    }
}

/// Today in Asia/Tokyo at `now`.
pub fn japan_day(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&crate::fiscal::tokyo()).date_naive()
}

/// The Japan month of `now`, as `YYYY-MM`.
pub fn japan_month(now: DateTime<Utc>) -> String {
    let d = japan_day(now);
    format!("{:04}-{:02}", d.year(), d.month())
}

/// Full-width digits and separators an input method types, as ASCII.
fn half_width(value: &str) -> String {
    value
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' | '－' | '／' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
            '，' | ',' | '　' | ' ' | '円' | '¥' | '￥' => '\0',
            c => c,
        })
        .filter(|c| *c != '\0')
        .collect()
}

fn push(errors: &mut Vec<FieldError>, field: &'static str, problem: Problem) {
    errors.push(FieldError { field, problem });
}

/// Text others will read: trimmed, line ends `\n`, no control characters but line
/// breaks and no bidirectional overrides or isolates (they make text read
/// differently from what it is), as the event answers are kept.
pub fn clean_text(value: &str) -> String {
    value
        .replace("\r\n", "\n")
        .chars()
        .filter(|c| *c == '\n' || !c.is_control())
        .filter(|c| !matches!(*c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
        .collect::<String>()
        .trim()
        .to_owned()
}

fn text(
    errors: &mut Vec<FieldError>,
    field: &'static str,
    value: &str,
    max: usize,
    required: bool,
) -> String {
    let v = clean_text(value);
    if required && v.is_empty() {
        push(errors, field, Problem::Required);
    } else if v.chars().count() > max {
        push(errors, field, Problem::TooLong { max });
    }
    v
}

/// A whole number in `min..=max` as typed (full-width digits, commas and 円 read
/// too); `None` when empty or wrong (the error pushed).
fn number(
    errors: &mut Vec<FieldError>,
    field: &'static str,
    value: &str,
    min: u64,
    max: u64,
    required: bool,
) -> Option<u64> {
    let v = half_width(value);
    if v.is_empty() {
        if required {
            push(errors, field, Problem::Required);
        }
        return None;
    }
    match v.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Some(n),
        _ => {
            push(
                errors,
                field,
                Problem::OutOfRange {
                    min: min as usize,
                    max: max as usize,
                },
            );
            None
        }
    }
}

fn date(
    errors: &mut Vec<FieldError>,
    field: &'static str,
    value: &str,
    required: bool,
) -> Option<NaiveDate> {
    if value.trim().is_empty() {
        if required {
            push(errors, field, Problem::Required);
        }
        return None;
    }
    let d = parse_date(value);
    if d.is_none() {
        push(errors, field, Problem::InvalidDate);
    }
    d.filter(|d| {
        let ok = (2000..=2100).contains(&d.year());
        if !ok {
            push(errors, field, Problem::DateOutOfRange);
        }
        ok
    })
}

fn choice<T: Copy>(
    errors: &mut Vec<FieldError>,
    field: &'static str,
    value: &str,
    parse: fn(&str) -> Option<T>,
) -> Option<T> {
    if value.trim().is_empty() {
        push(errors, field, Problem::Required);
        return None;
    }
    let v = parse(value.trim());
    if v.is_none() {
        push(errors, field, Problem::InvalidChoice);
    }
    v
}

/// The terms form as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermsInput {
    #[serde(default)]
    pub term_starts_on: String,
    #[serde(default)]
    pub term_ends_on: String,
    #[serde(default)]
    pub hours_per_month: String,
    #[serde(default)]
    pub term_work_style: String,
    #[serde(default)]
    pub compensation: String,
    #[serde(default)]
    pub amount_yen: String,
    #[serde(default)]
    pub terms_note: String,
}

/// Checked terms of one term of an engagement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Terms {
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub hours_per_month: Option<u32>,
    pub work_style: WorkStyle,
    pub compensation: Compensation,
    /// Set for an honorarium or a contract, absent otherwise (pro bono has no amount).
    pub amount_yen: Option<u64>,
    pub note: String,
}

/// Checks terms: a start date, an end not before it, 0–744 hours a month, the
/// style and compensation from their lists, and an amount for an honorarium or a
/// contract (ignored for pro bono and expenses).
pub fn check_terms(input: &TermsInput) -> Result<Terms, Vec<FieldError>> {
    let mut errors = Vec::new();
    let starts_on = date(&mut errors, "term_starts_on", &input.term_starts_on, true);
    let ends_on = date(&mut errors, "term_ends_on", &input.term_ends_on, false);
    if let (Some(s), Some(e)) = (starts_on, ends_on)
        && e < s
    {
        push(&mut errors, "term_ends_on", Problem::OutOfOrder);
    }
    let hours = number(
        &mut errors,
        "hours_per_month",
        &input.hours_per_month,
        0,
        u64::from(HOURS_MAX),
        false,
    );
    let work_style = choice(
        &mut errors,
        "term_work_style",
        &input.term_work_style,
        WorkStyle::parse,
    );
    let compensation = choice(
        &mut errors,
        "compensation",
        &input.compensation,
        Compensation::parse,
    );
    let amount_yen = match compensation {
        Some(c) if c.has_amount() => number(
            &mut errors,
            "amount_yen",
            &input.amount_yen,
            0,
            AMOUNT_MAX,
            true,
        ),
        _ => None,
    };
    let note = text(
        &mut errors,
        "terms_note",
        &input.terms_note,
        TEXT_MAX,
        false,
    );
    match (starts_on, work_style, compensation) {
        (Some(starts_on), Some(work_style), Some(compensation)) if errors.is_empty() => Ok(Terms {
            starts_on,
            ends_on,
            hours_per_month: hours.map(|h| h as u32),
            work_style,
            compensation,
            amount_yen,
            note,
        }),
        _ => Err(errors),
    }
}

/// The form that ends an engagement, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndInput {
    #[serde(default)]
    pub end_reason: String,
    #[serde(default)]
    pub end_note: String,
}

/// Checks the reason an engagement ended (from the list) and its free text.
pub fn check_end(input: &EndInput) -> Result<(EndReason, String), Vec<FieldError>> {
    let mut errors = Vec::new();
    let reason = choice(
        &mut errors,
        "end_reason",
        &input.end_reason,
        EndReason::parse,
    );
    let note = text(&mut errors, "end_note", &input.end_note, TEXT_MAX, false);
    if reason == Some(EndReason::Other) && note.is_empty() {
        push(&mut errors, "end_note", Problem::Required);
    }
    match reason {
        Some(r) if errors.is_empty() => Ok((r, note)),
        _ => Err(errors),
    }
}

/// A start date for activation, as typed; not more than a year ahead of `today`.
pub fn check_start(value: &str, today: NaiveDate) -> Result<NaiveDate, Vec<FieldError>> {
    let mut errors = Vec::new();
    let d = date(&mut errors, "started_on", value, true);
    match d {
        Some(d) if d > crate::hearing::latest_date(today) => {
            push(&mut errors, "started_on", Problem::DateOutOfRange);
            Err(errors)
        }
        Some(d) if errors.is_empty() => Ok(d),
        _ => Err(errors),
    }
}

/// The monthly check-in form, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckinInput {
    #[serde(default)]
    pub checkin_month: String,
    #[serde(default)]
    pub progress: String,
    #[serde(default)]
    pub satisfaction: String,
    #[serde(default)]
    pub concern: String,
}

/// A checked check-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checkin {
    /// `YYYY-MM`, Japan time, not after the current month.
    pub month: String,
    pub progress: String,
    pub satisfaction: u8,
    /// `None`: no concern flagged.
    pub concern: Option<String>,
}

/// A month as typed (`2026-11`, `2026/11`, `２０２６－１１`), as `YYYY-MM`.
pub fn parse_month(value: &str) -> Option<(i32, u32)> {
    let v = half_width(value).replace('/', "-");
    let (y, m) = v.split_once('-')?;
    let y: i32 = y.parse().ok()?;
    let m: u32 = m.parse().ok()?;
    ((2000..=2100).contains(&y) && (1..=12).contains(&m)).then_some((y, m))
}

/// Checks a check-in at `now` on an engagement that started on `started_on`: a
/// month from the start's to the current one (Japan time) — a month before the
/// partnership began is none of its months, and would count on the talent's
/// certificate —, progress, a satisfaction of 1–5, an optional concern.
pub fn check_checkin(
    input: &CheckinInput,
    started_on: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<Checkin, Vec<FieldError>> {
    let mut errors = Vec::new();
    let today = japan_day(now);
    let first = started_on.map_or((i32::MIN, 0), |d| (d.year(), d.month()));
    let month = if input.checkin_month.trim().is_empty() {
        push(&mut errors, "checkin_month", Problem::Required);
        None
    } else {
        match parse_month(&input.checkin_month) {
            Some((y, m)) if (y, m) > (today.year(), today.month()) || (y, m) < first => {
                push(
                    &mut errors,
                    "checkin_month",
                    Problem::MonthOutsideEngagement,
                );
                None
            }
            Some((y, m)) => Some(format!("{y:04}-{m:02}")),
            None => {
                push(&mut errors, "checkin_month", Problem::InvalidDate);
                None
            }
        }
    };
    let progress = text(&mut errors, "progress", &input.progress, PROGRESS_MAX, true);
    let satisfaction = number(&mut errors, "satisfaction", &input.satisfaction, 1, 5, true);
    let concern = text(&mut errors, "concern", &input.concern, TEXT_MAX, false);
    match (month, satisfaction) {
        (Some(month), Some(s)) if errors.is_empty() => Ok(Checkin {
            month,
            progress,
            satisfaction: s as u8,
            concern: (!concern.is_empty()).then_some(concern),
        }),
        _ => Err(errors),
    }
}

/// A mentor's note, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteInput {
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub note_concern: String,
}

/// Checks a mentor's note: text, and an optional concern.
pub fn check_note(input: &NoteInput) -> Result<(String, Option<String>), Vec<FieldError>> {
    let mut errors = Vec::new();
    let note = text(&mut errors, "note", &input.note, PROGRESS_MAX, true);
    let concern = text(
        &mut errors,
        "note_concern",
        &input.note_concern,
        TEXT_MAX,
        false,
    );
    if errors.is_empty() {
        Ok((note, (!concern.is_empty()).then_some(concern)))
    } else {
        Err(errors)
    }
}

/// The reflection form (振り返り), as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReflectionInput {
    #[serde(default)]
    pub achieved: String,
    #[serde(default)]
    pub learned: String,
    #[serde(default)]
    pub continue_wish: String,
}

/// A checked reflection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reflection {
    pub achieved: String,
    pub learned: String,
    pub continue_wish: ContinueWish,
}

pub fn check_reflection(input: &ReflectionInput) -> Result<Reflection, Vec<FieldError>> {
    let mut errors = Vec::new();
    let achieved = text(&mut errors, "achieved", &input.achieved, TEXT_MAX, true);
    let learned = text(&mut errors, "learned", &input.learned, TEXT_MAX, true);
    let wish = choice(
        &mut errors,
        "continue_wish",
        &input.continue_wish,
        ContinueWish::parse,
    );
    match wish {
        Some(continue_wish) if errors.is_empty() => Ok(Reflection {
            achieved,
            learned,
            continue_wish,
        }),
        _ => Err(errors),
    }
}

/// Whether a term has come to its end at `today`: the engagement is completed or
/// ended, or the term's end date has come. Reflections are asked for then.
pub fn term_over(status: EngagementStatus, ends_on: Option<NaiveDate>, today: NaiveDate) -> bool {
    matches!(
        status,
        EngagementStatus::Completed | EngagementStatus::Ended
    ) || ends_on.is_some_and(|e| e <= today)
}

/// Why an engagement is at risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskCause {
    /// No check-in from either side for [`SILENT_DAYS`] days.
    Silent,
    /// A side's latest satisfaction is [`LOW_SATISFACTION`] or less.
    LowSatisfaction,
    /// A side's latest check-in flags a concern.
    Concern,
}

/// What the at-risk rule reads of an active engagement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskFacts {
    /// The latest check-in from the talent or the host, if any.
    pub last_checkin_at: Option<DateTime<Utc>>,
    /// When the silence is counted from without any check-in: the start.
    pub since: DateTime<Utc>,
    /// Each side's latest satisfaction (talent, host).
    pub satisfactions: [Option<u8>; 2],
    /// Whether a side's latest check-in flags a concern.
    pub open_concern: bool,
}

/// The at-risk rule at `now`: silent for 45 days, a satisfaction of 2 or less, or a
/// concern flagged. Empty when the engagement is fine.
pub fn risk_causes(facts: &RiskFacts, now: DateTime<Utc>) -> Vec<RiskCause> {
    let mut causes = Vec::new();
    let last = facts.last_checkin_at.unwrap_or(facts.since);
    if now - last >= TimeDelta::days(SILENT_DAYS) {
        causes.push(RiskCause::Silent);
    }
    if facts
        .satisfactions
        .iter()
        .flatten()
        .any(|s| *s <= LOW_SATISFACTION)
    {
        causes.push(RiskCause::LowSatisfaction);
    }
    if facts.open_concern {
        causes.push(RiskCause::Concern);
    }
    causes
}

/// The moment a Japan day begins, in UTC.
pub fn japan_midnight(day: NaiveDate) -> DateTime<Utc> {
    use chrono::TimeZone;
    crate::fiscal::tokyo()
        .from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| day.and_time(chrono::NaiveTime::MIN).and_utc())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use EngagementStatus::*;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    #[test]
    fn the_machine_moves_only_where_it_may() {
        assert_eq!(check_move(Proposed, Active, true, None), Ok(()));
        assert_eq!(
            check_move(Proposed, Active, false, None),
            Err(MoveError::NeedsStart)
        );
        assert_eq!(check_move(Active, Paused, true, None), Ok(()));
        assert_eq!(check_move(Paused, Active, true, None), Ok(()));
        assert_eq!(check_move(Active, Completed, true, None), Ok(()));
        assert_eq!(check_move(Paused, Completed, true, None), Ok(()));
        assert_eq!(
            check_move(Active, Ended, true, None),
            Err(MoveError::NeedsReason)
        );
        assert_eq!(
            check_move(Paused, Ended, true, Some(EndReason::Mismatch)),
            Ok(())
        );
        for (from, to) in [
            (Completed, Active),
            (Ended, Active),
            (Proposed, Paused),
            (Proposed, Completed),
            (Completed, Ended),
            (Ended, Completed),
            (Active, Active),
            (Active, Proposed),
        ] {
            assert_eq!(
                check_move(from, to, true, Some(EndReason::Other)),
                Err(MoveError::NotAllowed),
                "{from:?} → {to:?}"
            );
        }
        assert_eq!(check_renewal(Completed), Ok(()));
        assert_eq!(check_renewal(Active), Ok(()));
        assert_eq!(check_renewal(Ended), Err(MoveError::NotAllowed));
        assert_eq!(check_renewal(Proposed), Err(MoveError::NotAllowed));
        assert_eq!(Active.next(), vec![Paused, Completed, Ended]);
        for s in EngagementStatus::ALL {
            assert_eq!(EngagementStatus::parse(s.as_str()), Some(*s));
        }
    }

    fn terms(comp: &str, amount: &str) -> TermsInput {
        TermsInput {
            term_starts_on: "２０２６－１２－０１".into(),
            term_ends_on: "2027-03-31".into(),
            hours_per_month: "１０".into(),
            term_work_style: "remote".into(),
            compensation: comp.into(),
            amount_yen: amount.into(),
            terms_note: "月1回現地".into(),
        }
    }

    #[test]
    fn terms_need_an_amount_only_when_paid() {
        let t = check_terms(&terms("pro_bono", "50000")).unwrap();
        assert_eq!(t.amount_yen, None, "ignored for pro bono");
        assert_eq!(t.hours_per_month, Some(10));
        assert_eq!(t.starts_on, NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
        let t = check_terms(&terms("contract", "５０，０００円")).unwrap();
        assert_eq!(t.amount_yen, Some(50_000));
        let e = check_terms(&terms("honorarium", "")).unwrap_err();
        assert_eq!(e[0].field, "amount_yen");
        assert_eq!(e[0].problem, Problem::Required);
        let mut bad = terms("gold", "");
        bad.hours_per_month = "745".into();
        bad.term_ends_on = "2026-01-01".into();
        bad.term_work_style = String::new();
        let fields: Vec<_> = check_terms(&bad)
            .unwrap_err()
            .iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "term_ends_on",
                "hours_per_month",
                "term_work_style",
                "compensation"
            ]
        );
        let mut edge = terms("expenses", "");
        edge.hours_per_month = "744".into();
        assert_eq!(check_terms(&edge).unwrap().hours_per_month, Some(744));
    }

    #[test]
    fn check_ins_are_for_past_months_with_a_satisfaction() {
        let now = at(2026, 11, 30, 16); // 2026-12-01 01:00 in Japan
        let input = CheckinInput {
            checkin_month: "２０２６／１２".into(),
            progress: " 進んでいます\u{202E}txt.exe ".into(),
            satisfaction: "４".into(),
            concern: " ".into(),
        };
        let started = NaiveDate::from_ymd_opt(2026, 6, 15);
        let c = check_checkin(&input, started, now).unwrap();
        assert_eq!(c.month, "2026-12");
        // The month the partnership started in is one of its months; the one before is not.
        let june = CheckinInput {
            checkin_month: "2026-06".into(),
            ..input.clone()
        };
        assert!(check_checkin(&june, started, now).is_ok());
        let may = CheckinInput {
            checkin_month: "2026-05".into(),
            ..input.clone()
        };
        let e = check_checkin(&may, started, now).unwrap_err();
        assert_eq!(e[0].problem, Problem::MonthOutsideEngagement);
        assert_eq!(c.progress, "進んでいますtxt.exe");
        assert_eq!(c.satisfaction, 4);
        assert_eq!(c.concern, None);
        let future = CheckinInput {
            checkin_month: "2027-01".into(),
            satisfaction: "6".into(),
            ..input.clone()
        };
        let e = check_checkin(&future, started, now).unwrap_err();
        assert_eq!(e[0].field, "checkin_month");
        assert_eq!(e[1].field, "satisfaction");
        let long = CheckinInput {
            progress: "あ".repeat(PROGRESS_MAX + 1),
            concern: "返信が遅い".into(),
            ..input
        };
        let e = check_checkin(&long, started, now).unwrap_err();
        assert_eq!(e[0].problem, Problem::TooLong { max: PROGRESS_MAX });
    }

    #[test]
    fn ending_needs_a_reason_and_other_a_note() {
        assert!(check_end(&EndInput::default()).is_err());
        let e = check_end(&EndInput {
            end_reason: "other".into(),
            end_note: String::new(),
        })
        .unwrap_err();
        assert_eq!(e[0].field, "end_note");
        assert_eq!(
            check_end(&EndInput {
                end_reason: "mismatch".into(),
                end_note: String::new()
            }),
            Ok((EndReason::Mismatch, String::new()))
        );
    }

    #[test]
    fn at_risk_by_silence_satisfaction_or_concern() {
        let start = at(2026, 9, 1, 0);
        let fine = RiskFacts {
            last_checkin_at: Some(at(2026, 11, 1, 0)),
            since: start,
            satisfactions: [Some(4), Some(3)],
            open_concern: false,
        };
        assert!(risk_causes(&fine, at(2026, 12, 1, 0)).is_empty());
        assert!(risk_causes(&fine, at(2026, 12, 15, 23)).is_empty());
        assert_eq!(
            risk_causes(&fine, at(2026, 12, 16, 0)),
            vec![RiskCause::Silent]
        );
        let never = RiskFacts {
            last_checkin_at: None,
            ..fine
        };
        assert_eq!(
            risk_causes(&never, at(2026, 10, 16, 0)),
            vec![RiskCause::Silent]
        );
        let low = RiskFacts {
            satisfactions: [Some(5), Some(2)],
            ..fine
        };
        assert_eq!(
            risk_causes(&low, at(2026, 11, 2, 0)),
            vec![RiskCause::LowSatisfaction]
        );
        let concern = RiskFacts {
            open_concern: true,
            ..fine
        };
        assert_eq!(
            risk_causes(&concern, at(2026, 11, 2, 0)),
            vec![RiskCause::Concern]
        );
    }

    #[test]
    fn japan_days_and_months() {
        assert_eq!(japan_month(at(2026, 11, 30, 15)), "2026-12");
        assert_eq!(japan_month(at(2026, 11, 30, 14)), "2026-11");
        let d = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(japan_midnight(d), at(2026, 11, 30, 15));
        assert!(term_over(Active, Some(d), d));
        assert!(!term_over(Active, None, d));
        assert!(term_over(Completed, None, d));
    }
}
