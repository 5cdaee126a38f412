//! Person names (姓名).
//!
//! Chinese names arrive with spaces typed between characters (张 三), in
//! traditional characters, or — for minority names — with any of a dozen dot
//! characters (or a full stop) where the middle dot `·` belongs. The
//! normalized form is simplified, without spaces between Han characters and
//! with U+00B7 as the only middle dot. Latin-script names keep single spaces
//! between words.
//!
//! [`pinyin_key`] gives the toneless pinyin used to compare names across
//! homophone typing errors (the commonest error in hand-typed names).

use super::text::{clean, clean_cow, is_han};
use crate::normalizer::NormError;
use pinyin::ToPinyin;

/// The canonical middle dot of minority names (U+00B7).
pub const MIDDLE_DOT: char = '\u{00B7}';

/// Longest accepted name, in characters.
pub const MAX_NAME_CHARS: usize = 50;

/// True for characters that are always a middle dot in a name.
fn is_dot_variant(c: char) -> bool {
    matches!(
        c,
        '\u{00B7}' | '\u{2022}' | '\u{30FB}' | '\u{FF65}' | '\u{2027}' | '\u{2219}' | '\u{22C5}'
    )
}

/// Normalizes a person name (see the module documentation); fails for text
/// with digits, without any letter or Han character, or longer than 50 characters.
pub fn person_name(raw: &str) -> Result<String, NormError> {
    let cleaned = clean_cow(raw);
    // Without spaces, full stops and dots (most names), the dot and space
    // passes below leave the text as it is.
    let plain = !cleaned
        .chars()
        .any(|c| matches!(c, ' ' | '.' | '。') || is_dot_variant(c));
    let out: std::borrow::Cow<'_, str> = if plain {
        cleaned
    } else {
        let chars: Vec<char> = cleaned.chars().collect();
        let dotted = unify_dots(&chars);
        let spaced = remove_spaces(&dotted);
        let mut out = String::with_capacity(spaced.len() * 3);
        for &c in &spaced {
            // Runs of dots become one; a dot at either end is dropped.
            if c == MIDDLE_DOT && (out.is_empty() || out.ends_with(MIDDLE_DOT)) {
                continue;
            }
            out.push(c);
        }
        while out.ends_with(MIDDLE_DOT) {
            out.pop();
        }
        out.into()
    };
    let name = to_simplified(&out);
    // Han ideographs of the basic block (most of a Chinese name) are letters
    // (category Lo): no table lookup for them.
    let basic_han = |c: char| ('\u{4E00}'..='\u{9FFF}').contains(&c);
    if name
        .chars()
        .any(|c| !basic_han(c) && (c.is_ascii_digit() || (!c.is_ascii() && c.is_numeric())))
    {
        return Err(NormError::new("names do not contain digits"));
    }
    if !name.chars().any(|c| basic_han(c) || c.is_alphabetic()) {
        return Err(NormError::new(
            "expected a name with letters or Chinese characters, found none",
        ));
    }
    let n = name.chars().count();
    if n > MAX_NAME_CHARS {
        return Err(NormError::new(format!(
            "expected a name of at most {MAX_NAME_CHARS} characters, found {n}"
        )));
    }
    Ok(name)
}

/// Dot variants become `·`; a full stop (`.` or `。`) does too when it stands
/// between two Han characters (spaces around it ignored).
fn unify_dots(chars: &[char]) -> Vec<char> {
    let neighbour =
        |range: &mut dyn Iterator<Item = usize>| range.map(|j| chars[j]).find(|&c| c != ' ');
    (0..chars.len())
        .map(|i| {
            let c = chars[i];
            if is_dot_variant(c) {
                return MIDDLE_DOT;
            }
            if matches!(c, '.' | '。') {
                let before = neighbour(&mut (0..i).rev());
                let after = neighbour(&mut (i + 1..chars.len()));
                if before.is_some_and(is_han) && after.is_some_and(is_han) {
                    return MIDDLE_DOT;
                }
            }
            c
        })
        .collect()
}

/// Drops spaces between two Han characters and spaces next to a middle dot.
fn remove_spaces(chars: &[char]) -> Vec<char> {
    let mut out = Vec::with_capacity(chars.len());
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let before = i.checked_sub(1).and_then(|j| chars.get(j)).copied();
            let after = chars.get(i + 1).copied();
            let both_han = before.is_some_and(is_han) && after.is_some_and(is_han);
            let by_dot = before == Some(MIDDLE_DOT) || after == Some(MIDDLE_DOT);
            if both_han || by_dot {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// Converts traditional Chinese characters to simplified ones; other
/// characters are kept.
pub fn to_simplified(s: &str) -> String {
    if !s.chars().any(may_convert) {
        // What the converter would return, without a lookup per character.
        return s.to_string();
    }
    convert_until_stable(s)
}

/// `fast2s::convert` repeated until nothing changes.
fn convert_until_stable(s: &str) -> String {
    // The converter looks at neighbouring characters for a few words (乾隆,
    // 慰藉 …), so one pass can leave a character that a second pass would
    // convert; repeating until nothing changes makes the result stable.
    let mut current = fast2s::convert(s);
    if current == s {
        // Nothing to convert: a second pass would change nothing either.
        return current;
    }
    for _ in 0..8 {
        let next = fast2s::convert(&current);
        if next == current {
            break;
        }
        current = next;
    }
    current
}

/// Characters `fast2s` converts only next to certain others (its special
/// cases, fast2s 0.3): a character alone does not show them.
const CONVERTED_IN_CONTEXT: [char; 7] = ['藉', '著', '苧', '闔', '鍾', '讎', '畫'];

/// First and last code point of the table of [`may_convert`].
const TABLE_FIRST: u32 = 0x3400;
const TABLE_LAST: u32 = 0x9FFF;

/// False when `fast2s::convert` keeps `c` whatever its neighbours: it only
/// looks at three-byte characters, and of the Han ideographs (U+3400–U+9FFF,
/// looked up in a table made on first use) it changes those it maps on
/// their own and those of its special cases. Other three-byte characters
/// are left to the converter.
fn may_convert(c: char) -> bool {
    static TABLE: std::sync::OnceLock<Vec<u64>> = std::sync::OnceLock::new();
    if c.len_utf8() != 3 {
        return false;
    }
    let u = c as u32;
    if !(TABLE_FIRST..=TABLE_LAST).contains(&u) {
        return true;
    }
    let table = TABLE.get_or_init(|| {
        let mut bits = vec![0u64; ((TABLE_LAST - TABLE_FIRST) / 64 + 1) as usize];
        let mut buf = [0u8; 4];
        for (i, c) in (TABLE_FIRST..=TABLE_LAST)
            .filter_map(char::from_u32)
            .enumerate()
        {
            let one = c.encode_utf8(&mut buf);
            if fast2s::convert(one) != *one || CONVERTED_IN_CONTEXT.contains(&c) {
                bits[i / 64] |= 1 << (i % 64);
            }
        }
        bits
    });
    let i = (u - TABLE_FIRST) as usize;
    table[i / 64] & (1 << (i % 64)) != 0
}

/// Toneless pinyin of a name for homophone-tolerant comparison: each Han
/// character's default reading, other letters lower-cased, everything else
/// (spaces, dots, punctuation, digits) dropped. 张伟 and 張偉 give "zhangwei";
/// 绿 gives "lü" (the crate's plain style keeps ü).
pub fn pinyin_key(name: &str) -> String {
    // Lower-case before filtering: a few letters lower-case to a letter and a
    // combining mark, and the mark must not survive into the key.
    let simplified = to_simplified(&clean(name)).to_lowercase();
    let mut key = String::with_capacity(simplified.len() * 2);
    for c in simplified.chars() {
        if let Some(p) = c.to_pinyin() {
            key.push_str(p.plain());
        } else if c.is_alphabetic() {
            key.push(c);
        }
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_han_block_is_letters_not_digits() {
        // `person_name` skips the Unicode tables for U+4E00–U+9FFF on this ground.
        for c in '\u{4E00}'..='\u{9FFF}' {
            assert!(c.is_alphabetic() && !c.is_numeric(), "{c}");
        }
    }

    fn ok(raw: &str) -> String {
        person_name(raw).unwrap()
    }

    #[test]
    fn spaces_between_han_are_removed() {
        assert_eq!(ok("张 三"), "张三");
        assert_eq!(ok(" 张\u{3000}三 "), "张三");
        assert_eq!(ok("欧阳 娜 娜"), "欧阳娜娜");
    }

    #[test]
    fn latin_names_keep_single_spaces() {
        assert_eq!(ok("  John   Smith "), "John Smith");
        assert_eq!(ok("Ｊｏｈｎ Ｓｍｉｔｈ"), "John Smith");
        assert_eq!(ok("John F. Kennedy"), "John F. Kennedy");
    }

    #[test]
    fn middle_dot_variants() {
        for raw in [
            "阿依古丽·买买提",
            "阿依古丽•买买提",
            "阿依古丽・买买提",
            "阿依古丽･买买提",
            "阿依古丽‧买买提",
            "阿依古丽∙买买提",
            "阿依古丽.买买提",
            "阿依古丽．买买提",
            "阿依古丽。买买提",
            "阿依古丽 · 买买提",
            "阿依古丽 . 买买提",
            "阿依古丽··买买提",
        ] {
            assert_eq!(ok(raw), "阿依古丽·买买提", "{raw}");
        }
        // Without a dot the name stays as typed: no guessing where it belongs.
        assert_eq!(ok("阿依古丽买买提"), "阿依古丽买买提");
        assert_eq!(ok("·张三·"), "张三");
    }

    #[test]
    fn traditional_to_simplified() {
        assert_eq!(ok("張偉"), "张伟");
        assert_eq!(ok("陳 國 華"), "陈国华");
        assert_eq!(to_simplified("劉德華"), "刘德华");
        assert_eq!(to_simplified("abc"), "abc");
        // Characters the converter changes only next to certain others.
        for s in [
            "藉口", "看著", "苧麻", "企畫", "慰藉", "闔家", "鍾書", "校讎", "乾隆", "乾淨",
        ] {
            assert_eq!(to_simplified(s), convert_until_stable(s), "{s}");
        }
        assert_eq!(to_simplified("企畫"), "企划");
    }

    #[test]
    fn skipping_the_converter_changes_nothing() {
        // Every ideograph of the table, alone and between two others
        // (including each special case's neighbours).
        let neighbours = [
            '口', '著', '麻', '家', '書', '定', '計', '看', '憑', '校', '仇', '企', '张',
        ];
        for c in (TABLE_FIRST..=TABLE_LAST).filter_map(char::from_u32) {
            for n in neighbours {
                for s in [c.to_string(), format!("{n}{c}"), format!("{c}{n}")] {
                    if !s.chars().any(may_convert) {
                        assert_eq!(fast2s::convert(&s), s, "{s}");
                    }
                }
            }
        }
    }

    #[test]
    fn rejects() {
        assert_eq!(
            person_name("张三1").unwrap_err().reason,
            "names do not contain digits"
        );
        assert_eq!(
            person_name("１２３").unwrap_err().reason,
            "names do not contain digits"
        );
        assert!(person_name("·").is_err());
        assert!(person_name("---").is_err());
        assert!(person_name("").is_err());
        let long = "张".repeat(51);
        assert_eq!(
            person_name(&long).unwrap_err().reason,
            "expected a name of at most 50 characters, found 51"
        );
        assert!(person_name(&"张".repeat(50)).is_ok());
    }

    #[test]
    fn pinyin_keys() {
        assert_eq!(pinyin_key("张伟"), "zhangwei");
        assert_eq!(pinyin_key("張偉"), "zhangwei");
        assert_eq!(pinyin_key("张 伟"), "zhangwei");
        assert_eq!(pinyin_key("章伟"), "zhangwei");
        assert_eq!(
            pinyin_key("阿依古丽·买买提"),
            "ayiguli".to_string() + "maimaiti"
        );
        assert_eq!(pinyin_key("John Smith"), "johnsmith");
        assert_eq!(pinyin_key("王芳"), "wangfang");
        assert_eq!(pinyin_key(""), "");
    }
}
