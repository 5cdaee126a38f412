//! Helpers: temporary projects, running the binary, reading staged tables.

use arrow::record_batch::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

/// A valid unified social credit code for a made-up government body.
pub fn dept_code(seq: u32) -> String {
    let body = format!("11341000{seq:09}");
    let c = civhub_core::id::uscc::check_char(&body).expect("valid body");
    format!("{body}{c}")
}

/// A valid resident ID from region, birth date (YYYYMMDD) and sequence.
pub fn resident_id(region: &str, birth: &str, seq: u32) -> String {
    let body = format!("{region}{birth}{seq:03}");
    let c = civhub_core::id::resident::check_char(&body).expect("valid body");
    format!("{body}{c}")
}

/// The result of running the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// A project in a temporary folder with the repository's schemas.
pub struct TestProject {
    pub dir: tempfile::TempDir,
}

impl TestProject {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("civhub.toml"),
            "[project]\nname = \"test\"\ntitle = \"测试项目\"\nphone-area-code = \"0559\"\n\n[ingest]\nthreads = 2\n",
        )
        .unwrap();
        let schemas = dir.path().join("schemas");
        std::fs::create_dir_all(&schemas).unwrap();
        for e in std::fs::read_dir(repo().join("schemas")).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), schemas.join(e.file_name())).unwrap();
        }
        let re = regex::Regex::new(r"(?s)source-priority = \[.*?\]").unwrap();
        let matching = dir.path().join("pipelines/match");
        std::fs::create_dir_all(&matching).unwrap();
        for e in std::fs::read_dir(repo().join("pipelines/match")).unwrap() {
            let e = e.unwrap();
            // The repository's source priorities name its pipelines, not ours.
            let text = std::fs::read_to_string(e.path()).unwrap();
            std::fs::write(
                matching.join(e.file_name()),
                re.replace(&text, "source-priority = []").as_ref(),
            )
            .unwrap();
        }
        TestProject { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `pipelines/<dept>/<name>.toml` (and the department file).
    pub fn pipeline(&self, dept: &str, name: &str, toml: &str) {
        let d = self.path().join("pipelines").join(dept);
        std::fs::create_dir_all(&d).unwrap();
        let df = d.join("_department.toml");
        if !df.exists() {
            std::fs::write(&df, format!("name = \"测试部门\"\nname-en = \"Test department\"\nshort-name = \"测试\"\ncode = \"{}\"\n", dept_code(1))).unwrap();
        }
        std::fs::write(d.join(format!("{name}.toml")), toml).unwrap();
    }

    /// Writes an export file under `exports/`.
    pub fn export(&self, rel: &str, bytes: impl AsRef<[u8]>) {
        let p = self.path().join("exports").join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }

    /// Runs `civhub --project <dir> args…`.
    pub fn civhub(&self, args: &[&str]) -> Run {
        civhub_in(self.path(), args)
    }

    /// Every row of the staging table of `pipeline`, as JSON objects.
    pub fn staged(&self, pipeline: &str) -> Vec<serde_json::Map<String, serde_json::Value>> {
        self.table("staging", pipeline, "staging_parts")
    }

    /// Every row of the quarantine table of `pipeline`.
    pub fn quarantined(&self, pipeline: &str) -> Vec<serde_json::Map<String, serde_json::Value>> {
        self.table("quarantine", pipeline, "quarantine_parts")
    }

    fn table(
        &self,
        kind: &str,
        pipeline: &str,
        part_key: &str,
    ) -> Vec<serde_json::Map<String, serde_json::Value>> {
        let wh = self.path().join("warehouse");
        let manifest: serde_json::Value =
            match std::fs::read_to_string(wh.join("staging").join(pipeline).join("_manifest.json"))
            {
                Ok(t) => serde_json::from_str(&t).unwrap(),
                Err(_) => return Vec::new(),
            };
        let mut rows = Vec::new();
        for f in manifest["files"].as_array().unwrap() {
            for part in f[part_key].as_array().unwrap() {
                rows.extend(read_parquet(
                    &wh.join(kind).join(pipeline).join(part.as_str().unwrap()),
                ));
            }
        }
        rows
    }
}

/// Runs the binary with `--project dir`.
pub fn civhub_in(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_civhub"))
        .arg("--project")
        .arg(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("CIVHUB_PROJECT")
        .env_remove("CIVHUB_WAREHOUSE")
        .output()
        .expect("run civhub");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Reads a Parquet file into JSON rows.
pub fn read_parquet(path: &Path) -> Vec<serde_json::Map<String, serde_json::Value>> {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader = ParquetRecordBatchReaderBuilder::try_new(f)
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    let mut buf = Vec::new();
    {
        let mut w = arrow::json::ArrayWriter::new(&mut buf);
        for b in &batches {
            w.write(b).unwrap();
        }
        w.finish().unwrap();
    }
    if buf.is_empty() {
        return Vec::new();
    }
    let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_object().unwrap().clone())
        .collect()
}

/// Replaces what changes from run to run (ids, times, temp paths) for snapshots.
pub fn redact(s: &str, dir: &Path) -> String {
    let s = s.replace(&dir.display().to_string(), "[PROJECT]");
    let re_run = regex_lite(r"\b[0-9A-HJKMNP-TV-Z]{26}\b");
    let s = re_run.replace_all(&s, "[RUN]").into_owned();
    let re_secs = regex_lite(r"\d+\.\ds\b");
    re_secs.replace_all(&s, "[T]s").into_owned()
}

fn regex_lite(p: &str) -> regex::Regex {
    regex::Regex::new(p).unwrap()
}

/// A warehouse holding the bundled project (the repository root: civhub.toml,
/// pipelines/, fixtures/exports/) ingested, matched and published — built
/// once per test binary, shared by every test that only reads it. Tests that
/// change it work on a copy ([`published_project`]).
///
/// It lives under Cargo's temp folder for tests (`target/tmp/`), since a
/// static is never dropped; folders left by earlier test runs are removed.
pub fn published_warehouse() -> &'static Path {
    static WAREHOUSE: OnceLock<PathBuf> = OnceLock::new();
    WAREHOUSE.get_or_init(|| {
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        remove_stale(tmp, "published-");
        let dir = tempfile::Builder::new()
            .prefix("published-")
            .tempdir_in(tmp)
            .expect("tempdir")
            .keep();
        let warehouse = dir.join("warehouse");
        let run = civhub_in(
            &repo(),
            &["--warehouse", warehouse.to_str().unwrap(), "run", "-q"],
        );
        assert_eq!(
            run.code, 0,
            "civhub run over the bundled project failed:\n{}\n{}",
            run.stdout, run.stderr
        );
        warehouse
    })
}

/// Removes folders named `prefix…` in `dir` that earlier test runs left
/// (older than an hour: no test binary runs that long).
fn remove_stale(dir: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let hour = std::time::Duration::from_secs(3600);
    for e in entries.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > hour));
        if old && e.file_name().to_string_lossy().starts_with(prefix) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// A copy of the bundled project (civhub.toml, schemas, pipelines, publish
/// and fixtures/exports) whose `warehouse/` is a copy of
/// [`published_warehouse`]: release 1 is there, and exports can be changed
/// without touching the repository's fixtures. The copy starts with an
/// empty audit log: the shared warehouse's (`audit/`, appended to by every
/// test that runs `civhub sql` over it, perhaps while this copies) is left
/// out.
pub fn published_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = repo();
    std::fs::copy(root.join("civhub.toml"), dir.path().join("civhub.toml")).unwrap();
    for sub in [
        "schemas",
        "pipelines",
        "publish",
        "access",
        "fixtures/exports",
    ] {
        copy_tree(&root.join(sub), &dir.path().join(sub));
    }
    let warehouse = dir.path().join("warehouse");
    std::fs::create_dir_all(&warehouse).unwrap();
    for e in std::fs::read_dir(published_warehouse()).unwrap() {
        let e = e.unwrap();
        let target = warehouse.join(e.file_name());
        if e.file_name() == "audit" {
            continue;
        } else if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
    dir
}

/// Copies the folder `from` to `to`, recursively.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("{}: {e}", to.display()));
    for e in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target)
                .unwrap_or_else(|err| panic!("{}: {err}", e.path().display()));
        }
    }
}

/// `civhub user add`, the password on stdin.
pub fn add_user(dir: &Path, name: &str, department: &str, role: &str, password: &str) -> Run {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_civhub"))
        .arg("--project")
        .arg(dir)
        .args([
            "user",
            "add",
            name,
            "--department",
            department,
            "--role",
            role,
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run civhub");
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        format!("{password}\n").as_bytes(),
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
