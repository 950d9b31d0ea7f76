//! Demo data: realistic Swiss and German customers from `kundo_core::demo`, written through the
//! same bulk path as an import. Deterministic for a seed.

use chrono::Utc;
use kundo_core::customer::{Address, Consent, CustomerData, Kind, Phone, customer_number_for};
use kundo_core::demo::{DemoCustomer, demo_customer};
use kundo_core::search::search_doc;
use kundo_store::customers::{self as store, NewCustomerRow};

use crate::{App, Result};

/// Rows per transaction: big enough to amortize the commit, small enough to keep the WAL small.
const CHUNK: usize = 5_000;

pub fn to_data(c: &DemoCustomer) -> (CustomerData, Vec<Consent>) {
    let now = Utc::now();
    let data = CustomerData {
        kind: if c.kind == "organization" {
            Kind::Organization
        } else {
            Kind::Person
        },
        salutation: c.salutation.map(str::to_string),
        title: c.title.map(str::to_string),
        first_name: c.first_name.clone(),
        last_name: c.last_name.clone(),
        company_name: c.company_name.clone(),
        birth_date: c.birth_date,
        gender: c.gender.map(str::to_string),
        language: Some(c.language.to_string()),
        email: c.email.clone(),
        preferred_channel: c.preferred_channel.map(str::to_string),
        phones: c
            .phone
            .iter()
            .map(|p| Phone {
                kind: "mobile".into(),
                number: p.clone(),
            })
            .collect(),
        addresses: vec![Address {
            kind: "main".into(),
            street: c.street.clone(),
            house_number: Some(c.house_number.clone()),
            address_line2: None,
            postcode: c.postcode.clone(),
            city: c.city.clone(),
            country: c.country.to_string(),
        }],
        card_numbers: vec![c.card_number.clone()],
        attributes: Default::default(),
        contacts: Vec::new(),
    };
    let statement = |channel: &str, granted: bool| Consent {
        channel: channel.into(),
        status: if granted { "granted" } else { "denied" }.into(),
        source: "demo".into(),
        proof: None,
        recorded_at: now,
    };
    let mut consents = vec![statement("letter", c.consent_letter)];
    if c.email.is_some() {
        consents.push(statement("email", c.consent_email));
    }
    (data, consents)
}

impl App {
    /// Adds `n` demo customers (index `first_index..first_index + n` of the seed's sequence).
    /// `progress` is told how many are written so far.
    pub async fn generate_demo(
        &self,
        n: u64,
        seed: u64,
        stores: usize,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<()> {
        let mut written = 0u64;
        while written < n {
            let take = (n - written).min(CHUNK as u64) as usize;
            let now = Utc::now();
            let mut tx = self.store.begin_write().await?;
            let ids = store::reserve_ids(&mut tx.db(), take).await?;
            // The demo sequence continues where the database ends, so a second run adds new
            // people instead of colliding with card numbers of the first.
            let offset = ids.first().copied().unwrap_or(1) as u64 - 1;
            let rows: Vec<NewCustomerRow> = ids
                .iter()
                .enumerate()
                .map(|(i, id)| {
                    let demo = demo_customer(seed, offset + i as u64, stores);
                    let (data, consents) = to_data(&demo);
                    let number = customer_number_for(*id);
                    let doc = search_doc(&number, &data);
                    NewCustomerRow {
                        id: *id,
                        customer_number: number,
                        data,
                        consents,
                        search_doc: doc,
                    }
                })
                .collect();
            store::insert_customers(&mut tx.db(), &rows, now).await?;
            tx.commit().await?;
            written += take as u64;
            progress(written);
        }
        Ok(())
    }
}
