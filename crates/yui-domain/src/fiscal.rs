//! Fiscal years (年度): April to March, shown also in the Reiwa era.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// A Japanese fiscal year, named by the calendar year in which it starts (FY2024 =
/// 2024-04-01 … 2025-03-31 = 令和6年度).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FiscalYear(pub i32);

impl FiscalYear {
    /// The fiscal year that contains `date` (a date in Asia/Tokyo).
    pub fn containing(date: NaiveDate) -> FiscalYear {
        if date.month() >= 4 {
            FiscalYear(date.year())
        } else {
            FiscalYear(date.year() - 1)
        }
    }

    pub fn first_day(self) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(self.0, 4, 1)
    }

    pub fn last_day(self) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(self.0 + 1, 3, 31)
    }

    /// `令和6年度` for FY2024; Reiwa began in FY2019 (令和元年度).
    pub fn reiwa_label(self) -> Option<String> {
        match self.0 - 2018 {
            n if n < 1 => None,
            1 => Some("令和元年度".to_owned()),
            n => Some(format!("令和{n}年度")),
        }
    }
}

/// A date in the Japanese era calendar as official documents write it
/// (令和9年3月31日, 令和元年5月1日); `None` before the Reiwa era began (2019-05-01).
pub fn reiwa_date(date: NaiveDate) -> Option<String> {
    use chrono::Datelike;
    let start = NaiveDate::from_ymd_opt(2019, 5, 1)?;
    if date < start {
        return None;
    }
    let year = match date.year() - 2018 {
        1 => "元".to_owned(),
        n => n.to_string(),
    };
    Some(format!("令和{year}年{}月{}日", date.month(), date.day()))
}

impl std::fmt::Display for FiscalYear {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FY{}", self.0)
    }
}

/// Japan Standard Time (UTC+9, no daylight saving): the zone every date is shown in.
pub fn tokyo() -> chrono::FixedOffset {
    use chrono::Offset;
    // 9 hours is within range, so this never falls back.
    chrono::FixedOffset::east_opt(9 * 3600).unwrap_or_else(|| chrono::Utc.fix())
}

/// The first instant after `date` ends in Tokyo: a grant "until 2027-03-31" works
/// through that whole day and stops at 2027-04-01 00:00 JST.
pub fn after_day_in_tokyo(date: NaiveDate) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::TimeZone;
    let next = date.succ_opt()?.and_hms_opt(0, 0, 0)?;
    tokyo()
        .from_local_datetime(&next)
        .single()
        .map(|t| t.with_timezone(&chrono::Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn april_starts_the_year() {
        assert_eq!(FiscalYear::containing(d(2025, 3, 31)), FiscalYear(2024));
        assert_eq!(FiscalYear::containing(d(2025, 4, 1)), FiscalYear(2025));
        assert_eq!(FiscalYear(2024).last_day(), Some(d(2025, 3, 31)));
    }

    #[test]
    fn grants_end_after_the_day_in_tokyo() {
        let end = after_day_in_tokyo(d(2027, 3, 31)).unwrap();
        assert_eq!(end.to_rfc3339(), "2027-03-31T15:00:00+00:00");
    }

    #[test]
    fn reiwa() {
        assert_eq!(
            FiscalYear(2019).reiwa_label().as_deref(),
            Some("令和元年度")
        );
        assert_eq!(FiscalYear(2025).reiwa_label().as_deref(), Some("令和7年度"));
        assert_eq!(FiscalYear(2018).reiwa_label(), None);
        assert_eq!(
            reiwa_date(d(2027, 3, 31)).as_deref(),
            Some("令和9年3月31日")
        );
        assert_eq!(reiwa_date(d(2019, 5, 1)).as_deref(), Some("令和元年5月1日"));
        assert_eq!(reiwa_date(d(2019, 4, 30)), None);
    }
}
