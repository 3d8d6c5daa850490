//! Talent rows: a profile saved and read back whole, memberships reached only by
//! their tenant's handle, the consent log append-only, and the consent wording
//! stored once per version.

use yui_domain::talent::{ProfileInput, check_profile};
use yui_domain::tenant::Consent;
use yui_store::{ConsentChange, StoreError};

use crate::{Db, both, secs, t0};

both!(
    a_profile_round_trips_and_pool_opt_in_keeps_its_first_time,
    memberships_are_reached_only_through_their_tenant,
    the_consent_log_is_append_only,
);

fn profile() -> yui_domain::talent::TalentProfile {
    check_profile(&ProfileInput {
        display_name: "佐藤 花子".into(),
        kana: "さとう はなこ".into(),
        residence: "13".into(),
        skills: vec!["sns".into(), "agriculture".into()],
        tags: "地域おこし、ライティング".into(),
        summary: "広報を10年".into(),
        hours_per_month: "20".into(),
        work_style: "either".into(),
        compensation: "expenses".into(),
        public_servant: Some("1".into()),
        side_job_permission: "applied".into(),
        ties: vec![
            ("hometown".into(), "03".into()),
            ("fan".into(), "46".into()),
        ],
        industries: vec!["hospitality".into()],
        project_kinds: vec!["business".into(), "fan_community".into()],
    })
    .unwrap()
}

async fn a_profile_round_trips_and_pool_opt_in_keeps_its_first_time(db: Db) {
    let id = db.account("hanako@example.jp").await;
    let mut tx = db.store.account(id).write().await.unwrap();
    assert!(tx.talent_profile().await.unwrap().is_none());
    // No profile, no pool.
    assert!(matches!(
        tx.set_pool_opt_in(true, t0()).await,
        Err(StoreError::NotFound)
    ));
    tx.save_talent_profile(&profile(), t0()).await.unwrap();
    tx.set_pool_opt_in(true, t0()).await.unwrap();
    tx.set_pool_opt_in(true, t0() + secs(60)).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.store.account(id).read().await.unwrap();
    let stored = tx.talent_profile().await.unwrap().unwrap();
    tx.commit().await.unwrap();
    assert_eq!(stored.profile, profile());
    assert_eq!(stored.pool_opt_in_at, Some(t0()), "the first opt-in counts");
    assert_eq!(
        tx_account_name(&db, id).await,
        "佐藤 花子",
        "the name is the account's"
    );
}

async fn tx_account_name(db: &Db, id: yui_domain::AccountId) -> String {
    let mut tx = db.store.account(id).read().await.unwrap();
    let name = tx.get().await.unwrap().display_name;
    tx.commit().await.unwrap();
    name
}

async fn memberships_are_reached_only_through_their_tenant(db: Db) {
    let (iwate, amami) = (db.tenant("iwate"), db.tenant("amami"));
    let id = db.account("member@example.jp").await;
    let consent = Consent::default();
    let mut tx = db.store.account(id).write().await.unwrap();
    tx.save_talent_profile(&profile(), t0()).await.unwrap();
    tx.join_tenant(iwate, &consent, false, t0()).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = db.store.tenant(iwate).read().await.unwrap();
    assert_eq!(tx.talent_members().await.unwrap().len(), 1);
    let member = tx.talent_member(id).await.unwrap().unwrap();
    assert_eq!(member.profile.unwrap().profile.summary, "広報を10年");
    tx.commit().await.unwrap();
    let mut tx = db.store.tenant(amami).read().await.unwrap();
    assert!(tx.talent_members().await.unwrap().is_empty());
    assert!(tx.talent_member(id).await.unwrap().is_none());
    assert_eq!(tx.membership_counts().await.unwrap(), (0, 0));
    tx.commit().await.unwrap();

    // Withdrawing in a region one never joined changes nothing.
    let mut tx = db.store.account(id).write().await.unwrap();
    assert_eq!(
        tx.set_hosts_consent(amami, true, t0()).await.unwrap(),
        ConsentChange::NotMember
    );
    assert_eq!(
        tx.leave_tenant(iwate, t0() + secs(1)).await.unwrap(),
        ConsentChange::Changed
    );
    tx.commit().await.unwrap();
    let mut tx = db.store.tenant(iwate).read().await.unwrap();
    assert!(tx.talent_member(id).await.unwrap().is_none());
    assert_eq!(tx.membership_counts().await.unwrap(), (1, 0));
    tx.commit().await.unwrap();
}

async fn the_consent_log_is_append_only(db: Db) {
    let iwate = db.tenant("iwate");
    let id = db.account("log@example.jp").await;
    let mut tx = db.store.account(id).write().await.unwrap();
    tx.join_tenant(iwate, &Consent::default(), true, t0())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // Erasing the account keeps the log (it holds nothing personal) and it cannot
    // be rewritten: the store has no method for it, and the database refuses.
    let mut tx = db.store.account(id).write().await.unwrap();
    let erased = tx.erase_account(t0() + secs(5)).await.unwrap();
    assert_eq!(erased.memberships_ended, 1);
    let data = tx.personal_data().await.unwrap();
    tx.commit().await.unwrap();
    let actions: Vec<(&str, &str)> = data
        .consent_log
        .iter()
        .map(|e| (e.scope.as_str(), e.action.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("staff", "given"),
            ("hosts", "given"),
            ("hosts", "withdrawn"),
            ("staff", "withdrawn")
        ]
    );
    assert!(data.account.email.ends_with("@deleted.invalid"));
    assert!(data.profile.is_none());
    let refused = match &db.store {
        yui_store::Store::Sqlite(pool) => sqlx::query("DELETE FROM consent_log")
            .execute(pool)
            .await
            .is_err(),
        yui_store::Store::Postgres(pool) => {
            let mut conn = pool.begin().await.unwrap();
            sqlx::query("SELECT set_config('app.tenant_id', '*', true)")
                .execute(&mut *conn)
                .await
                .unwrap();
            sqlx::query("UPDATE consent_log SET action = 'given'")
                .execute(&mut *conn)
                .await
                .is_err()
        }
    };
    assert!(refused, "the consent log refuses changes");
}
