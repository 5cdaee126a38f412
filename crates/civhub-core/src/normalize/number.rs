//! Numbers, amounts of money and floor areas.
//!
//! Money and areas are staged as fixed-point hundredths (分 for money), so
//! they are parsed digit by digit into integers: `0.1 + 0.2` style float
//! errors never reach a 低保 income check. Rounding is half away from zero.
//! Thousands separators are accepted only where they group by three
//! (`1,234,567.8`), so `1,2` — more likely two numbers — is refused.

use super::text::clean_cow;
use crate::normalizer::NormError;
use std::borrow::Cow;

/// A number as written: sign, integer digits (separators removed), fraction
/// digits; borrowed from the text unless separators had to be removed.
struct Written<'a> {
    negative: bool,
    int: Cow<'a, str>,
    frac: &'a str,
}

/// Parses `[+-]digits[,ddd…][.digits]`; nothing else may surround it.
fn parse_written(s: &str) -> Result<Written<'_>, NormError> {
    let (negative, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (int_part, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    let ok_frac = digits(frac) && !(body.contains('.') && frac.is_empty() && int_part.is_empty());
    let grouped = int_part.contains(',');
    let ok_groups = if grouped {
        let mut groups = int_part.split(',');
        let first = groups.next().unwrap_or("");
        digits(first) && (1..=3).contains(&first.len()) && groups.all(|g| digits(g) && g.len() == 3)
    } else {
        digits(int_part)
    };
    if !ok_frac || !ok_groups || (int_part.is_empty() && frac.is_empty()) {
        return Err(not_a_number(s));
    }
    Ok(Written {
        negative,
        int: if grouped {
            Cow::Owned(int_part.replace(',', ""))
        } else {
            Cow::Borrowed(int_part)
        },
        frac,
    })
}

/// The reason for text that is not one number.
fn not_a_number(s: &str) -> NormError {
    let mut runs = 0;
    let mut in_run = false;
    for c in s.chars() {
        let num = c.is_ascii_digit() || c == '.' || c == ',';
        if num && !in_run {
            runs += 1;
        }
        in_run = num;
    }
    if runs > 1 {
        NormError::new("expected one number, found more than one")
    } else if s.chars().any(|c| c.is_ascii_digit()) {
        NormError::new("expected a number like 1,234.56, found other characters around the digits")
    } else {
        NormError::new("expected a number, found no digits")
    }
}

/// The value times 10^places, rounded half away from zero.
fn scaled(w: &Written, places: usize) -> Result<i128, NormError> {
    let int = w.int.trim_start_matches('0');
    if int.len() + places > 36 {
        return Err(NormError::new("number too large"));
    }
    // At most 36 digits (checked above, both parts validated as ASCII
    // digits by `parse_written`): below 10^36, no overflow.
    let frac = w.frac.as_bytes();
    let digits = int
        .bytes()
        .chain((0..places).map(|i| frac.get(i).copied().unwrap_or(b'0')));
    let magnitude = if int.len() + places <= 18 {
        // Below 10^18: fits a u64, cheaper to multiply.
        i128::from(digits.fold(0u64, |m, d| m * 10 + u64::from(d - b'0')))
    } else {
        digits.fold(0i128, |m, d| m * 10 + i128::from(d - b'0'))
    };
    let round_up = w.frac.as_bytes().get(places).is_some_and(|&d| d >= b'5');
    let magnitude = magnitude + i128::from(round_up);
    Ok(if w.negative { -magnitude } else { magnitude })
}

/// Splits a known unit off the end of the text; units are tried in order.
fn split_unit<'a>(s: &'a str, units: &[&'static str]) -> (&'a str, Option<&'static str>) {
    for &u in units {
        if let Some(rest) = s.strip_suffix(u) {
            return (rest.trim_end(), Some(u));
        }
    }
    (s, None)
}

/// Decimal places a unit of money adds to 元.
fn money_places(unit: &str) -> Option<usize> {
    match unit {
        "元" => Some(0),
        "万元" | "万" => Some(4),
        "亿元" | "亿" => Some(8),
        _ => None,
    }
}

/// Money in 分 (hundredths of 元). Accepts thousands separators, a ￥/¥ sign
/// and the units 元, 万元/万, 亿元/亿; `default_unit` ("元" or "万元") applies
/// when none is written.
pub fn amount(raw: &str, default_unit: Option<&str>) -> Result<i128, NormError> {
    let s = clean_cow(raw);
    let (body, unit) = split_unit(&s, &["万元", "亿元", "元", "万", "亿"]);
    let places = match unit.or(default_unit.map(str::trim)) {
        None => 0,
        Some(u) => money_places(u).ok_or_else(|| {
            NormError::new(format!("unknown unit of money `{u}`; expected 元 or 万元"))
        })?,
    };
    let (sign, body) = match body.as_bytes().first() {
        Some(b'-') => ("-", &body[1..]),
        Some(b'+') => ("", &body[1..]),
        _ => ("", body),
    };
    let body = body.strip_prefix(['￥', '¥']).map_or(body, str::trim_start);
    let signed;
    let text = if sign.is_empty() {
        body
    } else {
        signed = format!("{sign}{body}");
        signed.as_str()
    };
    scaled(&parse_written(text)?, 2 + places)
}

/// Floor area in hundredths of ㎡. Accepts the units ㎡, 平方米, 平米, m2, m²
/// (any case); negative areas are refused.
pub fn area(raw: &str) -> Result<i128, NormError> {
    let s = clean_cow(raw).to_lowercase();
    let (body, _) = split_unit(&s, &["平方米", "平米", "㎡", "m²", "m2", "平方", "平"]);
    let w = parse_written(body)?;
    let value = scaled(&w, 2)?;
    if w.negative && value != 0 {
        return Err(NormError::new("an area cannot be negative"));
    }
    Ok(value.abs())
}

/// A whole number; thousands separators and a zero fraction (`12.0`) are accepted.
pub fn integer(raw: &str) -> Result<i64, NormError> {
    let s = clean_cow(raw);
    let w = parse_written(&s)?;
    if w.frac.bytes().any(|b| b != b'0') {
        return Err(NormError::new("expected a whole number, found a fraction"));
    }
    i64::try_from(scaled(&w, 0)?).map_err(|_| NormError::new("number too large"))
}

/// A decimal number in hundredths, rounded half away from zero.
pub fn decimal(raw: &str) -> Result<i128, NormError> {
    scaled(&parse_written(&clean_cow(raw))?, 2)
}

/// A floating-point number; thousands separators and an exponent (`1.2e3`) are accepted.
pub fn float(raw: &str) -> Result<f64, NormError> {
    let s = clean_cow(raw);
    let (mantissa, exponent) = match s.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (s.as_ref(), None),
    };
    let w = parse_written(mantissa)?;
    let mut text = format!("{}{}.{}", if w.negative { "-" } else { "" }, w.int, w.frac);
    if let Some(e) = exponent {
        let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(NormError::new("expected digits after the exponent"));
        }
        text.push('e');
        text.push_str(e);
    }
    let text = text.replace("-.", "-0.");
    let text = if text.starts_with('.') {
        format!("0{text}")
    } else {
        text
    };
    let value: f64 = text.parse().map_err(|_| not_a_number(&s))?;
    if value.is_finite() {
        Ok(value)
    } else {
        Err(NormError::new("number too large"))
    }
}

#[cfg(test)]
#[path = "number_tests.rs"]
mod tests;
