//! Applications (talent → project): the proposal (提案書) checked field by field, and
//! the state machine of who may move an application where. No I/O.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::account::{FieldError, Problem, one_line};

/// The longest proposal text (what, how).
pub const PROPOSAL_MAX: usize = 4000;
/// The longest "how often" line.
pub const FREQUENCY_MAX: usize = 200;
/// The longest message of a thread.
pub const MESSAGE_MAX: usize = 4000;

/// Where the talent proposes to work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkFormat {
    Online,
    Onsite,
    Both,
}

impl WorkFormat {
    pub const ALL: [WorkFormat; 3] = [WorkFormat::Online, WorkFormat::Onsite, WorkFormat::Both];

    pub fn code(self) -> &'static str {
        match self {
            WorkFormat::Online => "online",
            WorkFormat::Onsite => "onsite",
            WorkFormat::Both => "both",
        }
    }

    pub fn parse(code: &str) -> Option<WorkFormat> {
        Self::ALL.into_iter().find(|f| f.code() == code)
    }
}

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    Submitted,
    InReview,
    Meeting,
    Accepted,
    Declined,
    Withdrawn,
}

/// Who moves an application: its talent, or the project's side (the host's
/// members and the tenant's coordinators).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Talent,
    Reviewer,
}

impl ApplicationStatus {
    pub const ALL: [ApplicationStatus; 6] = [
        ApplicationStatus::Submitted,
        ApplicationStatus::InReview,
        ApplicationStatus::Meeting,
        ApplicationStatus::Accepted,
        ApplicationStatus::Declined,
        ApplicationStatus::Withdrawn,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ApplicationStatus::Submitted => "submitted",
            ApplicationStatus::InReview => "in_review",
            ApplicationStatus::Meeting => "meeting",
            ApplicationStatus::Accepted => "accepted",
            ApplicationStatus::Declined => "declined",
            ApplicationStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(code: &str) -> Option<ApplicationStatus> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Whether the application is still under way (holds the person's one live
    /// application to the project).
    pub fn is_live(self) -> bool {
        !matches!(
            self,
            ApplicationStatus::Declined | ApplicationStatus::Withdrawn
        )
    }

    /// Whether `side` may move an application from this status to `to`: the talent
    /// withdraws while it is live and not yet accepted; the project's side reviews
    /// it, meets the talent, and accepts or declines.
    pub fn can_become(self, to: ApplicationStatus, side: Side) -> bool {
        use ApplicationStatus::*;
        match side {
            Side::Talent => matches!((self, to), (Submitted | InReview | Meeting, Withdrawn)),
            Side::Reviewer => matches!(
                (self, to),
                (Submitted, InReview)
                    | (Submitted | InReview, Meeting)
                    | (InReview | Meeting, Accepted)
                    | (Submitted | InReview | Meeting, Declined)
            ),
        }
    }

    /// The moves `side` is offered from here, in the order pages show them.
    pub fn next(self, side: Side) -> Vec<ApplicationStatus> {
        Self::ALL
            .into_iter()
            .filter(|to| self.can_become(*to, side))
            .collect()
    }
}

/// The proposal form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProposalInput {
    #[serde(default)]
    pub proposal: String,
    #[serde(default)]
    pub approach: String,
    #[serde(default)]
    pub frequency: String,
    #[serde(default)]
    pub format: String,
}

/// A checked proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Proposal {
    /// What the talent proposes to do.
    pub proposal: String,
    /// How they would go about it.
    pub approach: String,
    /// How often (e.g. 「月2回、週末」).
    pub frequency: String,
    pub format: WorkFormat,
}

fn text(errors: &mut Vec<FieldError>, field: &'static str, value: &str, max: usize) -> String {
    let v = value.trim().replace("\r\n", "\n");
    if v.is_empty() {
        errors.push(FieldError {
            field,
            problem: Problem::Required,
        });
    } else if v.chars().count() > max {
        errors.push(FieldError {
            field,
            problem: Problem::TooLong { max },
        });
    }
    v
}

/// Checks a proposal: every problem at once, each naming its field.
pub fn check_proposal(input: &ProposalInput) -> Result<Proposal, Vec<FieldError>> {
    let mut errors = Vec::new();
    let proposal = text(&mut errors, "proposal", &input.proposal, PROPOSAL_MAX);
    let approach = text(&mut errors, "approach", &input.approach, PROPOSAL_MAX);
    let frequency = text(
        &mut errors,
        "frequency",
        &one_line(&input.frequency),
        FREQUENCY_MAX,
    );
    let format = WorkFormat::parse(input.format.trim());
    if format.is_none() {
        errors.push(FieldError {
            field: "format",
            problem: if input.format.trim().is_empty() {
                Problem::Required
            } else {
                Problem::InvalidChoice
            },
        });
    }
    match format {
        Some(format) if errors.is_empty() => Ok(Proposal {
            proposal,
            approach,
            frequency,
            format,
        }),
        _ => Err(errors),
    }
}

/// Checks a message of a thread.
pub fn check_message(body: &str) -> Result<String, FieldError> {
    let mut errors = Vec::new();
    let v = text(&mut errors, "body", body, MESSAGE_MAX);
    match errors.pop() {
        Some(e) => Err(e),
        None => Ok(v),
    }
}

/// When the digest that tells of a message written at `at` is due: the top of the
/// next hour, so a person gets at most one digest mail an hour however many
/// messages arrive.
pub fn digest_due(at: DateTime<Utc>) -> DateTime<Utc> {
    let hour = TimeDelta::hours(1);
    at.duration_trunc(hour).unwrap_or(at) + hour
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn proposal_names_every_bad_field() {
        let errors = check_proposal(&ProposalInput::default()).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["proposal", "approach", "frequency", "format"]);
        let errors = check_proposal(&ProposalInput {
            proposal: "x".repeat(PROPOSAL_MAX + 1),
            approach: "オンラインで".into(),
            frequency: "月2回".into(),
            format: "moon".into(),
        })
        .unwrap_err();
        assert_eq!(
            errors,
            [
                FieldError {
                    field: "proposal",
                    problem: Problem::TooLong { max: PROPOSAL_MAX }
                },
                FieldError {
                    field: "format",
                    problem: Problem::InvalidChoice
                }
            ]
        );
        let ok = check_proposal(&ProposalInput {
            proposal: " SNSの発信を立て直す ".into(),
            approach: "週1のオンライン会議".into(),
            frequency: "月2回\n".into(),
            format: "both".into(),
        })
        .unwrap();
        assert_eq!(ok.proposal, "SNSの発信を立て直す");
        assert_eq!(ok.frequency, "月2回");
        assert_eq!(ok.format, WorkFormat::Both);
    }

    #[test]
    fn who_moves_where() {
        use ApplicationStatus::*;
        assert!(Submitted.can_become(Withdrawn, Side::Talent));
        assert!(Meeting.can_become(Withdrawn, Side::Talent));
        assert!(!Accepted.can_become(Withdrawn, Side::Talent));
        assert!(!Submitted.can_become(InReview, Side::Talent));
        assert!(!Submitted.can_become(Withdrawn, Side::Reviewer));
        assert!(Submitted.can_become(InReview, Side::Reviewer));
        assert!(InReview.can_become(Meeting, Side::Reviewer));
        assert!(Meeting.can_become(Accepted, Side::Reviewer));
        assert!(!Submitted.can_become(Accepted, Side::Reviewer));
        assert!(!Declined.can_become(InReview, Side::Reviewer));
        assert!(!Withdrawn.can_become(Submitted, Side::Reviewer));
        assert_eq!(Meeting.next(Side::Reviewer), [Accepted, Declined]);
        for s in ApplicationStatus::ALL {
            assert_eq!(ApplicationStatus::parse(s.code()), Some(s));
        }
        assert!(!Declined.is_live() && !Withdrawn.is_live() && Accepted.is_live());
    }

    #[test]
    fn digest_is_due_at_the_next_hour() {
        let at = Utc.with_ymd_and_hms(2026, 11, 30, 9, 59, 59).unwrap();
        assert_eq!(
            digest_due(at),
            Utc.with_ymd_and_hms(2026, 11, 30, 10, 0, 0).unwrap()
        );
        let at = Utc.with_ymd_and_hms(2026, 11, 30, 10, 0, 0).unwrap();
        assert_eq!(
            digest_due(at),
            Utc.with_ymd_and_hms(2026, 11, 30, 11, 0, 0).unwrap()
        );
    }
}
