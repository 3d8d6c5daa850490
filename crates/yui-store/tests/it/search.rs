//! Talent search on both databases: two-character Japanese words match, the tenant sees
//! its live members and the shared pool and nobody else, filters narrow, erasure
//! leaves nothing in the index, and recommendation candidates keep to the tenant.

use yui_domain::search::query_words;
use yui_domain::talent::{ProfileInput, check_profile};
use yui_domain::tenant::Consent;
use yui_store::{PlatformReason, ProjectQuery, Reach, Store, TalentQuery};

use crate::{Db, both, secs, t0};

both!(
    a_two_character_word_finds_members_and_the_pool_only,
    erasure_empties_the_index,
    a_two_character_word_is_looked_up_in_the_index,
);

fn profile(name: &str, summary: &str, skills: &[&str]) -> yui_domain::talent::TalentProfile {
    check_profile(&ProfileInput {
        display_name: name.into(),
        kana: "テスト".into(),
        residence: "13".into(),
        skills: skills.iter().map(|s| (*s).to_owned()).collect(),
        summary: summary.into(),
        hours_per_month: "10".into(),
        work_style: "either".into(),
        compensation: "expenses".into(),
        project_kinds: vec!["business".into()],
        ..ProfileInput::default()
    })
    .unwrap()
}

fn words(q: &str) -> TalentQuery {
    TalentQuery {
        words: query_words(q),
        reach: Reach::MembersAndPool,
        limit: 20,
        ..TalentQuery::default()
    }
}

async fn found(db: &Db, tenant: yui_domain::TenantId, q: TalentQuery) -> Vec<String> {
    let mut tx = db.store.tenant(tenant).read().await.unwrap();
    let hits = tx.search_talents(&q).await.unwrap();
    tx.commit().await.unwrap();
    hits.into_iter().map(|h| h.display_name).collect()
}

async fn a_two_character_word_finds_members_and_the_pool_only(db: Db) {
    let (iwate, amami) = (db.tenant("iwate"), db.tenant("amami"));
    // A member of iwate, a pool talent, and someone in neither.
    for (email, name, summary, join, pool) in [
        (
            "member@example.jp",
            "会員 一郎",
            "観光農業の広報をしています",
            true,
            false,
        ),
        (
            "pool@example.jp",
            "共有 花子",
            "ＳＮＳで農業を発信",
            false,
            true,
        ),
        (
            "hidden@example.jp",
            "非公開 次郎",
            "農業の法人で働いています",
            false,
            false,
        ),
    ] {
        let id = db.account(email).await;
        let mut tx = db.store.account(id).write().await.unwrap();
        tx.save_talent_profile(&profile(name, summary, &["agriculture"]), t0())
            .await
            .unwrap();
        if join {
            tx.join_tenant(iwate, &Consent::default(), false, t0())
                .await
                .unwrap();
        }
        if pool {
            tx.set_pool_opt_in(true, t0()).await.unwrap();
        }
        tx.commit().await.unwrap();
    }
    assert_eq!(
        found(&db, iwate, words("農業")).await,
        ["会員 一郎", "共有 花子"]
    );
    // Another region finds only the pool.
    assert_eq!(found(&db, amami, words("農業")).await, ["共有 花子"]);
    // Width, case and kana are folded; words are ANDed; a substring must be whole.
    assert_eq!(found(&db, iwate, words("sns 農業")).await, ["共有 花子"]);
    assert_eq!(found(&db, iwate, words("観光農業")).await, ["会員 一郎"]);
    assert!(found(&db, iwate, words("農観")).await.is_empty());
    // Skill names are searchable text too, and filters narrow.
    assert_eq!(found(&db, amami, words("農業")).await.len(), 1);
    let mut q = words("広報");
    q.skills = vec!["sns".into()];
    assert!(found(&db, iwate, q).await.is_empty());
    let q = TalentQuery {
        skills: vec!["agriculture".into()],
        project_kind: Some("business".into()),
        min_hours: Some(10),
        residence: Some(13),
        reach: Reach::MembersAndPool,
        limit: 20,
        ..TalentQuery::default()
    };
    assert_eq!(found(&db, iwate, q).await.len(), 2);
    // Members only, when asked.
    let mut q = words("農業");
    q.reach = Reach::Members;
    assert_eq!(found(&db, iwate, q).await, ["会員 一郎"]);
    // Hostile text is a word like any other.
    assert!(found(&db, iwate, words("\" OR 1=1 --")).await.is_empty());
}

async fn erasure_empties_the_index(db: Db) {
    let iwate = db.tenant("iwate");
    let id = db.account("erase@example.jp").await;
    let mut tx = db.store.account(id).write().await.unwrap();
    tx.save_talent_profile(&profile("消去 三郎", "焼酎の蔵を手伝う", &["sales"]), t0())
        .await
        .unwrap();
    tx.join_tenant(iwate, &Consent::default(), false, t0())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(found(&db, iwate, words("焼酎")).await, ["消去 三郎"]);
    let mut tx = db.store.account(id).write().await.unwrap();
    tx.erase_account(t0() + secs(1)).await.unwrap();
    tx.commit().await.unwrap();
    assert!(found(&db, iwate, words("焼酎")).await.is_empty());
    let dump = db.dump_text().await;
    assert!(!dump.contains("焼酎"), "the index kept erased text");
    assert!(!dump.contains("酎の"), "the index kept erased bigrams");
}

/// The plan names the index: FTS5's virtual-table index on SQLite, the GIN index on
/// PostgreSQL (with sequential scans off, since on a test's few rows reading
/// everything is rightly cheaper — the question is whether the index can answer).
fn uses_index(store: &Store, plan: &str, index: &str) -> bool {
    match store {
        Store::Sqlite(_) => plan.contains(&format!("SCAN {index} VIRTUAL TABLE INDEX")),
        Store::Postgres(_) => plan.contains(&format!("Bitmap Index Scan on {index}_tokens")),
    }
}

async fn a_two_character_word_is_looked_up_in_the_index(db: Db) {
    let iwate = db.tenant("iwate");
    for q in ["農業", "農業 広報", "デザイン"] {
        let mut tx = db.store.tenant(iwate).read().await.unwrap();
        let plan = tx.explain_search_talents(&words(q)).await.unwrap();
        tx.commit().await.unwrap();
        assert!(
            uses_index(&db.store, &plan, "talent_search"),
            "talents {q}: {plan}"
        );
        let mut tx = db
            .store
            .platform(PlatformReason::PublicListings)
            .read()
            .await
            .unwrap();
        let mut query = ProjectQuery {
            words: query_words(q),
            limit: 20,
            ..ProjectQuery::default()
        };
        let plan = tx.explain_search_open_projects(&query).await.unwrap();
        assert!(
            uses_index(&db.store, &plan, "project_search"),
            "projects {q}: {plan}"
        );
        // With a filter too.
        query.skill = Some("agriculture".to_owned());
        let plan = tx.explain_search_open_projects(&query).await.unwrap();
        assert!(
            uses_index(&db.store, &plan, "project_search"),
            "projects {q} + skill: {plan}"
        );
        tx.commit().await.unwrap();
    }
}
