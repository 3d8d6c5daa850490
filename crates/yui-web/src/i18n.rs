//! Interface text in Japanese and English, and how a request's language is chosen.

use std::collections::BTreeMap;

use axum::extract::FromRequestParts;
use axum::http::header::ACCEPT_LANGUAGE;
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
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

    /// One message; the key itself when missing, so a gap shows rather than breaks.
    pub fn text<'a>(&'a self, locale: Locale, key: &'a str) -> &'a str {
        self.get(locale).get(key).map(String::as_str).unwrap_or(key)
    }
}

/// The language a request asked for, if any: `?lang=`, then the remembered cookie,
/// then `Accept-Language`. `None` lets the page fall back to its tenant's default.
#[derive(Debug, Clone, Copy)]
pub struct Lang(pub Option<Locale>);

impl Lang {
    pub fn or(self, default: Locale) -> Locale {
        self.0.unwrap_or(default)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let from_query = parts.uri.query().and_then(|q| {
            q.split('&').find_map(|pair| match pair.split_once('=') {
                Some(("lang", v)) => Locale::parse(v),
                _ => None,
            })
        });
        let from_cookie = || {
            CookieJar::from_headers(&parts.headers)
                .get(LANG_COOKIE)
                .and_then(|c| Locale::parse(c.value()))
        };
        let from_header = || {
            parts
                .headers
                .get(ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Locale::from_accept_language)
        };
        Ok(Lang(from_query.or_else(from_cookie).or_else(from_header)))
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
