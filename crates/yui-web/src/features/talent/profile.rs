//! The talent's profile page (`/me/profile`): one form for the profile, checked by
//! the domain's rules with every problem named, and a separate opt-in to the shared
//! pool (a deliberate choice, never a side effect of saving the profile).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use yui_domain::Locale;
use yui_domain::account::FieldError;
use yui_domain::talent::{
    Compensation, Industry, Prefecture, ProfileInput, ProjectKind, RegionTie, SUMMARY_MAX,
    SideJobPermission, Skill, WorkStyle, check_profile,
};
use yui_store::{Account, StoredProfile};

use crate::AppState;
use crate::error::PageError;
use crate::extract::{CsrfForm, Lang, SignedIn};
use crate::render::{FieldView, base_context, error_views, field_message, render};
use crate::security::csrf_token;

#[derive(Debug, Default, Deserialize)]
pub(super) struct Notice {
    saved: Option<String>,
    pool: Option<String>,
}

/// One choice of a list (an option, a checkbox or a radio button).
#[derive(Debug, Serialize)]
struct Choice {
    value: String,
    label: String,
    chosen: bool,
}

/// A group of choices with its error.
#[derive(Debug, Serialize)]
struct Group {
    name: String,
    label: String,
    error: Option<String>,
    choices: Vec<Choice>,
}

fn choices<T: Copy>(
    all: &[T],
    code: impl Fn(T) -> &'static str,
    label: impl Fn(T) -> String,
    chosen: &[String],
) -> Vec<Choice> {
    all.iter()
        .map(|v| Choice {
            value: code(*v).to_owned(),
            label: label(*v),
            chosen: chosen.iter().any(|c| c == code(*v)),
        })
        .collect()
}

/// The form's text as stored, for the page's first showing.
fn input_of(account: &Account, stored: Option<&StoredProfile>) -> ProfileInput {
    let Some(s) = stored else {
        return ProfileInput {
            display_name: account.display_name.clone(),
            work_style: WorkStyle::Either.code().to_owned(),
            compensation: Compensation::Honorarium.code().to_owned(),
            ..Default::default()
        };
    };
    let p = &s.profile;
    ProfileInput {
        display_name: p.display_name.clone(),
        kana: p.kana.clone(),
        residence: p.residence.map(Prefecture::code_text).unwrap_or_default(),
        skills: p.skills.iter().map(|s| s.code().to_owned()).collect(),
        tags: p.tags.join("、"),
        summary: p.summary.clone(),
        hours_per_month: p.hours_per_month.map(|h| h.to_string()).unwrap_or_default(),
        work_style: p.work_style.code().to_owned(),
        compensation: p.compensation.code().to_owned(),
        public_servant: p.side_job_permission.map(|_| "1".to_owned()),
        side_job_permission: p
            .side_job_permission
            .map(|s| s.code().to_owned())
            .unwrap_or_default(),
        ties: p
            .ties
            .iter()
            .map(|t| (t.kind.code().to_owned(), t.prefecture.code_text()))
            .collect(),
        industries: p.industries.iter().map(|i| i.code().to_owned()).collect(),
        project_kinds: p
            .project_kinds
            .iter()
            .map(|k| k.code().to_owned())
            .collect(),
    }
}

/// The form as a browser sends it: repeated names for the lists, one `tie_<kind>`
/// list of prefectures per kind of tie.
fn input_from(pairs: Vec<(String, String)>) -> ProfileInput {
    let mut input = ProfileInput::default();
    for (name, value) in pairs {
        match name.as_str() {
            "display_name" => input.display_name = value,
            "kana" => input.kana = value,
            "residence" => input.residence = value,
            "skills" => input.skills.push(value),
            "tags" => input.tags = value,
            "summary" => input.summary = value,
            "hours_per_month" => input.hours_per_month = value,
            "work_style" => input.work_style = value,
            "compensation" => input.compensation = value,
            "public_servant" => input.public_servant = Some(value),
            "side_job_permission" => input.side_job_permission = value,
            "industries" => input.industries.push(value),
            "project_kinds" => input.project_kinds.push(value),
            other => {
                if let Some(kind) = other.strip_prefix("tie_") {
                    input.ties.push((kind.to_owned(), value));
                }
            }
        }
    }
    input
}

#[allow(clippy::too_many_arguments)]
fn render_profile(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    account: &Account,
    input: &ProfileInput,
    stored: Option<&StoredProfile>,
    errors: &[FieldError],
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let c = &state.inner.catalogs;
    let (jar, csrf) = csrf_token(state, jar);
    let error_of = |name: &str| {
        errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| field_message(state, locale, e))
    };
    let field = |name: &'static str, ty: &'static str, value: &str, auto: &'static str| {
        FieldView::new(state, locale, name, ty, value.to_owned(), auto, errors)
    };
    let mut ctx = base_context(state, locale, Some(account), "/me/profile");
    ctx.insert("csrf", &csrf);
    ctx.insert("notice", &notice.map(|k| c.text(locale, k)));
    ctx.insert("errors", &error_views(state, locale, errors));
    ctx.insert(
        "name_field",
        &field("display_name", "text", &input.display_name, "name"),
    );
    let mut kana = field("kana", "text", &input.kana, "off");
    kana.hint = Some(c.text(locale, "kana_hint").to_owned());
    ctx.insert("kana_field", &kana);
    let mut tags = field("tags", "text", &input.tags, "off");
    tags.hint = Some(c.text(locale, "tags_hint").to_owned());
    ctx.insert("tags_field", &tags);
    let mut hours = field("hours_per_month", "number", &input.hours_per_month, "off");
    hours.hint = Some(c.text(locale, "hours_hint").to_owned());
    ctx.insert("hours_field", &hours);
    // A summary may be longer than what other fields echo, up to its own limit.
    let summary = if input.summary.chars().count() <= SUMMARY_MAX {
        input.summary.clone()
    } else {
        String::new()
    };
    ctx.insert("summary", &summary);
    ctx.insert("summary_error", &error_of("summary"));
    let residence = choices(
        &Prefecture::all().collect::<Vec<_>>(),
        |p| PREFECTURE_CODES[usize::from(p.code() - 1)],
        |p| p.name(locale).to_owned(),
        std::slice::from_ref(&input.residence),
    );
    ctx.insert(
        "residence",
        &Group {
            name: "residence".to_owned(),
            label: c.text(locale, "field_residence").to_owned(),
            error: error_of("residence"),
            choices: residence,
        },
    );
    let list = |name: &'static str, choices: Vec<Choice>| Group {
        name: name.to_owned(),
        label: c.text(locale, &format!("field_{name}")).to_owned(),
        error: error_of(name),
        choices,
    };
    let skills_group = list(
        "skills",
        choices(
            &Skill::ALL,
            Skill::code,
            |s| s.name(locale).to_owned(),
            &input.skills,
        ),
    );
    let work_style_group = list(
        "work_style",
        choices(
            WorkStyle::ALL,
            WorkStyle::code,
            |w| {
                c.text(locale, &format!("work_style_{}", w.code()))
                    .to_owned()
            },
            std::slice::from_ref(&input.work_style),
        ),
    );
    let compensation_group = list(
        "compensation",
        choices(
            Compensation::ALL,
            Compensation::code,
            |w| {
                c.text(locale, &format!("compensation_{}", w.code()))
                    .to_owned()
            },
            std::slice::from_ref(&input.compensation),
        ),
    );
    ctx.insert(
        "side_job_permission",
        &list(
            "side_job_permission",
            choices(
                SideJobPermission::ALL,
                SideJobPermission::code,
                |w| c.text(locale, &format!("side_job_{}", w.code())).to_owned(),
                std::slice::from_ref(&input.side_job_permission),
            ),
        ),
    );
    ctx.insert("public_servant", &input.public_servant.is_some());
    let industries_group = list(
        "industries",
        choices(
            Industry::ALL,
            Industry::code,
            |i| i.name(locale).to_owned(),
            &input.industries,
        ),
    );
    let project_kinds_group = list(
        "project_kinds",
        choices(
            ProjectKind::ALL,
            ProjectKind::code,
            |k| k.name(locale).to_owned(),
            &input.project_kinds,
        ),
    );
    ctx.insert(
        "check_groups",
        &[skills_group, industries_group, project_kinds_group],
    );
    ctx.insert("radio_groups", &[work_style_group, compensation_group]);
    // One list of prefectures per kind of tie.
    let ties: Vec<Group> = RegionTie::ALL
        .iter()
        .map(|kind| {
            let chosen: Vec<String> = input
                .ties
                .iter()
                .filter(|(k, _)| k == kind.code())
                .map(|(_, p)| p.clone())
                .collect();
            Group {
                // The form sends one list per kind: `tie_hometown`, `tie_fan`, …
                name: format!("tie_{}", kind.code()),
                label: c.text(locale, &format!("tie_{}", kind.code())).to_owned(),
                error: None,
                choices: choices(
                    &Prefecture::all().collect::<Vec<_>>(),
                    |p| PREFECTURE_CODES[usize::from(p.code() - 1)],
                    |p| p.name(locale).to_owned(),
                    &chosen,
                ),
            }
        })
        .collect();
    ctx.insert("ties", &ties);
    ctx.insert("ties_error", &error_of("ties"));
    ctx.insert("has_profile", &stored.is_some());
    ctx.insert(
        "in_pool",
        &stored.is_some_and(|s| s.pool_opt_in_at.is_some()),
    );
    (
        jar,
        render(state, "talent_profile.html", ctx, locale, status),
    )
        .into_response()
}

/// Two-digit codes, as the form sends them.
const PREFECTURE_CODES: [&str; 47] = [
    "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15", "16",
    "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31", "32",
    "33", "34", "35", "36", "37", "38", "39", "40", "41", "42", "43", "44", "45", "46", "47",
];

pub(super) async fn page(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(account): SignedIn,
    jar: CookieJar,
    Query(q): Query<Notice>,
) -> Result<Response, PageError> {
    let locale = lang.or(account.locale());
    let mut tx = state.store.account(account.id).read().await?;
    let stored = tx.talent_profile().await?;
    tx.commit().await?;
    let notice = match (q.saved, q.pool.as_deref()) {
        (Some(_), _) => Some("saved"),
        (None, Some("in")) => Some("pool_joined"),
        (None, Some(_)) => Some("pool_left"),
        (None, None) => None,
    };
    let input = input_of(&account, stored.as_ref());
    Ok(render_profile(
        &state,
        locale,
        jar,
        &account,
        &input,
        stored.as_ref(),
        &[],
        notice,
        StatusCode::OK,
    ))
}

pub(super) async fn save(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(account): SignedIn,
    jar: CookieJar,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let locale = lang.or(account.locale());
    let input = input_from(pairs);
    match check_profile(&input) {
        Ok(profile) => {
            let mut tx = state.store.account(account.id).write().await?;
            tx.save_talent_profile(&profile, state.now()).await?;
            tx.commit().await?;
            Ok(Redirect::to("/me/profile?saved=1").into_response())
        }
        Err(errors) => {
            let mut tx = state.store.account(account.id).read().await?;
            let stored = tx.talent_profile().await?;
            tx.commit().await?;
            Ok(render_profile(
                &state,
                locale,
                jar,
                &account,
                &input,
                stored.as_ref(),
                &errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct PoolForm {
    /// Present when the box is ticked.
    pool: Option<String>,
}

pub(super) async fn pool(
    State(state): State<AppState>,
    SignedIn(account): SignedIn,
    CsrfForm(form): CsrfForm<PoolForm>,
) -> Result<Response, PageError> {
    let opt_in = form.pool.is_some();
    let mut tx = state.store.account(account.id).write().await?;
    match tx.set_pool_opt_in(opt_in, state.now()).await {
        // No profile yet: nothing to share; the page says to save one first.
        Err(yui_store::StoreError::NotFound) => {
            tx.rollback().await?;
            return Ok(Redirect::to("/me/profile").into_response());
        }
        other => other?,
    }
    tx.commit().await?;
    let to = if opt_in { "in" } else { "out" };
    Ok(Redirect::to(&format!("/me/profile?pool={to}")).into_response())
}
