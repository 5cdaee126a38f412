//! `schemas/<name>.toml`: canonical schemas.

use civhub_core::{FieldType, PiiClass};
use serde::Deserialize;
use toml::Spanned;

/// One canonical schema: the shape every pipeline mapping onto it produces.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SchemaFile {
    /// Machine name; must equal the file name without `.toml`.
    pub name: Spanned<String>,
    /// 中文 title, e.g. 户籍人口.
    pub title: String,
    /// English title.
    pub title_en: String,
    /// What one record of this schema is (中文).
    #[serde(default)]
    pub description: String,
    /// What one record of this schema is (English).
    #[serde(default)]
    pub description_en: String,
    /// The fields, in column order.
    #[serde(rename = "fields")]
    pub fields: Vec<FieldDef>,
}

/// One field of a canonical schema.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FieldDef {
    /// snake_case column name.
    pub name: Spanned<String>,
    /// Value type.
    #[serde(rename = "type")]
    pub field_type: Spanned<FieldType>,
    /// A staged row must have a value here; rows without one are quarantined.
    #[serde(default)]
    pub required: bool,
    /// Personal-information class; decides masking. Default `none`.
    #[serde(default = "default_pii")]
    pub pii: Spanned<PiiClass>,
    /// 中文 description.
    pub description: String,
    /// English description.
    pub description_en: String,
    /// When set, the only values the field may take (after normalization).
    #[serde(default)]
    pub values: Option<Vec<String>>,
}

fn default_pii() -> Spanned<PiiClass> {
    Spanned::new(0..0, PiiClass::None)
}
