//! Matching over the bundled fixtures, through the library: the cases the
//! ground truth plants (homophones, one-digit ID typos, 15-digit IDs,
//! decoys with the same name and birth date, company-name variants and
//! branches), stable ids, incremental batches and enrichment.

mod bundled;
mod incremental;
