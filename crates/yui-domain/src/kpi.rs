//! Key figures (KPI) of a tenant's program per fiscal year, and the rules that turn
//! raw rows into them. The store reads the rows (one query per group of figures);
//! what counts, and how, is decided here.
//!
//! Definitions, per fiscal year (April–March, Japan dates):
//! - **registrations**: registrations not cancelled, for events of the year's program;
//!   **attended**: those with at least one day of attendance; both per event kind.
//! - **attendees** (参加・交流型 related people): distinct people with attendance.
//! - **round entries**: entries in the year's rounds, withdrawn ones included.
//! - **matches**: engagements started (`started_on`) in the year.
//! - **hosts engaged**: distinct hosts with an engagement started in the year.
//! - **continuation at N months**: see [`continued`].
//! - **newly related people**: distinct people whose first activity in the tenant
//!   (a day of attendance or an engagement's start) falls in the year.
//! - **related people by the national typology**: 参加・交流型 = the attendees;
//!   就労型 = distinct people with an engagement running at some time in the year.
//!   A person is counted once per type, and may be in both.
//! - **cumulative**: matches and hosts since the program began, the years entered
//!   by staff as aggregates ([`History`]) plus the platform's engagements.
//!
//! Project kind splits apply where a project is involved (engagements); residence
//! splits where a person is (everything but hosts).

use std::collections::BTreeMap;

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::account::{FieldError, Problem};
use crate::event::EventKind;
use crate::fiscal::FiscalYear;
use crate::locale::Locale;
use crate::talent::ProjectKind;

/// How many KPIs may carry a target in one year: a grant-funded project (地方創生
/// 交付金) reports up to four.
pub const MAX_TARGETS: usize = 4;

/// The months after which continuation is measured.
pub const CONTINUATION_MONTHS: [u32; 3] = [3, 6, 12];

macro_rules! kpi_codes {
    ($($variant:ident => $code:literal, $ja:literal, $en:literal),+ $(,)?) => {
        /// A KPI that can carry a target.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum KpiCode {
            $($variant),+
        }

        impl KpiCode {
            pub const ALL: &'static [KpiCode] = &[$(KpiCode::$variant),+];

            /// The stored (and form and API) code.
            pub fn code(self) -> &'static str {
                match self {
                    $(KpiCode::$variant => $code),+
                }
            }

            pub fn name(self, locale: Locale) -> &'static str {
                match (self, locale) {
                    $((KpiCode::$variant, Locale::Ja) => $ja, (KpiCode::$variant, Locale::En) => $en),+
                }
            }

            /// Whether the figure is a rate in percent.
            pub fn is_percentage(self) -> bool {
                matches!(self, KpiCode::Continuation6)
            }

            pub fn parse(code: &str) -> Option<KpiCode> {
                Self::ALL.iter().copied().find(|k| k.code() == code)
            }
        }
    };
}

kpi_codes!(
    Registrations => "registrations", "申込数", "Registrations",
    Attended => "attended", "参加数", "Attendance",
    Attendees => "attendees", "参加者数（実人数）", "People who attended",
    RoundEntries => "round_entries", "マッチングへのエントリー数", "Round entries",
    Matches => "matches", "マッチング数", "Matches",
    HostsEngaged => "hosts_engaged", "受入企業・団体数", "Host organizations engaged",
    Continuation6 => "continuation_6", "6か月継続率（%）", "Continued at 6 months (%)",
    NewlyRelated => "newly_related", "新たな関係人口", "Newly related people",
    CumulativeMatches => "cumulative_matches", "累計マッチング数", "Matches since the start",
    CumulativeHosts => "cumulative_hosts", "累計受入企業・団体数", "Host organizations since the start",
);

/// Where an engagement stands, as far as continuation is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// `active` or `paused`: still a partnership.
    Running,
    /// Finished as agreed (its term done): a success, not a break.
    Completed,
    /// Broken off before its term.
    Ended,
}

impl Standing {
    /// From the stored engagement status; `proposed` (not started) is `None`.
    pub fn of_status(status: &str) -> Option<Standing> {
        match status {
            "active" | "paused" => Some(Standing::Running),
            "completed" => Some(Standing::Completed),
            "ended" => Some(Standing::Ended),
            _ => None,
        }
    }
}

/// An engagement that started, as the KPIs read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Started {
    pub standing: Standing,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
}

/// The day `months` after `start` (the 31st of January plus one month is the last
/// day of February).
pub fn month_mark(start: NaiveDate, months: u32) -> Option<NaiveDate> {
    start.checked_add_months(Months::new(months))
}

/// Continuation at `months`: whether the engagement was still running or had been
/// completed — not ended — on the day `months` after its start.
///
/// `None` while that day is after `today`: the engagement cannot be judged yet and
/// stays out of the denominator. An engagement ended on the mark itself counts as
/// continued (it ran the whole N months); one ended before it does not. A completed
/// engagement counts as continued whenever it completed: it did not break off.
pub fn continued(e: &Started, months: u32, today: NaiveDate) -> Option<bool> {
    let mark = month_mark(e.started_on, months)?;
    if mark > today {
        return None;
    }
    Some(match e.standing {
        Standing::Running | Standing::Completed => true,
        Standing::Ended => e.ended_on.is_some_and(|d| d >= mark),
    })
}

/// Continuation at N months over a set of engagements.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Continuation {
    pub months: u32,
    /// Engagements whose N-month mark has passed.
    pub eligible: u64,
    pub continued: u64,
}

impl Continuation {
    /// Counts `engagements` at `months` as of `today`.
    pub fn of<'a>(
        engagements: impl IntoIterator<Item = &'a Started>,
        months: u32,
        today: NaiveDate,
    ) -> Continuation {
        let mut c = Continuation {
            months,
            ..Default::default()
        };
        for e in engagements {
            if let Some(ok) = continued(e, months, today) {
                c.eligible += 1;
                c.continued += u64::from(ok);
            }
        }
        c
    }

    /// The rate in whole percent, rounded half up; `None` with nothing to judge.
    pub fn percent(&self) -> Option<u64> {
        (self.eligible > 0).then(|| (self.continued * 200 + self.eligible) / (self.eligible * 2))
    }
}

/// Counts split by project kind, by the talent's residence (the tenant's own
/// prefecture or elsewhere, and per prefecture) and by the host's municipality.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub total: u64,
    pub business: u64,
    pub fan_community: u64,
    /// Living in the tenant's prefecture.
    pub inside: u64,
    pub outside: u64,
    /// No residence given (or erased).
    pub unknown: u64,
    /// Per prefecture code (1–47).
    pub prefectures: BTreeMap<u8, u64>,
    /// Per host municipality (local-government code), for engagement figures.
    pub municipalities: BTreeMap<String, u64>,
}

impl Tally {
    /// Adds `n` people (or rows) living in `residence`, against the tenant's
    /// prefecture `home`.
    pub fn add_residence(&mut self, residence: Option<i64>, home: Option<u8>, n: u64) {
        self.total += n;
        match residence.and_then(|r| u8::try_from(r).ok()) {
            Some(r) => {
                *self.prefectures.entry(r).or_default() += n;
                if Some(r) == home {
                    self.inside += n;
                } else {
                    self.outside += n;
                }
            }
            None => self.unknown += n,
        }
    }

    /// Counts `n` under a project kind (the total is counted by
    /// [`add_residence`](Tally::add_residence) or [`add`](Tally::add)).
    pub fn add_kind(&mut self, kind: Option<ProjectKind>, n: u64) {
        match kind {
            Some(ProjectKind::Business) => self.business += n,
            Some(ProjectKind::FanCommunity) => self.fan_community += n,
            None => {}
        }
    }

    /// Counts `n` rows with no split.
    pub fn add(&mut self, n: u64) {
        self.total += n;
    }

    /// Sums another tenant's tally into this one (roll-ups: aggregates only).
    pub fn merge(&mut self, other: &Tally) {
        self.total += other.total;
        self.business += other.business;
        self.fan_community += other.fan_community;
        self.inside += other.inside;
        self.outside += other.outside;
        self.unknown += other.unknown;
        for (k, v) in &other.prefectures {
            *self.prefectures.entry(*k).or_default() += v;
        }
        for (k, v) in &other.municipalities {
            *self.municipalities.entry(k.clone()).or_default() += v;
        }
    }
}

/// Registrations and attendance of one event kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EventKindCounts {
    pub kind: EventKind,
    pub registrations: u64,
    pub attended: u64,
}

/// A year run before the platform, entered by staff as the program reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct History {
    pub fiscal_year: FiscalYear,
    pub matches: u64,
    /// Host organizations engaged for the first time that year.
    pub hosts: u64,
    /// People who attended that year's events.
    pub participants: u64,
}

/// Every figure of one tenant and year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Figures {
    pub fiscal_year: FiscalYear,
    pub registrations: Tally,
    pub attended: Tally,
    pub by_event_kind: Vec<EventKindCounts>,
    /// Distinct people who attended: 参加・交流型 related people.
    pub attendees: Tally,
    pub round_entries: Tally,
    pub matches: Tally,
    pub hosts_engaged: Tally,
    pub continuation: Vec<Continuation>,
    pub newly_related: Tally,
    /// Distinct people with an engagement running in the year: 就労型.
    pub related_work: Tally,
    pub cumulative_matches: u64,
    pub cumulative_hosts: u64,
}

impl Figures {
    /// Nothing counted yet.
    pub fn empty(fiscal_year: FiscalYear) -> Figures {
        Figures {
            fiscal_year,
            registrations: Tally::default(),
            attended: Tally::default(),
            by_event_kind: Vec::new(),
            attendees: Tally::default(),
            round_entries: Tally::default(),
            matches: Tally::default(),
            hosts_engaged: Tally::default(),
            continuation: Vec::new(),
            newly_related: Tally::default(),
            related_work: Tally::default(),
            cumulative_matches: 0,
            cumulative_hosts: 0,
        }
    }

    /// The value a target is compared with.
    pub fn actual(&self, kpi: KpiCode) -> Option<u64> {
        Some(match kpi {
            KpiCode::Registrations => self.registrations.total,
            KpiCode::Attended => self.attended.total,
            KpiCode::Attendees => self.attendees.total,
            KpiCode::RoundEntries => self.round_entries.total,
            KpiCode::Matches => self.matches.total,
            KpiCode::HostsEngaged => self.hosts_engaged.total,
            KpiCode::Continuation6 => self
                .continuation
                .iter()
                .find(|c| c.months == 6)
                .and_then(Continuation::percent)?,
            KpiCode::NewlyRelated => self.newly_related.total,
            KpiCode::CumulativeMatches => self.cumulative_matches,
            KpiCode::CumulativeHosts => self.cumulative_hosts,
        })
    }

    /// Sums children's figures into a roll-up. Continuation is summed by its counts,
    /// so the rate is of all engagements, not an average of rates.
    pub fn merge(&mut self, other: &Figures) {
        self.registrations.merge(&other.registrations);
        self.attended.merge(&other.attended);
        for k in &other.by_event_kind {
            match self.by_event_kind.iter_mut().find(|m| m.kind == k.kind) {
                Some(m) => {
                    m.registrations += k.registrations;
                    m.attended += k.attended;
                }
                None => self.by_event_kind.push(*k),
            }
        }
        self.attendees.merge(&other.attendees);
        self.round_entries.merge(&other.round_entries);
        self.matches.merge(&other.matches);
        self.hosts_engaged.merge(&other.hosts_engaged);
        for c in &other.continuation {
            match self.continuation.iter_mut().find(|m| m.months == c.months) {
                Some(m) => {
                    m.eligible += c.eligible;
                    m.continued += c.continued;
                }
                None => self.continuation.push(*c),
            }
        }
        self.newly_related.merge(&other.newly_related);
        self.related_work.merge(&other.related_work);
        self.cumulative_matches += other.cumulative_matches;
        self.cumulative_hosts += other.cumulative_hosts;
    }
}

/// A target as entered: the KPI and a whole number.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct TargetInput {
    #[serde(default)]
    pub fiscal_year: String,
    #[serde(default)]
    pub kpi: String,
    /// Empty removes the target.
    #[serde(default)]
    pub target: String,
}

/// A year's historical aggregates as entered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct HistoryInput {
    #[serde(default)]
    pub fiscal_year: String,
    #[serde(default)]
    pub matches: String,
    #[serde(default)]
    pub hosts: String,
    #[serde(default)]
    pub participants: String,
}

/// The largest figure a person may type.
const FIGURE_MAX: u64 = 1_000_000;

/// A fiscal year as typed (full-width digits accepted), 2000–2100.
pub fn parse_year(field: &'static str, raw: &str) -> Result<FiscalYear, FieldError> {
    let raw = normalize_digits(raw);
    if raw.is_empty() {
        return Err(FieldError {
            field,
            problem: Problem::Required,
        });
    }
    match raw.parse::<i32>() {
        Ok(y) if (2000..=2100).contains(&y) => Ok(FiscalYear(y)),
        _ => Err(FieldError {
            field,
            problem: Problem::OutOfRange {
                min: 2000,
                max: 2100,
            },
        }),
    }
}

fn normalize_digits(raw: &str) -> String {
    raw.trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            c => c,
        })
        .filter(|c| *c != ',' && *c != '，')
        .collect()
}

/// A count as typed: empty is `None` (for a target: remove it).
fn parse_count(field: &'static str, raw: &str) -> Result<Option<u64>, FieldError> {
    let raw = normalize_digits(raw);
    if raw.is_empty() {
        return Ok(None);
    }
    match raw.parse::<u64>() {
        Ok(n) if n <= FIGURE_MAX => Ok(Some(n)),
        _ => Err(FieldError {
            field,
            problem: Problem::OutOfRange {
                min: 0,
                max: FIGURE_MAX as usize,
            },
        }),
    }
}

/// A checked target: `None` as the value removes it.
pub fn check_target(
    input: &TargetInput,
) -> Result<(FiscalYear, KpiCode, Option<u64>), Vec<FieldError>> {
    let mut errors = Vec::new();
    let year = parse_year("fiscal_year", &input.fiscal_year).map_err(|e| errors.push(e));
    let kpi = match input.kpi.trim() {
        "" => {
            errors.push(FieldError {
                field: "kpi",
                problem: Problem::Required,
            });
            None
        }
        code => KpiCode::parse(code).or_else(|| {
            errors.push(FieldError {
                field: "kpi",
                problem: Problem::InvalidChoice,
            });
            None
        }),
    };
    let mut target = parse_count("target", &input.target).map_err(|e| errors.push(e));
    // A rate is a percentage: a target past 100 % is a typing mistake.
    if kpi.is_some_and(KpiCode::is_percentage)
        && let Ok(Some(t)) = target
        && t > 100
    {
        errors.push(FieldError {
            field: "target",
            problem: Problem::OutOfRange { min: 0, max: 100 },
        });
        target = Ok(None);
    }
    match (year, kpi, target) {
        (Ok(y), Some(k), Ok(t)) if errors.is_empty() => Ok((y, k, t)),
        _ => Err(errors),
    }
}

/// A checked year of history; every figure empty removes the year. Figures are
/// for years before `current` (the fiscal year now): the platform counts the
/// current year itself, and a year to come has no figures yet; entered, either
/// would be counted twice or made up.
pub fn check_history(
    input: &HistoryInput,
    current: FiscalYear,
) -> Result<(FiscalYear, Option<History>), Vec<FieldError>> {
    let mut errors = Vec::new();
    let year = parse_year("fiscal_year", &input.fiscal_year).map_err(|e| errors.push(e));
    let mut figure = |field: &'static str, raw: &str| {
        parse_count(field, raw).unwrap_or_else(|e| {
            errors.push(e);
            None
        })
    };
    let matches = figure("matches", &input.matches);
    let hosts = figure("hosts", &input.hosts);
    let participants = figure("participants", &input.participants);
    let Ok(year) = year else { return Err(errors) };
    if !errors.is_empty() {
        return Err(errors);
    }
    if matches.is_none() && hosts.is_none() && participants.is_none() {
        return Ok((year, None));
    }
    if year >= current {
        return Err(vec![FieldError {
            field: "fiscal_year",
            problem: Problem::OutOfRange {
                min: 2000,
                max: (current.0 - 1).max(2000) as usize,
            },
        }]);
    }
    Ok((
        year,
        Some(History {
            fiscal_year: year,
            matches: matches.unwrap_or(0),
            hosts: hosts.unwrap_or(0),
            participants: participants.unwrap_or(0),
        }),
    ))
}

/// Sums the matches of the platform per fiscal year from `(start day, count)` rows,
/// with the years of history, oldest first: the chart of matches over the years.
pub fn matches_per_year(
    starts: &[(NaiveDate, u64)],
    history: &[History],
) -> BTreeMap<FiscalYear, u64> {
    let mut years: BTreeMap<FiscalYear, u64> = BTreeMap::new();
    for h in history {
        *years.entry(h.fiscal_year).or_default() += h.matches;
    }
    for (day, n) in starts {
        *years.entry(FiscalYear::containing(*day)).or_default() += n;
    }
    years
}

/// The smallest count of people an anonymous statistic shows: smaller cells are
/// suppressed, so that nobody can be singled out.
pub const MIN_CELL: u64 = 5;

/// Suppresses a table of people counts (rows × columns) for publication beyond the
/// tenant: every cell below [`MIN_CELL`] becomes `None`, and so does a column's
/// total whenever a cell of that column is suppressed (the total minus the shown
/// cells would give the hidden ones back). Returns the cells and the totals.
pub fn suppress(rows: &[Vec<u64>]) -> (Vec<Vec<Option<u64>>>, Vec<Option<u64>>) {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let cells: Vec<Vec<Option<u64>>> = rows
        .iter()
        .map(|r| r.iter().map(|n| (*n >= MIN_CELL).then_some(*n)).collect())
        .collect();
    let totals = (0..columns)
        .map(|c| {
            let hidden = cells.iter().any(|r| r.get(c).is_some_and(Option::is_none));
            let sum: u64 = rows.iter().filter_map(|r| r.get(c)).sum();
            (!hidden && sum >= MIN_CELL).then_some(sum)
        })
        .collect();
    (cells, totals)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn started(standing: Standing, from: NaiveDate, to: Option<NaiveDate>) -> Started {
        Started {
            standing,
            started_on: from,
            ended_on: to,
        }
    }

    #[test]
    fn continuation_waits_for_the_mark_and_counts_completed_as_continued() {
        let today = d(2026, 12, 1);
        let running = started(Standing::Running, d(2026, 9, 1), None);
        assert_eq!(continued(&running, 3, today), Some(true));
        assert_eq!(continued(&running, 6, today), None);
        let short = started(Standing::Ended, d(2026, 1, 10), Some(d(2026, 4, 9)));
        assert_eq!(continued(&short, 3, today), Some(false));
        let on_mark = started(Standing::Ended, d(2026, 1, 10), Some(d(2026, 4, 10)));
        assert_eq!(continued(&on_mark, 3, today), Some(true));
        assert_eq!(continued(&on_mark, 6, today), Some(false));
        let done = started(Standing::Completed, d(2025, 6, 1), Some(d(2025, 8, 1)));
        assert_eq!(continued(&done, 12, today), Some(true));
    }

    #[test]
    fn marks_clamp_to_the_month_end() {
        assert_eq!(month_mark(d(2026, 1, 31), 1), Some(d(2026, 2, 28)));
        assert_eq!(month_mark(d(2025, 11, 30), 3), Some(d(2026, 2, 28)));
    }

    #[test]
    fn rates_round_half_up() {
        let c = Continuation {
            months: 6,
            eligible: 3,
            continued: 2,
        };
        assert_eq!(c.percent(), Some(67));
        assert_eq!(Continuation::default().percent(), None);
    }

    #[test]
    fn residence_splits_inside_outside_and_unknown() {
        let mut t = Tally::default();
        t.add_residence(Some(3), Some(3), 2);
        t.add_residence(Some(13), Some(3), 1);
        t.add_residence(None, Some(3), 1);
        assert_eq!((t.total, t.inside, t.outside, t.unknown), (4, 2, 1, 1));
        assert_eq!(t.prefectures.get(&13), Some(&1));
    }

    #[test]
    fn targets_and_history_parse_with_field_errors() {
        let ok = check_target(&TargetInput {
            fiscal_year: "２０２６".into(),
            kpi: "matches".into(),
            target: "30".into(),
        });
        assert_eq!(ok, Ok((FiscalYear(2026), KpiCode::Matches, Some(30))));
        let bad = check_target(&TargetInput {
            fiscal_year: "26".into(),
            kpi: "nope".into(),
            target: "-1".into(),
        })
        .unwrap_err();
        let fields: Vec<_> = bad.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["fiscal_year", "kpi", "target"]);
        let now = FiscalYear(2026);
        let (y, h) = check_history(
            &HistoryInput {
                fiscal_year: "2018".into(),
                matches: "5".into(),
                ..Default::default()
            },
            now,
        )
        .unwrap();
        assert_eq!((y, h.map(|h| h.matches)), (FiscalYear(2018), Some(5)));
        // The current year and years to come are the platform's to count.
        for year in ["2026", "2030"] {
            let e = check_history(
                &HistoryInput {
                    fiscal_year: year.into(),
                    matches: "7".into(),
                    ..Default::default()
                },
                now,
            )
            .unwrap_err();
            assert_eq!(e[0].field, "fiscal_year");
        }
        // Removing a mistaken year is always possible.
        let removed = check_history(
            &HistoryInput {
                fiscal_year: "2030".into(),
                ..Default::default()
            },
            now,
        );
        assert_eq!(removed, Ok((FiscalYear(2030), None)));
        let rate = check_target(&TargetInput {
            fiscal_year: "2026".into(),
            kpi: "continuation_6".into(),
            target: "150".into(),
        })
        .unwrap_err();
        assert_eq!(rate[0].field, "target");
    }

    #[test]
    fn small_cells_and_the_totals_that_would_reveal_them_are_suppressed() {
        let (cells, totals) = suppress(&[vec![6, 12], vec![2, 5]]);
        assert_eq!(cells, [vec![Some(6), Some(12)], vec![None, Some(5)]]);
        assert_eq!(totals, [None, Some(17)]);
        let (_, totals) = suppress(&[vec![0], vec![3]]);
        assert_eq!(totals, [None]);
    }

    #[test]
    fn matches_per_year_joins_history_and_rows() {
        let h = [History {
            fiscal_year: FiscalYear(2018),
            matches: 5,
            hosts: 3,
            participants: 0,
        }];
        let years = matches_per_year(&[(d(2026, 3, 31), 2), (d(2026, 4, 1), 1)], &h);
        assert_eq!(
            years.into_iter().collect::<Vec<_>>(),
            [
                (FiscalYear(2018), 5),
                (FiscalYear(2025), 2),
                (FiscalYear(2026), 1)
            ]
        );
    }
}
