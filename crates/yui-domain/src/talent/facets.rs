//! What search and recommendations read of a profile: its searchable text, and bit
//! masks of its lists for the score of `yui_match::recommend` (skills by their place
//! in the taxonomy, project kinds by theirs, tie prefectures by JIS number). The store
//! writes both in the transaction that saves the profile, so they never drift.

use super::{ProjectKind, Skill, TalentProfile, Tie};
use crate::Locale;

/// The bit of each value's place in `all`.
fn mask_of<T: PartialEq + Copy>(all: &[T], values: &[T]) -> i64 {
    values
        .iter()
        .filter_map(|v| all.iter().position(|a| a == v))
        .fold(0, |m, i| m | 1 << i)
}

/// Skills as a mask: bit *i* is `Skill::ALL[i]`.
pub fn skill_mask(skills: &[Skill]) -> i64 {
    mask_of(&Skill::ALL, skills)
}

/// Project kinds as a mask: bit *i* is `ProjectKind::ALL[i]`.
pub fn kind_mask(kinds: &[ProjectKind]) -> i64 {
    mask_of(ProjectKind::ALL, kinds)
}

/// Prefectures tied to as a mask: bit *n* is the prefecture with JIS number *n*.
pub fn tie_mask(ties: &[Tie]) -> i64 {
    ties.iter().fold(0, |m, t| m | 1 << t.prefecture.code())
}

/// The text a coordinator's search finds a profile by: name and reading, skills in
/// both languages, industries of interest, tags and the summary.
pub fn search_text(profile: &TalentProfile) -> String {
    let mut parts: Vec<&str> = vec![&profile.display_name, &profile.kana];
    for skill in &profile.skills {
        parts.push(skill.name(Locale::Ja));
        parts.push(skill.name(Locale::En));
    }
    for industry in &profile.industries {
        parts.push(industry.name(Locale::Ja));
    }
    parts.extend(profile.tags.iter().map(String::as_str));
    parts.push(&profile.summary);
    parts.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::talent::{Prefecture, RegionTie};

    #[test]
    fn masks_follow_the_lists() {
        assert_eq!(skill_mask(&[Skill::Sns, Skill::Pr]), 0b11);
        assert_eq!(skill_mask(&[Skill::Education]), 1 << 19);
        assert_eq!(kind_mask(&[ProjectKind::FanCommunity]), 0b10);
        let iwate = Prefecture::parse("03").unwrap();
        let tie = Tie {
            prefecture: iwate,
            kind: RegionTie::Hometown,
        };
        assert_eq!(tie_mask(&[tie, tie]), 1 << 3);
    }
}
