//! The ways people and export programs garble values (DOMAIN.md): each
//! function returns a variant of a clean value.

use crate::rng::{Rand, chance, pick};
use rand::Rng;

/// Digits and X in full-width forms (０-９, Ｘ).
pub fn fullwidth(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(c as u32 - '0' as u32 + 0xFF10).unwrap_or(c),
            'X' => 'Ｘ',
            'x' => 'ｘ',
            _ => c,
        })
        .collect()
}

/// A layout variant of a resident ID and its tag: lower-case x, full-width
/// digits, inner spaces, a leading apostrophe.
pub fn id_layout(id: &str, rng: &mut Rand) -> (String, &'static str) {
    let choice = rng.random_range(0..4);
    match choice {
        0 if id.ends_with('X') => (id.replace('X', "x"), "id_lower_x"),
        1 => (fullwidth(id), "id_fullwidth"),
        2 if id.len() == 18 => (
            format!("{} {} {}", &id[..6], &id[6..14], &id[14..]),
            "id_spaces",
        ),
        _ => (format!("'{id}"), "id_apostrophe"),
    }
}

/// The number Excel shows after turning an 18-digit ID into a number.
pub fn excel_mangle(id: &str) -> String {
    let digits: String = id.chars().take(6).collect();
    format!("{}.{}E+17", &digits[..1], &digits[1..])
}

/// A person name with spaces typed between characters.
pub fn spaced_name(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    if chars.len() == 2 {
        format!("{} {}", chars[0], chars[1])
    } else {
        let mut s = String::new();
        for (i, c) in chars.iter().enumerate() {
            if i == 1 {
                s.push(' ');
            }
            s.push(*c);
        }
        s
    }
}

/// Another middle dot (or a full stop) in a minority name.
pub fn dot_variant(name: &str, rng: &mut Rand) -> String {
    let dot = *pick(
        rng,
        &["\u{2022}", "\u{30FB}", ".", "\u{FF65}", " \u{00B7} "],
    );
    name.replace('\u{00B7}', dot)
}

/// A different but equivalent way of writing a company name: 有限公司 vs
/// 有限责任公司, with or without the city prefix, full- or half-width brackets.
pub fn company_variant(name: &str, rng: &mut Rand) -> Option<String> {
    let mut options: Vec<String> = Vec::new();
    if name.contains("有限责任公司") {
        options.push(name.replacen("有限责任公司", "有限公司", 1));
    } else if name.contains("有限公司")
        && !name.contains("股份有限公司")
        && !name.contains("分公司")
    {
        options.push(name.replacen("有限公司", "有限责任公司", 1));
    }
    if let Some(rest) = name.strip_prefix("黄山市") {
        if !rest.starts_with(['区', '县']) {
            options.push(rest.to_string());
            options.push(format!("黄山{rest}"));
        }
    } else if !name.starts_with("黄山") && !name.starts_with("安徽") {
        options.push(format!("黄山市{name}"));
    }
    if name.contains('（') {
        options.push(name.replace('（', "(").replace('）', ")"));
    }
    if options.is_empty() {
        return None;
    }
    Some(options.swap_remove(rng.random_range(0..options.len())))
}

/// A layout variant of a phone number.
pub fn phone_variant(p: &str, rng: &mut Rand) -> String {
    if p.len() == 11 && p.starts_with('1') {
        match rng.random_range(0..5) {
            0 => format!("+86 {p}"),
            1 => format!("{}-{}-{}", &p[..3], &p[3..7], &p[7..]),
            2 => format!("{} {} {}", &p[..3], &p[3..7], &p[7..]),
            3 => format!("0086{p}"),
            _ => format!("+86-{p}"),
        }
    } else if let Some(local) = p.strip_prefix("0559-") {
        match rng.random_range(0..3) {
            0 => local.to_string(),
            1 => format!("(0559){local}"),
            _ => format!("0559 {local}"),
        }
    } else {
        p.to_string()
    }
}

/// A layout variant of a plate: 皖J·12345, lower case, a space.
pub fn plate_variant(p: &str, rng: &mut Rand) -> String {
    let rest: String = p.chars().skip(2).collect();
    match rng.random_range(0..3) {
        0 => format!("皖J·{rest}"),
        1 => format!("皖j{}", rest.to_lowercase()),
        _ => format!("皖J {rest}"),
    }
}

/// An address with the province/city prefix or full-width digits.
pub fn address_variant(a: &str, rng: &mut Rand) -> String {
    match rng.random_range(0..3) {
        0 => format!("安徽省黄山市{a}"),
        1 => format!("黄山市{a}"),
        _ => fullwidth(a),
    }
}

/// A credit code in lower case or with spaces.
pub fn uscc_variant(c: &str, rng: &mut Rand) -> String {
    if chance(rng, 0.5) {
        c.to_lowercase()
    } else {
        format!("{} {}", &c[..9], &c[9..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn company_variants_keep_the_matching_key() {
        let mut rng = crate::rng::stream(9, "cv");
        for name in [
            "黄山市徽韵茶业有限公司",
            "歙县鼎盛建筑工程有限责任公司",
            "黄山松云旅游开发（歙县）有限公司",
            "安徽天都食品股份有限公司",
        ] {
            let key = civhub_core::normalize::company::company_key(name).expect("key");
            for _ in 0..10 {
                if let Some(v) = company_variant(name, &mut rng) {
                    assert_eq!(
                        civhub_core::normalize::company::company_key(&v).expect("key"),
                        key,
                        "{name} → {v}"
                    );
                }
            }
        }
    }

    #[test]
    fn excel_mangled_ids_look_like_excel() {
        assert_eq!(excel_mangle("341002199001011234"), "3.41002E+17");
    }
}
