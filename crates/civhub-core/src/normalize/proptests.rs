//! Property tests of the value normalizers: nothing panics on any input, and
//! every text normalizer is idempotent (normalizing its own output changes
//! nothing), so re-ingesting staged data is harmless.

use super::{address, code, company, date, name, number, phone, text};
use chrono::{Datelike, NaiveDate, Timelike};
use proptest::prelude::*;

/// Text that looks like what the normalizers meet: Han characters (traditional
/// and simplified), full-width forms, dots, brackets, spaces, digits, units.
fn export_like() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("张".to_string()),
        Just("張".to_string()),
        Just("兒寬".to_string()),
        Just("乾隆".to_string()),
        Just("黄山".to_string()),
        Just("黄山市".to_string()),
        Just("安徽省".to_string()),
        Just("中国".to_string()),
        Just("屯溪".to_string()),
        Just("区".to_string()),
        Just("有限责任公司".to_string()),
        Just("分公司".to_string()),
        Just("（".to_string()),
        Just(")".to_string()),
        Just("【".to_string()),
        Just("·".to_string()),
        Just("•".to_string()),
        Just(".".to_string()),
        Just("。".to_string()),
        Just(" ".to_string()),
        Just("\u{3000}".to_string()),
        Just("\u{200B}".to_string()),
        Just("+86".to_string()),
        Just("0559".to_string()),
        Just("-".to_string()),
        Just("年".to_string()),
        Just("月".to_string()),
        Just("日".to_string()),
        Just(":".to_string()),
        Just("万元".to_string()),
        Just("皖J".to_string()),
        Just("İ".to_string()),
        "[0-9０-９]{1,8}",
        "[a-zA-Zａ-ｚ]{1,5}",
        "\\p{Han}{1,3}",
    ];
    prop::collection::vec(pieces, 0..8).prop_map(|v| v.concat())
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![export_like(), "\\PC{0,30}", any::<String>()]
}

/// Checks `f(f(x)) == f(x)` whenever `f(x)` succeeds.
fn idempotent<F>(f: F, s: &str) -> Result<(), TestCaseError>
where
    F: Fn(&str) -> Result<String, crate::NormError>,
{
    if let Ok(once) = f(s) {
        prop_assert_eq!(f(&once), Ok(once.clone()), "input {:?}", s);
    }
    Ok(())
}

proptest! {
    #[test]
    fn clean_fast_path_agrees_with_the_character_loop(s in any_text(), t in export_like()) {
        prop_assert_eq!(text::clean(&s), text::clean_chars(&s));
        prop_assert_eq!(text::clean(&t), text::clean_chars(&t));
    }

    #[test]
    fn the_word_check_finds_every_special_byte(
        // Mostly printable ASCII, so that many inputs hold no special byte.
        b in prop::collection::vec(prop_oneof![8 => 0x21u8..0x7F, 1 => any::<u8>()], 0..64)
    ) {
        prop_assert_eq!(
            text::has_special_byte(&b),
            b.iter().any(|&x| text::is_special_byte(x))
        );
    }

    #[test]
    fn nothing_panics(s in any_text()) {
        let _ = text::clean(&s);
        let _ = text::to_halfwidth(&s);
        let _ = name::person_name(&s);
        let _ = name::pinyin_key(&s);
        let _ = name::to_simplified(&s);
        let _ = company::company_name(&s);
        let _ = company::company_key(&s);
        let _ = company::strip_prefixes(&s);
        let _ = phone::phone(&s, None);
        let _ = phone::phone(&s, Some("0559"));
        let _ = phone::phone(&s, Some(&s));
        let _ = date::date(&s);
        let _ = date::datetime(&s);
        let _ = address::address(&s);
        let _ = number::amount(&s, None);
        let _ = number::amount(&s, Some("万元"));
        let _ = number::amount(&s, Some(&s));
        let _ = number::area(&s);
        let _ = number::integer(&s);
        let _ = number::decimal(&s);
        let _ = number::float(&s);
        let _ = code::boolean(&s);
        let _ = code::gender(&s);
        let _ = code::plate(&s);
        let _ = code::region_code(&s);
    }

    #[test]
    fn numbers_never_panic_on_numeric_text(s in "[-+￥¥]{0,2}[0-9,.]{0,45}(e[-+]?[0-9]{0,4})?(万元|元|㎡|平米|m2)?") {
        let _ = number::amount(&s, None);
        let _ = number::amount(&s, Some("万元"));
        let _ = number::area(&s);
        let _ = number::integer(&s);
        let _ = number::decimal(&s);
        let _ = number::float(&s);
        let _ = date::date(&s);
        let _ = date::datetime(&s);
    }

    #[test]
    fn text_normalizers_are_idempotent(s in any_text()) {
        let clean = |s: &str| Ok(text::clean(s));
        idempotent(clean, &s)?;
        idempotent(|s| Ok(text::to_halfwidth(s)), &s)?;
        idempotent(|s| Ok(name::to_simplified(s)), &s)?;
        idempotent(name::person_name, &s)?;
        idempotent(company::company_name, &s)?;
        idempotent(company::company_key, &s)?;
        idempotent(address::address, &s)?;
        idempotent(code::plate, &s)?;
        idempotent(code::region_code, &s)?;
        idempotent(|s| phone::phone(s, None), &s)?;
        idempotent(|s| phone::phone(s, Some("0559")), &s)?;
    }

    #[test]
    fn phones_are_idempotent(
        s in "(\\+86|0086|86)?[ -]?(1[3-9][0-9]{9}|0[1-9][0-9]{1,2}[ -]?[2-8][0-9]{6,7}|[2-8][0-9]{6,7})"
    ) {
        idempotent(|s| phone::phone(s, None), &s)?;
        idempotent(|s| phone::phone(s, Some("0559")), &s)?;
        idempotent(|s| phone::phone(s, Some("010")), &s)?;
    }

    #[test]
    fn pinyin_key_is_stable_under_name_normalization(s in export_like()) {
        if let Ok(n) = name::person_name(&s) {
            prop_assert_eq!(name::pinyin_key(&n), name::pinyin_key(&name::pinyin_key(&n)));
        }
    }

    #[test]
    fn dates_round_trip(days in 0i64..80_000, sep in prop::sample::select(vec!["-", "/", "."])) {
        let Some(d) = NaiveDate::from_ymd_opt(1880, 1, 1).and_then(|b| b.checked_add_days(chrono::Days::new(days as u64))) else {
            return Ok(());
        };
        prop_assume!(d.year() <= 2100);
        let iso = d.format("%Y-%m-%d").to_string();
        prop_assert_eq!(date::date(&iso), Ok(d));
        let short = format!("{}{sep}{}{sep}{}", d.year(), d.month(), d.day());
        prop_assert_eq!(date::date(&short), Ok(d));
        let compact = d.format("%Y%m%d").to_string();
        prop_assert_eq!(date::date(&compact), Ok(d));
        let chinese = format!("{}年{}月{}日", d.year(), d.month(), d.day());
        prop_assert_eq!(date::date(&chinese), Ok(d));
    }

    #[test]
    fn parsed_dates_reparse(s in any_text()) {
        if let Ok(d) = date::date(&s) {
            prop_assert_eq!(date::date(&d.format("%Y-%m-%d").to_string()), Ok(d));
        }
        if let Ok(dt) = date::datetime(&s) {
            let whole = dt.with_nanosecond(0).unwrap_or(dt);
            prop_assert_eq!(date::datetime(&whole.format("%Y-%m-%d %H:%M:%S").to_string()), Ok(whole));
        }
    }

    #[test]
    fn excel_serials_are_consecutive_days(serial in 61u32..73_050) {
        let a = date::date(&serial.to_string());
        let b = date::date(&(serial + 1).to_string());
        if let (Ok(a), Ok(b)) = (a, b) {
            prop_assert_eq!(a.succ_opt(), Some(b));
        }
    }

    #[test]
    fn decimals_match_integer_arithmetic(int in 0i64..1_000_000_000, frac in 0u32..100) {
        let raw = format!("{int}.{frac:02}");
        prop_assert_eq!(number::decimal(&raw), Ok(i128::from(int) * 100 + i128::from(frac)));
        prop_assert_eq!(number::amount(&raw, Some("万元")), Ok((i128::from(int) * 100 + i128::from(frac)) * 10_000));
    }
}
