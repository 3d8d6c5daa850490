//! Mailed one-time links: address verification, password reset, and sign-in by link.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use chrono::Duration;
use serde::Deserialize;
use yui_domain::account::{Email, FieldError, Problem, check_new_password};
use yui_domain::audit::AuditAction;
use yui_domain::{AccountId, Locale};
use yui_store::{AccountsTx, Attempt, AuditEntry, AuditTx, TokenPurpose, Tx};

use super::{FormPage, form_page, new_password_fields};
use crate::AppState;
use crate::error::PageError;
use crate::extract::{ClientIp, CsrfForm, Lang, throttle_address};
use crate::render::message_page;
use crate::security::{
    end_session_cookie, hash_password, new_secret, remember_device, secret_hash, start_session,
};

/// Minutes a mailed link stays valid.
const VERIFY_MINUTES: i64 = 48 * 60;
const RESET_MINUTES: i64 = 60;
const MAGIC_MINUTES: i64 = 15;

/// A mailed one-time link: what it proves, which mail carries it, where it leads
/// and how long it lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Link {
    Verify,
    Reset,
    Magic,
}

impl Link {
    fn purpose(self) -> TokenPurpose {
        match self {
            Link::Verify => TokenPurpose::VerifyEmail,
            Link::Reset => TokenPurpose::PasswordReset,
            Link::Magic => TokenPurpose::MagicLink,
        }
    }

    fn kind(self) -> yui_mail::MailKind {
        match self {
            Link::Verify => yui_mail::MailKind::VerifyEmail,
            Link::Reset => yui_mail::MailKind::PasswordReset,
            Link::Magic => yui_mail::MailKind::MagicLink,
        }
    }

    fn path(self) -> &'static str {
        match self {
            Link::Verify => "/verify",
            Link::Reset => "/reset/confirm",
            Link::Magic => "/magic/confirm",
        }
    }

    fn minutes(self) -> i64 {
        match self {
            Link::Verify => VERIFY_MINUTES,
            Link::Reset => RESET_MINUTES,
            Link::Magic => MAGIC_MINUTES,
        }
    }
}

/// Who a link is mailed to.
#[derive(Debug, Clone, Copy)]
pub(super) struct Recipient<'a> {
    pub id: AccountId,
    pub email: &'a Email,
    pub name: &'a str,
    pub locale: Locale,
}

/// Creates a one-time token for `to` and queues the mail with its link, in the
/// caller's transaction: it is sent only if the change that asked for it commits.
pub(super) async fn mail_link<T: Tx>(
    state: &AppState,
    tx: &mut T,
    to: Recipient<'_>,
    link: Link,
) -> Result<(), PageError> {
    let now = state.now();
    let token = new_secret();
    tx.create_login_token(
        to.id,
        link.purpose(),
        &secret_hash(&token),
        now,
        now + Duration::minutes(link.minutes()),
    )
    .await?;
    let mail = yui_mail::NewMail {
        tenant: None,
        to: to.email.as_str().to_owned(),
        locale: to.locale,
        kind: link.kind(),
        vars: serde_json::json!({
            "display_name": to.name,
            "link": state.link(&format!("{}?token={token}", link.path())),
            "expires_minutes": link.minutes(),
        }),
        attachment: None,
    };
    state.inner.outbox.enqueue(tx, &mail, now).await?;
    Ok(())
}

#[derive(Debug, Deserialize)]
pub(super) struct TokenQuery {
    #[serde(default)]
    token: String,
}

pub(super) fn link_failed(state: &AppState, locale: Locale) -> Response {
    message_page(
        state,
        locale,
        None,
        StatusCode::BAD_REQUEST,
        "link_failed_title",
        "link_failed_body",
    )
}

pub(super) async fn verify_email(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    Query(q): Query<TokenQuery>,
) -> Result<Response, PageError> {
    let locale = lang.or(Locale::Ja);
    let now = state.now();
    let redeemed = state
        .store
        .redeem_token(TokenPurpose::VerifyEmail, &secret_hash(&q.token), now)
        .await?;
    let Some(mut tx) = redeemed else {
        return Ok(message_page(
            &state,
            locale,
            None,
            StatusCode::BAD_REQUEST,
            "verify_failed_title",
            "verify_failed_body",
        ));
    };
    tx.mark_email_verified(now).await?;
    let entry = AuditEntry {
        actor_id: Some(tx.account_id()),
        action: AuditAction::EmailVerified,
        detail: serde_json::json!({}),
        ip,
    };
    tx.audit(&entry, now).await?;
    tx.commit().await?;
    Ok(message_page(
        &state,
        locale,
        None,
        StatusCode::OK,
        "verify_done_title",
        "verify_done_body",
    ))
}

#[derive(Debug, Default, Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
}

/// Which mailed link a form asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LinkKind {
    Reset,
    Magic,
}

impl LinkKind {
    fn action(self) -> &'static str {
        match self {
            LinkKind::Reset => "/reset",
            LinkKind::Magic => "/magic",
        }
    }
}

/// What the reset / sign-in-link form shows.
enum EmailStep {
    /// The empty form.
    Blank,
    /// The address as typed, and what is wrong with it.
    Invalid(String, FieldError),
    /// The answer after a request, the same whether the address is registered or not.
    Sent(String),
}

fn email_form(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    which: LinkKind,
    step: EmailStep,
) -> Response {
    let (email, errors, notice, status) = match step {
        EmailStep::Blank => (String::new(), Vec::new(), None, StatusCode::OK),
        EmailStep::Invalid(email, e) => (email, vec![e], None, StatusCode::UNPROCESSABLE_ENTITY),
        EmailStep::Sent(notice) => (String::new(), Vec::new(), Some(notice), StatusCode::OK),
    };
    let (heading, lead, submit) = match which {
        LinkKind::Reset => ("reset_title", "reset_lead", "reset_submit"),
        LinkKind::Magic => ("magic_title", "magic_lead", "magic_submit"),
    };
    let mut page = FormPage::new(heading, which.action(), submit);
    page.lead = Some(lead);
    page.fields = vec![("email", "email", "email", email)];
    page.errors = errors;
    page.notice = notice;
    page.links = vec![("/signin", "sign_in")];
    form_page(state, locale, jar, page, status)
}

pub(super) async fn reset_page(
    State(state): State<AppState>,
    lang: Lang,
    jar: CookieJar,
) -> Response {
    email_form(
        &state,
        lang.or(Locale::Ja),
        jar,
        LinkKind::Reset,
        EmailStep::Blank,
    )
}

pub(super) async fn magic_page(
    State(state): State<AppState>,
    lang: Lang,
    jar: CookieJar,
) -> Response {
    email_form(
        &state,
        lang.or(Locale::Ja),
        jar,
        LinkKind::Magic,
        EmailStep::Blank,
    )
}

/// Whether another link may be mailed to `email` at the request of `ip`: a few per
/// hour to one address (whoever asks, registered or not) and a few more per client
/// address, counted before anything is looked up.
pub(super) async fn may_mail(state: &AppState, email: &Email, ip: &str) -> Result<bool, PageError> {
    let limits = &state.inner.settings.throttle;
    let keys = [
        (format!("mail:e:{}", email.key()), limits.mail_address),
        (
            format!("mail:ip:{}", throttle_address(ip)),
            limits.mail_client,
        ),
    ];
    let attempt = state.store.count_attempt(&keys, state.now()).await?;
    Ok(attempt == Attempt::Allowed)
}

/// Sends a reset or sign-in link when the address belongs to an account. The answer
/// is the same either way, and so is the work done before it: the form is checked,
/// the request counted, and the rest (finding the account, the token, the mail)
/// happens after the answer, so neither its text nor its timing tells who is
/// registered. Over the limit the answer is the same again, and nothing is sent.
async fn send_link(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    ip: &str,
    which: LinkKind,
    form: EmailForm,
) -> Result<Response, PageError> {
    let email = match Email::parse("email", &form.email) {
        Ok(e) => e,
        Err(e) => {
            let step = EmailStep::Invalid(form.email.clone(), e);
            return Ok(email_form(state, locale, jar, which, step));
        }
    };
    if may_mail(state, &email, ip).await? {
        let link = match which {
            LinkKind::Reset => Link::Reset,
            LinkKind::Magic => Link::Magic,
        };
        let state = state.clone();
        tokio::spawn(async move {
            if let Err(e) = mail_link_if_registered(&state, &email, link).await {
                tracing::warn!(error = %e.0, "mailing a link failed");
            }
        });
    }
    let notice = state.inner.catalogs.text(locale, "link_sent").to_owned();
    Ok(email_form(
        state,
        locale,
        jar,
        which,
        EmailStep::Sent(notice),
    ))
}

/// Mails `link` when `email` belongs to an account, at most one of a kind every few
/// minutes, however often (or however many strangers) ask.
async fn mail_link_if_registered(
    state: &AppState,
    email: &Email,
    link: Link,
) -> Result<(), PageError> {
    let Some(account) = state.store.find_account(email).await? else {
        return Ok(());
    };
    let mut tx = state.store.account(account.id).write().await?;
    let recent = state.now() - Duration::minutes(LINK_AGAIN_MINUTES);
    if tx.token_issued_since(link.purpose(), recent).await? {
        tx.rollback().await?;
        return Ok(());
    }
    let to = account.email()?;
    let recipient = Recipient {
        id: account.id,
        email: &to,
        name: &account.display_name,
        locale: account.locale(),
    };
    mail_link(state, &mut tx, recipient, link).await?;
    tx.commit().await?;
    state.inner.mail_waker.notify_one();
    Ok(())
}

pub(super) async fn reset_request(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<EmailForm>,
) -> Result<Response, PageError> {
    let locale = lang.or(Locale::Ja);
    send_link(&state, locale, jar, &ip, LinkKind::Reset, form).await
}

pub(super) async fn magic_request(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<EmailForm>,
) -> Result<Response, PageError> {
    let locale = lang.or(Locale::Ja);
    send_link(&state, locale, jar, &ip, LinkKind::Magic, form).await
}

#[derive(Debug, Default, Deserialize)]
pub struct NewPasswordForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
    /// Ticked by default: after a reset, tokens made by whoever knew the old
    /// password stop working too.
    revoke_tokens: Option<String>,
}

fn new_password_form(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    token: &str,
    revoke_tokens: bool,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> Response {
    let mut page = FormPage::new("reset_confirm_title", "/reset/confirm", "save");
    page.fields = new_password_fields();
    page.errors = errors;
    page.hidden = vec![("token", token.to_owned())];
    page.checkboxes = vec![("revoke_tokens", "revoke_tokens_too", revoke_tokens)];
    form_page(state, locale, jar, page, status)
}

pub(super) async fn reset_confirm_page(
    State(state): State<AppState>,
    lang: Lang,
    jar: CookieJar,
    Query(q): Query<TokenQuery>,
) -> Response {
    // No token at all: say so now, not after the person has typed a password twice.
    if q.token.is_empty() {
        return link_failed(&state, lang.or(Locale::Ja));
    }
    new_password_form(
        &state,
        lang.or(Locale::Ja),
        jar,
        &q.token,
        true,
        Vec::new(),
        StatusCode::OK,
    )
}

pub(super) async fn reset_confirm(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<NewPasswordForm>,
) -> Result<Response, PageError> {
    let locale = lang.or(Locale::Ja);
    let now = state.now();
    let redeemed = state
        .store
        .redeem_token(TokenPurpose::PasswordReset, &secret_hash(&form.token), now)
        .await?;
    let Some(mut tx) = redeemed else {
        return Ok(link_failed(&state, locale));
    };
    let account = tx.get().await?;
    let email = account.email()?;
    let problem = match check_new_password("password", &form.password, Some(&email)) {
        Err(e) => Some(e),
        Ok(()) if form.password != form.password_confirm => Some(FieldError {
            field: "password_confirm",
            problem: Problem::Mismatch,
        }),
        Ok(()) => None,
    };
    if let Some(e) = problem {
        // The token stays usable: nothing is committed.
        tx.rollback().await?;
        return Ok(new_password_form(
            &state,
            locale,
            jar,
            &form.token,
            form.revoke_tokens.is_some(),
            vec![e],
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    let hash = hash_password(form.password.clone()).await?;
    tx.set_password(&hash, now).await?;
    // Following the link proved the mailbox is theirs.
    tx.mark_email_verified(now).await?;
    let entry = AuditEntry {
        actor_id: Some(account.id),
        action: AuditAction::PasswordReset,
        detail: serde_json::json!({ "tokens_revoked": form.revoke_tokens.is_some() }),
        ip: ip.clone(),
    };
    tx.audit(&entry, now).await?;
    if form.revoke_tokens.is_some() {
        super::account::revoke_all_tokens(&mut tx, &ip, "password_reset", now).await?;
    }
    tx.commit().await?;
    let jar = end_session_cookie(&state, jar);
    Ok((jar, Redirect::to("/signin?reset=1")).into_response())
}

pub(super) async fn magic_confirm_page(
    State(state): State<AppState>,
    lang: Lang,
    jar: CookieJar,
    Query(q): Query<TokenQuery>,
) -> Response {
    // A page with a button rather than signing in on GET: mail scanners that follow
    // links must not use up (or use) the token.
    let mut page = FormPage::new("magic_confirm_title", "/magic/confirm", "signin_submit");
    page.lead = Some("magic_confirm_lead");
    page.hidden = vec![("token", q.token)];
    form_page(&state, lang.or(Locale::Ja), jar, page, StatusCode::OK)
}

#[derive(Debug, Default, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    token: String,
}

pub(super) async fn magic_confirm(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> Result<Response, PageError> {
    let locale = lang.or(Locale::Ja);
    let now = state.now();
    let redeemed = state
        .store
        .redeem_token(TokenPurpose::MagicLink, &secret_hash(&form.token), now)
        .await?;
    let Some(mut tx) = redeemed else {
        return Ok(link_failed(&state, locale));
    };
    let id = tx.account_id();
    // The first proof of the mailbox: a password chosen before anyone proved the
    // address may be someone else's, so it goes, with every session.
    tx.claim_by_mailbox(now).await?;
    let epoch = tx.get().await?.credential_epoch;
    let entry = AuditEntry {
        actor_id: Some(id),
        action: AuditAction::SignIn,
        detail: serde_json::json!({ "method": "magic_link" }),
        ip: ip.clone(),
    };
    tx.audit(&entry, now).await?;
    tx.commit().await?;
    let jar = start_session(&state, jar, id, epoch, &ip, &headers).await?;
    let jar = remember_device(&state, jar, id).await?;
    Ok((jar, Redirect::to("/account")).into_response())
}

/// Minutes before another verification mail may be sent to the same account.
const VERIFY_AGAIN_MINUTES: i64 = 5;
/// Minutes before another reset or sign-in link may be mailed to the same account.
const LINK_AGAIN_MINUTES: i64 = 2;

/// Sends the verification mail again, from the account page. The account's write
/// transaction serialises a burst of clicks: one mail per few minutes, never more.
pub(super) async fn verify_again(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    crate::extract::SignedIn(account): crate::extract::SignedIn,
    CsrfForm(_): CsrfForm<crate::extract::CsrfOnly>,
) -> Result<Response, PageError> {
    if account.email_verified_at.is_some() {
        return Ok(Redirect::to("/account").into_response());
    }
    // The address's hourly allowance is shared with the reset and sign-in links.
    let email = account.email()?;
    if !may_mail(&state, &email, &ip).await? {
        return Ok(Redirect::to("/account?verify=recent").into_response());
    }
    let now = state.now();
    let mut tx = state.store.account(account.id).write().await?;
    let recent = now - Duration::minutes(VERIFY_AGAIN_MINUTES);
    if tx
        .token_issued_since(TokenPurpose::VerifyEmail, recent)
        .await?
    {
        tx.rollback().await?;
        return Ok(Redirect::to("/account?verify=recent").into_response());
    }
    let recipient = Recipient {
        id: account.id,
        email: &email,
        name: &account.display_name,
        locale: account.locale(),
    };
    mail_link(&state, &mut tx, recipient, Link::Verify).await?;
    tx.commit().await?;
    state.inner.mail_waker.notify_one();
    Ok(Redirect::to("/account?verify=sent").into_response())
}
