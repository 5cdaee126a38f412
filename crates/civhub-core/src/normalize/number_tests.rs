//! Unit tests of [`super`].

use super::*;

#[test]
fn amounts_in_fen() {
    let yuan = |raw: &str| amount(raw, None).unwrap();
    assert_eq!(yuan("1,234.56"), 123_456);
    assert_eq!(yuan("1234.5元"), 123_450);
    assert_eq!(yuan("1234.5 元"), 123_450);
    assert_eq!(yuan("￥1234"), 123_400);
    assert_eq!(yuan("¥1,234"), 123_400);
    assert_eq!(yuan("￥ 1,234.00"), 123_400);
    assert_eq!(yuan("12.5万元"), 12_500_000);
    assert_eq!(yuan("12.5万"), 12_500_000);
    assert_eq!(yuan("1.5亿元"), 15_000_000_000);
    assert_eq!(yuan("-3.2"), -320);
    assert_eq!(yuan("-￥3.2"), -320);
    assert_eq!(yuan("￥-3.2"), -320);
    assert_eq!(yuan("+3"), 300);
    assert_eq!(yuan("１２３４．５６"), 123_456);
    assert_eq!(yuan("1,234,567.89"), 123_456_789);
    assert_eq!(yuan(".5"), 50);
    assert_eq!(yuan("5."), 500);
    assert_eq!(yuan("0.125"), 13);
    assert_eq!(yuan("0.124999"), 12);
    assert_eq!(yuan("-0.125"), -13);
    assert_eq!(yuan("1.23456789万元"), 1_234_568);
}

#[test]
fn default_unit_applies_only_without_a_written_unit() {
    assert_eq!(amount("12.5", Some("万元")), Ok(12_500_000));
    assert_eq!(amount("12.5", Some("元")), Ok(1_250));
    assert_eq!(amount("12.5元", Some("万元")), Ok(1_250));
    assert!(
        amount("12.5", Some("美元"))
            .unwrap_err()
            .reason
            .contains("unknown unit")
    );
}

#[test]
fn garbage_amounts_are_refused() {
    for raw in [
        "abc",
        "1.2e3",
        "12 13",
        "12元13元",
        "1,2",
        "12,34.5",
        "1.2.3",
        "-",
        ".",
        "--3",
        "-￥-3",
        "壹万元",
    ] {
        assert!(amount(raw, None).is_err(), "{raw}");
    }
    assert_eq!(
        amount("12 13", None).unwrap_err().reason,
        "expected one number, found more than one"
    );
    assert!(
        amount(&"9".repeat(40), None)
            .unwrap_err()
            .reason
            .contains("too large")
    );
}

#[test]
fn areas_in_hundredths() {
    for raw in [
        "89.5",
        "89.5㎡",
        "89.5平方米",
        "89.5平米",
        "89.5 m2",
        "89.5m²",
        "89.5M2",
        "８９．５㎡",
    ] {
        assert_eq!(area(raw), Ok(8_950), "{raw}");
    }
    assert_eq!(area("1,089.555"), Ok(108_956));
    assert_eq!(area("-0"), Ok(0));
    assert_eq!(
        area("-3㎡").unwrap_err().reason,
        "an area cannot be negative"
    );
    assert!(area("89.5 亩").is_err());
}

#[test]
fn integers() {
    assert_eq!(integer("1,234"), Ok(1_234));
    assert_eq!(integer("１２３"), Ok(123));
    assert_eq!(integer("12.0"), Ok(12));
    assert_eq!(integer("-7"), Ok(-7));
    assert_eq!(integer("007"), Ok(7));
    assert_eq!(
        integer("12.5").unwrap_err().reason,
        "expected a whole number, found a fraction"
    );
    assert_eq!(integer("9223372036854775807"), Ok(i64::MAX));
    assert!(integer("9223372036854775808").is_err());
    assert!(integer("").is_err());
    assert!(integer("1e3").is_err());
}

#[test]
fn decimals_round_half_away_from_zero() {
    assert_eq!(decimal("12.34"), Ok(1_234));
    assert_eq!(decimal("12.345"), Ok(1_235));
    assert_eq!(decimal("12.344"), Ok(1_234));
    assert_eq!(decimal("-12.345"), Ok(-1_235));
    assert_eq!(decimal("0.1"), Ok(10));
    assert_eq!(decimal("1,000"), Ok(100_000));
    assert!(decimal("12.3元").is_err());
}

#[test]
fn floats() {
    assert_eq!(float("1.5"), Ok(1.5));
    assert_eq!(float("1,234.5"), Ok(1234.5));
    assert_eq!(float("1.2e3"), Ok(1200.0));
    assert_eq!(float("-2.5E-1"), Ok(-0.25));
    assert_eq!(float(".5"), Ok(0.5));
    assert_eq!(float("-.5"), Ok(-0.5));
    assert_eq!(float("３"), Ok(3.0));
    assert!(float("1e999").is_err());
    for raw in ["inf", "NaN", "infinity", "1e", "e5", "abc", "1 2"] {
        assert!(float(raw).is_err(), "{raw}");
    }
}
