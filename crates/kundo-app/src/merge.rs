//! Merging duplicates (DOMAIN §10): one transaction that writes the survivor's chosen fields,
//! moves everything the duplicate owns, leaves a tombstone, and records audit, event and a
//! timeline entry on the survivor.

use std::collections::BTreeMap;

use chrono::Utc;
use kundo_core::merge::{merged_data, parse_choices};
use kundo_core::search::search_doc;
use kundo_store::customers::{self as store, StoredCustomer};
use kundo_store::merge::Moved;
use kundo_store::{Db, StoreError};
use serde::Serialize;
use serde_json::json;

use crate::customers::CustomerView;
use crate::{Actor, App, AppError, Result};

#[derive(Debug, Clone, Serialize)]
pub struct MergeOutcome {
    pub survivor: CustomerView,
    pub merged_customer_number: String,
    pub moved: Moved,
}

/// Both records of a merge, locked and checked.
struct Pair {
    survivor: StoredCustomer,
    duplicate: StoredCustomer,
}

async fn load_pair(db: &mut Db<'_>, survivor_number: &str, duplicate_number: &str) -> Result<Pair> {
    let survivor_id = store::resolve_number(db, survivor_number.trim())
        .await?
        .ok_or(AppError::NotFound("customer"))?;
    let duplicate_id = store::resolve_number(db, duplicate_number.trim())
        .await?
        .ok_or_else(|| AppError::invalid("duplicate", "no customer has this number"))?;
    if survivor_id == duplicate_id {
        return Err(AppError::invalid(
            "duplicate",
            "is the same customer as the survivor (or was merged into it already)",
        ));
    }
    kundo_store::merge::lock_customers(db, &[survivor_id, duplicate_id]).await?;
    let survivor = store::load(db, survivor_id)
        .await?
        .ok_or(AppError::NotFound("customer"))?;
    let duplicate = store::load(db, duplicate_id)
        .await?
        .ok_or(AppError::NotFound("customer"))?;
    for (field, c) in [("customer_number", &survivor), ("duplicate", &duplicate)] {
        if c.meta.status != "active" {
            return Err(AppError::Conflict {
                field: field.into(),
                message: format!(
                    "customer {} has status '{}' and cannot be merged",
                    c.meta.customer_number, c.meta.status
                ),
            });
        }
    }
    if survivor.data.kind != duplicate.data.kind {
        return Err(AppError::invalid(
            "duplicate",
            "a person and an organization cannot be merged",
        ));
    }
    Ok(Pair {
        survivor,
        duplicate,
    })
}

impl App {
    /// What the survivor would look like after the merge; nothing is written.
    pub async fn merge_preview(
        &self,
        survivor_number: &str,
        duplicate_number: &str,
        fields: &BTreeMap<String, String>,
    ) -> Result<CustomerView> {
        let choices = parse_choices(fields).map_err(AppError::Invalid)?;
        let defs = self.attribute_definitions().await?;
        let mut tx = self.store.begin_read().await?;
        let Pair {
            mut survivor,
            duplicate,
        } = load_pair(&mut tx.db(), survivor_number, duplicate_number).await?;
        tx.commit().await?;
        survivor.data = merged_data(&survivor.data, &duplicate.data, &choices);
        survivor
            .data
            .card_numbers
            .extend(duplicate.data.card_numbers);
        Ok(CustomerView::build(survivor, &defs))
    }

    /// Merges `duplicate_number` into `survivor_number`, keeping per field the value `fields`
    /// chooses (`survivor` or `duplicate`; unnamed fields keep the survivor's value or fill its
    /// gaps from the duplicate).
    pub async fn merge_customers(
        &self,
        actor: &Actor,
        survivor_number: &str,
        duplicate_number: &str,
        fields: &BTreeMap<String, String>,
    ) -> Result<MergeOutcome> {
        let choices = parse_choices(fields).map_err(AppError::Invalid)?;
        let defs = self.attribute_definitions().await?;
        let now = Utc::now();
        let mut tx = self.store.begin_write().await?;
        let Pair {
            survivor,
            duplicate,
        } = load_pair(&mut tx.db(), survivor_number, duplicate_number).await?;
        let (to, from) = (survivor.meta.id, duplicate.meta.id);
        let new_data = merged_data(&survivor.data, &duplicate.data, &choices);
        let diff = survivor.data.diff(&new_data, &defs);
        if !diff.is_empty() {
            let doc = search_doc(&survivor.meta.customer_number, &new_data);
            let change = store::Change {
                old: &survivor.data,
                new: &new_data,
                new_consents: &[],
                search_doc: &doc,
                expected_version: survivor.meta.version,
            };
            store::update(&mut tx.db(), to, &change, now)
                .await
                .map_err(|e| match e {
                    StoreError::Stale => AppError::Stale,
                    e => AppError::Store(e),
                })?;
        }
        let moved =
            kundo_store::merge::move_owned(&mut tx.db(), from, to, &actor.name, now).await?;
        kundo_store::merge::finish(&mut tx.db(), from, to, fields, &moved, &actor.name, now)
            .await?;
        let merged_at_survivor = store::load(&mut tx.db(), to)
            .await?
            .ok_or(AppError::NotFound("customer"))?;
        kundo_store::dedup::refresh_keys(&mut tx.db(), to, &merged_at_survivor.data).await?;
        let (survivor_number, duplicate_number) = (
            survivor.meta.customer_number.clone(),
            duplicate.meta.customer_number.clone(),
        );
        let subject = format!("Merged with duplicate {duplicate_number}");
        kundo_store::activities::insert(
            &mut tx.db(),
            &kundo_store::activities::NewActivity {
                customer_id: to,
                kind: "merge",
                occurred_at: now,
                channel: None,
                direction: None,
                subject: &subject,
                body: None,
                case_id: None,
                reference: Some(&duplicate_number),
                actor: &actor.name,
            },
            now,
        )
        .await?;
        let changes: serde_json::Map<String, serde_json::Value> = diff
            .iter()
            .map(|(k, (old, new))| (k.clone(), json!({"old": old, "new": new})))
            .collect();
        let audit = json!({
            "survivor": survivor_number, "merged": duplicate_number,
            "field_choices": fields, "changes": changes, "moved": moved,
        });
        for id in [to, from] {
            kundo_store::audit::record(
                &mut tx.db(),
                &actor.name,
                "customer.merged",
                Some(id),
                &audit,
                now,
            )
            .await?;
        }
        kundo_store::audit::emit(
            &mut tx.db(),
            "customer.merged",
            Some(to),
            &json!({"customer_number": survivor_number, "merged_customer_number": duplicate_number}),
            now,
        )
        .await?;
        let balance = kundo_store::loyalty::balance(&mut tx.db(), to).await?;
        tx.commit().await?;
        let mut view = CustomerView::build(merged_at_survivor, &defs);
        view.balance = balance;
        Ok(MergeOutcome {
            survivor: view,
            merged_customer_number: duplicate_number,
            moved,
        })
    }
}
