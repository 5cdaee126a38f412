//! Golden records, and finding them from what a user knows: a golden id, an
//! identifier in any export form, or a name.

use super::{Fields, LookupError, Result, Run, display, looks_like_gid, noun, tables};
use crate::kinds::spec;
use crate::settings::Kind;
use crate::sql::lit;
use civhub_ingest::config::Project;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashSet;

/// One field of a golden record and the pipeline that supplied it (一数一源:
/// one datum, one source).
#[derive(Debug, Clone, Serialize)]
pub struct GoldenField {
    /// Field name (`id_number`, `name`, …).
    pub field: String,
    /// The surviving value.
    pub value: Option<Value>,
    /// The pipeline it came from.
    pub source: Option<String>,
    /// That pipeline's dataset title (from its catalog).
    pub source_title: Option<String>,
}

/// A golden record.
#[derive(Debug, Clone, Serialize)]
pub struct Golden {
    /// Golden id.
    pub gid: String,
    /// Survivorship fields, in the kind's order.
    pub fields: Vec<GoldenField>,
    /// Mentions resolved into it.
    pub mention_count: i64,
    /// Pipelines they come from.
    pub source_count: i64,
    /// Those pipelines.
    pub sources: Vec<String>,
    /// The weakest route that joined it: `id`, `probabilistic`, `decision`, `single`.
    pub linked_by: String,
    /// Weakest probabilistic link inside it.
    pub min_link_probability: Option<f64>,
    /// Last ingest that saw it.
    pub last_seen_at: Option<String>,
}

impl Golden {
    /// The value of a field as text.
    pub fn value(&self, field: &str) -> Option<String> {
        self.fields
            .iter()
            .find(|f| f.field == field)
            .and_then(|f| f.value.as_ref())
            .map(display)
    }
}

fn to_golden(project: &Project, kind: Kind, f: &Fields) -> Golden {
    let fields = spec(kind)
        .golden
        .iter()
        .map(|(name, _, _)| {
            let source = f.text(&format!("{name}_source")).filter(|s| !s.is_empty());
            GoldenField {
                field: name.to_string(),
                value: f.get(name).cloned(),
                source_title: source
                    .as_deref()
                    .and_then(|s| project.pipeline(s))
                    .map(|p| p.def.catalog.title.clone()),
                source,
            }
        })
        .collect();
    Golden {
        gid: f.text("gid").unwrap_or_default(),
        fields,
        mention_count: f.get("mention_count").and_then(Value::as_i64).unwrap_or(0),
        source_count: f.get("source_count").and_then(Value::as_i64).unwrap_or(0),
        sources: f
            .text("sources")
            .map(|s| {
                s.split(',')
                    .filter(|x| !x.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default(),
        linked_by: f.text("linked_by").unwrap_or_default(),
        min_link_probability: f.get("min_link_probability").and_then(Value::as_f64),
        last_seen_at: f.text("last_seen_at"),
    }
}

/// Golden records by id, in id order.
pub async fn golden_records(project: &Project, run: &Run, gids: &[String]) -> Result<Vec<Golden>> {
    if gids.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<String> = gids.iter().map(|g| lit(g)).collect();
    Ok(run
        .query(&format!(
            "SELECT * FROM {} WHERE gid IN ({}) ORDER BY gid",
            tables::GOLDEN,
            list.join(", ")
        ))
        .await?
        .iter()
        .map(|f| to_golden(project, run.kind, f))
        .collect())
}

/// A golden record offered when a query matches several.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    /// The record.
    #[serde(flatten)]
    pub golden: Golden,
    /// What matched: `id`, `name`, `pinyin`, `part of the name`.
    pub matched_by: String,
}

/// What a query found.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "found", rename_all = "kebab-case")]
pub enum Found {
    /// Exactly one golden record.
    One {
        /// Its id.
        gid: String,
    },
    /// Several; the user picks one.
    Several {
        /// How the query was read.
        read_as: String,
        /// The records.
        candidates: Vec<Candidate>,
    },
}

/// Resolves `query` — a golden id, an identifier in any export form (resident
/// ID / USCC), or a name — to golden records.
pub async fn find(project: &Project, run: &Run, query: &str) -> Result<Found> {
    let kind = run.kind;
    let q = query.trim();
    if q.is_empty() {
        return Err(LookupError::Invalid {
            message: format!("an empty {} query", noun(kind)),
            hint: "give a golden id, an ID number or a name".into(),
        });
    }
    let upper = q.to_uppercase();
    if looks_like_gid(kind, &upper) {
        return find_gid(run, &upper).await;
    }
    let other = match kind {
        Kind::Person => Kind::Entity,
        Kind::Entity => Kind::Person,
    };
    if looks_like_gid(other, &upper) {
        return Err(LookupError::Invalid {
            message: format!("`{q}` is the golden id of a {}", noun(other)),
            hint: format!("`civhub {} {upper}` shows it", other.as_str()),
        });
    }
    if let Some(id) = identifier_of(kind, q)? {
        let (id_col, raw_col) = (spec(kind).golden[0].0, spec(kind).raw);
        let sql = format!(
            "SELECT gid FROM {g} WHERE {id_col} = {v} UNION SELECT x.gid FROM {m} m JOIN {x} x ON m.mention_id = x.mention_id WHERE m.{raw_col} = {v}",
            g = tables::GOLDEN,
            m = tables::MENTIONS,
            x = tables::XREF,
            v = lit(&id)
        );
        return pick(project, run, &sql, q, "ID", "id").await;
    }
    // A name.
    let (name, fallback) = match kind {
        Kind::Person => {
            let n =
                civhub_core::normalize::name::person_name(q).map_err(|e| LookupError::Invalid {
                    message: format!("`{q}` is neither a golden id, a resident ID nor a name: {e}"),
                    hint: "give a golden id (P…), an 18- or 15-digit resident ID, or a name".into(),
                })?;
            let py = civhub_core::normalize::name::pinyin_key(&n);
            let fallback = format!(
                "SELECT DISTINCT x.gid FROM {m} m JOIN {x} x ON m.mention_id = x.mention_id WHERE m.name_py = {py}",
                m = tables::MENTIONS,
                x = tables::XREF,
                py = lit(&py)
            );
            (n, (fallback, "pinyin"))
        }
        Kind::Entity => {
            let n =
                civhub_core::normalize::company::company_name(q).unwrap_or_else(|_| q.to_string());
            let key = civhub_core::normalize::company::company_key(q).unwrap_or_else(|_| n.clone());
            let like = lit(&format!("%{}%", key.replace(['%', '_'], "")));
            let fallback = format!(
                "SELECT DISTINCT x.gid FROM {m} m JOIN {x} x ON m.mention_id = x.mention_id WHERE m.name_key LIKE {like} OR m.name LIKE {like}",
                m = tables::MENTIONS,
                x = tables::XREF,
            );
            (n, (fallback, "part of the name"))
        }
    };
    let mut exact = format!(
        "SELECT gid FROM {g} WHERE name = {n} UNION SELECT x.gid FROM {m} m JOIN {x} x ON m.mention_id = x.mention_id WHERE m.name = {n}",
        g = tables::GOLDEN,
        m = tables::MENTIONS,
        x = tables::XREF,
        n = lit(&name)
    );
    if kind == Kind::Entity
        && let Ok(key) = civhub_core::normalize::company::company_key(q)
    {
        exact.push_str(&format!(
            " UNION SELECT x.gid FROM {m} m JOIN {x} x ON m.mention_id = x.mention_id WHERE m.name_key = {k}",
            m = tables::MENTIONS,
            x = tables::XREF,
            k = lit(&key)
        ));
    }
    match pick(project, run, &exact, q, "name", "name").await {
        Err(LookupError::NotFound { .. }) => {
            let found = pick(project, run, &fallback.0, q, "name", fallback.1).await?;
            // A near miss is always offered, never silently taken.
            Ok(match found {
                Found::One { gid } => Found::Several {
                    read_as: "name".into(),
                    candidates: golden_records(project, run, &[gid])
                        .await?
                        .into_iter()
                        .map(|g| Candidate {
                            golden: g,
                            matched_by: fallback.1.into(),
                        })
                        .collect(),
                },
                several => several,
            })
        }
        other => other,
    }
}

/// The canonical identifier in `q`, if `q` is meant as one.
fn identifier_of(kind: Kind, q: &str) -> Result<Option<String>> {
    let has_digit = q
        .chars()
        .any(|c| c.is_ascii_digit() || ('０'..='９').contains(&c));
    match kind {
        Kind::Person if has_digit => civhub_core::id::resident::normalize(q)
            .map(|n| Some(n.id))
            .map_err(|e| LookupError::Invalid {
                message: format!("`{q}` is not a resident ID: {e}"),
                hint: "give a golden id (P…), an 18- or 15-digit resident ID, or a name".into(),
            }),
        Kind::Person => Ok(None),
        Kind::Entity => {
            let digits = q
                .chars()
                .filter(|c| c.is_ascii_digit() || ('０'..='９').contains(c))
                .count();
            match civhub_core::id::uscc::normalize(q) {
                Ok(c) => Ok(Some(c)),
                // Mostly digits: meant as a code, not a name.
                Err(e) if digits >= 8 => Err(LookupError::Invalid {
                    message: format!("`{q}` is not a unified social credit code: {e}"),
                    hint: "give a golden id (E…), an 18-character unified social credit code, or a name".into(),
                }),
                Err(_) => Ok(None),
            }
        }
    }
}

async fn find_gid(run: &Run, gid: &str) -> Result<Found> {
    let hit = run
        .query(&format!(
            "SELECT gid FROM {} WHERE gid = {}",
            tables::GOLDEN,
            lit(gid)
        ))
        .await?;
    if !hit.is_empty() {
        return Ok(Found::One {
            gid: gid.to_string(),
        });
    }
    // Follow merges recorded in the history to the id that lives on.
    let mut at = gid.to_string();
    let mut seen = HashSet::new();
    let has_history = run.ctx.table_exist("history").unwrap_or(false);
    while has_history && seen.insert(at.clone()) {
        let next = run
            .query(&format!(
                "SELECT other_gid FROM history WHERE action = 'merged' AND gid = {} ORDER BY at DESC LIMIT 1",
                lit(&at)
            ))
            .await?;
        let Some(to) = next.first().and_then(|f| f.text("other_gid")) else {
            break;
        };
        at = to;
        let live = run
            .query(&format!(
                "SELECT gid FROM {} WHERE gid = {}",
                tables::GOLDEN,
                lit(&at)
            ))
            .await?;
        if !live.is_empty() {
            return Err(LookupError::Retired {
                gid: gid.to_string(),
                merged_into: Some(at),
            });
        }
    }
    Err(LookupError::Retired {
        gid: gid.to_string(),
        merged_into: None,
    })
}

async fn pick(
    project: &Project,
    run: &Run,
    gid_sql: &str,
    query: &str,
    read_as: &'static str,
    matched_by: &str,
) -> Result<Found> {
    let mut gids: Vec<String> = run
        .query(gid_sql)
        .await?
        .iter()
        .filter_map(|f| f.text("gid"))
        .collect();
    gids.sort();
    gids.dedup();
    match gids.len() {
        0 => Err(LookupError::NotFound {
            kind: run.kind,
            query: query.to_string(),
            read_as,
        }),
        1 => Ok(Found::One {
            gid: gids.remove(0),
        }),
        _ => Ok(Found::Several {
            read_as: read_as.to_string(),
            candidates: golden_records(project, run, &gids)
                .await?
                .into_iter()
                .map(|g| Candidate {
                    golden: g,
                    matched_by: matched_by.to_string(),
                })
                .collect(),
        }),
    }
}
