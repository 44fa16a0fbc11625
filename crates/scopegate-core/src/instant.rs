//! Timestamps: FHIR `instant`/`dateTime` and RFC 3339 text in, milliseconds since the
//! Unix epoch (UTC) out, and back; the one civil-date implementation (evidence lines
//! and the approvals ledger's `at`/`expires` both use it). Hand-written because it
//! runs once per evidence line: no allocation, no time-zone database (offsets are
//! explicit).

/// Milliseconds since 1970-01-01T00:00:00Z.
pub(crate) type Millis = i64;

fn num(s: &[u8]) -> Option<i64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0i64, |a, d| a * 10 + i64::from(d - b'0')))
}

/// Days since the epoch of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// Parses `YYYY-MM-DD` (midnight UTC) or `YYYY-MM-DDThh:mm[:ss[.fff…]](Z|±hh:mm)`.
/// A time without a zone is refused: FHIR `instant` requires one, and guessing the
/// server's zone would shift the `--since` window.
pub fn parse(s: &str) -> Option<Millis> {
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (num(&b[0..4])?, num(&b[5..7])?, num(&b[8..10])?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let day = days_from_civil(y, mo, d) * 86_400_000;
    if b.len() == 10 {
        return Some(day);
    }
    if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 17 || b[13] != b':' {
        return None;
    }
    let (h, mi) = (num(&b[11..13])?, num(&b[14..16])?);
    let mut i = 16;
    let mut sec = 0;
    let mut ms = 0;
    if b.get(i) == Some(&b':') {
        sec = num(b.get(i + 1..i + 3)?)?;
        i += 3;
        if b.get(i) == Some(&b'.') {
            let start = i + 1;
            let mut end = start;
            while b.get(end).is_some_and(u8::is_ascii_digit) {
                end += 1;
            }
            let frac = b.get(start..end.min(start + 3))?;
            ms = num(frac)? * [100, 10, 1][frac.len().max(1) - 1];
            if end == start {
                return None;
            }
            i = end;
        }
    }
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let offset = match b.get(i..)? {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), oh1, oh2, b':', om1, om2] => {
            let o = num(&[*oh1, *oh2])? * 60 + num(&[*om1, *om2])?;
            if *sign == b'+' { o } else { -o }
        }
        _ => return None,
    };
    Some(day + ((h * 60 + mi - offset) * 60 + sec) * 1000 + ms)
}

/// `YYYY-MM-DDThh:mm:ssZ` (milliseconds shown only when there are any).
pub(crate) fn format(t: Millis) -> String {
    let (days, rem) = (t.div_euclid(86_400_000), t.rem_euclid(86_400_000));
    let (y, m, d) = civil_from_days(days);
    let (s, ms) = (rem / 1000, rem % 1000);
    let base = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    );
    if ms == 0 {
        format!("{base}Z")
    } else {
        format!("{base}.{ms:03}Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dates_instants_and_offsets() {
        assert_eq!(parse("1970-01-01"), Some(0));
        assert_eq!(parse("1970-01-01T00:00:01Z"), Some(1000));
        assert_eq!(parse("1970-01-01T00:00:00.5Z"), Some(500));
        assert_eq!(parse("1970-01-01T00:00:00.123456Z"), Some(123));
        assert_eq!(parse("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse("1969-12-31T23:00:00-01:00"), Some(0));
        assert_eq!(
            parse("2026-11-02T10:15:00Z").map(format).as_deref(),
            Some("2026-11-02T10:15:00Z")
        );
        assert_eq!(
            format(parse("2024-02-29T23:59:59.999Z").unwrap()),
            "2024-02-29T23:59:59.999Z"
        );
        assert_eq!(
            parse("2013-06-20T23:42:24Z").map(format).as_deref(),
            Some("2013-06-20T23:42:24Z")
        );
    }

    #[test]
    fn refuses_what_is_not_an_instant() {
        for bad in [
            "",
            "2026",
            "2026-13-01",
            "2026-11-02T10:15:00",
            "yesterday",
            "2026-11-02T25:00:00Z",
            "2026-11-02T10:15:00.Z",
            "2026-11-02T10:15:00+0100",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
