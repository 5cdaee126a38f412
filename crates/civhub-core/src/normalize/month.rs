//! Months (费款所属期, 缴存年月): `YYYY-MM`.

use super::text::clean_cow;
use crate::normalizer::NormError;

const EXPECTED: &str = "expected a month like 2024-06, 2024/6, 202406 or 2024年6月";

/// Parses a month in the common forms (a full date gives its month) and
/// returns it as `YYYY-MM`.
pub fn month(raw: &str) -> Result<String, NormError> {
    let s = clean_cow(raw);
    // The first two runs of digits, and whether there are more.
    let mut runs = s
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty());
    let (first, second) = (runs.next(), runs.next());
    let rest_ok = s.chars().all(|c| {
        c.is_ascii_digit()
            || matches!(
                c,
                '-' | '/' | '.' | '年' | '月' | '日' | '号' | ' ' | ':' | 'T'
            )
    });
    if !rest_ok {
        return Err(NormError::new(EXPECTED));
    }
    let (year, month) = match (first, second) {
        (Some(ym), None) if ym.len() == 6 || ym.len() == 8 || ym.len() == 14 => {
            (&ym[..4], &ym[4..6])
        }
        (Some(y), Some(m)) if y.len() == 4 && (1..=2).contains(&m.len()) => (y, m),
        _ => return Err(NormError::new(EXPECTED)),
    };
    let y: i32 = year.parse().map_err(|_| NormError::new(EXPECTED))?;
    let m: u32 = month.parse().map_err(|_| NormError::new(EXPECTED))?;
    if !(super::date::MIN_YEAR..=super::date::MAX_YEAR).contains(&y) {
        return Err(NormError::new(format!("year {y} is out of range")));
    }
    if !(1..=12).contains(&m) {
        return Err(NormError::new(format!("month {m} does not exist")));
    }
    // `{y:04}-{m:02}` written by hand: this runs for every cell of a column.
    let mut out = String::with_capacity(7);
    for d in [y / 1000, y / 100 % 10, y / 10 % 10, y % 10] {
        out.push(char::from(b'0' + d as u8));
    }
    out.push('-');
    out.push(char::from(b'0' + (m / 10) as u8));
    out.push(char::from(b'0' + (m % 10) as u8));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::month;

    #[test]
    fn forms() {
        for s in [
            "2024-06",
            "2024/6",
            "202406",
            "2024年6月",
            "2024.06",
            "2024-06-15",
            "20240615",
            "２０２４年６月",
        ] {
            assert_eq!(month(s).as_deref(), Ok("2024-06"), "{s}");
        }
        for s in ["2024-13", "24-06", "June 2024", "2024", "1700-01"] {
            assert!(month(s).is_err(), "{s}");
        }
        let once = month("2024/6").unwrap();
        assert_eq!(month(&once).unwrap(), once);
    }
}
