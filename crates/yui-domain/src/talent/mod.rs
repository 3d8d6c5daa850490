//! Talent (複業人材): one profile per account, across every region they join. The
//! rules here have no I/O: what a profile may hold, checked field by field.

mod facets;
mod interest;
mod prefecture;
pub(crate) mod profile;
mod skill;

pub use facets::{kind_mask, search_text, skill_mask, tie_mask};
pub use interest::{Industry, ProjectKind};
pub use prefecture::Prefecture;
pub use profile::{
    Compensation, HOURS_PER_MONTH_MAX, ProfileInput, RegionTie, SUMMARY_MAX, SideJobPermission,
    TAG_MAX, TAGS_MAX, TIES_MAX, TalentProfile, Tie, WorkStyle, check_profile,
};
pub use skill::Skill;
