//! The curated skill taxonomy a talent chooses from (free tags come beside it). The
//! codes are stable: they are stored and searched; the names are what people read.

use serde::{Deserialize, Serialize};

use crate::Locale;

/// A skill of the taxonomy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Skill {
    Sns,
    Pr,
    Branding,
    Design,
    PhotoVideo,
    Web,
    Ec,
    Marketing,
    Sales,
    ProductDevelopment,
    Tourism,
    Events,
    Community,
    ItDx,
    Finance,
    Succession,
    Hr,
    Translation,
    Agriculture,
    Education,
}

impl Skill {
    /// Every skill, in the order pages list them.
    pub const ALL: [Skill; 20] = [
        Skill::Sns,
        Skill::Pr,
        Skill::Branding,
        Skill::Design,
        Skill::PhotoVideo,
        Skill::Web,
        Skill::Ec,
        Skill::Marketing,
        Skill::Sales,
        Skill::ProductDevelopment,
        Skill::Tourism,
        Skill::Events,
        Skill::Community,
        Skill::ItDx,
        Skill::Finance,
        Skill::Succession,
        Skill::Hr,
        Skill::Translation,
        Skill::Agriculture,
        Skill::Education,
    ];

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Skill::Sns => "sns",
            Skill::Pr => "pr",
            Skill::Branding => "branding",
            Skill::Design => "design",
            Skill::PhotoVideo => "photo_video",
            Skill::Web => "web",
            Skill::Ec => "ec",
            Skill::Marketing => "marketing",
            Skill::Sales => "sales",
            Skill::ProductDevelopment => "product_development",
            Skill::Tourism => "tourism",
            Skill::Events => "events",
            Skill::Community => "community",
            Skill::ItDx => "it_dx",
            Skill::Finance => "finance",
            Skill::Succession => "succession",
            Skill::Hr => "hr",
            Skill::Translation => "translation",
            Skill::Agriculture => "agriculture",
            Skill::Education => "education",
        }
    }

    /// The skill with this stored code.
    pub fn parse(code: &str) -> Option<Skill> {
        Skill::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Its name in `locale`: the words the regions' own calls for talent use.
    pub fn name(self, locale: Locale) -> &'static str {
        let (ja, en) = match self {
            Skill::Sns => ("SNS運用", "Social media"),
            Skill::Pr => ("広報・PR", "Public relations"),
            Skill::Branding => ("ブランディング", "Branding"),
            Skill::Design => ("デザイン", "Design"),
            Skill::PhotoVideo => ("写真・動画", "Photo and video"),
            Skill::Web => ("Web制作", "Web development"),
            Skill::Ec => ("EC", "E-commerce"),
            Skill::Marketing => ("マーケティング", "Marketing"),
            Skill::Sales => ("営業・販路開拓", "Sales and new markets"),
            Skill::ProductDevelopment => ("商品開発", "Product development"),
            Skill::Tourism => ("観光企画", "Tourism planning"),
            Skill::Events => ("イベント企画", "Event planning"),
            Skill::Community => ("コミュニティ運営", "Community management"),
            Skill::ItDx => ("IT・DX", "IT and digital transformation"),
            Skill::Finance => ("財務・会計", "Finance and accounting"),
            Skill::Succession => ("事業承継", "Business succession"),
            Skill::Hr => ("人事・採用", "HR and recruiting"),
            Skill::Translation => ("翻訳・インバウンド", "Translation and inbound tourism"),
            Skill::Agriculture => ("農業", "Agriculture"),
            Skill::Education => ("教育", "Education"),
        };
        match locale {
            Locale::Ja => ja,
            Locale::En => en,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut codes: Vec<&str> = Skill::ALL.iter().map(|s| s.code()).collect();
        for s in Skill::ALL {
            assert_eq!(Skill::parse(s.code()), Some(s));
            assert!(!s.name(Locale::Ja).is_empty() && !s.name(Locale::En).is_empty());
        }
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Skill::ALL.len());
        assert_eq!(Skill::parse("農業"), None);
        assert_eq!(Skill::Agriculture.name(Locale::Ja), "農業");
    }
}
