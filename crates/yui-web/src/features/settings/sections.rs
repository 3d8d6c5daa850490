//! The form of each section: shown filled with the stored settings, checked with
//! the tenant file's rules when sent, shown again with the input and every field's
//! problem, or saved.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use tera::Context;
use yui_domain::account::FieldError;
use yui_domain::settings::{
    self, BrandingForm, ConsentForm, IntroductionForm, MailForm, NamesForm, SettingsSection,
    TemplatesForm,
};
use yui_domain::tenant::CONSENT_TEXT_MAX;
use yui_domain::{Locale, Tenant};

use super::{Change, Group, Inputs, SectionPage, commit_section, render_section};
use crate::AppState;
use crate::error::PageError;
use crate::extract::{ClientIp, CsrfForm, Lang, Staff, TenantConfigure};
use crate::features::events::form::text;

#[derive(Debug, Default, Deserialize)]
pub(super) struct Done {
    done: Option<String>,
}

/// What every section's page needs besides its inputs.
struct Ctx<'a> {
    state: &'a AppState,
    locale: Locale,
    staff: &'a Staff<TenantConfigure>,
}

impl Ctx<'_> {
    fn inputs<'e>(&'e self, errors: &'e [FieldError]) -> Inputs<'e> {
        Inputs {
            state: self.state,
            locale: self.locale,
            errors,
        }
    }

    fn legend(&self, key: &str) -> Option<String> {
        Some(text(self.state, self.locale, key))
    }

    /// The page, with the notice of a save just made or the problems of one refused.
    fn page(
        &self,
        jar: CookieJar,
        section: SettingsSection,
        groups: Vec<Group>,
        errors: &[FieldError],
        done: bool,
        extra: Context,
    ) -> Response {
        let status = if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        let notice =
            (done && errors.is_empty()).then(|| text(self.state, self.locale, "set_saved"));
        render_section(
            self.state,
            self.locale,
            jar,
            self.staff,
            SectionPage {
                section,
                groups,
                summary: self.inputs(errors).summary(),
                notice,
                status,
                extra,
            },
        )
    }
}

fn locale_of(lang: Lang, staff: &Staff<TenantConfigure>) -> Locale {
    lang.or(staff.tenant.record.tenant.default_locale)
}

// ---- names -----------------------------------------------------------------------

fn names_groups(c: &Ctx<'_>, f: &NamesForm, errors: &[FieldError]) -> Vec<Group> {
    let i = c.inputs(errors);
    let locales = [
        ("ja", text(c.state, c.locale, "set_locale_ja")),
        ("en", text(c.state, c.locale, "set_locale_en")),
    ];
    vec![Group {
        legend: None,
        fields: vec![
            i.field("name_ja", "text", &f.name_ja, settings::NAME_MAX),
            i.field("name_en", "text", &f.name_en, settings::NAME_MAX),
            i.field("name_kana", "text", &f.name_kana, settings::NAME_MAX),
            i.select("default_locale", &f.default_locale, &locales),
        ],
    }]
}

pub(super) async fn names_page(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<TenantConfigure>,
    jar: CookieJar,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    let c = Ctx {
        state: &state,
        locale: locale_of(lang, &staff),
        staff: &staff,
    };
    let form = NamesForm::of(&staff.tenant.record.tenant);
    let groups = names_groups(&c, &form, &[]);
    Ok(c.page(
        jar,
        SettingsSection::Names,
        groups,
        &[],
        q.done.is_some(),
        Context::new(),
    ))
}

pub(super) async fn save_names(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<TenantConfigure>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<NamesForm>,
) -> Result<Response, PageError> {
    let c = Ctx {
        state: &state,
        locale: locale_of(lang, &staff),
        staff: &staff,
    };
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    let current = tx.settings_for_update().await?;
    match form.check(&current) {
        Ok(after) => {
            commit_section(
                &state,
                &staff,
                ip,
                tx,
                Change {
                    section: SettingsSection::Names,
                    before: &current,
                    after: &after,
                    logo: None,
                },
            )
            .await
        }
        Err(errors) => {
            tx.rollback().await?;
            let groups = names_groups(&c, &form, &errors);
            Ok(c.page(
                jar,
                SettingsSection::Names,
                groups,
                &errors,
                false,
                Context::new(),
            ))
        }
    }
}

// ---- introduction ----------------------------------------------------------------

fn introduction_groups(c: &Ctx<'_>, f: &IntroductionForm, errors: &[FieldError]) -> Vec<Group> {
    let i = c.inputs(errors);
    let paragraphs_max =
        settings::INTRODUCTION_PARAGRAPHS_MAX * settings::INTRODUCTION_PARAGRAPH_MAX;
    let facts_max = settings::FACTS_MAX * (settings::FACT_LABEL_MAX + settings::FACT_VALUE_MAX + 3);
    let story = |lang: &str,
                 heading: &'static str,
                 paragraphs: &'static str,
                 facts: &'static str,
                 v: [&str; 3]| {
        let mut fields = vec![
            i.field(heading, "text", v[0], settings::INTRODUCTION_HEADING_MAX),
            i.field(paragraphs, "textarea", v[1], paragraphs_max),
            i.field(facts, "textarea", v[2], facts_max),
        ];
        // The story is optional: the landing page shows the one paragraph without it.
        for f in &mut fields {
            f.required = false;
        }
        Group {
            legend: c.legend(&format!("set_group_story_{lang}")),
            fields,
        }
    };
    let ja = story(
        "ja",
        "heading_ja",
        "paragraphs_ja",
        "facts_ja",
        [&f.heading_ja, &f.paragraphs_ja, &f.facts_ja],
    );
    let en = story(
        "en",
        "heading_en",
        "paragraphs_en",
        "facts_en",
        [&f.heading_en, &f.paragraphs_en, &f.facts_en],
    );
    vec![
        Group {
            legend: c.legend("set_group_intro"),
            fields: vec![
                i.field("intro_ja", "textarea", &f.intro_ja, settings::INTRO_MAX),
                i.field("intro_en", "textarea", &f.intro_en, settings::INTRO_MAX),
            ],
        },
        ja,
        en,
    ]
}

pub(super) async fn introduction_page(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<TenantConfigure>,
    jar: CookieJar,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    let c = Ctx {
        state: &state,
        locale: locale_of(lang, &staff),
        staff: &staff,
    };
    let mut tx = state.store.tenant(staff.tenant.id).read().await?;
    let ja = tx.introduction(Locale::Ja).await?;
    let en = tx.introduction(Locale::En).await?;
    tx.commit().await?;
    let form = IntroductionForm::of(&staff.tenant.record.tenant, ja.as_ref(), en.as_ref());
    let groups = introduction_groups(&c, &form, &[]);
    Ok(c.page(
        jar,
        SettingsSection::Introduction,
        groups,
        &[],
        q.done.is_some(),
        Context::new(),
    ))
}

pub(super) async fn save_introduction(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<TenantConfigure>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<IntroductionForm>,
) -> Result<Response, PageError> {
    let c = Ctx {
        state: &state,
        locale: locale_of(lang, &staff),
        staff: &staff,
    };
    let now = state.now();
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    let current = tx.settings_for_update().await?;
    match form.check(&current) {
        Ok(checked) => {
            for (locale, story) in [(Locale::Ja, &checked.ja), (Locale::En, &checked.en)] {
                match story {
                    Some(s) => tx.put_introduction(locale, s, now).await?,
                    None => tx.remove_introduction(locale).await?,
                }
            }
            commit_section(
                &state,
                &staff,
                ip,
                tx,
                Change {
                    section: SettingsSection::Introduction,
                    before: &current,
                    after: &checked.tenant,
                    logo: None,
                },
            )
            .await
        }
        Err(errors) => {
            tx.rollback().await?;
            let groups = introduction_groups(&c, &form, &errors);
            Ok(c.page(
                jar,
                SettingsSection::Introduction,
                groups,
                &errors,
                false,
                Context::new(),
            ))
        }
    }
}

// ---- branding --------------------------------------------------------------------

fn branding_groups(c: &Ctx<'_>, f: &BrandingForm, errors: &[FieldError]) -> Vec<Group> {
    let i = c.inputs(errors);
    vec![Group {
        legend: None,
        fields: vec![
            i.field("primary", "text", &f.primary, 7),
            i.field("accent", "text", &f.accent, 7),
        ],
    }]
}

/// What the branding page shows besides its colours: the current logo and the
/// upload form (with its problem, when an upload was refused).
pub(super) fn branding_extra(
    state: &AppState,
    locale: Locale,
    tenant: &Tenant,
    version: i64,
    logo_error: Option<&FieldError>,
) -> Context {
    let mut ctx = Context::new();
    ctx.insert(
        "logo_src",
        &format!("/t/{}/logo.svg?v={version}", tenant.slug),
    );
    ctx.insert(
        "upload_action",
        &format!("/t/{}/settings/branding/logo", tenant.slug),
    );
    ctx.insert("logo_label", &text(state, locale, "set_field_logo"));
    ctx.insert("logo_hint", &text(state, locale, "set_hint_logo"));
    ctx.insert(
        "logo_error",
        &logo_error.map(|e| {
            crate::render::labelled_message(
                state,
                locale,
                &text(state, locale, "set_field_logo"),
                e.problem,
            )
        }),
    );
    ctx
}

pub(super) async fn branding_page(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<TenantConfigure>,
    jar: CookieJar,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    let c = Ctx {
        state: &state,
        locale: locale_of(lang, &staff),
        staff: &staff,
    };
    let t = &staff.tenant.record.tenant;
    let groups = branding_groups(&c, &BrandingForm::of(t), &[]);
    let extra = branding_extra(
        &state,
        c.locale,
        t,
        staff.tenant.record.updated_at.timestamp(),
        None,
    );
    Ok(c.page(
        jar,
        SettingsSection::Branding,
        groups,
        &[],
        q.done.is_some(),
        extra,
    ))
}

pub(super) async fn save_branding(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<TenantConfigure>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<BrandingForm>,
) -> Result<Response, PageError> {
    let c = Ctx {
        state: &state,
        locale: locale_of(lang, &staff),
        staff: &staff,
    };
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    let current = tx.settings_for_update().await?;
    match form.check(&current) {
        Ok(after) => {
            commit_section(
                &state,
                &staff,
                ip,
                tx,
                Change {
                    section: SettingsSection::Branding,
                    before: &current,
                    after: &after,
                    logo: None,
                },
            )
            .await
        }
        Err(errors) => {
            tx.rollback().await?;
            let groups = branding_groups(&c, &form, &errors);
            let extra = branding_extra(
                &state,
                c.locale,
                &current,
                staff.tenant.record.updated_at.timestamp(),
                None,
            );
            Ok(c.page(
                jar,
                SettingsSection::Branding,
                groups,
                &errors,
                false,
                extra,
            ))
        }
    }
}

// ---- consent ---------------------------------------------------------------------

fn consent_groups(c: &Ctx<'_>, f: &ConsentForm, errors: &[FieldError]) -> Vec<Group> {
    let i = c.inputs(errors);
    vec![Group {
        legend: None,
        fields: vec![
            i.field("consent_ja", "textarea", &f.consent_ja, CONSENT_TEXT_MAX),
            i.field("consent_en", "textarea", &f.consent_en, CONSENT_TEXT_MAX),
        ],
    }]
}

fn consent_extra(state: &AppState, locale: Locale, t: &Tenant) -> Context {
    let mut ctx = Context::new();
    ctx.insert(
        "notes",
        &vec![
            text(state, locale, "set_consent_version")
                .replace("{n}", &t.consent.version.to_string()),
        ],
    );
    ctx
}

pub(super) async fn consent_page(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<TenantConfigure>,
    jar: CookieJar,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    let c = Ctx {
        state: &state,
        locale: locale_of(lang, &staff),
        staff: &staff,
    };
    let t = &staff.tenant.record.tenant;
    let groups = consent_groups(&c, &ConsentForm::of(t), &[]);
    Ok(c.page(
        jar,
        SettingsSection::Consent,
        groups,
        &[],
        q.done.is_some(),
        consent_extra(&state, c.locale, t),
    ))
}

pub(super) async fn save_consent(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<TenantConfigure>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<ConsentForm>,
) -> Result<Response, PageError> {
    let c = Ctx {
        state: &state,
        locale: locale_of(lang, &staff),
        staff: &staff,
    };
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    let current = tx.settings_for_update().await?;
    let latest = tx.latest_consent_version().await?;
    match form.check(&current, latest) {
        Ok(after) => {
            commit_section(
                &state,
                &staff,
                ip,
                tx,
                Change {
                    section: SettingsSection::Consent,
                    before: &current,
                    after: &after,
                    logo: None,
                },
            )
            .await
        }
        Err(errors) => {
            tx.rollback().await?;
            let groups = consent_groups(&c, &form, &errors);
            Ok(c.page(
                jar,
                SettingsSection::Consent,
                groups,
                &errors,
                false,
                consent_extra(&state, c.locale, &current),
            ))
        }
    }
}

// ---- mail ------------------------------------------------------------------------

fn mail_groups(c: &Ctx<'_>, f: &MailForm, errors: &[FieldError]) -> Vec<Group> {
    let i = c.inputs(errors);
    vec![Group {
        legend: None,
        fields: vec![
            i.field(
                "sender_name",
                "text",
                &f.sender_name,
                settings::SENDER_NAME_MAX,
            ),
            i.field("sender_address", "email", &f.sender_address, 254),
        ],
    }]
}

pub(super) async fn mail_page(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<TenantConfigure>,
    jar: CookieJar,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    let c = Ctx {
        state: &state,
        locale: locale_of(lang, &staff),
        staff: &staff,
    };
    let groups = mail_groups(&c, &MailForm::of(&staff.tenant.record.tenant), &[]);
    Ok(c.page(
        jar,
        SettingsSection::Mail,
        groups,
        &[],
        q.done.is_some(),
        Context::new(),
    ))
}

pub(super) async fn save_mail(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<TenantConfigure>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<MailForm>,
) -> Result<Response, PageError> {
    let c = Ctx {
        state: &state,
        locale: locale_of(lang, &staff),
        staff: &staff,
    };
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    let current = tx.settings_for_update().await?;
    match form.check(&current) {
        Ok(after) => {
            commit_section(
                &state,
                &staff,
                ip,
                tx,
                Change {
                    section: SettingsSection::Mail,
                    before: &current,
                    after: &after,
                    logo: None,
                },
            )
            .await
        }
        Err(errors) => {
            tx.rollback().await?;
            let groups = mail_groups(&c, &form, &errors);
            Ok(c.page(
                jar,
                SettingsSection::Mail,
                groups,
                &errors,
                false,
                Context::new(),
            ))
        }
    }
}

// ---- templates -------------------------------------------------------------------

fn templates_groups(c: &Ctx<'_>, f: &TemplatesForm, errors: &[FieldError]) -> Vec<Group> {
    let i = c.inputs(errors);
    let formats: Vec<(&str, String)> = ["online", "onsite", "hybrid"]
        .into_iter()
        .map(|code| (code, text(c.state, c.locale, &format!("format_{code}"))))
        .collect();
    let max = settings::TEMPLATE_TITLE_MAX;
    let event = |kind: &str, names: [&'static str; 5], v: [&str; 5]| Group {
        legend: c.legend(&format!("set_group_{kind}")),
        fields: vec![
            i.field(names[0], "text", v[0], max),
            i.field(names[1], "text", v[1], max),
            i.select(names[2], v[2], &formats),
            i.field(names[3], "number", v[3], 12),
            i.field(names[4], "number", v[4], 12),
        ],
    };
    vec![
        event(
            "seminar",
            [
                "seminar_title_ja",
                "seminar_title_en",
                "seminar_format",
                "seminar_capacity",
                "seminar_days",
            ],
            [
                &f.seminar_title_ja,
                &f.seminar_title_en,
                &f.seminar_format,
                &f.seminar_capacity,
                &f.seminar_days,
            ],
        ),
        event(
            "lecture",
            [
                "lecture_title_ja",
                "lecture_title_en",
                "lecture_format",
                "lecture_capacity",
                "lecture_days",
            ],
            [
                &f.lecture_title_ja,
                &f.lecture_title_en,
                &f.lecture_format,
                &f.lecture_capacity,
                &f.lecture_days,
            ],
        ),
        event(
            "fieldwork",
            [
                "fieldwork_title_ja",
                "fieldwork_title_en",
                "fieldwork_format",
                "fieldwork_capacity",
                "fieldwork_days",
            ],
            [
                &f.fieldwork_title_ja,
                &f.fieldwork_title_en,
                &f.fieldwork_format,
                &f.fieldwork_capacity,
                &f.fieldwork_days,
            ],
        ),
        Group {
            legend: c.legend("set_group_round"),
            fields: vec![
                i.field(
                    "talent_preference_limit",
                    "number",
                    &f.talent_preference_limit,
                    12,
                ),
                i.field(
                    "host_preference_limit",
                    "number",
                    &f.host_preference_limit,
                    12,
                ),
                i.field("project_capacity", "number", &f.project_capacity, 12),
            ],
        },
        Group {
            legend: c.legend("set_group_other"),
            fields: vec![
                i.field(
                    "scouting_daily_limit",
                    "number",
                    &f.scouting_daily_limit,
                    12,
                ),
                i.field("event_reminders", "text", &f.event_reminders, 60),
            ],
        },
    ]
}

pub(super) async fn templates_page(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<TenantConfigure>,
    jar: CookieJar,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    let c = Ctx {
        state: &state,
        locale: locale_of(lang, &staff),
        staff: &staff,
    };
    let groups = templates_groups(&c, &TemplatesForm::of(&staff.tenant.record.tenant), &[]);
    Ok(c.page(
        jar,
        SettingsSection::Templates,
        groups,
        &[],
        q.done.is_some(),
        Context::new(),
    ))
}

pub(super) async fn save_templates(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<TenantConfigure>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<TemplatesForm>,
) -> Result<Response, PageError> {
    let c = Ctx {
        state: &state,
        locale: locale_of(lang, &staff),
        staff: &staff,
    };
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    let current = tx.settings_for_update().await?;
    match form.check(&current) {
        Ok(after) => {
            commit_section(
                &state,
                &staff,
                ip,
                tx,
                Change {
                    section: SettingsSection::Templates,
                    before: &current,
                    after: &after,
                    logo: None,
                },
            )
            .await
        }
        Err(errors) => {
            tx.rollback().await?;
            let groups = templates_groups(&c, &form, &errors);
            Ok(c.page(
                jar,
                SettingsSection::Templates,
                groups,
                &errors,
                false,
                Context::new(),
            ))
        }
    }
}
