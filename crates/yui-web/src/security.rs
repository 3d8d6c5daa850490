//! Secrets, cookies, password hashing and sessions: how a browser proves who it is.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use axum::http::{HeaderMap, header};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use yui_domain::AccountId;

use crate::{AppState, WebError};

pub(crate) const SESSION: &str = "yui_session";
pub(crate) const CSRF: &str = "yui_csrf";
/// A browser that signed in before: throttled on its own, not with its address.
pub(crate) const DEVICE: &str = "yui_device";

/// A random secret for a cookie or a mailed link: 256 bits, URL-safe.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Only hashes of session ids and tokens are stored: a database leak signs nobody in.
pub fn secret_hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(crate) fn cookie_name(state: &AppState, base: &'static str) -> String {
    // `__Host-` binds the cookie to this exact origin; browsers accept it only over TLS.
    if state.inner.settings.over_tls() {
        format!("__Host-{base}")
    } else {
        base.to_owned()
    }
}

pub(crate) fn cookie(state: &AppState, base: &'static str, value: String) -> Cookie<'static> {
    Cookie::build((cookie_name(state, base), value))
        .path("/")
        .http_only(true)
        .secure(state.inner.settings.over_tls())
        .same_site(SameSite::Lax)
        .build()
}

/// The CSRF token of this browser (double-submit: a cookie and the same value in each
/// form), created on first use.
pub(crate) fn csrf_token(state: &AppState, jar: CookieJar) -> (CookieJar, String) {
    match jar.get(&cookie_name(state, CSRF)) {
        Some(c) if !c.value().is_empty() => {
            let token = c.value().to_owned();
            (jar, token)
        }
        _ => {
            let token = new_secret();
            (jar.add(cookie(state, CSRF, token.clone())), token)
        }
    }
}

/// Whether a submitted form's token matches the browser's cookie.
pub(crate) fn csrf_ok(state: &AppState, jar: &CookieJar, submitted: &str) -> bool {
    jar.get(&cookie_name(state, CSRF)).is_some_and(|c| {
        !submitted.is_empty() && bool::from(c.value().as_bytes().ct_eq(submitted.as_bytes()))
    })
}

pub async fn hash_password(password: String) -> Result<String, WebError> {
    // Argon2id is deliberately slow; keep it off the async workers.
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
    })
    .await
    .map_err(|e| WebError::Internal(e.to_string()))?
    .map_err(|e| WebError::Internal(e.to_string()))
}

/// Checks a password. An unknown account is checked against a throw-away hash so
/// the answer takes as long as for a real one and does not reveal who is registered.
pub(crate) async fn password_matches(password: String, hash: Option<String>) -> bool {
    static DECOY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let known = hash.is_some();
    let Some(hash) = hash.or_else(|| {
        DECOY
            .get_or_init(|| {
                Argon2::default()
                    .hash_password(b"decoy password")
                    .ok()
                    .map(|h| h.to_string())
            })
            .clone()
    }) else {
        return false;
    };
    let ok = tokio::task::spawn_blocking(move || {
        Argon2::default()
            .verify_password(password.as_bytes(), hash.as_str())
            .is_ok()
    })
    .await
    .unwrap_or(false);
    ok && known
}

/// Starts a fresh session (a new id every sign-in, so a planted id is useless) and
/// ends the one the browser had. `epoch` is the account's credential epoch that the
/// sign-in was checked against: if the credentials changed meanwhile (a reset, signing
/// out everywhere), no session is made (409).
pub(crate) async fn start_session(
    state: &AppState,
    jar: CookieJar,
    account: AccountId,
    epoch: i64,
    ip: &str,
    headers: &HeaderMap,
) -> Result<CookieJar, WebError> {
    if let Some(old) = jar.get(&cookie_name(state, SESSION)) {
        state.store.end_session(&secret_hash(old.value())).await?;
    }
    let id = new_secret();
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut tx = state.store.account(account).write().await?;
    tx.create_session(
        &secret_hash(&id),
        state.inner.settings.session,
        ip,
        ua,
        epoch,
        state.now(),
    )
    .await?;
    tx.commit().await?;
    let max_age = state.inner.settings.session.absolute.num_seconds();
    let mut c = cookie(state, SESSION, id);
    c.set_max_age(cookie::time::Duration::seconds(max_age));
    // A new CSRF token too, so one seen before sign-in is not valid after it.
    Ok(jar.add(c).add(cookie(state, CSRF, new_secret())))
}

/// The hash of this browser's known-device id, if it has one. It proves nothing by
/// itself: it counts only for an account it signed in to (see `is_known_device`).
pub(crate) fn device_id_hash(state: &AppState, jar: &CookieJar) -> Option<String> {
    jar.get(&cookie_name(state, DEVICE))
        .map(|c| c.value())
        .filter(|v| !v.is_empty() && v.len() <= 64)
        .map(secret_hash)
}

/// Remembers that this browser signed in to `account`, for a year: its owner keeps
/// signing in while strangers on the same address are held back. The browser keeps
/// one id for every account it signs in to.
pub(crate) async fn remember_device(
    state: &AppState,
    jar: CookieJar,
    account: AccountId,
) -> Result<CookieJar, WebError> {
    let id = jar
        .get(&cookie_name(state, DEVICE))
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty() && v.len() <= 64)
        .unwrap_or_else(new_secret);
    let days = state.inner.settings.throttle.device_days;
    let now = state.now();
    state
        .store
        .remember_device(&secret_hash(&id), account, now, now - Duration::days(days))
        .await?;
    let mut c = cookie(state, DEVICE, id);
    c.set_max_age(cookie::time::Duration::days(days));
    Ok(jar.add(c))
}

/// Forgets the session cookie.
pub(crate) fn end_session_cookie(state: &AppState, jar: CookieJar) -> CookieJar {
    jar.remove(cookie(state, SESSION, String::new()))
}

/// A `next` path to return to after signing in: only a same-origin path, never a
/// second slash or backslash at the start (browsers read `//host` and `/\\host` as
/// another site), no control characters or whitespace. Anything else is `None`.
/// What is returned is ready for a `Location` header: bytes outside printable
/// ASCII, and quotes and angle brackets, are percent-encoded.
pub fn safe_next(next: &str) -> Option<String> {
    let bytes = next.as_bytes();
    let starts_well = bytes.first() == Some(&b'/') && !matches!(bytes.get(1), Some(b'/' | b'\\'));
    let clean = !next
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\');
    (starts_well && clean && next.len() <= 2000).then(|| {
        let mut out = String::with_capacity(next.len());
        for b in next.bytes() {
            if b.is_ascii_graphic()
                && !matches!(b, b'"' | b'<' | b'>' | b'`' | b'{' | b'}' | b'|' | b'^')
            {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed() {
        for ok in ["/", "/account", "/t/iwate/staff?x=1"] {
            assert_eq!(safe_next(ok).as_deref(), Some(ok));
        }
        for bad in [
            "",
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "https://evil.example",
            "/a\nb",
            "/a\u{7f}",
            "evil",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
        // Ready for a Location header: nothing raw beyond printable ASCII.
        assert_eq!(safe_next("/ä\"x").as_deref(), Some("/%C3%A4%22x"));
    }
}
