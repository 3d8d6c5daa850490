//! Demo content for `yui serve --demo`, loaded idempotently: running it twice leaves
//! the same data as running it once. Later features add their demo data here.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use yui_domain::{Introduction, Locale};
use yui_store::Store;

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
        for (locale, intro) in [(Locale::Ja, &demo.intro.ja), (Locale::En, &demo.intro.en)] {
            store
                .put_introduction(record.id, locale, intro, now)
                .await?;
        }
        loaded += 1;
    }
    Ok(loaded)
}
