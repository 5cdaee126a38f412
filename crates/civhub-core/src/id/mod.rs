//! Identifiers with check characters: resident ID, USCC, organization code.
//!
//! Each module offers the same shape of API: `check_char` over the body,
//! `is_valid` for a canonical code, and `normalize` that removes layout and
//! full-width forms but never "fixes" a wrong check character — validity is a
//! separate rule, and a failed check is evidence worth keeping.

pub mod org_code;
pub mod resident;
pub mod uscc;

#[cfg(test)]
mod proptests;

use crate::normalize::text::{halfwidth_char, is_invisible};

/// Removes what exports wrap around a code: surrounding whitespace and quote
/// marks (Excel users type a leading apostrophe to force text), inner
/// whitespace, dashes and invisible characters; folds full-width forms.
pub(crate) fn strip_layout(raw: &str) -> String {
    const QUOTES: &[char] = &[
        '\'', '\u{2018}', '\u{2019}', '`', '"', '\u{201C}', '\u{201D}',
    ];
    if raw.bytes().all(|b| b.is_ascii_alphanumeric()) {
        // Nothing to fold, trim or drop (the common case: a bare code).
        return raw.to_string();
    }
    let half: String = raw.chars().map(halfwidth_char).collect();
    half.trim_matches(|c: char| c.is_whitespace() || QUOTES.contains(&c) || is_invisible(c))
        .chars()
        .filter(|&c| !(c.is_whitespace() || c == '-' || is_invisible(c)))
        .collect()
}

/// True when two 18-character codes are one typing mistake apart: the same
/// check character and either one different symbol or two adjacent symbols
/// swapped among the first 17. Matching uses it for the level "one typo
/// apart", where a failed check character showed the typo.
pub fn one_typo_apart(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != 18 || b.len() != 18 || a[17] != b[17] || a == b {
        return false;
    }
    let diff: Vec<usize> = (0..17).filter(|&i| a[i] != b[i]).collect();
    match diff.as_slice() {
        [_] => true,
        [i, j] => *j == i + 1 && a[*i] == b[*j] && a[*j] == b[*i],
        _ => false,
    }
}

#[cfg(test)]
mod typo_tests {
    use super::one_typo_apart;

    #[test]
    fn typos() {
        assert!(one_typo_apart("11010519491231002X", "11010519491231003X"));
        assert!(one_typo_apart("11010519491231002X", "11010519491213002X"));
        assert!(!one_typo_apart("11010519491231002X", "11010519491231002X"));
        assert!(!one_typo_apart("11010519491231002X", "110105194912310021"));
        assert!(!one_typo_apart("11010519491231002X", "21010519491231003X"));
        assert!(!one_typo_apart("short", "short"));
    }
}
