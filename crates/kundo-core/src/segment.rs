//! Segments (DOMAIN §5): a JSON tree of AND / OR / NOT over conditions, parsed and validated into
//! a typed tree. The store compiles the tree into SQL; nothing here does I/O.
//!
//! The format is documented with examples in `docs/segments.md`. In short:
//!
//! ```json
//! {"and": [
//!   {"purchases": {"metric": "receipts", "store": "ZH01", "op": "gte", "value": 1}},
//!   {"purchases": {"metric": "revenue", "window": {"last_months": 12}, "op": "gte", "value": 100000}},
//!   {"last_purchase": {"op": "before", "days": 60}}
//! ]}
//! ```
//!
//! Every error names the node at fault with a path such as `definition.and[1].purchases.op`, so
//! that the API can answer 422 pointing at it. Money is in minor units, shares in per mille, and
//! every relative date is resolved against an `as_of` date given at evaluation.

use chrono::{Datelike, Months, NaiveDate};
use serde_json::{Map, Value};

use crate::attributes::{AttrType, AttributeDefinition};
use crate::customer::{CHANNELS, CONSENT_STATUSES, GENDERS, POSTAL_STATUSES};
use crate::error::{Errors, FieldError};

/// Deepest nesting of AND / OR / NOT accepted (the root is depth 1).
pub const MAX_DEPTH: usize = 12;
/// Most nodes (groups and conditions) in one definition.
pub const MAX_NODES: usize = 200;
/// Most values in one `in` list.
pub const MAX_VALUES: usize = 500;
/// Longest window, in months or days.
pub const MAX_MONTHS: u32 = 240;
pub const MAX_DAYS: u32 = 7_300;

/// A parsed segment definition.
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    And(Vec<Segment>),
    Or(Vec<Segment>),
    Not(Box<Segment>),
    Leaf(Condition),
}

/// A numeric comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
}

impl Cmp {
    fn parse(s: &str) -> Option<Cmp> {
        Some(match s {
            "eq" => Cmp::Eq,
            "ne" => Cmp::Ne,
            "lt" => Cmp::Lt,
            "lte" => Cmp::Lte,
            "gt" => Cmp::Gt,
            "gte" => Cmp::Gte,
            _ => return None,
        })
    }

    /// `a <op> b`.
    pub fn test<T: PartialOrd>(self, a: T, b: T) -> bool {
        match self {
            Cmp::Eq => a == b,
            Cmp::Ne => a != b,
            Cmp::Lt => a < b,
            Cmp::Lte => a <= b,
            Cmp::Gt => a > b,
            Cmp::Gte => a >= b,
        }
    }
}

/// `metric <cmp> value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Comparison {
    pub cmp: Cmp,
    pub value: i64,
}

impl Comparison {
    pub fn test(&self, actual: i64) -> bool {
        self.cmp.test(actual, self.value)
    }

    /// Whether every count of at least one passes alike, so that for a count that is never
    /// negative the comparison asks no more than "none or some" ("≥ 1", "= 0", "< 1", …).
    pub fn only_asks_whether_any(&self) -> bool {
        match self.cmp {
            Cmp::Eq | Cmp::Ne => self.value < 1,
            // Monotonic: alike at 1 and at the largest count means alike in between.
            Cmp::Lt | Cmp::Lte | Cmp::Gt | Cmp::Gte => self.test(1) == self.test(i64::MAX),
        }
    }
}

/// A text value is one of `values` (`negate`: is none of them, or has no value at all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextMatch {
    pub values: Vec<String>,
    pub negate: bool,
}

/// Customer fields a segment can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextField {
    Kind,
    Gender,
    Language,
    PreferredChannel,
    Salutation,
    /// Of the current main address.
    Postcode,
    City,
    Country,
}

impl TextField {
    fn parse(s: &str) -> Option<TextField> {
        Some(match s {
            "kind" => TextField::Kind,
            "gender" => TextField::Gender,
            "language" => TextField::Language,
            "preferred_channel" => TextField::PreferredChannel,
            "salutation" => TextField::Salutation,
            "postcode" => TextField::Postcode,
            "city" => TextField::City,
            "country" => TextField::Country,
            _ => return None,
        })
    }

    /// The column name (in `customers`, or in `addresses` for address fields).
    pub fn column(self) -> &'static str {
        match self {
            TextField::Kind => "kind",
            TextField::Gender => "gender",
            TextField::Language => "language",
            TextField::PreferredChannel => "preferred_channel",
            TextField::Salutation => "salutation",
            TextField::Postcode => "postcode",
            TextField::City => "city",
            TextField::Country => "country",
        }
    }

    pub fn is_address(self) -> bool {
        matches!(
            self,
            TextField::Postcode | TextField::City | TextField::Country
        )
    }

    fn allowed(self) -> Option<&'static [&'static str]> {
        match self {
            TextField::Kind => Some(&["person", "organization"]),
            TextField::Gender => Some(GENDERS),
            TextField::PreferredChannel => Some(CHANNELS),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum FieldCond {
    Text(TextField, TextMatch),
    BirthDate(Cmp, NaiveDate),
    /// Age in whole years on the `as_of` date (29 February counts as 28 February).
    Age(Cmp, i64),
}

#[derive(Debug, Clone, PartialEq)]
pub enum AttrTest {
    Text(TextMatch),
    Int(Comparison),
    /// Canonical `YYYY-MM-DD` text, compared as text (which orders like the dates).
    Date(Cmp, String),
    /// Has a value (`true`) or has none (`false`).
    Exists(bool),
}

#[derive(Debug, Clone, PartialEq)]
pub struct AttributeCond {
    pub name: String,
    pub test: AttrTest,
}

/// A time window, relative to `as_of` or absolute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The calendar month of `as_of` and the n-1 months before it.
    LastMonths(u32),
    /// `as_of` and the n-1 days before it.
    LastDays(u32),
    /// From and to, both inclusive; an open end is unbounded (but never after `as_of`).
    Range {
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    },
}

/// A window resolved against `as_of`: days `from..=to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub from: Option<NaiveDate>,
    pub to: NaiveDate,
    /// `from` is the 1st of a month and `to` the last day of a month or `as_of`: the monthly
    /// figures answer it exactly.
    pub whole_months: bool,
}

impl Span {
    /// `"YYYY-MM"` of the first and last month.
    pub fn months(&self) -> (Option<String>, String) {
        (self.from.map(month_key), month_key(self.to))
    }

    /// [`month_number`] of the first and last month.
    pub fn month_numbers(&self) -> (Option<i32>, i32) {
        (self.from.map(month_number), month_number(self.to))
    }
}

pub fn month_key(d: NaiveDate) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

/// The month of `d` as the number `YYYYMM` (2025-03 → 202503): ordered as the months are, and
/// what `customer_category_totals` records its first, last and all months in.
pub fn month_number(d: NaiveDate) -> i32 {
    d.year() * 100 + d.month() as i32
}

/// The `"YYYY-MM"` key of a [`month_number`].
pub fn month_number_key(month: i32) -> String {
    format!("{:04}-{:02}", month / 100, month % 100)
}

/// Every month number from `from` to `to`, both included (none if `from` is later).
pub fn month_numbers_between(from: i32, to: i32) -> Vec<i32> {
    let mut out = Vec::new();
    let (mut year, mut month) = (from / 100, from % 100);
    while year * 100 + month <= to {
        out.push(year * 100 + month);
        if month == 12 {
            (year, month) = (year + 1, 1);
        } else {
            month += 1;
        }
    }
    out
}

fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

fn last_of_month(d: NaiveDate) -> bool {
    d.succ_opt().is_none_or(|n| n.month() != d.month())
}

impl Window {
    pub fn resolve(&self, as_of: NaiveDate) -> Span {
        match *self {
            Window::LastMonths(n) => Span {
                from: first_of_month(as_of).checked_sub_months(Months::new(n.saturating_sub(1))),
                to: as_of,
                whole_months: true,
            },
            Window::LastDays(n) => Span {
                from: as_of.checked_sub_days(chrono::Days::new(u64::from(n.saturating_sub(1)))),
                to: as_of,
                whole_months: false,
            },
            Window::Range { from, to } => {
                let end = to.map_or(as_of, |t| t.min(as_of));
                Span {
                    from,
                    to: end,
                    whole_months: from.is_none_or(|f| f.day() == 1)
                        && (end == as_of || last_of_month(end)),
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PurchaseMetric {
    /// Net revenue (returns deducted) in minor units.
    Revenue,
    /// Number of sales receipts.
    Receipts,
    /// Revenue / receipts, rounded toward zero; 0 without receipts.
    AverageBasket,
    /// Online revenue / revenue in per mille, rounded toward zero; 0 without positive revenue.
    OnlineShare,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SalesChannel {
    Store,
    Online,
}

impl SalesChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            SalesChannel::Store => "store",
            SalesChannel::Online => "online",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Purchases {
    pub metric: PurchaseMetric,
    pub window: Option<Window>,
    pub store: Option<String>,
    pub channel: Option<SalesChannel>,
    pub cmp: Comparison,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Product {
    Category(String),
    Sku(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Bought {
    pub product: Product,
    pub window: Option<Window>,
    /// Distinct sales receipts with such a line, at least.
    pub min_times: i64,
    /// Did not buy it (at least `min_times` times).
    pub negate: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoyaltyMetric {
    Balance,
    /// Issued vouchers still valid on `as_of`.
    VouchersHeld,
    VouchersRedeemed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoreMetric {
    R,
    F,
    M,
    ClvHistoric,
    ClvPredicted,
}

impl ScoreMetric {
    pub fn column(self) -> &'static str {
        match self {
            ScoreMetric::R => "r",
            ScoreMetric::F => "f",
            ScoreMetric::M => "m",
            ScoreMetric::ClvHistoric => "clv_historic",
            ScoreMetric::ClvPredicted => "clv_predicted",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ScoreCond {
    Number(ScoreMetric, Comparison),
    /// The RFM code such as "545".
    Rfm(TextMatch),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Field(FieldCond),
    Attribute(AttributeCond),
    Purchases(Purchases),
    /// `within`: a sale in the last `days` days (as_of included); otherwise none (also never).
    LastPurchase {
        within: bool,
        days: u32,
    },
    Bought(Bought),
    Loyalty(LoyaltyMetric, Comparison),
    Score(ScoreCond),
    /// The latest statement for the channel has this status.
    Consent {
        channel: String,
        status: String,
    },
    /// The current main address has this postal status.
    PostalStatus(String),
}

impl Segment {
    /// Every condition of the tree, depth first (for tests and tools).
    pub fn conditions(&self) -> Vec<&Condition> {
        let mut out = Vec::new();
        fn walk<'a>(s: &'a Segment, out: &mut Vec<&'a Condition>) {
            match s {
                Segment::And(v) | Segment::Or(v) => v.iter().for_each(|c| walk(c, out)),
                Segment::Not(c) => walk(c, out),
                Segment::Leaf(c) => out.push(c),
            }
        }
        walk(self, &mut out);
        out
    }
}

/// What parsing needs to know besides the JSON: the custom attributes defined now.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    pub attributes: &'a [AttributeDefinition],
}

/// Parses and validates a definition. `root` names it in error paths (e.g. `definition`).
pub fn parse(value: &Value, root: &str, ctx: Context<'_>) -> Result<Segment, Vec<FieldError>> {
    let mut p = Parser {
        ctx,
        errors: Errors::default(),
        nodes: 0,
        too_many: false,
    };
    let seg = p.node(value, root, 1);
    match seg {
        Some(s) if p.errors.is_empty() => Ok(s),
        _ => {
            if p.errors.is_empty() {
                p.errors.push(root, "is not a valid segment definition");
            }
            Err(p.errors.0)
        }
    }
}

struct Parser<'a> {
    ctx: Context<'a>,
    errors: Errors,
    nodes: usize,
    too_many: bool,
}

const LEAF_KEYS: &[&str] = &[
    "and",
    "or",
    "not",
    "field",
    "attribute",
    "purchases",
    "last_purchase",
    "bought",
    "loyalty",
    "score",
    "consent",
    "postal_status",
];

impl Parser<'_> {
    fn err(&mut self, path: &str, message: impl Into<String>) {
        self.errors.push(path, message);
    }

    fn node(&mut self, v: &Value, path: &str, depth: usize) -> Option<Segment> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            if !self.too_many {
                self.too_many = true;
                self.err(
                    path,
                    format!("the definition has more than {MAX_NODES} nodes"),
                );
            }
            return None;
        }
        if depth > MAX_DEPTH {
            self.err(path, format!("nesting is deeper than {MAX_DEPTH} levels"));
            return None;
        }
        let Some(obj) = v.as_object() else {
            self.err(
                path,
                "must be an object such as {\"and\": [...]} or a condition",
            );
            return None;
        };
        let Some(kind) = LEAF_KEYS.iter().find(|k| obj.contains_key(**k)) else {
            self.err(
                path,
                format!("must have one of the keys: {}", LEAF_KEYS.join(", ")),
            );
            return None;
        };
        let here = format!("{path}.{kind}");
        match *kind {
            "and" | "or" => {
                self.only(obj, path, &[kind]);
                let Some(items) = obj[*kind].as_array() else {
                    self.err(&here, "must be a list of conditions");
                    return None;
                };
                if items.is_empty() {
                    self.err(&here, "must not be empty");
                    return None;
                }
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    if let Some(s) = self.node(item, &format!("{here}[{i}]"), depth + 1) {
                        out.push(s);
                    }
                    if self.too_many {
                        return None;
                    }
                }
                Some(if *kind == "and" {
                    Segment::And(out)
                } else {
                    Segment::Or(out)
                })
            }
            "not" => {
                self.only(obj, path, &["not"]);
                self.node(&obj["not"], &here, depth + 1)
                    .map(|s| Segment::Not(Box::new(s)))
            }
            "field" => {
                self.only(obj, path, &["field", "op", "value"]);
                self.field(obj, path).map(Segment::Leaf)
            }
            "attribute" => {
                self.only(obj, path, &["attribute", "op", "value"]);
                self.attribute(obj, path).map(Segment::Leaf)
            }
            other => {
                self.only(obj, path, &[other]);
                let inner = &obj[other];
                let c = match other {
                    "purchases" => self.purchases(inner, &here),
                    "last_purchase" => self.last_purchase(inner, &here),
                    "bought" => self.bought(inner, &here),
                    "loyalty" => self.loyalty(inner, &here),
                    "score" => self.score(inner, &here),
                    "consent" => self.consent(inner, &here),
                    _ => self.postal_status(inner, &here),
                };
                c.map(Segment::Leaf)
            }
        }
    }

    /// Refuses keys other than `allowed` (each named by its path).
    fn only(&mut self, obj: &Map<String, Value>, path: &str, allowed: &[&str]) {
        for k in obj.keys() {
            if !allowed.contains(&k.as_str()) {
                self.err(
                    &format!("{path}.{k}"),
                    format!("is not allowed here (allowed: {})", allowed.join(", ")),
                );
            }
        }
    }

    fn object<'v>(&mut self, v: &'v Value, path: &str) -> Option<&'v Map<String, Value>> {
        let o = v.as_object();
        if o.is_none() {
            self.err(path, "must be an object");
        }
        o
    }

    fn string(&mut self, v: Option<&Value>, path: &str) -> Option<String> {
        match v {
            None => {
                self.err(path, "is required");
                None
            }
            Some(Value::String(s)) if valid_text(s) => Some(s.trim().to_string()),
            Some(Value::String(_)) => {
                self.err(path, "must be 1-200 printable characters");
                None
            }
            Some(_) => {
                self.err(path, "must be a string");
                None
            }
        }
    }

    fn int(&mut self, v: Option<&Value>, path: &str, min: i64, max: i64) -> Option<i64> {
        match v.map(|v| v.as_i64()) {
            None => {
                self.err(path, "is required");
                None
            }
            Some(Some(n)) if (min..=max).contains(&n) => Some(n),
            Some(_) => {
                self.err(path, format!("must be a whole number from {min} to {max}"));
                None
            }
        }
    }

    fn cmp(&mut self, v: Option<&Value>, path: &str) -> Option<Cmp> {
        let op = self.string(v, path)?;
        let c = Cmp::parse(&op);
        if c.is_none() {
            self.err(path, "must be one of: eq, ne, lt, lte, gt, gte");
        }
        c
    }

    fn comparison(&mut self, o: &Map<String, Value>, path: &str) -> Option<Comparison> {
        let cmp = self.cmp(o.get("op"), &format!("{path}.op"));
        let value = self.int(
            o.get("value"),
            &format!("{path}.value"),
            -1_000_000_000_000_000,
            1_000_000_000_000_000,
        );
        Some(Comparison {
            cmp: cmp?,
            value: value?,
        })
    }

    /// `eq`/`ne` with a string, `in`/`not_in` with a list of strings.
    fn text_match(
        &mut self,
        o: &Map<String, Value>,
        path: &str,
        allowed: Option<&[&str]>,
        canon: &dyn Fn(&str) -> Result<String, String>,
    ) -> Option<TextMatch> {
        let op_path = format!("{path}.op");
        let value_path = format!("{path}.value");
        let op = self.string(o.get("op"), &op_path)?;
        let (list, negate) = match op.as_str() {
            "eq" => (false, false),
            "ne" => (false, true),
            "in" => (true, false),
            "not_in" => (true, true),
            _ => {
                self.err(&op_path, "must be one of: eq, ne, in, not_in");
                return None;
            }
        };
        let raw: Vec<(String, Option<&Value>)> = if list {
            match o.get("value").and_then(Value::as_array) {
                Some(items) if !items.is_empty() && items.len() <= MAX_VALUES => items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (format!("{value_path}[{i}]"), Some(v)))
                    .collect(),
                _ => {
                    self.err(
                        &value_path,
                        format!("must be a list of 1 to {MAX_VALUES} values"),
                    );
                    return None;
                }
            }
        } else {
            vec![(value_path, o.get("value"))]
        };
        let mut values = Vec::with_capacity(raw.len());
        let mut ok = true;
        for (p, v) in raw {
            let s = match v {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                Some(Value::Bool(b)) => Some(b.to_string()),
                None => {
                    self.err(&p, "is required");
                    None
                }
                Some(_) => {
                    self.err(&p, "must be a string");
                    None
                }
            };
            let Some(s) = s else {
                ok = false;
                continue;
            };
            if let Some(allowed) = allowed
                && !allowed.contains(&s.as_str())
            {
                self.err(&p, format!("must be one of: {}", allowed.join(", ")));
                ok = false;
                continue;
            }
            match canon(&s) {
                Ok(c) => values.push(c),
                Err(m) => {
                    self.err(&p, m);
                    ok = false;
                }
            }
        }
        ok.then_some(TextMatch { values, negate })
    }

    fn field(&mut self, o: &Map<String, Value>, path: &str) -> Option<Condition> {
        let fpath = format!("{path}.field");
        let name = self.string(o.get("field"), &fpath)?;
        match name.as_str() {
            "birth_date" => {
                let cmp = self.cmp(o.get("op"), &format!("{path}.op"));
                let date = self.date(o.get("value"), &format!("{path}.value"));
                Some(Condition::Field(FieldCond::BirthDate(cmp?, date?)))
            }
            "age" => {
                let cmp = self.cmp(o.get("op"), &format!("{path}.op"));
                let years = self.int(o.get("value"), &format!("{path}.value"), 0, 150);
                Some(Condition::Field(FieldCond::Age(cmp?, years?)))
            }
            other => {
                let Some(field) = TextField::parse(other) else {
                    self.err(
                        &fpath,
                        "must be one of: kind, gender, language, preferred_channel, salutation, postcode, city, country, birth_date, age",
                    );
                    return None;
                };
                let canon = move |s: &str| -> Result<String, String> {
                    let t = s.trim();
                    if !valid_text(t) {
                        return Err("must be 1-200 printable characters".into());
                    }
                    Ok(match field {
                        TextField::Postcode | TextField::Country => t.to_uppercase(),
                        TextField::Language => t.to_lowercase(),
                        _ => t.to_string(),
                    })
                };
                let m = self.text_match(o, path, field.allowed(), &canon)?;
                Some(Condition::Field(FieldCond::Text(field, m)))
            }
        }
    }

    fn date(&mut self, v: Option<&Value>, path: &str) -> Option<NaiveDate> {
        let s = self.string(v, path)?;
        let d = crate::dates::parse_iso_date(&s).ok();
        if d.is_none() {
            self.err(path, "must be a date YYYY-MM-DD");
        }
        d
    }

    fn attribute(&mut self, o: &Map<String, Value>, path: &str) -> Option<Condition> {
        let apath = format!("{path}.attribute");
        let name = self.string(o.get("attribute"), &apath)?;
        let Some(def) = self.ctx.attributes.iter().find(|d| d.name == name) else {
            self.err(&apath, format!("'{name}' is not a defined attribute"));
            return None;
        };
        let op_path = format!("{path}.op");
        let value_path = format!("{path}.value");
        let op = self.string(o.get("op"), &op_path)?;
        let test = match op.as_str() {
            "exists" => match o.get("value") {
                None => AttrTest::Exists(true),
                Some(Value::Bool(b)) => AttrTest::Exists(*b),
                Some(_) => {
                    self.err(&value_path, "must be true or false");
                    return None;
                }
            },
            "eq" | "ne" | "in" | "not_in" => {
                let canon = |s: &str| -> Result<String, String> {
                    let v = def.parse_text(s)?;
                    def.canonical(&v).map(|a| a.text)
                };
                AttrTest::Text(self.text_match(o, path, None, &canon)?)
            }
            _ => {
                let Some(cmp) = Cmp::parse(&op) else {
                    self.err(
                        &op_path,
                        "must be one of: eq, ne, in, not_in, lt, lte, gt, gte, exists",
                    );
                    return None;
                };
                match def.attr_type {
                    AttrType::Integer => {
                        let n = self.int(o.get("value"), &value_path, i64::MIN, i64::MAX)?;
                        AttrTest::Int(Comparison { cmp, value: n })
                    }
                    AttrType::Date => {
                        let d = self.date(o.get("value"), &value_path)?;
                        AttrTest::Date(cmp, d.format("%Y-%m-%d").to_string())
                    }
                    t => {
                        self.err(
                            &op_path,
                            format!(
                                "a {} attribute takes eq, ne, in, not_in or exists",
                                t.as_str()
                            ),
                        );
                        return None;
                    }
                }
            }
        };
        Some(Condition::Attribute(AttributeCond {
            name: def.name.clone(),
            test,
        }))
    }

    fn window(&mut self, v: Option<&Value>, path: &str) -> Option<Option<Window>> {
        let Some(v) = v else { return Some(None) };
        let o = self.object(v, path)?;
        if o.len() == 1 && o.contains_key("last_months") {
            let n = self.int(
                o.get("last_months"),
                &format!("{path}.last_months"),
                1,
                i64::from(MAX_MONTHS),
            )?;
            return Some(Some(Window::LastMonths(n as u32)));
        }
        if o.len() == 1 && o.contains_key("last_days") {
            let n = self.int(
                o.get("last_days"),
                &format!("{path}.last_days"),
                1,
                i64::from(MAX_DAYS),
            )?;
            return Some(Some(Window::LastDays(n as u32)));
        }
        if !o.is_empty() && o.keys().all(|k| k == "from" || k == "to") {
            let from = match o.get("from") {
                Some(v) => Some(self.date(Some(v), &format!("{path}.from"))?),
                None => None,
            };
            let to = match o.get("to") {
                Some(v) => Some(self.date(Some(v), &format!("{path}.to"))?),
                None => None,
            };
            if let (Some(f), Some(t)) = (from, to)
                && f > t
            {
                self.err(&format!("{path}.to"), "lies before from");
                return None;
            }
            return Some(Some(Window::Range { from, to }));
        }
        self.err(
            path,
            "must be {\"last_months\": N}, {\"last_days\": N} or {\"from\": DATE, \"to\": DATE}",
        );
        None
    }

    fn purchases(&mut self, v: &Value, path: &str) -> Option<Condition> {
        let o = self.object(v, path)?;
        self.only(
            o,
            path,
            &["metric", "window", "store", "channel", "op", "value"],
        );
        let mpath = format!("{path}.metric");
        let metric = match self.string(o.get("metric"), &mpath).as_deref() {
            Some("revenue") => Some(PurchaseMetric::Revenue),
            Some("receipts") => Some(PurchaseMetric::Receipts),
            Some("average_basket") => Some(PurchaseMetric::AverageBasket),
            Some("online_share") => Some(PurchaseMetric::OnlineShare),
            Some(_) => {
                self.err(
                    &mpath,
                    "must be one of: revenue, receipts, average_basket, online_share",
                );
                None
            }
            None => None,
        };
        let window = self.window(o.get("window"), &format!("{path}.window"));
        let store = match o.get("store") {
            Some(s) => Some(self.string(Some(s), &format!("{path}.store"))?),
            None => None,
        };
        let cpath = format!("{path}.channel");
        let channel = match o.get("channel") {
            None => Some(None),
            Some(v) => match v.as_str() {
                Some("store") => Some(Some(SalesChannel::Store)),
                Some("online") => Some(Some(SalesChannel::Online)),
                _ => {
                    self.err(&cpath, "must be store or online");
                    None
                }
            },
        };
        let cmp = self.comparison(o, path);
        let (metric, window, channel, cmp) = (metric?, window?, channel?, cmp?);
        if metric == PurchaseMetric::OnlineShare && (channel.is_some() || store.is_some()) {
            // Each narrowing key that was given is named at its own path.
            for (key, given) in [("store", store.is_some()), ("channel", channel.is_some())] {
                if given {
                    self.err(
                        &format!("{path}.{key}"),
                        "online_share is a share of all purchases; it takes no channel or store",
                    );
                }
            }
            return None;
        }
        Some(Condition::Purchases(Purchases {
            metric,
            window,
            store,
            channel,
            cmp,
        }))
    }

    fn last_purchase(&mut self, v: &Value, path: &str) -> Option<Condition> {
        let o = self.object(v, path)?;
        self.only(o, path, &["op", "days"]);
        let op_path = format!("{path}.op");
        let within = match self.string(o.get("op"), &op_path).as_deref() {
            Some("within") => Some(true),
            Some("before") => Some(false),
            Some(_) => {
                self.err(&op_path, "must be within or before");
                None
            }
            None => None,
        };
        let days = self.int(
            o.get("days"),
            &format!("{path}.days"),
            1,
            i64::from(MAX_DAYS),
        );
        Some(Condition::LastPurchase {
            within: within?,
            days: days? as u32,
        })
    }

    fn bought(&mut self, v: &Value, path: &str) -> Option<Condition> {
        let o = self.object(v, path)?;
        self.only(
            o,
            path,
            &["category", "sku", "window", "min_times", "negate"],
        );
        let product = match (o.get("category"), o.get("sku")) {
            (Some(c), None) => Some(Product::Category(
                self.string(Some(c), &format!("{path}.category"))?,
            )),
            (None, Some(s)) => Some(Product::Sku(self.string(Some(s), &format!("{path}.sku"))?)),
            _ => {
                self.err(path, "name either a category or a sku");
                None
            }
        };
        let window = self.window(o.get("window"), &format!("{path}.window"));
        let min_times = match o.get("min_times") {
            None => Some(1),
            Some(v) => self.int(Some(v), &format!("{path}.min_times"), 1, 100_000),
        };
        let npath = format!("{path}.negate");
        let negate = match o.get("negate") {
            None => Some(false),
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.err(&npath, "must be true or false");
                None
            }
        };
        Some(Condition::Bought(Bought {
            product: product?,
            window: window?,
            min_times: min_times?,
            negate: negate?,
        }))
    }

    fn loyalty(&mut self, v: &Value, path: &str) -> Option<Condition> {
        let o = self.object(v, path)?;
        self.only(o, path, &["metric", "op", "value"]);
        let mpath = format!("{path}.metric");
        let metric = match self.string(o.get("metric"), &mpath).as_deref() {
            Some("balance") => Some(LoyaltyMetric::Balance),
            Some("vouchers_held") => Some(LoyaltyMetric::VouchersHeld),
            Some("vouchers_redeemed") => Some(LoyaltyMetric::VouchersRedeemed),
            Some(_) => {
                self.err(
                    &mpath,
                    "must be one of: balance, vouchers_held, vouchers_redeemed",
                );
                None
            }
            None => None,
        };
        let cmp = self.comparison(o, path);
        Some(Condition::Loyalty(metric?, cmp?))
    }

    fn score(&mut self, v: &Value, path: &str) -> Option<Condition> {
        let o = self.object(v, path)?;
        self.only(o, path, &["metric", "op", "value"]);
        let mpath = format!("{path}.metric");
        let metric = self.string(o.get("metric"), &mpath)?;
        let number = match metric.as_str() {
            "rfm_r" => ScoreMetric::R,
            "rfm_f" => ScoreMetric::F,
            "rfm_m" => ScoreMetric::M,
            "clv_historic" => ScoreMetric::ClvHistoric,
            "clv_predicted" => ScoreMetric::ClvPredicted,
            "rfm" => {
                let canon = |s: &str| -> Result<String, String> {
                    if s.len() == 3 && s.bytes().all(|b| (b'1'..=b'5').contains(&b)) {
                        Ok(s.to_string())
                    } else {
                        Err("must be an RFM code of three digits 1-5, such as \"545\"".into())
                    }
                };
                return Some(Condition::Score(ScoreCond::Rfm(
                    self.text_match(o, path, None, &canon)?,
                )));
            }
            _ => {
                self.err(
                    &mpath,
                    "must be one of: rfm_r, rfm_f, rfm_m, rfm, clv_historic, clv_predicted",
                );
                return None;
            }
        };
        let cmp = self.comparison(o, path)?;
        Some(Condition::Score(ScoreCond::Number(number, cmp)))
    }

    fn consent(&mut self, v: &Value, path: &str) -> Option<Condition> {
        let o = self.object(v, path)?;
        self.only(o, path, &["channel", "status"]);
        let channel = self.one_of(o.get("channel"), &format!("{path}.channel"), CHANNELS);
        let status = match o.get("status") {
            None => Some("granted".to_string()),
            s => self.one_of(s, &format!("{path}.status"), CONSENT_STATUSES),
        };
        Some(Condition::Consent {
            channel: channel?,
            status: status?,
        })
    }

    fn postal_status(&mut self, v: &Value, path: &str) -> Option<Condition> {
        self.one_of(Some(v), path, POSTAL_STATUSES)
            .map(Condition::PostalStatus)
    }

    fn one_of(&mut self, v: Option<&Value>, path: &str, allowed: &[&str]) -> Option<String> {
        let s = self.string(v, path)?;
        if allowed.contains(&s.as_str()) {
            Some(s)
        } else {
            self.err(path, format!("must be one of: {}", allowed.join(", ")));
            None
        }
    }
}

fn valid_text(s: &str) -> bool {
    let t = s.trim();
    !t.is_empty() && t.chars().count() <= 200 && !t.chars().any(char::is_control)
}

/// The birth dates of people aged `years` or more on `as_of`: born on or before the returned day.
/// 29 February counts as 28 February in other years.
pub fn born_by(as_of: NaiveDate, years: i64) -> Option<NaiveDate> {
    let months = u32::try_from(years.checked_mul(12)?).ok()?;
    let d = as_of.checked_sub_months(Months::new(months))?;
    // On 28 February of a common year, those born on 29 February have their birthday too.
    if as_of.month() == 2
        && as_of.day() == 28
        && NaiveDate::from_ymd_opt(as_of.year(), 2, 29).is_none()
    {
        return Some(d.succ_opt().filter(|n| n.month() == 2).unwrap_or(d));
    }
    Some(d)
}

#[cfg(test)]
mod tests;
