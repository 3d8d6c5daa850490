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
}

/// An email address as typed (case kept for display) with its comparison key. Made
/// only by [`Email::parse`], so every `Email` in the program passed its checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    address: String,
    /// Lowercased: one account per address whatever its case.
    key: String,
}

impl Email {
    pub fn parse(field: &'static str, input: &str) -> Result<Email, FieldError> {
        let address = input.trim();
        let fail = |problem| Err(FieldError { field, problem });
        if address.is_empty() {
            return fail(Problem::Required);
        }
        if address.len() > 254 {
            return fail(Problem::TooLong { max: 254 });
        }
        let Some((local, domain)) = address.rsplit_once('@') else {
            return fail(Problem::InvalidEmail);
        };
        let plausible = !local.is_empty()
            && local.len() <= 64
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !local.contains('@')
            // Quoted local parts and domain literals (`x@[127.0.0.1]`) are legal but
            // undeliverable through ordinary relays: refused here, where a person can fix them.
            && !address.chars().any(|c| {
                c.is_whitespace()
                    || c.is_control()
                    || matches!(c, '<' | '>' | ',' | ';' | '"' | '[' | ']' | '\\')
            });
        if !plausible {
            return fail(Problem::InvalidEmail);
        }
        Ok(Email {
            address: address.to_owned(),
            key: address.to_lowercase(),
        })
    }

    /// The address as the person typed it (trimmed): what mail is sent to.
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

/// Checks a display name: required, one line, at most 100 characters.
pub fn check_display_name(field: &'static str, name: &str) -> Result<String, FieldError> {
    let name = one_line(name);
    let name = name.as_str();
    if name.is_empty() {
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
        assert_eq!(e.as_str(), "Hanako.Sato@Example.JP");
        assert_eq!(e.key(), "hanako.sato@example.jp");
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
        ] {
            assert!(Email::parse("email", bad).is_err(), "{bad:?}");
        }
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
