//! Sign-up: an account with a password, and a mail to verify the address.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use yui_domain::Locale;
use yui_domain::account::{Email, FieldError, Problem, check_display_name, check_new_password};
use yui_domain::audit::AuditAction;
use yui_store::{AccountsTx, AuditEntry, AuditTx, NewAccount, StoreError};

use super::links::{Link, Recipient, mail_link};
use super::{FormPage, form_page, new_password_fields};
use crate::AppState;
use crate::error::PageError;
use crate::extract::{ClientIp, CsrfForm, Lang};
use crate::security::{hash_password, start_session};

#[derive(Debug, Default, Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

fn signup_form(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    form: &SignupForm,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> Response {
    let mut page = FormPage::new("signup_title", "/signup", "signup_submit");
    page.lead = Some("signup_lead");
    page.fields = vec![
        ("display_name", "text", "name", form.display_name.clone()),
        ("email", "email", "email", form.email.clone()),
    ];
    page.fields.extend(new_password_fields());
    page.errors = errors;
    page.links = vec![("/signin", "sign_in")];
    form_page(state, locale, jar, page, status)
}

pub(super) async fn page(State(state): State<AppState>, lang: Lang, jar: CookieJar) -> Response {
    signup_form(
        &state,
        lang.or(Locale::Ja),
        jar,
        &SignupForm::default(),
        Vec::new(),
        StatusCode::OK,
    )
}

pub(super) async fn submit(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<SignupForm>,
) -> Result<Response, PageError> {
    let locale = lang.or(Locale::Ja);
    let mut errors = Vec::new();
    let name = check_display_name("display_name", &form.display_name)
        .map_err(|e| errors.push(e))
        .ok();
    let email = Email::parse("email", &form.email)
        .map_err(|e| errors.push(e))
        .ok();
    // The password is checked even when the address is wrong, so every problem shows at once.
    if let Err(e) = check_new_password("password", &form.password, email.as_ref()) {
        errors.push(e);
    } else if form.password != form.password_confirm {
        errors.push(FieldError {
            field: "password_confirm",
            problem: Problem::Mismatch,
        });
    }
    let (Some(name), Some(email), true) = (name, email, errors.is_empty()) else {
        return Ok(signup_form(
            &state,
            locale,
            jar,
            &form,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    };
    // The confirmation mail counts against the same limits as every mailed link
    // (counted before the writing transaction, which on SQLite is the only writer):
    // sign-ups cannot be used to send mail to any number of addresses.
    let may_mail = super::links::may_mail(&state, &email, &ip).await?;
    let hash = hash_password(form.password.clone()).await?;
    let now = state.now();
    let mut tx = state
        .store
        .platform(yui_store::PlatformReason::Authentication)
        .write()
        .await?;
    let new = NewAccount {
        email: &email,
        display_name: &name,
        password_hash: Some(&hash),
        locale,
    };
    let id = match tx.create_account(new, now).await {
        Ok(id) => id,
        Err(StoreError::Conflict(_)) => {
            tx.rollback().await?;
            let errors = vec![FieldError {
                field: "email",
                problem: Problem::AlreadyRegistered,
            }];
            return Ok(signup_form(
                &state,
                locale,
                jar,
                &form,
                errors,
                StatusCode::CONFLICT,
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let recipient = Recipient {
        id,
        email: &email,
        name: &name,
        locale,
    };
    if may_mail {
        mail_link(&state, &mut tx, recipient, Link::Verify).await?;
    }
    let entry = AuditEntry {
        actor_id: Some(id),
        action: AuditAction::SignUp,
        detail: serde_json::json!({}),
        ip: ip.clone(),
    };
    tx.audit(&entry, now).await?;
    tx.commit().await?;
    state.inner.mail_waker.notify_one();
    // A new account's credentials are at their first epoch.
    let jar = start_session(&state, jar, id, 0, &ip, &headers).await?;
    // Without the mail, the account page says so and offers to send it later.
    let to = if may_mail {
        "/account?welcome=1"
    } else {
        "/account?welcome=later"
    };
    Ok((jar, Redirect::to(to)).into_response())
}
