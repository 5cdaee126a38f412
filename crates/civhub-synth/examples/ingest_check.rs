//! Ingests a synth output and prints per-pipeline outcomes (a development check).

fn main() {
    let dir = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "synth-out".into()),
    );
    let project = civhub_ingest::config::load_project(&dir, None).expect("project");
    let t = std::time::Instant::now();
    let report = civhub_ingest::run::ingest(
        &project,
        &civhub_ingest::run::IngestOptions::default(),
        &civhub_ingest::run::Silent,
    )
    .expect("ingest");
    for p in &report.pipelines {
        let bad = p.rows_quarantined as f64 / p.rows_in.max(1) as f64;
        println!(
            "{:?} {:50} in={} staged={} q={} ({:.3}) {:?} {:?}",
            p.status,
            p.pipeline,
            p.rows_in,
            p.rows_staged,
            p.rows_quarantined,
            bad,
            p.top_reasons
                .iter()
                .map(|r| format!("{}:{} e.g. {} @{}", r.rule, r.rows, r.example, r.example_at))
                .collect::<Vec<_>>(),
            p.error
        );
        for w in &p.warnings {
            println!("    warning: {w}");
        }
    }
    if let Ok(text) = std::fs::read_to_string(dir.join("synth-summary.json")) {
        let v: serde_json::Value = serde_json::from_str(&text).expect("summary");
        for sp in v["pipelines"].as_array().expect("pipelines") {
            let id = sp["pipeline"].as_str().unwrap_or("");
            let Some(p) = report.pipelines.iter().find(|p| p.pipeline == id) else {
                continue;
            };
            let rows = sp["rows"].as_u64().unwrap_or(0);
            let planned = sp["quarantine_planned"].as_u64().unwrap_or(0);
            if rows != p.rows_in || planned != p.rows_quarantined {
                println!(
                    "MISMATCH {id}: synth rows={rows} planned-bad={planned}, ingest rows_in={} quarantined={} {:?}",
                    p.rows_in,
                    p.rows_quarantined,
                    p.top_reasons
                        .iter()
                        .map(|r| format!("{}:{} {} @{}", r.rule, r.rows, r.example, r.example_at))
                        .collect::<Vec<_>>()
                );
            }
        }
    }
    println!("ok={} in {:.1}s", report.ok, t.elapsed().as_secs_f64());
}
