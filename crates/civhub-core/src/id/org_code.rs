//! Organization code (组织机构代码, GB 11714).
//!
//! Nine characters: an 8-symbol body (digits and upper-case letters) and a
//! check character (a digit or `X`), usually printed with a dash before the
//! check character (`71610585-2`). The canonical form has no dash.

use crate::normalizer::NormError;

const WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// Value of a body symbol: digits 0–9, letters A=10 … Z=35; `None` otherwise.
fn symbol_value(c: char) -> Option<u32> {
    match c {
        '0'..='9' | 'A'..='Z' => c.to_digit(36),
        _ => None,
    }
}

/// Computes the check character for the 8-symbol body; `None` unless the body
/// is exactly 8 digits or upper-case letters.
pub fn check_char(body: &str) -> Option<char> {
    if body.len() != 8 {
        return None;
    }
    let mut sum = 0;
    for (c, w) in body.chars().zip(WEIGHTS) {
        sum += symbol_value(c)? * w;
    }
    Some(match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        n => char::from_digit(n, 10)?,
    })
}

/// True if the code is 9 characters without dash (8 body symbols and a check
/// character) and its check character is correct.
pub fn is_valid(code: &str) -> bool {
    code.len() == 9
        && code.is_char_boundary(8)
        && check_char(&code[..8]).is_some_and(|c| code.ends_with(c))
}

/// Canonicalizes a raw code (`71610585-2`, lower case, full-width, spaces) to 9
/// characters without dash. The check character is not enforced (see [`is_valid`]).
pub fn normalize(raw: &str) -> Result<String, NormError> {
    let s: String = super::strip_layout(raw)
        .chars()
        .flat_map(char::to_uppercase)
        .collect();
    let last = s.chars().count().saturating_sub(1);
    if let Some((pos, c)) = s.chars().enumerate().find(|&(i, c)| {
        if i == last && i == 8 {
            !(c.is_ascii_digit() || c == 'X')
        } else {
            symbol_value(c).is_none()
        }
    }) {
        return Err(NormError::new(format!(
            "unexpected character `{c}` at position {}",
            pos + 1
        )));
    }
    if s.len() != 9 {
        return Err(NormError::new(format!(
            "expected 9 characters (8 code characters and a check character), found {}",
            s.len()
        )));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes() {
        assert_eq!(check_char("71610585"), Some('2'));
        assert_eq!(check_char("71526726"), Some('X'));
        assert!(is_valid("716105852"));
        assert!(is_valid("71526726X"));
        assert!(!is_valid("716105853"));
        assert!(!is_valid("71610585-2"));
        assert!(!is_valid("71526726x"));
    }

    #[test]
    fn check_char_maps_10_and_11() {
        let sum = |b: &str| -> u32 {
            b.chars()
                .zip(WEIGHTS)
                .map(|(c, w)| symbol_value(c).unwrap() * w)
                .sum()
        };
        assert_eq!(sum("71526726") % 11, 1);
        assert_eq!(check_char("00000000"), Some('0'));
        assert_eq!(sum("00000000") % 11, 0);
        // A = 10: sum 30, 30 mod 11 = 8, check 11 - 8 = 3.
        assert_eq!(check_char("A0000000"), Some('3'));
    }

    #[test]
    fn letters_in_body() {
        assert_eq!(check_char("a0000000"), None);
        assert_eq!(check_char("A000000"), None);
        assert!(check_char("MA2XYZ00").is_some());
    }

    #[test]
    fn normalize_variants() {
        for raw in [
            "71610585-2",
            "716105852",
            " 71610585 - 2 ",
            "７１６１０５８５－２",
            "'716105852",
        ] {
            assert_eq!(normalize(raw).unwrap(), "716105852", "{raw}");
        }
        assert_eq!(normalize("71526726-x").unwrap(), "71526726X");
        assert_eq!(normalize("ma2xyz00-1").unwrap(), "MA2XYZ001");
    }

    #[test]
    fn normalize_errors() {
        assert_eq!(
            normalize("7161058").unwrap_err().reason,
            "expected 9 characters (8 code characters and a check character), found 7"
        );
        assert_eq!(
            normalize("7161#0585-2").unwrap_err().reason,
            "unexpected character `#` at position 5"
        );
        assert_eq!(
            normalize("71610585-Y").unwrap_err().reason,
            "unexpected character `Y` at position 9"
        );
    }
}
