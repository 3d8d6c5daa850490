//! Reading tenant folders (`tenants/<slug>/tenant.toml` and its logo) and applying
//! them to the store.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use yui_domain::Tenant;
use yui_domain::settings::{
    self, KeyChange, LOGO_MAX_BYTES, Logo, LogoKind, SettingsSection, changed_keys,
};
use yui_domain::tenant::parse_tenant_file;
use yui_store::{ApplyOutcome, Store, StoreError};

/// A tenant folder, read and validated, ready to apply.
#[derive(Debug, Clone)]
pub struct TenantFolder {
    pub path: PathBuf,
    pub tenant: Tenant,
    /// The logo `branding.logo` names, checked by its content.
    pub logo: Logo,
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
    // Checked before reading, so a huge file is never read into memory.
    if size > LOGO_MAX_BYTES as u64 {
        return Err(TenantLoadError::File(format!(
            "{shown}: branding.logo: {logo_shown} is {size} bytes; at most {LOGO_MAX_BYTES} are allowed"
        )));
    }
    let bytes = std::fs::read(&logo_path)
        .map_err(|e| TenantLoadError::File(format!("{shown}: branding.logo: {logo_shown}: {e}")))?;
    let logo = settings::check_logo(&bytes).map_err(|rule| {
        TenantLoadError::File(format!(
            "{shown}: branding.logo: {logo_shown} {}",
            rule.file_message()
        ))
    })?;
    if LogoKind::of_file_name(&tenant.branding.logo) != Some(logo.kind) {
        return Err(TenantLoadError::File(format!(
            "{shown}: branding.logo: {logo_shown} is a {} image; name it {}",
            match logo.kind {
                LogoKind::Svg => "SVG",
                LogoKind::Png => "PNG",
            },
            logo.kind.file_name()
        )));
    }
    Ok(TenantFolder {
        path: dir.to_owned(),
        tenant,
        logo,
    })
}

/// What applying one folder would change, before it is applied.
#[derive(Debug, Clone)]
pub struct Preview {
    pub slug: String,
    /// Whether the tenant is stored yet.
    pub exists: bool,
    /// Every key the file changes.
    pub changes: Vec<KeyChange>,
    /// Whether the logo's bytes change.
    pub logo_changes: bool,
    /// The changed keys that belong to sections edited in pages since the last
    /// file apply: what the apply overwrites.
    pub overwrites: Vec<String>,
}

impl Preview {
    /// The lines a dry run prints: `slug: key: old → new`, long texts shortened.
    pub fn lines(&self) -> Vec<String> {
        const SHOWN: usize = 40;
        let show = |v: &Option<String>| match v {
            Some(v) => format!("{:?}", settings::shorten(v, SHOWN)),
            None => "(none)".to_owned(),
        };
        let mut lines: Vec<String> = self
            .changes
            .iter()
            .map(|c| {
                format!(
                    "{}: {}: {} → {}",
                    self.slug,
                    c.key,
                    show(&c.old),
                    show(&c.new)
                )
            })
            .collect();
        if self.logo_changes && self.exists {
            lines.push(format!(
                "{}: branding.logo (file contents) changes",
                self.slug
            ));
        }
        if lines.is_empty() {
            lines.push(format!("{}: no changes", self.slug));
        } else if !self.exists {
            lines.insert(0, format!("{}: would be created", self.slug));
        }
        lines
    }

    /// The warning a real apply prints when it overwrites settings edited in pages.
    pub fn warning(&self) -> Option<String> {
        (!self.overwrites.is_empty()).then(|| {
            format!(
                "warning: {}: overwrites settings edited in pages since the last file apply: {}",
                self.slug,
                self.overwrites.join(", ")
            )
        })
    }
}

/// What applying `dirs` would change, folder by folder; nothing is written.
pub async fn preview(store: &Store, dirs: &[PathBuf]) -> Result<Vec<Preview>, TenantLoadError> {
    let folders = dirs
        .iter()
        .map(|d| read_folder(d))
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::with_capacity(folders.len());
    for folder in folders {
        out.push(preview_folder(store, &folder).await?);
    }
    Ok(out)
}

async fn preview_folder(store: &Store, folder: &TenantFolder) -> Result<Preview, TenantLoadError> {
    let slug = folder.tenant.slug.clone();
    let store_err = |source| TenantLoadError::Store {
        path: folder.path.join("tenant.toml").display().to_string(),
        source,
    };
    let stored = match store.tenant_files(&slug).await {
        Ok(s) => Some(s),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(store_err(e)),
    };
    let changes = changed_keys(stored.as_ref().map(|(r, _)| &r.tenant), &folder.tenant);
    let logo_changes = stored.as_ref().is_none_or(|(_, logo)| *logo != folder.logo);
    let edited = if stored.is_some() {
        store
            .settings_edited_since_files(&slug)
            .await
            .map_err(store_err)?
    } else {
        Vec::new()
    };
    let edited_in =
        |s: Option<SettingsSection>| s.is_some_and(|s| edited.iter().any(|(e, _)| *e == s));
    let mut overwrites: Vec<String> = changes
        .iter()
        .filter(|c| edited_in(SettingsSection::of_key(&c.key)))
        .map(|c| c.key.clone())
        .collect();
    if logo_changes && stored.is_some() && edited_in(Some(SettingsSection::Branding)) {
        overwrites.push("branding.logo (file contents)".to_owned());
    }
    Ok(Preview {
        slug,
        exists: stored.is_some(),
        changes,
        logo_changes,
        overwrites,
    })
}

/// Applies `dirs` as `yui serve` does at start: a restart must not undo what a tenant
/// admin saved in the settings pages, so a folder whose file would overwrite such
/// edits is held back (returned with what it would overwrite) for an operator to
/// apply on purpose with `yui tenant apply` — after `yui tenant export` if the edits
/// should be kept.
pub async fn apply_keeping_page_edits(
    store: &Store,
    dirs: &[PathBuf],
    now: DateTime<Utc>,
) -> Result<(Vec<(String, ApplyOutcome)>, Vec<Preview>), TenantLoadError> {
    // One preview per folder, in the order of `dirs`.
    let previews = preview(store, dirs).await?;
    let mut ready = Vec::with_capacity(dirs.len());
    let mut held = Vec::new();
    for (dir, p) in dirs.iter().zip(previews) {
        if p.overwrites.is_empty() {
            ready.push(dir.clone());
        } else {
            held.push(p);
        }
    }
    let applied = apply(store, &ready, now).await?;
    Ok((applied, held))
}

/// Writes a stored tenant's folder into `dir` (created when missing): `tenant.toml`
/// with every key, and the logo under the name `branding.logo` gives. Returns the
/// files written.
pub async fn export(store: &Store, slug: &str, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let (record, logo) = match store.tenant_files(slug).await {
        Ok(v) => v,
        Err(StoreError::NotFound) => anyhow::bail!("no tenant {slug:?}"),
        Err(e) => return Err(e.into()),
    };
    let mut tenant = record.tenant;
    // A name that does not match the stored image would not read back.
    if LogoKind::of_file_name(&tenant.branding.logo) != Some(logo.kind) {
        tenant.branding.logo = logo.kind.file_name().to_owned();
    }
    std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    let toml_path = dir.join("tenant.toml");
    let logo_path = dir.join(&tenant.branding.logo);
    std::fs::write(&toml_path, settings::tenant_file_text(&tenant))
        .map_err(|e| anyhow::anyhow!("{}: {e}", toml_path.display()))?;
    std::fs::write(&logo_path, &logo.bytes)
        .map_err(|e| anyhow::anyhow!("{}: {e}", logo_path.display()))?;
    Ok(vec![toml_path, logo_path])
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
            .apply_tenant_files(&folder.tenant, &folder.logo, now)
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
