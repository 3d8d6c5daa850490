//! Events in the JSON API (the contract in shared/DESIGN.md): the public list of a
//! tenant's published events, staff creating one, and a person registering and
//! cancelling with their own token. Registration moves go through [`super::flow`],
//! so the API mails people exactly as the pages do. Another tenant's slug or ids,
//! and a token of another tenant, answer 404.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yui_domain::account::FieldError;
use yui_domain::event::api::{ApiEventBody, api_field};
use yui_domain::event::check_event;
use yui_domain::event::question::check_answers;
use yui_domain::fiscal::tokyo;
use yui_domain::locale::Localized;
use yui_domain::program::{FieldworkRule, ProgramFields, ProgramInput, check_program};
use yui_domain::registration::{
    Closed, RegistrationStatus, check_idempotency_key, may_cancel, seat_kind_typed,
};
use yui_domain::{EventId, FiscalYear, Permission, ProgramId, RegistrationId};
use yui_store::{Event, Registered, StoreError, TenantTx, TokenPrincipal};

use crate::error::{ApiError, ApiErrorBody};
use crate::extract::{Bearer, ClientIp, TenantPath};
use crate::features::hosts::api::{Created, audit_use, json_body, problem_code, token_tenant};
use crate::{AppState, WebError};

/// The most events the public list returns (upcoming ones, soonest first).
const LIST_LIMIT: i64 = 200;

/// The header a client sets so that a retried registration is not a second one.
const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/v1/tenants/{slug}/events", get(list).post(create))
        .route(
            "/api/v1/tenants/{slug}/events/{event}/registrations",
            post(register),
        )
        .route(
            "/api/v1/tenants/{slug}/registrations/{registration}",
            delete(cancel),
        )
}

/// Text in both languages (English falls back to the Japanese).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiLocalized {
    pub ja: String,
    pub en: String,
}

/// Seats of one kind.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiSeatCount {
    pub capacity: u32,
    /// Seats held now.
    pub confirmed: u32,
}

/// Seats per kind; a kind is absent when the event does not offer it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiSeats {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onsite: Option<ApiSeatCount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub online: Option<ApiSeatCount>,
}

/// A published event.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicEvent {
    pub id: i64,
    /// `seminar`, `lecture`, `fieldwork` or `matching_event`.
    pub kind: String,
    pub title: ApiLocalized,
    /// RFC 3339 in Tokyo time (`+09:00`): the first day's start.
    pub starts_at: String,
    /// The last day's end.
    pub ends_at: String,
    /// `online`, `onsite` or `hybrid`.
    pub format: String,
    pub seats: ApiSeats,
    /// People on the waitlist, all kinds of seat.
    pub waitlisted: u32,
}

/// Seats to offer per kind, as many as the format holds.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewEventCapacity {
    pub onsite: Option<u32>,
    pub online: Option<u32>,
}

/// An event to create; it is published at once, and registration opens at once
/// unless `opens_at` says when. Times are RFC 3339; an event over several Tokyo
/// dates has one day per date, each from the start's hour to the end's.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewEvent {
    /// `seminar`, `lecture`, `fieldwork` or `matching_event`.
    pub kind: String,
    /// A string (Japanese), or `{"ja": …, "en": …}`.
    #[schema(value_type = Object)]
    pub title: serde_json::Value,
    pub starts_at: String,
    pub ends_at: String,
    /// `online`, `onsite` or `hybrid`.
    pub format: String,
    pub capacity: NewEventCapacity,
    /// `first_come` or `screened` (a coordinator approves each registration).
    pub selection: String,
    /// `talent` (the default) or `hosts`.
    pub audience: Option<String>,
    /// Required when the event has onsite seats.
    pub venue: Option<String>,
    /// Shown only to confirmed online registrants.
    pub online_url: Option<String>,
    /// When registration opens (default: now) and closes (default: at the start).
    pub opens_at: Option<String>,
    pub closes_at: Option<String>,
}

/// A registration request.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRegistration {
    /// `onsite` or `online`; may be left out when the event has one format.
    #[serde(default)]
    pub attendance: Option<String>,
    /// Answers to the event's questions by key (`q1` …): text, the chosen option's
    /// text, or `yes`/`no`.
    #[serde(default)]
    pub answers: std::collections::BTreeMap<String, String>,
}

/// A registration's outcome.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationOutcome {
    pub id: i64,
    /// `confirmed`, `waitlisted` or `pending` (a screened event: a coordinator decides).
    pub status: String,
}

/// A time as the API writes it: RFC 3339 in Tokyo time (`+09:00`).
pub(crate) fn rfc3339(t: DateTime<Utc>) -> String {
    t.with_timezone(&tokyo()).to_rfc3339()
}

fn public_event(e: &Event) -> Result<PublicEvent, ApiError> {
    let fields = e.fields()?;
    let title = fields.localized_title();
    let seats = e.seats();
    let count = |c: Option<yui_domain::registration::SeatCount>| {
        c.map(|c| ApiSeatCount {
            capacity: c.capacity,
            confirmed: c.confirmed,
        })
    };
    Ok(PublicEvent {
        id: e.id.get(),
        kind: e.kind.clone(),
        title: ApiLocalized {
            ja: title.ja,
            en: title.en,
        },
        starts_at: rfc3339(e.starts_at),
        ends_at: rfc3339(e.ends_at),
        format: e.format.clone(),
        seats: ApiSeats {
            onsite: count(seats.onsite),
            online: count(seats.online),
        },
        waitlisted: u32::try_from(e.waitlisted.max(0)).unwrap_or(u32::MAX),
    })
}

/// 422 naming each bad field by its API name.
fn invalid(errors: &[FieldError], name: impl Fn(&FieldError) -> String) -> Response {
    let mut body = ApiErrorBody::new("invalid", "Some fields are not valid.");
    for e in errors {
        body.fields
            .entry(name(e))
            .or_insert_with(|| problem_code(e));
    }
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

/// An error with its own code, e.g. 409 `registration_closed`.
fn refused(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(ApiErrorBody::new(code, message))).into_response()
}

/// The tenant of the path when it is the token's; anything else is 404.
async fn own_tenant(
    state: &AppState,
    slug: &str,
    p: &TokenPrincipal,
) -> Result<TenantPath, ApiError> {
    let tenant = TenantPath::load(state, slug).await?;
    if tenant.id != p.tenant_id {
        return Err(WebError::NotFound.into());
    }
    Ok(tenant)
}

/// The tenant's published events that have not ended, soonest first.
#[utoipa::path(
    get,
    path = "/api/v1/tenants/{slug}/events",
    tag = "events",
    params(("slug" = String, Path, description = "Tenant slug")),
    responses(
        (status = 200, body = [PublicEvent]),
        (status = 404, body = ApiErrorBody, description = "No such tenant"),
        (status = 503, body = ApiErrorBody, description = "The tenant is suspended")
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<Vec<PublicEvent>>, ApiError> {
    let tenant = TenantPath::load_listed(&state, &slug).await?;
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let events = tx.events(true, None, Some(state.now()), LIST_LIMIT).await?;
    tx.commit().await?;
    Ok(Json(
        events.iter().map(public_event).collect::<Result<_, _>>()?,
    ))
}

/// The body as the event form's input, or the response refusing it. `title` may be
/// a string or `{"ja", "en"}`.
fn event_input(body: &Bytes) -> Result<yui_domain::event::EventInput, Box<Response>> {
    let mut value: serde_json::Value =
        json_body(body).map_err(|e| Box::new(IntoResponse::into_response(e)))?;
    let mut title_en = String::new();
    if let Some(obj) = value.as_object_mut()
        && let Some(serde_json::Value::Object(t)) = obj.get("title").cloned()
    {
        let text = |k: &str| t.get(k).and_then(|v| v.as_str()).unwrap_or("").to_owned();
        title_en = text("en");
        obj.insert("title".to_owned(), serde_json::Value::String(text("ja")));
    }
    let body: ApiEventBody = serde_json::from_value(value).map_err(|e| {
        Box::new(ApiError::from(WebError::BadRequest(e.to_string())).into_response())
    })?;
    let mut input = body.into_input();
    input.title_en = title_en;
    Ok(input)
}

/// The program of `year`, created (named after the tenant) when the tenant has none.
async fn program_of(
    tx: &mut TenantTx,
    tenant: &TenantPath,
    year: FiscalYear,
    today: chrono::NaiveDate,
    now: DateTime<Utc>,
) -> Result<ProgramId, StoreError> {
    if let Some(p) = tx.program_of_year(year).await? {
        return Ok(p.id);
    }
    let name = &tenant.record.tenant.name;
    let input = ProgramInput::for_year(
        &Localized {
            ja: name.ja.clone(),
            en: name.en.clone(),
        },
        year,
    );
    // The program form bounds the years a person may pick; an event dated further
    // ahead still belongs to its year.
    let fields = check_program(&input, today).unwrap_or_else(|_| ProgramFields {
        fiscal_year: year,
        title: Localized {
            ja: input.title.clone(),
            en: input.title_en.clone(),
        },
    });
    tx.create_program(&fields, FieldworkRule::Open, now).await
}

/// Creates a published event in the program of its fiscal year (created when the
/// tenant has none for that year).
#[utoipa::path(
    post,
    path = "/api/v1/tenants/{slug}/events",
    tag = "events",
    params(("slug" = String, Path, description = "Tenant slug")),
    request_body = NewEvent,
    security(("bearer" = [])),
    responses(
        (status = 201, body = Created),
        (status = 400, body = ApiErrorBody, description = "Not JSON of this shape"),
        (status = 401, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody, description = "No such tenant, not this token's tenant, or no permission to run events"),
        (status = 422, body = ApiErrorBody, description = "Fields not valid, named in `fields` (`starts_at`, `capacity.onsite` …)")
    )
)]
pub async fn create(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    ClientIp(ip): ClientIp,
    Bearer(p): Bearer,
    body: Bytes,
) -> Result<Response, ApiError> {
    let tenant = token_tenant(&state, &slug, &p, &[Permission::EventManage]).await?;
    let input = match event_input(&body) {
        Ok(i) => i,
        Err(res) => return Ok(*res),
    };
    let now = state.now();
    let today = now.with_timezone(&tokyo()).date_naive();
    let fields = match check_event(&input, today) {
        Ok(f) => f,
        Err(errors) => return Ok(invalid(&errors, |e| api_field(e).to_owned())),
    };
    let Some(first) = fields.days.first() else {
        return Err(WebError::BadRequest("no days".into()).into());
    };
    let year = FiscalYear::containing(first.date);
    // Two first events of a year at once both find no program; the one that loses
    // the race to create it finds the other's on its second try.
    for attempt in 0..2 {
        let mut tx = state.store.tenant(tenant.id).write().await?;
        let program = match program_of(&mut tx, &tenant, year, today, now).await {
            Ok(id) => id,
            Err(StoreError::Conflict(_)) if attempt == 0 => {
                tx.rollback().await?;
                continue;
            }
            Err(e) => {
                tx.rollback().await?;
                return Err(e.into());
            }
        };
        audit_use(&mut tx, &p, "events.create", ip.clone(), now).await?;
        let id = tx
            .create_event(
                program,
                &fields,
                yui_domain::event::EventStatus::Published,
                Some(p.account_id),
                now,
            )
            .await?;
        tx.commit().await?;
        return Ok((StatusCode::CREATED, Json(Created { id: id.get() })).into_response());
    }
    Err(WebError::Conflict("fiscal_year".into()).into())
}

/// The `Idempotency-Key` header: absent, or a key the rules accept.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, Box<Response>> {
    let Some(raw) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    match raw.to_str().ok().and_then(check_idempotency_key) {
        Some(key) => Ok(Some(key.to_owned())),
        None => {
            let mut body = ApiErrorBody::new(
                "bad_request",
                "The Idempotency-Key header must be 1 to 200 printable ASCII characters.",
            );
            body.fields
                .insert(IDEMPOTENCY_KEY.to_owned(), "invalid".to_owned());
            Err(Box::new(
                (StatusCode::BAD_REQUEST, Json(body)).into_response(),
            ))
        }
    }
}

fn closed_response(why: Closed) -> Response {
    let message = match why {
        Closed::NotPublished | Closed::Cancelled => "The event was called off.",
        Closed::NotYetOpen => "Registration has not opened yet.",
        Closed::WindowClosed => "Registration has closed.",
        Closed::Started => "The event has started.",
    };
    refused(StatusCode::CONFLICT, "registration_closed", message)
}

/// Registers the token's owner. A new registration answers 201; the same
/// `Idempotency-Key` again, or a second request while the person's registration
/// stands, answers 200 with that same registration.
#[utoipa::path(
    post,
    path = "/api/v1/tenants/{slug}/events/{event}/registrations",
    tag = "events",
    params(
        ("slug" = String, Path, description = "Tenant slug"),
        ("event" = i64, Path, description = "Event id"),
        ("Idempotency-Key" = Option<String>, Header, description = "A key of up to 200 printable ASCII characters; a retry with the same key gets the same registration")
    ),
    request_body = NewRegistration,
    security(("bearer" = [])),
    responses(
        (status = 201, body = RegistrationOutcome, description = "Registered"),
        (status = 200, body = RegistrationOutcome, description = "Already registered (the same key, or a live registration)"),
        (status = 400, body = ApiErrorBody, description = "Not JSON of this shape, or a bad Idempotency-Key"),
        (status = 401, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody, description = "No such tenant or event, or not this token's tenant"),
        (status = 409, body = ApiErrorBody, description = "`registration_closed`, or the key was used for another event"),
        (status = 422, body = ApiErrorBody, description = "`attendance` or an answer not valid, named in `fields`")
    )
)]
pub async fn register(
    State(state): State<AppState>,
    Path((slug, event)): Path<(String, i64)>,
    Bearer(p): Bearer,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let tenant = own_tenant(&state, &slug, &p).await?;
    let key = match idempotency_key(&headers) {
        Ok(k) => k,
        Err(res) => return Ok(*res),
    };
    let req: NewRegistration = if body.iter().all(u8::is_ascii_whitespace) {
        NewRegistration::default()
    } else {
        json_body(&body)?
    };
    let account = {
        let mut tx = state.store.account(p.account_id).read().await?;
        let a = tx.get().await?;
        tx.commit().await?;
        a
    };
    // Tokens are made by verified people; this keeps it so should that change.
    if account.email_verified_at.is_none() {
        return Err(WebError::NotFound.into());
    }
    let event = {
        let mut tx = state.store.tenant(tenant.id).read().await?;
        let e = tx.event(EventId::new(event)).await?;
        tx.commit().await?;
        e
    };
    // A draft is not there for anyone but staff.
    if event.status() == yui_domain::event::EventStatus::Draft {
        return Err(WebError::NotFound.into());
    }
    let fields = event.fields()?;
    let seat = match seat_kind_typed(fields.format, req.attendance.as_deref()) {
        Ok(s) => s,
        Err(e) => return Ok(invalid(&[e], |e| e.field.to_owned())),
    };
    let pairs: Vec<(String, String)> = req.answers.into_iter().collect();
    let answers = match check_answers(&fields.questions, &pairs) {
        Ok(a) => a,
        Err(errors) => {
            let key_of = |e: &FieldError| format!("answers.{}", e.field);
            return Ok(invalid(&errors, key_of));
        }
    };
    if let Err(why) = event.registration_open(state.now()) {
        // A retry of a registration made while it was open still gets its answer.
        let mut tx = state.store.tenant(tenant.id).read().await?;
        let mine = tx.registration_of(event.id, account.id).await?;
        tx.commit().await?;
        return Ok(match mine {
            Some(r) if r.status() != RegistrationStatus::Cancelled => outcome(StatusCode::OK, &r),
            _ => closed_response(why),
        });
    }
    let req = super::flow::Request {
        seat_kind: seat,
        answers: &answers,
        idempotency_key: key.as_deref(),
    };
    let registered = super::flow::register(&state, &tenant, &account, &event, &fields, req).await?;
    Ok(match &registered {
        Registered::New(r) => outcome(StatusCode::CREATED, r),
        Registered::Existing(r) => outcome(StatusCode::OK, r),
    })
}

fn outcome(status: StatusCode, r: &yui_store::Registration) -> Response {
    (
        status,
        Json(RegistrationOutcome {
            id: r.id.get(),
            status: r.status().code().to_owned(),
        }),
    )
        .into_response()
}

/// Cancels the token owner's own registration; the first waitlisted person for
/// that kind of seat takes it and is mailed. Cancelling again answers 204 too.
#[utoipa::path(
    delete,
    path = "/api/v1/tenants/{slug}/registrations/{registration}",
    tag = "events",
    params(
        ("slug" = String, Path, description = "Tenant slug"),
        ("registration" = i64, Path, description = "Registration id")
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Cancelled"),
        (status = 401, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody, description = "No such registration of the token's owner in this tenant"),
        (status = 409, body = ApiErrorBody, description = "`cancel_closed`: the event has started, or the registration was attended")
    )
)]
pub async fn cancel(
    State(state): State<AppState>,
    Path((slug, registration)): Path<(String, i64)>,
    Bearer(p): Bearer,
) -> Result<Response, ApiError> {
    let tenant = own_tenant(&state, &slug, &p).await?;
    let id = RegistrationId::new(registration);
    let (r, event) = {
        let mut tx = state.store.tenant(tenant.id).read().await?;
        let r = tx.registration(id).await?;
        let e = tx.event(r.event_id).await?;
        tx.commit().await?;
        (r, e)
    };
    // Someone else's registration is none of the caller's business: not found.
    if r.account_id != p.account_id {
        return Err(WebError::NotFound.into());
    }
    if r.status() == RegistrationStatus::Cancelled {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    if !may_cancel(r.status(), event.starts_at, state.now()) {
        return Ok(refused(
            StatusCode::CONFLICT,
            "cancel_closed",
            "This registration can no longer be cancelled.",
        ));
    }
    super::flow::cancel(&state, &tenant, id, p.account_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
