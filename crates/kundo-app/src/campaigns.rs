//! Campaigns (DOMAIN §6): create, read, start, results. Starting freezes the segment into a
//! snapshot, draws the control group, chooses each member's channel and writes one row per
//! member, all in one transaction; then vouchers are issued to the reachable target members in
//! steps (one transaction each, moving a cursor, like the runs), each with a contact on the
//! member's timeline; last, the lettershop batch and the email list are written. A second start
//! issues nothing twice, and a start killed half-way finishes exactly the rest.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use kundo_core::campaign::{self as rules, Channel, Choice, Outcome, Reach};
use kundo_core::error::Errors;
use kundo_store::campaigns::{self as store, CampaignRow, MemberRow, NewCampaign};
use kundo_store::vouchers::day_start;
use kundo_store::{Db, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::customers::Page;
use crate::runs::write_lettershop;
use crate::vouchers::{VoucherTemplate, issue, last_valid_day};
use crate::{Actor, App, AppError, Result};

/// Reachable target members per issuing step (one transaction each).
const STEP: i64 = 2_000;

/// Columns of the email list handed to the marketing automation system.
pub const EMAIL_COLUMNS: &[&str] = &[
    "customer_number",
    "salutation",
    "first_name",
    "last_name",
    "email",
    "language",
    "voucher_code",
    "valid_until",
];

fn chf() -> String {
    "CHF".into()
}
fn both() -> String {
    "both".into()
}
fn four_weeks() -> i64 {
    28
}
fn email_and_letter() -> Vec<String> {
    vec!["email".into(), "letter".into()]
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignInput {
    pub name: String,
    pub segment_id: i64,
    /// `amount` (minor units) or `percent` (hundredths of a percent: 1000 = 10 %).
    pub value_type: String,
    pub value: i64,
    #[serde(default = "chf")]
    pub currency: String,
    #[serde(default)]
    pub min_order: i64,
    /// Days the voucher is valid from the start day (default 28).
    #[serde(default = "four_weeks")]
    pub validity_days: i64,
    /// Where the voucher may be redeemed: `store`, `online` or `both`.
    #[serde(default = "both")]
    pub voucher_channels: String,
    /// How members may be contacted: `email`, `letter` (default both).
    #[serde(default = "email_and_letter")]
    pub channels: Vec<String>,
    /// Share of the snapshot drawn into the control group, in basis points (1000 = 10 %).
    #[serde(default)]
    pub control_share_bp: i64,
    /// The seed of the control draw; random if not given (and recorded either way).
    #[serde(default)]
    pub seed: Option<i64>,
    /// RFC 3339; the scheduler in `serve` starts the campaign then.
    #[serde(default)]
    pub scheduled_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CampaignView {
    #[serde(flatten)]
    pub campaign: CampaignRow,
    pub channels: Vec<String>,
}

impl From<CampaignRow> for CampaignView {
    fn from(campaign: CampaignRow) -> Self {
        let channels = channels_of(&campaign.contact_channels)
            .iter()
            .map(|c| c.as_str().to_string())
            .collect();
        CampaignView { campaign, channels }
    }
}

fn channels_of(s: &str) -> Vec<Channel> {
    s.split(',').filter_map(Channel::parse).collect()
}

/// Optional stop after a number of issuing steps and a smaller step: lets tests interrupt a
/// start the way a crash would, with a handful of members.
#[derive(Debug, Clone, Copy, Default)]
pub struct StartLimit {
    pub max_steps: Option<u32>,
    pub step: Option<i64>,
}

/// The statistics of a campaign, with the redemptions over time for the chart.
#[derive(Debug, Clone, Serialize)]
pub struct CampaignResults {
    pub campaign_id: i64,
    pub state: String,
    pub started_at: Option<DateTime<Utc>>,
    pub computed_at: DateTime<Utc>,
    pub vouchers_issued: i64,
    pub redeemed: i64,
    pub redemption_rate: Option<f64>,
    /// Revenue of the redeeming receipts, minor units (see docs/campaigns.md for the rule).
    pub redemption_revenue: i64,
    #[serde(flatten)]
    pub figures: rules::Results,
    pub daily: Vec<Day>,
}

/// One day of the chart: redemptions and sales receipts of each group.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Day {
    pub day: String,
    pub redemptions: i64,
    pub target_purchases: i64,
    pub control_purchases: i64,
}

fn validate(input: &CampaignInput) -> std::result::Result<Valid, AppError> {
    let mut e = Errors::default();
    let name = input.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        e.push("name", "must be 1-200 printable characters");
    }
    if input.segment_id <= 0 {
        e.push("segment_id", "no segment with this id");
    }
    if !(1..=366).contains(&input.validity_days) {
        e.push("validity_days", "must be 1 to 366 days");
    }
    if !(0..=9_000).contains(&input.control_share_bp) {
        e.push(
            "control_share_bp",
            "must be 0 to 9000 basis points (at most 90 % control)",
        );
    }
    let mut channels = Vec::new();
    for (i, c) in input.channels.iter().enumerate() {
        match Channel::parse(c.trim()) {
            Some(ch) if !channels.contains(&ch) => channels.push(ch),
            Some(_) => e.push(format!("channels[{i}]"), "is listed twice"),
            None => e.push(format!("channels[{i}]"), "must be email or letter"),
        }
    }
    if input.channels.is_empty() {
        e.push("channels", "name at least one of email, letter");
    }
    let scheduled_at = match input.scheduled_at.as_deref() {
        None => None,
        Some(t) => e.check("scheduled_at", kundo_core::customer::parse_timestamp(t)),
    };
    // The template is checked by the voucher rules (kind, value, currency, channels).
    let probe = VoucherTemplate {
        kind: "campaign".into(),
        value_type: input.value_type.clone(),
        value: input.value,
        currency: input.currency.clone(),
        min_order: input.min_order,
        channels: input.voucher_channels.clone(),
        valid_from: DateTime::<Utc>::UNIX_EPOCH,
        valid_until: DateTime::<Utc>::UNIX_EPOCH + Duration::days(1),
    };
    if let Err(errs) = probe.validate() {
        for f in errs {
            let field = if f.field == "channels" {
                "voucher_channels".to_string()
            } else {
                f.field
            };
            e.push(field, f.message);
        }
    }
    channels.sort();
    e.into_result(Valid {
        name,
        channels,
        scheduled_at,
    })
    .map_err(AppError::Invalid)
}

struct Valid {
    name: String,
    channels: Vec<Channel>,
    scheduled_at: Option<DateTime<Utc>>,
}

fn random_seed() -> i64 {
    let mut b = [0u8; 8];
    // Without the OS random source a fixed seed is still a valid (recorded) draw.
    let _ = getrandom::fill(&mut b);
    i64::from_le_bytes(b) & 0x000F_FFFF_FFFF_FFFF
}

fn conflict_or(e: StoreError) -> AppError {
    match e.unique_violation() {
        Some(_) => AppError::Conflict {
            field: "name".into(),
            message: "a campaign with this name exists already".into(),
        },
        None => AppError::Store(e),
    }
}

fn io(e: impl std::fmt::Display) -> AppError {
    AppError::Io(e.to_string())
}

async fn record(
    db: &mut Db<'_>,
    actor: &Actor,
    action: &str,
    payload: &Value,
    now: DateTime<Utc>,
) -> Result<()> {
    kundo_store::audit::record(db, &actor.name, action, None, payload, now).await?;
    kundo_store::audit::emit(db, action, None, payload, now).await?;
    Ok(())
}

impl App {
    pub async fn create_campaign(
        &self,
        actor: &Actor,
        input: CampaignInput,
    ) -> Result<CampaignView> {
        let v = validate(&input)?;
        let now = Utc::now();
        let mut tx = self.store.begin_write().await?;
        if kundo_store::segments::get(&mut tx.db(), input.segment_id)
            .await?
            .is_none()
        {
            return Err(AppError::invalid("segment_id", "no segment with this id"));
        }
        let new = NewCampaign {
            name: v.name,
            segment_id: input.segment_id,
            value_type: input.value_type.clone(),
            value: input.value,
            currency: input.currency.clone(),
            min_order: input.min_order,
            validity_days: input.validity_days,
            voucher_channels: input.voucher_channels.clone(),
            contact_channels: v
                .channels
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(","),
            control_share_bp: input.control_share_bp,
            seed: input.seed.unwrap_or_else(random_seed),
            scheduled_at: v.scheduled_at,
            created_by: actor.name.clone(),
        };
        let id = store::insert(&mut tx.db(), &new, now)
            .await
            .map_err(conflict_or)?;
        let row = store::get(&mut tx.db(), id)
            .await?
            .ok_or(AppError::NotFound("campaign"))?;
        record(
            &mut tx.db(),
            actor,
            "campaign.created",
            &serde_json::to_value(&row).unwrap_or_default(),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(row.into())
    }

    pub async fn campaign(&self, id: i64) -> Result<CampaignView> {
        let mut conn = self.store.acquire().await?;
        Ok(store::get(&mut conn.db(), id)
            .await?
            .ok_or(AppError::NotFound("campaign"))?
            .into())
    }

    pub async fn campaigns(&self, after: Option<i64>, limit: i64) -> Result<Page<CampaignView>> {
        let mut conn = self.store.acquire().await?;
        let rows = store::list(&mut conn.db(), after.unwrap_or(0), limit).await?;
        let next_cursor = if rows.len() as i64 == limit {
            rows.last().map(|r| r.id.to_string())
        } else {
            None
        };
        Ok(Page {
            items: rows.into_iter().map(Into::into).collect(),
            next_cursor,
        })
    }

    /// Starts (or resumes) a campaign; a finished one is returned as it is.
    pub async fn start_campaign(
        &self,
        actor: &Actor,
        id: i64,
        limit: StartLimit,
    ) -> Result<CampaignView> {
        let row = self.campaign(id).await?.campaign;
        if row.state == "draft" {
            self.freeze(actor, &row).await?;
        }
        let step = limit.step.unwrap_or(STEP).max(1);
        let mut steps = 0;
        loop {
            if limit.max_steps.is_some_and(|m| steps >= m) {
                return self.campaign(id).await;
            }
            steps += 1;
            let now = Utc::now();
            let mut tx = self.store.begin_write().await?;
            let c = store::lock(&mut tx.db(), id)
                .await?
                .ok_or(AppError::NotFound("campaign"))?;
            if c.state != "running" {
                tx.commit().await?;
                return Ok(c.into());
            }
            let pending = store::pending(&mut tx.db(), id, c.cursor, step).await?;
            let Some(last) = pending.last().map(|p| p.0) else {
                tx.commit().await?;
                break;
            };
            let started = c.started_at.unwrap_or(now).date_naive();
            let valid_until = kundo_core::loyalty_runs::validity_end(started, c.validity_days)
                .map_err(|m| AppError::invalid("validity_days", m))?;
            let valid_from = day_start(started);
            let template = VoucherTemplate {
                kind: "campaign".into(),
                value_type: c.value_type.clone(),
                value: c.value,
                currency: c.currency.clone(),
                min_order: c.min_order,
                channels: c.voucher_channels.clone(),
                valid_from,
                valid_until: day_start(valid_until),
            };
            let customers: Vec<Option<i64>> = pending.iter().map(|(m, _)| Some(*m)).collect();
            let vouchers = issue(&mut tx.db(), &template, &customers, None, now).await?;
            let items: Vec<(i64, i64)> = vouchers
                .iter()
                .filter_map(|(m, v, _)| Some(((*m)?, *v)))
                .collect();
            store::set_vouchers(&mut tx.db(), id, &items).await?;
            let contacts: Vec<store::Contact> = pending
                .iter()
                .map(|(m, ch)| store::Contact {
                    customer_id: *m,
                    channel: ch.clone(),
                })
                .collect();
            store::insert_contacts(
                &mut tx.db(),
                &contacts,
                &format!("Campaign {}", c.name),
                &format!("campaign:{id}"),
                &actor.name,
                now,
            )
            .await?;
            store::advance(&mut tx.db(), id, last, items.len() as i64, now).await?;
            tx.commit().await?;
        }
        self.finish_campaign(id).await
    }

    /// Freezes the members: snapshot, control draw, channel per member, one transaction.
    async fn freeze(&self, actor: &Actor, row: &CampaignRow) -> Result<()> {
        let segment =
            kundo_store::segments::get(&mut self.store.acquire().await?.db(), row.segment_id)
                .await?
                .ok_or_else(|| {
                    AppError::invalid("segment_id", "the campaign's segment was deleted")
                })?;
        let parsed = if segment.kind == "static" {
            None
        } else {
            let def: Value = serde_json::from_str(&segment.definition).map_err(|e| {
                AppError::Io(format!(
                    "segment {} has an unreadable definition: {e}",
                    segment.id
                ))
            })?;
            Some(self.parse_segment(&def).await?)
        };
        let now = Utc::now();
        let mut tx = self.store.begin_write().await?;
        let Some(c) = store::lock(&mut tx.db(), row.id).await? else {
            return Err(AppError::NotFound("campaign"));
        };
        if c.state != "draft" {
            // Someone else started it meanwhile.
            tx.commit().await?;
            return Ok(());
        }
        let today: NaiveDate = now.date_naive();
        let snapshot = match &parsed {
            Some(seg) => {
                kundo_store::segments::take_snapshot(&mut tx.db(), segment.id, seg, today, now)
                    .await?
            }
            None => kundo_store::segments::latest_snapshot(&mut tx.db(), segment.id)
                .await?
                .ok_or_else(|| {
                    AppError::invalid("segment_id", "the static list has no snapshot yet")
                })?,
        };
        // Orders and revenue of "the last 12 months" on the day of the start.
        let year_start = kundo_store::vouchers::day_start(kundo_core::twelve_months::start(today));
        let reach = store::reach_rows(&mut tx.db(), snapshot.id, year_start, now).await?;
        let mut inbound: HashMap<i64, (i64, i64)> = HashMap::new();
        for (customer, channel, kind, n) in store::inbound_counts(&mut tx.db(), snapshot.id).await?
        {
            let e = inbound.entry(customer).or_default();
            match rules::inbound_channel(channel.as_deref(), &kind) {
                Some(Channel::Email) => e.0 += n,
                Some(Channel::Letter) => e.1 += n,
                None => {}
            }
        }
        let ids: Vec<i64> = reach.iter().map(|r| r.customer_id).collect();
        let control: std::collections::HashSet<i64> =
            rules::draw_control(c.seed, c.control_share_bp, &ids)
                .into_iter()
                .collect();
        let allowed = channels_of(&c.contact_channels);
        let mut frozen = store::Frozen::default();
        let mut members = Vec::with_capacity(reach.len());
        for r in reach {
            let (inbound_email, inbound_letter) =
                inbound.get(&r.customer_id).copied().unwrap_or_default();
            let facts = Reach {
                preferred_channel: r.preferred_channel,
                has_email: r.email.as_deref().is_some_and(|e| !e.trim().is_empty()),
                email_consent: r.email_consent,
                letter_consent: r.letter_consent,
                postal_status: r.postal_status,
                reported_deceased: r.deceased,
                postal_ads_blocked: r.postal_ads_blocked,
                inbound_email,
                inbound_letter,
            };
            let is_control = control.contains(&r.customer_id);
            let (channel, reason) = match rules::choose_channel(&facts, &allowed) {
                Choice::Contact(ch) => (Some(ch.as_str()), None),
                Choice::Unreachable(why) => (None, Some(why)),
            };
            frozen.members += 1;
            if is_control {
                frozen.control += 1;
            } else {
                frozen.target += 1;
                match channel {
                    Some("email") => frozen.email += 1,
                    Some(_) => frozen.letter += 1,
                    None => frozen.unreachable += 1,
                }
            }
            members.push(store::NewMember {
                customer_id: r.customer_id,
                control: is_control,
                channel,
                unreachable_reason: reason,
                rfm: r.rfm,
                orders_12m: r.orders_12m,
                revenue_12m: r.revenue_12m,
            });
        }
        store::insert_members(&mut tx.db(), c.id, &members).await?;
        if !store::mark_running(&mut tx.db(), c.id, snapshot.id, now, &frozen).await? {
            return Err(AppError::Conflict {
                field: "state".into(),
                message: "the campaign was started meanwhile".into(),
            });
        }
        record(
            &mut tx.db(),
            actor,
            "campaign.started",
            &json!({"id": c.id, "name": c.name, "snapshot_id": snapshot.id, "members": frozen.members,
                "target": frozen.target, "control": frozen.control, "email": frozen.email,
                "letter": frozen.letter, "unreachable": frozen.unreachable, "seed": c.seed}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Writes the lettershop batch and the email list and marks the campaign done.
    async fn finish_campaign(&self, id: i64) -> Result<CampaignView> {
        let now = Utc::now();
        let mut tx = self.store.begin_write().await?;
        let c = store::lock(&mut tx.db(), id)
            .await?
            .ok_or(AppError::NotFound("campaign"))?;
        if c.state != "running" {
            tx.commit().await?;
            return Ok(c.into());
        }
        let letter_vouchers = store::vouchers_by_channel(&mut tx.db(), id, "letter").await?;
        let batch = write_lettershop(
            &mut tx.db(),
            &letter_vouchers,
            &c.name,
            "campaign-voucher",
            &format!("campaign-{id}"),
        )
        .await?;
        let emails = store::email_rows(&mut tx.db(), id).await?;
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(EMAIL_COLUMNS).map_err(io)?;
        for r in &emails {
            let s = |o: &Option<String>| o.clone().unwrap_or_default();
            w.write_record([
                r.customer_number.clone(),
                s(&r.salutation),
                s(&r.first_name),
                s(&r.last_name),
                s(&r.email),
                s(&r.language),
                kundo_core::voucher_code::display(&r.code),
                last_valid_day(r.valid_until),
            ])
            .map_err(io)?;
        }
        let email_csv = String::from_utf8(w.into_inner().map_err(io)?).map_err(io)?;
        store::save_file(
            &mut tx.db(),
            id,
            "lettershop",
            batch.letters,
            &batch.content,
            now,
        )
        .await?;
        store::save_file(
            &mut tx.db(),
            id,
            "email",
            emails.len() as i64,
            &email_csv,
            now,
        )
        .await?;
        store::mark_done(&mut tx.db(), id, batch.letters, emails.len() as i64, now).await?;
        kundo_store::audit::emit(
            &mut tx.db(),
            "campaign.finished",
            None,
            &json!({"id": id, "vouchers_issued": c.vouchers_issued, "letters": batch.letters,
                "emails": emails.len(), "left_out_address": batch.left_out_address,
                "left_out_consent": batch.left_out_consent}),
            now,
        )
        .await?;
        let row = store::get(&mut tx.db(), id)
            .await?
            .ok_or(AppError::NotFound("campaign"))?;
        tx.commit().await?;
        if let Some(dir) = &self.files_dir {
            for (sub, name, content) in [
                ("lettershop", format!("campaign-{id}.csv"), &batch.content),
                ("automation", format!("campaign-{id}-email.csv"), &email_csv),
            ] {
                let dir = dir.join(sub);
                let path = dir.join(name);
                if let Err(e) =
                    std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(&path, content))
                {
                    tracing::warn!(error = %e, path = %path.display(), "could not write the campaign file; it stays downloadable");
                }
            }
        }
        Ok(row.into())
    }

    /// A stored file of a finished campaign: `lettershop` or `email`.
    pub async fn campaign_file(&self, id: i64, kind: &str) -> Result<String> {
        let mut conn = self.store.acquire().await?;
        if store::get(&mut conn.db(), id).await?.is_none() {
            return Err(AppError::NotFound("campaign"));
        }
        store::file(&mut conn.db(), id, kind)
            .await?
            .ok_or(AppError::NotFound(
                "campaign file (the campaign has not finished)",
            ))
    }

    /// Members in customer order: group, channel or why none, voucher.
    pub async fn campaign_members(
        &self,
        id: i64,
        group: Option<&str>,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Page<MemberRow>> {
        if let Some(g) = group
            && !matches!(g, "target" | "control")
        {
            return Err(AppError::invalid("group", "must be target or control"));
        }
        let limit = limit.clamp(1, 1000);
        let mut conn = self.store.acquire().await?;
        if store::get(&mut conn.db(), id).await?.is_none() {
            return Err(AppError::NotFound("campaign"));
        }
        let items = store::members(&mut conn.db(), id, group, after.unwrap_or(0), limit).await?;
        let next_cursor = if items.len() as i64 == limit {
            items.last().map(|m| m.customer_id.to_string())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// Redemptions, purchases and revenue since the start, target against control, with the
    /// breakdowns and the days for the chart. Read in one snapshot of the database.
    pub async fn campaign_results(&self, id: i64) -> Result<CampaignResults> {
        let now = Utc::now();
        let mut tx = self.store.begin_read().await?;
        let c = store::get(&mut tx.db(), id)
            .await?
            .ok_or(AppError::NotFound("campaign"))?;
        let Some(started) = c.started_at else {
            tx.commit().await?;
            return Ok(CampaignResults {
                campaign_id: id,
                state: c.state,
                started_at: None,
                computed_at: now,
                vouchers_issued: 0,
                redeemed: 0,
                redemption_rate: None,
                redemption_revenue: 0,
                figures: rules::results(&[]),
                daily: Vec::new(),
            });
        };
        let rows = store::outcomes(&mut tx.db(), id, started).await?;
        // Vouchers are valid from the start day's midnight: a redeeming receipt may precede
        // the moment of the start on that day.
        let start_day = day_start(started.date_naive());
        let mut receipts: HashMap<i64, Vec<(String, DateTime<Utc>, i64)>> = HashMap::new();
        for (customer, external_id, at, total) in
            store::redeemer_receipts(&mut tx.db(), id, start_day).await?
        {
            receipts
                .entry(customer)
                .or_default()
                .push((external_id, at, total));
        }
        let purchases = store::daily_purchases(&mut tx.db(), id, started).await?;
        let redemptions = store::daily_redemptions(&mut tx.db(), id).await?;
        tx.commit().await?;
        let outcomes: Vec<Outcome> = rows
            .into_iter()
            .map(|r| {
                let redeemed = r.voucher_status.as_deref() == Some("redeemed");
                let redemption_revenue = if redeemed {
                    redemption_revenue(
                        receipts.get(&r.customer_id).map_or(&[][..], Vec::as_slice),
                        r.redeemed_receipt.as_deref(),
                        r.redeemed_at,
                    )
                } else {
                    0
                };
                Outcome {
                    control: r.member_group == "control",
                    voucher: r.voucher_id.is_some(),
                    redeemed,
                    redemption_revenue,
                    purchases: r.purchases,
                    revenue: r.revenue,
                    rfm: r.rfm,
                    orders_12m: r.orders_12m,
                    revenue_12m: r.revenue_12m,
                }
            })
            .collect();
        let figures = rules::results(&outcomes);
        let mut days: std::collections::BTreeMap<String, Day> = Default::default();
        for (day, group, n) in purchases {
            let d = days.entry(day.clone()).or_insert_with(|| Day {
                day,
                ..Day::default()
            });
            if group == "control" {
                d.control_purchases += n;
            } else {
                d.target_purchases += n;
            }
        }
        for (day, n) in redemptions {
            days.entry(day.clone())
                .or_insert_with(|| Day {
                    day,
                    ..Day::default()
                })
                .redemptions += n;
        }
        Ok(CampaignResults {
            campaign_id: id,
            state: c.state,
            started_at: Some(started),
            computed_at: now,
            vouchers_issued: figures.target.vouchers,
            redeemed: figures.target.redeemed,
            redemption_rate: figures.target.redemption_rate,
            redemption_revenue: figures.target.redemption_revenue,
            figures,
            daily: days.into_values().collect(),
        })
    }

    /// Starts the draft campaigns whose time has come and resumes interrupted ones (the
    /// scheduler calls this every minute).
    pub async fn start_due_campaigns(&self, actor: &Actor) -> Result<usize> {
        let ids = {
            let mut conn = self.store.acquire().await?;
            let mut ids = store::running(&mut conn.db()).await?;
            ids.extend(store::due(&mut conn.db(), Utc::now()).await?);
            ids
        };
        for id in &ids {
            self.start_campaign(actor, *id, StartLimit::default())
                .await?;
        }
        Ok(ids.len())
    }
}

/// The revenue a redemption brought: the member's sales receipts whose external id is the
/// `receipt_ref` given at redemption; if none matches (no reference, or a reference the till
/// made up), all of the member's sales receipts on the UTC day of the redemption.
pub fn redemption_revenue(
    receipts: &[(String, DateTime<Utc>, i64)],
    receipt_ref: Option<&str>,
    redeemed_at: Option<DateTime<Utc>>,
) -> i64 {
    if let Some(r) = receipt_ref.map(str::trim).filter(|r| !r.is_empty()) {
        let matched: Vec<i64> = receipts
            .iter()
            .filter(|(id, _, _)| id == r)
            .map(|(_, _, t)| *t)
            .collect();
        if !matched.is_empty() {
            return matched.iter().sum();
        }
    }
    let Some(day) = redeemed_at.map(|t| t.date_naive()) else {
        return 0;
    };
    receipts
        .iter()
        .filter(|(_, at, _)| at.date_naive() == day)
        .map(|(_, _, t)| *t)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn redemption_revenue_prefers_the_referenced_receipt() {
        let t = |d, h| Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0).unwrap();
        let receipts = vec![
            ("A".to_string(), t(2, 9), 1_000),
            ("B".to_string(), t(2, 15), 2_500),
            ("C".to_string(), t(3, 9), 4_000),
        ];
        assert_eq!(
            redemption_revenue(&receipts, Some("B"), Some(t(2, 15))),
            2_500
        );
        assert_eq!(
            redemption_revenue(&receipts, Some("X"), Some(t(2, 15))),
            3_500
        );
        assert_eq!(redemption_revenue(&receipts, None, Some(t(3, 10))), 4_000);
        assert_eq!(redemption_revenue(&receipts, None, None), 0);
    }
}
