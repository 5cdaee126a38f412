//! The PostgreSQL wire protocol endpoint: psql, DBeaver, Metabase and
//! psycopg connect to the hub as to a read-only PostgreSQL server.
//!
//! Built on `pgwire` with civhub's own handlers, not datafusion-postgres's
//! defaults (which accept any client and run any statement). What is reused
//! is the Arrow → PostgreSQL value encoding (`arrow-pg`) and the `pg_catalog`
//! tables and SQL rewrites that psql's `\dt` and `\d` need
//! (`datafusion-pg-catalog`).
//!
//! * **Authentication** is a cleartext password checked against the user's
//!   Argon2id hash ([`users::authenticate`]). SCRAM-SHA-256 would need a
//!   SCRAM verifier stored next to every user, a second password-derived
//!   secret the "passwords only as Argon2 hashes" rule does not allow, and
//!   MD5 is worse; so the password crosses the connection once, which is why
//!   the endpoint listens on loopback unless told otherwise (put TLS or an
//!   SSH tunnel in front for anything else). A failed login is a FATAL
//!   `28P01` and an audit entry.
//! * **Every statement** goes through the user's session
//!   ([`UserSession::plan`]: read-only and access checks, masked views of
//!   only the readable tables), on the simple and the extended (prepared)
//!   query paths alike, is collected within the policy's limits and is
//!   audited. The session the endpoint plans in is a copy of the user's
//!   with a `pg_catalog` schema added, built over that session's catalog, so
//!   `\dt` lists exactly the tables the user may read.
//! * `SET`, `SHOW`, `BEGIN`, `COMMIT` and `ROLLBACK`, which clients send on
//!   their own, are answered without running anything: nothing changes.
//! * Connections beyond the policy's `max-connections` are refused with a
//!   FATAL `53300`; shutdown stops accepting, lets running queries finish,
//!   then closes the connections.

use crate::access::{AccessError, Hub, Principal, UserSession, tables_named};
use crate::users::{self, User};
use arrow::datatypes::{DataType, Schema};
use arrow::record_batch::RecordBatch;
use arrow_pg::datatypes::df::deserialize_parameters_with_server_types;
use arrow_pg::datatypes::{arrow_schema_to_pg_fields, encode_recordbatch, into_pg_type};
use async_trait::async_trait;
use civhub_warehouse::session::{AsOf, SqlError};
use datafusion::catalog::{
    CatalogProvider, CatalogProviderList, MemoryCatalogProvider, MemoryCatalogProviderList,
};
use datafusion::common::ScalarValue;
use datafusion::dataframe::DataFrame;
use datafusion::datasource::TableType;
use datafusion::error::DataFusionError;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::logical_expr::{ColumnarValue, Volatility, create_udf};
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::{
    CloseCursor, Declare, DeclareType, FetchDirection, Statement, Value, ValueWithSpan,
};
use datafusion_pg_catalog::pg_catalog::catalog_info::CatalogInfo;
use datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
use datafusion_pg_catalog::pg_catalog::{PgCatalogSchemaProvider, PgCatalogStaticTables};
use datafusion_pg_catalog::sql::PostgresCompatibilityParser;
use futures::{Sink, StreamExt};
use pgwire::api::auth::{
    DefaultServerParameterProvider, StartupHandler, finish_authentication, protocol_negotiation,
    save_startup_parameters_to_metadata,
};
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{DataRowEncoder, FieldInfo, QueryResponse, Response, Tag};
use pgwire::api::stmt::{QueryParser, StoredStatement};
use pgwire::api::store::{MemPortalStore, PortalStore};
use pgwire::api::{
    ClientInfo, ClientPortalStore, METADATA_USER, PgWireConnectionState, PgWireServerHandlers, Type,
};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::startup::Authentication;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use pgwire::types::format::FormatOptions;
use std::collections::{HashMap, VecDeque};
use std::fmt::Debug;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{RwLock, Semaphore};
use tokio::task::JoinSet;

/// Serves the PostgreSQL wire protocol on `listener` until `shutdown` turns
/// true (or its sender is dropped); then stops accepting, lets the queries
/// that are running finish, and closes every connection.
pub async fn serve(
    hub: Arc<Hub>,
    users: Arc<Vec<User>>,
    listener: TcpListener,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    let max = hub.policy.limits.max_connections.max(1);
    let server = Arc::new(Server {
        hub,
        users,
        sessions: Mutex::new(HashMap::new()),
        running: RwLock::new(()),
        parser: PostgresCompatibilityParser::new(),
    });
    let slots = Arc::new(Semaphore::new(max));
    let mut connections = JoinSet::new();
    tracing::info!(
        "pgwire: listening on {}",
        listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default()
    );
    loop {
        if *shutdown.borrow() {
            break;
        }
        tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_err() {
                    break;
                }
            }
            accepted = listener.accept() => {
                let (socket, peer) = match accepted {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::warn!("pgwire: accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                match slots.clone().try_acquire_owned() {
                    Ok(slot) => {
                        let conn = Conn(Arc::new(ConnState {
                            server: server.clone(),
                            peer: peer.to_string(),
                            user: Mutex::new(None),
                            cursors: Mutex::new(HashMap::new()),
                            in_transaction: AtomicBool::new(false),
                        }));
                        connections.spawn(async move {
                            tracing::debug!("pgwire: connection from {peer}");
                            if let Err(e) = pgwire::tokio::process_socket(socket, None, conn).await {
                                tracing::debug!("pgwire: connection from {peer} ended: {e}");
                            }
                            drop(slot);
                        });
                    }
                    Err(_) => {
                        tracing::warn!("pgwire: refused {peer}: {max} connections already open");
                        connections.spawn(refuse_connection(socket, max));
                    }
                }
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    tracing::info!("pgwire: shutting down; waiting for running queries");
    // Queries hold a read guard while they run; the write guard waits for them.
    let _idle = server.running.write().await;
    connections.abort_all();
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// What all connections share.
struct Server {
    hub: Arc<Hub>,
    users: Arc<Vec<User>>,
    /// The pg sessions (user session + `pg_catalog`) per release and user.
    sessions: Mutex<HashMap<(u64, String), Arc<UserSession>>>,
    running: RwLock<()>,
    parser: PostgresCompatibilityParser,
}

/// One connection: who logged in, from where.
#[derive(Clone)]
struct Conn(Arc<ConnState>);

struct ConnState {
    server: Arc<Server>,
    peer: String,
    user: Mutex<Option<User>>,
    /// Cursors opened with `DECLARE`, by name.
    cursors: Mutex<HashMap<String, Cursor>>,
    /// Between `BEGIN` and `COMMIT` / `ROLLBACK`.
    in_transaction: AtomicBool,
}

impl PgWireServerHandlers for Conn {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        Arc::new(self.clone())
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        Arc::new(self.clone())
    }

    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        Arc::new(self.clone())
    }
}

/// A parsed statement of the extended protocol.
#[derive(Clone)]
pub struct Prepared {
    sql: String,
    kind: Kind,
}

#[derive(Clone)]
enum Kind {
    Empty,
    Answer(Answer),
    Query {
        df: DataFrame,
        params: Params,
    },
    /// `DECLARE name CURSOR FOR query`, the query planned.
    Declare {
        cursor: Declared,
        query: String,
        df: DataFrame,
        params: Params,
    },
    Fetch {
        name: String,
        count: Option<usize>,
    },
    Close(Option<String>),
    /// The portal a `DECLARE` opens under the cursor's name (for `Describe`,
    /// or an `Execute` that reads the rest of it).
    Cursor(String),
}

/// The parameter types of a planned statement: as DataFusion inferred them
/// and as they are announced to the client.
#[derive(Clone, Default)]
struct Params {
    inferred: Vec<Option<DataType>>,
    wire: Vec<Type>,
}

/// A session statement answered without running anything.
#[derive(Clone, Debug)]
enum Answer {
    Set,
    Begin,
    End(&'static str),
    Show(String, String),
}

/// What the endpoint does with one statement.
#[derive(Clone, Debug)]
enum Action {
    /// Answered here.
    Answer(Answer),
    /// `DECLARE … CURSOR FOR query` (with the query's SQL).
    Declare(Declared, String),
    /// `FETCH [FORWARD] n | ALL FROM name` (`None`: all).
    Fetch { name: String, count: Option<usize> },
    /// `CLOSE name` (`None`: `CLOSE ALL`).
    Close(Option<String>),
    /// SQL for the user's session.
    Sql,
}

/// A cursor as declared.
#[derive(Clone, Debug)]
struct Declared {
    name: String,
    hold: bool,
    binary: bool,
}

/// An open cursor (`DECLARE`): the rows not fetched yet.
struct Cursor {
    schema: Arc<Schema>,
    batches: VecDeque<RecordBatch>,
    hold: bool,
    binary: bool,
}

/// Open cursors per connection; each holds at most `max-rows` rows.
const MAX_CURSORS: usize = 16;

impl Cursor {
    /// The next `n` rows (all that are left for `None`).
    fn take(&mut self, n: Option<usize>) -> Vec<RecordBatch> {
        let mut want = n.unwrap_or(usize::MAX);
        let mut out = Vec::new();
        while want > 0 {
            let Some(b) = self.batches.pop_front() else {
                break;
            };
            if b.num_rows() <= want {
                want -= b.num_rows();
                out.push(b);
            } else {
                out.push(b.slice(0, want));
                self.batches.push_front(b.slice(want, b.num_rows() - want));
                want = 0;
            }
        }
        out
    }

    fn format(&self) -> Format {
        if self.binary {
            Format::UnifiedBinary
        } else {
            Format::UnifiedText
        }
    }
}

impl Conn {
    fn principal(&self) -> PgWireResult<Principal> {
        let user = self.0.user.lock().expect("lock").clone().ok_or_else(|| {
            PgWireError::UserError(Box::new(ErrorInfo::new(
                "FATAL".into(),
                "28000".into(),
                "not authenticated".into(),
            )))
        })?;
        Ok(Principal {
            user,
            interface: "pgwire".into(),
            client: self.0.peer.clone(),
        })
    }

    /// The user's session with `pg_catalog` (built once per release and user).
    async fn session(&self, user: &User) -> Result<Arc<UserSession>, AccessError> {
        let server = &self.0.server;
        let base = server.hub.session(user, &AsOf::Latest).await?;
        let key = (base.release, user.name.clone());
        if let Some(s) = server.sessions.lock().expect("lock").get(&key) {
            return Ok(s.clone());
        }
        let s = Arc::new(with_pg_catalog(&base, &user.name)?);
        let mut sessions = server.sessions.lock().expect("lock");
        sessions.retain(|k, _| k.0 == key.0);
        sessions.insert(key, s.clone());
        Ok(s)
    }

    /// Splits a simple query into statements, each with what to do with
    /// it. A query the PostgreSQL parser cannot read goes to the session
    /// whole (which reports the error).
    fn statements(&self, query: &str) -> PgWireResult<Vec<(String, Action)>> {
        match self.0.server.parser.parse(&regproc_names(query)) {
            Ok(statements) => statements
                .into_iter()
                .map(|s| {
                    let action = self.action(&s)?;
                    Ok((s.to_string(), action))
                })
                .collect(),
            Err(_) => Ok(vec![(query.to_string(), Action::Sql)]),
        }
    }

    /// What to do with one statement.
    fn action(&self, s: &Statement) -> PgWireResult<Action> {
        Ok(match s {
            Statement::Set(_) => Action::Answer(Answer::Set),
            Statement::StartTransaction { .. } => Action::Answer(Answer::Begin),
            Statement::Commit { .. } => Action::Answer(Answer::End("COMMIT")),
            Statement::Rollback { .. } => Action::Answer(Answer::End("ROLLBACK")),
            Statement::ShowVariable { variable } => {
                let name = variable
                    .iter()
                    .map(|i| i.value.to_lowercase())
                    .collect::<Vec<_>>()
                    .join(" ");
                let limits = &self.0.server.hub.policy.limits;
                let (column, value) = show(&name, limits.timeout_seconds).ok_or_else(|| {
                    user_error(
                        "42704",
                        format!("unrecognized configuration parameter \"{name}\""),
                    )
                })?;
                Action::Answer(Answer::Show(column.into(), value))
            }
            Statement::Declare { stmts } => self.declare(stmts)?,
            Statement::Fetch {
                name, direction, ..
            } => Action::Fetch {
                name: name.value.clone(),
                count: fetch_count(direction)?,
            },
            Statement::Close { cursor } => Action::Close(match cursor {
                CloseCursor::All => None,
                CloseCursor::Specific { name } => Some(name.value.clone()),
            }),
            _ => Action::Sql,
        })
    }

    /// `DECLARE name [BINARY] [NO SCROLL] CURSOR [WITH[OUT] HOLD] FOR query`.
    fn declare(&self, stmts: &[Declare]) -> PgWireResult<Action> {
        let [d] = stmts else {
            return Err(user_error("0A000", "declare one cursor at a time".into()));
        };
        let (Some(DeclareType::Cursor), Some(query), [name]) =
            (&d.declare_type, &d.for_query, d.names.as_slice())
        else {
            return Err(user_error(
                "0A000",
                "only `DECLARE name CURSOR FOR query` is supported".into(),
            ));
        };
        if d.scroll == Some(true) {
            return Err(user_error(
                "0A000",
                "SCROLL cursors are not supported: cursors only move forward (declare it NO SCROLL)"
                    .into(),
            ));
        }
        let sql = self
            .0
            .server
            .parser
            .rewrite(Statement::Query(query.clone()))
            .to_string();
        Ok(Action::Declare(
            Declared {
                name: name.value.clone(),
                hold: d.hold == Some(true),
                binary: d.binary == Some(true),
            },
            sql,
        ))
    }

    /// Plans `sql` in the user's session (the read-only and access checks).
    async fn plan(&self, user: &User, sql: &str) -> Result<DataFrame, AccessError> {
        self.session(user).await?.plan(sql).await
    }

    /// Runs a planned statement on the query runtime within the limits, and
    /// audits it as `statement` (naming the tables `sql` reads).
    async fn run(
        &self,
        who: &Principal,
        statement: &str,
        sql: &str,
        t0: Instant,
        df: Result<DataFrame, AccessError>,
    ) -> PgWireResult<(Arc<Schema>, Vec<RecordBatch>)> {
        let _running = self.0.server.running.read().await;
        let hub = &self.0.server.hub;
        let result = match df {
            Ok(df) => {
                let schema = Arc::new(df.schema().as_arrow().clone());
                hub.collect(df).await.map(|b| (schema, b))
            }
            Err(e) => Err(e),
        };
        let rows = result
            .as_ref()
            .map(|(_, b)| b.iter().map(|b| b.num_rows() as u64).sum())
            .unwrap_or(0);
        hub.record_tables(
            who,
            "query",
            statement,
            tables_named(sql),
            rows,
            result.as_ref().err(),
            t0,
        );
        result.map_err(|e| pg_error(&e))
    }

    fn record_answer(&self, who: &Principal, sql: &str, rows: u64, t0: Instant) {
        self.0.server.hub.record(who, "query", sql, rows, None, t0);
    }

    fn record_refusal(&self, who: &Principal, sql: &str, e: &AccessError, t0: Instant) {
        self.0.server.hub.record(who, "query", sql, 0, Some(e), t0);
    }

    /// Transaction bookkeeping for `BEGIN` / `COMMIT` / `ROLLBACK`: the end
    /// of a transaction closes its cursors (those not declared `WITH HOLD`).
    fn transaction<S: PortalStore>(&self, a: &Answer, store: &S) {
        match a {
            Answer::Begin => self.0.in_transaction.store(true, Ordering::Relaxed),
            Answer::End(_) => {
                self.0.in_transaction.store(false, Ordering::Relaxed);
                let mut cursors = self.0.cursors.lock().expect("lock");
                let closing: Vec<String> = cursors
                    .iter()
                    .filter(|(_, c)| !c.hold)
                    .map(|(n, _)| n.clone())
                    .collect();
                for name in closing {
                    cursors.remove(&name);
                    store.rm_portal(&name);
                }
            }
            _ => {}
        }
    }

    /// Opens a cursor over a query's result (already computed, within the
    /// limits), and the portal of the same name that `Describe` looks at.
    fn open_cursor<S: PortalStore>(
        &self,
        d: &Declared,
        sql: &str,
        schema: Arc<Schema>,
        batches: Vec<RecordBatch>,
        store: &S,
    ) -> PgWireResult<()> {
        let mut cursors = self.0.cursors.lock().expect("lock");
        if cursors.contains_key(&d.name) {
            return Err(user_error(
                "42P03",
                format!("cursor \"{}\" already exists", d.name),
            ));
        }
        if cursors.len() >= MAX_CURSORS {
            return Err(user_error(
                "54000",
                format!(
                    "too many open cursors: at most {MAX_CURSORS} per connection; CLOSE one first"
                ),
            ));
        }
        cursors.insert(
            d.name.clone(),
            Cursor {
                schema,
                batches: batches.into(),
                hold: d.hold,
                binary: d.binary,
            },
        );
        if let Some(store) = store.as_any().downcast_ref::<MemPortalStore<Prepared>>() {
            let statement = Prepared {
                sql: sql.to_string(),
                kind: Kind::Cursor(d.name.clone()),
            };
            let mut portal = Portal::new_cursor(
                d.name.clone(),
                Arc::new(StoredStatement::new(d.name.clone(), statement, Vec::new())),
            );
            if d.binary {
                portal.result_column_format = Format::UnifiedBinary;
            }
            store.put_portal(Arc::new(portal));
        }
        Ok(())
    }

    /// Refuses a `DECLARE` PostgreSQL would refuse: a cursor without
    /// `WITH HOLD` lives only inside a transaction block.
    fn check_declare(&self, d: &Declared) -> PgWireResult<()> {
        if !d.hold && !self.0.in_transaction.load(Ordering::Relaxed) {
            return Err(user_error(
                "25P01",
                "DECLARE CURSOR can only be used in transaction blocks (or declare it WITH HOLD)"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The next rows of a cursor, encoded in `format` (the cursor's own
    /// when `None`).
    fn fetch(
        &self,
        name: &str,
        count: Option<usize>,
        format: Option<&Format>,
        options: FormatOptions,
    ) -> PgWireResult<(QueryResponse, u64)> {
        let mut cursors = self.0.cursors.lock().expect("lock");
        let c = cursors.get_mut(name).ok_or_else(|| no_cursor(name))?;
        let batches = c.take(count);
        let rows = batches.iter().map(|b| b.num_rows() as u64).sum();
        let format = format.cloned().unwrap_or_else(|| c.format());
        let mut response = encode(&c.schema, batches, &format, options)?;
        response.set_command_tag("FETCH");
        Ok((response, rows))
    }

    fn close<S: PortalStore>(&self, name: Option<&str>, store: &S) -> PgWireResult<()> {
        let mut cursors = self.0.cursors.lock().expect("lock");
        match name {
            Some(n) => {
                cursors.remove(n).ok_or_else(|| no_cursor(n))?;
                store.rm_portal(n);
            }
            None => {
                for (n, _) in cursors.drain() {
                    store.rm_portal(&n);
                }
            }
        }
        Ok(())
    }

    /// The fields a cursor's rows are sent with.
    fn cursor_fields(&self, name: &str, format: &Format) -> PgWireResult<Vec<FieldInfo>> {
        let cursors = self.0.cursors.lock().expect("lock");
        let c = cursors.get(name).ok_or_else(|| no_cursor(name))?;
        check_format(format, c.schema.fields().len())?;
        arrow_schema_to_pg_fields(&c.schema, format, None)
    }

    /// One statement of a simple query.
    async fn simple<C>(
        &self,
        client: &mut C,
        who: &Principal,
        sql: &str,
        action: Action,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
    {
        let t0 = Instant::now();
        let options = || FormatOptions::from_client_metadata(client.metadata());
        match action {
            Action::Answer(a) => {
                self.transaction(&a, client.portal_store());
                self.record_answer(who, sql, 0, t0);
                answer_response(&a, &Format::UnifiedText)
            }
            Action::Sql => {
                let df = self.plan(&who.user, sql).await;
                let (schema, batches) = self.run(who, sql, sql, t0, df).await?;
                Ok(Response::Query(encode(
                    &schema,
                    batches,
                    &Format::UnifiedText,
                    options(),
                )?))
            }
            Action::Declare(d, query) => {
                if let Err(e) = self.check_declare(&d) {
                    self.record_refusal(who, sql, &pg_refusal(&e), t0);
                    return Err(e);
                }
                let df = self.plan(&who.user, &query).await;
                let (schema, batches) = self.run(who, sql, &query, t0, df).await?;
                self.open_cursor(&d, sql, schema, batches, client.portal_store())?;
                Ok(Response::Execution(Tag::new("DECLARE CURSOR")))
            }
            Action::Fetch { name, count } => {
                let (response, rows) = self.fetch(&name, count, None, options())?;
                self.record_answer(who, sql, rows, t0);
                Ok(Response::Query(response))
            }
            Action::Close(name) => {
                self.close(name.as_deref(), client.portal_store())?;
                self.record_answer(who, sql, 0, t0);
                Ok(Response::Execution(Tag::new("CLOSE CURSOR")))
            }
        }
    }

    /// Binds a portal's parameters to a planned statement.
    fn bind(
        &self,
        who: &Principal,
        sql: &str,
        portal: &Portal<Prepared>,
        df: &DataFrame,
        params: &Params,
        t0: Instant,
    ) -> PgWireResult<Result<DataFrame, AccessError>> {
        let inferred: Vec<Option<&DataType>> = params.inferred.iter().map(|t| t.as_ref()).collect();
        let wire: Vec<Option<&Type>> = params.wire.iter().map(Some).collect();
        match deserialize_parameters_with_server_types(portal, &inferred, &wire) {
            Ok(_) if portal.parameter_len() == 0 => Ok(Ok(df.clone())),
            Ok(values) => Ok(df
                .clone()
                .with_param_values(values)
                .map_err(AccessError::from)),
            Err(e) => {
                let e = AccessError::Sql(SqlError::Engine(DataFusionError::Execution(format!(
                    "cannot read the parameters: {e}"
                ))));
                self.record_refusal(who, sql, &e, t0);
                Err(pg_error(&e))
            }
        }
    }
}

/// `'pg_catalog.array_in'::regproc` → `'array_in'`. pgjdbc asks
/// `typinput='pg_catalog.array_in'::regproc` to tell array types apart
/// (its type cache, run when a result has a type it does not know, such as
/// `pg_namespace.nspacl`). This `pg_catalog` keeps `regproc` columns as the
/// function's name, so the name is what they compare with; the cast
/// datafusion-pg-catalog would make of the literal (an oid subquery) fails
/// to compare with a name.
fn regproc_names(query: &str) -> std::borrow::Cow<'_, str> {
    use datafusion::sql::sqlparser::ast::{Expr, visit_expressions_mut};
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;
    use std::ops::ControlFlow;
    if !query.to_ascii_lowercase().contains("regproc") {
        return query.into();
    }
    let Ok(mut statements) = Parser::parse_sql(&PostgreSqlDialect {}, query) else {
        return query.into();
    };
    let _ = visit_expressions_mut(&mut statements, |e| {
        if let Expr::Cast {
            expr, data_type, ..
        } = e
            && let Expr::Value(ValueWithSpan {
                value: Value::SingleQuotedString(name),
                ..
            }) = expr.as_ref()
        {
            let t = data_type.to_string().to_ascii_lowercase();
            if t.strip_prefix("pg_catalog.").unwrap_or(&t) == "regproc" {
                let name = name.strip_prefix("pg_catalog.").unwrap_or(name);
                *e = Expr::value(Value::SingleQuotedString(name.to_string()));
            }
        }
        ControlFlow::<()>::Continue(())
    });
    statements
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join("; ")
        .into()
}

/// The rows a `FETCH` direction asks for (`None`: all that are left).
fn fetch_count(d: &FetchDirection) -> PgWireResult<Option<usize>> {
    let n = |v: &ValueWithSpan| match &v.value {
        Value::Number(n, _) => n.parse::<usize>().ok(),
        _ => None,
    };
    let bad = || {
        user_error(
            "0A000",
            "only FETCH [FORWARD] n | ALL | NEXT is supported: cursors only move forward".into(),
        )
    };
    Ok(match d {
        FetchDirection::Next | FetchDirection::Forward { limit: None } => Some(1),
        FetchDirection::Count { limit } | FetchDirection::Forward { limit: Some(limit) } => {
            Some(n(limit).ok_or_else(bad)?)
        }
        FetchDirection::All | FetchDirection::ForwardAll => None,
        _ => return Err(bad()),
    })
}

fn no_cursor(name: &str) -> PgWireError {
    user_error("34000", format!("cursor \"{name}\" does not exist"))
}

/// The refusal a protocol error stands for, for the audit log.
fn pg_refusal(e: &PgWireError) -> AccessError {
    AccessError::Sql(SqlError::Refused(e.to_string()))
}

/// PostgreSQL accepts 0, 1 or one result format code per column; anything
/// else is a protocol violation (and would index past the codes).
fn check_format(format: &Format, columns: usize) -> PgWireResult<()> {
    match format {
        Format::Individual(codes) if codes.len() != columns => Err(user_error(
            "08P01",
            format!(
                "{} result format codes for {columns} columns: send 0, 1 or one per column",
                codes.len()
            ),
        )),
        _ => Ok(()),
    }
}

/// The parameters of a planned statement, in `$n` order.
fn parameters(df: &DataFrame) -> Result<Params, AccessError> {
    let mut params: Vec<(usize, Option<DataType>)> = df
        .logical_plan()
        .get_parameter_types()?
        .into_iter()
        .filter_map(|(k, v)| Some((k.trim_start_matches('$').parse().ok()?, v)))
        .collect();
    params.sort_by_key(|(i, _)| *i);
    let mut out = Params::default();
    for (_, t) in params {
        out.wire.push(match &t {
            Some(t) => into_pg_type(t).unwrap_or(Type::UNKNOWN),
            None => Type::UNKNOWN,
        });
        out.inferred.push(t);
    }
    Ok(out)
}

/// The value `SHOW name` reports, with its column name.
fn show(name: &str, timeout_seconds: u64) -> Option<(&'static str, String)> {
    Some(match name {
        "transaction isolation level" | "transaction_isolation" => {
            ("transaction_isolation", "read committed".into())
        }
        "default_transaction_isolation" => {
            ("default_transaction_isolation", "read committed".into())
        }
        "transaction_read_only" => ("transaction_read_only", "on".into()),
        "default_transaction_read_only" => ("default_transaction_read_only", "on".into()),
        "server_version" => ("server_version", "16.6".into()),
        "server_version_num" => ("server_version_num", "160006".into()),
        "server_encoding" => ("server_encoding", "UTF8".into()),
        "client_encoding" => ("client_encoding", "UTF8".into()),
        "standard_conforming_strings" => ("standard_conforming_strings", "on".into()),
        "datestyle" => ("DateStyle", "ISO, MDY".into()),
        "intervalstyle" => ("IntervalStyle", "postgres".into()),
        "timezone" | "time zone" => ("TimeZone", "UTC".into()),
        "search_path" => ("search_path", "public".into()),
        "integer_datetimes" => ("integer_datetimes", "on".into()),
        "max_identifier_length" => ("max_identifier_length", "63".into()),
        "statement_timeout" => ("statement_timeout", format!("{timeout_seconds}s")),
        "lc_collate" => ("lc_collate", "C.UTF-8".into()),
        "lc_ctype" => ("lc_ctype", "C.UTF-8".into()),
        _ => return None,
    })
}

fn answer_response(a: &Answer, format: &Format) -> PgWireResult<Response> {
    Ok(match a {
        Answer::Set => Response::Execution(Tag::new("SET")),
        Answer::Begin => Response::TransactionStart(Tag::new("BEGIN")),
        Answer::End(tag) => Response::TransactionEnd(Tag::new(tag)),
        Answer::Show(column, value) => {
            let fields = Arc::new(vec![show_field(column, format)]);
            let mut row = DataRowEncoder::new(fields.clone());
            row.encode_field(&Some(value.as_str()))?;
            let rows = vec![Ok(row.take_row())];
            Response::Query(QueryResponse::new(fields, futures::stream::iter(rows)))
        }
    })
}

fn show_field(column: &str, format: &Format) -> FieldInfo {
    FieldInfo::new(column.into(), None, None, Type::TEXT, format.format_for(0))
}

/// The rows of a result, encoded for the wire as they are sent: a portal
/// executed with a row limit (`Execute` with `max_rows`, JDBC's fetch size)
/// keeps the batches not sent yet, and encodes only what each `Execute`
/// takes.
fn encode(
    schema: &Schema,
    batches: Vec<RecordBatch>,
    format: &Format,
    options: FormatOptions,
) -> PgWireResult<QueryResponse> {
    check_format(format, schema.fields().len())?;
    let fields = Arc::new(arrow_schema_to_pg_fields(
        schema,
        format,
        Some(Arc::new(options)),
    )?);
    let f = fields.clone();
    let rows = futures::stream::iter(batches)
        .flat_map(move |b| futures::stream::iter(encode_recordbatch(f.clone(), b)));
    Ok(QueryResponse::new(fields, rows))
}

fn user_error(code: &str, message: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".into(),
        code.into(),
        message,
    )))
}

/// The SQLSTATE a refusal or failure is reported with.
fn pg_error(e: &AccessError) -> PgWireError {
    let code = match e {
        AccessError::Denied(_) | AccessError::Sql(SqlError::Denied(_)) => "42501",
        AccessError::Limit(_) => "54000",
        AccessError::Busy(_) => "53000",
        AccessError::Sql(SqlError::Refused(_)) => "25006",
        AccessError::Sql(SqlError::NothingPublished | SqlError::NoRelease(_)) => "55000",
        AccessError::Sql(SqlError::Engine(e)) => match e.find_root() {
            DataFusionError::SQL(..) => "42601",
            DataFusionError::Plan(_) | DataFusionError::SchemaError(..) => "42000",
            DataFusionError::NotImplemented(_) => "0A000",
            _ => "XX000",
        },
    };
    user_error(code, e.to_string())
}

/// A copy of `base` whose catalog also holds `pg_catalog`, listing only the
/// tables of `base` (the user's readable ones). The copy has its own catalog
/// list, so the user's session itself is left as it was. `session_user` and
/// `current_user` name `user` (datafusion-pg-catalog's say `postgres`).
fn with_pg_catalog(base: &UserSession, user: &str) -> Result<UserSession, AccessError> {
    let state = base.ctx.state();
    let name = state.config().options().catalog.default_catalog.clone();
    let list = Arc::new(MemoryCatalogProviderList::new());
    for catalog_name in base.ctx.catalog_names() {
        let Some(old) = base.ctx.catalog(&catalog_name) else {
            continue;
        };
        let copy = Arc::new(MemoryCatalogProvider::new());
        for schema in old.schema_names() {
            if let Some(s) = old.schema(&schema) {
                copy.register_schema(&schema, s)?;
            }
        }
        list.register_catalog(catalog_name, copy);
    }
    let state = SessionStateBuilder::new_from_existing(state)
        .with_catalog_list(list)
        .build();
    let ctx = SessionContext::new_with_state(state);
    let engine = |e: Box<DataFusionError>| AccessError::from(*e);
    datafusion_pg_catalog::setup_pg_catalog(&ctx, &name, EmptyContextProvider).map_err(engine)?;
    // The masked tables are views; report them to pg_catalog as tables, so
    // psql's `\dt` (which lists relkind 'r') shows them.
    let pg = PgCatalogSchemaProvider::try_new(
        ReadableTables(ctx.state().catalog_list().clone()),
        Arc::new(PgCatalogStaticTables::try_new()?),
        EmptyContextProvider,
    )?;
    ctx.catalog(&name)
        .ok_or_else(|| DataFusionError::Internal(format!("no catalog `{name}`")))?
        .register_schema("pg_catalog", Arc::new(pg))?;
    for f in ["session_user", "current_user"] {
        let value = ScalarValue::Utf8(Some(user.to_string()));
        ctx.register_udf(create_udf(
            f,
            vec![],
            DataType::Utf8,
            Volatility::Stable,
            Arc::new(move |_: &[ColumnarValue]| Ok(ColumnarValue::Scalar(value.clone()))),
        ));
    }
    Ok(UserSession {
        ctx,
        release: base.release,
        denied: base.denied.clone(),
        masked: base.masked.clone(),
        tables: base.tables.clone(),
    })
}

/// The session's catalogs as `pg_catalog` sees them: views of published
/// tables are reported as tables.
#[derive(Clone, Debug)]
struct ReadableTables(Arc<dyn CatalogProviderList>);

#[async_trait]
impl CatalogInfo for ReadableTables {
    async fn catalog_names(&self) -> Result<Vec<String>, DataFusionError> {
        CatalogInfo::catalog_names(&self.0).await
    }

    async fn schema_names(&self, catalog: &str) -> Result<Option<Vec<String>>, DataFusionError> {
        CatalogInfo::schema_names(&self.0, catalog).await
    }

    async fn table_names(
        &self,
        catalog: &str,
        schema: &str,
    ) -> Result<Option<Vec<String>>, DataFusionError> {
        CatalogInfo::table_names(&self.0, catalog, schema).await
    }

    async fn table_schema(
        &self,
        catalog: &str,
        schema: &str,
        table: &str,
    ) -> Result<Option<arrow::datatypes::SchemaRef>, DataFusionError> {
        CatalogInfo::table_schema(&self.0, catalog, schema, table).await
    }

    async fn table_type(
        &self,
        catalog: &str,
        schema: &str,
        table: &str,
    ) -> Result<Option<TableType>, DataFusionError> {
        let t = CatalogInfo::table_type(&self.0, catalog, schema, table).await?;
        Ok(match t {
            Some(TableType::View) if schema != "pg_catalog" && schema != "information_schema" => {
                Some(TableType::Base)
            }
            other => other,
        })
    }
}

#[async_trait]
impl StartupHandler for Conn {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        use futures::SinkExt;
        match message {
            PgWireFrontendMessage::Startup(ref startup) => {
                protocol_negotiation(client, startup).await?;
                save_startup_parameters_to_metadata(client, startup);
                client.set_state(PgWireConnectionState::AuthenticationInProgress);
                client
                    .send(PgWireBackendMessage::Authentication(
                        Authentication::CleartextPassword,
                    ))
                    .await?;
            }
            PgWireFrontendMessage::PasswordMessageFamily(pwd) => {
                let t0 = Instant::now();
                let password = pwd.into_password()?.password;
                let name = client
                    .metadata()
                    .get(METADATA_USER)
                    .cloned()
                    .unwrap_or_default();
                let all = self.0.server.users.clone();
                let n = name.clone();
                // Argon2 is slow on purpose: keep it off the async workers.
                let found =
                    tokio::task::spawn_blocking(move || users::authenticate(&all, &n, &password))
                        .await
                        .ok()
                        .flatten();
                let hub = &self.0.server.hub;
                match found {
                    Some(user) => {
                        let who = Principal {
                            user: user.clone(),
                            interface: "pgwire".into(),
                            client: self.0.peer.clone(),
                        };
                        hub.record(&who, "login", "", 0, None, t0);
                        *self.0.user.lock().expect("lock") = Some(user);
                        let mut params = DefaultServerParameterProvider::default();
                        params.is_superuser = false;
                        params.default_transaction_read_only = true;
                        finish_authentication(client, &params).await?;
                    }
                    None => {
                        let who = Principal {
                            user: User {
                                name: if name.is_empty() {
                                    "-".into()
                                } else {
                                    name.clone()
                                },
                                department: String::new(),
                                role: String::new(),
                                password: String::new(),
                            },
                            interface: "pgwire".into(),
                            client: self.0.peer.clone(),
                        };
                        let e = AccessError::Denied(format!(
                            "password authentication failed for user \"{name}\""
                        ));
                        hub.record(&who, "login", "", 0, Some(&e), t0);
                        return Err(PgWireError::UserError(Box::new(ErrorInfo::new(
                            "FATAL".into(),
                            "28P01".into(),
                            format!("password authentication failed for user \"{name}\""),
                        ))));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

#[async_trait]
impl SimpleQueryHandler for Conn {
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let who = self.principal()?;
        let mut out = Vec::new();
        for (sql, action) in self.statements(query)? {
            // As PostgreSQL does: the statements before a failing one are
            // answered, the rest of the query is not run.
            match self.simple(client, &who, &sql, action).await {
                Ok(r) => out.push(r),
                Err(PgWireError::UserError(e)) if out.is_empty() => {
                    return Err(PgWireError::UserError(e));
                }
                Err(PgWireError::UserError(e)) => {
                    out.push(Response::Error(e));
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        if out.is_empty() {
            out.push(Response::EmptyQuery);
        }
        Ok(out)
    }
}

#[async_trait]
impl QueryParser for Conn {
    type Statement = Prepared;

    async fn parse_sql<C>(
        &self,
        _client: &C,
        sql: &str,
        _types: &[Option<Type>],
    ) -> PgWireResult<Option<Prepared>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let who = self.principal()?;
        let t0 = Instant::now();
        let mut statements = self.statements(sql)?;
        if statements.len() > 1 {
            let e = AccessError::Sql(SqlError::Refused(
                "one statement at a time in a prepared statement".into(),
            ));
            self.record_refusal(&who, sql, &e, t0);
            return Err(pg_error(&e));
        }
        let Some((sql, action)) = statements.pop() else {
            return Ok(Some(Prepared {
                sql: String::new(),
                kind: Kind::Empty,
            }));
        };
        let planned = |query: String| async move {
            let r = async {
                let df = self.plan(&who.user, &query).await?;
                let params = parameters(&df)?;
                Ok::<_, AccessError>((df, params))
            }
            .await;
            r.map_err(|e| {
                self.record_refusal(&who, &query, &e, t0);
                pg_error(&e)
            })
        };
        let kind = match action {
            Action::Answer(a) => Kind::Answer(a),
            Action::Fetch { name, count } => Kind::Fetch { name, count },
            Action::Close(name) => Kind::Close(name),
            Action::Sql => {
                let (df, params) = planned(sql.clone()).await?;
                Kind::Query { df, params }
            }
            Action::Declare(cursor, query) => {
                let (df, params) = planned(query.clone()).await?;
                Kind::Declare {
                    cursor,
                    query,
                    df,
                    params,
                }
            }
        };
        Ok(Some(Prepared { sql, kind }))
    }

    fn get_parameter_types(&self, stmt: &Prepared) -> PgWireResult<Vec<Type>> {
        Ok(match &stmt.kind {
            Kind::Query { params, .. } | Kind::Declare { params, .. } => params.wire.clone(),
            _ => Vec::new(),
        })
    }

    fn get_result_schema(
        &self,
        stmt: &Prepared,
        column_format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        let format = column_format.unwrap_or(&Format::UnifiedText);
        match &stmt.kind {
            Kind::Query { df, .. } => {
                let schema = df.schema().as_arrow();
                check_format(format, schema.fields().len())?;
                arrow_schema_to_pg_fields(schema, format, None)
            }
            Kind::Answer(Answer::Show(column, _)) => Ok(vec![show_field(column, format)]),
            // A FETCH described before the cursor exists (prepared ahead)
            // has no rows to describe yet.
            Kind::Fetch { name, .. } | Kind::Cursor(name) => {
                match self.cursor_fields(name, format) {
                    Ok(f) => Ok(f),
                    Err(_) if matches!(stmt.kind, Kind::Fetch { .. }) => Ok(Vec::new()),
                    Err(e) => Err(e),
                }
            }
            _ => Ok(Vec::new()),
        }
    }
}

#[async_trait]
impl ExtendedQueryHandler for Conn {
    type Statement = Prepared;
    type QueryParser = Conn;

    fn query_parser(&self) -> Arc<Conn> {
        Arc::new(self.clone())
    }

    /// Runs a bound portal. A row limit on `Execute` (`max_rows`) is kept
    /// by pgwire: the first `Execute` stores the [`Response::Query`] in the
    /// portal, sends `max_rows` rows and `PortalSuspended`, and the next
    /// ones continue from the rows left (see [`encode`]).
    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Prepared>,
        _max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let who = self.principal()?;
        let t0 = Instant::now();
        let stmt = &portal.statement.statement;
        let options = FormatOptions::from_client_metadata(client.metadata());
        match &stmt.kind {
            Kind::Empty => Ok(Response::EmptyQuery),
            Kind::Answer(a) => {
                self.transaction(a, client.portal_store());
                self.record_answer(&who, &stmt.sql, 0, t0);
                answer_response(a, &portal.result_column_format)
            }
            Kind::Query { df, params } => {
                let df = self.bind(&who, &stmt.sql, portal, df, params, t0)?;
                let (schema, batches) = self.run(&who, &stmt.sql, &stmt.sql, t0, df).await?;
                Ok(Response::Query(encode(
                    &schema,
                    batches,
                    &portal.result_column_format,
                    options,
                )?))
            }
            Kind::Declare {
                cursor,
                query,
                df,
                params,
            } => {
                if let Err(e) = self.check_declare(cursor) {
                    self.record_refusal(&who, &stmt.sql, &pg_refusal(&e), t0);
                    return Err(e);
                }
                let df = self.bind(&who, &stmt.sql, portal, df, params, t0)?;
                let (schema, batches) = self.run(&who, &stmt.sql, query, t0, df).await?;
                self.open_cursor(cursor, &stmt.sql, schema, batches, client.portal_store())?;
                Ok(Response::Execution(Tag::new("DECLARE CURSOR")))
            }
            Kind::Fetch { name, count } => {
                let (response, rows) =
                    self.fetch(name, *count, Some(&portal.result_column_format), options)?;
                self.record_answer(&who, &stmt.sql, rows, t0);
                Ok(Response::Query(response))
            }
            Kind::Cursor(name) => {
                let (response, rows) =
                    self.fetch(name, None, Some(&portal.result_column_format), options)?;
                self.record_answer(&who, &format!("FETCH ALL FROM {name}"), rows, t0);
                Ok(Response::Query(response))
            }
            Kind::Close(name) => {
                self.close(name.as_deref(), client.portal_store())?;
                self.record_answer(&who, &stmt.sql, 0, t0);
                Ok(Response::Execution(Tag::new("CLOSE CURSOR")))
            }
        }
    }
}

/// Answers a connection over the limit with a FATAL `53300` error once the
/// client has said who it is (declining TLS first), then closes it.
async fn refuse_connection(mut socket: TcpStream, max: usize) {
    let work = async {
        loop {
            let len = socket.read_i32().await? as usize;
            let mut body = vec![0u8; len.saturating_sub(4).min(1 << 16)];
            socket.read_exact(&mut body).await?;
            let code = body
                .get(..4)
                .map(|c| i32::from_be_bytes([c[0], c[1], c[2], c[3]]));
            // SSLRequest / GSSENCRequest: decline, the startup message follows.
            if matches!(code, Some(80877103) | Some(80877104)) {
                socket.write_all(b"N").await?;
                continue;
            }
            break;
        }
        let message = format!(
            "too many connections: the hub allows {max} at a time (access/policy.toml [limits] max-connections); try again later"
        );
        let mut fields = Vec::new();
        for (t, v) in [
            (b'S', "FATAL"),
            (b'V', "FATAL"),
            (b'C', "53300"),
            (b'M', message.as_str()),
        ] {
            fields.push(t);
            fields.extend_from_slice(v.as_bytes());
            fields.push(0);
        }
        fields.push(0);
        let mut msg = vec![b'E'];
        msg.extend_from_slice(&((fields.len() + 4) as i32).to_be_bytes());
        msg.extend_from_slice(&fields);
        socket.write_all(&msg).await?;
        socket.shutdown().await
    };
    let _ = tokio::time::timeout(Duration::from_secs(10), work).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int32Array;
    use arrow::datatypes::Field;

    #[test]
    fn regproc_literals_become_names() {
        let q =
            "SELECT typinput='pg_catalog.array_in'::regproc AS is_array FROM pg_catalog.pg_type";
        assert_eq!(
            regproc_names(q),
            "SELECT typinput = 'array_in' AS is_array FROM pg_catalog.pg_type"
        );
        let plain = "SELECT 1";
        assert!(matches!(
            regproc_names(plain),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn cursors_hand_out_rows_in_order_across_batches() {
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int32, false)]));
        let batch = |r: std::ops::Range<i32>| {
            RecordBatch::try_new(
                schema.clone(),
                vec![Arc::new(Int32Array::from_iter_values(r))],
            )
            .unwrap()
        };
        let mut c = Cursor {
            schema: schema.clone(),
            batches: vec![batch(0..4), batch(4..10)].into(),
            hold: false,
            binary: false,
        };
        let values = |bs: Vec<RecordBatch>| -> Vec<i32> {
            bs.iter()
                .flat_map(|b| {
                    b.column(0)
                        .as_any()
                        .downcast_ref::<Int32Array>()
                        .unwrap()
                        .values()
                        .to_vec()
                })
                .collect()
        };
        assert_eq!(values(c.take(Some(3))), vec![0, 1, 2]);
        assert_eq!(values(c.take(Some(3))), vec![3, 4, 5]);
        assert_eq!(values(c.take(Some(0))), Vec::<i32>::new());
        assert_eq!(values(c.take(None)), vec![6, 7, 8, 9]);
        assert!(c.take(Some(5)).is_empty());
    }

    #[test]
    fn fetch_directions_only_go_forward() {
        let parse = |sql: &str| {
            let s = PostgresCompatibilityParser::new().parse(sql).unwrap();
            match &s[0] {
                Statement::Fetch { direction, .. } => fetch_count(direction),
                other => panic!("{other}"),
            }
        };
        assert_eq!(parse("FETCH FORWARD 10 FROM \"c\"").unwrap(), Some(10));
        assert_eq!(parse("FETCH 5 FROM c").unwrap(), Some(5));
        assert_eq!(parse("FETCH NEXT FROM c").unwrap(), Some(1));
        assert_eq!(parse("FETCH FORWARD ALL FROM c").unwrap(), None);
        assert_eq!(parse("FETCH ALL FROM c").unwrap(), None);
        assert!(parse("FETCH BACKWARD 2 FROM c").is_err());
        assert!(parse("FETCH ABSOLUTE 2 FROM c").is_err());
    }

    #[test]
    fn result_formats_must_match_the_columns() {
        assert!(check_format(&Format::Individual(vec![0, 1]), 3).is_err());
        assert!(check_format(&Format::Individual(vec![0, 1, 1]), 3).is_ok());
        assert!(check_format(&Format::UnifiedBinary, 3).is_ok());
    }
}
