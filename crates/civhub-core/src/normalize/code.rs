//! Coded values: yes/no flags, gender, vehicle plates, region codes.

use super::text::{clean, clean_cow};
use crate::normalizer::NormError;

/// Province abbreviations that start a plate number, plus 使 and 领 (embassy
/// and consulate plates).
pub const PLATE_PREFIXES: &str =
    "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领";

/// A yes/no flag: 是/否, 有/无, Y/N, yes/no, true/false, T/F, 1/0, √/× (any case).
pub fn boolean(raw: &str) -> Result<bool, NormError> {
    let flag = |s: &str| match s {
        "是" | "有" | "y" | "yes" | "true" | "t" | "1" | "√" | "✓" | "✔" => Some(true),
        "否" | "无" | "n" | "no" | "false" | "f" | "0" | "×" | "✗" | "✘" => Some(false),
        _ => None,
    };
    // Every accepted form is its own lower case: most cells match as they
    // are, without lower-casing a copy.
    let s = clean_cow(raw);
    flag(&s)
        .or_else(|| flag(&s.to_lowercase()))
        .ok_or_else(|| NormError::new("expected 是/否, Y/N, yes/no, true/false or 1/0"))
}

/// Gender as 男 or 女, from 男/女, 男性/女性, M/F, male/female or the GB/T
/// 2261.1 codes 1 and 2; the codes 0 and 9 (未知, 未说明) are refused as
/// "not known" rather than guessed.
pub fn gender(raw: &str) -> Result<&'static str, NormError> {
    // The accepted forms are their own lower case: most cells match as they
    // are, without lower-casing a copy.
    let s = clean_cow(raw);
    match s.as_ref() {
        "男" | "男性" | "m" | "male" | "1" => return Ok("男"),
        "女" | "女性" | "f" | "female" | "2" => return Ok("女"),
        _ => {}
    }
    match s.to_lowercase().as_str() {
        "男" | "男性" | "m" | "male" | "1" => Ok("男"),
        "女" | "女性" | "f" | "female" | "2" => Ok("女"),
        "0" | "9" | "未知" | "未知的性别" | "未说明" | "未说明的性别" | "unknown" => {
            Err(NormError::new("gender not known"))
        }
        _ => Err(NormError::new(
            "expected 男/女, M/F, male/female or the codes 1/2",
        )),
    }
}

/// A vehicle plate number (号牌号码) without separators, e.g. 皖J12345: a
/// province abbreviation, a letter, then 5 letters and digits (6 on new-energy
/// plates); trailer (挂), learner (学) and police (警) plates have 4 to 6 and
/// the suffix.
pub fn plate(raw: &str) -> Result<String, NormError> {
    let s: String = clean(raw)
        .to_uppercase()
        .chars()
        .filter(|c| !matches!(c, ' ' | '·' | '•' | '・' | '-' | '.'))
        .collect();
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if PLATE_PREFIXES.contains(c) => {}
        Some(c) => {
            return Err(NormError::new(format!(
                "a plate starts with a province abbreviation such as 皖, found `{c}`"
            )));
        }
        None => return Err(NormError::new("expected a plate number, found nothing")),
    }
    match chars.next() {
        Some(c) if c.is_ascii_uppercase() => {}
        _ => {
            return Err(NormError::new(
                "expected a letter after the province abbreviation",
            ));
        }
    }
    let rest = chars.as_str();
    let (body, min) = match rest.strip_suffix(['挂', '学', '警']) {
        Some(body) => (body, 4),
        None => (rest, 5),
    };
    let alnum = body
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    let n = body.chars().count();
    if !alnum || !(min..=6).contains(&n) {
        return Err(NormError::new(
            "expected 5 or 6 letters and digits after the province and letter (皖J12345)",
        ));
    }
    Ok(s)
}

/// A six-digit administrative region code (GB/T 2260), e.g. 341002.
pub fn region_code(raw: &str) -> Result<String, NormError> {
    let s = clean(raw);
    if s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s)
    } else if let Some(c) = s.chars().find(|c| !c.is_ascii_digit()) {
        Err(NormError::new(format!("expected six digits, found `{c}`")))
    } else {
        Err(NormError::new(format!(
            "expected six digits, found {}",
            s.len()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans() {
        for raw in [
            "是", "有", "Y", "y", "Yes", "TRUE", "true", "1", "√", "T", "t", "１", "Ｙ",
        ] {
            assert_eq!(boolean(raw), Ok(true), "{raw}");
        }
        for raw in ["否", "无", "N", "no", "False", "0", "×", "F", "f"] {
            assert_eq!(boolean(raw), Ok(false), "{raw}");
        }
        assert!(boolean("maybe").is_err());
        assert!(boolean("").is_err());
    }

    #[test]
    fn genders() {
        for raw in ["男", "男性", "M", "m", "male", "Male", "1", " 男 "] {
            assert_eq!(gender(raw), Ok("男"), "{raw}");
        }
        for raw in ["女", "女性", "F", "female", "FEMALE", "2"] {
            assert_eq!(gender(raw), Ok("女"), "{raw}");
        }
        for raw in ["0", "9", "未知", "未说明的性别"] {
            assert_eq!(gender(raw).unwrap_err().reason, "gender not known", "{raw}");
        }
        assert!(gender("3").is_err());
    }

    #[test]
    fn plates() {
        for raw in [
            "皖J12345",
            "皖J·12345",
            "皖j12345",
            "皖J 12345",
            "皖J-12345",
            "皖J.12345",
            "皖Ｊ１２３４５",
            "皖J•12345",
        ] {
            assert_eq!(plate(raw).unwrap(), "皖J12345", "{raw}");
        }
        assert_eq!(plate("皖JD12345").unwrap(), "皖JD12345");
        assert_eq!(plate("皖J1234挂").unwrap(), "皖J1234挂");
        assert_eq!(plate("皖J12345挂").unwrap(), "皖J12345挂");
        assert_eq!(plate("皖JA123学").unwrap(), "皖JA123学");
        assert_eq!(plate("皖J·1234警").unwrap(), "皖J1234警");
        assert!(plate("皖J123学").is_err());
        assert!(plate("皖J1234").unwrap_err().reason.contains("5 or 6"));
        assert!(plate("J12345").unwrap_err().reason.contains("province"));
        assert!(plate("皖112345").is_err());
        assert!(plate("皖J1234567").is_err());
        assert!(plate("皖J12#45").is_err());
        assert!(plate("").is_err());
    }

    #[test]
    fn region_codes() {
        for code in [
            "341000", "341002", "341003", "341004", "341021", "341022", "341023", "341024",
        ] {
            assert_eq!(region_code(code).unwrap(), code);
        }
        assert_eq!(region_code("３４１００２").unwrap(), "341002");
        assert_eq!(region_code(" 341000 ").unwrap(), "341000");
        assert_eq!(
            region_code("34100").unwrap_err().reason,
            "expected six digits, found 5"
        );
        assert_eq!(
            region_code("34100X").unwrap_err().reason,
            "expected six digits, found `X`"
        );
    }
}
