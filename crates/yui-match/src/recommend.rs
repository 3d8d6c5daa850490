//! Recommendations: the projects that suit a talent, the talents that suit a project.
//!
//! The score is documented because it is shown: every point comes with the reason a
//! page prints beside the suggestion.
//!
//! | reason | points |
//! |---|---|
//! | each skill the project wants that the talent has | 10 |
//! | the talent is interested in the project's kind (business / fan community) | 3 |
//! | the talent's hours per month cover what the project asks | 2 |
//! | the talent has a tie to the project's prefecture (出身, 居住歴, ゆかり, ファン) | 2 |
//! | the talent's work style fits the project's remote share | 1 |
//!
//! A pair is suggested only with at least one shared skill or a tie to the region: kind,
//! hours and work style alone say nothing about the work. Equal scores are ordered by
//! id, so the same data always gives the same list.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Points per reason (see the module's table).
pub const POINTS_PER_SKILL: u32 = 10;
pub const POINTS_KIND: u32 = 3;
pub const POINTS_HOURS: u32 = 2;
pub const POINTS_TIE: u32 = 2;
pub const POINTS_WORK_STYLE: u32 = 1;

/// How a talent would work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Remote,
    Onsite,
    Either,
}

/// What the score reads of a talent. Sets are bit masks: skills by the taxonomy's
/// index, project kinds by their index, prefectures by JIS number (bit 1 = Hokkaido).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TalentSide {
    pub id: i64,
    pub skills: u64,
    pub kinds: u8,
    pub hours_per_month: Option<u16>,
    pub style: Style,
    pub ties: u64,
}

/// What the score reads of a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProjectSide {
    pub id: i64,
    pub skills: u64,
    /// The kind as a one-bit mask.
    pub kind: u8,
    pub hours_per_month: Option<u16>,
    /// Share of the work done remotely, 0–100.
    pub remote_percent: u8,
    /// The prefecture (JIS number) where the project is.
    pub prefecture: u8,
}

/// Why a pair scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The skills both have, as a mask.
    Skills(u64),
    Kind,
    Hours,
    Tie,
    WorkStyle,
}

/// A pair's score and its reasons, in the table's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Score {
    pub points: u32,
    pub reasons: Vec<Reason>,
}

/// The score of one pair, or `None` when it is not worth suggesting.
pub fn score(talent: &TalentSide, project: &ProjectSide) -> Option<Score> {
    let mut points = 0;
    let mut reasons = Vec::new();
    let shared = talent.skills & project.skills;
    let tie = project.prefecture < 64 && talent.ties & (1 << project.prefecture) != 0;
    if shared == 0 && !tie {
        return None;
    }
    if shared != 0 {
        points += POINTS_PER_SKILL * shared.count_ones();
        reasons.push(Reason::Skills(shared));
    }
    if talent.kinds & project.kind != 0 {
        points += POINTS_KIND;
        reasons.push(Reason::Kind);
    }
    if let (Some(has), Some(wants)) = (talent.hours_per_month, project.hours_per_month)
        && has >= wants
    {
        points += POINTS_HOURS;
        reasons.push(Reason::Hours);
    }
    if tie {
        points += POINTS_TIE;
        reasons.push(Reason::Tie);
    }
    let fits = match talent.style {
        Style::Either => true,
        Style::Remote => project.remote_percent >= 50,
        Style::Onsite => project.remote_percent <= 50,
    };
    if fits {
        points += POINTS_WORK_STYLE;
        reasons.push(Reason::WorkStyle);
    }
    Some(Score { points, reasons })
}

/// The `k` best of `candidates` by `score`, best first, equal scores by ascending id.
/// Keeps only `k` entries while it reads, so a long candidate list costs no memory.
pub fn top_k<C>(
    candidates: impl IntoIterator<Item = C>,
    k: usize,
    id: impl Fn(&C) -> i64,
    score: impl Fn(&C) -> Option<Score>,
) -> Vec<(C, Score)> {
    if k == 0 {
        return Vec::new();
    }
    // A min-heap on (points, Reverse(id)): its top is the entry to drop first.
    struct Entry<C>(u32, Reverse<i64>, C, Score);
    impl<C> PartialEq for Entry<C> {
        fn eq(&self, other: &Self) -> bool {
            (self.0, self.1) == (other.0, other.1)
        }
    }
    impl<C> Eq for Entry<C> {}
    impl<C> PartialOrd for Entry<C> {
        fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }
    impl<C> Ord for Entry<C> {
        fn cmp(&self, other: &Self) -> std::cmp::Ordering {
            (self.0, self.1).cmp(&(other.0, other.1))
        }
    }
    let mut heap: BinaryHeap<Reverse<Entry<C>>> = BinaryHeap::with_capacity(k + 1);
    for c in candidates {
        let Some(s) = score(&c) else { continue };
        let entry = Entry(s.points, Reverse(id(&c)), c, s);
        if heap.len() < k {
            heap.push(Reverse(entry));
        } else if heap.peek().is_some_and(|Reverse(worst)| entry > *worst) {
            heap.pop();
            heap.push(Reverse(entry));
        }
    }
    let mut best: Vec<Entry<C>> = heap.into_iter().map(|Reverse(e)| e).collect();
    best.sort_unstable_by(|a, b| b.cmp(a));
    best.into_iter().map(|Entry(_, _, c, s)| (c, s)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn talent(id: i64, skills: u64) -> TalentSide {
        TalentSide {
            id,
            skills,
            kinds: 0,
            hours_per_month: None,
            style: Style::Onsite,
            ties: 0,
        }
    }

    fn project(skills: u64) -> ProjectSide {
        ProjectSide {
            id: 1,
            skills,
            kind: 0b01,
            hours_per_month: Some(10),
            remote_percent: 80,
            prefecture: 3,
        }
    }

    #[test]
    fn every_point_has_its_reason() {
        let t = TalentSide {
            id: 7,
            skills: 0b111,
            kinds: 0b11,
            hours_per_month: Some(20),
            style: Style::Remote,
            ties: 1 << 3,
        };
        let s = score(&t, &project(0b110)).unwrap();
        assert_eq!(s.points, 2 * POINTS_PER_SKILL + 3 + 2 + 2 + 1);
        assert_eq!(
            s.reasons,
            [
                Reason::Skills(0b110),
                Reason::Kind,
                Reason::Hours,
                Reason::Tie,
                Reason::WorkStyle
            ]
        );
    }

    #[test]
    fn nothing_in_common_is_not_suggested() {
        assert_eq!(score(&talent(1, 0b1000), &project(0b0111)), None);
        // A tie to the region alone is enough.
        let mut t = talent(1, 0);
        t.ties = 1 << 3;
        assert_eq!(score(&t, &project(0b1)).unwrap().reasons, [Reason::Tie]);
    }

    #[test]
    fn the_best_come_first_and_ties_by_id() {
        let p = project(0b11);
        let talents = [
            talent(5, 0b01),
            talent(3, 0b11),
            talent(4, 0b01),
            talent(9, 0b100),
            talent(2, 0b10),
        ];
        let best = top_k(talents, 3, |t| t.id, |t| score(t, &p));
        let ids: Vec<i64> = best.iter().map(|(t, _)| t.id).collect();
        assert_eq!(ids, [3, 2, 4]);
        assert!(top_k(talents, 0, |t| t.id, |t| score(t, &p)).is_empty());
        assert_eq!(top_k(talents, 10, |t| t.id, |t| score(t, &p)).len(), 4);
    }
}
