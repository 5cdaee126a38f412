//! The Fellegi–Sunter model: m and u probabilities per comparison level,
//! estimated from the data itself (no labelled pairs), as Splink does.
//!
//! * u — how often a level occurs between two *different* records — is
//!   counted on random pairs of nodes, which are almost all non-matches.
//! * m — how often a level occurs between two records of the *same* entity —
//!   and λ, the share of matches among candidate pairs, come from
//!   expectation–maximisation over the candidate pairs, with u held fixed.
//!
//! Both work on *patterns*: the distinct vectors of levels (one per
//! comparison) with their counts, which an aggregation query produces, so the
//! iterations cost nothing however many pairs there are.

use serde::{Deserialize, Serialize};

/// A level index per comparison; `-1` means the comparison is null (a value
/// is missing) and says nothing.
pub type Pattern = Vec<i8>;

/// Smallest probability used, so that a level never seen in one population
/// does not give an infinite weight.
const FLOOR: f64 = 1e-6;

/// m and u of one level.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LevelModel {
    /// Label from the settings.
    pub label: String,
    /// P(level | match).
    pub m: f64,
    /// P(level | non-match).
    pub u: f64,
}

impl LevelModel {
    /// log2(m / u): the match weight this level adds.
    pub fn weight(&self) -> f64 {
        (self.m.max(FLOOR) / self.u.max(FLOOR)).log2()
    }
}

/// The levels of one comparison.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ComparisonModel {
    /// Comparison id.
    pub id: String,
    /// Levels in settings order.
    pub levels: Vec<LevelModel>,
}

/// A trained model.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Model {
    /// Share of matches among candidate pairs (from EM).
    pub lambda: f64,
    /// Probability that two random nodes are a match: the prior of every
    /// pair's posterior. The candidate pairs' expected matches spread over all
    /// node pairs, since blocking's agreement is already counted by the
    /// comparisons (as Splink's `probability_two_random_records_match`).
    pub prior: f64,
    /// Per comparison.
    pub comparisons: Vec<ComparisonModel>,
    /// Iterations EM ran.
    pub iterations: usize,
    /// Candidate pairs trained on.
    pub pairs: u64,
    /// Random pairs u was counted on.
    pub random_pairs: u64,
    /// Hash of the settings text the model was trained with.
    pub settings_hash: u64,
}

impl Model {
    /// Prior weight log2(prior / (1 − prior)).
    pub fn prior_weight(&self) -> f64 {
        let l = self.prior.clamp(1e-15, 0.5);
        (l / (1.0 - l)).log2()
    }

    /// Total match weight of a pattern (without term-frequency adjustment).
    pub fn weight(&self, p: &[i8]) -> f64 {
        self.prior_weight()
            + p.iter()
                .zip(&self.comparisons)
                .filter(|(l, _)| **l >= 0)
                .map(|(l, c)| c.levels[*l as usize].weight())
                .sum::<f64>()
    }
}

/// Match probability of a total weight.
pub fn probability(weight: f64) -> f64 {
    let odds = 2f64.powf(weight);
    if odds.is_infinite() {
        1.0
    } else {
        odds / (1.0 + odds)
    }
}

/// u per comparison level from the pattern counts of random pairs.
pub fn estimate_u(levels: &[usize], random: &[(Pattern, u64)]) -> Vec<Vec<f64>> {
    levels
        .iter()
        .enumerate()
        .map(|(k, &n)| {
            let mut counts = vec![0u64; n];
            for (p, c) in random {
                if let Some(&l) = p.get(k)
                    && l >= 0
                    && (l as usize) < n
                {
                    counts[l as usize] += c;
                }
            }
            let total: u64 = counts.iter().sum();
            // Laplace smoothing: an unseen level gets a small, finite u.
            counts
                .iter()
                .map(|c| (*c as f64 + 0.5) / (total as f64 + 0.5 * n as f64))
                .collect()
        })
        .collect()
}

/// Starting m: the most similar level likely, the last unlikely.
fn initial_m(n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![1.0];
    }
    let raw: Vec<f64> = (0..n)
        .map(|i| {
            if i + 1 == n {
                0.05
            } else {
                0.9f64.powi(i as i32 * 3 + 1)
            }
        })
        .collect();
    let s: f64 = raw.iter().sum();
    raw.iter().map(|x| x / s).collect()
}

/// Runs EM for m and λ with u fixed; returns (λ, m, iterations).
pub fn estimate_m(
    levels: &[usize],
    u: &[Vec<f64>],
    pairs: &[(Pattern, u64)],
    max_iterations: usize,
) -> (f64, Vec<Vec<f64>>, usize) {
    let mut m: Vec<Vec<f64>> = levels.iter().map(|&n| initial_m(n)).collect();
    let mut lambda = 0.3;
    let total: f64 = pairs.iter().map(|(_, c)| *c as f64).sum();
    if total == 0.0 {
        return (lambda, m, 0);
    }
    let mut iterations = 0;
    for _ in 0..max_iterations {
        iterations += 1;
        let mut new_m: Vec<Vec<f64>> = levels.iter().map(|&n| vec![0.0; n]).collect();
        let mut matched = 0.0;
        for (p, c) in pairs {
            let (mut a, mut b) = (lambda, 1.0 - lambda);
            for (k, &l) in p.iter().enumerate() {
                if l >= 0 {
                    a *= m[k][l as usize].max(FLOOR);
                    b *= u[k][l as usize].max(FLOOR);
                }
            }
            let post = if a + b > 0.0 { a / (a + b) } else { 0.0 };
            let w = post * *c as f64;
            matched += w;
            for (k, &l) in p.iter().enumerate() {
                if l >= 0 {
                    new_m[k][l as usize] += w;
                }
            }
        }
        for row in new_m.iter_mut() {
            let s: f64 = row.iter().sum();
            if s > 0.0 {
                for x in row.iter_mut() {
                    *x /= s;
                }
            }
        }
        let new_lambda = (matched / total).clamp(FLOOR, 1.0 - FLOOR);
        let delta = m
            .iter()
            .flatten()
            .zip(new_m.iter().flatten())
            .map(|(a, b)| (a - b).abs())
            .fold((new_lambda - lambda).abs(), f64::max);
        m = new_m;
        lambda = new_lambda;
        if delta < 1e-7 {
            break;
        }
    }
    (lambda, m, iterations)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn em_separates_two_populations() {
        // Two comparisons with two levels each (agree / disagree). Matches
        // agree on both 90% of the time; non-matches 5%.
        let levels = [2, 2];
        let random = vec![
            (vec![0, 0], 1),
            (vec![0, 1], 50),
            (vec![1, 0], 50),
            (vec![1, 1], 900),
        ];
        let u = estimate_u(&levels, &random);
        assert!(u[0][0] < 0.06 && u[0][1] > 0.9);
        let pairs = vec![
            (vec![0, 0], 810),
            (vec![0, 1], 90),
            (vec![1, 0], 90),
            (vec![1, 1], 10 + 1000),
        ];
        let (lambda, m, _) = estimate_m(&levels, &u, &pairs, 100);
        assert!((0.35..0.55).contains(&lambda), "lambda {lambda}");
        assert!(m[0][0] > 0.8, "{m:?}");
        let model = Model {
            lambda,
            prior: lambda,
            comparisons: levels
                .iter()
                .enumerate()
                .map(|(k, n)| ComparisonModel {
                    id: format!("c{k}"),
                    levels: (0..*n)
                        .map(|l| LevelModel {
                            label: String::new(),
                            m: m[k][l],
                            u: u[k][l],
                        })
                        .collect(),
                })
                .collect(),
            iterations: 0,
            pairs: 0,
            random_pairs: 0,
            settings_hash: 0,
        };
        assert!(probability(model.weight(&[0, 0])) > 0.95);
        assert!(probability(model.weight(&[1, 1])) < 0.05);
        // A null comparison adds nothing.
        assert_eq!(model.weight(&[-1, -1]), model.prior_weight());
    }

    #[test]
    fn probability_is_bounded() {
        assert_eq!(probability(2000.0), 1.0);
        assert!(probability(-2000.0) < 1e-100);
        assert!((probability(0.0) - 0.5).abs() < 1e-12);
    }
}
