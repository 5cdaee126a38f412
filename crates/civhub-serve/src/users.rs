//! Unified users: `access/users.toml` in the project — name, department,
//! role and an Argon2id password hash (never the password). Written by
//! `civhub user add`; read by every interface that authenticates.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use civhub_ingest::config::Project;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// A user.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// Login name.
    pub name: String,
    /// Department id (a key of civhub.toml's `[departments]`).
    pub department: String,
    /// Role (a key of the policy's `[roles]`).
    pub role: String,
    /// Argon2id hash in PHC string form.
    pub password: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct UsersFile {
    #[serde(default)]
    users: Vec<User>,
}

/// Where a project's users live.
pub fn path(project: &Project) -> PathBuf {
    project.root.join("access").join("users.toml")
}

/// Every user (none when the file does not exist).
pub fn load(project: &Project) -> Result<Vec<User>, String> {
    let p = path(project);
    let text = match fs_err::read_to_string(&p) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.to_string()),
    };
    let f: UsersFile =
        toml::from_str(&text).map_err(|e| format!("{}: {}", p.display(), e.message()))?;
    Ok(f.users)
}

/// The Argon2id hash of `password`, with a fresh random salt.
pub fn hash(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches the user's hash.
pub fn verify(user: &User, password: &str) -> bool {
    PasswordHash::new(&user.password)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// The user `name` if `password` is theirs.
pub fn authenticate(users: &[User], name: &str, password: &str) -> Option<User> {
    users
        .iter()
        .find(|u| u.name == name)
        .filter(|u| verify(u, password))
        .cloned()
}

/// Adds (or replaces) a user, hashing the password; writes the file
/// atomically.
pub fn add(
    project: &Project,
    name: &str,
    department: &str,
    role: &str,
    password: &str,
) -> Result<PathBuf, String> {
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '"') {
        return Err(format!("`{name}` is not a user name (no spaces or quotes)"));
    }
    if password.chars().count() < 8 {
        return Err("the password needs at least 8 characters".into());
    }
    let mut users = load(project)?;
    users.retain(|u| u.name != name);
    users.push(User {
        name: name.to_string(),
        department: department.to_string(),
        role: role.to_string(),
        password: hash(password)?,
    });
    let p = path(project);
    if let Some(dir) = p.parent() {
        fs_err::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    let text = format!(
        "# civhub users: written by `civhub user add`. Passwords are stored only as\n# Argon2id hashes.\n{}",
        toml::to_string(&UsersFile { users }).map_err(|e| e.to_string())?
    );
    let tmp = p.with_extension("toml.tmp");
    fs_err::write(&tmp, text).map_err(|e| e.to_string())?;
    fs_err::rename(&tmp, &p).map_err(|e| e.to_string())?;
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_never_hold_the_password() {
        let h = hash("s3cret-pass").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(!h.contains("s3cret-pass"));
        let u = User {
            name: "a".into(),
            department: "civil_affairs".into(),
            role: "analyst".into(),
            password: h,
        };
        assert!(verify(&u, "s3cret-pass"));
        assert!(!verify(&u, "wrong"));
        assert!(authenticate(std::slice::from_ref(&u), "a", "s3cret-pass").is_some());
        assert!(authenticate(&[u], "b", "s3cret-pass").is_none());
    }
}
