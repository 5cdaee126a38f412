//! civhub-serve: serving the hub to people — unified users, access by
//! sharing type, masking of personal information, and the audit log —
//! shared by `civhub sql --as-user` and the network endpoints.
//!
//! * [`users`]: `access/users.toml`, Argon2id password hashes.
//! * [`policy`]: `access/policy.toml`, roles, grants and limits.
//! * [`access`]: a session per user holding masked views of only the tables
//!   the user may read; refusals name the table.
//! * [`audit`]: the append-only audit log.
//! * [`exec`]: the runtime queries execute on, apart from the endpoints'
//!   network I/O, a bounded number at a time.
//! * [`pg`]: the PostgreSQL wire protocol endpoint of `civhub serve`.
//! * [`http`]: the HTTP API of `civhub serve` (bearer tokens, SQL, catalog,
//!   person 360° view, checks, service pre-fill).

pub mod access;
pub mod audit;
pub mod exec;
pub mod http;
pub mod pg;
pub mod policy;
pub mod users;

pub use access::{AccessError, Hub, Principal, UserSession};
