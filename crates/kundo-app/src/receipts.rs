//! Sales and returns (DOMAIN §2): receipts booked in batches, idempotent by `(source,
//! external_id)`, scored by the points rules in force when the sale happened, with the ledger,
//! the balance and the purchase figures moved in the same transaction.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike, Utc};
use kundo_core::error::{Errors, FieldError};
use kundo_core::points::{
    PointsRules, Promotion, ScoreContext, ScoreLine, points_to_reverse, score, segments_to_test,
};
use kundo_core::sale_bounds::{self, SaleBounds};
use kundo_store::Db;
use kundo_store::loyalty::{self as store, LedgerEntry, NewLine, NewReceipt, PurchaseDelta};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{Actor, App, AppError, Result};

pub const MAX_LINES: usize = 500;
pub const MAX_BATCH: usize = 5_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptInput {
    pub source: String,
    pub external_id: String,
    #[serde(default)]
    pub store_code: Option<String>,
    pub channel: String,
    pub occurred_at: String,
    pub currency: String,
    #[serde(default)]
    pub card_number: Option<String>,
    #[serde(default)]
    pub customer_number: Option<String>,
    pub lines: Vec<LineInput>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineInput {
    pub sku: String,
    pub category: String,
    pub quantity: i64,
    pub amount: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnInput {
    pub external_id: String,
    #[serde(default)]
    pub occurred_at: Option<String>,
    pub lines: Vec<ReturnLineInput>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnLineInput {
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub line_no: Option<i64>,
    pub quantity: i64,
    #[serde(default)]
    pub amount: Option<i64>,
}

/// The answer for one receipt: 201 when booked now, 200 when it was booked before (the first
/// answer, replayed).
#[derive(Debug, Clone)]
pub struct Booked {
    pub status: u16,
    pub body: String,
}

struct Valid {
    occurred_at: DateTime<Utc>,
    hash: String,
}

fn text(e: &mut Errors, field: &str, v: &str, max: usize) {
    if v.trim().is_empty()
        || v.chars().count() > max
        || v.chars().any(kundo_core::invisible::is_invisible)
    {
        e.push(field, format!("must be 1-{max} printable characters"));
    }
}

/// Checks a receipt on its own (no database): shapes, amounts, channel, time (within `bounds`).
pub fn validate_receipt(
    r: &ReceiptInput,
    now: DateTime<Utc>,
    bounds: &SaleBounds,
) -> std::result::Result<DateTime<Utc>, Vec<FieldError>> {
    let mut e = Errors::default();
    text(&mut e, "source", &r.source, 100);
    text(&mut e, "external_id", &r.external_id, 100);
    if !matches!(r.channel.as_str(), "store" | "online") {
        e.push("channel", "must be store or online");
    }
    match &r.store_code {
        Some(s) => text(&mut e, "store_code", s, 40),
        None if r.channel == "store" => e.push("store_code", "is required for a sale in a store"),
        None => {}
    }
    if r.currency.len() != 3 || !r.currency.chars().all(|c| c.is_ascii_uppercase()) {
        e.push("currency", "must be an ISO 4217 code such as CHF or EUR");
    }
    if r.card_number.is_some() && r.customer_number.is_some() {
        e.push(
            "customer_number",
            "give either card_number or customer_number, not both",
        );
    }
    let occurred = e
        .check(
            "occurred_at",
            kundo_core::customer::parse_timestamp(&r.occurred_at),
        )
        .and_then(|t| e.check("occurred_at", bounds.check_time(t, now).map(|_| t)));
    if r.lines.is_empty() || r.lines.len() > MAX_LINES {
        e.push("lines", format!("a receipt has 1 to {MAX_LINES} lines"));
    }
    let mut amounts_ok = true;
    for (i, l) in r.lines.iter().enumerate().take(MAX_LINES) {
        text(&mut e, &format!("lines[{i}].sku"), &l.sku, 64);
        text(&mut e, &format!("lines[{i}].category"), &l.category, 100);
        if let Err(m) = sale_bounds::check_quantity(l.quantity) {
            e.push(
                format!("lines[{i}].quantity"),
                format!("{m} (returns go to …/returns)"),
            );
        }
        if let Err(m) = sale_bounds::check_line_amount(l.amount) {
            amounts_ok = false;
            e.push(format!("lines[{i}].amount"), m);
        }
    }
    if amounts_ok
        && let Err(m) = sale_bounds::check_receipt_amount(r.lines.iter().map(|l| l.amount))
    {
        e.push("lines", m);
    }
    match occurred {
        Some(t) if e.is_empty() => Ok(t),
        _ => Err(e.0),
    }
}

/// The points rules in force at a time: the latest version that started before it.
pub struct RulesBook {
    versions: Vec<(DateTime<Utc>, PointsRules)>,
}

impl RulesBook {
    /// The promotions limited to the segment that sales from `now` on could still get.
    pub fn promotions_ahead_for_segment(
        &self,
        segment_id: i64,
        now: DateTime<Utc>,
    ) -> Vec<&Promotion> {
        kundo_core::points::promotions_ahead_for_segment(&self.versions, segment_id, now)
    }

    pub fn at(&self, t: DateTime<Utc>) -> PointsRules {
        self.versions
            .iter()
            .rev()
            .find(|(from, _)| *from <= t)
            .map(|(_, r)| r.clone())
            .unwrap_or_default()
    }
}

pub(crate) async fn rules_book(db: &mut Db<'_>) -> Result<RulesBook> {
    let mut versions = Vec::new();
    for (_, from, rules, _, _) in store::rules_versions(db).await? {
        let parsed: PointsRules = serde_json::from_str(&rules)
            .map_err(|e| AppError::Io(format!("stored points rules are unreadable: {e}")))?;
        versions.push((from, parsed));
    }
    Ok(RulesBook { versions })
}

fn month_of(t: DateTime<Utc>) -> String {
    format!("{:04}-{:02}", t.year(), t.month())
}

/// Raised inside a batch when a concurrent transaction booked one of its receipts first.
struct Raced;

impl App {
    /// Books a batch of receipts in one transaction. Each item gets its own outcome: a booking,
    /// a replay, or a problem; a bad item never blocks the others.
    pub async fn book_receipts(
        &self,
        actor: &Actor,
        items: Vec<ReceiptInput>,
    ) -> Result<Vec<std::result::Result<Booked, AppError>>> {
        if items.len() > MAX_BATCH {
            return Err(AppError::invalid(
                "receipts",
                format!("at most {MAX_BATCH} receipts per batch"),
            ));
        }
        // PostgreSQL: a concurrent batch may claim one of our receipts between our check and
        // our insert; then the whole batch runs again and sees it as a duplicate.
        for _ in 0..3 {
            match self.try_book(actor, &items).await? {
                Ok(out) => return Ok(out),
                Err(Raced) => continue,
            }
        }
        Err(AppError::Io(
            "receipts kept racing with concurrent bookings".into(),
        ))
    }

    async fn try_book(
        &self,
        actor: &Actor,
        items: &[ReceiptInput],
    ) -> Result<std::result::Result<Vec<std::result::Result<Booked, AppError>>, Raced>> {
        let now = Utc::now();
        let mut out: Vec<Slot> = items.iter().map(|_| Slot::Pending).collect();
        let mut valid: Vec<Option<Valid>> = Vec::with_capacity(items.len());
        for (i, r) in items.iter().enumerate() {
            match validate_receipt(r, now, &self.sale_bounds) {
                Ok(t) => {
                    let hash =
                        crate::auth::sha256_hex(&serde_json::to_string(r).unwrap_or_default());
                    valid.push(Some(Valid {
                        occurred_at: t,
                        hash,
                    }));
                }
                Err(errs) => {
                    out[i] = Slot::Done(Err(AppError::Invalid(errs)));
                    valid.push(None);
                }
            }
        }
        let mut tx = self.store.begin_write().await?;
        let keys: Vec<(String, String)> = items
            .iter()
            .zip(&valid)
            .filter(|(_, v)| v.is_some())
            .map(|(r, _)| (r.source.clone(), r.external_id.clone()))
            .collect();
        let existing: HashMap<(String, String), store::ReceiptRow> =
            store::find_receipts(&mut tx.db(), &keys)
                .await?
                .into_iter()
                .map(|r| ((r.source.clone(), r.external_id.clone()), r))
                .collect();
        let codes: Vec<String> = items
            .iter()
            .filter_map(|r| r.store_code.clone())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let known: HashSet<String> = store::known_stores(&mut tx.db(), &codes)
            .await?
            .into_iter()
            .collect();
        let cards: Vec<String> = items
            .iter()
            .filter_map(|r| {
                r.card_number
                    .as_ref()
                    .map(|c| c.split_whitespace().collect::<String>())
            })
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let mut by_card = store::customers_by_card(&mut tx.db(), &cards).await?;
        let mut by_number: HashMap<String, Option<i64>> = HashMap::new();
        for n in items.iter().filter_map(|r| r.customer_number.as_deref()) {
            if !by_number.contains_key(n) {
                let id = kundo_store::customers::resolve_number(&mut tx.db(), n.trim()).await?;
                by_number.insert(n.to_string(), id);
            }
        }
        // A merge may have turned a customer into a tombstone since the cards were read: lock the
        // customers and follow merges, so a receipt is never booked on a tombstone (ADR 6).
        let ids: Vec<i64> = by_card
            .values()
            .copied()
            .chain(by_number.values().filter_map(|v| *v))
            .collect();
        let current = kundo_store::customers::lock_current(&mut tx.db(), &ids).await?;
        for id in by_card.values_mut() {
            *id = current.get(id).copied().unwrap_or(*id);
        }
        for id in by_number.values_mut().flatten() {
            *id = current.get(id).copied().unwrap_or(*id);
        }
        let rules = rules_book(&mut tx.db()).await?;
        let mut memberships = crate::membership::Memberships::default();

        // Decide every item; collect the new bookings.
        struct New {
            index: usize,
            receipt: NewReceipt,
        }
        let mut new: Vec<New> = Vec::new();
        let mut seen_in_batch: HashMap<(String, String), usize> = HashMap::new();
        for (i, r) in items.iter().enumerate() {
            let Some(v) = &valid[i] else { continue };
            let key = (r.source.clone(), r.external_id.clone());
            if let Some(prev) = existing.get(&key) {
                out[i] = Slot::Done(if prev.request_hash == v.hash {
                    Ok(Booked {
                        status: 200,
                        body: prev.response.clone(),
                    })
                } else {
                    Err(AppError::Conflict {
                        field: "external_id".into(),
                        message: format!(
                            "receipt {}/{} was booked before with other content",
                            r.source, r.external_id
                        ),
                    })
                });
                continue;
            }
            if let Some(&first) = seen_in_batch.get(&key) {
                // The same receipt twice in one batch: the second answers like a resend.
                let same = valid[first].as_ref().is_some_and(|f| f.hash == v.hash);
                out[i] = if same {
                    Slot::SameAs(first)
                } else {
                    Slot::Done(Err(AppError::Conflict {
                        field: "external_id".into(),
                        message:
                            "the same receipt appears twice in this batch with different content"
                                .into(),
                    }))
                };
                continue;
            }
            if let Some(code) = &r.store_code
                && !known.contains(code)
            {
                out[i] = Slot::Done(Err(AppError::invalid(
                    "store_code",
                    format!("store {code} does not exist"),
                )));
                continue;
            }
            let customer_id = match (&r.card_number, &r.customer_number) {
                (Some(card), _) => {
                    match by_card.get(&card.split_whitespace().collect::<String>()) {
                        Some(id) => Some(*id),
                        None => {
                            out[i] = Slot::Done(Err(AppError::invalid(
                                "card_number",
                                "no active card with this number",
                            )));
                            continue;
                        }
                    }
                }
                (None, Some(n)) => match by_number.get(n).copied().flatten() {
                    Some(id) => Some(id),
                    None => {
                        out[i] = Slot::Done(Err(AppError::invalid(
                            "customer_number",
                            "no customer with this number",
                        )));
                        continue;
                    }
                },
                (None, None) => None,
            };
            let lines: Vec<ScoreLine> = r
                .lines
                .iter()
                .map(|l| ScoreLine {
                    category: &l.category,
                    amount: l.amount,
                })
                .collect();
            let rules_then = rules.at(v.occurred_at);
            let mut ctx = ScoreContext {
                occurred_at: v.occurred_at,
                store_code: r.store_code.as_deref(),
                channel: &r.channel,
                segment_ids: &[],
            };
            // The customer's segments on the day of the sale, asked only where a promotion in
            // force could make them change the points (usually none: nothing is asked).
            let in_segments = match customer_id {
                Some(c) => {
                    let wanted = segments_to_test(&rules_then, &ctx, &lines);
                    if wanted.is_empty() {
                        Vec::new()
                    } else {
                        let day = v.occurred_at.date_naive();
                        memberships.of(self, &mut tx.db(), c, &wanted, day).await?
                    }
                }
                None => Vec::new(),
            };
            ctx.segment_ids = &in_segments;
            let s = score(&rules_then, &ctx, &lines);
            let points = if customer_id.is_some() { s.points } else { 0 };
            if let Err(m) = self.sale_bounds.check_points(points) {
                out[i] = Slot::Done(Err(AppError::invalid("lines", m)));
                continue;
            }
            seen_in_batch.insert(key, i);
            new.push(New {
                index: i,
                receipt: NewReceipt {
                    id: 0,
                    source: r.source.clone(),
                    external_id: r.external_id.clone(),
                    kind: "sale",
                    original_receipt_id: None,
                    customer_id,
                    store_code: r.store_code.clone(),
                    channel: r.channel.clone(),
                    occurred_at: v.occurred_at,
                    currency: r.currency.clone(),
                    total_amount: r.lines.iter().map(|l| l.amount).sum(),
                    eligible_amount: s.eligible_amount,
                    weight: s.line_weights.iter().sum(),
                    points,
                    request_hash: v.hash.clone(),
                    response: String::new(),
                    lines: r
                        .lines
                        .iter()
                        .zip(&s.line_weights)
                        .enumerate()
                        .map(|(n, (l, w))| NewLine {
                            line_no: n as i64 + 1,
                            sku: l.sku.clone(),
                            category: l.category.clone(),
                            quantity: l.quantity,
                            amount: l.amount,
                            weight: *w,
                            original_line_no: None,
                        })
                        .collect(),
                },
            });
        }

        let ids =
            kundo_store::customers::reserve_ids_in(&mut tx.db(), "receipts", new.len()).await?;
        for (n, id) in new.iter_mut().zip(ids) {
            n.receipt.id = id;
        }
        let entries: Vec<LedgerEntry> = new
            .iter()
            .filter(|n| n.receipt.points != 0)
            .filter_map(|n| {
                Some(LedgerEntry {
                    customer_id: n.receipt.customer_id?,
                    kind: "earn",
                    points: n.receipt.points,
                    receipt_id: Some(n.receipt.id),
                    voucher_id: None,
                    run_id: None,
                    reason: None,
                    actor: actor.name.clone(),
                })
            })
            .collect();
        let finals = store::append(&mut tx.db(), &entries, now).await?;
        // Running balance per customer: the final balance less what this batch adds after each receipt.
        let mut added: HashMap<i64, i64> = HashMap::new();
        for e in &entries {
            *added.entry(e.customer_id).or_default() += e.points;
        }
        let mut running: HashMap<i64, i64> = HashMap::new();
        for n in &mut new {
            let balance = match n.receipt.customer_id {
                Some(c) => {
                    let before = match (running.get(&c), finals.get(&c)) {
                        (Some(b), _) => *b,
                        (None, Some(f)) => f - added.get(&c).copied().unwrap_or(0),
                        (None, None) => store::balance(&mut tx.db(), c).await?,
                    };
                    let after = before + n.receipt.points;
                    running.insert(c, after);
                    Some(after)
                }
                None => None,
            };
            n.receipt.response = json!({"receipt_id": n.receipt.id, "points_earned": n.receipt.points, "balance": balance}).to_string();
        }
        let receipts: Vec<NewReceipt> = new.iter().map(|n| clone_receipt(&n.receipt)).collect();
        let inserted = store::insert_receipts(&mut tx.db(), &receipts, now).await?;
        if inserted.len() != receipts.len() {
            return Ok(Err(Raced));
        }
        let deltas: Vec<PurchaseDelta> = new
            .iter()
            .filter_map(|n| {
                Some(PurchaseDelta {
                    customer_id: n.receipt.customer_id?,
                    occurred_at: n.receipt.occurred_at,
                    month: month_of(n.receipt.occurred_at),
                    amount: n.receipt.total_amount,
                    receipts: 1,
                    online: n.receipt.channel == "online",
                    store_code: n.receipt.store_code.clone(),
                })
            })
            .collect();
        store::add_purchases(&mut tx.db(), &deltas).await?;
        tx.commit().await?;
        for n in new {
            out[n.index] = Slot::Done(Ok(Booked {
                status: 201,
                body: n.receipt.response,
            }));
        }
        // A receipt repeated inside the batch answers like a resend of its first occurrence.
        let bodies: Vec<Option<String>> = out
            .iter()
            .map(|o| match o {
                Slot::Done(Ok(b)) => Some(b.body.clone()),
                _ => None,
            })
            .collect();
        let final_out = out
            .into_iter()
            .map(|o| match o {
                Slot::Done(r) => r,
                Slot::SameAs(first) => match bodies.get(first).cloned().flatten() {
                    Some(body) => Ok(Booked { status: 200, body }),
                    None => Err(AppError::Conflict {
                        field: "external_id".into(),
                        message: "repeats a receipt of this batch that was not booked".into(),
                    }),
                },
                Slot::Pending => Err(AppError::Io("receipt was not decided".into())),
            })
            .collect();
        Ok(Ok(final_out))
    }

    /// One receipt. Concurrent single receipts are booked together (group commit): they queue
    /// for one writer that books whatever has arrived as one batch, so a till's single POST costs
    /// a share of a transaction instead of a whole one.
    pub async fn book_receipt(&self, actor: &Actor, input: ReceiptInput) -> Result<Booked> {
        let queue = self
            .receipt_queue
            .get_or_init(|| spawn_receipt_writer(self.clone()))
            .clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        queue
            .send((actor.clone(), input, tx))
            .await
            .map_err(|_| AppError::Io("the receipt writer stopped".into()))?;
        rx.await
            .map_err(|_| AppError::Io("the receipt writer dropped a receipt".into()))?
    }

    /// Books a return of some lines of a receipt and reverses the points in proportion.
    pub async fn book_return(
        &self,
        actor: &Actor,
        source: &str,
        external_id: &str,
        input: ReturnInput,
    ) -> Result<Booked> {
        let now = Utc::now();
        let mut e = Errors::default();
        text(&mut e, "external_id", &input.external_id, 100);
        let occurred_at = match &input.occurred_at {
            Some(t) => e
                .check("occurred_at", kundo_core::customer::parse_timestamp(t))
                .and_then(|t| {
                    e.check(
                        "occurred_at",
                        self.sale_bounds.check_time(t, now).map(|_| t),
                    )
                }),
            None => Some(now),
        };
        if input.lines.is_empty() || input.lines.len() > MAX_LINES {
            e.push("lines", format!("a return has 1 to {MAX_LINES} lines"));
        }
        for (i, l) in input.lines.iter().enumerate() {
            if l.sku.is_none() && l.line_no.is_none() {
                e.push(
                    format!("lines[{i}]"),
                    "name the original line by sku or line_no",
                );
            }
            if let Err(m) = sale_bounds::check_quantity(l.quantity) {
                e.push(format!("lines[{i}].quantity"), m);
            }
            if let Some(Err(m)) = l.amount.map(sale_bounds::check_line_amount) {
                e.push(format!("lines[{i}].amount"), m);
            }
        }
        let Some(occurred_at) = occurred_at.filter(|_| e.is_empty()) else {
            return Err(AppError::Invalid(e.0));
        };
        let hash = crate::auth::sha256_hex(&format!(
            "{source}\u{0}{external_id}\u{0}{}",
            serde_json::to_string(&input).unwrap_or_default()
        ));

        let mut tx = self.store.begin_write().await?;
        let mut original = store::receipt_for_return(&mut tx.db(), source, external_id)
            .await?
            .ok_or(AppError::NotFound("receipt"))?;
        if let Some(id) = original.customer_id {
            // The receipt's customer may be merged meanwhile (ADR 6).
            let current = kundo_store::customers::lock_current(&mut tx.db(), &[id]).await?;
            original.customer_id = current.get(&id).copied().or(Some(id));
        }
        if original.kind != "sale" {
            return Err(AppError::invalid(
                "external_id",
                "a return cannot be returned",
            ));
        }
        let key = (original.source.clone(), input.external_id.clone());
        if let Some(prev) = store::find_receipts(&mut tx.db(), std::slice::from_ref(&key))
            .await?
            .pop()
        {
            return if prev.request_hash == hash {
                Ok(Booked {
                    status: 200,
                    body: prev.response,
                })
            } else {
                Err(AppError::Conflict {
                    field: "external_id".into(),
                    message: format!("{}/{} was booked before with other content", key.0, key.1),
                })
            };
        }
        let lines = store::lines(&mut tx.db(), original.id).await?;
        let mut taken = store::returned_so_far(&mut tx.db(), original.id).await?;
        let returned_before: i64 = taken.values().map(|(_, _, w)| w).sum();
        let mut new_lines = Vec::new();
        for (i, l) in input.lines.iter().enumerate() {
            let candidate = lines.iter().find(|o| {
                let remaining = o.quantity - taken.get(&o.line_no).map_or(0, |t| t.0);
                match (l.line_no, &l.sku) {
                    (Some(n), _) => o.line_no == n,
                    (None, Some(sku)) => &o.sku == sku && remaining > 0,
                    _ => false,
                }
            });
            let Some(o) = candidate else {
                return Err(AppError::invalid(
                    format!("lines[{i}]"),
                    "no line of the receipt matches (or it was returned in full already)",
                ));
            };
            let (q_done, a_done, w_done) = taken.get(&o.line_no).copied().unwrap_or((0, 0, 0));
            if l.quantity > o.quantity - q_done {
                return Err(AppError::invalid(
                    format!("lines[{i}].quantity"),
                    format!("only {} of {} left to return", o.quantity - q_done, o.sku),
                ));
            }
            let amount = l.amount.unwrap_or_else(|| {
                if o.quantity > 0 {
                    o.amount * l.quantity / o.quantity
                } else {
                    0
                }
            });
            if amount > o.amount - a_done {
                return Err(AppError::invalid(
                    format!("lines[{i}].amount"),
                    format!(
                        "more than was paid: {} left of line {}",
                        o.amount - a_done,
                        o.line_no
                    ),
                ));
            }
            // The last unit returns whatever weight is left, so a full return reverses all.
            // What is left of the line's weight goes with the last of its amount, so a line
            // returned in several parts reverses all of its points and never more.
            let weight = if amount == o.amount - a_done {
                o.weight - w_done
            } else if o.amount > 0 {
                i64::try_from(i128::from(o.weight) * i128::from(amount) / i128::from(o.amount))
                    .unwrap_or(0)
            } else {
                0
            };
            let t = taken.entry(o.line_no).or_insert((0, 0, 0));
            t.0 += l.quantity;
            t.1 += amount;
            t.2 += weight;
            new_lines.push(NewLine {
                line_no: i as i64 + 1,
                sku: o.sku.clone(),
                category: o.category.clone(),
                quantity: l.quantity,
                amount,
                weight,
                original_line_no: Some(o.line_no),
            });
        }
        let weight_now: i64 = new_lines.iter().map(|l| l.weight).sum();
        let reversed = if original.customer_id.is_some() {
            points_to_reverse(
                original.points,
                original.weight,
                returned_before,
                weight_now,
            )
        } else {
            0
        };
        let id = kundo_store::customers::reserve_ids_in(&mut tx.db(), "receipts", 1)
            .await?
            .pop()
            .ok_or_else(|| AppError::Io("no id".into()))?;
        let mut balance = None;
        if let Some(c) = original.customer_id {
            let entries = if reversed != 0 {
                vec![LedgerEntry {
                    customer_id: c,
                    kind: "reverse",
                    points: -reversed,
                    receipt_id: Some(id),
                    voucher_id: None,
                    run_id: None,
                    reason: Some(format!("return of {source}/{external_id}")),
                    actor: actor.name.clone(),
                }]
            } else {
                Vec::new()
            };
            let finals = store::append(&mut tx.db(), &entries, now).await?;
            balance = Some(match finals.get(&c) {
                Some(b) => *b,
                None => store::balance(&mut tx.db(), c).await?,
            });
        }
        let total: i64 = new_lines.iter().map(|l| l.amount).sum();
        let response =
            json!({"receipt_id": id, "points_reversed": reversed, "balance": balance}).to_string();
        let receipt = NewReceipt {
            id,
            source: original.source.clone(),
            external_id: input.external_id.clone(),
            kind: "return",
            original_receipt_id: Some(original.id),
            customer_id: original.customer_id,
            store_code: original.store_code.clone(),
            channel: original.channel.clone(),
            occurred_at,
            currency: "CHF".into(),
            total_amount: -total,
            eligible_amount: 0,
            weight: weight_now,
            points: -reversed,
            request_hash: hash,
            response: response.clone(),
            lines: new_lines,
        };
        if store::insert_receipts(&mut tx.db(), std::slice::from_ref(&receipt), now)
            .await?
            .len()
            != 1
        {
            return Err(AppError::Conflict {
                field: "external_id".into(),
                message: "this return is being booked concurrently".into(),
            });
        }
        if let Some(c) = original.customer_id {
            // Returns count against the month of the purchase: revenue figures stay net.
            store::add_purchases(
                &mut tx.db(),
                &[PurchaseDelta {
                    customer_id: c,
                    occurred_at: original.occurred_at,
                    month: month_of(original.occurred_at),
                    amount: -total,
                    receipts: 0,
                    online: original.channel == "online",
                    store_code: original.store_code.clone(),
                }],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(Booked {
            status: 201,
            body: response,
        })
    }

    /// A manual correction of the points account (with a reason), audited.
    pub async fn adjust_points(
        &self,
        actor: &Actor,
        customer_number: &str,
        points: i64,
        reason: &str,
    ) -> Result<i64> {
        if points == 0 || points.abs() > 10_000_000 {
            return Err(AppError::invalid(
                "points",
                "must be a non-zero number of points up to 10,000,000",
            ));
        }
        if reason.trim().is_empty()
            || reason.chars().count() > 500
            || reason.chars().any(char::is_control)
        {
            return Err(AppError::invalid(
                "reason",
                "say why (1-500 printable characters)",
            ));
        }
        let now = Utc::now();
        let mut tx = self.store.begin_write().await?;
        let id = kundo_store::customers::resolve_number(&mut tx.db(), customer_number.trim())
            .await?
            .ok_or(AppError::NotFound("customer"))?;
        let entry = LedgerEntry {
            customer_id: id,
            kind: "adjust",
            points,
            receipt_id: None,
            voucher_id: None,
            run_id: None,
            reason: Some(reason.trim().to_string()),
            actor: actor.name.clone(),
        };
        let balance = store::append(&mut tx.db(), &[entry], now)
            .await?
            .get(&id)
            .copied()
            .unwrap_or(0);
        kundo_store::audit::record(
            &mut tx.db(),
            &actor.name,
            "points.adjusted",
            Some(id),
            &json!({"points": points, "reason": reason.trim(), "balance": balance}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(balance)
    }

    pub async fn points(
        &self,
        customer_number: &str,
        before: Option<i64>,
        limit: i64,
    ) -> Result<PointsView> {
        let mut tx = self.store.begin_read().await?;
        let id = kundo_store::customers::resolve_number(&mut tx.db(), customer_number.trim())
            .await?
            .ok_or(AppError::NotFound("customer"))?;
        let balance = store::balance(&mut tx.db(), id).await?;
        let entries = store::entries(&mut tx.db(), id, before, limit).await?;
        tx.commit().await?;
        let next_cursor = if entries.len() as i64 == limit {
            entries.last().map(|e| e.id.to_string())
        } else {
            None
        };
        Ok(PointsView {
            balance,
            entries,
            next_cursor,
        })
    }

    pub async fn purchase_figures(&self, customer_number: &str) -> Result<store::PurchaseFigures> {
        self.purchase_figures_on(customer_number, Utc::now().date_naive())
            .await
    }

    /// The figures with "the last 12 months" ([`kundo_core::twelve_months`]) as they are on
    /// `as_of`.
    pub async fn purchase_figures_on(
        &self,
        customer_number: &str,
        as_of: chrono::NaiveDate,
    ) -> Result<store::PurchaseFigures> {
        let mut tx = self.store.begin_read().await?;
        let id = kundo_store::customers::resolve_number(&mut tx.db(), customer_number.trim())
            .await?
            .ok_or(AppError::NotFound("customer"))?;
        let (from, to) = kundo_core::twelve_months::months(as_of);
        let f = store::figures(&mut tx.db(), id, &from, &to).await?;
        tx.commit().await?;
        Ok(f)
    }

    /// Adds a version of the points rules, in force from `valid_from`.
    pub async fn set_points_rules(
        &self,
        actor: &Actor,
        valid_from: DateTime<Utc>,
        rules: &PointsRules,
    ) -> Result<i64> {
        rules.validate().map_err(AppError::Invalid)?;
        let now = Utc::now();
        let text = serde_json::to_string(rules).map_err(|e| AppError::Io(e.to_string()))?;
        let mut tx = self.store.begin_write().await?;
        // Every segment named must exist; locked, so that it is not deleted meanwhile (the
        // deletion looks for promotions that use it, and waits for this transaction).
        let mut missing = Errors::default();
        for (i, p) in rules.promotions.iter().enumerate() {
            for (j, id) in p.segment_ids.iter().enumerate() {
                if kundo_store::segments::lock(&mut tx.db(), *id)
                    .await?
                    .is_none()
                {
                    missing.push(
                        format!("promotions[{i}].segment_ids[{j}]"),
                        "no segment with this id",
                    );
                }
            }
        }
        if !missing.is_empty() {
            return Err(AppError::Invalid(missing.0));
        }
        let id =
            store::add_rules_version(&mut tx.db(), valid_from, &text, &actor.name, now).await?;
        kundo_store::audit::record(
            &mut tx.db(),
            &actor.name,
            "points_rules.changed",
            None,
            &json!({"id": id, "valid_from": valid_from, "rules": rules}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn points_rules(&self) -> Result<Vec<serde_json::Value>> {
        let mut conn = self.store.acquire().await?;
        let versions = store::rules_versions(&mut conn.db()).await?;
        Ok(versions
            .into_iter()
            .map(|(id, from, rules, by, at)| json!({"id": id, "valid_from": from, "rules": serde_json::from_str::<serde_json::Value>(&rules).unwrap_or_default(), "created_by": by, "created_at": at}))
            .collect())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PointsView {
    pub balance: i64,
    pub entries: Vec<store::LedgerRow>,
    pub next_cursor: Option<String>,
}

fn clone_receipt(r: &NewReceipt) -> NewReceipt {
    NewReceipt {
        id: r.id,
        source: r.source.clone(),
        external_id: r.external_id.clone(),
        kind: r.kind,
        original_receipt_id: r.original_receipt_id,
        customer_id: r.customer_id,
        store_code: r.store_code.clone(),
        channel: r.channel.clone(),
        occurred_at: r.occurred_at,
        currency: r.currency.clone(),
        total_amount: r.total_amount,
        eligible_amount: r.eligible_amount,
        weight: r.weight,
        points: r.points,
        request_hash: r.request_hash.clone(),
        response: r.response.clone(),
        lines: r
            .lines
            .iter()
            .map(|l| NewLine {
                line_no: l.line_no,
                sku: l.sku.clone(),
                category: l.category.clone(),
                quantity: l.quantity,
                amount: l.amount,
                weight: l.weight,
                original_line_no: l.original_line_no,
            })
            .collect(),
    }
}

enum Slot {
    Pending,
    Done(std::result::Result<Booked, AppError>),
    SameAs(usize),
}

impl App {
    /// Adds or changes stores (the tills' locations and the online shop).
    pub async fn upsert_stores(
        &self,
        actor: &Actor,
        stores: Vec<store::StoreRow>,
    ) -> Result<usize> {
        let mut e = Errors::default();
        for (i, s) in stores.iter().enumerate() {
            if s.code.is_empty()
                || s.code.len() > 40
                || !s
                    .code
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                e.push(
                    format!("[{i}].code"),
                    "must be 1-40 letters, digits, - or _",
                );
            }
            text(&mut e, &format!("[{i}].name"), &s.name, 200);
            if !matches!(s.channel.as_str(), "store" | "online") {
                e.push(format!("[{i}].channel"), "must be store or online");
            }
        }
        if !e.is_empty() {
            return Err(AppError::Invalid(e.0));
        }
        let now = Utc::now();
        let mut tx = self.store.begin_write().await?;
        store::upsert_stores(&mut tx.db(), &stores, now).await?;
        kundo_store::audit::record(
            &mut tx.db(),
            &actor.name,
            "stores.changed",
            None,
            &json!({"codes": stores.iter().map(|s| &s.code).collect::<Vec<_>>()}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(stores.len())
    }
}

/// A receipt waiting for the writer, with where its answer goes.
pub type QueuedReceipt = (
    Actor,
    ReceiptInput,
    tokio::sync::oneshot::Sender<Result<Booked>>,
);

/// Receipts taken into one group commit at most.
const GROUP: usize = 500;

fn spawn_receipt_writer(app: App) -> tokio::sync::mpsc::Sender<QueuedReceipt> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<QueuedReceipt>(4 * GROUP);
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut batch = vec![first];
            while batch.len() < GROUP {
                match rx.try_recv() {
                    Ok(item) => batch.push(item),
                    Err(_) => break,
                }
            }
            // One call per actor, in arrival order; the ledger records who booked.
            while !batch.is_empty() {
                let actor = batch[0].0.clone();
                let (same, rest): (Vec<QueuedReceipt>, Vec<QueuedReceipt>) = batch
                    .into_iter()
                    .partition(|(a, _, _)| a.name == actor.name);
                batch = rest;
                let (inputs, answers): (Vec<ReceiptInput>, Vec<_>) =
                    same.into_iter().map(|(_, i, s)| (i, s)).unzip();
                match app.book_receipts(&actor, inputs).await {
                    Ok(outcomes) => {
                        for (answer, outcome) in answers.into_iter().zip(outcomes) {
                            let _ = answer.send(outcome);
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "booking a group of receipts failed");
                        let message = e.to_string();
                        for answer in answers {
                            let _ = answer.send(Err(AppError::Io(message.clone())));
                        }
                    }
                }
            }
        }
    });
    tx
}
