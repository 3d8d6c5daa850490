//! Matching rounds (マッチング): who may enter, when lists may change, how a ranked list
//! is checked, and the round's state machine. The engine that solves a round is
//! `yui-match`; the store records every move; everything here is a rule with no I/O.

use std::collections::{BTreeMap, HashSet};
use std::hash::Hash;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::account::{FieldError, Problem};
use crate::program::{FieldworkRule, RoundEligibility, round_eligibility};

/// The most seats one project may offer in a round, and the longest list anyone may
/// keep: rounds are a region's season, not a national match.
pub const SEATS_MAX: u32 = 50;
pub const RANKS_MAX: u32 = 100;
pub const REASON_MAX: usize = 500;

/// Where a round stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundStatus {
    /// Being set up by the coordinator; nobody else sees it.
    Draft,
    /// Entry and ranking, within the round's dates.
    Open,
    /// Lists are final; the coordinator solves and reviews.
    Closed,
    /// The result is out: both sides confirm or decline their match.
    Published,
    /// 二次募集: projects with open seats make offers to those left over.
    SecondPhase,
    /// Nothing more happens in the round.
    Finished,
}

impl RoundStatus {
    pub const ALL: &'static [RoundStatus] = &[
        RoundStatus::Draft,
        RoundStatus::Open,
        RoundStatus::Closed,
        RoundStatus::Published,
        RoundStatus::SecondPhase,
        RoundStatus::Finished,
    ];

    pub fn code(self) -> &'static str {
        match self {
            RoundStatus::Draft => "draft",
            RoundStatus::Open => "open",
            RoundStatus::Closed => "closed",
            RoundStatus::Published => "published",
            RoundStatus::SecondPhase => "second_phase",
            RoundStatus::Finished => "finished",
        }
    }

    pub fn parse(code: &str) -> Option<RoundStatus> {
        Self::ALL.iter().copied().find(|s| s.code() == code)
    }

    /// The allowed moves, forward only, except that a closed round may open again
    /// (a deadline extended before anything was solved). A published result is never
    /// taken back: people have been told.
    pub fn can_become(self, to: RoundStatus) -> bool {
        use RoundStatus::*;
        matches!(
            (self, to),
            (Draft, Open)
                | (Open, Closed)
                | (Closed, Open | Published)
                | (Published, SecondPhase | Finished)
                | (SecondPhase, Finished)
        )
    }

    /// Whether people other than staff see the round.
    pub fn is_public(self) -> bool {
        self != RoundStatus::Draft
    }
}

/// How the pairs of a round are formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundMode {
    /// Both sides rank; the engine forms the talent-optimal stable matching.
    Engine,
    /// Small rounds: the coordinator pairs people directly.
    Manual,
}

impl RoundMode {
    pub const ALL: &'static [RoundMode] = &[RoundMode::Engine, RoundMode::Manual];

    pub fn code(self) -> &'static str {
        match self {
            RoundMode::Engine => "engine",
            RoundMode::Manual => "manual",
        }
    }

    pub fn parse(code: &str) -> Option<RoundMode> {
        Self::ALL.iter().copied().find(|m| m.code() == code)
    }
}

/// A round's dates: entry opens, entry closes, lists close. Lists may change until
/// they close, also after entry closed (hosts rank after their 面談).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundDates {
    pub entry_opens_at: DateTime<Utc>,
    pub entry_closes_at: DateTime<Utc>,
    pub ranks_close_at: DateTime<Utc>,
}

impl RoundDates {
    /// Checks the order of the dates; errors name the field that is out of order.
    pub fn check(self) -> Result<RoundDates, FieldError> {
        if self.entry_closes_at <= self.entry_opens_at {
            return Err(FieldError {
                field: "entry_closes_at",
                problem: Problem::OutOfOrder,
            });
        }
        if self.ranks_close_at < self.entry_closes_at {
            return Err(FieldError {
                field: "ranks_close_at",
                problem: Problem::OutOfOrder,
            });
        }
        Ok(self)
    }
}

/// What a round allows at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoundPhase {
    /// Not open (a draft, or before entry opens).
    NotYet,
    /// Talents enter; both sides rank.
    Entry,
    /// Entry closed; those in the round still change their lists.
    Ranking,
    /// Lists are final.
    ListsClosed,
}

impl RoundPhase {
    pub fn at(status: RoundStatus, dates: RoundDates, now: DateTime<Utc>) -> RoundPhase {
        match status {
            RoundStatus::Draft => RoundPhase::NotYet,
            RoundStatus::Open if now < dates.entry_opens_at => RoundPhase::NotYet,
            RoundStatus::Open if now < dates.entry_closes_at => RoundPhase::Entry,
            RoundStatus::Open if now < dates.ranks_close_at => RoundPhase::Ranking,
            _ => RoundPhase::ListsClosed,
        }
    }

    pub fn may_enter(self) -> bool {
        self == RoundPhase::Entry
    }

    pub fn may_rank(self) -> bool {
        matches!(self, RoundPhase::Entry | RoundPhase::Ranking)
    }
}

/// Who may enter a round besides those invited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryRule {
    /// The tenant's members, as the program's field-work rule allows.
    Members,
    /// Invited talents alone (attendees of the linked field work are invited).
    Invited,
}

impl EntryRule {
    pub const ALL: &'static [EntryRule] = &[EntryRule::Members, EntryRule::Invited];

    pub fn code(self) -> &'static str {
        match self {
            EntryRule::Members => "members",
            EntryRule::Invited => "invited",
        }
    }

    pub fn parse(code: &str) -> Option<EntryRule> {
        Self::ALL.iter().copied().find(|r| r.code() == code)
    }
}

/// What is known of a talent when they ask to enter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EntrantFacts {
    /// A member of the round's tenant (consent given, not withdrawn).
    pub member: bool,
    /// Attended the program's field work on at least one day.
    pub attended_fieldwork: bool,
    /// Invited by the coordinator (field-work attendees are invited automatically).
    pub invited: bool,
}

/// Why a talent may not enter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryRefusal {
    /// Rounds are for the tenant's members: join the region first.
    NotMember,
    /// The round takes invited talents alone.
    NotInvited,
    /// The program asks for its field work first.
    FieldworkRequired,
}

impl EntryRefusal {
    pub fn code(self) -> &'static str {
        match self {
            EntryRefusal::NotMember => "not_member",
            EntryRefusal::NotInvited => "not_invited",
            EntryRefusal::FieldworkRequired => "fieldwork_required",
        }
    }
}

/// Whether a talent may enter a round under `rule` and the program's field-work rule.
/// An invitation opens the round to someone the field-work rule would keep out: the
/// coordinator decided.
pub fn may_enter(
    rule: EntryRule,
    fieldwork: FieldworkRule,
    facts: EntrantFacts,
) -> Result<(), EntryRefusal> {
    if !facts.member {
        return Err(EntryRefusal::NotMember);
    }
    let by_fieldwork = round_eligibility(fieldwork, facts.attended_fieldwork);
    if facts.invited || by_fieldwork == RoundEligibility::Invited {
        return Ok(());
    }
    match (rule, by_fieldwork) {
        (EntryRule::Invited, _) => Err(EntryRefusal::NotInvited),
        (EntryRule::Members, RoundEligibility::NotEligible) => Err(EntryRefusal::FieldworkRequired),
        (EntryRule::Members, _) => Ok(()),
    }
}

/// What is wrong with a ranked list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RankingProblem<T> {
    /// More entries than the round allows this side.
    TooMany { max: u32 },
    /// The same project (or talent) twice.
    Twice(T),
    /// Not in the round (a project not taking part, a talent who did not enter).
    NotInRound(T),
}

/// Checks a ranked list, most preferred first, against what the round offers and the
/// side's limit. The order is the person's; nothing is reordered.
pub fn check_ranking<T: Copy + Eq + Hash>(
    list: &[T],
    in_round: &HashSet<T>,
    limit: u32,
) -> Result<(), RankingProblem<T>> {
    if list.len() > limit as usize {
        return Err(RankingProblem::TooMany { max: limit });
    }
    let mut seen = HashSet::with_capacity(list.len());
    for &item in list {
        if !in_round.contains(&item) {
            return Err(RankingProblem::NotInRound(item));
        }
        if !seen.insert(item) {
            return Err(RankingProblem::Twice(item));
        }
    }
    Ok(())
}

/// A ranked list from the form that works without JavaScript: a number typed beside
/// each choice (blank = not ranked). Numbers need not be consecutive (1, 2, 5 is the
/// order 1st, 2nd, 3rd); the same number twice is an error on the second field that
/// has it, as is anything but a whole number from 1 to [`RANKS_MAX`].
pub fn ranking_from_numbers<T: Copy>(typed: &[(T, &str)]) -> Result<Vec<T>, (T, Problem)> {
    let mut by_number: BTreeMap<u32, T> = BTreeMap::new();
    for &(item, text) in typed {
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let number = normalize_digits(text)
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=RANKS_MAX).contains(n))
            .ok_or((
                item,
                Problem::OutOfRange {
                    min: 1,
                    max: RANKS_MAX as usize,
                },
            ))?;
        if by_number.insert(number, item).is_some() {
            return Err((item, Problem::Taken));
        }
    }
    Ok(by_number.into_values().collect())
}

/// Full-width digits (１２) as typed by a Japanese input method, read as ASCII.
fn normalize_digits(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            _ => c,
        })
        .collect()
}

/// The counts a coordinator reads first on the review page, and the API's result
/// gives (the `summary` of `yui match solve`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ResultSummary {
    /// Talents in the round.
    pub talents: u32,
    pub projects: u32,
    pub matched: u32,
    pub unmatched: u32,
    /// Matched at their 1st, 2nd, 3rd and a later choice; a pair off the talent's
    /// list (made by the coordinator) is counted in `matched` alone.
    pub first_choice: u32,
    pub second_choice: u32,
    pub third_choice: u32,
    pub later_choice: u32,
    pub seats: u32,
    /// Seats no pair holds, summed over projects (a project given more talents than
    /// seats has none open, not fewer than none).
    pub open_seats: u32,
}

impl ResultSummary {
    /// From the talent's rank of each live pair (None: a pair the talent did not
    /// list), the number of talents in the round and of those without a pair, and
    /// each project's seats with the pairs holding one.
    pub fn of(
        pair_ranks: &[Option<u32>],
        talents: u32,
        unmatched: u32,
        projects: &[(u32, u32)],
    ) -> ResultSummary {
        let at = |r: u32| pair_ranks.iter().filter(|x| **x == Some(r)).count() as u32;
        ResultSummary {
            talents,
            projects: projects.len() as u32,
            matched: pair_ranks.len() as u32,
            unmatched,
            first_choice: at(1),
            second_choice: at(2),
            third_choice: at(3),
            later_choice: pair_ranks
                .iter()
                .filter(|x| x.is_some_and(|r| r > 3))
                .count() as u32,
            seats: projects.iter().map(|(seats, _)| seats).sum(),
            open_seats: projects
                .iter()
                .map(|(seats, held)| seats.saturating_sub(*held))
                .sum(),
        }
    }
}

/// A coordinator's reason for changing a pair: required, one paragraph, kept in the
/// audit log as typed (control characters dropped).
pub fn adjustment_reason(typed: &str) -> Result<String, FieldError> {
    let reason: String = typed
        .chars()
        .filter(|c| *c == '\n' || !c.is_control())
        .collect::<String>()
        .trim()
        .to_owned();
    let error = |problem| FieldError {
        field: "reason",
        problem,
    };
    if reason.is_empty() {
        return Err(error(Problem::Required));
    }
    if reason.chars().count() > REASON_MAX {
        return Err(error(Problem::TooLong { max: REASON_MAX }));
    }
    Ok(reason)
}

/// A side's answer to a published match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Confirmed,
    Declined,
}

/// Where a published match stands, from the two sides' answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchStatus {
    /// Waiting for one side or both.
    Proposed,
    /// Both confirmed: an engagement begins.
    Confirmed,
    /// One side declined: the seat is free again.
    Declined,
}

impl MatchStatus {
    pub fn code(self) -> &'static str {
        match self {
            MatchStatus::Proposed => "proposed",
            MatchStatus::Confirmed => "confirmed",
            MatchStatus::Declined => "declined",
        }
    }

    pub fn parse(code: &str) -> Option<MatchStatus> {
        [
            MatchStatus::Proposed,
            MatchStatus::Confirmed,
            MatchStatus::Declined,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }

    /// A decline by either side ends the match; both confirmations make it.
    pub fn from_answers(talent: Option<Answer>, host: Option<Answer>) -> MatchStatus {
        match (talent, host) {
            (Some(Answer::Declined), _) | (_, Some(Answer::Declined)) => MatchStatus::Declined,
            (Some(Answer::Confirmed), Some(Answer::Confirmed)) => MatchStatus::Confirmed,
            _ => MatchStatus::Proposed,
        }
    }
}

/// The second phase's timing: `rounds` offer rounds of `minutes` each from `started`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferRounds {
    pub started_at: DateTime<Utc>,
    pub rounds: u32,
    pub minutes: u32,
}

impl OfferRounds {
    /// The offer round running at `now` (1 = first), or None before the start and
    /// after the last round ended.
    pub fn current(self, now: DateTime<Utc>) -> Option<u32> {
        if now < self.started_at || self.minutes == 0 {
            return None;
        }
        let elapsed = (now - self.started_at).num_minutes();
        let n = u32::try_from(elapsed / i64::from(self.minutes)).ok()? + 1;
        (n <= self.rounds).then_some(n)
    }

    /// When the last offer round ends.
    pub fn ends_at(self) -> DateTime<Utc> {
        self.started_at
            + chrono::Duration::minutes(i64::from(self.rounds) * i64::from(self.minutes))
    }
}

/// The longest round title, per language.
pub const TITLE_MAX: usize = 100;

/// The round form as typed: dates are Tokyo wall-clock times (`datetime-local`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RoundInput {
    pub program: String,
    pub title: String,
    pub title_en: String,
    pub mode: String,
    pub entry_rule: String,
    pub entry_opens_at: String,
    pub entry_closes_at: String,
    pub ranks_close_at: String,
    pub talent_rank_limit: String,
    pub host_rank_limit: String,
    /// A checkbox: present when ticked.
    pub interim_on: Option<String>,
}

/// A round's fields, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundFields {
    pub program: i64,
    pub title: crate::locale::Localized,
    pub mode: RoundMode,
    pub entry_rule: EntryRule,
    pub dates: RoundDates,
    pub talent_limit: u32,
    pub host_limit: u32,
    pub interim_on: bool,
}

/// Checks the round form; every error names its field. Dates may lie in the past
/// (a coordinator records a round already under way) but not before 2000 nor more
/// than three years after `today`.
pub fn check_round(
    input: &RoundInput,
    today: chrono::NaiveDate,
) -> Result<RoundFields, Vec<FieldError>> {
    use crate::account::one_line;
    let mut errors = Vec::new();
    let mut push = |field: &'static str, problem| errors.push(FieldError { field, problem });
    let program = input.program.trim().parse::<i64>().ok().filter(|p| *p > 0);
    if program.is_none() {
        push(
            "program",
            if input.program.trim().is_empty() {
                Problem::Required
            } else {
                Problem::InvalidChoice
            },
        );
    }
    let title = one_line(&input.title);
    let title_en = one_line(&input.title_en);
    if title.is_empty() {
        push("title", Problem::Required);
    } else if title.chars().count() > TITLE_MAX {
        push("title", Problem::TooLong { max: TITLE_MAX });
    }
    if title_en.chars().count() > TITLE_MAX {
        push("title_en", Problem::TooLong { max: TITLE_MAX });
    }
    let choice = |typed: &str| {
        if typed.trim().is_empty() {
            Problem::Required
        } else {
            Problem::InvalidChoice
        }
    };
    let mode = RoundMode::parse(input.mode.trim());
    if mode.is_none() {
        push("mode", choice(&input.mode));
    }
    let entry_rule = EntryRule::parse(input.entry_rule.trim());
    if entry_rule.is_none() {
        push("entry_rule", choice(&input.entry_rule));
    }
    let earliest = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(today);
    let latest = today + chrono::Duration::days(3 * 366);
    let mut instant = |field: &'static str, typed: &str| {
        if typed.trim().is_empty() {
            push(field, Problem::Required);
            return None;
        }
        let Some(local) = crate::event::parse_local(typed) else {
            push(field, Problem::InvalidDate);
            return None;
        };
        if local.date() < earliest || local.date() > latest {
            push(field, Problem::DateOutOfRange);
            return None;
        }
        crate::event::tokyo_instant(local.date(), local.time())
    };
    let opens = instant("entry_opens_at", &input.entry_opens_at);
    let closes = instant("entry_closes_at", &input.entry_closes_at);
    let ranks = instant("ranks_close_at", &input.ranks_close_at);
    let mut limit = |field: &'static str, typed: &str| {
        let n = crate::event::half_width(typed.trim())
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=RANKS_MAX).contains(n));
        if n.is_none() {
            push(
                field,
                if typed.trim().is_empty() {
                    Problem::Required
                } else {
                    Problem::OutOfRange {
                        min: 1,
                        max: RANKS_MAX as usize,
                    }
                },
            );
        }
        n
    };
    let talent_limit = limit("talent_rank_limit", &input.talent_rank_limit);
    let host_limit = limit("host_rank_limit", &input.host_rank_limit);
    let dates = match (opens, closes, ranks) {
        (Some(entry_opens_at), Some(entry_closes_at), Some(ranks_close_at)) => RoundDates {
            entry_opens_at,
            entry_closes_at,
            ranks_close_at,
        }
        .check()
        .map_err(|e| errors.push(e))
        .ok(),
        _ => None,
    };
    match (program, mode, entry_rule, dates, talent_limit, host_limit) {
        (
            Some(program),
            Some(mode),
            Some(entry_rule),
            Some(dates),
            Some(talent_limit),
            Some(host_limit),
        ) if errors.is_empty() => Ok(RoundFields {
            program,
            title: crate::locale::Localized {
                en: if title_en.is_empty() {
                    title.clone()
                } else {
                    title_en
                },
                ja: title,
            },
            mode,
            entry_rule,
            dates,
            talent_limit,
            host_limit,
            interim_on: input.interim_on.is_some(),
        }),
        _ => Err(errors),
    }
}

/// Seats typed for one project of a round: blank means the project is not in it.
pub fn seats_from_text(typed: &str) -> Result<Option<u32>, Problem> {
    let t = crate::event::half_width(typed.trim());
    if t.is_empty() {
        return Ok(None);
    }
    match t.parse::<u32>() {
        Ok(0) => Ok(None),
        Ok(n) if n <= SEATS_MAX => Ok(Some(n)),
        _ => Err(Problem::OutOfRange {
            min: 0,
            max: SEATS_MAX as usize,
        }),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 2, 1, h, 0, 0).unwrap()
    }

    fn dates() -> RoundDates {
        RoundDates {
            entry_opens_at: at(1),
            entry_closes_at: at(5),
            ranks_close_at: at(9),
        }
    }

    #[test]
    fn the_round_moves_forward_and_never_unpublishes() {
        use RoundStatus::*;
        assert!(Draft.can_become(Open));
        assert!(Open.can_become(Closed));
        assert!(Closed.can_become(Open));
        assert!(Closed.can_become(Published));
        assert!(Published.can_become(SecondPhase));
        assert!(SecondPhase.can_become(Finished));
        assert!(!Published.can_become(Closed));
        assert!(!Published.can_become(Open));
        assert!(!Draft.can_become(Published));
        assert!(!Finished.can_become(Open));
        for s in RoundStatus::ALL {
            assert_eq!(RoundStatus::parse(s.code()), Some(*s));
        }
    }

    #[test]
    fn dates_in_order_or_the_field_out_of_order_is_named() {
        assert!(dates().check().is_ok());
        let mut d = dates();
        d.entry_closes_at = at(1);
        assert_eq!(d.check().unwrap_err().field, "entry_closes_at");
        let mut d = dates();
        d.ranks_close_at = at(4);
        assert_eq!(d.check().unwrap_err().field, "ranks_close_at");
    }

    #[test]
    fn phases_follow_the_dates_while_open() {
        use RoundPhase::*;
        let open = RoundStatus::Open;
        assert_eq!(RoundPhase::at(open, dates(), at(0)), NotYet);
        assert_eq!(RoundPhase::at(open, dates(), at(1)), Entry);
        assert_eq!(RoundPhase::at(open, dates(), at(5)), Ranking);
        assert_eq!(RoundPhase::at(open, dates(), at(9)), ListsClosed);
        assert_eq!(RoundPhase::at(RoundStatus::Draft, dates(), at(3)), NotYet);
        assert_eq!(
            RoundPhase::at(RoundStatus::Closed, dates(), at(3)),
            ListsClosed
        );
        assert!(Entry.may_enter() && Entry.may_rank());
        assert!(!Ranking.may_enter() && Ranking.may_rank());
        assert!(!ListsClosed.may_rank());
    }

    #[test]
    fn who_may_enter() {
        use EntryRefusal::*;
        let member = EntrantFacts {
            member: true,
            ..EntrantFacts::default()
        };
        let attendee = EntrantFacts {
            attended_fieldwork: true,
            ..member
        };
        let invited = EntrantFacts {
            invited: true,
            ..member
        };
        let m = EntryRule::Members;
        let i = EntryRule::Invited;
        assert_eq!(
            may_enter(m, FieldworkRule::Open, EntrantFacts::default()),
            Err(NotMember)
        );
        assert_eq!(
            may_enter(
                m,
                FieldworkRule::Open,
                EntrantFacts {
                    member: false,
                    ..invited
                }
            ),
            Err(NotMember)
        );
        assert_eq!(may_enter(m, FieldworkRule::Open, member), Ok(()));
        assert_eq!(may_enter(m, FieldworkRule::Preferred, member), Ok(()));
        assert_eq!(
            may_enter(m, FieldworkRule::Required, member),
            Err(FieldworkRequired)
        );
        assert_eq!(may_enter(m, FieldworkRule::Required, attendee), Ok(()));
        assert_eq!(may_enter(m, FieldworkRule::Required, invited), Ok(()));
        assert_eq!(may_enter(i, FieldworkRule::Open, member), Err(NotInvited));
        assert_eq!(may_enter(i, FieldworkRule::Open, invited), Ok(()));
        // Attending the field work is an invitation, except where the rule ignores it.
        assert_eq!(may_enter(i, FieldworkRule::Preferred, attendee), Ok(()));
        assert_eq!(may_enter(i, FieldworkRule::Open, attendee), Err(NotInvited));
    }

    #[test]
    fn a_ranking_is_checked_against_the_round_and_the_limit() {
        let in_round: HashSet<u32> = [1, 2, 3, 4].into_iter().collect();
        assert_eq!(check_ranking(&[3, 1], &in_round, 2), Ok(()));
        assert_eq!(check_ranking::<u32>(&[], &in_round, 2), Ok(()));
        assert_eq!(
            check_ranking(&[3, 1, 2], &in_round, 2),
            Err(RankingProblem::TooMany { max: 2 })
        );
        assert_eq!(
            check_ranking(&[3, 3], &in_round, 5),
            Err(RankingProblem::Twice(3))
        );
        assert_eq!(
            check_ranking(&[9], &in_round, 5),
            Err(RankingProblem::NotInRound(9))
        );
    }

    #[test]
    fn numbers_typed_beside_choices_give_the_order() {
        assert_eq!(
            ranking_from_numbers(&[(10, "2"), (11, ""), (12, " 1 "), (13, "５")]),
            Ok(vec![12, 10, 13])
        );
        assert_eq!(
            ranking_from_numbers(&[(10, "1"), (11, "1")]),
            Err((11, Problem::Taken))
        );
        for bad in ["0", "-1", "1.5", "x", "101"] {
            assert!(
                matches!(
                    ranking_from_numbers(&[(10, bad)]),
                    Err((10, Problem::OutOfRange { .. }))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_review_summary() {
        let s = ResultSummary::of(
            &[Some(1), Some(1), Some(2), Some(3), Some(5), None],
            8,
            2,
            // The second project was given more talents than seats: none open there.
            &[(4, 3), (1, 2), (3, 1)],
        );
        assert_eq!(
            s,
            ResultSummary {
                talents: 8,
                projects: 3,
                matched: 6,
                unmatched: 2,
                first_choice: 2,
                second_choice: 1,
                third_choice: 1,
                later_choice: 1,
                seats: 8,
                open_seats: 3,
            }
        );
    }

    #[test]
    fn a_reason_is_required_and_bounded() {
        assert_eq!(
            adjustment_reason("  ").unwrap_err().problem,
            Problem::Required
        );
        assert_eq!(
            adjustment_reason(&"あ".repeat(REASON_MAX + 1))
                .unwrap_err()
                .problem,
            Problem::TooLong { max: REASON_MAX }
        );
        assert_eq!(
            adjustment_reason(" 面談で\u{7}合意 ").unwrap(),
            "面談で合意"
        );
    }

    #[test]
    fn both_confirm_or_one_declines() {
        use Answer::*;
        use MatchStatus as M;
        assert_eq!(MatchStatus::from_answers(None, None), M::Proposed);
        assert_eq!(
            MatchStatus::from_answers(Some(Confirmed), None),
            M::Proposed
        );
        assert_eq!(
            MatchStatus::from_answers(Some(Confirmed), Some(Confirmed)),
            M::Confirmed
        );
        assert_eq!(
            MatchStatus::from_answers(Some(Confirmed), Some(Declined)),
            M::Declined
        );
        assert_eq!(MatchStatus::from_answers(Some(Declined), None), M::Declined);
    }

    #[test]
    fn offer_rounds_run_one_after_another() {
        let r = OfferRounds {
            started_at: at(10),
            rounds: 3,
            minutes: 60,
        };
        assert_eq!(r.current(at(9)), None);
        assert_eq!(r.current(at(10)), Some(1));
        assert_eq!(r.current(at(11)), Some(2));
        assert_eq!(r.current(at(12)), Some(3));
        assert_eq!(r.current(at(13)), None);
        assert_eq!(r.ends_at(), at(13));
    }

    fn input() -> RoundInput {
        RoundInput {
            program: "3".into(),
            title: "マッチング 2026".into(),
            mode: "engine".into(),
            entry_rule: "members".into(),
            entry_opens_at: "2026-02-01T09:00".into(),
            entry_closes_at: "２０２６-02-10T17:00".into(),
            ranks_close_at: "2026/02/20 17:00".into(),
            talent_rank_limit: "5".into(),
            host_rank_limit: "１０".into(),
            ..RoundInput::default()
        }
    }

    #[test]
    fn a_round_form_is_checked_field_by_field() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 20).unwrap();
        let f = check_round(&input(), today).unwrap();
        assert_eq!(f.title.en, "マッチング 2026");
        assert_eq!(f.host_limit, 10);
        assert_eq!(
            f.dates.entry_opens_at.to_rfc3339(),
            "2026-02-01T00:00:00+00:00"
        );
        assert!(!f.interim_on);
        let mut bad = input();
        bad.ranks_close_at = "2026-02-09T17:00".into();
        bad.talent_rank_limit = "0".into();
        bad.mode = "lottery".into();
        bad.title = " ".into();
        let fields: Vec<&str> = check_round(&bad, today)
            .unwrap_err()
            .iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            ["title", "mode", "talent_rank_limit", "ranks_close_at"]
        );
        let mut far = input();
        far.entry_opens_at = "1999-12-31T09:00".into();
        assert_eq!(
            check_round(&far, today).unwrap_err()[0].field,
            "entry_opens_at"
        );
    }

    #[test]
    fn seats_are_blank_or_a_small_number() {
        assert_eq!(seats_from_text(""), Ok(None));
        assert_eq!(seats_from_text("0"), Ok(None));
        assert_eq!(seats_from_text("３"), Ok(Some(3)));
        assert!(seats_from_text("51").is_err());
        assert!(seats_from_text("-1").is_err());
    }
}
