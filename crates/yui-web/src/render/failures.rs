//! Failed page responses become the HTML error page in the person's language.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;
use crate::error::{ApiErrorBody, PageFailure};
use crate::extract::{Lang, Viewer};

/// Renders every failed page response as the HTML error page in the person's
/// language, with the header they would see on any page: handler errors, and
/// axum's own rejections (a path id that is not a number, a malformed form), which
/// otherwise answer plain text. The JSON API and the probes answer as they are.
pub(crate) async fn render_failures(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_owned();
    let (parts, body) = req.into_parts();
    let lang = Lang::from_parts(&parts);
    let viewer_parts = parts.clone();
    let res = next.run(Request::from_parts(parts, body)).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    if is_machine_path(&path) {
        return machine_failure(res);
    }
    let failure = match res.extensions().get::<PageFailure>() {
        Some(f) => *f,
        None => {
            let is_html = res
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/html"));
            if is_html {
                return res;
            }
            PageFailure::of(status, "")
        }
    };
    let viewer = Viewer::from_parts(&viewer_parts, &state).await.ok();
    let locale = lang.or(yui_domain::Locale::Ja);
    let mut page = super::message_page(
        &state,
        locale,
        viewer.as_ref(),
        status,
        failure.heading,
        failure.body,
    );
    // Keep what the handler said about the answer (cookies, retry hints).
    for (name, value) in res.headers() {
        if name == header::SET_COOKIE || name == header::RETRY_AFTER || name == header::LOCATION {
            page.headers_mut().append(name, value.clone());
        }
    }
    page
}

/// Answers meant for programs, not people.
fn is_machine_path(path: &str) -> bool {
    path.starts_with("/api/") || path == "/healthz" || path == "/readyz" || path == "/metrics"
}

/// A failed answer to a program: JSON as the API promises, whatever produced it
/// (an unknown `/api/` path, a wrong method, a path that is not UTF-8).
fn machine_failure(res: Response) -> Response {
    use axum::response::IntoResponse;
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return res;
    }
    let status = res.status();
    let code = match status.as_u16() {
        404 => "not_found",
        405 => "method_not_allowed",
        503 => "unavailable",
        s if s >= 500 => "internal",
        _ => "bad_request",
    };
    let message = status.canonical_reason().unwrap_or("Error");
    (status, axum::Json(ApiErrorBody::new(code, message))).into_response()
}
