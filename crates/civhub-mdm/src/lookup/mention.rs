//! Mentions as the run saw them, and the references users type for them.

use super::{Fields, LookupError, Result, Run, kind_of_mention, tables};
use crate::mentions::identity_columns;
use crate::settings::Kind;
use crate::sql::{ident, lit};
use civhub_ingest::config::Project;
use serde::Serialize;
use serde_json::Value;

/// What one mention says and how the run linked it.
#[derive(Debug, Clone, Serialize)]
pub struct Mention {
    /// Stable mention id.
    pub mention_id: String,
    /// `department.dataset`.
    pub pipeline: String,
    /// The identity's role in the record (`resident`, `owner`, …).
    pub role: String,
    /// The record's key, when the pipeline declares one.
    pub record_key: Option<String>,
    /// Export file, relative to the exports folder.
    pub source_file: String,
    /// Sheet of a workbook.
    pub source_sheet: Option<String>,
    /// Row in the file (as ingest reports it).
    pub source_row: i64,
    /// The identifying values the mention carries, by identity key
    /// (`id-number`, `name`, `birth-date`, …), normalized as staged.
    pub values: Fields,
    /// Node the run compared: `c<ID>` (a deterministic cluster) or the mention itself.
    pub node_id: String,
    /// Golden id.
    pub gid: Option<String>,
    /// How its node joined the golden record: `id`, `probabilistic`, `decision` or `single`.
    pub link: Option<String>,
    /// Strongest probability that joined it (for `probabilistic`).
    pub probability: Option<f64>,
    /// Why the mention contradicts the identifier it carries, if it does.
    pub contradiction: Option<String>,
}

impl Mention {
    /// `file:row` (with `[sheet]` for workbooks).
    pub fn position(&self) -> String {
        match &self.source_sheet {
            Some(s) => format!("{}[{s}]:{}", self.source_file, self.source_row),
            None => format!("{}:{}", self.source_file, self.source_row),
        }
    }

    /// The identifier as staged (`id-number` / `uscc`).
    pub fn identifier(&self) -> Option<String> {
        self.values
            .text("id-number")
            .or_else(|| self.values.text("uscc"))
    }
}

/// The SELECT list reading mentions (`m`) with their xref (`x`).
fn mention_select(kind: Kind) -> String {
    let values: Vec<String> = identity_columns(kind)
        .iter()
        .map(|(key, col, _)| format!("m.{col} AS {}", ident(key)))
        .collect();
    format!(
        "m.mention_id, m.pipeline, m.role, m.record_key, m.source_file, m.source_sheet, m.source_row, m.node_id, m.contradiction, \
         x.gid, x.link, x.probability, {}",
        values.join(", ")
    )
}

fn to_mention(kind: Kind, f: &Fields) -> Mention {
    let s = |k: &str| f.text(k);
    let values = Fields(
        identity_columns(kind)
            .iter()
            .filter_map(|(key, _, _)| f.get(key).map(|v| (key.to_string(), v.clone())))
            .collect(),
    );
    Mention {
        mention_id: s("mention_id").unwrap_or_default(),
        pipeline: s("pipeline").unwrap_or_default(),
        role: s("role").unwrap_or_default(),
        record_key: s("record_key"),
        source_file: s("source_file").unwrap_or_default(),
        source_sheet: s("source_sheet"),
        source_row: f.get("source_row").and_then(Value::as_i64).unwrap_or(0),
        values,
        node_id: s("node_id").unwrap_or_default(),
        gid: s("gid"),
        link: s("link"),
        probability: f.get("probability").and_then(Value::as_f64),
        contradiction: s("contradiction"),
    }
}

/// Mentions matching an SQL condition over `m` (mentions) and `x` (xref).
pub async fn mentions_where(run: &Run, condition: &str) -> Result<Vec<Mention>> {
    let sql = format!(
        "SELECT {} FROM {} m LEFT JOIN {} x ON m.mention_id = x.mention_id WHERE {condition} \
         ORDER BY m.pipeline, m.source_file, m.source_sheet, m.source_row, m.role, m.mention_id",
        mention_select(run.kind),
        tables::MENTIONS,
        tables::XREF
    );
    Ok(run
        .query(&sql)
        .await?
        .iter()
        .map(|f| to_mention(run.kind, f))
        .collect())
}

/// One mention by id.
pub async fn mention(run: &Run, id: &str) -> Result<Mention> {
    mentions_where(run, &format!("m.mention_id = {}", lit(id)))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| LookupError::UnknownMention(id.to_string()))
}

/// Resolves a mention reference: a mention id, or `<pipeline>:<file>:<row>`
/// (file as under the exports folder or just its name; a sheet may follow
/// the file in brackets). Returns the kind and the mention id.
pub async fn resolve_mention(project: &Project, reference: &str) -> Result<(Kind, String)> {
    let reference = reference.trim();
    if let Some(kind) = kind_of_mention(reference) {
        return Ok((kind, reference.to_string()));
    }
    let parts: Option<(&str, &str, &str)> = reference.split_once(':').and_then(|(p, rest)| {
        let (file, row) = rest.rsplit_once(':')?;
        Some((p, file, row))
    });
    let Some((pipeline, file, row)) = parts else {
        return Err(LookupError::UnknownMention(reference.to_string()));
    };
    let Ok(row) = row.trim().parse::<i64>() else {
        return Err(LookupError::Invalid {
            message: format!("`{reference}`: the row must be a number, found `{row}`"),
            hint: "write `<pipeline>:<file>:<row>`, e.g. `public_security.person:户籍人口.csv:12`"
                .into(),
        });
    };
    let Some(p) = project.pipeline(pipeline) else {
        let ids: Vec<&str> = project.pipelines.iter().map(|p| p.id.as_str()).collect();
        return Err(LookupError::Invalid {
            message: format!("no pipeline `{pipeline}`"),
            hint: civhub_ingest::config::diag::hint_for(pipeline, &ids)
                .unwrap_or_else(|| "pipelines are named `department.dataset`".into()),
        });
    };
    let (file, sheet) = match file.strip_suffix(']').and_then(|f| f.rsplit_once('[')) {
        Some((f, s)) => (f, Some(s)),
        None => (file, None),
    };
    let mut found: Vec<(Kind, Mention)> = Vec::new();
    let mut opened = 0;
    for kind in [Kind::Person, Kind::Entity] {
        if !p
            .def
            .identity
            .iter()
            .any(|i| *i.kind.get_ref() == kind.identity())
        {
            continue;
        }
        let run = match Run::open(project, kind).await {
            Ok(r) => r,
            Err(LookupError::NoResults(_)) => continue,
            Err(e) => return Err(e),
        };
        opened += 1;
        let mut cond = format!(
            "m.pipeline = {} AND m.source_row = {row} AND (m.source_file = {f} OR m.source_file LIKE {suffix})",
            lit(pipeline),
            f = lit(file),
            suffix = lit(&format!("%/{file}"))
        );
        if let Some(s) = sheet {
            cond.push_str(&format!(" AND m.source_sheet = {}", lit(s)));
        }
        for m in mentions_where(&run, &cond).await? {
            found.push((kind, m));
        }
    }
    if opened == 0 && found.is_empty() {
        let kind = if p
            .def
            .identity
            .iter()
            .any(|i| *i.kind.get_ref() == Kind::Person.identity())
        {
            Kind::Person
        } else {
            Kind::Entity
        };
        return Err(LookupError::NoResults(kind));
    }
    match found.len() {
        0 => Err(LookupError::UnknownMention(reference.to_string())),
        1 => {
            let (k, m) = found.remove(0);
            Ok((k, m.mention_id))
        }
        _ => Err(LookupError::Invalid {
            message: format!(
                "`{reference}` holds {} mentions: {}",
                found.len(),
                found
                    .iter()
                    .map(|(_, m)| format!(
                        "{} ({}{})",
                        m.mention_id,
                        m.role,
                        m.source_sheet
                            .as_ref()
                            .map(|s| format!(", sheet {s}"))
                            .unwrap_or_default()
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            hint: "pass one of these mention ids".into(),
        }),
    }
}
