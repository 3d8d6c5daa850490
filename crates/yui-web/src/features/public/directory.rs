//! The home page's list of prefectures and unions, kept in memory on each node and
//! checked against the directory version (one key lookup) on every request: the
//! list is read again only after a tenant changed, so a page's cost does not grow
//! with the number of tenants.

use std::sync::{Arc, Mutex, PoisonError};

use yui_store::{DirectoryEntry, Store};

use crate::WebError;

type Cached = Option<(i64, Arc<Vec<DirectoryEntry>>)>;

/// The cached top-level list with the directory version it was read at.
#[derive(Debug, Default)]
pub struct TopLevelCache {
    cached: Mutex<Cached>,
}

impl TopLevelCache {
    pub(crate) async fn get(&self, store: &Store) -> Result<Arc<Vec<DirectoryEntry>>, WebError> {
        let version = store.directory_version().await?;
        let hit = self
            .cached
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .filter(|(v, _)| *v == version)
            .map(|(_, list)| Arc::clone(list));
        if let Some(list) = hit {
            return Ok(list);
        }
        // Read after the version: a change in between only makes the next request
        // read again, never serves an older list as current.
        let list = Arc::new(store.top_level_tenants().await?);
        *self.cached.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((version, Arc::clone(&list)));
        Ok(list)
    }
}
