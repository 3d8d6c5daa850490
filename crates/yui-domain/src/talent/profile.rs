//! A talent's profile as typed, and the checked profile: every problem named by its
//! field, all at once.

use serde::{Deserialize, Serialize};

use super::{Industry, Prefecture, ProjectKind, Skill};
use crate::account::{FieldError, Problem, check_display_name, one_line};

/// How the talent would work with a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkStyle {
    Remote,
    Onsite,
    /// Remote mostly, on site now and then (what most side jobs with a region are).
    Either,
}

/// What the talent asks in return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compensation {
    /// プロボノ: no payment.
    ProBono,
    /// 実費のみ: travel and costs only.
    Expenses,
    /// 謝礼: an honorarium.
    Honorarium,
    /// 業務委託: a paid contract.
    Contract,
}

/// A talent's tie to a region (関係人口's kinds of relation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionTie {
    /// 出身: born or raised there.
    Hometown,
    /// 居住歴: lived there.
    FormerResident,
    /// ゆかり: family, studies, work, a friend.
    Connection,
    /// ファン: likes the place.
    Fan,
}

/// A public servant's permission for a side job (公務員の兼業許可), asked only of
/// talents who say they are one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SideJobPermission {
    /// 許可済み.
    Granted,
    /// 申請中.
    Applied,
    /// 未申請.
    NotYet,
    /// Not needed for what they would do (e.g. unpaid activity under their rules).
    NotRequired,
}

macro_rules! codes {
    ($ty:ident { $($variant:ident => $code:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The stored (and form) code.
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

codes!(WorkStyle { Remote => "remote", Onsite => "onsite", Either => "either" });
codes!(Compensation {
    ProBono => "pro_bono",
    Expenses => "expenses",
    Honorarium => "honorarium",
    Contract => "contract",
});
codes!(RegionTie {
    Hometown => "hometown",
    FormerResident => "former_resident",
    Connection => "connection",
    Fan => "fan",
});
codes!(SideJobPermission {
    Granted => "granted",
    Applied => "applied",
    NotYet => "not_yet",
    NotRequired => "not_required",
});

/// The most free tags, and the longest one.
pub const TAGS_MAX: usize = 10;
pub const TAG_MAX: usize = 30;
/// The longest experience summary.
pub const SUMMARY_MAX: usize = 2000;
/// More hours a month than anyone has beside a job is a typing mistake.
pub const HOURS_PER_MONTH_MAX: u16 = 200;
/// The most ties to regions one profile lists.
pub const TIES_MAX: usize = 20;

/// A tie to one prefecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Tie {
    pub prefecture: Prefecture,
    pub kind: RegionTie,
}

/// The profile form as typed (every field text, as a browser sends it).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProfileInput {
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub kana: String,
    #[serde(default)]
    pub residence: String,
    #[serde(default)]
    pub skills: Vec<String>,
    /// Free tags, separated by commas (、 or ,) or new lines.
    #[serde(default)]
    pub tags: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub hours_per_month: String,
    #[serde(default)]
    pub work_style: String,
    #[serde(default)]
    pub compensation: String,
    #[serde(default)]
    pub public_servant: Option<String>,
    #[serde(default)]
    pub side_job_permission: String,
    /// Ties as (kind code, prefecture code) pairs.
    #[serde(default)]
    pub ties: Vec<(String, String)>,
    #[serde(default)]
    pub industries: Vec<String>,
    #[serde(default)]
    pub project_kinds: Vec<String>,
}

/// A checked profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TalentProfile {
    pub display_name: String,
    /// Reading in katakana (フリガナ), as Japanese forms ask.
    pub kana: String,
    pub residence: Option<Prefecture>,
    pub skills: Vec<Skill>,
    pub tags: Vec<String>,
    pub summary: String,
    pub hours_per_month: Option<u16>,
    pub work_style: WorkStyle,
    pub compensation: Compensation,
    /// `Some` for a public servant: the state of their side-job permission.
    pub side_job_permission: Option<SideJobPermission>,
    /// Ties to regions, each once, sorted.
    pub ties: Vec<Tie>,
    /// Industries of interest, in taxonomy order.
    pub industries: Vec<Industry>,
    /// Kinds of project of interest.
    pub project_kinds: Vec<ProjectKind>,
}

/// A reading: kana (either script, full width), long vowel mark, middle dot and spaces.
/// Hiragana is turned into katakana, so one reading sorts and searches one way.
pub(crate) fn check_kana(field: &'static str, text: &str) -> Result<String, FieldError> {
    let text = one_line(text);
    let fail = |problem| Err(FieldError { field, problem });
    if text.chars().count() > 100 {
        return fail(Problem::TooLong { max: 100 });
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            // ぁ–ゖ → ァ–ヶ: the two blocks are 0x60 apart.
            'ぁ'..='ゖ' => out.push(char::from_u32(u32::from(c) + 0x60).unwrap_or(c)),
            'ァ'..='ヺ' | 'ー' | '・' | ' ' | '\u{3000}' => out.push(c),
            _ => return fail(Problem::NotKana),
        }
    }
    Ok(out.trim().to_owned())
}

/// Checks a profile: every problem at once, each naming its field.
pub fn check_profile(input: &ProfileInput) -> Result<TalentProfile, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut field = |name: &'static str, problem: Problem| {
        errors.push(FieldError {
            field: name,
            problem,
        });
    };
    let display_name = check_display_name("display_name", &input.display_name)
        .map_err(|e| field(e.field, e.problem))
        .ok();
    let kana = check_kana("kana", &input.kana)
        .map_err(|e| field(e.field, e.problem))
        .ok();
    let residence = match input.residence.trim() {
        "" => None,
        code => {
            let p = Prefecture::parse(code);
            if p.is_none() {
                field("residence", Problem::InvalidChoice);
            }
            p
        }
    };
    let mut skills = Vec::new();
    for code in &input.skills {
        match Skill::parse(code) {
            Some(s) if !skills.contains(&s) => skills.push(s),
            Some(_) => {}
            None => {
                field("skills", Problem::InvalidChoice);
                break;
            }
        }
    }
    skills.sort_unstable();
    let mut tags: Vec<String> = Vec::new();
    for tag in input
        .tags
        .split([',', '、', '，', '\n'])
        .map(one_line)
        .filter(|t| !t.is_empty())
    {
        if tag.chars().count() > TAG_MAX {
            field("tags", Problem::TooLong { max: TAG_MAX });
            break;
        }
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    if tags.len() > TAGS_MAX {
        field("tags", Problem::TooMany { max: TAGS_MAX });
    }
    let summary = input.summary.trim().replace("\r\n", "\n");
    if summary.chars().count() > SUMMARY_MAX {
        field("summary", Problem::TooLong { max: SUMMARY_MAX });
    }
    let hours_per_month = match input.hours_per_month.trim() {
        "" => None,
        text => match text.parse::<u16>() {
            Ok(h) if h <= HOURS_PER_MONTH_MAX => Some(h),
            _ => {
                field(
                    "hours_per_month",
                    Problem::OutOfRange {
                        min: 0,
                        max: usize::from(HOURS_PER_MONTH_MAX),
                    },
                );
                None
            }
        },
    };
    let work_style = WorkStyle::parse(&input.work_style);
    if work_style.is_none() {
        field("work_style", Problem::InvalidChoice);
    }
    let compensation = Compensation::parse(&input.compensation);
    if compensation.is_none() {
        field("compensation", Problem::InvalidChoice);
    }
    let side_job_permission = if input.public_servant.is_some() {
        let p = SideJobPermission::parse(&input.side_job_permission);
        if p.is_none() {
            field("side_job_permission", Problem::Required);
        }
        p
    } else {
        // A permission chosen with the public-servant box unticked is a contradiction
        // the person should settle, not a value to drop without a word.
        if !input.side_job_permission.trim().is_empty() {
            field("side_job_permission", Problem::OnlyForPublicServants);
        }
        None
    };
    let mut ties = Vec::new();
    for (kind, prefecture) in &input.ties {
        match (RegionTie::parse(kind), Prefecture::parse(prefecture)) {
            (Some(kind), Some(prefecture)) => ties.push(Tie { prefecture, kind }),
            _ => {
                field("ties", Problem::InvalidChoice);
                break;
            }
        }
    }
    ties.sort_unstable();
    ties.dedup();
    if ties.len() > TIES_MAX {
        field("ties", Problem::TooMany { max: TIES_MAX });
    }
    let industries = codes_once(&input.industries, Industry::parse)
        .ok_or(())
        .map_err(|()| field("industries", Problem::InvalidChoice))
        .unwrap_or_default();
    let project_kinds = codes_once(&input.project_kinds, ProjectKind::parse)
        .ok_or(())
        .map_err(|()| field("project_kinds", Problem::InvalidChoice))
        .unwrap_or_default();
    match (display_name, kana, work_style, compensation) {
        (Some(display_name), Some(kana), Some(work_style), Some(compensation))
            if errors.is_empty() =>
        {
            Ok(TalentProfile {
                display_name,
                kana,
                residence,
                skills,
                tags,
                summary,
                hours_per_month,
                work_style,
                compensation,
                side_job_permission,
                ties,
                industries,
                project_kinds,
            })
        }
        _ => Err(errors),
    }
}

/// Codes read as values, each once, in their order; `None` if one is unknown.
fn codes_once<T: Ord>(codes: &[String], parse: impl Fn(&str) -> Option<T>) -> Option<Vec<T>> {
    let mut out = codes.iter().map(|c| parse(c)).collect::<Option<Vec<T>>>()?;
    out.sort_unstable();
    out.dedup();
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ProfileInput {
        ProfileInput {
            display_name: "佐藤 花子".into(),
            kana: "さとう はなこ".into(),
            residence: "13".into(),
            skills: vec!["pr".into(), "sns".into(), "pr".into()],
            tags: "地域おこし、 ライティング,地域おこし".into(),
            summary: "広報を10年。\r\n週末に動けます。".into(),
            hours_per_month: "20".into(),
            work_style: "either".into(),
            compensation: "honorarium".into(),
            public_servant: None,
            side_job_permission: String::new(),
            ties: vec![
                ("fan".into(), "46".into()),
                ("hometown".into(), "03".into()),
                ("fan".into(), "46".into()),
            ],
            industries: vec!["hospitality".into(), "agriculture".into()],
            project_kinds: vec!["fan_community".into()],
        }
    }

    #[test]
    fn a_good_profile_is_normalised() {
        let p = check_profile(&input()).unwrap();
        assert_eq!(p.kana, "サトウ ハナコ", "hiragana read as katakana");
        assert_eq!(p.residence.map(Prefecture::code), Some(13));
        assert_eq!(
            p.skills,
            [Skill::Sns, Skill::Pr],
            "taxonomy order, once each"
        );
        assert_eq!(p.tags, ["地域おこし", "ライティング"]);
        assert_eq!(p.summary, "広報を10年。\n週末に動けます。");
        assert_eq!(p.hours_per_month, Some(20));
        assert_eq!(p.side_job_permission, None);
        assert_eq!(
            p.ties,
            [
                Tie {
                    prefecture: Prefecture::parse("03").unwrap(),
                    kind: RegionTie::Hometown
                },
                Tie {
                    prefecture: Prefecture::parse("46").unwrap(),
                    kind: RegionTie::Fan
                }
            ],
            "sorted, once each"
        );
        assert_eq!(p.industries, [Industry::Agriculture, Industry::Hospitality]);
        assert_eq!(p.project_kinds, [ProjectKind::FanCommunity]);
    }

    #[test]
    fn every_problem_is_named_at_once() {
        let bad = ProfileInput {
            display_name: "\u{200B}".into(),
            kana: "Sato".into(),
            residence: "48".into(),
            skills: vec!["hacking".into()],
            tags: (0..11)
                .map(|i| format!("tag{i}"))
                .collect::<Vec<_>>()
                .join(","),
            summary: "あ".repeat(SUMMARY_MAX + 1),
            hours_per_month: "999".into(),
            work_style: "sometimes".into(),
            compensation: "gold".into(),
            public_servant: Some("1".into()),
            side_job_permission: String::new(),
            ties: vec![("fan".into(), "99".into())],
            industries: vec!["mining".into()],
            project_kinds: vec!["charity".into()],
        };
        let fields: Vec<&str> = check_profile(&bad)
            .unwrap_err()
            .iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "display_name",
                "kana",
                "residence",
                "skills",
                "tags",
                "summary",
                "hours_per_month",
                "work_style",
                "compensation",
                "side_job_permission",
                "ties",
                "industries",
                "project_kinds"
            ]
        );
    }

    #[test]
    fn a_public_servant_says_where_their_permission_stands() {
        let mut i = input();
        i.public_servant = Some("1".into());
        i.side_job_permission = "applied".into();
        assert_eq!(
            check_profile(&i).unwrap().side_job_permission,
            Some(SideJobPermission::Applied)
        );
        // Not a public servant: a permission sent anyway is named as the problem.
        let mut i = input();
        i.side_job_permission = "granted".into();
        let e = check_profile(&i).unwrap_err();
        assert_eq!(
            e,
            vec![FieldError {
                field: "side_job_permission",
                problem: Problem::OnlyForPublicServants
            }]
        );
    }

    #[test]
    fn codes_round_trip() {
        for w in WorkStyle::ALL {
            assert_eq!(WorkStyle::parse(w.code()), Some(*w));
        }
        for c in Compensation::ALL {
            assert_eq!(Compensation::parse(c.code()), Some(*c));
        }
        for t in RegionTie::ALL {
            assert_eq!(RegionTie::parse(t.code()), Some(*t));
        }
        for p in SideJobPermission::ALL {
            assert_eq!(SideJobPermission::parse(p.code()), Some(*p));
        }
    }
}
