//! Static assets compiled into the binary, served under a content-hashed name so
//! they can be cached for a year.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::{AppState, pages};

const STYLE_CSS: &str = include_str!("../static/style.css");

/// Cache headers for content whose URL changes whenever its bytes do.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

#[derive(Debug)]
pub struct Assets {
    /// e.g. `style.3f2a9c1d.css`
    css_name: String,
}

impl Assets {
    pub fn new() -> Assets {
        Assets {
            css_name: format!("style.{:08x}.css", fingerprint(STYLE_CSS.as_bytes())),
        }
    }

    pub fn css_href(&self) -> String {
        format!("/static/{}", self.css_name)
    }
}

/// A short content fingerprint (FNV-1a, folded to 32 bits): it only has to change
/// when the file does, not resist attackers.
pub fn fingerprint(bytes: &[u8]) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h ^ (h >> 32)) as u32
}

pub fn router() -> Router<AppState> {
    Router::new().route("/static/{file}", get(static_file))
}

async fn static_file(
    State(state): State<AppState>,
    Path(file): Path<String>,
    lang: crate::i18n::Lang,
) -> Response {
    if file == state.inner.assets.css_name {
        (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/css; charset=utf-8"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE)),
            ],
            STYLE_CSS,
        )
            .into_response()
    } else {
        pages::not_found_page(&state, lang).await
    }
}
