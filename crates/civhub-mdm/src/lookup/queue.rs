//! The review queue and reviewers' decisions.

use super::{
    LookupError, Mention, Result, Run, article, mention, mentions_where, resolve_mention, tables,
};
use crate::review::{self, Decision};
use crate::settings::Kind;
use crate::sql::lit;
use civhub_ingest::config::Project;
use serde::Serialize;
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// A pair waiting for review.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewItem {
    /// Position in the queue (1-based), for `civhub review show <n>`.
    pub n: usize,
    /// Anchor mention of one side.
    pub mention_a: String,
    /// Anchor mention of the other side.
    pub mention_b: String,
    /// Node of one side.
    pub node_a: String,
    /// Node of the other side.
    pub node_b: String,
    /// Match probability, when the pair was scored.
    pub probability: Option<f64>,
    /// Why it waits.
    pub reason: String,
    /// The mention of side a.
    pub a: Option<Mention>,
    /// The mention of side b.
    pub b: Option<Mention>,
}

/// The review queue: the run's pairs minus those a reviewer already decided,
/// numbered from 1 in the run's order (most probable first).
pub async fn pending(project: &Project, run: &Run) -> Result<Vec<ReviewItem>> {
    let decided: HashSet<(String, String)> = review::load(&project.root, run.kind)
        .map_err(LookupError::Decisions)?
        .into_iter()
        .map(|d| pair_key(&d.a, &d.b))
        .collect();
    let rows = run
        .query(&format!(
            "SELECT mention_a, mention_b, node_a, node_b, probability, reason FROM {}",
            tables::REVIEW
        ))
        .await?;
    let mut items: Vec<ReviewItem> = Vec::new();
    for r in rows {
        let (a, b) = (
            r.text("mention_a").unwrap_or_default(),
            r.text("mention_b").unwrap_or_default(),
        );
        if decided.contains(&pair_key(&a, &b)) {
            continue;
        }
        items.push(ReviewItem {
            n: items.len() + 1,
            mention_a: a,
            mention_b: b,
            node_a: r.text("node_a").unwrap_or_default(),
            node_b: r.text("node_b").unwrap_or_default(),
            probability: r.get("probability").and_then(Value::as_f64),
            reason: r.text("reason").unwrap_or_default(),
            a: None,
            b: None,
        });
    }
    if items.is_empty() {
        return Ok(items);
    }
    let ids: Vec<String> = items
        .iter()
        .flat_map(|i| [lit(&i.mention_a), lit(&i.mention_b)])
        .collect();
    let found: HashMap<String, Mention> =
        mentions_where(run, &format!("m.mention_id IN ({})", ids.join(", ")))
            .await?
            .into_iter()
            .map(|m| (m.mention_id.clone(), m))
            .collect();
    for i in &mut items {
        i.a = found.get(&i.mention_a).cloned();
        i.b = found.get(&i.mention_b).cloned();
    }
    Ok(items)
}

/// A pair of mention ids in a fixed order.
pub fn pair_key(a: &str, b: &str) -> (String, String) {
    if a <= b {
        (a.to_string(), b.to_string())
    } else {
        (b.to_string(), a.to_string())
    }
}

/// The effective decision about a pair, if any (the last one recorded).
pub fn decision_for(project: &Project, kind: Kind, a: &str, b: &str) -> Result<Option<Decision>> {
    let key = pair_key(a, b);
    Ok(review::load(&project.root, kind)
        .map_err(LookupError::Decisions)?
        .into_iter()
        .rev()
        .find(|d| pair_key(&d.a, &d.b) == key))
}

/// True when the decisions file changed since the run (the next `civhub
/// match` will apply what changed).
pub fn decisions_changed(project: &Project, run: &Run) -> bool {
    let bytes = fs_err::read(review::path(&project.root, run.kind)).unwrap_or_default();
    xxhash_rust::xxh3::xxh3_64(&bytes) != run.current.decisions_hash
}

/// Records a reviewer's decision about two mentions of the current run.
/// Refuses what a decision cannot change: the same mention twice, mentions
/// of different kinds, and `different` for two mentions that share a valid
/// identifier (the deterministic pass links those whatever a decision says).
pub async fn decide(
    project: &Project,
    a: &str,
    b: &str,
    decision: &str,
    by: &str,
    note: &str,
) -> Result<(Kind, Decision)> {
    if decision != "same" && decision != "different" {
        return Err(LookupError::Invalid {
            message: format!("a decision is `same` or `different`, found `{decision}`"),
            hint: "civhub review decide <mention> <mention> same|different".into(),
        });
    }
    let (ka, a) = resolve_mention(project, a).await?;
    let (kb, b) = resolve_mention(project, b).await?;
    if ka != kb {
        return Err(LookupError::Invalid {
            message: format!(
                "`{a}` is {} mention and `{b}` {} mention",
                article(ka),
                article(kb)
            ),
            hint: "a decision is about two mentions of one kind".into(),
        });
    }
    if a == b {
        return Err(LookupError::Invalid {
            message: format!("`{a}` given twice"),
            hint: "a decision is about two different mentions".into(),
        });
    }
    let run = Run::open(project, ka).await?;
    let ma = mention(&run, &a).await?;
    let mb = mention(&run, &b).await?;
    if decision == "different" && ma.node_id == mb.node_id && ma.node_id.starts_with('c') {
        return Err(LookupError::Invalid {
            message: format!(
                "`{a}` and `{b}` share the valid identifier {}: the deterministic pass links them whatever a decision says",
                &ma.node_id[1..]
            ),
            hint: "if one of them is someone else, the identifier in its source record is wrong: correct the export and re-run".into(),
        });
    }
    let d = Decision {
        a,
        b,
        decision: decision.to_string(),
        by: by.to_string(),
        at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        note: note.to_string(),
    };
    review::append(&project.root, ka, &d).map_err(|e| LookupError::Decisions(e.to_string()))?;
    Ok((ka, d))
}
