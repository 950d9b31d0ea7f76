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
    ) -> Result<Vec<i64>> {
        let mut written = 0u64;
        let mut all_ids = Vec::with_capacity(n as usize);
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
            all_ids.extend(ids);
            written += take as u64;
            progress(written);
        }
        Ok(all_ids)
    }
}

/// Demo purchase history: two years of receipts per customer (store and online, realistic
/// baskets of an office-supplies and furniture chain), with a few returns. Written through the
/// same multi-row statements as batch ingest; scored by the default points rules.
pub mod receipts {
    use chrono::{DateTime, Duration, Utc};
    use kundo_core::demo::{DemoRng, demo_customer, demo_stores};
    use kundo_core::points::{PointsRules, ScoreContext, ScoreLine, points_to_reverse, score};
    use kundo_store::loyalty::{
        self as store, LedgerEntry, NewLine, NewReceipt, PurchaseDelta, StoreRow,
    };

    use crate::{App, Result};

    /// (category, sku prefix, minimum price, maximum price) in Rappen.
    const PRODUCTS: &[(&str, &str, i64, i64)] = &[
        ("Papier", "PAP", 390, 4_990),
        ("Papier", "PAP", 590, 2_490),
        ("Büromaterial", "BUE", 190, 3_990),
        ("Büromaterial", "BUE", 290, 1_990),
        ("Druckerzubehör", "DRU", 1_990, 12_990),
        ("Elektronik", "ELE", 2_990, 89_900),
        ("Möbel", "MOE", 9_900, 149_000),
        ("Geschenkkarten", "GSK", 2_000, 10_000),
    ];

    pub async fn ensure_stores(app: &App, n: usize) -> Result<Vec<String>> {
        let mut rows: Vec<StoreRow> = demo_stores(n)
            .into_iter()
            .map(|s| StoreRow {
                code: s.code,
                name: s.name,
                channel: "store".into(),
                street: Some(s.street),
                postcode: Some(s.postcode),
                city: Some(s.city),
                country: Some(s.country),
            })
            .collect();
        rows.push(StoreRow {
            code: "WEB".into(),
            name: "Onlineshop".into(),
            channel: "online".into(),
            street: None,
            postcode: None,
            city: None,
            country: None,
        });
        let codes = rows.iter().map(|r| r.code.clone()).collect();
        let mut tx = app.store.begin_write().await?;
        store::upsert_stores(&mut tx.db(), &rows, Utc::now()).await?;
        tx.commit().await?;
        Ok(codes)
    }

    struct Gen {
        receipt: NewReceipt,
        ret: Option<NewReceipt>,
    }

    fn basket(rng: &mut DemoRng, favourite: usize) -> Vec<(usize, i64, i64)> {
        let n = 1 + rng.below(5) as usize;
        (0..n)
            .map(|_| {
                // Each customer leans to one kind of product.
                let p = if rng.chance(1, 2) {
                    favourite
                } else {
                    rng.below(PRODUCTS.len() as u64) as usize
                };
                let (_, _, lo, hi) = PRODUCTS[p];
                let qty = 1 + rng.below(if p >= 5 { 1 } else { 4 }) as i64;
                let price = lo + rng.below((hi - lo) as u64 / 10) as i64 * 10;
                (p, qty, price * qty)
            })
            .collect()
    }

    fn generate(
        seed: u64,
        customer_index: u64,
        customer_id: i64,
        n_stores: usize,
        stores: &[String],
        now: DateTime<Utc>,
        next_id: &mut i64,
    ) -> Vec<Gen> {
        let mut rng = DemoRng::new(seed ^ customer_index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let c = demo_customer(seed, customer_index, n_stores);
        // A spread of activity: a third never buys, most buy a few times, some very often.
        let count = match rng.below(10) {
            0..=2 => 0,
            3..=6 => 1 + rng.below(6),
            7 | 8 => 6 + rng.below(15),
            _ => 20 + rng.below(40),
        };
        let online_share = rng.below(101);
        let favourite = rng.below(PRODUCTS.len() as u64 - 1) as usize;
        let lapsed_days = if rng.chance(1, 4) {
            200 + rng.below(400) as i64
        } else {
            0
        };
        let rules = PointsRules::default();
        let mut out = Vec::with_capacity(count as usize);
        for k in 0..count {
            let days_ago = lapsed_days + rng.below((730 - lapsed_days.min(700)) as u64) as i64;
            let at = now - Duration::days(days_ago) - Duration::minutes(rng.below(600) as i64);
            let online = rng.below(100) < online_share;
            let store_code = if online {
                "WEB".to_string()
            } else {
                stores
                    .get(c.home_store.min(stores.len().saturating_sub(2)))
                    .cloned()
                    .unwrap_or_else(|| "WEB".into())
            };
            let lines = basket(&mut rng, favourite);
            let score_lines: Vec<ScoreLine> = lines
                .iter()
                .map(|(p, _, a)| ScoreLine {
                    category: PRODUCTS[*p].0,
                    amount: *a,
                })
                .collect();
            let channel = if online { "online" } else { "store" };
            let s = score(
                &rules,
                &ScoreContext {
                    occurred_at: at,
                    store_code: Some(&store_code),
                    channel,
                    segment_ids: &[],
                },
                &score_lines,
            );
            let id = *next_id;
            *next_id += 1;
            let new_lines: Vec<NewLine> = lines
                .iter()
                .zip(&s.line_weights)
                .enumerate()
                .map(|(n, ((p, q, a), w))| NewLine {
                    line_no: n as i64 + 1,
                    sku: format!("{}{:04}", PRODUCTS[*p].1, (customer_index + n as u64) % 500),
                    category: PRODUCTS[*p].0.into(),
                    quantity: *q,
                    amount: *a,
                    weight: *w,
                    original_line_no: None,
                })
                .collect();
            let receipt = NewReceipt {
                id,
                source: if online {
                    "shop".into()
                } else {
                    format!("pos-{}", store_code.to_lowercase())
                },
                external_id: format!("demo-{customer_index}-{k}"),
                kind: "sale",
                original_receipt_id: None,
                customer_id: Some(customer_id),
                store_code: Some(store_code),
                channel: channel.into(),
                occurred_at: at,
                currency: "CHF".into(),
                total_amount: lines.iter().map(|l| l.2).sum(),
                eligible_amount: s.eligible_amount,
                weight: s.line_weights.iter().sum(),
                points: s.points,
                request_hash: "demo".into(),
                response: String::new(),
                lines: new_lines,
            };
            // About one receipt in thirty has its first line returned a few days later.
            let ret = if rng.chance(1, 30) && days_ago > 7 {
                let line = &receipt.lines[0];
                let reversed = points_to_reverse(receipt.points, receipt.weight, 0, line.weight);
                let rid = *next_id;
                *next_id += 1;
                Some(NewReceipt {
                    id: rid,
                    source: receipt.source.clone(),
                    external_id: format!("demo-{customer_index}-{k}-ret"),
                    kind: "return",
                    original_receipt_id: Some(id),
                    customer_id: Some(customer_id),
                    store_code: receipt.store_code.clone(),
                    channel: receipt.channel.clone(),
                    occurred_at: at + Duration::days(3),
                    currency: "CHF".into(),
                    total_amount: -line.amount,
                    eligible_amount: 0,
                    weight: line.weight,
                    points: -reversed,
                    request_hash: "demo".into(),
                    response: String::new(),
                    lines: vec![NewLine {
                        line_no: 1,
                        sku: line.sku.clone(),
                        category: line.category.clone(),
                        quantity: line.quantity,
                        amount: line.amount,
                        weight: line.weight,
                        original_line_no: Some(1),
                    }],
                })
            } else {
                None
            };
            out.push(Gen { receipt, ret });
        }
        out
    }

    impl App {
        /// Adds purchase history for the customers with ids `first_id..first_id + n` (demo
        /// customers whose sequence index is `id - 1`).
        pub async fn generate_demo_receipts(
            &self,
            seed: u64,
            customer_ids: &[i64],
            n_stores: usize,
            progress: &(dyn Fn(u64) + Sync),
        ) -> Result<u64> {
            let stores = ensure_stores(self, n_stores).await?;
            let now = Utc::now();
            let mut total = 0u64;
            for (step, chunk) in customer_ids.chunks(2_000).enumerate() {
                let mut tx = self.store.begin_write().await?;
                // Generated with local ids 0.., then given real ones reserved in one go.
                let mut next_id = 0i64;
                let mut gens = Vec::new();
                for id in chunk {
                    gens.extend(generate(
                        seed,
                        (*id - 1).max(0) as u64,
                        *id,
                        n_stores,
                        &stores,
                        now,
                        &mut next_id,
                    ));
                }
                let ids = kundo_store::customers::reserve_ids_in(
                    &mut tx.db(),
                    "receipts",
                    next_id as usize,
                )
                .await?;
                let real = |local: i64| ids.get(local as usize).copied().unwrap_or(local);
                for g in &mut gens {
                    g.receipt.id = real(g.receipt.id);
                    if let Some(r) = &mut g.ret {
                        r.id = real(r.id);
                        r.original_receipt_id = Some(g.receipt.id);
                    }
                }
                let mut receipts = Vec::new();
                let mut entries = Vec::new();
                let mut deltas = Vec::new();
                for g in gens {
                    for r in std::iter::once(g.receipt).chain(g.ret) {
                        let customer_id = r.customer_id.unwrap_or(0);
                        if r.points != 0 {
                            entries.push(LedgerEntry {
                                customer_id,
                                kind: if r.kind == "sale" { "earn" } else { "reverse" },
                                points: r.points,
                                receipt_id: Some(r.id),
                                voucher_id: None,
                                run_id: None,
                                reason: None,
                                actor: "demo".into(),
                            });
                        }
                        deltas.push(PurchaseDelta {
                            customer_id,
                            occurred_at: r.occurred_at,
                            month: r.occurred_at.format("%Y-%m").to_string(),
                            amount: r.total_amount,
                            receipts: i64::from(r.kind == "sale"),
                            online: r.channel == "online",
                            store_code: r.store_code.clone(),
                        });
                        receipts.push(r);
                    }
                }
                store::insert_receipts(&mut tx.db(), &receipts, now).await?;
                store::append(&mut tx.db(), &entries, now).await?;
                store::add_purchases(&mut tx.db(), &deltas).await?;
                tx.commit().await?;
                total += receipts.len() as u64;
                progress(((step + 1) * 2_000).min(customer_ids.len()) as u64);
            }
            Ok(total)
        }
    }
}
