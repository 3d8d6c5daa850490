//! Applications through a tenant's handle: one live application per person and
//! project, another tenant's ids find nothing, applicants filtered by whose consent
//! covers the audience, and a due digest claimed by exactly one of two concurrent
//! runs.

use yui_domain::application::{ApplicationStatus, Proposal, WorkFormat, digest_due};
use yui_domain::host::{HostFields, HostStatus};
use yui_domain::project::{ProjectFields, ProjectKind, ProjectStatus, Visibility};
use yui_domain::talent::Compensation;
use yui_domain::tenant::Consent;
use yui_domain::{LocalGovCode, ProjectId, TenantId};
use yui_store::{Audience, PlatformReason};

use crate::{Db, both, secs, t0};

both!(
    one_live_application_and_tenant_walls,
    applicants_follow_consent,
    a_digest_is_claimed_once,
);

fn proposal() -> Proposal {
    Proposal {
        proposal: "SNSの発信".to_owned(),
        approach: "オンライン".to_owned(),
        frequency: "月2回".to_owned(),
        format: WorkFormat::Online,
    }
}

async fn open_project(db: &Db, tenant: TenantId, actor: yui_domain::AccountId) -> ProjectId {
    let mut tx = db.store.tenant(tenant).write().await.unwrap();
    let host = tx
        .create_host(
            &HostFields {
                name: "かんたはうす".to_owned(),
                kana: "カンタハウス".to_owned(),
                municipality_code: LocalGovCode::parse("032051").unwrap(),
                industry: "観光".to_owned(),
                summary: String::new(),
                website: None,
            },
            HostStatus::Approved,
            None,
            t0(),
        )
        .await
        .unwrap();
    let p = tx
        .create_project(
            host,
            &ProjectFields {
                title: "直売所".to_owned(),
                challenge: "課題".to_owned(),
                help_wanted: "協力".to_owned(),
                kind: ProjectKind::Business,
                skills: vec![],
                hours_per_month: None,
                months: None,
                remote_ratio: 50,
                compensation: Compensation::ProBono,
                amount_min: None,
                amount_max: None,
                location: String::new(),
                visibility: Visibility::Public,
            },
            None,
            t0(),
        )
        .await
        .unwrap();
    assert!(
        tx.transition_project(p, ProjectStatus::Draft, ProjectStatus::Open, actor, t0())
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    p
}

async fn join(db: &Db, account: yui_domain::AccountId, tenant: TenantId, hosts: bool) {
    let mut tx = db.store.account(account).write().await.unwrap();
    tx.join_tenant(tenant, &Consent::default(), hosts, t0())
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn one_live_application_and_tenant_walls(db: Db) {
    let iwate = db.tenant("iwate");
    let talent = db.account("hana@example.jp").await;
    join(&db, talent, iwate, true).await;
    let p = open_project(&db, iwate, talent).await;
    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    let (a, created) = tx
        .create_application(p, talent, &proposal(), t0())
        .await
        .unwrap();
    assert!(created);
    let (b, created) = tx
        .create_application(p, talent, &proposal(), t0())
        .await
        .unwrap();
    assert_eq!((a, created), (b, false));
    assert!(
        tx.transition_application(
            a,
            ApplicationStatus::Submitted,
            ApplicationStatus::Withdrawn,
            talent,
            t0()
        )
        .await
        .unwrap()
    );
    // A stale move finds nothing.
    assert!(
        !tx.transition_application(
            a,
            ApplicationStatus::Submitted,
            ApplicationStatus::InReview,
            talent,
            t0()
        )
        .await
        .unwrap()
    );
    let (c, created) = tx
        .create_application(p, talent, &proposal(), t0())
        .await
        .unwrap();
    assert!(created && c != a, "a new application after withdrawing");
    tx.commit().await.unwrap();
    let mut tx = db.store.tenant(db.tenant("amami")).read().await.unwrap();
    assert_eq!(tx.application(a).await.unwrap(), None);
    assert!(
        tx.applications(Audience::Staff, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    tx.commit().await.unwrap();
}

async fn applicants_follow_consent(db: Db) {
    let iwate = db.tenant("iwate");
    let talent = db.account("hana@example.jp").await;
    join(&db, talent, iwate, false).await;
    let p = open_project(&db, iwate, talent).await;
    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    let (a, _) = tx
        .create_application(p, talent, &proposal(), t0())
        .await
        .unwrap();
    assert!(tx.toggle_interest(p, talent, t0()).await.unwrap());
    assert!(
        tx.application_for(Audience::Hosts, a)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        tx.application_for(Audience::Staff, a)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        tx.interest_marks(Audience::Hosts, Some(p), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(tx.interest_counts().await.unwrap(), vec![(p, 1)]);
    assert!(!tx.toggle_interest(p, talent, t0()).await.unwrap());
    tx.commit().await.unwrap();
}

async fn a_digest_is_claimed_once(db: Db) {
    let iwate = db.tenant("iwate");
    let talent = db.account("hana@example.jp").await;
    let host_member = db.account("kanta@example.jp").await;
    join(&db, talent, iwate, true).await;
    let p = open_project(&db, iwate, talent).await;
    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    let (a, _) = tx
        .create_application(p, talent, &proposal(), t0())
        .await
        .unwrap();
    for i in 0..5 {
        let at = t0() + secs(i * 60);
        tx.add_application_message(a, host_member, "返信", &[talent], digest_due(at), at)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let take = |now| {
        let store = db.store.clone();
        async move {
            let mut tx = store
                .platform(PlatformReason::MessageDigests)
                .write()
                .await
                .unwrap();
            let d = tx.take_due_digests(now, 100).await.unwrap();
            tx.commit().await.unwrap();
            d
        }
    };
    assert!(take(t0() + secs(60)).await.is_empty(), "not due yet");
    let due = digest_due(t0());
    let (x, y) = tokio::join!(take(due), take(due));
    let all: Vec<_> = x.into_iter().chain(y).collect();
    assert_eq!(all.len(), 1, "one digest: {all:?}");
    assert_eq!(all[0].account_id, talent);
    assert_eq!(all[0].threads, vec![("iwate".to_owned(), a, 5)]);
    assert!(take(due + secs(3600)).await.is_empty(), "sent once");
}
