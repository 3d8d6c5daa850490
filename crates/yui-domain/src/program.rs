//! Programs: a tenant's program for one fiscal year (遠恋複業 2025年度), made of the
//! events it runs. A new program starts from the tenant file's templates.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::account::{FieldError, Problem, one_line};
use crate::event::EventKind;
use crate::fiscal::FiscalYear;
use crate::locale::{Locale, Localized};
use crate::tenant::{EventTemplate, Templates};

pub const TITLE_MAX: usize = 100;
/// Programs are planned for the coming year and corrected for recent ones; older
/// years are history, not something to create now.
pub const YEARS_BACK: i32 = 10;
pub const YEARS_AHEAD: i32 = 1;

/// `2025年度`.
pub fn fiscal_label(year: FiscalYear) -> String {
    format!("{}年度", year.0)
}

/// `2025年度` or `FY2025` by language; with the era year where Japanese documents
/// expect it (`2025年度（令和7年度）`).
pub fn fiscal_label_in(year: FiscalYear, locale: Locale) -> String {
    match (locale, year.reiwa_label()) {
        (Locale::Ja, Some(era)) => format!("{}（{era}）", fiscal_label(year)),
        (Locale::Ja, None) => fiscal_label(year),
        (Locale::En, _) => year.to_string(),
    }
}

/// The program form as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ProgramInput {
    #[serde(default)]
    pub fiscal_year: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub title_en: String,
}

impl ProgramInput {
    /// A new program's form: the program's name followed by the year
    /// (`遠恋複業 2025年度`, `Enren Fukugyo FY2025`).
    pub fn for_year(name: &Localized, year: FiscalYear) -> ProgramInput {
        ProgramInput {
            fiscal_year: year.0.to_string(),
            title: format!("{} {}", name.ja.trim(), fiscal_label(year)),
            title_en: format!("{} {year}", name.en.trim()),
        }
    }
}

/// A checked program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramFields {
    pub fiscal_year: FiscalYear,
    pub title: Localized,
}

impl ProgramFields {
    /// `2025年度`.
    pub fn fiscal_label(&self) -> String {
        fiscal_label(self.fiscal_year)
    }

    /// `令和7年度`.
    pub fn reiwa_label(&self) -> Option<String> {
        self.fiscal_year.reiwa_label()
    }

    /// Whether `date` (in Tokyo) falls within the program's year: its events do.
    pub fn contains(&self, date: NaiveDate) -> bool {
        FiscalYear::containing(date) == self.fiscal_year
    }
}

/// An event belongs to the program of the fiscal year it starts in (a tour over
/// 31 March belongs to the year it began); otherwise its first date is named.
pub fn check_event_year(
    program: FiscalYear,
    event: &crate::event::EventFields,
) -> Result<(), FieldError> {
    match event.days.first() {
        Some(day) if FiscalYear::containing(day.date) == program => Ok(()),
        _ => Err(FieldError {
            field: "day1_date",
            problem: Problem::DateOutOfRange,
        }),
    }
}

/// The event templates a program starts from, in the order a year runs: seminars to
/// recruit, lectures on the region's challenges, then field work.
pub fn event_templates(templates: &Templates) -> [(EventKind, &EventTemplate); 3] {
    [
        (EventKind::Seminar, &templates.seminar),
        (EventKind::Lecture, &templates.lecture),
        (EventKind::Fieldwork, &templates.fieldwork),
    ]
}

/// Checks a program, every problem at once. `today` (in Tokyo) bounds the fiscal
/// years that may be chosen.
pub fn check_program(
    input: &ProgramInput,
    today: NaiveDate,
) -> Result<ProgramFields, Vec<FieldError>> {
    let mut errors = Vec::new();
    let current = FiscalYear::containing(today).0;
    let (min, max) = (current - YEARS_BACK, current + YEARS_AHEAD);
    let digits: String = input
        .fiscal_year
        .trim()
        .trim_end_matches("年度")
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(u32::from(c) - 0xFF10 + 0x30).unwrap_or(c),
            c => c,
        })
        .collect();
    let fiscal_year = if digits.is_empty() {
        errors.push(FieldError {
            field: "fiscal_year",
            problem: Problem::Required,
        });
        None
    } else {
        match digits.parse::<i32>() {
            Ok(y) if (min..=max).contains(&y) => Some(FiscalYear(y)),
            _ => {
                errors.push(FieldError {
                    field: "fiscal_year",
                    problem: Problem::OutOfRange {
                        min: usize::try_from(min).unwrap_or(0),
                        max: usize::try_from(max).unwrap_or(0),
                    },
                });
                None
            }
        }
    };
    let mut title = |field: &'static str, value: &str, required: bool| {
        let v = one_line(value);
        if required && v.is_empty() {
            errors.push(FieldError {
                field,
                problem: Problem::Required,
            });
        } else if v.chars().count() > TITLE_MAX {
            errors.push(FieldError {
                field,
                problem: Problem::TooLong { max: TITLE_MAX },
            });
        }
        v
    };
    let ja = title("title", &input.title, true);
    let en = title("title_en", &input.title_en, false);
    match fiscal_year {
        Some(fiscal_year) if errors.is_empty() => Ok(ProgramFields {
            fiscal_year,
            // English pages fall back to the Japanese title rather than show nothing.
            title: Localized {
                en: if en.is_empty() { ja.clone() } else { en },
                ja,
            },
        }),
        _ => Err(errors),
    }
}

/// The fiscal year a new program is for by default: the current one, and from January
/// the next, which is when regions plan it.
pub fn default_fiscal_year(today: NaiveDate) -> FiscalYear {
    let current = FiscalYear::containing(today);
    if today.month() <= 3 {
        FiscalYear(current.0 + 1)
    } else {
        current
    }
}

/// How a program's matching round weighs attendance at the program's field work (the
/// seeds' lesson: matches made without field work stayed shallow).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldworkRule {
    /// Anyone may join the round.
    Open,
    /// Field-work attendees are invited; others may still join.
    Preferred,
    /// Only field-work attendees may join.
    Required,
}

impl FieldworkRule {
    pub const ALL: &'static [FieldworkRule] = &[
        FieldworkRule::Open,
        FieldworkRule::Preferred,
        FieldworkRule::Required,
    ];

    pub fn code(self) -> &'static str {
        match self {
            FieldworkRule::Open => "open",
            FieldworkRule::Preferred => "preferred",
            FieldworkRule::Required => "required",
        }
    }

    pub fn parse(code: &str) -> Option<FieldworkRule> {
        Self::ALL.iter().copied().find(|r| r.code() == code)
    }
}

/// A talent's place in a program's matching round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoundEligibility {
    /// Invited without asking: attended the field work the round builds on.
    Invited,
    /// May join.
    Eligible,
    /// May not join.
    NotEligible,
}

/// Whether a talent may join the round, given whether they attended any of the
/// program's field work (on at least one day).
pub fn round_eligibility(rule: FieldworkRule, attended_fieldwork: bool) -> RoundEligibility {
    match (rule, attended_fieldwork) {
        (FieldworkRule::Open, _) => RoundEligibility::Eligible,
        (_, true) => RoundEligibility::Invited,
        (FieldworkRule::Preferred, false) => RoundEligibility::Eligible,
        (FieldworkRule::Required, false) => RoundEligibility::NotEligible,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn input(fy: &str, title: &str, en: &str) -> ProgramInput {
        ProgramInput {
            fiscal_year: fy.into(),
            title: title.into(),
            title_en: en.into(),
        }
    }

    #[test]
    fn field_work_before_matching() {
        use RoundEligibility::*;
        for r in FieldworkRule::ALL {
            assert_eq!(FieldworkRule::parse(r.code()), Some(*r));
        }
        assert_eq!(FieldworkRule::parse("Required"), None);
        assert_eq!(round_eligibility(FieldworkRule::Open, true), Eligible);
        assert_eq!(round_eligibility(FieldworkRule::Open, false), Eligible);
        assert_eq!(round_eligibility(FieldworkRule::Preferred, true), Invited);
        assert_eq!(round_eligibility(FieldworkRule::Preferred, false), Eligible);
        assert_eq!(round_eligibility(FieldworkRule::Required, true), Invited);
        assert_eq!(
            round_eligibility(FieldworkRule::Required, false),
            NotEligible
        );
    }

    #[test]
    fn events_in_their_program_year() {
        use crate::event::{EventInput, check_event_edit};
        let pairs = |d: &str| {
            [
                ("kind", "lecture"),
                ("audience", "talent"),
                ("title", "講座"),
                ("format", "online"),
                ("selection", "first_come"),
                ("day1_date", d),
                ("day1_starts", "19:00"),
                ("day1_ends", "20:00"),
                ("capacity_online", "50"),
            ]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<Vec<_>>()
        };
        let event = |d| check_event_edit(&EventInput::from_pairs(&pairs(d))).unwrap();
        assert_eq!(
            check_event_year(FiscalYear(2025), &event("2026-03-31")),
            Ok(())
        );
        assert_eq!(
            check_event_year(FiscalYear(2025), &event("2025-04-01")),
            Ok(())
        );
        let e = check_event_year(FiscalYear(2025), &event("2026-04-01")).unwrap_err();
        assert_eq!((e.field, e.problem), ("day1_date", Problem::DateOutOfRange));
    }

    #[test]
    fn labels() {
        assert_eq!(fiscal_label(FiscalYear(2025)), "2025年度");
        assert_eq!(
            fiscal_label_in(FiscalYear(2025), Locale::Ja),
            "2025年度（令和7年度）"
        );
        assert_eq!(
            fiscal_label_in(FiscalYear(2019), Locale::Ja),
            "2019年度（令和元年度）"
        );
        assert_eq!(fiscal_label_in(FiscalYear(2018), Locale::Ja), "2018年度");
        assert_eq!(fiscal_label_in(FiscalYear(2025), Locale::En), "FY2025");
    }

    #[test]
    fn a_new_program_from_the_name() {
        let name = Localized {
            ja: "遠恋複業".into(),
            en: "Enren Fukugyo".into(),
        };
        let today = date(2025, 6, 1);
        let p = check_program(&ProgramInput::for_year(&name, FiscalYear(2025)), today).unwrap();
        assert_eq!(p.title.ja, "遠恋複業 2025年度");
        assert_eq!(p.title.en, "Enren Fukugyo FY2025");
        assert_eq!(p.fiscal_label(), "2025年度");
        assert_eq!(p.reiwa_label().as_deref(), Some("令和7年度"));
        assert!(p.contains(date(2026, 3, 31)));
        assert!(!p.contains(date(2026, 4, 1)));
    }

    #[test]
    fn fiscal_years_bounded() {
        let today = date(2026, 2, 1); // FY2025
        assert_eq!(
            check_program(&input("２０２６年度", "x", ""), today)
                .unwrap()
                .fiscal_year,
            FiscalYear(2026)
        );
        assert_eq!(
            check_program(&input("2015", "x", ""), today)
                .unwrap()
                .title
                .en,
            "x"
        );
        for bad in [
            "2027",
            "2014",
            "2999",
            "-1",
            "令和7",
            "2025.5",
            "99999999999",
        ] {
            let e = check_program(&input(bad, "x", ""), today).unwrap_err();
            assert_eq!(
                (e[0].field, e[0].problem),
                (
                    "fiscal_year",
                    Problem::OutOfRange {
                        min: 2015,
                        max: 2026
                    }
                ),
                "{bad}"
            );
        }
        assert_eq!(default_fiscal_year(today), FiscalYear(2026));
        assert_eq!(default_fiscal_year(date(2025, 4, 1)), FiscalYear(2025));
    }

    #[test]
    fn titles_checked() {
        let today = date(2025, 6, 1);
        let e =
            check_program(&input("", " \u{202E} ", &"a".repeat(TITLE_MAX + 1)), today).unwrap_err();
        let fields: Vec<_> = e.iter().map(|e| (e.field, e.problem)).collect();
        assert_eq!(
            fields,
            [
                ("fiscal_year", Problem::Required),
                ("title", Problem::Required),
                ("title_en", Problem::TooLong { max: TITLE_MAX }),
            ]
        );
    }

    #[test]
    fn templates_in_year_order() {
        let t = |ja: &str| EventTemplate {
            title: Localized {
                ja: ja.into(),
                en: ja.into(),
            },
            format: crate::tenant::EventFormat::Online,
            capacity: 10,
            days: 1,
        };
        let templates = Templates {
            seminar: t("s"),
            lecture: t("l"),
            fieldwork: t("f"),
            matching_round: crate::tenant::RoundTemplate {
                talent_preference_limit: 3,
                host_preference_limit: 3,
                project_capacity: 1,
            },
        };
        let kinds: Vec<_> = event_templates(&templates)
            .iter()
            .map(|(k, t)| (*k, t.title.ja.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                (EventKind::Seminar, "s"),
                (EventKind::Lecture, "l"),
                (EventKind::Fieldwork, "f")
            ]
        );
    }
}
