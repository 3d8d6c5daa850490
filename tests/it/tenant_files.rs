//! Tenant folders: validation with path, line and key; idempotent apply; nothing
//! changes when a file is bad.

use std::path::{Path, PathBuf};

use chrono::Utc;
use yui::tenants::{self, TenantLoadError};
use yui_store::ApplyOutcome;

use crate::support::{TestApp, on_both_backends, repo_tenants};

on_both_backends!(
    TestApp::with_tenants =>
    apply_is_idempotent,
    a_bad_file_changes_nothing,
    page_text_is_escaped
);

/// Copies a repository tenant folder into `root/<as_slug>` so a test can edit it.
fn copy_tenant(slug: &str, root: &Path, as_slug: &str) -> PathBuf {
    let to = root.join(as_slug);
    std::fs::create_dir_all(&to).unwrap();
    for entry in std::fs::read_dir(repo_tenants().join(slug)).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
    to
}

fn edit(dir: &Path, from: &str, to: &str) {
    let file = dir.join("tenant.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(from), "{from:?} not in {}", file.display());
    std::fs::write(&file, text.replacen(from, to, 1)).unwrap();
}

fn line_of(dir: &Path, needle: &str) -> usize {
    let text = std::fs::read_to_string(dir.join("tenant.toml")).unwrap();
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn every_shipped_tenant_file_is_valid() {
    let dirs = tenants::folders(&repo_tenants()).unwrap();
    let slugs: Vec<String> = dirs
        .iter()
        .map(|d| tenants::read_folder(d).unwrap().tenant.slug)
        .collect();
    assert_eq!(slugs, ["amami", "ichinoseki", "iwate", "kamaishi"]);
    let amami = tenants::read_folder(&repo_tenants().join("amami"))
        .unwrap()
        .tenant;
    assert_eq!(amami.members.len(), 12);
}

#[test]
fn errors_name_path_line_and_key() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_tenant("iwate", tmp.path(), "iwate");
    edit(&dir, "code = \"030007\"", "code = \"030008\"");
    let line = line_of(&dir, "code = \"030008\"");
    let err = tenants::read_folder(&dir).unwrap_err().to_string();
    let expected = format!(
        "{}:{line}: code: check digit of 030008 should be 7",
        dir.join("tenant.toml").display()
    );
    assert_eq!(err, expected);

    let dir = copy_tenant("kamaishi", tmp.path(), "kamaishi");
    edit(&dir, "default_locale", "colour = \"red\"\ndefault_locale");
    let line = line_of(&dir, "colour = ");
    let err = tenants::read_folder(&dir).unwrap_err().to_string();
    assert!(
        err.contains(&format!(
            "tenant.toml:{line}: colour: unknown field `colour`"
        )),
        "{err}"
    );

    let dir = copy_tenant("amami", tmp.path(), "amami");
    edit(&dir, "code = \"465356\"", "code = \"465357\"");
    let err = tenants::read_folder(&dir).unwrap_err().to_string();
    assert!(
        err.contains("members[11].code: check digit of 465357 should be 6"),
        "{err}"
    );

    let dir = copy_tenant("iwate", tmp.path(), "elsewhere");
    let err = tenants::read_folder(&dir).unwrap_err().to_string();
    assert!(
        err.contains("slug: \"iwate\" must match the folder name \"elsewhere\""),
        "{err}"
    );
}

async fn apply_is_idempotent(app: &TestApp) {
    let dirs = tenants::folders(&repo_tenants()).unwrap();
    let before = app.store.list_tenants().await.unwrap();
    let outcomes = tenants::apply(&app.store, &dirs, Utc::now()).await.unwrap();
    assert_eq!(outcomes.len(), 4);
    assert!(
        outcomes.iter().all(|(_, o)| *o == ApplyOutcome::Unchanged),
        "{outcomes:?}"
    );
    assert_eq!(app.store.list_tenants().await.unwrap(), before);

    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_tenant("kamaishi", tmp.path(), "kamaishi");
    edit(&dir, "capacity = ", "capacity = 1");
    let outcomes = tenants::apply(&app.store, &[dir], Utc::now())
        .await
        .unwrap();
    assert_eq!(outcomes, [("kamaishi".to_owned(), ApplyOutcome::Updated)]);
}

async fn a_bad_file_changes_nothing(app: &TestApp) {
    let before = app.store.list_tenants().await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    // A good change to one tenant and a bad file in the same apply: neither lands.
    let good = copy_tenant("kamaishi", tmp.path(), "kamaishi");
    edit(&good, "capacity = ", "capacity = 1");
    let bad = copy_tenant("iwate", tmp.path(), "iwate");
    edit(&bad, "code = \"030007\"", "code = \"03000X\"");
    let err = tenants::apply(&app.store, &[good.clone(), bad], Utc::now())
        .await
        .unwrap_err();
    assert!(matches!(err, TenantLoadError::File(_)));
    assert!(
        err.to_string().contains(": code: must be 6 digits"),
        "{err}"
    );
    assert_eq!(app.store.list_tenants().await.unwrap(), before);

    // A municipality whose parent was never applied.
    let orphan = copy_tenant("ichinoseki", tmp.path(), "hiraizumi");
    edit(&orphan, "slug = \"ichinoseki\"", "slug = \"hiraizumi\"");
    edit(&orphan, "code = \"032093\"", "code = \"034029\"");
    edit(&orphan, "parent = \"iwate\"", "parent = \"nowhere\"");
    let err = tenants::apply(&app.store, &[orphan], Utc::now())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("parent: tenant \"nowhere\" does not exist"),
        "{err}"
    );

    // A code that already belongs to another tenant.
    let twin = copy_tenant("kamaishi", tmp.path(), "twin");
    edit(&twin, "slug = \"kamaishi\"", "slug = \"twin\"");
    let err = tenants::apply(&app.store, &[twin], Utc::now())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("code: 032115 already belongs to tenant \"kamaishi\""),
        "{err}"
    );
    assert_eq!(app.store.list_tenants().await.unwrap(), before);
}

async fn page_text_is_escaped(app: &TestApp) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_tenant("kamaishi", tmp.path(), "kamaishi");
    let file = dir.join("tenant.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    let start = text.find("[intro]").unwrap();
    let ja = start + text[start..].find("ja = ").unwrap();
    let end = ja + text[ja..].find('\n').unwrap();
    let text = format!(
        "{}ja = \"<script>alert(1)</script> & 釜石\"{}",
        &text[..ja],
        &text[end..]
    );
    std::fs::write(&file, text).unwrap();
    tenants::apply(&app.store, &[dir], Utc::now())
        .await
        .unwrap();
    let html = app.get("/t/kamaishi/").await.text().await.unwrap();
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt; &amp; 釜石"));
}
