//! Unit tests of [`super`]: every export format named in DOMAIN.md.

use super::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn dt(y: i32, m: u32, day: u32, h: u32, min: u32, s: u32) -> NaiveDateTime {
    d(y, m, day).and_hms_opt(h, min, s).unwrap()
}

#[test]
fn all_date_formats() {
    for raw in [
        "1980-01-02",
        "1980-1-2",
        "1980/1/2",
        "1980/01/02",
        "19800102",
        "1980.01.02",
        "1980.1.2",
        "1980年1月2日",
        "1980年01月02日",
        "1980年1月2号",
        "1980 年 1 月 2 日",
        "１９８０年１月２日",
        "１９８０－０１－０２",
        " 1980-01-02 ",
        "1980-01-02 00:00:00",
        "1980-01-02T08:30:00",
        "1980-01-02 08:30:00.000",
        "1980/1/2 8:30",
        "29222",
        "29222.5",
        "29222.0",
    ] {
        assert_eq!(date(raw), Ok(d(1980, 1, 2)), "{raw}");
    }
}

#[test]
fn excel_serials() {
    assert_eq!(date("1"), Ok(d(1900, 1, 1)));
    assert_eq!(date("59"), Ok(d(1900, 2, 28)));
    assert!(date("60").unwrap_err().reason.contains("1900-02-29"));
    assert_eq!(date("61"), Ok(d(1900, 3, 1)));
    assert_eq!(date("29221"), Ok(d(1980, 1, 1)));
    assert_eq!(date("45658"), Ok(d(2025, 1, 1)));
    assert_eq!(datetime("45658.5"), Ok(dt(2025, 1, 1, 12, 0, 0)));
    assert_eq!(datetime("45658.354166666664"), Ok(dt(2025, 1, 1, 8, 30, 0)));
    assert_eq!(datetime("45658.99999999"), Ok(dt(2025, 1, 2, 0, 0, 0)));
    assert!(date("0").is_err());
    assert!(date("2958466").is_err());
    // 9999-12-31 is a valid serial but outside the accepted years.
    assert!(date("2958465").unwrap_err().reason.contains("out of range"));
}

#[test]
fn ambiguous_or_partial_forms_are_refused() {
    assert!(date("1980").unwrap_err().reason.contains("year alone"));
    assert!(date("1980.1").is_err());
    assert!(date("01/02/1980").is_err());
    assert!(date("80-01-02").is_err());
    assert!(date("1980-01").is_err());
    assert!(date("1980-01/02").is_err());
    assert!(date("1980年1月").is_err());
    assert!(date("1980-01-02 abc").is_err());
    assert!(date("").is_err());
    assert!(date("-1").is_err());
    assert!(date("一九八〇年").is_err());
}

#[test]
fn impossible_dates_are_refused_with_a_reason() {
    assert_eq!(
        date("1980-02-30").unwrap_err().reason,
        "month 2 of 1980 has no day 30"
    );
    assert_eq!(
        date("19801301").unwrap_err().reason,
        "month 13 does not exist"
    );
    assert_eq!(
        date("1879-12-31").unwrap_err().reason,
        "year 1879 is out of range (1880 to 2100)"
    );
    assert!(date("2101-01-01").is_err());
    assert!(date("1980-01-00").is_err());
    assert_eq!(date("2000-02-29"), Ok(d(2000, 2, 29)));
    assert!(date("1900-02-29").is_err());
    assert!(date("1980-01-02 25:00").is_err());
}

#[test]
fn all_datetime_formats() {
    let want = dt(2024, 3, 5, 8, 30, 0);
    for raw in [
        "2024-03-05 08:30:00",
        "2024/3/5 8:30",
        "2024-03-05T08:30:00",
        "2024-03-05T08:30",
        "20240305083000",
        "202403050830",
        "2024年3月5日 8时30分",
        "2024年3月5日8时30分",
        "2024年3月5日8点30分0秒",
        "２０２４－０３－０５　０８：３０：００",
    ] {
        assert_eq!(datetime(raw), Ok(want), "{raw}");
    }
    assert_eq!(datetime("2024-03-05"), Ok(dt(2024, 3, 5, 0, 0, 0)));
    assert_eq!(datetime("20240305"), Ok(dt(2024, 3, 5, 0, 0, 0)));
    assert_eq!(datetime("2024年3月5日 8时"), Ok(dt(2024, 3, 5, 8, 0, 0)));
    assert_eq!(datetime("19800102 08:30"), Ok(dt(1980, 1, 2, 8, 30, 0)));
    assert_eq!(
        datetime("2024-03-05 08:30:00.250"),
        Ok(d(2024, 3, 5).and_hms_milli_opt(8, 30, 0, 250).unwrap())
    );
}

#[test]
fn bad_datetimes() {
    assert!(datetime("2024-03-05 8").is_err());
    assert!(datetime("2024-03-05 08:60").is_err());
    assert!(datetime("2024-03-05 24:00:00").is_err());
    assert!(datetime("2024-03-05T08:30:00Z").is_err());
    assert!(datetime("20240305083099").is_err());
    assert!(datetime("20240305 0830 x").is_err());
}
