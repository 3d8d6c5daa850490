//! Matching rounds through a tenant's handle: set-up, projects and seats, invitations
//! (also of field-work attendees), entries and withdrawals, both sides' lists with
//! their ranks kept consecutive, the interim count, the lists the engine reads, the
//! state machine's moves recorded once, and the walls between tenants.

use chrono::NaiveDate;
use yui_domain::host::HostStatus;
use yui_domain::ids::RoundId;
use yui_domain::locale::Localized;
use yui_domain::project::Visibility;
use yui_domain::round::{Answer, MatchStatus};
use yui_domain::round::{EntryRule, RoundDates, RoundMode, RoundStatus};
use yui_domain::{AccountId, EventId, ProgramId, ProjectId, TenantId};
use yui_store::{
    Adjustment, InvitationSource, NewPair, NewRound, PairOrigin, RoundLists, SeatLock, Side,
    StoreError,
};

use crate::events::{event, register};
use crate::hosts_projects::{make_host, project};
use crate::{Db, both, secs, t0};

both!(
    a_round_takes_entries_and_both_sides_lists,
    projects_leaving_keep_ranks_consecutive,
    field_work_attendees_are_invited_once,
    the_round_moves_once_and_is_recorded,
    rounds_stay_in_their_tenant,
    a_result_is_adjusted_with_reasons_and_answered_by_both_sides,
    both_sides_confirming_at_once_make_one_engagement,
    results_stay_in_their_tenant,
    the_second_phase_offers_open_seats_to_applicants,
    offers_racing_for_the_last_seat_make_one,
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

/// A round in `tenant` with `n` projects and `talents` entrants who each rank every
/// project in order; returns the round, projects and talents.
async fn entered(
    db: &Db,
    tenant: TenantId,
    code: &str,
    n: usize,
    talents: usize,
) -> (RoundId, Vec<ProjectId>, Vec<AccountId>, AccountId) {
    let (_, round, p, staff, _) = setup(db, tenant, n, code).await;
    let mut t = Vec::new();
    for i in 0..talents {
        t.push(
            db.account(&format!("entrant{i}-{}@example.jp", tenant.get()))
                .await,
        );
    }
    let mut tx = db.store.tenant(tenant).write().await.unwrap();
    let seats: Vec<(ProjectId, u32)> = p.iter().map(|p| (*p, 1)).collect();
    tx.set_round_projects(round, &seats).await.unwrap();
    for talent in &t {
        tx.enter_round(round, *talent, t0()).await.unwrap();
        tx.set_talent_preferences(round, *talent, &p).await.unwrap();
    }
    tx.commit().await.unwrap();
    (round, p, t, staff)
}

fn engine(talent: AccountId, project: ProjectId, rank: u32) -> NewPair {
    NewPair {
        talent,
        project,
        talent_rank: Some(rank),
        origin: PairOrigin::Engine,
    }
}

async fn a_result_is_adjusted_with_reasons_and_answered_by_both_sides(db: Db) {
    let iwate = db.tenant("iwate");
    let (round, p, t, staff) = entered(&db, iwate, "032051", 2, 3).await;
    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    tx.replace_result(round, &[engine(t[0], p[0], 1), engine(t[1], p[1], 2)], t0())
        .await
        .unwrap();
    // Solving again replaces the result.
    tx.replace_result(round, &[engine(t[0], p[0], 1), engine(t[1], p[1], 2)], t0())
        .await
        .unwrap();
    // One live pair per talent.
    assert!(matches!(
        tx.replace_result(round, &[engine(t[2], p[0], 1), engine(t[2], p[1], 2)], t0())
            .await,
        Err(StoreError::Conflict(f)) if f == "talent"
    ));
    tx.rollback().await.unwrap();

    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    tx.replace_result(round, &[engine(t[0], p[0], 1), engine(t[1], p[1], 2)], t0())
        .await
        .unwrap();
    // The coordinator moves talent 1 to project 0 and leaves talent 0 out.
    tx.adjust_pair(
        round,
        Adjustment::Remove,
        t[0],
        p[0],
        "辞退の申し出",
        staff,
        t0(),
    )
    .await
    .unwrap();
    tx.adjust_pair(
        round,
        Adjustment::Add,
        t[1],
        p[0],
        "面談で合意",
        staff,
        t0(),
    )
    .await
    .unwrap();
    assert!(matches!(
        tx.adjust_pair(round, Adjustment::Remove, t[2], p[1], "x", staff, t0())
            .await,
        Err(StoreError::NotFound)
    ));
    let pairs = tx.round_pairs(round).await.unwrap();
    assert_eq!(pairs.len(), 1);
    assert_eq!((pairs[0].account_id, pairs[0].project_id), (t[1], p[0]));
    assert_eq!(
        pairs[0].talent_rank,
        Some(1),
        "p[0] is first on t[1]'s list"
    );
    assert_eq!(pairs[0].origin(), PairOrigin::Manual);
    let reasons: Vec<String> = tx
        .round_adjustments(round)
        .await
        .unwrap()
        .into_iter()
        .map(|a| format!("{} {}", a.action, a.reason))
        .collect();
    assert_eq!(reasons, ["remove 辞退の申し出", "add 面談で合意"]);
    tx.replace_result(round, &[engine(t[0], p[0], 1), engine(t[1], p[1], 2)], t0())
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    let pairs = tx.round_pairs(round).await.unwrap();
    let (first, second) = (pairs[0].id, pairs[1].id);
    let a = tx
        .answer_pair(round, first, Side::Talent, Answer::Confirmed, t0())
        .await
        .unwrap();
    assert_eq!((a.status, a.engagement), (MatchStatus::Proposed, None));
    // A second click, or a change of mind, does not change an answer given.
    let again = tx
        .answer_pair(round, first, Side::Talent, Answer::Declined, t0())
        .await
        .unwrap();
    assert_eq!(again.status, MatchStatus::Proposed);
    let done = tx
        .answer_pair(round, first, Side::Host, Answer::Confirmed, t0())
        .await
        .unwrap();
    assert_eq!(done.status, MatchStatus::Confirmed);
    let engagement = done.engagement.expect("both confirmed");
    // The host declines the second: the seat is free and the talent may be paired again.
    let declined = tx
        .answer_pair(round, second, Side::Host, Answer::Declined, t0())
        .await
        .unwrap();
    assert_eq!(
        (declined.status, declined.engagement),
        (MatchStatus::Declined, None)
    );
    assert!(matches!(
        tx.answer_pair(round, second, Side::Talent, Answer::Confirmed, t0())
            .await,
        Err(StoreError::NotFound)
    ));
    tx.adjust_pair(round, Adjustment::Add, t[1], p[1], "二次募集", staff, t0())
        .await
        .unwrap();
    let mine = tx.pairs_of_talent(round, t[1]).await.unwrap();
    assert_eq!(mine.len(), 2);
    assert_eq!(mine[0].status(), MatchStatus::Declined);
    assert_eq!(mine[0].host_answer(), Some(Answer::Declined));
    assert_eq!(mine[1].status(), MatchStatus::Proposed);
    let made = tx.engagements_of_round(round).await.unwrap();
    assert_eq!(made.len(), 1);
    assert_eq!(made[0].id, engagement);
    assert_eq!((made[0].account_id, made[0].project_id), (t[0], p[0]));
    assert_eq!(made[0].status, "proposed");
    tx.commit().await.unwrap();
}

async fn both_sides_confirming_at_once_make_one_engagement(db: Db) {
    let iwate = db.tenant("iwate");
    let n = 12;
    let (round, p, t, _) = entered(&db, iwate, "032051", n, n).await;
    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    let pairs: Vec<NewPair> = (0..n).map(|i| engine(t[i], p[i], i as u32 + 1)).collect();
    tx.replace_result(round, &pairs, t0()).await.unwrap();
    let ids: Vec<i64> = tx
        .round_pairs(round)
        .await
        .unwrap()
        .iter()
        .map(|p| p.id)
        .collect();
    tx.commit().await.unwrap();
    let mut tasks = Vec::new();
    for id in ids {
        for side in [Side::Talent, Side::Host] {
            let store = db.store.clone();
            tasks.push(tokio::spawn(async move {
                let mut tx = store.tenant(iwate).write().await.unwrap();
                let a = tx
                    .answer_pair(round, id, side, Answer::Confirmed, t0())
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
                a.engagement.is_some()
            }));
        }
    }
    let mut made = 0;
    for task in tasks {
        if task.await.unwrap() {
            made += 1;
        }
    }
    assert_eq!(
        made, n,
        "one engagement per pair, made by the second answer"
    );
    let mut tx = db.store.tenant(iwate).read().await.unwrap();
    assert_eq!(tx.engagements_of_round(round).await.unwrap().len(), n);
    tx.commit().await.unwrap();
}

async fn results_stay_in_their_tenant(db: Db) {
    let (iwate, kamaishi) = (db.tenant("iwate"), db.tenant("kamaishi"));
    let (round, p, t, _) = entered(&db, iwate, "032051", 1, 1).await;
    let (k_round, _, _, k_staff) = entered(&db, kamaishi, "032115", 1, 1).await;
    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    tx.replace_result(round, &[engine(t[0], p[0], 1)], t0())
        .await
        .unwrap();
    let pair = tx.round_pairs(round).await.unwrap()[0].id;
    tx.commit().await.unwrap();

    let mut tx = db.store.tenant(kamaishi).write().await.unwrap();
    assert!(tx.round_pairs(round).await.unwrap().is_empty());
    assert!(tx.pairs_of_talent(round, t[0]).await.unwrap().is_empty());
    assert!(matches!(
        tx.answer_pair(round, pair, Side::Host, Answer::Declined, t0())
            .await,
        Err(StoreError::NotFound)
    ));
    // Kamaishi's round cannot hold Iwate's pair, nor name its project.
    assert!(matches!(
        tx.answer_pair(k_round, pair, Side::Host, Answer::Declined, t0())
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        tx.create_engagement(None, t[0], p[0], t0()).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        tx.adjust_pair(round, Adjustment::Remove, t[0], p[0], "x", k_staff, t0())
            .await,
        Err(StoreError::NotFound)
    ));
    tx.commit().await.unwrap();
    let mut tx = db.store.tenant(kamaishi).write().await.unwrap();
    assert!(
        tx.replace_result(k_round, &[engine(t[0], p[0], 1)], t0())
            .await
            .is_err(),
        "a pair cannot name another tenant's project"
    );
    tx.rollback().await.unwrap();
    let mut tx = db.store.tenant(iwate).read().await.unwrap();
    assert_eq!(tx.round_pairs(round).await.unwrap().len(), 1);
    assert_eq!(tx.round_adjustments(round).await.unwrap().len(), 0);
    tx.commit().await.unwrap();
}

/// The round of [`entered`] moved to its published state with `pairs` as its result.
async fn published(db: &Db, tenant: TenantId, round: RoundId, staff: AccountId, pairs: &[NewPair]) {
    let mut tx = db.store.tenant(tenant).write().await.unwrap();
    tx.replace_result(round, pairs, t0()).await.unwrap();
    for (from, to) in [
        (RoundStatus::Draft, RoundStatus::Open),
        (RoundStatus::Open, RoundStatus::Closed),
        (RoundStatus::Closed, RoundStatus::Published),
    ] {
        tx.move_round(round, from, to, staff, t0()).await.unwrap();
    }
    tx.commit().await.unwrap();
}

async fn the_second_phase_offers_open_seats_to_applicants(db: Db) {
    let (iwate, kamaishi) = (db.tenant("iwate"), db.tenant("kamaishi"));
    let (round, p, t, staff) = entered(&db, iwate, "032051", 2, 3).await;
    published(&db, iwate, round, staff, &[engine(t[0], p[0], 1)]).await;

    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    tx.start_second_phase(round, 3, 60, staff, t0())
        .await
        .unwrap();
    assert!(matches!(
        tx.start_second_phase(round, 3, 60, staff, t0()).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        tx.round(round).await.unwrap().status(),
        RoundStatus::SecondPhase
    );
    for (talent, project) in [(t[1], p[1]), (t[2], p[1]), (t[1], p[0]), (t[1], p[1])] {
        tx.apply_in_second_phase(round, talent, project, t0())
            .await
            .unwrap();
    }
    assert_eq!(
        tx.second_phase_applicants(round, p[1]).await.unwrap(),
        [t[1], t[2]]
    );
    // Project 0's one seat is taken; talent 0 holds a pair.
    assert_eq!(
        tx.make_offer(round, p[0], t[1], 1, staff, t0())
            .await
            .unwrap(),
        None
    );
    tx.commit().await.unwrap();
    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    assert!(
        tx.make_offer(round, p[1], t[0], 1, staff, t0())
            .await
            .unwrap()
            .is_none(),
        "a talent with a pair gets no offer"
    );
    tx.commit().await.unwrap();

    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    let first = tx
        .make_offer(round, p[1], t[1], 1, staff, t0())
        .await
        .unwrap()
        .unwrap();
    // The seat is promised while the offer is open.
    assert_eq!(
        tx.make_offer(round, p[1], t[2], 1, staff, t0())
            .await
            .unwrap(),
        None
    );
    // Only the talent offered answers.
    assert!(matches!(
        tx.answer_offer(round, first, t[2], true, t0()).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        tx.answer_offer(round, first, t[1], false, t0())
            .await
            .unwrap(),
        None
    );
    let second = tx
        .make_offer(round, p[1], t[2], 1, staff, t0())
        .await
        .unwrap()
        .unwrap();
    // The first offer round ends: its open offers expire, and the seat is free again.
    assert_eq!(tx.expire_offers(round, 2, t0()).await.unwrap(), 1);
    assert!(matches!(
        tx.answer_offer(round, second, t[2], true, t0()).await,
        Err(StoreError::NotFound)
    ));
    let third = tx
        .make_offer(round, p[1], t[2], 2, staff, t0())
        .await
        .unwrap()
        .unwrap();
    let engagement = tx
        .answer_offer(round, third, t[2], true, t0())
        .await
        .unwrap()
        .expect("an accepted offer is a match");
    tx.commit().await.unwrap();

    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    let pair = tx.pairs_of_talent(round, t[2]).await.unwrap();
    assert_eq!(pair.len(), 1);
    assert_eq!(pair[0].status(), MatchStatus::Confirmed);
    assert_eq!(pair[0].origin(), PairOrigin::SecondPhase);
    assert_eq!(
        tx.make_offer(round, p[1], t[1], 2, staff, t0())
            .await
            .unwrap(),
        None,
        "the seat is filled"
    );
    let made = tx.engagements_of_round(round).await.unwrap();
    assert_eq!(made.iter().map(|e| e.id).collect::<Vec<_>>(), [engagement]);
    let offers: Vec<String> = tx
        .offers_to(round, t[2])
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.status)
        .collect();
    assert_eq!(offers, ["expired", "accepted"]);
    tx.commit().await.unwrap();

    // Another tenant's handle reaches none of it.
    let mut tx = db.store.tenant(kamaishi).write().await.unwrap();
    assert!(
        tx.second_phase_applicants(round, p[1])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(tx.offers_to(round, t[2]).await.unwrap().is_empty());
    assert!(matches!(
        tx.answer_offer(round, third, t[2], true, t0()).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        tx.make_offer(round, p[1], t[1], 2, staff, t0()).await,
        Err(StoreError::NotFound)
    ));
    tx.commit().await.unwrap();
}

async fn offers_racing_for_the_last_seat_make_one(db: Db) {
    let iwate = db.tenant("iwate");
    let n = 8;
    let (round, p, t, staff) = entered(&db, iwate, "032051", 1, n).await;
    published(&db, iwate, round, staff, &[]).await;
    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    tx.start_second_phase(round, 1, 60, staff, t0())
        .await
        .unwrap();
    for talent in &t {
        tx.apply_in_second_phase(round, *talent, p[0], t0())
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let mut tasks = Vec::new();
    for talent in t {
        let store = db.store.clone();
        let project = p[0];
        tasks.push(tokio::spawn(async move {
            let mut tx = store.tenant(iwate).write().await.unwrap();
            let offer = tx
                .make_offer(round, project, talent, 1, staff, t0())
                .await
                .unwrap();
            tx.commit().await.unwrap();
            offer.is_some()
        }));
    }
    let mut made = 0;
    for task in tasks {
        if task.await.unwrap() {
            made += 1;
        }
    }
    assert_eq!(made, 1, "one seat, one open offer");
}

/// What the talent's and the host's round pages read and lock.
mod pages {
    use yui_domain::tenant::Consent;

    use super::*;

    both!(
        hosts_see_entrants_who_consented_and_their_own_projects,
        the_second_phase_reads_per_talent_and_per_project,
    );

    async fn join(db: &Db, tenant: TenantId, who: AccountId, hosts: bool) {
        let mut tx = db.store.account(who).write().await.unwrap();
        tx.join_tenant(tenant, &Consent::default(), hosts, t0())
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    async fn hosts_see_entrants_who_consented_and_their_own_projects(db: Db) {
        let (iwate, kamaishi) = (db.tenant("iwate"), db.tenant("kamaishi"));
        let (round, p, t, _) = entered(&db, iwate, "032051", 2, 4).await;
        join(&db, iwate, t[0], true).await;
        join(&db, iwate, t[1], false).await;
        join(&db, iwate, t[2], true).await;
        // t[3] never joined; t[2] withdraws from the round.
        let member = db.account("host-member@example.jp").await;
        let mut tx = db.store.tenant(iwate).write().await.unwrap();
        tx.withdraw_from_round(round, t[2], t0()).await.unwrap();
        let seen: Vec<AccountId> = tx
            .entrants_for_hosts(round)
            .await
            .unwrap()
            .iter()
            .map(|e| e.account_id)
            .collect();
        assert_eq!(seen, [t[0]]);
        assert!(
            tx.round_projects_of_member(round, member)
                .await
                .unwrap()
                .is_empty()
        );
        let host = tx.project(p[0]).await.unwrap().unwrap().host_id;
        tx.add_host_member(host, member, t0()).await.unwrap();
        assert_eq!(tx.round_projects_of_member(round, member).await.unwrap(), p);
        // Locks find what is there and nothing else.
        assert!(tx.lock_round_entry(round, t[0]).await.unwrap().is_some());
        assert!(tx.lock_round_entry(round, member).await.unwrap().is_none());
        assert_eq!(tx.lock_round_project(round, p[0]).await.unwrap(), Some(1));
        tx.commit().await.unwrap();
        // Another tenant's handle sees none of it.
        let mut tx = db.store.tenant(kamaishi).write().await.unwrap();
        assert!(tx.entrants_for_hosts(round).await.unwrap().is_empty());
        assert!(
            tx.round_projects_of_member(round, member)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(tx.lock_round_entry(round, t[0]).await.unwrap().is_none());
        assert!(tx.lock_round_project(round, p[0]).await.unwrap().is_none());
        tx.commit().await.unwrap();
    }

    async fn the_second_phase_reads_per_talent_and_per_project(db: Db) {
        let (iwate, kamaishi) = (db.tenant("iwate"), db.tenant("kamaishi"));
        let (round, p, t, staff) = entered(&db, iwate, "032051", 2, 2).await;
        published(&db, iwate, round, staff, &[]).await;
        let mut tx = db.store.tenant(iwate).write().await.unwrap();
        tx.start_second_phase(round, 2, 60, staff, t0())
            .await
            .unwrap();
        for (talent, project) in [(t[0], p[1]), (t[0], p[0]), (t[1], p[1])] {
            tx.apply_in_second_phase(round, talent, project, t0())
                .await
                .unwrap();
        }
        assert_eq!(
            tx.second_phase_applications_of(round, t[0]).await.unwrap(),
            [p[0], p[1]]
        );
        let offer = tx
            .make_offer(round, p[1], t[1], 1, staff, t0())
            .await
            .unwrap()
            .unwrap();
        let offers = tx.offers_of_project(round, p[1]).await.unwrap();
        assert_eq!(offers.len(), 1);
        assert_eq!((offers[0].id, offers[0].account_id), (offer, t[1]));
        assert!(tx.offers_of_project(round, p[0]).await.unwrap().is_empty());
        tx.commit().await.unwrap();
        let mut tx = db.store.tenant(kamaishi).read().await.unwrap();
        assert!(
            tx.second_phase_applications_of(round, t[0])
                .await
                .unwrap()
                .is_empty()
        );
        assert!(tx.offers_of_project(round, p[1]).await.unwrap().is_empty());
        tx.commit().await.unwrap();
    }
}
