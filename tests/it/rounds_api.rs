//! Rounds in the JSON API over HTTP, on both databases: a round's public facts (a
//! draft is 404; the interim count only while lists are open and only when turned
//! on; no one's list), the staff result equal to what `yui match solve` prints for
//! the same round, and the walls between tenants, people and strangers.

use chrono::Duration;
use serde_json::{Value, json};
use yui_domain::ids::RoundId;
use yui_domain::locale::Localized;
use yui_domain::program::{FieldworkRule, ProgramInput, check_program};
use yui_domain::round::{EntryRule, RoundDates, RoundMode, RoundStatus};
use yui_domain::{AccountId, FiscalYear, ProjectId, TenantId};
use yui_match::KeyedRound;
use yui_store::{NewPair, NewRound};

use crate::events_api::{coordinator, people};
use crate::hosts::make_host;
use crate::projects::make_project;
use crate::support::{TestApp, on_both_backends};

on_both_backends!(
    TestApp::with_tenants =>
    a_rounds_facts_show_seats_and_the_interim_count_and_no_list,
    the_staff_result_is_what_yui_match_solve_prints,
    rounds_answer_404_across_tenants_people_and_strangers,
);

struct Setup {
    tenant: TenantId,
    round: RoundId,
    projects: Vec<ProjectId>,
    talents: Vec<AccountId>,
}

/// A round of `slug` with three projects (the last shown to members only), four
/// entrants with lists, and project lists; `interim` as given. Made in the store:
/// the pages that make rounds come later.
async fn setup(app: &TestApp, slug: &str, code: &str, interim: bool) -> Setup {
    let tenant = app.store.tenant_by_slug(slug).await.unwrap().id;
    let now = app.now();
    let host = make_host(app, slug, "りんご園", code, true).await;
    let projects = vec![
        make_project(app, slug, host, "収穫体験の発信", "public", true).await,
        make_project(app, slug, host, "直売所の改善", "public", true).await,
        make_project(app, slug, host, "会員向けの案件", "members", true).await,
    ];
    let talents: Vec<AccountId> = people(app, slug, &format!("{slug}-entrant"), 4)
        .await
        .iter()
        .map(|p| p.id)
        .collect();
    let year = FiscalYear::containing(now.date_naive());
    let fields = check_program(
        &ProgramInput::for_year(
            &Localized {
                ja: "遠恋複業".into(),
                en: "Enren".into(),
            },
            year,
        ),
        now.date_naive(),
    )
    .unwrap();
    let mut tx = app.store.tenant(tenant).write().await.unwrap();
    let program = tx
        .create_program(&fields, FieldworkRule::Open, now)
        .await
        .unwrap();
    let title = Localized {
        ja: "マッチング".into(),
        en: "Matching".into(),
    };
    let staff = talents[0];
    let round = tx
        .create_round(
            &NewRound {
                program,
                title: &title,
                mode: RoundMode::Engine,
                entry_rule: EntryRule::Members,
                dates: RoundDates {
                    entry_opens_at: now - Duration::days(1),
                    entry_closes_at: now + Duration::days(1),
                    ranks_close_at: now + Duration::days(2),
                },
                talent_limit: 3,
                host_limit: 5,
                interim_on: interim,
            },
            staff,
            now,
        )
        .await
        .unwrap();
    tx.set_round_projects(
        round,
        &[(projects[0], 1), (projects[1], 2), (projects[2], 1)],
    )
    .await
    .unwrap();
    let (a, b, c) = (projects[0], projects[1], projects[2]);
    let lists = [vec![a, b], vec![a], vec![b, c], vec![c, a]];
    for (t, list) in talents.iter().zip(&lists) {
        tx.enter_round(round, *t, now).await.unwrap();
        tx.set_talent_preferences(round, *t, list).await.unwrap();
    }
    let [t0, t1, t2, t3] = [talents[0], talents[1], talents[2], talents[3]];
    tx.set_host_preferences(round, a, &[t1, t0, t3])
        .await
        .unwrap();
    tx.set_host_preferences(round, b, &[t0, t2]).await.unwrap();
    tx.set_host_preferences(round, c, &[t2]).await.unwrap();
    tx.commit().await.unwrap();
    Setup {
        tenant,
        round,
        projects,
        talents,
    }
}

async fn open(app: &TestApp, s: &Setup) {
    let staff = s.talents[0];
    let mut tx = app.store.tenant(s.tenant).write().await.unwrap();
    tx.move_round(
        s.round,
        RoundStatus::Draft,
        RoundStatus::Open,
        staff,
        app.now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

async fn get_json(app: &TestApp, path: &str, token: Option<&str>) -> (u16, Value) {
    let mut req = app.client().get(app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn a_rounds_facts_show_seats_and_the_interim_count_and_no_list(app: &TestApp) {
    let s = setup(app, "iwate", "032051", true).await;
    let path = format!("/api/v1/tenants/iwate/rounds/{}", s.round);
    // A draft is the coordinator's alone.
    assert_eq!(get_json(app, &path, None).await.0, 404);
    open(app, &s).await;
    let (status, body) = get_json(app, &path, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "open");
    assert_eq!(body["mode"], "engine");
    assert_eq!(body["talent_rank_limit"], 3);
    assert_eq!(body["interim"], true);
    assert!(body["ranks_close_at"].as_str().unwrap().ends_with("+09:00"));
    let projects = body["projects"].as_array().unwrap();
    let p = &s.projects;
    assert_eq!(
        projects[0],
        json!({"id": p[0].get(), "title": "収穫体験の発信", "host": "りんご園", "seats": 1, "first_choices": 2})
    );
    assert_eq!(projects[1]["first_choices"], 1);
    // A members-only project shows its seats and count, not its title.
    assert_eq!(
        projects[2],
        json!({"id": p[2].get(), "seats": 1, "first_choices": 1})
    );
    // Nothing of anyone's list beyond first choices, and no one named: these fields
    // and no others.
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "entry_closes_at",
            "entry_opens_at",
            "host_rank_limit",
            "id",
            "interim",
            "mode",
            "projects",
            "ranks_close_at",
            "status",
            "talent_rank_limit",
            "title"
        ]
    );

    // Without the interim publication, no counts at all.
    let quiet = setup(app, "kamaishi", "032115", false).await;
    open(app, &quiet).await;
    let (_, body) = get_json(
        app,
        &format!("/api/v1/tenants/kamaishi/rounds/{}", quiet.round),
        None,
    )
    .await;
    assert_eq!(body["interim"], false);
    assert!(
        body["projects"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p.get("first_choices").is_none())
    );

    // Once lists close the count is gone too.
    let mut tx = app.store.tenant(s.tenant).write().await.unwrap();
    tx.move_round(
        s.round,
        RoundStatus::Open,
        RoundStatus::Closed,
        s.talents[0],
        app.now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let (_, body) = get_json(app, &path, None).await;
    assert_eq!(body["status"], "closed");
    assert_eq!(body["interim"], false);
    assert!(body["projects"][0].get("first_choices").is_none());
}

async fn the_staff_result_is_what_yui_match_solve_prints(app: &TestApp) {
    let s = setup(app, "iwate", "032051", false).await;
    let staff = coordinator(app, "iwate", "round-staff").await;
    let mut tx = app.store.tenant(s.tenant).write().await.unwrap();
    let lists = tx.round_lists(s.round).await.unwrap();
    let engine = KeyedRound::new(&lists.talents, &lists.projects).unwrap();
    let pairs: Vec<NewPair> = engine.solve().into_iter().map(NewPair::from).collect();
    tx.replace_result(s.round, &pairs, app.now()).await.unwrap();
    tx.commit().await.unwrap();

    // The same round as `yui match solve` reads it, ids as strings.
    let id = |n: i64| Value::String(n.to_string());
    let instance = json!({
        "talents": lists.talents.iter().map(|(t, prefs)| json!({
            "id": id(t.get()),
            "prefs": prefs.iter().map(|p| id(p.get())).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "projects": lists.projects.iter().map(|(p, seats, prefs)| json!({
            "id": id(p.get()),
            "capacity": seats,
            "prefs": prefs.iter().map(|t| id(t.get())).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    let printed: Value =
        serde_json::from_str(&yui_match::cli::solve_json(&instance.to_string()).unwrap()).unwrap();

    let path = format!("/api/v1/tenants/iwate/rounds/{}/result", s.round);
    let (status, body) = get_json(app, &path, Some(&staff.token)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, printed);
    assert_eq!(body["summary"]["matched"], 3, "{body}");
}

async fn rounds_answer_404_across_tenants_people_and_strangers(app: &TestApp) {
    let s = setup(app, "iwate", "032051", true).await;
    open(app, &s).await;
    let k = setup(app, "kamaishi", "032115", true).await;
    open(app, &k).await;
    let iwate_staff = coordinator(app, "iwate", "iwate-staff").await;
    let kamaishi_staff = coordinator(app, "kamaishi", "kamaishi-staff").await;
    let talent = people(app, "iwate", "plain-talent", 1).await.pop().unwrap();
    let facts = |slug: &str, round: RoundId| format!("/api/v1/tenants/{slug}/rounds/{round}");
    let result =
        |slug: &str, round: RoundId| format!("/api/v1/tenants/{slug}/rounds/{round}/result");

    // Another tenant's round through this tenant's path, and nonsense ids.
    assert_eq!(
        get_json(app, &facts("kamaishi", s.round), None).await.0,
        404
    );
    assert_eq!(get_json(app, &facts("nowhere", s.round), None).await.0, 404);
    assert_eq!(
        get_json(app, "/api/v1/tenants/iwate/rounds/x'1", None)
            .await
            .0,
        404
    );
    // The result: strangers 401; a talent, another tenant's staff, or this tenant's
    // staff asking about another tenant's round: 404.
    assert_eq!(get_json(app, &result("iwate", s.round), None).await.0, 401);
    assert_eq!(
        get_json(app, &result("iwate", s.round), Some("not-a-token"))
            .await
            .0,
        401
    );
    assert_eq!(
        get_json(app, &result("iwate", s.round), Some(&talent.token))
            .await
            .0,
        404
    );
    assert_eq!(
        get_json(app, &result("iwate", s.round), Some(&kamaishi_staff.token))
            .await
            .0,
        404
    );
    assert_eq!(
        get_json(
            app,
            &result("kamaishi", s.round),
            Some(&kamaishi_staff.token)
        )
        .await
        .0,
        404
    );
    assert_eq!(
        get_json(app, &result("iwate", k.round), Some(&iwate_staff.token))
            .await
            .0,
        404
    );
    let (status, body) = get_json(app, &result("iwate", s.round), Some(&iwate_staff.token)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["summary"]["talents"], 4);
    assert_eq!(body["unmatched_talents"].as_array().unwrap().len(), 4);
}
