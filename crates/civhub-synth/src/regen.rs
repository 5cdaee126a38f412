//! Random strings matching a regular expression: the last resort for fields
//! a pipeline constrains by a `pattern` rule (`^JY[123]\d{13}$`, `^D-\d{4}-\d{6}$` …)
//! that no heuristic knows how to fill.

use crate::rng::Rand;
use rand::Rng;
use regex_syntax::hir::{Class, Hir, HirKind};

/// A random string matching `pattern` from its start, or `None` if the
/// pattern cannot be parsed. Unbounded repetitions repeat at most a few times.
pub fn sample(pattern: &str, rng: &mut Rand) -> Option<String> {
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(true)
        .build()
        .parse(pattern)
        .ok()?;
    let mut out = String::new();
    walk(&hir, rng, &mut out, 0);
    Some(out)
}

fn walk(h: &Hir, rng: &mut Rand, out: &mut String, depth: usize) {
    if depth > 64 {
        return;
    }
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(lit) => out.push_str(&String::from_utf8_lossy(&lit.0)),
        HirKind::Class(Class::Unicode(c)) => {
            // Prefer ASCII letters and digits when the class has them.
            let ranges: Vec<(char, char)> =
                c.ranges().iter().map(|r| (r.start(), r.end())).collect();
            let ascii: Vec<(char, char)> = ranges
                .iter()
                .filter(|(a, _)| a.is_ascii_alphanumeric())
                .map(|&(a, b)| (a, if b.is_ascii() { b } else { 'z' }))
                .collect();
            let pool = if ascii.is_empty() { &ranges } else { &ascii };
            if let Some(&(a, b)) = pool.get(rng.random_range(0..pool.len().max(1))) {
                let (a, b) = (a as u32, (b as u32).min(a as u32 + 0xFFFF));
                let c = char::from_u32(rng.random_range(a..=b))
                    .unwrap_or(char::from_u32(a).unwrap_or('0'));
                out.push(c);
            }
        }
        HirKind::Class(Class::Bytes(c)) => {
            if let Some(r) = c.ranges().first() {
                out.push(char::from(rng.random_range(r.start()..=r.end().min(0x7f))));
            }
        }
        HirKind::Repetition(rep) => {
            let max = rep.max.unwrap_or(rep.min + 3).min(rep.min + 3);
            let n = rng.random_range(rep.min..=max.max(rep.min));
            for _ in 0..n {
                walk(&rep.sub, rng, out, depth + 1);
            }
        }
        HirKind::Capture(cap) => walk(&cap.sub, rng, out, depth + 1),
        HirKind::Concat(parts) => parts.iter().for_each(|p| walk(p, rng, out, depth + 1)),
        HirKind::Alternation(alts) => {
            let i = rng.random_range(0..alts.len());
            walk(&alts[i], rng, out, depth + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_match_their_patterns() {
        let mut rng = crate::rng::stream(3, "regen");
        for p in [
            r"^JY[123]\d{13}$",
            r"^D-\d{4}-\d{6}$",
            r"^\d{4}-(0[1-9]|1[0-2])$",
            r"^34100[0-4]|^34102[1-4]",
            r"^[A-T]?\d{4}$",
            r"^(58|K)\w+$",
            r"^\d{17}[\dX][1-7][1-4]",
        ] {
            let re = regex::Regex::new(p).expect("pattern");
            for _ in 0..20 {
                let s = sample(p, &mut rng).expect("sample");
                assert!(re.is_match(&s), "{p}: {s}");
            }
        }
    }
}
