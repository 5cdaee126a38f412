//! Telephone numbers (电话号码).
//!
//! Two canonical forms: a mobile number as its 11 digits (`13912345678`), and
//! a landline as area code, dash, local number (`0559-2345678`). Country
//! codes (+86, 0086, 86), spaces, dashes, dots and parentheses are layout and
//! are removed. An extension (`转123`, `分机123`, `ext 123`) is dropped without
//! a note: the number it hangs off is what identifies a household or company.
//! A local number written without its area code gets the column's configured
//! area code (0559 for Huangshan), or is kept bare when none is configured.

use super::text::clean;
use crate::normalizer::NormError;

/// Normalizes a mobile or landline number; `area_code` is the area code of
/// landlines written without one (e.g. "0559").
pub fn phone(raw: &str, area_code: Option<&str>) -> Result<String, NormError> {
    let cleaned = clean(raw);
    let main = drop_extension(&cleaned);
    let compact: String = main
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.' | '\u{2013}' | '\u{2014}'))
        .collect();
    let (international, rest) = strip_country_code(&compact);
    if let Some(c) = rest.chars().find(|c| !c.is_ascii_digit()) {
        return Err(NormError::new(format!(
            "unexpected character `{c}` in a phone number (one number per cell, digits only)"
        )));
    }
    let mut digits = rest.to_string();
    // "+86 559 2345678": the trunk 0 is not dialled after the country code.
    if international && !digits.is_empty() && !digits.starts_with(['0', '1']) {
        digits.insert(0, '0');
    }
    let n = digits.len();
    let b = digits.as_bytes();
    let is_mobile = |d: &[u8]| d.len() == 11 && d[0] == b'1' && (b'3'..=b'9').contains(&d[1]);
    if is_mobile(b) {
        return Ok(digits);
    }
    // A 0 dialled before a mobile number from another city.
    if n == 12 && b[0] == b'0' && is_mobile(&b[1..]) {
        return Ok(digits[1..].to_string());
    }
    if b.first() == Some(&b'0') {
        let area_len = area_code_len(&digits);
        if (7..=8).contains(&(n.saturating_sub(area_len))) {
            return Ok(format!("{}-{}", &digits[..area_len], &digits[area_len..]));
        }
    } else if (7..=8).contains(&n) {
        return match area_code {
            None => Ok(digits),
            Some(code) => {
                let code = code.trim();
                let valid = code.bytes().all(|b| b.is_ascii_digit())
                    && code.starts_with('0')
                    && code.len() == area_code_len(code);
                if valid {
                    Ok(format!("{code}-{digits}"))
                } else {
                    Err(NormError::new(format!(
                        "the configured area code `{code}` is not a Chinese area code \
                         (010, 02x or a 4-digit code starting with 0)"
                    )))
                }
            }
        };
    }
    Err(NormError::new(format!(
        "expected an 11-digit mobile number starting 13-19 or a landline with area code, \
         found {n} digits"
    )))
}

/// Length of the area code a landline starting with `0` carries: 3 for
/// Beijing (010) and the 02x cities, 4 elsewhere.
fn area_code_len(digits: &str) -> usize {
    if digits.starts_with("010") || digits.starts_with("02") {
        3
    } else {
        4
    }
}

/// The number without an extension (转, 分机, ext).
fn drop_extension(s: &str) -> &str {
    let lower = s.to_ascii_lowercase();
    let cut = ["转", "分机", "ext"]
        .iter()
        .filter_map(|m| lower.find(m))
        .min();
    match cut {
        Some(i) => &s[..i],
        None => s,
    }
}

/// Strips +86, 0086 or a bare 86 before a mobile number; says whether one was stripped.
fn strip_country_code(s: &str) -> (bool, &str) {
    for prefix in ["+86", "0086"] {
        if let Some(rest) = s.strip_prefix(prefix) {
            return (true, rest);
        }
    }
    if let Some(rest) = s.strip_prefix("86")
        && rest.len() == 11
        && rest.starts_with('1')
    {
        return (true, rest);
    }
    (false, s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> String {
        phone(raw, None).unwrap()
    }

    #[test]
    fn mobiles() {
        for raw in [
            "13912345678",
            "139 1234 5678",
            "139-1234-5678",
            "+86 139 1234 5678",
            "+8613912345678",
            "0086 13912345678",
            "0086-139-1234-5678",
            "86-13912345678",
            "8613912345678",
            "(+86) 139 1234 5678",
            "１３９１２３４５６７８",
            "013912345678",
        ] {
            assert_eq!(ok(raw), "13912345678", "{raw}");
        }
    }

    #[test]
    fn huangshan_landlines() {
        for raw in [
            "05592345678",
            "0559-2345678",
            "(0559)2345678",
            "（0559）2345678",
            "0559 234 5678",
            "+86 559 2345678",
        ] {
            assert_eq!(ok(raw), "0559-2345678", "{raw}");
        }
        assert_eq!(phone("2345678", Some("0559")).unwrap(), "0559-2345678");
        assert_eq!(phone("2345678", None).unwrap(), "2345678");
        assert_eq!(phone("0559-2345678", Some("0559")).unwrap(), "0559-2345678");
        assert_eq!(ok("010-12345678"), "010-12345678");
        assert_eq!(ok("02112345678"), "021-12345678");
    }

    #[test]
    fn extensions_are_dropped() {
        assert_eq!(ok("0559-2345678转123"), "0559-2345678");
        assert_eq!(ok("0559-2345678 分机 123"), "0559-2345678");
        assert_eq!(ok("0559-2345678 ext 123"), "0559-2345678");
        assert_eq!(ok("0559-2345678 EXT.123"), "0559-2345678");
    }

    #[test]
    fn rejects() {
        assert_eq!(
            phone("1391234567", None).unwrap_err().reason,
            "expected an 11-digit mobile number starting 13-19 or a landline with area code, found 10 digits"
        );
        assert!(phone("12912345678", None).is_err());
        assert!(phone("13912345678/13812345678", None).is_err());
        assert!(phone("abc", None).is_err());
        assert!(phone("", None).is_err());
        assert!(phone("2345678", Some("559")).is_err());
        assert!(phone("2345678", Some("013")).is_err());
    }
}
