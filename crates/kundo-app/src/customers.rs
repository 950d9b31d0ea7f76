//! Customer use cases: create, read, change, list, search, the tills' lookup, the audit trail
//! and the event feed.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use kundo_core::customer::{
    Contact, CustomerData, CustomerInput, Phone, Validated, customer_number_for,
};
use kundo_core::search::{score, search_doc, search_terms};
use kundo_store::customers::{
    self as store, AddressRecord, CardRecord, ConsentRecord, CustomerSummary, ListFilter,
    LookupKey, NewCustomerRow, StoredCustomer,
};
use kundo_store::{Db, StoreError};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::{Actor, App, AppError, Result};

/// A customer as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerView {
    pub customer_number: String,
    pub kind: &'static str,
    pub status: String,
    pub salutation: Option<String>,
    pub title: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company_name: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub gender: Option<String>,
    pub language: Option<String>,
    pub email: Option<String>,
    pub phones: Vec<Phone>,
    /// Current addresses with their postal status.
    pub addresses: Vec<AddressRecord>,
    /// Earlier addresses, newest first: an address change never deletes the old one.
    pub address_history: Vec<AddressRecord>,
    pub card_numbers: Vec<String>,
    pub cards: Vec<CardRecord>,
    pub preferred_channel: Option<String>,
    /// The statement in force per channel (the latest one).
    pub consents: Vec<ConsentRecord>,
    /// Every statement ever recorded, newest first.
    pub consent_history: Vec<ConsentRecord>,
    pub attributes: Map<String, Value>,
    pub contacts: Vec<Contact>,
    /// Loyalty points balance (the sum of the ledger).
    pub balance: i64,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl CustomerView {
    pub(crate) fn build(
        c: StoredCustomer,
        defs: &[kundo_core::attributes::AttributeDefinition],
    ) -> Self {
        let attributes = c.data.attributes_json(defs);
        let (addresses, address_history): (Vec<_>, Vec<_>) = c
            .addresses
            .into_iter()
            .partition(|a| a.valid_until.is_none());
        let mut consents: Vec<ConsentRecord> = Vec::new();
        for s in &c.consents {
            if !consents.iter().any(|x| x.channel == s.channel) {
                consents.push(s.clone());
            }
        }
        let d = c.data;
        CustomerView {
            customer_number: c.meta.customer_number,
            kind: d.kind.as_str(),
            status: c.meta.status,
            salutation: d.salutation,
            title: d.title,
            first_name: d.first_name,
            last_name: d.last_name,
            company_name: d.company_name,
            birth_date: d.birth_date,
            gender: d.gender,
            language: d.language,
            email: d.email,
            phones: d.phones,
            addresses,
            address_history,
            card_numbers: d.card_numbers,
            cards: c.cards,
            preferred_channel: d.preferred_channel,
            consents,
            consent_history: c.consents,
            attributes,
            contacts: d.contacts,
            balance: 0,
            version: c.meta.version,
            created_at: c.meta.created_at,
            updated_at: c.meta.updated_at,
        }
    }

    /// The entity tag for `If-Match`.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

/// Whether a create looks for likely duplicates first (DOMAIN §10: creating one anyway takes an
/// explicit decision).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuplicateCheck {
    Refuse,
    CreateAnyway,
}

/// An `Idempotency-Key` and a hash of the request it came with.
pub struct Idempotency {
    pub key: String,
    pub request_hash: String,
}

pub enum Created {
    New(Box<CustomerView>),
    /// The same key was used before: the stored answer, replayed.
    Replayed {
        status: u16,
        body: String,
    },
}

/// Turns a unique-constraint violation into a conflict that names the field.
fn conflict_from(e: StoreError) -> AppError {
    match e.unique_violation() {
        Some(c) if c.contains("card") => AppError::Conflict {
            field: "card_numbers".into(),
            message: "a card number belongs to another customer".into(),
        },
        Some(c) if c.contains("customer_number") => AppError::Conflict {
            field: "customer_number".into(),
            message: "the customer number exists already".into(),
        },
        _ => AppError::Store(e),
    }
}

async fn ensure_cards_free(
    db: &mut Db<'_>,
    data: &CustomerData,
    except: Option<i64>,
) -> Result<()> {
    let taken = store::cards_taken(db, &data.card_numbers, except).await?;
    if let Some(card) = taken.first() {
        let i = data
            .card_numbers
            .iter()
            .position(|c| c == card)
            .unwrap_or(0);
        return Err(AppError::Conflict {
            field: format!("card_numbers[{i}]"),
            message: format!("card {card} belongs to another customer"),
        });
    }
    Ok(())
}

/// Display name for ranking and lists.
pub fn display_name(first: Option<&str>, last: Option<&str>, company: Option<&str>) -> String {
    match (company, first, last) {
        (Some(c), _, _) if last.is_none() => c.to_string(),
        (_, Some(f), Some(l)) => format!("{f} {l}"),
        (_, None, Some(l)) => l.to_string(),
        (Some(c), _, _) => c.to_string(),
        _ => String::new(),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    #[serde(flatten)]
    pub customer: CustomerSummary,
    pub score: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct LookupAnswer {
    pub customer_number: String,
    pub status: String,
    pub salutation: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company_name: Option<String>,
    pub balance: i64,
    pub vouchers: Vec<Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditView {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub changes: Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    pub id: i64,
    pub at: DateTime<Utc>,
    #[serde(rename = "type")]
    pub event_type: String,
    pub data: Value,
}

fn diff_json(diff: &BTreeMap<String, (Value, Value)>) -> Value {
    Value::Object(
        diff.iter()
            .map(|(k, (old, new))| (k.clone(), json!({"old": old, "new": new})))
            .collect(),
    )
}

impl App {
    /// Creates a customer: validates, assigns number and id, writes record, audit entry and
    /// `customer.created` event in one transaction.
    pub async fn create_customer(
        &self,
        actor: &Actor,
        input: CustomerInput,
        idem: Option<Idempotency>,
        check: DuplicateCheck,
    ) -> Result<Created> {
        let defs = self.attribute_definitions().await?;
        let now = Utc::now();
        let Validated {
            customer_number,
            data,
            consents,
        } = input.validate(&defs, now).map_err(AppError::Invalid)?;
        let mut tx = self.store.begin_write().await?;
        if let Some(idem) = &idem
            && !kundo_store::auth::claim_idempotency_key(
                &mut tx.db(),
                &actor.name,
                &idem.key,
                &idem.request_hash,
                now,
            )
            .await?
        {
            drop(tx);
            return self.replay(actor, idem).await;
        }
        ensure_cards_free(&mut tx.db(), &data, None).await?;
        let record = kundo_core::dedup::DedupRecord::from_data(&data);
        let found = crate::duplicates::candidates_for(
            &mut tx.db(),
            &record,
            None,
            kundo_core::dedup::DEFAULT_THRESHOLD,
        )
        .await?;
        if check == DuplicateCheck::Refuse && !found.is_empty() {
            return Err(AppError::Duplicates(found));
        }
        if let Some(n) = &customer_number
            && !store::numbers_taken(&mut tx.db(), std::slice::from_ref(n))
                .await?
                .is_empty()
        {
            return Err(AppError::Conflict {
                field: "customer_number".into(),
                message: format!("customer number {n} exists already"),
            });
        }
        let ids = store::reserve_ids(&mut tx.db(), 1).await?;
        let id = *ids
            .first()
            .ok_or_else(|| AppError::Io("no id was reserved".into()))?;
        let number = customer_number.unwrap_or_else(|| customer_number_for(id));
        let doc = search_doc(&number, &data);
        let audit = json!({"customer_number": number, "fields": data.audit_json(&defs)});
        let row = NewCustomerRow {
            id,
            customer_number: number.clone(),
            data,
            consents,
            search_doc: doc,
        };
        store::insert_customers(&mut tx.db(), std::slice::from_ref(&row), now)
            .await
            .map_err(conflict_from)?;
        kundo_store::audit::record(
            &mut tx.db(),
            &actor.name,
            "customer.created",
            Some(id),
            &audit,
            now,
        )
        .await?;
        if !found.is_empty() {
            // Created anyway although it looked like someone: the pairs go to the review
            // queue, so a second look is not forgotten.
            crate::duplicates::queue_pairs(&mut tx.db(), id, &found, &actor.name, now).await?;
        }
        kundo_store::audit::emit(
            &mut tx.db(),
            "customer.created",
            Some(id),
            &json!({"customer_number": number}),
            now,
        )
        .await?;
        let stored = store::load(&mut tx.db(), id)
            .await?
            .ok_or(AppError::NotFound("customer"))?;
        let view = CustomerView::build(stored, &defs);
        if let Some(idem) = &idem {
            let body = serde_json::to_string(&view).map_err(|e| AppError::Io(e.to_string()))?;
            kundo_store::auth::finish_idempotency_key(
                &mut tx.db(),
                &actor.name,
                &idem.key,
                201,
                &body,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(Created::New(Box::new(view)))
    }

    async fn replay(&self, actor: &Actor, idem: &Idempotency) -> Result<Created> {
        let mut conn = self.store.acquire().await?;
        let (hash, status, body) =
            kundo_store::auth::idempotent_response(&mut conn.db(), &actor.name, &idem.key)
                .await?
                .ok_or(AppError::NotFound("idempotency key"))?;
        if hash != idem.request_hash {
            return Err(AppError::Conflict {
                field: "Idempotency-Key".into(),
                message: "this key was used with a different request".into(),
            });
        }
        Ok(Created::Replayed {
            status: u16::try_from(status).unwrap_or(200),
            body,
        })
    }

    async fn resolve(&self, db: &mut Db<'_>, customer_number: &str) -> Result<i64> {
        store::resolve_number(db, customer_number.trim())
            .await?
            .ok_or(AppError::NotFound("customer"))
    }

    /// One customer by number; a merged number answers with the survivor.
    pub async fn customer(&self, customer_number: &str) -> Result<CustomerView> {
        let defs = self.attribute_definitions().await?;
        let mut tx = self.store.begin_read().await?;
        let id = self.resolve(&mut tx.db(), customer_number).await?;
        let stored = store::load(&mut tx.db(), id)
            .await?
            .ok_or(AppError::NotFound("customer"))?;
        let balance = kundo_store::loyalty::balance(&mut tx.db(), id).await?;
        tx.commit().await?;
        let mut view = CustomerView::build(stored, &defs);
        view.balance = balance;
        Ok(view)
    }

    /// Applies a change. `if_match` is the version the caller read (from the ETag); a stale one
    /// is refused so that two clerks do not overwrite each other.
    pub async fn update_customer(
        &self,
        actor: &Actor,
        customer_number: &str,
        patch: &Map<String, Value>,
        if_match: Option<i64>,
    ) -> Result<CustomerView> {
        let defs = self.attribute_definitions().await?;
        let now = Utc::now();
        let mut tx = self.store.begin_write().await?;
        let id = self.resolve(&mut tx.db(), customer_number).await?;
        let current = store::load(&mut tx.db(), id)
            .await?
            .ok_or(AppError::NotFound("customer"))?;
        if current.meta.status != "active" {
            return Err(AppError::Conflict {
                field: "status".into(),
                message: format!(
                    "a customer with status '{}' cannot be changed",
                    current.meta.status
                ),
            });
        }
        if let Some(v) = if_match
            && v != current.meta.version
        {
            return Err(AppError::Stale);
        }
        let changed = current
            .data
            .apply_patch(patch, &defs, now)
            .map_err(AppError::Invalid)?;
        ensure_cards_free(&mut tx.db(), &changed.data, Some(id)).await?;
        let diff = current.data.diff(&changed.data, &defs);
        let balance = kundo_store::loyalty::balance(&mut tx.db(), id).await?;
        if diff.is_empty() && changed.consents.is_empty() {
            tx.commit().await?;
            let mut view = CustomerView::build(current, &defs);
            view.balance = balance;
            return Ok(view);
        }
        let doc = search_doc(&current.meta.customer_number, &changed.data);
        let change = store::Change {
            old: &current.data,
            new: &changed.data,
            new_consents: &changed.consents,
            search_doc: &doc,
            expected_version: current.meta.version,
        };
        store::update(&mut tx.db(), id, &change, now)
            .await
            .map_err(|e| match e {
                StoreError::Stale => AppError::Stale,
                e => conflict_from(e),
            })?;
        let mut changes = diff_json(&diff);
        if !changed.consents.is_empty()
            && let Value::Object(m) = &mut changes
        {
            m.insert(
                "consents".into(),
                json!({"old": null, "new": changed.consents}),
            );
        }
        kundo_store::audit::record(
            &mut tx.db(),
            &actor.name,
            "customer.updated",
            Some(id),
            &changes,
            now,
        )
        .await?;
        let fields: Vec<&String> = diff.keys().collect();
        kundo_store::audit::emit(&mut tx.db(), "customer.updated", Some(id), &json!({"customer_number": current.meta.customer_number, "changed": fields, "consents_recorded": changed.consents.len()}), now).await?;
        let stored = store::load(&mut tx.db(), id)
            .await?
            .ok_or(AppError::NotFound("customer"))?;
        tx.commit().await?;
        let mut view = CustomerView::build(stored, &defs);
        view.balance = balance;
        Ok(view)
    }

    pub async fn list_customers(&self, filter: ListFilter) -> Result<Page<CustomerSummary>> {
        let mut conn = self.store.acquire().await?;
        let items = store::list(&mut conn.db(), &filter).await?;
        let next_cursor = if items.len() as u64 == filter.limit {
            items.last().map(|c| c.id.to_string())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// Ranked search over name, number, email, phone, postcode, city, street and card.
    pub async fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>> {
        // The rule the API document states (`minLength: 3`); a query of three characters
        // that folds into shorter terms ("a b c") finds nothing rather than being refused.
        if query.chars().count() < 3 {
            return Err(AppError::invalid("q", "type at least three characters"));
        }
        let terms = search_terms(query);
        if !terms.iter().any(|t| t.chars().count() >= 3) {
            return Ok(Vec::new());
        }
        let mut conn = self.store.acquire().await?;
        let candidates = kundo_store::search::candidates(&mut conn.db(), &terms, 400).await?;
        let ids: Vec<i64> = candidates.iter().map(|(id, _)| *id).collect();
        let mut summaries = store::summaries(&mut conn.db(), &ids).await?;
        let mut hits: Vec<SearchHit> = candidates
            .into_iter()
            .filter_map(|(id, doc)| {
                let customer = summaries.remove(&id)?;
                let name = display_name(
                    customer.first_name.as_deref(),
                    customer.last_name.as_deref(),
                    customer.company_name.as_deref(),
                );
                Some(SearchHit {
                    score: score(&terms, &doc, &name),
                    customer,
                })
            })
            .collect();
        hits.sort_by(|a, b| {
            b.score
                .cmp(&a.score)
                .then(a.customer.id.cmp(&b.customer.id))
        });
        hits.truncate(limit);
        Ok(hits)
    }

    /// The tills' lookup by card, phone, email or customer number.
    pub async fn lookup(&self, key: LookupKey<'_>) -> Result<LookupAnswer> {
        let mut conn = self.store.acquire().await?;
        let view = match key {
            LookupKey::Card(card) => store::lookup_view_by_card(&mut conn.db(), card).await?,
            other => match store::lookup_id(&mut conn.db(), other).await? {
                Some(id) => store::lookup_view(&mut conn.db(), id).await?,
                None => None,
            },
        };
        let v = view.ok_or(AppError::NotFound("customer"))?;
        let vouchers: Vec<Value> = match key {
            LookupKey::Card(_) => v.vouchers.iter().map(|x| serde_json::to_value(x).unwrap_or_default()).collect(),
            _ => kundo_store::vouchers::of_customer(&mut conn.db(), v.id, true)
                .await?
                .into_iter()
                .map(|x| json!({"code": x.code, "kind": x.kind, "value_type": x.value_type, "value": x.value, "currency": x.currency, "min_order": x.min_order, "channels": x.channels, "valid_until": x.valid_until}))
                .collect(),
        };
        let balance = v.balance;
        Ok(LookupAnswer {
            customer_number: v.customer_number,
            status: v.status,
            salutation: v.salutation,
            first_name: v.first_name,
            last_name: v.last_name,
            company_name: v.company_name,
            balance,
            vouchers,
        })
    }

    pub async fn customer_audit(
        &self,
        customer_number: &str,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Page<AuditView>> {
        let mut tx = self.store.begin_read().await?;
        let id = self.resolve(&mut tx.db(), customer_number).await?;
        let rows = kundo_store::audit::entries(&mut tx.db(), Some(id), before, limit).await?;
        tx.commit().await?;
        Ok(audit_page(rows, limit))
    }

    pub async fn audit_log(&self, before: Option<i64>, limit: i64) -> Result<Page<AuditView>> {
        let mut conn = self.store.acquire().await?;
        let rows = kundo_store::audit::entries(&mut conn.db(), None, before, limit).await?;
        Ok(audit_page(rows, limit))
    }

    /// Events after a cursor, for systems that pull (DOMAIN §11a).
    pub async fn events(&self, after: i64, limit: i64) -> Result<Page<EventView>> {
        let mut conn = self.store.acquire().await?;
        let rows = kundo_store::audit::events_after(&mut conn.db(), after, limit).await?;
        let next_cursor = rows.last().map(|r| r.id.to_string());
        Ok(Page {
            items: rows
                .into_iter()
                .map(|r| EventView {
                    id: r.id,
                    at: r.at,
                    event_type: r.event_type,
                    data: serde_json::from_str(&r.payload).unwrap_or(Value::Null),
                })
                .collect(),
            next_cursor,
        })
    }
}

fn audit_page(rows: Vec<kundo_store::audit::AuditEntry>, limit: i64) -> Page<AuditView> {
    let next_cursor = if rows.len() as i64 == limit {
        rows.last().map(|r| r.id.to_string())
    } else {
        None
    };
    Page {
        items: rows
            .into_iter()
            .map(|r| AuditView {
                id: r.id,
                at: r.at,
                actor: r.actor,
                action: r.action,
                changes: serde_json::from_str(&r.changes).unwrap_or(Value::Null),
            })
            .collect(),
        next_cursor,
    }
}
