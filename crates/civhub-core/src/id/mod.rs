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
    let half: String = raw.chars().map(halfwidth_char).collect();
    half.trim_matches(|c: char| c.is_whitespace() || QUOTES.contains(&c) || is_invisible(c))
        .chars()
        .filter(|&c| !(c.is_whitespace() || c == '-' || is_invisible(c)))
        .collect()
}
