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

/// [`clean`], borrowing `raw` when it is clean already (most cells): for
/// normalizers that only read the cleaned text.
pub fn clean_cow(raw: &str) -> std::borrow::Cow<'_, str> {
    if is_clean(raw.as_bytes()) {
        return std::borrow::Cow::Borrowed(raw);
    }
    std::borrow::Cow::Owned(clean_chars(raw))
}

/// [`clean`] written into `out` (cleared first), reusing its allocation.
pub fn clean_into(raw: &str, out: &mut String) {
    out.clear();
    if is_clean(raw.as_bytes()) {
        out.push_str(raw);
    } else {
        clean_chars_into(raw, out);
    }
}

/// True when [`clean`] would return `raw` unchanged, decided on bytes: ASCII
/// is printable with single inner spaces, and no multi-byte character starts
/// with a lead byte that can begin a character `clean` changes (C2: U+0080–
/// U+00BF controls and no-break space; E1: U+1680; E2: U+2000–U+2FFF spaces,
/// zero-width characters; E3: U+3000; EF: full-width forms, U+FEFF). Most
/// cells — digits, codes, Chinese text (lead bytes E4–E9) — pass.
fn is_clean(b: &[u8]) -> bool {
    if !has_special_byte(b) {
        // No space, control or changeable lead byte: the loop below would
        // accept every byte.
        return true;
    }
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

/// True for a byte [`is_clean`] must look at more closely: a space, a
/// control character or a lead byte of a character `clean` may change.
pub(crate) fn is_special_byte(x: u8) -> bool {
    x <= b' ' || x == 0x7F || x == 0xC2 || (0xE1..=0xE3).contains(&x) || x == 0xEF
}

/// True when `b` holds a [special byte](is_special_byte). Decided eight bytes
/// at a time in a `u64` (SWAR), the last word overlapping the one before
/// when the length is not a multiple of eight; a cell shorter than eight
/// bytes is checked a byte at a time. (Copying a short remainder into a
/// padded block to check it like the others stalled on the copy: the block
/// is read back before the bytes written into it have reached the cache.)
pub(crate) fn has_special_byte(b: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Whether some byte of `w` is zero: exact (the lowest zero byte always
    // raises its high bit; a borrow only starts at a zero byte).
    fn has_zero(w: u64) -> bool {
        w.wrapping_sub(ONES) & !w & HIGH != 0
    }
    // Whether some byte of `w` equals `v`.
    fn has_byte(w: u64, v: u8) -> bool {
        has_zero(w ^ (ONES * u64::from(v)))
    }
    fn special_word(w: u64) -> bool {
        // Some byte below 0x21 (n ≤ 128: exact, as `has_zero`).
        let below = w.wrapping_sub(ONES * 0x21) & !w & HIGH != 0;
        below
            | has_byte(w, 0x7F)
            | has_byte(w, 0xC2)
            | has_byte(w, 0xE1)
            | has_byte(w, 0xE2)
            | has_byte(w, 0xE3)
            | has_byte(w, 0xEF)
    }
    fn word(b: &[u8]) -> u64 {
        u64::from_le_bytes(b.try_into().expect("8 bytes"))
    }
    if b.len() < 8 {
        return b.iter().any(|&x| is_special_byte(x));
    }
    let mut words = b.chunks_exact(8);
    for w in &mut words {
        if special_word(word(w)) {
            return true;
        }
    }
    !words.remainder().is_empty() && special_word(word(&b[b.len() - 8..]))
}

/// True when `s` is empty or only whitespace, as [`str::trim`] sees it:
/// decided from the first byte for most cells (only 0x09–0x0D, 0x20 and the
/// lead bytes 0xC2, 0xE1, 0xE2 and 0xE3 can start a whitespace character).
pub fn is_blank(s: &str) -> bool {
    match s.as_bytes().first() {
        None => true,
        Some(&b) if !matches!(b, 0x09..=0x0D | b' ' | 0xC2 | 0xE1..=0xE3) => false,
        Some(_) => s.trim().is_empty(),
    }
}

/// [`clean`] character by character.
pub(crate) fn clean_chars(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    clean_chars_into(raw, &mut out);
    out
}

/// [`clean_chars`] appended to `out`, which must be empty.
fn clean_chars_into(raw: &str, out: &mut String) {
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
            assert_eq!(clean_cow(s), clean(s), "{s:?}");
            let mut out = String::from("left over");
            clean_into(s, &mut out);
            assert_eq!(out, clean(s), "{s:?}");
        }
    }

    #[test]
    fn whitespace_starts_with_the_bytes_is_blank_checks() {
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let s = c.to_string();
            assert_eq!(is_blank(&s), c.is_whitespace(), "{c:?}");
            assert!(!is_blank(&format!("{s}x")), "{c:?}");
        }
        assert!(is_blank(""));
        assert!(is_blank(" \u{3000}\t"));
        assert!(!is_blank(" a "));
    }

    #[test]
    fn the_vector_check_agrees_with_the_byte_loop() {
        for s in [
            "0123456789abcdef0123456789abcdef",
            "0123456789abcdef0123456789abcde ",
            "0123456789abcdef 123456789abcdef0",
            "张三张三张三张三张三张三张三张三",
            "张三张三张三张三张三张三张三张三\u{3000}",
            "0123456789abcdef0123456789abcdef\u{7f}",
            "ｘ0123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(clean(s), clean_chars(s), "{s:?}");
        }
    }

    #[test]
    fn the_word_check_agrees_with_the_byte_check() {
        // Every byte value at every position of every length up to 40, in a
        // background of bytes that are not special.
        for len in 0..=40usize {
            let plain = vec![b'a'; len];
            assert!(!has_special_byte(&plain), "{len}");
            for at in 0..len {
                for x in 0..=255u8 {
                    let mut v = plain.clone();
                    v[at] = x;
                    assert_eq!(
                        has_special_byte(&v),
                        is_special_byte(x),
                        "{len} {at} {x:#x}"
                    );
                }
            }
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
