//! Company names (企业名称).
//!
//! Two forms: [`company_name`] is what a person should see (brackets and
//! spacing tidied, nothing dropped); [`company_key`] is the form two records
//! are compared by. The key forgets what departments write differently about
//! the *same* legal entity — the city or province prefix, a bracketed district,
//! 有限责任公司 vs 有限公司, punctuation — and keeps what distinguishes
//! entities: a branch (…分公司) is a legal entity of its own, and a joint-stock
//! company (股份有限公司) is not the same form as a limited company.

use super::name::to_simplified;
use super::text::{clean_cow, is_han};
use crate::normalizer::NormError;

/// Administrative prefixes dropped from the start of a key, longest first.
const PREFIXES: [&str; 4] = ["安徽省", "黄山市", "安徽", "黄山"];

/// Places of Huangshan that appear bracketed in names without a 区/县 suffix.
const LOCAL_PLACES: [&str; 7] = ["屯溪", "黄山", "徽州", "歙县", "休宁", "黟县", "祁门"];

/// Normalizes a company name for display: text cleaned, every kind of bracket
/// made a half-width parenthesis, spaces between Chinese characters removed.
pub fn company_name(raw: &str) -> Result<String, NormError> {
    let cleaned = clean_cow(raw);
    if !cleaned.is_empty() && !cleaned.contains([' ', '【', '〔', '[', '（', '】', '〕', ']', '）'])
    {
        // No bracket to change and no space to drop (most names).
        return Ok(cleaned.into_owned());
    }
    let mut chars = cleaned
        .chars()
        .map(|c| match c {
            '【' | '〔' | '[' | '（' => '(',
            '】' | '〕' | ']' | '）' => ')',
            _ => c,
        })
        .peekable();
    let cjk_side = |c: Option<char>| c.is_some_and(|c| is_han(c) || c == '(' || c == ')');
    let han = |c: Option<char>| c.is_some_and(is_han);
    let mut out = String::with_capacity(cleaned.len());
    // The character before the current one (whether kept or not).
    let mut before = None;
    while let Some(c) = chars.next() {
        if c == ' ' {
            let after = chars.peek().copied();
            if cjk_side(before) && cjk_side(after) && (han(before) || han(after)) {
                before = Some(c);
                continue;
            }
        }
        out.push(c);
        before = Some(c);
    }
    if out.is_empty() {
        return Err(NormError::new(
            "expected a company name, found only spaces or invisible characters",
        ));
    }
    Ok(out)
}

/// The matching key of a company name (see the module documentation): two
/// names of the same legal entity written differently give the same key. The
/// key is simplified, lower-case, and holds only letters and digits.
pub fn company_key(raw: &str) -> Result<String, NormError> {
    let name = to_simplified(&company_name(raw)?);
    let without_places = remove_bracketed_places(&name);
    // Lower-case first: a few letters lower-case to a letter and a combining
    // mark, which the filter then drops, so a second pass finds nothing to do.
    let mut key: String = without_places
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect();
    while key.contains("有限责任公司") {
        key = key.replace("有限责任公司", "有限公司");
    }
    let key = strip_prefixes(&key).to_string();
    if key.is_empty() {
        return Err(NormError::new(
            "expected a company name with letters or Chinese characters, found none",
        ));
    }
    Ok(key)
}

/// Removes the leading province and city names, repeatedly, as long as
/// something remains that does not itself start with an administrative suffix
/// (黄山区 keeps its 黄山).
pub fn strip_prefixes(key: &str) -> &str {
    let mut rest = key;
    'outer: loop {
        for p in PREFIXES {
            if let Some(r) = rest.strip_prefix(p)
                && !r.is_empty()
                && !r.starts_with(['省', '市', '区', '县'])
            {
                rest = r;
                continue 'outer;
            }
        }
        return rest;
    }
}

/// True if bracketed text names a place: a Han name ending in 市, 区 or 县, or
/// one of Huangshan's districts and counties written without suffix.
fn is_place(inner: &str) -> bool {
    let inner = inner.trim();
    let n = inner.chars().count();
    let all_han = inner.chars().all(is_han);
    let suffixed = (2..=10).contains(&n) && all_han && inner.ends_with(['市', '区', '县']);
    let local = LOCAL_PLACES.iter().any(|p| {
        inner == *p
            || inner
                .strip_prefix(p)
                .is_some_and(|r| r == "区" || r == "县")
    });
    suffixed || local
}

/// Removes every parenthesized group whose content is a place name.
fn remove_bracketed_places(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(open) = rest.find('(') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find([')', '(']) {
            Some(close) if after[close..].starts_with(')') && is_place(&after[..close]) => {
                rest = &after[close + 1..];
            }
            _ => {
                out.push('(');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(raw: &str) -> String {
        company_key(raw).unwrap()
    }

    #[test]
    fn display_form() {
        assert_eq!(
            company_name("黄山徽韵茶业（屯溪）有限公司").unwrap(),
            "黄山徽韵茶业(屯溪)有限公司"
        );
        assert_eq!(
            company_name("黄山徽韵茶业【屯溪】有限公司").unwrap(),
            "黄山徽韵茶业(屯溪)有限公司"
        );
        assert_eq!(
            company_name("黄山徽韵茶业〔屯溪〕有限公司").unwrap(),
            "黄山徽韵茶业(屯溪)有限公司"
        );
        assert_eq!(
            company_name("黄山徽韵茶业[屯溪]有限公司").unwrap(),
            "黄山徽韵茶业(屯溪)有限公司"
        );
        assert_eq!(
            company_name(" 徽韵 茶业 ( 屯溪 ) 有限公司 ").unwrap(),
            "徽韵茶业(屯溪)有限公司"
        );
        assert_eq!(
            company_name("IBM 中国有限公司").unwrap(),
            "IBM 中国有限公司"
        );
        assert_eq!(company_name("Foo (Bar) Ltd").unwrap(), "Foo (Bar) Ltd");
        assert!(company_name("\u{200B}").is_err());
    }

    #[test]
    fn same_entity_same_key() {
        let base = key("徽韵茶业有限公司");
        assert_eq!(base, "徽韵茶业有限公司");
        for raw in [
            "黄山市徽韵茶业有限责任公司",
            "黄山徽韵茶业（屯溪）有限公司",
            "黄山徽韵茶业(屯溪区)有限公司",
            "安徽省黄山市徽韵茶业有限公司",
            "安徽黄山徽韵茶业有限公司",
            "徽韵茶业（黄山）有限公司",
            "徽韵茶业(黄山市)有限公司",
            "徽韵 茶业 有限公司",
            "徽韻茶業有限公司",
        ] {
            assert_eq!(key(raw), base, "{raw}");
        }
    }

    #[test]
    fn different_entities_differ() {
        let base = key("徽韵茶业有限公司");
        assert_ne!(key("徽韵茶业有限公司屯溪分公司"), base);
        assert_eq!(
            key("徽韵茶业有限公司屯溪分公司"),
            "徽韵茶业有限公司屯溪分公司"
        );
        assert_ne!(key("徽韵茶业股份有限公司"), base);
        assert_eq!(key("黄山旅游发展股份有限公司"), "旅游发展股份有限公司");
    }

    #[test]
    fn prefixes_are_stripped_only_when_something_remains() {
        assert_eq!(key("黄山市"), "黄山市");
        assert_eq!(key("黄山"), "黄山");
        assert_eq!(key("黄山区新华书店"), "黄山区新华书店");
        assert_eq!(key("黄山市黄山区新华书店"), "黄山区新华书店");
    }

    #[test]
    fn other_brackets_keep_their_content() {
        assert_eq!(key("恒信(中国)投资有限公司"), "恒信中国投资有限公司");
        assert_eq!(key("Acme (Huangshan) Co., Ltd."), "acmehuangshancoltd");
        assert_eq!(key("徽韵((屯溪))茶业有限公司"), "徽韵茶业有限公司");
        assert!(company_key("（）").is_err());
    }
}
