//! Authentication: argon2 password hashes for staff, hashed API keys with scopes for systems,
//! sessions for the browser. Plain secrets exist only in the answer that hands them out.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::Utc;
use kundo_core::auth::{Role, is_known_scope};
use sha2::{Digest, Sha256};

use crate::{App, AppError, Result};

/// Who is calling, and what they may do. `name` goes into the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
    pub scopes: Vec<String>,
    /// Set for browser sessions: unsafe requests must echo it (CSRF protection).
    pub csrf_token: Option<String>,
}

impl Actor {
    pub fn allows(&self, scope: &str) -> bool {
        kundo_core::auth::allows(&self.scopes, scope)
    }

    /// The actor of command-line work, which runs with the operator's own rights.
    pub fn cli() -> Actor {
        Actor {
            name: "cli".into(),
            scopes: vec!["admin".into()],
            csrf_token: None,
        }
    }
}

pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // The OS CSPRNG; failing to read it leaves no safe way to go on.
    getrandom::fill(&mut buf).expect("the operating system's random number generator failed");
    hex(&buf)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn sha256_hex(s: &str) -> String {
    hex(&Sha256::digest(s.as_bytes()))
}

pub fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AppError::Io(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| AppError::Io(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Io(e.to_string()))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Keys that were found recently; a revocation through this process clears the cache, other
/// processes notice within the TTL.
#[derive(Default)]
pub struct AuthCache {
    keys: Mutex<HashMap<String, (Actor, Instant)>>,
}

const KEY_TTL: Duration = Duration::from_secs(30);
pub const SESSION_HOURS: i64 = 8;

impl AuthCache {
    fn get(&self, hash: &str) -> Option<Actor> {
        let keys = self.keys.lock().ok()?;
        keys.get(hash)
            .filter(|(_, at)| at.elapsed() < KEY_TTL)
            .map(|(a, _)| a.clone())
    }
    fn put(&self, hash: String, actor: Actor) {
        if let Ok(mut keys) = self.keys.lock() {
            if keys.len() > 10_000 {
                keys.clear();
            }
            keys.insert(hash, (actor, Instant::now()));
        }
    }
    pub fn clear(&self) {
        if let Ok(mut keys) = self.keys.lock() {
            keys.clear();
        }
    }
}

/// A newly created key: `key` is shown once and never stored.
pub struct NewApiKey {
    pub id: i64,
    pub key: String,
}

pub struct Session {
    pub token: String,
    pub csrf_token: String,
    pub username: String,
    pub role: Role,
}

impl App {
    pub async fn create_api_key(
        &self,
        actor: &Actor,
        name: &str,
        scopes: &[String],
    ) -> Result<NewApiKey> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AppError::invalid("name", "must be 1-100 characters"));
        }
        if scopes.is_empty() {
            return Err(AppError::invalid("scopes", "name at least one scope"));
        }
        for (i, s) in scopes.iter().enumerate() {
            if !is_known_scope(s) {
                return Err(AppError::invalid(
                    format!("scopes[{i}]"),
                    format!(
                        "'{s}' is not a scope; known: {}",
                        kundo_core::auth::SCOPES.join(", ")
                    ),
                ));
            }
        }
        let secret = random_hex(24);
        let key = format!("kd_{secret}");
        let now = Utc::now();
        let mut tx = self.store.begin_write().await?;
        let id = kundo_store::auth::create_api_key(
            &mut tx.db(),
            name,
            &sha256_hex(&key),
            &key[..11],
            &scopes.join(" "),
            now,
        )
        .await?;
        kundo_store::audit::record(
            &mut tx.db(),
            &actor.name,
            "apikey.created",
            None,
            &serde_json::json!({"id": id, "name": name, "scopes": scopes}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(NewApiKey { id, key })
    }

    pub async fn revoke_api_key(&self, actor: &Actor, id: i64) -> Result<()> {
        let now = Utc::now();
        let mut tx = self.store.begin_write().await?;
        if !kundo_store::auth::revoke_api_key(&mut tx.db(), id, now).await? {
            return Err(AppError::NotFound("api key"));
        }
        kundo_store::audit::record(
            &mut tx.db(),
            &actor.name,
            "apikey.revoked",
            None,
            &serde_json::json!({"id": id}),
            now,
        )
        .await?;
        tx.commit().await?;
        self.auth_cache.clear();
        Ok(())
    }

    /// The actor behind a bearer key, or `None` for an unknown or revoked key.
    pub async fn authenticate_key(&self, key: &str) -> Result<Option<Actor>> {
        let hash = sha256_hex(key);
        if let Some(actor) = self.auth_cache.get(&hash) {
            return Ok(Some(actor));
        }
        let row = kundo_store::auth::api_key_by_hash(&mut self.store.acquire().await?.db(), &hash)
            .await?;
        let Some(row) = row.filter(|r| r.revoked_at.is_none()) else {
            return Ok(None);
        };
        let actor = Actor {
            name: format!("apikey:{}", row.name),
            scopes: row.scopes.split_whitespace().map(str::to_string).collect(),
            csrf_token: None,
        };
        self.auth_cache.put(hash, actor.clone());
        Ok(Some(actor))
    }

    pub async fn create_user(
        &self,
        actor: &Actor,
        username: &str,
        password: &str,
        role: Role,
    ) -> Result<i64> {
        let username = username.trim();
        if username.is_empty()
            || username.len() > 60
            || !username
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
        {
            return Err(AppError::invalid(
                "username",
                "must be 1-60 characters of letters, digits and . _ - @",
            ));
        }
        if password.chars().count() < 10 {
            return Err(AppError::invalid(
                "password",
                "must have at least 10 characters",
            ));
        }
        let hash = hash_password(password)?;
        let now = Utc::now();
        let mut tx = self.store.begin_write().await?;
        let Some(id) =
            kundo_store::auth::create_user(&mut tx.db(), username, &hash, role.as_str(), now)
                .await?
        else {
            return Err(AppError::Conflict {
                field: "username".into(),
                message: format!("user '{username}' exists already"),
            });
        };
        kundo_store::audit::record(
            &mut tx.db(),
            &actor.name,
            "user.created",
            None,
            &serde_json::json!({"username": username, "role": role.as_str()}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Sets a new password (the demo prints a fresh admin password on every start).
    pub async fn set_password(&self, username: &str, password: &str) -> Result<()> {
        let hash = hash_password(password)?;
        let mut tx = self.store.begin_write().await?;
        if !kundo_store::auth::set_password(&mut tx.db(), username, &hash).await? {
            return Err(AppError::NotFound("user"));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Checks a password and opens a session. The same answer for an unknown user and a wrong
    /// password, so that logins do not reveal who exists.
    pub async fn login(&self, username: &str, password: &str) -> Result<Session> {
        let mut tx = self.store.begin_read().await?;
        let user = kundo_store::auth::user_by_name(&mut tx.db(), username).await?;
        tx.commit().await?;
        let user = match user {
            Some(u) if u.active && verify_password(password, &u.password_hash) => u,
            Some(_) => return Err(AppError::Unauthorized("wrong username or password")),
            None => {
                // Spend the same time as a real check.
                let _ = verify_password(
                    password,
                    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$0000000000000000000000000000000000000000000",
                );
                return Err(AppError::Unauthorized("wrong username or password"));
            }
        };
        let role = Role::parse(&user.role).unwrap_or(Role::Store);
        let token = random_hex(32);
        let csrf_token = random_hex(16);
        let now = Utc::now();
        let mut tx = self.store.begin_write().await?;
        kundo_store::auth::create_session(
            &mut tx.db(),
            &sha256_hex(&token),
            user.id,
            &csrf_token,
            now,
            now + chrono::Duration::hours(SESSION_HOURS),
        )
        .await?;
        tx.commit().await?;
        Ok(Session {
            token,
            csrf_token,
            username: user.username,
            role,
        })
    }

    pub async fn session_actor(&self, token: &str) -> Result<Option<Actor>> {
        let mut tx = self.store.begin_read().await?;
        let s = kundo_store::auth::session(&mut tx.db(), &sha256_hex(token), Utc::now()).await?;
        tx.commit().await?;
        Ok(s.map(|s| Actor {
            name: format!("user:{}", s.username),
            scopes: Role::parse(&s.role)
                .unwrap_or(Role::Store)
                .scopes()
                .iter()
                .map(|s| s.to_string())
                .collect(),
            csrf_token: Some(s.csrf_token),
        }))
    }

    pub async fn logout(&self, token: &str) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
        kundo_store::auth::delete_session(&mut tx.db(), &sha256_hex(token)).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_with_the_right_secret() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }
}
