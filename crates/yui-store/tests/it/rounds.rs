//! Matching rounds through a tenant's handle: set-up, projects and seats, invitations
//! (also of field-work attendees), entries and withdrawals, both sides' lists with
//! their ranks kept consecutive, the interim count, the lists the engine reads, the
//! state machine's moves recorded once, and the walls between tenants.

use chrono::NaiveDate;
use yui_domain::host::HostStatus;
use yui_domain::ids::RoundId;
use yui_domain::locale::Localized;
use yui_domain::project::Visibility;
use yui_domain::round::{EntryRule, RoundDates, RoundMode, RoundStatus};
use yui_domain::{AccountId, EventId, ProgramId, ProjectId, TenantId};
use yui_store::{InvitationSource, NewRound, RoundLists, SeatLock, StoreError};

use crate::events::{event, register};
use crate::hosts_projects::{make_host, project};
use crate::{Db, both, secs, t0};

both!(
    a_round_takes_entries_and_both_sides_lists,
    projects_leaving_keep_ranks_consecutive,
    field_work_attendees_are_invited_once,
    the_round_moves_once_and_is_recorded,
    rounds_stay_in_their_tenant,
);

fn dates() -> RoundDates {
    RoundDates {
        entry_opens_at: t0(),
        entry_closes_at: t0() + secs(3600),
        ranks_close_at: t0() + secs(7200),
    }
}

async fn round_in(db: &Db, tenant: TenantId, program: ProgramId, actor: AccountId) -> RoundId {
    let title = Localized {
        ja: "マッチング 2026".into(),
        en: "Matching 2026".into(),
    };
    let mut tx = db.store.tenant(tenant).write().await.unwrap();
    let id = tx
        .create_round(
            &NewRound {
                program,
                title: &title,
                mode: RoundMode::Engine,
                entry_rule: EntryRule::Members,
                dates: dates(),
                talent_limit: 3,
                host_limit: 5,
                interim_on: true,
            },
            actor,
            t0(),
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

/// A program (through a field-work event in it), a round, and `n` open projects of
/// one approved host, all in `tenant`.
async fn setup(
    db: &Db,
    tenant: TenantId,
    n: usize,
    code: &str,
) -> (ProgramId, RoundId, Vec<ProjectId>, AccountId, EventId) {
    let staff = db
        .account(&format!("coordinator-{}@example.jp", tenant.get()))
        .await;
    let fieldwork = event(
        db,
        tenant,
        &[("kind", "fieldwork"), ("day1_date", "2026-06-10")],
    )
    .await;
    let program = {
        let mut tx = db.store.tenant(tenant).read().await.unwrap();
        let p = tx.event(fieldwork).await.unwrap().program_id;
        tx.commit().await.unwrap();
        p
    };
    let round = round_in(db, tenant, program, staff).await;
    let host = make_host(db, tenant, "受入先", code, HostStatus::Approved).await;
    let mut projects = Vec::new();
    let mut tx = db.store.tenant(tenant).write().await.unwrap();
    for i in 0..n {
        projects.push(
            tx.create_project(
                host,
                &project(&format!("案件{i}"), Visibility::Public),
                None,
                t0(),
            )
            .await
            .unwrap(),
        );
    }
    tx.commit().await.unwrap();
    (program, round, projects, staff, fieldwork)
}

async fn a_round_takes_entries_and_both_sides_lists(db: Db) {
    let iwate = db.tenant("iwate");
    let (program, round, p, _, _) = setup(&db, iwate, 3, "032051").await;
    let a = db.account("a@example.jp").await;
    let b = db.account("b@example.jp").await;

    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    tx.set_round_projects(round, &[(p[0], 2), (p[1], 1), (p[2], 1)])
        .await
        .unwrap();
    let r = tx.lock_round_for_lists(round).await.unwrap();
    assert_eq!(r.status(), RoundStatus::Draft);
    assert_eq!(r.program_id, program);
    assert_eq!(r.dates(), dates());
    assert_eq!((r.talent_limit(), r.host_limit()), (3, 5));
    assert!(r.interim_on);
    tx.enter_round(round, a, t0()).await.unwrap();
    tx.enter_round(round, b, t0() + secs(1)).await.unwrap();
    // Entering twice changes nothing.
    tx.enter_round(round, a, t0() + secs(2)).await.unwrap();
    assert_eq!(
        tx.round_entry(round, a).await.unwrap().unwrap().entered_at,
        t0()
    );
    tx.set_talent_preferences(round, a, &[p[1], p[0]])
        .await
        .unwrap();
    tx.set_talent_preferences(round, b, &[p[1]]).await.unwrap();
    // A list is replaced as a whole.
    tx.set_talent_preferences(round, b, &[p[2], p[1]])
        .await
        .unwrap();
    tx.set_host_preferences(round, p[1], &[b, a]).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    assert!(
        tx.set_talent_preferences(round, a, &[p[0], p[0]])
            .await
            .is_err(),
        "a project twice in one list"
    );
    tx.rollback().await.unwrap();
    let stranger = db.account("stranger@example.jp").await;
    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    assert!(
        tx.set_talent_preferences(round, stranger, &[p[0]])
            .await
            .is_err(),
        "only entrants have lists"
    );
    tx.rollback().await.unwrap();
    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    assert!(
        tx.set_host_preferences(round, p[0], &[stranger])
            .await
            .is_err(),
        "hosts rank entrants only"
    );
    tx.rollback().await.unwrap();

    let mut tx = db.store.tenant(iwate).read().await.unwrap();
    assert_eq!(tx.talent_preferences(round, a).await.unwrap(), [p[1], p[0]]);
    assert_eq!(tx.host_preferences(round, p[1]).await.unwrap(), [b, a]);
    assert_eq!(
        tx.first_choice_counts(round).await.unwrap(),
        [(p[0], 0), (p[1], 1), (p[2], 1)]
    );
    assert_eq!(
        tx.round_lists(round).await.unwrap(),
        RoundLists {
            talents: vec![(a, vec![p[1], p[0]]), (b, vec![p[2], p[1]])],
            projects: vec![(p[0], 2, vec![]), (p[1], 1, vec![b, a]), (p[2], 1, vec![]),],
        }
    );
    tx.commit().await.unwrap();

    // Withdrawing takes the talent out of every list; entering again starts empty.
    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    tx.withdraw_from_round(round, a, t0() + secs(10))
        .await
        .unwrap();
    assert!(matches!(
        tx.withdraw_from_round(round, a, t0() + secs(11)).await,
        Err(StoreError::NotFound)
    ));
    assert!(!tx.round_entry(round, a).await.unwrap().unwrap().is_live());
    assert_eq!(tx.host_preferences(round, p[1]).await.unwrap(), [b]);
    assert_eq!(tx.round_entries(round).await.unwrap().len(), 1);
    tx.enter_round(round, a, t0() + secs(20)).await.unwrap();
    let back = tx.round_entry(round, a).await.unwrap().unwrap();
    assert!(back.is_live());
    assert_eq!(back.entered_at, t0() + secs(20));
    assert!(tx.talent_preferences(round, a).await.unwrap().is_empty());
    tx.commit().await.unwrap();
}

async fn projects_leaving_keep_ranks_consecutive(db: Db) {
    let iwate = db.tenant("iwate");
    let (_, round, p, _, _) = setup(&db, iwate, 3, "032051").await;
    let a = db.account("a@example.jp").await;
    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    tx.set_round_projects(round, &[(p[0], 1), (p[1], 1), (p[2], 1)])
        .await
        .unwrap();
    tx.enter_round(round, a, t0()).await.unwrap();
    tx.set_talent_preferences(round, a, &[p[1], p[2], p[0]])
        .await
        .unwrap();
    // The first choice leaves the round: the second becomes the first.
    tx.set_round_projects(round, &[(p[0], 3), (p[2], 1)])
        .await
        .unwrap();
    assert_eq!(tx.talent_preferences(round, a).await.unwrap(), [p[2], p[0]]);
    assert_eq!(
        tx.first_choice_counts(round).await.unwrap(),
        [(p[0], 0), (p[2], 1)]
    );
    let seats: Vec<(ProjectId, i64)> = tx
        .round_projects(round)
        .await
        .unwrap()
        .iter()
        .map(|rp| (rp.project_id, rp.seats))
        .collect();
    assert_eq!(seats, [(p[0], 3), (p[2], 1)]);
    tx.commit().await.unwrap();
}

async fn field_work_attendees_are_invited_once(db: Db) {
    let iwate = db.tenant("iwate");
    let (_, round, _, staff, fieldwork) = setup(&db, iwate, 1, "032051").await;
    let went = db.account("went@example.jp").await;
    let registered_only = db.account("stayed@example.jp").await;
    let invited = db.account("invited@example.jp").await;
    let r = register(&db, iwate, fieldwork, went, None, 1, SeatLock::Held)
        .await
        .unwrap();
    register(
        &db,
        iwate,
        fieldwork,
        registered_only,
        None,
        2,
        SeatLock::Held,
    )
    .await
    .unwrap();
    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    let day = NaiveDate::from_ymd_opt(2026, 6, 10).unwrap();
    assert!(
        tx.check_in(r.registration().id, day, staff, t0())
            .await
            .unwrap()
    );
    assert!(
        tx.invite_to_round(round, invited, InvitationSource::Staff, Some(staff), t0())
            .await
            .unwrap()
    );
    assert!(
        !tx.invite_to_round(round, invited, InvitationSource::Staff, Some(staff), t0())
            .await
            .unwrap()
    );
    assert_eq!(tx.invite_fieldwork_attendees(round, t0()).await.unwrap(), 1);
    assert_eq!(tx.invite_fieldwork_attendees(round, t0()).await.unwrap(), 0);
    assert!(tx.is_invited(round, went).await.unwrap());
    assert!(tx.is_invited(round, invited).await.unwrap());
    assert!(!tx.is_invited(round, registered_only).await.unwrap());
    tx.commit().await.unwrap();
}

async fn the_round_moves_once_and_is_recorded(db: Db) {
    let iwate = db.tenant("iwate");
    let (_, round, _, staff, _) = setup(&db, iwate, 1, "032051").await;
    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    tx.move_round(round, RoundStatus::Draft, RoundStatus::Open, staff, t0())
        .await
        .unwrap();
    // A second coordinator's click on the same move finds the round moved.
    assert!(matches!(
        tx.move_round(round, RoundStatus::Draft, RoundStatus::Open, staff, t0())
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(tx.round(round).await.unwrap().status(), RoundStatus::Open);
    tx.commit().await.unwrap();
}

async fn rounds_stay_in_their_tenant(db: Db) {
    let (iwate, kamaishi) = (db.tenant("iwate"), db.tenant("kamaishi"));
    let (_, round, p, _, _) = setup(&db, iwate, 1, "032051").await;
    let (k_program, k_round, k, k_staff, _) = setup(&db, kamaishi, 1, "032115").await;
    let a = db.account("a@example.jp").await;

    let mut tx = db.store.tenant(kamaishi).write().await.unwrap();
    assert!(matches!(tx.round(round).await, Err(StoreError::NotFound)));
    assert!(tx.lock_round_for_lists(round).await.is_err());
    assert!(
        tx.rounds_of_program(k_program)
            .await
            .unwrap()
            .iter()
            .all(|r| r.id == k_round)
    );
    assert!(matches!(
        tx.move_round(round, RoundStatus::Draft, RoundStatus::Open, k_staff, t0())
            .await,
        Err(StoreError::Conflict(_))
    ));
    tx.commit().await.unwrap();
    // Iwate's project cannot take part in Kamaishi's round, nor Kamaishi's in Iwate's.
    let mut tx = db.store.tenant(kamaishi).write().await.unwrap();
    assert!(tx.set_round_projects(k_round, &[(p[0], 1)]).await.is_err());
    tx.rollback().await.unwrap();
    let mut tx = db.store.tenant(kamaishi).write().await.unwrap();
    assert!(tx.enter_round(round, a, t0()).await.is_err());
    tx.rollback().await.unwrap();
    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    assert!(tx.set_round_projects(round, &[(k[0], 1)]).await.is_err());
    tx.rollback().await.unwrap();

    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    tx.set_round_projects(round, &[(p[0], 1)]).await.unwrap();
    tx.enter_round(round, a, t0()).await.unwrap();
    tx.set_talent_preferences(round, a, &[p[0]]).await.unwrap();
    tx.commit().await.unwrap();
    // Kamaishi's handle reads nothing of Iwate's round.
    let mut tx = db.store.tenant(kamaishi).read().await.unwrap();
    assert!(tx.talent_preferences(round, a).await.unwrap().is_empty());
    assert!(tx.host_preferences(round, p[0]).await.unwrap().is_empty());
    assert!(tx.round_entries(round).await.unwrap().is_empty());
    assert_eq!(tx.round_entry(round, a).await.unwrap(), None);
    assert!(tx.first_choice_counts(round).await.unwrap().is_empty());
    assert_eq!(tx.round_lists(round).await.unwrap(), RoundLists::default());
    assert!(!tx.is_invited(round, a).await.unwrap());
    tx.commit().await.unwrap();
}
