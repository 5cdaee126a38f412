//! Scoring one pair of nodes as the run did: levels from each comparison's
//! SQL, weights from the run's model and term frequencies, and the blocking
//! rules that pair the two.

use super::{BlockingHit, Step, TermFrequency, Waterfall, verdict::id_noun};
use crate::em::{self, Model};
use crate::kinds::KindSpec;
use crate::lookup::{self, Fields, LookupError, Result, Run, tables};
use crate::resolve::{gamma_list, pair_weight, tf_columns};
use crate::settings::Settings;
use crate::sql::{collect, lit, materialize};
use datafusion::error::DataFusionError;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Term frequencies: column → value → relative frequency.
type Frequencies = HashMap<String, HashMap<String, f64>>;

/// Everything a pair is scored with.
pub(super) struct Scorer<'a> {
    pub run: &'a Run,
    pub settings: &'a Settings,
    pub model: &'a Model,
    pub kind: &'static KindSpec,
}

/// Unique names for the two one-row node tables of each scoring.
static SEQ: AtomicUsize = AtomicUsize::new(0);

impl Scorer<'_> {
    /// Whether the run saved its term frequencies (older runs did not).
    pub fn has_term_frequencies(&self) -> bool {
        self.run.ctx().table_exist(tables::TF).unwrap_or(false)
    }

    /// Scores the node of `left_sql` against the node of `right_sql`.
    pub async fn waterfall(
        &self,
        left_sql: &str,
        right_sql: &str,
        names: (&str, &str),
    ) -> Result<Waterfall> {
        let ctx = self.run.ctx();
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let (lt, rt) = (format!("explain_l{n}"), format!("explain_r{n}"));
        materialize(ctx, &lt, left_sql).await?;
        materialize(ctx, &rt, right_sql).await?;
        let result = self.score(&lt, &rt, names).await;
        let _ = ctx.deregister_table(&lt);
        let _ = ctx.deregister_table(&rt);
        result
    }

    async fn score(&self, lt: &str, rt: &str, names: (&str, &str)) -> Result<Waterfall> {
        let (settings, model) = (self.settings, self.model);
        let comparisons = &settings.file.comparisons;
        let tf_levels = tf_columns(settings);
        let columns = Columns::of(settings);
        let mut select = gamma_list(settings);
        for (i, t) in tf_levels.iter().enumerate() {
            select.push(match t {
                Some((_, col)) => format!("CAST(l.{col} AS VARCHAR) AS tf{i}"),
                None => format!("CAST(NULL AS VARCHAR) AS tf{i}"),
            });
        }
        select.push("l.is_cluster AS l_cluster, r.is_cluster AS r_cluster".into());
        for (i, c) in columns.all.iter().enumerate() {
            select.push(format!("CAST(l.{c} AS VARCHAR) AS lv{i}"));
            select.push(format!("CAST(r.{c} AS VARCHAR) AS rv{i}"));
        }
        let batches = collect(
            self.run.ctx(),
            &format!(
                "SELECT {} FROM {lt} AS l CROSS JOIN {rt} AS r",
                select.join(", ")
            ),
        )
        .await?;
        let row = lookup::rows(&batches).into_iter().next().ok_or_else(|| {
            LookupError::Engine(DataFusionError::Execution(format!(
                "node `{}` or `{}` is not in the run",
                names.0, names.1
            )))
        })?;
        let ncmp = comparisons.len();
        let pattern: Vec<i8> = (0..ncmp)
            .map(|i| {
                row.get(&format!("g{i}"))
                    .and_then(Value::as_i64)
                    .unwrap_or(-1) as i8
            })
            .collect();
        let tf_values: Vec<Option<String>> =
            (0..ncmp).map(|i| row.text(&format!("tf{i}"))).collect();
        let wanted: Vec<(String, String)> = tf_levels
            .iter()
            .zip(&tf_values)
            .zip(&pattern)
            .filter_map(|((t, v), &l)| match (t, v) {
                (Some((tl, col)), Some(v)) if *tl as i8 == l => Some((col.clone(), v.clone())),
                _ => None,
            })
            .collect();
        let freqs = self.term_frequencies(&wanted).await?;
        let tf_refs: Vec<Option<&str>> = tf_values.iter().map(|v| v.as_deref()).collect();

        let prior_weight = model.prior_weight();
        let mut total = prior_weight;
        let mut steps = Vec::with_capacity(ncmp);
        for (i, c) in comparisons.iter().enumerate() {
            let level = pattern[i];
            // One comparison at a time through the run's own weighting.
            let mut only = vec![-1i8; ncmp];
            only[i] = level;
            let weight = if level < 0 {
                0.0
            } else {
                pair_weight(model, &only, &tf_levels, &tf_refs, &freqs) - prior_weight
            };
            total += weight;
            let lm = (level >= 0)
                .then(|| model.comparisons[i].levels.get(level as usize))
                .flatten();
            let term_frequency = match (&tf_levels[i], &tf_values[i]) {
                (Some((tl, col)), Some(v)) if *tl as i8 == level => freqs
                    .get(col)
                    .and_then(|m| m.get(v))
                    .map(|f| TermFrequency {
                        column: col.clone(),
                        value: v.clone(),
                        frequency: *f,
                    }),
                _ => None,
            };
            steps.push(Step {
                comparison: c.id.get_ref().clone(),
                description: c.description.clone(),
                level: (level >= 0).then_some(level as usize),
                label: match lm {
                    Some(l) => l.label.clone(),
                    None => "value missing".into(),
                },
                values: columns.compared[i]
                    .iter()
                    .map(|col| {
                        (
                            col.clone(),
                            columns.value(&row, "l", col),
                            columns.value(&row, "r", col),
                        )
                    })
                    .collect(),
                m: lm.map(|l| l.m),
                u: match &term_frequency {
                    Some(t) => Some(t.frequency),
                    None => lm.map(|l| l.u),
                },
                term_frequency,
                weight,
                total,
            });
        }
        let weight = pair_weight(model, &pattern, &tf_levels, &tf_refs, &freqs);
        // The total is the run's own sum, whatever rounding the steps carry.
        if let Some(last) = steps.last_mut() {
            last.total = weight;
        }
        let blocking = self.blocking(lt, rt, &columns, &row).await?;
        let rules = self
            .settings
            .file
            .deterministic
            .rules
            .iter()
            .filter_map(|r| {
                let on: Vec<String> = r.on.iter().map(|c| c.get_ref().clone()).collect();
                let values = shared_values(&columns, &row, &on)?;
                Some(BlockingHit {
                    rule: r.id.get_ref().clone(),
                    on,
                    values,
                    max_group: None,
                    description: r.description.clone(),
                })
            })
            .collect();
        let both_clusters = [row.get("l_cluster"), row.get("r_cluster")]
            .iter()
            .all(|v| v.and_then(Value::as_bool) == Some(true));
        let never_compared = if both_clusters {
            Some(format!(
                "both are clusters of valid {}s",
                id_noun(self.kind)
            ))
        } else if blocking.is_empty() {
            Some("no blocking rule pairs them".to_string())
        } else {
            None
        };
        Ok(Waterfall {
            left: names.0.to_string(),
            right: names.1.to_string(),
            prior: model.prior,
            prior_weight,
            steps,
            weight,
            probability: em::probability(weight),
            blocking,
            rules,
            never_compared,
        })
    }

    /// The saved frequencies of the (column, value) pairs asked for.
    async fn term_frequencies(&self, wanted: &[(String, String)]) -> Result<Frequencies> {
        let mut out = Frequencies::new();
        if !self.has_term_frequencies() || wanted.is_empty() {
            return Ok(out);
        }
        let conds: Vec<String> = wanted
            .iter()
            .map(|(c, v)| format!("(column_name = {} AND value = {})", lit(c), lit(v)))
            .collect();
        for r in self
            .run
            .query(&format!(
                "SELECT column_name, value, tf FROM {} WHERE {}",
                tables::TF,
                conds.join(" OR ")
            ))
            .await?
        {
            if let (Some(c), Some(v), Some(f)) = (
                r.text("column_name"),
                r.text("value"),
                r.get("tf").and_then(Value::as_f64),
            ) {
                out.entry(c).or_default().insert(v, f);
            }
        }
        Ok(out)
    }

    /// The blocking rules that put the two nodes in one block: equal,
    /// non-null values on every column; for `id_key`, a shared valid
    /// identifier or one a typo away (as `resolve::build_nodes` lists them).
    async fn blocking(
        &self,
        lt: &str,
        rt: &str,
        columns: &Columns,
        row: &Fields,
    ) -> Result<Vec<BlockingHit>> {
        let rules = &self.settings.file.blocking;
        let uses_key = rules
            .iter()
            .any(|r| r.on.iter().any(|c| c.get_ref() == "id_key"));
        let shared_keys: Vec<String> = if uses_key {
            let l = self.keys(lt).await?;
            let r = self.keys(rt).await?;
            let mut v: Vec<String> = l.intersection(&r).cloned().collect();
            v.sort();
            v
        } else {
            Vec::new()
        };
        let mut hits = Vec::new();
        for rule in rules {
            let mut values = Vec::new();
            let mut hit = true;
            for c in &rule.on {
                let c = c.get_ref();
                if c == "id_key" {
                    if shared_keys.is_empty() {
                        hit = false;
                    } else {
                        values.push(shared_keys.join(" / "));
                    }
                    continue;
                }
                match (columns.value(row, "l", c), columns.value(row, "r", c)) {
                    (Some(x), Some(y)) if x == y => values.push(x),
                    _ => hit = false,
                }
            }
            if hit {
                hits.push(BlockingHit {
                    rule: rule.id.get_ref().clone(),
                    on: rule.on.iter().map(|c| c.get_ref().clone()).collect(),
                    values,
                    max_group: rule.max_group,
                    description: String::new(),
                });
            }
        }
        Ok(hits)
    }

    /// The `id_key` values of the one-row node table `t`.
    async fn keys(&self, t: &str) -> Result<HashSet<String>> {
        let k = self.kind;
        let sql = format!(
            "SELECT {id} AS k FROM {t} WHERE is_cluster AND {id} IS NOT NULL \
             UNION ALL SELECT {raw} AS k FROM {t} WHERE NOT is_cluster AND {raw} IS NOT NULL AND {valid}({raw}) \
             UNION ALL SELECT unnest({cand}({raw})) AS k FROM {t} WHERE NOT is_cluster AND {raw} IS NOT NULL AND NOT {valid}({raw})",
            id = k.id,
            raw = k.raw,
            valid = k.valid_fn,
            cand = k.candidates_fn
        );
        Ok(self
            .run
            .query(&sql)
            .await?
            .iter()
            .filter_map(|r| r.text("k"))
            .collect())
    }
}

/// Node columns read for display and blocking.
struct Columns {
    /// Per comparison, the columns it compares (those its `null` SQL reads).
    compared: Vec<Vec<String>>,
    /// Every column selected, in order: `lv<i>` / `rv<i>`.
    all: Vec<String>,
}

impl Columns {
    fn of(settings: &Settings) -> Columns {
        let mut compared = Vec::new();
        let mut all: Vec<String> = Vec::new();
        for c in &settings.file.comparisons {
            let mut primary = Vec::new();
            referenced(c.null.get_ref(), &mut primary);
            if primary.is_empty() {
                for l in &c.levels {
                    referenced(l.sql.get_ref(), &mut primary);
                }
            }
            for p in &primary {
                if !all.contains(p) {
                    all.push(p.clone());
                }
            }
            compared.push(primary);
        }
        let keyed = settings
            .file
            .blocking
            .iter()
            .map(|r| &r.on)
            .chain(settings.file.deterministic.rules.iter().map(|r| &r.on));
        for on in keyed {
            for c in on {
                let c = c.get_ref();
                if c != "id_key" && !all.contains(c) {
                    all.push(c.clone());
                }
            }
        }
        Columns { compared, all }
    }

    /// The value of `col` on `side` (`l` / `r`) in the scored row.
    fn value(&self, row: &Fields, side: &str, col: &str) -> Option<String> {
        let i = self.all.iter().position(|c| c == col)?;
        row.text(&format!("{side}v{i}"))
    }
}

/// The values two nodes share on every column of `on` (None unless all are
/// equal and not null).
fn shared_values(columns: &Columns, row: &Fields, on: &[String]) -> Option<Vec<String>> {
    on.iter()
        .map(
            |c| match (columns.value(row, "l", c), columns.value(row, "r", c)) {
                (Some(x), Some(y)) if x == y => Some(x),
                _ => None,
            },
        )
        .collect()
}

/// Columns an SQL expression reads from `l.` / `r.`, in order.
fn referenced(sql: &str, out: &mut Vec<String>) {
    let re = regex::Regex::new(r"\b[lr]\.([A-Za-z_][A-Za-z0-9_]*)").expect("valid regex");
    for cap in re.captures_iter(sql) {
        let c = cap[1].to_string();
        if !out.contains(&c) {
            out.push(c);
        }
    }
}
