//! Clustering linked nodes into entities — plain Rust, a union–find.
//!
//! Links are taken strongest first. Two guards keep clusters honest:
//! a link that would put two *different valid identifiers* in one cluster
//! (chaining: A–B–C where A and C carry different resident IDs) is not made
//! but sent to review, and so is a link between a mention and the cluster of
//! the very ID it contradicts. Reviewers' decisions come first: "same" links
//! two nodes whatever the guards say, "different" forbids their clusters from
//! ever joining.

use std::collections::HashSet;

/// A scored candidate pair of nodes.
#[derive(Debug, Clone)]
pub struct Link {
    /// First node.
    pub a: usize,
    /// Second node.
    pub b: usize,
    /// Match probability.
    pub probability: f64,
}

/// Why a pair waits for a person.
#[derive(Debug, Clone, PartialEq)]
pub enum ReviewReason {
    /// The probability is between the review and the match thresholds.
    Uncertain,
    /// Linking would join two different valid identifiers.
    DifferentIds(String, String),
    /// A mention without an identifier matches persons (or entities) with
    /// different identifiers about equally well: which one is it?
    Ambiguous,
    /// The mention contradicts the identifier it carries.
    Contradiction(String),
}

impl ReviewReason {
    /// Short text for tables.
    pub fn describe(&self) -> String {
        match self {
            ReviewReason::Uncertain => "uncertain match".to_string(),
            ReviewReason::DifferentIds(a, b) => {
                format!("would join two different valid IDs ({a}, {b})")
            }
            ReviewReason::Contradiction(r) => format!("contradicts its ID: {r}"),
            ReviewReason::Ambiguous => {
                "matches several records with different IDs about equally well".to_string()
            }
        }
    }
}

/// A pair for review.
#[derive(Debug, Clone)]
pub struct ReviewPair {
    /// First node.
    pub a: usize,
    /// Second node.
    pub b: usize,
    /// Match probability (of the model).
    pub probability: f64,
    /// Why.
    pub reason: ReviewReason,
}

/// The outcome of clustering.
#[derive(Debug, Clone)]
pub struct Clustering {
    /// Component representative of every node.
    pub component: Vec<usize>,
    /// For a node joined by a probabilistic link, the strongest such link's probability.
    pub joined_by: Vec<Option<f64>>,
    /// Nodes joined by a reviewer's "same".
    pub decided: Vec<bool>,
    /// Nodes joined by a deterministic rule of the settings.
    pub by_rule: Vec<bool>,
    /// Pairs for review.
    pub review: Vec<ReviewPair>,
    /// Probabilistic links made.
    pub links_made: usize,
    /// Sum of the probabilities of the links made.
    pub made_probability: f64,
}

struct UnionFind {
    parent: Vec<usize>,
    rank: Vec<u8>,
    ident: Vec<Option<String>>,
    cannot: Vec<Vec<usize>>,
}

impl UnionFind {
    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    fn forbidden(&mut self, ra: usize, rb: usize) -> bool {
        let ca = self.cannot[ra].clone();
        ca.into_iter().any(|n| self.find(n) == rb)
    }

    fn union(&mut self, ra: usize, rb: usize) -> usize {
        let (big, small) = if self.rank[ra] >= self.rank[rb] {
            (ra, rb)
        } else {
            (rb, ra)
        };
        self.parent[small] = big;
        if self.rank[big] == self.rank[small] {
            self.rank[big] += 1;
        }
        if self.ident[big].is_none() {
            self.ident[big] = self.ident[small].take();
        }
        let moved = std::mem::take(&mut self.cannot[small]);
        self.cannot[big].extend(moved);
        big
    }
}

/// What constrains clustering besides the links.
#[derive(Debug, Clone, Default)]
pub struct Constraints {
    /// (mention node, the cluster of the ID it contradicts, why).
    pub contradicted: Vec<(usize, usize, String)>,
    /// Reviewers' "same" pairs.
    pub same: Vec<(usize, usize)>,
    /// Reviewers' "different" pairs.
    pub different: Vec<(usize, usize)>,
    /// Node pairs already together in the previous run (incremental
    /// matching): joined first, as the golden records new mentions are
    /// matched against.
    pub previous: Vec<(usize, usize)>,
    /// Pairs linked by a deterministic rule of the settings (a loose node and
    /// the one cluster sharing its key).
    pub rules: Vec<(usize, usize)>,
}

/// How much stronger (in bits of match weight) the best identified candidate
/// of a mention must be than the next one with a different identifier.
pub const AMBIGUITY_MARGIN_BITS: f64 = 3.0;

fn weight_of(p: f64) -> f64 {
    if p >= 1.0 {
        f64::INFINITY
    } else {
        (p / (1.0 - p)).log2()
    }
}

/// Loose nodes whose links at or above the threshold reach two different
/// identifiers within the ambiguity margin.
fn ambiguous_nodes(
    ident: &[Option<String>],
    links: &[Link],
    match_threshold: f64,
) -> HashSet<usize> {
    let mut best: std::collections::HashMap<usize, Vec<(f64, &str)>> =
        std::collections::HashMap::new();
    for l in links.iter().filter(|l| l.probability >= match_threshold) {
        for (loose, other) in [(l.a, l.b), (l.b, l.a)] {
            if ident[loose].is_none()
                && let Some(id) = &ident[other]
            {
                best.entry(loose)
                    .or_default()
                    .push((weight_of(l.probability), id.as_str()));
            }
        }
    }
    best.into_iter()
        .filter_map(|(node, mut cands)| {
            cands.sort_by(|a, b| b.0.total_cmp(&a.0));
            let (top, id) = cands[0];
            let rival = cands.iter().find(|(_, other)| *other != id)?;
            let close = (top.is_infinite() && rival.0.is_infinite())
                || top - rival.0 < AMBIGUITY_MARGIN_BITS;
            close.then_some(node)
        })
        .collect()
}

/// Clusters nodes. `ident[i]` is node i's valid identifier (clusters of the
/// deterministic pass), `links` the scored candidate pairs.
pub fn cluster(
    ident: &[Option<String>],
    mut links: Vec<Link>,
    match_threshold: f64,
    review_threshold: f64,
    constraints: &Constraints,
) -> Clustering {
    let Constraints {
        contradicted,
        same,
        different,
        previous,
        rules,
    } = constraints;
    let ambiguous = ambiguous_nodes(ident, &links, match_threshold);
    let n = ident.len();
    let mut uf = UnionFind {
        parent: (0..n).collect(),
        rank: vec![0; n],
        ident: ident.to_vec(),
        cannot: vec![Vec::new(); n],
    };
    // A contradicted mention never joins the cluster of the ID it
    // contradicts, not even through a third node.
    let cannot: Vec<(usize, usize)> = different
        .iter()
        .copied()
        .chain(contradicted.iter().map(|(a, b, _)| (*a, *b)))
        .collect();
    for (a, b) in cannot {
        uf.cannot[a].push(b);
        uf.cannot[b].push(a);
    }
    for &(a, b) in previous {
        let (ra, rb) = (uf.find(a), uf.find(b));
        if ra != rb {
            uf.union(ra, rb);
        }
    }
    let mut decided = vec![false; n];
    for &(a, b) in same {
        let (ra, rb) = (uf.find(a), uf.find(b));
        if ra != rb {
            uf.union(ra, rb);
        }
        decided[a] = true;
        decided[b] = true;
    }
    let blocked: std::collections::HashMap<(usize, usize), &str> = contradicted
        .iter()
        .map(|(a, b, r)| ((*a.min(b), *a.max(b)), r.as_str()))
        .collect();
    let decided_pairs: HashSet<(usize, usize)> = same
        .iter()
        .chain(different)
        .map(|(a, b)| (*a.min(b), *a.max(b)))
        .collect();
    links.sort_by(|x, y| {
        y.probability
            .total_cmp(&x.probability)
            .then(x.a.cmp(&y.a))
            .then(x.b.cmp(&y.b))
    });
    let mut joined_by = vec![None; n];
    let mut by_rule = vec![false; n];
    for &(a, b) in rules {
        let (ra, rb) = (uf.find(a), uf.find(b));
        let clash = matches!((&uf.ident[ra], &uf.ident[rb]), (Some(x), Some(y)) if x != y);
        if ra != rb && !clash && !uf.forbidden(ra, rb) {
            uf.union(ra, rb);
            for x in [a, b] {
                if ident[x].is_none() {
                    by_rule[x] = true;
                }
            }
        }
    }
    let mut review = Vec::new();
    let mut links_made = 0;
    let mut made_probability = 0.0;
    for l in links {
        if l.probability < review_threshold {
            break;
        }
        let key = (l.a.min(l.b), l.a.max(l.b));
        if decided_pairs.contains(&key) {
            continue;
        }
        if let Some(r) = blocked.get(&key) {
            review.push(ReviewPair {
                a: l.a,
                b: l.b,
                probability: l.probability,
                reason: ReviewReason::Contradiction(r.to_string()),
            });
            continue;
        }
        let (ra, rb) = (uf.find(l.a), uf.find(l.b));
        if ra == rb {
            continue;
        }
        if l.probability < match_threshold {
            review.push(ReviewPair {
                a: l.a,
                b: l.b,
                probability: l.probability,
                reason: ReviewReason::Uncertain,
            });
            continue;
        }
        if (ambiguous.contains(&l.a) && ident[l.b].is_some())
            || (ambiguous.contains(&l.b) && ident[l.a].is_some())
        {
            review.push(ReviewPair {
                a: l.a,
                b: l.b,
                probability: l.probability,
                reason: ReviewReason::Ambiguous,
            });
            continue;
        }
        if uf.forbidden(ra, rb) {
            continue;
        }
        if let (Some(x), Some(y)) = (&uf.ident[ra], &uf.ident[rb])
            && x != y
        {
            review.push(ReviewPair {
                a: l.a,
                b: l.b,
                probability: l.probability,
                reason: ReviewReason::DifferentIds(x.clone(), y.clone()),
            });
            continue;
        }
        uf.union(ra, rb);
        links_made += 1;
        made_probability += l.probability;
        for x in [l.a, l.b] {
            if ident[x].is_none() && joined_by[x].is_none() {
                joined_by[x] = Some(l.probability);
            }
        }
    }
    // Contradictions never compared (no blocking rule paired them) still go to review.
    let reviewed: HashSet<(usize, usize)> = review
        .iter()
        .map(|r| (r.a.min(r.b), r.a.max(r.b)))
        .collect();
    for (a, b, r) in contradicted {
        let key = (*a.min(b), *a.max(b));
        if !reviewed.contains(&key) && !decided_pairs.contains(&key) && uf.find(*a) != uf.find(*b) {
            review.push(ReviewPair {
                a: *a,
                b: *b,
                probability: f64::NAN,
                reason: ReviewReason::Contradiction(r.clone()),
            });
        }
    }
    let component = (0..n).map(|i| uf.find(i)).collect();
    Clustering {
        component,
        joined_by,
        decided,
        by_rule,
        review,
        links_made,
        made_probability,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(a: usize, b: usize, p: f64) -> Link {
        Link {
            a,
            b,
            probability: p,
        }
    }

    #[test]
    fn chaining_across_two_ids_goes_to_review() {
        // Nodes 0 and 2 carry different IDs; 1 is a loose mention like both.
        let ident = vec![Some("A".to_string()), None, Some("B".to_string())];
        let c = cluster(
            &ident,
            vec![link(0, 1, 0.99999), link(1, 2, 0.96)],
            0.95,
            0.5,
            &Constraints::default(),
        );
        assert_eq!(c.component[0], c.component[1]);
        assert_ne!(c.component[1], c.component[2]);
        assert_eq!(c.review.len(), 1);
        assert!(matches!(
            c.review[0].reason,
            ReviewReason::DifferentIds(_, _)
        ));
    }

    #[test]
    fn decisions_win() {
        let ident = vec![None, None, None];
        let c = cluster(
            &ident,
            vec![link(0, 1, 0.99), link(1, 2, 0.6)],
            0.95,
            0.5,
            &Constraints {
                same: vec![(1, 2)],
                different: vec![(0, 1)],
                ..Default::default()
            },
        );
        assert_ne!(
            c.component[0], c.component[1],
            "a `different` decision blocks even a strong link"
        );
        assert_eq!(
            c.component[1], c.component[2],
            "a `same` decision links even an uncertain pair"
        );
        assert!(c.review.is_empty());
    }

    #[test]
    fn a_mention_matching_two_ids_equally_is_ambiguous() {
        // Decoys: the same name and birth date, different IDs.
        let ident = vec![Some("A".to_string()), None, Some("B".to_string())];
        let c = cluster(
            &ident,
            vec![link(0, 1, 0.997), link(1, 2, 0.997)],
            0.95,
            0.5,
            &Constraints::default(),
        );
        assert_eq!(c.component.iter().collect::<HashSet<_>>().len(), 3);
        assert_eq!(
            c.review
                .iter()
                .filter(|r| r.reason == ReviewReason::Ambiguous)
                .count(),
            2
        );
        // Clearly stronger evidence for one decides it.
        let c = cluster(
            &ident,
            vec![link(0, 1, 0.99999), link(1, 2, 0.96)],
            0.95,
            0.5,
            &Constraints::default(),
        );
        assert_eq!(c.component[0], c.component[1]);
    }

    #[test]
    fn previous_groups_are_kept_and_guarded() {
        // 0 and 1 were one golden record; a new mention 2 links to 1.
        let ident = vec![Some("A".to_string()), None, None, Some("B".to_string())];
        let c = cluster(
            &ident,
            vec![link(1, 2, 0.99), link(2, 3, 0.99)],
            0.95,
            0.5,
            &Constraints {
                previous: vec![(0, 1)],
                ..Default::default()
            },
        );
        assert_eq!(c.component[0], c.component[1]);
        assert_eq!(c.component[1], c.component[2]);
        assert_ne!(
            c.component[2], c.component[3],
            "the previous group's ID guards it"
        );
    }

    #[test]
    fn uncertain_and_contradicted_pairs_are_reviewed_not_linked() {
        let ident = vec![Some("A".to_string()), None, None];
        let c = cluster(
            &ident,
            vec![link(0, 1, 0.99), link(1, 2, 0.7)],
            0.95,
            0.5,
            &Constraints {
                contradicted: vec![(1, 0, "birth date".into())],
                ..Default::default()
            },
        );
        assert!(c.component.iter().collect::<HashSet<_>>().len() == 3);
        assert_eq!(c.review.len(), 2);
    }
}
