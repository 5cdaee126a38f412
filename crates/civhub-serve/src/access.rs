//! A session per user that sees only what the user may read.
//!
//! For each published table the catalog's sharing type decides: 无条件共享
//! tables are readable by everyone, 有条件共享 ones only through a grant
//! (policy.toml), tables the catalog does not describe only through a grant;
//! a role with `all-tables` reads all of these. 不予共享 tables (the release
//! marks them restricted, with their provider) are readable by users of
//! the providing department only, whatever their role: neither a grant nor
//! `all-tables` opens them to another department. A readable table is
//! registered in the user's session not as the Delta table itself but as a
//! *view* over it whose PII columns the role is not cleared for are masked
//! — so every scan of the table, in a join, subquery, aggregate or function
//! call, sees masked values, and the original is never in the user's
//! session at all.
//! A statement naming a table the user may not read is refused before it is
//! planned, with the table named, rather than answered with partial data.
//! Statements are read-only as in `civhub sql` (the same checks and
//! DataFusion's `SQLOptions`), and every statement is audited.

use crate::audit::{self, Audit, Entry};
use crate::exec::Executor;
use crate::policy::{Policy, Role};
use crate::users::User;
use arrow::array::{Array, AsArray, StringArray};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use civhub_warehouse::release::Restriction;
use civhub_warehouse::session::{self, AsOf, SqlError, SqlSession};
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider};
use datafusion::common::ScalarValue;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{ColumnarValue, Expr, ScalarUDF, Volatility, create_udf};
use datafusion::prelude::{JsonReadOptions, SessionContext, cast, ident, lit};
use futures::StreamExt;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

/// Who is asking, and through what.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The user.
    pub user: User,
    /// cli, pgwire or http.
    pub interface: String,
    /// Client address (or `local`).
    pub client: String,
}

impl Principal {
    /// Whoever runs civhub's CLI on this machine without `--as-user`: the
    /// operating-system user ([`audit::os_user`]), no department, role
    /// [`audit::LOCAL_OPERATOR`], interface `cli`, client `local`. Used only
    /// to audit what the local CLI runs, never to decide access.
    pub fn local_operator() -> Principal {
        Principal {
            user: User {
                name: audit::os_user(),
                department: String::new(),
                role: audit::LOCAL_OPERATOR.into(),
                password: String::new(),
            },
            interface: "cli".into(),
            client: "local".into(),
        }
    }
}

/// Why a statement did not run.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// The user may not read a table the statement names.
    #[error("permission denied: {0}")]
    Denied(String),
    /// Refused as not read-only, or nothing published, or bad SQL.
    #[error(transparent)]
    Sql(#[from] SqlError),
    /// A limit was exceeded.
    #[error("{0}")]
    Limit(String),
    /// The server is too busy to run the query now (no query slot within
    /// the time limit), or the query runtime failed.
    #[error("{0}")]
    Busy(String),
}

impl From<DataFusionError> for AccessError {
    fn from(e: DataFusionError) -> Self {
        AccessError::Sql(SqlError::Engine(e))
    }
}

/// What the hub serves: the warehouse, the policy and the audit log, with
/// sessions cached per release and user.
pub struct Hub {
    warehouse: PathBuf,
    /// The policy.
    pub policy: Policy,
    /// The audit log.
    pub audit: Arc<Audit>,
    raw: Mutex<Option<Arc<SqlSession>>>,
    sessions: Mutex<BTreeMap<(u64, String), Arc<UserSession>>>,
    /// `current.json`'s modification time and length when it named this release.
    current: Mutex<Option<(SystemTime, u64, u64)>>,
    /// Where queries execute.
    pub executor: Executor,
}

/// Catalog facts about one published table.
#[derive(Debug, Clone, Default)]
struct TableInfo {
    sharing: Option<String>,
    provider: Option<String>,
    pii: BTreeMap<String, String>,
}

impl Hub {
    /// A hub over `warehouse`.
    pub fn new(warehouse: &Path, policy: Policy) -> std::io::Result<Hub> {
        Ok(Hub {
            warehouse: warehouse.to_path_buf(),
            audit: Audit::open(warehouse)?,
            raw: Mutex::new(None),
            sessions: Mutex::new(BTreeMap::new()),
            current: Mutex::new(None),
            executor: Executor::new(0, policy.limits.running_queries),
            policy,
        })
    }

    /// The number of the latest release. `current.json` is read again only
    /// when it changed (a publish replaces it), not for every statement.
    fn current_release(&self) -> Result<u64, AccessError> {
        let path = civhub_warehouse::release::published_dir(&self.warehouse)
            .join("_releases")
            .join("current.json");
        let stamp = fs_err::metadata(&path)
            .ok()
            .and_then(|m| Some((m.modified().ok()?, m.len())));
        if let (Some((at, len)), Some((c_at, c_len, n))) =
            (stamp, *self.current.lock().expect("lock"))
            && at == c_at
            && len == c_len
        {
            return Ok(n);
        }
        let n = civhub_warehouse::release::current(&self.warehouse)
            .ok_or(SqlError::NothingPublished)?
            .number;
        *self.current.lock().expect("lock") = stamp.map(|(at, len)| (at, len, n));
        Ok(n)
    }

    /// The unmasked session of the latest release, for services that must
    /// match on real values inside the server (the pre-fill): never handed
    /// to a user, and what it returns is masked again before it leaves.
    pub(crate) async fn raw_latest(&self) -> Result<Arc<SqlSession>, AccessError> {
        self.raw(&AsOf::Latest).await
    }

    /// Runs a planned query on the [`Executor`] within the policy's limits.
    pub async fn collect(
        &self,
        df: datafusion::dataframe::DataFrame,
    ) -> Result<Vec<RecordBatch>, AccessError> {
        let max = self.policy.limits.max_rows;
        self.executor
            .run(&self.policy.limits, collect_rows(df, max))
            .await
    }

    /// The raw session of the latest release (reopened when a newer release appears).
    async fn raw(&self, as_of: &AsOf) -> Result<Arc<SqlSession>, AccessError> {
        if *as_of != AsOf::Latest {
            return Ok(Arc::new(session::open_all(&self.warehouse, as_of).await?));
        }
        let current = self.current_release()?;
        if let Some(s) = self.raw.lock().expect("lock").as_ref()
            && s.release.number == current
        {
            return Ok(s.clone());
        }
        let s = Arc::new(session::open_all(&self.warehouse, as_of).await?);
        *self.raw.lock().expect("lock") = Some(s.clone());
        Ok(s)
    }

    /// The session of `user` (built once per release and user).
    pub async fn session(
        &self,
        user: &User,
        as_of: &AsOf,
    ) -> Result<Arc<UserSession>, AccessError> {
        let raw = self.raw(as_of).await?;
        let key = (raw.release.number, user.name.clone());
        if *as_of == AsOf::Latest
            && let Some(s) = self.sessions.lock().expect("lock").get(&key)
        {
            return Ok(s.clone());
        }
        let s = Arc::new(build(&raw, &self.policy, user, &self.audit).await?);
        if *as_of == AsOf::Latest {
            self.sessions.lock().expect("lock").insert(key, s.clone());
        }
        Ok(s)
    }

    /// Runs `sql` for `who` with the limits, and audits it.
    pub async fn query(
        &self,
        who: &Principal,
        sql: &str,
        as_of: &AsOf,
    ) -> Result<Vec<RecordBatch>, AccessError> {
        let t0 = Instant::now();
        let result = async {
            let s = self.session(&who.user, as_of).await?;
            let df = s.plan(sql).await?;
            self.collect(df).await
        }
        .await;
        let rows = result
            .as_ref()
            .map(|b| b.iter().map(|b| b.num_rows() as u64).sum())
            .unwrap_or(0);
        self.record(who, "query", sql, rows, result.as_ref().err(), t0);
        result
    }

    /// Audits an action done outside [`Hub::query`] (a lookup, a check run, a login).
    pub fn record(
        &self,
        who: &Principal,
        action: &str,
        statement: &str,
        rows: u64,
        error: Option<&AccessError>,
        t0: Instant,
    ) {
        self.record_tables(
            who,
            action,
            statement,
            session::tables_in(statement),
            rows,
            error,
            t0,
        );
    }

    /// [`Hub::record`] with the tables named explicitly (when the statement
    /// itself, e.g. a `DECLARE … CURSOR FOR query`, is not one the table
    /// resolver reads).
    #[allow(clippy::too_many_arguments)]
    pub fn record_tables(
        &self,
        who: &Principal,
        action: &str,
        statement: &str,
        tables: Vec<String>,
        rows: u64,
        error: Option<&AccessError>,
        t0: Instant,
    ) {
        self.audit.record(&Entry::new(
            who,
            action,
            statement,
            tables,
            rows,
            error.map(|e| e.to_string()),
            t0,
        ));
    }
}

/// Collects a query's result, refusing it once it passes `max` rows. (The
/// time limit is the [`Executor`]'s.)
pub async fn collect_rows(
    df: datafusion::dataframe::DataFrame,
    max: usize,
) -> Result<Vec<RecordBatch>, AccessError> {
    let mut stream = df.execute_stream().await?;
    let mut out = Vec::new();
    let mut rows = 0usize;
    while let Some(b) = stream.next().await {
        let b = b?;
        rows += b.num_rows();
        if rows > max {
            return Err(AccessError::Limit(format!(
                "the query returns more than {max} rows, the limit per query (access/policy.toml [limits] max-rows); add a LIMIT or aggregate"
            )));
        }
        out.push(b);
    }
    Ok(out)
}

/// Tables (`schema.table`) a statement names (civhub-warehouse's resolver,
/// shared with the plain `civhub sql` session).
pub use civhub_warehouse::session::tables_named;

/// One user's view of a release.
pub struct UserSession {
    /// The session: masked views of the readable tables, the catalog, and
    /// (for auditors) `audit.log`.
    pub ctx: SessionContext,
    /// Release number.
    pub release: u64,
    /// Published tables the user may not read, with why.
    pub denied: BTreeMap<String, String>,
    /// Masked columns per table (column → PII class).
    pub masked: BTreeMap<String, BTreeMap<String, String>>,
    /// Readable tables.
    pub tables: BTreeSet<String>,
}

impl UserSession {
    /// Plans `sql` after the read-only and access checks.
    pub async fn plan(&self, sql: &str) -> Result<datafusion::dataframe::DataFrame, AccessError> {
        session::check(sql)?;
        for key in session::tables_in(sql) {
            if let Some(why) = self.denied.get(&key) {
                return Err(AccessError::Denied(format!(
                    "you may not read `{key}`: {why}"
                )));
            }
        }
        self.ctx
            .sql_with_options(sql, session::read_only())
            .await
            .map_err(|e| match e {
                DataFusionError::Plan(m)
                    if m.contains("not supported") || m.contains("not allowed") =>
                {
                    AccessError::Sql(SqlError::Refused(m))
                }
                other => AccessError::Sql(SqlError::Engine(other)),
            })
    }
}

fn mask_udf(class: &str) -> ScalarUDF {
    let c = class.to_string();
    create_udf(
        &format!("civhub_mask_{class}"),
        vec![DataType::Utf8],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(move |args: &[ColumnarValue]| {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let a = arrays[0].as_string::<i32>();
            let out: StringArray = (0..a.len())
                .map(|i| (!a.is_null(i)).then(|| civhub_core::mask::by_class(&c, a.value(i))))
                .collect();
            Ok(ColumnarValue::Array(Arc::new(out)))
        }),
    )
}

fn strings(b: &RecordBatch, name: &str) -> Vec<Option<String>> {
    let n = b.num_rows();
    let Some(c) = b.column_by_name(name) else {
        return vec![None; n];
    };
    let Ok(c) = arrow::compute::cast(c, &DataType::Utf8) else {
        return vec![None; n];
    };
    let a = c.as_string::<i32>();
    (0..n)
        .map(|i| (!a.is_null(i)).then(|| a.value(i).to_string()))
        .collect()
}

async fn catalog_info(raw: &SqlSession) -> Result<BTreeMap<String, TableInfo>, AccessError> {
    let mut info: BTreeMap<String, TableInfo> = BTreeMap::new();
    if !raw.release.tables.contains_key("catalog.datasets") {
        return Ok(info);
    }
    let ds = raw
        .ctx
        .sql("SELECT table_name, sharing_type, department FROM catalog.datasets WHERE table_name IS NOT NULL")
        .await?
        .collect()
        .await?;
    for b in &ds {
        let (t, s, d) = (
            strings(b, "table_name"),
            strings(b, "sharing_type"),
            strings(b, "department"),
        );
        for i in 0..b.num_rows() {
            if let Some(name) = t[i].clone() {
                let e = info.entry(name).or_default();
                e.sharing = s[i].clone();
                e.provider = d[i].clone();
            }
        }
    }
    let cols = raw
        .ctx
        .sql("SELECT d.table_name, c.column_name, c.pii FROM catalog.columns c JOIN catalog.datasets d ON d.dataset = c.dataset WHERE c.pii IS NOT NULL AND c.pii <> 'none' AND d.table_name IS NOT NULL")
        .await?
        .collect()
        .await?;
    for b in &cols {
        let (t, c, p) = (
            strings(b, "table_name"),
            strings(b, "column_name"),
            strings(b, "pii"),
        );
        for i in 0..b.num_rows() {
            if let (Some(t), Some(c), Some(p)) = (t[i].clone(), c[i].clone(), p[i].clone()) {
                info.entry(t).or_default().pii.insert(c, p);
            }
        }
    }
    Ok(info)
}

/// Whether `user` may read `table`; `Err(why)` when not. A table the
/// release restricts (不予共享) is decided on its provider alone: no role
/// (`all-tables` included) and no grant opens it to another department.
fn decide(
    policy: &Policy,
    role: &Role,
    user: &User,
    table: &str,
    info: Option<&TableInfo>,
    restricted: Option<&Restriction>,
) -> Result<(), String> {
    if let Some(r) = restricted {
        return if r.provider == user.department {
            Ok(())
        } else {
            Err(format!(
                "it is {} (not shared): only users of its providing department `{}` may read it, and you are of department `{}`",
                r.sharing, r.provider, user.department
            ))
        };
    }
    if table.starts_with("catalog.") || role.all_tables {
        return Ok(());
    }
    let granted = || {
        policy
            .grants
            .iter()
            .any(|g| g.covers(table, &user.role, &user.department))
    };
    match info.and_then(|i| i.sharing.as_deref()) {
        Some("无条件共享") => Ok(()),
        Some("有条件共享") => {
            if granted() {
                Ok(())
            } else {
                Err(format!(
                    "it is 有条件共享 (conditional sharing) and no grant in access/policy.toml covers role `{}` of department `{}`",
                    user.role, user.department
                ))
            }
        }
        // A release written before restricted tables were published never
        // held a 不予共享 table; this is the catalog's word for one anyway.
        Some("不予共享") => {
            if info.and_then(|i| i.provider.as_deref()) == Some(user.department.as_str()) {
                Ok(())
            } else {
                Err("it is 不予共享 (not shared) outside its providing department".into())
            }
        }
        _ => {
            if granted() {
                Ok(())
            } else {
                Err(format!(
                    "the catalog does not list it for sharing and no grant covers role `{}` of department `{}`",
                    user.role, user.department
                ))
            }
        }
    }
}

/// The column naming the dataset a row comes from (the cross-references').
const DATASET_COLUMN: &str = "dataset";

async fn build(
    raw: &SqlSession,
    policy: &Policy,
    user: &User,
    audit: &Audit,
) -> Result<UserSession, AccessError> {
    let role = policy.roles.get(&user.role).ok_or_else(|| {
        AccessError::Denied(format!("role `{}` is not in access/policy.toml", user.role))
    })?;
    let info = catalog_info(raw).await?;
    let ctx = civhub_engine::session::new_context(Default::default());
    let catalog = ctx
        .catalog("datafusion")
        .ok_or_else(|| DataFusionError::Internal("no default catalog".into()))?;
    let mut denied = BTreeMap::new();
    let mut masked = BTreeMap::new();
    let mut tables = BTreeSet::new();
    for (name, released) in &raw.release.tables {
        if let Err(why) = decide(
            policy,
            role,
            user,
            name,
            info.get(name),
            released.restricted.as_ref(),
        ) {
            denied.insert(name.clone(), why);
        }
    }
    // Rows naming a dataset the user may not read (a cross-reference's
    // mention in a 不予共享 dataset says that the person is in it) are not in
    // the user's view of any table with a `dataset` column.
    let hidden: Vec<Expr> = denied.keys().map(|t| lit(t.as_str())).collect();
    for name in raw.release.tables.keys() {
        let Some((schema_name, table_name)) = name.split_once('.') else {
            continue;
        };
        if denied.contains_key(name) {
            continue;
        }
        let mut df = raw.ctx.table(name.as_str()).await?;
        if !hidden.is_empty()
            && !name.starts_with("catalog.")
            && df.schema().has_column_with_unqualified_name(DATASET_COLUMN)
        {
            df = df.filter(
                ident(DATASET_COLUMN)
                    .is_null()
                    .or(ident(DATASET_COLUMN).in_list(hidden.clone(), true)),
            )?;
        }
        let pii = info.get(name).map(|i| i.pii.clone()).unwrap_or_default();
        let mut cols = BTreeMap::new();
        let exprs: Vec<Expr> = df
            .schema()
            .fields()
            .iter()
            .map(|f| {
                let c = f.name();
                match pii.get(c) {
                    Some(class) if !role.cleared_column(name, c, class) => {
                        cols.insert(c.clone(), class.clone());
                        let e = if matches!(
                            f.data_type(),
                            DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8
                        ) {
                            mask_udf(class).call(vec![cast(ident(c), DataType::Utf8)])
                        } else {
                            lit(ScalarValue::try_from(f.data_type()).unwrap_or(ScalarValue::Null))
                        };
                        e.alias(c)
                    }
                    _ => ident(c),
                }
            })
            .collect();
        let view = df.select(exprs)?.into_view();
        let schema = match catalog.schema(schema_name) {
            Some(s) => s,
            None => {
                let s: Arc<dyn SchemaProvider> = Arc::new(MemorySchemaProvider::new());
                catalog.register_schema(schema_name, s.clone())?;
                s
            }
        };
        schema.register_table(table_name.to_string(), view)?;
        if !cols.is_empty() {
            masked.insert(name.clone(), cols);
        }
        tables.insert(name.clone());
    }
    if role.audit {
        let s: Arc<dyn SchemaProvider> = Arc::new(MemorySchemaProvider::new());
        catalog.register_schema("audit", s)?;
        let schema = audit::schema();
        ctx.register_json(
            "audit.log",
            audit.path().to_string_lossy().as_ref(),
            JsonReadOptions::default()
                .schema(&schema)
                .file_extension(".jsonl"),
        )
        .await?;
        tables.insert("audit.log".into());
    } else {
        denied.insert(
            "audit.log".into(),
            "only roles with `audit = true` (auditor, admin) read the audit log".into(),
        );
    }
    Ok(UserSession {
        ctx,
        release: raw.release.number,
        denied,
        masked,
        tables,
    })
}
