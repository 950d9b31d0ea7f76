//! Segments: the compiler from a [`Segment`] tree to one SQL query (built with sea-query and
//! rendered for the backend in use; every value bound), the saved segments, and the snapshots of
//! static lists.
//!
//! The query is `SELECT … FROM customers c WHERE c.status = 'active' AND <condition>`, or, for
//! counting members who must have bought, the same over `customer_stats` (`member_ids`, ADR 9),
//! whose row also carries copies of the customer's own fields (ADR 14). Each leaf is a test on
//! `c` itself, a correlated sub-select on the customer (`(SELECT COALESCE(SUM(…), 0) … WHERE
//! customer_id = c.id) <op> value`) or `[NOT] EXISTS (… WHERE customer_id = c.id)` over the one
//! table it needs, so a leaf is never NULL, NOT means "not a member", customers without rows
//! have the figure 0, and no leaf adds a join (ADR 7). At 1M customers this measured 2–7×
//! faster than `c.id IN (SELECT … GROUP BY … HAVING …)`.
//!
//! Sources per purchase condition (ADR 8): no window → `customer_stats` (or `customer_stores`
//! for a store, except on PostgreSQL "shops there at all", which tests the stores on the
//! figure row, ADR 17); the last 12 months while the rolling figures cover them → the `*_12m`
//! columns of `customer_stats`; other whole months → `customer_monthly`; a window with day
//! precision, or a store together with a window or a channel → `receipts`. "Last purchase" reads
//! `customer_stats.last_purchase`. Categories bought ever read `customer_category_totals`, in
//! whole months `customer_categories`; SKUs and day-precise windows read `receipt_lines`
//! (joined to `receipts` only when a window asks for dates).
//!
//! Segment statements run unprepared (`persistent(false)`): PostgreSQL switches a prepared
//! statement to a generic plan after five executions, and without the values the estimates are
//! defaults ("store = $4" matched 31k rows instead of 572k), which turned seed 1's hash joins
//! into a nested loop of half a million probes (0.37 s → 1.3 s). Each definition is its own
//! statement anyway, so a statement cache would only fill up with them.

use chrono::{DateTime, NaiveDate, Utc};
use kundo_core::segment::{
    AttrTest, Bought, Cmp, Comparison, Condition, FieldCond, LoyaltyMetric, Product,
    PurchaseMetric, Purchases, SalesChannel, ScoreCond, Segment, Span, TextField, TextMatch,
    born_by, month_numbers_between,
};
use sea_query::{
    Alias, CommonTableExpression, Cond, Expr, ExprTrait, JoinType, Order, PostgresQueryBuilder,
    Query, SelectStatement, SqliteQueryBuilder, Value, WithClause, WithQuery,
};
use sea_query_sqlx::SqlxBinder;
use serde::Serialize;
use sqlx::AssertSqlSafe;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

use crate::{Db, StoreError, with_db};

fn a(name: &'static str) -> Alias {
    Alias::new(name)
}

fn col(table: &'static str, column: &'static str) -> Expr {
    Expr::col((a(table), a(column)))
}

fn cid() -> Expr {
    col("c", "id")
}

fn never() -> Expr {
    Expr::cust("1 = 0")
}

fn compare(e: Expr, cmp: Cmp, v: impl Into<Value>) -> Expr {
    match cmp {
        Cmp::Eq => e.eq(v),
        Cmp::Ne => e.ne(v),
        Cmp::Lt => e.lt(v),
        Cmp::Lte => e.lte(v),
        Cmp::Gt => e.gt(v),
        Cmp::Gte => e.gte(v),
    }
}

/// Midnight UTC at the start of `d`.
fn day_start(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

/// `[from, to)` in timestamps for the days of a span.
fn span_times(span: &Span) -> (Option<DateTime<Utc>>, DateTime<Utc>) {
    let end = span.to.succ_opt().unwrap_or(span.to);
    (span.from.map(day_start), day_start(end))
}

/// `[NOT] EXISTS (… WHERE <alias>.customer_id = c.id)`. Correlated rather than
/// `c.id [NOT] IN (…)`: PostgreSQL cannot turn a NOT IN into an anti-join (NULL semantics) and
/// falls back to scanning the materialized sub-select for every customer once it does not fit
/// `work_mem` — "no purchase in 60 days" over 1M customers ran for minutes. EXISTS becomes a
/// (hashed) semi- or anti-join there and an index probe per customer on SQLite.
fn member_of(mut sub: SelectStatement, alias: &'static str, negate: bool) -> Expr {
    sub.and_where(col(alias, "customer_id").equals((a("c"), a("id"))));
    if negate {
        Expr::exists(sub).not()
    } else {
        Expr::exists(sub)
    }
}

/// `(SELECT figure FROM … WHERE customer = c.id …) <op> v`: a correlated sub-select that the
/// databases answer from the per-customer index (customer first) for each candidate row, which
/// measured 2–7× faster at 1M customers than `c.id IN (SELECT … GROUP BY … HAVING …)`, an
/// aggregation over every customer of the table. A customer without rows has the figure 0.
fn figure(mut sub: SelectStatement, customer: Expr, figure_sql: String, cmp: Comparison) -> Expr {
    sub.expr(Expr::cust(format!("COALESCE({figure_sql}, 0)")))
        .and_where(customer.eq(cid()));
    compare(
        Expr::SubQuery(None, Box::new(sub.into())),
        cmp.cmp,
        cmp.value,
    )
}

fn text_in(column: Expr, m: &TextMatch) -> Expr {
    if m.values.len() == 1 {
        column.eq(m.values[0].clone())
    } else {
        column.is_in(m.values.iter().cloned())
    }
}

fn current_main_address() -> SelectStatement {
    let mut q = Query::select();
    q.expr(col("a", "customer_id"))
        .from_as("addresses", a("a"))
        .and_where(col("a", "kind").eq("main"))
        .and_where(col("a", "valid_until").is_null());
    q
}

/// What a segment is evaluated against: the day its windows are resolved on, and the months
/// the rolling figures in `customer_stats` cover (see [`crate::rolling`]).
#[derive(Debug, Clone)]
pub struct At {
    pub as_of: NaiveDate,
    pub rolling: Option<(String, String)>,
    /// No sale is recorded at or after this instant (ingest refuses receipts further ahead of
    /// the clock), so a window ending later needs no look at the receipts beyond it.
    pub recorded_until: DateTime<Utc>,
    /// Only customers with an id in this range (inclusive): one part of a preview split over
    /// several SQLite connections (ADR 12). The range is repeated inside the scans of
    /// `customer_stats`, so that each part scans only its own share of the figures.
    pub ids: Option<(i64, i64)>,
    /// Compiled for PostgreSQL (which keeps the months of each category on its totals row).
    pub pg: bool,
}

impl At {
    /// `as_of` without the rolling figures: every window is summed from its source.
    pub fn day(as_of: NaiveDate) -> At {
        At {
            as_of,
            rolling: None,
            recorded_until: DateTime::<Utc>::MAX_UTC,
            ids: None,
            pg: false,
        }
    }

    pub async fn load(db: &mut Db<'_>, as_of: NaiveDate) -> crate::Result<At> {
        Ok(At {
            as_of,
            rolling: crate::rolling::current(db).await?,
            recorded_until: Utc::now()
                + chrono::Duration::minutes(kundo_core::points::MAX_MINUTES_AHEAD),
            ids: None,
            pg: db.is_postgres(),
        })
    }

    /// Are the rolling figures exactly the months of `span`?
    fn rolling_covers(&self, span: &Span) -> bool {
        let (from, to) = span.months();
        span.whole_months
            && self
                .rolling
                .as_ref()
                .is_some_and(|(rf, rt)| from.as_ref() == Some(rf) && &to == rt)
    }
}

/// The condition of a segment over `customers c`, with dates resolved against `at.as_of`.
pub fn condition(seg: &Segment, at: &At) -> Expr {
    match seg {
        Segment::And(items) => {
            let (stats, others) = and_parts(items, at);
            let mut all = others.into_iter().fold(Cond::all(), Cond::add);
            if !stats.is_empty() {
                all = all.add(stats_exists(stats, at));
            }
            Expr::from(all)
        }
        Segment::Or(items) => Expr::from(
            items
                .iter()
                .fold(Cond::any(), |c, s| c.add(condition(s, at))),
        ),
        Segment::Not(inner) => condition(inner, at).not(),
        Segment::Leaf(c) => leaf(c, at),
    }
}

/// The items of an AND group: the tests on `customer_stats` among its leaves (to be combined
/// into one condition) and the other conditions.
fn and_parts<'s>(
    items: impl IntoIterator<Item = &'s Segment>,
    at: &At,
) -> (Vec<StatsTest>, Vec<Expr>) {
    let mut stats = Vec::new();
    let mut others = Vec::new();
    let mut by_category: Vec<(&str, Vec<TotalsTest>)> = Vec::new();
    for item in items {
        match item {
            Segment::Leaf(Condition::Bought(b)) if let Some(t) = totals_test(b, at.as_of) => {
                match by_category.iter_mut().find(|(c, _)| *c == t.category) {
                    Some((_, tests)) => tests.push(t),
                    None => by_category.push((t.category, vec![t])),
                }
            }
            Segment::Leaf(c) => match classify(c, at) {
                Figure::Stats(t) => stats.push(t),
                Figure::Other(e) => others.push(e),
            },
            other => others.push(condition(other, at)),
        }
    }
    others.extend(
        by_category
            .into_iter()
            .map(|(category, tests)| category_totals(category, &tests, at.pg)),
    );
    (stats, others)
}

/// A segment whose members must have a `customer_stats` row (its top level tests a figure that
/// customers without purchases fail), split into the tests on that row and the rest. Conditions
/// on the customer's own fields at the top level test their copies on the same row (ADR 14); a
/// field nested under a group that also tests something else needs the customer's row, and the
/// query stays over `customers`.
fn stats_rooted(seg: &Segment, at: &At) -> Option<(Cond, Vec<Expr>)> {
    let items = match seg {
        Segment::And(items) => items.as_slice(),
        Segment::Leaf(_) => std::slice::from_ref(seg),
        Segment::Or(_) | Segment::Not(_) => return None,
    };
    let (row_fields, rest): (Vec<&Segment>, Vec<&Segment>) =
        items.iter().partition(|item| fields_only(item));
    if rest.iter().any(|item| reads_customer_columns(item)) {
        return None;
    }
    let (stats, others) = and_parts(rest, at);
    if stats.iter().all(|t| t.without_row) {
        return None;
    }
    let tests = row_fields
        .into_iter()
        .fold(all_of(stats), |c, f| c.add(fields_on_row(f, at.as_of)));
    Some((tests, others))
}

/// Does the tree test nothing but the customer's own (non-address) fields, all of which have
/// copies on `customer_stats`?
fn fields_only(seg: &Segment) -> bool {
    !any_leaf(seg, |c| !reads_customer_column(c))
}

/// Does a condition of the tree read a column of `customers` other than its id?
fn reads_customer_columns(seg: &Segment) -> bool {
    any_leaf(seg, reads_customer_column)
}

/// A condition on the customer's own row: a field other than the postal address (those have
/// their copies on `customer_stats`, ADR 14).
fn reads_customer_column(c: &Condition) -> bool {
    match c {
        Condition::Field(FieldCond::Text(field, _)) => !field.is_address(),
        Condition::Field(_) => true,
        _ => false,
    }
}

fn any_leaf(seg: &Segment, test: fn(&Condition) -> bool) -> bool {
    match seg {
        Segment::And(items) | Segment::Or(items) => items.iter().any(|s| any_leaf(s, test)),
        Segment::Not(inner) => any_leaf(inner, test),
        Segment::Leaf(c) => test(c),
    }
}

/// A tree of field conditions ([`fields_only`]) as a test on the copies in `customer_stats m`.
fn fields_on_row(seg: &Segment, as_of: NaiveDate) -> Expr {
    match seg {
        Segment::And(items) => Expr::from(
            items
                .iter()
                .fold(Cond::all(), |c, s| c.add(fields_on_row(s, as_of))),
        ),
        Segment::Or(items) => Expr::from(
            items
                .iter()
                .fold(Cond::any(), |c, s| c.add(fields_on_row(s, as_of))),
        ),
        Segment::Not(inner) => fields_on_row(inner, as_of).not(),
        Segment::Leaf(Condition::Field(f)) => field(f, as_of, "m"),
        // `fields_only` admits nothing else.
        Segment::Leaf(_) => never(),
    }
}

/// The tests on one `customer_stats` row, all of which must hold.
fn all_of(tests: Vec<StatsTest>) -> Cond {
    tests.into_iter().fold(Cond::all(), |c, t| c.add(t.test))
}

fn leaf(c: &Condition, at: &At) -> Expr {
    let as_of = at.as_of;
    match c {
        Condition::Field(f) => field(f, as_of, "c"),
        Condition::Attribute(at) => {
            let mut q = Query::select();
            q.expr(col("ca", "customer_id"))
                .from_as("customer_attributes", a("ca"))
                .and_where(col("ca", "name").eq(at.name.clone()));
            match &at.test {
                AttrTest::Text(m) => {
                    q.and_where(text_in(col("ca", "value"), m));
                    member_of(q, "ca", m.negate)
                }
                AttrTest::Int(cmp) => {
                    q.and_where(col("ca", "value_int").is_not_null())
                        .and_where(compare(col("ca", "value_int"), cmp.cmp, cmp.value));
                    member_of(q, "ca", false)
                }
                AttrTest::Date(cmp, d) => {
                    q.and_where(compare(col("ca", "value"), *cmp, d.clone()));
                    member_of(q, "ca", false)
                }
                AttrTest::Exists(yes) => member_of(q, "ca", !yes),
            }
        }
        Condition::Purchases(p) => purchases(p, at),
        Condition::LastPurchase { within, days } => {
            stats_exists(vec![last_purchase_test(*within, *days, at)], at)
        }
        Condition::Bought(b) => bought(b, at),
        Condition::Loyalty(metric, cmp) => loyalty(*metric, *cmp, as_of),
        Condition::Score(s) => {
            let mut q = Query::select();
            q.expr(col("sc", "customer_id"))
                .from_as("customer_scores", a("sc"));
            match s {
                ScoreCond::Number(metric, cmp) => {
                    let column = Expr::col((a("sc"), Alias::new(metric.column())));
                    q.and_where(column.clone().is_not_null())
                        .and_where(compare(column, cmp.cmp, cmp.value));
                    member_of(q, "sc", false)
                }
                ScoreCond::Rfm(m) => {
                    q.and_where(text_in(col("sc", "rfm"), m));
                    member_of(q, "sc", m.negate)
                }
            }
        }
        Condition::Consent { channel, status } => {
            // The latest statement per channel wins: no later one (or a later id at the same time).
            let mut later = Query::select();
            later
                .expr(Expr::val(1))
                .from_as("consents", a("s2"))
                .and_where(col("s2", "customer_id").equals((a("s"), a("customer_id"))))
                .and_where(col("s2", "channel").equals((a("s"), a("channel"))))
                .cond_where(
                    Cond::any()
                        .add(col("s2", "recorded_at").gt(col("s", "recorded_at")))
                        .add(
                            Cond::all()
                                .add(col("s2", "recorded_at").eq(col("s", "recorded_at")))
                                .add(col("s2", "id").gt(col("s", "id"))),
                        ),
                );
            let mut q = Query::select();
            q.expr(col("s", "customer_id"))
                .from_as("consents", a("s"))
                .and_where(col("s", "channel").eq(channel.clone()))
                .and_where(col("s", "status").eq(status.clone()))
                .and_where(Expr::exists(later).not());
            member_of(q, "s", false)
        }
        Condition::PostalStatus(status) => {
            let mut q = current_main_address();
            q.and_where(col("a", "postal_status").eq(status.clone()));
            member_of(q, "a", false)
        }
    }
}

/// A sale in the last `days` days, or none. Answered from `customer_stats.last_purchase` (one
/// row per customer, kept current at ingest and by merges) instead of probing the receipts:
/// a customer whose last sale is before the window has none in it, one whose last sale is in
/// the window has one. Only a last sale after the window's end (an `as_of` in the past) needs
/// the receipts, so the sub-select stays exact for any `as_of`.
fn last_purchase_test(within: bool, days: u32, at: &At) -> StatsTest {
    let span = kundo_core::segment::Window::LastDays(days).resolve(at.as_of);
    let (from, to) = span_times(&span);
    let mut sale_in_window = Cond::all().add(col("m", "last_purchase").is_not_null());
    if let Some(f) = from {
        sale_in_window = sale_in_window.add(col("m", "last_purchase").gte(f));
    }
    if to < at.recorded_until {
        sale_in_window = sale_in_window.add(last_sale_before(from, to));
    }
    let test = Expr::from(sale_in_window);
    if within {
        StatsTest {
            test,
            without_row: false,
        }
    } else {
        StatsTest {
            test: test.not(),
            without_row: true,
        }
    }
}

/// The last sale is before `to`, or there is a sale in the window all the same (a correlated
/// look at the receipts, only for customers who bought again after the window).
fn last_sale_before(from: Option<DateTime<Utc>>, to: DateTime<Utc>) -> Cond {
    let mut later = Query::select();
    later
        .expr(Expr::val(1))
        .from_as("receipts", a("r"))
        .and_where(col("r", "customer_id").equals((a("m"), a("customer_id"))))
        .and_where(col("r", "kind").eq("sale"))
        .and_where(col("r", "occurred_at").lt(to));
    if let Some(f) = from {
        later.and_where(col("r", "occurred_at").gte(f));
    }
    Cond::any()
        .add(col("m", "last_purchase").lt(to))
        .add(Expr::exists(later))
}

/// A test on the customer's one `customer_stats` row (alias `m`), and whether a customer
/// without that row (no purchase ever) is a member.
struct StatsTest {
    test: Expr,
    without_row: bool,
}

/// Tests on `customer_stats` of one AND group as one condition: one probe (or one join)
/// instead of one per test. If any test needs the row, the member has it and passes all tests:
/// `c.id IN (SELECT customer_id FROM customer_stats WHERE …)`, which lets SQLite scan the
/// narrow stats table once and look the customers up by id (seed 1 at 1M customers: 0.29 s
/// instead of 0.79 s probing per customer) and is a semi-join on PostgreSQL. If no test needs
/// the row, the member has no row or passes all: `NOT EXISTS` of a failing row (an anti-join;
/// never `NOT IN`, see ADR 7).
fn stats_exists(tests: Vec<StatsTest>, at: &At) -> Expr {
    let all_without_row = tests.iter().all(|t| t.without_row);
    let all = all_of(tests);
    let mut q = Query::select();
    q.from_as("customer_stats", a("m"));
    if all_without_row {
        q.expr(Expr::val(1))
            .and_where(col("m", "customer_id").eq(cid()))
            .and_where(Expr::from(all).not());
        Expr::exists(q).not()
    } else {
        q.expr(col("m", "customer_id")).cond_where(all);
        if let Some((lo, hi)) = at.ids {
            q.and_where(col("m", "customer_id").between(lo, hi));
        }
        cid().in_subquery(q)
    }
}

/// A leaf as a test on `customer_stats` if it is one (so that an AND group can combine it with
/// its siblings), otherwise as its expression.
fn classify(c: &Condition, at: &At) -> Figure {
    match c {
        Condition::Purchases(p) => purchases_leaf(p, at),
        Condition::LastPurchase { within, days } => {
            Figure::Stats(last_purchase_test(*within, *days, at))
        }
        other => Figure::Other(leaf(other, at)),
    }
}

/// A field condition on the customer's columns in `table`: `customers c`, or the copies on the
/// figure row `customer_stats m` (migration 0011, ADR 14). Address fields always probe `addresses`.
fn field(f: &FieldCond, as_of: NaiveDate, table: &'static str) -> Expr {
    match f {
        FieldCond::Text(field, m) if field.is_address() => {
            let mut q = current_main_address();
            q.and_where(text_in(Expr::col((a("a"), Alias::new(field.column()))), m));
            member_of(q, "a", m.negate)
        }
        FieldCond::Text(field, m) => {
            let column = Expr::col((a(table), Alias::new(field_column(*field))));
            let has = Expr::from(
                Cond::all()
                    .add(column.clone().is_not_null())
                    .add(text_in(column, m)),
            );
            if m.negate { has.not() } else { has }
        }
        FieldCond::BirthDate(cmp, d) => Expr::from(
            Cond::all()
                .add(col(table, "birth_date").is_not_null())
                .add(compare(col(table, "birth_date"), *cmp, *d)),
        ),
        FieldCond::Age(cmp, years) => {
            // Age ≥ y ⇔ born on or before born_by(as_of, y).
            let (Some(at_least), Some(next)) = (born_by(as_of, *years), born_by(as_of, years + 1))
            else {
                return never();
            };
            let bd = || col(table, "birth_date");
            let test = match cmp {
                Cmp::Gte => bd().lte(at_least),
                Cmp::Gt => bd().lte(next),
                Cmp::Lt => bd().gt(at_least),
                Cmp::Lte => bd().gt(next),
                Cmp::Eq => bd().lte(at_least).and(bd().gt(next)),
                Cmp::Ne => bd().lte(at_least).and(bd().gt(next)).not(),
            };
            Expr::from(Cond::all().add(bd().is_not_null()).add(test))
        }
    }
}

fn field_column(f: TextField) -> &'static str {
    f.column()
}

/// Where a purchase figure comes from, with the SQL of its parts (constants only).
struct Source {
    select: SelectStatement,
    customer: Expr,
    receipts: &'static str,
    revenue: &'static str,
    online_revenue: &'static str,
    /// At most one row per customer: the figure is a row expression, no aggregate.
    one_row: bool,
    /// The row is the customer's `customer_stats` (alias `m`).
    stats: bool,
}

fn purchases(p: &Purchases, at: &At) -> Expr {
    match purchases_leaf(p, at) {
        Figure::Stats(t) => stats_exists(vec![t], at),
        Figure::Other(e) => e,
    }
}

/// A leaf: a test on `customer_stats` (combinable with its siblings) or any
/// other expression.
enum Figure {
    Stats(StatsTest),
    Other(Expr),
}

fn purchases_leaf(p: &Purchases, at: &At) -> Figure {
    if let Some(test) = shops_at_store(p, at) {
        return Figure::Stats(test);
    }
    let span = p.window.map(|w| w.resolve(at.as_of));
    let rolling = p.store.is_none() && span.as_ref().is_some_and(|s| at.rolling_covers(s));
    let use_receipts = match (&p.store, &span) {
        (Some(_), Some(_)) => true,
        (Some(_), None) => p.channel.is_some(),
        (None, Some(s)) => !s.whole_months,
        (None, None) => false,
    };
    let mut src = if use_receipts {
        let mut q = Query::select();
        q.from_as("receipts", a("r"))
            .and_where(col("r", "customer_id").is_not_null());
        if let Some(s) = &span {
            let (from, to) = span_times(s);
            q.and_where(col("r", "occurred_at").lt(to));
            if let Some(f) = from {
                q.and_where(col("r", "occurred_at").gte(f));
            }
        }
        if let Some(store) = &p.store {
            q.and_where(col("r", "store_code").eq(store.clone()));
        }
        if let Some(ch) = p.channel {
            q.and_where(col("r", "channel").eq(ch.as_str()));
        }
        Source {
            select: q,
            customer: col("r", "customer_id"),
            receipts: "CASE WHEN r.kind = 'sale' THEN 1 ELSE 0 END",
            revenue: "r.total_amount",
            online_revenue: "CASE WHEN r.channel = 'online' THEN r.total_amount ELSE 0 END",
            one_row: false,
            stats: false,
        }
    } else if let Some(store) = &p.store {
        let mut q = Query::select();
        q.from_as("customer_stores", a("st"))
            .and_where(col("st", "store_code").eq(store.clone()));
        Source {
            select: q,
            customer: col("st", "customer_id"),
            receipts: "st.receipts",
            revenue: "st.revenue",
            online_revenue: "0",
            one_row: true,
            stats: false,
        }
    } else if rolling {
        let mut q = Query::select();
        q.from_as("customer_stats", a("m"));
        let (receipts, revenue) = match p.channel {
            None => ("m.receipts_12m", "m.revenue_12m"),
            Some(SalesChannel::Online) => ("m.online_receipts_12m", "m.online_revenue_12m"),
            Some(SalesChannel::Store) => (
                "m.receipts_12m - m.online_receipts_12m",
                "m.revenue_12m - m.online_revenue_12m",
            ),
        };
        Source {
            select: q,
            customer: col("m", "customer_id"),
            receipts,
            revenue,
            online_revenue: "m.online_revenue_12m",
            one_row: true,
            stats: true,
        }
    } else {
        let (table, alias) = if span.is_some() {
            ("customer_monthly", "m")
        } else {
            ("customer_stats", "m")
        };
        let mut q = Query::select();
        q.from_as(table, a(alias));
        if let Some(s) = &span {
            let (from, to) = s.months();
            q.and_where(col("m", "month").lte(to));
            if let Some(f) = from {
                q.and_where(col("m", "month").gte(f));
            }
        }
        let (receipts, revenue) = match p.channel {
            None => ("m.receipts", "m.revenue"),
            Some(SalesChannel::Online) => ("m.online_receipts", "m.online_revenue"),
            Some(SalesChannel::Store) => (
                "m.receipts - m.online_receipts",
                "m.revenue - m.online_revenue",
            ),
        };
        Source {
            select: q,
            customer: col("m", "customer_id"),
            receipts,
            revenue,
            online_revenue: "m.online_revenue",
            one_row: span.is_none(),
            stats: span.is_none(),
        }
    };
    let sum = |e: &str| {
        if src.one_row {
            format!("({e})")
        } else {
            format!("CAST(SUM({e}) AS BIGINT)")
        }
    };
    let (rec, rev) = (sum(src.receipts), sum(src.revenue));
    let sql = match p.metric {
        PurchaseMetric::Revenue => rev,
        PurchaseMetric::Receipts => rec,
        PurchaseMetric::AverageBasket => format!("COALESCE({rev} / NULLIF({rec}, 0), 0)"),
        PurchaseMetric::OnlineShare => format!(
            "CASE WHEN {rev} > 0 THEN {} * 1000 / {rev} ELSE 0 END",
            sum(src.online_revenue)
        ),
    };
    if src.stats {
        return Figure::Stats(StatsTest {
            test: compare(Expr::cust(sql), p.cmp.cmp, p.cmp.value),
            without_row: p.cmp.test(0),
        });
    }
    let customer = src.customer.clone();
    let select = std::mem::replace(&mut src.select, Query::select());
    Figure::Other(if src.one_row {
        one_row_figure(select, customer, sql, p.cmp)
    } else {
        figure(select, customer, sql, p.cmp)
    })
}

/// "Shops at store X" (receipts there ever, compared so that only none or some matters) as a
/// test of the stores on the customer's figure row, PostgreSQL only (migration 13, ADR 17):
/// no join with the store's rows of `customer_stores`. A store is in the array once the
/// customer has a sale there, and customers without a figure row have none anywhere.
fn shops_at_store(p: &Purchases, at: &At) -> Option<StatsTest> {
    let store = p.store.as_ref()?;
    let whether = at.pg
        && p.window.is_none()
        && p.channel.is_none()
        && p.metric == PurchaseMetric::Receipts
        && p.cmp.only_asks_whether_any();
    if !whether {
        return None;
    }
    let (some, none) = (p.cmp.test(1), p.cmp.test(0));
    let there = Expr::cust_with_values("$1 = ANY(m.stores)", [store.clone()]);
    let test = match (some, none) {
        (true, true) => Expr::cust("1 = 1"),
        (true, false) => there,
        (false, true) => there.not(),
        (false, false) => never(),
    };
    Some(StatsTest {
        test,
        without_row: none,
    })
}

/// A figure of a table with at most one row per customer, as `[NOT] EXISTS`: PostgreSQL turns
/// these into (anti-)joins, where a correlated scalar sub-select runs once per customer (at 1M
/// customers 3.7 s against 0.55 s for seed 1). Where 0 satisfies the comparison, customers
/// without a row are members: `NOT EXISTS (row whose figure fails)`.
fn one_row_figure(
    mut sub: SelectStatement,
    customer: Expr,
    figure_sql: String,
    cmp: Comparison,
) -> Expr {
    let test = compare(Expr::cust(figure_sql), cmp.cmp, cmp.value);
    sub.expr(Expr::val(1)).and_where(customer.eq(cid()));
    if cmp.test(0) {
        sub.and_where(test.not());
        Expr::exists(sub).not()
    } else {
        sub.and_where(test);
        Expr::exists(sub)
    }
}

fn bought(b: &Bought, at: &At) -> Expr {
    if let Some(t) = totals_test(b, at.as_of) {
        return category_totals(t.category, &[t], at.pg);
    }
    let span = b.window.map(|w| w.resolve(at.as_of));
    if let (Product::Category(category), Some(span)) = (&b.product, span)
        && span.whole_months
    {
        return bought_category_times(category, span, b.min_times, b.negate);
    }
    let mut q = Query::select();
    q.from_as("receipt_lines", a("l"))
        .and_where(col("l", "customer_id").is_not_null());
    match &b.product {
        Product::Category(c) => q.and_where(col("l", "category").eq(c.clone())),
        Product::Sku(s) => q.and_where(col("l", "sku").eq(s.clone())),
    };
    match span {
        Some(span) => {
            let (from, to) = span_times(&span);
            q.join_as(
                JoinType::InnerJoin,
                a("receipts"),
                a("r"),
                col("r", "id").equals((a("l"), a("receipt_id"))),
            )
            .and_where(col("r", "kind").eq("sale"))
            .and_where(col("r", "occurred_at").lt(to));
            if let Some(f) = from {
                q.and_where(col("r", "occurred_at").gte(f));
            }
        }
        // Lines of sales have no original line (those of returns do).
        None => {
            q.and_where(col("l", "original_line_no").is_null());
        }
    }
    // Correlated on the customer, so the (customer_id, category) index answers per candidate.
    q.and_where(col("l", "customer_id").eq(cid()));
    let found = if b.min_times <= 1 {
        q.expr(Expr::cust("1"));
        Expr::exists(q)
    } else {
        q.expr(Expr::cust("COUNT(DISTINCT l.receipt_id)"));
        Expr::SubQuery(None, Box::new(q.into())).gte(b.min_times)
    };
    if b.negate { found.not() } else { found }
}

/// "Bought a category": ever (at least n times), or at least once in whole months. One
/// `customer_category_totals` row per customer and category answers it (migration 12).
struct TotalsTest<'b> {
    category: &'b str,
    span: Option<Span>,
    min_times: i64,
    negate: bool,
}

fn totals_test(b: &Bought, as_of: NaiveDate) -> Option<TotalsTest<'_>> {
    let Product::Category(category) = &b.product else {
        return None;
    };
    let span = b.window.map(|w| w.resolve(as_of));
    match span {
        Some(s) if !s.whole_months || b.min_times > 1 => None,
        _ => Some(TotalsTest {
            category,
            span,
            min_times: b.min_times,
            negate: b.negate,
        }),
    }
}

/// The tests of one AND group on one category, as one look-up of the customer's totals row:
/// there is at most one such row, so "has a row that passes A" and "has no row that passes B"
/// is "has a row that passes A and not B", and a customer without the row bought nothing of
/// the category. Seed 3 ("Möbel last year, none in the last quarter") reads one row per
/// candidate instead of probing the monthly figures twice (ADR 16).
fn category_totals(category: &str, tests: &[TotalsTest], pg: bool) -> Expr {
    let mut q = Query::select();
    q.expr(Expr::val(1))
        .from_as("customer_category_totals", a("k"))
        .and_where(col("k", "customer_id").eq(cid()))
        .and_where(col("k", "category").eq(category));
    let (negated, bought): (Vec<&TotalsTest>, Vec<&TotalsTest>) =
        tests.iter().partition(|t| t.negate);
    if bought.is_empty() {
        let any = negated
            .iter()
            .fold(Cond::any(), |c, t| c.add(totals_row_test(t, pg)));
        q.cond_where(any);
        return Expr::exists(q).not();
    }
    for t in bought {
        q.and_where(totals_row_test(t, pg));
    }
    for t in negated {
        q.and_where(totals_row_test(t, pg).not());
    }
    Expr::exists(q)
}

/// The test of one condition on the totals row `k` (as if not negated).
fn totals_row_test(t: &TotalsTest, pg: bool) -> Expr {
    let Some(span) = t.span else {
        return col("k", "receipts").gte(Ord::max(t.min_times, 1));
    };
    let (from, to) = span.month_numbers();
    let Some(from) = from else {
        return col("k", "first_month").lte(to);
    };
    // A month in from..=to: the first or the last month lies in it, or they lie on both sides
    // of it and one of the months between falls in it.
    let edge_inside = Cond::any()
        .add(col("k", "first_month").gte(from))
        .add(col("k", "last_month").lte(to));
    let between = if pg {
        Expr::cust_with_values(
            "k.months && CAST($1 AS INTEGER[])",
            [months_array(from, to)],
        )
    } else {
        // SQLite has no arrays: the monthly figures answer, for these rows only.
        let (from_key, to_key) = span.months();
        let mut months = Query::select();
        months
            .expr(Expr::val(1))
            .from_as("customer_categories", a("j"))
            .and_where(col("j", "customer_id").equals((a("k"), a("customer_id"))))
            .and_where(col("j", "category").equals((a("k"), a("category"))))
            .and_where(col("j", "month").gte(from_key.unwrap_or_default()))
            .and_where(col("j", "month").lte(to_key));
        Expr::exists(months)
    };
    Expr::from(
        Cond::all()
            .add(col("k", "first_month").lte(to))
            .add(col("k", "last_month").gte(from))
            .add(edge_inside.add(between)),
    )
}

/// The months from `from` to `to` as the text of a PostgreSQL `INTEGER[]` (`{202501,202502}`),
/// bound as one value.
pub fn months_array(from: i32, to: i32) -> String {
    let months: Vec<String> = month_numbers_between(from, to)
        .iter()
        .map(i32::to_string)
        .collect();
    format!("{{{}}}", months.join(","))
}

/// A category at least `min_times` times in whole months: the sum of `customer_categories`
/// (sales per customer, category and month, one key range per customer).
fn bought_category_times(category: &str, span: Span, min_times: i64, negate: bool) -> Expr {
    let mut q = Query::select();
    q.from_as("customer_categories", a("k"))
        .and_where(col("k", "customer_id").eq(cid()))
        .and_where(col("k", "category").eq(category));
    let (from, to) = span.months();
    q.and_where(col("k", "month").lte(to));
    if let Some(f) = from {
        q.and_where(col("k", "month").gte(f));
    }
    q.expr(Expr::cust("COALESCE(SUM(k.receipts), 0)"));
    let found = Expr::SubQuery(None, Box::new(q.into())).gte(min_times);
    if negate { found.not() } else { found }
}

fn loyalty(metric: LoyaltyMetric, cmp: Comparison, as_of: NaiveDate) -> Expr {
    match metric {
        LoyaltyMetric::Balance => {
            let mut q = Query::select();
            q.expr(col("p", "customer_id"))
                .from_as("points_accounts", a("p"));
            let test = compare(col("p", "balance"), cmp.cmp, cmp.value);
            if cmp.test(0) {
                q.and_where(test.not());
                member_of(q, "p", true)
            } else {
                q.and_where(test);
                member_of(q, "p", false)
            }
        }
        LoyaltyMetric::VouchersHeld | LoyaltyMetric::VouchersRedeemed => {
            let mut q = Query::select();
            q.from_as("vouchers", a("v"))
                .and_where(col("v", "customer_id").is_not_null());
            if metric == LoyaltyMetric::VouchersHeld {
                q.and_where(col("v", "status").eq("issued"))
                    .and_where(col("v", "valid_until").gte(day_start(as_of)));
            } else {
                q.and_where(col("v", "status").eq("redeemed"));
            }
            figure(q, col("v", "customer_id"), "COUNT(*)".into(), cmp)
        }
    }
}

/// The members query over `customers c`: active customers matching `seg`, with the customer's
/// columns at hand (lists and exports page over it in id order).
fn base(seg: &Segment, at: &At) -> SelectStatement {
    let mut q = Query::select();
    q.from_as("customers", a("c"))
        .and_where(col("c", "status").eq("active"));
    if let Some((lo, hi)) = at.ids {
        q.and_where(cid().between(lo, hi));
    }
    q.and_where(condition(seg, at));
    q
}

/// The members' ids (as `c.id`), for counting, previews and snapshots. A segment whose members
/// must have purchases ([`stats_rooted`]) is evaluated over `customer_stats` alone: the figure
/// tests filter the scan, the other conditions probe by id, and inactive (merged) customers are
/// excluded through the small partial index `customers_inactive` instead of a look at every
/// candidate's `customers` row (ADR 9).
fn member_ids(seg: &Segment, at: &At) -> SelectStatement {
    let Some((tests, others)) = stats_rooted(seg, at) else {
        return base(seg, at);
    };
    let mut rows = Query::select();
    rows.expr_as(col("m", "customer_id"), a("id"))
        .from_as("customer_stats", a("m"))
        .cond_where(tests);
    if let Some((lo, hi)) = at.ids {
        rows.and_where(col("m", "customer_id").between(lo, hi));
    }
    let mut inactive = Query::select();
    inactive
        .expr(col("x", "id"))
        .from_as("customers", a("x"))
        // A constant, not a bound value: PostgreSQL's generic plan for a prepared statement
        // (chosen after five executions) can use a partial index only when the query's
        // predicate is the index's own; with `<> $1` it scanned every customer.
        .and_where(Expr::cust("x.status <> 'active'"));
    // PostgreSQL turns NOT EXISTS into a hashed anti-join over the partial index; SQLite plans
    // the same NOT EXISTS as a probe into `customers` per candidate, but builds the NOT IN list
    // once from the partial index (ids are never NULL, so NOT IN means the same).
    let active = if at.pg {
        inactive.and_where(col("x", "id").equals((a("c"), a("id"))));
        Expr::exists(inactive).not()
    } else {
        cid().not_in_subquery(inactive)
    };
    let mut q = Query::select();
    q.from_subquery(rows, a("c")).and_where(active);
    for e in others {
        q.and_where(e);
    }
    q
}

/// The SQL and the number of bound values for a segment's member ids (for tests and `EXPLAIN`).
pub fn render(seg: &Segment, at: &At, pg: bool) -> (String, usize) {
    let at = At { pg, ..at.clone() };
    let mut q = member_ids(seg, &at);
    q.expr(cid());
    let (sql, values) = if pg {
        q.build(PostgresQueryBuilder)
    } else {
        q.build(SqliteQueryBuilder)
    };
    (sql, values.0.len())
}

/// One member as lists and exports show it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Member {
    #[serde(skip)]
    pub id: i64,
    pub customer_number: String,
    pub salutation: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company_name: Option<String>,
    pub email: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
}

#[derive(sqlx::FromRow)]
struct MemberWithTotal {
    #[sqlx(flatten)]
    member: Member,
    total: i64,
}

const MEMBER_COLUMNS: &str = "c.id, c.customer_number, c.salutation, c.first_name, c.last_name, c.company_name, c.email, a.postcode, a.city";

fn with_member_columns(q: &mut SelectStatement, after_id: i64, limit: u64) {
    q.expr(Expr::cust(MEMBER_COLUMNS))
        .join_as(
            JoinType::LeftJoin,
            a("addresses"),
            a("a"),
            Cond::all()
                .add(col("a", "customer_id").equals((a("c"), a("id"))))
                .add(col("a", "kind").eq("main"))
                .add(col("a", "valid_until").is_null()),
        )
        .and_where(cid().gt(after_id))
        .order_by((a("c"), a("id")), Order::Asc)
        .limit(limit);
}

/// Members in id order after `after_id` (cursor pagination).
pub async fn members(
    db: &mut Db<'_>,
    seg: &Segment,
    as_of: NaiveDate,
    after_id: i64,
    limit: u64,
) -> crate::Result<Vec<Member>> {
    let at = At::load(db, as_of).await?;
    let mut q = base(seg, &at);
    with_member_columns(&mut q, after_id, limit);
    fetch_members(db, &q).await
}

/// Is the customer a member on `at.as_of`? The members query narrowed to the one customer id
/// (as a part of a split preview is narrowed to its range): every leaf is a test on that
/// customer's rows, so the answer costs a few index probes whatever the size of the base —
/// what scoring a receipt can afford for a promotion limited to a segment.
pub async fn is_member(
    db: &mut Db<'_>,
    seg: &Segment,
    at: &At,
    customer_id: i64,
) -> crate::Result<bool> {
    let one = At {
        ids: Some((customer_id, customer_id)),
        ..at.clone()
    };
    let mut q = base(seg, &one);
    q.expr(cid()).limit(1);
    Ok(!crate::select::all::<(i64,)>(db, &q).await?.is_empty())
}

/// Is the customer in the latest snapshot of the segment (a static list's members)?
pub async fn in_latest_snapshot(
    db: &mut Db<'_>,
    segment_id: i64,
    customer_id: i64,
) -> crate::Result<bool> {
    let found: Option<i64> = with_db!(db, c, _pg => {
        sqlx::query_scalar("SELECT sm.customer_id FROM segment_members sm WHERE sm.customer_id = $2 AND sm.snapshot_id = \
             (SELECT MAX(s.id) FROM segment_snapshots s WHERE s.segment_id = $1)")
            .bind(segment_id).bind(customer_id).fetch_optional(&mut *c).await?
    });
    Ok(found.is_some())
}

async fn fetch_members(db: &mut Db<'_>, q: &SelectStatement) -> crate::Result<Vec<Member>> {
    crate::select::all(db, q).await
}

/// The number of members on `as_of` and the first `limit` of them (count and page from one
/// statement per part, [`preview_query`]), over up to `split.parts` connections (ADR 12).
pub async fn preview(
    store: &crate::Store,
    seg: &Segment,
    as_of: NaiveDate,
    limit: u64,
    split: Split,
) -> crate::Result<(i64, Vec<Member>)> {
    let parts =
        in_parts::<MemberWithTotal, _>(store, as_of, split, |at| preview_query(seg, at, limit))
            .await?;
    Ok(merge_parts(parts, limit))
}

/// The number of members on `as_of`, over up to `split.parts` connections (ADR 12).
pub async fn count(
    store: &crate::Store,
    seg: &Segment,
    as_of: NaiveDate,
    split: Split,
) -> crate::Result<i64> {
    let parts = in_parts::<(i64,), _>(store, as_of, split, |at| {
        let mut q = member_ids(seg, at);
        q.expr(Expr::cust("COUNT(*)"));
        q
    })
    .await?;
    Ok(parts.iter().flatten().map(|(n,)| n).sum())
}

/// Runs the statement that `build` makes for one range of customer ids on up to `split.parts`
/// connections at the same time, and returns each part's rows in id order: SQLite runs a
/// statement on one core only. Each part reads its own snapshot of the database, as separate
/// statements do; every customer is evaluated exactly once. Connections beyond the first are
/// taken only if the pool hands them out at once, so a busy server uses fewer parts instead
/// of queueing.
async fn in_parts<T, Q>(
    store: &crate::Store,
    as_of: NaiveDate,
    split: Split,
    build: impl Fn(&At) -> Q,
) -> crate::Result<Vec<Vec<T>>>
where
    T: Send + Unpin + for<'r> sqlx::FromRow<'r, PgRow> + for<'r> sqlx::FromRow<'r, SqliteRow>,
    Q: SqlxBinder + Sync,
{
    let mut first = store.acquire().await?;
    let at = At::load(&mut first.db(), as_of).await?;
    // One part (PostgreSQL) needs no bounds: no round trip for them.
    let (lo, hi) = if split.parts > 1 {
        id_bounds(&mut first.db()).await?
    } else {
        (0, -1)
    };
    let wanted = split.parts_for(lo, hi);
    let mut conns = vec![first];
    if wanted > 1 {
        conns.extend(store.acquire_ready(wanted - 1).await);
    }
    let queries: Vec<Q> = if conns.len() == 1 {
        vec![build(&at)]
    } else {
        id_ranges(lo, hi, conns.len())
            .into_iter()
            .map(|r| {
                let part = At {
                    ids: Some(r),
                    ..at.clone()
                };
                build(&part)
            })
            .collect()
    };
    futures_util::future::try_join_all(
        conns
            .iter_mut()
            .zip(&queries)
            .map(|(conn, q)| async move { crate::select::all::<T>(&mut conn.db(), q).await }),
    )
    .await
}

/// How many connections a preview may use, and from how many customer ids on a part pays
/// for its own connection and statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    pub parts: usize,
    pub min_ids_per_part: i64,
}

impl Split {
    /// One part: the whole segment in one statement.
    pub const NONE: Split = Split {
        parts: 1,
        min_ids_per_part: i64::MAX,
    };

    /// SQLite: the machine's cores, at most four, once each part covers 50,000 customer ids
    /// (below that the statements are fast anyway). PostgreSQL plans parallel workers itself.
    pub fn for_store(store: &crate::Store) -> Split {
        match store {
            crate::Store::Sqlite(..) => Split {
                parts: std::thread::available_parallelism().map_or(1, |n| n.get().min(4)),
                min_ids_per_part: 50_000,
            },
            crate::Store::Postgres(_) => Split::NONE,
        }
    }

    /// The number of parts for customer ids `lo..=hi`.
    pub fn parts_for(&self, lo: i64, hi: i64) -> usize {
        let span = i128::from(hi) - i128::from(lo) + 1;
        if span <= 0 {
            return 1;
        }
        let by_size = span / i128::from(Ord::max(self.min_ids_per_part, 1));
        usize::try_from(by_size.clamp(1, Ord::max(self.parts, 1) as i128)).unwrap_or(1)
    }
}

/// `parts` contiguous ranges of equal width that together cover exactly `lo..=hi`.
fn id_ranges(lo: i64, hi: i64, parts: usize) -> Vec<(i64, i64)> {
    let n = Ord::max(parts, 1) as i128;
    let (lo, width) = (i128::from(lo), i128::from(hi) - i128::from(lo) + 1);
    let edge = |i: i128| i64::try_from(lo + width * i / n).unwrap_or(i64::MAX);
    (0..n)
        .map(|i| (edge(i), edge(i + 1) - 1))
        .filter(|(a, b)| a <= b)
        .collect()
}

/// The smallest and largest customer id (0, -1 when there are none: an empty range). Two
/// sub-selects: SQLite reads one end of the index for a lone `MIN` or `MAX`, but scans the
/// whole table for both in one select.
async fn id_bounds(db: &mut Db<'_>) -> crate::Result<(i64, i64)> {
    let mut q = Query::select();
    q.expr(Expr::cust("(SELECT MIN(id) FROM customers)"))
        .expr(Expr::cust("(SELECT MAX(id) FROM customers)"));
    let row = crate::select::all::<(Option<i64>, Option<i64>)>(db, &q).await?;
    Ok(match row.first() {
        Some((Some(lo), Some(hi))) => (*lo, *hi),
        _ => (0, -1),
    })
}

/// The count and first page of a preview from its parts in id order: the counts add up, and
/// the page is the first `limit` members of the parts taken one after the other.
fn merge_parts(parts: Vec<Vec<MemberWithTotal>>, limit: u64) -> (i64, Vec<Member>) {
    let total = parts
        .iter()
        .map(|rows| rows.first().map_or(0, |r| r.total))
        .sum();
    let page = parts
        .into_iter()
        .flatten()
        .map(|r| r.member)
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .collect();
    (total, page)
}

/// Count and first page in one statement. Not `COUNT(*) OVER () … ORDER BY id LIMIT n`: the
/// LIMIT made PostgreSQL choose a fast-start nested-loop plan that still had to visit every
/// member (seed 1 at 1M customers: 1.7 s instead of 0.3 s with hash joins).
///
/// PostgreSQL folds the members into one row, their number and the first `limit` ids in order
/// (an array), and joins that page to the member columns: every member id crosses from the
/// parallel workers to the leader once and goes straight into the aggregate. SQLite, which has
/// no arrays, materialises the members once (a CTE), counts them and joins its first page. On
/// PostgreSQL that CTE cost 20–25 ms more at 120k members (a tuple store written, spilled past
/// `work_mem` and read twice).
fn preview_query(seg: &Segment, at: &At, limit: u64) -> WithQuery {
    let limit = Ord::max(limit, 1);
    let mut ids = member_ids(seg, at);
    ids.expr_as(cid(), a("id"));
    let mut q = Query::select();
    let (name, page) = if at.pg {
        let mut folded = Query::select();
        folded
            .expr_as(Expr::cust("COUNT(*)"), a("total"))
            // The page size as an integer literal: sea-query left a value bound inside the
            // slice brackets unnumbered (`[1:$1]` took the segment's first value).
            .expr_as(
                Expr::cust(format!(
                    "(array_agg(z.id ORDER BY z.id))[1:{}]",
                    Ord::min(limit, i32::MAX as u64)
                )),
                a("ids"),
            )
            .from_subquery(ids, a("z"));
        q.expr(col("s", "total")).from_as("s", a("s")).join_as(
            JoinType::InnerJoin,
            a("customers"),
            a("c"),
            Expr::cust("c.id = ANY(s.ids)"),
        );
        ("s", folded)
    } else {
        let mut page = Query::select();
        page.column(a("id"))
            .from(a("members"))
            .order_by(a("id"), Order::Asc)
            .limit(limit);
        q.expr_as(Expr::cust("(SELECT COUNT(*) FROM members)"), a("total"))
            .from_subquery(page, a("p"))
            .join_as(
                JoinType::InnerJoin,
                a("customers"),
                a("c"),
                col("c", "id").equals((a("p"), a("id"))),
            );
        ("members", ids)
    };
    with_member_columns(&mut q, 0, limit);
    let cte = CommonTableExpression::new()
        .query(page)
        .table_name(Alias::new(name))
        .materialized(true)
        .to_owned();
    q.with(WithClause::new().cte(cte).to_owned())
}

/// Members of a snapshot in id order after `after_id`.
pub async fn snapshot_members(
    db: &mut Db<'_>,
    snapshot_id: i64,
    after_id: i64,
    limit: u64,
) -> crate::Result<Vec<Member>> {
    let mut q = Query::select();
    q.from_as("customers", a("c")).and_where(
        cid().in_subquery(
            Query::select()
                .expr(col("sm", "customer_id"))
                .from_as("segment_members", a("sm"))
                .and_where(col("sm", "snapshot_id").eq(snapshot_id))
                .to_owned(),
        ),
    );
    with_member_columns(&mut q, after_id, limit);
    fetch_members(db, &q).await
}

// --- saved segments -------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SegmentRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    /// The definition as JSON text.
    #[serde(skip)]
    pub definition: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SnapshotRow {
    pub id: i64,
    pub segment_id: i64,
    pub taken_at: DateTime<Utc>,
    pub member_count: i64,
}

pub async fn insert(
    db: &mut Db<'_>,
    name: &str,
    kind: &str,
    definition: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> crate::Result<i64> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_scalar("INSERT INTO segments (name, kind, definition, created_by, created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $5, 1) RETURNING id")
            .bind(name).bind(kind).bind(definition).bind(actor).bind(now).fetch_one(&mut *c).await?
    }))
}

pub async fn get(db: &mut Db<'_>, id: i64) -> crate::Result<Option<SegmentRow>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as("SELECT id, name, kind, definition, created_by, created_at, updated_at, version FROM segments WHERE id = $1")
            .bind(id).fetch_optional(&mut *c).await?
    }))
}

/// The segment, its row locked until the transaction ends (PostgreSQL; SQLite has one writer):
/// a campaign created meanwhile waits for the deletion (its foreign key locks the row), so the
/// check for users that precedes a deletion cannot miss one.
pub async fn lock(db: &mut Db<'_>, id: i64) -> crate::Result<Option<SegmentRow>> {
    Ok(with_db!(db, c, pg => {
        let lock = if pg { " FOR UPDATE" } else { "" };
        sqlx::query_as(AssertSqlSafe(format!("SELECT id, name, kind, definition, created_by, created_at, updated_at, version FROM segments WHERE id = $1{lock}")))
            .bind(id).fetch_optional(&mut *c).await?
    }))
}

/// Segments in id order after the cursor.
pub async fn list(db: &mut Db<'_>, after_id: i64, limit: i64) -> crate::Result<Vec<SegmentRow>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as("SELECT id, name, kind, definition, created_by, created_at, updated_at, version FROM segments WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after_id).bind(limit).fetch_all(&mut *c).await?
    }))
}

/// Changes a segment if it is still at `expected_version`; returns the new version.
pub async fn update(
    db: &mut Db<'_>,
    id: i64,
    name: &str,
    kind: &str,
    definition: &str,
    expected_version: Option<i64>,
    now: DateTime<Utc>,
) -> crate::Result<i64> {
    let v: Option<i64> = with_db!(db, c, _pg => {
        sqlx::query_scalar("UPDATE segments SET name = $1, kind = $2, definition = $3, updated_at = $4, version = version + 1 \
             WHERE id = $5 AND ($6 IS NULL OR version = $6) RETURNING version")
            .bind(name).bind(kind).bind(definition).bind(now).bind(id).bind(expected_version)
            .fetch_optional(&mut *c).await?
    });
    v.ok_or(StoreError::Stale)
}

/// Deletes a segment with its snapshots; false if there was none.
pub async fn delete(db: &mut Db<'_>, id: i64) -> crate::Result<bool> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query("DELETE FROM segment_members WHERE snapshot_id IN (SELECT id FROM segment_snapshots WHERE segment_id = $1)")
            .bind(id).execute(&mut *c).await?;
        sqlx::query("DELETE FROM segment_snapshots WHERE segment_id = $1").bind(id).execute(&mut *c).await?;
        sqlx::query("DELETE FROM segments WHERE id = $1").bind(id).execute(&mut *c).await?.rows_affected() == 1
    }))
}

pub async fn latest_snapshot(
    db: &mut Db<'_>,
    segment_id: i64,
) -> crate::Result<Option<SnapshotRow>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as("SELECT id, segment_id, taken_at, member_count FROM segment_snapshots WHERE segment_id = $1 ORDER BY id DESC LIMIT 1")
            .bind(segment_id).fetch_optional(&mut *c).await?
    }))
}

pub async fn snapshots(db: &mut Db<'_>, segment_id: i64) -> crate::Result<Vec<SnapshotRow>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as("SELECT id, segment_id, taken_at, member_count FROM segment_snapshots WHERE segment_id = $1 ORDER BY id DESC")
            .bind(segment_id).fetch_all(&mut *c).await?
    }))
}

/// Freezes the members of `seg` on `as_of` into a new snapshot: one `INSERT … SELECT`.
pub async fn take_snapshot(
    db: &mut Db<'_>,
    segment_id: i64,
    seg: &Segment,
    as_of: NaiveDate,
    now: DateTime<Utc>,
) -> crate::Result<SnapshotRow> {
    let id: i64 = with_db!(db, c, _pg => {
        sqlx::query_scalar("INSERT INTO segment_snapshots (segment_id, taken_at, member_count) VALUES ($1, $2, 0) RETURNING id")
            .bind(segment_id).bind(now).fetch_one(&mut *c).await?
    });
    let at = At::load(db, as_of).await?;
    let mut select = member_ids(seg, &at);
    select.expr(Expr::val(id)).expr(cid());
    let mut insert = Query::insert();
    insert
        .into_table("segment_members")
        .columns(["snapshot_id", "customer_id"])
        .select_from(select)
        .map_err(|e| StoreError::Corrupt(format!("snapshot query: {e}")))?;
    let n = with_db!(db, c, pg => {
        let (sql, values) = if pg { insert.build_sqlx(PostgresQueryBuilder) } else { insert.build_sqlx(SqliteQueryBuilder) };
        sqlx::query_with(AssertSqlSafe(sql), values).persistent(false).execute(&mut *c).await?.rows_affected()
    }) as i64;
    with_db!(db, c, _pg => {
        sqlx::query("UPDATE segment_snapshots SET member_count = $1 WHERE id = $2").bind(n).bind(id).execute(&mut *c).await?;
    });
    Ok(SnapshotRow {
        id,
        segment_id,
        taken_at: now,
        member_count: n,
    })
}

/// Writes a score row (the scoring job's output; tests use it too).
#[derive(Debug, Clone, Default)]
pub struct ScoreRow {
    pub customer_id: i64,
    pub recency_days: Option<i64>,
    pub frequency: Option<i64>,
    pub monetary: Option<i64>,
    pub r: Option<i64>,
    pub f: Option<i64>,
    pub m: Option<i64>,
    pub rfm: Option<String>,
    pub clv_historic: Option<i64>,
    pub clv_predicted: Option<i64>,
}

pub async fn upsert_scores(
    db: &mut Db<'_>,
    rows: &[ScoreRow],
    now: DateTime<Utc>,
) -> crate::Result<()> {
    use crate::rows::Val;
    let rows = rows
        .iter()
        .map(|s| {
            vec![
                s.customer_id.into(),
                Val::OptInt(s.recency_days),
                Val::OptInt(s.frequency),
                Val::OptInt(s.monetary),
                Val::OptInt(s.r),
                Val::OptInt(s.f),
                Val::OptInt(s.m),
                s.rfm.clone().into(),
                Val::OptInt(s.clv_historic),
                Val::OptInt(s.clv_predicted),
                now.into(),
            ]
        })
        .collect();
    crate::rows::upsert_rows(
        db,
        "customer_scores",
        &[
            "customer_id",
            "recency_days",
            "frequency",
            "monetary",
            "r",
            "f",
            "m",
            "rfm",
            "clv_historic",
            "clv_predicted",
            "scored_at",
        ],
        rows,
        " ON CONFLICT (customer_id) DO UPDATE SET recency_days = excluded.recency_days, frequency = excluded.frequency, monetary = excluded.monetary, \
         r = excluded.r, f = excluded.f, m = excluded.m, rfm = excluded.rfm, clv_historic = excluded.clv_historic, clv_predicted = excluded.clv_predicted, scored_at = excluded.scored_at",
    )
    .await
}

#[cfg(test)]
mod tests {
    use kundo_core::segment::{Context, parse};
    use serde_json::json;

    use super::*;

    fn seg(v: serde_json::Value) -> Segment {
        parse(&v, "definition", Context::default()).expect("valid")
    }

    #[test]
    fn id_ranges_cover_every_id_once_in_order() {
        for (lo, hi, parts) in [
            (1, 1_000_000, 2),
            (1, 10, 3),
            (5, 7, 4),
            (1, 1, 4),
            (3, 2, 2),
        ] {
            let r = id_ranges(lo, hi, parts);
            let ids: Vec<i64> = r.iter().flat_map(|&(a, b)| a..=b).collect();
            assert_eq!(ids, (lo..=hi).collect::<Vec<_>>(), "{lo}..={hi} in {parts}");
            assert!(r.len() <= parts);
        }
        assert_eq!(
            id_ranges(1, 1_000_000, 2),
            vec![(1, 500_000), (500_001, 1_000_000)]
        );
        assert_eq!(id_ranges(i64::MAX - 3, i64::MAX, 2).len(), 2);
    }

    #[test]
    fn a_preview_is_split_only_when_each_part_has_enough_ids() {
        let split = Split {
            parts: 4,
            min_ids_per_part: 50_000,
        };
        assert_eq!(split.parts_for(1, 10_000), 1);
        assert_eq!(split.parts_for(1, 120_000), 2);
        assert_eq!(split.parts_for(1, 1_000_000), 4);
        assert_eq!(split.parts_for(0, -1), 1, "no customers");
        assert_eq!(Split::NONE.parts_for(1, i64::MAX), 1);
    }

    fn member(id: i64, total: i64) -> MemberWithTotal {
        MemberWithTotal {
            member: Member {
                id,
                customer_number: id.to_string(),
                salutation: None,
                first_name: None,
                last_name: None,
                company_name: None,
                email: None,
                postcode: None,
                city: None,
            },
            total,
        }
    }

    #[test]
    fn parts_add_their_counts_and_fill_the_page_in_id_order() {
        let parts = vec![
            vec![member(2, 2), member(7, 2)],
            vec![],
            vec![member(12, 5), member(13, 5), member(15, 5)],
        ];
        let (total, page) = merge_parts(parts, 4);
        assert_eq!(total, 7, "each row of a part carries that part's count");
        assert_eq!(
            page.iter().map(|m| m.id).collect::<Vec<_>>(),
            vec![2, 7, 12, 13]
        );
        let (total, page) = merge_parts(vec![vec![member(3, 1)]], 0);
        assert_eq!((total, page.len()), (1, 0));
    }

    fn as_of() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 30).expect("date")
    }

    #[test]
    fn values_are_bound_never_spliced_into_the_sql() {
        let evil = "x' OR '1'='1";
        let s = seg(json!({"or": [
            {"bought": {"category": evil}},
            {"purchases": {"metric": "revenue", "store": evil, "op": "gte", "value": 4242}},
            {"field": "city", "op": "eq", "value": evil}
        ]}));
        for pg in [false, true] {
            let (sql, n) = render(&s, &At::day(as_of()), pg);
            assert!(!sql.contains("OR '1'"), "{sql}");
            assert!(!sql.contains("4242"), "{sql}");
            assert!(n >= 4, "{sql}");
        }
    }

    #[test]
    fn a_condition_on_the_customer_itself_needs_no_other_table() {
        let (sql, _) = render(
            &seg(json!({"field": "gender", "op": "eq", "value": "female"})),
            &At::day(as_of()),
            true,
        );
        assert!(
            !sql.contains("JOIN") && !sql.contains("IN (SELECT"),
            "{sql}"
        );
        let (sql, _) = render(
            &seg(json!({"bought": {"category": "Papier"}})),
            &At::day(as_of()),
            true,
        );
        assert!(
            !sql.contains("JOIN") && sql.contains("customer_category_totals"),
            "{sql}"
        );
        let (sql, _) = render(
            &seg(json!({"bought": {"category": "Papier", "window": {"last_months": 3}}})),
            &At::day(as_of()),
            true,
        );
        assert!(
            !sql.contains("JOIN")
                && sql.contains("customer_category_totals")
                && !sql.contains("customer_categories"),
            "{sql}"
        );
        // Counting sales in a window needs the monthly figures.
        let (sql, _) = render(
            &seg(
                json!({"bought": {"category": "Papier", "window": {"last_months": 3}, "min_times": 2}}),
            ),
            &At::day(as_of()),
            true,
        );
        assert!(
            !sql.contains("JOIN") && sql.contains("customer_categories"),
            "{sql}"
        );
        // Days need the receipts' dates; SKUs are read from the lines.
        let (sql, _) = render(
            &seg(json!({"bought": {"category": "Papier", "window": {"last_days": 30}}})),
            &At::day(as_of()),
            true,
        );
        assert_eq!(sql.matches("JOIN").count(), 1, "{sql}");
        let (sql, _) = render(
            &seg(json!({"bought": {"sku": "P-1"}})),
            &At::day(as_of()),
            true,
        );
        assert!(sql.contains("receipt_lines"), "{sql}");
    }

    #[test]
    fn conditions_on_one_category_in_an_and_group_read_its_totals_row_once() {
        let seed3 = seg(json!({"and": [
            {"bought": {"category": "Möbel", "window": {"from": "2025-01-01", "to": "2025-12-31"}}},
            {"bought": {"category": "Möbel", "window": {"last_months": 3}, "negate": true}},
            {"bought": {"category": "Papier", "negate": true}},
            {"purchases": {"metric": "receipts", "op": "lte", "value": 3}}
        ]}));
        for pg in [false, true] {
            let (sql, n) = render(&seed3, &At::day(as_of()), pg);
            assert_eq!(
                sql.matches("FROM \"customer_category_totals\"").count(),
                2,
                "one look-up per category: {sql}"
            );
            assert!(sql.contains("NOT EXISTS"), "{sql}");
            if pg {
                // A year strictly inside first and last month: the set of months answers,
                // as one bound value.
                assert!(sql.contains("k.months && CAST($"), "{sql}");
                assert!(!sql.contains("customer_categories"), "{sql}");
            } else {
                assert!(sql.contains("customer_categories"), "{sql}");
            }
            assert!(!sql.contains("2025"), "values are bound: {sql}");
            assert!(n >= 8, "{sql}");
        }
        // Under an OR, each condition keeps its own look-up.
        let either = seg(json!({"or": [
            {"bought": {"category": "Möbel", "window": {"last_months": 3}}},
            {"bought": {"category": "Möbel", "negate": true}}
        ]}));
        let (sql, _) = render(&either, &At::day(as_of()), true);
        assert_eq!(sql.matches("customer_category_totals").count(), 2, "{sql}");
    }

    #[test]
    fn conditions_on_the_customer_figures_of_one_and_group_read_the_row_once() {
        let rolled = At {
            as_of: as_of(),
            rolling: Some(("2025-07".into(), "2026-06".into())),
            recorded_until: DateTime::<Utc>::MAX_UTC,
            ids: None,
            pg: false,
        };
        let (sql, _) = render(
            &seg(json!({"and": [
                {"purchases": {"metric": "revenue", "window": {"last_months": 12}, "op": "gte", "value": 100000}},
                {"purchases": {"metric": "receipts", "op": "lte", "value": 3}},
                {"last_purchase": {"op": "before", "days": 60}},
                {"field": "gender", "op": "eq", "value": "female"}
            ]})),
            &rolled,
            false,
        );
        assert_eq!(sql.matches("\"customer_stats\"").count(), 1, "{sql}");
        assert!(
            !sql.contains("NOT EXISTS(SELECT ? FROM \"customer_stats\""),
            "{sql}"
        );
        // Only conditions that customers without purchases meet: NOT EXISTS of a failing row.
        let (sql, _) = render(
            &seg(json!({"and": [
                {"purchases": {"metric": "receipts", "op": "lte", "value": 3}},
                {"last_purchase": {"op": "before", "days": 60}}
            ]})),
            &rolled,
            false,
        );
        assert_eq!(sql.matches("\"customer_stats\"").count(), 1, "{sql}");
        assert!(sql.contains("NOT EXISTS"), "{sql}");
        // As of today no sale lies after the window: no look at the receipts.
        let today = At {
            recorded_until: day_start(as_of()),
            ids: None,
            ..rolled.clone()
        };
        let lapsed = seg(json!({"last_purchase": {"op": "before", "days": 60}}));
        assert!(render(&lapsed, &rolled, false).0.contains("\"receipts\""));
        let (sql, _) = render(&lapsed, &today, false);
        assert!(!sql.contains("\"receipts\""), "{sql}");
    }

    #[test]
    fn members_who_must_have_bought_are_read_from_the_figures_alone() {
        let at = At::day(as_of());
        let lapsed_big_spenders = seg(json!({"and": [
            {"purchases": {"metric": "revenue", "op": "gte", "value": 100000}},
            {"purchases": {"metric": "receipts", "store": "WEB", "op": "gte", "value": 1}},
            {"last_purchase": {"op": "before", "days": 60}}
        ]}));
        let stats_root = "FROM (SELECT \"m\".\"customer_id\" AS \"id\" FROM \"customer_stats\"";
        let (sql, _) = render(&lapsed_big_spenders, &at, false);
        assert!(sql.contains(stats_root), "{sql}");
        assert!(
            sql.contains("\"c\".\"id\" NOT IN (SELECT \"x\".\"id\" FROM \"customers\" AS \"x\" WHERE x.status <> 'active')"),
            "{sql}"
        );
        assert!(!sql.contains("\"customers\" AS \"c\""), "{sql}");
        let (sql, _) = render(&lapsed_big_spenders, &at, true);
        assert!(sql.contains(stats_root), "{sql}");
        assert!(
            sql.contains("NOT EXISTS(SELECT \"x\".\"id\" FROM \"customers\" AS \"x\" WHERE (x.status <> 'active') AND \"x\".\"id\" = \"c\".\"id\")"),
            "{sql}"
        );
        // A single figure leaf is enough.
        let (sql, _) = render(
            &seg(json!({"purchases": {"metric": "revenue", "op": "gte", "value": 1}})),
            &at,
            false,
        );
        assert!(sql.contains(stats_root), "{sql}");
        // The customer's own fields at the top level test their copies on the figure row.
        for fields in [json!({"and": [
            {"purchases": {"metric": "revenue", "op": "gte", "value": 1}},
            {"field": "gender", "op": "eq", "value": "female"},
            {"not": {"or": [
                {"field": "language", "op": "eq", "value": "fr"},
                {"field": "age", "op": "lt", "value": 30}
            ]}}
        ]})] {
            for pg in [false, true] {
                let (sql, _) = render(&seg(fields.clone()), &at, pg);
                assert!(sql.contains(stats_root), "{sql}");
                assert!(sql.contains("\"m\".\"gender\""), "{sql}");
                assert!(sql.contains("\"m\".\"birth_date\""), "{sql}");
                assert!(!sql.contains("\"customers\" AS \"c\""), "{sql}");
            }
        }
        // A field mixed into a group with other conditions, a group that customers without
        // purchases can meet, or an OR at the top: the query stays over customers.
        for other in [
            json!({"and": [
                {"purchases": {"metric": "revenue", "op": "gte", "value": 1}},
                {"or": [
                    {"field": "gender", "op": "eq", "value": "female"},
                    {"bought": {"category": "Papier"}}
                ]}
            ]}),
            json!({"and": [
                {"purchases": {"metric": "receipts", "op": "lte", "value": 3}},
                {"last_purchase": {"op": "before", "days": 60}}
            ]}),
            json!({"or": [
                {"purchases": {"metric": "revenue", "op": "gte", "value": 1}},
                {"bought": {"category": "Papier"}}
            ]}),
        ] {
            let (sql, _) = render(&seg(other), &at, false);
            assert!(sql.contains("FROM \"customers\" AS \"c\""), "{sql}");
            assert!(!sql.contains(stats_root), "{sql}");
        }
        // A postal-address field reads the addresses, not the customer's row.
        let (sql, _) = render(
            &seg(json!({"and": [
                {"purchases": {"metric": "revenue", "op": "gte", "value": 1}},
                {"field": "city", "op": "eq", "value": "Bern"}
            ]})),
            &at,
            false,
        );
        assert!(sql.contains(stats_root), "{sql}");
    }

    #[test]
    fn figures_come_from_the_cheapest_exact_source() {
        let src = |v| render(&seg(v), &At::day(as_of()), false).0;
        let s = src(json!({"purchases": {"metric": "revenue", "op": "gte", "value": 1}}));
        assert!(s.contains("customer_stats"), "{s}");
        let s = src(
            json!({"purchases": {"metric": "revenue", "window": {"last_months": 12}, "op": "gte", "value": 1}}),
        );
        assert!(s.contains("customer_monthly"), "{s}");
        // Once the rolling figures cover exactly these months, they answer instead.
        let rolled = At {
            as_of: as_of(),
            rolling: Some(("2025-07".into(), "2026-06".into())),
            recorded_until: DateTime::<Utc>::MAX_UTC,
            ids: None,
            pg: false,
        };
        let twelve = seg(
            json!({"purchases": {"metric": "revenue", "window": {"last_months": 12}, "op": "gte", "value": 1}}),
        );
        let s = render(&twelve, &rolled, false).0;
        assert!(
            s.contains("revenue_12m") && !s.contains("customer_monthly"),
            "{s}"
        );
        let stale = At {
            as_of: as_of(),
            rolling: Some(("2025-06".into(), "2026-05".into())),
            recorded_until: DateTime::<Utc>::MAX_UTC,
            ids: None,
            pg: false,
        };
        let s = render(&twelve, &stale, false).0;
        assert!(s.contains("customer_monthly") && !s.contains("_12m"), "{s}");
        let s = render(
            &seg(
                json!({"purchases": {"metric": "revenue", "window": {"last_months": 6}, "op": "gte", "value": 1}}),
            ),
            &rolled,
            false,
        )
        .0;
        assert!(s.contains("customer_monthly"), "{s}");
        let s = src(
            json!({"purchases": {"metric": "revenue", "window": {"last_days": 30}, "op": "gte", "value": 1}}),
        );
        assert!(s.contains("\"receipts\""), "{s}");
        let s = src(
            json!({"purchases": {"metric": "receipts", "store": "ZH01", "op": "gte", "value": 1}}),
        );
        assert!(s.contains("customer_stores"), "{s}");
        // PostgreSQL asks the stores on the figure row whether there was a sale there at all,
        // but counts more than one in customer_stores (ADR 17).
        let pg = |v| render(&seg(v), &At::day(as_of()), true).0;
        let s = pg(
            json!({"purchases": {"metric": "receipts", "store": "ZH01", "op": "gte", "value": 1}}),
        );
        assert!(
            s.contains("= ANY(m.stores)") && !s.contains("customer_stores"),
            "{s}"
        );
        let s = pg(
            json!({"purchases": {"metric": "receipts", "store": "ZH01", "op": "eq", "value": 0}}),
        );
        assert!(
            s.contains("NOT EXISTS")
                && s.contains("= ANY(m.stores)")
                && !s.contains("customer_stores"),
            "{s}"
        );
        let s = pg(
            json!({"purchases": {"metric": "receipts", "store": "ZH01", "op": "gte", "value": 2}}),
        );
        assert!(
            s.contains("customer_stores") && !s.contains("m.stores"),
            "{s}"
        );
        // 0 <= 3 holds: customers without any figures are members, through COALESCE in the
        // correlated sub-select.
        let s = src(
            json!({"purchases": {"metric": "receipts", "window": {"last_months": 6}, "op": "lte", "value": 3}}),
        );
        assert!(
            s.contains("COALESCE(") && s.contains("= \"c\".\"id\""),
            "{s}"
        );
        // One row per customer: (anti-)joins, no aggregate; without a row the figure is 0.
        let s = src(json!({"purchases": {"metric": "receipts", "op": "lte", "value": 3}}));
        assert!(s.contains("NOT EXISTS") && !s.contains("SUM("), "{s}");
        let s = src(json!({"purchases": {"metric": "revenue", "op": "gte", "value": 1}}));
        assert!(
            s.contains("FROM (SELECT \"m\".\"customer_id\" AS \"id\" FROM \"customer_stats\"")
                && !s.contains("SUM("),
            "{s}"
        );
    }
}
