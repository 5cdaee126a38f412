//! Stable golden ids.
//!
//! A golden id, once issued, survives re-runs: each new cluster takes over the
//! id most of its mentions had before (pairs of cluster and previous id are
//! matched greedily by how many mentions they share). What cannot keep an id
//! gets a new one, derived from the cluster's identifier (or, without one,
//! its smallest mention id), so the same data gives the same ids even from an
//! empty warehouse. Every merge, split and retirement is recorded in the
//! history, never done silently.

use std::collections::{BTreeMap, HashMap, HashSet};

/// One line of the history.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct HistoryEvent {
    /// `merged`, `split` or `retired`.
    pub action: &'static str,
    /// The id concerned.
    pub gid: String,
    /// The id it went into (merged) or came from (split); empty when retired.
    pub other: String,
    /// Mentions concerned.
    pub mentions: u64,
}

/// What assigning ids found.
#[derive(Debug, Clone, Default)]
pub struct Assignment {
    /// Golden id of every component (by component index).
    pub gid: Vec<String>,
    /// Components with a new id.
    pub new: usize,
    /// Components that kept an id and all of its mentions, and nothing else.
    pub unchanged: usize,
    /// Components that kept an id but gained or lost mentions.
    pub updated: usize,
    /// Previous ids merged into another.
    pub merged: usize,
    /// Previous ids whose mentions now lie in several components.
    pub split: usize,
    /// Previous ids whose mentions are all gone.
    pub retired: usize,
    /// Merges, splits and retirements.
    pub history: Vec<HistoryEvent>,
}

const B32: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new id: prefix and 12 base-32 characters of a hash of `anchor`.
pub fn derive(prefix: &str, anchor: &str, salt: u32) -> String {
    let h = xxhash_rust::xxh3::xxh3_64(format!("{anchor}#{salt}").as_bytes());
    let mut s = String::with_capacity(13);
    s.push_str(prefix);
    for i in 0..12 {
        s.push(B32[((h >> (i * 5)) & 31) as usize] as char);
    }
    s
}

/// A cluster to name: its anchor (identifier, or smallest mention id) and size.
#[derive(Debug, Clone)]
pub struct Component {
    /// What a new id is derived from.
    pub anchor: String,
    /// Mentions in it.
    pub size: u64,
}

/// Assigns ids to components.
///
/// `shared` lists (component, previous id, mentions the two share);
/// `previous_names[g]` and `previous_sizes[g]` are previous id g's name and
/// mention count.
pub fn assign(
    prefix: &str,
    components: &[Component],
    shared: &[(usize, u32, u64)],
    previous_names: &[String],
    previous_sizes: &[u64],
) -> Assignment {
    let n = components.len();
    let anchor: Vec<&str> = components.iter().map(|c| c.anchor.as_str()).collect();
    let shared: HashMap<(usize, u32), u64> =
        shared.iter().map(|(c, g, k)| ((*c, *g), *k)).collect();
    let mut candidates: Vec<((usize, u32), u64)> = shared.iter().map(|(k, v)| (*k, *v)).collect();
    candidates.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then(anchor[a.0.0].cmp(anchor[b.0.0]))
            .then(a.0.1.cmp(&b.0.1))
    });
    let mut gid: Vec<Option<String>> = vec![None; n];
    let mut kept: HashMap<u32, usize> = HashMap::new();
    for ((c, g), _) in &candidates {
        if gid[*c].is_none() && !kept.contains_key(g) {
            gid[*c] = Some(previous_names[*g as usize].clone());
            kept.insert(*g, *c);
        }
    }
    let mut out = Assignment::default();
    let mut used: HashSet<String> = previous_names.iter().cloned().collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|a, b| anchor[*a].cmp(anchor[*b]));
    for c in order {
        if gid[c].is_some() {
            continue;
        }
        let mut salt = 0;
        let mut id = derive(prefix, anchor[c], salt);
        while used.contains(&id) {
            salt += 1;
            id = derive(prefix, anchor[c], salt);
        }
        used.insert(id.clone());
        gid[c] = Some(id);
        out.new += 1;
    }
    out.gid = gid.into_iter().map(|g| g.unwrap_or_default()).collect();

    // Unchanged or updated: a component that kept an id.
    for (g, c) in &kept {
        let from_g = shared.get(&(*c, *g)).copied().unwrap_or(0);
        if from_g == previous_sizes[*g as usize] && from_g == components[*c].size {
            out.unchanged += 1;
        } else {
            out.updated += 1;
        }
    }
    // Every previous id: where did its mentions go?
    let mut spread: BTreeMap<u32, Vec<(usize, u64)>> = BTreeMap::new();
    for ((c, g), k) in &shared {
        spread.entry(*g).or_default().push((*c, *k));
    }
    for (g, (name, size)) in previous_names.iter().zip(previous_sizes).enumerate() {
        let g = g as u32;
        let parts = spread.get(&g).cloned().unwrap_or_default();
        match kept.get(&g) {
            Some(&c) => {
                for (other, k) in parts.iter().filter(|(o, _)| *o != c) {
                    out.history.push(HistoryEvent {
                        action: "split",
                        gid: out.gid[*other].clone(),
                        other: name.clone(),
                        mentions: *k,
                    });
                }
                if parts.iter().any(|(o, _)| *o != c) {
                    out.split += 1;
                }
            }
            None if parts.is_empty() => {
                if *size > 0 {
                    out.retired += 1;
                    out.history.push(HistoryEvent {
                        action: "retired",
                        gid: name.clone(),
                        other: String::new(),
                        mentions: *size,
                    });
                }
            }
            None => {
                // All its mentions went to components that kept other ids: merged.
                let (c, k) = parts
                    .iter()
                    .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
                    .copied()
                    .expect("non-empty");
                out.merged += 1;
                out.history.push(HistoryEvent {
                    action: "merged",
                    gid: name.clone(),
                    other: out.gid[c].clone(),
                    mentions: k,
                });
                if parts.len() > 1 {
                    out.split += 1;
                }
            }
        }
    }
    out.history.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comps(v: &[(&str, u64)]) -> Vec<Component> {
        v.iter()
            .map(|(a, s)| Component {
                anchor: a.to_string(),
                size: *s,
            })
            .collect()
    }

    #[test]
    fn same_data_same_ids() {
        let c = comps(&[("a", 2), ("b", 1)]);
        let first = assign("P", &c, &[], &[], &[]);
        assert_eq!(first.new, 2);
        let names = first.gid.clone();
        let second = assign("P", &c, &[(0, 0, 2), (1, 1, 1)], &names, &[2, 1]);
        assert_eq!(second.gid, names);
        assert_eq!(
            (
                second.new,
                second.unchanged,
                second.updated,
                second.merged,
                second.split
            ),
            (0, 2, 0, 0, 0)
        );
        assert!(second.history.is_empty());
    }

    #[test]
    fn merges_and_splits_are_recorded() {
        let names = vec!["P1".to_string(), "P2".to_string()];
        // Merge: mentions of P1 (two) and P2 (one) now form one cluster.
        let merged = assign(
            "P",
            &comps(&[("a", 3)]),
            &[(0, 0, 2), (0, 1, 1)],
            &names,
            &[2, 1],
        );
        assert_eq!(merged.gid, vec!["P1"]);
        assert_eq!(merged.merged, 1);
        assert_eq!(
            merged.history,
            vec![HistoryEvent {
                action: "merged",
                gid: "P2".into(),
                other: "P1".into(),
                mentions: 1
            }]
        );
        // Split: P1's three mentions now in two clusters; the bigger keeps P1.
        let split = assign(
            "P",
            &comps(&[("a", 2), ("b", 1)]),
            &[(0, 0, 2), (1, 0, 1)],
            &names[..1],
            &[3],
        );
        assert_eq!(split.gid[0], "P1");
        assert_ne!(split.gid[1], "P1");
        assert_eq!(split.split, 1);
        assert_eq!(split.history[0].action, "split");
        assert_eq!(split.history[0].other, "P1");
    }

    #[test]
    fn derived_ids_are_deterministic_and_distinct() {
        assert_eq!(derive("P", "x", 0), derive("P", "x", 0));
        assert_ne!(derive("P", "x", 0), derive("P", "x", 1));
        assert_eq!(derive("E", "y", 0).len(), 13);
    }
}
