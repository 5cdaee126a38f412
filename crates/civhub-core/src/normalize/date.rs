//! Dates and date-times (日期, 时间).
//!
//! Exports write dates in many ways: `1980-01-02`, `1980/1/2`, `1980.01.02`,
//! `19800102`, `1980年1月2日`, an ISO date-time, or the bare Excel serial number
//! of a cell that lost its date format. Only unambiguous forms are accepted:
//! the year always comes first and has four digits, so `01/02/1980` (month or
//! day first?) is refused rather than guessed. An 8-digit number is always
//! YYYYMMDD (Excel serials of real dates have at most 7 digits), and a bare
//! 4-digit number between 1880 and 2100 is refused as a year without month and
//! day rather than read as an Excel serial in 1905.

use super::text::clean_cow;
use crate::normalizer::NormError;
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime};

/// Earliest year accepted.
pub const MIN_YEAR: i32 = 1880;
/// Latest year accepted.
pub const MAX_YEAR: i32 = 2100;
/// Largest Excel serial number (9999-12-31).
pub const MAX_EXCEL_SERIAL: u32 = 2_958_465;

const EXPECTED: &str = "expected a date like 1980-01-02, 1980/1/2, 19800102, 1980年1月2日 \
                        or an Excel serial number";

/// Parses a date in any of the accepted forms; a time part, if present, must
/// be valid and is dropped.
pub fn date(raw: &str) -> Result<NaiveDate, NormError> {
    parse(raw).map(|(d, _)| d)
}

/// Parses a date-time in any of the accepted forms; a date alone means midnight.
pub fn datetime(raw: &str) -> Result<NaiveDateTime, NormError> {
    parse(raw).map(|(d, t)| d.and_time(t.unwrap_or(NaiveTime::MIN)))
}

/// The date and the time (if one was written) of a raw cell.
fn parse(raw: &str) -> Result<(NaiveDate, Option<NaiveTime>), NormError> {
    let s = clean_cow(raw);
    if let Some(serial) = excel_serial(&s)? {
        return Ok(serial);
    }
    let mut cur = Cursor { s: &s, pos: 0 };
    let run = cur.digits();
    let date = match run.len() {
        8 | 12 | 14 => {
            let (date, time) = compact(run)?;
            if time.is_some() {
                cur.skip_spaces();
                if !cur.at_end() {
                    return Err(NormError::new("unexpected text after the time"));
                }
                return Ok((date, time));
            }
            date
        }
        4 => {
            cur.pos = 0;
            cur.date()?
        }
        _ => return Err(NormError::new(EXPECTED)),
    };
    cur.skip_spaces();
    if cur.eat('T') {
        cur.skip_spaces();
    }
    if cur.at_end() {
        return Ok((date, None));
    }
    let time = cur.time()?;
    cur.skip_spaces();
    if !cur.at_end() {
        return Err(NormError::new("unexpected text after the time"));
    }
    Ok((date, Some(time)))
}

/// A digit run YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS.
fn compact(s: &str) -> Result<(NaiveDate, Option<NaiveTime>), NormError> {
    let part = |r: std::ops::Range<usize>| -> u32 {
        s.get(r).and_then(|t| t.parse().ok()).unwrap_or(u32::MAX)
    };
    let date = ymd(i64::from(part(0..4)), part(4..6), part(6..8))?;
    match s.len() {
        8 => Ok((date, None)),
        12 => Ok((date, Some(hms(part(8..10), part(10..12), 0, 0)?))),
        14 => Ok((date, Some(hms(part(8..10), part(10..12), part(12..14), 0)?))),
        _ => Err(NormError::new(EXPECTED)),
    }
}

/// Fails for years outside the accepted range.
fn check_year(year: i64) -> Result<(), NormError> {
    if (i64::from(MIN_YEAR)..=i64::from(MAX_YEAR)).contains(&year) {
        Ok(())
    } else {
        Err(NormError::new(format!(
            "year {year} is out of range ({MIN_YEAR} to {MAX_YEAR})"
        )))
    }
}

/// A checked calendar date within the accepted years.
fn ymd(year: i64, month: u32, day: u32) -> Result<NaiveDate, NormError> {
    check_year(year)?;
    if !(1..=12).contains(&month) {
        return Err(NormError::new(format!("month {month} does not exist")));
    }
    let year = i32::try_from(year).map_err(|_| NormError::new("year out of range"))?;
    NaiveDate::from_ymd_opt(year, month, day)
        .ok_or_else(|| NormError::new(format!("month {month} of {year} has no day {day}")))
}

/// A checked time of day.
fn hms(hour: u32, minute: u32, second: u32, nano: u32) -> Result<NaiveTime, NormError> {
    NaiveTime::from_hms_nano_opt(hour, minute, second, nano).ok_or_else(|| {
        NormError::new(format!(
            "{hour}:{minute:02}:{second:02} is not a time of day"
        ))
    })
}

/// An Excel serial number (1900 date system), if the text is one.
fn excel_serial(s: &str) -> Result<Option<(NaiveDate, Option<NaiveTime>)>, NormError> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty()
        || int.len() > 7
        || !digits(int)
        || !digits(frac)
        || (s.contains('.') && frac.is_empty())
    {
        return Ok(None);
    }
    let days: u32 = int.parse().map_err(|_| NormError::new(EXPECTED))?;
    if int.len() == 4 && (MIN_YEAR..=MAX_YEAR).contains(&(days as i32)) {
        return Err(NormError::new(
            "a year alone is not a date; expected year, month and day",
        ));
    }
    if days == 0 || days > MAX_EXCEL_SERIAL {
        return Err(NormError::new(format!(
            "Excel serial numbers run from 1 to {MAX_EXCEL_SERIAL}, found {days}"
        )));
    }
    if days == 60 {
        return Err(NormError::new(
            "Excel serial 60 is 1900-02-29, a day that does not exist (a bug kept in Excel)",
        ));
    }
    // Serials after 60 count from 1899-12-30 because Excel counts 1900-02-29.
    let base = if days < 60 {
        (1899, 12, 31)
    } else {
        (1899, 12, 30)
    };
    let seconds = fraction_seconds(frac);
    let start = NaiveDate::from_ymd_opt(base.0, base.1, base.2)
        .ok_or_else(|| NormError::new(EXPECTED))?
        .and_time(NaiveTime::MIN);
    let at = start + Duration::days(i64::from(days)) + Duration::seconds(seconds);
    check_year(i64::from(at.year()))?;
    Ok(Some((at.date(), (!frac.is_empty()).then(|| at.time()))))
}

/// Seconds of the day a fraction of a day (its decimal digits) stands for,
/// rounded to the nearest second with integer arithmetic.
fn fraction_seconds(frac: &str) -> i64 {
    let frac = &frac[..frac.len().min(18)];
    let Ok(num) = frac.parse::<u128>() else {
        return 0;
    };
    let den = 10u128.pow(frac.len() as u32);
    i64::try_from((num * 86_400 * 2 + den) / (2 * den)).unwrap_or(0)
}

/// A tiny scanner over cleaned text.
struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn digits(&mut self) -> &'a str {
        let rest = self.rest();
        let n = rest.bytes().take_while(u8::is_ascii_digit).count();
        self.pos += n;
        &rest[..n]
    }

    fn number(&mut self, min: usize, max: usize, what: &str) -> Result<u32, NormError> {
        let d = self.digits();
        if d.len() < min || d.len() > max {
            return Err(NormError::new(format!("expected {what}")));
        }
        d.parse()
            .map_err(|_| NormError::new(format!("expected {what}")))
    }

    fn eat(&mut self, c: char) -> bool {
        if self.rest().starts_with(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn eat_any(&mut self, set: &[char]) -> Option<char> {
        let c = self.rest().chars().next().filter(|c| set.contains(c))?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_spaces(&mut self) {
        while self.eat(' ') {}
    }

    /// `Y-M-D`, `Y/M/D`, `Y.M.D` (one separator throughout) or `Y年M月D日`.
    fn date(&mut self) -> Result<NaiveDate, NormError> {
        let year = self.number(4, 4, "a four-digit year")?;
        self.skip_spaces();
        let (month, day) = if self.eat('年') {
            self.skip_spaces();
            let month = self.number(1, 2, "a month after 年")?;
            self.skip_spaces();
            if !self.eat('月') {
                return Err(NormError::new("expected 月 after the month"));
            }
            self.skip_spaces();
            let day = self.number(1, 2, "a day after 月")?;
            self.skip_spaces();
            if self.eat_any(&['日', '号']).is_none() {
                return Err(NormError::new("expected 日 or 号 after the day"));
            }
            (month, day)
        } else {
            let sep = self
                .eat_any(&['-', '/', '.'])
                .ok_or_else(|| NormError::new(EXPECTED))?;
            let month = self.number(1, 2, "a one- or two-digit month")?;
            if !self.eat(sep) {
                return Err(NormError::new(format!(
                    "expected `{sep}` between month and day"
                )));
            }
            let day = self.number(1, 2, "a one- or two-digit day")?;
            (month, day)
        };
        ymd(i64::from(year), month, day)
    }

    /// `H:M`, `H:M:S`, `H:M:S.fff` or `H时M分S秒` (also 点; minutes and seconds optional).
    fn time(&mut self) -> Result<NaiveTime, NormError> {
        let hour = self.number(1, 2, "an hour")?;
        self.skip_spaces();
        if self.eat_any(&['时', '点']).is_some() {
            self.skip_spaces();
            if self.at_end() {
                return hms(hour, 0, 0, 0);
            }
            let minute = self.number(1, 2, "minutes")?;
            self.skip_spaces();
            if !self.eat('分') {
                return Err(NormError::new("expected 分 after the minutes"));
            }
            self.skip_spaces();
            if self.at_end() {
                return hms(hour, minute, 0, 0);
            }
            let second = self.number(1, 2, "seconds")?;
            self.skip_spaces();
            if !self.eat('秒') {
                return Err(NormError::new("expected 秒 after the seconds"));
            }
            return hms(hour, minute, second, 0);
        }
        if !self.eat(':') {
            return Err(NormError::new(
                "expected a time like 08:30:00 after the date",
            ));
        }
        let minute = self.number(2, 2, "two-digit minutes")?;
        let mut second = 0;
        let mut nano = 0;
        if self.eat(':') {
            second = self.number(2, 2, "two-digit seconds")?;
            if self.eat('.') {
                let frac = self.digits();
                if frac.is_empty() || frac.len() > 9 {
                    return Err(NormError::new(
                        "expected 1 to 9 digits of fractional seconds",
                    ));
                }
                let scale = 10u32.pow(9 - frac.len() as u32);
                nano = frac
                    .parse::<u32>()
                    .map_err(|_| NormError::new("bad fraction"))?
                    * scale;
            }
        }
        hms(hour, minute, second, nano)
    }
}

#[cfg(test)]
#[path = "date_tests.rs"]
mod tests;
