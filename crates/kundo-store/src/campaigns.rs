//! Campaigns: the campaign rows, their members (group, channel, voucher), the facts the channel
//! rule and the results need, read in one query per concern over a frozen snapshot, and the
//! stored files (lettershop batch, email list).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::AssertSqlSafe;

use crate::db::dialect;
use crate::rows::{Val, insert_rows};
use crate::vouchers::VoucherRow;
use crate::{Db, with_db};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CampaignRow {
    pub id: i64,
    pub name: String,
    pub segment_id: i64,
    pub value_type: String,
    pub value: i64,
    pub currency: String,
    pub min_order: i64,
    pub validity_days: i64,
    pub voucher_channels: String,
    /// Comma-separated: `email,letter`.
    pub contact_channels: String,
    pub control_share_bp: i64,
    pub seed: i64,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub state: String,
    pub snapshot_id: Option<i64>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    #[serde(skip)]
    pub cursor: i64,
    pub members: i64,
    pub target_members: i64,
    pub control_members: i64,
    pub email_members: i64,
    pub letter_members: i64,
    pub unreachable: i64,
    pub vouchers_issued: i64,
    pub letters: i64,
    pub emails: i64,
    pub synced_at: Option<DateTime<Utc>>,
    pub synced_members: Option<i64>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, name, segment_id, value_type, value, currency, min_order, validity_days, voucher_channels, contact_channels, \
    control_share_bp, seed, scheduled_at, state, snapshot_id, started_at, finished_at, cursor, members, target_members, control_members, \
    email_members, letter_members, unreachable, vouchers_issued, letters, emails, synced_at, synced_members, created_by, created_at, updated_at";

#[derive(Debug, Clone)]
pub struct NewCampaign {
    pub name: String,
    pub segment_id: i64,
    pub value_type: String,
    pub value: i64,
    pub currency: String,
    pub min_order: i64,
    pub validity_days: i64,
    pub voucher_channels: String,
    pub contact_channels: String,
    pub control_share_bp: i64,
    pub seed: i64,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub created_by: String,
}

pub async fn insert(db: &mut Db<'_>, c: &NewCampaign, now: DateTime<Utc>) -> crate::Result<i64> {
    Ok(with_db!(db, conn, _pg => {
        sqlx::query_scalar(
            "INSERT INTO campaigns (name, segment_id, value_type, value, currency, min_order, validity_days, voucher_channels, contact_channels, \
             control_share_bp, seed, scheduled_at, state, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'draft', $13, $14, $14) RETURNING id")
            .bind(&c.name).bind(c.segment_id).bind(&c.value_type).bind(c.value).bind(&c.currency).bind(c.min_order)
            .bind(c.validity_days).bind(&c.voucher_channels).bind(&c.contact_channels).bind(c.control_share_bp)
            .bind(c.seed).bind(c.scheduled_at).bind(&c.created_by).bind(now)
            .fetch_one(&mut *conn).await?
    }))
}

pub async fn get(db: &mut Db<'_>, id: i64) -> crate::Result<Option<CampaignRow>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as(AssertSqlSafe(format!("SELECT {COLUMNS} FROM campaigns WHERE id = $1"))).bind(id).fetch_optional(&mut *c).await?
    }))
}

/// The campaign, its row locked until the transaction ends (PostgreSQL; SQLite has one writer
/// anyway): two starts of one campaign take turns, so no member is issued a voucher twice.
pub async fn lock(db: &mut Db<'_>, id: i64) -> crate::Result<Option<CampaignRow>> {
    Ok(with_db!(db, c, pg => {
        let lock = if pg { " FOR UPDATE" } else { "" };
        sqlx::query_as(AssertSqlSafe(format!("SELECT {COLUMNS} FROM campaigns WHERE id = $1{lock}"))).bind(id).fetch_optional(&mut *c).await?
    }))
}

pub async fn list(db: &mut Db<'_>, after_id: i64, limit: i64) -> crate::Result<Vec<CampaignRow>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as(AssertSqlSafe(format!("SELECT {COLUMNS} FROM campaigns WHERE id > $1 ORDER BY id LIMIT $2")))
            .bind(after_id).bind(limit).fetch_all(&mut *c).await?
    }))
}

/// The campaigns (id and name, in id order) that use a segment.
pub async fn using_segment(db: &mut Db<'_>, segment_id: i64) -> crate::Result<Vec<(i64, String)>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as("SELECT id, name FROM campaigns WHERE segment_id = $1 ORDER BY id")
            .bind(segment_id).fetch_all(&mut *c).await?
    }))
}

/// Draft campaigns whose scheduled time has come.
pub async fn due(db: &mut Db<'_>, now: DateTime<Utc>) -> crate::Result<Vec<i64>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_scalar("SELECT id FROM campaigns WHERE state = 'draft' AND scheduled_at IS NOT NULL AND scheduled_at <= $1 ORDER BY id")
            .bind(now).fetch_all(&mut *c).await?
    }))
}

/// Campaigns left running (interrupted starts), to be resumed.
pub async fn running(db: &mut Db<'_>) -> crate::Result<Vec<i64>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_scalar("SELECT id FROM campaigns WHERE state = 'running' ORDER BY id").fetch_all(&mut *c).await?
    }))
}

/// The counts of a frozen campaign.
#[derive(Debug, Clone, Copy, Default)]
pub struct Frozen {
    pub members: i64,
    pub target: i64,
    pub control: i64,
    pub email: i64,
    pub letter: i64,
    pub unreachable: i64,
}

/// Marks a draft as running with its snapshot and counts; `false` if it was no draft any more.
pub async fn mark_running(
    db: &mut Db<'_>,
    id: i64,
    snapshot_id: i64,
    started_at: DateTime<Utc>,
    f: &Frozen,
) -> crate::Result<bool> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query("UPDATE campaigns SET state = 'running', snapshot_id = $1, started_at = $2, members = $3, target_members = $4, \
             control_members = $5, email_members = $6, letter_members = $7, unreachable = $8, updated_at = $2 WHERE id = $9 AND state = 'draft'")
            .bind(snapshot_id).bind(started_at).bind(f.members).bind(f.target).bind(f.control).bind(f.email).bind(f.letter)
            .bind(f.unreachable).bind(id).execute(&mut *c).await?.rows_affected() == 1
    }))
}

/// Records one issuing step: the cursor moves and the count grows, in the step's transaction.
pub async fn advance(
    db: &mut Db<'_>,
    id: i64,
    cursor: i64,
    issued: i64,
    now: DateTime<Utc>,
) -> crate::Result<()> {
    with_db!(db, c, _pg => {
        sqlx::query("UPDATE campaigns SET cursor = $1, vouchers_issued = vouchers_issued + $2, updated_at = $3 WHERE id = $4")
            .bind(cursor).bind(issued).bind(now).bind(id).execute(&mut *c).await?;
    });
    Ok(())
}

pub async fn mark_done(
    db: &mut Db<'_>,
    id: i64,
    letters: i64,
    emails: i64,
    now: DateTime<Utc>,
) -> crate::Result<()> {
    with_db!(db, c, _pg => {
        sqlx::query("UPDATE campaigns SET state = 'done', letters = $1, emails = $2, finished_at = $3, updated_at = $3 WHERE id = $4")
            .bind(letters).bind(emails).bind(now).bind(id).execute(&mut *c).await?;
    });
    Ok(())
}

pub async fn mark_synced(
    db: &mut Db<'_>,
    id: i64,
    members: i64,
    now: DateTime<Utc>,
) -> crate::Result<()> {
    with_db!(db, c, _pg => {
        sqlx::query("UPDATE campaigns SET synced_at = $1, synced_members = $2, updated_at = $1 WHERE id = $3")
            .bind(now).bind(members).bind(id).execute(&mut *c).await?;
    });
    Ok(())
}

/// What the channel rule and the breakdowns need of one snapshot member, read at the start.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReachRow {
    pub customer_id: i64,
    pub preferred_channel: Option<String>,
    pub email: Option<String>,
    pub email_consent: Option<String>,
    pub letter_consent: Option<String>,
    pub postal_status: Option<String>,
    pub deceased: bool,
    pub postal_ads_blocked: bool,
    pub rfm: Option<String>,
    pub orders_12m: i64,
    pub revenue_12m: i64,
}

/// Every member of a snapshot with its reach facts and its purchases in `[from, to)`, in id
/// order. Consents: the latest statement per channel (by `recorded_at`).
pub async fn reach_rows(
    db: &mut Db<'_>,
    snapshot_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> crate::Result<Vec<ReachRow>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as(
            "SELECT c.id AS customer_id, c.preferred_channel, c.email, \
             (SELECT s.status FROM consents s WHERE s.customer_id = c.id AND s.channel = 'email' ORDER BY s.recorded_at DESC, s.id DESC LIMIT 1) AS email_consent, \
             (SELECT s.status FROM consents s WHERE s.customer_id = c.id AND s.channel = 'letter' ORDER BY s.recorded_at DESC, s.id DESC LIMIT 1) AS letter_consent, \
             (SELECT a.postal_status FROM addresses a WHERE a.customer_id = c.id AND a.kind = 'main' AND a.valid_until IS NULL ORDER BY a.id DESC LIMIT 1) AS postal_status, \
             (c.reported_deceased_at IS NOT NULL) AS deceased, c.postal_ads_blocked, \
             (SELECT sc.rfm FROM customer_scores sc WHERE sc.customer_id = c.id) AS rfm, \
             (SELECT COUNT(*) FROM receipts r WHERE r.customer_id = c.id AND r.kind = 'sale' AND r.occurred_at >= $2 AND r.occurred_at < $3) AS orders_12m, \
             (SELECT CAST(COALESCE(SUM(r.total_amount), 0) AS BIGINT) FROM receipts r WHERE r.customer_id = c.id AND r.occurred_at >= $2 AND r.occurred_at < $3) AS revenue_12m \
             FROM segment_members sm JOIN customers c ON c.id = sm.customer_id WHERE sm.snapshot_id = $1 AND c.status = 'active' ORDER BY c.id")
            .bind(snapshot_id).bind(from).bind(to).fetch_all(&mut *c).await?
    }))
}

/// Inbound contacts of a snapshot's members: `(customer, channel, kind, count)`.
pub async fn inbound_counts(
    db: &mut Db<'_>,
    snapshot_id: i64,
) -> crate::Result<Vec<(i64, Option<String>, String, i64)>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as(
            "SELECT a.customer_id, a.channel, a.kind, COUNT(*) FROM activities a \
             WHERE a.direction = 'inbound' AND a.customer_id IN (SELECT sm.customer_id FROM segment_members sm WHERE sm.snapshot_id = $1) \
             GROUP BY a.customer_id, a.channel, a.kind")
            .bind(snapshot_id).fetch_all(&mut *c).await?
    }))
}

#[derive(Debug, Clone)]
pub struct NewMember {
    pub customer_id: i64,
    pub control: bool,
    pub channel: Option<&'static str>,
    pub unreachable_reason: Option<String>,
    pub rfm: Option<String>,
    pub orders_12m: i64,
    pub revenue_12m: i64,
}

pub async fn insert_members(
    db: &mut Db<'_>,
    campaign_id: i64,
    members: &[NewMember],
) -> crate::Result<()> {
    let rows = members
        .iter()
        .map(|m| {
            vec![
                campaign_id.into(),
                m.customer_id.into(),
                if m.control { "control" } else { "target" }.into(),
                Val::OptText(m.channel.map(str::to_string)),
                Val::OptText(m.unreachable_reason.clone()),
                Val::OptText(m.rfm.clone()),
                m.orders_12m.into(),
                m.revenue_12m.into(),
            ]
        })
        .collect();
    insert_rows(
        db,
        "campaign_members",
        &[
            "campaign_id",
            "customer_id",
            "member_group",
            "channel",
            "unreachable_reason",
            "rfm",
            "orders_12m",
            "revenue_12m",
        ],
        rows,
    )
    .await
}

/// Reachable target members still without a voucher, after the cursor, in id order.
pub async fn pending(
    db: &mut Db<'_>,
    campaign_id: i64,
    after: i64,
    limit: i64,
) -> crate::Result<Vec<(i64, String)>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as(
            "SELECT customer_id, channel FROM campaign_members WHERE campaign_id = $1 AND member_group = 'target' \
             AND channel IS NOT NULL AND voucher_id IS NULL AND customer_id > $2 ORDER BY customer_id LIMIT $3")
            .bind(campaign_id).bind(after).bind(limit).fetch_all(&mut *c).await?
    }))
}

/// Links members to their vouchers: one statement per 1,000 members.
pub async fn set_vouchers(
    db: &mut Db<'_>,
    campaign_id: i64,
    items: &[(i64, i64)],
) -> crate::Result<()> {
    for chunk in items.chunks(1000) {
        // The integers are ids produced here, not input.
        let mut cases = String::new();
        let mut ids = Vec::with_capacity(chunk.len());
        for (customer, voucher) in chunk {
            cases.push_str(&format!(" WHEN {customer} THEN {voucher}"));
            ids.push(customer.to_string());
        }
        let sql = format!(
            "UPDATE campaign_members SET voucher_id = CASE customer_id{cases} END WHERE campaign_id = $1 AND customer_id IN ({})",
            ids.join(",")
        );
        with_db!(db, c, _pg => {
            sqlx::query(AssertSqlSafe(sql)).bind(campaign_id).execute(&mut *c).await?;
        });
    }
    Ok(())
}

/// One contact per member on the timeline, written in multi-row statements.
#[derive(Debug, Clone)]
pub struct Contact {
    pub customer_id: i64,
    pub channel: String,
}

pub async fn insert_contacts(
    db: &mut Db<'_>,
    contacts: &[Contact],
    subject: &str,
    reference: &str,
    actor: &str,
    at: DateTime<Utc>,
) -> crate::Result<()> {
    let rows = contacts
        .iter()
        .map(|c| {
            vec![
                c.customer_id.into(),
                c.channel.clone().into(),
                at.into(),
                c.channel.clone().into(),
                "outbound".into(),
                subject.into(),
                reference.into(),
                actor.into(),
                at.into(),
            ]
        })
        .collect();
    insert_rows(
        db,
        "activities",
        &[
            "customer_id",
            "kind",
            "occurred_at",
            "channel",
            "direction",
            "subject",
            "ref",
            "actor",
            "created_at",
        ],
        rows,
    )
    .await
}

/// The vouchers of the campaign's members contacted through `channel`, in customer order.
pub async fn vouchers_by_channel(
    db: &mut Db<'_>,
    campaign_id: i64,
    channel: &str,
) -> crate::Result<Vec<VoucherRow>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as(
            "SELECT v.id, v.code, v.kind, v.customer_id, v.value_type, v.value, v.currency, v.min_order, v.channels, v.valid_from, v.valid_until, \
             v.status, v.run_id, v.issued_at, v.redeemed_at, v.redeemed_channel, v.redeemed_store, v.redeemed_receipt \
             FROM campaign_members m JOIN vouchers v ON v.id = m.voucher_id WHERE m.campaign_id = $1 AND m.channel = $2 ORDER BY m.customer_id")
            .bind(campaign_id).bind(channel).fetch_all(&mut *c).await?
    }))
}

/// A row of the email list.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct EmailRow {
    pub customer_number: String,
    pub salutation: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub language: Option<String>,
    pub code: String,
    pub valid_until: DateTime<Utc>,
}

pub async fn email_rows(db: &mut Db<'_>, campaign_id: i64) -> crate::Result<Vec<EmailRow>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as(
            "SELECT c.customer_number, c.salutation, c.first_name, c.last_name, c.email, c.language, v.code, v.valid_until \
             FROM campaign_members m JOIN customers c ON c.id = m.customer_id JOIN vouchers v ON v.id = m.voucher_id \
             WHERE m.campaign_id = $1 AND m.channel = 'email' ORDER BY m.customer_id")
            .bind(campaign_id).fetch_all(&mut *c).await?
    }))
}

pub async fn save_file(
    db: &mut Db<'_>,
    campaign_id: i64,
    kind: &str,
    rows: i64,
    content: &str,
    now: DateTime<Utc>,
) -> crate::Result<()> {
    with_db!(db, c, _pg => {
        sqlx::query("INSERT INTO campaign_files (campaign_id, kind, rows, content, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (campaign_id, kind) DO NOTHING")
            .bind(campaign_id).bind(kind).bind(rows).bind(content).bind(now).execute(&mut *c).await?;
    });
    Ok(())
}

pub async fn file(db: &mut Db<'_>, campaign_id: i64, kind: &str) -> crate::Result<Option<String>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_scalar("SELECT content FROM campaign_files WHERE campaign_id = $1 AND kind = $2")
            .bind(campaign_id).bind(kind).fetch_optional(&mut *c).await?
    }))
}

/// A member as the members list shows it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct MemberRow {
    #[serde(skip)]
    pub customer_id: i64,
    pub customer_number: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company_name: Option<String>,
    #[sqlx(rename = "member_group")]
    pub group: String,
    pub channel: Option<String>,
    pub unreachable_reason: Option<String>,
    pub voucher_code: Option<String>,
    pub voucher_status: Option<String>,
}

pub async fn members(
    db: &mut Db<'_>,
    campaign_id: i64,
    group: Option<&str>,
    after: i64,
    limit: i64,
) -> crate::Result<Vec<MemberRow>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as(
            "SELECT m.customer_id, c.customer_number, c.first_name, c.last_name, c.company_name, m.member_group, m.channel, m.unreachable_reason, \
             v.code AS voucher_code, v.status AS voucher_status \
             FROM campaign_members m JOIN customers c ON c.id = m.customer_id LEFT JOIN vouchers v ON v.id = m.voucher_id \
             WHERE m.campaign_id = $1 AND ($2 IS NULL OR m.member_group = $2) AND m.customer_id > $3 ORDER BY m.customer_id LIMIT $4")
            .bind(campaign_id).bind(group).bind(after).bind(limit).fetch_all(&mut *c).await?
    }))
}

/// One member's facts for the results: purchases and net revenue since `since`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutcomeRow {
    pub customer_id: i64,
    pub member_group: String,
    pub voucher_id: Option<i64>,
    pub voucher_status: Option<String>,
    pub redeemed_at: Option<DateTime<Utc>>,
    pub redeemed_receipt: Option<String>,
    pub rfm: Option<String>,
    pub orders_12m: i64,
    pub revenue_12m: i64,
    pub purchases: i64,
    pub revenue: i64,
}

pub async fn outcomes(
    db: &mut Db<'_>,
    campaign_id: i64,
    since: DateTime<Utc>,
) -> crate::Result<Vec<OutcomeRow>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as(
            "SELECT m.customer_id, m.member_group, m.voucher_id, v.status AS voucher_status, v.redeemed_at, v.redeemed_receipt, m.rfm, m.orders_12m, m.revenue_12m, \
             (SELECT COUNT(*) FROM receipts r WHERE r.customer_id = m.customer_id AND r.kind = 'sale' AND r.occurred_at >= $2) AS purchases, \
             (SELECT CAST(COALESCE(SUM(r.total_amount), 0) AS BIGINT) FROM receipts r WHERE r.customer_id = m.customer_id AND r.occurred_at >= $2) AS revenue \
             FROM campaign_members m LEFT JOIN vouchers v ON v.id = m.voucher_id WHERE m.campaign_id = $1 ORDER BY m.customer_id")
            .bind(campaign_id).bind(since).fetch_all(&mut *c).await?
    }))
}

/// Sales receipts since `since` of members whose voucher is redeemed: `(customer, external id,
/// occurred at, total)`, for matching receipts to redemptions.
pub async fn redeemer_receipts(
    db: &mut Db<'_>,
    campaign_id: i64,
    since: DateTime<Utc>,
) -> crate::Result<Vec<(i64, String, DateTime<Utc>, i64)>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as(
            "SELECT r.customer_id, r.external_id, r.occurred_at, r.total_amount FROM campaign_members m \
             JOIN vouchers v ON v.id = m.voucher_id JOIN receipts r ON r.customer_id = m.customer_id \
             WHERE m.campaign_id = $1 AND v.status = 'redeemed' AND r.kind = 'sale' AND r.occurred_at >= $2 ORDER BY r.customer_id, r.occurred_at")
            .bind(campaign_id).bind(since).fetch_all(&mut *c).await?
    }))
}

/// Per UTC day since `since`: `(day, group, sales receipts)` of the members.
pub async fn daily_purchases(
    db: &mut Db<'_>,
    campaign_id: i64,
    since: DateTime<Utc>,
) -> crate::Result<Vec<(String, String, i64)>> {
    Ok(with_db!(db, c, pg => {
        let sql = dialect(pg,
            "SELECT substr(r.occurred_at, 1, 10) AS day, m.member_group, COUNT(*) FROM receipts r JOIN campaign_members m ON m.customer_id = r.customer_id \
             WHERE m.campaign_id = $1 AND r.kind = 'sale' AND r.occurred_at >= $2 GROUP BY day, m.member_group ORDER BY day",
            "SELECT to_char(r.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, m.member_group, COUNT(*) FROM receipts r JOIN campaign_members m ON m.customer_id = r.customer_id \
             WHERE m.campaign_id = $1 AND r.kind = 'sale' AND r.occurred_at >= $2 GROUP BY day, m.member_group ORDER BY day");
        sqlx::query_as(sql).bind(campaign_id).bind(since).fetch_all(&mut *c).await?
    }))
}

/// Per UTC day: `(day, redemptions)` of the campaign's vouchers.
pub async fn daily_redemptions(
    db: &mut Db<'_>,
    campaign_id: i64,
) -> crate::Result<Vec<(String, i64)>> {
    Ok(with_db!(db, c, pg => {
        let sql = dialect(pg,
            "SELECT substr(v.redeemed_at, 1, 10) AS day, COUNT(*) FROM campaign_members m JOIN vouchers v ON v.id = m.voucher_id \
             WHERE m.campaign_id = $1 AND v.status = 'redeemed' GROUP BY day ORDER BY day",
            "SELECT to_char(v.redeemed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, COUNT(*) FROM campaign_members m JOIN vouchers v ON v.id = m.voucher_id \
             WHERE m.campaign_id = $1 AND v.status = 'redeemed' GROUP BY day ORDER BY day");
        sqlx::query_as(sql).bind(campaign_id).fetch_all(&mut *c).await?
    }))
}
