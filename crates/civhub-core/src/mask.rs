//! Masking of personal information for people not cleared to see it:
//! resident ID `3410**********123X`, name `张*丰`, phone `138****5678`,
//! address kept to its first six characters. Masks keep enough to recognise
//! a value one already knows, never enough to recover one.

/// `3410**********123X`: the first four and last four characters.
pub fn id_number(s: &str) -> String {
    keep_ends(s, 4, 4)
}

/// `张*丰`, `张*`, `*`: the first (and, from three characters, the last) character.
pub fn name(s: &str) -> String {
    let c: Vec<char> = s.trim().chars().collect();
    match c.len() {
        0 => String::new(),
        1 => "*".into(),
        2 => format!("{}*", c[0]),
        n => format!("{}{}{}", c[0], "*".repeat(n - 2), c[n - 1]),
    }
}

/// `138****5678`: the first three and last four digits of a mobile number;
/// other numbers keep their first three and last two characters.
pub fn phone(s: &str) -> String {
    let n = s.chars().count();
    if n >= 11 {
        keep_ends(s, 3, 4)
    } else {
        keep_ends(s, 3, 2)
    }
}

/// `黄山市屯溪区****`: the first six characters.
pub fn address(s: &str) -> String {
    let c: Vec<char> = s.chars().collect();
    if c.len() <= 6 {
        return "*".repeat(c.len().max(1));
    }
    format!("{}****", c[..6].iter().collect::<String>())
}

/// Anything else: `*` for every character but the first.
pub fn other(s: &str) -> String {
    keep_ends(s, 1, 0)
}

/// By PII class name (`id_number`, `name`, `phone`, `address`, others).
pub fn by_class(class: &str, s: &str) -> String {
    match class {
        "id_number" => id_number(s),
        "name" => name(s),
        "phone" => phone(s),
        "address" => address(s),
        _ => other(s),
    }
}

fn keep_ends(s: &str, head: usize, tail: usize) -> String {
    let c: Vec<char> = s.chars().collect();
    let n = c.len();
    if n <= head + tail {
        return "*".repeat(n.max(1));
    }
    let mut out: String = c[..head].iter().collect();
    out.push_str(&"*".repeat(n - head - tail));
    out.extend(&c[n - tail..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        assert_eq!(id_number("34100219400521157X"), "3410**********157X");
        assert_eq!(name("张三丰"), "张*丰");
        assert_eq!(name("张伟"), "张*");
        assert_eq!(name("欧阳娜娜"), "欧**娜");
        assert_eq!(phone("13812345678"), "138****5678");
        assert_eq!(
            address("黄山市屯溪区昱中街道跃进路21号"),
            "黄山市屯溪区****"
        );
        assert_eq!(id_number("123"), "***");
    }

    proptest! {
        /// A mask never contains the hidden middle of the value.
        #[test]
        fn id_masks_hide_the_middle(s in "[0-9]{17}[0-9X]") {
            let m = id_number(&s);
            prop_assert_eq!(m.chars().count(), 18);
            prop_assert_eq!(&m[4..14], "**********");
            prop_assert_eq!(&m[..4], &s[..4]);
        }

        #[test]
        fn masks_never_panic(s in "\\PC{0,40}", class in "(id_number|name|phone|address|other)") {
            let _ = by_class(&class, &s);
        }
    }
}
