//! Interface text in Japanese and English, and how a request's language is chosen.

use std::collections::BTreeMap;

use yui_domain::Locale;

use crate::WebError;

/// The cookie that remembers the language switch.
pub const LANG_COOKIE: &str = "yui_lang";

/// Message catalogs, one flat key → text map per locale.
#[derive(Debug)]
pub struct Catalogs {
    ja: BTreeMap<String, String>,
    en: BTreeMap<String, String>,
}

impl Catalogs {
    /// Loads the catalogs compiled into the binary and checks both have the same keys.
    pub fn load() -> Result<Catalogs, WebError> {
        let parse = |name: &str, text: &str| {
            toml::from_str::<BTreeMap<String, String>>(text)
                .map_err(|e| WebError::Catalog(format!("{name}: {e}")))
        };
        let ja = parse("ja.toml", include_str!("../locales/ja.toml"))?;
        let en = parse("en.toml", include_str!("../locales/en.toml"))?;
        let missing: Vec<&String> = ja
            .keys()
            .filter(|k| !en.contains_key(*k))
            .chain(en.keys().filter(|k| !ja.contains_key(*k)))
            .collect();
        if !missing.is_empty() {
            return Err(WebError::Catalog(format!(
                "keys not in both catalogs: {missing:?}"
            )));
        }
        Ok(Catalogs { ja, en })
    }

    pub fn get(&self, locale: Locale) -> &BTreeMap<String, String> {
        match locale {
            Locale::Ja => &self.ja,
            Locale::En => &self.en,
        }
    }

    /// One message. A missing key is a bug: it is logged, fails debug builds (so
    /// every test that reaches it fails), and shows the key in release builds.
    pub fn text<'a>(&'a self, locale: Locale, key: &'a str) -> &'a str {
        match self.get(locale).get(key) {
            Some(text) => text,
            None => {
                tracing::error!(key, "message key missing from the catalogs");
                debug_assert!(false, "message key {key:?} missing from the catalogs");
                key
            }
        }
    }

    /// Whether both catalogs have `key`.
    pub fn has(&self, key: &str) -> bool {
        self.ja.contains_key(key) && self.en.contains_key(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogs_load_with_the_same_keys() {
        let c = Catalogs::load().unwrap();
        assert_eq!(c.text(Locale::Ja, "home_title"), "参加している地域");
        assert_eq!(c.text(Locale::En, "home_title"), "Participating regions");
    }
}

#[cfg(test)]
mod key_tests {
    use yui_domain::audit::AuditAction;

    use super::*;

    /// Every `t.<key>` in a template and every literal key passed to `text(…, "key")`
    /// or a form page in the code exists in both catalogs, and so does every key the
    /// code builds from a closed set (roles, tenant kinds, audit actions).
    #[test]
    fn every_key_used_is_in_both_catalogs() {
        let c = Catalogs::load().unwrap();
        let mut used: Vec<String> = Vec::new();
        let key_at = |s: &str| -> String {
            s.chars()
                .take_while(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || *ch == '_')
                .collect()
        };
        for (_, source) in crate::template_sources() {
            used.extend(crate::render::messages::keys_in(source).named);
        }
        let code = [
            include_str!("features/accounts/mod.rs"),
            include_str!("features/accounts/account.rs"),
            include_str!("features/accounts/links.rs"),
            include_str!("features/accounts/signin.rs"),
            include_str!("features/accounts/signup.rs"),
            include_str!("features/staff/list.rs"),
            include_str!("features/staff/revoke.rs"),
            include_str!("features/tokens/mod.rs"),
            include_str!("features/ops/mod.rs"),
            include_str!("features/audit/mod.rs"),
            include_str!("features/public/mod.rs"),
            include_str!("render/mod.rs"),
            include_str!("error.rs"),
        ];
        for source in code {
            for pattern in [
                "text(locale, \"",
                "Some(\"",
                "FormPage::new(\"",
                "(\"/signin\", \"",
                "(\"/signup\", \"",
                "(\"/reset\", \"",
                "(\"/magic\", \"",
            ] {
                for (i, _) in source.match_indices(pattern) {
                    let key = key_at(&source[i + pattern.len()..]);
                    if key.len() > 3 && key.contains('_') {
                        used.push(key);
                    }
                }
            }
        }
        for role in yui_authz::Role::ALL {
            used.push(format!("role_{}", role.as_str()));
        }
        for kind in ["prefecture", "municipality", "union"] {
            used.push(format!("kind_{kind}"));
        }
        for status in ["active", "suspended"] {
            used.push(format!("status_{status}"));
        }
        for action in AuditAction::ALL {
            used.push(format!("audit_action_{}", action.as_str()));
        }
        let missing: Vec<&String> = used.iter().filter(|k| !c.has(k)).collect();
        assert!(
            missing.is_empty(),
            "message keys missing from a catalog: {missing:?}"
        );
        assert!(used.len() > 100, "the scan found only {} keys", used.len());
    }
}
