//! Searching the catalog: Chinese or English words over titles,
//! descriptions, tags, provider and fields, ranked by where they matched.

use super::{BrowseError, Catalog, Column, Dataset};
use serde::Serialize;
use std::collections::BTreeMap;

impl Catalog {
    /// Datasets matching every word of `query`, best first.
    pub fn search(&self, query: &str) -> Result<Vec<SearchHit>, BrowseError> {
        let words: Vec<String> = query
            .split(|c: char| c.is_whitespace() || matches!(c, ',' | '，' | '、' | ';' | '；'))
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        if words.is_empty() {
            return Err(BrowseError::EmptyQuery);
        }
        let mut by_dataset: BTreeMap<&str, Vec<&Column>> = BTreeMap::new();
        for c in &self.columns {
            by_dataset.entry(c.dataset.as_str()).or_default().push(c);
        }
        let mut hits = Vec::new();
        'datasets: for d in &self.datasets {
            let cols = by_dataset
                .get(d.dataset.as_str())
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let mut score = 0;
            let mut matched: Vec<Match> = Vec::new();
            for w in &words {
                let found = match_word(d, cols, w);
                let Some(best) = found.iter().map(|m| m.place.weight()).max() else {
                    continue 'datasets; // every word must match somewhere
                };
                score += best * 100 + found.len().min(99) as u32;
                for m in found {
                    if !matched.contains(&m) {
                        matched.push(m);
                    }
                }
            }
            matched.sort_by_key(|m| std::cmp::Reverse(m.place.weight()));
            hits.push(SearchHit {
                dataset: d.dataset.clone(),
                title: d.title.clone(),
                title_en: d.title_en.clone(),
                department: d.department.clone(),
                provider: d
                    .department_name
                    .clone()
                    .unwrap_or_else(|| d.department.clone()),
                sharing_type: d.sharing_type.clone(),
                published: d.published,
                score,
                matched,
            });
        }
        hits.sort_by(|a, b| {
            b.score
                .cmp(&a.score)
                .then_with(|| a.dataset.cmp(&b.dataset))
        });
        Ok(hits)
    }
}

/// Where a search word was found in one dataset.
fn match_word(d: &Dataset, cols: &[&Column], w: &str) -> Vec<Match> {
    let has = |s: &str| s.to_lowercase().contains(w);
    let mut out = Vec::new();
    let mut put = |place: Place, text: &str| {
        out.push(Match {
            place,
            text: text.to_string(),
        })
    };
    if has(&d.title) {
        put(Place::Title, &d.title);
    }
    if let Some(t) = d.title_en.as_deref().filter(|t| has(t)) {
        put(Place::Title, t);
    }
    if has(&d.dataset) {
        put(Place::Name, &d.dataset);
    }
    for t in d.tags.iter().filter(|t| has(t)) {
        put(Place::Tag, t);
    }
    if let Some(c) = d.category.as_deref().filter(|c| has(c)) {
        put(Place::Category, c);
    }
    if let Some(t) = d.description.as_deref().filter(|t| has(t)) {
        put(Place::Description, t);
    }
    if let Some(p) = d.department_name.as_deref().filter(|p| has(p)) {
        put(Place::Provider, p);
    } else if has(&d.department) {
        put(Place::Provider, &d.department);
    }
    for c in cols {
        let desc = c.description.as_deref().unwrap_or("");
        let desc_en = c.description_en.as_deref().unwrap_or("");
        if has(&c.column_name) || has(desc) || has(desc_en) {
            let text = if desc.is_empty() {
                c.column_name.clone()
            } else {
                format!("{} ({desc})", c.column_name)
            };
            put(Place::Field, &text);
        }
    }
    out
}

/// Where in a dataset's entry a search word was found.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Place {
    /// 中文 or English title.
    Title,
    /// The dataset's name.
    Name,
    /// A keyword.
    Tag,
    /// The sub-class.
    Category,
    /// The summary.
    Description,
    /// The providing department.
    Provider,
    /// A field's name or description.
    Field,
}

impl Place {
    /// How much a hit here counts: titles above names and tags, above
    /// descriptions, above the provider, above fields.
    pub fn weight(self) -> u32 {
        match self {
            Place::Title => 7,
            Place::Name => 6,
            Place::Tag => 5,
            Place::Category => 4,
            Place::Description => 3,
            Place::Provider => 2,
            Place::Field => 1,
        }
    }

    /// As shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Place::Title => "title",
            Place::Name => "name",
            Place::Tag => "tag",
            Place::Category => "category",
            Place::Description => "description",
            Place::Provider => "provider",
            Place::Field => "field",
        }
    }
}

/// One reason a dataset matched.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Match {
    /// Where.
    pub place: Place,
    /// The text that matched (a field as `name (description)`).
    pub text: String,
}

/// A dataset found by [`Catalog::search`].
#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    /// Dataset name.
    pub dataset: String,
    /// 中文 title.
    pub title: String,
    /// English title.
    pub title_en: Option<String>,
    /// Providing department (folder name).
    pub department: String,
    /// Providing department's name.
    pub provider: String,
    /// Sharing type.
    pub sharing_type: String,
    /// Whether it is published as a table.
    pub published: bool,
    /// Rank: per word, the weight of its best place × 100 plus its number of hits.
    pub score: u32,
    /// Why it matched, best place first.
    pub matched: Vec<Match>,
}
