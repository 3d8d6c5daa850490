//! Events of a program: seminars, lectures, field-work tours and matching events.
//! What an event may hold, checked field by field as a form posts it; times are typed
//! in Asia/Tokyo and kept in UTC.

pub mod api;
pub mod question;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::account::{FieldError, Problem, one_line};
use crate::fiscal::tokyo;
use crate::locale::{Locale, Localized};
use crate::tenant::{EventFormat, EventTemplate};
use question::{LOGISTICS, Question, QuestionInput, REGISTRATION, check_questions, ticked};

pub const TITLE_MAX: usize = 100;
pub const DESCRIPTION_MAX: usize = 4000;
pub const ITINERARY_MAX: usize = 2000;
pub const VENUE_MAX: usize = 100;
pub const ADDRESS_MAX: usize = 200;
/// Tours run 2–3 days; five leaves room without inviting a month-long "event".
pub const DAYS_MAX: usize = 5;
/// Seats of one kind: a webinar may be large, but not unbounded.
pub const CAPACITY_MAX: u32 = 10_000;
pub const FEE_MAX: u64 = 1_000_000;
pub const SUBSIDY_MAX: u64 = 1_000_000;
/// How far ahead an event may be dated: a hostile or mistyped year (2999) is refused.
pub const YEARS_AHEAD_MAX: i32 = 3;

macro_rules! named_codes {
    ($(#[$doc:meta])* $ty:ident {
        $($(#[$vdoc:meta])* $variant:ident => $code:literal, $ja:literal, $en:literal),+ $(,)?
    }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $ty {
            $($(#[$vdoc])* $variant),+
        }

        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The stored (and form and API) code.
            pub fn code(self) -> &'static str {
                match self {
                    $($ty::$variant => $code),+
                }
            }

            pub fn name(self, locale: Locale) -> &'static str {
                match (self, locale) {
                    $(($ty::$variant, Locale::Ja) => $ja, ($ty::$variant, Locale::En) => $en),+
                }
            }

            pub fn parse(code: &str) -> Option<$ty> {
                Self::ALL.iter().copied().find(|v| v.code() == code)
            }
        }
    };
}

named_codes!(
    /// What an event is.
    EventKind {
        Seminar => "seminar", "セミナー", "Seminar",
        Lecture => "lecture", "講座", "Lecture",
        /// A tour of one or several days in the region.
        Fieldwork => "fieldwork", "フィールドワーク", "Field work",
        MatchingEvent => "matching_event", "マッチングイベント", "Matching event",
    }
);

named_codes!(
    /// Whom an event is for.
    Audience {
        Talent => "talent", "複業人材向け", "For professionals",
        /// Host organizations (受入セミナー).
        Hosts => "hosts", "受入企業・団体向け", "For host organizations",
    }
);

named_codes!(
    /// How an event is held.
    Format {
        Online => "online", "オンライン", "Online",
        Onsite => "onsite", "会場", "On site",
        Hybrid => "hybrid", "会場＋オンライン", "On site and online",
    }
);

named_codes!(
    /// How registrations become seats.
    Selection {
        FirstCome => "first_come", "先着順", "First come, first served",
        /// A coordinator approves each registration (as for tours).
        Screened => "screened", "選考あり", "Screened",
    }
);

named_codes!(
    /// The seat a registrant takes: in the room or on the stream.
    SeatKind {
        Onsite => "onsite", "会場", "On site",
        Online => "online", "オンライン", "Online",
    }
);

named_codes!(
    /// Where an event stands.
    EventStatus {
        /// Being prepared; only staff see it.
        Draft => "draft", "下書き", "Draft",
        Published => "published", "公開中", "Published",
        /// Called off: no registrations, and registrants are told.
        Cancelled => "cancelled", "中止", "Cancelled",
    }
);

impl EventStatus {
    /// A draft is published or dropped; a published event may be called off; a
    /// cancellation is final, registrants have been told.
    pub fn can_become(self, to: EventStatus) -> bool {
        use EventStatus::*;
        matches!(
            (self, to),
            (Draft, Published) | (Draft, Cancelled) | (Published, Cancelled)
        )
    }
}

impl From<EventFormat> for Format {
    fn from(f: EventFormat) -> Format {
        match f {
            EventFormat::Online => Format::Online,
            EventFormat::Onsite => Format::Onsite,
            EventFormat::Hybrid => Format::Hybrid,
        }
    }
}

impl Format {
    /// The seat kinds an event of this format offers, onsite first.
    pub fn seat_kinds(self) -> &'static [SeatKind] {
        match self {
            Format::Online => &[SeatKind::Online],
            Format::Onsite => &[SeatKind::Onsite],
            Format::Hybrid => &[SeatKind::Onsite, SeatKind::Online],
        }
    }

    pub fn offers(self, kind: SeatKind) -> bool {
        self.seat_kinds().contains(&kind)
    }
}

/// Seats per kind; a kind the format does not offer has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capacity {
    pub onsite: Option<u32>,
    pub online: Option<u32>,
}

impl Capacity {
    /// The seats of a kind; 0 when the event does not offer it.
    pub fn of(self, kind: SeatKind) -> u32 {
        match kind {
            SeatKind::Onsite => self.onsite.unwrap_or(0),
            SeatKind::Online => self.online.unwrap_or(0),
        }
    }

    pub fn total(self) -> u32 {
        self.of(SeatKind::Onsite)
            .saturating_add(self.of(SeatKind::Online))
    }
}

/// What attending costs; payment itself happens elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "yen", rename_all = "snake_case")]
pub enum Fee {
    Free,
    Yen(u64),
}

/// Travel support a tour offers each participant (some cities pay ¥50,000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "yen", rename_all = "snake_case")]
pub enum TravelSubsidy {
    None,
    /// The same amount to each eligible participant.
    Flat(u64),
    /// Actual costs, up to this amount.
    UpTo(u64),
}

impl TravelSubsidy {
    /// The amount staff record as paid to an eligible participant (`subsidy_paid`):
    /// a flat subsidy pays its amount whatever is typed; one up to an amount pays the
    /// typed costs, at most that amount.
    pub fn check_payment(self, typed: &str) -> Result<u64, FieldError> {
        let field = "subsidy_paid";
        let mut errors = Vec::new();
        let result = match self {
            TravelSubsidy::None => Err(Problem::InvalidChoice),
            TravelSubsidy::Flat(n) => Ok(n),
            TravelSubsidy::UpTo(max) => match number(&mut errors, field, typed, 1, max) {
                Some(n) => Ok(n),
                None if errors.is_empty() => Err(Problem::Required),
                None => Err(Problem::OutOfRange {
                    min: 1,
                    max: usize::try_from(max).unwrap_or(usize::MAX),
                }),
            },
        };
        result.map_err(|problem| FieldError { field, problem })
    }

    pub fn code(self) -> &'static str {
        match self {
            TravelSubsidy::None => "none",
            TravelSubsidy::Flat(_) => "flat",
            TravelSubsidy::UpTo(_) => "up_to",
        }
    }
}

/// One day of an event, in Tokyo time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDay {
    pub date: NaiveDate,
    pub starts: NaiveTime,
    pub ends: NaiveTime,
    /// The day's programme (a tour's visits, a seminar's talks); may be empty.
    pub itinerary: String,
}

/// A date and time typed in Tokyo, as an instant. JST has no daylight saving, so
/// every local time names exactly one instant.
pub fn tokyo_instant(date: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
    tokyo()
        .from_local_datetime(&date.and_time(time))
        .single()
        .map(|t| t.with_timezone(&Utc))
}

impl EventDay {
    pub fn starts_at(&self) -> Option<DateTime<Utc>> {
        tokyo_instant(self.date, self.starts)
    }

    pub fn ends_at(&self) -> Option<DateTime<Utc>> {
        tokyo_instant(self.date, self.ends)
    }
}

/// The registration window; an absent end closes registration when the event starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Window {
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: Option<DateTime<Utc>>,
}

/// One day of the event form as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct DayInput {
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub starts: String,
    #[serde(default)]
    pub ends: String,
    #[serde(default)]
    pub itinerary: String,
}

/// The event form as posted: every value is text. Days post as `day1_date`,
/// `day1_starts`…, questions as `q1_label`…, logistics questions as `l1_label`….
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct EventInput {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub audience: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub title_en: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub format: String,
    #[serde(default)]
    pub selection: String,
    #[serde(default)]
    pub days: Vec<DayInput>,
    #[serde(default)]
    pub capacity_onsite: String,
    #[serde(default)]
    pub capacity_online: String,
    /// Empty or 0 for free.
    #[serde(default)]
    pub fee: String,
    /// `YYYY-MM-DDTHH:MM` in Tokyo, as `<input type="datetime-local">` posts it.
    #[serde(default)]
    pub opens_at: String,
    #[serde(default)]
    pub closes_at: String,
    #[serde(default)]
    pub venue: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub online_url: String,
    /// `none`, `flat` or `up_to`.
    #[serde(default)]
    pub subsidy: String,
    #[serde(default)]
    pub subsidy_amount: String,
    #[serde(default)]
    pub questions: Vec<QuestionInput>,
    #[serde(default)]
    pub logistics_form: String,
    #[serde(default)]
    pub logistics: Vec<QuestionInput>,
}

/// `day3_date` → (3, `date`); places beyond the limits are ignored.
fn numbered<'a>(key: &'a str, prefix: &str, max: usize) -> Option<(usize, &'a str)> {
    let rest = key.strip_prefix(prefix)?;
    let (n, field) = rest.split_once('_').unwrap_or((rest, ""));
    let n: usize = n.parse().ok()?;
    (1..=max).contains(&n).then(|| (n - 1, field))
}

impl EventInput {
    /// The form from its submitted pairs.
    pub fn from_pairs(pairs: &[(String, String)]) -> EventInput {
        let mut input = EventInput::default();
        for (k, v) in pairs {
            let v = v.clone();
            if let Some((i, field)) = numbered(k, "day", DAYS_MAX) {
                if input.days.len() <= i {
                    input.days.resize(i + 1, DayInput::default());
                }
                let day = &mut input.days[i];
                match field {
                    "date" => day.date = v,
                    "starts" => day.starts = v,
                    "ends" => day.ends = v,
                    "itinerary" => day.itinerary = v,
                    _ => {}
                }
                continue;
            }
            let question = numbered(k, "q", question::QUESTIONS_MAX)
                .map(|q| (q, &mut input.questions))
                .or_else(|| {
                    numbered(k, "l", question::QUESTIONS_MAX).map(|q| (q, &mut input.logistics))
                });
            if let Some(((i, field), list)) = question {
                if list.len() <= i {
                    list.resize(i + 1, QuestionInput::default());
                }
                let q = &mut list[i];
                match field {
                    "label" => q.label = v,
                    "kind" => q.kind = v,
                    "options" => q.options = v,
                    "required" => q.required = v,
                    _ => {}
                }
                continue;
            }
            match k.as_str() {
                "kind" => input.kind = v,
                "audience" => input.audience = v,
                "title" => input.title = v,
                "title_en" => input.title_en = v,
                "description" => input.description = v,
                "format" => input.format = v,
                "selection" => input.selection = v,
                "capacity_onsite" => input.capacity_onsite = v,
                "capacity_online" => input.capacity_online = v,
                "fee" => input.fee = v,
                "opens_at" => input.opens_at = v,
                "closes_at" => input.closes_at = v,
                "venue" => input.venue = v,
                "address" => input.address = v,
                "online_url" => input.online_url = v,
                "subsidy" => input.subsidy = v,
                "subsidy_amount" => input.subsidy_amount = v,
                "logistics_form" => input.logistics_form = v,
                _ => {}
            }
        }
        input
    }

    /// A new event's form prefilled from a tenant template: its title, format and
    /// seats, and as many consecutive days from `first_day` as the template has,
    /// each from `starts` to `ends`. A hybrid template's one capacity is offered for
    /// both kinds of seat, for the coordinator to split.
    pub fn from_template(
        kind: EventKind,
        template: &EventTemplate,
        first_day: NaiveDate,
        starts: NaiveTime,
        ends: NaiveTime,
    ) -> EventInput {
        let format = Format::from(template.format);
        let capacity = template.capacity.to_string();
        let days = (0..template.days.clamp(1, DAYS_MAX as u32))
            .filter_map(|i| first_day.checked_add_days(chrono::Days::new(u64::from(i))))
            .map(|date| DayInput {
                date: date.format("%Y-%m-%d").to_string(),
                starts: starts.format("%H:%M").to_string(),
                ends: ends.format("%H:%M").to_string(),
                itinerary: String::new(),
            })
            .collect();
        EventInput {
            kind: kind.code().to_owned(),
            audience: Audience::Talent.code().to_owned(),
            title: template.title.ja.clone(),
            title_en: template.title.en.clone(),
            format: format.code().to_owned(),
            selection: if kind == EventKind::Fieldwork {
                Selection::Screened
            } else {
                Selection::FirstCome
            }
            .code()
            .to_owned(),
            days,
            capacity_onsite: if format.offers(SeatKind::Onsite) {
                capacity.clone()
            } else {
                String::new()
            },
            capacity_online: if format.offers(SeatKind::Online) {
                capacity
            } else {
                String::new()
            },
            subsidy: TravelSubsidy::None.code().to_owned(),
            ..EventInput::default()
        }
    }
}

/// A checked event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventFields {
    pub kind: EventKind,
    pub audience: Audience,
    pub title: String,
    /// May be empty: English pages then show the Japanese title.
    pub title_en: String,
    pub description: String,
    pub format: Format,
    pub selection: Selection,
    /// At least one, in date order, each date once.
    pub days: Vec<EventDay>,
    pub capacity: Capacity,
    pub fee: Fee,
    pub window: Window,
    pub venue: String,
    pub address: String,
    /// Shown only to confirmed registrants.
    pub online_url: Option<String>,
    pub subsidy: TravelSubsidy,
    pub questions: Vec<Question>,
    /// Whether approved registrants get a second form for logistics.
    pub logistics_form: bool,
    pub logistics: Vec<Question>,
}

impl EventFields {
    pub fn starts_at(&self) -> Option<DateTime<Utc>> {
        self.days.first().and_then(EventDay::starts_at)
    }

    pub fn ends_at(&self) -> Option<DateTime<Utc>> {
        self.days.last().and_then(EventDay::ends_at)
    }

    pub fn dates(&self) -> Vec<NaiveDate> {
        self.days.iter().map(|d| d.date).collect()
    }

    pub fn title(&self, locale: Locale) -> &str {
        match locale {
            Locale::En if !self.title_en.is_empty() => &self.title_en,
            _ => &self.title,
        }
    }

    /// The title in both languages, for a program's listing.
    pub fn localized_title(&self) -> Localized {
        Localized {
            ja: self.title.clone(),
            en: self.title(Locale::En).to_owned(),
        }
    }
}

const DAY_DATE: [&str; DAYS_MAX] = [
    "day1_date",
    "day2_date",
    "day3_date",
    "day4_date",
    "day5_date",
];
const DAY_STARTS: [&str; DAYS_MAX] = [
    "day1_starts",
    "day2_starts",
    "day3_starts",
    "day4_starts",
    "day5_starts",
];
const DAY_ENDS: [&str; DAYS_MAX] = [
    "day1_ends",
    "day2_ends",
    "day3_ends",
    "day4_ends",
    "day5_ends",
];
const DAY_ITINERARY: [&str; DAYS_MAX] = [
    "day1_itinerary",
    "day2_itinerary",
    "day3_itinerary",
    "day4_itinerary",
    "day5_itinerary",
];

fn push(errors: &mut Vec<FieldError>, field: &'static str, problem: Problem) {
    errors.push(FieldError { field, problem });
}

fn text(
    errors: &mut Vec<FieldError>,
    field: &'static str,
    value: &str,
    max: usize,
    required: bool,
) -> String {
    let v = value.trim().replace("\r\n", "\n");
    if required && v.is_empty() {
        push(errors, field, Problem::Required);
    } else if v.chars().count() > max {
        push(errors, field, Problem::TooLong { max });
    }
    v
}

/// Full-width digits and separators an input method types, as ASCII.
pub(crate) fn half_width(value: &str) -> String {
    value
        .trim()
        .chars()
        .map(|c| match c {
            '！'..='～' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
            '　' => ' ',
            c => c,
        })
        .collect()
}

/// A whole number of yen or seats in `min..=max`; `None` when empty.
fn number(
    errors: &mut Vec<FieldError>,
    field: &'static str,
    value: &str,
    min: u64,
    max: u64,
) -> Option<u64> {
    let v: String = half_width(value)
        .chars()
        .filter(|c| !matches!(c, ',' | '円' | '¥' | '￥'))
        .collect();
    if v.is_empty() {
        return None;
    }
    match v.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Some(n),
        _ => {
            push(
                errors,
                field,
                Problem::OutOfRange {
                    min: usize::try_from(min).unwrap_or(usize::MAX),
                    max: usize::try_from(max).unwrap_or(usize::MAX),
                },
            );
            None
        }
    }
}

fn parse_date(value: &str) -> Option<NaiveDate> {
    let v = half_width(value).replace('/', "-");
    NaiveDate::parse_from_str(&v, "%Y-%m-%d").ok()
}

fn parse_time(value: &str) -> Option<NaiveTime> {
    let v = half_width(value);
    NaiveTime::parse_from_str(&v, "%H:%M").ok()
}

pub(crate) fn parse_local(value: &str) -> Option<NaiveDateTime> {
    let v = half_width(value).replace('/', "-");
    ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&v, f).ok())
}

/// The dates an event may have: not before `today` for a new event (nor before
/// 2000 when editing one), and not years ahead.
struct DateRange {
    earliest: NaiveDate,
    refuse_past: bool,
    latest: NaiveDate,
}

impl DateRange {
    fn check(&self, errors: &mut Vec<FieldError>, field: &'static str, date: NaiveDate) -> bool {
        let problem = if date > self.latest {
            Problem::DateOutOfRange
        } else if date >= self.earliest {
            return true;
        } else if self.refuse_past {
            Problem::DateInPast
        } else {
            Problem::DateOutOfRange
        };
        push(errors, field, problem);
        false
    }
}

/// Checks a new event: every problem at once, each naming its field. Dates before
/// `today` (in Tokyo) are refused, as are windows that closed before today.
pub fn check_event(input: &EventInput, today: NaiveDate) -> Result<EventFields, Vec<FieldError>> {
    let latest =
        NaiveDate::from_ymd_opt(today.year() + YEARS_AHEAD_MAX, 12, 31).unwrap_or(NaiveDate::MAX);
    check(
        input,
        &DateRange {
            earliest: today,
            refuse_past: true,
            latest,
        },
    )
}

/// Checks an edit of an existing event, which may already lie in the past (a
/// coordinator corrects the itinerary of last month's tour).
pub fn check_event_edit(input: &EventInput) -> Result<EventFields, Vec<FieldError>> {
    check(
        input,
        &DateRange {
            earliest: NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN),
            refuse_past: false,
            latest: NaiveDate::from_ymd_opt(2100, 12, 31).unwrap_or(NaiveDate::MAX),
        },
    )
}

fn choice<T>(
    errors: &mut Vec<FieldError>,
    field: &'static str,
    value: &str,
    parse: fn(&str) -> Option<T>,
) -> Option<T> {
    let v = value.trim();
    let parsed = parse(v);
    if parsed.is_none() {
        push(
            errors,
            field,
            if v.is_empty() {
                Problem::Required
            } else {
                Problem::InvalidChoice
            },
        );
    }
    parsed
}

fn check_days(
    errors: &mut Vec<FieldError>,
    inputs: &[DayInput],
    range: &DateRange,
) -> Vec<EventDay> {
    let mut days: Vec<EventDay> = Vec::new();
    let filled: Vec<(usize, &DayInput)> = inputs
        .iter()
        .enumerate()
        .take(DAYS_MAX)
        .filter(|(i, d)| {
            *i == 0
                || !(d.date.trim().is_empty()
                    && d.starts.trim().is_empty()
                    && d.ends.trim().is_empty()
                    && d.itinerary.trim().is_empty())
        })
        .collect();
    if inputs.len() > DAYS_MAX {
        push(
            errors,
            DAY_DATE[DAYS_MAX - 1],
            Problem::TooMany { max: DAYS_MAX },
        );
    }
    if filled.is_empty() {
        push(errors, DAY_DATE[0], Problem::Required);
    }
    for (i, d) in filled {
        let date = if d.date.trim().is_empty() {
            push(errors, DAY_DATE[i], Problem::Required);
            None
        } else {
            match parse_date(&d.date) {
                Some(date) if range.check(errors, DAY_DATE[i], date) => Some(date),
                Some(_) => None,
                None => {
                    push(errors, DAY_DATE[i], Problem::InvalidDate);
                    None
                }
            }
        };
        let mut time = |field: &'static str, value: &str| {
            if value.trim().is_empty() {
                push(errors, field, Problem::Required);
                return None;
            }
            let t = parse_time(value);
            if t.is_none() {
                push(errors, field, Problem::InvalidDate);
            }
            t
        };
        let starts = time(DAY_STARTS[i], &d.starts);
        let ends = time(DAY_ENDS[i], &d.ends);
        if let (Some(s), Some(e)) = (starts, ends)
            && e <= s
        {
            push(errors, DAY_ENDS[i], Problem::InvalidDate);
        }
        let itinerary = text(errors, DAY_ITINERARY[i], &d.itinerary, ITINERARY_MAX, false);
        if let (Some(date), Some(starts), Some(ends)) = (date, starts, ends) {
            // Days are in order, each once: a tour is consecutive or not, but never
            // goes back in time.
            if days.last().is_some_and(|prev| prev.date >= date) {
                push(errors, DAY_DATE[i], Problem::InvalidDate);
                continue;
            }
            days.push(EventDay {
                date,
                starts,
                ends,
                itinerary,
            });
        }
    }
    days
}

fn check_capacity(
    errors: &mut Vec<FieldError>,
    input: &EventInput,
    format: Option<Format>,
) -> Capacity {
    let mut capacity = Capacity {
        onsite: None,
        online: None,
    };
    let Some(format) = format else {
        return capacity;
    };
    for (kind, field, value) in [
        (SeatKind::Onsite, "capacity_onsite", &input.capacity_onsite),
        (SeatKind::Online, "capacity_online", &input.capacity_online),
    ] {
        let blank = matches!(half_width(value).as_str(), "" | "0");
        let seats = if format.offers(kind) {
            if blank {
                push(errors, field, Problem::Required);
                None
            } else {
                number(errors, field, value, 1, u64::from(CAPACITY_MAX))
                    .and_then(|n| u32::try_from(n).ok())
            }
        } else {
            // Seats of a kind the format does not hold would be sold and never seen.
            if !blank {
                push(errors, field, Problem::InvalidChoice);
            }
            None
        };
        match kind {
            SeatKind::Onsite => capacity.onsite = seats,
            SeatKind::Online => capacity.online = seats,
        }
    }
    capacity
}

fn check_window(
    errors: &mut Vec<FieldError>,
    input: &EventInput,
    starts_at: Option<DateTime<Utc>>,
    range: &DateRange,
) -> Window {
    let mut instant = |field: &'static str, value: &str| {
        if value.trim().is_empty() {
            return None;
        }
        let Some(local) = parse_local(value) else {
            push(errors, field, Problem::InvalidDate);
            return None;
        };
        if !range.check(errors, field, local.date()) {
            return None;
        }
        tokyo_instant(local.date(), local.time())
    };
    let opens_at = instant("opens_at", &input.opens_at);
    let closes_at = instant("closes_at", &input.closes_at);
    if let (Some(o), Some(c)) = (opens_at, closes_at)
        && o >= c
    {
        push(errors, "closes_at", Problem::InvalidDate);
    }
    if let Some(start) = starts_at {
        if closes_at.is_some_and(|c| c > start) {
            push(errors, "closes_at", Problem::InvalidDate);
        }
        if opens_at.is_some_and(|o| o >= start) {
            push(errors, "opens_at", Problem::InvalidDate);
        }
    }
    Window {
        opens_at,
        closes_at,
    }
}

fn check_subsidy(
    errors: &mut Vec<FieldError>,
    input: &EventInput,
    kind: Option<EventKind>,
) -> TravelSubsidy {
    let code = input.subsidy.trim();
    let amount = || {
        let mut local = Vec::new();
        let n = number(
            &mut local,
            "subsidy_amount",
            &input.subsidy_amount,
            1,
            SUBSIDY_MAX,
        );
        (n, local)
    };
    let subsidy = match code {
        "" | "none" => return TravelSubsidy::None,
        "flat" | "up_to" => {
            let (n, local) = amount();
            errors.extend(local);
            match n {
                Some(n) if code == "flat" => TravelSubsidy::Flat(n),
                Some(n) => TravelSubsidy::UpTo(n),
                None => {
                    if input.subsidy_amount.trim().is_empty() {
                        push(errors, "subsidy_amount", Problem::Required);
                    }
                    return TravelSubsidy::None;
                }
            }
        }
        _ => {
            push(errors, "subsidy", Problem::InvalidChoice);
            return TravelSubsidy::None;
        }
    };
    // Travel support is for those who travel to the region: tours.
    if kind.is_some_and(|k| k != EventKind::Fieldwork) {
        push(errors, "subsidy", Problem::InvalidChoice);
    }
    subsidy
}

fn check(input: &EventInput, range: &DateRange) -> Result<EventFields, Vec<FieldError>> {
    let mut errors = Vec::new();
    let kind = choice(&mut errors, "kind", &input.kind, EventKind::parse);
    let audience = choice(&mut errors, "audience", &input.audience, Audience::parse);
    let title = text(
        &mut errors,
        "title",
        &one_line(&input.title),
        TITLE_MAX,
        true,
    );
    let title_en = text(
        &mut errors,
        "title_en",
        &one_line(&input.title_en),
        TITLE_MAX,
        false,
    );
    let description = text(
        &mut errors,
        "description",
        &input.description,
        DESCRIPTION_MAX,
        false,
    );
    let format = choice(&mut errors, "format", &input.format, Format::parse);
    let selection = choice(&mut errors, "selection", &input.selection, Selection::parse);
    let days = check_days(&mut errors, &input.days, range);
    let capacity = check_capacity(&mut errors, input, format);
    let fee = match number(&mut errors, "fee", &input.fee, 0, FEE_MAX) {
        None | Some(0) => Fee::Free,
        Some(n) => Fee::Yen(n),
    };
    let starts_at = days.first().and_then(EventDay::starts_at);
    let window = check_window(&mut errors, input, starts_at, range);
    let onsite = format.is_some_and(|f| f.offers(SeatKind::Onsite));
    let venue = text(
        &mut errors,
        "venue",
        &one_line(&input.venue),
        VENUE_MAX,
        onsite,
    );
    let address = text(
        &mut errors,
        "address",
        &one_line(&input.address),
        ADDRESS_MAX,
        false,
    );
    // The URL may come later (a meeting is often created a week before), so it is
    // not required; when given it must be a link people may follow.
    let online_url = match crate::host::check_website("online_url", &input.online_url) {
        Ok(url) => url,
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let subsidy = check_subsidy(&mut errors, input, kind);
    let questions = check_questions(&REGISTRATION, &input.questions, &mut errors);
    let logistics_form = ticked(&input.logistics_form);
    let logistics = if logistics_form {
        let before = errors.len();
        let l = check_questions(&LOGISTICS, &input.logistics, &mut errors);
        if l.is_empty() && errors.len() == before {
            push(&mut errors, LOGISTICS.label[0], Problem::Required);
        }
        l
    } else {
        Vec::new()
    };
    match (kind, audience, format, selection) {
        (Some(kind), Some(audience), Some(format), Some(selection))
            if errors.is_empty() && !days.is_empty() =>
        {
            Ok(EventFields {
                kind,
                audience,
                title,
                title_en,
                description,
                format,
                selection,
                days,
                capacity,
                fee,
                window,
                venue,
                address,
                online_url,
                subsidy,
                questions,
                logistics_form,
                logistics,
            })
        }
        _ => {
            // Every missing piece above names its field; this keeps an error list
            // from ever being empty should that change.
            if errors.is_empty() {
                push(&mut errors, DAY_DATE[0], Problem::Required);
            }
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests;
