//! The coordinator's pages: the list, writing a case about an engagement, editing
//! it, its photos (a multipart form, no script), and the status buttons.

use axum::Router;
use axum::extract::multipart::{Multipart, MultipartError};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use yui_domain::Locale;
use yui_domain::account::{FieldError, Problem};
use yui_domain::case_study::{
    ALT_MAX, CaseStatus, CaseStudyInput, PHOTO_MAX_BYTES, PHOTOS_MAX, PhotoUpload, SECTION_MAX,
    TITLE_MAX, check_case_study, check_photo,
};
use yui_domain::ids::{CaseStudyId, EngagementId};
use yui_store::{CaseStudy, PhotoAdded};

use super::{case_id, status_label, text, view};
use crate::error::PageError;
use crate::extract::{CaseStudyManage, CsrfForm, CsrfOnly, Lang, Staff};
use crate::features::hosts::form::{Builder, Input, Kind, error_lines};
use crate::render::{base_context, render};
use crate::security::{csrf_ok, csrf_token};
use crate::{AppState, WebError};

/// The most an upload request may carry: a photo at its limit with room to spare,
/// so that a photo somewhat too large is read to its end and answered with the
/// form and its error, not cut off mid-request.
const UPLOAD_BODY_MAX: usize = 4 * PHOTO_MAX_BYTES;

pub(super) fn router() -> Router<AppState> {
    use axum::routing::{get, post};
    Router::new()
        .route("/t/{slug}/case-studies", get(list))
        .route("/t/{slug}/case-studies/new", get(new_page).post(create))
        .route("/t/{slug}/case-studies/{id}", get(page).post(edit))
        .route("/t/{slug}/case-studies/{id}/status", post(move_status))
        .route(
            "/t/{slug}/case-studies/{id}/photos",
            post(upload).layer(DefaultBodyLimit::max(UPLOAD_BODY_MAX)),
        )
        .route(
            "/t/{slug}/case-studies/{id}/photos/{photo}/delete",
            post(remove_photo),
        )
}

#[derive(Debug, Default, Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

fn inputs(
    state: &AppState,
    locale: Locale,
    i: &CaseStudyInput,
    errors: &[FieldError],
) -> Vec<Input> {
    let b = Builder {
        state,
        locale,
        errors,
    };
    let mut out = vec![
        b.input("title_ja", Kind::Text, &i.title_ja, TITLE_MAX, true),
        b.input("title_en", Kind::Text, &i.title_en, TITLE_MAX, false),
    ];
    for (name_ja, name_en, ja, en) in [
        ("overview_ja", "overview_en", &i.overview_ja, &i.overview_en),
        (
            "challenge_ja",
            "challenge_en",
            &i.challenge_ja,
            &i.challenge_en,
        ),
        (
            "talent_skills_ja",
            "talent_skills_en",
            &i.talent_skills_ja,
            &i.talent_skills_en,
        ),
        ("proposal_ja", "proposal_en", &i.proposal_ja, &i.proposal_en),
        ("outcome_ja", "outcome_en", &i.outcome_ja, &i.outcome_en),
    ] {
        out.push(b.input(name_ja, Kind::Textarea, ja, SECTION_MAX, true));
        out.push(b.input(name_en, Kind::Textarea, en, SECTION_MAX, false));
    }
    out
}

#[derive(Debug, serde::Serialize)]
struct Row {
    id: i64,
    title: String,
    host: String,
    talent: String,
    status_label: String,
    updated: String,
}

async fn list(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<CaseStudyManage>,
) -> Result<Response, PageError> {
    let tenant = &staff.tenant;
    let locale = lang.or(tenant.record.tenant.default_locale);
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let cases = tx.case_studies().await?;
    tx.commit().await?;
    let rows: Vec<Row> = cases
        .iter()
        .map(|c| Row {
            id: c.id.get(),
            title: c.title_ja.clone(),
            host: c.host_name.clone(),
            talent: super::talent_name(&state, locale, c),
            status_label: status_label(&state, locale, c.status()),
            updated: crate::render::datetime_text(locale, c.updated_at),
        })
        .collect();
    let slug = tenant.slug();
    let mut ctx = base_context(
        &state,
        locale,
        Some(&staff.account),
        &format!("/t/{slug}/case-studies"),
    );
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    ctx.insert("cases", &rows);
    Ok(render(&state, "cs_list.html", ctx, locale, StatusCode::OK))
}

/// The new-case form as typed: the engagement and the texts.
#[derive(Debug, Default, Deserialize)]
struct NewForm {
    #[serde(default)]
    engagement: String,
    #[serde(flatten)]
    input: CaseStudyInput,
}

async fn render_new(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    staff: &Staff<CaseStudyManage>,
    form: &NewForm,
    errors: &[FieldError],
    status: StatusCode,
) -> Result<Response, PageError> {
    let tenant = &staff.tenant;
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let engagements = tx.case_engagements().await?;
    tx.commit().await?;
    let b = Builder {
        state,
        locale,
        errors,
    };
    let mut options = vec![(String::new(), text(state, locale, "cs_choose_engagement"))];
    options.extend(engagements.iter().map(|e| {
        (
            e.id.to_string(),
            format!("{} — {}（{}）", e.host_name, e.project_title, e.talent_name),
        )
    }));
    let mut fields = vec![b.choices(
        "engagement",
        Kind::Select,
        options,
        std::slice::from_ref(&form.engagement),
        true,
    )];
    fields.extend(inputs(state, locale, &form.input, errors));
    let slug = tenant.slug();
    let path = format!("/t/{slug}/case-studies/new");
    let (jar, csrf) = csrf_token(state, jar);
    let mut ctx = base_context(state, locale, Some(&staff.account), &path);
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    ctx.insert("action", &path);
    ctx.insert("csrf", &csrf);
    ctx.insert("inputs", &fields);
    ctx.insert("no_engagements", &engagements.is_empty());
    ctx.insert("errors", &error_lines(state, locale, errors));
    Ok((jar, render(state, "cs_new.html", ctx, locale, status)).into_response())
}

async fn new_page(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<CaseStudyManage>,
    jar: CookieJar,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    render_new(
        &state,
        locale,
        jar,
        &staff,
        &NewForm::default(),
        &[],
        StatusCode::OK,
    )
    .await
}

async fn create(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<CaseStudyManage>,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<NewForm>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let engagement = form.engagement.trim().parse::<EngagementId>().ok();
    let checked = check_case_study(&form.input);
    let mut errors = Vec::new();
    if engagement.is_none() {
        errors.push(FieldError {
            field: "engagement",
            problem: Problem::Required,
        });
    }
    let (Some(engagement), Ok(fields)) = (engagement, &checked) else {
        errors.extend(checked.err().unwrap_or_default());
        return render_new(
            &state,
            locale,
            jar,
            &staff,
            &form,
            &errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    let Some(id) = tx
        .create_case_study(engagement, fields, staff.account.id, state.now())
        .await?
    else {
        // Another tenant's engagement, or one that is gone: the select offered it not.
        tx.rollback().await?;
        let errors = [FieldError {
            field: "engagement",
            problem: Problem::InvalidChoice,
        }];
        return render_new(
            &state,
            locale,
            jar,
            &staff,
            &form,
            &errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/t/{}/case-studies/{id}?done=created",
        staff.tenant.slug()
    ))
    .into_response())
}

/// What the coordinator's page of a case shows besides the stored case.
#[derive(Default)]
struct PageState<'a> {
    input: Option<&'a CaseStudyInput>,
    errors: Vec<FieldError>,
    photo_errors: Vec<FieldError>,
    alt: String,
    notice: Option<String>,
}

async fn load(
    state: &AppState,
    staff: &Staff<CaseStudyManage>,
    id: CaseStudyId,
) -> Result<(CaseStudy, Vec<yui_store::CasePhoto>), PageError> {
    let mut tx = state.store.tenant(staff.tenant.id).read().await?;
    let case = tx.case_study(id).await?;
    let photos = match &case {
        Some(_) => tx.case_photos(id).await?,
        None => Vec::new(),
    };
    tx.commit().await?;
    let case = case.ok_or(WebError::NotFound)?;
    Ok((case, photos))
}

async fn render_page(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    staff: &Staff<CaseStudyManage>,
    id: CaseStudyId,
    ps: PageState<'_>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let (case, photos) = load(state, staff, id).await?;
    let tenant = &staff.tenant;
    let slug = tenant.slug();
    let stored = CaseStudyInput::of(&case.fields());
    let input = ps.input.unwrap_or(&stored);
    let path = format!("/t/{slug}/case-studies/{id}");
    let (jar, csrf) = csrf_token(state, jar);
    let b = Builder {
        state,
        locale,
        errors: &ps.photo_errors,
    };
    let photo_inputs = vec![
        b.input("alt", Kind::Text, &ps.alt, ALT_MAX, true),
        b.hint(b.input("photo", Kind::Text, "", 0, true), "cs_photo_hint"),
    ];
    let current = case.status();
    let both = case.talent_approved_at.is_some() && case.host_approved_at.is_some();
    let moves: Vec<(&str, String)> = [
        CaseStatus::AwaitingApproval,
        CaseStatus::Public,
        CaseStatus::Withdrawn,
    ]
    .into_iter()
    .filter(|to| current.can_move_to(*to) && (*to != CaseStatus::Public || both))
    .map(|to| {
        (
            to.as_str(),
            text(state, locale, &format!("cs_move_{}", to.as_str())),
        )
    })
    .collect();
    let mut all_errors = error_lines(state, locale, &ps.errors);
    all_errors.extend(error_lines(state, locale, &ps.photo_errors));
    let mut ctx = base_context(state, locale, Some(&staff.account), &path);
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    ctx.insert("case", &view(state, locale, tenant, &case, &photos));
    ctx.insert("action", &path);
    ctx.insert("csrf", &csrf);
    ctx.insert("inputs", &inputs(state, locale, input, &ps.errors));
    ctx.insert("photo_inputs", &photo_inputs);
    ctx.insert("photo_room", &(photos.len() < PHOTOS_MAX));
    ctx.insert("photos_max", &PHOTOS_MAX);
    ctx.insert("moves", &moves);
    ctx.insert("errors", &all_errors);
    ctx.insert("notice", &ps.notice);
    ctx.insert(
        "public_href",
        &(current == CaseStatus::Public).then(|| format!("/t/{slug}/cases/{id}")),
    );
    Ok((jar, render(state, "cs_manage.html", ctx, locale, status)).into_response())
}

async fn page(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<CaseStudyManage>,
    jar: CookieJar,
    Path((_, id)): Path<(String, String)>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let id = case_id(&id)?;
    let notice = match q.done.as_deref() {
        Some(
            done @ ("created" | "saved" | "photo_added" | "photo_removed" | "awaiting_approval"
            | "public" | "withdrawn"),
        ) => Some(text(&state, locale, &format!("cs_done_{done}"))),
        Some("stale") => Some(text(&state, locale, "cs_stale")),
        _ => None,
    };
    let ps = PageState {
        notice,
        ..Default::default()
    };
    render_page(&state, locale, jar, &staff, id, ps, StatusCode::OK).await
}

async fn edit(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<CaseStudyManage>,
    jar: CookieJar,
    Path((_, id)): Path<(String, String)>,
    CsrfForm(input): CsrfForm<CaseStudyInput>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let id = case_id(&id)?;
    let fields = match check_case_study(&input) {
        Ok(f) => f,
        Err(errors) => {
            let ps = PageState {
                input: Some(&input),
                errors,
                ..Default::default()
            };
            return render_page(
                &state,
                locale,
                jar,
                &staff,
                id,
                ps,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    if !tx.edit_case_study(id, &fields, state.now()).await? {
        tx.rollback().await?;
        return Err(WebError::NotFound.into());
    }
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/t/{}/case-studies/{id}?done=saved",
        staff.tenant.slug()
    ))
    .into_response())
}

#[derive(Debug, Deserialize)]
struct MoveForm {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

async fn move_status(
    State(state): State<AppState>,
    staff: Staff<CaseStudyManage>,
    Path((_, id)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<MoveForm>,
) -> Result<Response, PageError> {
    let id = case_id(&id)?;
    let (Some(from), Some(to)) = (CaseStatus::parse(&form.from), CaseStatus::parse(&form.to))
    else {
        return Err(WebError::BadRequest("unknown status".into()).into());
    };
    let now = state.now();
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    let Some(case) = tx.case_study(id).await? else {
        tx.rollback().await?;
        return Err(WebError::NotFound.into());
    };
    let moved = tx.move_case_study(id, from, to, now).await?;
    if moved && to == CaseStatus::AwaitingApproval {
        // In the moving transaction: the sides are asked once per submission for
        // approval, however often the button is pressed.
        if let Err(e) = ask_for_approval(&state, &mut tx, &staff, &case, now).await {
            tx.rollback().await?;
            return Err(e.into());
        }
    }
    tx.commit().await?;
    // A case moved by someone else in between (or an approval withdrawn by an
    // edit) is said so on the page rather than done anyway.
    let done = if moved { to.as_str() } else { "stale" };
    Ok(Redirect::to(&format!(
        "/t/{}/case-studies/{id}?done={done}",
        staff.tenant.slug()
    ))
    .into_response())
}

/// Mails the talent and the host's members that the case awaits their approval.
async fn ask_for_approval(
    state: &AppState,
    tx: &mut yui_store::TenantTx,
    staff: &Staff<CaseStudyManage>,
    case: &CaseStudy,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), WebError> {
    let tenant = &staff.tenant;
    let mail_tenant = yui_mail::MailTenant::from_tenant(tenant.id, &tenant.record.tenant);
    let link = state.link(&format!(
        "/t/{}/case-studies/{}/review",
        tenant.slug(),
        case.id
    ));
    for r in tx.case_reviewers(case.id).await? {
        let locale = Locale::parse(&r.locale).unwrap_or(tenant.record.tenant.default_locale);
        let title = match locale {
            Locale::En if !case.title_en.is_empty() => &case.title_en,
            _ => &case.title_ja,
        };
        let mail = yui_mail::NewMail {
            tenant: Some(mail_tenant.clone()),
            to: r.email.clone(),
            locale,
            kind: yui_mail::MailKind::CaseAwaitingApproval,
            vars: serde_json::json!({
                "display_name": r.display_name,
                "case_title": title,
                "link": link,
            }),
            attachment: None,
        };
        match state.inner.outbox.enqueue(tx, &mail, now).await {
            Ok(_) => {}
            // An address the mail system refuses must not stop the case.
            Err(yui_mail::MailError::Address(_)) => {
                tracing::warn!(
                    account = r.account_id.get(),
                    "case approval mail: address refused"
                );
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// An upload as read from its multipart body.
#[derive(Default)]
struct Upload {
    csrf: String,
    alt: String,
    bytes: Vec<u8>,
    too_large: bool,
    /// The request passed even [`UPLOAD_BODY_MAX`] and was not read to its end.
    cut_off: bool,
}

/// Reads the upload form. The photo is read to its end but kept only up to the
/// limit: the rest is counted and dropped, so a large file costs no memory and
/// still gets its answer as a page. A request past even the body limit keeps what
/// came before the cut (the alt text) for the page.
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
        let name = field.name().map(str::to_owned);
        match name.as_deref() {
            Some("csrf") => up.csrf = field.text().await?,
            Some("alt") => {
                let alt = field.text().await?;
                up.alt = alt.chars().take(ALT_MAX + 1).collect();
            }
            Some("photo") => {
                while let Some(chunk) = field.chunk().await? {
                    if up.too_large || up.bytes.len() + chunk.len() > PHOTO_MAX_BYTES {
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

async fn upload(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<CaseStudyManage>,
    jar: CookieJar,
    Path((_, id)): Path<(String, String)>,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let id = case_id(&id)?;
    let up = read_upload(multipart)
        .await
        .map_err(|e| WebError::BadRequest(e.body_text()))?;
    // A request cut off may not have reached its token; it stores nothing, and the
    // page it gets changes nothing.
    if !up.cut_off && !csrf_ok(&state, &jar, &up.csrf) {
        return Err(WebError::Csrf.into());
    }
    let (_, photos) = load(&state, &staff, id).await?;
    let checked = check_photo(PhotoUpload {
        bytes: (!up.too_large).then_some(up.bytes),
        alt: up.alt.clone(),
        existing: photos.len(),
    });
    let refuse = |errors: Vec<FieldError>| PageState {
        photo_errors: errors,
        alt: up.alt.clone(),
        ..Default::default()
    };
    let photo = match checked {
        Ok(p) => p,
        Err(errors) => {
            let mut res = render_page(
                &state,
                locale,
                jar,
                &staff,
                id,
                refuse(errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await?;
            if up.cut_off {
                // The rest of the body is still on its way: the connection cannot
                // carry another request, and the browser must not try.
                res.headers_mut().insert(
                    axum::http::header::CONNECTION,
                    axum::http::HeaderValue::from_static("close"),
                );
            }
            return Ok(res);
        }
    };
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    match tx
        .add_case_photo(id, &photo, PHOTOS_MAX, state.now())
        .await?
    {
        PhotoAdded::Added(_) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!(
                "/t/{}/case-studies/{id}?done=photo_added",
                staff.tenant.slug()
            ))
            .into_response())
        }
        PhotoAdded::Full => {
            tx.rollback().await?;
            let errors = vec![FieldError {
                field: "photo",
                problem: Problem::TooMany { max: PHOTOS_MAX },
            }];
            render_page(
                &state,
                locale,
                jar,
                &staff,
                id,
                refuse(errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

async fn remove_photo(
    State(state): State<AppState>,
    staff: Staff<CaseStudyManage>,
    Path((_, id, photo)): Path<(String, String, String)>,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let id = case_id(&id)?;
    let photo: i64 = photo.parse().map_err(|_| WebError::NotFound)?;
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    if !tx.remove_case_photo(id, photo, state.now()).await? {
        tx.rollback().await?;
        return Err(WebError::NotFound.into());
    }
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/t/{}/case-studies/{id}?done=photo_removed",
        staff.tenant.slug()
    ))
    .into_response())
}
