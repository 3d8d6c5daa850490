//! Case studies (事例): a coordinator writes up an engagement — the host, its
//! challenge, the talent's strengths, what was proposed and what came of it — and
//! both sides approve the text before the tenant publishes it.
//!
//! Approval is of a text, not of a case: any change after one side approved (text or
//! photos) withdraws every approval, so what goes public is what both sides saw.

use serde::{Deserialize, Serialize};

use crate::account::{FieldError, Problem};

/// The longest title.
pub const TITLE_MAX: usize = 120;
/// The longest section (overview, challenge, skills, proposal, outcome).
pub const SECTION_MAX: usize = 2000;
/// The longest alt text of a photo.
pub const ALT_MAX: usize = 200;
/// The longest comment asking for changes.
pub const COMMENT_MAX: usize = 1000;
/// The largest photo, in bytes (2 MB).
pub const PHOTO_MAX_BYTES: usize = 2 * 1024 * 1024;
/// Photos per case study.
pub const PHOTOS_MAX: usize = 4;

/// The sections of a case study, in the order a page shows them. Each has a Japanese
/// text (required) and an English one (optional).
pub const SECTIONS: [&str; 5] = [
    "overview",
    "challenge",
    "talent_skills",
    "proposal",
    "outcome",
];

/// Where a case study stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Being written by the coordinator; the sides see it but cannot approve yet.
    Draft,
    /// Sent to the talent and the host for approval.
    AwaitingApproval,
    /// On the tenant's public pages.
    Public,
    /// Taken off the public pages.
    Withdrawn,
}

impl CaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Draft => "draft",
            CaseStatus::AwaitingApproval => "awaiting_approval",
            CaseStatus::Public => "public",
            CaseStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<CaseStatus> {
        match s {
            "draft" => Some(CaseStatus::Draft),
            "awaiting_approval" => Some(CaseStatus::AwaitingApproval),
            "public" => Some(CaseStatus::Public),
            "withdrawn" => Some(CaseStatus::Withdrawn),
            _ => None,
        }
    }

    /// The status after the text or photos change: once anyone approved (or it was
    /// public), the sides must approve again.
    pub fn after_edit(self, any_approval: bool) -> CaseStatus {
        match self {
            CaseStatus::Draft if !any_approval => CaseStatus::Draft,
            _ => CaseStatus::AwaitingApproval,
        }
    }

    /// Whether the coordinator may move a case from `self` to `to` (approvals
    /// are checked separately for publishing).
    pub fn can_move_to(self, to: CaseStatus) -> bool {
        matches!(
            (self, to),
            (CaseStatus::Draft, CaseStatus::AwaitingApproval)
                | (CaseStatus::AwaitingApproval, CaseStatus::Public)
                | (CaseStatus::Public, CaseStatus::Withdrawn)
                | (CaseStatus::Withdrawn, CaseStatus::Public)
        )
    }
}

/// Which side of the engagement approves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseSide {
    Talent,
    Host,
}

/// The case study form as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CaseStudyInput {
    pub title_ja: String,
    pub title_en: String,
    pub overview_ja: String,
    pub overview_en: String,
    pub challenge_ja: String,
    pub challenge_en: String,
    pub talent_skills_ja: String,
    pub talent_skills_en: String,
    pub proposal_ja: String,
    pub proposal_en: String,
    pub outcome_ja: String,
    pub outcome_en: String,
}

/// A Japanese text and its optional English version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Text {
    pub ja: String,
    /// Empty when not translated.
    pub en: String,
}

/// A checked case study.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CaseStudyFields {
    pub title: Text,
    pub overview: Text,
    pub challenge: Text,
    pub talent_skills: Text,
    pub proposal: Text,
    pub outcome: Text,
}

impl CaseStudyFields {
    /// The texts in the order of the stored columns: each field's Japanese, then
    /// its English (`title_ja`, `title_en`, `overview_ja`, … `outcome_en`).
    pub fn column_texts(&self) -> [&str; 12] {
        let [a, b, c, d, e, f] = [
            &self.title,
            &self.overview,
            &self.challenge,
            &self.talent_skills,
            &self.proposal,
            &self.outcome,
        ];
        [
            &a.ja, &a.en, &b.ja, &b.en, &c.ja, &c.en, &d.ja, &d.en, &e.ja, &e.en, &f.ja, &f.en,
        ]
    }
}

impl CaseStudyInput {
    /// The (ja, en) texts of each field, with the field's name.
    fn pairs(&self) -> [(&'static str, &str, &str, usize); 6] {
        [
            ("title", &self.title_ja, &self.title_en, TITLE_MAX),
            (
                "overview",
                &self.overview_ja,
                &self.overview_en,
                SECTION_MAX,
            ),
            (
                "challenge",
                &self.challenge_ja,
                &self.challenge_en,
                SECTION_MAX,
            ),
            (
                "talent_skills",
                &self.talent_skills_ja,
                &self.talent_skills_en,
                SECTION_MAX,
            ),
            (
                "proposal",
                &self.proposal_ja,
                &self.proposal_en,
                SECTION_MAX,
            ),
            ("outcome", &self.outcome_ja, &self.outcome_en, SECTION_MAX),
        ]
    }

    /// The form filled in with stored fields.
    pub fn of(f: &CaseStudyFields) -> CaseStudyInput {
        CaseStudyInput {
            title_ja: f.title.ja.clone(),
            title_en: f.title.en.clone(),
            overview_ja: f.overview.ja.clone(),
            overview_en: f.overview.en.clone(),
            challenge_ja: f.challenge.ja.clone(),
            challenge_en: f.challenge.en.clone(),
            talent_skills_ja: f.talent_skills.ja.clone(),
            talent_skills_en: f.talent_skills.en.clone(),
            proposal_ja: f.proposal.ja.clone(),
            proposal_en: f.proposal.en.clone(),
            outcome_ja: f.outcome.ja.clone(),
            outcome_en: f.outcome.en.clone(),
        }
    }
}

/// The error field name of a field's language version (`overview_ja`).
fn field_name(field: &'static str, ja: bool) -> &'static str {
    match (field, ja) {
        ("title", true) => "title_ja",
        ("title", false) => "title_en",
        ("overview", true) => "overview_ja",
        ("overview", false) => "overview_en",
        ("challenge", true) => "challenge_ja",
        ("challenge", false) => "challenge_en",
        ("talent_skills", true) => "talent_skills_ja",
        ("talent_skills", false) => "talent_skills_en",
        ("proposal", true) => "proposal_ja",
        ("proposal", false) => "proposal_en",
        ("outcome", true) => "outcome_ja",
        _ => "outcome_en",
    }
}

/// A text as kept: as the engagement forms keep theirs (no NUL, control characters
/// or bidirectional overrides, which PostgreSQL refuses or which make the text read
/// otherwise than it is), line ends as `\n`; a title on one line.
fn clean(value: &str, one_line: bool) -> String {
    let value = crate::engagement::clean_text(&value.replace("\r\n", "\n").replace('\r', "\n"));
    if one_line {
        value.split_whitespace().collect::<Vec<_>>().join(" ")
    } else {
        value
    }
}

/// Checks a case study: every Japanese text present, every text within its limit.
pub fn check_case_study(input: &CaseStudyInput) -> Result<CaseStudyFields, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut texts = Vec::with_capacity(6);
    for (field, ja, en, max) in input.pairs() {
        let one_line = field == "title";
        let ja = clean(ja, one_line);
        let en = clean(en, one_line);
        if ja.is_empty() {
            errors.push(FieldError {
                field: field_name(field, true),
                problem: Problem::Required,
            });
        } else if ja.chars().count() > max {
            errors.push(FieldError {
                field: field_name(field, true),
                problem: Problem::TooLong { max },
            });
        }
        if en.chars().count() > max {
            errors.push(FieldError {
                field: field_name(field, false),
                problem: Problem::TooLong { max },
            });
        }
        texts.push(Text { ja, en });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut t = texts.into_iter();
    let mut next = || t.next().unwrap_or_default();
    Ok(CaseStudyFields {
        title: next(),
        overview: next(),
        challenge: next(),
        talent_skills: next(),
        proposal: next(),
        outcome: next(),
    })
}

/// The image formats a photo may be, recognised by their first bytes: what the
/// browser claims the file is counts for nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Jpeg,
    Png,
    Webp,
}

impl ImageKind {
    /// The kind whose signature `bytes` start with.
    pub fn sniff(bytes: &[u8]) -> Option<ImageKind> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageKind::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageKind::Png)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(ImageKind::Webp)
        } else {
            None
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Png => "image/png",
            ImageKind::Webp => "image/webp",
        }
    }
}

/// A photo ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoFields {
    pub kind: ImageKind,
    pub bytes: Vec<u8>,
    pub alt: String,
}

/// A photo as uploaded: its bytes (`None` when more than [`PHOTO_MAX_BYTES`] came,
/// and were not kept) and its alt text.
#[derive(Debug, Clone, Default)]
pub struct PhotoUpload {
    pub bytes: Option<Vec<u8>>,
    pub alt: String,
    /// Photos the case study has already.
    pub existing: usize,
}

/// Checks a photo: a JPEG, PNG or WebP by its content, at most 2 MB, with an alt
/// text, and room for it on the case study.
pub fn check_photo(upload: PhotoUpload) -> Result<PhotoFields, Vec<FieldError>> {
    let mut errors = Vec::new();
    let alt = clean(&upload.alt, true);
    if alt.is_empty() {
        errors.push(FieldError {
            field: "alt",
            problem: Problem::Required,
        });
    } else if alt.chars().count() > ALT_MAX {
        errors.push(FieldError {
            field: "alt",
            problem: Problem::TooLong { max: ALT_MAX },
        });
    }
    let kind = match &upload.bytes {
        None => {
            errors.push(FieldError {
                field: "photo",
                problem: Problem::FileTooLarge {
                    max_mb: PHOTO_MAX_BYTES / (1024 * 1024),
                },
            });
            None
        }
        Some(b) if b.is_empty() => {
            errors.push(FieldError {
                field: "photo",
                problem: Problem::Required,
            });
            None
        }
        Some(b) if b.len() > PHOTO_MAX_BYTES => {
            errors.push(FieldError {
                field: "photo",
                problem: Problem::FileTooLarge {
                    max_mb: PHOTO_MAX_BYTES / (1024 * 1024),
                },
            });
            None
        }
        Some(b) => {
            let kind = ImageKind::sniff(b);
            if kind.is_none() {
                errors.push(FieldError {
                    field: "photo",
                    problem: Problem::NotAnImage,
                });
            }
            kind
        }
    };
    if upload.existing >= PHOTOS_MAX {
        errors.push(FieldError {
            field: "photo",
            problem: Problem::TooMany { max: PHOTOS_MAX },
        });
    }
    match (kind, upload.bytes, errors.is_empty()) {
        (Some(kind), Some(bytes), true) => Ok(PhotoFields { kind, bytes, alt }),
        _ => Err(errors),
    }
}

/// Checks a comment asking for changes: required, so the coordinator knows what.
pub fn check_comment(comment: &str) -> Result<String, FieldError> {
    let c = clean(comment, false);
    if c.is_empty() {
        Err(FieldError {
            field: "comment",
            problem: Problem::Required,
        })
    } else if c.chars().count() > COMMENT_MAX {
        Err(FieldError {
            field: "comment",
            problem: Problem::TooLong { max: COMMENT_MAX },
        })
    } else {
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_come_in_the_order_of_the_columns() {
        let t = |s: &str| Text {
            ja: format!("{s}_ja"),
            en: format!("{s}_en"),
        };
        let f = CaseStudyFields {
            title: t("title"),
            overview: t("overview"),
            challenge: t("challenge"),
            talent_skills: t("talent_skills"),
            proposal: t("proposal"),
            outcome: t("outcome"),
        };
        let names: Vec<String> = [
            "title",
            "overview",
            "challenge",
            "talent_skills",
            "proposal",
            "outcome",
        ]
        .iter()
        .flat_map(|n| [format!("{n}_ja"), format!("{n}_en")])
        .collect();
        assert_eq!(f.column_texts().to_vec(), names);
    }

    fn filled() -> CaseStudyInput {
        CaseStudyInput {
            title_ja: " 地域産ワインの\nファンづくり ".into(),
            overview_ja: "ぶどう畑".into(),
            challenge_ja: "販路".into(),
            talent_skills_ja: "SNS".into(),
            proposal_ja: "コミュニティ".into(),
            outcome_ja: "ファン".into(),
            outcome_en: "Fans".into(),
            ..Default::default()
        }
    }

    #[test]
    fn japanese_is_required_and_english_optional() {
        let f = check_case_study(&filled()).unwrap();
        assert_eq!(f.title.ja, "地域産ワインの ファンづくり");
        assert_eq!(f.outcome.en, "Fans");
        assert_eq!(f.overview.en, "");
        let mut i = filled();
        i.challenge_ja = "  ".into();
        i.proposal_en = "x".repeat(SECTION_MAX + 1);
        let e = check_case_study(&i).unwrap_err();
        assert_eq!(
            e.iter().map(|e| e.field).collect::<Vec<_>>(),
            ["challenge_ja", "proposal_en"]
        );
    }

    #[test]
    fn texts_and_captions_lose_nul_controls_and_bidi_overrides() {
        let mut i = filled();
        i.title_ja = "ワイン\u{0}の\u{202E}話\u{7}".into();
        i.overview_ja = "一行目\r\n二行目\u{0}\u{2066}\u{1b}[31m".into();
        let f = check_case_study(&i).unwrap();
        assert_eq!(f.title.ja, "ワインの話");
        assert_eq!(f.overview.ja, "一行目\n二行目[31m");
        let photo = check_photo(PhotoUpload {
            bytes: Some(b"\x89PNG\r\n\x1a\n....".to_vec()),
            alt: "畑\u{0}の\u{202D}写真".into(),
            existing: 0,
        })
        .unwrap();
        assert_eq!(photo.alt, "畑の写真");
    }

    #[test]
    fn photos_are_recognised_by_their_bytes() {
        assert_eq!(
            ImageKind::sniff(b"\x89PNG\r\n\x1a\n...."),
            Some(ImageKind::Png)
        );
        assert_eq!(
            ImageKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(ImageKind::Jpeg)
        );
        assert_eq!(
            ImageKind::sniff(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(ImageKind::Webp)
        );
        assert_eq!(ImageKind::sniff(b"<svg onload=alert(1)>"), None);
        assert_eq!(ImageKind::sniff(b"GIF89a"), None);
        let ok = PhotoUpload {
            bytes: Some(b"\x89PNG\r\n\x1a\nrest".to_vec()),
            alt: "畑".into(),
            existing: 0,
        };
        assert!(check_photo(ok.clone()).is_ok());
        let e = check_photo(PhotoUpload {
            existing: PHOTOS_MAX,
            alt: String::new(),
            ..ok.clone()
        })
        .unwrap_err();
        assert_eq!(
            e.iter().map(|e| e.field).collect::<Vec<_>>(),
            ["alt", "photo"]
        );
        let e = check_photo(PhotoUpload { bytes: None, ..ok }).unwrap_err();
        assert!(matches!(e[0].problem, Problem::FileTooLarge { max_mb: 2 }));
    }

    #[test]
    fn an_edit_after_an_approval_asks_for_approval_again() {
        assert_eq!(CaseStatus::Draft.after_edit(false), CaseStatus::Draft);
        assert_eq!(
            CaseStatus::Draft.after_edit(true),
            CaseStatus::AwaitingApproval
        );
        assert_eq!(
            CaseStatus::Public.after_edit(true),
            CaseStatus::AwaitingApproval
        );
        assert!(CaseStatus::AwaitingApproval.can_move_to(CaseStatus::Public));
        assert!(!CaseStatus::Draft.can_move_to(CaseStatus::Public));
        for s in ["draft", "awaiting_approval", "public", "withdrawn"] {
            assert_eq!(CaseStatus::parse(s).unwrap().as_str(), s);
        }
    }
}
