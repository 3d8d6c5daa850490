//! A tenant's settings: the rules every value of `tenant.toml` must keep, said once
//! for the file validator and the tenant admin's settings pages, the sections those
//! pages edit, the logo check, and the tenant file written back from a stored tenant.

use serde::Serialize;

use crate::account::{FieldError, Problem};
use crate::locale::{Locale, Localized};
use crate::tenant::{
    Consent, EventFormat, EventTemplate, Fact, Introduction, MailSender, Names, RoundTemplate,
    Tenant,
};

/// A part of a tenant's settings with a page of its own under `/t/{slug}/settings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingsSection {
    Names,
    Introduction,
    Branding,
    Consent,
    Mail,
    Templates,
}

impl SettingsSection {
    pub const ALL: [SettingsSection; 6] = [
        SettingsSection::Names,
        SettingsSection::Introduction,
        SettingsSection::Branding,
        SettingsSection::Consent,
        SettingsSection::Mail,
        SettingsSection::Templates,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SettingsSection::Names => "names",
            SettingsSection::Introduction => "introduction",
            SettingsSection::Branding => "branding",
            SettingsSection::Consent => "consent",
            SettingsSection::Mail => "mail",
            SettingsSection::Templates => "templates",
        }
    }

    pub fn parse(s: &str) -> Option<SettingsSection> {
        SettingsSection::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The section whose page edits the tenant-file key `key` (dotted, as
    /// [`changed_keys`] names it), if a page edits it at all.
    pub fn of_key(key: &str) -> Option<SettingsSection> {
        let top = key.split(['.', '[']).next().unwrap_or(key);
        match top {
            "name" | "default_locale" => Some(SettingsSection::Names),
            "intro" => Some(SettingsSection::Introduction),
            "branding" => Some(SettingsSection::Branding),
            "consent" => Some(SettingsSection::Consent),
            "mail" => Some(SettingsSection::Mail),
            "templates" | "scouting" | "events" => Some(SettingsSection::Templates),
            _ => None,
        }
    }
}

/// The longest name of a tenant or member municipality, per language.
pub const NAME_MAX: usize = 100;
/// The longest one-paragraph introduction (`intro`), per language.
pub const INTRO_MAX: usize = 400;
/// The longest title of an event template, per language.
pub const TEMPLATE_TITLE_MAX: usize = 120;
/// The longest sender name of the tenant's mail.
pub const SENDER_NAME_MAX: usize = 100;
/// The largest logo, in bytes: a mark on a page, not a poster.
pub const LOGO_MAX_BYTES: usize = 100 * 1024;
/// The contrast each brand colour needs with white (JIS X 8341-3 AA).
pub const CONTRAST_MIN: f64 = 4.5;

/// Inclusive ranges of the numbers a tenant sets.
pub mod ranges {
    pub const CAPACITY: (u32, u32) = (1, 100_000);
    pub const DAYS: (u32, u32) = (1, 31);
    pub const TALENT_PREFERENCE_LIMIT: (u32, u32) = (1, 100);
    pub const HOST_PREFERENCE_LIMIT: (u32, u32) = (1, 1000);
    pub const PROJECT_CAPACITY: (u32, u32) = (1, 1000);
    pub const SCOUTING_DAILY_LIMIT: (u32, u32) = (0, 1000);
    pub const CONSENT_VERSION: (u32, u32) = (1, 1_000_000);
}

/// A value of a tenant's settings that breaks a rule. The file validator says it in
/// English with the key; a page says it in the person's language with the field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SettingRule {
    Required,
    TooLong {
        max: usize,
    },
    NotHiragana,
    NotAColour,
    /// A colour whose contrast with white is below [`CONTRAST_MIN`].
    LowContrast {
        ratio: f64,
    },
    OutOfRange {
        min: u32,
        max: u32,
    },
    NotAnEmail,
    LineBreak,
}

impl SettingRule {
    /// The sentence the file validator prints after the key.
    pub fn file_message(self) -> String {
        match self {
            SettingRule::Required => "must not be empty".to_owned(),
            SettingRule::TooLong { max } => format!("must be at most {max} characters"),
            SettingRule::NotHiragana => "must be written in hiragana".to_owned(),
            SettingRule::NotAColour => "must be a colour like #1f4e79".to_owned(),
            SettingRule::LowContrast { ratio } => {
                format!("contrast with white is {ratio:.2}:1; at least {CONTRAST_MIN}:1 is needed")
            }
            SettingRule::OutOfRange { min, max } => format!("must be between {min} and {max}"),
            SettingRule::NotAnEmail => "must be an email address".to_owned(),
            SettingRule::LineBreak => "must be one line".to_owned(),
        }
    }

    /// The problem a page names on the field.
    pub fn problem(self) -> Problem {
        match self {
            SettingRule::Required => Problem::Required,
            SettingRule::TooLong { max } => Problem::TooLong { max },
            SettingRule::NotHiragana => Problem::NotHiragana,
            SettingRule::NotAColour => Problem::NotAColour,
            SettingRule::LowContrast { ratio } => Problem::LowContrast {
                // Rounded down, so a ratio shown never looks like it passed.
                hundredths: (ratio * 100.0).floor() as u32,
            },
            SettingRule::OutOfRange { min, max } => Problem::OutOfRange {
                min: min as usize,
                max: max as usize,
            },
            SettingRule::NotAnEmail => Problem::InvalidEmail,
            SettingRule::LineBreak => Problem::LineBreak,
        }
    }
}

/// A text, trimmed, not empty and at most `max` characters. Line breaks are stored
/// as `\n`: a browser sends a text area's as `\r\n`, and the same wording must
/// compare equal whichever way it came.
pub fn check_text(value: &str, max: usize) -> Result<String, SettingRule> {
    let normalised = value.replace("\r\n", "\n").replace('\r', "\n");
    let v = normalised.trim();
    if v.is_empty() {
        Err(SettingRule::Required)
    } else if v.chars().count() > max {
        Err(SettingRule::TooLong { max })
    } else {
        Ok(v.to_owned())
    }
}

/// A reading in hiragana (spaces, 長音 and 中黒 allowed), at most [`NAME_MAX`].
pub fn check_kana(value: &str) -> Result<String, SettingRule> {
    let v = check_text(value, NAME_MAX)?;
    if v.chars()
        .all(|c| matches!(c, 'ぁ'..='ゖ' | 'ー' | '・' | '　' | ' '))
    {
        Ok(v)
    } else {
        Err(SettingRule::NotHiragana)
    }
}

/// A brand colour: `#rrggbb` (stored in lower case) with at least [`CONTRAST_MIN`]
/// contrast against white, since both colours carry white text or sit on white.
pub fn check_colour(value: &str) -> Result<String, SettingRule> {
    let v = value.trim().to_ascii_lowercase();
    let rgb = parse_hex_colour(&v).ok_or(SettingRule::NotAColour)?;
    let ratio = contrast_ratio(rgb, [255, 255, 255]);
    if ratio < CONTRAST_MIN {
        return Err(SettingRule::LowContrast { ratio });
    }
    Ok(v)
}

/// A number within `range` (inclusive).
pub fn check_range(value: u32, range: (u32, u32)) -> Result<u32, SettingRule> {
    let (min, max) = range;
    if value < min || value > max {
        Err(SettingRule::OutOfRange { min, max })
    } else {
        Ok(value)
    }
}

/// A number as typed in a page (full-width digits allowed), within `range`.
pub fn check_number(value: &str, range: (u32, u32)) -> Result<u32, SettingRule> {
    let digits: String = value
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            c => c,
        })
        .collect();
    match digits.parse::<u32>() {
        Ok(n) => check_range(n, range),
        Err(_) if digits.is_empty() => Err(SettingRule::Required),
        Err(_) => Err(SettingRule::OutOfRange {
            min: range.0,
            max: range.1,
        }),
    }
}

/// The address tenant mail comes from: one line with a local part, an `@` and a
/// domain with a dot.
pub fn check_sender_address(value: &str) -> Result<String, SettingRule> {
    let v = value.trim();
    if v.is_empty() {
        return Err(SettingRule::Required);
    }
    if v.contains(['\r', '\n']) {
        return Err(SettingRule::LineBreak);
    }
    let ok = v.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.contains('@')
            && !v.contains(char::is_whitespace)
            && !v
                .chars()
                .any(|c| c.is_control() || matches!(c, '<' | '>' | '"' | ',' | ';'))
    });
    if ok {
        Ok(v.to_owned())
    } else {
        Err(SettingRule::NotAnEmail)
    }
}

/// The name tenant mail comes from: one line (it goes into a header).
pub fn check_sender_name(value: &str) -> Result<String, SettingRule> {
    check_line(value, SENDER_NAME_MAX)
}

/// A one-line text (a name): [`check_text`] without line breaks or other control
/// characters, since names end up in mail headers and in one-line file values.
pub fn check_line(value: &str, max: usize) -> Result<String, SettingRule> {
    let v = check_text(value, max)?;
    if v.chars().any(char::is_control) {
        Err(SettingRule::LineBreak)
    } else {
        Ok(v)
    }
}

pub(crate) fn parse_hex_colour(s: &str) -> Option<[u8; 3]> {
    let hex = s.strip_prefix('#')?;
    if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some([byte(0)?, byte(2)?, byte(4)?])
}

/// WCAG 2 contrast ratio between two sRGB colours (1.0 to 21.0).
pub fn contrast_ratio(a: [u8; 3], b: [u8; 3]) -> f64 {
    fn luminance(c: [u8; 3]) -> f64 {
        let lin = |v: u8| {
            let s = f64::from(v) / 255.0;
            if s <= 0.03928 {
                s / 12.92
            } else {
                ((s + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2])
    }
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

// ---------------------------------------------------------------------------------
// Logos

/// The image formats a logo may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogoKind {
    Svg,
    Png,
}

impl LogoKind {
    pub fn content_type(self) -> &'static str {
        match self {
            LogoKind::Svg => "image/svg+xml",
            LogoKind::Png => "image/png",
        }
    }

    /// The file name the tenant folder keeps it under.
    pub fn file_name(self) -> &'static str {
        match self {
            LogoKind::Svg => "logo.svg",
            LogoKind::Png => "logo.png",
        }
    }

    /// The kind a file name (`branding.logo`) promises by its extension.
    pub fn of_file_name(name: &str) -> Option<LogoKind> {
        if name.ends_with(".svg") {
            Some(LogoKind::Svg)
        } else if name.ends_with(".png") {
            Some(LogoKind::Png)
        } else {
            None
        }
    }
}

/// A checked logo: its kind decided by its content, never by a name or a header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logo {
    pub kind: LogoKind,
    pub bytes: Vec<u8>,
}

/// Why a file cannot be a tenant's logo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoRule {
    Empty,
    TooLarge,
    /// Neither a PNG nor an SVG document.
    NotAnImage,
    /// An SVG carrying what could run or fetch something: the reason, for the file
    /// validator's message.
    UnsafeSvg(String),
}

impl LogoRule {
    pub fn file_message(&self) -> String {
        match self {
            LogoRule::Empty => "is empty".to_owned(),
            LogoRule::TooLarge => format!("is larger than {LOGO_MAX_BYTES} bytes"),
            LogoRule::NotAnImage => "is neither a PNG nor an SVG image".to_owned(),
            LogoRule::UnsafeSvg(why) => format!("is an SVG image that {why}"),
        }
    }

    pub fn problem(&self) -> Problem {
        match self {
            LogoRule::Empty => Problem::Required,
            LogoRule::TooLarge => Problem::FileTooLargeKb {
                max_kb: LOGO_MAX_BYTES / 1024,
            },
            LogoRule::NotAnImage => Problem::NotALogo,
            LogoRule::UnsafeSvg(_) => Problem::UnsafeSvg,
        }
    }
}

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Checks a logo by its bytes: a PNG (by its signature) or an SVG document (well-formed
/// XML with an `<svg>` root and nothing that runs scripts or fetches other
/// resources: no `<script>`, `<foreignObject>`, event-handler attributes, external
/// or `javascript:` links, DTDs), at most [`LOGO_MAX_BYTES`].
pub fn check_logo(bytes: &[u8]) -> Result<Logo, LogoRule> {
    if bytes.is_empty() {
        return Err(LogoRule::Empty);
    }
    if bytes.len() > LOGO_MAX_BYTES {
        return Err(LogoRule::TooLarge);
    }
    if bytes.starts_with(PNG_MAGIC) {
        // The signature and an IHDR chunk first, as every PNG has.
        if bytes.len() < 24 || &bytes[12..16] != b"IHDR" {
            return Err(LogoRule::NotAnImage);
        }
        return Ok(Logo {
            kind: LogoKind::Png,
            bytes: bytes.to_vec(),
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|_| LogoRule::NotAnImage)?;
    check_svg(text)?;
    Ok(Logo {
        kind: LogoKind::Svg,
        bytes: bytes.to_vec(),
    })
}

fn check_svg(text: &str) -> Result<(), LogoRule> {
    use quick_xml::events::{BytesStart, Event};
    let unsafe_svg = |why: &str| LogoRule::UnsafeSvg(why.to_owned());
    let mut reader = quick_xml::Reader::from_str(text.trim_start_matches('\u{feff}'));
    reader.config_mut().check_end_names = true;
    let mut depth = 0usize;
    let mut roots = 0usize;
    let check_element = |e: &BytesStart<'_>, depth: usize| -> Result<(), LogoRule> {
        let local = e.local_name();
        let name: &str = local.as_ref();
        let name = name.to_ascii_lowercase();
        if depth == 0 && name != "svg" {
            return Err(LogoRule::NotAnImage);
        }
        if matches!(
            name.as_str(),
            "script" | "foreignobject" | "iframe" | "embed" | "object" | "handler" | "listener"
        ) {
            return Err(unsafe_svg(&format!("has a <{name}> element")));
        }
        for attr in e.attributes() {
            let attr = attr.map_err(|_| LogoRule::NotAnImage)?;
            let local = attr.key.local_name();
            let key: &str = local.as_ref();
            let key = key.to_ascii_lowercase();
            let value = attr
                .normalized_value(quick_xml::XmlVersion::default())
                .map_err(|_| LogoRule::NotAnImage)?
                .trim()
                .to_ascii_lowercase();
            if key.starts_with("on") {
                return Err(unsafe_svg(&format!("has an event handler ({key})")));
            }
            if key == "href" && !value.starts_with('#') {
                return Err(unsafe_svg("links outside itself"));
            }
            if value.contains("javascript:") || outside_url(&value) || value.contains("@import") {
                return Err(unsafe_svg("links outside itself"));
            }
            // An animation can set a link after the check: no animating of links.
            if key == "attributename" && value.ends_with("href") {
                return Err(unsafe_svg("animates a link"));
            }
        }
        Ok(())
    };
    loop {
        match reader.read_event() {
            Err(_) => return Err(LogoRule::NotAnImage),
            Ok(Event::Eof) => break,
            Ok(Event::Start(e)) => {
                check_element(&e, depth)?;
                if depth == 0 {
                    roots += 1;
                }
                depth += 1;
            }
            Ok(Event::Empty(e)) => {
                check_element(&e, depth)?;
                if depth == 0 {
                    roots += 1;
                }
            }
            Ok(Event::End(_)) => depth = depth.saturating_sub(1),
            Ok(Event::Text(t)) => {
                let t: &str = t.as_ref();
                if depth == 0 && !t.chars().all(char::is_whitespace) {
                    return Err(LogoRule::NotAnImage);
                }
                let t = t.to_ascii_lowercase();
                if t.contains("javascript:") || outside_url(&t) || t.contains("@import") {
                    return Err(unsafe_svg("links outside itself"));
                }
            }
            Ok(Event::CData(t)) => {
                let t = t.into_inner().to_ascii_lowercase();
                if t.contains("javascript:") || outside_url(&t) || t.contains("@import") {
                    return Err(unsafe_svg("links outside itself"));
                }
            }
            // Entities defined in a DTD can expand without bound or read files.
            Ok(Event::DocType(_)) => return Err(unsafe_svg("has a document type definition")),
            Ok(Event::PI(_)) => return Err(unsafe_svg("has a processing instruction")),
            Ok(Event::Decl(_) | Event::Comment(_) | Event::GeneralRef(_)) => {}
        }
    }
    if roots != 1 || depth != 0 {
        return Err(LogoRule::NotAnImage);
    }
    Ok(())
}

/// A CSS `url(…)` that points anywhere but into the document itself.
fn outside_url(text: &str) -> bool {
    text.match_indices("url(").any(|(i, _)| {
        let rest = text[i + 4..].trim_start_matches([' ', '"', '\'']);
        !rest.starts_with('#')
    })
}

// ---------------------------------------------------------------------------------
// The pages' forms: each checks what was typed with the rules above and returns the
// tenant as it would be stored, or every field's problem.

fn field(field: &'static str, rule: SettingRule) -> FieldError {
    FieldError {
        field,
        problem: rule.problem(),
    }
}

/// Collects field problems while a form is checked.
#[derive(Default)]
struct Fields(Vec<FieldError>);

impl Fields {
    fn take<T: Default>(&mut self, name: &'static str, r: Result<T, SettingRule>) -> T {
        r.unwrap_or_else(|rule| {
            self.0.push(field(name, rule));
            T::default()
        })
    }

    fn done(self, t: Tenant) -> Result<Tenant, Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(t)
        } else {
            Err(self.0)
        }
    }
}

/// The names page as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct NamesForm {
    #[serde(default)]
    pub name_ja: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub name_kana: String,
    #[serde(default)]
    pub default_locale: String,
}

impl NamesForm {
    pub fn of(t: &Tenant) -> NamesForm {
        NamesForm {
            name_ja: t.name.ja.clone(),
            name_en: t.name.en.clone(),
            name_kana: t.name.kana.clone(),
            default_locale: t.default_locale.tag().to_owned(),
        }
    }

    pub fn check(&self, current: &Tenant) -> Result<Tenant, Vec<FieldError>> {
        let mut f = Fields::default();
        let mut t = current.clone();
        t.name = Names {
            ja: f.take("name_ja", check_line(&self.name_ja, NAME_MAX)),
            en: f.take("name_en", check_line(&self.name_en, NAME_MAX)),
            kana: f.take("name_kana", check_kana(&self.name_kana)),
        };
        match Locale::parse(self.default_locale.trim()) {
            Some(l) => t.default_locale = l,
            None => f.0.push(FieldError {
                field: "default_locale",
                problem: Problem::InvalidChoice,
            }),
        }
        f.done(t)
    }
}

/// The longest heading of an introduction.
pub const INTRODUCTION_HEADING_MAX: usize = 120;
/// The most paragraphs, and the longest one, of an introduction.
pub const INTRODUCTION_PARAGRAPHS_MAX: usize = 20;
pub const INTRODUCTION_PARAGRAPH_MAX: usize = 2000;
/// The most key figures beside an introduction, and their longest label and value.
pub const FACTS_MAX: usize = 12;
pub const FACT_LABEL_MAX: usize = 60;
pub const FACT_VALUE_MAX: usize = 120;

/// The introduction page as typed: the one-paragraph `intro` of the tenant file, and
/// the landing page's story per language (a heading, paragraphs separated by an
/// empty line, and key figures one per line as `label | value`).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct IntroductionForm {
    #[serde(default)]
    pub intro_ja: String,
    #[serde(default)]
    pub intro_en: String,
    #[serde(default)]
    pub heading_ja: String,
    #[serde(default)]
    pub paragraphs_ja: String,
    #[serde(default)]
    pub facts_ja: String,
    #[serde(default)]
    pub heading_en: String,
    #[serde(default)]
    pub paragraphs_en: String,
    #[serde(default)]
    pub facts_en: String,
}

/// What the introduction page stores: the tenant, and each language's story (`None`
/// when left empty: the landing page then shows the one paragraph).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedIntroduction {
    pub tenant: Tenant,
    pub ja: Option<Introduction>,
    pub en: Option<Introduction>,
}

impl IntroductionForm {
    pub fn of(t: &Tenant, ja: Option<&Introduction>, en: Option<&Introduction>) -> Self {
        let paragraphs =
            |i: Option<&Introduction>| i.map(|i| i.paragraphs.join("\n\n")).unwrap_or_default();
        let facts = |i: Option<&Introduction>| {
            i.map(|i| {
                i.facts
                    .iter()
                    .map(|f| format!("{} | {}", f.label, f.value))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default()
        };
        IntroductionForm {
            intro_ja: t.intro.ja.clone(),
            intro_en: t.intro.en.clone(),
            heading_ja: ja.map(|i| i.heading.clone()).unwrap_or_default(),
            paragraphs_ja: paragraphs(ja),
            facts_ja: facts(ja),
            heading_en: en.map(|i| i.heading.clone()).unwrap_or_default(),
            paragraphs_en: paragraphs(en),
            facts_en: facts(en),
        }
    }

    pub fn check(&self, current: &Tenant) -> Result<CheckedIntroduction, Vec<FieldError>> {
        let mut f = Fields::default();
        let mut t = current.clone();
        t.intro = Localized {
            ja: f.take("intro_ja", check_text(&self.intro_ja, INTRO_MAX)),
            en: f.take("intro_en", check_text(&self.intro_en, INTRO_MAX)),
        };
        let ja = story(
            &mut f,
            ["heading_ja", "paragraphs_ja", "facts_ja"],
            [&self.heading_ja, &self.paragraphs_ja, &self.facts_ja],
        );
        let en = story(
            &mut f,
            ["heading_en", "paragraphs_en", "facts_en"],
            [&self.heading_en, &self.paragraphs_en, &self.facts_en],
        );
        let tenant = f.done(t)?;
        Ok(CheckedIntroduction { tenant, ja, en })
    }
}

fn story(f: &mut Fields, names: [&'static str; 3], values: [&str; 3]) -> Option<Introduction> {
    let [heading_field, paragraphs_field, facts_field] = names;
    let [heading, paragraphs, facts] = values;
    let normalised = paragraphs.replace("\r\n", "\n");
    let paragraphs: Vec<String> = normalised
        .split("\n\n")
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect();
    let fact_lines: Vec<&str> = facts
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if heading.trim().is_empty() && paragraphs.is_empty() && fact_lines.is_empty() {
        return None;
    }
    let before = f.0.len();
    let heading = f.take(heading_field, check_text(heading, INTRODUCTION_HEADING_MAX));
    if paragraphs.is_empty() {
        f.0.push(field(paragraphs_field, SettingRule::Required));
    } else if paragraphs.len() > INTRODUCTION_PARAGRAPHS_MAX {
        f.0.push(FieldError {
            field: paragraphs_field,
            problem: Problem::TooMany {
                max: INTRODUCTION_PARAGRAPHS_MAX,
            },
        });
    } else if paragraphs
        .iter()
        .any(|p| p.chars().count() > INTRODUCTION_PARAGRAPH_MAX)
    {
        f.0.push(field(
            paragraphs_field,
            SettingRule::TooLong {
                max: INTRODUCTION_PARAGRAPH_MAX,
            },
        ));
    }
    let mut parsed = Vec::with_capacity(fact_lines.len());
    if fact_lines.len() > FACTS_MAX {
        f.0.push(FieldError {
            field: facts_field,
            problem: Problem::TooMany { max: FACTS_MAX },
        });
    } else {
        for line in fact_lines {
            let parts = line.split_once(['|', '｜']);
            let fact = parts.and_then(|(label, value)| {
                Some(Fact {
                    label: check_text(label, FACT_LABEL_MAX).ok()?,
                    value: check_text(value, FACT_VALUE_MAX).ok()?,
                })
            });
            match fact {
                Some(fact) => parsed.push(fact),
                None => {
                    f.0.push(FieldError {
                        field: facts_field,
                        problem: Problem::FactLine,
                    });
                    break;
                }
            }
        }
    }
    (f.0.len() == before).then_some(Introduction {
        heading,
        paragraphs,
        facts: parsed,
    })
}

/// The branding page's colours as typed (the logo comes as its own upload).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct BrandingForm {
    #[serde(default)]
    pub primary: String,
    #[serde(default)]
    pub accent: String,
}

impl BrandingForm {
    pub fn of(t: &Tenant) -> BrandingForm {
        BrandingForm {
            primary: t.branding.primary.clone(),
            accent: t.branding.accent.clone(),
        }
    }

    pub fn check(&self, current: &Tenant) -> Result<Tenant, Vec<FieldError>> {
        let mut f = Fields::default();
        let mut t = current.clone();
        t.branding.primary = f.take("primary", check_colour(&self.primary));
        t.branding.accent = f.take("accent", check_colour(&self.accent));
        f.done(t)
    }
}

/// The tenant with `logo` as its logo: `branding.logo` names the file it is exported as.
pub fn with_logo(current: &Tenant, logo: &Logo) -> Tenant {
    let mut t = current.clone();
    t.branding.logo = logo.kind.file_name().to_owned();
    t
}

/// The consent page as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ConsentForm {
    #[serde(default)]
    pub consent_ja: String,
    #[serde(default)]
    pub consent_en: String,
}

impl ConsentForm {
    pub fn of(t: &Tenant) -> ConsentForm {
        ConsentForm {
            consent_ja: t.consent.text.ja.clone(),
            consent_en: t.consent.text.en.clone(),
        }
    }

    /// The tenant with the new wording. A changed wording takes the version after
    /// both the current one and `latest_stored` (the highest version members were ever
    /// given), so members who agreed to an older one are asked again; the same wording
    /// keeps its version.
    pub fn check(&self, current: &Tenant, latest_stored: u32) -> Result<Tenant, Vec<FieldError>> {
        let max = crate::tenant::CONSENT_TEXT_MAX;
        let mut f = Fields::default();
        let text = Localized {
            ja: f.take("consent_ja", check_text(&self.consent_ja, max)),
            en: f.take("consent_en", check_text(&self.consent_en, max)),
        };
        let mut t = current.clone();
        if text != current.consent.text {
            let version = current.consent.version.max(latest_stored) + 1;
            match check_range(version, ranges::CONSENT_VERSION) {
                Ok(v) => t.consent = Consent { version: v, text },
                Err(rule) => f.0.push(field("consent_ja", rule)),
            }
        }
        f.done(t)
    }
}

/// The mail page as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct MailForm {
    #[serde(default)]
    pub sender_name: String,
    #[serde(default)]
    pub sender_address: String,
}

impl MailForm {
    pub fn of(t: &Tenant) -> MailForm {
        MailForm {
            sender_name: t.mail.sender_name.clone(),
            sender_address: t.mail.sender_address.clone(),
        }
    }

    pub fn check(&self, current: &Tenant) -> Result<Tenant, Vec<FieldError>> {
        let mut f = Fields::default();
        let mut t = current.clone();
        t.mail = MailSender {
            sender_name: f.take("sender_name", check_sender_name(&self.sender_name)),
            sender_address: f.take("sender_address", check_sender_address(&self.sender_address)),
        };
        f.done(t)
    }
}

/// The templates page as typed; its field names are `<kind>_<field>`
/// (`seminar_title_ja`, `fieldwork_days`, …).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct TemplatesForm {
    pub seminar_title_ja: String,
    pub seminar_title_en: String,
    pub seminar_format: String,
    pub seminar_capacity: String,
    pub seminar_days: String,
    pub lecture_title_ja: String,
    pub lecture_title_en: String,
    pub lecture_format: String,
    pub lecture_capacity: String,
    pub lecture_days: String,
    pub fieldwork_title_ja: String,
    pub fieldwork_title_en: String,
    pub fieldwork_format: String,
    pub fieldwork_capacity: String,
    pub fieldwork_days: String,
    pub talent_preference_limit: String,
    pub host_preference_limit: String,
    pub project_capacity: String,
    pub scouting_daily_limit: String,
    /// Reminder offsets separated by commas or spaces (`2d, 2h`).
    pub event_reminders: String,
}

/// An event format's name in forms and files.
pub fn format_code(f: EventFormat) -> &'static str {
    match f {
        EventFormat::Online => "online",
        EventFormat::Onsite => "onsite",
        EventFormat::Hybrid => "hybrid",
    }
}

fn parse_format(s: &str) -> Option<EventFormat> {
    match s.trim() {
        "online" => Some(EventFormat::Online),
        "onsite" => Some(EventFormat::Onsite),
        "hybrid" => Some(EventFormat::Hybrid),
        _ => None,
    }
}

impl TemplatesForm {
    pub fn of(t: &Tenant) -> TemplatesForm {
        let s = &t.templates;
        let r = &s.matching_round;
        TemplatesForm {
            seminar_title_ja: s.seminar.title.ja.clone(),
            seminar_title_en: s.seminar.title.en.clone(),
            seminar_format: format_code(s.seminar.format).to_owned(),
            seminar_capacity: s.seminar.capacity.to_string(),
            seminar_days: s.seminar.days.to_string(),
            lecture_title_ja: s.lecture.title.ja.clone(),
            lecture_title_en: s.lecture.title.en.clone(),
            lecture_format: format_code(s.lecture.format).to_owned(),
            lecture_capacity: s.lecture.capacity.to_string(),
            lecture_days: s.lecture.days.to_string(),
            fieldwork_title_ja: s.fieldwork.title.ja.clone(),
            fieldwork_title_en: s.fieldwork.title.en.clone(),
            fieldwork_format: format_code(s.fieldwork.format).to_owned(),
            fieldwork_capacity: s.fieldwork.capacity.to_string(),
            fieldwork_days: s.fieldwork.days.to_string(),
            talent_preference_limit: r.talent_preference_limit.to_string(),
            host_preference_limit: r.host_preference_limit.to_string(),
            project_capacity: r.project_capacity.to_string(),
            scouting_daily_limit: t.scouting.daily_limit.to_string(),
            event_reminders: t
                .events
                .reminders
                .iter()
                .map(|o| o.code())
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    pub fn check(&self, current: &Tenant) -> Result<Tenant, Vec<FieldError>> {
        let mut f = Fields::default();
        let mut t = current.clone();
        let event = |f: &mut Fields,
                     names: [&'static str; 5],
                     v: [&str; 5],
                     was: &EventTemplate|
         -> EventTemplate {
            let format = parse_format(v[2]).unwrap_or_else(|| {
                f.0.push(FieldError {
                    field: names[2],
                    problem: Problem::InvalidChoice,
                });
                was.format
            });
            EventTemplate {
                title: Localized {
                    ja: f.take(names[0], check_text(v[0], TEMPLATE_TITLE_MAX)),
                    en: f.take(names[1], check_text(v[1], TEMPLATE_TITLE_MAX)),
                },
                format,
                capacity: f.take(names[3], check_number(v[3], ranges::CAPACITY)),
                days: f.take(names[4], check_number(v[4], ranges::DAYS)),
            }
        };
        t.templates.seminar = event(
            &mut f,
            [
                "seminar_title_ja",
                "seminar_title_en",
                "seminar_format",
                "seminar_capacity",
                "seminar_days",
            ],
            [
                &self.seminar_title_ja,
                &self.seminar_title_en,
                &self.seminar_format,
                &self.seminar_capacity,
                &self.seminar_days,
            ],
            &current.templates.seminar,
        );
        t.templates.lecture = event(
            &mut f,
            [
                "lecture_title_ja",
                "lecture_title_en",
                "lecture_format",
                "lecture_capacity",
                "lecture_days",
            ],
            [
                &self.lecture_title_ja,
                &self.lecture_title_en,
                &self.lecture_format,
                &self.lecture_capacity,
                &self.lecture_days,
            ],
            &current.templates.lecture,
        );
        t.templates.fieldwork = event(
            &mut f,
            [
                "fieldwork_title_ja",
                "fieldwork_title_en",
                "fieldwork_format",
                "fieldwork_capacity",
                "fieldwork_days",
            ],
            [
                &self.fieldwork_title_ja,
                &self.fieldwork_title_en,
                &self.fieldwork_format,
                &self.fieldwork_capacity,
                &self.fieldwork_days,
            ],
            &current.templates.fieldwork,
        );
        t.templates.matching_round = RoundTemplate {
            talent_preference_limit: f.take(
                "talent_preference_limit",
                check_number(
                    &self.talent_preference_limit,
                    ranges::TALENT_PREFERENCE_LIMIT,
                ),
            ),
            host_preference_limit: f.take(
                "host_preference_limit",
                check_number(&self.host_preference_limit, ranges::HOST_PREFERENCE_LIMIT),
            ),
            project_capacity: f.take(
                "project_capacity",
                check_number(&self.project_capacity, ranges::PROJECT_CAPACITY),
            ),
        };
        t.scouting.daily_limit = f.take(
            "scouting_daily_limit",
            check_number(&self.scouting_daily_limit, ranges::SCOUTING_DAILY_LIMIT),
        );
        let offsets: Vec<String> = self
            .event_reminders
            .split([',', '、', ' ', '　'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        match crate::reminder::check_offsets("event_reminders", &offsets) {
            Ok(o) => t.events.reminders = o,
            Err(e) => f.0.push(e),
        }
        f.done(t)
    }
}

// ---------------------------------------------------------------------------------
// Differences between two tenants, by the tenant file's dotted keys.

/// One key a tenant file changes: its dotted name and both values as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyChange {
    pub key: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// The keys whose values differ between `old` (stored) and `new` (the file), in the
/// order of the file's sections (keys within a section alphabetically). Arrays of numbers or strings (reminders) are one key; members are
/// `members[i].…`.
pub fn changed_keys(old: Option<&Tenant>, new: &Tenant) -> Vec<KeyChange> {
    const SECTIONS: [&str; 15] = [
        "version",
        "slug",
        "kind",
        "code",
        "parent",
        "default_locale",
        "name",
        "intro",
        "branding",
        "mail",
        "templates",
        "members",
        "scouting",
        "events",
        "consent",
    ];
    let place = |key: &str| {
        let top = key.split(['.', '[']).next().unwrap_or(key);
        SECTIONS
            .iter()
            .position(|s| *s == top)
            .unwrap_or(SECTIONS.len())
    };
    let flat = |t: &Tenant| {
        let mut out = Vec::new();
        if let Ok(v) = serde_json::to_value(t) {
            flatten("", &v, &mut out);
        }
        out.sort_by_key(|(k, _)| place(k));
        out
    };
    let new_keys = flat(new);
    let old_keys = old.map(flat).unwrap_or_default();
    let mut changes = Vec::new();
    for (key, value) in &new_keys {
        let was = old_keys.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        if was != Some(value) {
            changes.push(KeyChange {
                key: key.clone(),
                old: was.cloned(),
                new: Some(value.clone()),
            });
        }
    }
    for (key, value) in &old_keys {
        if !new_keys.iter().any(|(k, _)| k == key) {
            changes.push(KeyChange {
                key: key.clone(),
                old: Some(value.clone()),
                new: None,
            });
        }
    }
    changes
}

fn flatten(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
    use serde_json::Value;
    let join = |k: &str| {
        if prefix.is_empty() {
            k.to_owned()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                flatten(&join(k), v, out);
            }
        }
        Value::Array(items) if items.iter().any(Value::is_object) => {
            for (i, item) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), item, out);
            }
        }
        Value::String(s) => out.push((prefix.to_owned(), s.clone())),
        Value::Null => {}
        other => out.push((prefix.to_owned(), other.to_string())),
    }
}

/// A value as a dry run shows it: one line, long texts shortened to `max` characters.
pub fn shorten(value: &str, max: usize) -> String {
    let one_line: String = value
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one_line.chars().count() <= max {
        one_line
    } else {
        let cut: String = one_line.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

// ---------------------------------------------------------------------------------
// The tenant file, written back.

/// `s` as a TOML basic string.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `s` as a TOML multi-line basic string starting on its own line, as hand-written
/// consent texts are.
fn multiline(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    out.push_str("\"\"\"\n");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push('\n'),
            '\r' => out.push_str("\\r"),
            '\t' => out.push('\t'),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push_str("\"\"\"");
    out
}

fn localized_inline(l: &Localized) -> String {
    format!("{{ ja = {}, en = {} }}", quoted(&l.ja), quoted(&l.en))
}

/// The tenant as its `tenant.toml`: every key, in the order and shape of the
/// hand-written files, so [`crate::tenant::parse_tenant_file`] reads back the same
/// tenant and writing it again gives the same bytes.
pub fn tenant_file_text(t: &Tenant) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "# {} — written by `yui tenant export`", t.name.ja);
    let _ = writeln!(s, "version = {}", crate::tenant::TENANT_FILE_VERSION);
    let _ = writeln!(s, "slug = {}", quoted(&t.slug));
    let _ = writeln!(s, "kind = {}", quoted(t.kind.as_str()));
    if let Some(code) = &t.code {
        let _ = writeln!(s, "code = {}", quoted(code.as_str()));
    }
    if let Some(parent) = &t.parent {
        let _ = writeln!(s, "parent = {}", quoted(parent));
    }
    let _ = writeln!(s, "default_locale = {}", quoted(t.default_locale.tag()));
    let _ = writeln!(s, "\n[name]");
    let _ = writeln!(s, "ja = {}", quoted(&t.name.ja));
    let _ = writeln!(s, "en = {}", quoted(&t.name.en));
    let _ = writeln!(s, "kana = {}", quoted(&t.name.kana));
    let _ = writeln!(s, "\n[intro]");
    let _ = writeln!(s, "ja = {}", quoted(&t.intro.ja));
    let _ = writeln!(s, "en = {}", quoted(&t.intro.en));
    let _ = writeln!(s, "\n[branding]");
    let _ = writeln!(s, "primary = {}", quoted(&t.branding.primary));
    let _ = writeln!(s, "accent = {}", quoted(&t.branding.accent));
    let _ = writeln!(s, "logo = {}", quoted(&t.branding.logo));
    let _ = writeln!(s, "\n[mail]");
    let _ = writeln!(s, "sender_name = {}", quoted(&t.mail.sender_name));
    let _ = writeln!(s, "sender_address = {}", quoted(&t.mail.sender_address));
    for (kind, e) in [
        ("seminar", &t.templates.seminar),
        ("lecture", &t.templates.lecture),
        ("fieldwork", &t.templates.fieldwork),
    ] {
        let _ = writeln!(s, "\n[templates.{kind}]");
        let _ = writeln!(s, "title = {}", localized_inline(&e.title));
        let _ = writeln!(s, "format = {}", quoted(format_code(e.format)));
        let _ = writeln!(s, "capacity = {}", e.capacity);
        let _ = writeln!(s, "days = {}", e.days);
    }
    let r = &t.templates.matching_round;
    let _ = writeln!(s, "\n[templates.matching_round]");
    let _ = writeln!(s, "talent_preference_limit = {}", r.talent_preference_limit);
    let _ = writeln!(s, "host_preference_limit = {}", r.host_preference_limit);
    let _ = writeln!(s, "project_capacity = {}", r.project_capacity);
    for m in &t.members {
        let _ = writeln!(s, "\n[[members]]");
        let _ = writeln!(s, "code = {}", quoted(m.code.as_str()));
        let _ = writeln!(
            s,
            "name = {{ ja = {}, en = {}, kana = {} }}",
            quoted(&m.name.ja),
            quoted(&m.name.en),
            quoted(&m.name.kana)
        );
    }
    let _ = writeln!(s, "\n[scouting]");
    let _ = writeln!(s, "daily_limit = {}", t.scouting.daily_limit);
    let reminders: Vec<String> = t
        .events
        .reminders
        .iter()
        .map(|o| quoted(&o.code()))
        .collect();
    let _ = writeln!(s, "\n[events]");
    let _ = writeln!(s, "reminders = [{}]", reminders.join(", "));
    let _ = writeln!(s, "\n[consent]");
    let _ = writeln!(s, "version = {}", t.consent.version);
    let _ = writeln!(s, "\n[consent.text]");
    let _ = writeln!(s, "ja = {}", multiline(&t.consent.text.ja));
    let _ = writeln!(s, "en = {}", multiline(&t.consent.text.en));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenant::parse_tenant_file;

    fn iwate() -> Tenant {
        parse_tenant_file(include_str!("../../../tenants/iwate/tenant.toml")).unwrap()
    }

    #[test]
    fn sections_round_trip() {
        for s in SettingsSection::ALL {
            assert_eq!(SettingsSection::parse(s.as_str()), Some(s));
        }
        assert_eq!(SettingsSection::parse("x"), None);
        assert_eq!(
            SettingsSection::of_key("templates.seminar.title.ja"),
            Some(SettingsSection::Templates)
        );
        assert_eq!(
            SettingsSection::of_key("default_locale"),
            Some(SettingsSection::Names)
        );
        assert_eq!(SettingsSection::of_key("members[0].code"), None);
    }

    #[test]
    fn every_shipped_file_is_written_back_as_it_reads() {
        for text in [
            include_str!("../../../tenants/iwate/tenant.toml"),
            include_str!("../../../tenants/amami/tenant.toml"),
            include_str!("../../../tenants/kamaishi/tenant.toml"),
            include_str!("../../../tenants/ichinoseki/tenant.toml"),
        ] {
            let t = parse_tenant_file(text).unwrap();
            let written = tenant_file_text(&t);
            let again = parse_tenant_file(&written).unwrap();
            assert_eq!(again, t);
            assert_eq!(tenant_file_text(&again), written);
        }
        // Quotes, backslashes and line breaks survive.
        let mut t = iwate();
        t.intro.ja = "「\"引用\"」 \\ 改行\nあり".to_owned();
        t.consent.text.en = "a \"\"\" b\\\n\nc".to_owned();
        let again = parse_tenant_file(&tenant_file_text(&t)).unwrap();
        assert_eq!(again, t);
    }

    #[test]
    fn changed_keys_name_the_file_keys() {
        let a = iwate();
        let mut b = a.clone();
        b.intro.en = "New".into();
        b.templates.seminar.capacity = 41;
        b.events.reminders.clear();
        let keys: Vec<String> = changed_keys(Some(&a), &b)
            .into_iter()
            .map(|c| c.key)
            .collect();
        assert_eq!(
            keys,
            ["intro.en", "templates.seminar.capacity", "events.reminders"]
        );
        assert!(changed_keys(Some(&a), &a).is_empty());
        assert_eq!(shorten("abcdef", 4), "abc…");
    }

    #[test]
    fn colours_and_contrast() {
        assert_eq!(check_colour("#283593").unwrap(), "#283593");
        assert_eq!(check_colour(" #A23B1E ").unwrap(), "#a23b1e");
        assert_eq!(check_colour("red"), Err(SettingRule::NotAColour));
        match check_colour("#ffff00") {
            Err(SettingRule::LowContrast { ratio }) => assert!(ratio < 1.1),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            SettingRule::LowContrast { ratio: 4.4999 }.problem(),
            Problem::LowContrast { hundredths: 449 }
        );
    }

    #[test]
    fn logos_are_checked_by_content() {
        let svg = include_bytes!("../../../tenants/iwate/logo.svg");
        assert_eq!(check_logo(svg).unwrap().kind, LogoKind::Svg);
        let mut png = PNG_MAGIC.to_vec();
        png.extend_from_slice(&[0, 0, 0, 13]);
        png.extend_from_slice(b"IHDR");
        png.extend_from_slice(&[0; 17]);
        assert_eq!(check_logo(&png).unwrap().kind, LogoKind::Png);
        assert_eq!(check_logo(b"GIF89a"), Err(LogoRule::NotAnImage));
        assert_eq!(check_logo(b"<html></html>"), Err(LogoRule::NotAnImage));
        assert_eq!(check_logo(b"<svg><g></svg>"), Err(LogoRule::NotAnImage));
        assert_eq!(check_logo(b""), Err(LogoRule::Empty));
        assert_eq!(
            check_logo(&vec![b' '; LOGO_MAX_BYTES + 1]),
            Err(LogoRule::TooLarge)
        );
        for bad in [
            r#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#,
            r#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#,
            r#"<svg><foreignObject><p>x</p></foreignObject></svg>"#,
            r#"<svg xmlns:xlink="http://www.w3.org/1999/xlink"><image xlink:href="https://evil.example/x.png"/></svg>"#,
            r#"<svg><a href="javascript:alert(1)"><circle r="1"/></a></svg>"#,
            r#"<svg><style>circle { fill: url(https://evil.example/x) }</style></svg>"#,
            r#"<!DOCTYPE svg [<!ENTITY x "y">]><svg>&x;</svg>"#,
            r#"<svg><SCRIPT>alert(1)</SCRIPT></svg>"#,
            r#"<svg><a><set attributeName="href" to="https://evil.example/"/></a></svg>"#,
            r#"<svg><g style="@import 'https://evil.example/x.css'"/></svg>"#,
        ] {
            assert!(
                matches!(check_logo(bad.as_bytes()), Err(LogoRule::UnsafeSvg(_))),
                "{bad}"
            );
        }
        assert!(check_logo(br##"<svg><defs><g id="a"/></defs><use href="#a"/></svg>"##).is_ok());
    }

    #[test]
    fn consent_wording_changes_bump_the_version() {
        let t = iwate();
        let same = ConsentForm::of(&t).check(&t, 1).unwrap();
        assert_eq!(same.consent.version, 1);
        let mut form = ConsentForm::of(&t);
        form.consent_en.push_str(" More.");
        assert_eq!(form.check(&t, 1).unwrap().consent.version, 2);
        // A version given once before (and later reverted by a file) is not reused.
        assert_eq!(form.check(&t, 3).unwrap().consent.version, 4);
        form.consent_ja = "  ".into();
        let e = form.check(&t, 1).unwrap_err();
        assert_eq!(e[0].field, "consent_ja");
    }

    #[test]
    fn forms_name_their_fields() {
        let t = iwate();
        let mut f = TemplatesForm::of(&t);
        assert_eq!(f.check(&t).unwrap(), t);
        f.seminar_capacity = "0".into();
        f.lecture_format = "radio".into();
        f.event_reminders = "99d".into();
        f.scouting_daily_limit = "１２".into();
        let fields: Vec<&str> = f.check(&t).unwrap_err().iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            ["seminar_capacity", "lecture_format", "event_reminders"]
        );
        let mut n = NamesForm::of(&t);
        assert_eq!(n.check(&t).unwrap(), t);
        n.name_kana = "イワテ".into();
        n.default_locale = "fr".into();
        let fields: Vec<&str> = n.check(&t).unwrap_err().iter().map(|e| e.field).collect();
        assert_eq!(fields, ["name_kana", "default_locale"]);
        let m = MailForm {
            sender_name: "a\u{7}b".into(),
            sender_address: "x@y".into(),
        };
        let fields: Vec<&str> = m.check(&t).unwrap_err().iter().map(|e| e.field).collect();
        assert_eq!(fields, ["sender_name", "sender_address"]);
        let i = IntroductionForm {
            intro_ja: "はじめに".into(),
            intro_en: "Intro".into(),
            heading_ja: "見出し".into(),
            paragraphs_ja: "一段落\r\n\r\n二段落".into(),
            facts_ja: "開始 | 2018年度\n件数｜158".into(),
            ..Default::default()
        };
        let c = i.check(&t).unwrap();
        let ja = c.ja.unwrap();
        assert_eq!(ja.paragraphs, ["一段落", "二段落"]);
        assert_eq!(ja.facts[1].value, "158");
        assert_eq!(c.en, None);
        let bad = IntroductionForm {
            facts_en: "no bar here".into(),
            ..i
        };
        let fields: Vec<&str> = bad.check(&t).unwrap_err().iter().map(|e| e.field).collect();
        assert_eq!(fields, ["heading_en", "paragraphs_en", "facts_en"]);
    }
}
