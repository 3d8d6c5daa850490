//! The 47 prefectures by their JIS X 0401 codes (01 北海道 … 47 沖縄県): where a talent
//! lives, and the first two digits of every local-government code.

use crate::Locale;

/// A prefecture, by its JIS X 0401 code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Prefecture(u8);

/// (Japanese, English) names, in code order.
const NAMES: [(&str, &str); 47] = [
    ("北海道", "Hokkaido"),
    ("青森県", "Aomori"),
    ("岩手県", "Iwate"),
    ("宮城県", "Miyagi"),
    ("秋田県", "Akita"),
    ("山形県", "Yamagata"),
    ("福島県", "Fukushima"),
    ("茨城県", "Ibaraki"),
    ("栃木県", "Tochigi"),
    ("群馬県", "Gunma"),
    ("埼玉県", "Saitama"),
    ("千葉県", "Chiba"),
    ("東京都", "Tokyo"),
    ("神奈川県", "Kanagawa"),
    ("新潟県", "Niigata"),
    ("富山県", "Toyama"),
    ("石川県", "Ishikawa"),
    ("福井県", "Fukui"),
    ("山梨県", "Yamanashi"),
    ("長野県", "Nagano"),
    ("岐阜県", "Gifu"),
    ("静岡県", "Shizuoka"),
    ("愛知県", "Aichi"),
    ("三重県", "Mie"),
    ("滋賀県", "Shiga"),
    ("京都府", "Kyoto"),
    ("大阪府", "Osaka"),
    ("兵庫県", "Hyogo"),
    ("奈良県", "Nara"),
    ("和歌山県", "Wakayama"),
    ("鳥取県", "Tottori"),
    ("島根県", "Shimane"),
    ("岡山県", "Okayama"),
    ("広島県", "Hiroshima"),
    ("山口県", "Yamaguchi"),
    ("徳島県", "Tokushima"),
    ("香川県", "Kagawa"),
    ("愛媛県", "Ehime"),
    ("高知県", "Kochi"),
    ("福岡県", "Fukuoka"),
    ("佐賀県", "Saga"),
    ("長崎県", "Nagasaki"),
    ("熊本県", "Kumamoto"),
    ("大分県", "Oita"),
    ("宮崎県", "Miyazaki"),
    ("鹿児島県", "Kagoshima"),
    ("沖縄県", "Okinawa"),
];

impl Prefecture {
    /// The prefecture with JIS code `code` (1–47).
    pub fn new(code: u8) -> Option<Prefecture> {
        (1..=47).contains(&code).then_some(Prefecture(code))
    }

    /// From a form or a stored value: "03" or "3".
    pub fn parse(text: &str) -> Option<Prefecture> {
        let text = text.trim();
        if text.is_empty() || text.len() > 2 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        text.parse().ok().and_then(Prefecture::new)
    }

    /// Every prefecture, in code order (as pages list them).
    pub fn all() -> impl Iterator<Item = Prefecture> {
        (1..=47).map(Prefecture)
    }

    /// The JIS code, 1–47.
    pub fn code(self) -> u8 {
        self.0
    }

    /// The two-digit code ("03"), as local-government codes begin.
    pub fn code_text(self) -> String {
        format!("{:02}", self.0)
    }

    pub fn name(self, locale: Locale) -> &'static str {
        let (ja, en) = NAMES[usize::from(self.0 - 1)];
        match locale {
            Locale::Ja => ja,
            Locale::En => en,
        }
    }
}

/// As its two-digit code ("03"), the form local-government codes begin with.
impl serde::Serialize for Prefecture {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.code_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names() {
        assert_eq!(Prefecture::all().count(), 47);
        let iwate = Prefecture::parse("03").unwrap();
        assert_eq!(iwate.name(Locale::Ja), "岩手県");
        assert_eq!(iwate.name(Locale::En), "Iwate");
        assert_eq!(iwate.code_text(), "03");
        assert_eq!(
            Prefecture::parse("46").unwrap().name(Locale::Ja),
            "鹿児島県"
        );
        assert_eq!(Prefecture::parse("13").unwrap().name(Locale::Ja), "東京都");
        for bad in ["", "0", "00", "48", "99", "-1", "３", "1a", "003"] {
            assert_eq!(Prefecture::parse(bad), None, "{bad:?}");
        }
    }
}
