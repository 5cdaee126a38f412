//! The HTTP endpoint of `civhub serve` (axum): SQL, the catalog, the person
//! 360° view, cross-checks and the 老年证 pre-fill, over the same [`Hub`] —
//! and so the same per-user masked sessions, refusals and audit log — as
//! the PostgreSQL endpoint and `civhub sql --as-user`.
//!
//! Authentication is a bearer token from `POST /api/token` (name and
//! password, checked against the Argon2 hashes of `access/users.toml`).
//! Tokens are random, live in memory only (a restart logs everyone out)
//! and are kept as SHA-256 digests, so the table of live tokens holds
//! nothing a client could present. Every route but `GET /health` and
//! `POST /api/token` needs a valid token; nothing else is served to an
//! unauthenticated client. Requests in flight are capped at the policy's
//! `max-connections`; one over the cap is answered 503 at once rather than
//! queued, so a client learns to back off instead of timing out.
//!
//! Lookups (person, pre-fill, findings) are SQL run through the user's own
//! session, so the masking of the user's role applies to them exactly as
//! to a query. Values from the request are only ever embedded in that SQL
//! after [`literal`] has checked them, never as identifiers.

use crate::access::{AccessError, Hub, Principal, UserSession};
use crate::audit::Entry;
use crate::users::{self, User};
use arrow::record_batch::RecordBatch;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use civhub_ingest::config::Project;
use civhub_warehouse::browse::{BrowseError, Catalog};
use civhub_warehouse::session::{AsOf, SqlError, SqlSession};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::Semaphore;

/// How long a token is valid.
pub const TOKEN_HOURS: i64 = 8;

/// A live token: whose it is and until when.
struct Issued {
    user: User,
    expires: chrono::DateTime<chrono::Utc>,
}

/// What every handler shares.
#[derive(Clone)]
struct App {
    hub: Arc<Hub>,
    users: Arc<Vec<User>>,
    project: Arc<Project>,
    /// SHA-256 of the token → its holder.
    tokens: Arc<Mutex<HashMap<[u8; 32], Issued>>>,
    slots: Arc<Semaphore>,
    /// Check runs publish a release each: one at a time.
    check_runs: Arc<tokio::sync::Mutex<()>>,
    /// The catalog of the latest release (the same for every user).
    catalog: Arc<Mutex<Option<Arc<Catalog>>>>,
}

/// Serves the HTTP API on `listener` until `shutdown` turns true, then lets
/// requests in flight finish.
pub async fn serve(
    hub: Arc<Hub>,
    users: Arc<Vec<User>>,
    project: Arc<Project>,
    listener: tokio::net::TcpListener,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(hub.policy.limits.max_connections.max(1)));
    let app = App {
        hub,
        users,
        project,
        tokens: Arc::default(),
        slots,
        check_runs: Arc::default(),
        catalog: Arc::default(),
    };
    let authed = Router::new()
        .route("/api/sql", post(sql))
        .route("/api/catalog/search", get(catalog_search))
        .route("/api/catalog/datasets/{dataset}", get(catalog_dataset))
        .route("/api/persons/{id}", get(person))
        .route("/api/checks/{check}/run", post(check_run))
        .route("/api/checks/{check}/findings", get(findings))
        .route("/api/prefill/elderly-card", get(prefill_elderly_card))
        .route_layer(middleware::from_fn_with_state(app.clone(), authenticate));
    let api = Router::new()
        .route("/api/token", post(token))
        .merge(authed)
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(app.clone(), limit));
    let router = Router::new()
        .route("/health", get(health))
        .merge(api)
        .with_state(app);
    tracing::info!("HTTP API on http://{}", listener.local_addr()?);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        while !*shutdown.borrow() {
            if shutdown.changed().await.is_err() {
                break;
            }
        }
        tracing::info!("HTTP API: shutting down, letting requests in flight finish");
    })
    .await
}

/// An error as the client sees it: a status and `{"error", "hint"}`.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    message: String,
    hint: Option<String>,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            hint: None,
        }
    }

    fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"error": self.message, "hint": self.hint})),
        )
            .into_response()
    }
}

impl From<&AccessError> for ApiError {
    fn from(e: &AccessError) -> Self {
        match e {
            AccessError::Denied(_) => ApiError::new(StatusCode::FORBIDDEN, e.to_string()),
            AccessError::Limit(m) if m.contains("longer than") => {
                ApiError::new(StatusCode::REQUEST_TIMEOUT, m.clone())
            }
            AccessError::Limit(m) => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, m.clone()),
            AccessError::Busy(m) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, m.clone()).hint("retry in a moment")
            }
            AccessError::Sql(s) => ApiError::from(s),
        }
    }
}

impl From<AccessError> for ApiError {
    fn from(e: AccessError) -> Self {
        ApiError::from(&e)
    }
}

impl From<&SqlError> for ApiError {
    fn from(e: &SqlError) -> Self {
        match e {
            SqlError::NothingPublished => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "nothing is published yet")
                    .hint("run `civhub run` (or `civhub publish`) on the server")
            }
            SqlError::NoRelease(what) => {
                ApiError::new(StatusCode::NOT_FOUND, format!("no release {what}"))
            }
            SqlError::Refused(m) => ApiError::new(StatusCode::BAD_REQUEST, format!("refused: {m}"))
                .hint("only read-only statements run: queries, EXPLAIN, SHOW, DESCRIBE"),
            SqlError::Denied(_) => ApiError::new(StatusCode::FORBIDDEN, e.to_string()),
            SqlError::Engine(e) => ApiError::new(StatusCode::BAD_REQUEST, e.to_string()),
        }
    }
}

impl From<BrowseError> for ApiError {
    fn from(e: BrowseError) -> Self {
        let status = match &e {
            BrowseError::Sql(s) => return ApiError::from(s),
            BrowseError::UnknownDataset { .. } | BrowseError::UnknownDepartment { .. } => {
                StatusCode::NOT_FOUND
            }
            BrowseError::EmptyQuery => StatusCode::BAD_REQUEST,
        };
        ApiError {
            status,
            hint: e.hint(),
            message: e.to_string(),
        }
    }
}

type ApiResult = Result<Response, ApiError>;

/// Appends an entry to the audit log.
#[allow(clippy::too_many_arguments)]
fn record(
    app: &App,
    who: &Principal,
    action: &str,
    statement: &str,
    tables: Vec<String>,
    rows: u64,
    error: Option<&ApiError>,
    t0: Instant,
) {
    let who = Principal {
        interface: "http".into(),
        ..who.clone()
    };
    app.hub.audit.record(&Entry::new(
        &who,
        action,
        statement,
        tables,
        rows,
        error.map(|e| e.message.clone()),
        t0,
    ));
}

/// Audits a request refused before it reached an endpoint — for want of a
/// live token (401) or of a free request slot (503): action `request`, the
/// method and path as the statement (never the body: it is not read), the
/// token's user if it is live, else `-` (no name is known).
fn record_refused(app: &App, req: &Request, error: &ApiError) {
    let who = Principal {
        user: bearer(app, req.headers()).unwrap_or_else(|| User {
            name: "-".into(),
            department: String::new(),
            role: String::new(),
            password: String::new(),
        }),
        interface: "http".into(),
        client: client(req),
    };
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    record(
        app,
        &who,
        "request",
        &format!("{} {path}", req.method()),
        Vec::new(),
        0,
        Some(error),
        Instant::now(),
    );
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The holder of the request's bearer token, if it is live.
fn bearer(app: &App, headers: &HeaderMap) -> Option<User> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ")?.trim();
    let tokens = app.tokens.lock().expect("lock");
    let issued = tokens.get(&digest(token))?;
    (issued.expires > chrono::Utc::now()).then(|| issued.user.clone())
}

fn client(req: &Request) -> String {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.to_string())
        .unwrap_or_else(|| "-".into())
}

fn unauthenticated() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "authentication required: send `Authorization: Bearer <token>`",
    )
    .hint("get a token with `POST /api/token` and {\"name\": …, \"password\": …}; tokens expire")
}

/// Lets only requests with a live token through, as a [`Principal`].
async fn authenticate(State(app): State<App>, mut req: Request, next: Next) -> Response {
    let Some(user) = bearer(&app, req.headers()) else {
        let e = unauthenticated();
        record_refused(&app, &req, &e);
        return e.into_response();
    };
    let who = Principal {
        user,
        interface: "http".into(),
        client: client(&req),
    };
    req.extensions_mut().insert(who);
    next.run(req).await
}

/// Caps the requests in flight at the policy's `max-connections`.
async fn limit(State(app): State<App>, req: Request, next: Next) -> Response {
    match app.slots.clone().try_acquire_owned() {
        Ok(_permit) => next.run(req).await,
        Err(_) => {
            let e = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "the server is busy: {} requests are in flight, the limit (access/policy.toml [limits] max-connections)",
                    app.hub.policy.limits.max_connections
                ),
            )
            .hint("retry in a moment");
            record_refused(&app, &req, &e);
            e.into_response()
        }
    }
}

/// Unknown paths: 401 without a token (nothing is revealed, and the
/// request is audited as refused), else 404.
async fn fallback(State(app): State<App>, req: Request) -> ApiError {
    if bearer(&app, req.headers()).is_none() {
        let e = unauthenticated();
        record_refused(&app, &req, &e);
        return e;
    }
    ApiError::new(StatusCode::NOT_FOUND, "no such endpoint").hint(
        "endpoints: /api/sql, /api/catalog/search, /api/catalog/datasets/{dataset}, /api/persons/{id}, /api/checks/{check}/run, /api/checks/{check}/findings, /api/prefill/elderly-card",
    )
}

async fn health(State(app): State<App>) -> Json<Value> {
    let release = civhub_warehouse::release::current(&app.project.warehouse).map(|r| r.number);
    Json(json!({
        "status": if release.is_some() { "ok" } else { "nothing published" },
        "release": release,
        "version": env!("CARGO_PKG_VERSION"),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    name: String,
    password: String,
}

async fn token(
    State(app): State<App>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    body: Result<Json<Login>, JsonRejection>,
) -> ApiResult {
    let Json(login) = body.map_err(bad_body)?;
    let t0 = Instant::now();
    let users = app.users.clone();
    let name = login.name.clone();
    // Argon2 is deliberately slow: off the async workers.
    let user = tokio::task::spawn_blocking(move || {
        users::authenticate(&users, &login.name, &login.password)
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let who = |user: User| Principal {
        user,
        interface: "http".into(),
        client: addr.to_string(),
    };
    let Some(user) = user else {
        let e = ApiError::new(StatusCode::UNAUTHORIZED, "wrong user name or password");
        let unknown = User {
            name,
            department: "-".into(),
            role: "-".into(),
            password: String::new(),
        };
        record(
            &app,
            &who(unknown),
            "login",
            "POST /api/token",
            vec![],
            0,
            Some(&e),
            t0,
        );
        return Err(e);
    };
    let mut bytes = [0u8; 32];
    password_hash::rand_core::RngCore::fill_bytes(&mut password_hash::rand_core::OsRng, &mut bytes);
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let expires = chrono::Utc::now() + chrono::Duration::hours(TOKEN_HOURS);
    {
        let mut tokens = app.tokens.lock().expect("lock");
        let now = chrono::Utc::now();
        tokens.retain(|_, t| t.expires > now);
        tokens.insert(
            digest(&token),
            Issued {
                user: user.clone(),
                expires,
            },
        );
    }
    record(
        &app,
        &who(user),
        "login",
        "POST /api/token",
        vec![],
        0,
        None,
        t0,
    );
    Ok(Json(json!({
        "token": token,
        "expires_at": expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }))
    .into_response())
}

fn bad_body(e: JsonRejection) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, e.body_text())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SqlRequest {
    sql: String,
    #[serde(default)]
    format: Option<String>,
}

async fn sql(
    State(app): State<App>,
    Extension(who): Extension<Principal>,
    body: Result<Json<SqlRequest>, JsonRejection>,
) -> ApiResult {
    let Json(q) = body.map_err(bad_body)?;
    let format = q.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "csv") {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("unknown format `{format}`"),
        )
        .hint("`json` (the default) or `csv`"));
    }
    let batches = app.hub.query(&who, &q.sql, &AsOf::Latest).await?;
    if format == "csv" {
        let mut buf = Vec::new();
        {
            let mut w = arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut buf);
            for b in &batches {
                w.write(b).map_err(internal)?;
            }
        }
        return Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], buf).into_response());
    }
    let columns: Vec<String> = batches
        .first()
        .map(|b| {
            b.schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect()
        })
        .unwrap_or_default();
    let rows = json_rows(&batches)?;
    Ok(Json(json!({"columns": columns, "row_count": rows.len(), "rows": rows})).into_response())
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

/// Rows as JSON objects (nulls kept, so every row has every column).
fn json_rows(batches: &[RecordBatch]) -> Result<Vec<Map<String, Value>>, ApiError> {
    let mut w = arrow::json::WriterBuilder::new()
        .with_explicit_nulls(true)
        .build::<_, arrow::json::writer::JsonArray>(Vec::new());
    for b in batches {
        w.write(b).map_err(internal)?;
    }
    w.finish().map_err(internal)?;
    let bytes = w.into_inner();
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    let v: Vec<Value> = serde_json::from_slice(&bytes).map_err(internal)?;
    Ok(v.into_iter()
        .filter_map(|r| match r {
            Value::Object(m) => Some(m),
            _ => None,
        })
        .collect())
}

/// Runs a lookup's SQL through the user's session, within the limits.
async fn rows(
    app: &App,
    session: &UserSession,
    sql: &str,
) -> Result<Vec<Map<String, Value>>, ApiError> {
    let df = session.plan(sql).await?;
    let batches = app.hub.collect(df).await?;
    json_rows(&batches)
}

/// `value` as an SQL string literal, refused when it holds anything a name,
/// an id or a place never does (quotes, backslashes, control characters).
fn literal(what: &str, value: &str) -> Result<String, ApiError> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > 100 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("`{what}` must be 1 to 100 characters"),
        ));
    }
    if v.chars()
        .any(|c| c.is_control() || matches!(c, '\'' | '"' | '\\' | ';'))
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "`{what}` holds characters no {what} has (quotes, backslashes, `;` or control characters)"
            ),
        ));
    }
    Ok(format!("'{v}'"))
}

/// The catalog of the user's release, read through the user's session.
async fn catalog_of(app: &App, s: &UserSession) -> Result<Arc<Catalog>, ApiError> {
    if let Some(c) = app.catalog.lock().expect("lock").as_ref()
        && c.release == s.release
    {
        return Ok(c.clone());
    }
    let release = civhub_warehouse::release::get(&app.project.warehouse, s.release)
        .ok_or_else(|| ApiError::from(&SqlError::NoRelease(s.release.to_string())))?;
    let session = SqlSession {
        ctx: s.ctx.clone(),
        release,
        restricted: BTreeMap::new(),
    };
    let c = Arc::new(Catalog::load(&session, true).await?);
    *app.catalog.lock().expect("lock") = Some(c.clone());
    Ok(c)
}

/// Whether the user may read the dataset's table (`null` when it has none).
fn readable(c: &Catalog, s: &UserSession, dataset: &str) -> Value {
    match c.find(dataset).ok().and_then(|d| d.table_name.as_deref()) {
        Some(t) => Value::Bool(s.tables.contains(t)),
        None => Value::Null,
    }
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

async fn catalog_search(
    State(app): State<App>,
    Extension(who): Extension<Principal>,
    Query(p): Query<SearchQuery>,
) -> ApiResult {
    let t0 = Instant::now();
    let result = async {
        let s = app.hub.session(&who.user, &AsOf::Latest).await?;
        let c = catalog_of(&app, &s).await?;
        let hits = c.search(&p.q)?;
        let hits: Vec<Value> = hits
            .iter()
            .map(|h| {
                let mut v = serde_json::to_value(h).unwrap_or(Value::Null);
                v["readable"] = readable(&c, &s, &h.dataset);
                v
            })
            .collect();
        Ok::<_, ApiError>(json!({"query": p.q, "release": c.release, "hits": hits}))
    }
    .await;
    let n = result
        .as_ref()
        .map(|v| v["hits"].as_array().map_or(0, Vec::len))
        .unwrap_or(0);
    let statement = format!("catalog search {}", p.q);
    record(
        &app,
        &who,
        "lookup",
        &statement,
        vec![],
        n as u64,
        result.as_ref().err(),
        t0,
    );
    Ok(Json(result?).into_response())
}

async fn catalog_dataset(
    State(app): State<App>,
    Extension(who): Extension<Principal>,
    Path(dataset): Path<String>,
) -> ApiResult {
    let s = app.hub.session(&who.user, &AsOf::Latest).await?;
    let c = catalog_of(&app, &s).await?;
    let view = c.show(&dataset)?;
    let mut v = serde_json::to_value(&view).map_err(internal)?;
    v["readable"] = readable(&c, &s, &view.dataset.dataset);
    Ok(Json(v).into_response())
}

/// Runs a lookup and audits it as `lookup` with the SQL it ran.
async fn lookup<F, Fut>(app: &App, who: &Principal, what: &str, work: F) -> ApiResult
where
    F: FnOnce(Arc<UserSession>, Vec<String>) -> Fut,
    Fut: std::future::Future<Output = Result<(Value, Vec<String>, u64), ApiError>>,
{
    let t0 = Instant::now();
    let result = async {
        let s = app.hub.session(&who.user, &AsOf::Latest).await?;
        work(s, Vec::new()).await
    }
    .await;
    let (tables, rows) = match &result {
        Ok((_, sqls, n)) => (
            sqls.iter()
                .flat_map(|q| crate::access::tables_named(q))
                .collect(),
            *n,
        ),
        Err(_) => (vec![], 0),
    };
    let mut tables: Vec<String> = tables;
    tables.sort();
    tables.dedup();
    record(
        app,
        who,
        "lookup",
        what,
        tables,
        rows,
        result.as_ref().err(),
        t0,
    );
    result.map(|(v, _, _)| Json(v).into_response())
}

/// A golden id (`P…`) or a resident ID, upper-cased.
fn person_id(id: &str) -> Result<String, ApiError> {
    let id = id.trim().to_uppercase();
    if id.is_empty() || id.len() > 32 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("`{id}` is neither a golden id nor a resident ID"),
        ));
    }
    Ok(id)
}

async fn person(
    State(app): State<App>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult {
    let id = person_id(&id)?;
    let what = format!("person {id}");
    let a = app.clone();
    lookup(&app, &who, &what, |s, mut sqls| async move {
        let app = a;
        let q = format!("SELECT * FROM population.person WHERE gid = '{id}' OR id_number = '{id}' ORDER BY gid");
        let found = rows(&app, &s, &q).await?;
        sqls.push(q);
        let Some(golden) = found.first() else {
            let mut e = ApiError::new(StatusCode::NOT_FOUND, format!("no person `{id}`"));
            if s.masked.get("population.person").is_some_and(|m| m.contains_key("id_number")) {
                e = e.hint("your role sees resident IDs masked, so it can look people up only by golden id");
            }
            return Err(e);
        };
        if found.len() > 1 {
            let gids: Vec<&Value> = found.iter().map(|r| &r["gid"]).collect();
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("`{id}` is the resident ID of {} golden records", found.len()),
            )
            .hint(format!("look up one golden id: {}", json!(gids))));
        }
        let gid = golden["gid"].as_str().unwrap_or_default().to_string();
        let q = format!(
            "SELECT * FROM population.person_xref WHERE gid = '{gid}' ORDER BY dataset, source_file, source_row"
        );
        let mentions = rows(&app, &s, &q).await?;
        sqls.push(q);
        let n = 1 + mentions.len() as u64;
        let masked = s.masked.get("population.person").cloned().unwrap_or_default();
        Ok((
            json!({"person": golden, "mentions": mentions, "masked_columns": masked, "release": s.release}),
            sqls,
            n,
        ))
    })
    .await
}

#[derive(Deserialize)]
struct PrefillQuery {
    name: String,
    birthplace: String,
}

/// Whole years from `birth` (YYYY-MM-DD) to today.
fn age(birth: &Value) -> Value {
    let Some(b) = birth
        .as_str()
        .and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
    else {
        return Value::Null;
    };
    match chrono::Local::now().date_naive().years_since(b) {
        Some(y) => json!(y),
        None => Value::Null,
    }
}

/// The 老年证 (elderly card) application pre-fill: name + original
/// household-registration place → age, gender, address, photo reference.
///
/// A service of the hub, not a query of the caller's: the name and place
/// are matched on the real values inside the server (a role that sees names
/// masked could never match them through its own session), over the tables
/// the caller may read. What is returned is then read through the caller's
/// own session, by golden id, so every field comes back masked exactly as
/// the role requires. The lookup is audited with both statements.
async fn prefill_elderly_card(
    State(app): State<App>,
    Extension(who): Extension<Principal>,
    Query(p): Query<PrefillQuery>,
) -> ApiResult {
    let name = literal("name", &p.name)?;
    let place = literal("birthplace", &p.birthplace)?;
    let what = format!(
        "prefill elderly-card name={} birthplace={}",
        p.name.trim(),
        p.birthplace.trim()
    );
    let a = app.clone();
    lookup(&app, &who, &what, |s, mut sqls| async move {
        let app = a;
        if let Some(why) = s.denied.get("population.person") {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("permission denied: you may not read `population.person`: {why}"),
            ));
        }
        let reads = |t: &str| s.tables.contains(t);
        let members = reads("population.household_member");
        let register = reads("public_security.household_registration");
        let cards = reads("civil_affairs.elderly_card");
        // 1. Who matches: on the real values, over the readable tables only.
        let mut joins = String::new();
        let mut places = format!("starts_with(p.address, {place})");
        if members {
            joins.push_str(" LEFT JOIN population.household_member h ON h.person_gid = p.gid");
            places.push_str(&format!(" OR strpos({place}, h.district) > 0"));
        }
        if register {
            joins.push_str(
                " LEFT JOIN public_security.household_registration r ON r.person_gid = p.gid",
            );
            places.push_str(&format!(
                " OR starts_with(r.address, {place}) OR strpos({place}, r.district) > 0"
            ));
        }
        let q = format!(
            "SELECT DISTINCT p.gid FROM population.person p{joins} \
             WHERE p.name = {name} AND ({places}) ORDER BY p.gid LIMIT {MAX_MATCHES}"
        );
        let raw = app.hub.raw_latest().await?;
        let df = raw.ctx.sql(&q).await.map_err(AccessError::from)?;
        let gids: Vec<String> = json_rows(&app.hub.collect(df).await?)?
            .iter()
            .filter_map(|r| r["gid"].as_str().map(str::to_string))
            .collect();
        sqls.push(q);
        if gids.is_empty() {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!("no person named {name} registered in {place}"),
            )
            .hint("the place is a district (歙县), a longer place containing it (黄山市歙县) or the start of the address"));
        }
        // 2. What is returned: through the caller's session, masked for the role.
        let ids: Vec<String> = gids
            .iter()
            .map(|g| literal("gid", g))
            .collect::<Result<_, _>>()?;
        let null = "CAST(NULL AS VARCHAR)";
        let (member_cols, member_join) = if members {
            (
                "h.district AS registered_district, h.household_no".to_string(),
                " LEFT JOIN population.household_member h ON h.person_gid = p.gid",
            )
        } else {
            (format!("{null} AS registered_district, {null} AS household_no"), "")
        };
        let (card_cols, card_join) = if cards {
            (
                "e.license_no AS elderly_card_no, e.photo_ref".to_string(),
                " LEFT JOIN civil_affairs.elderly_card e ON e.person_gid = p.gid",
            )
        } else {
            (format!("{null} AS elderly_card_no, {null} AS photo_ref"), "")
        };
        let q = format!(
            "SELECT p.gid, p.name, p.gender, p.birth_date, p.address, {member_cols}, {card_cols} \
             FROM population.person p{member_join}{card_join} \
             WHERE p.gid IN ({}) ORDER BY p.gid, elderly_card_no",
            ids.join(", ")
        );
        let found = rows(&app, &s, &q).await?;
        sqls.push(q);
        let mut by_gid: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
        for r in found {
            let gid = r["gid"].as_str().unwrap_or_default().to_string();
            let e = by_gid.entry(gid).or_insert_with(|| {
                let mut m = r.clone();
                // NULL where the role sees birth dates masked: an age is one.
                m.insert("age".into(), age(&r["birth_date"]));
                m
            });
            if e["photo_ref"].is_null() && !r["photo_ref"].is_null() {
                e.insert("photo_ref".into(), r["photo_ref"].clone());
                e.insert("elderly_card_no".into(), r["elderly_card_no"].clone());
            }
        }
        let n = by_gid.len() as u64;
        let matches: Vec<Map<String, Value>> = by_gid.into_values().collect();
        let masked: BTreeMap<&str, _> = [
            "population.person",
            "population.household_member",
            "civil_affairs.elderly_card",
        ]
        .into_iter()
        .filter_map(|t| Some((t, s.masked.get(t)?)))
        .collect();
        let unreadable: Vec<&str> = [
            ("population.household_member", members),
            ("civil_affairs.elderly_card", cards),
        ]
        .into_iter()
        .filter(|(_, r)| !r)
        .map(|(t, _)| t)
        .collect();
        Ok((
            json!({
                "name": p.name.trim(),
                "birthplace": p.birthplace.trim(),
                "matches": matches,
                "masked_columns": masked,
                "not_readable": unreadable,
                "release": s.release,
            }),
            sqls,
            n,
        ))
    })
    .await
}

/// At most this many people are returned for one name and place.
const MAX_MATCHES: usize = 50;

/// A check id as written in `pipelines/checks/` (letters, digits, `_`).
fn check_id(id: &str) -> Result<String, ApiError> {
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("`{id}` is not a check id"),
        ));
    }
    Ok(id.to_string())
}

fn load_check(app: &App, id: &str) -> Result<civhub_checks::Check, ApiError> {
    let id = check_id(id)?;
    civhub_checks::config::load(&app.project, &id).map_err(|_| {
        ApiError::new(StatusCode::NOT_FOUND, format!("no check `{id}`")).hint(format!(
            "checks: {}",
            civhub_checks::config::list(&app.project).join(", ")
        ))
    })
}

/// Published tables a check reads (placeholders blanked so its SQL parses).
pub fn tables_read(check: &civhub_checks::Check) -> Vec<String> {
    let mut sqls: Vec<&str> = vec![check.subjects.sql.get_ref().as_str()];
    sqls.extend(check.definitions.iter().map(|(_, s)| s.as_str()));
    sqls.extend(check.rules.iter().map(|r| r.sql.as_str()));
    let mut out: Vec<String> = Vec::new();
    for sql in sqls {
        let mut plain = String::with_capacity(sql.len());
        let mut last = 0;
        for (_, _, at) in civhub_checks::config::placeholders(sql) {
            plain.push_str(&sql[last..at]);
            plain.push_str("NULL");
            last = at + sql[at..].find('}').map_or(sql.len() - at, |j| j + 1);
        }
        plain.push_str(&sql[last..]);
        out.extend(
            crate::access::tables_named(&plain)
                .into_iter()
                .filter(|t| t.contains('.')),
        );
    }
    out.sort();
    out.dedup();
    out
}

#[derive(Deserialize)]
struct RunQuery {
    district: Option<String>,
    household: Option<String>,
    /// YYYY-MM-DD; today without it.
    date: Option<String>,
}

async fn check_run(
    State(app): State<App>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    Query(p): Query<RunQuery>,
) -> ApiResult {
    let t0 = Instant::now();
    let check = load_check(&app, &id)?;
    let tables = tables_read(&check);
    let statement = crate::audit::check_statement(
        &check.id,
        false,
        p.district.as_deref(),
        p.household.as_deref(),
    );
    let result = run_check(&app, &who, &check, &tables, &p).await;
    let rows = result
        .as_ref()
        .map(|v| v["findings"].as_u64().unwrap_or(0))
        .unwrap_or(0);
    record(
        &app,
        &who,
        "check",
        &statement,
        tables,
        rows,
        result.as_ref().err(),
        t0,
    );
    Ok(Json(result?).into_response())
}

async fn run_check(
    app: &App,
    who: &Principal,
    check: &civhub_checks::Check,
    tables: &[String],
    p: &RunQuery,
) -> Result<Value, ApiError> {
    let s = app.hub.session(&who.user, &AsOf::Latest).await?;
    // Only users who may read everything the check reads, and its results.
    for t in tables {
        if let Some(why) = s.denied.get(t) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "permission denied: check `{}` reads `{t}`, which you may not read: {why}",
                    check.id
                ),
            ));
        }
    }
    let findings = civhub_checks::store::table_names(&check.id)[2].clone();
    let role = app.hub.policy.roles.get(&who.user.role);
    let granted = role.is_some_and(|r| r.all_tables)
        || app
            .hub
            .policy
            .grants
            .iter()
            .any(|g| g.covers(&findings, &who.user.role, &who.user.department));
    if !granted {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "permission denied: no grant in access/policy.toml gives role `{}` of department `{}` the results of check `{}` (`{findings}`)",
                who.user.role, who.user.department, check.id
            ),
        ));
    }
    let date = match &p.date {
        Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
            ApiError::new(StatusCode::BAD_REQUEST, format!("`{d}` is not a date"))
                .hint("YYYY-MM-DD")
        })?,
        None => chrono::Local::now().date_naive(),
    };
    let opts = civhub_checks::Options {
        district: p.district.clone(),
        household: p.household.clone(),
        as_of: AsOf::Latest,
        date,
        keep_evaluations: false,
    };
    let _one_at_a_time = app.check_runs.lock().await;
    let run = civhub_checks::evaluate(&app.project, check, &opts)
        .await
        .map_err(|e| match e {
            civhub_checks::CheckError::Sql(s) => ApiError::from(&s),
            civhub_checks::CheckError::Scope { message, hint } => ApiError {
                status: StatusCode::BAD_REQUEST,
                message,
                hint,
            },
            other => internal(other),
        })?;
    let dir = civhub_checks::report::default_dir(&app.project.warehouse, &run);
    let (c, r) = (check.clone(), run.clone());
    let (xlsx, html) =
        tokio::task::spawn_blocking(move || civhub_checks::report::write(&c, &r, &dir))
            .await
            .map_err(internal)?
            .map_err(internal)?;
    let published =
        civhub_checks::store::publish(&app.project, &run, Some(&xlsx.display().to_string()))
            .await
            .map_err(|e| internal(format!("cannot publish the findings: {e}")))?;
    Ok(json!({
        "check": run.check,
        "run_id": run.run_id,
        "check_date": run.check_date,
        "release": run.release,
        "published_release": published,
        "district": run.district,
        "household": run.household,
        "households_checked": run.households.len(),
        "households_flagged": run.flagged(),
        "findings": run.findings.len(),
        "new": run.count_state("new"),
        "unchanged": run.count_state("unchanged"),
        "resolved": run.resolved.len(),
        "report_xlsx": xlsx.display().to_string(),
        "report_html": html.display().to_string(),
        "duration_ms": run.duration_ms,
    }))
}

#[derive(Deserialize)]
struct FindingsQuery {
    household: Option<String>,
}

async fn findings(
    State(app): State<App>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    Query(p): Query<FindingsQuery>,
) -> ApiResult {
    let check = load_check(&app, &id)?;
    let table = civhub_checks::store::table_names(&check.id)[2].clone();
    let s = app.hub.session(&who.user, &AsOf::Latest).await?;
    if !s.tables.contains(&table) && !s.denied.contains_key(&table) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("check `{}` has not been run yet", check.id),
        )
        .hint(format!("`POST /api/checks/{}/run` runs it", check.id)));
    }
    let household = match &p.household {
        Some(h) => format!(" AND household_id = {}", literal("household", h)?),
        None => String::new(),
    };
    let q = format!(
        "SELECT * FROM {table} WHERE run_id = (SELECT max(run_id) FROM {table}){household} ORDER BY household_id, finding_id"
    );
    let batches = app.hub.query(&who, &q, &AsOf::Latest).await?;
    let rows = json_rows(&batches)?;
    Ok(Json(json!({"check": check.id, "household": p.household, "row_count": rows.len(), "findings": rows}))
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_refuse_what_could_end_a_string() {
        assert_eq!(literal("name", " 张三 ").unwrap(), "'张三'");
        assert!(literal("name", "a' OR '1'='1").is_err());
        assert!(literal("name", "a\\").is_err());
        assert!(literal("name", "").is_err());
        assert!(person_id("p1'--").is_err());
        assert_eq!(
            person_id("34102219650518656x").unwrap(),
            "34102219650518656X"
        );
    }

    #[test]
    fn tokens_are_kept_only_as_digests() {
        assert_ne!(digest("a"), digest("b"));
        assert_eq!(digest("a").len(), 32);
    }
}
