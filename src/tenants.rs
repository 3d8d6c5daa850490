//! Reading tenant folders (`tenants/<slug>/tenant.toml` and its logo) and applying
//! them to the store.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use yui_domain::Tenant;
use yui_domain::tenant::parse_tenant_file;
use yui_store::{ApplyOutcome, Store, StoreError};

/// The largest logo accepted; a mark on a page, not a poster.
const MAX_LOGO_BYTES: u64 = 100 * 1024;

/// A tenant folder, read and validated, ready to apply.
#[derive(Debug, Clone)]
pub struct TenantFolder {
    pub path: PathBuf,
    pub tenant: Tenant,
    pub logo_svg: String,
}

/// Why a tenant folder could not be read or applied. The message starts with the
/// file (and line) it concerns.
#[derive(Debug, thiserror::Error)]
pub enum TenantLoadError {
    #[error("{0}")]
    File(String),
    #[error("{path}: {source}")]
    Store { path: String, source: StoreError },
}

/// Reads and validates one tenant folder. Nothing is written.
pub fn read_folder(dir: &Path) -> Result<TenantFolder, TenantLoadError> {
    let file = dir.join("tenant.toml");
    let shown = file.display().to_string();
    let text = std::fs::read_to_string(&file)
        .map_err(|e| TenantLoadError::File(format!("{shown}: {e}")))?;
    let tenant = parse_tenant_file(&text).map_err(|errors| {
        TenantLoadError::File(
            errors
                .iter()
                .map(|e| format!("{shown}:{}: {}: {}", e.line, e.key, e.message))
                .collect::<Vec<_>>()
                .join("\n"),
        )
    })?;
    let folder = dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()));
    if let Some(folder) = folder.filter(|f| f != &tenant.slug) {
        let line = text
            .lines()
            .position(|l| l.trim_start().starts_with("slug"))
            .map_or(1, |i| i + 1);
        return Err(TenantLoadError::File(format!(
            "{shown}:{line}: slug: {:?} must match the folder name {folder:?}",
            tenant.slug
        )));
    }
    let logo_path = dir.join(&tenant.branding.logo);
    let logo_shown = logo_path.display().to_string();
    let size = std::fs::metadata(&logo_path)
        .map_err(|e| TenantLoadError::File(format!("{shown}: branding.logo: {logo_shown}: {e}")))?
        .len();
    if size > MAX_LOGO_BYTES {
        return Err(TenantLoadError::File(format!(
            "{shown}: branding.logo: {logo_shown} is {size} bytes; at most {MAX_LOGO_BYTES} are allowed"
        )));
    }
    let logo_svg = std::fs::read_to_string(&logo_path)
        .map_err(|e| TenantLoadError::File(format!("{shown}: branding.logo: {logo_shown}: {e}")))?;
    if !logo_svg.contains("<svg") {
        return Err(TenantLoadError::File(format!(
            "{shown}: branding.logo: {logo_shown} is not an SVG image"
        )));
    }
    Ok(TenantFolder {
        path: dir.to_owned(),
        tenant,
        logo_svg,
    })
}

/// The tenant folders under `root` (each sub-folder holding a `tenant.toml`), sorted.
pub fn folders(root: &Path) -> Result<Vec<PathBuf>, TenantLoadError> {
    let entries = std::fs::read_dir(root)
        .map_err(|e| TenantLoadError::File(format!("{}: {e}", root.display())))?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("tenant.toml").is_file())
        .collect();
    dirs.sort();
    Ok(dirs)
}

/// Applies tenant folders: all are read and validated first, so one bad file
/// changes nothing; then parents are applied before their children.
pub async fn apply(
    store: &Store,
    dirs: &[PathBuf],
    now: DateTime<Utc>,
) -> Result<Vec<(String, ApplyOutcome)>, TenantLoadError> {
    let mut pending = dirs
        .iter()
        .map(|d| read_folder(d))
        .collect::<Result<Vec<_>, _>>()?;
    let mut applied: Vec<(String, ApplyOutcome)> = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        // A folder is ready when its parent is not among those still waiting.
        let ready = pending.iter().position(|f| {
            f.tenant
                .parent
                .as_deref()
                .is_none_or(|p| !pending.iter().any(|o| o.tenant.slug == p))
        });
        let Some(i) = ready else {
            let names: Vec<&str> = pending.iter().map(|f| f.tenant.slug.as_str()).collect();
            return Err(TenantLoadError::File(format!(
                "parent: tenants {names:?} are each other's parents"
            )));
        };
        let folder = pending.remove(i);
        let outcome = store
            .apply_tenant(&folder.tenant, &folder.logo_svg, now)
            .await
            .map_err(|source| TenantLoadError::Store {
                path: folder.path.join("tenant.toml").display().to_string(),
                source,
            })?;
        applied.push((folder.tenant.slug, outcome));
    }
    // Authorization knows tenants by their place in the tree: make every node reload.
    if applied.iter().any(|(_, o)| *o != ApplyOutcome::Unchanged) {
        yui_authz::bump_policy_version(store).await.map_err(|e| {
            TenantLoadError::File(format!("tenants applied, but roles were not reloaded: {e}"))
        })?;
    }
    Ok(applied)
}
