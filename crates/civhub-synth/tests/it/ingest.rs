//! The generated project runs through civhub's own ingest: every pipeline
//! succeeds, every written row is read, and exactly the rows the truth marks
//! bad are quarantined.

use crate::common::{city, read_truth, tmp};
use std::collections::{BTreeSet, HashMap};

#[test]
fn ingest_reads_every_row_and_quarantines_exactly_the_planted_ones() {
    use arrow::array::{Array, AsArray};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let c = city();
    let warehouse = tmp("warehouse");
    let _ = std::fs::remove_dir_all(&warehouse);
    let project = civhub_ingest::config::load_project(&c.out, Some(&warehouse)).expect("project");
    let report = civhub_ingest::run::ingest(
        &project,
        &civhub_ingest::run::IngestOptions::default(),
        &civhub_ingest::run::Silent,
    )
    .expect("ingest");
    let failed: Vec<String> = report
        .pipelines
        .iter()
        .filter(|p| p.error.is_some())
        .map(|p| format!("{}: {:?}", p.pipeline, p.error))
        .collect();
    assert!(
        report.ok && failed.is_empty(),
        "failed pipelines: {failed:#?}"
    );
    let mut bad: HashMap<String, BTreeSet<(String, String, u64)>> = HashMap::new();
    for m in read_truth(c, "mentions.csv") {
        if m["bad"] == "1" {
            bad.entry(m["pipeline"].clone()).or_default().insert((
                m["file"].clone(),
                m["sheet"].clone(),
                m["row"].parse().expect("row"),
            ));
        }
    }
    for sp in &c.summary.pipelines {
        let ip = report
            .pipelines
            .iter()
            .find(|p| p.pipeline == sp.pipeline)
            .expect("ingested");
        assert_eq!(ip.rows_in, sp.rows, "{}: rows read", sp.pipeline);
        assert_eq!(
            ip.rows_quarantined, sp.quarantine_planned,
            "{}: quarantined {:?}",
            sp.pipeline, ip.top_reasons
        );
        // The quarantined rows are the ones the truth marks bad (where they mention anyone).
        let dir = warehouse.join("quarantine").join(&sp.pipeline);
        let mut rows: BTreeSet<(String, String, u64)> = BTreeSet::new();
        for f in std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|f| f.path().extension().is_some_and(|e| e == "parquet"))
        {
            let reader = ParquetRecordBatchReaderBuilder::try_new(
                std::fs::File::open(f.path()).expect("open"),
            )
            .expect("parquet")
            .build()
            .expect("reader");
            for b in reader {
                let b = b.expect("batch");
                let col = |name: &str| b.column(b.schema().index_of(name).expect(name)).clone();
                let (file, sheet, row) = (
                    col("_source_file"),
                    col("_source_sheet"),
                    col("_source_row"),
                );
                for i in 0..b.num_rows() {
                    let file = file.as_string::<i32>().value(i).to_string();
                    let sheet = if sheet.is_null(i) {
                        String::new()
                    } else {
                        sheet.as_string::<i32>().value(i).to_string()
                    };
                    let row = arrow::compute::cast(&row, &arrow::datatypes::DataType::UInt64)
                        .expect("cast");
                    rows.insert((
                        file,
                        sheet,
                        row.as_primitive::<arrow::datatypes::UInt64Type>().value(i),
                    ));
                }
            }
        }
        let planted = bad.remove(&sp.pipeline).unwrap_or_default();
        let missing: Vec<_> = planted.difference(&rows).collect();
        assert!(
            missing.is_empty(),
            "{}: bad in the truth but staged: {missing:?}",
            sp.pipeline
        );
    }
}
