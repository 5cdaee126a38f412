//! Property tests of the identifier rules: check characters round-trip, one
//! substituted digit is always caught, normalization is idempotent and never
//! panics.

use super::{org_code, resident, uscc};
use proptest::prelude::*;

/// Region, a real birth date between 1880 and 2100, and a sequence: 17 digits.
fn first17() -> impl Strategy<Value = String> {
    ("[0-9]{6}", 1880i32..=2100, 1u32..=12, 1u32..=31, "[0-9]{3}").prop_filter_map(
        "real date",
        |(region, y, m, d, seq)| {
            chrono::NaiveDate::from_ymd_opt(y, m, d)
                .map(|_| format!("{region}{y:04}{m:02}{d:02}{seq}"))
        },
    )
}

fn valid_id() -> impl Strategy<Value = String> {
    first17().prop_map(|f| {
        let c = resident::check_char(&f).unwrap_or('?');
        format!("{f}{c}")
    })
}

/// Messy spellings of an ID: full-width, lower-case x, spaces, apostrophes.
fn messy(id: &str, fullwidth: bool, spaces: bool, apostrophe: bool) -> String {
    let mut out = String::new();
    if apostrophe {
        out.push('\'');
    }
    for (i, c) in id.chars().enumerate() {
        if spaces && i % 4 == 0 {
            out.push(' ');
        }
        let c = if c == 'X' { 'x' } else { c };
        out.push(if fullwidth {
            char::from_u32(c as u32 + 0xFEE0).unwrap_or(c)
        } else {
            c
        });
    }
    out
}

proptest! {
    #[test]
    fn resident_check_char_round_trips(id in valid_id()) {
        prop_assert!(resident::is_valid(&id));
        prop_assert_eq!(resident::normalize(&id).map(|n| n.id), Ok(id));
    }

    #[test]
    fn resident_one_substitution_is_caught(id in valid_id(), pos in 0usize..18, delta in 1u8..=10) {
        let mut bytes = id.clone().into_bytes();
        let alphabet = b"0123456789X";
        let current = alphabet.iter().position(|&b| b == bytes[pos]).unwrap_or(0);
        let modulus = if pos == 17 { 11 } else { 10 };
        // 1..=9 for a digit, 1..=10 for the check character: never a no-op.
        let delta = if pos == 17 { usize::from(delta) } else { (usize::from(delta) - 1) % 9 + 1 };
        bytes[pos] = alphabet[(current + delta) % modulus];
        let typo = String::from_utf8(bytes).unwrap_or_default();
        prop_assert!(!resident::is_valid(&typo), "{} -> {}", id, typo);
        if pos < 17 {
            prop_assert!(resident::one_edit_candidates(&typo).contains(&id));
        }
    }

    #[test]
    fn resident_adjacent_swap_is_found(id in valid_id(), pos in 0usize..16) {
        let mut bytes = id.clone().into_bytes();
        if bytes[pos] == bytes[pos + 1] {
            return Ok(());
        }
        bytes.swap(pos, pos + 1);
        let typo = String::from_utf8(bytes).unwrap_or_default();
        // Adjacent weights differ by a non-multiple of 11, so a swap of two
        // different digits always breaks the check.
        prop_assert!(!resident::is_valid(&typo));
        prop_assert!(resident::one_edit_candidates(&typo).contains(&id));
    }

    #[test]
    fn resident_15_upgrades_to_18(
        region in "[0-9]{6}", yy in 0u32..100, m in 1u32..=12, d in 1u32..=28, seq in "[0-9]{3}"
    ) {
        let id15 = format!("{region}{yy:02}{m:02}{d:02}{seq}");
        let first17 = format!("{region}19{yy:02}{m:02}{d:02}{seq}");
        let id18 = format!("{first17}{}", resident::check_char(&first17).unwrap_or('?'));
        prop_assert_eq!(resident::upgrade_15(&id15), Some(id18.clone()));
        prop_assert!(resident::is_valid(&id18));
        let n = resident::normalize(&id15).map_err(|e| e.reason);
        prop_assert_eq!(n.map(|n| n.id), Ok(id18));
    }

    #[test]
    fn resident_messy_exports_normalize(
        id in valid_id(), fw in any::<bool>(), sp in any::<bool>(), ap in any::<bool>()
    ) {
        let raw = messy(&id, fw, sp, ap);
        prop_assert_eq!(resident::normalize(&raw).map(|n| n.id), Ok(id));
    }

    #[test]
    fn resident_missing_check_char_is_computed(id in valid_id()) {
        let n = resident::normalize(&id[..17]).map_err(|e| e.reason);
        prop_assert_eq!(n.map(|n| n.id), Ok(id));
    }

    #[test]
    fn uscc_check_char_round_trips(body in "[0-9A-HJ-NPQRTUW-Y]{17}") {
        let c = uscc::check_char(&body);
        prop_assert!(c.is_some());
        let code = format!("{body}{}", c.unwrap_or('?'));
        prop_assert!(uscc::is_valid(&code));
        prop_assert_eq!(uscc::normalize(&code.to_lowercase()), Ok(code.clone()));
        prop_assert_eq!(uscc::org_code_part(&code).map(str::len), Some(9));
    }

    #[test]
    fn uscc_one_substitution_is_caught(body in "[0-9A-HJ-NPQRTUW-Y]{17}", pos in 0usize..17, delta in 1usize..31) {
        let code = format!("{body}{}", uscc::check_char(&body).unwrap_or('?'));
        let alphabet: Vec<char> = uscc::ALPHABET.chars().collect();
        let mut chars: Vec<char> = code.chars().collect();
        let current = alphabet.iter().position(|&c| c == chars[pos]).unwrap_or(0);
        chars[pos] = alphabet[(current + delta) % 31];
        let typo: String = chars.into_iter().collect();
        prop_assert!(!uscc::is_valid(&typo));
    }

    #[test]
    fn org_code_check_char_round_trips(body in "[0-9A-Z]{8}") {
        let c = org_code::check_char(&body);
        prop_assert!(c.is_some());
        let code = format!("{body}{}", c.unwrap_or('?'));
        prop_assert!(org_code::is_valid(&code));
        let dashed = format!("{}-{}", body.to_lowercase(), &code[8..]);
        prop_assert_eq!(org_code::normalize(&dashed), Ok(code));
    }

    #[test]
    fn id_functions_never_panic(s in "\\PC*") {
        check_no_panic(&s);
    }

    #[test]
    fn id_functions_never_panic_on_any_string(s in any::<String>()) {
        check_no_panic(&s);
    }

    #[test]
    fn id_functions_never_panic_on_near_ids(s in "[0-9Xx０-９ｘＸ' -]{0,20}") {
        check_no_panic(&s);
    }

    #[test]
    fn normalize_is_idempotent(s in "\\PC{0,24}|[0-9Xx０-９ｘ '.E+-]{13,20}|[0-9A-Za-z -]{7,20}") {
        if let Ok(n) = resident::normalize(&s) {
            let again = resident::normalize(&n.id).map_err(|e| e.reason);
            prop_assert_eq!(again, Ok(resident::NormalizedId { id: n.id.clone(), repair: None }));
        }
        if let Ok(c) = uscc::normalize(&s) {
            prop_assert_eq!(uscc::normalize(&c), Ok(c.clone()));
        }
        if let Ok(c) = org_code::normalize(&s) {
            prop_assert_eq!(org_code::normalize(&c), Ok(c.clone()));
        }
    }
}

fn check_no_panic(s: &str) {
    let _ = resident::check_char(s);
    let _ = resident::is_valid(s);
    let _ = resident::normalize(s);
    let _ = resident::upgrade_15(s);
    let _ = resident::birth_date(s);
    let _ = resident::gender(s);
    let _ = resident::region_code(s);
    let _ = resident::one_edit_candidates(s);
    let _ = uscc::check_char(s);
    let _ = uscc::is_valid(s);
    let _ = uscc::normalize(s);
    let _ = uscc::org_code_part(s);
    let _ = org_code::check_char(s);
    let _ = org_code::is_valid(s);
    let _ = org_code::normalize(s);
}
