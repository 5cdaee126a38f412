//! Why two mentions were or were not linked — Splink's waterfall, computed
//! the way the run computed it.
//!
//! Each mention is turned into a node with its kind's `loose` expressions
//! (a mention in a deterministic cluster can also be compared as that
//! cluster, with the cluster expressions the run used), and each
//! comparison's level is the value of its SQL ([`crate::resolve::level_case`])
//! over the two nodes in DataFusion — the same SQL, functions and model as
//! the run, so an explanation cannot drift from what matching does. Weights
//! come from [`crate::resolve::pair_weight`] with the run's saved term
//! frequencies (`tf.parquet`).

mod nodes;
mod verdict;
mod waterfall;

use crate::kinds::spec;
use crate::lookup::{self, LookupError, Mention, Result, Run, article};
use crate::review::Decision;
use crate::settings::{Kind, Settings};
use civhub_ingest::config::Project;
use nodes::{loose_sql, node_sql};
use serde::Serialize;
use std::collections::HashMap;
use verdict::verdict;
use waterfall::Scorer;

/// The frequency that replaced u at a term-frequency adjusted level.
#[derive(Debug, Clone, Serialize)]
pub struct TermFrequency {
    /// Node column whose value's frequency counts.
    pub column: String,
    /// The value both sides share.
    pub value: String,
    /// Its relative frequency among the run's nodes (used as u).
    pub frequency: f64,
}

/// One comparison of the waterfall.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// Comparison id (`name`, `birth_date`, …).
    pub comparison: String,
    /// What it compares.
    pub description: String,
    /// Level reached (index in the settings), None when a value is missing.
    pub level: Option<usize>,
    /// The level's label, or `value missing`.
    pub label: String,
    /// Node columns the comparison reads, with both values: (column, left, right).
    pub values: Vec<(String, Option<String>, Option<String>)>,
    /// P(level | match).
    pub m: Option<f64>,
    /// P(level | non-match) — the term frequency when adjusted.
    pub u: Option<f64>,
    /// Term-frequency adjustment, when the level has one and the value is known.
    pub term_frequency: Option<TermFrequency>,
    /// Match weight, log2 of the Bayes factor m / u.
    pub weight: f64,
    /// Running total after this step.
    pub total: f64,
}

/// A blocking rule (or deterministic rule) whose columns the two nodes share.
#[derive(Debug, Clone, Serialize)]
pub struct BlockingHit {
    /// Rule id.
    pub rule: String,
    /// Columns it blocks on.
    pub on: Vec<String>,
    /// The values both share, per column.
    pub values: Vec<String>,
    /// The rule's cap on nodes sharing a key (pairs of bigger groups are skipped).
    pub max_group: Option<usize>,
    /// What the rule rests on (deterministic rules).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// A whole waterfall: prior, every comparison, total and probability.
#[derive(Debug, Clone, Serialize)]
pub struct Waterfall {
    /// Left node (a mention id, or `c<ID>` for a deterministic cluster).
    pub left: String,
    /// Right node.
    pub right: String,
    /// Prior probability that two random nodes match.
    pub prior: f64,
    /// Its weight, log2(prior / (1 − prior)).
    pub prior_weight: f64,
    /// Comparisons in settings order.
    pub steps: Vec<Step>,
    /// Total match weight.
    pub weight: f64,
    /// Match probability.
    pub probability: f64,
    /// Blocking rules that pair the two nodes.
    pub blocking: Vec<BlockingHit>,
    /// `[[deterministic.rules]]` whose columns the two nodes share (such a
    /// rule joins a mention without a valid identifier to the one cluster
    /// sharing its key).
    pub rules: Vec<BlockingHit>,
    /// Why matching never compares the two nodes, when it does not: no
    /// blocking rule pairs them, or both are clusters of (different) valid
    /// identifiers.
    pub never_compared: Option<String>,
}

/// How the outcome came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Route {
    /// Both carry the same valid identifier (deterministic pass).
    SameId,
    /// A `[[deterministic.rules]]` rule (e.g. a registered company name).
    Rule,
    /// A probabilistic link at or above the match threshold.
    Probabilistic,
    /// The same golden record through other mentions.
    Chained,
    /// A reviewer's decision.
    Decision,
    /// A mention contradicts the identifier it carries.
    Contradiction,
    /// Linking would join two different valid identifiers.
    DifferentIds,
    /// It matches records with different identifiers about equally well.
    Ambiguous,
    /// Between the review and the match thresholds.
    Uncertain,
    /// Below the review threshold.
    BelowThreshold,
    /// No blocking rule pairs them.
    NotCompared,
}

/// The outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// Whether both are in one golden record.
    pub same_golden: bool,
    /// By which route.
    pub route: Route,
    /// One sentence.
    pub summary: String,
}

/// The thresholds of the kind's settings.
#[derive(Debug, Clone, Serialize)]
pub struct Thresholds {
    /// Pairs at or above this are linked.
    #[serde(rename = "match")]
    pub link: f64,
    /// Pairs at or above this (below `match`) go to review.
    pub review: f64,
}

/// Why two mentions were or were not linked.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// `person` or `entity`.
    pub kind: Kind,
    /// The run explained.
    pub run_id: String,
    /// First mention.
    pub a: Mention,
    /// Second mention.
    pub b: Mention,
    /// The settings' thresholds.
    pub thresholds: Thresholds,
    /// The two mentions compared as themselves.
    pub mentions: Waterfall,
    /// The comparison the run made, when a mention sits in a deterministic
    /// cluster (it was compared as that cluster).
    pub nodes: Option<Waterfall>,
    /// The last reviewer decision about this pair.
    pub decision: Option<Decision>,
    /// The outcome.
    pub verdict: Verdict,
    /// Remarks (settings changed since the run, …).
    pub notes: Vec<String>,
}

/// Explains two mention references (mention ids or `<pipeline>:<file>:<row>`).
pub async fn explain(
    project: &Project,
    settings: &HashMap<Kind, Settings>,
    a: &str,
    b: &str,
) -> Result<Explanation> {
    let (ka, a) = lookup::resolve_mention(project, a).await?;
    let (kb, b) = lookup::resolve_mention(project, b).await?;
    if ka != kb {
        return Err(LookupError::Invalid {
            message: format!(
                "`{a}` is {} mention and `{b}` {} mention: only mentions of one kind are ever compared",
                article(ka),
                article(kb)
            ),
            hint: "pass two person mentions (pm…) or two entity mentions (em…)".into(),
        });
    }
    let Some(s) = settings.get(&ka) else {
        return Err(LookupError::Invalid {
            message: format!("no {} matching settings", ka.as_str()),
            hint: format!("add pipelines/match/{}.toml", ka.as_str()),
        });
    };
    let run = Run::open(project, ka).await?;
    explain_in(project, &run, s, &a, &b).await
}

/// Explains two mention ids of an opened run.
pub async fn explain_in(
    project: &Project,
    run: &Run,
    settings: &Settings,
    a: &str,
    b: &str,
) -> Result<Explanation> {
    if a == b {
        return Err(LookupError::Invalid {
            message: format!("`{a}` given twice"),
            hint: "explain compares two different mentions".into(),
        });
    }
    let ma = lookup::mention(run, a).await?;
    let mb = lookup::mention(run, b).await?;
    let model = run.model()?;
    let mut notes = Vec::new();
    let ids: Vec<&str> = settings
        .file
        .comparisons
        .iter()
        .map(|c| c.id.get_ref().as_str())
        .collect();
    let model_ids: Vec<&str> = model.comparisons.iter().map(|c| c.id.as_str()).collect();
    if ids != model_ids
        || settings
            .file
            .comparisons
            .iter()
            .zip(&model.comparisons)
            .any(|(c, m)| c.levels.len() != m.levels.len())
    {
        return Err(LookupError::Invalid {
            message: format!(
                "{} changed its comparisons since the last matching run ({} now, {} in the run)",
                settings.display,
                ids.join(", "),
                model_ids.join(", ")
            ),
            hint: "run `civhub match` to match with the current settings, then explain".into(),
        });
    }
    if model.settings_hash != settings.text_hash {
        notes.push(format!(
            "{} changed since this run; levels use the current SQL and the run's m and u",
            settings.display
        ));
    }
    let k = spec(run.kind);
    let scorer = Scorer {
        run,
        settings,
        model: &model,
        kind: k,
    };
    if !scorer.has_term_frequencies() {
        notes.push("this run saved no term frequencies; exact agreements use the plain u".into());
    }
    let mentions = scorer
        .waterfall(&loose_sql(k, a), &loose_sql(k, b), (a, b))
        .await?;
    let in_cluster = |m: &Mention| m.node_id != m.mention_id;
    let nodes = if (in_cluster(&ma) || in_cluster(&mb)) && ma.node_id != mb.node_id {
        Some(
            scorer
                .waterfall(
                    &node_sql(run.ctx(), k, &ma).await?,
                    &node_sql(run.ctx(), k, &mb).await?,
                    (&ma.node_id, &mb.node_id),
                )
                .await?,
        )
    } else {
        None
    };
    let decision = lookup::decision_for(project, run.kind, a, b)?;
    let thresholds = Thresholds {
        link: *settings.file.thresholds.link.get_ref(),
        review: *settings.file.thresholds.review.get_ref(),
    };
    let pending = lookup::pending(project, run).await?;
    let in_review = pending.iter().find(|r| {
        lookup::pair_key(&r.node_a, &r.node_b) == lookup::pair_key(&ma.node_id, &mb.node_id)
    });
    let verdict = verdict(
        &ma,
        &mb,
        nodes.as_ref().unwrap_or(&mentions),
        &thresholds,
        decision.as_ref(),
        lookup::decisions_changed(project, run),
        in_review.map(|r| r.reason.as_str()),
        k,
    );
    Ok(Explanation {
        kind: run.kind,
        run_id: run.current.run_id.clone(),
        a: ma,
        b: mb,
        thresholds,
        mentions,
        nodes,
        decision,
        verdict,
        notes,
    })
}

/// A probability for sentences: 4 decimals, or scientific when tiny.
pub fn fmt_p(p: f64) -> String {
    if p == 0.0 || p >= 1e-4 {
        let s = format!("{p:.4}");
        if s == "1.0000" && p < 1.0 {
            "0.9999+".into()
        } else {
            s
        }
    } else {
        format!("{p:.1e}")
    }
}

#[cfg(test)]
mod tests {
    use super::fmt_p;

    #[test]
    fn probabilities_read_well() {
        assert_eq!(fmt_p(0.5), "0.5000");
        assert_eq!(fmt_p(0.99999), "0.9999+");
        assert_eq!(fmt_p(1.0), "1.0000");
        assert_eq!(fmt_p(1.2e-16), "1.2e-16");
        assert_eq!(fmt_p(0.0), "0.0000");
    }
}
