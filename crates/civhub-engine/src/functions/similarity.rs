//! Similarity functions for comparing names in SQL.
//!
//! All work on Unicode characters, not bytes, so one differing Chinese
//! character counts once. DataFusion's built-in `levenshtein` also counts
//! characters (in DataFusion 55) but returns `int`; `levenshtein_chars` is
//! civhub's name for the same distance as `bigint`, which is what the
//! matching code compares against. Neither normalizes its inputs: compose with
//! `person_name_normalize` or `company_name_key` first.

use civhub_core::normalize::name::pinyin_key;
use datafusion::logical_expr::ScalarUDF;

use super::SIMILARITY;
use super::adapter::{Doc, Kernel, TextFn};
use super::output::{Bool, Float, Int};

/// The functions of this module, in documentation order.
pub(super) fn udfs() -> Vec<ScalarUDF> {
    const PAIR: &[(&str, &str)] = &[("a", "First text."), ("b", "Second text.")];
    vec![
        TextFn::<Float>::udf(
            "jaro_winkler",
            Kernel::Binary(|a, b| Some(jaro_winkler(a, b))),
            Doc {
                section: SIMILARITY,
                description: "Jaro–Winkler similarity of two texts over characters, from 0 \
                    (nothing in common) to 1 (identical); a shared beginning weighs more.",
                syntax: "jaro_winkler(a, b)",
                example: "SELECT jaro_winkler('黄山市徽韵茶业', '黄山市徽韵茶叶'); \
                    -- 0.942857142857",
                args: PAIR,
            },
        ),
        TextFn::<Int>::udf(
            "levenshtein_chars",
            Kernel::Binary(|a, b| i64::try_from(strsim::levenshtein(a, b)).ok()),
            Doc {
                section: SIMILARITY,
                description: "Levenshtein edit distance of two texts counted in characters \
                    (one Chinese character is one edit, not three bytes).",
                syntax: "levenshtein_chars(a, b)",
                example: "SELECT levenshtein_chars('张伟', '张玮'); -- 1",
                args: PAIR,
            },
        ),
        TextFn::<Bool>::udf(
            "pinyin_equal",
            Kernel::Binary(pinyin_equal),
            Doc {
                section: SIMILARITY,
                description: "True if two names sound the same (同音): equal, non-empty toneless \
                    pinyin keys (see pinyin). 张伟 and 张玮 are equal; tones are ignored.",
                syntax: "pinyin_equal(a, b)",
                example: "SELECT pinyin_equal('张伟', '张玮'); -- true",
                args: PAIR,
            },
        ),
    ]
}

fn pinyin_equal(a: &str, b: &str) -> Option<bool> {
    let key = pinyin_key(a);
    Some(!key.is_empty() && key == pinyin_key(b))
}

/// Texts up to this many characters are compared on the stack.
const SHORT: usize = 64;

/// Jaro–Winkler similarity: `strsim::jaro_winkler` exactly (same matches,
/// transpositions and formula, so the same bits), for texts of up to 64
/// characters without its allocation and without decoding the second text
/// again for every character of the first (matching compares addresses of
/// millions of pairs with it); longer texts go to strsim itself.
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    let mut ab = ['\0'; SHORT];
    let mut bb = ['\0'; SHORT];
    let (Some(la), Some(lb)) = (chars_into(a, &mut ab), chars_into(b, &mut bb)) else {
        return strsim::jaro_winkler(a, b);
    };
    let (a, b) = (&ab[..la], &bb[..lb]);
    let sim = jaro(a, b);
    if sim > 0.7 {
        let prefix = a.iter().take(4).zip(b).take_while(|(x, y)| x == y).count();
        sim + 0.1 * prefix as f64 * (1.0 - sim)
    } else {
        sim
    }
}

/// The characters of `s` into `buf`; `None` if there are more than fit.
fn chars_into(s: &str, buf: &mut [char; SHORT]) -> Option<usize> {
    let mut n = 0;
    for c in s.chars() {
        *buf.get_mut(n)? = c;
        n += 1;
    }
    Some(n)
}

/// Jaro similarity of two texts of at most 64 characters, as
/// `strsim::generic_jaro` computes it (flags as bit sets).
fn jaro(a: &[char], b: &[char]) -> f64 {
    let (la, lb) = (a.len(), b.len());
    if la == 0 && lb == 0 {
        return 1.0;
    } else if la == 0 || lb == 0 {
        return 0.0;
    }
    let range = (la.max(lb) / 2).saturating_sub(1);
    let (mut af, mut bf) = (0u64, 0u64);
    let mut matches = 0usize;
    for (i, x) in a.iter().enumerate() {
        let lo = i.saturating_sub(range);
        let hi = lb.min(i + range + 1);
        for (j, y) in b.iter().enumerate().take(hi).skip(lo) {
            if x == y && bf & (1 << j) == 0 {
                af |= 1 << i;
                bf |= 1 << j;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let mut transpositions = 0usize;
    let mut j = 0usize;
    for (i, x) in a.iter().enumerate() {
        if af & (1 << i) != 0 {
            while bf & (1 << j) == 0 {
                j += 1;
            }
            if *x != b[j] {
                transpositions += 1;
            }
            j += 1;
        }
    }
    transpositions /= 2;
    ((matches as f64 / la as f64)
        + (matches as f64 / lb as f64)
        + ((matches - transpositions) as f64 / matches as f64))
        / 3.0
}

#[cfg(test)]
mod tests {
    /// The stack version gives strsim's bits, on names, addresses, Latin
    /// text, repeated characters, empty and long (fallback) texts.
    #[test]
    fn jaro_winkler_is_strsims() {
        let alphabet: Vec<char> = "张伟玮黄山市屯溪区徽州路号ab a".chars().collect();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut texts: Vec<String> = vec![String::new(), "x".repeat(80), "黄".repeat(70)];
        for _ in 0..400 {
            let len = (next() % 40) as usize;
            texts.push(
                (0..len)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect(),
            );
        }
        for a in &texts {
            for b in texts.iter().take(120) {
                assert_eq!(
                    super::jaro_winkler(a, b).to_bits(),
                    strsim::jaro_winkler(a, b).to_bits(),
                    "{a:?} {b:?}"
                );
            }
        }
    }
}
