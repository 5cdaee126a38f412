//! Mentions: every time a staged record names a person or a legal entity.
//!
//! Each pipeline's `[[identity]]` declarations say which of its fields
//! identify whom; one mention is one (record, identity) pair whose identifying
//! fields are not all empty (and whose `when` condition holds). Mentions are
//! built with one SQL query over every staging table, so the step runs where
//! the data is (DataFusion now, Ballista later).
//!
//! A mention id is stable: it hashes the pipeline, the identity's role and
//! the record key (or, for pipelines without a key, the source position), so
//! the same record gives the same mention on every run.

use crate::settings::Kind;
use crate::sql::{ident, lit};
use civhub_ingest::config::{IdentityDef, Pipeline, Project};

/// The mention columns a kind takes from identity fields: (identity key,
/// mention column, SQL type).
pub fn identity_columns(kind: Kind) -> &'static [(&'static str, &'static str, &'static str)] {
    match kind {
        Kind::Person => &[
            ("id-number", "id_raw", "VARCHAR"),
            ("name", "name", "VARCHAR"),
            ("birth-date", "birth_date_field", "DATE"),
            ("gender", "gender_field", "VARCHAR"),
            ("phone", "phone", "VARCHAR"),
            ("address", "address", "VARCHAR"),
        ],
        Kind::Entity => &[
            ("uscc", "uscc_raw", "VARCHAR"),
            ("name", "name", "VARCHAR"),
            ("legal-rep", "legal_rep", "VARCHAR"),
            ("phone", "phone", "VARCHAR"),
            ("address", "address", "VARCHAR"),
        ],
    }
}

fn field_of<'a>(ident: &'a IdentityDef, key: &str) -> Option<&'a str> {
    ident
        .fields()
        .find(|(k, _)| *k == key)
        .map(|(_, f)| f.get_ref().as_str())
}

/// The SELECT producing the mentions of one identity of one pipeline.
pub fn identity_select(kind: Kind, p: &Pipeline, ident_def: &IdentityDef) -> String {
    let mut cols = vec![
        format!("{} AS pipeline", lit(&p.id)),
        format!("{} AS role", lit(&ident_def.role)),
        "_record_key AS record_key".to_string(),
        "_source_file AS source_file".to_string(),
        "_source_sheet AS source_sheet".to_string(),
        "_source_row AS source_row".to_string(),
        "_ingested_at AS ingested_at".to_string(),
    ];
    let mut present = Vec::new();
    for (key, col, ty) in identity_columns(kind) {
        match field_of(ident_def, key) {
            Some(f) => {
                let cast = if *ty == "DATE" { "TRY_CAST" } else { "CAST" };
                cols.push(format!("{cast}({} AS {ty}) AS {col}", ident(f)));
                present.push(ident(f));
            }
            None => cols.push(format!("CAST(NULL AS {ty}) AS {col}")),
        }
    }
    // A mention needs something that identifies: an id or a name.
    let anchors: Vec<String> = ["id-number", "uscc", "name"]
        .iter()
        .filter_map(|k| field_of(ident_def, k))
        .map(|f| format!("{} IS NOT NULL", ident(f)))
        .collect();
    let mut filter = if anchors.is_empty() {
        "false".to_string()
    } else {
        format!("({})", anchors.join(" OR "))
    };
    if let Some(w) = &ident_def.when {
        let values: Vec<String> = w.values.iter().map(|v| lit(v)).collect();
        filter = format!(
            "{filter} AND CAST({} AS VARCHAR) IN ({})",
            ident(w.field.get_ref()),
            values.join(", ")
        );
    }
    let _ = present;
    format!(
        "SELECT {} FROM {}.{}.{} WHERE {filter}",
        cols.join(", "),
        ident(civhub_engine::tables::STAGING_CATALOG),
        ident(&p.department),
        ident(&p.dataset)
    )
}

/// Every identity of `kind` in the project, as (pipeline, identity).
pub fn identities(project: &Project, kind: Kind) -> Vec<(&Pipeline, &IdentityDef)> {
    project
        .pipelines
        .iter()
        .flat_map(|p| p.def.identity.iter().map(move |i| (p, i)))
        .filter(|(_, i)| *i.kind.get_ref() == kind.identity())
        .collect()
}

/// The SQL of the whole mentions table of a kind: the union of every
/// identity's SELECT, with the stable mention id and a hash of the values
/// (to tell changed mentions from unchanged ones in incremental runs); the
/// two functions are [`crate::hashes::MentionId`] and
/// [`crate::digest::RowHash`], registered by [`register_functions`].
pub fn mentions_sql(project: &Project, kind: Kind) -> Option<String> {
    let selects: Vec<String> = identities(project, kind)
        .into_iter()
        .map(|(p, i)| identity_select(kind, p, i))
        .collect();
    if selects.is_empty() {
        return None;
    }
    let value_cols: Vec<&str> = identity_columns(kind).iter().map(|(_, c, _)| *c).collect();
    let prefix = match kind {
        Kind::Person => "pm",
        Kind::Entity => "em",
    };
    Some(format!(
        "SELECT civhub_mention_id({prefix}, pipeline, role, record_key, source_file, source_sheet, source_row) AS mention_id, \
         civhub_row_hash({values}) AS value_hash, u.* FROM ({union}) u",
        prefix = lit(prefix),
        values = value_cols.join(", "),
        union = selects.join(" UNION ALL ")
    ))
}

/// Registers the functions [`mentions_sql`] calls.
pub fn register_functions(ctx: &datafusion::prelude::SessionContext) {
    ctx.register_udf(crate::hashes::MentionId::udf());
    ctx.register_udf(datafusion::logical_expr::ScalarUDF::from(
        crate::digest::RowHash::new(),
    ));
}
