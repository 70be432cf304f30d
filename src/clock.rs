//! Wall-clock helpers: milliseconds since the Unix epoch and the UTC calendar, without a
//! date-time dependency.

use std::time::{SystemTime, UNIX_EPOCH};

/// Longest delay any setting, route or document may ask for (a year): timed transitions and
/// task durations add it to "now", so a bound keeps that sum far from overflow.
pub const MAX_DELAY_MS: u64 = 365 * 24 * 3600 * 1000;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> i64 {
    (now_ms() / 1000) as i64
}

/// (year, month, day) of a day count since 1970-01-01 (proleptic Gregorian).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `YYYY-MM-DDThh:mm:ssZ` of a millisecond timestamp.
pub fn iso8601_utc(ms: u64) -> String {
    let mut b = *b"0000-00-00T00:00:00Z";
    calendar_digits(ms, &mut b);
    String::from_utf8_lossy(&b).into_owned()
}

/// Writes `YYYY-MM-DDThh:mm:ss` of `ms` into the first 19 bytes of `b` (which hold the
/// separators already). Rendering pages of records writes several times per record, so this
/// writes digits into a fixed buffer instead of formatting.
fn calendar_digits(ms: u64, b: &mut [u8]) {
    let secs = (ms / 1000) as i64;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    let mut put = |at: usize, width: usize, v: i64| {
        let mut v = v.clamp(0, 10i64.pow(width as u32) - 1);
        for i in (at..at + width).rev() {
            b[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, y);
    put(5, 2, m as i64);
    put(8, 2, d as i64);
    put(11, 2, rem / 3600);
    put(14, 2, (rem % 3600) / 60);
    put(17, 2, rem % 60);
}

/// Days since 1970-01-01 of a (year, month, day), proleptic Gregorian.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// RFC 3339 with nanoseconds in UTC (`2022-01-14T02:10:52.839000000Z`) of a millisecond time.
pub fn rfc3339_nano_utc(ms: u64) -> String {
    let mut b = *b"0000-00-00T00:00:00.000000000Z";
    calendar_digits(ms, &mut b);
    let frac = ms % 1000;
    b[20] = b'0' + (frac / 100) as u8;
    b[21] = b'0' + (frac / 10 % 10) as u8;
    b[22] = b'0' + (frac % 10) as u8;
    String::from_utf8_lossy(&b).into_owned()
}

/// Parses an RFC 3339 time (`2016-12-31T00:00:00+08:00`, `...Z`, fractions allowed) into
/// milliseconds since the epoch; `None` when malformed.
pub fn parse_rfc3339_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b'T' || b[10] == b't' || b[10] == b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    let (y, mo, d, h, mi, sec) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let frac = s.get(start..i)?;
        if frac.is_empty() {
            return None;
        }
        let padded = format!("{:0<3}", &frac[..frac.len().min(3)]);
        millis = padded.parse().ok()?;
    }
    let offset_min = match s.get(i..)? {
        "Z" | "z" => 0,
        tz if tz.len() == 6
            && (tz.starts_with('+') || tz.starts_with('-'))
            && tz.as_bytes()[3] == b':' =>
        {
            let hh: i64 = tz.get(1..3)?.parse().ok()?;
            let mm: i64 = tz.get(4..6)?.parse().ok()?;
            let v = hh * 60 + mm;
            if tz.starts_with('-') {
                -v
            } else {
                v
            }
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo as u32, d as u32);
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec - offset_min * 60;
    Some(secs * 1000 + millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_parses_offsets_fractions_and_z() {
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339_ms("2016-12-31T00:00:00+08:00"),
            parse_rfc3339_ms("2016-12-30T16:00:00Z")
        );
        assert_eq!(
            parse_rfc3339_ms("2022-01-14T10:10:52.83948013+08:00"),
            Some(1_642_126_252_839)
        );
        assert_eq!(
            parse_rfc3339_ms("2024-01-01T00:00:00Z"),
            Some(1_704_067_200_000)
        );
        for bad in [
            "",
            "2024-01-01",
            "2024-13-01T00:00:00Z",
            "2024-01-01T00:00:00",
            "2024-01-01T00:00:00+8",
        ] {
            assert_eq!(parse_rfc3339_ms(bad), None, "{bad}");
        }
        let ms = 1_700_000_000_123u64;
        assert_eq!(parse_rfc3339_ms(&rfc3339_nano_utc(ms)), Some(ms as i64));
    }

    #[test]
    fn iso8601_formats_utc_with_a_z() {
        assert_eq!(iso8601_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601_utc(1_647_852_105_000), "2022-03-21T08:41:45Z");
        assert_eq!(iso8601_utc(1_700_000_000_999), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn rfc3339_nano_writes_the_milliseconds_then_six_zeros() {
        assert_eq!(
            rfc3339_nano_utc(1_642_126_252_839),
            "2022-01-14T02:10:52.839000000Z"
        );
        assert_eq!(rfc3339_nano_utc(5), "1970-01-01T00:00:00.005000000Z");
        assert_eq!(rfc3339_nano_utc(60_070), "1970-01-01T00:01:00.070000000Z");
    }
}
