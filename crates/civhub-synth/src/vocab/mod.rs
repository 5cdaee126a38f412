//! Vocabulary: the word lists the population and the exports are drawn from.

pub mod names;
pub mod places;
pub mod words;
