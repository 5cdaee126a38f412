//! Plain text cleaning shared by every other normalizer.
//!
//! Department exports mix full-width and half-width forms, ideographic spaces,
//! invisible zero-width characters (often pasted from web pages or Word) and
//! stray control characters. [`clean`] folds all of these into one plain form
//! so that the more specific normalizers only ever see ordinary ASCII
//! punctuation, digits and single spaces.

/// Converts full-width ASCII variants (U+FF01–U+FF5E, e.g. `１２３ＡＢＣ（）`)
/// and the ideographic space (U+3000) to their half-width forms; other
/// characters are kept.
pub fn to_halfwidth(raw: &str) -> String {
    raw.chars().map(halfwidth_char).collect()
}

/// The half-width form of one character (see [`to_halfwidth`]).
pub fn halfwidth_char(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// True for characters that take no space and carry no meaning in a cell:
/// zero-width space, (non-)joiners, word joiner and the byte-order mark.
pub fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// True for Chinese (Han) ideographs, including the extension and
/// compatibility blocks.
pub fn is_han(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2A6DF}'
        | '\u{2A700}'..='\u{2EBEF}'
        | '\u{2F800}'..='\u{2FA1F}'
        | '\u{30000}'..='\u{3134F}')
}

/// Cleans one cell of text: full-width ASCII to half-width, ideographic space
/// to space, zero-width characters and control characters other than
/// whitespace removed, whitespace runs collapsed to one space, trimmed.
pub fn clean(raw: &str) -> String {
    if is_clean(raw.as_bytes()) {
        return raw.to_string();
    }
    clean_chars(raw)
}

/// True when [`clean`] would return `raw` unchanged, decided on bytes: ASCII
/// is printable with single inner spaces, and no multi-byte character starts
/// with a lead byte that can begin a character `clean` changes (C2: U+0080–
/// U+00BF controls and no-break space; E1: U+1680; E2: U+2000–U+2FFF spaces,
/// zero-width characters; E3: U+3000; EF: full-width forms, U+FEFF). Most
/// cells — digits, codes, Chinese text (lead bytes E4–E9) — pass.
fn is_clean(b: &[u8]) -> bool {
    if b.first() == Some(&b' ') || b.last() == Some(&b' ') {
        return false;
    }
    let mut prev_space = false;
    for &x in b {
        match x {
            b' ' => {
                if prev_space {
                    return false;
                }
                prev_space = true;
                continue;
            }
            0x21..=0x7E | 0x80..=0xC1 | 0xC3..=0xE0 | 0xE4..=0xEE | 0xF0..=0xFF => {}
            _ => return false,
        }
        prev_space = false;
    }
    true
}

/// [`clean`] character by character.
pub(crate) fn clean_chars(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut pending_space = false;
    for c in raw.chars().map(halfwidth_char) {
        if is_invisible(c) {
            continue;
        }
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        if c.is_control() {
            continue;
        }
        if pending_space && !out.is_empty() {
            out.push(' ');
        }
        pending_space = false;
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halfwidth_maps_ascii_variants_and_ideographic_space() {
        assert_eq!(to_halfwidth("１２３ＡＢＣａｂｃ（）！～"), "123ABCabc()!~");
        assert_eq!(to_halfwidth("张\u{3000}三"), "张 三");
        assert_eq!(to_halfwidth("中文，保留"), "中文,保留");
        assert_eq!(to_halfwidth("。、"), "。、");
    }

    #[test]
    fn clean_collapses_whitespace_and_trims() {
        assert_eq!(clean("  a \t\n b  "), "a b");
        assert_eq!(clean("\u{3000}张\u{3000}\u{3000}三\u{3000}"), "张 三");
        assert_eq!(clean(""), "");
        assert_eq!(clean(" \u{3000} "), "");
    }

    #[test]
    fn clean_removes_invisible_and_control_characters() {
        assert_eq!(clean("\u{FEFF}张\u{200B}三"), "张三");
        assert_eq!(clean("a \u{200B} b"), "a b");
        assert_eq!(clean("a\u{0}b\u{7F}c"), "abc");
    }

    #[test]
    fn the_byte_check_agrees_with_the_character_loop() {
        for s in [
            "张三",
            "a b",
            "a  b",
            " a",
            "a ",
            "1234",
            "ｘ",
            "\u{3000}",
            "a\u{A0}b",
            "a\u{85}b",
            "a\u{1680}b",
            "a\u{2009}b",
            "a\u{200B}b",
            "\u{FEFF}",
            "é",
            "ü·x",
            "𠀀",
            "a\tb",
            "",
        ] {
            assert_eq!(clean(s), clean_chars(s), "{s:?}");
        }
    }

    #[test]
    fn han_detection() {
        assert!(is_han('张'));
        assert!(is_han('\u{20000}'));
        assert!(!is_han('A'));
        assert!(!is_han('·'));
        assert!(!is_han('。'));
    }
}
