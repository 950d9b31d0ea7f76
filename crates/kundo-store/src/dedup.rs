//! The duplicate check's data: blocking keys per customer (kept current by every write of a
//! customer), the comparable records of candidates, and the review queue of a scan.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use kundo_core::customer::CustomerData;
use kundo_core::dedup::{DedupAddress, DedupRecord, blocking_keys};
use sea_query::{Expr, ExprTrait, Order, Query};
use serde::Serialize;

use crate::rows::{Val, insert_rows};
use crate::{Db, with_db};

/// The `dedup_keys` rows of one customer.
pub fn key_rows(customer_id: i64, data: &CustomerData) -> Vec<Vec<Val>> {
    let mut keys = blocking_keys(&DedupRecord::from_data(data));
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|k| vec![k.into(), customer_id.into()])
        .collect()
}

pub const KEY_COLUMNS: &[&str] = &["dedup_key", "customer_id"];

/// Replaces a customer's blocking keys after a change.
pub async fn refresh_keys(
    db: &mut Db<'_>,
    customer_id: i64,
    data: &CustomerData,
) -> crate::Result<()> {
    with_db!(db, c, _pg => {
        sqlx::query("DELETE FROM dedup_keys WHERE customer_id = $1").bind(customer_id).execute(&mut *c).await?;
    });
    insert_rows(db, "dedup_keys", KEY_COLUMNS, key_rows(customer_id, data)).await
}

/// Customers sharing at least one of `keys`, except keys shared by more than `max_block`
/// customers (a key that common says nothing and would make the check slow).
pub async fn candidate_ids(
    db: &mut Db<'_>,
    keys: &[String],
    max_block: usize,
) -> crate::Result<Vec<(String, i64)>> {
    let mut out = Vec::new();
    for chunk in keys.chunks(500) {
        let mut q = Query::select();
        q.columns(["dedup_key", "customer_id"])
            .from("dedup_keys")
            .and_where(Expr::col("dedup_key").is_in(chunk.iter().cloned()));
        out.extend(crate::select::all::<(String, i64)>(db, &q).await?);
    }
    let mut per_key: HashMap<&str, usize> = HashMap::new();
    for (k, _) in &out {
        *per_key.entry(k.as_str()).or_default() += 1;
    }
    let common: Vec<String> = per_key
        .into_iter()
        .filter(|(_, n)| *n > max_block)
        .map(|(k, _)| k.to_string())
        .collect();
    out.retain(|(k, _)| !common.contains(k));
    Ok(out)
}

#[derive(sqlx::FromRow)]
struct PersonRow {
    id: i64,
    customer_number: String,
    first_name: Option<String>,
    last_name: Option<String>,
    company_name: Option<String>,
    birth_date: Option<NaiveDate>,
    email: Option<String>,
}

#[derive(sqlx::FromRow)]
struct AddressRow {
    customer_id: i64,
    street: String,
    house_number: Option<String>,
    postcode: String,
    city: String,
    country: String,
}

/// The comparable records of active customers, with their customer numbers. Addresses include
/// the history, so a customer found at an old address still matches.
pub async fn records(
    db: &mut Db<'_>,
    ids: &[i64],
) -> crate::Result<HashMap<i64, (String, DedupRecord)>> {
    let mut out: HashMap<i64, (String, DedupRecord)> = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let mut q = Query::select();
        q.columns([
            "id",
            "customer_number",
            "first_name",
            "last_name",
            "company_name",
            "birth_date",
            "email",
        ])
        .from("customers")
        .and_where(Expr::col("id").is_in(chunk.iter().copied()))
        .and_where(Expr::col("status").eq("active"));
        let mut phones = Query::select();
        phones
            .columns(["customer_id", "number"])
            .from("phones")
            .and_where(Expr::col("customer_id").is_in(chunk.iter().copied()));
        let mut addresses = Query::select();
        addresses
            .columns([
                "customer_id",
                "street",
                "house_number",
                "postcode",
                "city",
                "country",
            ])
            .from("addresses")
            .and_where(Expr::col("customer_id").is_in(chunk.iter().copied()))
            .order_by("id", Order::Desc);
        let people: Vec<PersonRow> = crate::select::all(db, &q).await?;
        let phones: Vec<(i64, String)> = crate::select::all(db, &phones).await?;
        let addresses: Vec<AddressRow> = crate::select::all(db, &addresses).await?;
        for p in people {
            let record = DedupRecord {
                first_name: p.first_name,
                last_name: p.last_name,
                company_name: p.company_name,
                birth_date: p.birth_date,
                emails: p.email.into_iter().collect(),
                ..DedupRecord::default()
            };
            out.insert(p.id, (p.customer_number, record));
        }
        for (id, number) in phones {
            if let Some((_, r)) = out.get_mut(&id) {
                r.phones.push(number);
            }
        }
        for a in addresses {
            if let Some((_, r)) = out.get_mut(&a.customer_id) {
                r.addresses.push(DedupAddress::new(
                    &a.street,
                    a.house_number.as_deref(),
                    &a.postcode,
                    &a.city,
                    &a.country,
                ));
            }
        }
    }
    Ok(out)
}

/// The blocking keys of these customers, each list sorted.
pub async fn keys_of(db: &mut Db<'_>, ids: &[i64]) -> crate::Result<HashMap<i64, Vec<String>>> {
    let mut out: HashMap<i64, Vec<String>> = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let mut q = Query::select();
        q.columns(["customer_id", "dedup_key"])
            .from("dedup_keys")
            .and_where(Expr::col("customer_id").is_in(chunk.iter().copied()))
            .order_by("customer_id", Order::Asc)
            .order_by("dedup_key", Order::Asc);
        let rows: Vec<(i64, String)> = crate::select::all(db, &q).await?;
        for (id, key) in rows {
            out.entry(id).or_default().push(key);
        }
    }
    Ok(out)
}

/// One page of all blocking keys in key order, for a scan over the whole base.
pub async fn key_page(
    db: &mut Db<'_>,
    after: Option<&(String, i64)>,
    limit: i64,
) -> crate::Result<Vec<(String, i64)>> {
    Ok(with_db!(db, c, _pg => {
        match after {
            None => sqlx::query_as("SELECT dedup_key, customer_id FROM dedup_keys ORDER BY dedup_key, customer_id LIMIT $1")
                .bind(limit).fetch_all(&mut *c).await?,
            Some((k, id)) => sqlx::query_as(
                "SELECT dedup_key, customer_id FROM dedup_keys WHERE dedup_key > $1 OR (dedup_key = $1 AND customer_id > $2) \
                 ORDER BY dedup_key, customer_id LIMIT $3")
                .bind(k).bind(id).bind(limit).fetch_all(&mut *c).await?,
        }
    }))
}

/// A pair found by a scan, for the review queue (`customer_a < customer_b`).
pub struct FoundPair {
    pub customer_a: i64,
    pub customer_b: i64,
    pub score: i64,
    pub reasons: Vec<String>,
}

/// Adds pairs to the review queue; a pair already there (open, dismissed or merged) is left
/// as it is, so a dismissed pair does not come back with every scan. Returns the number added.
pub async fn save_pairs(
    db: &mut Db<'_>,
    pairs: &[FoundPair],
    now: DateTime<Utc>,
) -> crate::Result<u64> {
    let mut added = 0;
    for p in pairs {
        let reasons = serde_json::to_string(&p.reasons).unwrap_or_default();
        added += with_db!(db, c, _pg => {
            sqlx::query("INSERT INTO duplicate_pairs (customer_a, customer_b, score, reasons, status, found_at) VALUES ($1, $2, $3, $4, 'open', $5) \
                         ON CONFLICT (customer_a, customer_b) DO NOTHING")
                .bind(p.customer_a).bind(p.customer_b).bind(p.score).bind(reasons).bind(now)
                .execute(&mut *c).await?.rows_affected()
        });
    }
    Ok(added)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PairRow {
    pub id: i64,
    pub customer_a: String,
    pub customer_b: String,
    pub score: i64,
    #[serde(skip)]
    pub reasons: String,
    pub status: String,
    pub found_at: DateTime<Utc>,
}

/// The review queue by status, best score first, keyset-paginated by `(score, id)`.
pub async fn pairs(
    db: &mut Db<'_>,
    status: &str,
    after: Option<(i64, i64)>,
    limit: i64,
) -> crate::Result<Vec<PairRow>> {
    let (score, id) = after.unwrap_or((i64::MAX, 0));
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as(
            "SELECT p.id, a.customer_number AS customer_a, b.customer_number AS customer_b, p.score, p.reasons, p.status, p.found_at \
             FROM duplicate_pairs p JOIN customers a ON a.id = p.customer_a JOIN customers b ON b.id = p.customer_b \
             WHERE p.status = $1 AND (p.score < $2 OR (p.score = $2 AND p.id > $3)) ORDER BY p.score DESC, p.id LIMIT $4")
            .bind(status).bind(score).bind(id).bind(limit).fetch_all(&mut *c).await?
    }))
}

/// Dismisses an open pair ("not the same person"); false if there is no such open pair.
pub async fn dismiss_pair(
    db: &mut Db<'_>,
    id: i64,
    actor: &str,
    now: DateTime<Utc>,
) -> crate::Result<bool> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query("UPDATE duplicate_pairs SET status = 'dismissed', decided_at = $1, decided_by = $2 WHERE id = $3 AND status = 'open'")
            .bind(now).bind(actor).bind(id).execute(&mut *c).await?.rows_affected() == 1
    }))
}
