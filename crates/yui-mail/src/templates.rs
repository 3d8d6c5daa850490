//! Mail templates: subject/text/HTML triples per kind and locale, embedded in the
//! binary, with per-tenant overrides read from the tenant folders at start-up.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tera::{Context, Tera};
use yui_domain::Locale;

use crate::outbox::MailTenant;
use crate::{MailError, Result};

/// The mails Yui sends. Each has a subject, a text and an HTML template per locale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    /// Confirms the address of a new account.
    VerifyEmail,
    /// Lets an account choose a new password.
    PasswordReset,
    /// Signs an account in without a password.
    MagicLink,
    /// Invites someone to a tenant's staff (coordinator, mentor, municipal staff …).
    StaffInvitation,
    /// The hourly digest of new messages on a person's applications.
    ApplicationDigest,
    /// Tells a talent of the shared pool that a region's coordinator scouted them
    /// for a project (スカウト).
    Scout,
    /// A registration for an event is confirmed: when, where, the check-in code.
    EventConfirmed,
    /// The event is full; the registration waits for a seat.
    EventWaitlisted,
    /// The coordinator screens this event's registrations; the decision follows.
    EventPending,
    /// A seat freed up and went to a waitlisted registration, now confirmed.
    EventPromoted,
    /// A screened registration was not accepted.
    EventDeclined,
    /// An event a person is registered for is near.
    EventReminder,
    /// An event was called off.
    EventCancelled,
    /// A round's result is out: the talent is matched with a project.
    RoundMatched,
    /// A round's result is out: the talent is not matched.
    RoundUnmatched,
    /// A round's result is out: talents are matched with the host's project.
    RoundHostMatched,
    /// A tenant's newsletter to a member who opted in; its subject line is the
    /// staff's, appended by [`Outbox::enqueue_newsletter`](crate::Outbox::enqueue_newsletter).
    Newsletter,
    /// A coordinator's daily list of the tenant's engagements at risk.
    AtRiskDigest,
    /// A case study about a person's engagement awaits their approval.
    CaseAwaitingApproval,
}

impl MailKind {
    pub const ALL: [MailKind; 19] = [
        MailKind::VerifyEmail,
        MailKind::PasswordReset,
        MailKind::MagicLink,
        MailKind::StaffInvitation,
        MailKind::ApplicationDigest,
        MailKind::Scout,
        MailKind::EventConfirmed,
        MailKind::EventWaitlisted,
        MailKind::EventPending,
        MailKind::EventPromoted,
        MailKind::EventDeclined,
        MailKind::EventReminder,
        MailKind::EventCancelled,
        MailKind::RoundMatched,
        MailKind::RoundUnmatched,
        MailKind::RoundHostMatched,
        MailKind::Newsletter,
        MailKind::AtRiskDigest,
        MailKind::CaseAwaitingApproval,
    ];

    /// The template name, as in file names and the outbox's `template` column.
    pub fn name(self) -> &'static str {
        match self {
            MailKind::VerifyEmail => "verify_email",
            MailKind::PasswordReset => "password_reset",
            MailKind::MagicLink => "magic_link",
            MailKind::StaffInvitation => "staff_invitation",
            MailKind::ApplicationDigest => "application_digest",
            MailKind::Scout => "scout",
            MailKind::EventConfirmed => "event_confirmed",
            MailKind::EventWaitlisted => "event_waitlisted",
            MailKind::EventPending => "event_pending",
            MailKind::EventPromoted => "event_promoted",
            MailKind::EventDeclined => "event_declined",
            MailKind::EventReminder => "event_reminder",
            MailKind::EventCancelled => "event_cancelled",
            MailKind::RoundMatched => "round_matched",
            MailKind::RoundUnmatched => "round_unmatched",
            MailKind::RoundHostMatched => "round_host_matched",
            MailKind::Newsletter => "newsletter",
            MailKind::AtRiskDigest => "at_risk_digest",
            MailKind::CaseAwaitingApproval => "case_awaiting_approval",
        }
    }

    pub fn parse(name: &str) -> Option<MailKind> {
        MailKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The variables the caller passes in [`NewMail::vars`](crate::NewMail::vars).
    /// `display_name` may be an empty string (the templates then greet without a
    /// name); `expires_minutes` is a whole number. `tenant_name`, `platform_name`,
    /// `locale` and `expires` (the expiry in words) are added by the renderer.
    pub fn variables(self) -> &'static [&'static str] {
        match self {
            MailKind::VerifyEmail | MailKind::PasswordReset | MailKind::MagicLink => {
                &["display_name", "link", "expires_minutes"]
            }
            MailKind::StaffInvitation => &[
                "display_name",
                "inviter_name",
                "role_name",
                "link",
                "expires_minutes",
            ],
            // `count` is the number of new messages as text; `link` the first thread.
            MailKind::ApplicationDigest => &["display_name", "count", "link"],
            MailKind::Scout => &["display_name", "project_title", "message", "link"],
            // `when` is the event's time as Tokyo text ("2025年8月25日(月) 19:00–20:00"),
            // `place` the venue or "オンライン"; an empty `online_url` is left out.
            MailKind::EventConfirmed | MailKind::EventPromoted => &[
                "display_name",
                "event_title",
                "when",
                "place",
                "online_url",
                "checkin_code",
                "link",
            ],
            MailKind::EventWaitlisted | MailKind::EventPending | MailKind::EventCancelled => {
                &["display_name", "event_title", "when", "link"]
            }
            MailKind::EventDeclined => &["display_name", "event_title", "link"],
            // `lead` says how far off the event is, in the mail's language: "2日後", "in 2 days".
            MailKind::EventReminder => &[
                "display_name",
                "event_title",
                "when",
                "place",
                "online_url",
                "checkin_code",
                "link",
                "lead",
            ],
            MailKind::RoundMatched => &["display_name", "round_title", "project_title", "link"],
            MailKind::RoundUnmatched => &["display_name", "round_title", "link"],
            // `count` is the number of talents matched with the project, as text.
            MailKind::RoundHostMatched => &[
                "display_name",
                "round_title",
                "project_title",
                "count",
                "link",
            ],
            // `title` is the staff's subject, `body` their text, `link` the
            // unsubscribe link.
            MailKind::Newsletter => &["display_name", "title", "body", "link"],
            // `count` as text; `list` one line per engagement (talent, project, why).
            MailKind::AtRiskDigest => &["display_name", "count", "list", "link"],
            // `link` opens the review page where the person approves or asks for changes.
            MailKind::CaseAwaitingApproval => &["display_name", "case_title", "link"],
        }
    }
}

impl fmt::Display for MailKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One of the three parts of a mail template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Subject,
    Text,
    Html,
}

impl Part {
    const ALL: [Part; 3] = [Part::Subject, Part::Text, Part::Html];

    fn extension(self) -> &'static str {
        match self {
            Part::Subject => "subject",
            Part::Text => "txt",
            Part::Html => "html",
        }
    }

    fn parse(extension: &str) -> Option<Part> {
        Part::ALL.into_iter().find(|p| p.extension() == extension)
    }
}

macro_rules! builtin_templates {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../templates/", $path)))),*]
    };
}

/// The templates compiled into the binary, named `<locale>/<file>`.
const BUILTIN: &[(&str, &str)] = builtin_templates!(
    "ja/layout.html",
    "ja/verify_email.subject",
    "ja/verify_email.txt",
    "ja/verify_email.html",
    "ja/password_reset.subject",
    "ja/password_reset.txt",
    "ja/password_reset.html",
    "ja/magic_link.subject",
    "ja/magic_link.txt",
    "ja/magic_link.html",
    "ja/staff_invitation.subject",
    "ja/staff_invitation.txt",
    "ja/staff_invitation.html",
    "ja/application_digest.subject",
    "ja/application_digest.txt",
    "ja/application_digest.html",
    "ja/scout.subject",
    "ja/scout.txt",
    "ja/scout.html",
    "ja/event_confirmed.subject",
    "ja/event_confirmed.txt",
    "ja/event_confirmed.html",
    "ja/event_waitlisted.subject",
    "ja/event_waitlisted.txt",
    "ja/event_waitlisted.html",
    "ja/event_pending.subject",
    "ja/event_pending.txt",
    "ja/event_pending.html",
    "ja/event_promoted.subject",
    "ja/event_promoted.txt",
    "ja/event_promoted.html",
    "ja/event_declined.subject",
    "ja/event_declined.txt",
    "ja/event_declined.html",
    "ja/event_reminder.subject",
    "ja/event_reminder.txt",
    "ja/event_reminder.html",
    "ja/event_cancelled.subject",
    "ja/event_cancelled.txt",
    "ja/event_cancelled.html",
    "ja/round_matched.subject",
    "ja/round_matched.txt",
    "ja/round_matched.html",
    "ja/round_unmatched.subject",
    "ja/round_unmatched.txt",
    "ja/round_unmatched.html",
    "ja/round_host_matched.subject",
    "ja/round_host_matched.txt",
    "ja/round_host_matched.html",
    "ja/newsletter.subject",
    "ja/newsletter.txt",
    "ja/newsletter.html",
    "ja/at_risk_digest.subject",
    "ja/at_risk_digest.txt",
    "ja/at_risk_digest.html",
    "ja/case_awaiting_approval.subject",
    "ja/case_awaiting_approval.txt",
    "ja/case_awaiting_approval.html",
    "en/layout.html",
    "en/verify_email.subject",
    "en/verify_email.txt",
    "en/verify_email.html",
    "en/password_reset.subject",
    "en/password_reset.txt",
    "en/password_reset.html",
    "en/magic_link.subject",
    "en/magic_link.txt",
    "en/magic_link.html",
    "en/staff_invitation.subject",
    "en/staff_invitation.txt",
    "en/staff_invitation.html",
    "en/application_digest.subject",
    "en/application_digest.txt",
    "en/application_digest.html",
    "en/scout.subject",
    "en/scout.txt",
    "en/scout.html",
    "en/event_confirmed.subject",
    "en/event_confirmed.txt",
    "en/event_confirmed.html",
    "en/event_waitlisted.subject",
    "en/event_waitlisted.txt",
    "en/event_waitlisted.html",
    "en/event_pending.subject",
    "en/event_pending.txt",
    "en/event_pending.html",
    "en/event_promoted.subject",
    "en/event_promoted.txt",
    "en/event_promoted.html",
    "en/event_declined.subject",
    "en/event_declined.txt",
    "en/event_declined.html",
    "en/event_reminder.subject",
    "en/event_reminder.txt",
    "en/event_reminder.html",
    "en/event_cancelled.subject",
    "en/event_cancelled.txt",
    "en/event_cancelled.html",
    "en/round_matched.subject",
    "en/round_matched.txt",
    "en/round_matched.html",
    "en/round_unmatched.subject",
    "en/round_unmatched.txt",
    "en/round_unmatched.html",
    "en/round_host_matched.subject",
    "en/round_host_matched.txt",
    "en/round_host_matched.html",
    "en/newsletter.subject",
    "en/newsletter.txt",
    "en/newsletter.html",
    "en/at_risk_digest.subject",
    "en/at_risk_digest.txt",
    "en/at_risk_digest.html",
    "en/case_awaiting_approval.subject",
    "en/case_awaiting_approval.txt",
    "en/case_awaiting_approval.html",
);

/// The platform's own name, used as `tenant_name` for mail outside any tenant.
fn platform_name(locale: Locale) -> &'static str {
    match locale {
        Locale::Ja => "Yui（結）",
        Locale::En => "Yui",
    }
}

/// A rendered mail, ready to be stored in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMail {
    /// One line, whitespace collapsed.
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// All mail templates: the built-in ones and the tenants' overrides.
#[derive(Debug, Clone)]
pub struct Templates {
    tera: Tera,
    /// Names of override templates: `tenants/<slug>/<locale>/<kind>.<part>`.
    overrides: BTreeSet<String>,
}

impl Templates {
    /// Only the templates compiled into the binary.
    pub fn builtin() -> Result<Templates> {
        let mut tera = Tera::default();
        // Only the HTML part is markup. Text and subject are sent as they are, so
        // escaping there would show "&amp;" to the reader.
        tera.autoescape_on(vec![".html"]);
        tera.set_escape_fn(escape_html);
        tera.add_raw_templates(BUILTIN.iter().copied())
            .map_err(|e| MailError::template("built-in templates", &e))?;
        let templates = Templates {
            tera,
            overrides: BTreeSet::new(),
        };
        templates.check(None)?;
        Ok(templates)
    }

    /// The built-in templates plus the overrides found under `tenants_root`
    /// (usually `tenants/`): `<tenants_root>/<slug>/mail/<locale>/<kind>.<part>`,
    /// where `<part>` is `subject`, `txt` or `html`. An override replaces only the
    /// part it provides; the others stay built-in. An override's HTML may extend
    /// `"<locale>/layout.html"` like the built-in ones.
    ///
    /// Every template is rendered once with sample values, so a misspelt file name,
    /// a syntax error, an unknown variable or a subject that uses anything but
    /// `tenant_name` and `platform_name` stops the start-up instead of a request.
    #[tracing::instrument(skip_all, err(level = "warn"))]
    pub fn load(tenants_root: Option<&Path>) -> Result<Templates> {
        let mut templates = Templates::builtin()?;
        let Some(root) = tenants_root else {
            return Ok(templates);
        };
        let mut found = Vec::new();
        for tenant_dir in sorted_entries(root)? {
            let mail_dir = tenant_dir.join("mail");
            if !tenant_dir.is_dir() || !mail_dir.is_dir() {
                continue;
            }
            let slug = file_name(&tenant_dir);
            for locale_dir in sorted_entries(&mail_dir)? {
                let tag = file_name(&locale_dir);
                let locale = match tag.as_str() {
                    "ja" => Locale::Ja,
                    "en" => Locale::En,
                    _ => {
                        return Err(MailError::Config(format!(
                            "{}: not a locale folder; use ja/ or en/",
                            locale_dir.display()
                        )));
                    }
                };
                for file in sorted_entries(&locale_dir)? {
                    let name = file_name(&file);
                    if name.starts_with('.') {
                        continue;
                    }
                    let parsed = name
                        .rsplit_once('.')
                        .and_then(|(kind, ext)| Some((MailKind::parse(kind)?, Part::parse(ext)?)));
                    let Some((kind, part)) = parsed else {
                        return Err(MailError::Config(format!(
                            "{}: not a mail template; expected <kind>.subject|txt|html with kind one of {}",
                            file.display(),
                            MailKind::ALL.map(MailKind::name).join(", ")
                        )));
                    };
                    let content =
                        std::fs::read_to_string(&file).map_err(|source| MailError::Io {
                            context: format!("reading {}", file.display()),
                            source,
                        })?;
                    found.push((override_name(&slug, locale, kind, part), content));
                }
            }
        }
        if found.is_empty() {
            return Ok(templates);
        }
        templates
            .tera
            .add_raw_templates(found.iter().map(|(n, c)| (n.as_str(), c.as_str())))
            .map_err(|e| MailError::template("tenant overrides", &e))?;
        let mut slugs = BTreeSet::new();
        for (name, _) in found {
            if let Some(slug) = name.split('/').nth(1) {
                slugs.insert(slug.to_owned());
            }
            templates.overrides.insert(name);
        }
        for slug in &slugs {
            templates.check(Some(slug))?;
        }
        tracing::info!(
            overrides = templates.overrides.len(),
            tenants = slugs.len(),
            "loaded mail template overrides"
        );
        Ok(templates)
    }

    /// Names of the loaded tenant overrides (`tenants/<slug>/<locale>/<kind>.<part>`).
    pub fn overrides(&self) -> impl Iterator<Item = &str> {
        self.overrides.iter().map(String::as_str)
    }

    /// Renders one mail. `vars` is a JSON object with the kind's
    /// [`variables`](MailKind::variables); a missing variable is an error.
    pub fn render(
        &self,
        tenant: Option<&MailTenant>,
        locale: Locale,
        kind: MailKind,
        vars: &serde_json::Value,
    ) -> Result<RenderedMail> {
        let slug = tenant.map(|t| t.slug.as_str());
        let tenant_name = tenant.map_or(platform_name(locale), |t| t.names.get(locale));

        // Headers see only names from configuration, never anything a user typed.
        let mut header = Context::new();
        header.insert("tenant_name", tenant_name);
        header.insert("platform_name", platform_name(locale));

        let mut body = match vars {
            serde_json::Value::Null => Context::new(),
            serde_json::Value::Object(_) => Context::from_value(vars.clone())
                .map_err(|e| MailError::template(kind.name(), &e))?,
            _ => {
                return Err(MailError::Template {
                    name: kind.name().to_owned(),
                    message: "variables must be a JSON object".to_owned(),
                });
            }
        };
        body.extend(header.clone());
        body.insert("locale", locale.tag());
        if let Some(minutes) = vars.get("expires_minutes") {
            let Some(minutes) = minutes.as_u64() else {
                return Err(MailError::Template {
                    name: kind.name().to_owned(),
                    message: "expires_minutes must be a whole number".to_owned(),
                });
            };
            body.insert("expires", &expiry_in_words(minutes, locale));
        }

        let subject = self.render_part(slug, locale, kind, Part::Subject, &header)?;
        let subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
        if subject.is_empty() {
            return Err(MailError::Template {
                name: self.name_for(slug, locale, kind, Part::Subject),
                message: "the subject is empty".to_owned(),
            });
        }
        let text = self.render_part(slug, locale, kind, Part::Text, &body)?;
        let text = format!("{}\n", text.replace("\r\n", "\n").trim_end());
        let html = self.render_part(slug, locale, kind, Part::Html, &body)?;
        Ok(RenderedMail {
            subject,
            text,
            html,
        })
    }

    fn render_part(
        &self,
        slug: Option<&str>,
        locale: Locale,
        kind: MailKind,
        part: Part,
        context: &Context,
    ) -> Result<String> {
        let name = self.name_for(slug, locale, kind, part);
        self.tera
            .render(&name, context)
            .map_err(|e| MailError::template(name, &e))
    }

    fn name_for(&self, slug: Option<&str>, locale: Locale, kind: MailKind, part: Part) -> String {
        if let Some(slug) = slug {
            let name = override_name(slug, locale, kind, part);
            if self.overrides.contains(&name) {
                return name;
            }
        }
        format!("{}/{}.{}", locale.tag(), kind.name(), part.extension())
    }

    /// Renders every kind in both locales with sample values, as `slug` would.
    fn check(&self, slug: Option<&str>) -> Result<()> {
        let tenant = slug.map(|slug| MailTenant {
            id: yui_domain::TenantId::new(0),
            slug: slug.to_owned(),
            names: yui_domain::locale::Localized {
                ja: "サンプル県".to_owned(),
                en: "Sample Prefecture".to_owned(),
            },
            sender: crate::MailSender {
                sender_name: "sample".to_owned(),
                sender_address: "sample@example.invalid".to_owned(),
            },
        });
        for kind in MailKind::ALL {
            let mut vars = serde_json::Map::new();
            for &var in kind.variables() {
                let value = match var {
                    "expires_minutes" => serde_json::Value::from(60),
                    _ => serde_json::Value::from(format!("sample {var}")),
                };
                vars.insert(var.to_owned(), value);
            }
            for locale in Locale::ALL {
                self.render(
                    tenant.as_ref(),
                    locale,
                    kind,
                    &serde_json::Value::Object(vars.clone()),
                )?;
            }
        }
        Ok(())
    }
}

fn override_name(slug: &str, locale: Locale, kind: MailKind, part: Part) -> String {
    format!(
        "tenants/{slug}/{}/{}.{}",
        locale.tag(),
        kind.name(),
        part.extension()
    )
}

fn sorted_entries(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let read = std::fs::read_dir(dir).map_err(|source| MailError::Io {
        context: format!("reading {}", dir.display()),
        source,
    })?;
    let mut paths = Vec::new();
    for entry in read {
        let entry = entry.map_err(|source| MailError::Io {
            context: format!("reading {}", dir.display()),
            source,
        })?;
        paths.push(entry.path());
    }
    paths.sort();
    Ok(paths)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// HTML escaping for text and attribute values. Unlike tera's default it leaves
/// `/` alone, so links stay readable in the HTML source mail clients show.
fn escape_html(input: &str) -> String {
    let mut out = String::with_capacity(input.len() + input.len() / 8);
    for c in input.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            _ => out.push(c),
        }
    }
    out
}

/// A link's lifetime in words: "24時間", "30分", "7日間"; "24 hours", "1 minute".
fn expiry_in_words(minutes: u64, locale: Locale) -> String {
    let (n, unit) = if minutes >= 2 * 1440 && minutes.is_multiple_of(1440) {
        (minutes / 1440, 'd')
    } else if minutes >= 60 && minutes.is_multiple_of(60) {
        (minutes / 60, 'h')
    } else {
        (minutes, 'm')
    };
    match locale {
        Locale::Ja => match unit {
            'd' => format!("{n}日間"),
            'h' => format!("{n}時間"),
            _ => format!("{n}分"),
        },
        Locale::En => {
            let word = match unit {
                'd' => "day",
                'h' => "hour",
                _ => "minute",
            };
            if n == 1 {
                format!("1 {word}")
            } else {
                format!("{n} {word}s")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars() -> serde_json::Value {
        json!({
            "display_name": "<b>山田 花子</b>",
            "link": "https://yui.example/verify?token=a&b=1",
            "expires_minutes": 1440,
        })
    }

    #[test]
    fn builtin_templates_all_render() {
        let t = Templates::builtin().unwrap();
        for kind in MailKind::ALL {
            for locale in Locale::ALL {
                let mut v = vars();
                v["inviter_name"] = json!("佐藤");
                v["role_name"] = json!("コーディネーター");
                v["count"] = json!("3");
                v["project_title"] = json!("<i>古民家カフェ</i>");
                v["message"] = json!("<script>x</script>");
                v["event_title"] = json!("<i>移住相談会</i>");
                v["when"] = json!("2025年8月25日(月) 19:00–20:00");
                v["place"] = json!("釜石市民ホール TETTO");
                v["online_url"] = json!("https://meet.example/abc?x=1&y=2");
                v["checkin_code"] = json!("K7QX-42");
                v["lead"] = json!("2日後");
                v["round_title"] = json!("<i>秋のマッチング</i>");
                v["title"] = json!("<i>秋の交流会</i>");
                v["body"] = json!("<i>本文</i>");
                v["list"] = json!("・<i>山田</i> — 古民家カフェ（満足度が低い）");
                v["case_title"] = json!("<i>ワインのファンづくり</i>");
                let r = t.render(None, locale, kind, &v).unwrap();
                for &var in kind.variables() {
                    // Every variable a kind names is one its mail shows.
                    let shown = match var {
                        "expires_minutes" => continue,
                        "display_name" => "山田 花子",
                        _ => v[var].as_str().unwrap(),
                    };
                    assert!(
                        r.text.contains(shown),
                        "{kind} {locale:?} {var}: {}",
                        r.text
                    );
                }
                assert!(!r.html.contains("<i>"), "{kind} {locale:?}: {}", r.html);
                assert!(!r.subject.contains('\n'));
                assert!(r.text.contains("https://yui.example/verify?token=a&b=1"));
                assert!(
                    r.html
                        .contains("https://yui.example/verify?token=a&amp;b=1")
                );
            }
        }
    }

    fn event_vars(online_url: &str) -> serde_json::Value {
        json!({
            "display_name": "山田 花子",
            "event_title": "遠恋複業 説明会 & 交流会",
            "when": "2025年8月25日(月) 19:00–20:00",
            "place": "オンライン",
            "online_url": online_url,
            "checkin_code": "K7QX-42",
            "link": "https://yui.example/iwate/events/3/registration",
            "lead": "明日",
        })
    }

    #[test]
    fn event_mail_shows_an_online_link_only_when_there_is_one() {
        let t = Templates::builtin().unwrap();
        for kind in [
            MailKind::EventConfirmed,
            MailKind::EventPromoted,
            MailKind::EventReminder,
        ] {
            let without = t.render(None, Locale::Ja, kind, &event_vars("")).unwrap();
            assert!(!without.text.contains("参加URL"), "{}", without.text);
            assert!(!without.html.contains("参加URL"), "{}", without.html);
            assert!(
                without
                    .text
                    .contains("場所：オンライン\n受付コード：K7QX-42\n")
            );

            let url = "https://meet.example/j/1?pwd=a&b";
            let with = t.render(None, Locale::En, kind, &event_vars(url)).unwrap();
            assert!(
                with.text.contains(&format!("Join online: {url}\n")),
                "{}",
                with.text
            );
            assert!(
                with.html
                    .contains("href=\"https://meet.example/j/1?pwd=a&amp;b\""),
                "{}",
                with.html
            );
        }
    }

    #[test]
    fn event_mail_reads_naturally() {
        let t = Templates::builtin().unwrap();
        let r = t
            .render(None, Locale::Ja, MailKind::EventReminder, &event_vars(""))
            .unwrap();
        assert!(r.text.starts_with("山田 花子 様\n"), "{}", r.text);
        assert!(
            r.text
                .contains("「遠恋複業 説明会 & 交流会」は、明日の開催です。"),
            "{}",
            r.text
        );
        assert!(r.html.contains("説明会 &amp; 交流会"), "{}", r.html);
        let r = t
            .render(None, Locale::En, MailKind::EventCancelled, &event_vars(""))
            .unwrap();
        assert_eq!(
            r.subject,
            "Yui: an event you registered for has been called off"
        );
        assert!(r.text.contains("has been called off"), "{}", r.text);
        let mut vars = event_vars("");
        vars["lead"] = json!("in 2 days");
        let r = t
            .render(None, Locale::En, MailKind::EventReminder, &vars)
            .unwrap();
        assert!(r.text.contains("takes place in 2 days."), "{}", r.text);
    }

    #[test]
    fn only_html_is_escaped() {
        let t = Templates::builtin().unwrap();
        let r = t
            .render(None, Locale::Ja, MailKind::VerifyEmail, &vars())
            .unwrap();
        assert!(r.text.starts_with("<b>山田 花子</b> 様\n"), "{}", r.text);
        assert!(
            r.html.contains("&lt;b&gt;山田 花子&lt;/b&gt; 様"),
            "{}",
            r.html
        );
        assert!(!r.html.contains("<b>山田"));
        assert_eq!(r.subject, "【Yui（結）】メールアドレス確認のお願い");
        assert!(r.text.contains("リンクの有効期限は24時間です。"));
    }

    #[test]
    fn missing_variable_is_an_error() {
        let t = Templates::builtin().unwrap();
        let err = t
            .render(
                None,
                Locale::En,
                MailKind::MagicLink,
                &json!({"display_name": ""}),
            )
            .unwrap_err();
        assert!(err.to_string().contains("magic_link"), "{err}");
        let err = t
            .render(None, Locale::En, MailKind::MagicLink, &json!(["x"]))
            .unwrap_err();
        assert!(err.to_string().contains("JSON object"), "{err}");
    }

    #[test]
    fn expiry_words() {
        assert_eq!(expiry_in_words(30, Locale::Ja), "30分");
        assert_eq!(expiry_in_words(90, Locale::Ja), "90分");
        assert_eq!(expiry_in_words(60, Locale::Ja), "1時間");
        assert_eq!(expiry_in_words(1440, Locale::Ja), "24時間");
        assert_eq!(expiry_in_words(7 * 1440, Locale::Ja), "7日間");
        assert_eq!(expiry_in_words(1, Locale::En), "1 minute");
        assert_eq!(expiry_in_words(60, Locale::En), "1 hour");
        assert_eq!(expiry_in_words(1440, Locale::En), "24 hours");
        assert_eq!(expiry_in_words(2880, Locale::En), "2 days");
    }

    #[test]
    fn kind_names_round_trip() {
        for kind in MailKind::ALL {
            assert_eq!(MailKind::parse(kind.name()), Some(kind));
        }
        assert_eq!(MailKind::parse("welcome"), None);
    }
}
