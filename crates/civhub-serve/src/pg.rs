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

use crate::access::{AccessError, Hub, Principal, UserSession, collect_limited};
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
use datafusion::dataframe::DataFrame;
use datafusion::datasource::TableType;
use datafusion::error::DataFusionError;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::Statement;
use datafusion_pg_catalog::pg_catalog::catalog_info::CatalogInfo;
use datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
use datafusion_pg_catalog::pg_catalog::{PgCatalogSchemaProvider, PgCatalogStaticTables};
use datafusion_pg_catalog::sql::PostgresCompatibilityParser;
use futures::Sink;
use pgwire::api::auth::{
    DefaultServerParameterProvider, StartupHandler, finish_authentication, protocol_negotiation,
    save_startup_parameters_to_metadata,
};
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{DataRowEncoder, FieldInfo, QueryResponse, Response, Tag};
use pgwire::api::stmt::QueryParser;
use pgwire::api::store::PortalStore;
use pgwire::api::{
    ClientInfo, ClientPortalStore, METADATA_USER, PgWireConnectionState, PgWireServerHandlers, Type,
};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::startup::Authentication;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use pgwire::types::format::FormatOptions;
use std::collections::HashMap;
use std::fmt::Debug;
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
        inferred: Vec<Option<DataType>>,
        wire: Vec<Type>,
    },
}

/// A session statement answered without running anything.
#[derive(Clone, Debug)]
enum Answer {
    Set,
    Begin,
    End(&'static str),
    Show(String, String),
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
        let s = Arc::new(with_pg_catalog(&base)?);
        let mut sessions = server.sessions.lock().expect("lock");
        sessions.retain(|k, _| k.0 == key.0);
        sessions.insert(key, s.clone());
        Ok(s)
    }

    /// Splits a simple query into statements: each either answered here or
    /// SQL for the session. A query the PostgreSQL parser cannot read goes
    /// to the session whole (which reports the error).
    fn statements(&self, query: &str) -> PgWireResult<Vec<(String, Option<Answer>)>> {
        match self.0.server.parser.parse(query) {
            Ok(statements) => statements
                .into_iter()
                .map(|s| Ok((s.to_string(), self.answer(&s)?)))
                .collect(),
            Err(_) => Ok(vec![(query.to_string(), None)]),
        }
    }

    /// The answer to a session statement, or `None` for SQL to plan.
    fn answer(&self, s: &Statement) -> PgWireResult<Option<Answer>> {
        Ok(match s {
            Statement::Set(_) => Some(Answer::Set),
            Statement::StartTransaction { .. } => Some(Answer::Begin),
            Statement::Commit { .. } => Some(Answer::End("COMMIT")),
            Statement::Rollback { .. } => Some(Answer::End("ROLLBACK")),
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
                Some(Answer::Show(column.into(), value))
            }
            _ => None,
        })
    }

    /// Plans `sql` in the user's session (the read-only and access checks).
    async fn plan(&self, user: &User, sql: &str) -> Result<DataFrame, AccessError> {
        self.session(user).await?.plan(sql).await
    }

    /// Runs a planned statement within the limits and audits it.
    async fn run(
        &self,
        who: &Principal,
        sql: &str,
        t0: Instant,
        df: Result<DataFrame, AccessError>,
    ) -> PgWireResult<(Arc<Schema>, Vec<RecordBatch>)> {
        let _running = self.0.server.running.read().await;
        let hub = &self.0.server.hub;
        let result = match df {
            Ok(df) => {
                let schema = Arc::new(df.schema().as_arrow().clone());
                collect_limited(df, &hub.policy.limits)
                    .await
                    .map(|b| (schema, b))
            }
            Err(e) => Err(e),
        };
        let rows = result
            .as_ref()
            .map(|(_, b)| b.iter().map(|b| b.num_rows() as u64).sum())
            .unwrap_or(0);
        hub.record(who, "query", sql, rows, result.as_ref().err(), t0);
        result.map_err(|e| pg_error(&e))
    }

    fn record_answer(&self, who: &Principal, sql: &str) {
        self.0
            .server
            .hub
            .record(who, "query", sql, 0, None, Instant::now());
    }
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

fn encode(
    schema: &Schema,
    batches: Vec<RecordBatch>,
    format: &Format,
    options: FormatOptions,
) -> PgWireResult<QueryResponse> {
    let fields = Arc::new(arrow_schema_to_pg_fields(
        schema,
        format,
        Some(Arc::new(options)),
    )?);
    let rows: Vec<PgWireResult<_>> = batches
        .into_iter()
        .flat_map(|b| encode_recordbatch(fields.clone(), b))
        .collect();
    Ok(QueryResponse::new(fields, futures::stream::iter(rows)))
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
        AccessError::Denied(_) => "42501",
        AccessError::Limit(_) => "54000",
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
/// list, so the user's session itself is left as it was.
fn with_pg_catalog(base: &UserSession) -> Result<UserSession, AccessError> {
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
        for (sql, answer) in self.statements(query)? {
            if let Some(a) = answer {
                self.record_answer(&who, &sql);
                out.push(answer_response(&a, &Format::UnifiedText)?);
                continue;
            }
            let t0 = Instant::now();
            let df = self.plan(&who.user, &sql).await;
            let (schema, batches) = self.run(&who, &sql, t0, df).await?;
            let options = FormatOptions::from_client_metadata(client.metadata());
            out.push(Response::Query(encode(
                &schema,
                batches,
                &Format::UnifiedText,
                options,
            )?));
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
        let mut statements = self.statements(sql)?;
        if statements.len() > 1 {
            let e = AccessError::Sql(SqlError::Refused(
                "one statement at a time in a prepared statement".into(),
            ));
            self.0
                .server
                .hub
                .record(&who, "query", sql, 0, Some(&e), Instant::now());
            return Err(pg_error(&e));
        }
        let Some((sql, answer)) = statements.pop() else {
            return Ok(Some(Prepared {
                sql: String::new(),
                kind: Kind::Empty,
            }));
        };
        if let Some(a) = answer {
            return Ok(Some(Prepared {
                sql,
                kind: Kind::Answer(a),
            }));
        }
        let t0 = Instant::now();
        let df = match self.plan(&who.user, &sql).await {
            Ok(df) => df,
            Err(e) => {
                self.0
                    .server
                    .hub
                    .record(&who, "query", &sql, 0, Some(&e), t0);
                return Err(pg_error(&e));
            }
        };
        let mut params: Vec<(usize, Option<DataType>)> = df
            .logical_plan()
            .get_parameter_types()
            .map_err(|e| pg_error(&e.into()))?
            .into_iter()
            .filter_map(|(k, v)| Some((k.trim_start_matches('$').parse().ok()?, v)))
            .collect();
        params.sort_by_key(|(i, _)| *i);
        let mut inferred = Vec::new();
        let mut wire = Vec::new();
        for (_, t) in params {
            wire.push(match &t {
                Some(t) => into_pg_type(t).unwrap_or(Type::UNKNOWN),
                None => Type::UNKNOWN,
            });
            inferred.push(t);
        }
        Ok(Some(Prepared {
            sql,
            kind: Kind::Query { df, inferred, wire },
        }))
    }

    fn get_parameter_types(&self, stmt: &Prepared) -> PgWireResult<Vec<Type>> {
        Ok(match &stmt.kind {
            Kind::Query { wire, .. } => wire.clone(),
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
                arrow_schema_to_pg_fields(df.schema().as_arrow(), format, None)
            }
            Kind::Answer(Answer::Show(column, _)) => Ok(vec![show_field(column, format)]),
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
        let stmt = &portal.statement.statement;
        match &stmt.kind {
            Kind::Empty => Ok(Response::EmptyQuery),
            Kind::Answer(a) => {
                self.record_answer(&who, &stmt.sql);
                answer_response(a, &portal.result_column_format)
            }
            Kind::Query { df, inferred, wire } => {
                let t0 = Instant::now();
                let inferred: Vec<Option<&DataType>> =
                    inferred.iter().map(|t| t.as_ref()).collect();
                let wire: Vec<Option<&Type>> = wire.iter().map(Some).collect();
                let df = match deserialize_parameters_with_server_types(portal, &inferred, &wire) {
                    Ok(_) if portal.parameter_len() == 0 => Ok(df.clone()),
                    Ok(values) => df
                        .clone()
                        .with_param_values(values)
                        .map_err(AccessError::from),
                    Err(e) => {
                        let e = AccessError::Sql(SqlError::Engine(DataFusionError::Execution(
                            format!("cannot read the parameters: {e}"),
                        )));
                        self.0
                            .server
                            .hub
                            .record(&who, "query", &stmt.sql, 0, Some(&e), t0);
                        return Err(pg_error(&e));
                    }
                };
                let (schema, batches) = self.run(&who, &stmt.sql, t0, df).await?;
                let options = FormatOptions::from_client_metadata(client.metadata());
                Ok(Response::Query(encode(
                    &schema,
                    batches,
                    &portal.result_column_format,
                    options,
                )?))
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
