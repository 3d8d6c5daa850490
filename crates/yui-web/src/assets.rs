//! Static assets compiled into the binary, served under a content-hashed name so
//! they can be cached for a year.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::PageError;
use crate::{AppState, WebError};

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

/// The site's icon: the 結 mark. Browsers ask for `/favicon.ico` on every page.
const FAVICON_SVG: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 32 32\"><rect width=\"32\" height=\"32\" rx=\"6\" fill=\"#1d4e89\"/><text x=\"16\" y=\"23\" font-size=\"20\" text-anchor=\"middle\" fill=\"#fff\">結</text></svg>";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/static/{file}", get(static_file))
        .route("/favicon.ico", get(favicon))
}

async fn favicon() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("image/svg+xml"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            ),
        ],
        FAVICON_SVG,
    )
        .into_response()
}

async fn static_file(State(state): State<AppState>, Path(file): Path<String>) -> Response {
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
        PageError(WebError::NotFound).into_response()
    }
}
