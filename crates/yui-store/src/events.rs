//! Programs, events and registrations.
//!
//! The seat lock: every move that takes or frees a seat runs in a writing
//! transaction that first locks the event's row (`FOR UPDATE` on PostgreSQL; the
//! whole database on SQLite, whose writing transactions are `BEGIN IMMEDIATE`), then
//! reads the event's counters, lets the domain decide, and writes the registration
//! and the counters together. Two registrations can therefore never both see the
//! last seat, and a cancellation promotes exactly the people the domain names. The
//! counters (`confirmed_onsite`, `confirmed_online`, `waitlisted`) are the page's
//! "seats left" and are only ever changed here, in the same transaction as the rows.

use chrono::{DateTime, NaiveDate, Utc};
use tracing::instrument;
use yui_domain::checkin::CheckinCode;
use yui_domain::event::question::Answers;
use yui_domain::event::{
    Capacity, EventFields, EventKind, EventStatus, Format, SeatKind, Selection,
};
use yui_domain::locale::Localized;
use yui_domain::program::{FieldworkRule, ProgramFields};
use yui_domain::registration::{self, Decision, RegistrationStatus};
use yui_domain::{AccountId, EventId, FiscalYear, ProgramId, RegistrationId, TenantId};

use crate::scope::{AccountTx, PlatformTx, TenantHandle, TenantTx};
use crate::transitions::{self, Machine};
use crate::{Result, StoreError, StoreTx, with_tx};

pub(crate) const REGISTRATIONS: Machine = Machine {
    table: "registrations",
    log: "registration_transitions",
    key: "registration_id",
};

/// A program as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Program {
    pub id: ProgramId,
    pub tenant_id: TenantId,
    pub fiscal_year: i32,
    pub title_ja: String,
    pub title_en: String,
    /// A [`FieldworkRule`] code.
    pub fieldwork_rule: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Program {
    pub fn fields(&self) -> ProgramFields {
        ProgramFields {
            fiscal_year: FiscalYear(self.fiscal_year),
            title: Localized {
                ja: self.title_ja.clone(),
                en: self.title_en.clone(),
            },
        }
    }

    pub fn fiscal_year(&self) -> FiscalYear {
        FiscalYear(self.fiscal_year)
    }

    /// The rule; an unknown code reads as open, which restricts nobody.
    pub fn fieldwork_rule(&self) -> FieldworkRule {
        FieldworkRule::parse(&self.fieldwork_rule).unwrap_or(FieldworkRule::Open)
    }
}

/// An event as stored, with its seat counters.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Event {
    pub id: EventId,
    pub tenant_id: TenantId,
    pub program_id: ProgramId,
    pub status: String,
    pub kind: String,
    pub audience: String,
    pub format: String,
    pub selection: String,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: Option<DateTime<Utc>>,
    pub capacity_onsite: Option<i64>,
    pub capacity_online: Option<i64>,
    pub confirmed_onsite: i64,
    pub confirmed_online: i64,
    pub waitlisted: i64,
    /// [`EventFields`] as JSON.
    pub details: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

impl Event {
    /// Everything the event form holds. Rows are written from checked fields only,
    /// so a row that does not parse is a bug, reported as such.
    pub fn fields(&self) -> Result<EventFields> {
        serde_json::from_str(&self.details)
            .map_err(|e| StoreError::Invalid(format!("event {} details: {e}", self.id)))
    }

    /// The status; an unknown code reads as cancelled, which offers nothing.
    pub fn status(&self) -> EventStatus {
        EventStatus::parse(&self.status).unwrap_or(EventStatus::Cancelled)
    }

    pub fn kind(&self) -> EventKind {
        EventKind::parse(&self.kind).unwrap_or(EventKind::Seminar)
    }

    pub fn format(&self) -> Format {
        Format::parse(&self.format).unwrap_or(Format::Onsite)
    }

    pub fn selection(&self) -> Selection {
        Selection::parse(&self.selection).unwrap_or(Selection::Screened)
    }

    pub fn capacity(&self) -> Capacity {
        Capacity {
            onsite: self.capacity_onsite.map(count),
            online: self.capacity_online.map(count),
        }
    }

    /// Seats held now, per kind.
    pub fn seats(&self) -> registration::Seats {
        registration::Seats::new(
            self.capacity(),
            count(self.confirmed_onsite),
            count(self.confirmed_online),
        )
    }

    pub fn confirmed_of(&self, kind: SeatKind) -> u32 {
        match kind {
            SeatKind::Onsite => count(self.confirmed_onsite),
            SeatKind::Online => count(self.confirmed_online),
        }
    }

    pub fn seats_left(&self, kind: SeatKind) -> u32 {
        registration::seats_left(self.capacity(), kind, self.confirmed_of(kind))
    }

    /// Whether registration is open at `now`.
    pub fn registration_open(
        &self,
        now: DateTime<Utc>,
    ) -> std::result::Result<(), registration::Closed> {
        registration::registration_open(
            self.status(),
            yui_domain::event::Window {
                opens_at: self.opens_at,
                closes_at: self.closes_at,
            },
            self.starts_at,
            now,
        )
    }
}

/// An event in the list across regions, with its region.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventListing {
    #[sqlx(flatten)]
    pub event: Event,
    pub tenant_slug: String,
    pub tenant_name_ja: String,
    pub tenant_name_en: String,
}

/// What the list across regions is narrowed to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventQuery {
    /// Events starting at or after this instant (upcoming: now).
    pub from: Option<DateTime<Utc>>,
    /// …and before this one (the end of a month).
    pub until: Option<DateTime<Utc>>,
    pub tenant: Option<TenantId>,
    pub kind: Option<EventKind>,
    /// Events with seats of this kind (a hybrid event has both).
    pub seat_kind: Option<SeatKind>,
    pub limit: i64,
    /// A region: this tenant's events and those of the tenants under it (a
    /// prefecture's municipalities).
    pub region: Option<TenantId>,
    /// Events skipped before the first returned (the list's later pages).
    pub offset: i64,
}

/// A registration as stored, with the registrant's name and address.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Registration {
    pub id: RegistrationId,
    pub tenant_id: TenantId,
    pub event_id: EventId,
    pub account_id: AccountId,
    pub seat_kind: String,
    pub status: String,
    /// [`Answers`] as JSON.
    pub answers: String,
    /// The logistics form's [`Answers`] as JSON, once filled.
    pub logistics: Option<String>,
    pub checkin_code: String,
    pub queued_at: Option<DateTime<Utc>>,
    pub subsidy_eligible: bool,
    pub subsidy_paid_yen: Option<i64>,
    pub subsidy_paid_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub display_name: String,
    pub email: String,
    /// `ja` or `en`: the language of the person's mail.
    pub locale: String,
}

impl Registration {
    /// The status; an unknown code reads as cancelled, which offers no move.
    pub fn status(&self) -> RegistrationStatus {
        RegistrationStatus::parse(&self.status).unwrap_or(RegistrationStatus::Cancelled)
    }

    pub fn seat_kind(&self) -> SeatKind {
        SeatKind::parse(&self.seat_kind).unwrap_or(SeatKind::Onsite)
    }

    pub fn answers(&self) -> Answers {
        serde_json::from_str(&self.answers).unwrap_or_default()
    }

    pub fn logistics(&self) -> Option<Answers> {
        self.logistics
            .as_deref()
            .map(|l| serde_json::from_str(l).unwrap_or_default())
    }
}

/// One of a person's own registrations, across regions.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MyRegistration {
    pub id: RegistrationId,
    pub tenant_slug: String,
    pub event_id: EventId,
    pub title: String,
    pub details: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub seat_kind: String,
    pub status: String,
    pub checkin_code: String,
}

/// A registration to write.
#[derive(Debug, Clone)]
pub struct NewRegistration<'a> {
    pub event: EventId,
    pub account: AccountId,
    pub seat_kind: SeatKind,
    pub answers: &'a Answers,
    pub idempotency_key: Option<&'a str>,
    /// A fresh code from a CSPRNG; kept only when the registration is new.
    pub checkin_code: &'a CheckinCode,
    pub now: DateTime<Utc>,
}

/// Whether [`TenantHandle::register`] decides under the seat lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatLock {
    /// The decision reads the counters under the event's lock: never oversells.
    Held,
    /// The decision reads the counters in an earlier transaction, as a
    /// check-then-write without a lock would. Only the concurrency test's control
    /// run uses it, to show that the test catches an overselling store.
    Off,
}

/// What a registration request came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registered {
    /// A new registration with the decided status.
    New(Registration),
    /// The person's live registration for the event, or the one made with the same
    /// idempotency key: nothing was written.
    Existing(Registration),
}

impl Registered {
    pub fn registration(&self) -> &Registration {
        match self {
            Registered::New(r) | Registered::Existing(r) => r,
        }
    }
}

/// A move that took or freed seats, and the waitlisted people it promoted (each
/// gets one mail, queued by the caller in the same transaction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatMove {
    pub registration: Registration,
    pub promoted: Vec<Registration>,
}

/// A reminder that may be due: a confirmed registration of a published event
/// starting soon, with the offsets already sent to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderCandidate {
    pub tenant_id: TenantId,
    pub tenant_slug: String,
    pub registration: RegistrationId,
    pub event: EventId,
    pub title: String,
    pub details: String,
    pub starts_at: DateTime<Utc>,
    pub email: String,
    pub display_name: String,
    pub locale: String,
    pub seat_kind: String,
    pub checkin_code: String,
    /// Offsets (minutes) already recorded.
    pub sent: Vec<i64>,
}

/// One person checked in on one day.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AttendanceDay {
    pub registration_id: RegistrationId,
    pub day: NaiveDate,
    pub checked_in_at: DateTime<Utc>,
}

const EVENT_COLUMNS: &str = "e.id, e.tenant_id, e.program_id, e.status, e.kind, e.audience, e.format, \
     e.selection, e.title, e.starts_at, e.ends_at, e.opens_at, e.closes_at, e.capacity_onsite, \
     e.capacity_online, e.confirmed_onsite, e.confirmed_online, e.waitlisted, e.details, \
     e.created_at, e.updated_at";

const REGISTRATION_COLUMNS: &str = "r.id, r.tenant_id, r.event_id, r.account_id, r.seat_kind, r.status, \
     r.answers, r.logistics, r.checkin_code, r.queued_at, r.subsidy_eligible, r.subsidy_paid_yen, \
     r.subsidy_paid_at, r.created_at, r.updated_at, a.display_name, a.email, a.locale";

const PROGRAM_COLUMNS: &str =
    "id, tenant_id, fiscal_year, title_ja, title_en, fieldwork_rule, created_at, updated_at";

fn event_values(fields: &EventFields) -> Result<(DateTime<Utc>, DateTime<Utc>, String)> {
    let starts = fields
        .starts_at()
        .ok_or_else(|| StoreError::Invalid("event without days".into()))?;
    let ends = fields
        .ends_at()
        .ok_or_else(|| StoreError::Invalid("event without days".into()))?;
    let details = serde_json::to_string(fields)
        .map_err(|e| StoreError::Invalid(format!("event details: {e}")))?;
    Ok((starts, ends, details))
}

fn answers_json(answers: &Answers) -> Result<String> {
    serde_json::to_string(answers).map_err(|e| StoreError::Invalid(format!("answers: {e}")))
}

/// Locks event `id` of `tenant` for a seat move and reads it. On SQLite the writing
/// transaction already holds the database.
async fn lock_event(tx: &mut StoreTx, tenant: TenantId, id: EventId) -> Result<Event> {
    let lock = match tx {
        StoreTx::Postgres(_) => " FOR UPDATE",
        StoreTx::Sqlite(_) => "",
    };
    read_event(tx, tenant, id, lock).await
}

async fn read_event(tx: &mut StoreTx, tenant: TenantId, id: EventId, lock: &str) -> Result<Event> {
    with_tx!(tx, conn => {
        Ok(sqlx::query_as(&format!(
            "SELECT {EVENT_COLUMNS} FROM events e WHERE e.tenant_id = $1 AND e.id = $2{lock}"
        ))
        .bind(tenant)
        .bind(id)
        .fetch_one(&mut **conn)
        .await?)
    })
}

async fn read_registration(
    tx: &mut StoreTx,
    tenant: TenantId,
    filter: &str,
    bind: i64,
) -> Result<Option<Registration>> {
    with_tx!(tx, conn => {
        Ok(sqlx::query_as(&format!(
            "SELECT {REGISTRATION_COLUMNS} FROM registrations r JOIN accounts a ON a.id = r.account_id
             WHERE r.tenant_id = $1 AND {filter}"
        ))
        .bind(tenant)
        .bind(bind)
        .fetch_optional(&mut **conn)
        .await?)
    })
}

/// Adds `by` to the counter of `status` and `kind` (a seat or the waitlist).
async fn count_move(
    tx: &mut StoreTx,
    tenant: TenantId,
    event: EventId,
    status: RegistrationStatus,
    kind: SeatKind,
    by: i64,
) -> Result<()> {
    let column = if status.holds_seat() {
        match kind {
            SeatKind::Onsite => "confirmed_onsite",
            SeatKind::Online => "confirmed_online",
        }
    } else if status == RegistrationStatus::Waitlisted {
        "waitlisted"
    } else {
        return Ok(());
    };
    with_tx!(tx, conn => {
        sqlx::query(&format!(
            "UPDATE events SET {column} = {column} + $1 WHERE tenant_id = $2 AND id = $3"
        ))
        .bind(by)
        .bind(tenant)
        .bind(event)
        .execute(&mut **conn)
        .await?;
    });
    Ok(())
}

/// Moves a registration and keeps the counters: the whole of a status change.
async fn move_registration(
    tx: &mut StoreTx,
    tenant: TenantId,
    r: &Registration,
    to: RegistrationStatus,
    actor: AccountId,
    now: DateTime<Utc>,
) -> Result<bool> {
    let from = r.status();
    if !from.can_become(to) {
        return Ok(false);
    }
    let moved = transitions::record_move(
        tx,
        REGISTRATIONS,
        tenant,
        r.id.get(),
        from.code(),
        to.code(),
        actor,
        now,
    )
    .await?;
    if !moved {
        return Ok(false);
    }
    let kind = r.seat_kind();
    let (held, waiting) = (
        |s: RegistrationStatus| s.holds_seat(),
        |s: RegistrationStatus| s == RegistrationStatus::Waitlisted,
    );
    if held(from) != held(to) || waiting(from) != waiting(to) {
        count_move(tx, tenant, r.event_id, from, kind, -1).await?;
        count_move(tx, tenant, r.event_id, to, kind, 1).await?;
    }
    if to == RegistrationStatus::Waitlisted {
        with_tx!(tx, conn => {
            sqlx::query("UPDATE registrations SET queued_at = $1 WHERE tenant_id = $2 AND id = $3")
                .bind(now)
                .bind(tenant)
                .bind(r.id)
                .execute(&mut **conn)
                .await?;
        });
    }
    Ok(true)
}

/// Promotes the first waitlisted people of `kind` into the seats now free.
async fn promote(
    tx: &mut StoreTx,
    tenant: TenantId,
    event: EventId,
    kind: SeatKind,
    actor: AccountId,
    now: DateTime<Utc>,
) -> Result<Vec<Registration>> {
    let e = read_event(tx, tenant, event, "").await?;
    let free = e.seats_left(kind);
    if free == 0 || e.waitlisted == 0 {
        return Ok(Vec::new());
    }
    let waiting: Vec<Registration> = with_tx!(tx, conn => {
        sqlx::query_as(&format!(
            "SELECT {REGISTRATION_COLUMNS} FROM registrations r JOIN accounts a ON a.id = r.account_id
             WHERE r.tenant_id = $1 AND r.event_id = $2 AND r.status = 'waitlisted' AND r.seat_kind = $3
             ORDER BY r.queued_at, r.id LIMIT $4"
        ))
        .bind(tenant)
        .bind(event)
        .bind(kind.code())
        .bind(i64::from(free))
        .fetch_all(&mut **conn)
        .await?
    });
    let queue: Vec<(usize, SeatKind)> = waiting
        .iter()
        .enumerate()
        .map(|(i, r)| (i, r.seat_kind()))
        .collect();
    let chosen = registration::promotions(kind, e.capacity(), e.confirmed_of(kind), &queue);
    let mut promoted = Vec::with_capacity(chosen.len());
    for i in chosen {
        let r = &waiting[i];
        if move_registration(tx, tenant, r, RegistrationStatus::Confirmed, actor, now).await? {
            let mut r = r.clone();
            r.status = RegistrationStatus::Confirmed.code().to_owned();
            r.updated_at = now;
            promoted.push(r);
        }
    }
    Ok(promoted)
}

impl TenantTx {
    /// The tenant's programs, newest year first.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn programs(&mut self) -> Result<Vec<Program>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "SELECT {PROGRAM_COLUMNS} FROM programs WHERE tenant_id = $1 ORDER BY fiscal_year DESC"
            ))
            .bind(self.tenant)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    #[instrument(skip_all, fields(tenant = %self.tenant, program = %id), err(level = "warn"))]
    pub async fn program(&mut self, id: ProgramId) -> Result<Program> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "SELECT {PROGRAM_COLUMNS} FROM programs WHERE tenant_id = $1 AND id = $2"
            ))
            .bind(self.tenant)
            .bind(id)
            .fetch_one(&mut **conn)
            .await?)
        })
    }

    /// The program of a fiscal year, if the tenant made one.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn program_of_year(&mut self, year: FiscalYear) -> Result<Option<Program>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "SELECT {PROGRAM_COLUMNS} FROM programs WHERE tenant_id = $1 AND fiscal_year = $2"
            ))
            .bind(self.tenant)
            .bind(year.0)
            .fetch_optional(&mut **conn)
            .await?)
        })
    }

    /// Creates the program of a year; a second one for the same year is a conflict
    /// naming `fiscal_year`.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn create_program(
        &mut self,
        fields: &ProgramFields,
        rule: FieldworkRule,
        now: DateTime<Utc>,
    ) -> Result<ProgramId> {
        with_tx!(&mut self.tx, conn => {
            sqlx::query_scalar(
                "INSERT INTO programs (tenant_id, fiscal_year, title_ja, title_en, fieldwork_rule, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
            )
            .bind(self.tenant)
            .bind(fields.fiscal_year.0)
            .bind(&fields.title.ja)
            .bind(&fields.title.en)
            .bind(rule.code())
            .bind(now)
            .fetch_one(&mut **conn)
            .await
            .map_err(StoreError::taken("fiscal_year"))
        })
    }

    /// Renames a program and sets its field-work rule (its year stays).
    #[instrument(skip_all, fields(tenant = %self.tenant, program = %id), err(level = "warn"))]
    pub async fn update_program(
        &mut self,
        id: ProgramId,
        title: &Localized,
        rule: FieldworkRule,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let done = with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "UPDATE programs SET title_ja = $1, title_en = $2, fieldwork_rule = $3, updated_at = $4
                 WHERE tenant_id = $5 AND id = $6",
            )
            .bind(&title.ja)
            .bind(&title.en)
            .bind(rule.code())
            .bind(now)
            .bind(self.tenant)
            .bind(id)
            .execute(&mut **conn)
            .await?
            .rows_affected()
        });
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// The people who attended (checked in on at least one day) any field work of a
    /// program: whom its matching round invites.
    #[instrument(skip_all, fields(tenant = %self.tenant, program = %program), err(level = "warn"))]
    pub async fn fieldwork_attendees(&mut self, program: ProgramId) -> Result<Vec<AccountId>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_scalar(
                "SELECT DISTINCT r.account_id FROM registrations r
                 JOIN events e ON e.tenant_id = r.tenant_id AND e.id = r.event_id
                 WHERE r.tenant_id = $1 AND e.program_id = $2 AND e.kind = 'fieldwork'
                   AND r.status = 'attended'
                 ORDER BY r.account_id",
            )
            .bind(self.tenant)
            .bind(program)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// Creates an event in a program.
    #[instrument(skip_all, fields(tenant = %self.tenant, program = %program), err(level = "warn"))]
    pub async fn create_event(
        &mut self,
        program: ProgramId,
        fields: &EventFields,
        status: EventStatus,
        actor: Option<AccountId>,
        now: DateTime<Utc>,
    ) -> Result<EventId> {
        let (starts, ends, details) = event_values(fields)?;
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_scalar(
                "INSERT INTO events (tenant_id, program_id, status, kind, audience, format, selection, title,
                     starts_at, ends_at, opens_at, closes_at, capacity_onsite, capacity_online, details,
                     created_by, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17)
                 RETURNING id",
            )
            .bind(self.tenant)
            .bind(program)
            .bind(status.code())
            .bind(fields.kind.code())
            .bind(fields.audience.code())
            .bind(fields.format.code())
            .bind(fields.selection.code())
            .bind(&fields.title)
            .bind(starts)
            .bind(ends)
            .bind(fields.window.opens_at)
            .bind(fields.window.closes_at)
            .bind(fields.capacity.onsite.map(i64::from))
            .bind(fields.capacity.online.map(i64::from))
            .bind(details)
            .bind(actor)
            .bind(now)
            .fetch_one(&mut **conn)
            .await?)
        })
    }

    /// Rewrites an event from its edited form. More seats promote waitlisted
    /// people (returned, for their mail); fewer seats take nobody's seat away.
    #[instrument(skip_all, fields(tenant = %self.tenant, event = %id), err(level = "warn"))]
    pub async fn update_event(
        &mut self,
        id: EventId,
        fields: &EventFields,
        actor: AccountId,
        now: DateTime<Utc>,
    ) -> Result<Vec<Registration>> {
        lock_event(&mut self.tx, self.tenant, id).await?;
        let (starts, ends, details) = event_values(fields)?;
        with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "UPDATE events SET kind = $1, audience = $2, format = $3, selection = $4, title = $5,
                     starts_at = $6, ends_at = $7, opens_at = $8, closes_at = $9, capacity_onsite = $10,
                     capacity_online = $11, details = $12, updated_at = $13
                 WHERE tenant_id = $14 AND id = $15",
            )
            .bind(fields.kind.code())
            .bind(fields.audience.code())
            .bind(fields.format.code())
            .bind(fields.selection.code())
            .bind(&fields.title)
            .bind(starts)
            .bind(ends)
            .bind(fields.window.opens_at)
            .bind(fields.window.closes_at)
            .bind(fields.capacity.onsite.map(i64::from))
            .bind(fields.capacity.online.map(i64::from))
            .bind(details)
            .bind(now)
            .bind(self.tenant)
            .bind(id)
            .execute(&mut **conn)
            .await?;
        });
        let mut promoted = Vec::new();
        for kind in [SeatKind::Onsite, SeatKind::Online] {
            promoted.extend(promote(&mut self.tx, self.tenant, id, kind, actor, now).await?);
        }
        Ok(promoted)
    }

    /// Publishes or calls off an event; `false` when it was no longer in `from`.
    #[instrument(skip_all, fields(tenant = %self.tenant, event = %id), err(level = "warn"))]
    pub async fn set_event_status(
        &mut self,
        id: EventId,
        from: EventStatus,
        to: EventStatus,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        if !from.can_become(to) {
            return Ok(false);
        }
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query(
                "UPDATE events SET status = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4 AND status = $5",
            )
            .bind(to.code())
            .bind(now)
            .bind(self.tenant)
            .bind(id)
            .bind(from.code())
            .execute(&mut **conn)
            .await?
            .rows_affected() > 0)
        })
    }

    #[instrument(skip_all, fields(tenant = %self.tenant, event = %id), err(level = "warn"))]
    pub async fn event(&mut self, id: EventId) -> Result<Event> {
        read_event(&mut self.tx, self.tenant, id, "").await
    }

    /// The tenant's events in date order: every status for staff, published ones
    /// for everyone else; `from` drops those that ended before it.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn events(
        &mut self,
        published_only: bool,
        program: Option<ProgramId>,
        from: Option<DateTime<Utc>>,
        limit: i64,
    ) -> Result<Vec<Event>> {
        let mut filter = String::from("e.tenant_id = $1");
        if published_only {
            filter.push_str(" AND e.status = 'published'");
        }
        if program.is_some() {
            filter.push_str(" AND e.program_id = $3");
        } else {
            filter.push_str(" AND $3 = $3");
        }
        if from.is_some() {
            filter.push_str(" AND e.ends_at >= $4");
        }
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events e WHERE {filter} ORDER BY e.starts_at, e.id LIMIT $2"
        );
        with_tx!(&mut self.tx, conn => {
            let mut q = sqlx::query_as(&sql)
                .bind(self.tenant)
                .bind(limit)
                .bind(program.map_or(0, ProgramId::get));
            if let Some(from) = from {
                q = q.bind(from);
            }
            Ok(q.fetch_all(&mut **conn).await?)
        })
    }

    /// Registers a person under the seat lock (see [`TenantHandle::register`] for
    /// the control without it).
    #[instrument(skip_all, fields(tenant = %self.tenant, event = %new.event), err(level = "warn"))]
    pub async fn register(&mut self, new: &NewRegistration<'_>) -> Result<Registered> {
        let event = lock_event(&mut self.tx, self.tenant, new.event).await?;
        self.register_seen(new, &event).await
    }

    /// Writes a registration decided from `event`'s counters as `seen`.
    async fn register_seen(
        &mut self,
        new: &NewRegistration<'_>,
        seen: &Event,
    ) -> Result<Registered> {
        if let Some(key) = new.idempotency_key {
            let found: Option<i64> = with_tx!(&mut self.tx, conn => {
                sqlx::query_scalar(
                    "SELECT id FROM registrations WHERE tenant_id = $1 AND account_id = $2 AND idempotency_key = $3",
                )
                .bind(self.tenant)
                .bind(new.account)
                .bind(key)
                .fetch_optional(&mut **conn)
                .await?
            });
            if let Some(id) = found {
                let r = read_registration(&mut self.tx, self.tenant, "r.id = $2", id).await?;
                // A key names one registration of one event: reused for another
                // event, it is a mistake, not a retry.
                return match r {
                    Some(r) if r.event_id == new.event => Ok(Registered::Existing(r)),
                    _ => Err(StoreError::Conflict("idempotency_key".into())),
                };
            }
        }
        let live = with_tx!(&mut self.tx, conn => {
            sqlx::query_as::<_, Registration>(&format!(
                "SELECT {REGISTRATION_COLUMNS} FROM registrations r JOIN accounts a ON a.id = r.account_id
                 WHERE r.tenant_id = $1 AND r.event_id = $2 AND r.account_id = $3 AND r.status <> 'cancelled'"
            ))
            .bind(self.tenant)
            .bind(new.event)
            .bind(new.account)
            .fetch_optional(&mut **conn)
            .await?
        });
        if let Some(r) = live {
            return Ok(Registered::Existing(r));
        }
        let kind = new.seat_kind;
        let status = match registration::decide(
            seen.selection(),
            seen.capacity().of(kind),
            seen.confirmed_of(kind),
        ) {
            Decision::Confirm => RegistrationStatus::Confirmed,
            Decision::Waitlist => RegistrationStatus::Waitlisted,
            Decision::Pending => RegistrationStatus::Pending,
        };
        let queued = (status == RegistrationStatus::Waitlisted).then_some(new.now);
        let answers = answers_json(new.answers)?;
        let id: i64 = with_tx!(&mut self.tx, conn => {
            sqlx::query_scalar(
                "INSERT INTO registrations (tenant_id, event_id, account_id, seat_kind, status, answers,
                     idempotency_key, checkin_code, queued_at, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
            )
            .bind(self.tenant)
            .bind(new.event)
            .bind(new.account)
            .bind(kind.code())
            .bind(status.code())
            .bind(answers)
            .bind(new.idempotency_key)
            .bind(new.checkin_code.as_str())
            .bind(queued)
            .bind(new.now)
            .fetch_one(&mut **conn)
            .await?
        });
        count_move(&mut self.tx, self.tenant, new.event, status, kind, 1).await?;
        let r = read_registration(&mut self.tx, self.tenant, "r.id = $2", id)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(Registered::New(r))
    }

    #[instrument(skip_all, fields(tenant = %self.tenant, registration = %id), err(level = "warn"))]
    pub async fn registration(&mut self, id: RegistrationId) -> Result<Registration> {
        read_registration(&mut self.tx, self.tenant, "r.id = $2", id.get())
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// The registration a check-in code names (`None` for an unknown code).
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn registration_by_code(
        &mut self,
        code: &CheckinCode,
    ) -> Result<Option<Registration>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "SELECT {REGISTRATION_COLUMNS} FROM registrations r JOIN accounts a ON a.id = r.account_id
                 WHERE r.tenant_id = $1 AND r.checkin_code = $2"
            ))
            .bind(self.tenant)
            .bind(code.as_str())
            .fetch_optional(&mut **conn)
            .await?)
        })
    }

    /// A person's live registration for an event (the latest, when cancelled).
    #[instrument(skip_all, fields(tenant = %self.tenant, event = %event), err(level = "warn"))]
    pub async fn registration_of(
        &mut self,
        event: EventId,
        account: AccountId,
    ) -> Result<Option<Registration>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "SELECT {REGISTRATION_COLUMNS} FROM registrations r JOIN accounts a ON a.id = r.account_id
                 WHERE r.tenant_id = $1 AND r.event_id = $2 AND r.account_id = $3
                 ORDER BY CASE WHEN r.status = 'cancelled' THEN 1 ELSE 0 END, r.id DESC LIMIT 1"
            ))
            .bind(self.tenant)
            .bind(event)
            .bind(account)
            .fetch_optional(&mut **conn)
            .await?)
        })
    }

    /// An event's registrations in the order they came (the waitlist in its order).
    #[instrument(skip_all, fields(tenant = %self.tenant, event = %event), err(level = "warn"))]
    pub async fn registrations(&mut self, event: EventId) -> Result<Vec<Registration>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "SELECT {REGISTRATION_COLUMNS} FROM registrations r JOIN accounts a ON a.id = r.account_id
                 WHERE r.tenant_id = $1 AND r.event_id = $2 ORDER BY r.id"
            ))
            .bind(self.tenant)
            .bind(event)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// Cancels a registration (its holder leaving, or staff) and promotes the first
    /// waitlisted person of the seat kind it freed. `None` when it could not move
    /// (already cancelled, or raced by another move).
    #[instrument(skip_all, fields(tenant = %self.tenant, registration = %id), err(level = "warn"))]
    pub async fn cancel_registration(
        &mut self,
        id: RegistrationId,
        actor: AccountId,
        now: DateTime<Utc>,
    ) -> Result<Option<SeatMove>> {
        let r = self.registration(id).await?;
        lock_event(&mut self.tx, self.tenant, r.event_id).await?;
        // Read again under the lock: a concurrent move may have come first.
        let r = self.registration(id).await?;
        if !move_registration(
            &mut self.tx,
            self.tenant,
            &r,
            RegistrationStatus::Cancelled,
            actor,
            now,
        )
        .await?
        {
            return Ok(None);
        }
        let promoted = if r.status().holds_seat() {
            promote(
                &mut self.tx,
                self.tenant,
                r.event_id,
                r.seat_kind(),
                actor,
                now,
            )
            .await?
        } else {
            Vec::new()
        };
        let registration = self.registration(id).await?;
        Ok(Some(SeatMove {
            registration,
            promoted,
        }))
    }

    /// A coordinator's decision on a pending registration of a screened event:
    /// approved into a seat (or onto the waitlist when the seats went meanwhile), or
    /// declined. `None` when it was no longer pending.
    #[instrument(skip_all, fields(tenant = %self.tenant, registration = %id), err(level = "warn"))]
    pub async fn decide_registration(
        &mut self,
        id: RegistrationId,
        approve: bool,
        actor: AccountId,
        now: DateTime<Utc>,
    ) -> Result<Option<Registration>> {
        let r = self.registration(id).await?;
        let event = lock_event(&mut self.tx, self.tenant, r.event_id).await?;
        let r = self.registration(id).await?;
        if r.status() != RegistrationStatus::Pending {
            return Ok(None);
        }
        let to = if approve {
            let kind = r.seat_kind();
            registration::approve(event.capacity().of(kind), event.confirmed_of(kind)).status()
        } else {
            RegistrationStatus::Cancelled
        };
        if !move_registration(&mut self.tx, self.tenant, &r, to, actor, now).await? {
            return Ok(None);
        }
        Ok(Some(self.registration(id).await?))
    }

    /// Saves the logistics form of a registration.
    #[instrument(skip_all, fields(tenant = %self.tenant, registration = %id), err(level = "warn"))]
    pub async fn save_logistics(
        &mut self,
        id: RegistrationId,
        answers: &Answers,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let json = answers_json(answers)?;
        with_tx!(&mut self.tx, conn => {
            sqlx::query("UPDATE registrations SET logistics = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4")
                .bind(json)
                .bind(now)
                .bind(self.tenant)
                .bind(id)
                .execute(&mut **conn)
                .await?;
        });
        Ok(())
    }

    /// Staff mark a participant eligible for the travel subsidy and, once paid, the
    /// amount paid.
    #[instrument(skip_all, fields(tenant = %self.tenant, registration = %id), err(level = "warn"))]
    pub async fn set_subsidy(
        &mut self,
        id: RegistrationId,
        eligible: bool,
        paid_yen: Option<u64>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let paid = paid_yen.map(|y| i64::try_from(y).unwrap_or(i64::MAX));
        let done = with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "UPDATE registrations SET subsidy_eligible = $1, subsidy_paid_yen = $2,
                     subsidy_paid_at = CASE WHEN $2 IS NULL THEN NULL ELSE COALESCE(subsidy_paid_at, $3) END,
                     updated_at = $3
                 WHERE tenant_id = $4 AND id = $5",
            )
            .bind(eligible)
            .bind(paid)
            .bind(now)
            .bind(self.tenant)
            .bind(id)
            .execute(&mut **conn)
            .await?
            .rows_affected()
        });
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Checks a registration in on `day` and moves it to attended; `false` when it
    /// was already checked in that day.
    #[instrument(skip_all, fields(tenant = %self.tenant, registration = %id), err(level = "warn"))]
    pub async fn check_in(
        &mut self,
        id: RegistrationId,
        day: NaiveDate,
        actor: AccountId,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let r = self.registration(id).await?;
        let inserted = with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "INSERT INTO attendance (tenant_id, registration_id, day, checked_in_at, checked_in_by)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(self.tenant)
            .bind(id)
            .bind(day)
            .bind(now)
            .bind(actor)
            .execute(&mut **conn)
            .await?
            .rows_affected() > 0
        });
        if r.status() != RegistrationStatus::Attended {
            move_registration(
                &mut self.tx,
                self.tenant,
                &r,
                RegistrationStatus::Attended,
                actor,
                now,
            )
            .await?;
        }
        Ok(inserted)
    }

    /// Every check-in of an event's registrations.
    #[instrument(skip_all, fields(tenant = %self.tenant, event = %event), err(level = "warn"))]
    pub async fn attendance(&mut self, event: EventId) -> Result<Vec<AttendanceDay>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT d.registration_id, d.day, d.checked_in_at FROM attendance d
                 JOIN registrations r ON r.tenant_id = d.tenant_id AND r.id = d.registration_id
                 WHERE d.tenant_id = $1 AND r.event_id = $2 ORDER BY d.registration_id, d.day",
            )
            .bind(self.tenant)
            .bind(event)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// Records the confirmed people who never checked in as no-shows, once the
    /// event is over; returns how many.
    #[instrument(skip_all, fields(tenant = %self.tenant, event = %event), err(level = "warn"))]
    pub async fn record_no_shows(
        &mut self,
        event: EventId,
        actor: AccountId,
        now: DateTime<Utc>,
    ) -> Result<usize> {
        let confirmed: Vec<Registration> = self
            .registrations(event)
            .await?
            .into_iter()
            .filter(|r| r.status() == RegistrationStatus::Confirmed)
            .collect();
        let mut n = 0;
        for r in &confirmed {
            if move_registration(
                &mut self.tx,
                self.tenant,
                r,
                RegistrationStatus::NoShow,
                actor,
                now,
            )
            .await?
            {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Records reminder offsets (minutes) as sent to a registration: those a
    /// confirmation stands in for.
    #[instrument(skip_all, fields(tenant = %self.tenant, registration = %id), err(level = "warn"))]
    pub async fn record_reminders(
        &mut self,
        id: RegistrationId,
        offsets: &[i64],
        now: DateTime<Utc>,
    ) -> Result<()> {
        record_reminders(&mut self.tx, self.tenant, id, offsets, now).await?;
        Ok(())
    }

    /// The registrations' recorded moves, oldest first.
    #[instrument(skip_all, fields(tenant = %self.tenant, registration = %id), err(level = "warn"))]
    pub async fn registration_moves(
        &mut self,
        id: RegistrationId,
    ) -> Result<Vec<transitions::Transition>> {
        transitions::moves(&mut self.tx, REGISTRATIONS, self.tenant, id.get()).await
    }

    /// The tenant's published events that ended before `before`, the latest first:
    /// the public list's past events.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn past_events(&mut self, before: DateTime<Utc>, limit: i64) -> Result<Vec<Event>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "SELECT {EVENT_COLUMNS} FROM events e
                 WHERE e.tenant_id = $1 AND e.status = 'published' AND e.ends_at < $2
                 ORDER BY e.starts_at DESC, e.id DESC LIMIT $3"
            ))
            .bind(self.tenant)
            .bind(before)
            .bind(limit)
            .fetch_all(&mut **conn)
            .await?)
        })
    }
}

/// Inserts reminder rows; returns the offsets this call inserted (another node's
/// insert of the same row wins, and this one then sends nothing).
async fn record_reminders(
    tx: &mut StoreTx,
    tenant: TenantId,
    id: RegistrationId,
    offsets: &[i64],
    now: DateTime<Utc>,
) -> Result<Vec<i64>> {
    let mut inserted = Vec::new();
    for &o in offsets {
        let n = with_tx!(tx, conn => {
            sqlx::query(
                "INSERT INTO reminders_sent (tenant_id, registration_id, offset_minutes, sent_at)
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(tenant)
            .bind(id)
            .bind(o)
            .bind(now)
            .execute(&mut **conn)
            .await?
            .rows_affected()
        });
        if n > 0 {
            inserted.push(o);
        }
    }
    Ok(inserted)
}

impl TenantHandle<'_> {
    /// Registers a person, returning the open writing transaction so that the
    /// caller queues the confirmation mail and commits once. With
    /// [`SeatLock::Off`] the counters are read in an earlier transaction (the
    /// check-then-write race a store without the lock has).
    pub async fn register(
        self,
        new: &NewRegistration<'_>,
        lock: SeatLock,
    ) -> Result<(TenantTx, Registered)> {
        match lock {
            SeatLock::Held => {
                let mut tx = self.write().await?;
                let r = tx.register(new).await?;
                Ok((tx, r))
            }
            SeatLock::Off => {
                let mut read = self.read().await?;
                let seen = read.event(new.event).await?;
                read.commit().await?;
                let mut tx = self.write().await?;
                let r = tx.register_seen(new, &seen).await?;
                Ok((tx, r))
            }
        }
    }
}

impl AccountTx {
    /// The person's own registrations in every region, the latest event first.
    #[instrument(skip_all, fields(account = %self.account), err(level = "warn"))]
    pub async fn my_registrations(&mut self, limit: i64) -> Result<Vec<MyRegistration>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT r.id, t.slug AS tenant_slug, e.id AS event_id, e.title, e.details, e.starts_at, e.ends_at,
                        r.seat_kind, r.status, r.checkin_code
                 FROM registrations r
                 JOIN events e ON e.tenant_id = r.tenant_id AND e.id = r.event_id
                 JOIN tenants t ON t.id = r.tenant_id
                 WHERE r.account_id = $1
                 ORDER BY e.starts_at DESC, r.id DESC LIMIT $2",
            )
            .bind(self.account)
            .bind(limit)
            .fetch_all(&mut **conn)
            .await?)
        })
    }
}

impl PlatformTx {
    /// Published events of active regions, in date order, narrowed by `q`.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn list_events(&mut self, q: &EventQuery) -> Result<Vec<EventListing>> {
        let mut filter = vec![
            "e.status = 'published'".to_owned(),
            // Regions being set up are not listed anywhere yet.
            "t.status = 'active' AND t.setting_up_since IS NULL".to_owned(),
        ];
        let mut n = 1;
        let mut next = || {
            n += 1;
            n
        };
        let from = q.from.map(|_| next());
        let until = q.until.map(|_| next());
        let tenant = q.tenant.map(|_| next());
        let kind = q.kind.map(|_| next());
        let region = q.region.map(|_| next());
        let offset = next();
        if let Some(i) = region {
            filter.push(format!("(e.tenant_id = ${i} OR t.parent_id = ${i})"));
        }
        if let Some(i) = from {
            filter.push(format!("e.starts_at >= ${i}"));
        }
        if let Some(i) = until {
            filter.push(format!("e.starts_at < ${i}"));
        }
        if let Some(i) = tenant {
            filter.push(format!("e.tenant_id = ${i}"));
        }
        if let Some(i) = kind {
            filter.push(format!("e.kind = ${i}"));
        }
        match q.seat_kind {
            Some(SeatKind::Onsite) => filter.push("e.format IN ('onsite', 'hybrid')".into()),
            Some(SeatKind::Online) => filter.push("e.format IN ('online', 'hybrid')".into()),
            None => {}
        }
        let sql = format!(
            "SELECT {EVENT_COLUMNS}, t.slug AS tenant_slug, t.name_ja AS tenant_name_ja, t.name_en AS tenant_name_en
             FROM events e JOIN tenants t ON t.id = e.tenant_id
             WHERE {} ORDER BY e.starts_at, e.id LIMIT $1 OFFSET ${offset}",
            filter.join(" AND ")
        );
        with_tx!(&mut self.tx, conn => {
            let mut query = sqlx::query_as(&sql).bind(q.limit);
            if let Some(v) = q.from {
                query = query.bind(v);
            }
            if let Some(v) = q.until {
                query = query.bind(v);
            }
            if let Some(v) = q.tenant {
                query = query.bind(v);
            }
            if let Some(v) = q.kind {
                query = query.bind(v.code());
            }
            if let Some(v) = q.region {
                query = query.bind(v);
            }
            query = query.bind(q.offset.max(0));
            Ok(query.fetch_all(&mut **conn).await?)
        })
    }

    /// Confirmed registrations of published events starting after `now` and no
    /// later than `horizon`, with the reminders already recorded for each.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn reminder_candidates(
        &mut self,
        now: DateTime<Utc>,
        horizon: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<ReminderCandidate>> {
        type Row = (
            TenantId,
            String,
            RegistrationId,
            EventId,
            String,
            String,
            DateTime<Utc>,
            String,
            String,
            String,
            String,
            String,
            Option<i64>,
        );
        let rows: Vec<Row> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "SELECT r.tenant_id, t.slug, r.id, e.id, e.title, e.details, e.starts_at, a.email, a.display_name,
                        a.locale, r.seat_kind, r.checkin_code, s.offset_minutes
                 FROM events e
                 JOIN tenants t ON t.id = e.tenant_id
                 JOIN registrations r ON r.tenant_id = e.tenant_id AND r.event_id = e.id
                 JOIN accounts a ON a.id = r.account_id
                 LEFT JOIN reminders_sent s ON s.tenant_id = r.tenant_id AND s.registration_id = r.id
                 WHERE e.status = 'published' AND t.status = 'active' AND e.starts_at > $1 AND e.starts_at <= $2
                   AND r.status = 'confirmed' AND a.deleted_at IS NULL
                 ORDER BY r.tenant_id, r.id LIMIT $3",
            )
            .bind(now)
            .bind(horizon)
            .bind(limit)
            .fetch_all(&mut **conn)
            .await?
        });
        let mut out: Vec<ReminderCandidate> = Vec::new();
        for (
            tenant_id,
            slug,
            reg,
            event,
            title,
            details,
            starts_at,
            email,
            name,
            locale,
            seat,
            code,
            sent,
        ) in rows
        {
            match out.last_mut() {
                Some(c) if c.tenant_id == tenant_id && c.registration == reg => {
                    c.sent.extend(sent);
                }
                _ => out.push(ReminderCandidate {
                    tenant_id,
                    tenant_slug: slug,
                    registration: reg,
                    event,
                    title,
                    details,
                    starts_at,
                    email,
                    display_name: name,
                    locale,
                    seat_kind: seat,
                    checkin_code: code,
                    sent: sent.into_iter().collect(),
                }),
            }
        }
        Ok(out)
    }

    /// Records reminder offsets as sent; returns those this call recorded (the mail
    /// is queued only for them, so two nodes never send the same reminder).
    #[instrument(skip_all, fields(tenant = %tenant, registration = %id), err(level = "warn"))]
    pub async fn claim_reminders(
        &mut self,
        tenant: TenantId,
        id: RegistrationId,
        offsets: &[i64],
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>> {
        record_reminders(&mut self.tx, tenant, id, offsets, now).await
    }

    /// The outbox rows of one mail template (`event_promoted` …), in the order they
    /// were queued: how many mails the event moves queued, and to whom.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn outbox_of_template(&mut self, template: &str) -> Result<Vec<crate::OutboxEntry>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT id, tenant_id, template, locale, from_name, from_address, to_address,
                        subject, message_id, attachment_name, attachment_type, status,
                        attempts, next_attempt_at, claimed_by,
                        claimed_until, last_error, created_at, sent_at
                 FROM mail_outbox WHERE template = $1 ORDER BY id",
            )
            .bind(template)
            .fetch_all(&mut **conn)
            .await?)
        })
    }
}
