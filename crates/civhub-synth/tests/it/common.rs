//! The shared city and helpers to read it back.

use civhub_ingest::config::{Project, load_project};
use civhub_synth::{SynthOptions, SynthSummary, generate_checked};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub const PERSONS: usize = 300;
pub const SEED: u64 = 20_261_101;

pub struct City {
    pub out: PathBuf,
    pub summary: SynthSummary,
    pub project: Project,
}

/// A folder under cargo's tmp dir for tests (kept between runs; synth replaces its own output).
pub fn tmp(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("civhub-synth-{name}"))
}

pub fn generate_into(out: &Path, persons: usize, seed: u64) -> SynthSummary {
    let opts = SynthOptions {
        persons,
        seed,
        out: out.to_path_buf(),
        progress: None,
    };
    generate_checked(&opts).expect("generate")
}

/// The shared city.
pub fn city() -> &'static City {
    static CITY: OnceLock<City> = OnceLock::new();
    CITY.get_or_init(|| {
        let out = tmp("shared");
        let summary = generate_into(&out, PERSONS, SEED);
        let project = load_project(&out, None).expect("project loads");
        City {
            out,
            summary,
            project,
        }
    })
}

/// Reads a CSV file of the truth folder into maps by header.
pub fn read_truth(city: &City, name: &str) -> Vec<HashMap<String, String>> {
    let mut r = csv::ReaderBuilder::new()
        .from_path(city.out.join("truth").join(name))
        .expect("truth file");
    let headers = r.headers().expect("headers").clone();
    r.records()
        .map(|rec| {
            let rec = rec.expect("record");
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// Persons by key.
pub fn persons(city: &City) -> HashMap<String, HashMap<String, String>> {
    read_truth(city, "persons.csv")
        .into_iter()
        .map(|p| (p["person_key"].clone(), p))
        .collect()
}

/// A name as the person-name normalizer stages it.
pub fn norm_name(s: &str) -> String {
    civhub_core::Normalizer::PersonName
        .apply(s, &Default::default())
        .ok()
        .and_then(|n| n.value.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Decodes a text export (UTF-8 with or without BOM, else GB18030).
pub fn decode(bytes: &[u8]) -> String {
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(b) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::GB18030.decode(b).0.into_owned(),
    }
}
