//! Accounts: one per person across all tenants, and the rules for what they type.

use serde::{Deserialize, Serialize};

/// A field a person filled in wrongly, named so the page can point at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: {problem:?}")]
pub struct FieldError {
    pub field: &'static str,
    pub problem: Problem,
}

/// What is wrong with a field; pages turn it into a sentence in the user's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    Required,
    InvalidEmail,
    TooShort {
        min: usize,
    },
    TooLong {
        max: usize,
    },
    PasswordIsEmail,
    Mismatch,
    AlreadyRegistered,
    InvalidDate,
    /// A date that has already passed where a future one is needed.
    DateInPast,
    InvalidChoice,
    /// A number outside the range the field allows.
    OutOfRange {
        min: usize,
        max: usize,
    },
    /// More entries than the field holds.
    TooMany {
        max: usize,
    },
    /// Not a web address starting with http:// or https://.
    InvalidUrl,
    /// Another record already has this value (a host's name in its region).
    Taken,
    /// Not written in katakana or hiragana (a reading).
    NotKana,
    /// A date outside the years the field accepts (e.g. a hearing in 2999).
    DateOutOfRange,
    /// A date or time not later than the one it must follow (a deadline before the
    /// opening it closes).
    OutOfOrder,
    /// A value that only a public servant gives (side-job permission).
    OnlyForPublicServants,
    /// A line break or other control character in a one-line field (a mail subject).
    LineBreak,
    /// An uploaded file larger than the field takes.
    FileTooLarge {
        max_mb: usize,
    },
    /// An uploaded file that is not a JPEG, PNG or WebP image, whatever it claims.
    NotAnImage,
    /// A month outside the engagement: before it started, or after this month.
    MonthOutsideEngagement,
    /// A talent who already has a live engagement on this project.
    AlreadyEngaged,
    /// Not written in hiragana (a tenant's reading).
    NotHiragana,
    /// Not a colour written as `#rrggbb`.
    NotAColour,
    /// A colour whose contrast with white is too low; the ratio found, times 100.
    LowContrast {
        hundredths: u32,
    },
    /// An uploaded file larger than the field takes, in kilobytes.
    FileTooLargeKb {
        max_kb: usize,
    },
    /// A logo that is neither a PNG nor an SVG image, whatever it claims.
    NotALogo,
    /// An SVG image carrying scripts, event handlers or links to other resources.
    UnsafeSvg,
    /// A key-figure line that is not `label | value`.
    FactLine,
    /// Not a tenant slug: lowercase letters, digits and hyphens, starting with a letter.
    InvalidSlug,
    /// Not a local government of the national list (or one no government runs).
    UnknownLocalGov,
    /// Fewer entries than the field needs (a union of one municipality).
    TooFewMembers {
        min: usize,
    },
}

/// An email address in its normal form, with its comparison key. Made only by
/// [`Email::parse`], so every `Email` in the program passed its checks.
///
/// The rule (one identity per mailbox):
/// 1. Surrounding white space is dropped. Control and format characters (zero-width
///    spaces and joiners, direction marks, soft hyphens) are refused anywhere: they make
///    two addresses look alike.
/// 2. The address is put in Unicode normal form NFKC, so what a Japanese input method
///    types in full width (`ｈａｎａｋｏ＠ｅｘａｍｐｌｅ．ｊｐ`) and compatibility look-alikes
///    (the Kelvin sign `K`) become the plain characters they stand for.
/// 3. The local part (before the last `@`) must then be ASCII: international local
///    parts need SMTPUTF8, which ordinary relays and most mailboxes still refuse, and no
///    program we serve has asked for them. Its case is kept for sending.
/// 4. The domain goes through IDNA (UTS #46): lower case, and Punycode for an
///    international name, which is what mail servers route on.
///
/// The key is the normal form in lower case: one account per key. Mail is sent to the
/// normal form, never to a different address that happens to share the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    address: String,
    key: String,
}

/// The longest address SMTP carries (RFC 5321: a 256-octet path less its brackets).
pub const EMAIL_MAX: usize = 254;

/// Characters that draw nothing or make text read differently from what it is.
fn is_hidden_char(c: char) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    matches!(
        c.general_category(),
        GeneralCategory::Control | GeneralCategory::Format
    )
}

impl Email {
    pub fn parse(field: &'static str, input: &str) -> Result<Email, FieldError> {
        use unicode_normalization::UnicodeNormalization;
        let typed = input.trim();
        let fail = |problem| Err(FieldError { field, problem });
        if typed.is_empty() {
            return fail(Problem::Required);
        }
        // Checked before any work, so a huge input costs nothing to refuse.
        if typed.len() > EMAIL_MAX * 4 {
            return fail(Problem::TooLong { max: EMAIL_MAX });
        }
        if typed.chars().any(is_hidden_char) {
            return fail(Problem::InvalidEmail);
        }
        let normal: String = typed.nfkc().collect();
        let Some((local, domain)) = normal.rsplit_once('@') else {
            return fail(Problem::InvalidEmail);
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && local.is_ascii()
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            // Quoted local parts are legal but undeliverable through ordinary relays.
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        if !local_ok || domain.is_empty() {
            return fail(Problem::InvalidEmail);
        }
        // Domain literals (`x@[127.0.0.1]`) are refused by the STD3 rules: they bypass
        // the relay's routing and are never what a person means.
        let Ok(domain) = idna::domain_to_ascii_strict(domain) else {
            return fail(Problem::InvalidEmail);
        };
        if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
            return fail(Problem::InvalidEmail);
        }
        let address = format!("{local}@{domain}");
        if address.len() > EMAIL_MAX {
            return fail(Problem::TooLong { max: EMAIL_MAX });
        }
        let key = address.to_ascii_lowercase();
        Ok(Email { address, key })
    }

    /// The address in its normal form: what mail is sent to.
    pub fn as_str(&self) -> &str {
        &self.address
    }

    /// The comparison key: one account per key.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.address)
    }
}

/// The shortest password accepted. Length beats composition rules (NIST SP 800-63B).
pub const PASSWORD_MIN: usize = 10;
/// Long enough for any passphrase, short enough that hashing stays cheap.
pub const PASSWORD_MAX: usize = 256;

/// Checks a new password; `email` (when known) must not be the password.
pub fn check_new_password(
    field: &'static str,
    password: &str,
    email: Option<&Email>,
) -> Result<(), FieldError> {
    let n = password.chars().count();
    let problem = if n == 0 {
        Some(Problem::Required)
    } else if n < PASSWORD_MIN {
        Some(Problem::TooShort { min: PASSWORD_MIN })
    } else if n > PASSWORD_MAX {
        Some(Problem::TooLong { max: PASSWORD_MAX })
    } else if email.is_some_and(|e| password.trim().to_lowercase() == e.key) {
        Some(Problem::PasswordIsEmail)
    } else {
        None
    };
    problem.map_or(Ok(()), |problem| Err(FieldError { field, problem }))
}

/// Text for one line that others will read: trimmed, without control characters
/// and without the bidirectional overrides and isolates that make text read
/// differently from what it is (U+202A–U+202E, U+2066–U+2069).
pub fn one_line(text: &str) -> String {
    text.chars()
        .filter(|c| {
            !c.is_control() && !matches!(*c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Whether a character draws something on its own: not a space, not a control or
/// format character, not a mark (which only decorates another character), and not one
/// of the letters that fonts draw blank (Hangul fillers, the Braille blank).
fn is_visible(c: char) -> bool {
    use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};
    !c.is_whitespace()
        && !matches!(
            c.general_category_group(),
            GeneralCategoryGroup::Other
                | GeneralCategoryGroup::Mark
                | GeneralCategoryGroup::Separator
        )
        && !matches!(
            c,
            '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' | '\u{2800}' | '\u{180E}'
        )
}

/// Checks a display name: required, one line, at most 100 characters.
pub fn check_display_name(field: &'static str, name: &str) -> Result<String, FieldError> {
    let name = one_line(name);
    let name = name.as_str();
    // A name of blanks and invisible characters is no name: others would see nothing.
    if !name.chars().any(is_visible) {
        return Err(FieldError {
            field,
            problem: Problem::Required,
        });
    }
    if name.chars().count() > 100 {
        return Err(FieldError {
            field,
            problem: Problem::TooLong { max: 100 },
        });
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        let e = Email::parse("email", "  Hanako.Sato@Example.JP ").unwrap();
        assert_eq!(e.as_str(), "Hanako.Sato@example.jp");
        assert_eq!(e.key(), "hanako.sato@example.jp");
        // Full width from a Japanese input method is the same address.
        let wide = Email::parse("email", "ｈａｎａｋｏ．ｓａｔｏ＠ｅｘａｍｐｌｅ．ｊｐ").unwrap();
        assert_eq!(wide.as_str(), "hanako.sato@example.jp");
        assert_eq!(wide.key(), e.key());
        // The Kelvin sign is the letter K it looks like: one identity, and mail goes to
        // the plain address, never to the look-alike.
        let kelvin = Email::parse("email", "\u{212A}ato@example.jp").unwrap();
        assert_eq!(kelvin.as_str(), "Kato@example.jp");
        assert_eq!(kelvin.key(), "kato@example.jp");
        // International domains become the Punycode mail servers route on.
        let idn = Email::parse("email", "info@例え.jp").unwrap();
        assert_eq!(idn.as_str(), "info@xn--r8jz45g.jp");
        for bad in [
            "",
            "no-at",
            "a@b",
            "a b@example.jp",
            "@example.jp",
            "a@.jp",
            "a@example.jp\r\nBcc: x@y.z",
            "x@evil.example@example.jp",
            "x@[127.0.0.1]",
            "\"a b\"@example.jp",
            // Invisible characters, and local parts that are not ASCII after NFKC.
            "ha\u{200B}nako@example.jp",
            "hanako@exa\u{00AD}mple.jp",
            "\u{202E}hanako@example.jp",
            "はなこ@example.jp",
            "hana..ko@example.jp",
            ".hanako@example.jp",
            "hanako@example.jp.",
            "hanako@-example.jp",
        ] {
            assert!(Email::parse("email", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_huge_address_is_refused_by_length() {
        let huge = format!("{}@example.jp", "a".repeat(1_000_000));
        assert_eq!(
            Email::parse("email", &huge).unwrap_err().problem,
            Problem::TooLong { max: EMAIL_MAX }
        );
    }

    #[test]
    fn names_of_invisible_characters_are_refused() {
        for blank in [
            "\u{200B}\u{200D}",
            "\u{3164}",
            "\u{3000}",
            "\u{2800}\u{FEFF}",
            "\u{0301}",
        ] {
            assert_eq!(
                check_display_name("display_name", blank)
                    .unwrap_err()
                    .problem,
                Problem::Required,
                "{blank:?}"
            );
        }
        assert_eq!(
            check_display_name("display_name", "佐藤 花子").unwrap(),
            "佐藤 花子"
        );
        assert!(check_display_name("display_name", "👩\u{200D}🌾").is_ok());
    }

    #[test]
    fn one_line_text_loses_controls_and_direction_overrides() {
        assert_eq!(one_line(" 花子\u{202E}gpj.exe\u{0007} "), "花子gpj.exe");
        assert_eq!(
            check_display_name("display_name", "\u{2066}\u{202E}")
                .unwrap_err()
                .problem,
            Problem::Required
        );
    }

    #[test]
    fn passwords() {
        let e = Email::parse("email", "sato@example.jp").unwrap();
        assert!(check_new_password("password", "correct horse", Some(&e)).is_ok());
        assert_eq!(
            check_new_password("password", "short", Some(&e))
                .unwrap_err()
                .problem,
            Problem::TooShort { min: PASSWORD_MIN }
        );
        assert_eq!(
            check_new_password("password", "SATO@example.jp", Some(&e))
                .unwrap_err()
                .problem,
            Problem::PasswordIsEmail
        );
    }
}
