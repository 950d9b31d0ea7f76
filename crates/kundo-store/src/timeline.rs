//! The customer timeline: every contact, purchase, return and voucher event of one customer,
//! newest first, read in one statement from the tables that hold them.
//!
//! Each part of the `UNION ALL` is ordered and limited on its own index before the union, so a
//! page costs a few index steps per part however long the history is. Pages are cut by keyset
//! on `(occurred_at, src, id)`; `src` numbers the parts, so entries with the same time are
//! still in a total order and every entry appears on exactly one page.

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use crate::rows::{BindVal, Val};
use crate::{Db, with_db};

/// The parts of the timeline, in the order they take among entries with the same time.
pub const SRC_ACTIVITY: i64 = 1;
pub const SRC_RECEIPT: i64 = 2;
pub const SRC_VOUCHER_ISSUED: i64 = 3;
pub const SRC_VOUCHER_REDEEMED: i64 = 4;

/// One entry. Which fields are set depends on the part it comes from.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TimelineRow {
    pub src: i64,
    pub id: i64,
    pub kind: String,
    pub occurred_at: DateTime<Utc>,
    pub channel: Option<String>,
    pub direction: Option<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub case_id: Option<i64>,
    pub reference: Option<String>,
    pub actor: Option<String>,
    pub store_code: Option<String>,
    pub amount: Option<i64>,
    pub currency: Option<String>,
    pub value_type: Option<String>,
}

/// The position of the last entry of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimelineCursor {
    pub at: DateTime<Utc>,
    pub src: i64,
    pub id: i64,
}

impl TimelineCursor {
    pub fn of(row: &TimelineRow) -> Self {
        TimelineCursor {
            at: row.occurred_at,
            src: row.src,
            id: row.id,
        }
    }

    /// `SECONDS.NANOS_SRC_ID`, e.g. `1795428900.123456000_2_981`.
    pub fn encode(&self) -> String {
        format!(
            "{}.{:09}_{}_{}",
            self.at.timestamp(),
            self.at.timestamp_subsec_nanos(),
            self.src,
            self.id
        )
    }

    pub fn decode(s: &str) -> Option<TimelineCursor> {
        let mut parts = s.split('_');
        let (secs, nanos) = parts.next()?.split_once('.')?;
        let src = parts.next()?.parse().ok()?;
        let id = parts.next()?.parse().ok()?;
        if parts.next().is_some() || nanos.len() != 9 {
            return None;
        }
        let at = DateTime::from_timestamp(secs.parse().ok()?, nanos.parse().ok()?)?;
        Some(TimelineCursor { at, src, id })
    }
}

/// What to read: one customer, optionally only some kinds (see
/// `kundo_core::history::TIMELINE_KINDS`), the page after `before`.
#[derive(Debug, Clone)]
pub struct TimelineQuery<'a> {
    pub customer_id: i64,
    pub kinds: Option<&'a [String]>,
    pub before: Option<TimelineCursor>,
    pub limit: i64,
}

/// Numbered parameters (`$n` works on both backends) and their values.
struct Params(Vec<Val>);

impl Params {
    fn push(&mut self, v: Val) -> String {
        self.0.push(v);
        format!("${}", self.0.len())
    }
}

/// `time_col <= t`, and for the part of the cursor itself or a later one, what breaks the tie.
fn keyset(src: i64, time_col: &str, cursor: Option<&TimelineCursor>, p: &mut Params) -> String {
    let Some(c) = cursor else {
        return String::new();
    };
    let t = p.push(Val::Time(c.at));
    match src.cmp(&c.src) {
        std::cmp::Ordering::Less => format!(" AND {time_col} <= {t}"),
        std::cmp::Ordering::Equal => {
            let id = p.push(Val::Int(c.id));
            format!(" AND {time_col} <= {t} AND ({time_col} < {t} OR id < {id})")
        }
        std::cmp::Ordering::Greater => format!(" AND {time_col} < {t}"),
    }
}

fn in_list(col: &str, values: &[&str], p: &mut Params) -> String {
    let list: Vec<String> = values
        .iter()
        .map(|v| p.push(Val::Text(v.to_string())))
        .collect();
    format!(" AND {col} IN ({})", list.join(", "))
}

/// The statement for a query; the structure comes from constants, every value is bound.
fn statement(q: &TimelineQuery<'_>) -> (String, Vec<Val>) {
    let wants = |k: &str| q.kinds.is_none_or(|ks| ks.iter().any(|x| x == k));
    let mut p = Params(Vec::new());
    let customer = p.push(Val::Int(q.customer_id));
    let limit = p.push(Val::Int(q.limit));
    let cursor = q.before.as_ref();
    let mut parts = Vec::new();

    let activity_kinds: Option<Vec<&str>> = q.kinds.map(|ks| {
        ks.iter()
            .map(String::as_str)
            .filter(|k| {
                !matches!(
                    *k,
                    "purchase" | "return" | "voucher_issued" | "voucher_redeemed"
                )
            })
            .collect()
    });
    if activity_kinds.as_ref().is_none_or(|k| !k.is_empty()) {
        let filter = match &activity_kinds {
            Some(k) => in_list("kind", k, &mut p),
            None => String::new(),
        };
        let ks = keyset(SRC_ACTIVITY, "occurred_at", cursor, &mut p);
        parts.push(format!(
            "SELECT * FROM (SELECT CAST({SRC_ACTIVITY} AS BIGINT) AS src, id, kind, occurred_at, channel, direction, subject, body, case_id, \
             ref AS reference, actor, CAST(NULL AS TEXT) AS store_code, CAST(NULL AS BIGINT) AS amount, CAST(NULL AS TEXT) AS currency, \
             CAST(NULL AS TEXT) AS value_type FROM activities WHERE customer_id = {customer}{filter}{ks} \
             ORDER BY occurred_at DESC, id DESC LIMIT {limit}) AS a"
        ));
    }

    let receipt_kinds: Vec<&str> = [("purchase", "sale"), ("return", "return")]
        .into_iter()
        .filter(|(k, _)| wants(k))
        .map(|(_, stored)| stored)
        .collect();
    if !receipt_kinds.is_empty() {
        let filter = if receipt_kinds.len() == 2 {
            String::new()
        } else {
            in_list("kind", &receipt_kinds, &mut p)
        };
        let ks = keyset(SRC_RECEIPT, "occurred_at", cursor, &mut p);
        parts.push(format!(
            "SELECT * FROM (SELECT CAST({SRC_RECEIPT} AS BIGINT) AS src, id, CASE WHEN kind = 'sale' THEN CAST('purchase' AS TEXT) ELSE kind END AS kind, \
             occurred_at, channel, CAST(NULL AS TEXT) AS direction, CAST(NULL AS TEXT) AS subject, CAST(NULL AS TEXT) AS body, \
             CAST(NULL AS BIGINT) AS case_id, external_id AS reference, source AS actor, store_code, total_amount AS amount, currency, \
             CAST(NULL AS TEXT) AS value_type FROM receipts WHERE customer_id = {customer}{filter}{ks} \
             ORDER BY occurred_at DESC, id DESC LIMIT {limit}) AS r"
        ));
    }

    if wants("voucher_issued") {
        let ks = keyset(SRC_VOUCHER_ISSUED, "issued_at", cursor, &mut p);
        parts.push(format!(
            "SELECT * FROM (SELECT CAST({SRC_VOUCHER_ISSUED} AS BIGINT) AS src, id, CAST('voucher_issued' AS TEXT) AS kind, issued_at AS occurred_at, \
             channels AS channel, CAST(NULL AS TEXT) AS direction, kind AS subject, CAST(NULL AS TEXT) AS body, CAST(NULL AS BIGINT) AS case_id, \
             code AS reference, CAST(NULL AS TEXT) AS actor, CAST(NULL AS TEXT) AS store_code, value AS amount, currency, value_type \
             FROM vouchers WHERE customer_id = {customer}{ks} ORDER BY issued_at DESC, id DESC LIMIT {limit}) AS vi"
        ));
    }

    if wants("voucher_redeemed") {
        let ks = keyset(SRC_VOUCHER_REDEEMED, "redeemed_at", cursor, &mut p);
        parts.push(format!(
            "SELECT * FROM (SELECT CAST({SRC_VOUCHER_REDEEMED} AS BIGINT) AS src, id, CAST('voucher_redeemed' AS TEXT) AS kind, redeemed_at AS occurred_at, \
             redeemed_channel AS channel, CAST(NULL AS TEXT) AS direction, kind AS subject, redeemed_receipt AS body, CAST(NULL AS BIGINT) AS case_id, \
             code AS reference, CAST(NULL AS TEXT) AS actor, redeemed_store AS store_code, value AS amount, currency, value_type \
             FROM vouchers WHERE customer_id = {customer} AND redeemed_at IS NOT NULL{ks} ORDER BY redeemed_at DESC, id DESC LIMIT {limit}) AS vr"
        ));
    }

    let sql = format!(
        "{} ORDER BY occurred_at DESC, src DESC, id DESC LIMIT {limit}",
        parts.join(" UNION ALL ")
    );
    (sql, p.0)
}

/// One page of a customer's timeline, newest first.
pub async fn page(db: &mut Db<'_>, q: &TimelineQuery<'_>) -> crate::Result<Vec<TimelineRow>> {
    let (sql, values) = statement(q);
    Ok(with_db!(db, c, _pg => {
        let mut query = sqlx::query_as::<_, TimelineRow>(AssertSqlSafe(sql));
        for v in values {
            query = query.bind_val(v);
        }
        query.fetch_all(&mut *c).await?
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_survive_the_round_trip_to_the_nanosecond() {
        let at = DateTime::from_timestamp(1_795_428_900, 123_456_789).unwrap();
        let c = TimelineCursor {
            at,
            src: 2,
            id: 981,
        };
        assert_eq!(TimelineCursor::decode(&c.encode()), Some(c));
        let old = TimelineCursor {
            at: DateTime::from_timestamp(-5, 7).unwrap(),
            src: 1,
            id: 1,
        };
        assert_eq!(TimelineCursor::decode(&old.encode()), Some(old));
        assert_eq!(TimelineCursor::decode("1.5_1_1"), None);
        assert_eq!(TimelineCursor::decode("x"), None);
    }

    #[test]
    fn a_kind_filter_reads_only_the_parts_that_hold_it() {
        let kinds = vec!["call".to_string()];
        let (sql, _) = statement(&TimelineQuery {
            customer_id: 1,
            kinds: Some(&kinds),
            before: None,
            limit: 10,
        });
        assert!(sql.contains("FROM activities") && !sql.contains("FROM receipts"));
        let kinds = vec!["purchase".to_string(), "voucher_redeemed".to_string()];
        let (sql, _) = statement(&TimelineQuery {
            customer_id: 1,
            kinds: Some(&kinds),
            before: None,
            limit: 10,
        });
        assert!(!sql.contains("FROM activities") && sql.contains("FROM receipts"));
        assert!(sql.contains("redeemed_at IS NOT NULL") && !sql.contains("issued_at AS"));
    }
}
