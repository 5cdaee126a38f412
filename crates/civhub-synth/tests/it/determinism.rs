use crate::common::{PERSONS, SEED, city, generate_into, tmp};
use std::collections::BTreeMap;
use std::path::Path;

fn hashes(root: &Path) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(root)
                    .expect("prefix")
                    .to_string_lossy()
                    .to_string();
                out.insert(
                    rel,
                    xxhash_rust::xxh3::xxh3_64(&std::fs::read(&p).expect("read")),
                );
            }
        }
    }
    out
}

#[test]
fn same_persons_and_seed_give_identical_bytes() {
    let a = city();
    let b = tmp("determinism");
    generate_into(&b, PERSONS, SEED);
    let ha = hashes(&a.out);
    let hb = hashes(&b);
    assert_eq!(
        ha.keys().collect::<Vec<_>>(),
        hb.keys().collect::<Vec<_>>(),
        "same files"
    );
    let differing: Vec<&String> = ha
        .iter()
        .filter(|(k, v)| hb.get(*k) != Some(v))
        .map(|(k, _)| k)
        .collect();
    assert!(
        differing.is_empty(),
        "files differ between runs: {differing:?}"
    );
    assert!(ha.keys().any(|k| k.ends_with(".xlsx")) && ha.keys().any(|k| k.ends_with(".parquet")));
}

#[test]
fn another_seed_gives_another_city() {
    let a = city();
    let c = tmp("other-seed");
    generate_into(&c, 120, SEED + 1);
    let pa = std::fs::read(a.out.join("truth/persons.csv")).expect("persons");
    let pc = std::fs::read(c.join("truth/persons.csv")).expect("persons");
    assert_ne!(pa, pc);
}
