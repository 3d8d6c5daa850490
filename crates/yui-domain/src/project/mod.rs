//! Projects (案件): a host's challenge and the help it wants, co-designed with the
//! region's coordinator before it opens. The rules here have no I/O: what a project
//! may hold, checked field by field, and how its status may move.

use serde::{Deserialize, Serialize};

use crate::account::{FieldError, Problem, one_line};
use crate::talent::{Compensation, Skill};

pub const TITLE_MAX: usize = 100;
pub const TEXT_MAX: usize = 4000;
pub const LOCATION_MAX: usize = 100;
pub const COMMENT_MAX: usize = 2000;
/// Hours a month and months: beyond these a side job is not a side job.
pub const HOURS_PER_MONTH_MAX: u16 = 200;
pub const MONTHS_MAX: u16 = 36;
/// The largest amount in yen a project may name (a year's contract, generously).
pub const AMOUNT_MAX: u64 = 100_000_000;

macro_rules! codes {
    ($(#[$doc:meta])* $ty:ident { $($(#[$vdoc:meta])* $variant:ident => $code:literal),+ $(,)? }) => {
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

            pub fn parse(code: &str) -> Option<$ty> {
                Self::ALL.iter().copied().find(|v| v.code() == code)
            }
        }
    };
}

// One list of project kinds: talents state interest in the same kinds.
pub use crate::talent::ProjectKind;

codes!(
    /// Where a project stands.
    ProjectStatus {
        /// Being designed by the host with the coordinator; only they see it.
        Draft => "draft",
        /// Taking applications.
        Open => "open",
        /// No longer taking applications.
        Closed => "closed",
    }
);

codes!(
    /// Who may see an open project.
    Visibility {
        /// Everyone, also without an account.
        Public => "public",
        /// The region's members only.
        Members => "members",
    }
);

impl ProjectStatus {
    /// The allowed moves: a draft opens; an open project closes, or goes back to
    /// draft for rework; a closed one may open again (a second call for help).
    pub fn can_become(self, to: ProjectStatus) -> bool {
        use ProjectStatus::*;
        matches!(
            (self, to),
            (Draft, Open) | (Open, Closed) | (Open, Draft) | (Closed, Open)
        )
    }

    /// The moves offered from this status, in the order pages show them.
    pub fn next(self) -> Vec<ProjectStatus> {
        Self::ALL
            .iter()
            .copied()
            .filter(|to| self.can_become(*to))
            .collect()
    }
}

/// The project form as typed. `skills` holds every ticked skill code.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProjectInput {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub challenge: String,
    #[serde(default)]
    pub help_wanted: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub skills: Vec<String>,
    #[serde(default)]
    pub hours_per_month: String,
    #[serde(default)]
    pub months: String,
    #[serde(default)]
    pub remote_ratio: String,
    #[serde(default)]
    pub compensation: String,
    #[serde(default)]
    pub amount_min: String,
    #[serde(default)]
    pub amount_max: String,
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub visibility: String,
}

impl ProjectInput {
    /// The form from its submitted pairs (a browser repeats `skills` once per box).
    pub fn from_pairs(pairs: &[(String, String)]) -> ProjectInput {
        let mut input = ProjectInput::default();
        for (k, v) in pairs {
            let v = v.clone();
            match k.as_str() {
                "title" => input.title = v,
                "challenge" => input.challenge = v,
                "help_wanted" => input.help_wanted = v,
                "kind" => input.kind = v,
                "skills" => input.skills.push(v),
                "hours_per_month" => input.hours_per_month = v,
                "months" => input.months = v,
                "remote_ratio" => input.remote_ratio = v,
                "compensation" => input.compensation = v,
                "amount_min" => input.amount_min = v,
                "amount_max" => input.amount_max = v,
                "location" => input.location = v,
                "visibility" => input.visibility = v,
                _ => {}
            }
        }
        input
    }
}

/// A checked project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectFields {
    pub title: String,
    pub challenge: String,
    pub help_wanted: String,
    pub kind: ProjectKind,
    /// In taxonomy order, once each.
    pub skills: Vec<Skill>,
    pub hours_per_month: Option<u16>,
    pub months: Option<u16>,
    /// Percent of the work done remotely.
    pub remote_ratio: u8,
    pub compensation: Compensation,
    /// Yen, only for an honorarium or a contract.
    pub amount_min: Option<u64>,
    pub amount_max: Option<u64>,
    pub location: String,
    pub visibility: Visibility,
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
        errors.push(FieldError {
            field,
            problem: Problem::Required,
        });
    } else if v.chars().count() > max {
        errors.push(FieldError {
            field,
            problem: Problem::TooLong { max },
        });
    }
    v
}

/// A whole number in `min..=max`, or nothing when left empty.
fn number(
    errors: &mut Vec<FieldError>,
    field: &'static str,
    value: &str,
    min: u64,
    max: u64,
) -> Option<u64> {
    // Full-width digits from a Japanese input method and thousands separators are
    // what people type for amounts.
    let v: String = value
        .trim()
        .chars()
        .filter(|c| !matches!(c, ',' | '，' | '円' | '¥' | '￥'))
        .map(|c| match c {
            '０'..='９' => char::from_u32(u32::from(c) - 0xFF10 + 0x30).unwrap_or(c),
            c => c,
        })
        .collect();
    if v.is_empty() {
        return None;
    }
    match v.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Some(n),
        _ => {
            errors.push(FieldError {
                field,
                problem: Problem::OutOfRange {
                    min: usize::try_from(min).unwrap_or(usize::MAX),
                    max: usize::try_from(max).unwrap_or(usize::MAX),
                },
            });
            None
        }
    }
}

/// Checks a project: every problem at once, each naming its field.
pub fn check_project(input: &ProjectInput) -> Result<ProjectFields, Vec<FieldError>> {
    let mut errors = Vec::new();
    let title = one_line(&input.title);
    let title = text(&mut errors, "title", &title, TITLE_MAX, true);
    let challenge = text(&mut errors, "challenge", &input.challenge, TEXT_MAX, true);
    let help_wanted = text(
        &mut errors,
        "help_wanted",
        &input.help_wanted,
        TEXT_MAX,
        true,
    );
    let kind = ProjectKind::parse(&input.kind);
    if kind.is_none() {
        errors.push(FieldError {
            field: "kind",
            problem: Problem::InvalidChoice,
        });
    }
    let mut skills = Vec::new();
    for code in &input.skills {
        match Skill::parse(code) {
            Some(s) if !skills.contains(&s) => skills.push(s),
            Some(_) => {}
            None => {
                errors.push(FieldError {
                    field: "skills",
                    problem: Problem::InvalidChoice,
                });
                break;
            }
        }
    }
    skills.sort_unstable();
    let hours_per_month = number(
        &mut errors,
        "hours_per_month",
        &input.hours_per_month,
        1,
        u64::from(HOURS_PER_MONTH_MAX),
    )
    .and_then(|n| u16::try_from(n).ok());
    let months = number(
        &mut errors,
        "months",
        &input.months,
        1,
        u64::from(MONTHS_MAX),
    )
    .and_then(|n| u16::try_from(n).ok());
    let remote_ratio = if input.remote_ratio.trim().is_empty() {
        errors.push(FieldError {
            field: "remote_ratio",
            problem: Problem::Required,
        });
        None
    } else {
        number(&mut errors, "remote_ratio", &input.remote_ratio, 0, 100)
            .and_then(|n| u8::try_from(n).ok())
    };
    let compensation = Compensation::parse(&input.compensation);
    if compensation.is_none() {
        errors.push(FieldError {
            field: "compensation",
            problem: Problem::InvalidChoice,
        });
    }
    let amount_min = number(&mut errors, "amount_min", &input.amount_min, 0, AMOUNT_MAX);
    let amount_max = number(&mut errors, "amount_max", &input.amount_max, 0, AMOUNT_MAX);
    let paid = matches!(
        compensation,
        Some(Compensation::Honorarium | Compensation::Contract)
    );
    // An amount belongs to paid work only: a pro-bono project naming a sum would
    // promise what it does not mean. Sent anyway, it is dropped rather than refused,
    // since the form keeps the fields when the person changes their mind.
    let (amount_min, amount_max) = if paid {
        if let (Some(lo), Some(hi)) = (amount_min, amount_max)
            && lo > hi
        {
            errors.push(FieldError {
                field: "amount_max",
                problem: Problem::OutOfRange {
                    min: usize::try_from(lo).unwrap_or(usize::MAX),
                    max: usize::try_from(AMOUNT_MAX).unwrap_or(usize::MAX),
                },
            });
        }
        (amount_min, amount_max)
    } else {
        (None, None)
    };
    let location = one_line(&input.location);
    let location = text(&mut errors, "location", &location, LOCATION_MAX, false);
    let visibility = Visibility::parse(&input.visibility);
    if visibility.is_none() {
        errors.push(FieldError {
            field: "visibility",
            problem: Problem::InvalidChoice,
        });
    }
    match (kind, remote_ratio, compensation, visibility) {
        (Some(kind), Some(remote_ratio), Some(compensation), Some(visibility))
            if errors.is_empty() =>
        {
            Ok(ProjectFields {
                title,
                challenge,
                help_wanted,
                kind,
                skills,
                hours_per_month,
                months,
                remote_ratio,
                compensation,
                amount_min,
                amount_max,
                location,
                visibility,
            })
        }
        _ => Err(errors),
    }
}

/// Checks a co-design comment: required, at most [`COMMENT_MAX`] characters.
pub fn check_comment(body: &str) -> Result<String, FieldError> {
    let body = body.trim().replace("\r\n", "\n");
    if body.is_empty() {
        return Err(FieldError {
            field: "body",
            problem: Problem::Required,
        });
    }
    if body.chars().count() > COMMENT_MAX {
        return Err(FieldError {
            field: "body",
            problem: Problem::TooLong { max: COMMENT_MAX },
        });
    }
    Ok(body)
}

/// The text the cross-region project search finds a project by: its title, challenge,
/// help wanted and location, its host's name, and its skills in both languages (a
/// search for デザイン or design finds a project that wants the skill).
pub fn search_text(
    title: &str,
    challenge: &str,
    help_wanted: &str,
    location: &str,
    host_name: &str,
    skills: &[Skill],
) -> String {
    let mut parts = vec![title, challenge, help_wanted, location, host_name];
    for skill in skills {
        parts.push(skill.name(crate::Locale::Ja));
        parts.push(skill.name(crate::Locale::En));
    }
    parts.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ProjectInput {
        ProjectInput {
            title: "古民家カフェの販路開拓".into(),
            challenge: "冬の客足が落ちる。".into(),
            help_wanted: "SNSで発信してほしい。".into(),
            kind: "business".into(),
            skills: vec!["sns".into(), "pr".into(), "sns".into()],
            hours_per_month: "１０".into(),
            months: "6".into(),
            remote_ratio: "80".into(),
            compensation: "honorarium".into(),
            amount_min: "10,000".into(),
            amount_max: "30000円".into(),
            location: "北上市".into(),
            visibility: "public".into(),
        }
    }

    #[test]
    fn a_good_project_is_normalised() {
        let p = check_project(&input()).unwrap();
        assert_eq!(p.skills, [Skill::Sns, Skill::Pr]);
        assert_eq!(p.hours_per_month, Some(10));
        assert_eq!((p.amount_min, p.amount_max), (Some(10_000), Some(30_000)));
        let mut pro_bono = input();
        pro_bono.compensation = "pro_bono".into();
        let p = check_project(&pro_bono).unwrap();
        assert_eq!((p.amount_min, p.amount_max), (None, None));
    }

    #[test]
    fn every_problem_is_named_at_once() {
        let bad = ProjectInput {
            title: "\n".into(),
            challenge: String::new(),
            help_wanted: "あ".repeat(TEXT_MAX + 1),
            kind: "charity".into(),
            skills: vec!["hacking".into()],
            hours_per_month: "0".into(),
            months: "99".into(),
            remote_ratio: "101".into(),
            compensation: "contract".into(),
            amount_min: "50000".into(),
            amount_max: "100".into(),
            location: "あ".repeat(LOCATION_MAX + 1),
            visibility: "secret".into(),
        };
        let fields: Vec<&str> = check_project(&bad)
            .unwrap_err()
            .iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "title",
                "challenge",
                "help_wanted",
                "kind",
                "skills",
                "hours_per_month",
                "months",
                "remote_ratio",
                "amount_max",
                "location",
                "visibility"
            ]
        );
    }

    #[test]
    fn status_moves() {
        use ProjectStatus::*;
        assert!(Draft.can_become(Open));
        assert!(!Draft.can_become(Closed));
        assert!(Open.can_become(Closed));
        assert!(Closed.can_become(Open));
        assert!(!Closed.can_become(Draft));
        assert!(!Open.can_become(Open));
        assert_eq!(Draft.next(), [Open]);
        for s in ProjectStatus::ALL {
            assert_eq!(ProjectStatus::parse(s.code()), Some(*s));
        }
    }

    #[test]
    fn pairs_repeat_skills() {
        let pairs = vec![
            ("skills".to_owned(), "sns".to_owned()),
            ("skills".to_owned(), "pr".to_owned()),
            ("title".to_owned(), "x".to_owned()),
        ];
        let i = ProjectInput::from_pairs(&pairs);
        assert_eq!(i.skills, ["sns", "pr"]);
        assert_eq!(i.title, "x");
    }

    #[test]
    fn comments() {
        assert_eq!(check_comment(" ok\r\n ").unwrap(), "ok");
        assert!(check_comment("  ").is_err());
        assert!(check_comment(&"a".repeat(COMMENT_MAX + 1)).is_err());
    }
}
