//! Registrations for events: the decisions the store applies inside one locked
//! transaction, so that no event ever has more confirmed registrants than seats.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::account::{FieldError, Problem};
use crate::event::{Capacity, EventStatus, Format, Selection, Window};

pub use crate::event::SeatKind;

/// Where a registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationStatus {
    /// Screened events: waiting for a coordinator's approval.
    Pending,
    Confirmed,
    Waitlisted,
    Cancelled,
    Attended,
    NoShow,
}

impl RegistrationStatus {
    pub const ALL: &'static [RegistrationStatus] = &[
        RegistrationStatus::Pending,
        RegistrationStatus::Confirmed,
        RegistrationStatus::Waitlisted,
        RegistrationStatus::Cancelled,
        RegistrationStatus::Attended,
        RegistrationStatus::NoShow,
    ];

    pub fn code(self) -> &'static str {
        match self {
            RegistrationStatus::Pending => "pending",
            RegistrationStatus::Confirmed => "confirmed",
            RegistrationStatus::Waitlisted => "waitlisted",
            RegistrationStatus::Cancelled => "cancelled",
            RegistrationStatus::Attended => "attended",
            RegistrationStatus::NoShow => "no_show",
        }
    }

    pub fn parse(code: &str) -> Option<RegistrationStatus> {
        Self::ALL.iter().copied().find(|s| s.code() == code)
    }

    /// The allowed moves. A pending registration is approved (into a seat, or onto
    /// the waitlist when the seats went meanwhile) or declined; a waitlisted one is
    /// promoted or leaves; a confirmed one cancels, attends or does not show. A
    /// no-show who checks in late attended after all; cancelled is final (register
    /// again instead, at the back of the queue).
    pub fn can_become(self, to: RegistrationStatus) -> bool {
        use RegistrationStatus::*;
        matches!(
            (self, to),
            (Pending, Confirmed | Waitlisted | Cancelled)
                | (Waitlisted, Confirmed | Cancelled)
                | (Confirmed, Cancelled | Attended | NoShow)
                | (NoShow, Attended)
        )
    }

    /// Whether the registration holds a seat of its kind.
    pub fn holds_seat(self) -> bool {
        matches!(
            self,
            RegistrationStatus::Confirmed
                | RegistrationStatus::Attended
                | RegistrationStatus::NoShow
        )
    }
}

/// The seat kind a registration asks for: `requested` may be absent when the event
/// has one format. The error names the form's (and API's) `attendance` field.
pub fn seat_kind(format: Format, requested: Option<SeatKind>) -> Result<SeatKind, FieldError> {
    let offered = format.seat_kinds();
    let error = |problem| FieldError {
        field: "attendance",
        problem,
    };
    match (requested, offered) {
        (Some(kind), _) if offered.contains(&kind) => Ok(kind),
        (Some(_), _) => Err(error(Problem::InvalidChoice)),
        (None, [only]) => Ok(*only),
        (None, _) => Err(error(Problem::Required)),
    }
}

/// The seat kind as typed in a form or the API's `attendance` (absent or empty when
/// the event has one format).
pub fn seat_kind_typed(format: Format, typed: Option<&str>) -> Result<SeatKind, FieldError> {
    match typed.map(str::trim).filter(|t| !t.is_empty()) {
        None => seat_kind(format, None),
        Some(t) => match SeatKind::parse(t) {
            Some(kind) => seat_kind(format, Some(kind)),
            None => Err(FieldError {
                field: "attendance",
                problem: Problem::InvalidChoice,
            }),
        },
    }
}

/// Seats of one kind as the public list shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SeatCount {
    pub capacity: u32,
    pub confirmed: u32,
}

/// An event's seats per kind (shared/DESIGN.md: a kind's entry is absent when the
/// event has no such seats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Seats {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onsite: Option<SeatCount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub online: Option<SeatCount>,
}

impl Seats {
    /// From the seats offered and how many of each kind are held.
    pub fn new(capacity: Capacity, confirmed_onsite: u32, confirmed_online: u32) -> Seats {
        let count = |c: Option<u32>, confirmed| {
            c.map(|capacity| SeatCount {
                capacity,
                confirmed,
            })
        };
        Seats {
            onsite: count(capacity.onsite, confirmed_onsite),
            online: count(capacity.online, confirmed_online),
        }
    }
}

/// What happens to a new registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Confirm,
    Waitlist,
    /// Screened: a coordinator decides later.
    Pending,
}

impl Decision {
    pub fn status(self) -> RegistrationStatus {
        match self {
            Decision::Confirm => RegistrationStatus::Confirmed,
            Decision::Waitlist => RegistrationStatus::Waitlisted,
            Decision::Pending => RegistrationStatus::Pending,
        }
    }
}

/// Decides a new registration from the seats of its kind and how many of them are
/// held now. The store must read `confirmed_of_kind` under the same lock it writes
/// the registration under, or two registrations can both see the last seat.
pub fn decide(selection: Selection, capacity_of_kind: u32, confirmed_of_kind: u32) -> Decision {
    match selection {
        Selection::Screened => Decision::Pending,
        Selection::FirstCome => approve(capacity_of_kind, confirmed_of_kind),
    }
}

/// A coordinator's approval of a pending registration: a seat if one is left,
/// otherwise the waitlist.
pub fn approve(capacity_of_kind: u32, confirmed_of_kind: u32) -> Decision {
    if confirmed_of_kind < capacity_of_kind {
        Decision::Confirm
    } else {
        Decision::Waitlist
    }
}

/// Which waitlisted registrations take the seats now free of `kind`, first come
/// first: `waitlist` is in the order people joined it, with each one's seat kind.
/// After one cancellation that is at most one; after seats are added, several.
pub fn promotions<I: Copy>(
    kind: SeatKind,
    capacity: Capacity,
    confirmed_of_kind: u32,
    waitlist: &[(I, SeatKind)],
) -> Vec<I> {
    let free = capacity.of(kind).saturating_sub(confirmed_of_kind);
    waitlist
        .iter()
        .filter(|(_, k)| *k == kind)
        .take(usize::try_from(free).unwrap_or(usize::MAX))
        .map(|(id, _)| *id)
        .collect()
}

/// Why registration is not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    NotPublished,
    Cancelled,
    NotYetOpen,
    WindowClosed,
    Started,
}

/// Whether a registration may be made at `now`. Without an end to the window,
/// registration runs until the event starts.
pub fn registration_open(
    status: EventStatus,
    window: Window,
    starts_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), Closed> {
    match status {
        EventStatus::Draft => return Err(Closed::NotPublished),
        EventStatus::Cancelled => return Err(Closed::Cancelled),
        EventStatus::Published => {}
    }
    if now >= starts_at {
        return Err(Closed::Started);
    }
    if window.opens_at.is_some_and(|o| now < o) {
        return Err(Closed::NotYetOpen);
    }
    if window.closes_at.is_some_and(|c| now >= c) {
        return Err(Closed::WindowClosed);
    }
    Ok(())
}

/// Whether a registrant may still cancel: until the event starts; staff may at any
/// time.
pub fn may_cancel(
    status: RegistrationStatus,
    starts_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> bool {
    status.can_become(RegistrationStatus::Cancelled) && now < starts_at
}

/// Seats of a kind nobody holds yet, for the public page; never negative when seats
/// were reduced below those already confirmed.
pub fn seats_left(capacity: Capacity, kind: SeatKind, confirmed_of_kind: u32) -> u32 {
    capacity.of(kind).saturating_sub(confirmed_of_kind)
}

/// Whether a registrant is shown the online URL: only with a seat, and only an
/// online one (an onsite registrant of a hybrid event gets the room, not the link,
/// so the stream's seats are not taken twice).
pub fn sees_online_url(status: RegistrationStatus, kind: SeatKind) -> bool {
    kind == SeatKind::Online
        && matches!(
            status,
            RegistrationStatus::Confirmed | RegistrationStatus::Attended
        )
}

/// Whether a registrant may fill in the event's logistics form: approved people
/// alone, while the event has not ended.
pub fn may_fill_logistics(
    logistics_form: bool,
    status: RegistrationStatus,
    ends_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> bool {
    logistics_form && status == RegistrationStatus::Confirmed && now < ends_at
}

/// Whether staff may check a registration in: a seat holder (again on a later day
/// of a tour, or late after being marked a no-show).
pub fn may_check_in(status: RegistrationStatus) -> bool {
    status.holds_seat()
}

/// The longest idempotency key kept.
pub const IDEMPOTENCY_KEY_MAX: usize = 200;

/// An `Idempotency-Key` header or form token: a retried POST with the same key gets
/// the same registration. Printable ASCII only, as HTTP headers carry it.
pub fn check_idempotency_key(key: &str) -> Option<&str> {
    let key = key.trim();
    (!key.is_empty()
        && key.len() <= IDEMPOTENCY_KEY_MAX
        && key.bytes().all(|b| b.is_ascii_graphic()))
    .then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use RegistrationStatus::*;
    use chrono::TimeZone;

    fn at(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 12, d, h, 0, 0).unwrap()
    }

    #[test]
    fn who_sees_what() {
        let capacity = Capacity {
            onsite: Some(20),
            online: None,
        };
        assert_eq!(seats_left(capacity, SeatKind::Onsite, 5), 15);
        assert_eq!(seats_left(capacity, SeatKind::Onsite, 25), 0);
        assert_eq!(seats_left(capacity, SeatKind::Online, 0), 0);
        assert!(sees_online_url(Confirmed, SeatKind::Online));
        assert!(!sees_online_url(Confirmed, SeatKind::Onsite));
        for s in [Pending, Waitlisted, Cancelled, NoShow] {
            assert!(!sees_online_url(s, SeatKind::Online), "{s:?}");
        }
        let end = at(12, 9);
        assert!(may_fill_logistics(true, Confirmed, end, at(5, 0)));
        assert!(!may_fill_logistics(false, Confirmed, end, at(5, 0)));
        assert!(!may_fill_logistics(true, Pending, end, at(5, 0)));
        assert!(!may_fill_logistics(true, Waitlisted, end, at(5, 0)));
        assert!(!may_fill_logistics(true, Confirmed, end, end));
        assert!(may_check_in(Confirmed) && may_check_in(Attended) && may_check_in(NoShow));
        assert!(!may_check_in(Waitlisted) && !may_check_in(Cancelled) && !may_check_in(Pending));
    }

    #[test]
    fn idempotency_keys() {
        assert_eq!(
            check_idempotency_key(" 0f6c1e2a-key "),
            Some("0f6c1e2a-key")
        );
        for bad in ["", "   ", "a b", "キー", "a\nb", "a\0"] {
            assert_eq!(check_idempotency_key(bad), None, "{bad:?}");
        }
        assert!(check_idempotency_key(&"k".repeat(IDEMPOTENCY_KEY_MAX)).is_some());
        assert!(check_idempotency_key(&"k".repeat(IDEMPOTENCY_KEY_MAX + 1)).is_none());
    }

    #[test]
    fn codes_and_moves() {
        for s in RegistrationStatus::ALL {
            assert_eq!(RegistrationStatus::parse(s.code()), Some(*s));
            assert!(!s.can_become(*s), "{s:?}");
        }
        assert_eq!(RegistrationStatus::parse("Confirmed"), None);
        assert!(Pending.can_become(Confirmed));
        assert!(Waitlisted.can_become(Confirmed));
        assert!(Waitlisted.can_become(Cancelled));
        assert!(Confirmed.can_become(Attended));
        assert!(NoShow.can_become(Attended));
        for to in RegistrationStatus::ALL {
            assert!(!Cancelled.can_become(*to));
        }
        assert!(!Waitlisted.can_become(Attended));
        assert!(!Pending.can_become(Attended));
        assert!(!Attended.can_become(Cancelled));
        assert!(Confirmed.holds_seat() && !Waitlisted.holds_seat() && !Pending.holds_seat());
    }

    #[test]
    fn seat_kinds_per_format() {
        assert_eq!(seat_kind(Format::Online, None), Ok(SeatKind::Online));
        assert_eq!(seat_kind(Format::Onsite, None), Ok(SeatKind::Onsite));
        assert_eq!(
            seat_kind(Format::Hybrid, Some(SeatKind::Online)),
            Ok(SeatKind::Online)
        );
        assert_eq!(
            seat_kind(Format::Hybrid, None).unwrap_err().problem,
            Problem::Required
        );
        let e = seat_kind(Format::Online, Some(SeatKind::Onsite)).unwrap_err();
        assert_eq!((e.field, e.problem), ("attendance", Problem::InvalidChoice));
    }

    #[test]
    fn typed_seat_kinds_and_seats() {
        assert_eq!(
            seat_kind_typed(Format::Online, Some(" ")),
            Ok(SeatKind::Online)
        );
        assert_eq!(
            seat_kind_typed(Format::Hybrid, Some("onsite")),
            Ok(SeatKind::Onsite)
        );
        for bad in ["ONSITE", "both", "online\0"] {
            assert_eq!(
                seat_kind_typed(Format::Hybrid, Some(bad)).map_err(|e| e.problem),
                Err(Problem::InvalidChoice),
                "{bad:?}"
            );
        }
        let seats = Seats::new(
            Capacity {
                onsite: None,
                online: Some(100),
            },
            0,
            42,
        );
        assert_eq!(
            serde_json::to_value(seats).unwrap(),
            serde_json::json!({"online": {"capacity": 100, "confirmed": 42}})
        );
    }

    #[test]
    fn decisions() {
        assert_eq!(decide(Selection::FirstCome, 20, 19), Decision::Confirm);
        assert_eq!(decide(Selection::FirstCome, 20, 20), Decision::Waitlist);
        // More held than seats (seats reduced afterwards) still waitlists.
        assert_eq!(decide(Selection::FirstCome, 20, 25), Decision::Waitlist);
        assert_eq!(decide(Selection::FirstCome, 0, 0), Decision::Waitlist);
        assert_eq!(decide(Selection::Screened, 20, 0), Decision::Pending);
        assert_eq!(approve(1, 0).status(), Confirmed);
        assert_eq!(approve(1, 1).status(), Waitlisted);
    }

    #[test]
    fn two_hundred_for_twenty_seats() {
        let mut confirmed = 0;
        let mut waitlisted = 0;
        for _ in 0..200 {
            match decide(Selection::FirstCome, 20, confirmed) {
                Decision::Confirm => confirmed += 1,
                Decision::Waitlist => waitlisted += 1,
                Decision::Pending => unreachable!(),
            }
        }
        assert_eq!((confirmed, waitlisted), (20, 180));
    }

    #[test]
    fn promotion_takes_the_first_of_the_kind() {
        let capacity = Capacity {
            onsite: Some(20),
            online: Some(100),
        };
        let waitlist = [
            (1, SeatKind::Online),
            (2, SeatKind::Onsite),
            (3, SeatKind::Onsite),
        ];
        // An onsite seat was cancelled: 19 of 20 held.
        assert_eq!(promotions(SeatKind::Onsite, capacity, 19, &waitlist), [2]);
        assert_eq!(
            promotions(SeatKind::Onsite, capacity, 20, &waitlist),
            Vec::<i32>::new()
        );
        // Seats added: as many as are free.
        assert_eq!(
            promotions(SeatKind::Onsite, capacity, 15, &waitlist),
            [2, 3]
        );
        assert_eq!(promotions(SeatKind::Online, capacity, 99, &waitlist), [1]);
        let online_only = Capacity {
            onsite: None,
            online: Some(5),
        };
        assert!(promotions(SeatKind::Onsite, online_only, 0, &waitlist).is_empty());
        assert!(promotions::<i32>(SeatKind::Onsite, capacity, 0, &[]).is_empty());
    }

    #[test]
    fn open_for_registration() {
        let start = at(11, 6);
        let window = Window {
            opens_at: Some(at(1, 1)),
            closes_at: Some(at(10, 8)),
        };
        let open = |s, w, now| registration_open(s, w, start, now);
        assert_eq!(open(EventStatus::Published, window, at(5, 0)), Ok(()));
        assert_eq!(open(EventStatus::Published, window, at(1, 1)), Ok(()));
        assert_eq!(
            open(EventStatus::Published, window, at(1, 0)),
            Err(Closed::NotYetOpen)
        );
        assert_eq!(
            open(EventStatus::Published, window, at(10, 8)),
            Err(Closed::WindowClosed)
        );
        assert_eq!(
            open(EventStatus::Published, Window::default(), at(11, 5)),
            Ok(())
        );
        assert_eq!(
            open(EventStatus::Published, Window::default(), at(11, 6)),
            Err(Closed::Started)
        );
        assert_eq!(
            open(EventStatus::Cancelled, window, at(5, 0)),
            Err(Closed::Cancelled)
        );
        assert_eq!(
            open(EventStatus::Draft, window, at(5, 0)),
            Err(Closed::NotPublished)
        );
        assert!(may_cancel(Waitlisted, start, at(5, 0)));
        assert!(!may_cancel(Confirmed, start, at(11, 6)));
        assert!(!may_cancel(Cancelled, start, at(5, 0)));
    }
}
