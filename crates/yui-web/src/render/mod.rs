//! Rendering pages: the templates compiled into the binary, the context every page
//! needs, the plain message page, and the pieces of forms (labelled fields, the error
//! summary) in the person's language.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;
use tera::Context;
use yui_domain::Locale;
use yui_domain::account::{FieldError, Problem};
use yui_store::Account;

pub(crate) mod csv;
pub(crate) mod failures;
pub(crate) mod messages;

use crate::AppState;
use crate::extract::Viewer;

/// Templates every feature uses.
pub(crate) const SHARED_TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("message.html", include_str!("templates/message.html")),
    ("form_field.html", include_str!("templates/form_field.html")),
    (
        "error_summary.html",
        include_str!("templates/error_summary.html"),
    ),
];

/// What the header shows of the signed-in account.
#[derive(Debug, Serialize)]
pub struct MeView {
    pub display_name: String,
}

/// Context every page needs: language, the switch to the other language, and who is
/// signed in (for the header). [`render`] adds the messages of the template it renders.
pub(crate) fn base_context(
    state: &AppState,
    locale: Locale,
    viewer: Option<&Account>,
    path: &str,
) -> Context {
    let other = match locale {
        Locale::Ja => Locale::En,
        Locale::En => Locale::Ja,
    };
    let next: String = form_urlencoded::byte_serialize(path.as_bytes()).collect();
    let mut ctx = Context::new();
    ctx.insert("lang", locale.tag());
    ctx.insert("other_lang", other.tag());
    ctx.insert("css_href", &state.inner.assets.css_href());
    ctx.insert("switch_href", &format!("/lang/{}?next={next}", other.tag()));
    if let Some(a) = viewer {
        let name = if a.display_name.is_empty() {
            a.email.clone()
        } else {
            a.display_name.clone()
        };
        ctx.insert("me", &MeView { display_name: name });
    }
    ctx
}

pub(crate) fn render(
    state: &AppState,
    template: &str,
    mut ctx: Context,
    locale: Locale,
    status: StatusCode,
) -> Response {
    ctx.insert("t", state.inner.messages.get(template, locale));
    match state.inner.tera.render(template, &ctx) {
        Ok(body) => {
            let mut res = (status, Html(body)).into_response();
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_LANGUAGE,
                HeaderValue::from_static(locale.tag()),
            );
            // The language comes from the cookie or Accept-Language: caches must key on both.
            h.insert(
                header::VARY,
                HeaderValue::from_static("Accept-Language, Cookie"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            res
        }
        Err(e) => {
            tracing::error!(error = ?e, template, "page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html("<!DOCTYPE html><title>500</title><h1>500</h1>"),
            )
                .into_response()
        }
    }
}

/// A page with a heading and one paragraph, for 404, 503 and the like.
pub(crate) fn message_page(
    state: &AppState,
    locale: Locale,
    viewer: Option<&Viewer>,
    status: StatusCode,
    heading: &str,
    body: &str,
) -> Response {
    let c = &state.inner.catalogs;
    let mut ctx = base_context(state, locale, viewer.and_then(|v| v.0.as_ref()), "/");
    ctx.insert("heading", c.text(locale, heading));
    ctx.insert("body", c.text(locale, body));
    render(state, "message.html", ctx, locale, status)
}

/// A field error as a sentence in the user's language.
pub(crate) fn field_message(state: &AppState, locale: Locale, e: &FieldError) -> String {
    let label = state
        .inner
        .catalogs
        .text(locale, &format!("field_{}", e.field))
        .to_owned();
    labelled_message(state, locale, &label, e.problem)
}

/// A field's problem as a sentence naming the field by `label`.
pub(crate) fn labelled_message(
    state: &AppState,
    locale: Locale,
    label: &str,
    problem: Problem,
) -> String {
    let c = &state.inner.catalogs;
    let text = match problem {
        Problem::Required => c.text(locale, "err_required").to_owned(),
        Problem::InvalidEmail => c.text(locale, "err_invalid_email").to_owned(),
        Problem::TooShort { min } => c
            .text(locale, "err_too_short")
            .replace("{n}", &min.to_string()),
        Problem::TooLong { max } => c
            .text(locale, "err_too_long")
            .replace("{n}", &max.to_string()),
        Problem::PasswordIsEmail => c.text(locale, "err_password_is_email").to_owned(),
        Problem::Mismatch => c.text(locale, "err_mismatch").to_owned(),
        Problem::AlreadyRegistered => c.text(locale, "err_already_registered").to_owned(),
        Problem::InvalidDate => c.text(locale, "err_invalid_date").to_owned(),
        Problem::DateInPast => c.text(locale, "err_date_in_past").to_owned(),
        Problem::InvalidChoice => c.text(locale, "err_invalid_choice").to_owned(),
        Problem::OutOfRange { min, max } => c
            .text(locale, "err_out_of_range")
            .replace("{min}", &min.to_string())
            .replace("{max}", &max.to_string()),
        Problem::TooMany { max } => c
            .text(locale, "err_too_many")
            .replace("{n}", &max.to_string()),
        Problem::InvalidUrl => c.text(locale, "err_invalid_url").to_owned(),
        Problem::Taken => c.text(locale, "err_taken").to_owned(),
        Problem::NotKana => c.text(locale, "err_not_kana").to_owned(),
        Problem::DateOutOfRange => c.text(locale, "err_date_out_of_range").to_owned(),
        Problem::OutOfOrder => c.text(locale, "err_out_of_order").to_owned(),
        Problem::OnlyForPublicServants => c.text(locale, "err_only_for_public_servants").to_owned(),
        Problem::LineBreak => c.text(locale, "err_line_break").to_owned(),
        Problem::FileTooLarge { max_mb } => c
            .text(locale, "err_file_too_large")
            .replace("{n}", &max_mb.to_string()),
        Problem::NotAnImage => c.text(locale, "err_not_an_image").to_owned(),
        Problem::MonthOutsideEngagement => {
            c.text(locale, "err_month_outside_engagement").to_owned()
        }
        Problem::AlreadyEngaged => c.text(locale, "err_already_engaged").to_owned(),
        Problem::NotHiragana => c.text(locale, "err_not_hiragana").to_owned(),
        Problem::NotAColour => c.text(locale, "err_not_a_colour").to_owned(),
        Problem::LowContrast { hundredths } => c.text(locale, "err_low_contrast").replace(
            "{ratio}",
            &format!("{}.{:02}", hundredths / 100, hundredths % 100),
        ),
        Problem::FileTooLargeKb { max_kb } => c
            .text(locale, "err_file_too_large_kb")
            .replace("{n}", &max_kb.to_string()),
        Problem::NotALogo => c.text(locale, "err_not_a_logo").to_owned(),
        Problem::UnsafeSvg => c.text(locale, "err_unsafe_svg").to_owned(),
        Problem::FactLine => c.text(locale, "err_fact_line").to_owned(),
        Problem::InvalidSlug => c.text(locale, "err_invalid_slug").to_owned(),
        Problem::UnknownLocalGov => c.text(locale, "err_unknown_local_gov").to_owned(),
        Problem::TooFewMembers { min } => c
            .text(locale, "err_too_few_members")
            .replace("{n}", &min.to_string()),
    };
    let sep = if locale == Locale::Ja { "：" } else { ": " };
    format!("{label}{sep}{text}")
}

/// The longest input a page sends back into its form, in characters: the longest
/// e-mail address there can be (RFC 5321), longer than any valid field of ours.
pub(crate) const ECHO_MAX_CHARS: usize = 254;

/// What a form shows again of what was sent: the value itself, or nothing when it
/// is longer than [`ECHO_MAX_CHARS`]. Such a value is invalid anyway and its field
/// error says so; echoing it would turn a megabyte posted into a megabyte page
/// (and a reflection amplifier). Only that field is emptied; the others keep what
/// was typed.
pub(crate) fn echo(value: String) -> String {
    // Bytes bound characters from above: most values are decided without counting.
    if value.len() <= ECHO_MAX_CHARS || value.chars().nth(ECHO_MAX_CHARS).is_none() {
        value
    } else {
        String::new()
    }
}

/// One labelled input as the `form_field.html` template shows it.
#[derive(Serialize)]
pub(crate) struct FieldView {
    pub name: &'static str,
    pub label: String,
    pub r#type: &'static str,
    pub value: String,
    pub error: Option<String>,
    pub autocomplete: &'static str,
    pub hint: Option<String>,
}

impl FieldView {
    /// An input named `name`, labelled by the message `field_<name>`, with its error
    /// (if `errors` has one for it) in the user's language. An over-long `value` is
    /// not shown again (see [`echo`]).
    pub(crate) fn new(
        state: &AppState,
        locale: Locale,
        name: &'static str,
        r#type: &'static str,
        value: String,
        autocomplete: &'static str,
        errors: &[FieldError],
    ) -> FieldView {
        FieldView {
            name,
            label: state
                .inner
                .catalogs
                .text(locale, &format!("field_{name}"))
                .to_owned(),
            r#type,
            value: echo(value),
            error: errors
                .iter()
                .find(|e| e.field == name)
                .map(|e| field_message(state, locale, e)),
            autocomplete,
            hint: None,
        }
    }
}

/// A form's errors for the summary at its top, each linking to its field.
#[derive(Serialize)]
pub(crate) struct ErrorView {
    field: &'static str,
    message: String,
}

pub(crate) fn error_views(
    state: &AppState,
    locale: Locale,
    errors: &[FieldError],
) -> Vec<ErrorView> {
    errors
        .iter()
        .map(|e| ErrorView {
            field: e.field,
            message: field_message(state, locale, e),
        })
        .collect()
}

/// A date as people read it: 2027年3月31日 in Japanese, 31 March 2027 in English.
pub(crate) fn date_text(locale: Locale, date: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    match locale {
        Locale::Ja => format!("{}年{}月{}日", date.year(), date.month(), date.day()),
        Locale::En => date.format("%-d %B %Y").to_string(),
    }
}

/// A date that ends something official (a role's last day): in Japanese also in
/// the era calendar, 2027年3月31日（令和9年3月31日）, as civil servants write it.
pub(crate) fn official_date_text(locale: Locale, date: chrono::NaiveDate) -> String {
    let plain = date_text(locale, date);
    match (locale, yui_domain::fiscal::reiwa_date(date)) {
        (Locale::Ja, Some(era)) => format!("{plain}（{era}）"),
        _ => plain,
    }
}

/// A time of day with its date, in Japan time.
pub(crate) fn datetime_text(locale: Locale, at: chrono::DateTime<chrono::Utc>) -> String {
    let local = at.with_timezone(&yui_domain::fiscal::tokyo());
    format!(
        "{} {}",
        date_text(locale, local.date_naive()),
        local.format("%H:%M")
    )
}
