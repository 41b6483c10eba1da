//! French public holidays, computed for any year (no table to update):
//! the eleven days of the Code du travail (article L3133-1), Easter by the
//! Gregorian computus, and the two more days off of Alsace-Moselle
//! (article L3134-13: Good Friday and 26 December).
//!
//! Pure calendar arithmetic: no clock, no time zone, no I/O. It must not
//! decide what a commune does on the Whit Monday "journée de solidarité":
//! the day stays a holiday here, so no campaign mail lands on it.

use chrono::{Datelike, NaiveDate, Weekday};

/// Which days are off besides weekends: the national list, or the
/// national list plus Alsace-Moselle's two days (the Bas-Rhin, Haut-Rhin
/// and Moselle communes, e.g. Moselle Fibre's).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Calendar {
    #[default]
    France,
    AlsaceMoselle,
}

impl Calendar {
    /// Whether `day` is a public holiday (whatever its weekday).
    pub fn is_holiday(self, day: NaiveDate) -> bool {
        self.holiday_name(day).is_some()
    }

    /// Monday to Friday and not a public holiday.
    pub fn is_working_day(self, day: NaiveDate) -> bool {
        !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && !self.is_holiday(day)
    }

    /// The holiday's French name (« Lundi de Pâques »), for pages that
    /// explain why nothing leaves on a day.
    pub fn holiday_name(self, day: NaiveDate) -> Option<&'static str> {
        let fixed = match (day.month(), day.day()) {
            (1, 1) => Some("Jour de l'an"),
            (5, 1) => Some("Fête du Travail"),
            (5, 8) => Some("Victoire 1945"),
            (7, 14) => Some("Fête nationale"),
            (8, 15) => Some("Assomption"),
            (11, 1) => Some("Toussaint"),
            (11, 11) => Some("Armistice 1918"),
            (12, 25) => Some("Noël"),
            (12, 26) if self == Calendar::AlsaceMoselle => Some("Saint-Étienne"),
            _ => None,
        };
        fixed.or_else(|| self.movable_holiday(day))
    }

    /// The holidays that follow Easter.
    fn movable_holiday(self, day: NaiveDate) -> Option<&'static str> {
        let easter = easter(day.year())?;
        match day.signed_duration_since(easter).num_days() {
            -2 if self == Calendar::AlsaceMoselle => Some("Vendredi saint"),
            1 => Some("Lundi de Pâques"),
            39 => Some("Ascension"),
            50 => Some("Lundi de Pentecôte"),
            _ => None,
        }
    }
}

/// Easter Sunday of `year` in the Gregorian calendar, by the anonymous
/// Gregorian algorithm (Meeus/Jones/Butcher); `None` only outside chrono's
/// range of years.
pub fn easter(year: i32) -> Option<NaiveDate> {
    // Euclidean division keeps the algorithm right for years before 1,
    // which chrono accepts (proleptic Gregorian calendar).
    let a = year.rem_euclid(19);
    let (b, c) = (year.div_euclid(100), year.rem_euclid(100));
    let (d, e) = (b.div_euclid(4), b.rem_euclid(4));
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let (i, k) = (c / 4, c % 4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn easter_against_known_dates() {
        let check = |year: i32, expected: &str| assert_eq!(easter(year), Some(day(expected)));
        check(1818, "1818-03-22"); // the earliest possible
        check(1943, "1943-04-25"); // the latest possible
        check(2000, "2000-04-23");
        check(2024, "2024-03-31");
        check(2025, "2025-04-20");
        check(2026, "2026-04-05");
        check(2027, "2027-03-28");
        check(2038, "2038-04-25");
        check(2285, "2285-03-22");
        // Any year chrono holds gives a Sunday in March or April, and the
        // extremes neither panic nor overflow.
        for year in (-262_000..262_000).step_by(997) {
            let sunday = easter(year).unwrap();
            assert_eq!(sunday.weekday(), Weekday::Sun, "{year}");
            assert!(matches!(sunday.month(), 3 | 4), "{year}");
        }
        assert_eq!(easter(i32::MAX), None);
        assert_eq!(easter(i32::MIN), None);
    }

    #[test]
    fn the_holidays_of_2026() {
        let holidays: Vec<(NaiveDate, &str)> = day("2026-01-01")
            .iter_days()
            .take_while(|d| d.year() == 2026)
            .filter_map(|d| Calendar::France.holiday_name(d).map(|name| (d, name)))
            .collect();
        let expected = [
            ("2026-01-01", "Jour de l'an"),
            ("2026-04-06", "Lundi de Pâques"),
            ("2026-05-01", "Fête du Travail"),
            ("2026-05-08", "Victoire 1945"),
            ("2026-05-14", "Ascension"),
            ("2026-05-25", "Lundi de Pentecôte"),
            ("2026-07-14", "Fête nationale"),
            ("2026-08-15", "Assomption"),
            ("2026-11-01", "Toussaint"),
            ("2026-11-11", "Armistice 1918"),
            ("2026-12-25", "Noël"),
        ]
        .map(|(d, name)| (day(d), name));
        assert_eq!(holidays, expected);
    }

    #[test]
    fn working_days() {
        let check = |calendar: Calendar, text: &str, working: bool| {
            assert_eq!(calendar.is_working_day(day(text)), working, "{text}");
        };
        check(Calendar::France, "2026-11-10", true); // a Tuesday
        check(Calendar::France, "2026-11-11", false); // Armistice, a Wednesday
        check(Calendar::France, "2026-11-14", false); // a Saturday
        check(Calendar::France, "2026-11-15", false); // a Sunday
        // Easter 2027 is 28 March: Ascension on Thursday 6 May, Whit
        // Monday on 17 May.
        check(Calendar::France, "2027-05-05", true);
        check(Calendar::France, "2027-05-06", false);
        check(Calendar::France, "2027-05-07", true);
        check(Calendar::France, "2027-05-17", false);
        assert_eq!(
            Calendar::France.holiday_name(day("2027-05-06")),
            Some("Ascension")
        );
    }

    #[test]
    fn alsace_moselle_has_two_more_days_off() {
        // Good Friday 2026 is 3 April; 26 December 2025 is a Friday.
        for text in ["2026-04-03", "2025-12-26"] {
            assert!(Calendar::France.is_working_day(day(text)), "{text}");
            assert!(!Calendar::AlsaceMoselle.is_working_day(day(text)), "{text}");
        }
        let name = |text: &str| Calendar::AlsaceMoselle.holiday_name(day(text));
        assert_eq!(name("2026-04-03"), Some("Vendredi saint"));
        assert_eq!(name("2025-12-26"), Some("Saint-Étienne"));
        // And keeps the national ones.
        assert_eq!(name("2026-04-06"), Some("Lundi de Pâques"));
        assert_eq!(Calendar::default(), Calendar::France);
    }
}
