//! Tenants: the prefectures, municipalities and unions that run a program on Yui,
//! and the `tenant.toml` files that describe them.

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::locale::{Locale, Localized};
use crate::settings::{self, LogoKind, SettingRule, ranges};

/// What kind of local government a tenant is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantKind {
    Prefecture,
    Municipality,
    /// A union of municipalities (一部事務組合・広域連合).
    Union,
}

impl TenantKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TenantKind::Prefecture => "prefecture",
            TenantKind::Municipality => "municipality",
            TenantKind::Union => "union",
        }
    }

    pub fn parse(s: &str) -> Option<TenantKind> {
        match s {
            "prefecture" => Some(TenantKind::Prefecture),
            "municipality" => Some(TenantKind::Municipality),
            "union" => Some(TenantKind::Union),
            _ => None,
        }
    }
}

/// Whether a tenant's pages are served. Suspension hides, it never deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantStatus {
    Active,
    Suspended,
}

impl TenantStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TenantStatus::Active => "active",
            TenantStatus::Suspended => "suspended",
        }
    }

    pub fn parse(s: &str) -> Option<TenantStatus> {
        match s {
            "active" => Some(TenantStatus::Active),
            "suspended" => Some(TenantStatus::Suspended),
            _ => None,
        }
    }
}

/// A 6-digit local-government code (全国地方公共団体コード): five digits and a check
/// digit computed with weights 6-5-4-3-2, modulo 11.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LocalGovCode(String);

/// Why a string is not a local-government code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("must be 6 digits, got {0:?}")]
    Shape(String),
    #[error("check digit of {code} should be {expected}")]
    CheckDigit { code: String, expected: u32 },
}

impl LocalGovCode {
    pub fn parse(s: &str) -> Result<LocalGovCode, CodeError> {
        let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
        if digits.len() != 6 || s.len() != 6 {
            return Err(CodeError::Shape(s.to_owned()));
        }
        let sum: u32 = digits[..5]
            .iter()
            .zip([6, 5, 4, 3, 2])
            .map(|(d, w)| d * w)
            .sum();
        // 11 − remainder, keeping only the last digit (remainder 0 → 1, remainder 1 → 0).
        let expected = (11 - sum % 11) % 10;
        if digits[5] != expected {
            return Err(CodeError::CheckDigit {
                code: s.to_owned(),
                expected,
            });
        }
        Ok(LocalGovCode(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The two-digit prefecture number every code starts with.
    pub fn prefecture_prefix(&self) -> &str {
        &self.0[..2]
    }
}

impl TryFrom<String> for LocalGovCode {
    type Error = CodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        LocalGovCode::parse(&s)
    }
}

impl From<LocalGovCode> for String {
    fn from(c: LocalGovCode) -> String {
        c.0
    }
}

impl std::fmt::Display for LocalGovCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Names of a tenant or member municipality.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Names {
    pub ja: String,
    pub en: String,
    pub kana: String,
}

impl Names {
    pub fn get(&self, locale: Locale) -> &str {
        match locale {
            Locale::Ja => &self.ja,
            Locale::En => &self.en,
        }
    }
}

/// A member municipality of a union.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub code: LocalGovCode,
    pub name: Names,
}

/// Colours and logo. Both colours carry white text or sit on white, so both must
/// reach the 4.5:1 contrast of JIS X 8341-3 AA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Branding {
    pub primary: String,
    pub accent: String,
    pub logo: String,
}

/// Who tenant mail comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailSender {
    pub sender_name: String,
    pub sender_address: String,
}

/// How an event is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventFormat {
    Online,
    Onsite,
    Hybrid,
}

/// Defaults for a kind of event, used when a coordinator creates one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventTemplate {
    pub title: Localized,
    pub format: EventFormat,
    pub capacity: u32,
    pub days: u32,
}

/// Defaults for a matching round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundTemplate {
    pub talent_preference_limit: u32,
    pub host_preference_limit: u32,
    pub project_capacity: u32,
}

/// The program templates a tenant starts each fiscal year from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Templates {
    pub seminar: EventTemplate,
    pub lecture: EventTemplate,
    pub fieldwork: EventTemplate,
    pub matching_round: RoundTemplate,
}

/// What a talent agrees to when joining the tenant (個人情報保護法: the purpose, who
/// sees what, how to withdraw), in both languages. Every change of wording is a new
/// version: a membership records the version it was given under, and a talent whose
/// version is older is asked again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub version: u32,
    pub text: Localized,
}

/// The longest consent text, per language.
pub const CONSENT_TEXT_MAX: usize = 4000;

impl Default for Consent {
    /// The wording a tenant file without `[consent]` gets: what the platform itself
    /// can promise of every region.
    fn default() -> Consent {
        Consent {
            version: 1,
            text: Localized {
                ja: DEFAULT_CONSENT_JA.to_owned(),
                en: DEFAULT_CONSENT_EN.to_owned(),
            },
        }
    }
}

const DEFAULT_CONSENT_JA: &str = "この地域に参加すると、あなたのプロフィール（氏名、フリガナ、居住都道府県、スキル、経歴、関わり方の希望、地域とのつながり、関心）を、この地域の事業を運営する事務局の職員が、複業・兼業のマッチング、イベントや相談のご案内、事業の報告（個人を特定しない集計）のために利用します。\n\n受入企業・団体にプロフィールを見せるかどうかは、別に選べます。選んだ場合に限り、この地域の受入企業・団体の担当者があなたのプロフィールを見て、案件のご相談に使います。\n\nいつでもこの地域から退会し、または受入企業・団体への提供をやめることができます。その時点から、この地域の職員・受入企業・団体はあなたのプロフィールを見られなくなります。同意の記録（版と日時）は、同意した事実の証明のために保存します。";

const DEFAULT_CONSENT_EN: &str = "When you join this region, the staff of the secretariat that runs its program use your profile (name, reading, prefecture of residence, skills, experience, how you would like to work, your ties to regions and your interests) to match you with side jobs, to tell you about events and consultations, and to report on the program (in figures that identify nobody).\n\nWhether the region's host organizations may see your profile is a separate choice. Only if you choose it, the people in charge at the region's host organizations see your profile to discuss projects with you.\n\nYou can leave the region, or stop sharing with host organizations, at any time. From then on, the region's staff and host organizations no longer see your profile. The record of your consent (its version and time) is kept as proof that you gave it.";

/// A validated tenant description, as applied from `tenants/<slug>/tenant.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub slug: String,
    pub kind: TenantKind,
    pub code: Option<LocalGovCode>,
    pub parent: Option<String>,
    pub default_locale: Locale,
    pub name: Names,
    pub intro: Localized,
    pub branding: Branding,
    pub mail: MailSender,
    pub templates: Templates,
    pub members: Vec<Member>,
    /// Absent in tenants stored before consent existed: they carry the default.
    #[serde(default)]
    pub consent: Consent,
    /// Absent in tenants stored before scouting existed: they carry the default.
    #[serde(default)]
    pub scouting: Scouting,
    /// Absent in tenants stored before events existed: they carry the default.
    #[serde(default)]
    pub events: EventSettings,
}

/// How the tenant runs its events (`[events]` in the tenant file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSettings {
    /// When reminder mails go out before an event starts, longest first.
    pub reminders: Vec<crate::reminder::Offset>,
}

impl Default for EventSettings {
    fn default() -> EventSettings {
        EventSettings {
            reminders: crate::reminder::default_offsets(),
        }
    }
}

/// How the tenant's coordinators may scout the shared pool (スカウト).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scouting {
    /// At most this many scouts per coordinator per day (Asia/Tokyo), so the pool
    /// is not spammed.
    pub daily_limit: u32,
}

/// The daily limit a tenant file without `[scouting]` gets.
pub const SCOUTING_DAILY_LIMIT: u32 = 10;

impl Default for Scouting {
    fn default() -> Scouting {
        Scouting {
            daily_limit: SCOUTING_DAILY_LIMIT,
        }
    }
}

/// A key figure shown beside a tenant's introduction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fact {
    pub label: String,
    pub value: String,
}

/// A tenant's introduction (the program's story) in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Introduction {
    pub heading: String,
    pub paragraphs: Vec<String>,
    #[serde(default)]
    pub facts: Vec<Fact>,
}

/// An error in a tenant file: the key it concerns, the line it is on, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {key}: {message}")]
pub struct TenantFileError {
    /// 1-based line number in the file.
    pub line: usize,
    /// Dotted key path, e.g. `members[2].code`.
    pub key: String,
    pub message: String,
}

// The raw file shape: spans kept on every key that is checked after parsing, so an
// error can point at its line.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTenant {
    version: Spanned<u32>,
    slug: Spanned<String>,
    kind: Spanned<TenantKind>,
    code: Option<Spanned<String>>,
    parent: Option<Spanned<String>>,
    default_locale: Spanned<String>,
    name: Spanned<RawNames>,
    intro: RawLocalized,
    branding: RawBranding,
    mail: RawMail,
    templates: RawTemplates,
    #[serde(default)]
    members: Vec<RawMember>,
    consent: Option<RawConsent>,
    scouting: Option<RawScouting>,
    events: Option<RawEvents>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvents {
    reminders: Spanned<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScouting {
    daily_limit: Spanned<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConsent {
    version: Spanned<u32>,
    text: RawLocalized,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNames {
    ja: Spanned<String>,
    en: Spanned<String>,
    kana: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLocalized {
    ja: Spanned<String>,
    en: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBranding {
    primary: Spanned<String>,
    accent: Spanned<String>,
    logo: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMail {
    sender_name: Spanned<String>,
    sender_address: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEventTemplate {
    title: RawLocalized,
    format: EventFormat,
    capacity: Spanned<u32>,
    days: Spanned<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoundTemplate {
    talent_preference_limit: Spanned<u32>,
    host_preference_limit: Spanned<u32>,
    project_capacity: Spanned<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplates {
    seminar: RawEventTemplate,
    lecture: RawEventTemplate,
    fieldwork: RawEventTemplate,
    matching_round: RawRoundTemplate,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMember {
    code: Spanned<String>,
    name: Spanned<RawNames>,
}

/// The only tenant-file version this build understands.
pub const TENANT_FILE_VERSION: u32 = 1;

/// Checks a tenant slug: lowercase ASCII letters, digits and hyphens, starting with a
/// letter, at most 32 characters (it appears in URLs and casbin domains).
pub fn valid_slug(slug: &str) -> bool {
    let mut chars = slug.chars();
    matches!(chars.next(), Some('a'..='z'))
        && slug.len() <= 32
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '-'))
        && !slug.ends_with('-')
}

struct Checker<'a> {
    text: &'a str,
    errors: Vec<TenantFileError>,
}

impl Checker<'_> {
    fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    fn fail<T>(&mut self, spanned: &Spanned<T>, key: &str, message: impl Into<String>) {
        let line = self.line_of(spanned.span().start);
        self.errors.push(TenantFileError {
            line,
            key: key.to_owned(),
            message: message.into(),
        });
    }

    /// Records a broken rule on the key; the value is kept as it came, so later
    /// checks can still look at it.
    fn rule<T>(
        &mut self,
        s: &Spanned<String>,
        key: &str,
        r: Result<T, SettingRule>,
        fallback: impl FnOnce() -> T,
    ) -> T {
        r.unwrap_or_else(|rule| {
            self.fail(s, key, rule.file_message());
            fallback()
        })
    }

    fn text(&mut self, s: &Spanned<String>, key: &str, max: usize) -> String {
        let r = settings::check_text(s.get_ref(), max);
        self.rule(s, key, r, || s.get_ref().trim().to_owned())
    }

    fn names(&mut self, n: &Spanned<RawNames>, key: &str) -> Names {
        let n = n.get_ref();
        let kana = settings::check_kana(n.kana.get_ref());
        let ja = settings::check_line(n.ja.get_ref(), settings::NAME_MAX);
        let en = settings::check_line(n.en.get_ref(), settings::NAME_MAX);
        Names {
            ja: self.rule(&n.ja, &format!("{key}.ja"), ja, || {
                n.ja.get_ref().trim().to_owned()
            }),
            en: self.rule(&n.en, &format!("{key}.en"), en, || {
                n.en.get_ref().trim().to_owned()
            }),
            kana: self.rule(&n.kana, &format!("{key}.kana"), kana, || {
                n.kana.get_ref().trim().to_owned()
            }),
        }
    }

    fn localized(&mut self, l: &RawLocalized, key: &str, max: usize) -> Localized {
        Localized {
            ja: self.text(&l.ja, &format!("{key}.ja"), max),
            en: self.text(&l.en, &format!("{key}.en"), max),
        }
    }

    fn code(&mut self, s: &Spanned<String>, key: &str) -> Option<LocalGovCode> {
        match LocalGovCode::parse(s.get_ref()) {
            Ok(c) => Some(c),
            Err(e) => {
                self.fail(s, key, e.to_string());
                None
            }
        }
    }

    fn colour(&mut self, s: &Spanned<String>, key: &str) -> String {
        let r = settings::check_colour(s.get_ref());
        self.rule(s, key, r, || s.get_ref().to_ascii_lowercase())
    }

    fn range(&mut self, n: &Spanned<u32>, key: &str, range: (u32, u32)) -> u32 {
        let v = *n.get_ref();
        if let Err(rule) = settings::check_range(v, range) {
            self.fail(n, key, rule.file_message());
        }
        v
    }

    fn event(&mut self, t: &RawEventTemplate, key: &str) -> EventTemplate {
        EventTemplate {
            title: self.localized(
                &t.title,
                &format!("{key}.title"),
                settings::TEMPLATE_TITLE_MAX,
            ),
            format: t.format,
            capacity: self.range(&t.capacity, &format!("{key}.capacity"), ranges::CAPACITY),
            days: self.range(&t.days, &format!("{key}.days"), ranges::DAYS),
        }
    }
}

/// Parses and validates the text of a `tenant.toml`. All problems are reported, each
/// with its line and key; nothing is returned unless the whole file is valid.
pub fn parse_tenant_file(text: &str) -> Result<Tenant, Vec<TenantFileError>> {
    let raw: RawTenant = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| {
                text.as_bytes()[..s.start.min(text.len())]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count()
                    + 1
            })
            .unwrap_or(1);
        let key = e
            .message()
            .split('`')
            .nth(1)
            .map(str::to_owned)
            .unwrap_or_else(|| "(file)".to_owned());
        vec![TenantFileError {
            line,
            key,
            message: e.message().to_owned(),
        }]
    })?;
    let mut c = Checker {
        text,
        errors: Vec::new(),
    };

    if *raw.version.get_ref() != TENANT_FILE_VERSION {
        c.fail(
            &raw.version,
            "version",
            format!("only version {TENANT_FILE_VERSION} is supported"),
        );
    }
    let slug = raw.slug.get_ref().clone();
    if !valid_slug(&slug) {
        c.fail(
            &raw.slug,
            "slug",
            "use lowercase letters, digits and hyphens, starting with a letter (at most 32)",
        );
    }
    let kind = *raw.kind.get_ref();
    let code = match &raw.code {
        Some(s) => c.code(s, "code"),
        None => {
            if kind != TenantKind::Union {
                c.fail(
                    &raw.kind,
                    "code",
                    format!("a {} needs a local-government code", kind.as_str()),
                );
            }
            None
        }
    };
    let parent = raw.parent.as_ref().map(|p| {
        if !valid_slug(p.get_ref()) {
            c.fail(p, "parent", "is not a valid tenant slug");
        } else if p.get_ref() == &slug {
            c.fail(p, "parent", "a tenant cannot be its own parent");
        } else if kind == TenantKind::Prefecture {
            c.fail(p, "parent", "a prefecture has no parent");
        }
        p.get_ref().clone()
    });
    let default_locale = Locale::parse(raw.default_locale.get_ref()).unwrap_or_else(|| {
        c.fail(
            &raw.default_locale,
            "default_locale",
            "must be \"ja\" or \"en\"",
        );
        Locale::Ja
    });
    let name = c.names(&raw.name, "name");
    let intro = c.localized(&raw.intro, "intro", settings::INTRO_MAX);

    let logo = raw.branding.logo.get_ref().clone();
    let logo_ok = !logo.is_empty()
        && LogoKind::of_file_name(&logo).is_some()
        && logo
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.'))
        && !logo.starts_with('.');
    if !logo_ok {
        c.fail(
            &raw.branding.logo,
            "branding.logo",
            "must be an .svg or .png file name in the tenant folder",
        );
    }
    let branding = Branding {
        primary: c.colour(&raw.branding.primary, "branding.primary"),
        accent: c.colour(&raw.branding.accent, "branding.accent"),
        logo,
    };

    let address = settings::check_sender_address(raw.mail.sender_address.get_ref());
    let sender_address = c.rule(
        &raw.mail.sender_address,
        "mail.sender_address",
        address,
        String::new,
    );
    let checked_name = settings::check_sender_name(raw.mail.sender_name.get_ref());
    let sender_name = c.rule(
        &raw.mail.sender_name,
        "mail.sender_name",
        checked_name,
        String::new,
    );
    let mail = MailSender {
        sender_name,
        sender_address,
    };

    let t = &raw.templates;
    let r = &t.matching_round;
    let templates = Templates {
        seminar: c.event(&t.seminar, "templates.seminar"),
        lecture: c.event(&t.lecture, "templates.lecture"),
        fieldwork: c.event(&t.fieldwork, "templates.fieldwork"),
        matching_round: RoundTemplate {
            talent_preference_limit: c.range(
                &r.talent_preference_limit,
                "templates.matching_round.talent_preference_limit",
                ranges::TALENT_PREFERENCE_LIMIT,
            ),
            host_preference_limit: c.range(
                &r.host_preference_limit,
                "templates.matching_round.host_preference_limit",
                ranges::HOST_PREFERENCE_LIMIT,
            ),
            project_capacity: c.range(
                &r.project_capacity,
                "templates.matching_round.project_capacity",
                ranges::PROJECT_CAPACITY,
            ),
        },
    };

    if kind != TenantKind::Union && !raw.members.is_empty() {
        c.fail(
            &raw.kind,
            "members",
            "only a union lists member municipalities",
        );
    }
    if kind == TenantKind::Union && raw.members.is_empty() {
        c.fail(
            &raw.kind,
            "members",
            "a union must list its member municipalities",
        );
    }
    let mut members: Vec<Member> = Vec::with_capacity(raw.members.len());
    for (i, m) in raw.members.iter().enumerate() {
        let key = format!("members[{i}]");
        let name = c.names(&m.name, &format!("{key}.name"));
        if let Some(code) = c.code(&m.code, &format!("{key}.code")) {
            if members.iter().any(|x| x.code == code) {
                c.fail(
                    &m.code,
                    &format!("{key}.code"),
                    format!("{code} is listed twice"),
                );
            }
            members.push(Member { code, name });
        }
    }

    let consent = match &raw.consent {
        None => Consent::default(),
        Some(rc) => Consent {
            version: c.range(&rc.version, "consent.version", ranges::CONSENT_VERSION),
            text: c.localized(&rc.text, "consent.text", CONSENT_TEXT_MAX),
        },
    };

    let scouting = match &raw.scouting {
        None => Scouting::default(),
        Some(rs) => Scouting {
            daily_limit: c.range(
                &rs.daily_limit,
                "scouting.daily_limit",
                ranges::SCOUTING_DAILY_LIMIT,
            ),
        },
    };

    let events = match &raw.events {
        None => EventSettings::default(),
        Some(re) => {
            match crate::reminder::check_offsets("events.reminders", re.reminders.get_ref()) {
                Ok(reminders) => EventSettings { reminders },
                Err(_) => {
                    c.fail(
                    &re.reminders,
                    "events.reminders",
                    format!(
                        "must be at most {} offsets like \"2d\", \"2h\" or \"90m\", each at most 30 days",
                        crate::reminder::OFFSETS_MAX
                    ),
                );
                    EventSettings::default()
                }
            }
        }
    };

    if c.errors.is_empty() {
        Ok(Tenant {
            slug,
            kind,
            code,
            parent,
            default_locale,
            name,
            intro,
            branding,
            mail,
            templates,
            members,
            consent,
            scouting,
            events,
        })
    } else {
        Err(c.errors)
    }
}

pub use crate::settings::contrast_ratio;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits_of_the_seed_tenants() {
        for code in [
            "030007", "032093", "032115", "462225", "465232", "465241", "465259", "465275",
            "465291", "465305", "465313", "465321", "465330", "465348", "465356", "131016",
        ] {
            assert!(LocalGovCode::parse(code).is_ok(), "{code}");
        }
        assert_eq!(
            LocalGovCode::parse("030008"),
            Err(CodeError::CheckDigit {
                code: "030008".into(),
                expected: 7
            })
        );
        assert!(matches!(
            LocalGovCode::parse("03000"),
            Err(CodeError::Shape(_))
        ));
        assert!(matches!(
            LocalGovCode::parse("０３０００７"),
            Err(CodeError::Shape(_))
        ));
    }

    #[test]
    fn contrast() {
        assert!((contrast_ratio([0, 0, 0], [255, 255, 255]) - 21.0).abs() < 0.01);
        assert!(contrast_ratio([0x76, 0x76, 0x76], [255, 255, 255]) >= 4.5);
        assert!(contrast_ratio([0x77, 0x77, 0x77], [255, 255, 255]) < 4.5);
    }

    #[test]
    fn consent_is_read_or_defaulted() {
        let file = include_str!("../../../tenants/kamaishi/tenant.toml");
        let t = parse_tenant_file(file).unwrap();
        assert_eq!(t.consent.version, 1);
        assert!(t.consent.text.ja.starts_with("釜石市の複業"));
        assert!(t.consent.text.ja.contains("同意の撤回"));
        assert!(t.consent.text.en.contains("host organizations"));
        // Without the section: the built-in wording, version 1.
        let cut = &file[..file.find("[consent]").unwrap()];
        let t = parse_tenant_file(cut).unwrap();
        assert_eq!(t.consent, Consent::default());
        // A version 0 or an empty text is named with its key.
        let bad = file.replace("[consent]\nversion = 1", "[consent]\nversion = 0");
        let keys: Vec<String> = parse_tenant_file(&bad)
            .unwrap_err()
            .into_iter()
            .map(|e| e.key)
            .collect();
        assert_eq!(keys, ["consent.version"]);
        // A spec stored before consent existed reads as the default.
        let mut json = serde_json::to_value(&t).unwrap();
        json.as_object_mut().unwrap().remove("consent");
        let old: Tenant = serde_json::from_value(json).unwrap();
        assert_eq!(old.consent, Consent::default());
    }

    #[test]
    fn scouting_is_read_or_defaulted() {
        let file = include_str!("../../../tenants/kamaishi/tenant.toml");
        let t = parse_tenant_file(file).unwrap();
        assert_eq!(t.scouting.daily_limit, SCOUTING_DAILY_LIMIT);
        let with = format!("{file}\n[scouting]\ndaily_limit = 3\n");
        assert_eq!(parse_tenant_file(&with).unwrap().scouting.daily_limit, 3);
        let bad = format!("{file}\n[scouting]\ndaily_limit = 5000\n");
        let keys: Vec<String> = parse_tenant_file(&bad)
            .unwrap_err()
            .into_iter()
            .map(|e| e.key)
            .collect();
        assert_eq!(keys, ["scouting.daily_limit"]);
        let mut json = serde_json::to_value(&t).unwrap();
        json.as_object_mut().unwrap().remove("scouting");
        let old: Tenant = serde_json::from_value(json).unwrap();
        assert_eq!(old.scouting, Scouting::default());
    }

    #[test]
    fn event_reminders_are_read_or_defaulted() {
        use crate::reminder::{Offset, default_offsets};
        let file = include_str!("../../../tenants/kamaishi/tenant.toml");
        let t = parse_tenant_file(file).unwrap();
        assert_eq!(t.events.reminders, default_offsets());
        let with = format!("{file}\n[events]\nreminders = [\"1h\", \"3d\"]\n");
        assert_eq!(
            parse_tenant_file(&with).unwrap().events.reminders,
            [Offset::parse("3d").unwrap(), Offset::parse("1h").unwrap()]
        );
        let none = format!("{file}\n[events]\nreminders = []\n");
        assert!(
            parse_tenant_file(&none)
                .unwrap()
                .events
                .reminders
                .is_empty()
        );
        for bad in [
            r#"["0h"]"#,
            r#"["31d"]"#,
            r#"["1h","2h","3h","4h","5h","6h"]"#,
        ] {
            let text = format!("{file}\n[events]\nreminders = {bad}\n");
            let keys: Vec<String> = parse_tenant_file(&text)
                .unwrap_err()
                .into_iter()
                .map(|e| e.key)
                .collect();
            assert_eq!(keys, ["events.reminders"], "{bad}");
        }
        let mut json = serde_json::to_value(&t).unwrap();
        assert_eq!(json["events"]["reminders"], serde_json::json!(["2d", "2h"]));
        json.as_object_mut().unwrap().remove("events");
        let old: Tenant = serde_json::from_value(json).unwrap();
        assert_eq!(old.events, EventSettings::default());
    }

    #[test]
    fn slugs() {
        assert!(valid_slug("iwate"));
        assert!(valid_slug("a-1"));
        assert!(!valid_slug("Iwate"));
        assert!(!valid_slug("1wate"));
        assert!(!valid_slug("iwate/*"));
        assert!(!valid_slug("x-"));
    }
}
