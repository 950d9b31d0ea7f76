//! Loyalty points scoring: how many points a receipt earns and how many a return takes back.
//!
//! Everything is integer arithmetic on minor units (Rappen/cent) and percent, done in `i128`
//! and rounded down once per receipt, so that a receipt's points never depend on how the till
//! happened to split it into lines, and no float rounding ever gives a customer a point too many
//! or too few. Every function is total: unvalidated rules or odd input never panic, they are
//! clamped to the nearest sensible value instead.

#[cfg(test)]
mod tests;

/// How far ahead of the server's clock a receipt's time may lie (tills' clocks drift); later
/// ones are refused. Segments rely on it: no sale is ever recorded after now plus this.
pub const MAX_MINUTES_AHEAD: i64 = 5;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Errors, FieldError};

/// The base rate most Swiss/German programmes use: one point per CHF/EUR 1.00.
const DEFAULT_MINOR_UNITS_PER_POINT: i64 = 100;
/// Largest accepted `minor_units_per_point` (one point per 10 000.00), far beyond any real
/// programme, so a typo with extra zeros is caught instead of silently disabling earning.
const MAX_MINOR_UNITS_PER_POINT: i64 = 1_000_000;
/// Largest accepted multiplier: 100× points. Keeps a typo from handing out millions of points.
const MAX_MULTIPLIER_PERCENT: i64 = 10_000;
/// The neutral multiplier: a line without category multiplier or promotion earns the base rate.
const NEUTRAL_PERCENT: i64 = 100;
/// Channels a receipt can come from; promotions may be restricted to them.
const CHANNELS: &[&str] = &["store", "online"];

/// How points are earned. Stored as JSON in the settings, hence `deny_unknown_fields`: a
/// misspelt key must be an error, not a silently ignored rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointsRules {
    /// Minor units of eligible amount per point (default 100: 1 point per CHF 1.00).
    #[serde(default = "default_minor_units_per_point")]
    pub minor_units_per_point: i64,
    /// Category → multiplier in percent (200 = double points). Default empty. Keys are matched
    /// case-insensitively after trimming, because tills spell categories inconsistently.
    #[serde(default)]
    pub category_multipliers: BTreeMap<String, i64>,
    /// Categories that earn nothing (default: ["Geschenkkarten", "Pfand"]): buying a gift card
    /// or paying a bottle deposit is not a purchase that should be rewarded twice. Excluded
    /// lines also do not count as eligible amount.
    #[serde(default = "default_excluded_categories")]
    pub excluded_categories: Vec<String>,
    /// Time-limited promotions (e.g. double points in March online). When several apply to a
    /// line, only the highest counts: promotions never compound.
    #[serde(default)]
    pub promotions: Vec<Promotion>,
}

/// A time-limited boost of the points a line earns, optionally restricted to some stores,
/// channels, categories or customer segments. Every restriction list that is empty means
/// "no restriction", so a promotion is as broad as possible unless narrowed explicitly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Promotion {
    /// Shown to staff and customers ("Doppelte Punkte im März"), so it must not be empty.
    pub name: String,
    /// First instant the promotion applies (inclusive).
    pub valid_from: DateTime<Utc>,
    /// First instant the promotion no longer applies (exclusive), so consecutive promotions
    /// can share a boundary without overlapping.
    pub valid_until: DateTime<Utc>,
    /// Multiplier in percent, e.g. 200 for double points.
    pub multiplier_percent: i64,
    /// Store codes the promotion is limited to; empty = any store.
    #[serde(default)]
    pub store_codes: Vec<String>,
    /// Channels ("store" | "online") the promotion is limited to; empty = any channel.
    #[serde(default)]
    pub channels: Vec<String>,
    /// Categories the promotion is limited to; empty = all categories.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Segments the promotion is limited to; empty = everyone, else the customer must be in at
    /// least one of them.
    #[serde(default)]
    pub segment_ids: Vec<i64>,
}

/// Serde default for [`PointsRules::minor_units_per_point`].
fn default_minor_units_per_point() -> i64 {
    DEFAULT_MINOR_UNITS_PER_POINT
}

/// Serde default for [`PointsRules::excluded_categories`].
fn default_excluded_categories() -> Vec<String> {
    vec!["Geschenkkarten".to_owned(), "Pfand".to_owned()]
}

impl Default for PointsRules {
    /// The rules a new tenant starts with: 1 point per CHF 1.00, gift cards and deposits
    /// excluded, no multipliers and no promotions.
    fn default() -> Self {
        Self {
            minor_units_per_point: default_minor_units_per_point(),
            category_multipliers: BTreeMap::new(),
            excluded_categories: default_excluded_categories(),
            promotions: Vec::new(),
        }
    }
}

impl PointsRules {
    /// Checks the rules before they are saved, so an admin sees every mistake at once with the
    /// exact field (paths like `promotions[0].multiplier_percent`): minor_units_per_point
    /// 1..=1_000_000; multipliers 0..=10_000 percent; valid_until > valid_from; channels only
    /// store|online; names, categories and store codes non-empty; no category listed twice
    /// (case-insensitively) in the multipliers.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Errors::default();
        if !(1..=MAX_MINOR_UNITS_PER_POINT).contains(&self.minor_units_per_point) {
            errors.push(
                "minor_units_per_point",
                format!("must be between 1 and {MAX_MINOR_UNITS_PER_POINT}"),
            );
        }

        let mut seen = BTreeMap::new();
        for (category, &percent) in &self.category_multipliers {
            let field = format!("category_multipliers[{category:?}]");
            let key = normalize(category);
            if key.is_empty() {
                errors.push(field.clone(), "category must not be empty");
            } else if let Some(first) = seen.insert(key, category) {
                errors.push(
                    field.clone(),
                    format!("same category as {first:?} (categories ignore case)"),
                );
            }
            check_multiplier(&mut errors, field, percent);
        }

        for (i, category) in self.excluded_categories.iter().enumerate() {
            if normalize(category).is_empty() {
                errors.push(format!("excluded_categories[{i}]"), "must not be empty");
            }
        }

        for (i, promotion) in self.promotions.iter().enumerate() {
            promotion.validate_into(&mut errors, &format!("promotions[{i}]"));
        }
        errors.into_result(())
    }
}

impl Promotion {
    /// Adds this promotion's problems to `errors`, with field paths below `prefix`.
    fn validate_into(&self, errors: &mut Errors, prefix: &str) {
        if self.name.trim().is_empty() {
            errors.push(format!("{prefix}.name"), "must not be empty");
        }
        if self.valid_until <= self.valid_from {
            errors.push(format!("{prefix}.valid_until"), "must be after valid_from");
        }
        check_multiplier(
            errors,
            format!("{prefix}.multiplier_percent"),
            self.multiplier_percent,
        );
        for (i, code) in self.store_codes.iter().enumerate() {
            if code.trim().is_empty() {
                errors.push(format!("{prefix}.store_codes[{i}]"), "must not be empty");
            }
        }
        for (i, channel) in self.channels.iter().enumerate() {
            if !CHANNELS.contains(&channel.as_str()) {
                errors.push(
                    format!("{prefix}.channels[{i}]"),
                    "must be \"store\" or \"online\"",
                );
            }
        }
        for (i, category) in self.categories.iter().enumerate() {
            if normalize(category).is_empty() {
                errors.push(format!("{prefix}.categories[{i}]"), "must not be empty");
            }
        }
    }
}

/// Records an error under `field` unless `percent` is within 0..=10_000.
fn check_multiplier(errors: &mut Errors, field: String, percent: i64) {
    if !(0..=MAX_MULTIPLIER_PERCENT).contains(&percent) {
        errors.push(
            field,
            format!("must be between 0 and {MAX_MULTIPLIER_PERCENT} percent"),
        );
    }
}

/// One receipt line as the scorer needs it: only category and amount matter for points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScoreLine<'a> {
    /// The line's product category, matched case-insensitively after trimming.
    pub category: &'a str,
    /// Line total in minor units after discounts, since only what the customer actually paid
    /// earns points. May be 0; negative amounts are invalid input and are treated as 0
    /// (returns go through [`points_to_reverse`], not through negative lines).
    pub amount: i64,
}

/// Where, when and by whom a receipt was made: what decides which promotions apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScoreContext<'a> {
    /// When the purchase happened; compared with the promotions' validity windows.
    pub occurred_at: DateTime<Utc>,
    /// The store of the purchase; `None` (e.g. online) never matches a store-limited promotion.
    pub store_code: Option<&'a str>,
    /// "store" or "online", compared case-insensitively.
    pub channel: &'a str,
    /// The segments the customer belongs to at the time of the purchase.
    pub segment_ids: &'a [i64],
}

/// What a receipt earned, with enough detail to reverse it proportionally later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Score {
    /// Points earned by the receipt, rounded down once for the whole receipt.
    pub points: i64,
    /// Sum of the amounts of the lines that are not excluded, in minor units; shown on the
    /// receipt and used for revenue-based rules without counting gift cards or deposits.
    pub eligible_amount: i64,
    /// Per input line, the line's weighted amount (amount × category multiplier × best
    /// promotion multiplier / 10_000), used for proportional returns.
    pub line_weights: Vec<i64>,
}

/// Scores a receipt, so points are the same however the till splits it into lines.
///
/// Rule: each line's factor = category multiplier (default 100) × best applicable promotion
/// multiplier (the HIGHEST of those that apply; promotions do not compound with each other;
/// default 100 when none applies) / 100. Weighted line amount = amount × factor / 100 computed
/// in i128 without rounding until the end: points = floor(sum over lines of amount×cat×promo /
/// (10_000 × minor_units_per_point)) — rounded down once per receipt. Excluded categories
/// contribute 0 weight and 0 eligible amount. Category comparison is case-insensitive after
/// trimming. `line_weights[i] = floor(amount×cat×promo/10_000)`.
///
/// Unvalidated rules do not panic: negative multipliers count as 0, huge ones saturate, and a
/// non-positive `minor_units_per_point` earns no points at all (the cautious choice: a broken
/// base rate must not hand out points for every Rappen).
pub fn score(rules: &PointsRules, ctx: &ScoreContext, lines: &[ScoreLine]) -> Score {
    let categories = CategoryRules::of(rules);
    // Time, store, channel and segment are the same for every line: filter once per receipt.
    let promotions: Vec<(i64, Vec<String>)> = rules
        .promotions
        .iter()
        .filter(|p| applies_to_receipt(p, ctx))
        .map(|p| (p.multiplier_percent, normalized(&p.categories)))
        .collect();

    let mut total: i128 = 0;
    let mut eligible_amount: i64 = 0;
    let mut line_weights = Vec::with_capacity(lines.len());
    for line in lines {
        let category = normalize(line.category);
        let Some(category_percent) = categories.percent(&category) else {
            line_weights.push(0);
            continue;
        };
        let amount = line.amount.max(0);
        eligible_amount = eligible_amount.saturating_add(amount);

        let promotion_percent = best_for(&promotions, &category).unwrap_or(NEUTRAL_PERCENT);

        let weighted = i128::from(amount)
            .saturating_mul(i128::from(category_percent.max(0)))
            .saturating_mul(i128::from(promotion_percent.max(0)));
        total = total.saturating_add(weighted);
        line_weights.push(saturate(weighted / 10_000));
    }

    let points = if rules.minor_units_per_point > 0 {
        saturate(total / (10_000 * i128::from(rules.minor_units_per_point)))
    } else {
        0
    };
    Score {
        points,
        eligible_amount,
        line_weights,
    }
}

/// The segments worth testing for a receipt before it is scored: those of the promotions
/// limited to segments that apply to it apart from the segment (time, store, channel) and could
/// change what one of its earning lines weighs — the line has no promotion open to everyone, or
/// this one beats the best of those. [`score`] gives the same result whether `ctx.segment_ids`
/// holds all the customer's segments or only those of them listed here. Empty for a receipt
/// without such a promotion, so that scoring it needs no look at any segment.
pub fn segments_to_test(rules: &PointsRules, ctx: &ScoreContext, lines: &[ScoreLine]) -> Vec<i64> {
    let limited: Vec<&Promotion> = rules
        .promotions
        .iter()
        .filter(|p| !p.segment_ids.is_empty() && applies_apart_from_segments(p, ctx))
        .collect();
    if limited.is_empty() {
        return Vec::new();
    }
    let categories = CategoryRules::of(rules);
    let open: Vec<(i64, Vec<String>)> = rules
        .promotions
        .iter()
        .filter(|p| p.segment_ids.is_empty() && applies_apart_from_segments(p, ctx))
        .map(|p| (p.multiplier_percent, normalized(&p.categories)))
        .collect();
    // Each earning line's category with the best promotion open to everyone (if any).
    let earning: Vec<(String, Option<i64>)> = lines
        .iter()
        .filter(|l| l.amount > 0)
        .map(|l| normalize(l.category))
        .filter(|c| categories.percent(c).is_some_and(|p| p > 0))
        .map(|c| {
            let best = best_for(&open, &c);
            (c, best)
        })
        .collect();
    let mut out: Vec<i64> = Vec::new();
    for p in limited {
        let cats = normalized(&p.categories);
        let matters = earning.iter().any(|(c, best)| {
            (cats.is_empty() || cats.contains(c)) && best.is_none_or(|b| p.multiplier_percent > b)
        });
        if matters {
            out.extend(&p.segment_ids);
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The promotions limited to the segment that a sale from `now` on could still get: in the
/// version of the rules in force at such a sale (`versions` by `valid_from`, each in force until
/// the next) and not ended. While there is one, the segment must stay (a deleted segment has no
/// members, so its promotion would silently stop applying).
pub fn promotions_ahead_for_segment(
    versions: &[(DateTime<Utc>, PointsRules)],
    segment_id: i64,
    now: DateTime<Utc>,
) -> Vec<&Promotion> {
    let mut out = Vec::new();
    for (k, (from, rules)) in versions.iter().enumerate() {
        let next = versions.get(k + 1).map(|(f, _)| *f);
        for p in &rules.promotions {
            let start = now.max(p.valid_from).max(*from);
            let end = next.map_or(p.valid_until, |n| n.min(p.valid_until));
            if p.segment_ids.contains(&segment_id) && start < end {
                out.push(p);
            }
        }
    }
    out
}

/// The category rules in the form lines are compared in.
struct CategoryRules {
    excluded: Vec<String>,
    multipliers: Vec<(String, i64)>,
}

impl CategoryRules {
    fn of(rules: &PointsRules) -> Self {
        CategoryRules {
            excluded: normalized(&rules.excluded_categories),
            multipliers: rules
                .category_multipliers
                .iter()
                .map(|(c, &p)| (normalize(c), p))
                .collect(),
        }
    }

    /// The multiplier of a (normalized) category; `None` for an excluded one.
    fn percent(&self, category: &str) -> Option<i64> {
        if self.excluded.iter().any(|c| c == category) {
            return None;
        }
        Some(
            self.multipliers
                .iter()
                .find(|(c, _)| c == category)
                .map_or(NEUTRAL_PERCENT, |&(_, p)| p),
        )
    }
}

/// The highest multiplier among `promotions` (multiplier, categories) that apply to a line of
/// the (normalized) category.
fn best_for(promotions: &[(i64, Vec<String>)], category: &str) -> Option<i64> {
    promotions
        .iter()
        .filter(|(_, cats)| cats.is_empty() || cats.iter().any(|c| c == category))
        .map(|&(p, _)| p)
        .max()
}

fn normalized(list: &[String]) -> Vec<String> {
    list.iter().map(|c| normalize(c)).collect()
}

/// Whether a promotion's receipt-wide conditions (time window, store, channel, segment) hold;
/// the category condition is checked per line.
fn applies_to_receipt(promotion: &Promotion, ctx: &ScoreContext) -> bool {
    let segment_ok = promotion.segment_ids.is_empty()
        || promotion
            .segment_ids
            .iter()
            .any(|id| ctx.segment_ids.contains(id));
    segment_ok && applies_apart_from_segments(promotion, ctx)
}

/// Whether the time window, store and channel of a promotion hold for the receipt.
fn applies_apart_from_segments(promotion: &Promotion, ctx: &ScoreContext) -> bool {
    let in_window =
        promotion.valid_from <= ctx.occurred_at && ctx.occurred_at < promotion.valid_until;
    let store_ok = promotion.store_codes.is_empty()
        || ctx.store_code.is_some_and(|store| {
            promotion
                .store_codes
                .iter()
                .any(|code| same_key(code, store))
        });
    let channel_ok = promotion.channels.is_empty()
        || promotion
            .channels
            .iter()
            .any(|channel| same_key(channel, ctx.channel));
    in_window && store_ok && channel_ok
}

/// Points to reverse for a return: given the points the receipt earned, the total weight of
/// the receipt, the weight returned before and the weight returned now, reverse so that the
/// cumulative reversal is floor(earned × cumulative_returned / total) — a full return reverses
/// exactly what was earned, and several partial returns never reverse more. Returns 0 if
/// total <= 0; clamps cumulative_returned to total.
///
/// Working on the cumulative amount (instead of rounding each return on its own) is what
/// keeps rounding errors from piling up over several partial returns. Negative `earned`,
/// `returned_before` or `returned_now` are invalid input and count as 0.
pub fn points_to_reverse(
    earned: i64,
    total_weight: i64,
    returned_before: i64,
    returned_now: i64,
) -> i64 {
    if total_weight <= 0 || earned <= 0 {
        return 0;
    }
    let total = i128::from(total_weight);
    let before = i128::from(returned_before).clamp(0, total);
    let after = (before + i128::from(returned_now.max(0))).min(total);
    let earned = i128::from(earned);
    let reversed_after = earned * after / total;
    let reversed_before = earned * before / total;
    saturate(reversed_after - reversed_before)
}

/// The form categories, channels and store codes are compared in: tills and admins disagree
/// on case and stray spaces, and neither should change how many points a customer gets.
fn normalize(s: &str) -> String {
    s.trim().to_lowercase()
}

/// Compares two keys the way [`normalize`] does.
fn same_key(a: &str, b: &str) -> bool {
    normalize(a) == normalize(b)
}

/// Converts an intermediate `i128` result into `i64`, saturating instead of wrapping so an
/// absurd receipt gives an absurd-but-bounded number rather than a negative one.
fn saturate(x: i128) -> i64 {
    i64::try_from(x).unwrap_or(if x < 0 { i64::MIN } else { i64::MAX })
}
