//! What a talent is interested in: industries, and the two kinds of project the
//! seeds describe (ビジネスマッチング型 and ファンコミュニティ型).

use serde::{Deserialize, Serialize};

use crate::Locale;

/// An industry, after the major divisions of the Japan Standard Industrial
/// Classification (日本標準産業分類 大分類), merged where a region's projects do
/// not tell them apart. Hosts name their industry with the same codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Industry {
    Agriculture,
    Fisheries,
    Construction,
    Manufacturing,
    Information,
    Transport,
    Retail,
    Finance,
    RealEstate,
    Professional,
    Hospitality,
    Lifestyle,
    Education,
    Healthcare,
    Public,
    Other,
}

/// A project's kind: a business matched with a professional, or a community of fans
/// of the region who help it (the seeds' two program types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectKind {
    /// ビジネスマッチング型.
    Business,
    /// ファンコミュニティ型.
    FanCommunity,
}

macro_rules! named_codes {
    ($ty:ident { $($variant:ident => ($code:literal, $ja:literal, $en:literal)),+ $(,)? }) => {
        impl $ty {
            /// Every value, in the order pages list them.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The stored (and form) code.
            pub fn code(self) -> &'static str {
                match self {
                    $($ty::$variant => $code),+
                }
            }

            pub fn parse(code: &str) -> Option<$ty> {
                Self::ALL.iter().copied().find(|v| v.code() == code)
            }

            pub fn name(self, locale: Locale) -> &'static str {
                let (ja, en) = match self {
                    $($ty::$variant => ($ja, $en)),+
                };
                match locale {
                    Locale::Ja => ja,
                    Locale::En => en,
                }
            }
        }
    };
}

named_codes!(Industry {
    Agriculture => ("agriculture", "農業・林業", "Agriculture and forestry"),
    Fisheries => ("fisheries", "漁業・水産業", "Fisheries"),
    Construction => ("construction", "建設業", "Construction"),
    Manufacturing => ("manufacturing", "製造業（食品・工芸を含む）", "Manufacturing (food and crafts included)"),
    Information => ("information", "情報通信業", "Information and communications"),
    Transport => ("transport", "運輸業", "Transport"),
    Retail => ("retail", "卸売業・小売業", "Wholesale and retail"),
    Finance => ("finance", "金融業・保険業", "Finance and insurance"),
    RealEstate => ("real_estate", "不動産業", "Real estate"),
    Professional => ("professional", "専門・技術サービス業", "Professional services"),
    Hospitality => ("hospitality", "宿泊業・飲食サービス業", "Accommodation and food service"),
    Lifestyle => ("lifestyle", "生活関連サービス業・娯楽業", "Lifestyle services and leisure"),
    Education => ("education", "教育・学習支援業", "Education and learning support"),
    Healthcare => ("healthcare", "医療・福祉", "Healthcare and welfare"),
    Public => ("public", "公務・地域団体", "Public sector and community organizations"),
    Other => ("other", "その他", "Other"),
});

named_codes!(ProjectKind {
    Business => ("business", "ビジネスマッチング型", "Business matching"),
    FanCommunity => ("fan_community", "ファンコミュニティ型", "Fan community"),
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for i in Industry::ALL {
            assert_eq!(Industry::parse(i.code()), Some(*i));
            assert!(!i.name(Locale::Ja).is_empty() && !i.name(Locale::En).is_empty());
        }
        for k in ProjectKind::ALL {
            assert_eq!(ProjectKind::parse(k.code()), Some(*k));
        }
        assert_eq!(ProjectKind::FanCommunity.code(), "fan_community");
        assert_eq!(Industry::parse("農業"), None);
    }
}
