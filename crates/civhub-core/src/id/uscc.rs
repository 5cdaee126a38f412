//! Unified social credit code (统一社会信用代码, GB 32100-2015).
//!
//! 18 symbols from a 31-symbol alphabet (digits and upper-case letters without
//! I, O, Z, S, V): registration authority (1) · entity type (1) · region code
//! (6) · organization code (9, GB 11714, with its own check character) · check
//! character (1). Only the final check character decides [`is_valid`]; the
//! embedded organization code is available through [`org_code_part`] for
//! callers that want to check it too (older codes were not always consistent).

use crate::normalizer::NormError;

/// The 31 symbols of the code, in value order.
pub const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Value of a symbol (its index in [`ALPHABET`]), `None` outside the alphabet.
pub fn symbol_value(c: char) -> Option<u32> {
    // ASCII code → index in ALPHABET (u8::MAX outside it).
    const TABLE: [u8; 128] = {
        let mut t = [u8::MAX; 128];
        let b = ALPHABET.as_bytes();
        let mut i = 0;
        while i < b.len() {
            t[b[i] as usize] = i as u8;
            i += 1;
        }
        t
    };
    let v = *TABLE.get(c as usize)?;
    (v != u8::MAX).then_some(u32::from(v))
}

/// Computes the check character for the first 17 symbols; `None` unless the
/// input is exactly 17 symbols of [`ALPHABET`].
pub fn check_char(body: &str) -> Option<char> {
    if body.len() != 17 {
        return None;
    }
    // By bytes: a byte of a multi-byte character is outside the alphabet,
    // as the character is.
    let mut sum = 0;
    for (b, w) in body.bytes().zip(WEIGHTS) {
        sum += symbol_value(char::from(b))? * w;
    }
    let check = (31 - sum % 31) % 31;
    ALPHABET
        .as_bytes()
        .get(check as usize)
        .map(|&b| char::from(b))
}

/// True if the code is 18 symbols of [`ALPHABET`] and its check character is correct.
pub fn is_valid(code: &str) -> bool {
    code.len() == 18
        && code.is_char_boundary(17)
        && check_char(&code[..17]).is_some_and(|c| code.ends_with(c))
}

/// The embedded organization code (GB 11714): characters 9 to 17 of an
/// 18-character code, without a dash. `None` unless the code is 18 ASCII
/// letters and digits.
pub fn org_code_part(code: &str) -> Option<&str> {
    (code.len() == 18 && code.bytes().all(|b| b.is_ascii_alphanumeric())).then(|| &code[8..17])
}

/// For an 18-symbol code whose check fails: every valid code reachable by
/// changing one of the first 17 symbols or swapping two adjacent ones, in
/// ascending order. Empty for a valid or malformed code.
pub fn one_edit_candidates(code: &str) -> Vec<String> {
    if code.len() != 18 || !code.chars().all(|c| symbol_value(c).is_some()) || is_valid(code) {
        return Vec::new();
    }
    let original = code.as_bytes();
    let mut work = original.to_vec();
    let mut out = Vec::new();
    let mut push = |w: &[u8]| {
        if let Ok(s) = std::str::from_utf8(w)
            && is_valid(s)
        {
            out.push(s.to_string());
        }
    };
    for pos in 0..17 {
        for c in ALPHABET.bytes() {
            if c != original[pos] {
                work[pos] = c;
                push(&work);
            }
        }
        work[pos] = original[pos];
    }
    for pos in 0..16 {
        if original[pos] != original[pos + 1] {
            work.swap(pos, pos + 1);
            push(&work);
            work.swap(pos, pos + 1);
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Canonicalizes a raw code: layout removed, full-width and lower-case folded.
/// The check character is not enforced (see [`is_valid`]).
pub fn normalize(raw: &str) -> Result<String, NormError> {
    // Most cells are a bare code already: 18 symbols once upper-cased, which
    // every step below would let through as is.
    if raw.len() == 18
        && raw
            .bytes()
            .all(|b| symbol_value(char::from(b.to_ascii_uppercase())).is_some())
    {
        return Ok(raw.to_ascii_uppercase());
    }
    let mut s = super::strip_layout(raw);
    if s.is_ascii() {
        s.make_ascii_uppercase();
    } else {
        s = s.chars().flat_map(char::to_uppercase).collect();
    }
    if let Some((pos, c)) = s
        .chars()
        .enumerate()
        .find(|&(_, c)| symbol_value(c).is_none())
    {
        let hint = if matches!(c, 'I' | 'O' | 'Z' | 'S' | 'V') {
            " (the letters I, O, Z, S and V are not used in credit codes)"
        } else {
            ""
        };
        return Err(NormError::new(format!(
            "unexpected character `{c}` at position {}{hint}",
            pos + 1
        )));
    }
    if s.len() != 18 {
        return Err(NormError::new(format!(
            "expected 18 characters, found {}",
            s.len()
        )));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::org_code;

    #[test]
    fn domain_examples_are_valid() {
        for code in ["91330100716105852F", "9144030071526726XG"] {
            assert!(is_valid(code), "{code}");
            assert_eq!(check_char(&code[..17]), code.chars().last());
        }
    }

    #[test]
    fn embedded_org_codes_of_the_examples_validate() {
        assert_eq!(org_code_part("91330100716105852F"), Some("716105852"));
        assert_eq!(org_code_part("9144030071526726XG"), Some("71526726X"));
        assert!(org_code::is_valid("716105852"));
        assert!(org_code::is_valid("71526726X"));
        assert_eq!(org_code_part("short"), None);
    }

    #[test]
    fn wrong_check_or_alphabet_is_invalid() {
        assert!(!is_valid("91330100716105852G"));
        assert!(!is_valid("91330100716105852"));
        assert!(!is_valid("91330100716105852f"));
        assert!(!is_valid("9133010071610585IF"));
        assert!(!is_valid("9133010071610585２F"));
        assert_eq!(check_char("9133010071610585O"), None);
    }

    #[test]
    fn normalize_folds_layout() {
        assert_eq!(
            normalize(" 91330100716105852f ").unwrap(),
            "91330100716105852F"
        );
        assert_eq!(
            normalize("９１３３０１００７１６１０５８５２Ｆ").unwrap(),
            "91330100716105852F"
        );
        assert_eq!(
            normalize("9133 0100 7161 0585 2F").unwrap(),
            "91330100716105852F"
        );
        assert_eq!(
            normalize("91330100-71610585-2F").unwrap(),
            "91330100716105852F"
        );
        assert_eq!(
            normalize("'9144030071526726xg").unwrap(),
            "9144030071526726XG"
        );
        // Wrong check character is kept.
        assert_eq!(
            normalize("91330100716105852G").unwrap(),
            "91330100716105852G"
        );
    }

    #[test]
    fn normalize_errors() {
        assert_eq!(
            normalize("9133010071610585").unwrap_err().reason,
            "expected 18 characters, found 16"
        );
        let e = normalize("9133010O716105852F").unwrap_err().reason;
        assert!(
            e.starts_with("unexpected character `O` at position 8"),
            "{e}"
        );
        assert!(normalize("91330100716105852F!").is_err());
        assert!(normalize("").is_err());
    }
}
