//! The directory of tenants as public pages show it: names, kinds, codes and
//! parents, read from indexed columns (never the whole tenant file), so a page's
//! cost does not grow with the number of tenants.

use tracing::instrument;
use yui_domain::{Locale, TenantId, TenantKind};

use crate::scope::{PlatformReason, sealed::Inner};
use crate::{Result, Store, with_tx};

/// One tenant as the directory lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryEntry {
    pub id: TenantId,
    pub slug: String,
    pub kind: TenantKind,
    /// Local-government code; `None` for a union.
    pub code: Option<String>,
    pub name_ja: String,
    pub name_en: String,
    pub name_kana: String,
    /// How many active tenants have this one as parent.
    pub children: i64,
}

impl DirectoryEntry {
    pub fn name(&self, locale: Locale) -> &str {
        match locale {
            Locale::Ja => &self.name_ja,
            Locale::En => &self.name_en,
        }
    }
}

type Row = (
    TenantId,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    i64,
);

fn entries(rows: Vec<Row>) -> Vec<DirectoryEntry> {
    rows.into_iter()
        .filter_map(
            |(id, slug, kind, code, name_ja, name_en, name_kana, children)| {
                Some(DirectoryEntry {
                    id,
                    slug,
                    // The column has a CHECK constraint; an unknown kind cannot be stored.
                    kind: TenantKind::parse(&kind)?,
                    code,
                    name_ja,
                    name_en,
                    name_kana,
                    children,
                })
            },
        )
        .collect()
}

const COLUMNS: &str = "t.id, t.slug, t.kind, t.code, t.name_ja, t.name_en, t.name_kana,
     (SELECT CAST(COUNT(*) AS BIGINT) FROM tenants c WHERE c.parent_id = t.id AND c.status = 'active' AND c.setting_up_since IS NULL)";

/// How a list is ordered: by local-government code, unions (no code) last.
const ORDER: &str = "ORDER BY t.code IS NULL, t.code, t.slug";

impl Store {
    /// The directory's version: it moves with every change to a tenant's row, so a
    /// node can keep lists in memory and check them with one key lookup.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn directory_version(&self) -> Result<i64> {
        let mut tx = self.platform(PlatformReason::Directory).read().await?;
        let (v,): (i64,) = with_tx!(tx.inner(), conn => {
            sqlx::query_as("SELECT version FROM directory_version WHERE id = 1")
                .fetch_one(&mut **conn)
                .await?
        });
        tx.commit().await?;
        Ok(v)
    }

    /// The active tenants with no active parent: the prefectures, unions and any
    /// tenant whose parent is not on the platform.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn top_level_tenants(&self) -> Result<Vec<DirectoryEntry>> {
        let mut tx = self.platform(PlatformReason::Directory).read().await?;
        let rows: Vec<Row> = with_tx!(tx.inner(), conn => {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM tenants t WHERE t.status = 'active' AND t.setting_up_since IS NULL AND (t.parent_id IS NULL
                   OR t.parent_id NOT IN (SELECT p.id FROM tenants p WHERE p.status = 'active' AND p.setting_up_since IS NULL)) {ORDER}"
            ))
            .fetch_all(&mut **conn)
            .await?
        });
        tx.commit().await?;
        Ok(entries(rows))
    }

    /// The active tenants whose parent is `parent` (a prefecture's municipalities).
    #[instrument(skip_all, fields(tenant = %parent), err(level = "warn"))]
    pub async fn children_of(&self, parent: TenantId) -> Result<Vec<DirectoryEntry>> {
        let mut tx = self.platform(PlatformReason::Directory).read().await?;
        let rows: Vec<Row> = with_tx!(tx.inner(), conn => {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM tenants t WHERE t.parent_id = $1 AND t.status = 'active' AND t.setting_up_since IS NULL {ORDER}"
            ))
            .bind(parent)
            .fetch_all(&mut **conn)
            .await?
        });
        tx.commit().await?;
        Ok(entries(rows))
    }

    /// One active tenant by id (a tenant page's parent), if it is active.
    #[instrument(skip_all, fields(tenant = %id), err(level = "warn"))]
    pub async fn active_tenant(&self, id: TenantId) -> Result<Option<DirectoryEntry>> {
        let mut tx = self.platform(PlatformReason::Directory).read().await?;
        let rows: Vec<Row> = with_tx!(tx.inner(), conn => {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM tenants t WHERE t.id = $1 AND t.status = 'active' AND t.setting_up_since IS NULL"
            ))
            .bind(id)
            .fetch_all(&mut **conn)
            .await?
        });
        tx.commit().await?;
        Ok(entries(rows).into_iter().next())
    }

    /// Active tenants whose name (Japanese, English or kana) contains `query`, at
    /// most `limit` of them.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn search_tenants(&self, query: &str, limit: i64) -> Result<Vec<DirectoryEntry>> {
        // LIKE's own wildcards in what a person typed are taken literally.
        let escaped: String = query
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        let pattern = format!("%{}%", escaped.to_lowercase());
        let mut tx = self.platform(PlatformReason::Directory).read().await?;
        let rows: Vec<Row> = with_tx!(tx.inner(), conn => {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM tenants t WHERE t.status = 'active' AND t.setting_up_since IS NULL AND (
                   t.name_ja LIKE $1 ESCAPE '\\' OR lower(t.name_en) LIKE $1 ESCAPE '\\'
                   OR t.name_kana LIKE $1 ESCAPE '\\') {ORDER} LIMIT $2"
            ))
            .bind(&pattern)
            .bind(limit)
            .fetch_all(&mut **conn)
            .await?
        });
        tx.commit().await?;
        Ok(entries(rows))
    }
}
