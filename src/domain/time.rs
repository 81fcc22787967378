//! Timestamps: stored as UTC unix seconds, written as v1's `YYYY-MM-DD HH:MM:SS` or v2's RFC 3339.

use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

const V1_FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");

/// A moment in UTC, to the second (Pipedrive's resolution).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Timestamp(pub i64);

/// Real time now, in unix milliseconds.
pub fn real_ms() -> i64 {
    let ms = OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    i64::try_from(ms).unwrap_or(i64::MAX)
}

/// A company's clock (the admin API's `PUT /_pipestack/clock`): real time moved by an offset,
/// or stopped at a moment. What a company's writes stamp (`add_time`, `update_time`, webhooks'
/// timestamps) and what its queries call "now" (overdue activities, rotten deals) read it;
/// rate limits keep real time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Clock {
    /// Added to real time (milliseconds).
    pub offset_ms: i64,
    /// When set, the clock stands still at this moment (unix milliseconds).
    pub frozen_ms: Option<i64>,
}

impl Clock {
    /// Real time.
    pub const REAL: Self = Self {
        offset_ms: 0,
        frozen_ms: None,
    };

    /// The last moment a clock shows: the end of 9999 (Pipedrive's times have four-digit years).
    pub const LAST_MS: i64 = 253_402_300_799_999;

    pub fn is_real(self) -> bool {
        self == Self::REAL
    }

    /// Now by this clock, in unix milliseconds.
    pub fn now_ms(self) -> i64 {
        self.frozen_ms
            .unwrap_or_else(|| real_ms().saturating_add(self.offset_ms))
            .clamp(0, Self::LAST_MS)
    }

    /// Now by this clock, to the second.
    pub fn now(self) -> Timestamp {
        Timestamp::from_ms(self.now_ms())
    }
}

impl Timestamp {
    pub fn now() -> Self {
        Self(OffsetDateTime::now_utc().unix_timestamp())
    }

    /// The second unix milliseconds `ms` fall in.
    pub fn from_ms(ms: i64) -> Self {
        Self(ms.div_euclid(1000))
    }

    fn datetime(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.0).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// v1's `YYYY-MM-DD HH:MM:SS`, UTC.
    pub fn v1(self) -> String {
        self.write(' ', "")
    }

    /// RFC 3339 with milliseconds and a `Z` (`2019-10-25T08:25:27.000Z`), from unix
    /// milliseconds: how webhooks write their times.
    pub fn rfc3339_ms(ms: i64) -> String {
        let base = Self(ms.div_euclid(1000)).rfc3339();
        format!("{}.{:03}Z", base.trim_end_matches('Z'), ms.rem_euclid(1000))
    }

    /// v2's RFC 3339 with a `Z` and whole seconds (`2024-07-01T05:46:33Z`).
    pub fn rfc3339(self) -> String {
        self.write('T', "Z")
    }

    /// Date, `between`, time, `suffix`: digits written by hand, as every person in a list page
    /// has three of these and general-purpose formatting was a measurable part of rendering.
    fn write(self, between: char, suffix: &str) -> String {
        let dt = self.datetime();
        let (h, mi, s) = dt.to_hms();
        let mut out = String::with_capacity(20);
        // Both dialects accept years 1900-9999 only; the clamp guards the digits.
        let year = dt.year().clamp(0, 9999) as u16;
        push_two(&mut out, (year / 100) as u8);
        push_two(&mut out, (year % 100) as u8);
        for (sep, n) in [
            ('-', u8::from(dt.month())),
            ('-', dt.day()),
            (between, h),
            (':', mi),
            (':', s),
        ] {
            out.push(sep);
            push_two(&mut out, n);
        }
        out.push_str(suffix);
        out
    }

    /// Parses RFC 3339 (`2024-07-01T05:46:33Z`, any offset; fractions of a second dropped).
    /// Like v1's, only years 1900-9999 (in UTC) are times pipestack keeps.
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        let dt =
            OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339).ok()?;
        let utc = dt.to_offset(time::UtcOffset::UTC);
        (1900..=9999)
            .contains(&utc.year())
            .then(|| Self(dt.unix_timestamp()))
    }

    /// Parses v1's `YYYY-MM-DD HH:MM:SS` (UTC); `None` when malformed or out of range.
    pub fn parse_v1(s: &str) -> Option<Self> {
        let dt = PrimitiveDateTime::parse(s.trim(), V1_FORMAT).ok()?;
        let year = dt.year();
        if !(1900..=9999).contains(&year) {
            return None;
        }
        Some(Self(dt.assume_utc().unix_timestamp()))
    }
}

/// `n` (0-99) as two digits.
fn push_two(out: &mut String, n: u8) {
    out.push(char::from(b'0' + n / 10));
    out.push(char::from(b'0' + n % 10));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_times_have_milliseconds_and_a_z() {
        assert_eq!(
            Timestamp::rfc3339_ms(1_669_302_715_616),
            "2022-11-24T15:11:55.616Z"
        );
        assert_eq!(
            Timestamp::rfc3339_ms(1_669_302_715_000),
            "2022-11-24T15:11:55.000Z"
        );
    }

    #[test]
    fn v1_round_trip() {
        let t = Timestamp::parse_v1("2017-10-18 13:23:07").unwrap();
        assert_eq!(t.v1(), "2017-10-18 13:23:07");
        assert_eq!(t.rfc3339(), "2017-10-18T13:23:07Z");
    }

    #[test]
    fn rfc3339_parses_offsets_and_fractions() {
        let t = Timestamp::parse_rfc3339("2024-07-01T07:46:33.250+02:00").unwrap();
        assert_eq!(t.rfc3339(), "2024-07-01T05:46:33Z");
        assert_eq!(Timestamp::parse_rfc3339("2024-07-01 05:46:33"), None);
        assert_eq!(Timestamp::parse_rfc3339("0000-01-01T00:00:00+01:00"), None);
        assert_eq!(Timestamp::parse_rfc3339("1899-12-31T23:59:59Z"), None);
        assert!(Timestamp::parse_rfc3339("9999-12-31T23:59:59Z").is_some());
    }

    #[test]
    fn hand_written_formats_match_the_time_crate() {
        let rfc: &[FormatItem<'static>] =
            format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
        // From 1900 to 9999, in steps that visit every month, day and time of day.
        let mut t = Timestamp::parse_v1("1900-01-01 00:00:00").unwrap().0;
        let end = Timestamp::parse_v1("9999-12-31 23:59:59").unwrap().0;
        while t <= end {
            let ts = Timestamp(t);
            assert_eq!(ts.v1(), ts.datetime().format(V1_FORMAT).unwrap());
            assert_eq!(ts.rfc3339(), ts.datetime().format(rfc).unwrap());
            t += 86_400 * 13 + 3_607;
        }
        assert_eq!(Timestamp(0).v1(), "1970-01-01 00:00:00");
    }

    #[test]
    fn v1_rejects_malformed() {
        for bad in [
            "2017-10-18",
            "2017-13-01 00:00:00",
            "2017-02-30 10:00:00",
            "2017-10-18T13:23:07",
            "yesterday",
            "",
        ] {
            assert_eq!(Timestamp::parse_v1(bad), None, "{bad}");
        }
    }
}
