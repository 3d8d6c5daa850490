//! Onboarding a region: an operator picks a local government from the national list
//! (or defines a union of them), sets its slug and defaults, and invites its first
//! administrator. The region starts "being set up" and is listed publicly once its
//! administrator has worked through the setup checklist. A prefecture's
//! administrator onboards its municipalities the same way (`setup::municipalities`).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use yui_authz::Role;
use yui_domain::account::{FieldError, Problem};
use yui_domain::audit::AuditAction;
use yui_domain::localgov::{LocalGov, MemberProblem, national_list};
use yui_domain::onboarding::{
    CheckedRegion, DEFAULT_LOGO_SVG, Defaults, MemberLineProblem, RegionForm, check_region,
};
use yui_domain::{Locale, TenantKind};
use yui_store::{Account, AccountsTx, AuditEntry, PlatformReason, StoreError, TenantRecord};

use crate::AppState;
use crate::error::PageError;
use crate::extract::{ClientIp, CsrfForm, Lang, Operator, TenantOnboard, TenantPath};
use crate::features::staff::invite::{Invitee, send_invitation};
use crate::render::{FieldView, base_context, error_views, render};
use crate::security::csrf_token;

/// Search results shown at most.
const RESULTS: usize = 30;

/// What the onboarding pages ask in their address: a search, a pick, or a union.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Pick {
    #[serde(default)]
    q: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    kind: String,
}

/// The onboarding form, as posted.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub(crate) struct OnboardForm {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub slug: String,
    #[serde(default)]
    pub name_ja: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub name_kana: String,
    #[serde(default)]
    pub default_locale: String,
    #[serde(default)]
    pub members: String,
    #[serde(default)]
    pub copy_from: String,
    #[serde(default)]
    pub admin_email: String,
}

impl OnboardForm {
    /// The form as first shown for a local government picked from the list.
    pub(crate) fn picked(entry: &LocalGov, copy_from: &str) -> OnboardForm {
        OnboardForm {
            kind: entry.kind.as_str().to_owned(),
            code: entry.code.as_str().to_owned(),
            slug: entry.suggested_slug(),
            name_ja: entry.name.clone(),
            name_en: entry.name_en.clone(),
            name_kana: entry.kana.clone(),
            default_locale: "ja".to_owned(),
            copy_from: copy_from.to_owned(),
            ..OnboardForm::default()
        }
    }

    fn as_region(&self) -> RegionForm<'_> {
        RegionForm {
            kind: &self.kind,
            code: &self.code,
            slug: &self.slug,
            name_ja: &self.name_ja,
            name_en: &self.name_en,
            name_kana: &self.name_kana,
            default_locale: &self.default_locale,
            members: &self.members,
            admin_email: &self.admin_email,
        }
    }
}

#[derive(Serialize)]
struct ResultRow {
    code: String,
    name: String,
    kana: String,
    prefecture: String,
    kind: String,
    /// The tenant it already is, if any.
    on_yui: Option<String>,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
}

/// Everything the form page shows besides the form's own values.
pub(crate) struct FormPage<'a> {
    pub form: &'a OnboardForm,
    pub errors: Vec<FieldError>,
    pub member_problems: Vec<MemberLineProblem>,
    /// Where the form posts.
    pub action: String,
    /// Tenants whose defaults may be copied.
    pub copy_choices: Vec<TenantRecord>,
    pub status: StatusCode,
}

/// Renders the onboarding form (the operator's and the prefecture's).
pub(crate) fn render_form(
    state: &AppState,
    locale: Locale,
    account: &Account,
    csrf: &str,
    page: &FormPage<'_>,
) -> Response {
    let c = &state.inner.catalogs;
    let form = page.form;
    let field = |name, kind, value: &str| {
        FieldView::new(
            state,
            locale,
            name,
            kind,
            value.to_owned(),
            "off",
            &page.errors,
        )
    };
    let mut slug = field("slug", "text", &form.slug);
    slug.hint = Some(c.text(locale, "onb_slug_hint").to_owned());
    let mut name_en = field("name_en", "text", &form.name_en);
    name_en.hint = Some(c.text(locale, "onb_name_en_hint").to_owned());
    let fields = vec![
        field("name_ja", "text", &form.name_ja),
        field("name_kana", "text", &form.name_kana),
        name_en,
        slug,
    ];
    let mut admin = field("admin_email", "email", &form.admin_email);
    admin.hint = Some(c.text(locale, "onb_admin_hint").to_owned());
    let error_of = |name: &str| {
        page.errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| crate::render::field_message(state, locale, e))
    };
    let mut copy = vec![Choice {
        value: String::new(),
        label: c.text(locale, "onb_copy_builtin").to_owned(),
    }];
    copy.extend(page.copy_choices.iter().map(|t| Choice {
        value: t.tenant.slug.clone(),
        label: format!("{} ({})", t.tenant.name.get(locale), t.tenant.slug),
    }));
    let picked = national_list().by_code(&form.code);
    let member_problems: Vec<String> = page
        .member_problems
        .iter()
        .map(|p| match &p.problem {
            MemberProblem::Unknown => c
                .text(locale, "onb_member_unknown")
                .replace("{line}", &p.line),
            MemberProblem::Ambiguous(names) => c
                .text(locale, "onb_member_ambiguous")
                .replace("{line}", &p.line)
                .replace("{names}", &names.join(c.text(locale, "list_sep"))),
        })
        .collect();
    let mut ctx = base_context(state, locale, Some(account), &page.action);
    ctx.insert("csrf", csrf);
    ctx.insert("action", &page.action);
    ctx.insert("form", form);
    ctx.insert("union", &(form.kind == "union"));
    ctx.insert(
        "picked",
        &picked.map(|e| {
            format!(
                "{} {} ({})",
                e.code.as_str(),
                e.name,
                c.text(locale, &format!("kind_{}", e.kind.as_str()))
            )
        }),
    );
    ctx.insert("fields", &fields);
    ctx.insert("admin_field", &admin);
    ctx.insert("copy_choices", &copy);
    ctx.insert("copy_error", &error_of("copy_from"));
    ctx.insert("locale_error", &error_of("default_locale"));
    ctx.insert("members_error", &error_of("members"));
    ctx.insert("code_error", &error_of("code"));
    ctx.insert("member_problems", &member_problems);
    ctx.insert("errors", &error_views(state, locale, &page.errors));
    render(state, "ops_onboard.html", ctx, locale, page.status)
}

/// `GET /ops/tenants/new`: the search, or the form for the picked region or a union.
pub(super) async fn new(
    State(state): State<AppState>,
    lang: Lang,
    operator: Operator<TenantOnboard>,
    jar: CookieJar,
    Query(pick): Query<Pick>,
) -> Result<Response, PageError> {
    let locale = lang.or(Locale::Ja);
    let (jar, csrf) = csrf_token(&state, jar);
    let list = national_list();
    let picked = list.by_code(pick.code.trim()).filter(|e| e.administered);
    let shown = if pick.kind == "union" {
        let form = OnboardForm {
            kind: "union".to_owned(),
            default_locale: "ja".to_owned(),
            ..OnboardForm::default()
        };
        Some((form, copy_choices(&state, None).await?))
    } else if let Some(entry) = picked {
        let copy = copy_choices(&state, Some(entry)).await?;
        // The prefecture itself, when it is on Yui, is the likeliest model.
        let prefecture = copy
            .iter()
            .find(|t| t.tenant.kind == TenantKind::Prefecture)
            .map(|t| t.tenant.slug.clone())
            .unwrap_or_default();
        Some((OnboardForm::picked(entry, &prefecture), copy))
    } else {
        None
    };
    if let Some((form, copy_choices)) = shown {
        let page = FormPage {
            form: &form,
            errors: Vec::new(),
            member_problems: Vec::new(),
            action: "/ops/tenants".to_owned(),
            copy_choices,
            status: StatusCode::OK,
        };
        let html = render_form(&state, locale, &operator.account, &csrf, &page);
        return Ok((jar, html).into_response());
    }
    let c = &state.inner.catalogs;
    let found = list.search(&pick.q, RESULTS);
    let mut rows = Vec::with_capacity(found.len());
    for e in found {
        let on_yui = state
            .store
            .tenant_by_code(e.code.as_str())
            .await?
            .map(|t| t.tenant.slug);
        rows.push(ResultRow {
            code: e.code.as_str().to_owned(),
            name: e.name.clone(),
            kana: e.kana.clone(),
            prefecture: list
                .by_code(e.prefecture.as_str())
                .filter(|p| p.code != e.code)
                .map(|p| p.name.clone())
                .unwrap_or_default(),
            kind: if e.administered {
                c.text(locale, &format!("kind_{}", e.kind.as_str()))
                    .to_owned()
            } else {
                c.text(locale, "onb_not_administered").to_owned()
            },
            on_yui: if e.administered {
                on_yui
            } else {
                Some(String::new())
            },
        });
    }
    let mut ctx = base_context(&state, locale, Some(&operator.account), "/ops/tenants/new");
    ctx.insert("q", &crate::render::echo(pick.q.clone()));
    ctx.insert("searched", &!pick.q.trim().is_empty());
    ctx.insert("results", &rows);
    Ok((
        jar,
        render(
            &state,
            "ops_onboard_search.html",
            ctx,
            locale,
            StatusCode::OK,
        ),
    )
        .into_response())
}

/// Tenants whose defaults a new region may copy: those of its prefecture (for a
/// union, every prefecture on Yui). Bounded by a prefecture's size, not the platform's.
pub(crate) async fn copy_choices(
    state: &AppState,
    entry: Option<&LocalGov>,
) -> Result<Vec<TenantRecord>, PageError> {
    let mut tx = state
        .store
        .platform(PlatformReason::OperatorConsole)
        .read()
        .await?;
    let rows = match entry {
        Some(e) => {
            tx.tenants_of_prefecture(Some(e.code.prefecture_prefix()))
                .await?
        }
        None => tx.tenants_of_kind(TenantKind::Prefecture).await?,
    };
    tx.commit().await?;
    Ok(rows)
}

/// `POST /ops/tenants`: creates the region and invites its administrator.
pub(super) async fn create(
    State(state): State<AppState>,
    lang: Lang,
    operator: Operator<TenantOnboard>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<OnboardForm>,
) -> Result<Response, PageError> {
    let locale = lang.or(Locale::Ja);
    let (jar, csrf) = csrf_token(&state, jar);
    let entry = national_list().by_code(form.code.trim());
    let copy = copy_choices(&state, entry.filter(|_| form.kind != "union")).await?;
    match onboard(&state, &form, &operator.account, None, &copy, ip).await? {
        Ok((slug, invited)) => {
            let done = if invited { "onboarded" } else { "not_invited" };
            Ok((
                jar,
                Redirect::to(&format!("/ops/tenants/{slug}?done={done}")),
            )
                .into_response())
        }
        Err((errors, member_problems)) => {
            let page = FormPage {
                form: &form,
                errors,
                member_problems,
                action: "/ops/tenants".to_owned(),
                copy_choices: copy,
                status: StatusCode::UNPROCESSABLE_ENTITY,
            };
            Ok((
                jar,
                render_form(&state, locale, &operator.account, &csrf, &page),
            )
                .into_response())
        }
    }
}

type Refusal = (Vec<FieldError>, Vec<MemberLineProblem>);

/// Checks the form, creates the region (being set up) with its audit row, and
/// invites its first administrator by mail. `prefecture` is set when a prefecture's
/// administrator onboards one of its municipalities: the region must be one, and
/// becomes its child. Returns the new slug and whether the invitation went out, or
/// the form's problems.
pub(crate) async fn onboard(
    state: &AppState,
    form: &OnboardForm,
    inviter: &Account,
    prefecture: Option<&TenantPath>,
    copy_choices: &[TenantRecord],
    ip: String,
) -> Result<Result<(String, bool), Refusal>, PageError> {
    let now = state.now();
    let list = national_list();
    // The parent a municipality gets: its prefecture's tenant, when it is on Yui.
    let parent = match prefecture {
        Some(p) => Some(p.record.tenant.slug.clone()),
        None => match list
            .by_code(form.code.trim())
            .filter(|e| e.kind == TenantKind::Municipality)
        {
            Some(e) => state
                .store
                .tenant_by_code(e.prefecture.as_str())
                .await?
                .map(|t| t.tenant.slug),
            None => None,
        },
    };
    let mut checked: CheckedRegion = match check_region(&form.as_region(), list, |_| parent.clone())
    {
        Ok(c) => c,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let refuse = |field, problem| Ok(Err((vec![FieldError { field, problem }], Vec::new())));
    if let Some(p) = prefecture {
        // A prefecture onboards its own municipalities, nothing else.
        let own = checked.region.kind == TenantKind::Municipality
            && checked.region.code.as_ref().is_some_and(|c| {
                p.record
                    .tenant
                    .code
                    .as_ref()
                    .is_some_and(|pc| c.prefecture_prefix() == pc.prefecture_prefix())
            });
        if !own {
            // On the list, but not this prefecture's: not "unknown".
            return refuse("code", Problem::InvalidChoice);
        }
        checked.region.parent = Some(p.record.tenant.slug.clone());
    }
    let copied = match form.copy_from.trim() {
        "" => None,
        slug => match copy_choices.iter().find(|t| t.tenant.slug == slug) {
            Some(t) => Some(t),
            None => return refuse("copy_from", Problem::InvalidChoice),
        },
    };
    let defaults = copied.map_or(Defaults::BuiltIn, |t| Defaults::CopyOf(&t.tenant));
    let sender = state.inner.outbox.default_sender().sender_address.clone();
    let tenant = checked.region.tenant(defaults, &sender);
    let mut tx = state
        .store
        .platform(PlatformReason::OperatorConsole)
        .write()
        .await?;
    let id = match tx.onboard_tenant(&tenant, DEFAULT_LOGO_SVG, now).await {
        Ok(id) => id,
        Err(StoreError::Conflict(field)) => {
            tx.rollback().await?;
            let field = if field == "code" { "code" } else { "slug" };
            return refuse(field, Problem::Taken);
        }
        Err(e) => return Err(e.into()),
    };
    let entry = AuditEntry {
        actor_id: Some(inviter.id),
        action: AuditAction::TenantCreated,
        detail: serde_json::json!({
            "tenant": tenant.slug,
            "code": tenant.code.as_ref().map(|c| c.as_str()),
            "parent": tenant.parent,
            "copied_from": copied.map(|t| t.tenant.slug.as_str()),
            "members": tenant.members.iter().map(|m| m.code.as_str()).collect::<Vec<_>>(),
        }),
        ip: ip.clone(),
    };
    tx.audit_in_tenant(id, &entry, now).await?;
    tx.commit().await?;
    // Authorization knows tenants by their place in the tree (a prefecture reads its
    // municipalities' figures): every node reloads.
    yui_authz::bump_policy_version(&state.store).await?;
    state.authz.refresh_if_changed(&state.store, now).await?;
    // The address passed our check; should the mailer still refuse it, the region
    // stands and its page says no invitation is open, with the form to send one.
    let invited = invite_admin(state, &tenant.slug, inviter, &checked.admin, ip).await?;
    Ok(Ok((tenant.slug, invited.is_ok())))
}

/// Invites `email` as the administrator of the region `slug`, in its own
/// transaction (mail and audit row with it).
pub(crate) async fn invite_admin(
    state: &AppState,
    slug: &str,
    inviter: &Account,
    email: &yui_domain::account::Email,
    ip: String,
) -> Result<Result<(), FieldError>, PageError> {
    let now = state.now();
    let tenant = TenantPath::load_even_suspended(state, slug).await?;
    let locale = tenant.record.tenant.default_locale;
    let mut tx = state.store.tenant(tenant.id).write().await?;
    tx.lock_staff().await?;
    let existing = tx.account_by_email(email).await?;
    let invitee = Invitee {
        email,
        role: Role::TenantAdmin,
        until: None,
        existing: existing.as_ref(),
    };
    match send_invitation(state, &mut tx, &tenant, inviter, invitee, (locale, ip, now)).await? {
        Ok(_) => {
            tx.commit().await?;
            state.inner.mail_waker.notify_one();
            Ok(Ok(()))
        }
        Err(_) => {
            tx.rollback().await?;
            Ok(Err(FieldError {
                field: "admin_email",
                problem: Problem::InvalidEmail,
            }))
        }
    }
}
