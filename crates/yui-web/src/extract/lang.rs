use axum::extract::FromRequestParts;
use axum::http::header::ACCEPT_LANGUAGE;
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use yui_domain::Locale;

use crate::AppState;
use crate::i18n::LANG_COOKIE;

/// The language a request asked for, if any: `?lang=`, then the remembered cookie,
/// then `Accept-Language`. `None` lets the page fall back to its tenant's default.
#[derive(Debug, Clone, Copy)]
pub struct Lang(pub Option<Locale>);

fn from_query(uri: &axum::http::Uri) -> Option<Locale> {
    uri.query().and_then(|q| {
        q.split('&').find_map(|pair| match pair.split_once('=') {
            Some(("lang", v)) => Locale::parse(v),
            _ => None,
        })
    })
}

fn from_cookie(headers: &axum::http::HeaderMap) -> Option<Locale> {
    CookieJar::from_headers(headers)
        .get(LANG_COOKIE)
        .and_then(|c| Locale::parse(c.value()))
}

/// The cookie that remembers a chosen language for a year. Over TLS it is `Secure`
/// like every other cookie, so it never travels in clear text.
pub(crate) fn lang_cookie(
    state: &AppState,
    locale: Locale,
) -> axum_extra::extract::cookie::Cookie<'static> {
    axum_extra::extract::cookie::Cookie::build((LANG_COOKIE, locale.tag()))
        .path("/")
        .max_age(cookie::time::Duration::days(365))
        .same_site(axum_extra::extract::cookie::SameSite::Lax)
        .http_only(true)
        .secure(state.inner.settings.over_tls())
        .build()
}

/// A page opened with `?lang=` remembers the choice, so the forms on it (whose
/// actions carry no `lang`) are answered in the same language.
pub(crate) async fn remember_query_lang(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let chosen = from_query(req.uri()).filter(|l| from_cookie(req.headers()) != Some(*l));
    let mut res = next.run(req).await;
    if let Some(locale) = chosen
        && let Ok(value) =
            axum::http::HeaderValue::from_str(&lang_cookie(&state, locale).to_string())
    {
        res.headers_mut()
            .append(axum::http::header::SET_COOKIE, value);
    }
    res
}

impl Lang {
    pub fn or(self, default: Locale) -> Locale {
        self.0.unwrap_or(default)
    }

    pub(crate) fn from_parts(parts: &Parts) -> Lang {
        let from_query = from_query(&parts.uri);
        let from_cookie = || from_cookie(&parts.headers);
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
