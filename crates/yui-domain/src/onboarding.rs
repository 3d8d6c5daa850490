//! Onboarding a region: what an operator (or a prefecture for its municipalities)
//! fills in to create a tenant, the tenant it starts as, and the setup checklist its
//! administrator works through before the region is listed publicly.

use crate::account::{Email, FieldError, Problem};
use crate::locale::{Locale, Localized};
use crate::localgov::{LocalGov, MemberProblem, NationalList};
use crate::settings::{NAME_MAX, SettingRule, check_kana, check_line};
use crate::tenant::{
    Branding, Consent, EventFormat, EventSettings, EventTemplate, LocalGovCode, MailSender, Member,
    Names, RoundTemplate, Scouting, Templates, Tenant, TenantKind, valid_slug,
};

/// Where a new tenant's branding, consent wording and program templates come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Defaults<'a> {
    /// The platform's own.
    BuiltIn,
    /// Copied from an existing tenant.
    CopyOf(&'a Tenant),
}

/// The platform's logo for a tenant that has not uploaded its own: the character 結
/// in a circle of the default primary colour.
pub const DEFAULT_LOGO_SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" role="img" aria-label="結"><circle cx="32" cy="32" r="30" fill="#1f4e79"/><text x="32" y="43" font-size="32" text-anchor="middle" fill="#ffffff" font-family="sans-serif">結</text></svg>"##;

/// The default colours: both reach 4.5:1 on white (tested below).
const DEFAULT_PRIMARY: &str = "#1f4e79";
const DEFAULT_ACCENT: &str = "#8a4b08";

fn builtin_templates() -> Templates {
    let event = |ja: &str, en: &str, format, capacity, days| EventTemplate {
        title: Localized {
            ja: ja.to_owned(),
            en: en.to_owned(),
        },
        format,
        capacity,
        days,
    };
    Templates {
        seminar: event(
            "複業・兼業セミナー",
            "Side-job seminar",
            EventFormat::Hybrid,
            40,
            1,
        ),
        lecture: event(
            "受入企業・団体向けセミナー",
            "Seminar for host organizations",
            EventFormat::Onsite,
            30,
            1,
        ),
        fieldwork: event("フィールドワーク", "Fieldwork", EventFormat::Onsite, 15, 2),
        matching_round: RoundTemplate {
            talent_preference_limit: 5,
            host_preference_limit: 10,
            project_capacity: 1,
        },
    }
}

/// A region to create, as the onboarding form gives it (already checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRegion {
    pub slug: String,
    pub kind: TenantKind,
    pub code: Option<LocalGovCode>,
    /// The parent tenant's slug (a municipality's prefecture, when it is on Yui).
    pub parent: Option<String>,
    pub names: Names,
    pub default_locale: Locale,
    /// A union's member municipalities.
    pub members: Vec<Member>,
}

impl NewRegion {
    /// The tenant the region starts as. Its introduction and mail sender are
    /// placeholders its administrator is asked to replace (the checklist).
    pub fn tenant(&self, defaults: Defaults<'_>, sender_address: &str) -> Tenant {
        let (branding, consent, templates, events, scouting) = match defaults {
            Defaults::BuiltIn => (
                Branding {
                    primary: DEFAULT_PRIMARY.to_owned(),
                    accent: DEFAULT_ACCENT.to_owned(),
                    logo: "logo.svg".to_owned(),
                },
                Consent::default(),
                builtin_templates(),
                EventSettings::default(),
                Scouting::default(),
            ),
            Defaults::CopyOf(t) => (
                Branding {
                    logo: "logo.svg".to_owned(),
                    ..t.branding.clone()
                },
                // The wording is theirs to review, but it starts at version 1 here.
                Consent {
                    version: 1,
                    text: t.consent.text.clone(),
                },
                t.templates.clone(),
                t.events.clone(),
                t.scouting,
            ),
        };
        Tenant {
            slug: self.slug.clone(),
            kind: self.kind,
            code: self.code.clone(),
            parent: self.parent.clone(),
            default_locale: self.default_locale,
            intro: Localized {
                ja: format!("{}の複業・兼業人材とのマッチング事業です。", self.names.ja),
                en: format!(
                    "{} connects side-job professionals with local organizations.",
                    self.names.en
                ),
            },
            mail: MailSender {
                sender_name: format!("{} 事務局", self.names.ja),
                sender_address: sender_address.to_owned(),
            },
            name: self.names.clone(),
            branding,
            templates,
            members: self.members.clone(),
            consent,
            scouting,
            events,
        }
    }
}

/// Slugs a region may not take: words of the platform's own addresses (the console's
/// `/ops/tenants/new` would hide a region called `new`) and names people would take
/// for the platform itself.
pub const RESERVED_SLUGS: &[&str] = &[
    "new", "ops", "api", "admin", "www", "t", "a", "me", "account", "signin", "signup", "static",
    "assets", "settings", "setup", "yui", "demo", "test", "mail", "help",
];

/// What the onboarding form posts, as typed.
#[derive(Debug, Clone, Default)]
pub struct RegionForm<'a> {
    /// `"municipality"`/`"prefecture"` from the list (with `code`), or `"union"`.
    pub kind: &'a str,
    pub code: &'a str,
    pub slug: &'a str,
    pub name_ja: &'a str,
    pub name_en: &'a str,
    pub name_kana: &'a str,
    pub default_locale: &'a str,
    /// A union's members, one per line: a code or a name.
    pub members: &'a str,
    pub admin_email: &'a str,
}

/// A checked onboarding form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedRegion {
    pub region: NewRegion,
    pub admin: Email,
    /// The list entry the region was picked from (none for a union).
    pub picked: Option<LocalGov>,
}

/// A union member line that names no single municipality, for the page to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberLineProblem {
    pub line: String,
    pub problem: MemberProblem,
}

/// Checks the onboarding form against the national list. `parent_slug` finds the
/// slug of the tenant with a given local-government code, when it is on Yui (a
/// municipality's prefecture becomes its parent). Every problem is returned at once.
pub fn check_region(
    form: &RegionForm<'_>,
    list: &NationalList,
    parent_slug: impl Fn(&LocalGovCode) -> Option<String>,
) -> Result<CheckedRegion, (Vec<FieldError>, Vec<MemberLineProblem>)> {
    let mut errors = Vec::new();
    let mut member_problems = Vec::new();
    let fail = |errors: &mut Vec<FieldError>, field, problem| {
        errors.push(FieldError { field, problem });
    };
    let slug = form.slug.trim().to_owned();
    if slug.is_empty() {
        fail(&mut errors, "slug", Problem::Required);
    } else if !valid_slug(&slug) {
        fail(&mut errors, "slug", Problem::InvalidSlug);
    } else if RESERVED_SLUGS.contains(&slug.as_str()) {
        fail(&mut errors, "slug", Problem::Taken);
    }
    // The same rules as the tenant file and the settings pages.
    let mut rule = |field: &'static str, checked: Result<String, SettingRule>| {
        checked.unwrap_or_else(|r| {
            errors.push(FieldError {
                field,
                problem: r.problem(),
            });
            String::new()
        })
    };
    let names = Names {
        ja: rule("name_ja", check_line(form.name_ja, NAME_MAX)),
        en: rule("name_en", check_line(form.name_en, NAME_MAX)),
        kana: rule("name_kana", check_kana(form.name_kana)),
    };
    let default_locale = Locale::parse(form.default_locale).unwrap_or_else(|| {
        fail(&mut errors, "default_locale", Problem::InvalidChoice);
        Locale::Ja
    });
    let admin = Email::parse("admin_email", form.admin_email)
        .map_err(|e| errors.push(e))
        .ok();
    let (kind, code, parent, members, picked) = if form.kind == "union" {
        let mut members: Vec<Member> = Vec::new();
        for line in form
            .members
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            match list.member(line) {
                Ok(m) if members.iter().any(|o| o.code == m.code) => {}
                Ok(m) => members.push(Member {
                    code: m.code.clone(),
                    name: m.names(),
                }),
                Err(problem) => member_problems.push(MemberLineProblem {
                    line: line.chars().take(NAME_MAX).collect(),
                    problem,
                }),
            }
        }
        if !member_problems.is_empty() {
            fail(&mut errors, "members", Problem::UnknownLocalGov);
        } else if members.len() < 2 {
            fail(&mut errors, "members", Problem::TooFewMembers { min: 2 });
        } else if members.len() > 200 {
            fail(&mut errors, "members", Problem::TooMany { max: 200 });
        }
        (TenantKind::Union, None, None, members, None)
    } else {
        match list.by_code(form.code.trim()).filter(|e| e.administered) {
            None => {
                fail(&mut errors, "code", Problem::UnknownLocalGov);
                (TenantKind::Municipality, None, None, Vec::new(), None)
            }
            Some(e) => {
                let parent = (e.kind == TenantKind::Municipality)
                    .then(|| parent_slug(&e.prefecture))
                    .flatten();
                (
                    e.kind,
                    Some(e.code.clone()),
                    parent,
                    Vec::new(),
                    Some(e.clone()),
                )
            }
        }
    };
    match admin {
        Some(admin) if errors.is_empty() => Ok(CheckedRegion {
            region: NewRegion {
                slug,
                kind,
                code,
                parent,
                names,
                default_locale,
                members,
            },
            admin,
            picked,
        }),
        _ => Err((errors, member_problems)),
    }
}

/// One thing a new region's administrator does before the region is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetupStep {
    /// The landing page's introduction, in the region's own words.
    Introduction,
    /// Colours and logo.
    Branding,
    /// The consent wording talents agree to.
    Consent,
    /// Who the region's mail comes from.
    MailSender,
    /// The first fiscal year's program.
    FirstProgram,
}

impl SetupStep {
    pub const ALL: [SetupStep; 5] = [
        SetupStep::Introduction,
        SetupStep::Branding,
        SetupStep::Consent,
        SetupStep::MailSender,
        SetupStep::FirstProgram,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SetupStep::Introduction => "introduction",
            SetupStep::Branding => "branding",
            SetupStep::Consent => "consent",
            SetupStep::MailSender => "mail",
            SetupStep::FirstProgram => "first_program",
        }
    }
}

/// The checklist: each step and whether it is done. `done` says whether the step's
/// work has been saved at least once (a settings section edited in pages, a program
/// created).
pub fn checklist(done: impl Fn(SetupStep) -> bool) -> Vec<(SetupStep, bool)> {
    SetupStep::ALL.iter().map(|&s| (s, done(s))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::localgov::national_list;
    use crate::settings::contrast_ratio;

    fn form<'a>(code: &'a str, slug: &'a str) -> RegionForm<'a> {
        RegionForm {
            kind: "municipality",
            code,
            slug,
            name_ja: "一関市",
            name_en: "Ichinoseki City",
            name_kana: "いちのせきし",
            default_locale: "ja",
            members: "",
            admin_email: "admin@ichinoseki.example.jp",
        }
    }

    #[test]
    fn a_municipality_from_the_list_gets_its_prefecture_as_parent_when_on_yui() {
        let list = national_list();
        let checked = check_region(&form("032093", "ichinoseki"), list, |c| {
            (c.as_str() == "030007").then(|| "iwate".to_owned())
        })
        .unwrap();
        assert_eq!(checked.region.kind, TenantKind::Municipality);
        assert_eq!(checked.region.parent.as_deref(), Some("iwate"));
        let alone = check_region(&form("032093", "ichinoseki"), list, |_| None).unwrap();
        assert_eq!(alone.region.parent, None);
    }

    #[test]
    fn every_problem_names_its_field() {
        let list = national_list();
        let mut f = form("999999", "Bad Slug");
        f.name_kana = "イチノセキ市";
        f.admin_email = "not an address";
        f.default_locale = "fr";
        let (errors, _) = check_region(&f, list, |_| None).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        for field in ["slug", "name_kana", "admin_email", "default_locale", "code"] {
            assert!(fields.contains(&field), "{field}: {errors:?}");
        }
        // The Northern Territories' villages are on the list but cannot be onboarded.
        let (errors, _) = check_region(&form("016951", "shikotan"), list, |_| None).unwrap_err();
        assert_eq!(errors[0].field, "code");
        // Words of the platform's own addresses are not regions' slugs.
        let (errors, _) = check_region(&form("032093", "new"), list, |_| None).unwrap_err();
        assert_eq!(errors[0].field, "slug");
    }

    #[test]
    fn a_union_names_at_least_two_members_each_unambiguously() {
        let list = national_list();
        let mut f = form("", "ryoban");
        f.kind = "union";
        f.members = "一関市\n032115\n\n一関市";
        let ok = check_region(&f, list, |_| None).unwrap();
        assert_eq!(ok.region.kind, TenantKind::Union);
        assert_eq!(ok.region.members.len(), 2, "the repeated line counts once");
        f.members = "伊達市\nどこか村\n釜石市";
        let (errors, lines) = check_region(&f, list, |_| None).unwrap_err();
        assert_eq!(errors[0].field, "members");
        assert_eq!(lines.len(), 2);
        f.members = "釜石市";
        let (errors, _) = check_region(&f, list, |_| None).unwrap_err();
        assert_eq!(errors[0].problem, Problem::TooFewMembers { min: 2 });
    }

    #[test]
    fn a_new_tenant_is_a_valid_tenant_file_with_either_defaults() {
        let list = national_list();
        let checked = check_region(&form("032093", "ichinoseki"), list, |_| None).unwrap();
        let built_in = checked
            .region
            .tenant(Defaults::BuiltIn, "noreply@yui.example");
        for colour in [&built_in.branding.primary, &built_in.branding.accent] {
            let rgb = crate::settings::parse_hex_colour(colour).unwrap();
            assert!(contrast_ratio(rgb, [255, 255, 255]) >= 4.5, "{colour}");
        }
        assert_eq!(built_in.consent.version, 1);
        let mut other = built_in;
        other.branding.primary = "#283593".to_owned();
        other.consent.version = 4;
        let copied = checked
            .region
            .tenant(Defaults::CopyOf(&other), "noreply@yui.example");
        assert_eq!(copied.branding.primary, "#283593");
        assert_eq!(copied.consent.version, 1);
        assert_eq!(copied.name.ja, "一関市");
    }
}
