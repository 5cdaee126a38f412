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

use super::text::{clean, is_han};
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
    let cleaned = clean(raw);
    // Without spaces, full stops and dots (most names), the dot and space
    // passes below leave the text as it is.
    let plain = !cleaned
        .chars()
        .any(|c| matches!(c, ' ' | '.' | '。') || is_dot_variant(c));
    let out = if plain {
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
        out
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
