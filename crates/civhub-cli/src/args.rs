//! Command-line arguments (clap derive). Only definitions live here; each
//! command's work is in `commands/`.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// civhub — a data-integration hub for a city government.
///
/// Ingests department exports through declared pipelines into a local
/// warehouse, with every bad row quarantined and every good one traceable to
/// its file and row.
#[derive(Debug, Parser)]
#[command(
    name = "civhub",
    version,
    propagate_version = true,
    max_term_width = 100
)]
#[command(
    after_help = "Start with `civhub run` in a project folder (one holding civhub.toml), or\n`civhub synth --persons 1000 --out demo && civhub run --project demo`."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct Global {
    /// Project folder (holding civhub.toml). Default: the current folder or the
    /// nearest parent that has a civhub.toml.
    #[arg(long, global = true, value_name = "DIR", env = "CIVHUB_PROJECT")]
    pub project: Option<PathBuf>,
    /// Warehouse folder, instead of `paths.warehouse` from civhub.toml.
    #[arg(long, global = true, value_name = "DIR", env = "CIVHUB_WAREHOUSE")]
    pub warehouse: Option<PathBuf>,
    /// No progress bars; only results and errors.
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole job: ingest every pipeline, then match people and entities.
    Run(RunArgs),
    /// Read department exports into staging and quarantine tables.
    Ingest(IngestArgs),
    /// Resolve every person and legal-entity mention into golden records.
    Match(MatchArgs),
    /// Score the last matching run against a ground truth (pairwise precision, recall, F1).
    EvalMatch(EvalArgs),
    /// Publish the base databases, the shared datasets and the catalog as versioned Delta tables.
    Publish(PublishArgs),
    /// Query what is published (and the catalog) with SQL; an interactive shell without a query.
    Sql(SqlArgs),
    /// Check civhub.toml, schemas and pipelines without running anything.
    Validate(ValidateArgs),
    /// Generate a ready-to-run project of realistic synthetic exports.
    Synth(SynthArgs),
    /// Show a person: the golden record and every mention behind it, department by department.
    Person(LookupArgs),
    /// Show a legal entity: the golden record and every mention behind it.
    Entity(LookupArgs),
    /// Explain why two mentions were or were not linked (the match-weight waterfall).
    Explain(ExplainArgs),
    /// List the pairs matching left for a person, show one, and record decisions.
    Review(ReviewArgs),
    /// Browse the shared data catalog: search it, show a dataset, list datasets.
    Catalog(CatalogArgs),
    /// Write the catalog as a static HTML site (datasets, fields, lineage, versions).
    Docs(DocsArgs),
    /// Run a cross-check (e.g. `dibao`, the 低保 eligibility comparison) over the published data.
    Check(CheckArgs),
    /// Manage users (access/users.toml): add one, or list them.
    User(UserArgs),
    /// Serve the published tables to users: a PostgreSQL-wire endpoint and an HTTP API.
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Print one JSON document instead of the summary table.
    #[arg(long)]
    pub json: bool,
    /// Re-stage every file, even unchanged ones.
    #[arg(long)]
    pub full_refresh: bool,
    /// Worker threads (default: `ingest.threads`, 0 = one per core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Re-estimate the matching model even if its settings are unchanged.
    #[arg(long)]
    pub retrain: bool,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Pipelines (`department.dataset`) or whole departments to run; all when none given.
    #[arg(value_name = "PIPELINE")]
    pub pipelines: Vec<String>,
    /// Print one JSON document instead of the summary table.
    #[arg(long)]
    pub json: bool,
    /// Re-stage every file, even unchanged ones; in append mode, drop rows of
    /// files no longer in the exports folder.
    #[arg(long)]
    pub full_refresh: bool,
    /// Worker threads (default: `ingest.threads`, 0 = one per core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

#[derive(Debug, Args)]
pub struct MatchArgs {
    /// Print one JSON document instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Re-estimate the model's m and u probabilities even if the settings are unchanged.
    #[arg(long)]
    pub retrain: bool,
    /// Resolve every mention from scratch instead of matching only new and
    /// changed mentions against the existing golden records.
    #[arg(long)]
    pub full: bool,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Ground truth: a CSV with one row per mention (`truth/mentions.csv` of `civhub synth`).
    #[arg(long, value_name = "FILE")]
    pub truth: std::path::PathBuf,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// Print one JSON document instead of the summary.
    #[arg(long)]
    pub json: bool,
}

/// Result formats of `civhub sql`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SqlFormat {
    /// An aligned table.
    Table,
    /// CSV with a header.
    Csv,
    /// A JSON array of objects.
    Json,
    /// Apache Parquet (needs --output).
    Parquet,
}

#[derive(Debug, Args)]
pub struct CatalogArgs {
    #[command(subcommand)]
    pub action: CatalogAction,
    /// Print one JSON document.
    #[arg(long, global = true)]
    pub json: bool,
    /// Read the catalog of an earlier release: its number, or a date/time.
    #[arg(long, value_name = "RELEASE|TIME", global = true)]
    pub as_of: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum CatalogAction {
    /// Find datasets by Chinese or English words in titles, descriptions, tags, fields and provider.
    Search {
        /// Words; a dataset must match every one.
        #[arg(value_name = "WORD", required = true)]
        words: Vec<String>,
    },
    /// Show a dataset's catalog entry: metadata, fields, versions, lineage, quality, freshness.
    Show {
        /// `department.dataset` or `schema.table`, e.g. `population.person`.
        #[arg(value_name = "DATASET")]
        dataset: String,
    },
    /// List the datasets, grouped by department.
    List {
        /// Only this department (its folder name, e.g. `civil_affairs`, or its name).
        #[arg(long, value_name = "DEPARTMENT")]
        department: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct DocsArgs {
    /// Folder to write the site into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Describe an earlier release: its number, or a date/time.
    #[arg(long, value_name = "RELEASE|TIME")]
    pub as_of: Option<String>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  civhub check dibao\n  civhub check dibao --district 屯溪区\n  civhub check dibao --explain DB3410031700002\n  civhub check dibao --review F0123456789abcdef --status dismissed --reason \"车辆已过户，见转移登记\"\n  civhub check --list"
)]
pub struct CheckArgs {
    /// Which check: a file under pipelines/checks/ (e.g. `dibao`).
    #[arg(value_name = "CHECK", required_unless_present = "list")]
    pub check: Option<String>,
    /// List the project's checks and their rules.
    #[arg(long)]
    pub list: bool,
    /// Only the households of this district (e.g. 屯溪区).
    #[arg(long, value_name = "DISTRICT")]
    pub district: Option<String>,
    /// Only this household.
    #[arg(long, value_name = "ID")]
    pub household: Option<String>,
    /// Read an earlier release: its number, or a date/time (the release current then).
    #[arg(long, value_name = "RELEASE|TIME")]
    pub as_of: Option<String>,
    /// The date whose parameter values apply (YYYY-MM-DD; default today).
    #[arg(long, value_name = "DATE")]
    pub date: Option<String>,
    /// Show every rule's evaluation for one household, passed or not (a dry run: nothing is written).
    #[arg(long, value_name = "HOUSEHOLD", conflicts_with_all = ["review", "household", "district"])]
    pub explain: Option<String>,
    /// Run without writing findings, a release or reports.
    #[arg(long)]
    pub dry_run: bool,
    /// Folder for the Excel and HTML reports (default: <warehouse>/reports/<check>/<run id>/).
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<std::path::PathBuf>,
    /// Record a caseworker's review of a finding (with --status, and --reason to dismiss).
    #[arg(long, value_name = "FINDING_ID", requires = "status")]
    pub review: Option<String>,
    /// The review: open, confirmed or dismissed.
    #[arg(long, value_parser = ["open", "confirmed", "dismissed"], requires = "review")]
    pub status: Option<String>,
    /// Why (required to dismiss).
    #[arg(long, requires = "review")]
    pub reason: Option<String>,
    /// Who reviews (default: $USER).
    #[arg(long, requires = "review")]
    pub by: Option<String>,
    /// Print one JSON document instead of the summary.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct SqlArgs {
    /// The query; without one, an interactive shell (or statements from stdin).
    #[arg(value_name = "QUERY")]
    pub query: Option<String>,
    /// Result format.
    #[arg(long, value_enum, default_value_t = SqlFormat::Table)]
    pub format: SqlFormat,
    /// Write the result to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
    /// Read an earlier release: its number, or a date/time (the release current then).
    #[arg(long, value_name = "RELEASE|TIME")]
    pub as_of: Option<String>,
    /// Run as this user (access/users.toml): only the tables they may read,
    /// personal information masked as their role requires, audited.
    #[arg(long, value_name = "USER")]
    pub as_user: Option<String>,
    /// After each statement, print how long it took to plan, run and collect
    /// (not to print) on standard error, as psql's `\timing` does:
    /// `Time: 12.345 ms`.
    #[arg(long)]
    pub timing: bool,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Print the problems as one JSON document.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Number of persons in the synthetic city.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub persons: usize,
    /// Random seed; the same seed and size give byte-identical files.
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub seed: u64,
    /// Folder to create (replaced if it holds an earlier synth output).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LookupArgs {
    /// A golden id (P… / E…), an identifier in any export form (resident ID,
    /// also 15-digit or with full-width digits; USCC), or a name.
    #[arg(value_name = "GID | ID | NAME")]
    pub query: String,
    /// Print one JSON document instead of the view.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A mention id (pm… / em…, shown by `civhub person`), or `<pipeline>:<file>:<row>`.
    #[arg(value_name = "MENTION")]
    pub a: String,
    /// The other mention.
    #[arg(value_name = "MENTION")]
    pub b: String,
    /// Print one JSON document instead of the waterfall.
    #[arg(long)]
    pub json: bool,
}

/// What is matched, on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KindArg {
    /// People.
    Person,
    /// Legal entities.
    Entity,
}

impl From<KindArg> for civhub_mdm::settings::Kind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::Person => civhub_mdm::settings::Kind::Person,
            KindArg::Entity => civhub_mdm::settings::Kind::Entity,
        }
    }
}

#[derive(Debug, Args)]
#[command(
    after_help = "Without a subcommand, lists the pairs waiting for a decision (and, in a terminal,\noffers to walk through them). Decisions go to decisions/<kind>.jsonl in the project;\nthe next `civhub match` applies them."
)]
pub struct ReviewArgs {
    #[command(subcommand)]
    pub action: Option<ReviewAction>,
    /// Which queue.
    #[arg(long, value_enum, default_value = "person", global = true)]
    pub kind: KindArg,
    /// Print one JSON document.
    #[arg(long, global = true)]
    pub json: bool,
    /// Only list, never walk through the queue interactively.
    #[arg(long)]
    pub list: bool,
}

#[derive(Debug, Subcommand)]
pub enum ReviewAction {
    /// Show pair <N> of the queue side by side, with why it was not decided automatically.
    Show {
        /// Position in the list `civhub review` prints.
        #[arg(value_name = "N")]
        n: usize,
    },
    /// Record that two mentions are the same person/entity, or different ones.
    Decide {
        /// A mention id (or `<pipeline>:<file>:<row>`).
        #[arg(value_name = "MENTION")]
        a: String,
        /// The other mention.
        #[arg(value_name = "MENTION")]
        b: String,
        /// `same` or `different`.
        #[arg(value_enum)]
        decision: DecisionArg,
        /// Why (kept with the decision).
        #[arg(long, value_name = "TEXT", default_value = "")]
        note: String,
        /// Who decides (default: $USER).
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
}

/// A reviewer's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DecisionArg {
    /// One and the same.
    Same,
    /// Different people or entities.
    Different,
}

impl DecisionArg {
    /// As written in the decisions file.
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionArg::Same => "same",
            DecisionArg::Different => "different",
        }
    }
}

#[derive(Debug, Args)]
pub struct UserArgs {
    #[command(subcommand)]
    pub action: UserAction,
}

#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Add (or replace) a user; the password is read from standard input when
    /// it is not a terminal, else asked for.
    Add {
        /// Login name.
        name: String,
        /// Department id (a key of civhub.toml's [departments]).
        #[arg(long)]
        department: String,
        /// Role: analyst, caseworker, auditor, admin (access/policy.toml).
        #[arg(long)]
        role: String,
    },
    /// List users (never their password hashes).
    List {
        /// One JSON document.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address of the PostgreSQL-wire endpoint (port 0: any free port; the
    /// bound address is printed at start).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:5433")]
    pub pg_addr: std::net::SocketAddr,
    /// Address of the HTTP endpoint (port 0: any free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub http_addr: std::net::SocketAddr,
}
