//! French formatting, the one place pages and messages turn numbers,
//! sizes, durations and plurals into words: `1 234`, `20,5 ko`,
//! `2 heures et 5 minutes`, `3 secondes`.

/// `1 seconde`, `2 secondes`: `count` and its noun, plural from 2 on (in
/// French, 0 and 1 take the singular).
pub fn plural(count: i64, one: &str, many: &str) -> String {
    let word = if count.unsigned_abs() > 1 { many } else { one };
    format!("{} {word}", number(count))
}

/// [`plural`] for a count of things (`Vec::len`, `Iterator::count`).
pub fn count(count: usize, one: &str, many: &str) -> String {
    plural(i64::try_from(count).unwrap_or(i64::MAX), one, many)
}

/// A short wait, to the second below a minute: `1 seconde`, `45 secondes`,
/// `2 minutes` (rounded up: never shorter than the real wait).
pub fn wait(secs: i64) -> String {
    if secs < 60 {
        plural(secs.max(1), "seconde", "secondes")
    } else {
        plural((secs + 59) / 60, "minute", "minutes")
    }
}

/// `14/07/2026 13:58`: a Unix time in milliseconds as a Paris date and
/// time; empty if out of range.
pub fn date_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(String::new, |t| {
        t.with_timezone(&vigie_core::LOCAL_TZ)
            .format("%d/%m/%Y %H:%M")
            .to_string()
    })
}

/// `14/07/2026 à 13:58`: a Unix time in milliseconds as a Paris date and
/// time, in a sentence (« Scan du 14/07/2026 à 13:58 »); empty if out of
/// range.
pub fn date_at(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(String::new, |t| {
        t.with_timezone(&vigie_core::LOCAL_TZ)
            .format("%d/%m/%Y à %H:%M")
            .to_string()
    })
}

/// `14/07/2026`: the Paris day of a Unix time in milliseconds.
pub fn date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map_or_else(String::new, |t| day(vigie_core::local_day(t)))
}

/// `14/07/2026`: a day in a table or a short sentence (never ISO).
pub fn day(date: chrono::NaiveDate) -> String {
    date.format("%d/%m/%Y").to_string()
}

/// `1er mars 2026`, `22 novembre 2026`: a day as a letter writes it.
pub fn day_long(date: chrono::NaiveDate) -> String {
    let (day, month, year) = day_parts(date);
    format!("{day} {month} {year}")
}

/// `mars 2026`: a month in a sentence (the risk map's monthly snapshots).
pub fn month(date: chrono::NaiveDate) -> String {
    let (_, month, year) = day_parts(date);
    format!("{month} {year}")
}

/// `du 7 au 8 décembre 2026`, `du 30 novembre au 2 décembre 2026`,
/// `du 30 décembre 2026 au 2 janvier 2027`, `le 8 décembre 2026`: a span
/// of days in a sentence, the month and year written once when shared.
pub fn day_range(first: chrono::NaiveDate, last: chrono::NaiveDate) -> String {
    range(first, last, "du", "au")
}

/// `entre le 7 et le 8 décembre 2026`, or `le 8 décembre 2026` for one
/// day: [`day_range`] for a sentence that says something does not fit.
pub fn between_days(first: chrono::NaiveDate, last: chrono::NaiveDate) -> String {
    range(first, last, "entre le", "et le")
}

/// The words of [`day_range`] and [`between_days`].
fn range(first: chrono::NaiveDate, last: chrono::NaiveDate, from: &str, to: &str) -> String {
    use chrono::Datelike;
    if first == last {
        return format!("le {}", day_long(first));
    }
    let (first_day, first_month, first_year) = day_parts(first);
    let start = if first.year() != last.year() {
        format!("{first_day} {first_month} {first_year}")
    } else if first.month() != last.month() {
        format!("{first_day} {first_month}")
    } else {
        first_day
    };
    format!("{from} {start} {to} {}", day_long(last))
}

/// A day's number (`1er`, `22`), month name and year.
fn day_parts(date: chrono::NaiveDate) -> (String, &'static str, i32) {
    use chrono::Datelike;
    const MONTHS: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    let month = MONTHS
        .get(date.month0() as usize)
        .copied()
        .unwrap_or_default();
    let day = if date.day() == 1 {
        "1er".to_owned()
    } else {
        date.day().to_string()
    };
    (day, month, date.year())
}

/// `14 juillet 2026`: the Paris day of a Unix time in milliseconds, as a
/// letter writes it; empty if out of range.
pub fn long_date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map_or_else(String::new, |t| day_long(vigie_core::local_day(t)))
}

/// `1 234 567`, with the narrow no-break space French uses between
/// thousands.
pub fn number(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 3 + 1);
    if value < 0 {
        out.push('-');
    }
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(digit);
    }
    out
}

/// `12 %`, `3,5 %`, `0 %`: a rate in percent, to one decimal below 10
/// (where a tenth matters), whole above; with the narrow no-break space
/// French puts before `%`.
pub fn percent(value: f64) -> String {
    let value = if value.is_finite() {
        value.max(0.0)
    } else {
        0.0
    };
    let text = if value < 10.0 && (value * 10.0).round() % 10.0 != 0.0 {
        format!("{value:.1}").replace('.', ",")
    } else {
        format!("{value:.0}")
    };
    format!("{text}\u{202f}%")
}

/// `512 octets`, `20,5 ko`, `1,2 Go` (powers of 1000, as disks are sold).
pub fn size(bytes: i64) -> String {
    const UNITS: [&str; 5] = ["ko", "Mo", "Go", "To", "Po"];
    if bytes < 1000 {
        return format!("{} octet{}", bytes, if bytes > 1 { "s" } else { "" });
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 999.95 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    let text = format!("{value:.1}").replace('.', ",");
    format!("{text} {}", UNITS.get(unit).copied().unwrap_or("Po"))
}

/// `moins d'une minute`, `25 minutes`, `2 heures et 5 minutes`,
/// `3 jours et 4 heures`.
pub fn duration(secs: i64) -> String {
    let minutes = secs.max(0) / 60;
    let (days, hours, minutes) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    let part = |n: i64, unit: &str| format!("{n} {unit}{}", if n > 1 { "s" } else { "" });
    match (days, hours, minutes) {
        (0, 0, 0) => "moins d'une minute".to_owned(),
        (0, 0, m) => part(m, "minute"),
        (0, h, 0) => part(h, "heure"),
        (0, h, m) => format!("{} et {}", part(h, "heure"), part(m, "minute")),
        (d, 0, _) => part(d, "jour"),
        (d, h, _) => format!("{} et {}", part(d, "jour"), part(h, "heure")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percents() {
        assert_eq!(percent(12.4), "12\u{202f}%");
        assert_eq!(percent(3.46), "3,5\u{202f}%");
        assert_eq!(percent(4.0), "4\u{202f}%");
        assert_eq!(percent(f64::NAN), "0\u{202f}%");
        assert_eq!(percent(100.0), "100\u{202f}%");
    }

    #[test]
    fn numbers_sizes_and_durations_in_french() {
        let check = |got: String, expected: &str| assert_eq!(got, expected);
        check(number(0), "0");
        check(number(999), "999");
        check(number(1000), "1\u{202f}000");
        check(number(123_456_789), "123\u{202f}456\u{202f}789");
        check(number(-4321), "-4\u{202f}321");
        check(size(1), "1 octet");
        check(size(512), "512 octets");
        check(size(20_480), "20,5 ko");
        check(size(999_990), "1,0 Mo");
        check(size(1_234_000_000), "1,2 Go");
        check(duration(30), "moins d'une minute");
        check(duration(60), "1 minute");
        check(duration(25 * 60), "25 minutes");
        check(duration(3600), "1 heure");
        check(duration(2 * 3600 + 5 * 60), "2 heures et 5 minutes");
        check(duration(86_400 + 30), "1 jour");
        check(duration(3 * 86_400 + 4 * 3600 + 59), "3 jours et 4 heures");
    }

    #[test]
    fn dates_in_french() {
        let day = |text: &str| text.parse::<chrono::NaiveDate>().unwrap_or_default();
        assert_eq!(day_long(day("2026-03-01")), "1er mars 2026");
        assert_eq!(day_long(day("2026-11-22")), "22 novembre 2026");
        assert_eq!(super::day(day("2026-03-01")), "01/03/2026");
        let range = |first: &str, last: &str| day_range(day(first), day(last));
        assert_eq!(range("2026-12-07", "2026-12-08"), "du 7 au 8 décembre 2026");
        assert_eq!(
            range("2026-11-30", "2026-12-01"),
            "du 30 novembre au 1er décembre 2026"
        );
        assert_eq!(
            range("2026-12-30", "2027-01-02"),
            "du 30 décembre 2026 au 2 janvier 2027"
        );
        assert_eq!(range("2026-12-08", "2026-12-08"), "le 8 décembre 2026");
        assert_eq!(
            between_days(day("2026-03-01"), day("2026-03-03")),
            "entre le 1er et le 3 mars 2026"
        );
        // 2026-01-15T23:30:00Z is already the 16th in Paris.
        assert_eq!(long_date(1_768_519_800_000), "16 janvier 2026");
        assert_eq!(date_time(1_768_519_800_000), "16/01/2026 00:30");
        assert_eq!(date(1_768_519_800_000), "16/01/2026");
        assert_eq!(date_at(1_768_519_800_000), "16/01/2026 à 00:30");
        assert_eq!(date_at(i64::MAX), "");
    }

    #[test]
    fn plurals_and_waits() {
        assert_eq!(plural(0, "lot", "lots"), "0 lot");
        assert_eq!(plural(1, "lot", "lots"), "1 lot");
        assert_eq!(plural(2000, "lot", "lots"), "2\u{202f}000 lots");
        assert_eq!(plural(-3, "lot", "lots"), "-3 lots");
        assert_eq!(
            count(1, "commune équipée", "communes équipées"),
            "1 commune équipée"
        );
        assert_eq!(count(1234, "mairie", "mairies"), "1\u{202f}234 mairies");
        assert_eq!(wait(0), "1 seconde");
        assert_eq!(wait(45), "45 secondes");
        assert_eq!(wait(60), "1 minute");
        assert_eq!(wait(61), "2 minutes");
    }
}
