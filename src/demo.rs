//! Demo content for `yui serve --demo`, loaded idempotently: running it twice leaves
//! the same data as running it once. Later features add their demo data here.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use yui_domain::{Introduction, Locale};
use yui_store::{AccountsTx, NewAccount, PlatformReason, Store};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoFile {
    intro: Intros,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Intros {
    ja: Introduction,
    en: Introduction,
}

/// Loads `tenants/<slug>/demo.toml` for every stored tenant that has one.
/// Returns how many tenants got demo content.
pub async fn load(store: &Store, tenants_dir: &Path, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let mut loaded = 0;
    for record in store.list_tenants().await? {
        let file = tenants_dir.join(&record.tenant.slug).join("demo.toml");
        if !file.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&file)?;
        let demo: DemoFile = toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: {}", file.display(), e.message()))?;
        let mut tx = store.tenant(record.id).write().await?;
        for (locale, intro) in [(Locale::Ja, &demo.intro.ja), (Locale::En, &demo.intro.en)] {
            tx.put_introduction(locale, intro, now).await?;
        }
        tx.commit().await?;
        loaded += 1;
    }
    Ok(loaded)
}

/// The password of every demo account. Demo data is for trying Yui out, never for a
/// deployment that holds real people's data.
pub const DEMO_PASSWORD: &str = "yui-demo-2026";

/// Demo accounts: a platform operator and an administrator per tenant, plus a
/// contracted coordinator in Amami whose role ends with the fiscal year. Returns
/// the addresses. Existing accounts and grants are left as they are.
pub async fn load_accounts(store: &Store, now: DateTime<Utc>) -> anyhow::Result<Vec<String>> {
    use yui_authz::{NewGrant, Role, Scope};
    use yui_domain::account::Email;
    let fy_end = yui_domain::fiscal::after_day_in_tokyo(
        yui_domain::FiscalYear::containing(
            now.with_timezone(&yui_domain::fiscal::tokyo()).date_naive(),
        )
        .last_day()
        .ok_or_else(|| anyhow::anyhow!("fiscal year out of range"))?,
    );
    // (address, display name, role, tenant, last instant)
    type Person = (String, String, Role, Option<String>, Option<DateTime<Utc>>);
    let mut people: Vec<Person> = vec![(
        "operator@demo.yui.example".into(),
        "運営 太郎".into(),
        Role::PlatformOperator,
        None,
        None,
    )];
    for record in store.list_tenants().await? {
        let slug = record.tenant.slug.clone();
        let name = format!("{} 管理者", record.tenant.name.ja);
        people.push((
            format!("admin@{slug}.demo.yui.example"),
            name,
            Role::TenantAdmin,
            Some(slug),
            None,
        ));
    }
    people.push((
        "coordinator@amami.demo.yui.example".into(),
        "奄美 事務局".into(),
        Role::Coordinator,
        Some("amami".into()),
        fy_end,
    ));
    let hash = yui_web::security::hash_password(DEMO_PASSWORD.to_owned()).await?;
    let mut emails = Vec::new();
    for (address, name, role, tenant, until) in people {
        if let Some(t) = &tenant
            && store.tenant_by_slug(t).await.is_err()
        {
            continue;
        }
        let email = Email::parse("email", &address).map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut tx = store.platform(PlatformReason::TenantFiles).write().await?;
        let id = match tx.account_by_email(&email).await? {
            Some(a) => a.id,
            None => {
                let new = NewAccount {
                    email: &email,
                    display_name: &name,
                    password_hash: Some(&hash),
                    locale: Locale::Ja,
                };
                tx.create_account(new, now).await?
            }
        };
        tx.commit().await?;
        let mut tx = store.account(id).write().await?;
        tx.mark_email_verified(now).await?;
        tx.commit().await?;
        let scope = if role == Role::PlatformOperator {
            Scope::Global
        } else {
            Scope::Tenant
        };
        let grant = NewGrant {
            account_id: id,
            role,
            scope,
            tenant,
            valid_until: until,
            granted_by: None,
        };
        yui_authz::grant(store, &grant, now).await?;
        emails.push(address);
    }
    Ok(emails)
}
