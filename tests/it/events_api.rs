//! Events in the JSON API over HTTP, on both databases: the contract's shapes, the
//! walls between tenants, 200 registrations racing for 20 seats, cancellations
//! racing registrations, idempotency keys, the confirmation's calendar file at a
//! real SMTP sink, and reminders sent once by two nodes.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Duration, FixedOffset, NaiveTime, TimeZone, Utc};
use mail_parser::MimeHeaders;
use serde_json::{Value, json};
use yui_authz::Role;
use yui_domain::account::Email;
use yui_domain::registration::RegistrationStatus;
use yui_domain::{AccountId, EventId, FiscalYear, Locale, TenantId};
use yui_store::{AccountsTx, NewAccount, PlatformReason};

use crate::support::{TestApp, on_both_backends, repo_tenants};

on_both_backends!(
    TestApp::with_tenants =>
    the_contract_and_the_walls_between_tenants,
    idempotency_keys_make_one_registration,
    the_confirmation_carries_the_calendar_file,
);
on_both_backends!(
    TestApp::with_tenants, worker_threads = 4 =>
    two_hundred_registrations_take_twenty_seats,
    cancellations_racing_registrations_promote_once_each,
    reminders_go_once_from_two_nodes,
);

/// Someone holding a personal API token of one tenant.
pub(crate) struct Person {
    pub(crate) id: AccountId,
    pub(crate) email: String,
    pub(crate) token: String,
}

fn tokyo() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).unwrap()
}

/// `days` from now, at `hour`:00 in Tokyo.
fn tokyo_at(app: &TestApp, days: i64, hour: u32) -> DateTime<FixedOffset> {
    let date = (app.now() + Duration::days(days))
        .with_timezone(&tokyo())
        .date_naive();
    tokyo()
        .from_local_datetime(&date.and_time(NaiveTime::from_hms_opt(hour, 0, 0).unwrap()))
        .single()
        .unwrap()
}

async fn tenant_id(app: &TestApp, slug: &str) -> TenantId {
    app.store.tenant_by_slug(slug).await.unwrap().id
}

/// `n` verified accounts with a token of `slug` each, made through the store in two
/// transactions (signing up 200 people over HTTP would test the password hasher).
pub(crate) async fn people(app: &TestApp, slug: &str, prefix: &str, n: usize) -> Vec<Person> {
    let now = app.now();
    let mut tx = app
        .store
        .platform(PlatformReason::Admin)
        .write()
        .await
        .unwrap();
    let mut made = Vec::with_capacity(n);
    for i in 0..n {
        let email = format!("{prefix}{i}@example.jp");
        let parsed = Email::parse("email", &email).unwrap();
        let id = tx
            .create_account(
                NewAccount {
                    email: &parsed,
                    display_name: &format!("{prefix} {i}"),
                    password_hash: None,
                    locale: Locale::Ja,
                },
                now,
            )
            .await
            .unwrap();
        tx.mark_account_verified(id, now).await.unwrap();
        let epoch = tx.account_by_id(id).await.unwrap().credential_epoch;
        made.push((id, email, epoch));
    }
    tx.commit().await.unwrap();
    let mut tx = app
        .store
        .tenant(tenant_id(app, slug).await)
        .write()
        .await
        .unwrap();
    let mut out = Vec::with_capacity(n);
    for (id, email, epoch) in made {
        let token = yui_web::security::new_secret();
        tx.create_api_token(
            id,
            epoch,
            "test",
            &yui_web::security::secret_hash(&token),
            now,
        )
        .await
        .unwrap();
        out.push(Person { id, email, token });
    }
    tx.commit().await.unwrap();
    out
}

/// A coordinator of `slug` with a token there.
pub(crate) async fn coordinator(app: &TestApp, slug: &str, prefix: &str) -> Person {
    let p = people(app, slug, prefix, 1).await.pop().unwrap();
    crate::staff::grant(app, p.id, Role::Coordinator, Some(slug)).await;
    p
}

fn event_body(starts: DateTime<FixedOffset>, hours: i64, format: &str, capacity: &Value) -> Value {
    json!({
        "kind": "seminar",
        "title": "地方複業のはじめかた",
        "starts_at": starts.to_rfc3339(),
        "ends_at": (starts + Duration::hours(hours)).to_rfc3339(),
        "format": format,
        "capacity": capacity,
        "selection": "first_come",
        "venue": "釜石市民ホール TETTO",
        "online_url": "https://meet.example.jp/yui",
    })
}

async fn create_event(app: &TestApp, staff: &Person, slug: &str, body: &Value) -> i64 {
    let res = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/tenants/{slug}/events")))
        .bearer_auth(&staff.token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let v: Value = res.json().await.unwrap();
    assert_eq!(status, 201, "{v}");
    v["id"].as_i64().unwrap()
}

async fn post(
    client: &reqwest::Client,
    url: String,
    token: &str,
    key: Option<&str>,
    body: &str,
) -> (u16, Value) {
    let mut req = client
        .post(url)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn register(
    app: &TestApp,
    slug: &str,
    event: i64,
    who: &Person,
    key: Option<&str>,
    body: &str,
) -> (u16, Value) {
    let url = app.url(&format!(
        "/api/v1/tenants/{slug}/events/{event}/registrations"
    ));
    post(&reqwest::Client::new(), url, &who.token, key, body).await
}

async fn cancel(app: &TestApp, slug: &str, registration: i64, token: &str) -> u16 {
    reqwest::Client::new()
        .delete(app.url(&format!(
            "/api/v1/tenants/{slug}/registrations/{registration}"
        )))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn listed(app: &TestApp, slug: &str) -> Vec<Value> {
    let res = app.get(&format!("/api/v1/tenants/{slug}/events")).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// (seat holders, waitlisted) by the rows, and the event's counters.
async fn stored(app: &TestApp, slug: &str, event: i64) -> (usize, usize, i64, i64) {
    let mut tx = app
        .store
        .tenant(tenant_id(app, slug).await)
        .read()
        .await
        .unwrap();
    let rows = tx.registrations(EventId::new(event)).await.unwrap();
    let e = tx.event(EventId::new(event)).await.unwrap();
    tx.commit().await.unwrap();
    let held = rows.iter().filter(|r| r.status().holds_seat()).count();
    let waiting = rows
        .iter()
        .filter(|r| r.status() == RegistrationStatus::Waitlisted)
        .count();
    (
        held,
        waiting,
        e.confirmed_onsite + e.confirmed_online,
        e.waitlisted,
    )
}

/// How many mails of `template` the outbox holds per recipient.
async fn queued(app: &TestApp, template: &str) -> BTreeMap<String, usize> {
    let mut tx = app
        .store
        .platform(PlatformReason::Admin)
        .read()
        .await
        .unwrap();
    let rows = tx.outbox_of_template(template).await.unwrap();
    tx.commit().await.unwrap();
    let mut out = BTreeMap::new();
    for r in rows {
        *out.entry(r.to_address).or_insert(0) += 1;
    }
    out
}

fn error_shape(v: &Value, code: &str) {
    assert_eq!(v["error"], code, "{v}");
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
}

async fn the_contract_and_the_walls_between_tenants(app: &TestApp) {
    let staff = coordinator(app, "kamaishi", "staff").await;
    let talent = people(app, "kamaishi", "talent", 2).await;
    let iwate = people(app, "iwate", "iwate", 1).await.pop().unwrap();
    let starts = tokyo_at(app, 30, 19);
    let hostile = "<script>alert('x')</script> 説明会 & \"quotes\"";
    let mut body = event_body(starts, 1, "onsite", &json!({"onsite": 20}));
    body["title"] = json!({"ja": hostile, "en": "Briefing <b>&</b>"});
    let event = create_event(app, &staff, "kamaishi", &body).await;

    // The public list, in the contract's shape; hostile text comes back as data.
    let list = listed(app, "kamaishi").await;
    let e = list.iter().find(|e| e["id"] == event).unwrap();
    assert_eq!(e["title"]["ja"], hostile);
    assert_eq!(e["title"]["en"], "Briefing <b>&</b>");
    assert_eq!(e["kind"], "seminar");
    assert_eq!(e["format"], "onsite");
    assert_eq!(e["starts_at"], starts.to_rfc3339());
    assert!(e["starts_at"].as_str().unwrap().ends_with("+09:00"), "{e}");
    assert_eq!(
        e["ends_at"],
        (starts + Duration::hours(1)).to_rfc3339(),
        "{e}"
    );
    assert_eq!(
        e["seats"],
        json!({"onsite": {"capacity": 20, "confirmed": 0}})
    );
    assert_eq!(e["waitlisted"], 0);
    assert!(listed(app, "iwate").await.iter().all(|e| e["id"] != event));

    // The event went into the program of its fiscal year, made for it.
    let kamaishi = tenant_id(app, "kamaishi").await;
    let year = FiscalYear::containing(starts.date_naive());
    let mut tx = app.store.tenant(kamaishi).read().await.unwrap();
    let program = tx.program_of_year(year).await.unwrap().unwrap();
    let stored_event = tx.event(EventId::new(event)).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(stored_event.program_id, program.id);
    assert_eq!(stored_event.status, "published");
    assert_eq!(program.title_ja, format!("釜石市 {}年度", year.0));
    // A second event of the year joins it.
    let second = create_event(
        app,
        &staff,
        "kamaishi",
        &event_body(
            starts + Duration::days(1),
            2,
            "online",
            &json!({"online": 5}),
        ),
    )
    .await;
    let mut tx = app.store.tenant(kamaishi).read().await.unwrap();
    assert_eq!(tx.programs().await.unwrap().len(), 1);
    assert_eq!(
        tx.event(EventId::new(second)).await.unwrap().program_id,
        program.id
    );
    tx.commit().await.unwrap();
    let e = listed(app, "kamaishi").await;
    let e = e.iter().find(|e| e["id"] == second).unwrap();
    assert_eq!(
        e["seats"],
        json!({"online": {"capacity": 5, "confirmed": 0}})
    );

    // Bad bodies: not JSON is 400 in the error shape; bad fields are named.
    let events_url = app.url("/api/v1/tenants/kamaishi/events");
    let client = reqwest::Client::new();
    let (status, v) = post(
        &client,
        events_url.clone(),
        &staff.token,
        None,
        "{\"kind\":",
    )
    .await;
    assert_eq!(status, 400);
    error_shape(&v, "bad_request");
    let bad = event_body(starts, 1, "hybrid", &json!({"online": 5}));
    let (status, v) = post(
        &client,
        events_url.clone(),
        &staff.token,
        None,
        &bad.to_string(),
    )
    .await;
    assert_eq!(status, 422, "{v}");
    error_shape(&v, "invalid");
    assert_eq!(v["fields"]["capacity.onsite"], "required", "{v}");
    let past = event_body(tokyo_at(app, -3, 10), 1, "onsite", &json!({"onsite": 5}));
    let (status, v) = post(
        &client,
        events_url.clone(),
        &staff.token,
        None,
        &past.to_string(),
    )
    .await;
    assert_eq!(status, 422, "{v}");
    assert!(v["fields"]["starts_at"].is_string(), "{v}");

    // Without the permission, with another tenant's token, or without one: no event.
    let body = body.to_string();
    let (status, v) = post(&client, events_url.clone(), &talent[0].token, None, &body).await;
    assert_eq!(status, 404);
    error_shape(&v, "not_found");
    let (status, _) = post(
        &client,
        app.url("/api/v1/tenants/iwate/events"),
        &staff.token,
        None,
        &body,
    )
    .await;
    assert_eq!(status, 404);
    let res = client.post(events_url).body(body).send().await.unwrap();
    assert_eq!(res.status(), 401);

    // A registration, and the walls around it.
    let (status, v) = register(app, "kamaishi", event, &talent[0], None, "{}").await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["status"], "confirmed");
    let reg = v["id"].as_i64().unwrap();
    let e = listed(app, "kamaishi").await;
    let e = e.iter().find(|e| e["id"] == event).unwrap();
    assert_eq!(e["seats"]["onsite"]["confirmed"], 1);
    // Another tenant's slug with this tenant's ids, in either tenant's token.
    for who in [&iwate, &talent[1]] {
        let (status, v) = register(app, "iwate", event, who, None, "{}").await;
        assert_eq!(status, 404, "{v}");
        assert_eq!(cancel(app, "iwate", reg, &who.token).await, 404);
    }
    assert_eq!(cancel(app, "iwate", reg, &talent[0].token).await, 404);
    // A token of Iwate on Kamaishi's event.
    let (status, _) = register(app, "kamaishi", event, &iwate, None, "{}").await;
    assert_eq!(status, 404);
    // Someone else's registration is not found; the owner's stands.
    assert_eq!(cancel(app, "kamaishi", reg, &talent[1].token).await, 404);
    assert_eq!(
        cancel(app, "kamaishi", 999_999, &talent[0].token).await,
        404
    );
    let (status, _) = register(app, "kamaishi", 999_999, &talent[1], None, "{}").await;
    assert_eq!(status, 404);
    assert_eq!(stored(app, "kamaishi", event).await.0, 1);
    // Bad registration bodies.
    let (status, v) = register(app, "kamaishi", event, &talent[1], None, "{\"attendance\"").await;
    assert_eq!(status, 400);
    error_shape(&v, "bad_request");
    let (status, v) = register(
        app,
        "kamaishi",
        event,
        &talent[1],
        None,
        r#"{"attendance": "online"}"#,
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(v["fields"]["attendance"], "invalid_choice", "{v}");
    // Asking again while registered answers the same registration.
    let (status, v) = register(app, "kamaishi", event, &talent[0], None, "").await;
    assert_eq!((status, v["id"].as_i64()), (200, Some(reg)));
    // The owner cancels; again is still 204.
    assert_eq!(cancel(app, "kamaishi", reg, &talent[0].token).await, 204);
    assert_eq!(cancel(app, "kamaishi", reg, &talent[0].token).await, 204);
    assert_eq!(stored(app, "kamaishi", event).await, (0, 0, 0, 0));

    // Registration that has not opened is refused with a clear code.
    let mut later = event_body(starts, 1, "onsite", &json!({"onsite": 5}));
    later["opens_at"] = json!((starts - Duration::days(7)).to_rfc3339());
    let later = create_event(app, &staff, "kamaishi", &later).await;
    let (status, v) = register(app, "kamaishi", later, &talent[1], None, "{}").await;
    assert_eq!(status, 409, "{v}");
    error_shape(&v, "registration_closed");

    // The OpenAPI document names all four.
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    let paths = &doc["paths"];
    assert!(paths["/api/v1/tenants/{slug}/events"]["get"].is_object());
    assert!(paths["/api/v1/tenants/{slug}/events"]["post"].is_object());
    assert!(paths["/api/v1/tenants/{slug}/events/{event}/registrations"]["post"].is_object());
    assert!(paths["/api/v1/tenants/{slug}/registrations/{registration}"]["delete"].is_object());
}

async fn two_hundred_registrations_take_twenty_seats(app: &TestApp) {
    let staff = coordinator(app, "kamaishi", "staff").await;
    let event = create_event(
        app,
        &staff,
        "kamaishi",
        &event_body(tokyo_at(app, 10, 19), 1, "onsite", &json!({"onsite": 20})),
    )
    .await;
    let people = people(app, "kamaishi", "burst", 200).await;
    let client = reqwest::Client::new();
    let url = app.url(&format!(
        "/api/v1/tenants/kamaishi/events/{event}/registrations"
    ));
    let mut tasks = Vec::new();
    for p in &people {
        let (client, url, token) = (client.clone(), url.clone(), p.token.clone());
        tasks.push(tokio::spawn(async move {
            post(&client, url, &token, None, "{}").await
        }));
    }
    let mut by_status: HashMap<String, usize> = HashMap::new();
    for t in tasks {
        let (status, v) = t.await.unwrap();
        assert_eq!(status, 201, "{v}");
        *by_status
            .entry(v["status"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(by_status["confirmed"], 20, "{by_status:?}");
    assert_eq!(by_status["waitlisted"], 180, "{by_status:?}");
    assert_eq!(stored(app, "kamaishi", event).await, (20, 180, 20, 180));
    let list = listed(app, "kamaishi").await;
    let e = list.iter().find(|e| e["id"] == event).unwrap();
    assert_eq!(
        e["seats"],
        json!({"onsite": {"capacity": 20, "confirmed": 20}})
    );
    assert_eq!(e["waitlisted"], 180);
    // One mail each, of the kind their registration came to.
    assert_eq!(queued(app, "event_confirmed").await.len(), 20);
    assert_eq!(queued(app, "event_waitlisted").await.len(), 180);
}

async fn cancellations_racing_registrations_promote_once_each(app: &TestApp) {
    let staff = coordinator(app, "kamaishi", "staff").await;
    let event = create_event(
        app,
        &staff,
        "kamaishi",
        &event_body(tokyo_at(app, 10, 19), 1, "onsite", &json!({"onsite": 10})),
    )
    .await;
    let first = people(app, "kamaishi", "first", 20).await;
    let mut holders = Vec::new();
    let mut waiting = Vec::new();
    for p in &first {
        let (status, v) = register(app, "kamaishi", event, p, None, "{}").await;
        assert_eq!(status, 201);
        match v["status"].as_str().unwrap() {
            "confirmed" => holders.push((p, v["id"].as_i64().unwrap())),
            "waitlisted" => waiting.push(p.email.clone()),
            other => panic!("{other}"),
        }
    }
    assert_eq!((holders.len(), waiting.len()), (10, 10));
    let newcomers = people(app, "kamaishi", "late", 40).await;
    let client = reqwest::Client::new();
    let url = app.url(&format!(
        "/api/v1/tenants/kamaishi/events/{event}/registrations"
    ));
    let mut posts = Vec::new();
    let mut deletes = Vec::new();
    for (i, p) in newcomers.iter().enumerate() {
        let (c, url, token) = (client.clone(), url.clone(), p.token.clone());
        posts.push(tokio::spawn(async move {
            post(&c, url, &token, None, "{}").await
        }));
        if i % 4 == 0 {
            let (holder, reg) = holders[i / 4];
            let (client, token) = (client.clone(), holder.token.clone());
            let url = app.url(&format!("/api/v1/tenants/kamaishi/registrations/{reg}"));
            deletes.push(tokio::spawn(async move {
                client
                    .delete(url)
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }));
        }
    }
    for d in deletes {
        assert_eq!(d.await.unwrap(), 204);
    }
    for p in posts {
        let (status, v) = p.await.unwrap();
        assert_eq!(status, 201, "{v}");
        // A freed seat goes to the waitlist's head in the same move, never to a
        // newcomer who arrives meanwhile.
        assert_eq!(v["status"], "waitlisted", "{v}");
    }
    let (held, waitlisted, counter, waiting_counter) = stored(app, "kamaishi", event).await;
    assert_eq!(held, 10, "never more than the seats");
    assert_eq!((counter, waitlisted, waiting_counter), (10, 40, 40));
    // Each cancellation promoted one person, the first ten who waited, each mailed once.
    let promoted = queued(app, "event_promoted").await;
    let mut expected: BTreeMap<String, usize> = BTreeMap::new();
    for e in &waiting {
        expected.insert(e.clone(), 1);
    }
    assert_eq!(promoted, expected);
}

async fn idempotency_keys_make_one_registration(app: &TestApp) {
    let staff = coordinator(app, "kamaishi", "staff").await;
    let starts = tokyo_at(app, 10, 19);
    let event = create_event(
        app,
        &staff,
        "kamaishi",
        &event_body(starts, 1, "onsite", &json!({"onsite": 20})),
    )
    .await;
    let other = create_event(
        app,
        &staff,
        "kamaishi",
        &event_body(
            starts + Duration::days(1),
            1,
            "onsite",
            &json!({"onsite": 20}),
        ),
    )
    .await;
    let p = people(app, "kamaishi", "idem", 2).await;

    // A retry with the same key answers 200 with the same registration.
    let (status, v) = register(app, "kamaishi", event, &p[0], Some("retry-1"), "{}").await;
    assert_eq!(status, 201, "{v}");
    let id = v["id"].as_i64().unwrap();
    let (status, again) = register(app, "kamaishi", event, &p[0], Some("retry-1"), "{}").await;
    assert_eq!((status, again["id"].as_i64()), (200, Some(id)));
    assert_eq!(again["status"], "confirmed");
    // The key names that registration: reused for another event it is refused.
    let (status, v) = register(app, "kamaishi", other, &p[0], Some("retry-1"), "{}").await;
    assert_eq!(status, 409, "{v}");
    assert_eq!(v["fields"]["idempotency_key"], "taken", "{v}");

    // Twenty at once with one key: one registration.
    let client = reqwest::Client::new();
    let url = app.url(&format!(
        "/api/v1/tenants/kamaishi/events/{event}/registrations"
    ));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (client, url, token) = (client.clone(), url.clone(), p[1].token.clone());
        tasks.push(tokio::spawn(async move {
            post(&client, url, &token, Some("double-click"), "{}").await
        }));
    }
    let mut ids = Vec::new();
    let mut created = 0;
    for t in tasks {
        let (status, v) = t.await.unwrap();
        assert!(status == 200 || status == 201, "{status} {v}");
        created += usize::from(status == 201);
        ids.push(v["id"].as_i64().unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(created, 1);
    assert_eq!(stored(app, "kamaishi", event).await, (2, 0, 2, 0));
    let mails = queued(app, "event_confirmed").await;
    assert_eq!(mails.get(&p[1].email), Some(&1));

    // A key that is not one: 400 naming the header.
    for bad in ["a b", &"k".repeat(201), "キー"] {
        let res = client
            .post(url.clone())
            .bearer_auth(&p[1].token)
            .header(
                "Idempotency-Key",
                reqwest::header::HeaderValue::from_bytes(bad.as_bytes()).unwrap(),
            )
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{bad}");
        let v: Value = res.json().await.unwrap();
        error_shape(&v, "bad_request");
        assert_eq!(v["fields"]["Idempotency-Key"], "invalid", "{v}");
    }
}

async fn the_confirmation_carries_the_calendar_file(app: &TestApp) {
    let staff = coordinator(app, "kamaishi", "staff").await;
    let starts = tokyo_at(app, 10, 19);
    let event = create_event(
        app,
        &staff,
        "kamaishi",
        &event_body(starts, 2, "hybrid", &json!({"onsite": 10, "online": 50})),
    )
    .await;
    let p = people(app, "kamaishi", "ics", 1).await.pop().unwrap();
    // A hybrid event needs to know which seat.
    let (status, v) = register(app, "kamaishi", event, &p, None, "{}").await;
    assert_eq!(status, 422);
    assert_eq!(v["fields"]["attendance"], "required", "{v}");
    let (status, v) = register(
        app,
        "kamaishi",
        event,
        &p,
        None,
        r#"{"attendance": "onsite"}"#,
    )
    .await;
    assert_eq!(
        (status, v["status"].as_str()),
        (201, Some("confirmed")),
        "{v}"
    );
    let e = listed(app, "kamaishi").await;
    let e = e.iter().find(|e| e["id"] == event).unwrap();
    assert_eq!(
        e["seats"],
        json!({"onsite": {"capacity": 10, "confirmed": 1}, "online": {"capacity": 50, "confirmed": 0}})
    );

    let mail = app
        .sink
        .inbox()
        .wait_for_mail_to(&p.email, std::time::Duration::from_secs(20))
        .await
        .unwrap();
    let parsed = mail_parser::MessageParser::default()
        .parse(mail.data.as_bytes())
        .unwrap();
    assert_eq!(parsed.attachment_count(), 1, "{}", mail.data);
    let attachment = parsed.attachment(0).unwrap();
    let ct = attachment.content_type().unwrap();
    assert_eq!((ct.ctype(), ct.subtype()), ("text", Some("calendar")));
    let ics = String::from_utf8(attachment.contents().to_vec()).unwrap();
    assert!(ics.contains("TZID:Asia/Tokyo"), "{ics}");
    let local = |t: DateTime<FixedOffset>| t.format("%Y%m%dT%H%M%S").to_string();
    assert!(
        ics.contains(&format!("DTSTART;TZID=Asia/Tokyo:{}", local(starts))),
        "{ics}"
    );
    assert!(
        ics.contains(&format!(
            "DTEND;TZID=Asia/Tokyo:{}",
            local(starts + Duration::hours(2))
        )),
        "{ics}"
    );
}

/// Another node on the same database: its own state, outbox and clock.
pub(crate) fn node(app: &TestApp) -> yui_web::AppState {
    let templates = yui_mail::Templates::load(Some(&repo_tenants())).unwrap();
    let sender = yui_domain::tenant::MailSender {
        sender_name: "Yui".to_owned(),
        sender_address: "no-reply@yui.example".to_owned(),
    };
    yui_web::AppState::with_settings(
        app.store.clone(),
        app.authz.clone(),
        yui_mail::Outbox::new(templates, sender).unwrap(),
        yui_web::WebSettings {
            public_url: app.url(""),
            ..Default::default()
        },
        yui_web::system_clock(),
        Arc::new(tokio::sync::Notify::new()),
    )
    .unwrap()
}

async fn send_due(node: &yui_web::AppState, now: DateTime<FixedOffset>) -> usize {
    yui_web::features::events::reminders::send_due(node, now.with_timezone(&Utc))
        .await
        .unwrap()
}

async fn both_nodes(
    a: &yui_web::AppState,
    b: &yui_web::AppState,
    now: DateTime<FixedOffset>,
) -> usize {
    let (x, y) = tokio::join!(send_due(a, now), send_due(b, now));
    x + y
}

async fn reminders_go_once_from_two_nodes(app: &TestApp) {
    // Amami reminds three days ahead only.
    let dir = tempfile::tempdir().unwrap();
    let amami = dir.path().join("amami");
    std::fs::create_dir(&amami).unwrap();
    for f in std::fs::read_dir(repo_tenants().join("amami")).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), amami.join(f.file_name())).unwrap();
    }
    let toml = amami.join("tenant.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, format!("{text}\n[events]\nreminders = [\"3d\"]\n")).unwrap();
    yui::tenants::apply(&app.store, &[amami], app.now())
        .await
        .unwrap();

    let staff = coordinator(app, "kamaishi", "staff").await;
    let amami_staff = coordinator(app, "amami", "amamistaff").await;
    let (a, b) = (node(app), node(app));
    let onsite = |t| event_body(t, 2, "onsite", &json!({"onsite": 10}));

    // Tomorrow's event: its two-day moment has passed for whoever registers now.
    let tc = tokyo_at(app, 1, 10);
    let c = create_event(app, &staff, "kamaishi", &onsite(tc)).await;
    let late = people(app, "kamaishi", "late", 1).await.pop().unwrap();
    assert_eq!(register(app, "kamaishi", c, &late, None, "{}").await.0, 201);
    // An event in five days with three registrants.
    let ta = tokyo_at(app, 5, 10);
    let ev_a = create_event(app, &staff, "kamaishi", &onsite(ta)).await;
    let three = people(app, "kamaishi", "three", 3).await;
    for p in &three {
        assert_eq!(register(app, "kamaishi", ev_a, p, None, "{}").await.0, 201);
    }
    // Amami's event in twelve days, and one in twenty days whose node was down.
    let td = tokyo_at(app, 12, 10);
    let ev_d = create_event(app, &amami_staff, "amami", &onsite(td)).await;
    let islander = people(app, "amami", "island", 1).await.pop().unwrap();
    assert_eq!(
        register(app, "amami", ev_d, &islander, None, "{}").await.0,
        201
    );
    let tb = tokyo_at(app, 20, 10);
    let ev_b = create_event(app, &staff, "kamaishi", &onsite(tb)).await;
    let two = people(app, "kamaishi", "down", 2).await;
    for p in &two {
        assert_eq!(register(app, "kamaishi", ev_b, p, None, "{}").await.0, 201);
    }

    // In time order. The late registrant gets no two-day reminder, only the 2-hour one.
    assert_eq!(send_due(&a, tc - Duration::hours(3)).await, 0);
    assert_eq!(send_due(&a, tc - Duration::hours(2)).await, 1);
    // Two days before: one each; again, or on both nodes at once, nothing more.
    assert_eq!(send_due(&a, ta - Duration::days(2)).await, 3);
    assert_eq!(send_due(&a, ta - Duration::days(2)).await, 0);
    assert_eq!(
        both_nodes(&a, &b, ta - Duration::days(2) + Duration::minutes(5)).await,
        0
    );
    // Two hours before, both nodes at once: one each.
    assert_eq!(both_nodes(&a, &b, ta - Duration::hours(2)).await, 3);
    assert_eq!(both_nodes(&a, &b, ta - Duration::hours(1)).await, 0);
    // Amami's own offset: three days before, and nothing at two days or two hours.
    assert_eq!(both_nodes(&a, &b, td - Duration::days(3)).await, 1);
    assert_eq!(send_due(&a, td - Duration::days(2)).await, 0);
    assert_eq!(send_due(&a, td - Duration::hours(2)).await, 0);
    // Down past both moments: only the nearest goes out.
    assert_eq!(both_nodes(&a, &b, tb - Duration::hours(1)).await, 2);
    assert_eq!(send_due(&b, tb - Duration::minutes(30)).await, 0);

    let mails = queued(app, "event_reminder").await;
    let mut expected = BTreeMap::new();
    expected.insert(late.email.clone(), 1);
    for p in &three {
        expected.insert(p.email.clone(), 2);
    }
    expected.insert(islander.email.clone(), 1);
    for p in &two {
        expected.insert(p.email.clone(), 1);
    }
    assert_eq!(mails, expected);
    let _ = ev_d;
}
