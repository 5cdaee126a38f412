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
            Kernel::Binary(|a, b| Some(strsim::jaro_winkler(a, b))),
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
