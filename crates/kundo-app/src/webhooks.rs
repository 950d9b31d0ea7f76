//! Webhooks: subscriptions and the dispatcher that delivers the event outbox to them, signed
//! with HMAC-SHA256, in order, at least once, retried with exponential backoff, with a delivery
//! log. Receivers dedupe by the event id.
//!
//! The client speaks plain HTTP/1.1 (see docs/adr/0004-webhooks-over-plain-http.md): receivers
//! behind TLS are reached through a local forward proxy.

use std::time::Duration;

use chrono::Utc;
use hmac::{Hmac, Mac};
use kundo_store::webhooks::{self as store, DeliveryRow, WebhookRow};
use serde_json::json;
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{Actor, App, AppError, Result};

/// Events delivered per subscription and round.
const BATCH: i64 = 100;
const TIMEOUT: Duration = Duration::from_secs(10);

/// `t=UNIX,v1=HEX(HMAC-SHA256(secret, "UNIX.BODY"))`: the timestamp lets receivers refuse replays.
pub fn signature(secret: &str, unix: i64, body: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(format!("{unix}.{body}").as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={unix},v1={hex}")
}

/// Delay before attempt `failures + 1`: 2^failures seconds, at most an hour.
pub fn backoff(failures: i64) -> chrono::Duration {
    chrono::Duration::seconds(1i64 << failures.clamp(0, 12)).min(chrono::Duration::hours(1))
}

pub(crate) struct Target {
    host: String,
    port: u16,
    path: String,
}

pub(crate) fn parse_url(url: &str) -> std::result::Result<Target, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or("must start with http:// (see the webhook docs for TLS)")?;
    let (authority, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_string()), |(a, p)| (a, format!("/{p}")));
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().map_err(|_| "has an invalid port")?),
        None => (authority, 80),
    };
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-".contains(c))
    {
        return Err("has an invalid host".into());
    }
    if path.chars().any(|c| c.is_control() || c == ' ') {
        return Err("has an invalid path".into());
    }
    Ok(Target {
        host: host.to_string(),
        port,
        path,
    })
}

/// POSTs one JSON body; the status code, or what went wrong.
async fn post(
    url: &str,
    headers: &[(&str, String)],
    body: &str,
) -> std::result::Result<u16, String> {
    send("POST", url, headers, body).await
}

/// Sends one JSON body with `method` over plain HTTP/1.1 (also the marketing automation
/// adapter's client); the status code, or what went wrong.
pub(crate) async fn send(
    method: &str,
    url: &str,
    headers: &[(&str, String)],
    body: &str,
) -> std::result::Result<u16, String> {
    let t = parse_url(url)?;
    let attempt = async {
        let mut s = tokio::net::TcpStream::connect((t.host.as_str(), t.port))
            .await
            .map_err(|e| e.to_string())?;
        let mut req = format!(
            "{method} {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\nUser-Agent: kundo\r\n",
            t.path,
            t.host,
            body.len()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        req.push_str(body);
        s.write_all(req.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut head = vec![0u8; 64];
        let n = s.read(&mut head).await.map_err(|e| e.to_string())?;
        let line = String::from_utf8_lossy(&head[..n]);
        line.split_whitespace()
            .nth(1)
            .and_then(|c| c.parse::<u16>().ok())
            .ok_or_else(|| format!("no HTTP status in {:?}", line.lines().next().unwrap_or("")))
    };
    tokio::time::timeout(TIMEOUT, attempt)
        .await
        .map_err(|_| "timed out".to_string())?
}

impl App {
    /// Subscribes a URL to event types (`*` for all). The secret is generated here and shown in
    /// the answer; it is kept to sign deliveries.
    pub async fn create_webhook(
        &self,
        actor: &Actor,
        url: &str,
        event_types: &[String],
    ) -> Result<(i64, String)> {
        parse_url(url).map_err(|m| AppError::invalid("url", m))?;
        if event_types.is_empty()
            || event_types
                .iter()
                .any(|t| t.is_empty() || t.len() > 60 || t.contains(char::is_whitespace))
        {
            return Err(AppError::invalid(
                "event_types",
                "name event types such as voucher.issued, customer.updated, or * for all",
            ));
        }
        let secret = crate::auth::random_hex(24);
        let now = Utc::now();
        let mut tx = self.store.begin_write().await?;
        let id = store::create(&mut tx.db(), url, &secret, &event_types.join(" "), now).await?;
        kundo_store::audit::record(
            &mut tx.db(),
            &actor.name,
            "webhook.created",
            None,
            &json!({"id": id, "url": url, "event_types": event_types}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok((id, secret))
    }

    pub async fn webhooks(&self) -> Result<Vec<WebhookRow>> {
        let mut conn = self.store.acquire().await?;
        Ok(store::list(&mut conn.db()).await?)
    }

    pub async fn delete_webhook(&self, actor: &Actor, id: i64) -> Result<()> {
        let now = Utc::now();
        let mut tx = self.store.begin_write().await?;
        if !store::deactivate(&mut tx.db(), id).await? {
            return Err(AppError::NotFound("webhook"));
        }
        kundo_store::audit::record(
            &mut tx.db(),
            &actor.name,
            "webhook.deleted",
            None,
            &json!({"id": id}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn webhook_deliveries(&self, id: i64) -> Result<Vec<DeliveryRow>> {
        let mut conn = self.store.acquire().await?;
        Ok(store::deliveries(&mut conn.db(), id, 200).await?)
    }

    /// One round of the dispatcher: every due subscription gets its next events, in order,
    /// stopping at the first failure (which is retried after a backoff). Returns deliveries made.
    pub async fn dispatch_webhooks(&self) -> Result<u64> {
        let now = Utc::now();
        let hooks = {
            let mut conn = self.store.acquire().await?;
            store::due(&mut conn.db(), now).await?
        };
        let mut delivered = 0;
        for hook in hooks {
            let events = {
                let mut conn = self.store.acquire().await?;
                kundo_store::audit::events_after(&mut conn.db(), hook.cursor, BATCH).await?
            };
            let types: Vec<&str> = hook.event_types.split_whitespace().collect();
            let mut cursor = hook.cursor;
            for e in events {
                if !(types.contains(&"*") || types.contains(&e.event_type.as_str())) {
                    cursor = e.id;
                    continue;
                }
                let body = json!({"id": e.id, "type": e.event_type, "at": e.at, "data": serde_json::from_str::<serde_json::Value>(&e.payload).unwrap_or_default()}).to_string();
                let unix = Utc::now().timestamp();
                let headers = [
                    ("Kundo-Event-Id", e.id.to_string()),
                    ("Kundo-Event-Type", e.event_type.clone()),
                    ("Kundo-Signature", signature(&hook.secret, unix, &body)),
                ];
                let result = post(&hook.url, &headers, &body).await;
                let attempt = hook.failures + 1;
                let mut conn = self.store.acquire().await?;
                match result {
                    Ok(status) if (200..300).contains(&status) => {
                        store::log_delivery(
                            &mut conn.db(),
                            &store::Attempt {
                                webhook_id: hook.id,
                                event_id: e.id,
                                attempt,
                                status: Some(i64::from(status)),
                                error: None,
                                delivered: true,
                            },
                            Utc::now(),
                        )
                        .await?;
                        cursor = e.id;
                        delivered += 1;
                    }
                    other => {
                        let (status, error) = match other {
                            Ok(s) => (Some(i64::from(s)), format!("answered {s}")),
                            Err(e) => (None, e),
                        };
                        store::log_delivery(
                            &mut conn.db(),
                            &store::Attempt {
                                webhook_id: hook.id,
                                event_id: e.id,
                                attempt,
                                status,
                                error: Some(&error),
                                delivered: false,
                            },
                            Utc::now(),
                        )
                        .await?;
                        if cursor > hook.cursor {
                            store::advance(&mut conn.db(), hook.id, cursor, Utc::now()).await?;
                        }
                        store::postpone(
                            &mut conn.db(),
                            hook.id,
                            attempt,
                            Utc::now() + backoff(attempt),
                        )
                        .await?;
                        cursor = -1;
                        break;
                    }
                }
            }
            if cursor > hook.cursor {
                let mut conn = self.store.acquire().await?;
                store::advance(&mut conn.db(), hook.id, cursor, Utc::now()).await?;
            }
        }
        Ok(delivered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_cover_time_and_body() {
        let s = signature("secret", 1_700_000_000, "{}");
        assert!(s.starts_with("t=1700000000,v1="));
        assert_eq!(s.len(), "t=1700000000,v1=".len() + 64);
        assert_ne!(s, signature("secret", 1_700_000_001, "{}"));
        assert_ne!(s, signature("other", 1_700_000_000, "{}"));
    }

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff(0), chrono::Duration::seconds(1));
        assert_eq!(backoff(3), chrono::Duration::seconds(8));
        assert_eq!(backoff(40), chrono::Duration::hours(1));
    }

    #[test]
    fn only_plain_http_urls_with_sane_hosts_are_taken() {
        assert!(parse_url("http://127.0.0.1:9000/hooks/kundo").is_ok());
        assert!(parse_url("http://middleware.local/in").is_ok());
        assert!(parse_url("https://x.example/in").is_err());
        assert!(parse_url("http://bad host/").is_err());
        assert!(parse_url("http://h:99999/").is_err());
    }
}
