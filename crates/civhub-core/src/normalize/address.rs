//! Addresses (地址).
//!
//! Every record civhub integrates is local to Huangshan, so the country,
//! province and city at the start of an address say nothing and are written
//! by some departments and not others; they are dropped. Whitespace is
//! dropped too (Chinese addresses do not separate words). Nothing else is
//! rewritten: house-number spellings (#, 号) are left as written.
//!
//! The prefixes are removed with care: 中国 only before 安徽/黄山市 (中国银行…
//! stays), bare 安徽 only before 黄山, and 黄山 only as 黄山市 (黄山区 is a
//! district).

use super::text::clean_cow;
use crate::normalizer::NormError;

/// Normalizes an address: text cleaned, whitespace removed, leading 中国 /
/// 安徽省 / 黄山市 dropped while something remains.
pub fn address(raw: &str) -> Result<String, NormError> {
    let cleaned = clean_cow(raw);
    let compact: std::borrow::Cow<'_, str> = if cleaned.contains(char::is_whitespace) {
        cleaned.chars().filter(|c| !c.is_whitespace()).collect()
    } else {
        cleaned
    };
    let mut rest = compact.as_ref();
    loop {
        let next = strip_one(rest);
        match next {
            Some(r) if !r.is_empty() => rest = r,
            _ => break,
        }
    }
    if rest.is_empty() {
        return Err(NormError::new(
            "expected an address, found only spaces or invisible characters",
        ));
    }
    Ok(rest.to_string())
}

/// The address without one leading prefix, if it starts with one.
fn strip_one(s: &str) -> Option<&str> {
    if let Some(r) = s
        .strip_prefix("中华人民共和国")
        .or_else(|| s.strip_prefix("中国"))
        && (r.starts_with("安徽") || r.starts_with("黄山市"))
    {
        return Some(r);
    }
    if let Some(r) = s.strip_prefix("安徽省") {
        return Some(r);
    }
    if let Some(r) = s.strip_prefix("安徽")
        && r.starts_with("黄山")
    {
        return Some(r);
    }
    s.strip_prefix("黄山市")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> String {
        address(raw).unwrap()
    }

    #[test]
    fn prefixes_are_dropped() {
        let want = "屯溪区新安北路12号";
        for raw in [
            "屯溪区新安北路12号",
            "黄山市屯溪区新安北路12号",
            "安徽省黄山市屯溪区新安北路12号",
            "安徽黄山市屯溪区新安北路12号",
            "中国安徽省黄山市屯溪区新安北路12号",
            "中国 安徽省 黄山市 屯溪区 新安北路 １２号",
            "中华人民共和国安徽省黄山市屯溪区新安北路12号",
        ] {
            assert_eq!(ok(raw), want, "{raw}");
        }
    }

    #[test]
    fn look_alike_prefixes_stay() {
        assert_eq!(ok("黄山市黄山区甘棠镇"), "黄山区甘棠镇");
        assert_eq!(ok("黄山区甘棠镇"), "黄山区甘棠镇");
        assert_eq!(ok("中国银行黄山分行"), "中国银行黄山分行");
        assert_eq!(ok("安徽路1号"), "安徽路1号");
        assert_eq!(ok("黄山市"), "黄山市");
        assert_eq!(ok("中国黄山市"), "黄山市");
    }

    #[test]
    fn layout_is_kept_otherwise() {
        assert_eq!(ok("屯溪区 新安北路 12#"), "屯溪区新安北路12#");
        assert_eq!(ok("ＡＢＣ大厦Ｂ座"), "ABC大厦B座");
        assert!(address(" \u{3000}\u{200B}").is_err());
    }
}
