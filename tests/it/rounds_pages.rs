//! The round pages of talents and host members, over HTTP on both databases:
//! who may enter (members, invited, field work required), the dates (entry and
//! ranking refused after they close, with a page), ranking through the rendered
//! forms, lists private to their side, answers that make an engagement or free the
//! seat, the second phase's applications, offers and acceptance, a burst of
//! parallel saves, and the walls between tenants, people and strangers.

use chrono::Duration;
use yui_domain::ids::RoundId;
use yui_domain::locale::Localized;
use yui_domain::program::{FieldworkRule, ProgramInput, check_program};
use yui_domain::round::{EntryRule, RoundDates, RoundMode, RoundStatus};
use yui_domain::{AccountId, FiscalYear, HostId, ProjectId, TenantId};
use yui_store::{InvitationSource, NewPair, NewRound, PairOrigin};

use crate::hosts::{host_member, make_host};
use crate::projects::make_project;
use crate::staff::person;
use crate::support::{Form, Page, TestApp, on_both_backends};
use crate::talent::join;

on_both_backends!(
    TestApp::with_tenants =>
    entering_follows_membership_invitations_field_work_and_dates,
    both_sides_rank_through_the_rendered_forms,
    neither_side_sees_the_other_sides_ranks,
    answers_make_an_engagement_or_free_the_seat,
    the_second_phase_applies_offers_and_accepts,
    every_route_is_walled,
);
on_both_backends!(
    TestApp::with_tenants, worker_threads = 4 =>
    a_burst_of_saves_leaves_one_list,
);

/// A round of `slug` and what it is made of.
struct World {
    tenant: TenantId,
    round: RoundId,
    host: HostId,
    projects: Vec<ProjectId>,
    /// Someone to record the coordinator's moves as.
    actor: AccountId,
}

/// What the round is like.
struct Shape {
    fieldwork: FieldworkRule,
    entry: EntryRule,
    talent_limit: u32,
    interim: bool,
}

impl Default for Shape {
    fn default() -> Shape {
        Shape {
            fieldwork: FieldworkRule::Open,
            entry: EntryRule::Members,
            talent_limit: 2,
            interim: false,
        }
    }
}

/// A round of `slug` open now (entry for a day, lists for two), with three
/// projects of one host (one seat each; the third's title is hostile), made in the
/// store: the coordinator's pages are tested elsewhere.
async fn world(app: &TestApp, slug: &str, code: &str, tag: &str, shape: Shape) -> World {
    let tenant = app.store.tenant_by_slug(slug).await.unwrap().id;
    let now = app.now();
    let host = make_host(app, slug, &format!("{tag}りんご園"), code, true).await;
    let projects = vec![
        make_project(
            app,
            slug,
            host,
            &format!("{tag}収穫体験の発信"),
            "public",
            true,
        )
        .await,
        make_project(
            app,
            slug,
            host,
            &format!("{tag}直売所の改善"),
            "members",
            true,
        )
        .await,
        make_project(app, slug, host, "<script>alert(1)</script>", "public", true).await,
    ];
    let (_, actor) = person(app, "事務局", &format!("{tag}-actor@{slug}.example")).await;
    let fields = check_program(
        &ProgramInput::for_year(
            &Localized {
                ja: format!("{tag}遠恋複業"),
                en: "Enren".into(),
            },
            FiscalYear::containing(now.date_naive()),
        ),
        now.date_naive(),
    )
    .unwrap();
    let mut tx = app.store.tenant(tenant).write().await.unwrap();
    let program = match tx.create_program(&fields, shape.fieldwork, now).await {
        Ok(p) => p,
        // One program a year: a second round in the tenant shares it.
        Err(_) => {
            drop(tx);
            let mut read = app.store.tenant(tenant).read().await.unwrap();
            let p = read
                .program_of_year(FiscalYear::containing(now.date_naive()))
                .await
                .unwrap()
                .unwrap()
                .id;
            read.commit().await.unwrap();
            tx = app.store.tenant(tenant).write().await.unwrap();
            p
        }
    };
    let round = tx
        .create_round(
            &NewRound {
                program,
                title: &Localized {
                    ja: format!("{tag}マッチング会"),
                    en: "Matching".into(),
                },
                mode: RoundMode::Engine,
                entry_rule: shape.entry,
                dates: RoundDates {
                    entry_opens_at: now - Duration::days(1),
                    entry_closes_at: now + Duration::days(1),
                    ranks_close_at: now + Duration::days(2),
                },
                talent_limit: shape.talent_limit,
                host_limit: 5,
                interim_on: shape.interim,
            },
            actor,
            now,
        )
        .await
        .unwrap();
    tx.set_round_projects(
        round,
        &[(projects[0], 1), (projects[1], 1), (projects[2], 1)],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    World {
        tenant,
        round,
        host,
        projects,
        actor,
    }
}

impl World {
    fn page(&self, slug: &str) -> String {
        format!("/t/{slug}/rounds/{}", self.round)
    }

    fn project_page(&self, slug: &str, i: usize) -> String {
        format!(
            "/t/{slug}/rounds/{}/projects/{}",
            self.round, self.projects[i]
        )
    }

    async fn moves(&self, app: &TestApp, steps: &[(RoundStatus, RoundStatus)]) {
        let mut tx = app.store.tenant(self.tenant).write().await.unwrap();
        for (from, to) in steps {
            tx.move_round(self.round, *from, *to, self.actor, app.now())
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
    }

    async fn open(&self, app: &TestApp) {
        self.moves(app, &[(RoundStatus::Draft, RoundStatus::Open)])
            .await;
    }

    /// Closes the round and publishes `pairs` (talent, project index).
    async fn publish(&self, app: &TestApp, pairs: &[(AccountId, usize)]) {
        let mut tx = app.store.tenant(self.tenant).write().await.unwrap();
        let mut made = Vec::new();
        for (t, i) in pairs {
            let list = tx.talent_preferences(self.round, *t).await.unwrap();
            let rank = list
                .iter()
                .position(|p| *p == self.projects[*i])
                .map(|r| r as u32 + 1);
            made.push(NewPair {
                talent: *t,
                project: self.projects[*i],
                talent_rank: rank,
                origin: PairOrigin::Engine,
            });
        }
        tx.move_round(
            self.round,
            RoundStatus::Open,
            RoundStatus::Closed,
            self.actor,
            app.now(),
        )
        .await
        .unwrap();
        tx.replace_result(self.round, &made, app.now())
            .await
            .unwrap();
        tx.move_round(
            self.round,
            RoundStatus::Closed,
            RoundStatus::Published,
            self.actor,
            app.now(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }

    async fn invite(&self, app: &TestApp, who: AccountId, source: InvitationSource) {
        let mut tx = app.store.tenant(self.tenant).write().await.unwrap();
        tx.invite_to_round(self.round, who, source, Some(self.actor), app.now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    async fn talent_list(&self, app: &TestApp, who: AccountId) -> Vec<ProjectId> {
        let mut tx = app.store.tenant(self.tenant).read().await.unwrap();
        let l = tx.talent_preferences(self.round, who).await.unwrap();
        tx.commit().await.unwrap();
        l
    }

    async fn host_list(&self, app: &TestApp, i: usize) -> Vec<AccountId> {
        let mut tx = app.store.tenant(self.tenant).read().await.unwrap();
        let l = tx
            .host_preferences(self.round, self.projects[i])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        l
    }
}

/// A signed-in talent who joined `slug` (consent for host organizations as given).
async fn talent(
    app: &TestApp,
    name: &str,
    email: &str,
    slug: &str,
    hosts: bool,
) -> (reqwest::Client, AccountId) {
    let (client, id) = person(app, name, email).await;
    assert_eq!(join(app, &client, slug, hosts).await.status(), 303);
    (client, id)
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// Submits `form`, expecting the page's redirect back with a notice; the page after.
async fn done(app: &TestApp, client: &reqwest::Client, form: &Form) -> Page {
    let res = form.submit(client).await;
    let status = res.status();
    let to = location(&res);
    assert_eq!(status, 303, "{}", res.text().await.unwrap());
    assert!(to.contains("?done="), "{to}");
    app.open(client, &to).await
}

/// The form of `page` posting to `action` whose `name` is `value`.
fn form_with(page: &Page, action: &str, name: &str, value: &str) -> Form {
    page.forms()
        .into_iter()
        .find(|f| f.action().path().ends_with(action) && f.value(name).as_deref() == Some(value))
        .unwrap_or_else(|| panic!("no form {action} with {name}={value}: {}", page.html()))
}

/// A form of `client`'s own (their profile), with their CSRF token, to send where
/// no page of theirs would.
async fn any_form(app: &TestApp, client: &reqwest::Client) -> Form {
    let mut f = app.open(client, "/me/profile").await.form("/me/profile");
    f.remove("display_name");
    f
}

/// Lets `hours` pass, with each client using the site every few hours (sessions
/// end after half a day idle).
async fn pass(app: &TestApp, clients: &[&reqwest::Client], hours: i64) {
    let mut left = hours;
    while left > 0 {
        let step = left.min(6);
        app.advance(Duration::hours(step));
        left -= step;
        for c in clients {
            app.page(c, "/account").await;
        }
    }
}

async fn enter(app: &TestApp, client: &reqwest::Client, w: &World, slug: &str) -> Page {
    let page = app.open(client, &w.page(slug)).await;
    assert_eq!(page.status(), 200, "{}", page.html());
    let form = page.form(&format!("{}/enter", w.page(slug)));
    let after = done(app, client, &form).await;
    assert!(
        after.html().contains("エントリー済みです"),
        "{}",
        after.html()
    );
    after
}

async fn entering_follows_membership_invitations_field_work_and_dates(app: &TestApp) {
    let w = world(app, "iwate", "032051", "a", Shape::default()).await;
    let (hana, hana_id) = talent(app, "花子", "hana@example.jp", "iwate", true).await;
    // A draft is nobody's but the staff's.
    assert_eq!(app.status(&hana, &w.page("iwate")).await, 404);
    w.open(app).await;

    // A member of the region enters; the page shows the round and its projects.
    let page = app.open(&hana, &w.page("iwate")).await;
    let html = page.html();
    assert!(html.contains("aマッチング会"));
    assert!(html.contains("a収穫体験の発信") && html.contains("a直売所の改善"));
    assert!(html.contains("&lt;script&gt;alert(1)"));
    assert!(!html.contains("<script>alert(1)"));
    // Dates in Tokyo time.
    assert!(html.contains("エントリー受付中です"));
    let entered = enter(app, &hana, &w, "iwate").await;
    assert!(entered.html().contains("rank_"));
    // In English by choice.
    let en = app
        .page(&hana, &format!("{}?lang=en", w.page("iwate")))
        .await;
    assert!(en.contains("You have entered this round."), "{en}");
    assert!(en.contains("Save ranking"));
    // (The choice is remembered: back to Japanese for what follows.)
    app.page(&hana, &format!("{}?lang=ja", w.page("iwate")))
        .await;

    // Signed in but not a member: to the join page; a stranger: to sign in.
    let (outsider, _) = person(app, "外部", "outside@example.jp").await;
    let res = outsider
        .get(app.url(&w.page("iwate")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/t/iwate/join");
    let res = app.get(&w.page("iwate")).await;
    assert_eq!(res.status(), 303);
    assert!(location(&res).starts_with("/signin?next="));

    // Field work required: refused with the reason until invited (as attendees are).
    let fw = world(
        app,
        "kamaishi",
        "032115",
        "f",
        Shape {
            fieldwork: FieldworkRule::Required,
            ..Shape::default()
        },
    )
    .await;
    fw.open(app).await;
    let (taro, taro_id) = talent(app, "太郎", "taro@example.jp", "kamaishi", true).await;
    let page = app.open(&taro, &fw.page("kamaishi")).await;
    assert!(page.html().contains("現地実習"), "{}", page.html());
    assert!(
        page.forms()
            .iter()
            .all(|f| !f.action().path().ends_with("/enter"))
    );
    // Posting anyway (a form no page offered): refused with the page, not JSON.
    let mut f = any_form(app, &taro).await;
    f.retarget(&format!("{}/enter", fw.page("kamaishi")));
    let res = f.submit(&taro).await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("現地実習"));
    fw.invite(app, taro_id, InvitationSource::Fieldwork).await;
    enter(app, &taro, &fw, "kamaishi").await;

    // Invited talents only.
    let inv = world(
        app,
        "iwate",
        "032051",
        "i",
        Shape {
            entry: EntryRule::Invited,
            ..Shape::default()
        },
    )
    .await;
    inv.open(app).await;
    let page = app.open(&hana, &inv.page("iwate")).await;
    assert!(page.html().contains("招待された方のみ"), "{}", page.html());
    inv.invite(app, hana_id, InvitationSource::Staff).await;
    enter(app, &hana, &inv, "iwate").await;

    // Entry closes: a late entry is refused on the page; those in may still rank.
    let (late, _) = talent(app, "遅刻", "late@example.jp", "iwate", true).await;
    let late_page = app.open(&late, &w.page("iwate")).await;
    let late_enter = late_page.form(&format!("{}/enter", w.page("iwate")));
    let rank_page = app.open(&hana, &w.page("iwate")).await;
    let mut rank_form = rank_page.form(&format!("{}/ranking", w.page("iwate")));
    pass(app, &[&late, &hana], 25).await;
    let res = late_enter.submit(&late).await;
    assert_eq!(res.status(), 422);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("エントリーの受付期間ではありません")
    );
    rank_form.set(&format!("rank_{}", w.projects[1]), "1");
    done(app, &hana, &rank_form).await;
    assert_eq!(w.talent_list(app, hana_id).await, vec![w.projects[1]]);

    // Lists close: the same form is refused with a message, and nothing changes.
    pass(app, &[&hana], 24).await;
    rank_form.set(&format!("rank_{}", w.projects[0]), "1");
    rank_form.set(&format!("rank_{}", w.projects[1]), "");
    let res = rank_form.submit(&hana).await;
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(body.contains("希望順位の受付は締め切られました"), "{body}");
    assert_eq!(w.talent_list(app, hana_id).await, vec![w.projects[1]]);
}

async fn both_sides_rank_through_the_rendered_forms(app: &TestApp) {
    let w = world(
        app,
        "iwate",
        "032051",
        "r",
        Shape {
            interim: true,
            ..Shape::default()
        },
    )
    .await;
    w.open(app).await;
    let (hana, hana_id) = talent(app, "花子", "hana@example.jp", "iwate", true).await;
    let (jiro, jiro_id) = talent(app, "<b>次郎</b>", "jiro@example.jp", "iwate", true).await;
    let (quiet, _) = talent(app, "非公開さん", "quiet@example.jp", "iwate", false).await;
    let page = enter(app, &hana, &w, "iwate").await;
    enter(app, &jiro, &w, "iwate").await;
    let quiet_page = enter(app, &quiet, &w, "iwate").await;
    assert!(quiet_page.html().contains("同意していないため"));
    let action = format!("{}/ranking", w.page("iwate"));
    let field = |i: usize| format!("rank_{}", w.projects[i]);

    // The form: one labelled input per project, numeric keyboard.
    let html = page.html();
    for p in &w.projects {
        assert!(html.contains(&format!("for=\"f-rank_{p}\"")));
    }
    assert!(html.contains("inputmode=\"numeric\""));

    // Two projects with one number: the second is named.
    let mut f = page.form(&action);
    f.set(&field(0), "1").set(&field(1), "1");
    let res = f.submit(&hana).await;
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(body.contains("r直売所の改善：ほかと同じ番号です"), "{body}");
    // What was typed stays; hostile text comes back escaped.
    let mut f = page.form(&action);
    f.set(&field(0), "\"><i>x");
    let res = f.submit(&hana).await;
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(body.contains("r収穫体験の発信："), "{body}");
    assert!(body.contains("&quot;&gt;&lt;i&gt;x") && !body.contains("\"><i>x"));
    // More than the round's limit (2).
    let mut f = page.form(&action);
    f.set(&field(0), "1")
        .set(&field(1), "2")
        .set(&field(2), "3");
    let res = f.submit(&hana).await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("最大2件"));
    // Full-width digits as an input method types them; gaps are fine.
    let mut f = page.form(&action);
    f.set(&field(2), "１").set(&field(0), "5");
    let after = done(app, &hana, &f).await;
    assert_eq!(
        w.talent_list(app, hana_id).await,
        vec![w.projects[2], w.projects[0]]
    );
    // 中間公表: the first choices per project, and nothing else of anyone's list.
    assert!(
        after.html().contains("募集枠 1 · 第1希望の人数 1"),
        "{}",
        after.html()
    );
    assert_eq!(after.html().matches("第1希望の人数 0").count(), 2);
    // The page shows the saved list again, as 1 and 2.
    let again = after.form(&action);
    assert_eq!(again.value(&field(2)).as_deref(), Some("1"));
    assert_eq!(again.value(&field(0)).as_deref(), Some("2"));
    assert_eq!(again.value(&field(1)).as_deref(), Some(""));

    // The host member ranks the entrants they may see, after the 面談.
    let host = host_member(app, "iwate", w.host, "host@iwate.example").await;
    let hp = app.open(&host, &w.project_page("iwate", 0)).await;
    assert_eq!(hp.status(), 200, "{}", hp.html());
    let html = hp.html();
    assert!(html.contains("花子") && html.contains("&lt;b&gt;次郎"));
    assert!(!html.contains("<b>次郎"));
    // The one who did not consent to host organizations is not named.
    assert!(!html.contains("非公開さん"));
    assert!(html.contains("ほかに1名が参加"));
    let host_action = format!("{}/ranking", w.project_page("iwate", 0));
    let mut f = hp.form(&host_action);
    f.set(&format!("rank_{jiro_id}"), "1")
        .set(&format!("rank_{hana_id}"), "2");
    done(app, &host, &f).await;
    assert_eq!(w.host_list(app, 0).await, vec![jiro_id, hana_id]);
    // A number twice names the entrant (the later of the two, escaped).
    let mut f = hp.form(&host_action);
    f.set(&format!("rank_{jiro_id}"), "1")
        .set(&format!("rank_{hana_id}"), "1");
    let res = f.submit(&host).await;
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(body.contains("&gt;：ほかと同じ番号です"), "{body}");
    assert!(body.contains("&lt;b&gt;次郎"), "{body}");

    // Withdrawing takes the talent and their list out.
    let wp = app.open(&jiro, &w.page("iwate")).await;
    done(
        app,
        &jiro,
        &wp.form(&format!("{}/withdraw", w.page("iwate"))),
    )
    .await;
    assert!(w.talent_list(app, jiro_id).await.is_empty());
    assert_eq!(w.host_list(app, 0).await, vec![hana_id]);
}

/// Phrases that would tell one side how the other ranked it.
fn assert_no_rank_of_the_other_side(html: &str, forbidden_fields: &[String], what: &str) {
    for n in 1..=5 {
        for phrase in [format!("第{n}希望"), format!("{n}位")] {
            assert!(!html.contains(&phrase), "{what} shows {phrase}: {html}");
        }
    }
    for f in forbidden_fields {
        assert!(!html.contains(f.as_str()), "{what} shows {f}: {html}");
    }
}

async fn neither_side_sees_the_other_sides_ranks(app: &TestApp) {
    let w = world(app, "iwate", "032051", "p", Shape::default()).await;
    w.open(app).await;
    let (hana, hana_id) = talent(app, "花子", "hana@example.jp", "iwate", true).await;
    let (jiro, jiro_id) = talent(app, "次郎", "jiro@example.jp", "iwate", true).await;
    let host = host_member(app, "iwate", w.host, "host@iwate.example").await;
    enter(app, &hana, &w, "iwate").await;
    enter(app, &jiro, &w, "iwate").await;
    // Distinctive lists: Hana ranks project 1 second and project 0 first; the host
    // ranks Jiro above Hana on project 0 and Hana alone on project 1.
    let mut tx = app.store.tenant(w.tenant).write().await.unwrap();
    tx.set_talent_preferences(w.round, hana_id, &[w.projects[0], w.projects[1]])
        .await
        .unwrap();
    tx.set_talent_preferences(w.round, jiro_id, &[w.projects[1]])
        .await
        .unwrap();
    tx.set_host_preferences(w.round, w.projects[0], &[jiro_id, hana_id])
        .await
        .unwrap();
    tx.set_host_preferences(w.round, w.projects[1], &[hana_id])
        .await
        .unwrap();
    tx.commit().await.unwrap();

    // The talent's fields name projects; the host's name talents.
    // (An id both an account's and a project's would be both sides' field: left out.)
    let people = [hana_id.get(), jiro_id.get()];
    let talent_fields: Vec<String> = w
        .projects
        .iter()
        .filter(|p| !people.contains(&p.get()))
        .map(|p| format!("rank_{p}\""))
        .collect();
    let host_fields: Vec<String> = people
        .iter()
        .filter(|t| !w.projects.iter().any(|p| p.get() == **t))
        .map(|t| format!("rank_{t}\""))
        .collect();
    let api = format!("/api/v1/tenants/iwate/rounds/{}", w.round);
    let check = |stage: &'static str| {
        let (w, hana, jiro, host, api) = (&w, &hana, &jiro, &host, &api);
        let (talent_fields, host_fields) = (&talent_fields, &host_fields);
        async move {
            for (who, client) in [("hana", hana), ("jiro", jiro)] {
                for path in [w.page("iwate"), "/me".to_owned(), "/t/iwate/me".to_owned()] {
                    let html = app.page(client, &path).await;
                    assert_no_rank_of_the_other_side(
                        &html,
                        host_fields,
                        &format!("{stage}: {who} at {path}"),
                    );
                    // Nobody else's name: host lists name talents.
                    let other = if who == "hana" { "次郎" } else { "花子" };
                    assert!(!html.contains(other), "{stage}: {who} sees {other}");
                }
            }
            for path in [
                w.page("iwate"),
                w.project_page("iwate", 0),
                w.project_page("iwate", 1),
                "/t/iwate/host".to_owned(),
            ] {
                let html = app.page(host, &path).await;
                assert_no_rank_of_the_other_side(
                    &html,
                    talent_fields,
                    &format!("{stage}: host at {path}"),
                );
            }
            for client in [hana, jiro, host] {
                let body = app.page(client, api).await;
                for key in ["\"rank\"", "prefs", "first_choices", "preferences"] {
                    assert!(!body.contains(key), "{stage}: the API shows {key}: {body}");
                }
                // The result is staff's: no token, no result.
                let res = client
                    .get(app.url(&format!("{api}/result")))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 401);
            }
        }
    };
    check("open").await;
    // The host member finds the project's page from their dashboard and the round page.
    for path in ["/t/iwate/host".to_owned(), w.page("iwate")] {
        let html = app.page(&host, &path).await;
        assert!(html.contains(&w.project_page("iwate", 0)), "{path}: {html}");
    }
    // Published: Hana matched with project 0 (her first choice, the host's second).
    w.publish(app, &[(hana_id, 0), (jiro_id, 1)]).await;
    check("published").await;
    let html = app.page(&host, &w.project_page("iwate", 0)).await;
    assert!(html.contains("花子"), "{html}");
}

async fn answers_make_an_engagement_or_free_the_seat(app: &TestApp) {
    let w = world(app, "iwate", "032051", "m", Shape::default()).await;
    w.open(app).await;
    let (hana, hana_id) = talent(app, "花子", "hana@example.jp", "iwate", true).await;
    let (jiro, jiro_id) = talent(app, "次郎", "jiro@example.jp", "iwate", true).await;
    let host = host_member(app, "iwate", w.host, "host@iwate.example").await;
    enter(app, &hana, &w, "iwate").await;
    enter(app, &jiro, &w, "iwate").await;
    w.publish(app, &[(hana_id, 0), (jiro_id, 1)]).await;
    let answer = format!("{}/answer", w.page("iwate"));

    // Hana confirms on her page, then the host on the project's page: an engagement.
    let page = app.open(&hana, &w.page("iwate")).await;
    assert!(page.html().contains("m収穫体験の発信"), "{}", page.html());
    let after = done(
        app,
        &hana,
        &form_with(&page, &answer, "answer", "confirmed"),
    )
    .await;
    assert!(after.html().contains("相手の回答を待っています"));
    // A second answer is refused: her first stands.
    let res = form_with(&page, &answer, "answer", "declined")
        .submit(&hana)
        .await;
    assert_eq!(res.status(), 422);
    let hp = app.open(&host, &w.project_page("iwate", 0)).await;
    let host_answer = format!("{}/answer", w.project_page("iwate", 0));
    done(
        app,
        &host,
        &form_with(&hp, &host_answer, "answer", "confirmed"),
    )
    .await;
    let mut tx = app.store.tenant(w.tenant).read().await.unwrap();
    let engagements = tx.engagements_of_round(w.round).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(engagements.len(), 1);
    assert_eq!(engagements[0].account_id, hana_id);
    let html = app.page(&hana, &w.page("iwate")).await;
    assert!(html.contains("双方が確定しました"), "{html}");

    // Jiro declines: the seat is free again.
    let page = app.open(&jiro, &w.page("iwate")).await;
    // Jiro cannot answer Hana's pair: 404.
    let mut forged = form_with(&page, &answer, "answer", "confirmed");
    let mut tx = app.store.tenant(w.tenant).read().await.unwrap();
    let pairs = tx.round_pairs(w.round).await.unwrap();
    tx.commit().await.unwrap();
    let hana_pair = pairs.iter().find(|p| p.account_id == hana_id).unwrap().id;
    forged.forge("pair", &hana_pair.to_string());
    assert_eq!(forged.submit(&jiro).await.status(), 404);
    done(app, &jiro, &form_with(&page, &answer, "answer", "declined")).await;
    let hp = app.open(&host, &w.project_page("iwate", 1)).await;
    assert!(hp.html().contains("枠は解放されました"), "{}", hp.html());
    let api = app
        .get(&format!("/api/v1/tenants/iwate/rounds/{}", w.round))
        .await;
    assert_eq!(api.status(), 200);
    // The host of project 1 cannot answer project 0's pair through project 1.
    let token = any_form(app, &host).await.value("csrf").unwrap();
    let res = host
        .post(app.url(&format!("{}/answer", w.project_page("iwate", 1))))
        .form(&[
            ("csrf", token.as_str()),
            ("pair", hana_pair.to_string().as_str()),
            ("answer", "confirmed"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

async fn the_second_phase_applies_offers_and_accepts(app: &TestApp) {
    let w = world(app, "iwate", "032051", "s", Shape::default()).await;
    w.open(app).await;
    let (hana, hana_id) = talent(app, "花子", "hana@example.jp", "iwate", true).await;
    let (jiro, _) = talent(app, "次郎", "jiro@example.jp", "iwate", true).await;
    let host = host_member(app, "iwate", w.host, "host@iwate.example").await;
    enter(app, &hana, &w, "iwate").await;
    enter(app, &jiro, &w, "iwate").await;
    // Hana is matched with project 0; Jiro is left over.
    w.publish(app, &[(hana_id, 0)]).await;
    let mut tx = app.store.tenant(w.tenant).write().await.unwrap();
    tx.start_second_phase(w.round, 2, 60, w.actor, app.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();

    // Jiro sees the projects with open seats only (project 0 is full), and applies.
    let page = app.open(&jiro, &w.page("iwate")).await;
    let html = page.html();
    assert!(html.contains("空きのある案件"), "{html}");
    let apply = format!("{}/apply", w.page("iwate"));
    assert!(page.forms().iter().all(|f| {
        !f.action().path().ends_with("/apply")
            || f.value("project") != Some(w.projects[0].to_string())
    }));
    // No ranking nor entry in this phase.
    assert!(!html.contains("/ranking") && !html.contains("/enter\""));
    done(
        app,
        &jiro,
        &form_with(&page, &apply, "project", &w.projects[1].to_string()),
    )
    .await;
    // Hana, matched, has no second phase.
    let hana_page = app.open(&hana, &w.page("iwate")).await;
    assert!(!hana_page.html().contains("/apply\""));
    // Applying to a full project anyway is refused.
    let mut f = form_with(&page, &apply, "project", &w.projects[1].to_string());
    f.forge("project", &w.projects[0].to_string());
    assert_eq!(f.submit(&jiro).await.status(), 422);

    // The host offers a seat in the running offer round.
    let hp = app.open(&host, &w.project_page("iwate", 1)).await;
    assert!(hp.html().contains("次郎"), "{}", hp.html());
    let offer = format!("{}/offer", w.project_page("iwate", 1));
    let offer_form = hp.form(&offer);
    let after = done(app, &host, &offer_form).await;
    assert!(after.html().contains("オファー中"));
    // A second offer to the same person is refused with a message.
    assert_eq!(offer_form.submit(&host).await.status(), 422);

    // Hana cannot answer Jiro's offer; Jiro accepts: matched and engaged.
    let page = app.open(&jiro, &w.page("iwate")).await;
    let accept = page
        .forms()
        .into_iter()
        .find(|f| {
            f.action().path().contains("/offers/") && f.value("answer").as_deref() == Some("accept")
        })
        .unwrap_or_else(|| panic!("{}", page.html()));
    let mut stolen = any_form(app, &hana).await;
    stolen.retarget(accept.action().path());
    assert_eq!(stolen.submit(&hana).await.status(), 400);
    let res = hana
        .post(accept.action().clone())
        .form(&[
            ("csrf", stolen.value("csrf").unwrap().as_str()),
            ("answer", "accept"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let after = done(app, &jiro, &accept).await;
    assert!(after.html().contains("双方が確定"), "{}", after.html());
    let mut tx = app.store.tenant(w.tenant).read().await.unwrap();
    assert_eq!(tx.engagements_of_round(w.round).await.unwrap().len(), 1);
    tx.commit().await.unwrap();

    // Once the offer rounds are over, no offer can be made.
    app.advance(Duration::hours(3));
    let res = offer_form.submit(&host).await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("オファー期間ではない"));
}

async fn a_burst_of_saves_leaves_one_list(app: &TestApp) {
    let w = world(
        app,
        "iwate",
        "032051",
        "b",
        Shape {
            talent_limit: 3,
            ..Shape::default()
        },
    )
    .await;
    w.open(app).await;
    let (hana, hana_id) = talent(app, "花子", "hana@example.jp", "iwate", true).await;
    let page = enter(app, &hana, &w, "iwate").await;
    let action = format!("{}/ranking", w.page("iwate"));
    let orders: Vec<[usize; 3]> = vec![
        [0, 1, 2],
        [2, 1, 0],
        [1, 0, 2],
        [1, 2, 0],
        [0, 2, 1],
        [2, 0, 1],
    ];
    let mut tasks = Vec::new();
    for _ in 0..2 {
        for order in &orders {
            let mut f = page.form(&action);
            for (rank, i) in order.iter().enumerate() {
                f.set(&format!("rank_{}", w.projects[*i]), &(rank + 1).to_string());
            }
            let client = hana.clone();
            tasks.push(tokio::spawn(
                async move { f.submit(&client).await.status() },
            ));
        }
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 303);
    }
    let list = w.talent_list(app, hana_id).await;
    let possible: Vec<Vec<ProjectId>> = orders
        .iter()
        .map(|o| o.iter().map(|i| w.projects[*i]).collect())
        .collect();
    assert!(possible.contains(&list), "{list:?}");
}

async fn every_route_is_walled(app: &TestApp) {
    let w = world(app, "iwate", "032051", "w", Shape::default()).await;
    w.open(app).await;
    let k = world(app, "kamaishi", "032115", "k", Shape::default()).await;
    k.open(app).await;
    let (hana, hana_id) = talent(app, "花子", "hana@example.jp", "iwate", true).await;
    enter(app, &hana, &w, "iwate").await;
    let host = host_member(app, "iwate", w.host, "host@iwate.example").await;
    let other_host_id = make_host(app, "iwate", "別の受入先", "032051", true).await;
    let other_host = host_member(app, "iwate", other_host_id, "other@iwate.example").await;
    let kamaishi_host = host_member(app, "kamaishi", k.host, "host@kamaishi.example").await;
    let _ = hana_id;

    // A valid form of each kind, to send where a browser would not.
    let talent_page = app.open(&hana, &w.page("iwate")).await;
    let rank = talent_page.form(&format!("{}/ranking", w.page("iwate")));
    let host_page = app.open(&host, &w.project_page("iwate", 0)).await;
    let host_rank = host_page.form(&format!("{}/ranking", w.project_page("iwate", 0)));

    let iwate_round = w.round;
    let kamaishi_round = k.round;
    let talent_routes = |slug: &str, round: RoundId| {
        let base = format!("/t/{slug}/rounds/{round}");
        vec![
            format!("{base}/enter"),
            format!("{base}/withdraw"),
            format!("{base}/ranking"),
            format!("{base}/answer"),
            format!("{base}/apply"),
            format!("{base}/offers/1"),
        ]
    };
    let host_routes = |slug: &str, round: RoundId, project: ProjectId| {
        let base = format!("/t/{slug}/rounds/{round}/projects/{project}");
        vec![
            format!("{base}/ranking"),
            format!("{base}/answer"),
            format!("{base}/offer"),
        ]
    };

    // Another tenant's round through this tenant's slug, and nonsense ids: 404.
    for path in [
        format!("/t/iwate/rounds/{kamaishi_round}"),
        format!("/t/kamaishi/rounds/{iwate_round}"),
        "/t/iwate/rounds/x'1".to_owned(),
        format!("/t/iwate/rounds/{iwate_round}/projects/{}", k.projects[0]),
        format!(
            "/t/iwate/rounds/{kamaishi_round}/projects/{}",
            k.projects[0]
        ),
    ] {
        let status = app.status(&host, &path).await;
        assert!(status == 404, "{path}: {status}");
    }
    assert_eq!(
        app.status(&hana, &format!("/t/iwate/rounds/{kamaishi_round}"))
            .await,
        404
    );
    for path in talent_routes("iwate", kamaishi_round) {
        let mut f = rank.clone();
        f.retarget(&path);
        assert_eq!(f.submit(&hana).await.status(), 404, "{path}");
    }
    // Another tenant's host member, and a member of another host: 404 on the page
    // and every post.
    for client in [&other_host, &kamaishi_host, &hana] {
        assert_eq!(app.status(client, &w.project_page("iwate", 0)).await, 404);
    }
    for path in host_routes("iwate", iwate_round, w.projects[0]) {
        for client in [&other_host, &hana] {
            let token = any_form(app, client).await.value("csrf").unwrap();
            let mut f = host_rank.clone();
            f.retarget(&path);
            f.forge("csrf", &token);
            assert_eq!(f.submit(client).await.status(), 404, "{path}");
        }
    }
    // A project of this tenant not in the round: 404 even for its host.
    let outside = make_project(app, "iwate", w.host, "別の案件", "public", true).await;
    assert_eq!(
        app.status(
            &host,
            &format!("/t/iwate/rounds/{iwate_round}/projects/{outside}")
        )
        .await,
        404
    );

    // Strangers are sent to sign in, for pages and posts.
    let stranger = app.client();
    for path in [w.page("iwate"), w.project_page("iwate", 0)] {
        let res = stranger.get(app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), 303, "{path}");
        assert!(location(&res).starts_with("/signin?next="), "{path}");
    }
    let mut posts = talent_routes("iwate", iwate_round);
    posts.extend(host_routes("iwate", iwate_round, w.projects[0]));
    for path in &posts {
        let res = stranger
            .post(app.url(path))
            .form(&[("csrf", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{path}");
        assert!(location(&res).starts_with("/signin"), "{path}");
    }
    // A forged form (another browser's token) is refused.
    let mut f = rank.clone();
    f.forge("csrf", "forged");
    assert_eq!(f.submit(&hana).await.status(), 403);
}
