//! Newsletters (関係人口のコミュニティ化): a tenant's staff write to the members who
//! opted in (`/t/{slug}/newsletters`), members opt in or out on their region page
//! (`/t/{slug}/me/newsletter`), and anyone holding a newsletter's link unsubscribes
//! without signing in (`/t/{slug}/unsubscribe/{token}`, also RFC 8058's one-click
//! POST from mail clients).
//!
//! A send is one tenant transaction: the newsletter (unique by the form's send key,
//! so a form posted twice sends once), one outbox mail per recipient scheduled at
//! the tenant's pace, the deliveries and the audit entry. The pace row is locked by
//! the send, so concurrent sends of a tenant on any node queue behind each other;
//! other mail is queued due at once and never waits behind a newsletter.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use yui_domain::account::FieldError;
use yui_domain::audit::AuditAction;
use yui_domain::newsletter::{
    BODY_MAX, NewsletterFields, NewsletterInput, SUBJECT_MAX, check_newsletter, pace,
};
use yui_domain::{Locale, TenantId};
use yui_mail::{MailKind, MailTenant, NewMail};
use yui_store::{AuditEntry, AuditTx, Newsletter, TenantTx};

use crate::error::PageError;
use crate::extract::{ClientIp, CsrfForm, Lang, NewsletterSend, Staff, TalentMember, TenantPath};
use crate::features::hosts::form::{Builder, Input, Kind, error_lines};
use crate::render::{base_context, datetime_text, render};
use crate::security::csrf_token;
use crate::{AppState, WebError};

pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    (
        "newsletters.html",
        include_str!("templates/newsletters.html"),
    ),
    (
        "unsubscribe.html",
        include_str!("templates/unsubscribe.html"),
    ),
];

pub fn router() -> Router<AppState> {
    use axum::routing::{get, post};
    Router::new()
        .route("/t/{slug}/newsletters", get(page).post(send))
        .route("/t/{slug}/me/newsletter", post(opt_in))
        .route(
            "/t/{slug}/unsubscribe/{token}",
            get(unsubscribe_page).post(unsubscribe),
        )
}

/// The path of a member's unsubscribe link.
pub fn unsubscribe_path(slug: &str, token: &str) -> String {
    format!("/t/{slug}/unsubscribe/{token}")
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct DoneQuery {
    done: Option<String>,
}

/// A sent newsletter as the list shows it.
#[derive(Debug, Serialize)]
struct Row {
    subject: String,
    recipients: i64,
    sent_at: String,
    sent_by: String,
    last_slot: Option<String>,
}

fn rows(locale: Locale, list: &[Newsletter]) -> Vec<Row> {
    list.iter()
        .map(|n| Row {
            subject: match (locale, &n.subject_en) {
                (Locale::En, Some(en)) => en.clone(),
                _ => n.subject_ja.clone(),
            },
            recipients: n.recipients,
            sent_at: datetime_text(locale, n.created_at),
            sent_by: n.sent_by_name.clone().unwrap_or_default(),
            last_slot: n
                .last_slot_at
                .filter(|l| *l > n.created_at)
                .map(|l| datetime_text(locale, l)),
        })
        .collect()
}

fn inputs(
    state: &AppState,
    locale: Locale,
    input: &NewsletterInput,
    errors: &[FieldError],
) -> Vec<Input> {
    let b = Builder {
        state,
        locale,
        errors,
    };
    vec![
        b.input(
            "subject_ja",
            Kind::Text,
            &input.subject_ja,
            SUBJECT_MAX,
            true,
        ),
        b.input("body_ja", Kind::Textarea, &input.body_ja, BODY_MAX, true),
        b.hint(
            b.input(
                "subject_en",
                Kind::Text,
                &input.subject_en,
                SUBJECT_MAX,
                false,
            ),
            "nl_en_hint",
        ),
        b.input("body_en", Kind::Textarea, &input.body_en, BODY_MAX, false),
    ]
}

/// A fresh key for one compose form.
fn send_key() -> String {
    format!("{:032x}", rand::random::<u128>())
}

struct View<'a> {
    input: Option<&'a NewsletterInput>,
    errors: Vec<FieldError>,
    notice: Option<&'static str>,
    status: StatusCode,
}

async fn render_page(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    staff: &Staff<NewsletterSend>,
    view: View<'_>,
) -> Result<Response, PageError> {
    let tenant = &staff.tenant;
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let sent = tx.newsletters(50).await?;
    let audience = tx.newsletter_recipients().await?.len();
    tx.commit().await?;
    let slug = tenant.slug();
    let path = format!("/t/{slug}/newsletters");
    let fresh = NewsletterInput {
        send_key: send_key(),
        ..NewsletterInput::default()
    };
    let input = view.input.unwrap_or(&fresh);
    let (jar, csrf) = csrf_token(state, jar);
    let c = &state.inner.catalogs;
    let mut ctx = base_context(state, locale, Some(&staff.account), &path);
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    ctx.insert("action", &path);
    ctx.insert("sent", &rows(locale, &sent));
    ctx.insert(
        "audience",
        &c.text(locale, "nl_audience")
            .replace("{n}", &audience.to_string()),
    );
    ctx.insert("csrf", &csrf);
    ctx.insert("send_key", &input.send_key);
    ctx.insert("inputs", &inputs(state, locale, input, &view.errors));
    ctx.insert("errors", &error_lines(state, locale, &view.errors));
    ctx.insert("notice", &view.notice.map(|k| c.text(locale, k)));
    Ok((
        jar,
        render(state, "newsletters.html", ctx, locale, view.status),
    )
        .into_response())
}

async fn page(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<NewsletterSend>,
    jar: CookieJar,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let notice = match q.done.as_deref() {
        Some("sent") => Some("nl_done_sent"),
        Some("again") => Some("nl_done_again"),
        _ => None,
    };
    let view = View {
        input: None,
        errors: Vec::new(),
        notice,
        status: StatusCode::OK,
    };
    render_page(&state, locale, jar, &staff, view).await
}

async fn send(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<NewsletterSend>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    CsrfForm(input): CsrfForm<NewsletterInput>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let fields = match check_newsletter(&input) {
        Ok(f) => f,
        Err(errors) => {
            let mut input = input;
            if errors.iter().any(|e| e.field == "send_key") {
                input.send_key = send_key();
            }
            let view = View {
                input: Some(&input),
                errors,
                notice: None,
                status: StatusCode::UNPROCESSABLE_ENTITY,
            };
            return render_page(&state, locale, jar, &staff, view).await;
        }
    };
    let now = state.now();
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    let Some(id) = tx.create_newsletter(&fields, staff.account.id, now).await? else {
        // The same form again: the first post sent it.
        tx.rollback().await?;
        return Ok(done(&staff.tenant, "again"));
    };
    let queued = queue(&state, &mut tx, &staff.tenant, &fields, id, now).await?;
    let entry = AuditEntry {
        actor_id: Some(staff.account.id),
        action: AuditAction::NewsletterSent,
        detail: serde_json::json!({ "newsletter": id, "recipients": queued }),
        ip,
    };
    tx.audit(&entry, now).await?;
    tx.commit().await?;
    state.inner.mail_waker.notify_one();
    Ok(done(&staff.tenant, "sent"))
}

fn done(tenant: &TenantPath, what: &str) -> Response {
    Redirect::to(&format!("/t/{}/newsletters?done={what}", tenant.slug())).into_response()
}

/// Queues the newsletter to every recipient at the tenant's pace; how many.
async fn queue(
    state: &AppState,
    tx: &mut TenantTx,
    tenant: &TenantPath,
    fields: &NewsletterFields,
    id: yui_domain::ids::NewsletterId,
    now: DateTime<Utc>,
) -> Result<i64, PageError> {
    // The pace first: its lock orders concurrent sends of the tenant, and the
    // recipients read after it are what the previous send left.
    let free = tx.take_newsletter_pace(now).await?;
    let recipients = tx.newsletter_recipients().await?;
    let per_minute = state.inner.settings.newsletter_per_minute;
    let (slots, next) = pace(now, Some(free), per_minute, recipients.len());
    let mail_tenant = MailTenant::from_tenant(tenant.id, &tenant.record.tenant);
    let slug = tenant.slug();
    for (person, slot) in recipients.iter().zip(&slots) {
        let locale = Locale::parse(&person.locale).unwrap_or(Locale::Ja);
        let text = fields.text(locale);
        let link = state.link(&unsubscribe_path(slug, &person.token));
        let mail = NewMail {
            tenant: Some(mail_tenant.clone()),
            to: person.email.clone(),
            locale,
            kind: MailKind::Newsletter,
            vars: serde_json::json!({
                "display_name": person.display_name,
                "title": text.subject,
                "body": text.body,
                "link": link,
            }),
            attachment: None,
        };
        let mail_id = state
            .inner
            .outbox
            .enqueue_newsletter(tx, &mail, &text.subject, &link, *slot, now)
            .await?;
        tx.record_newsletter_delivery(id, person.account_id, mail_id, *slot)
            .await?;
    }
    if !recipients.is_empty() {
        tx.set_newsletter_pace(next).await?;
    }
    let count = i64::try_from(recipients.len()).unwrap_or(i64::MAX);
    tx.finish_newsletter(id, count, slots.last().copied())
        .await?;
    Ok(count)
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct OptInForm {
    /// Present when the box is ticked.
    newsletter: Option<String>,
}

/// A member opts in or out of the region's newsletter.
async fn opt_in(
    State(state): State<AppState>,
    member: TalentMember,
    CsrfForm(form): CsrfForm<OptInForm>,
) -> Result<Response, PageError> {
    let mut tx = state.store.tenant(member.tenant.id).write().await?;
    let done = tx
        .set_newsletter_opt_in(member.account.id, form.newsletter.is_some(), state.now())
        .await?;
    if !done {
        tx.rollback().await?;
        return Err(WebError::NotFound.into());
    }
    tx.commit().await?;
    Ok(Redirect::to(&format!("/t/{}/me?newsletter=saved", member.tenant.slug())).into_response())
}

/// Whether the member gets the region's newsletter, for their region page.
pub(crate) async fn opted_in(
    state: &AppState,
    tenant: TenantId,
    account: yui_domain::AccountId,
) -> Result<bool, PageError> {
    let mut tx = state.store.tenant(tenant).read().await?;
    let sub = tx.newsletter_subscription(account).await?;
    tx.commit().await?;
    Ok(sub.is_some_and(|s| s.is_opted_in()))
}

/// The path's tenant whatever its status (a suspended tenant sends nothing, and
/// its writes answer 503), when the secret could be one of ours; a secret that
/// cannot is refused before the database is asked.
async fn link_tenant(state: &AppState, slug: &str, token: &str) -> Result<TenantPath, PageError> {
    let tenant = TenantPath::load_even_suspended(state, slug).await?;
    let plausible =
        (32..=128).contains(&token.len()) && token.chars().all(|c| c.is_ascii_alphanumeric());
    if !plausible {
        return Err(WebError::NotFound.into());
    }
    Ok(tenant)
}

fn render_unsubscribe(
    state: &AppState,
    locale: Locale,
    tenant: &TenantPath,
    token: &str,
    done: bool,
) -> Response {
    let c = &state.inner.catalogs;
    let name = tenant.record.tenant.name.get(locale);
    let path = unsubscribe_path(tenant.slug(), token);
    let mut ctx = base_context(state, locale, None, &path);
    ctx.insert("tenant_name", name);
    ctx.insert("action", &path);
    ctx.insert("done", &done);
    ctx.insert(
        "explained",
        &c.text(locale, "nl_unsub_explained")
            .replace("{tenant}", name),
    );
    ctx.insert(
        "confirmed",
        &c.text(locale, "nl_unsub_done").replace("{tenant}", name),
    );
    render(state, "unsubscribe.html", ctx, locale, StatusCode::OK).into_response()
}

/// The page behind a newsletter's link: what it does, and a button. Nothing
/// changes on GET (mail scanners open links).
async fn unsubscribe_page(
    State(state): State<AppState>,
    lang: Lang,
    Path((slug, token)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let tenant = link_tenant(&state, &slug, &token).await?;
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let subscribed = tx.newsletter_token_subscribed(&token).await?;
    tx.commit().await?;
    let Some(subscribed) = subscribed else {
        return Err(WebError::NotFound.into());
    };
    let locale = lang.or(tenant.record.tenant.default_locale);
    // Opened again after unsubscribing: it says so rather than offering it again.
    Ok(render_unsubscribe(
        &state,
        locale,
        &tenant,
        &token,
        !subscribed,
    ))
}

/// Unsubscribes: the page's button, or a mail client's one-click POST
/// (`List-Unsubscribe=One-Click`, RFC 8058). Neither has a session or a CSRF
/// token; the secret in the path is the authority, and the body is not needed.
async fn unsubscribe(
    State(state): State<AppState>,
    lang: Lang,
    Path((slug, token)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let tenant = link_tenant(&state, &slug, &token).await?;
    let mut tx = state.store.tenant(tenant.id).write().await?;
    let Some(gone) = tx.unsubscribe_newsletter(&token, state.now()).await? else {
        tx.rollback().await?;
        return Err(WebError::NotFound.into());
    };
    tx.commit().await?;
    tracing::info!(
        tenant = %tenant.slug(),
        account = %gone.account_id,
        dropped = gone.dropped,
        "unsubscribed from the newsletter"
    );
    let locale = lang.or(tenant.record.tenant.default_locale);
    Ok(render_unsubscribe(&state, locale, &tenant, &token, true))
}
