//! Hosts and projects through a tenant's handle: another tenant's ids find nothing
//! and cannot be referenced (the keys carry the tenant), status changes are
//! recorded once, and the public listings hold only open public projects of
//! approved hosts.

use yui_domain::host::{HostFields, HostStatus};
use yui_domain::project::{ProjectFields, ProjectKind, ProjectStatus, Visibility};
use yui_domain::search::query_words;
use yui_domain::talent::{Compensation, Skill};
use yui_domain::{HostId, LocalGovCode, TenantId};
use yui_store::{PlatformReason, ProjectQuery, StoreError};

use crate::{Db, both, secs, t0};

both!(
    hosts_and_projects_stay_in_their_tenant,
    status_changes_are_recorded_once,
    public_listings_hold_only_open_public_projects,
    the_cross_region_search_finds_open_public_projects_by_word,
);

fn host(name: &str, code: &str) -> HostFields {
    HostFields {
        name: name.to_owned(),
        kana: "テスト".to_owned(),
        municipality_code: LocalGovCode::parse(code).unwrap(),
        industry: "観光".to_owned(),
        summary: String::new(),
        website: Some("https://example.jp/".to_owned()),
    }
}

pub(crate) fn project(title: &str, visibility: Visibility) -> ProjectFields {
    ProjectFields {
        title: title.to_owned(),
        challenge: "課題".to_owned(),
        help_wanted: "協力".to_owned(),
        kind: ProjectKind::Business,
        skills: vec![Skill::Sns, Skill::Tourism],
        hours_per_month: Some(10),
        months: Some(6),
        remote_ratio: 80,
        compensation: Compensation::Honorarium,
        amount_min: Some(10_000),
        amount_max: Some(30_000),
        location: "花巻市".to_owned(),
        visibility,
    }
}

pub(crate) async fn make_host(
    db: &Db,
    tenant: TenantId,
    name: &str,
    code: &str,
    status: HostStatus,
) -> HostId {
    let mut tx = db.store.tenant(tenant).write().await.unwrap();
    let id = tx
        .create_host(&host(name, code), status, None, t0())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn hosts_and_projects_stay_in_their_tenant(db: Db) {
    let (iwate, kamaishi) = (db.tenant("iwate"), db.tenant("kamaishi"));
    let member = db.account("kanta@example.jp").await;
    let h = make_host(&db, iwate, "かんたはうす", "032051", HostStatus::Approved).await;
    let k = make_host(&db, kamaishi, "釜石の宿", "032115", HostStatus::Approved).await;

    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    // The same name again in the same region is taken; in another region it is not.
    let again = tx
        .create_host(
            &host("かんたはうす", "032051"),
            HostStatus::Pending,
            None,
            t0(),
        )
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(f)) if f == "name"));
    tx.rollback().await.unwrap();
    make_host(&db, kamaishi, "かんたはうす", "032115", HostStatus::Pending).await;

    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    tx.add_host_member(h, member, t0()).await.unwrap();
    tx.add_host_member(h, member, t0()).await.unwrap();
    assert!(tx.is_host_member(h, member).await.unwrap());
    assert_eq!(tx.host_members(h).await.unwrap().len(), 1);
    assert_eq!(tx.hosts_of_member(member).await.unwrap()[0].id, h);
    // Kamaishi's host is no host of Iwate: not found, not editable, not referable.
    assert_eq!(tx.host(k).await.unwrap(), None);
    assert_eq!(
        tx.update_host(k, &host("乗っ取り", "032051"), t0())
            .await
            .unwrap(),
        None
    );
    assert!(!tx.is_host_member(k, member).await.unwrap());
    let p = tx
        .create_project(h, &project("案件", Visibility::Public), Some(member), t0())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    assert!(
        tx.create_project(k, &project("越境", Visibility::Public), None, t0())
            .await
            .is_err(),
        "a project cannot point at another tenant's host"
    );
    tx.rollback().await.unwrap();
    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    assert!(tx.add_host_member(k, member, t0()).await.is_err());
    tx.rollback().await.unwrap();

    let mut tx = db.store.tenant(kamaishi).write().await.unwrap();
    assert_eq!(tx.project(p).await.unwrap(), None);
    assert!(
        !tx.update_project(p, &project("乗っ取り", Visibility::Public), t0())
            .await
            .unwrap()
    );
    assert!(!tx.is_host_member(h, member).await.unwrap());
    assert!(tx.projects().await.unwrap().is_empty());
    tx.commit().await.unwrap();

    let mut tx = db.store.tenant(iwate).read().await.unwrap();
    let stored = tx.project(p).await.unwrap().unwrap();
    assert_eq!(stored.host_name, "かんたはうす");
    assert_eq!(stored.skills, ["sns", "tourism"]);
    assert_eq!(
        (stored.amount_min, stored.amount_max),
        (Some(10_000), Some(30_000))
    );
    assert_eq!(stored.status(), ProjectStatus::Draft);
    tx.commit().await.unwrap();
}

async fn status_changes_are_recorded_once(db: Db) {
    let iwate = db.tenant("iwate");
    let staff = db.account("coord@example.jp").await;
    let h = make_host(&db, iwate, "かんたはうす", "032051", HostStatus::Pending).await;
    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    let approved = tx
        .set_host_status(h, HostStatus::Pending, HostStatus::Approved, staff, t0())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(approved.status(), HostStatus::Approved);
    assert_eq!(approved.approved_by, Some(staff));
    // A second, stale approval finds the host no longer pending.
    assert!(
        tx.set_host_status(h, HostStatus::Pending, HostStatus::Approved, staff, t0())
            .await
            .unwrap()
            .is_none()
    );
    let p = tx
        .create_project(h, &project("案件", Visibility::Public), None, t0())
        .await
        .unwrap();
    use ProjectStatus::*;
    assert!(
        tx.transition_project(p, Draft, Open, staff, t0() + secs(1))
            .await
            .unwrap()
    );
    assert!(
        !tx.transition_project(p, Draft, Open, staff, t0() + secs(2))
            .await
            .unwrap()
    );
    assert!(
        tx.transition_project(p, Open, Closed, staff, t0() + secs(3))
            .await
            .unwrap()
    );
    tx.add_project_comment(p, staff, "冬の企画も", t0())
        .await
        .unwrap();
    let moves: Vec<(String, String)> = tx
        .project_transitions(p)
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.from_status, t.to_status))
        .collect();
    assert_eq!(
        moves,
        [
            ("draft".into(), "open".into()),
            ("open".into(), "closed".into())
        ]
    );
    let comments = tx.project_comments(p).await.unwrap();
    assert_eq!(comments[0].body, "冬の企画も");
    tx.commit().await.unwrap();
}

async fn public_listings_hold_only_open_public_projects(db: Db) {
    let (iwate, kamaishi) = (db.tenant("iwate"), db.tenant("kamaishi"));
    let staff = db.account("coord@example.jp").await;
    let approved = make_host(&db, iwate, "承認済み", "032051", HostStatus::Approved).await;
    let pending = make_host(&db, iwate, "承認待ち", "032069", HostStatus::Pending).await;
    let other = make_host(&db, kamaishi, "釜石の宿", "032115", HostStatus::Approved).await;
    let mut open = Vec::new();
    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    for (host, title, visibility, status) in [
        (approved, "公開1", Visibility::Public, ProjectStatus::Open),
        (approved, "公開2", Visibility::Public, ProjectStatus::Open),
        (approved, "下書き", Visibility::Public, ProjectStatus::Draft),
        (
            approved,
            "会員のみ",
            Visibility::Members,
            ProjectStatus::Open,
        ),
        (approved, "終了", Visibility::Public, ProjectStatus::Closed),
        (
            pending,
            "未承認の団体",
            Visibility::Public,
            ProjectStatus::Open,
        ),
    ] {
        let p = tx
            .create_project(host, &project(title, visibility), None, t0())
            .await
            .unwrap();
        if status != ProjectStatus::Draft {
            tx.transition_project(p, ProjectStatus::Draft, ProjectStatus::Open, staff, t0())
                .await
                .unwrap();
        }
        if status == ProjectStatus::Closed {
            tx.transition_project(p, ProjectStatus::Open, ProjectStatus::Closed, staff, t0())
                .await
                .unwrap();
        }
        if title.starts_with("公開") {
            open.push(p);
        }
    }
    let listed = tx.open_public_projects(None, 10).await.unwrap();
    let titles: Vec<&str> = listed.iter().map(|p| p.title.as_str()).collect();
    assert_eq!(titles, ["公開2", "公開1"], "newest first, nothing else");
    // Keyset pages: one at a time.
    let first = tx.open_public_projects(None, 1).await.unwrap();
    let second = tx.open_public_projects(Some(first[0].id), 1).await.unwrap();
    assert_eq!((first[0].id, second[0].id), (open[1], open[0]));
    assert_eq!(tx.projects().await.unwrap().len(), 6, "staff see all");
    tx.commit().await.unwrap();
    let mut tx = db.store.tenant(kamaishi).write().await.unwrap();
    let k = tx
        .create_project(
            other,
            &project("釜石の公開", Visibility::Public),
            None,
            t0(),
        )
        .await
        .unwrap();
    tx.transition_project(k, ProjectStatus::Draft, ProjectStatus::Open, staff, t0())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // Across regions, for the public listings only.
    let mut tx = db
        .store
        .platform(PlatformReason::PublicListings)
        .read()
        .await
        .unwrap();
    let everywhere = tx
        .search_open_projects(&ProjectQuery {
            limit: 10,
            ..ProjectQuery::default()
        })
        .await
        .unwrap();
    let titles: Vec<&str> = everywhere.iter().map(|p| p.title.as_str()).collect();
    assert_eq!(titles, ["釜石の公開", "公開2", "公開1"]);
    assert_eq!(everywhere[0].tenant_slug, "kamaishi");
    tx.commit().await.unwrap();
}

/// The titles the cross-region search finds for `query`.
async fn search(db: &Db, query: ProjectQuery) -> Vec<String> {
    let mut tx = db
        .store
        .platform(PlatformReason::PublicListings)
        .read()
        .await
        .unwrap();
    let hits = tx.search_open_projects(&query).await.unwrap();
    tx.commit().await.unwrap();
    hits.into_iter().map(|h| h.title).collect()
}

fn words(q: &str) -> ProjectQuery {
    ProjectQuery {
        words: query_words(q),
        limit: 10,
        ..ProjectQuery::default()
    }
}

async fn the_cross_region_search_finds_open_public_projects_by_word(db: Db) {
    let (iwate, kamaishi) = (db.tenant("iwate"), db.tenant("kamaishi"));
    let staff = db.account("coord@example.jp").await;
    let farm = make_host(&db, iwate, "花巻の農園", "032051", HostStatus::Approved).await;
    let inn = make_host(&db, kamaishi, "釜石の宿", "032115", HostStatus::Approved).await;
    let pending = make_host(&db, iwate, "承認待ち", "032069", HostStatus::Pending).await;
    let mut made = Vec::new();
    for (tenant, host, title, visibility, open) in [
        (iwate, farm, "農業の販路開拓", Visibility::Public, true),
        (iwate, farm, "農業の下書き", Visibility::Public, false),
        (iwate, farm, "農業の会員向け", Visibility::Members, true),
        (iwate, pending, "農業の未承認", Visibility::Public, true),
        (
            kamaishi,
            inn,
            "観光農業のデザイン",
            Visibility::Public,
            true,
        ),
        (kamaishi, inn, "宿のSNS発信", Visibility::Public, true),
    ] {
        let mut fields = project(title, visibility);
        if title.contains("デザイン") {
            fields.skills = vec![Skill::Design];
            fields.kind = ProjectKind::FanCommunity;
        }
        let mut tx = db.store.tenant(tenant).write().await.unwrap();
        let p = tx.create_project(host, &fields, None, t0()).await.unwrap();
        if open {
            tx.transition_project(p, ProjectStatus::Draft, ProjectStatus::Open, staff, t0())
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        made.push(p);
    }
    // A two-character word, in both regions, newest first, open public only.
    assert_eq!(
        search(&db, words("農業")).await,
        ["観光農業のデザイン", "農業の販路開拓"]
    );
    // Words are ANDed; a word that stands nowhere in a row finds nothing.
    assert_eq!(search(&db, words("農業 販路")).await, ["農業の販路開拓"]);
    assert!(search(&db, words("業農")).await.is_empty());
    // Full-width and half-width forms fold: ＳＮＳ finds SNS.
    assert_eq!(search(&db, words("ＳＮＳ発信")).await, ["宿のSNS発信"]);
    // The host's name and the skill's name are part of the text.
    assert_eq!(
        search(&db, words("釜石")).await,
        ["宿のSNS発信", "観光農業のデザイン"]
    );
    assert_eq!(search(&db, words("design")).await, ["観光農業のデザイン"]);
    // Filters: skill, kind, prefecture, and pages by id.
    let mut q = words("農業");
    q.skill = Some("design".to_owned());
    assert_eq!(search(&db, q).await, ["観光農業のデザイン"]);
    let mut q = words("");
    q.kind = Some("fan_community".to_owned());
    assert_eq!(search(&db, q).await, ["観光農業のデザイン"]);
    let mut q = words("農業");
    q.prefecture = Some(47);
    assert!(search(&db, q).await.is_empty());
    let mut q = words("農業");
    q.before = Some(made[4]);
    assert_eq!(search(&db, q).await, ["農業の販路開拓"]);
    // Renaming the host re-indexes its projects.
    let mut tx = db.store.tenant(kamaishi).write().await.unwrap();
    let mut renamed = host("鵜住居の民宿", "032115");
    renamed.industry = "宿泊".to_owned();
    tx.update_host(inn, &renamed, t0()).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    assert!(search(&db, words("釜石")).await.is_empty());
    assert_eq!(search(&db, words("鵜住居")).await.len(), 2);
    // Editing a project re-indexes it.
    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    let mut edited = project("りんごの販路開拓", Visibility::Public);
    edited.skills = vec![Skill::Sales];
    assert!(tx.update_project(made[0], &edited, t0()).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(search(&db, words("農業")).await, ["観光農業のデザイン"]);
    assert_eq!(search(&db, words("りんご")).await, ["りんごの販路開拓"]);
}
