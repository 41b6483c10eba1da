//! Windows releases as SMB reveals them (NTLMSSP version, SMB1 NativeOS):
//! their name, the last day any edition of them is supported, and whether
//! MS17-010 (EternalBlue, March 2017) concerned them. A build is shared
//! by a desktop and a server edition (7601: Windows 7 and Server 2008
//! R2), so the end of support kept is the latest of the two: a release
//! is called end-of-life only when no edition of it is supported.

use std::ops::RangeInclusive;

use chrono::NaiveDate;

use super::ntlm::NtlmVersion;

/// One row of the table below.
struct Row {
    major: u8,
    minor: u8,
    builds: RangeInclusive<u16>,
    name: &'static str,
    /// Last day of support of the longest-lived edition, y/m/d.
    end: (i32, u32, u32),
}

const fn row(
    major: u8,
    minor: u8,
    builds: RangeInclusive<u16>,
    name: &'static str,
    end: (i32, u32, u32),
) -> Row {
    Row {
        major,
        minor,
        builds,
        name,
        end,
    }
}

/// The releases, from Microsoft's lifecycle pages; extended security
/// updates that must be bought are not counted.
#[rustfmt::skip]
const RELEASES: &[Row] = &[
    row(5, 0, 2195..=2195, "Windows 2000", (2010, 7, 13)),
    row(5, 1, 2600..=2600, "Windows XP", (2014, 4, 8)),
    row(5, 2, 3790..=3790, "Windows Server 2003 / XP x64", (2015, 7, 14)),
    row(6, 0, 6000..=6003, "Windows Vista / Server 2008", (2020, 1, 14)),
    row(6, 1, 7600..=7601, "Windows 7 / Server 2008 R2", (2020, 1, 14)),
    row(6, 2, 9200..=9200, "Windows 8 / Server 2012", (2023, 10, 10)),
    row(6, 3, 9600..=9600, "Windows 8.1 / Server 2012 R2", (2023, 10, 10)),
    row(
        10,
        0,
        10240..=10240,
        "Windows 10 1507 (LTSB 2015)",
        (2025, 10, 14),
    ),
    row(10, 0, 10586..=10586, "Windows 10 1511", (2017, 10, 10)),
    row(10, 0, 14393..=14393, "Windows 10 1607 / Server 2016", (2027, 1, 12)),
    row(10, 0, 15063..=15063, "Windows 10 1703", (2019, 10, 8)),
    row(10, 0, 16299..=16299, "Windows 10 1709", (2020, 10, 13)),
    row(10, 0, 17134..=17134, "Windows 10 1803", (2021, 5, 11)),
    row(10, 0, 17763..=17763, "Windows 10 1809 / Server 2019", (2029, 1, 9)),
    row(10, 0, 18362..=18362, "Windows 10 1903", (2020, 12, 8)),
    row(10, 0, 18363..=18363, "Windows 10 1909", (2022, 5, 10)),
    row(10, 0, 19041..=19041, "Windows 10 2004", (2021, 12, 14)),
    row(10, 0, 19042..=19042, "Windows 10 20H2", (2023, 5, 9)),
    row(10, 0, 19043..=19043, "Windows 10 21H1", (2022, 12, 13)),
    row(
        10,
        0,
        19044..=19044,
        "Windows 10 21H2 (LTSC 2021)",
        (2032, 1, 13),
    ),
    row(10, 0, 19045..=19045, "Windows 10 22H2", (2025, 10, 14)),
    row(10, 0, 20348..=20348, "Windows Server 2022", (2031, 10, 14)),
    row(10, 0, 22000..=22000, "Windows 11 21H2", (2024, 10, 8)),
    row(10, 0, 22621..=22621, "Windows 11 22H2", (2025, 10, 14)),
    row(10, 0, 22631..=22631, "Windows 11 23H2", (2026, 11, 10)),
    row(10, 0, 26100..=26100, "Windows 11 24H2 / Server 2025", (2034, 10, 10)),
];

/// The last build MS17-010 was published for: Windows 10 1607 and
/// Server 2016 (14393); 1703 (15063) shipped with the fix.
const LAST_MS17_010_BUILD: u16 = 14393;

/// A release recognised from a version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Release {
    pub name: &'static str,
    pub end_of_support: NaiveDate,
}

/// The release of a Windows version; `None` for builds this table does
/// not know (newer ones), and for build 0, which Samba and other
/// non-Windows servers put in the NTLMSSP version.
pub fn release(version: NtlmVersion) -> Option<Release> {
    if version.build == 0 && version.major >= 6 {
        return None;
    }
    let same_line = |row: &&Row| row.major == version.major && row.minor == version.minor;
    RELEASES
        .iter()
        .filter(same_line)
        .find(|row| row.builds.contains(&version.build))
        // Before Windows 10, one release per major.minor, whatever the
        // service pack build.
        .or_else(|| {
            RELEASES
                .iter()
                .filter(same_line)
                .find(|_| version.major < 10)
        })
        .and_then(|row| {
            let (y, m, d) = row.end;
            Some(Release {
                name: row.name,
                end_of_support: NaiveDate::from_ymd_opt(y, m, d)?,
            })
        })
}

/// No edition of this release is supported any more on `today`.
pub fn is_end_of_life(release: Release, today: NaiveDate) -> bool {
    today > release.end_of_support
}

/// The release was among those MS17-010 patched: exposed if that update
/// is missing.
pub fn ms17_010_concerned(version: NtlmVersion) -> bool {
    (version.major, version.minor) < (10, 0)
        || (version.major == 10 && version.build <= LAST_MS17_010_BUILD)
}

/// The version in an SMB1 NativeOS string: `Windows 5.1`,
/// `Windows Server 2003 3790 Service Pack 2`,
/// `Windows 7 Professional 7601 Service Pack 1`.
pub fn version_from_native_os(native_os: &str) -> Option<NtlmVersion> {
    let rest = native_os.strip_prefix("Windows ")?;
    let words: Vec<&str> = rest.split_whitespace().collect();
    let dotted = words.first().and_then(|w| w.split_once('.'));
    if let Some((Ok(major), Ok(minor))) = dotted.map(|(a, b)| (a.parse(), b.parse())) {
        return Some(NtlmVersion {
            major,
            minor,
            build: 0,
        });
    }
    // The first number that is a known build (not the year in the name).
    words
        .iter()
        .filter_map(|word| word.parse::<u16>().ok())
        .find_map(|build| {
            RELEASES
                .iter()
                .find(|row| row.builds.contains(&build))
                .map(|row| NtlmVersion {
                    major: row.major,
                    minor: row.minor,
                    build,
                })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(major: u8, minor: u8, build: u16) -> NtlmVersion {
        NtlmVersion {
            major,
            minor,
            build,
        }
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn releases_and_their_end() {
        let today = day(2026, 11, 22);
        let check = |v: NtlmVersion, name: &str, eol: bool| {
            let found = release(v).unwrap();
            assert_eq!(found.name, name);
            assert_eq!(is_end_of_life(found, today), eol, "{name}");
        };
        check(version(5, 1, 2600), "Windows XP", true);
        check(version(6, 1, 7601), "Windows 7 / Server 2008 R2", true);
        check(version(6, 1, 7600), "Windows 7 / Server 2008 R2", true);
        check(version(6, 3, 9600), "Windows 8.1 / Server 2012 R2", true);
        check(version(10, 0, 19045), "Windows 10 22H2", true);
        check(
            version(10, 0, 14393),
            "Windows 10 1607 / Server 2016",
            false,
        );
        check(
            version(10, 0, 17763),
            "Windows 10 1809 / Server 2019",
            false,
        );
        check(
            version(10, 0, 26100),
            "Windows 11 24H2 / Server 2025",
            false,
        );
        assert!(!is_end_of_life(
            release(version(10, 0, 14393)).unwrap(),
            day(2026, 1, 1)
        ));
        assert!(is_end_of_life(
            release(version(10, 0, 14393)).unwrap(),
            day(2027, 1, 13)
        ));
        // Samba's NTLMSSP version, and unknown future builds.
        assert_eq!(release(version(6, 1, 0)), None);
        assert_eq!(release(version(10, 0, 29000)), None);
        // From NativeOS: a version without build.
        check(version(5, 1, 0), "Windows XP", true);
    }

    #[test]
    fn ms17_010_releases() {
        assert!(ms17_010_concerned(version(5, 1, 2600)));
        assert!(ms17_010_concerned(version(6, 1, 7601)));
        assert!(ms17_010_concerned(version(10, 0, 14393)));
        assert!(!ms17_010_concerned(version(10, 0, 15063)));
        assert!(!ms17_010_concerned(version(10, 0, 19045)));
    }

    #[test]
    fn native_os_strings() {
        assert_eq!(
            version_from_native_os("Windows 5.1"),
            Some(version(5, 1, 0))
        );
        assert_eq!(
            version_from_native_os("Windows Server 2003 3790 Service Pack 2"),
            Some(version(5, 2, 3790))
        );
        assert_eq!(
            version_from_native_os("Windows 7 Professional 7601 Service Pack 1"),
            Some(version(6, 1, 7601))
        );
        assert_eq!(
            version_from_native_os("Windows Server 2016 Standard 14393"),
            Some(version(10, 0, 14393))
        );
        assert_eq!(
            version_from_native_os("Windows Vista (TM) Business 6002 Service Pack 2"),
            Some(version(6, 0, 6002))
        );
        assert_eq!(version_from_native_os("Unix"), None);
        assert_eq!(version_from_native_os("Windows 7 Professional"), None);
    }
}
