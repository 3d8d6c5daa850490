//! The home page's list of prefectures and unions, kept in memory on each node as
//! rendered HTML per language and checked against the directory version (one key
//! lookup) on every request: the list is read and rendered again only after a tenant
//! changed, so the home page costs the same with 4 tenants or 1,788.

use std::sync::{Arc, Mutex, PoisonError};

use yui_domain::Locale;
use yui_store::{DirectoryEntry, Store};

use crate::WebError;

/// The rendered list for each language, at one directory version.
#[derive(Debug)]
struct Rendered {
    version: i64,
    /// Japanese, English.
    html: [Option<Arc<str>>; 2],
}

fn slot(locale: Locale) -> usize {
    match locale {
        Locale::Ja => 0,
        Locale::En => 1,
    }
}

/// The cached top-level list.
#[derive(Debug, Default)]
pub struct TopLevelCache {
    cached: Mutex<Option<Rendered>>,
}

impl TopLevelCache {
    /// The list as HTML in `locale`, rendered by `render` when the cache is behind.
    pub(crate) async fn html(
        &self,
        store: &Store,
        locale: Locale,
        render: impl FnOnce(&[DirectoryEntry]) -> Result<String, WebError>,
    ) -> Result<Arc<str>, WebError> {
        let version = store.directory_version().await?;
        let hit = self
            .cached
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .filter(|r| r.version == version)
            .and_then(|r| r.html[slot(locale)].clone());
        if let Some(html) = hit {
            return Ok(html);
        }
        // Read after the version: a change in between only makes the next request
        // read again, never serves an older list as current.
        let list = store.top_level_tenants().await?;
        let html: Arc<str> = render(&list)?.into();
        let mut cached = self.cached.lock().unwrap_or_else(PoisonError::into_inner);
        let current = match cached.take() {
            Some(r) if r.version == version => r,
            _ => Rendered {
                version,
                html: [None, None],
            },
        };
        let mut current = current;
        current.html[slot(locale)] = Some(Arc::clone(&html));
        *cached = Some(current);
        Ok(html)
    }
}
