use crate::common::{city, read_truth};
use civhub_ingest::config::{Encoding, Format};

#[test]
fn every_pipeline_has_files_its_glob_matches() {
    let c = city();
    assert_eq!(c.summary.pipelines.len(), c.project.pipelines.len());
    for p in &c.project.pipelines {
        let rep = c
            .summary
            .pipelines
            .iter()
            .find(|r| r.pipeline == p.id)
            .expect("report");
        assert!(!rep.files.is_empty(), "{}: no files", p.id);
        let pattern = glob::Pattern::new(p.def.source.path.get_ref()).expect("glob");
        let opts = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: false,
        };
        for f in &rep.files {
            assert!(
                pattern.matches_with(&f.path, opts),
                "{}: `{}` does not match `{}`",
                p.id,
                f.path,
                p.def.source.path.get_ref()
            );
            assert!(
                c.project.exports.join(&f.path).is_file(),
                "{}: missing {}",
                p.id,
                f.path
            );
        }
        let min = p.limits.min_rows.unwrap_or(1);
        assert!(
            rep.rows >= min.max(1),
            "{}: {} rows, needs at least {min}",
            p.id,
            rep.rows
        );
        // And ingest's own directory walk finds them.
        let found = glob::glob(
            &c.project
                .exports
                .join(p.def.source.path.get_ref())
                .to_string_lossy(),
        )
        .expect("glob")
        .count();
        assert_eq!(
            found,
            rep.files.len(),
            "{}: glob finds {found} files, {} written",
            p.id,
            rep.files.len()
        );
    }
}

#[test]
fn every_true_identifier_is_valid() {
    let c = city();
    let persons = read_truth(c, "persons.csv");
    assert_eq!(persons.len(), c.summary.persons);
    for p in &persons {
        let id = &p["id_number"];
        assert!(civhub_core::id::resident::is_valid(id), "{id}");
        assert_eq!(
            civhub_core::id::resident::gender(id),
            Some(p["gender"].as_str()),
            "{id}"
        );
        assert_eq!(
            civhub_core::id::resident::birth_date(id)
                .map(|d| d.to_string())
                .as_deref(),
            Some(p["birth_date"].as_str())
        );
    }
    let mut ids: Vec<&String> = persons.iter().map(|p| &p["id_number"]).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), persons.len(), "IDs are unique");
    for e in read_truth(c, "entities.csv") {
        let u = &e["uscc"];
        assert!(civhub_core::id::uscc::is_valid(u), "{u}");
        let org = civhub_core::id::uscc::org_code_part(u).expect("org code");
        assert!(
            civhub_core::id::org_code::is_valid(org),
            "{u}: embedded {org}"
        );
    }
    // Deliberate namesakes: different people, same name and birth date.
    let twins: Vec<_> = persons
        .iter()
        .filter(|p| !p["same_name_birth_as"].is_empty())
        .collect();
    assert!(twins.len() >= 2);
    for t in twins {
        let other = persons
            .iter()
            .find(|p| p["person_key"] == t["same_name_birth_as"])
            .expect("twin");
        assert_eq!(
            (&t["name"], &t["birth_date"]),
            (&other["name"], &other["birth_date"])
        );
        assert_ne!(t["id_number"], other["id_number"]);
    }
}

#[test]
fn gbk_files_are_not_utf8_and_encode_everything() {
    let c = city();
    let mut checked = 0;
    for p in &c.project.pipelines {
        if !matches!(p.def.source.encoding, Encoding::Gbk | Encoding::Gb18030)
            || *p.def.source.format.get_ref() == Format::Xlsx
        {
            continue;
        }
        let rep = c
            .summary
            .pipelines
            .iter()
            .find(|r| r.pipeline == p.id)
            .expect("report");
        assert_eq!(rep.unmappable, 0, "{}", p.id);
        for f in &rep.files {
            let bytes = std::fs::read(c.project.exports.join(&f.path)).expect("read");
            assert!(
                std::str::from_utf8(&bytes).is_err(),
                "{} is valid UTF-8",
                f.path
            );
            checked += 1;
        }
    }
    assert!(checked > 5);
}

#[test]
fn parquet_files_are_readable() {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let c = city();
    let mut checked = 0;
    for rep in &c.summary.pipelines {
        for f in rep.files.iter().filter(|f| f.path.ends_with(".parquet")) {
            let file = std::fs::File::open(c.project.exports.join(&f.path)).expect("open");
            let reader = ParquetRecordBatchReaderBuilder::try_new(file)
                .expect("parquet")
                .build()
                .expect("reader");
            let rows: usize = reader.map(|b| b.expect("batch").num_rows()).sum();
            assert_eq!(rows as u64, f.rows, "{}", f.path);
            checked += 1;
        }
    }
    assert!(checked >= 5);
}

#[test]
fn quarantine_stays_within_every_pipelines_limits() {
    let c = city();
    for p in &c.project.pipelines {
        let rep = c
            .summary
            .pipelines
            .iter()
            .find(|r| r.pipeline == p.id)
            .expect("report");
        if let Some(r) = p.limits.max_bad_ratio {
            assert!(
                rep.quarantine_planned as f64 <= r * rep.rows as f64 / 2.0,
                "{}: {} of {} rows planned bad, limit {r}",
                p.id,
                rep.quarantine_planned,
                rep.rows
            );
        }
        if let Some(m) = p.limits.max_bad_rows {
            assert!(rep.quarantine_planned <= m / 2, "{}", p.id);
        }
        assert_eq!(
            rep.stop_risk, 0,
            "{}: a data row would end the data early",
            p.id
        );
        assert_eq!(
            rep.dropped, 0,
            "{}: records dropped ({:?})",
            p.id, rep.broken_rules
        );
    }
    let bad: u64 = c
        .summary
        .pipelines
        .iter()
        .map(|r| r.quarantine_planned)
        .sum();
    assert!(bad >= 3, "some rows are meant to be quarantined");
}

#[test]
fn every_kind_of_noise_is_present() {
    let c = city();
    for kind in [
        "id15",
        "id17",
        "id_typo",
        "id_fullwidth",
        "id_apostrophe",
        "name_traditional",
        "name_homophone",
        "name_spaces",
        "company_variant",
        "phone_format",
        "date_format",
        "excel_date",
        "amount_format",
        "area_unit",
        "bad_row",
        "duplicate_row",
    ] {
        assert!(
            c.summary.noise.get(kind).copied().unwrap_or(0) > 0,
            "no `{kind}` noise in {:?}",
            c.summary.noise
        );
    }
}

#[test]
fn the_project_file_points_at_the_exports() {
    let c = city();
    let text = std::fs::read_to_string(c.out.join("civhub.toml")).expect("civhub.toml");
    assert!(text.contains("exports = \"exports\""));
    assert!(c.out.join("truth/README.md").is_file());
    assert!(c.out.join(".civhub-synth").is_file());
}
