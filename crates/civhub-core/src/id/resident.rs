//! Resident identity number (居民身份证号码, GB 11643-1999).
//!
//! An 18-character number: region code (6) · birth date YYYYMMDD (8) ·
//! sequence (3, odd for men, even for women) · check character (ISO 7064
//! MOD 11-2: a digit or `X`). Old 15-digit numbers lack the century and the
//! check character.
//!
//! [`normalize`] only repairs what can be repaired without guessing (layout,
//! full-width forms, a 15-digit number, a missing check character) and keeps a
//! wrong check character as it is: whether the number is valid is a separate
//! question answered by [`is_valid`], because an invalid number is evidence in
//! matching, not something to drop or silently "fix".

use crate::normalizer::NormError;
use chrono::NaiveDate;

/// A resident ID in canonical 18-character form, and the repair made to get it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizedId {
    /// 18 characters: 17 digits and a check character (digit or upper-case X).
    /// The check character is *not* guaranteed valid: see [`is_valid`].
    pub id: String,
    /// A repair worth flagging, if one was made.
    pub repair: Option<&'static str>,
}

/// Repair note for a 15-digit number upgraded to 18 digits.
pub const REPAIR_UPGRADED: &str = "15-digit ID upgraded to 18 digits";
/// Repair note for a 17-digit number completed with its check character.
pub const REPAIR_CHECK_COMPUTED: &str = "check character missing; computed";

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: &[u8; 11] = b"10X98765432";

/// Earliest birth year accepted as real.
pub const MIN_BIRTH_YEAR: i32 = 1880;
/// Latest birth year accepted as real (fixed, so validity never depends on the clock).
pub const MAX_BIRTH_YEAR: i32 = 2100;

/// Computes the check character for the first 17 digits; `None` unless the
/// input is exactly 17 ASCII digits.
pub fn check_char(first17: &str) -> Option<char> {
    let b = first17.as_bytes();
    if b.len() != 17 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = b
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    Some(char::from(CHECK_CHARS[(sum % 11) as usize]))
}

/// True if `id` is 18 characters (17 digits and a digit or `X`) in canonical form,
/// whatever its check character and birth date.
pub fn is_well_formed(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 18
        && b[..17].iter().all(u8::is_ascii_digit)
        && (b[17].is_ascii_digit() || b[17] == b'X')
}

/// True if `id` is 18 characters with a correct check character and a real birth date.
pub fn is_valid(id: &str) -> bool {
    // `check_char(&id[..17])` and `id.ends_with(c)` on bytes: a well-formed
    // ID is 18 ASCII characters.
    is_well_formed(id)
        && {
            let b = id.as_bytes();
            let sum: u32 = b[..17]
                .iter()
                .zip(WEIGHTS)
                .map(|(d, w)| u32::from(d - b'0') * w)
                .sum();
            CHECK_CHARS[(sum % 11) as usize] == b[17]
        }
        && birth_date(id).is_some()
}

/// Canonicalizes a raw resident ID (see the module documentation for what is repaired).
pub fn normalize(raw: &str) -> Result<NormalizedId, NormError> {
    // Most cells are a bare 18-character ID already: 17 digits and a digit
    // or X (x upper-cased), which every check below would let through as is.
    let b = raw.as_bytes();
    if b.len() == 18
        && b[..17].iter().all(u8::is_ascii_digit)
        && (b[17].is_ascii_digit() || b[17] == b'X' || b[17] == b'x')
    {
        let mut id = raw.to_string();
        id.make_ascii_uppercase();
        return Ok(NormalizedId { id, repair: None });
    }
    let s = canonical_chars(raw);
    if looks_like_scientific(&s) {
        return Err(NormError::new(
            "Excel turned the ID number into a number in scientific notation and its last \
             digits were lost; format the column as text and export again",
        ));
    }
    let last = s.chars().count().saturating_sub(1);
    if let Some((pos, c)) = s
        .chars()
        .enumerate()
        .find(|&(i, c)| !(c.is_ascii_digit() || (c == 'X' && i == last)))
    {
        return Err(NormError::new(format!(
            "unexpected character `{c}` at position {}",
            pos + 1
        )));
    }
    let all_digits = s.bytes().all(|b| b.is_ascii_digit());
    match s.len() {
        18 => Ok(NormalizedId {
            id: s,
            repair: None,
        }),
        17 if all_digits => {
            let check = check_char(&s).ok_or_else(|| NormError::new("expected 17 digits"))?;
            Ok(NormalizedId {
                id: format!("{s}{check}"),
                repair: Some(REPAIR_CHECK_COMPUTED),
            })
        }
        15 if all_digits => {
            let id = upgrade_15(&s).ok_or_else(|| NormError::new("expected 15 digits"))?;
            Ok(NormalizedId {
                id,
                repair: Some(REPAIR_UPGRADED),
            })
        }
        n => Err(NormError::new(format!(
            "expected 18 characters (17 digits and a check character), found {n}"
        ))),
    }
}

/// Removes layout and folds full-width forms and lower-case x.
fn canonical_chars(raw: &str) -> String {
    let s = super::strip_layout(raw);
    if s.contains('x') {
        s.replace('x', "X")
    } else {
        s
    }
}

/// True for text like `1.10105E+17` or `3.41002199001011e17`.
fn looks_like_scientific(s: &str) -> bool {
    let Some((mantissa, exp)) = s.split_once(['E', 'e']) else {
        return false;
    };
    let exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    !int.is_empty() && digits(int) && digits(frac) && !exp.is_empty() && digits(exp)
}

/// Upgrades a 15-digit ID to 18 digits (century "19" inserted before the
/// two-digit year, check character appended); `None` unless given 15 ASCII digits.
pub fn upgrade_15(id15: &str) -> Option<String> {
    if id15.len() != 15 || !id15.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let first17 = format!("{}19{}", &id15[..6], &id15[6..]);
    let check = check_char(&first17)?;
    Some(format!("{first17}{check}"))
}

/// Birth date embedded in an 18-digit ID; `None` if the ID is malformed or the
/// date is not a real calendar date between 1880 and 2100.
pub fn birth_date(id: &str) -> Option<NaiveDate> {
    if !is_well_formed(id) {
        return None;
    }
    // ASCII digits (checked above), read without `str::parse`.
    let number = |r: std::ops::Range<usize>| {
        id.as_bytes()[r]
            .iter()
            .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'))
    };
    let year = number(6..10) as i32;
    let month = number(10..12);
    let day = number(12..14);
    if !(MIN_BIRTH_YEAR..=MAX_BIRTH_YEAR).contains(&year) {
        return None;
    }
    NaiveDate::from_ymd_opt(year, month, day)
}

/// Gender embedded in an 18-digit ID: "男" (odd sequence) or "女" (even).
pub fn gender(id: &str) -> Option<&'static str> {
    if !is_well_formed(id) {
        return None;
    }
    let digit = id.as_bytes()[16] - b'0';
    Some(if digit % 2 == 1 { "男" } else { "女" })
}

/// Administrative region code (GB/T 2260) of an 18- or 15-digit ID: its first
/// six digits.
pub fn region_code(id: &str) -> Option<&str> {
    let fifteen = id.len() == 15 && id.bytes().all(|b| b.is_ascii_digit());
    (is_well_formed(id) || fifteen).then(|| &id[..6])
}

/// For a well-formed 18-character ID whose check fails: every valid ID
/// reachable by changing one of the first 17 digits or by swapping two
/// adjacent digits among them, in ascending order. Empty for a valid or
/// malformed ID.
pub fn one_edit_candidates(id: &str) -> Vec<String> {
    if !is_well_formed(id) || is_valid(id) {
        return Vec::new();
    }
    let original = id.as_bytes();
    let mut out = Vec::new();
    let mut push_if_valid = |bytes: &[u8]| {
        if let Ok(s) = std::str::from_utf8(bytes)
            && is_valid(s)
        {
            out.push(s.to_string());
        }
    };
    let mut work = original.to_vec();
    for pos in 0..17 {
        for d in b'0'..=b'9' {
            if d != original[pos] {
                work[pos] = d;
                push_if_valid(&work);
            }
        }
        work[pos] = original[pos];
    }
    for pos in 0..16 {
        if original[pos] != original[pos + 1] {
            work.swap(pos, pos + 1);
            push_if_valid(&work);
            work.swap(pos, pos + 1);
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "11010519491231002X";

    #[test]
    fn domain_example_is_valid() {
        assert_eq!(check_char("11010519491231002"), Some('X'));
        assert!(is_valid(VALID));
        assert_eq!(birth_date(VALID), NaiveDate::from_ymd_opt(1949, 12, 31));
        assert_eq!(gender(VALID), Some("女"));
        assert_eq!(region_code(VALID), Some("110105"));
    }

    #[test]
    fn check_char_rejects_non_digits() {
        assert_eq!(check_char("1101051949123100"), None);
        assert_eq!(check_char("1101051949123100A"), None);
        assert_eq!(check_char("１１01051949123100２"), None);
    }

    #[test]
    fn invalid_ids() {
        assert!(!is_valid("110105194912310021"));
        assert!(!is_valid("11010519491231002x"));
        assert!(!is_valid("11010519491231002"));
        // 1980-02-30 does not exist; check character made to match.
        let first17 = "34100219800230001";
        let id = format!("{first17}{}", check_char(first17).unwrap());
        assert!(!is_valid(&id));
        assert_eq!(birth_date(&id), None);
    }

    #[test]
    fn normalize_export_mess() {
        let ok = |raw: &str| normalize(raw).unwrap();
        assert_eq!(ok("11010519491231002x").id, VALID);
        assert_eq!(ok("１１０１０５１９４９１２３１００２Ｘ").id, VALID);
        assert_eq!(ok("１１０１０５１９４９１２３１００２ｘ").id, VALID);
        assert_eq!(ok(" 110105 19491231 002X ").id, VALID);
        assert_eq!(ok("110105-19491231-002X").id, VALID);
        assert_eq!(ok("'11010519491231002X").id, VALID);
        assert_eq!(ok("\u{2018}11010519491231002X").id, VALID);
        assert_eq!(ok("`11010519491231002X").id, VALID);
        assert_eq!(ok("\t11010519491231002X\t").id, VALID);
        assert_eq!(
            ok(VALID),
            NormalizedId {
                id: VALID.into(),
                repair: None
            }
        );
    }

    #[test]
    fn normalize_keeps_wrong_check_char() {
        let n = normalize("110105194912310021").unwrap();
        assert_eq!(n.id, "110105194912310021");
        assert_eq!(n.repair, None);
        assert!(!is_valid(&n.id));
        // Trailing 000 is a legitimate ID shape: no guessing.
        assert_eq!(
            normalize("341002199001011000").unwrap().id,
            "341002199001011000"
        );
    }

    #[test]
    fn normalize_repairs_missing_check_char() {
        let n = normalize("11010519491231002").unwrap();
        assert_eq!(n.id, VALID);
        assert_eq!(n.repair, Some(REPAIR_CHECK_COMPUTED));
    }

    #[test]
    fn normalize_upgrades_15_digits() {
        let n = normalize("110105491231002").unwrap();
        assert_eq!(n.id, VALID);
        assert_eq!(n.repair, Some(REPAIR_UPGRADED));
        assert_eq!(upgrade_15("110105491231002").as_deref(), Some(VALID));
        assert_eq!(upgrade_15("11010549123100"), None);
    }

    #[test]
    fn normalize_rejects_scientific_notation() {
        for raw in [
            "1.10105E+17",
            "3.41002199001011e17",
            "3.41002199001011E+17",
            "1E17",
        ] {
            let err = normalize(raw).unwrap_err().reason;
            assert!(err.contains("Excel"), "{raw}: {err}");
            assert!(err.contains("text"), "{raw}: {err}");
            assert!(!err.contains(raw), "{raw}: {err}");
        }
    }

    #[test]
    fn normalize_errors_say_what_was_found() {
        assert_eq!(
            normalize("1101051949123100").unwrap_err().reason,
            "expected 18 characters (17 digits and a check character), found 16"
        );
        assert_eq!(
            normalize("1101Y519491231002X").unwrap_err().reason,
            "unexpected character `Y` at position 5"
        );
        assert_eq!(
            normalize("1101051949123X002X").unwrap_err().reason,
            "unexpected character `X` at position 14"
        );
        assert!(normalize("11010519491231002X1").is_err());
        assert!(normalize("").is_err());
        assert!(normalize("'").is_err());
    }

    #[test]
    fn normalizer_reports_the_repair() {
        use crate::{Normalizer, Value};
        let n = Normalizer::ResidentId
            .apply("110105491231002", &Default::default())
            .unwrap();
        assert_eq!(n.value, Value::Str(VALID.into()));
        assert_eq!(n.note.as_deref(), Some(REPAIR_UPGRADED));
        let n = Normalizer::ResidentId
            .apply("１１０１０５１９４９１２３１００２ｘ", &Default::default())
            .unwrap();
        assert_eq!(n.note, None);
    }

    #[test]
    fn gender_follows_17th_digit() {
        let male = upgrade_15("110105491231001").unwrap();
        assert_eq!(gender(&male), Some("男"));
        assert_eq!(gender("short"), None);
    }

    #[test]
    fn candidates_contain_the_original_after_a_typo() {
        // One substitution in the birth date.
        let typo = "11010519491232002X";
        let c = one_edit_candidates(typo);
        assert!(c.contains(&VALID.to_string()), "{c:?}");
        assert!(c.iter().all(|s| is_valid(s)));
        assert!(c.windows(2).all(|w| w[0] < w[1]));
        // Adjacent swap in the sequence number.
        let swapped = "11010519491231020X";
        assert!(!is_valid(swapped));
        assert!(one_edit_candidates(swapped).contains(&VALID.to_string()));
        assert!(one_edit_candidates(VALID).is_empty());
        assert!(one_edit_candidates("123").is_empty());
    }
}
