//! Writing canonical values as text the way exports do: date formats,
//! amounts in 元 or 万元, areas with units, Excel serial numbers.

use chrono::{NaiveDate, NaiveDateTime, Timelike};

/// Date formats seen in exports (DOMAIN.md), the first the canonical one.
pub const DATE_FORMATS: [&str; 7] = [
    "%Y-%m-%d",
    "%Y/%-m/%-d",
    "%Y%m%d",
    "%Y.%m.%d",
    "%Y年%-m月%-d日",
    "%Y-%-m-%-d",
    "%Y/%m/%d",
];
/// Date-time formats, the first the canonical one.
pub const DATETIME_FORMATS: [&str; 6] = [
    "%Y-%m-%d %H:%M:%S",
    "%Y/%-m/%-d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y%m%d%H%M%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
];

/// A date in format `i` of [`DATE_FORMATS`].
pub fn date(d: NaiveDate, i: usize) -> String {
    d.format(DATE_FORMATS[i % DATE_FORMATS.len()]).to_string()
}

/// A date-time in format `i` of [`DATETIME_FORMATS`]; a format without
/// seconds is only used for times on the minute.
pub fn datetime(d: NaiveDateTime, i: usize) -> String {
    let i = i % DATETIME_FORMATS.len();
    let i = if i == 4 && d.second() != 0 { 0 } else { i };
    d.format(DATETIME_FORMATS[i]).to_string()
}

/// Excel's serial number of a date (1900 date system).
pub fn excel_serial(d: NaiveDate) -> f64 {
    let base = NaiveDate::from_ymd_opt(1899, 12, 30).expect("date");
    (d - base).num_days() as f64
}

/// Excel's serial number of a date-time.
pub fn excel_serial_dt(d: NaiveDateTime) -> f64 {
    excel_serial(d.date()) + f64::from(d.num_seconds_from_midnight()) / 86_400.0
}

/// Hundredths as a decimal text with two places, e.g. 123450 → 1234.50.
pub fn hundredths(c: i128) -> String {
    let sign = if c < 0 { "-" } else { "" };
    let c = c.abs();
    format!("{sign}{}.{:02}", c / 100, c % 100)
}

/// Hundredths with trailing zeros dropped: 1234.50 → 1234.5, 1200.00 → 1200.
pub fn hundredths_short(c: i128) -> String {
    let s = hundredths(c);
    let s = s.trim_end_matches('0');
    s.trim_end_matches('.').to_string()
}

/// 分 as 万元, exact: 1234500 分 = 1.2345 万元.
pub fn wan(c: i128) -> String {
    let sign = if c < 0 { "-" } else { "" };
    let c = c.abs();
    let int = c / 1_000_000;
    let frac = c % 1_000_000;
    if frac == 0 {
        format!("{sign}{int}")
    } else {
        let f = format!("{frac:06}");
        format!("{sign}{int}.{}", f.trim_end_matches('0'))
    }
}

/// A decimal with thousands separators: 1234567.80 → 1,234,567.80.
pub fn thousands(c: i128) -> String {
    let s = hundredths(c.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
    let mut out = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    format!("{}{out}.{frac}", if c < 0 { "-" } else { "" })
}

/// A float with at most two decimals.
pub fn float(f: f64) -> String {
    let s = format!("{f:.2}");
    let s = s.trim_end_matches('0');
    s.trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts() {
        assert_eq!(hundredths(123450), "1234.50");
        assert_eq!(hundredths_short(123450), "1234.5");
        assert_eq!(hundredths_short(120000), "1200");
        assert_eq!(wan(1_234_500), "1.2345");
        assert_eq!(wan(50_000_000), "50");
        assert_eq!(thousands(123_456_780), "1,234,567.80");
        assert_eq!(float(33.333), "33.33");
    }

    #[test]
    fn serials() {
        assert_eq!(
            excel_serial(NaiveDate::from_ymd_opt(1980, 1, 2).expect("d")),
            29222.0
        );
    }
}
