//! `cargo run --release -p civhub-synth --example synth -- PERSONS SEED OUT`:
//! runs the generator without the CLI (benchmarks, fixtures).

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let persons = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let seed = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let out = std::path::PathBuf::from(args.get(3).cloned().unwrap_or_else(|| "synth-out".into()));
    let t = std::time::Instant::now();
    let progress = std::sync::Arc::new(move |e: civhub_synth::SynthProgress| match e {
        civhub_synth::SynthProgress::Pipeline {
            pipeline,
            rows,
            done,
            total,
        } => eprintln!(
            "[{:>7.1}s] {done:>3}/{total} {pipeline} ({rows} rows)",
            t.elapsed().as_secs_f64()
        ),
        other => eprintln!("[{:>7.1}s] {other:?}", t.elapsed().as_secs_f64()),
    });
    let opts = civhub_synth::SynthOptions {
        persons,
        seed,
        out,
        progress: Some(progress),
    };
    match civhub_synth::generate(&opts) {
        Ok(s) => {
            eprintln!(
                "{} files, {} rows, {} MB, {} mentions, {} planted-bad rows in {:.1}s",
                s.files,
                s.rows,
                s.bytes / 1_000_000,
                s.mentions,
                s.quarantine_planned,
                t.elapsed().as_secs_f64()
            );
            let mut top: Vec<_> = s
                .pipelines
                .iter()
                .map(|p| (p.rows, p.bytes, p.pipeline.clone()))
                .collect();
            top.sort();
            for (r, b, p) in top.iter().rev().take(12) {
                eprintln!("  {p:50} {r:>10} rows {:>8} KB", b / 1000);
            }
            eprintln!("planted: {:?}", s.planted);
            if let Ok(f) = std::fs::File::create(s.out.join("synth-summary.json")) {
                let _ = serde_json::to_writer_pretty(f, &s);
            }
            eprintln!("noise: {:?}", s.noise);
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
