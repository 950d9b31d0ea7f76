//! Customer records: insert (single and bulk share one path), load, change with history, lookup
//! and filtered listing.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use kundo_core::attributes::AttrValue;
use kundo_core::customer::{Address, Consent, Contact, CustomerData, Kind, Phone};
use sea_query::{Alias, Cond, Expr, ExprTrait, Order, Query};
use serde::Serialize;
use sqlx::{AssertSqlSafe, Row};

use crate::db::dialect;
use crate::rows::{Val, insert_rows};
use crate::{Db, StoreError, with_db};

/// A customer ready to be written: ids and numbers are already assigned.
pub struct NewCustomerRow {
    pub id: i64,
    pub customer_number: String,
    pub data: CustomerData,
    pub consents: Vec<Consent>,
    pub search_doc: String,
}

/// Metadata the store keeps beside the record itself.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CustomerMeta {
    pub id: i64,
    pub customer_number: String,
    pub status: String,
    pub merged_into: Option<i64>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AddressRecord {
    pub id: i64,
    pub kind: String,
    pub street: String,
    pub house_number: Option<String>,
    pub address_line2: Option<String>,
    pub postcode: String,
    pub city: String,
    pub country: String,
    pub postal_status: String,
    pub valid_from: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ConsentRecord {
    pub channel: String,
    pub status: String,
    pub source: String,
    pub proof: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CardRecord {
    pub card_number: String,
    pub status: String,
    pub issued_at: DateTime<Utc>,
}

/// Everything the store holds on one customer.
#[derive(Debug, Clone)]
pub struct StoredCustomer {
    pub meta: CustomerMeta,
    pub data: CustomerData,
    /// Current and past addresses, current first.
    pub addresses: Vec<AddressRecord>,
    pub cards: Vec<CardRecord>,
    /// Every consent statement, newest first.
    pub consents: Vec<ConsentRecord>,
}

#[derive(sqlx::FromRow)]
struct CustomerRowFull {
    #[sqlx(flatten)]
    meta: CustomerMeta,
    kind: String,
    salutation: Option<String>,
    title: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    company_name: Option<String>,
    birth_date: Option<NaiveDate>,
    gender: Option<String>,
    language: Option<String>,
    email: Option<String>,
    preferred_channel: Option<String>,
}

/// One line of a customer list or search result.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CustomerSummary {
    #[serde(skip)]
    pub id: i64,
    pub customer_number: String,
    pub kind: String,
    pub status: String,
    pub salutation: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company_name: Option<String>,
    pub email: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub street: Option<String>,
    pub house_number: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
}

/// Allocates `n` customer ids (see [`reserve_ids_in`]).
pub async fn reserve_ids(db: &mut Db<'_>, n: usize) -> crate::Result<Vec<i64>> {
    reserve_ids_in(db, "customers", n).await
}

/// Allocates `n` ids of `table` before its rows are written, so that related rows can refer to
/// them in the same multi-row statements. SQLite: inside the `BEGIN IMMEDIATE` transaction nobody
/// else can insert, so MAX(id) is safe. PostgreSQL: the identity column's sequence.
pub async fn reserve_ids_in(
    db: &mut Db<'_>,
    table: &'static str,
    n: usize,
) -> crate::Result<Vec<i64>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    with_db!(db, c, pg => {
        if pg {
            let sql = format!("SELECT nextval(pg_get_serial_sequence('{table}', 'id')) AS id FROM generate_series(1, $1)");
            let rows = sqlx::query(AssertSqlSafe(sql)).bind(n as i64).fetch_all(&mut *c).await?;
            rows.iter().map(|r| r.try_get::<i64, _>("id").map_err(StoreError::from)).collect()
        } else {
            let sql = format!("SELECT COALESCE(MAX(id), 0) FROM {table}");
            let max: i64 = sqlx::query_scalar(AssertSqlSafe(sql)).fetch_one(&mut *c).await?;
            Ok((1..=n as i64).map(|i| max + i).collect())
        }
    })
}

const CUSTOMER_COLUMNS: &[&str] = &[
    "id",
    "customer_number",
    "kind",
    "status",
    "salutation",
    "title",
    "first_name",
    "last_name",
    "company_name",
    "birth_date",
    "gender",
    "language",
    "email",
    "preferred_channel",
    "version",
    "created_at",
    "updated_at",
];

fn address_row(customer_id: i64, a: &Address, now: DateTime<Utc>) -> Vec<Val> {
    vec![
        customer_id.into(),
        a.kind.clone().into(),
        a.street.clone().into(),
        a.house_number.clone().into(),
        a.address_line2.clone().into(),
        a.postcode.clone().into(),
        a.city.clone().into(),
        a.country.clone().into(),
        "ok".into(),
        now.into(),
    ]
}
const ADDRESS_COLUMNS: &[&str] = &[
    "customer_id",
    "kind",
    "street",
    "house_number",
    "address_line2",
    "postcode",
    "city",
    "country",
    "postal_status",
    "valid_from",
];

fn consent_rows(customer_id: i64, consents: &[Consent]) -> Vec<Vec<Val>> {
    consents
        .iter()
        .map(|c| {
            vec![
                customer_id.into(),
                c.channel.clone().into(),
                c.status.clone().into(),
                c.source.clone().into(),
                c.proof.clone().into(),
                c.recorded_at.into(),
            ]
        })
        .collect()
}
const CONSENT_COLUMNS: &[&str] = &[
    "customer_id",
    "channel",
    "status",
    "source",
    "proof",
    "recorded_at",
];

fn attribute_rows(customer_id: i64, attrs: &BTreeMap<String, AttrValue>) -> Vec<Vec<Val>> {
    attrs
        .iter()
        .map(|(k, v)| {
            vec![
                customer_id.into(),
                k.clone().into(),
                v.text.clone().into(),
                Val::OptInt(v.int),
            ]
        })
        .collect()
}
const ATTRIBUTE_COLUMNS: &[&str] = &["customer_id", "name", "value", "value_int"];

fn contact_rows(customer_id: i64, contacts: &[Contact]) -> Vec<Vec<Val>> {
    contacts
        .iter()
        .map(|c| {
            vec![
                customer_id.into(),
                c.salutation.clone().into(),
                c.first_name.clone().into(),
                c.last_name.clone().into(),
                c.role.clone().into(),
                c.email.clone().into(),
                c.phone.clone().into(),
            ]
        })
        .collect()
}
const CONTACT_COLUMNS: &[&str] = &[
    "customer_id",
    "salutation",
    "first_name",
    "last_name",
    "role",
    "email",
    "phone",
];

fn phone_rows(customer_id: i64, phones: &[Phone]) -> Vec<Vec<Val>> {
    phones
        .iter()
        .map(|p| {
            vec![
                customer_id.into(),
                p.kind.clone().into(),
                p.number.clone().into(),
            ]
        })
        .collect()
}
const PHONE_COLUMNS: &[&str] = &["customer_id", "kind", "number"];

async fn insert_search_docs(db: &mut Db<'_>, docs: Vec<Vec<Val>>) -> crate::Result<()> {
    let pg = db.is_postgres();
    let columns: &[&'static str] = if pg {
        &["customer_id", "doc"]
    } else {
        &["rowid", "doc"]
    };
    insert_rows(db, "customer_search", columns, docs).await
}

/// Writes new customers with everything they own. Used for one customer (API) and for batches
/// (import, demo data) alike.
pub async fn insert_customers(
    db: &mut Db<'_>,
    rows: &[NewCustomerRow],
    now: DateTime<Utc>,
) -> crate::Result<()> {
    let mut customers = Vec::with_capacity(rows.len());
    let mut keys = Vec::with_capacity(rows.len() * 6);
    let (mut phones, mut addresses, mut cards, mut consents, mut contacts, mut attrs, mut docs) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    for r in rows {
        let d = &r.data;
        customers.push(vec![
            r.id.into(),
            r.customer_number.clone().into(),
            d.kind.as_str().into(),
            "active".into(),
            d.salutation.clone().into(),
            d.title.clone().into(),
            d.first_name.clone().into(),
            d.last_name.clone().into(),
            d.company_name.clone().into(),
            Val::OptDate(d.birth_date),
            d.gender.clone().into(),
            d.language.clone().into(),
            d.email.clone().into(),
            d.preferred_channel.clone().into(),
            1i64.into(),
            now.into(),
            now.into(),
        ]);
        phones.extend(phone_rows(r.id, &d.phones));
        addresses.extend(d.addresses.iter().map(|a| address_row(r.id, a, now)));
        cards.extend(d.card_numbers.iter().map(|c| {
            vec![
                Val::from(c.clone()),
                r.id.into(),
                "active".into(),
                now.into(),
            ]
        }));
        consents.extend(consent_rows(r.id, &r.consents));
        contacts.extend(contact_rows(r.id, &d.contacts));
        attrs.extend(attribute_rows(r.id, &d.attributes));
        docs.push(vec![r.id.into(), r.search_doc.clone().into()]);
        keys.extend(crate::dedup::key_rows(r.id, d));
    }
    insert_rows(db, "customers", CUSTOMER_COLUMNS, customers).await?;
    insert_rows(db, "phones", PHONE_COLUMNS, phones).await?;
    insert_rows(db, "addresses", ADDRESS_COLUMNS, addresses).await?;
    insert_rows(
        db,
        "cards",
        &["card_number", "customer_id", "status", "issued_at"],
        cards,
    )
    .await?;
    insert_rows(db, "consents", CONSENT_COLUMNS, consents).await?;
    insert_rows(db, "contacts", CONTACT_COLUMNS, contacts).await?;
    insert_rows(db, "customer_attributes", ATTRIBUTE_COLUMNS, attrs).await?;
    insert_search_docs(db, docs).await?;
    insert_rows(db, "dedup_keys", crate::dedup::KEY_COLUMNS, keys).await?;
    Ok(())
}

/// Resolves a customer number to the id of the record that now holds it: a merged record points
/// to its survivor, so old numbers keep working.
pub async fn resolve_number(db: &mut Db<'_>, customer_number: &str) -> crate::Result<Option<i64>> {
    let found: Option<(i64, Option<i64>)> = with_db!(db, c, _pg => {
        sqlx::query_as("SELECT id, merged_into FROM customers WHERE customer_number = $1")
            .bind(customer_number)
            .fetch_optional(&mut *c)
            .await?
    });
    match found {
        None => Ok(None),
        Some((id, None)) => Ok(Some(id)),
        Some((id, Some(next))) => follow_merges(db, id, next).await.map(Some),
    }
}

/// Locks the given customers for the rest of the transaction (`FOR SHARE` on PostgreSQL, so a
/// concurrent merge waits or is waited for) and maps each id to the record that holds it now:
/// a tombstone maps to its survivor.
pub async fn lock_current(db: &mut Db<'_>, ids: &[i64]) -> crate::Result<HashMap<i64, i64>> {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = HashMap::with_capacity(sorted.len());
    for chunk in sorted.chunks(500) {
        let mut q = Query::select();
        q.columns(["id", "merged_into"])
            .from("customers")
            .and_where(Expr::col("id").is_in(chunk.iter().copied()))
            .order_by("id", Order::Asc);
        if db.is_postgres() {
            q.lock_shared();
        }
        let rows: Vec<(i64, Option<i64>)> = crate::select::all(db, &q).await?;
        for (id, merged_into) in rows {
            let now_at = match merged_into {
                Some(next) => follow_merges(db, id, next).await?,
                None => id,
            };
            out.insert(id, now_at);
        }
    }
    Ok(out)
}

async fn follow_merges(db: &mut Db<'_>, mut id: i64, mut next: i64) -> crate::Result<i64> {
    // Merge chains are short; the bound protects against a corrupt cycle.
    for _ in 0..16 {
        id = next;
        let row: Option<Option<i64>> = with_db!(db, c, _pg => {
            sqlx::query_scalar("SELECT merged_into FROM customers WHERE id = $1").bind(id).fetch_optional(&mut *c).await?
        });
        match row.flatten() {
            Some(n) => next = n,
            None => return Ok(id),
        }
    }
    Err(StoreError::Corrupt(format!(
        "merge chain from customer {id} does not end"
    )))
}

/// Customer id for an active card, phone (E.164), or normalized email.
pub async fn lookup_id(db: &mut Db<'_>, by: LookupKey<'_>) -> crate::Result<Option<i64>> {
    let (sql, value): (&'static str, &str) = match by {
        LookupKey::Card(v) => (
            "SELECT customer_id FROM cards WHERE card_number = $1 AND status = 'active'",
            v,
        ),
        LookupKey::Phone(v) => (
            "SELECT p.customer_id FROM phones p JOIN customers c ON c.id = p.customer_id WHERE p.number = $1 AND c.status = 'active' ORDER BY p.customer_id LIMIT 1",
            v,
        ),
        LookupKey::Email(v) => (
            "SELECT id FROM customers WHERE email = $1 AND status = 'active' ORDER BY id LIMIT 1",
            v,
        ),
        LookupKey::Number(v) => return resolve_number(db, v).await,
    };
    let found: Option<i64> = with_db!(db, c, _pg => {
        sqlx::query_scalar(sql).bind(value).fetch_optional(&mut *c).await?
    });
    match found {
        Some(id) => {
            let merged: Option<i64> = with_db!(db, c, _pg => {
                sqlx::query_scalar("SELECT merged_into FROM customers WHERE id = $1").bind(id).fetch_optional(&mut *c).await?.flatten()
            });
            match merged {
                Some(next) => follow_merges(db, id, next).await.map(Some),
                None => Ok(Some(id)),
            }
        }
        None => Ok(None),
    }
}

#[derive(Debug, Clone, Copy)]
pub enum LookupKey<'a> {
    Card(&'a str),
    Phone(&'a str),
    Email(&'a str),
    Number(&'a str),
}

/// The tills' view of a customer: just what a checkout needs, in one query.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct LookupView {
    #[serde(skip)]
    pub id: i64,
    pub customer_number: String,
    pub status: String,
    pub salutation: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company_name: Option<String>,
    /// Points balance, read in the same query.
    pub balance: i64,
    /// Open vouchers; filled by the card lookup in the same query.
    #[sqlx(skip)]
    pub vouchers: Vec<OpenVoucher>,
}

/// An open voucher as the till sees it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OpenVoucher {
    pub code: String,
    pub kind: String,
    pub value_type: String,
    pub value: i64,
    pub currency: String,
    pub min_order: i64,
    pub channels: String,
    pub valid_until: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct CardLookupRow {
    #[sqlx(flatten)]
    view: LookupView,
    merged_into: Option<i64>,
    v_code: Option<String>,
    v_kind: Option<String>,
    v_value_type: Option<String>,
    v_value: Option<i64>,
    v_currency: Option<String>,
    v_min_order: Option<i64>,
    v_channels: Option<String>,
    v_valid_until: Option<DateTime<Utc>>,
}

pub async fn lookup_view(db: &mut Db<'_>, id: i64) -> crate::Result<Option<LookupView>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as("SELECT c.id, c.customer_number, c.status, c.salutation, c.first_name, c.last_name, c.company_name, COALESCE(p.balance, 0) AS balance \
             FROM customers c LEFT JOIN points_accounts p ON p.customer_id = c.id WHERE c.id = $1")
            .bind(id)
            .fetch_optional(&mut *c)
            .await?
    }))
}

/// The hot path of the tills: card → customer in one indexed join.
pub async fn lookup_view_by_card(db: &mut Db<'_>, card: &str) -> crate::Result<Option<LookupView>> {
    // One round trip: the customer, the balance and each open voucher as a row.
    let rows: Vec<CardLookupRow> = with_db!(db, c, _pg => {
        sqlx::query_as(
            "SELECT c.id, c.customer_number, c.status, c.salutation, c.first_name, c.last_name, c.company_name, c.merged_into, \
             COALESCE(p.balance, 0) AS balance, v.code AS v_code, v.kind AS v_kind, v.value_type AS v_value_type, v.value AS v_value, \
             v.currency AS v_currency, v.min_order AS v_min_order, v.channels AS v_channels, v.valid_until AS v_valid_until \
             FROM cards k JOIN customers c ON c.id = k.customer_id LEFT JOIN points_accounts p ON p.customer_id = c.id \
             LEFT JOIN vouchers v ON v.customer_id = c.id AND v.status = 'issued' \
             WHERE k.card_number = $1 AND k.status = 'active'",
        )
        .bind(card)
        .fetch_all(&mut *c)
        .await?
    });
    let mut rows = rows.into_iter();
    let Some(first) = rows.next() else {
        return Ok(None);
    };
    if let Some(next) = first.merged_into {
        let id = follow_merges(db, first.view.id, next).await?;
        return lookup_view(db, id).await;
    }
    let mut view = first.view.clone();
    for r in std::iter::once(first).chain(rows) {
        if let Some(code) = r.v_code {
            view.vouchers.push(OpenVoucher {
                code,
                kind: r.v_kind.unwrap_or_default(),
                value_type: r.v_value_type.unwrap_or_default(),
                value: r.v_value.unwrap_or_default(),
                currency: r.v_currency.unwrap_or_default(),
                min_order: r.v_min_order.unwrap_or_default(),
                channels: r.v_channels.unwrap_or_default(),
                valid_until: r.v_valid_until,
            });
        }
    }
    // Sorted here: an ORDER BY on the voucher columns lures SQLite's planner onto the expiry
    // index (status, valid_until) and a scan of every issued voucher (measured: 3 s a lookup).
    view.vouchers.sort_by(|a, b| {
        a.valid_until
            .cmp(&b.valid_until)
            .then_with(|| a.code.cmp(&b.code))
    });
    Ok(Some(view))
}

/// Loads one customer with all it owns.
pub async fn load(db: &mut Db<'_>, id: i64) -> crate::Result<Option<StoredCustomer>> {
    let row: Option<CustomerRowFull> = with_db!(db, c, _pg => {
        sqlx::query_as(
            "SELECT id, customer_number, status, merged_into, version, created_at, updated_at, kind, salutation, title, first_name, \
             last_name, company_name, birth_date, gender, language, email, preferred_channel FROM customers WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
    });
    let Some(row) = row else { return Ok(None) };
    let (phones, addresses, cards, consents, contacts, attrs) = with_db!(db, c, _pg => {
        let phones: Vec<(String, String)> = sqlx::query_as("SELECT kind, number FROM phones WHERE customer_id = $1 ORDER BY id")
            .bind(id).fetch_all(&mut *c).await?;
        let addresses: Vec<AddressRecord> = sqlx::query_as(
            "SELECT id, kind, street, house_number, address_line2, postcode, city, country, postal_status, valid_from, valid_until \
             FROM addresses WHERE customer_id = $1 ORDER BY (valid_until IS NULL) DESC, id DESC")
            .bind(id).fetch_all(&mut *c).await?;
        let cards: Vec<CardRecord> = sqlx::query_as("SELECT card_number, status, issued_at FROM cards WHERE customer_id = $1 ORDER BY issued_at, card_number")
            .bind(id).fetch_all(&mut *c).await?;
        let consents: Vec<ConsentRecord> = sqlx::query_as(
            "SELECT channel, status, source, proof, recorded_at FROM consents WHERE customer_id = $1 ORDER BY recorded_at DESC, id DESC")
            .bind(id).fetch_all(&mut *c).await?;
        let contacts: Vec<ContactRow> = sqlx::query_as(
            "SELECT salutation, first_name, last_name, role, email, phone FROM contacts WHERE customer_id = $1 ORDER BY id")
            .bind(id).fetch_all(&mut *c).await?;
        let attrs: Vec<(String, String, Option<i64>)> = sqlx::query_as("SELECT name, value, value_int FROM customer_attributes WHERE customer_id = $1")
            .bind(id).fetch_all(&mut *c).await?;
        (phones, addresses, cards, consents, contacts, attrs)
    });
    let data = CustomerData {
        kind: Kind::parse(&row.kind)
            .ok_or_else(|| StoreError::Corrupt(format!("customer {id} has kind {}", row.kind)))?,
        salutation: row.salutation,
        title: row.title,
        first_name: row.first_name,
        last_name: row.last_name,
        company_name: row.company_name,
        birth_date: row.birth_date,
        gender: row.gender,
        language: row.language,
        email: row.email,
        preferred_channel: row.preferred_channel,
        phones: phones
            .into_iter()
            .map(|(kind, number)| Phone { kind, number })
            .collect(),
        addresses: addresses
            .iter()
            .filter(|a| a.valid_until.is_none())
            .map(address_of)
            .collect(),
        card_numbers: cards
            .iter()
            .filter(|c| c.status == "active")
            .map(|c| c.card_number.clone())
            .collect(),
        attributes: attrs
            .into_iter()
            .map(|(k, text, int)| (k, AttrValue { text, int }))
            .collect(),
        contacts: contacts
            .into_iter()
            .map(|c| Contact {
                salutation: c.salutation,
                first_name: c.first_name,
                last_name: c.last_name,
                role: c.role,
                email: c.email,
                phone: c.phone,
            })
            .collect(),
    };
    Ok(Some(StoredCustomer {
        meta: row.meta,
        data,
        addresses,
        cards,
        consents,
    }))
}

#[derive(sqlx::FromRow)]
struct ContactRow {
    salutation: Option<String>,
    first_name: Option<String>,
    last_name: String,
    role: String,
    email: Option<String>,
    phone: Option<String>,
}

fn address_of(a: &AddressRecord) -> Address {
    Address {
        kind: a.kind.clone(),
        street: a.street.clone(),
        house_number: a.house_number.clone(),
        address_line2: a.address_line2.clone(),
        postcode: a.postcode.clone(),
        city: a.city.clone(),
        country: a.country.clone(),
    }
}

/// A change to one customer: the state read, the state to write, and the version it was read at.
#[derive(Clone, Copy)]
pub struct Change<'a> {
    pub old: &'a CustomerData,
    pub new: &'a CustomerData,
    pub new_consents: &'a [Consent],
    pub search_doc: &'a str,
    pub expected_version: i64,
}

/// Writes a changed record. Addresses keep their history (a changed address is closed and a new
/// one opened); removed cards become inactive but stay bound to this customer; consents are
/// appended. Fails with [`StoreError::Stale`] if `expected_version` no longer matches.
pub async fn update(
    db: &mut Db<'_>,
    id: i64,
    change: &Change<'_>,
    now: DateTime<Utc>,
) -> crate::Result<i64> {
    let Change {
        old,
        new,
        new_consents,
        search_doc,
        expected_version,
    } = *change;
    let d = new;
    let changed = with_db!(db, c, _pg => {
        sqlx::query(
            "UPDATE customers SET salutation = $1, title = $2, first_name = $3, last_name = $4, company_name = $5, birth_date = $6, \
             gender = $7, language = $8, email = $9, preferred_channel = $10, version = version + 1, updated_at = $11 \
             WHERE id = $12 AND version = $13",
        )
        .bind(&d.salutation).bind(&d.title).bind(&d.first_name).bind(&d.last_name).bind(&d.company_name).bind(d.birth_date)
        .bind(&d.gender).bind(&d.language).bind(&d.email).bind(&d.preferred_channel).bind(now).bind(id).bind(expected_version)
        .execute(&mut *c)
        .await?
        .rows_affected()
    });
    if changed != 1 {
        return Err(StoreError::Stale);
    }
    if old.phones != new.phones {
        with_db!(db, c, _pg => { sqlx::query("DELETE FROM phones WHERE customer_id = $1").bind(id).execute(&mut *c).await?; });
        insert_rows(db, "phones", PHONE_COLUMNS, phone_rows(id, &new.phones)).await?;
    }
    if old.addresses != new.addresses {
        let mut opened = Vec::new();
        for a in &old.addresses {
            if !new.addresses.contains(a) {
                with_db!(db, c, _pg => {
                    sqlx::query("UPDATE addresses SET valid_until = $1 WHERE customer_id = $2 AND kind = $3 AND valid_until IS NULL")
                        .bind(now).bind(id).bind(&a.kind).execute(&mut *c).await?;
                });
            }
        }
        for a in &new.addresses {
            if !old.addresses.contains(a) {
                opened.push(address_row(id, a, now));
            }
        }
        insert_rows(db, "addresses", ADDRESS_COLUMNS, opened).await?;
    }
    if old.card_numbers != new.card_numbers {
        for card in old
            .card_numbers
            .iter()
            .filter(|c| !new.card_numbers.contains(c))
        {
            with_db!(db, c, _pg => {
                sqlx::query("UPDATE cards SET status = 'inactive' WHERE card_number = $1 AND customer_id = $2").bind(card).bind(id).execute(&mut *c).await?;
            });
        }
        for card in new
            .card_numbers
            .iter()
            .filter(|c| !old.card_numbers.contains(c))
        {
            // A card this customer had before comes back; any other card number is new.
            let reactivated = with_db!(db, c, _pg => {
                sqlx::query("UPDATE cards SET status = 'active' WHERE card_number = $1 AND customer_id = $2").bind(card).bind(id).execute(&mut *c).await?.rows_affected()
            });
            if reactivated == 0 {
                insert_rows(
                    db,
                    "cards",
                    &["card_number", "customer_id", "status", "issued_at"],
                    vec![vec![
                        card.clone().into(),
                        id.into(),
                        "active".into(),
                        now.into(),
                    ]],
                )
                .await?;
            }
        }
    }
    if old.attributes != new.attributes {
        with_db!(db, c, _pg => { sqlx::query("DELETE FROM customer_attributes WHERE customer_id = $1").bind(id).execute(&mut *c).await?; });
        insert_rows(
            db,
            "customer_attributes",
            ATTRIBUTE_COLUMNS,
            attribute_rows(id, &new.attributes),
        )
        .await?;
    }
    if old.contacts != new.contacts {
        with_db!(db, c, _pg => { sqlx::query("DELETE FROM contacts WHERE customer_id = $1").bind(id).execute(&mut *c).await?; });
        insert_rows(
            db,
            "contacts",
            CONTACT_COLUMNS,
            contact_rows(id, &new.contacts),
        )
        .await?;
    }
    insert_rows(
        db,
        "consents",
        CONSENT_COLUMNS,
        consent_rows(id, new_consents),
    )
    .await?;
    with_db!(db, c, pg => {
        sqlx::query(dialect(pg, "UPDATE customer_search SET doc = $1 WHERE rowid = $2", "UPDATE customer_search SET doc = $1 WHERE customer_id = $2"))
            .bind(search_doc).bind(id).execute(&mut *c).await?;
    });
    if kundo_core::dedup::DedupRecord::from_data(old)
        != kundo_core::dedup::DedupRecord::from_data(new)
    {
        crate::dedup::refresh_keys(db, id, new).await?;
    }
    Ok(expected_version + 1)
}

/// Which of these card numbers already belong to a customer (other than `except`)?
pub async fn cards_taken(
    db: &mut Db<'_>,
    cards: &[String],
    except: Option<i64>,
) -> crate::Result<Vec<String>> {
    let mut taken = Vec::new();
    for chunk in cards.chunks(500) {
        let mut q = Query::select();
        q.column("card_number")
            .from("cards")
            .and_where(Expr::col("card_number").is_in(chunk.iter().cloned()));
        if let Some(id) = except {
            q.and_where(Expr::col("customer_id").ne(id));
        }
        taken.extend(fetch_strings(db, &mut q).await?);
    }
    Ok(taken)
}

/// Which of these customer numbers exist already?
pub async fn numbers_taken(db: &mut Db<'_>, numbers: &[String]) -> crate::Result<Vec<String>> {
    let mut taken = Vec::new();
    for chunk in numbers.chunks(500) {
        let mut q = Query::select();
        q.column("customer_number")
            .from("customers")
            .and_where(Expr::col("customer_number").is_in(chunk.iter().cloned()));
        taken.extend(fetch_strings(db, &mut q).await?);
    }
    Ok(taken)
}

async fn fetch_strings(
    db: &mut Db<'_>,
    q: &mut sea_query::SelectStatement,
) -> crate::Result<Vec<String>> {
    crate::select::column(db, q).await
}

/// A customer list filter: built-in fields and custom attributes, all combined with AND.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub kind: Option<String>,
    pub status: Option<String>,
    pub gender: Option<String>,
    pub language: Option<String>,
    pub preferred_channel: Option<String>,
    pub email: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub last_name: Option<String>,
    pub birth_date_from: Option<NaiveDate>,
    pub birth_date_to: Option<NaiveDate>,
    /// Custom attributes: name → canonical text.
    pub attributes: Vec<(String, String)>,
    /// Cursor: only ids greater than this.
    pub after_id: Option<i64>,
    pub limit: u64,
}

const SUMMARY_COLUMNS: &str = "c.id, c.customer_number, c.kind, c.status, c.salutation, c.first_name, c.last_name, c.company_name, c.email, \
     c.birth_date, a.street, a.house_number, a.postcode, a.city, a.country";

/// Lists customers matching `f`, ordered by id (cursor pagination).
pub async fn list(db: &mut Db<'_>, f: &ListFilter) -> crate::Result<Vec<CustomerSummary>> {
    let c = Alias::new("c");
    let a = Alias::new("a");
    let col = |name: &'static str| Expr::col((c.clone(), Alias::new(name)));
    let acol = |name: &'static str| Expr::col((a.clone(), Alias::new(name)));
    let mut cond = Cond::all();
    let eq = |cond: Cond, column: Expr, v: &Option<String>| match v {
        Some(v) => cond.add(column.eq(v.clone())),
        None => cond,
    };
    cond = eq(cond, col("kind"), &f.kind);
    cond = eq(cond, col("status"), &f.status);
    cond = eq(cond, col("gender"), &f.gender);
    cond = eq(cond, col("language"), &f.language);
    cond = eq(cond, col("preferred_channel"), &f.preferred_channel);
    cond = eq(cond, col("email"), &f.email);
    cond = eq(cond, col("last_name"), &f.last_name);
    cond = eq(cond, acol("postcode"), &f.postcode);
    cond = eq(cond, acol("city"), &f.city);
    cond = eq(cond, acol("country"), &f.country);
    if let Some(d) = f.birth_date_from {
        cond = cond.add(col("birth_date").gte(d));
    }
    if let Some(d) = f.birth_date_to {
        cond = cond.add(col("birth_date").lte(d));
    }
    if let Some(after) = f.after_id {
        cond = cond.add(col("id").gt(after));
    }
    for (name, value) in &f.attributes {
        let mut sub = Query::select();
        sub.expr(Expr::val(1))
            .from_as("customer_attributes", Alias::new("ca"))
            .and_where(
                Expr::col((Alias::new("ca"), Alias::new("customer_id")))
                    .equals((c.clone(), Alias::new("id"))),
            )
            .and_where(Expr::col((Alias::new("ca"), Alias::new("name"))).eq(name.clone()))
            .and_where(Expr::col((Alias::new("ca"), Alias::new("value"))).eq(value.clone()));
        cond = cond.add(Expr::exists(sub));
    }
    let mut q = Query::select();
    q.expr(Expr::cust(SUMMARY_COLUMNS))
        .from_as("customers", c.clone())
        .join_as(
            sea_query::JoinType::LeftJoin,
            Alias::new("addresses"),
            a.clone(),
            Cond::all()
                .add(acol("customer_id").equals((c.clone(), Alias::new("id"))))
                .add(acol("kind").eq("main"))
                .add(acol("valid_until").is_null()),
        )
        .cond_where(cond)
        .order_by((c.clone(), Alias::new("id")), Order::Asc)
        .limit(f.limit);
    crate::select::all(db, &q).await
}

/// Summaries for the given ids (search results), in no particular order.
pub async fn summaries(
    db: &mut Db<'_>,
    ids: &[i64],
) -> crate::Result<HashMap<i64, CustomerSummary>> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let mut q = Query::select();
        q.expr(Expr::cust(SUMMARY_COLUMNS))
            .from_as("customers", Alias::new("c"))
            .join_as(
                sea_query::JoinType::LeftJoin,
                Alias::new("addresses"),
                Alias::new("a"),
                Cond::all()
                    .add(
                        Expr::col((Alias::new("a"), Alias::new("customer_id")))
                            .equals((Alias::new("c"), Alias::new("id"))),
                    )
                    .add(Expr::col((Alias::new("a"), Alias::new("kind"))).eq("main"))
                    .add(Expr::col((Alias::new("a"), Alias::new("valid_until"))).is_null()),
            )
            .and_where(Expr::col((Alias::new("c"), Alias::new("id"))).is_in(chunk.iter().copied()));
        let rows: Vec<CustomerSummary> = crate::select::all(db, &q).await?;
        out.extend(rows.into_iter().map(|r| (r.id, r)));
    }
    Ok(out)
}

/// Number of customers (for progress and the dashboard).
pub async fn count(db: &mut Db<'_>) -> crate::Result<i64> {
    Ok(
        with_db!(db, c, _pg => sqlx::query_scalar("SELECT COUNT(*) FROM customers").fetch_one(&mut *c).await?),
    )
}

/// Customers in id order after `after_id`, fully loaded, for exports.
pub async fn ids_after(db: &mut Db<'_>, after_id: i64, limit: i64) -> crate::Result<Vec<i64>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_scalar("SELECT id FROM customers WHERE id > $1 ORDER BY id LIMIT $2").bind(after_id).bind(limit).fetch_all(&mut *c).await?
    }))
}
