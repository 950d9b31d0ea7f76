//! Vouchers (DOMAIN §3): issue, validate, redeem exactly once, reverse, cancel, expire. Every
//! transition writes its event in the same transaction.

use chrono::{DateTime, Utc};
use kundo_core::loyalty_runs::MAX_VOUCHER_VALUE;
use kundo_core::voucher_code;
use kundo_store::Db;
use kundo_store::vouchers::{self as store, NewVoucher, VoucherRow};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{Actor, App, AppError, Result};

pub const KINDS: &[&str] = &["bonus", "birthday", "campaign", "goodwill"];

/// What a voucher is worth and where it may be used.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoucherTemplate {
    pub kind: String,
    /// "amount" (minor units) or "percent" (hundredths of a percent: 1000 = 10 %).
    pub value_type: String,
    pub value: i64,
    #[serde(default = "chf")]
    pub currency: String,
    #[serde(default)]
    pub min_order: i64,
    /// "store", "online" or "both".
    #[serde(default = "both")]
    pub channels: String,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
}

fn chf() -> String {
    "CHF".into()
}
fn both() -> String {
    "both".into()
}

impl VoucherTemplate {
    pub fn validate(&self) -> std::result::Result<(), Vec<kundo_core::error::FieldError>> {
        let mut e = kundo_core::error::Errors::default();
        if !KINDS.contains(&self.kind.as_str()) {
            e.push("kind", format!("must be one of: {}", KINDS.join(", ")));
        }
        match self.value_type.as_str() {
            "amount" if !(1..=MAX_VOUCHER_VALUE).contains(&self.value) => e.push(
                "value",
                "an amount voucher is worth 1 to 100,000,000 minor units",
            ),
            "percent" if self.value <= 0 || self.value > 10_000 => e.push(
                "value",
                "a percent voucher is worth 1 to 10000 hundredths of a percent",
            ),
            "amount" | "percent" => {}
            _ => e.push("value_type", "must be amount or percent"),
        }
        if self.currency.len() != 3 || !self.currency.chars().all(|c| c.is_ascii_uppercase()) {
            e.push("currency", "must be an ISO 4217 code");
        }
        if self.min_order < 0 {
            e.push("min_order", "must not be negative");
        }
        if !matches!(self.channels.as_str(), "store" | "online" | "both") {
            e.push("channels", "must be store, online or both");
        }
        if self.valid_until <= self.valid_from {
            e.push("valid_until", "must be after valid_from");
        }
        e.into_result(())
    }
}

/// The last day a voucher is valid (its `valid_until` is exclusive), as people read it.
pub(crate) fn last_valid_day(until: DateTime<Utc>) -> String {
    until
        .checked_sub_days(chrono::Days::new(1))
        .unwrap_or(until)
        .format("%Y-%m-%d")
        .to_string()
}

/// A fresh code from the operating system's CSPRNG.
pub fn new_code() -> String {
    let mut bytes = [0u8; 8];
    // Without the OS random source no code can be safe; this cannot happen on supported systems.
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    voucher_code::code_from_random(bytes)
}

/// Writes vouchers from one template for the given customers (or one unbound voucher for
/// `None`), with a `voucher.issued` event each. Returns `(customer, voucher id, code)`.
pub async fn issue(
    db: &mut Db<'_>,
    template: &VoucherTemplate,
    customers: &[Option<i64>],
    run_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Vec<(Option<i64>, i64, String)>> {
    let ids = kundo_store::customers::reserve_ids_in(db, "vouchers", customers.len()).await?;
    let vouchers: Vec<NewVoucher> = customers
        .iter()
        .zip(&ids)
        .map(|(c, id)| NewVoucher {
            id: *id,
            code: new_code(),
            kind: template.kind.clone(),
            customer_id: *c,
            value_type: template.value_type.clone(),
            value: template.value,
            currency: template.currency.clone(),
            min_order: template.min_order,
            channels: template.channels.clone(),
            valid_from: template.valid_from,
            valid_until: template.valid_until,
            run_id,
        })
        .collect();
    store::insert(db, &vouchers, now).await?;
    let events: Vec<(&str, Option<i64>, serde_json::Value)> = vouchers
        .iter()
        .map(|v| ("voucher.issued", v.customer_id, json!({"code": v.code, "kind": v.kind, "value_type": v.value_type, "value": v.value, "currency": v.currency, "valid_until": v.valid_until, "channels": v.channels})))
        .collect();
    kundo_store::audit::emit_many(db, &events, now).await?;
    Ok(vouchers
        .into_iter()
        .map(|v| (v.customer_id, v.id, v.code))
        .collect())
}

#[derive(Debug, Clone, Serialize)]
pub struct Validation {
    pub valid: bool,
    /// ok, redeemed, expired, cancelled, not_yet_valid, wrong_channel, below_minimum_order
    pub reason: &'static str,
    pub value_type: String,
    pub value: i64,
    pub currency: String,
}

/// Why a voucher cannot be used here and now, if it cannot.
fn refusal(
    v: &VoucherRow,
    channel: &str,
    basket_amount: Option<i64>,
    now: DateTime<Utc>,
) -> Option<&'static str> {
    match v.status.as_str() {
        "redeemed" => return Some("redeemed"),
        "cancelled" => return Some("cancelled"),
        "expired" => return Some("expired"),
        _ => {}
    }
    if now >= v.valid_until {
        return Some("expired");
    }
    if now < v.valid_from {
        return Some("not_yet_valid");
    }
    if v.channels != "both" && v.channels != channel {
        return Some("wrong_channel");
    }
    if basket_amount.is_some_and(|b| b < v.min_order) {
        return Some("below_minimum_order");
    }
    None
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UseRequest {
    pub channel: String,
    #[serde(default)]
    pub store_code: Option<String>,
    #[serde(default)]
    pub basket_amount: Option<i64>,
    #[serde(default)]
    pub receipt_ref: Option<String>,
}

fn check_use(r: &UseRequest) -> Result<()> {
    if !matches!(r.channel.as_str(), "store" | "online") {
        return Err(AppError::invalid("channel", "must be store or online"));
    }
    if r.basket_amount.is_some_and(|b| b < 0) {
        return Err(AppError::invalid("basket_amount", "must not be negative"));
    }
    Ok(())
}

fn parse_code(code: &str) -> Result<String> {
    voucher_code::parse(code).map_err(|e| AppError::InvalidCode(e.to_string()))
}

impl App {
    /// Issues one voucher by hand (goodwill, campaign) for a customer or unbound.
    pub async fn issue_voucher(
        &self,
        actor: &Actor,
        template: VoucherTemplate,
        customer_number: Option<&str>,
    ) -> Result<VoucherRow> {
        template.validate().map_err(AppError::Invalid)?;
        let now = Utc::now();
        let mut tx = self.store.begin_write().await?;
        let customer = match customer_number {
            Some(n) => Some(
                kundo_store::customers::resolve_number(&mut tx.db(), n.trim())
                    .await?
                    .ok_or_else(|| {
                        AppError::invalid("customer_number", "no customer with this number")
                    })?,
            ),
            None => None,
        };
        let issued = issue(&mut tx.db(), &template, &[customer], None, now).await?;
        let (_, _, code) = issued
            .first()
            .cloned()
            .ok_or_else(|| AppError::Io("nothing issued".into()))?;
        kundo_store::audit::record(
            &mut tx.db(),
            &actor.name,
            "voucher.issued",
            customer,
            &json!({"code": code, "kind": template.kind, "value": template.value}),
            now,
        )
        .await?;
        let row = store::by_code(&mut tx.db(), &code)
            .await?
            .ok_or(AppError::NotFound("voucher"))?;
        tx.commit().await?;
        Ok(row)
    }

    pub async fn voucher(&self, code: &str) -> Result<VoucherRow> {
        let code = parse_code(code)?;
        let mut conn = self.store.acquire().await?;
        store::by_code(&mut conn.db(), &code)
            .await?
            .ok_or(AppError::NotFound("voucher"))
    }

    pub async fn customer_vouchers(&self, customer_number: &str) -> Result<Vec<VoucherRow>> {
        let mut tx = self.store.begin_read().await?;
        let id = kundo_store::customers::resolve_number(&mut tx.db(), customer_number.trim())
            .await?
            .ok_or(AppError::NotFound("customer"))?;
        let v = store::of_customer(&mut tx.db(), id, false).await?;
        tx.commit().await?;
        Ok(v)
    }

    /// May this voucher be used here, now, for this basket? Reads only.
    pub async fn validate_voucher(&self, code: &str, req: &UseRequest) -> Result<Validation> {
        check_use(req)?;
        let v = self.voucher(code).await?;
        let reason = refusal(&v, &req.channel, req.basket_amount, Utc::now());
        Ok(Validation {
            valid: reason.is_none(),
            reason: reason.unwrap_or("ok"),
            value_type: v.value_type,
            value: v.value,
            currency: v.currency,
        })
    }

    /// Redeems atomically: of any number of simultaneous attempts exactly one succeeds; the
    /// others learn when and where it was redeemed. Concurrent redemptions are committed
    /// together (one writer, one transaction per group); each answer is sent after the commit.
    pub async fn redeem_voucher(
        &self,
        actor: &Actor,
        code: &str,
        req: &UseRequest,
    ) -> Result<VoucherRow> {
        check_use(req)?;
        let code = parse_code(code)?;
        let queue = self
            .redeem_queue
            .get_or_init(|| spawn_redeemer(self.clone()))
            .clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        queue
            .send((actor.clone(), code, req.clone(), tx))
            .await
            .map_err(|_| AppError::Io("the redemption writer stopped".into()))?;
        rx.await
            .map_err(|_| AppError::Io("the redemption writer dropped a request".into()))?
    }

    /// Undoes a redemption because its receipt was cancelled.
    pub async fn reverse_redemption(&self, actor: &Actor, code: &str) -> Result<VoucherRow> {
        self.transition(actor, code, "voucher.reversed", |db, id, now| {
            Box::pin(async move { store::unredeem(db, id, now).await })
        })
        .await
    }

    pub async fn cancel_voucher(&self, actor: &Actor, code: &str) -> Result<VoucherRow> {
        self.transition(actor, code, "voucher.cancelled", |db, id, now| {
            Box::pin(async move { store::cancel(db, id, now).await })
        })
        .await
    }

    async fn transition<F>(
        &self,
        actor: &Actor,
        code: &str,
        event: &str,
        change: F,
    ) -> Result<VoucherRow>
    where
        F: for<'a, 'b> FnOnce(
            &'a mut Db<'b>,
            i64,
            DateTime<Utc>,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = kundo_store::Result<bool>> + Send + 'a>,
        >,
    {
        let code = parse_code(code)?;
        let now = Utc::now();
        let mut tx = self.store.begin_write().await?;
        let v = store::by_code(&mut tx.db(), &code)
            .await?
            .ok_or(AppError::NotFound("voucher"))?;
        let changed = {
            let mut db = tx.db();
            change(&mut db, v.id, now).await?
        };
        if !changed {
            return Err(AppError::Conflict {
                field: "status".into(),
                message: format!("the voucher is {}", v.status),
            });
        }
        kundo_store::audit::emit(
            &mut tx.db(),
            event,
            v.customer_id,
            &json!({"code": code, "by": actor.name}),
            now,
        )
        .await?;
        kundo_store::audit::record(
            &mut tx.db(),
            &actor.name,
            event,
            v.customer_id,
            &json!({"code": code, "from": v.status}),
            now,
        )
        .await?;
        let row = store::by_code(&mut tx.db(), &code)
            .await?
            .ok_or(AppError::NotFound("voucher"))?;
        tx.commit().await?;
        Ok(row)
    }

    /// Marks vouchers past their validity as expired (the daily job).
    pub async fn expire_vouchers(&self) -> Result<u64> {
        let mut total = 0;
        loop {
            let now = Utc::now();
            let mut tx = self.store.begin_write().await?;
            let expired = store::expire_due(&mut tx.db(), now, 2000).await?;
            let events: Vec<(&str, Option<i64>, serde_json::Value)> = expired
                .iter()
                .map(|(_, code, c)| ("voucher.expired", *c, json!({"code": code})))
                .collect();
            kundo_store::audit::emit_many(&mut tx.db(), &events, now).await?;
            tx.commit().await?;
            total += expired.len() as u64;
            if expired.len() < 2000 {
                return Ok(total);
            }
        }
    }
}

fn already(v: &VoucherRow) -> AppError {
    AppError::AlreadyRedeemed {
        at: v.redeemed_at,
        channel: v.redeemed_channel.clone(),
        store_code: v.redeemed_store.clone(),
    }
}

/// One redemption inside the group's transaction. A refusal is an answer, not a failure: it
/// leaves the transaction usable for the others.
async fn redeem_in(
    db: &mut Db<'_>,
    actor: &Actor,
    code: &str,
    req: &UseRequest,
    now: DateTime<Utc>,
) -> kundo_store::Result<Result<VoucherRow>> {
    let Some(v) = store::by_code(db, code).await? else {
        return Ok(Err(AppError::NotFound("voucher")));
    };
    match refusal(&v, &req.channel, req.basket_amount, now) {
        Some("redeemed") => return Ok(Err(already(&v))),
        Some(reason) => return Ok(Err(AppError::VoucherRefused(reason))),
        None => {}
    }
    if !store::redeem(
        db,
        v.id,
        &req.channel,
        req.store_code.as_deref(),
        req.receipt_ref.as_deref(),
        now,
    )
    .await?
    {
        // PostgreSQL: a concurrent transaction won between our read and our write.
        let now_v = store::by_code(db, code).await?;
        return Ok(Err(match now_v {
            Some(n) if n.status == "redeemed" => already(&n),
            _ => AppError::VoucherRefused("cancelled"),
        }));
    }
    kundo_store::audit::emit(db, "voucher.redeemed", v.customer_id, &json!({"code": code, "channel": req.channel, "store_code": req.store_code, "receipt_ref": req.receipt_ref, "by": actor.name}), now).await?;
    let mut row = v;
    row.status = "redeemed".into();
    row.redeemed_at = Some(now);
    row.redeemed_channel = Some(req.channel.clone());
    row.redeemed_store = req.store_code.clone();
    row.redeemed_receipt = req.receipt_ref.clone();
    Ok(Ok(row))
}

pub type QueuedRedemption = (
    Actor,
    String,
    UseRequest,
    tokio::sync::oneshot::Sender<Result<VoucherRow>>,
);

fn spawn_redeemer(app: App) -> tokio::sync::mpsc::Sender<QueuedRedemption> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<QueuedRedemption>(1024);
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut group = vec![first];
            while group.len() < 256 {
                match rx.try_recv() {
                    Ok(item) => group.push(item),
                    Err(_) => break,
                }
            }
            let now = Utc::now();
            let outcome: kundo_store::Result<Vec<Result<VoucherRow>>> = async {
                let mut tx = app.store.begin_write().await?;
                let mut results = Vec::with_capacity(group.len());
                for (actor, code, req, _) in &group {
                    results.push(redeem_in(&mut tx.db(), actor, code, req, now).await?);
                }
                tx.commit().await?;
                Ok(results)
            }
            .await;
            match outcome {
                Ok(results) => {
                    for ((_, _, _, answer), r) in group.into_iter().zip(results) {
                        let _ = answer.send(r);
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "a group of redemptions failed; none was redeemed");
                    for (_, _, _, answer) in group {
                        let _ = answer.send(Err(AppError::Io(e.to_string())));
                    }
                }
            }
        }
    });
    tx
}
