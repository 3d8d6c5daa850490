use axum::extract::FromRequestParts;
use axum::http::header::ACCEPT_LANGUAGE;
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use yui_domain::Locale;

use crate::i18n::LANG_COOKIE;

/// The language a request asked for, if any: `?lang=`, then the remembered cookie,
/// then `Accept-Language`. `None` lets the page fall back to its tenant's default.
#[derive(Debug, Clone, Copy)]
pub struct Lang(pub Option<Locale>);

impl Lang {
    pub fn or(self, default: Locale) -> Locale {
        self.0.unwrap_or(default)
    }

    pub(crate) fn from_parts(parts: &Parts) -> Lang {
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
        Lang(from_query.or_else(from_cookie).or_else(from_header))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang::from_parts(parts))
    }
}
