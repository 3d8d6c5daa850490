//! The logo upload on the branding page: a multipart form, no script. The file is
//! read up to the logo's limit and checked by its bytes — a PNG by its signature, an
//! SVG by parsing it — whatever its name or declared type say.

use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartError};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum_extra::extract::CookieJar;
use yui_domain::account::FieldError;
use yui_domain::settings::{
    BrandingForm, LOGO_MAX_BYTES, LogoRule, SettingsSection, check_logo, with_logo,
};

use super::sections::branding_extra;
use super::{Change, Group, Inputs, SectionPage, commit_section, render_section};
use crate::error::PageError;
use crate::extract::{ClientIp, Lang, Staff, TenantConfigure};
use crate::security::csrf_ok;
use crate::{AppState, WebError};

/// An upload as read from its multipart body.
#[derive(Default)]
struct Upload {
    csrf: String,
    bytes: Vec<u8>,
    too_large: bool,
    /// The request passed even the body limit and was not read to its end.
    cut_off: bool,
}

async fn read_upload(mut multipart: Multipart) -> Result<Upload, MultipartError> {
    let mut up = Upload::default();
    match read_fields(&mut multipart, &mut up).await {
        Ok(()) => Ok(up),
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            up.too_large = true;
            up.cut_off = true;
            up.bytes = Vec::new();
            Ok(up)
        }
        Err(e) => Err(e),
    }
}

async fn read_fields(multipart: &mut Multipart, up: &mut Upload) -> Result<(), MultipartError> {
    while let Some(mut field) = multipart.next_field().await? {
        match field.name() {
            Some("csrf") => up.csrf = field.text().await?,
            Some("logo") => {
                // Kept only up to the limit: the rest is read and dropped, so a large
                // file costs no memory and still gets its answer as a page.
                while let Some(chunk) = field.chunk().await? {
                    if up.too_large || up.bytes.len() + chunk.len() > LOGO_MAX_BYTES {
                        up.too_large = true;
                        up.bytes = Vec::new();
                    } else {
                        up.bytes.extend_from_slice(&chunk);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

pub(super) async fn upload(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<TenantConfigure>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let up = read_upload(multipart)
        .await
        .map_err(|e| WebError::BadRequest(e.body_text()))?;
    // A request cut off may not have reached its token: it stores nothing, and the
    // page it gets changes nothing.
    if !up.cut_off && !csrf_ok(&state, &jar, &up.csrf) {
        return Err(WebError::Csrf.into());
    }
    let checked = if up.too_large {
        Err(LogoRule::TooLarge)
    } else {
        check_logo(&up.bytes)
    };
    let logo = match checked {
        Ok(logo) => logo,
        Err(rule) => {
            let error = FieldError {
                field: "logo",
                problem: rule.problem(),
            };
            let t = &staff.tenant.record.tenant;
            let inputs = Inputs {
                state: &state,
                locale,
                errors: &[],
            };
            let form = BrandingForm::of(t);
            let groups = vec![Group {
                legend: None,
                fields: vec![
                    inputs.field("primary", "text", &form.primary, 7),
                    inputs.field("accent", "text", &form.accent, 7),
                ],
            }];
            let summary = Inputs {
                state: &state,
                locale,
                errors: std::slice::from_ref(&error),
            }
            .summary();
            let extra = branding_extra(
                &state,
                locale,
                t,
                staff.tenant.record.updated_at.timestamp(),
                Some(&error),
            );
            let mut res = render_section(
                &state,
                locale,
                jar,
                &staff,
                SectionPage {
                    section: SettingsSection::Branding,
                    groups,
                    summary,
                    notice: None,
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    extra,
                },
            );
            if up.cut_off {
                // The rest of the body is still on its way: the connection cannot
                // carry another request, and the browser must not try.
                res.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            return Ok(res);
        }
    };
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    let current = tx.settings_for_update().await?;
    let after = with_logo(&current, &logo);
    commit_section(
        &state,
        &staff,
        ip,
        tx,
        Change {
            section: SettingsSection::Branding,
            before: &current,
            after: &after,
            logo: Some(&logo),
        },
    )
    .await
}
