//! Staff users, their sessions, and API keys for systems. Secrets are stored only as hashes.

use chrono::{DateTime, Utc};

use crate::{Db, with_db};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub active: bool,
}

pub async fn create_user(
    db: &mut Db<'_>,
    username: &str,
    password_hash: &str,
    role: &str,
    now: DateTime<Utc>,
) -> crate::Result<Option<i64>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_scalar("INSERT INTO users (username, password_hash, role, active, created_at) VALUES ($1, $2, $3, TRUE, $4) ON CONFLICT (username) DO NOTHING RETURNING id")
            .bind(username).bind(password_hash).bind(role).bind(now).fetch_optional(&mut *c).await?
    }))
}

pub async fn set_password(
    db: &mut Db<'_>,
    username: &str,
    password_hash: &str,
) -> crate::Result<bool> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query("UPDATE users SET password_hash = $1 WHERE username = $2").bind(password_hash).bind(username).execute(&mut *c).await?.rows_affected() == 1
    }))
}

pub async fn user_by_name(db: &mut Db<'_>, username: &str) -> crate::Result<Option<UserRow>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as("SELECT id, username, password_hash, role, active FROM users WHERE username = $1").bind(username).fetch_optional(&mut *c).await?
    }))
}

pub async fn users(db: &mut Db<'_>) -> crate::Result<Vec<UserRow>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as("SELECT id, username, password_hash, role, active FROM users ORDER BY username").fetch_all(&mut *c).await?
    }))
}

pub async fn create_session(
    db: &mut Db<'_>,
    token_hash: &str,
    user_id: i64,
    csrf: &str,
    now: DateTime<Utc>,
    expires: DateTime<Utc>,
) -> crate::Result<()> {
    with_db!(db, c, _pg => {
        sqlx::query("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(token_hash).bind(user_id).bind(csrf).bind(now).bind(expires).execute(&mut *c).await?;
    });
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub username: String,
    pub role: String,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

pub async fn session(
    db: &mut Db<'_>,
    token_hash: &str,
    now: DateTime<Utc>,
) -> crate::Result<Option<SessionRow>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as("SELECT u.username, u.role, s.csrf_token, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id \
                        WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active")
            .bind(token_hash).bind(now).fetch_optional(&mut *c).await?
    }))
}

pub async fn delete_session(db: &mut Db<'_>, token_hash: &str) -> crate::Result<()> {
    with_db!(db, c, _pg => { sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&mut *c).await?; });
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub scopes: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub async fn create_api_key(
    db: &mut Db<'_>,
    name: &str,
    key_hash: &str,
    prefix: &str,
    scopes: &str,
    now: DateTime<Utc>,
) -> crate::Result<i64> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_scalar("INSERT INTO api_keys (name, key_hash, prefix, scopes, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(name).bind(key_hash).bind(prefix).bind(scopes).bind(now).fetch_one(&mut *c).await?
    }))
}

pub async fn api_key_by_hash(db: &mut Db<'_>, key_hash: &str) -> crate::Result<Option<ApiKeyRow>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as("SELECT id, name, prefix, scopes, created_at, revoked_at FROM api_keys WHERE key_hash = $1").bind(key_hash).fetch_optional(&mut *c).await?
    }))
}

pub async fn api_keys(db: &mut Db<'_>) -> crate::Result<Vec<ApiKeyRow>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as("SELECT id, name, prefix, scopes, created_at, revoked_at FROM api_keys ORDER BY id").fetch_all(&mut *c).await?
    }))
}

pub async fn revoke_api_key(db: &mut Db<'_>, id: i64, now: DateTime<Utc>) -> crate::Result<bool> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL").bind(now).bind(id).execute(&mut *c).await?.rows_affected() == 1
    }))
}

pub async fn idempotent_response(
    db: &mut Db<'_>,
    actor: &str,
    key: &str,
) -> crate::Result<Option<(String, i64, String)>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as("SELECT request_hash, status, body FROM idempotency_keys WHERE actor = $1 AND idem_key = $2")
            .bind(actor).bind(key).fetch_optional(&mut *c).await?
    }))
}

/// Claims an idempotency key inside the caller's transaction. `false`: another request holds
/// it (on PostgreSQL the insert waits for that request's transaction to end).
pub async fn claim_idempotency_key(
    db: &mut Db<'_>,
    actor: &str,
    key: &str,
    request_hash: &str,
    now: DateTime<Utc>,
) -> crate::Result<bool> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query("INSERT INTO idempotency_keys (actor, idem_key, request_hash, status, body, created_at) VALUES ($1, $2, $3, 0, '', $4) ON CONFLICT (actor, idem_key) DO NOTHING")
            .bind(actor).bind(key).bind(request_hash).bind(now).execute(&mut *c).await?.rows_affected() == 1
    }))
}

pub async fn finish_idempotency_key(
    db: &mut Db<'_>,
    actor: &str,
    key: &str,
    status: i64,
    body: &str,
) -> crate::Result<()> {
    with_db!(db, c, _pg => {
        sqlx::query("UPDATE idempotency_keys SET status = $1, body = $2 WHERE actor = $3 AND idem_key = $4")
            .bind(status).bind(body).bind(actor).bind(key).execute(&mut *c).await?;
    });
    Ok(())
}
