//! Host organizations (受入企業・団体): the local companies and groups that describe
//! their challenges as projects. The rules here have no I/O: what a host may hold,
//! checked field by field, and where it may be (a municipality of its tenant).

use serde::{Deserialize, Serialize};

use crate::account::{FieldError, Problem, check_display_name, one_line};
use crate::talent::profile::check_kana;
use crate::tenant::{LocalGovCode, Tenant, TenantKind};

/// The longest host name, industry and summary.
pub const NAME_MAX: usize = 100;
pub const INDUSTRY_MAX: usize = 50;
pub const SUMMARY_MAX: usize = 2000;
pub const WEBSITE_MAX: usize = 200;

/// Where a host stands with its tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HostStatus {
    /// Registered, waiting for staff to approve it (municipal staff select hosts).
    Pending,
    /// Approved: its projects may open.
    Approved,
    /// No longer taking part; kept for the record.
    Archived,
}

impl HostStatus {
    pub const ALL: [HostStatus; 3] = [
        HostStatus::Pending,
        HostStatus::Approved,
        HostStatus::Archived,
    ];

    pub fn code(self) -> &'static str {
        match self {
            HostStatus::Pending => "pending",
            HostStatus::Approved => "approved",
            HostStatus::Archived => "archived",
        }
    }

    pub fn parse(code: &str) -> Option<HostStatus> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Whether staff may move a host from `self` to `to`: approve a pending host,
    /// archive any, bring an archived one back as approved.
    pub fn can_become(self, to: HostStatus) -> bool {
        use HostStatus::*;
        matches!(
            (self, to),
            (Pending, Approved) | (Pending | Approved, Archived) | (Archived, Approved)
        )
    }
}

/// The host form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct HostInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub kana: String,
    #[serde(default)]
    pub municipality_code: String,
    #[serde(default)]
    pub industry: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub website: String,
}

/// A checked host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostFields {
    pub name: String,
    /// Reading in katakana.
    pub kana: String,
    pub municipality_code: LocalGovCode,
    pub industry: String,
    pub summary: String,
    pub website: Option<String>,
}

/// Whether `code` names a municipality where a host of `tenant` may be: for a union
/// one of its members, for a prefecture any municipality of it (not the prefecture's
/// own code), for a municipality itself.
pub fn municipality_allowed(tenant: &Tenant, code: &LocalGovCode) -> bool {
    match tenant.kind {
        TenantKind::Union => tenant.members.iter().any(|m| &m.code == code),
        TenantKind::Municipality => tenant.code.as_ref() == Some(code),
        TenantKind::Prefecture => tenant.code.as_ref().is_some_and(|own| {
            // A prefecture's own code ends in 000 plus its check digit; its
            // municipalities share its first two digits and have a number of their own.
            own.prefecture_prefix() == code.prefecture_prefix() && &code.as_str()[2..5] != "000"
        }),
    }
}

/// A web address people may follow: http or https, with a host, one line.
pub fn check_website(field: &'static str, text: &str) -> Result<Option<String>, FieldError> {
    let text = one_line(text);
    if text.is_empty() {
        return Ok(None);
    }
    let fail = |problem| Err(FieldError { field, problem });
    if text.chars().count() > WEBSITE_MAX {
        return fail(Problem::TooLong { max: WEBSITE_MAX });
    }
    let lower = text.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    // A link shown on a page must not run script (javascript:, data:) nor be a
    // relative path; a host name is what follows the scheme.
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
    match host {
        Some(h)
            if !h.is_empty()
                && !text
                    .chars()
                    .any(|c| c.is_whitespace() || c == '"' || c == '<' || c == '>') =>
        {
            Ok(Some(text))
        }
        _ => fail(Problem::InvalidUrl),
    }
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

/// Checks a host for `tenant`: every problem at once, each naming its field.
pub fn check_host(input: &HostInput, tenant: &Tenant) -> Result<HostFields, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = match check_display_name("name", &input.name) {
        Ok(n) => Some(n),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let kana = match check_kana("kana", &input.kana) {
        Ok(k) if k.is_empty() => {
            errors.push(FieldError {
                field: "kana",
                problem: Problem::Required,
            });
            None
        }
        Ok(k) => Some(k),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let code = match input.municipality_code.trim() {
        "" => {
            errors.push(FieldError {
                field: "municipality_code",
                problem: Problem::Required,
            });
            None
        }
        c => match LocalGovCode::parse(c) {
            Ok(code) if municipality_allowed(tenant, &code) => Some(code),
            _ => {
                errors.push(FieldError {
                    field: "municipality_code",
                    problem: Problem::InvalidChoice,
                });
                None
            }
        },
    };
    let industry = one_line(&input.industry);
    let industry = text(&mut errors, "industry", &industry, INDUSTRY_MAX, true);
    let summary = text(&mut errors, "summary", &input.summary, SUMMARY_MAX, false);
    let website = check_website("website", &input.website)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    match (name, kana, code) {
        (Some(name), Some(kana), Some(municipality_code)) if errors.is_empty() => Ok(HostFields {
            name,
            kana,
            municipality_code,
            industry,
            summary,
            website,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(slug: &str) -> Tenant {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tenants")
            .join(slug)
            .join("tenant.toml");
        let text = std::fs::read_to_string(path).unwrap();
        crate::tenant::parse_tenant_file(&text).unwrap()
    }

    fn input(code: &str) -> HostInput {
        HostInput {
            name: "かんたはうす運営組合".into(),
            kana: "かんたはうすうんえいくみあい".into(),
            municipality_code: code.into(),
            industry: "宿泊・飲食".into(),
            summary: "古民家の宿。\r\n".into(),
            website: "https://kanta.example.jp/".into(),
        }
    }

    #[test]
    fn a_prefecture_takes_its_municipalities() {
        let iwate = tenant("iwate");
        let h = check_host(&input("032051"), &iwate).unwrap();
        assert_eq!(h.kana, "カンタハウスウンエイクミアイ");
        assert_eq!(h.summary, "古民家の宿。");
        assert_eq!(h.website.as_deref(), Some("https://kanta.example.jp/"));
        // Its own code, another prefecture's town, a wrong check digit.
        for bad in ["030007", "462225", "032052", "3205"] {
            let e = check_host(&input(bad), &iwate).unwrap_err();
            assert_eq!(e[0].field, "municipality_code", "{bad}");
        }
    }

    #[test]
    fn a_union_takes_its_members_and_a_municipality_itself() {
        let amami = tenant("amami");
        assert!(check_host(&input("462225"), &amami).is_ok());
        assert!(check_host(&input("032051"), &amami).is_err());
        let kamaishi = tenant("kamaishi");
        assert!(check_host(&input("032115"), &kamaishi).is_ok());
        assert!(check_host(&input("032051"), &kamaishi).is_err());
    }

    #[test]
    fn every_problem_is_named_at_once() {
        let bad = HostInput {
            name: " ".into(),
            kana: "Kanta".into(),
            municipality_code: String::new(),
            industry: String::new(),
            summary: "あ".repeat(SUMMARY_MAX + 1),
            website: "javascript:alert(1)".into(),
        };
        let fields: Vec<&str> = check_host(&bad, &tenant("iwate"))
            .unwrap_err()
            .iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "name",
                "kana",
                "municipality_code",
                "industry",
                "summary",
                "website"
            ]
        );
    }

    #[test]
    fn websites_are_http() {
        for ok in ["http://a.example", "HTTPS://例え.jp/x?y#z"] {
            assert!(check_website("w", ok).unwrap().is_some(), "{ok}");
        }
        for bad in [
            "ftp://a",
            "https://",
            "//a.example",
            "data:text/html,x",
            "https://a b",
        ] {
            assert!(check_website("w", bad).is_err(), "{bad}");
        }
        assert_eq!(check_website("w", " ").unwrap(), None);
    }

    #[test]
    fn statuses_move_as_allowed() {
        use HostStatus::*;
        assert!(Pending.can_become(Approved));
        assert!(!Approved.can_become(Pending));
        assert!(Approved.can_become(Archived));
        for s in HostStatus::ALL {
            assert_eq!(HostStatus::parse(s.code()), Some(s));
        }
    }
}
