//! Campaigns (DOMAIN §6): the pure rules. Which channel reaches a member, who is drawn into the
//! control group, and what the campaign achieved (redemption, purchases, uplift against the
//! control group with 95 % confidence intervals, response by RFM group and purchase bands).
//! The store supplies the facts; nothing here does I/O.

use std::collections::BTreeMap;

use serde::Serialize;

/// The channels a campaign contacts members through. Phone and SMS are not campaign channels:
/// calls cost too much per member, and SMS has no consent flow that proves opt-in for ads yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Letter,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Letter => "letter",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        match s {
            "email" => Some(Channel::Email),
            "letter" => Some(Channel::Letter),
            _ => None,
        }
    }
}

/// The campaign channel an inbound contact came through, from the activity's `channel` (free
/// text, often empty) or else its `kind`. Calls, visits and SMS are not campaign channels.
pub fn inbound_channel(channel: Option<&str>, kind: &str) -> Option<Channel> {
    let c = channel
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .unwrap_or(kind)
        .to_ascii_lowercase();
    match c.as_str() {
        "email" | "e-mail" | "mail" => Some(Channel::Email),
        "letter" | "post" | "brief" => Some(Channel::Letter),
        _ => None,
    }
}

/// What decides how a member can be reached, read at the campaign's start.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    /// `email`, `letter`, `phone`, `sms` or none.
    pub preferred_channel: Option<String>,
    pub has_email: bool,
    /// The latest statement on email advertising (`granted`, `revoked`, …), if any.
    pub email_consent: Option<String>,
    /// The latest statement on letters, if any.
    pub letter_consent: Option<String>,
    /// Postal status of the current main address; `None` without an address.
    pub postal_status: Option<String>,
    pub reported_deceased: bool,
    pub postal_ads_blocked: bool,
    /// Inbound contacts per campaign channel (see [`inbound_channel`]).
    pub inbound_email: i64,
    pub inbound_letter: i64,
}

impl Reach {
    /// Why `channel` cannot carry advertising to this member, or `None` if it can.
    pub fn blocker(&self, channel: Channel) -> Option<&'static str> {
        match channel {
            Channel::Email if !self.has_email => Some("no_email_address"),
            Channel::Email if self.email_consent.as_deref() != Some("granted") => {
                Some("no_email_consent")
            }
            Channel::Email => None,
            Channel::Letter => match self.postal_status.as_deref() {
                None => Some("no_address"),
                Some("ok") if self.postal_ads_blocked => Some("postal_ads_blocked"),
                Some("ok") if self.letter_consent.as_deref() != Some("granted") => {
                    Some("no_letter_consent")
                }
                Some("ok") => None,
                Some("blocked") => Some("address_blocked"),
                Some("research") => Some("address_research"),
                Some(_) => Some("address_not_ok"),
            },
        }
    }
}

/// How one member is contacted, or why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    Contact(Channel),
    /// A reason code: `deceased`, or the blockers of each allowed channel joined with `+`
    /// (e.g. `no_email_consent+address_research`).
    Unreachable(String),
}

/// The channel per member (DOMAIN §6), among the channels the campaign `allowed`:
/// 1. a reported death stops all marketing;
/// 2. the preferred channel, if the campaign uses it and it is consented and reachable;
/// 3. otherwise the usable channel through which the member contacted us most often (inbound
///    activities; a tie goes to email, the cheaper one) — also when a stated preference cannot
///    be used, since the history is the next best statement of how the customer talks to us;
/// 4. else email if opted in (latest statement granted) and an address exists;
/// 5. else letter if the current main address is `ok`, letters are consented and no mail block
///    (postal advertising refused) applies;
/// 6. else unreachable, with the reason of each allowed channel.
pub fn choose_channel(r: &Reach, allowed: &[Channel]) -> Choice {
    if r.reported_deceased {
        return Choice::Unreachable("deceased".into());
    }
    let usable = |c: Channel| allowed.contains(&c) && r.blocker(c).is_none();
    if let Some(p) = r.preferred_channel.as_deref().and_then(Channel::parse)
        && usable(p)
    {
        return Choice::Contact(p);
    }
    let history = [
        (Channel::Email, r.inbound_email),
        (Channel::Letter, r.inbound_letter),
    ];
    let best = history
        .iter()
        .filter(|(c, n)| *n > 0 && usable(*c))
        .max_by_key(|(c, n)| (*n, std::cmp::Reverse(*c)));
    if let Some((c, _)) = best {
        return Choice::Contact(*c);
    }
    for c in [Channel::Email, Channel::Letter] {
        if usable(c) {
            return Choice::Contact(c);
        }
    }
    let mut reasons: Vec<&str> = Vec::new();
    for c in [Channel::Email, Channel::Letter] {
        if allowed.contains(&c)
            && let Some(b) = r.blocker(c)
        {
            reasons.push(b);
        }
    }
    if reasons.is_empty() {
        reasons.push("no_channel");
    }
    Choice::Unreachable(reasons.join("+"))
}

// --- control group ---------------------------------------------------------------------------

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The rank of a customer in the draw: a hash of seed and id. Independent of the order in
/// which members are read, so the same seed and snapshot always give the same group.
pub fn draw_key(seed: i64, customer_id: i64) -> u64 {
    splitmix64(splitmix64(seed as u64) ^ (customer_id as u64))
}

/// The size of the control group: `round(share × n)` with `share` in basis points, halves up.
pub fn control_size(share_bp: i64, n: usize) -> usize {
    let share = share_bp.clamp(0, 10_000) as u128;
    ((share * n as u128 + 5_000) / 10_000) as usize
}

/// The control group of a snapshot: the `control_size` members with the smallest
/// [`draw_key`] (ties by id), returned sorted by id. Exact size, reproducible for the seed.
pub fn draw_control(seed: i64, share_bp: i64, members: &[i64]) -> Vec<i64> {
    let k = control_size(share_bp, members.len());
    let mut keyed: Vec<(u64, i64)> = members.iter().map(|&c| (draw_key(seed, c), c)).collect();
    if k < keyed.len() {
        keyed.select_nth_unstable(k);
        keyed.truncate(k);
    }
    let mut ids: Vec<i64> = keyed.into_iter().map(|(_, c)| c).collect();
    ids.sort_unstable();
    ids
}

// --- results ---------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    Target,
    Control,
}

/// One member's facts for the results.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub control: bool,
    /// A voucher was issued (reachable target member).
    pub voucher: bool,
    pub redeemed: bool,
    /// Revenue of the receipts that redeemed the voucher (minor units).
    pub redemption_revenue: i64,
    /// Sales receipts since the start.
    pub purchases: i64,
    /// Net revenue since the start (sales minus returns, minor units).
    pub revenue: i64,
    /// RFM code at the start (`"545"`), if the member was scored.
    pub rfm: Option<String>,
    /// Sales receipts in the 12 months before the start.
    pub orders_12m: i64,
    /// Net revenue in the 12 months before the start (minor units).
    pub revenue_12m: i64,
}

/// An estimate with its 95 % confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

/// Figures of one group (or one group within a breakdown cell).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GroupFigures {
    pub members: i64,
    pub vouchers: i64,
    pub redeemed: i64,
    /// redeemed / vouchers; `None` without vouchers (the control group gets none).
    pub redemption_rate: Option<f64>,
    /// Members with at least one purchase since the start.
    pub buyers: i64,
    pub purchase_rate: Option<f64>,
    /// Net revenue since the start, minor units.
    pub revenue: i64,
    /// Revenue per member in major units (e.g. CHF).
    pub revenue_per_member: Option<f64>,
    pub redemption_revenue: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Cell {
    pub key: String,
    pub target: GroupFigures,
    pub control: GroupFigures,
    /// Target minus control purchase rate, with its 95 % interval (when both groups have members).
    pub purchase_rate_uplift: Option<Estimate>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Results {
    pub target: GroupFigures,
    pub control: GroupFigures,
    /// Difference of purchase rates (target − control), normal approximation.
    pub purchase_rate_uplift: Option<Estimate>,
    /// Difference of revenue per member (major units), Welch's interval.
    pub revenue_per_member_uplift: Option<Estimate>,
    /// By the first digit of the RFM code at the start (`R5` … `R1`), or `unscored`.
    pub by_rfm: Vec<Cell>,
    /// By sales receipts in the 12 months before the start: `0`, `1`, `2-3`, `4-10`, `>10`.
    pub by_orders: Vec<Cell>,
    /// By net revenue in the 12 months before the start: `<500`, `500-1499`, `>=1500` (CHF).
    pub by_revenue: Vec<Cell>,
}

/// The RFM group of a code: its recency digit (`R5` = bought most recently), or `unscored`.
pub fn rfm_group(rfm: Option<&str>) -> String {
    match rfm
        .and_then(|c| c.chars().next())
        .filter(char::is_ascii_digit)
    {
        Some(d) => format!("R{d}"),
        None => "unscored".into(),
    }
}

pub fn orders_band(orders: i64) -> &'static str {
    match orders {
        i64::MIN..=0 => "0",
        1 => "1",
        2..=3 => "2-3",
        4..=10 => "4-10",
        _ => ">10",
    }
}

/// Revenue bands in major units (CHF 500 = 50,000 minor units).
pub fn revenue_band(minor: i64) -> &'static str {
    match minor {
        i64::MIN..50_000 => "<500",
        50_000..150_000 => "500-1499",
        _ => ">=1500",
    }
}

const Z95: f64 = 1.959_963_984_540_054;

/// The 97.5 % quantile of Student's t with `df` degrees of freedom (Cornish-Fisher expansion
/// around the normal quantile; within 0.2 % of the exact value from 3 degrees of freedom on).
pub fn t975(df: f64) -> f64 {
    if !df.is_finite() || df > 1e7 {
        return Z95;
    }
    let df = df.max(1.0);
    let z = Z95;
    let (z3, z5, z7) = (z.powi(3), z.powi(5), z.powi(7));
    z + (z3 + z) / (4.0 * df)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * df * df)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * df.powi(3))
}

/// Difference of two proportions `x1/n1 − x2/n2` with the normal (Wald) interval.
pub fn diff_of_proportions(x1: i64, n1: i64, x2: i64, n2: i64) -> Option<Estimate> {
    if n1 <= 0 || n2 <= 0 {
        return None;
    }
    let (p1, p2) = (x1 as f64 / n1 as f64, x2 as f64 / n2 as f64);
    let se = (p1 * (1.0 - p1) / n1 as f64 + p2 * (1.0 - p2) / n2 as f64).sqrt();
    let d = p1 - p2;
    Some(Estimate {
        value: d,
        low: d - Z95 * se,
        high: d + Z95 * se,
    })
}

/// Sum, sum of squares and count of values in minor units, kept exact as integers; converted
/// to f64 only for the statistics.
#[derive(Debug, Clone, Copy, Default)]
pub struct Moments {
    pub n: i64,
    pub sum: i128,
    pub sum_sq: i128,
}

impl Moments {
    pub fn add(&mut self, x: i64) {
        self.n += 1;
        self.sum += i128::from(x);
        self.sum_sq += i128::from(x) * i128::from(x);
    }

    fn mean(&self) -> f64 {
        self.sum as f64 / self.n as f64
    }

    /// The unbiased sample variance, computed from exact integer sums.
    fn variance(&self) -> f64 {
        if self.n < 2 {
            return 0.0;
        }
        let n = i128::from(self.n);
        // n·Σx² − (Σx)² is exact in integers; one division at the end.
        let num = n * self.sum_sq - self.sum * self.sum;
        num as f64 / (n * (n - 1)) as f64
    }
}

/// Difference of means `mean(a) − mean(b)` with Welch's interval, in the units of the values
/// divided by `scale` (100 for minor → major units).
pub fn welch(a: &Moments, b: &Moments, scale: f64) -> Option<Estimate> {
    if a.n < 2 || b.n < 2 {
        return None;
    }
    let (va, vb) = (
        a.variance() / a.n as f64 / (scale * scale),
        b.variance() / b.n as f64 / (scale * scale),
    );
    let d = (a.mean() - b.mean()) / scale;
    let se = (va + vb).sqrt();
    if se == 0.0 {
        return Some(Estimate {
            value: d,
            low: d,
            high: d,
        });
    }
    let df = (va + vb).powi(2)
        / (va * va / (a.n - 1) as f64 + vb * vb / (b.n - 1) as f64).max(f64::MIN_POSITIVE);
    let t = t975(df);
    Some(Estimate {
        value: d,
        low: d - t * se,
        high: d + t * se,
    })
}

#[derive(Default)]
struct Acc {
    target: GroupFigures,
    control: GroupFigures,
    target_revenue: Moments,
    control_revenue: Moments,
}

fn ratio(x: i64, n: i64) -> Option<f64> {
    (n > 0).then(|| x as f64 / n as f64)
}

impl Acc {
    fn add(&mut self, o: &Outcome) {
        let (g, m) = if o.control {
            (&mut self.control, &mut self.control_revenue)
        } else {
            (&mut self.target, &mut self.target_revenue)
        };
        g.members += 1;
        g.vouchers += i64::from(o.voucher);
        g.redeemed += i64::from(o.redeemed);
        g.buyers += i64::from(o.purchases > 0);
        g.revenue += o.revenue;
        g.redemption_revenue += o.redemption_revenue;
        m.add(o.revenue);
    }

    fn finish(mut self) -> Self {
        for g in [&mut self.target, &mut self.control] {
            g.redemption_rate = ratio(g.redeemed, g.vouchers);
            g.purchase_rate = ratio(g.buyers, g.members);
            g.revenue_per_member = ratio(g.revenue, g.members).map(|r| r / 100.0);
        }
        self
    }

    fn cell(self, key: String) -> Cell {
        let a = self.finish();
        Cell {
            key,
            purchase_rate_uplift: diff_of_proportions(
                a.target.buyers,
                a.target.members,
                a.control.buyers,
                a.control.members,
            ),
            target: a.target,
            control: a.control,
        }
    }
}

fn cells(map: BTreeMap<(usize, String), Acc>) -> Vec<Cell> {
    map.into_iter().map(|((_, k), a)| a.cell(k)).collect()
}

/// The campaign's results from each member's facts.
pub fn results(outcomes: &[Outcome]) -> Results {
    let mut all = Acc::default();
    let mut by_rfm: BTreeMap<(usize, String), Acc> = BTreeMap::new();
    let mut by_orders: BTreeMap<(usize, String), Acc> = BTreeMap::new();
    let mut by_revenue: BTreeMap<(usize, String), Acc> = BTreeMap::new();
    const ORDERS: [&str; 5] = ["0", "1", "2-3", "4-10", ">10"];
    const REVENUE: [&str; 3] = ["<500", "500-1499", ">=1500"];
    for o in outcomes {
        all.add(o);
        let rfm = rfm_group(o.rfm.as_deref());
        // R5 first (most recent buyers), `unscored` last.
        let rank = rfm
            .strip_prefix('R')
            .and_then(|d| d.parse::<usize>().ok())
            .map_or(10, |d| 9 - d.min(9));
        by_rfm.entry((rank, rfm)).or_default().add(o);
        let ob = orders_band(o.orders_12m);
        let oi = ORDERS.iter().position(|b| *b == ob).unwrap_or(0);
        by_orders.entry((oi, ob.to_string())).or_default().add(o);
        let rb = revenue_band(o.revenue_12m);
        let ri = REVENUE.iter().position(|b| *b == rb).unwrap_or(0);
        by_revenue.entry((ri, rb.to_string())).or_default().add(o);
    }
    let a = all.finish();
    Results {
        purchase_rate_uplift: diff_of_proportions(
            a.target.buyers,
            a.target.members,
            a.control.buyers,
            a.control.members,
        ),
        revenue_per_member_uplift: welch(&a.target_revenue, &a.control_revenue, 100.0),
        target: a.target,
        control: a.control,
        by_rfm: cells(by_rfm),
        by_orders: cells(by_orders),
        by_revenue: cells(by_revenue),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reach() -> Reach {
        Reach {
            preferred_channel: None,
            has_email: true,
            email_consent: Some("granted".into()),
            letter_consent: Some("granted".into()),
            postal_status: Some("ok".into()),
            ..Reach::default()
        }
    }

    const BOTH: &[Channel] = &[Channel::Email, Channel::Letter];

    #[test]
    fn a_usable_preference_wins() {
        let mut r = reach();
        r.preferred_channel = Some("letter".into());
        r.inbound_email = 5;
        assert_eq!(choose_channel(&r, BOTH), Choice::Contact(Channel::Letter));
    }

    #[test]
    fn an_unusable_preference_falls_back_to_history_then_email_then_letter() {
        let mut r = reach();
        r.preferred_channel = Some("email".into());
        r.email_consent = Some("revoked".into());
        assert_eq!(choose_channel(&r, BOTH), Choice::Contact(Channel::Letter));
        let mut r = reach();
        r.preferred_channel = Some("sms".into());
        assert_eq!(choose_channel(&r, BOTH), Choice::Contact(Channel::Email));
        r.inbound_letter = 2;
        r.inbound_email = 1;
        assert_eq!(choose_channel(&r, BOTH), Choice::Contact(Channel::Letter));
        // The campaign does not send letters: the preference is not usable.
        let mut r = reach();
        r.preferred_channel = Some("letter".into());
        assert_eq!(
            choose_channel(&r, &[Channel::Email]),
            Choice::Contact(Channel::Email)
        );
    }

    #[test]
    fn without_preference_the_history_decides_ties_go_to_email() {
        let mut r = reach();
        r.inbound_letter = 3;
        assert_eq!(choose_channel(&r, BOTH), Choice::Contact(Channel::Letter));
        r.inbound_email = 3;
        assert_eq!(choose_channel(&r, BOTH), Choice::Contact(Channel::Email));
        // A channel they used but that is not consented does not count.
        r.email_consent = None;
        assert_eq!(choose_channel(&r, BOTH), Choice::Contact(Channel::Letter));
    }

    #[test]
    fn default_order_is_email_then_letter() {
        let r = reach();
        assert_eq!(choose_channel(&r, BOTH), Choice::Contact(Channel::Email));
        let mut r = reach();
        r.has_email = false;
        assert_eq!(choose_channel(&r, BOTH), Choice::Contact(Channel::Letter));
    }

    #[test]
    fn unreachable_members_carry_their_reasons() {
        let mut r = reach();
        r.reported_deceased = true;
        assert_eq!(
            choose_channel(&r, BOTH),
            Choice::Unreachable("deceased".into())
        );
        let mut r = reach();
        r.email_consent = Some("revoked".into());
        r.postal_status = Some("research".into());
        assert_eq!(
            choose_channel(&r, BOTH),
            Choice::Unreachable("no_email_consent+address_research".into())
        );
        let mut r = reach();
        r.has_email = false;
        r.postal_ads_blocked = true;
        assert_eq!(
            choose_channel(&r, BOTH),
            Choice::Unreachable("no_email_address+postal_ads_blocked".into())
        );
        let mut r = reach();
        r.letter_consent = None;
        assert_eq!(
            choose_channel(&r, &[Channel::Letter]),
            Choice::Unreachable("no_letter_consent".into())
        );
        r.postal_status = None;
        assert_eq!(
            choose_channel(&r, &[Channel::Letter]),
            Choice::Unreachable("no_address".into())
        );
    }

    #[test]
    fn inbound_channels_are_read_from_channel_or_kind() {
        assert_eq!(inbound_channel(None, "email"), Some(Channel::Email));
        assert_eq!(
            inbound_channel(Some("Letter"), "note"),
            Some(Channel::Letter)
        );
        assert_eq!(inbound_channel(Some("phone"), "call"), None);
        assert_eq!(inbound_channel(Some(""), "letter"), Some(Channel::Letter));
    }

    #[test]
    fn the_control_group_has_the_exact_size_and_is_reproducible() {
        let members: Vec<i64> = (1..=1234).map(|i| i * 7).collect();
        let a = draw_control(99, 1000, &members);
        assert_eq!(a.len(), 123);
        assert_eq!(control_size(1000, 1235), 124); // 123.5 rounds up
        assert_eq!(control_size(0, 10), 0);
        assert_eq!(control_size(10_000, 10), 10);
        let mut shuffled = members.clone();
        shuffled.reverse();
        assert_eq!(draw_control(99, 1000, &shuffled), a);
        let b = draw_control(100, 1000, &members);
        assert_ne!(a, b);
        assert!(a.iter().all(|c| members.contains(c)));
        // Roughly uniform: about a tenth of the lower half of ids.
        let low = a.iter().filter(|&&c| c <= 617 * 7).count();
        assert!((40..=85).contains(&low), "{low}");
    }

    #[test]
    fn marketing_may_run_campaigns_and_the_store_may_not() {
        use crate::auth::{Role, allows};
        assert!(allows(Role::Marketing.scopes(), "campaigns:write"));
        assert!(allows(Role::Marketing.scopes(), "segments:read"));
        assert!(!allows(Role::Store.scopes(), "campaigns:write"));
        assert!(!allows(Role::Service.scopes(), "campaigns:write"));
    }

    #[test]
    fn bands() {
        assert_eq!(orders_band(0), "0");
        assert_eq!(orders_band(1), "1");
        assert_eq!(orders_band(3), "2-3");
        assert_eq!(orders_band(10), "4-10");
        assert_eq!(orders_band(11), ">10");
        assert_eq!(revenue_band(49_999), "<500");
        assert_eq!(revenue_band(50_000), "500-1499");
        assert_eq!(revenue_band(149_999), "500-1499");
        assert_eq!(revenue_band(150_000), ">=1500");
        assert_eq!(rfm_group(Some("545")), "R5");
        assert_eq!(rfm_group(None), "unscored");
    }

    #[test]
    fn t_quantiles_are_close_to_the_tables() {
        for (df, t) in [(3.0, 3.182), (5.0, 2.571), (10.0, 2.228), (30.0, 2.042)] {
            assert!((t975(df) - t).abs() / t < 0.01, "df {df}: {}", t975(df));
        }
        assert!((t975(1e9) - 1.96).abs() < 0.001);
    }

    #[test]
    fn proportions_and_welch_match_hand_computation() {
        // 30/100 vs 20/100: d = 0.1, se = sqrt(0.21/100 + 0.16/100) = 0.060828
        let e = diff_of_proportions(30, 100, 20, 100).unwrap();
        assert!((e.value - 0.1).abs() < 1e-12);
        assert!((e.high - (0.1 + 1.959964 * 0.060_827_6)).abs() < 1e-5);
        assert!(diff_of_proportions(1, 0, 1, 1).is_none());
        // a = {100, 200, 300}, b = {100, 100}: means 2.00 and 1.00 CHF.
        let mut a = Moments::default();
        let mut b = Moments::default();
        for x in [100, 200, 300] {
            a.add(x);
        }
        for x in [100, 150] {
            b.add(x);
        }
        // var a = 10000 (minor²) → 1.0 CHF², /3; var b = 1250 → 0.125, /2
        let e = welch(&a, &b, 100.0).unwrap();
        assert!((e.value - 0.75).abs() < 1e-12);
        let va: f64 = 1.0 / 3.0;
        let vb: f64 = 0.125 / 2.0;
        let se = (va + vb).sqrt();
        let df = (va + vb).powi(2) / (va * va / 2.0 + vb * vb / 1.0);
        assert!((e.high - (0.75 + t975(df) * se)).abs() < 1e-9);
    }

    #[test]
    fn results_count_groups_and_bands() {
        let mut v = Vec::new();
        for i in 0..10 {
            v.push(Outcome {
                control: false,
                voucher: true,
                redeemed: i < 3,
                redemption_revenue: if i < 3 { 5_000 } else { 0 },
                purchases: i64::from(i < 5),
                revenue: if i < 5 { 10_000 } else { 0 },
                rfm: (i % 2 == 0).then(|| "512".to_string()),
                orders_12m: i,
                revenue_12m: i * 20_000,
            });
        }
        for i in 0..4 {
            v.push(Outcome {
                control: true,
                purchases: i64::from(i == 0),
                revenue: if i == 0 { 10_000 } else { 0 },
                ..Outcome::default()
            });
        }
        let r = results(&v);
        assert_eq!(r.target.members, 10);
        assert_eq!(r.target.redeemed, 3);
        assert_eq!(r.target.redemption_rate, Some(0.3));
        assert_eq!(r.target.redemption_revenue, 15_000);
        assert_eq!(r.target.purchase_rate, Some(0.5));
        assert_eq!(r.target.revenue_per_member, Some(50.0));
        assert_eq!(r.control.redemption_rate, None);
        assert_eq!(r.control.purchase_rate, Some(0.25));
        assert!((r.purchase_rate_uplift.unwrap().value - 0.25).abs() < 1e-12);
        assert!((r.revenue_per_member_uplift.unwrap().value - 25.0).abs() < 1e-9);
        let keys: Vec<&str> = r.by_rfm.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["R5", "unscored"]);
        let keys: Vec<&str> = r.by_orders.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["0", "1", "2-3", "4-10"]);
        let b0 = &r.by_orders[0];
        assert_eq!((b0.target.members, b0.control.members), (1, 4));
        let keys: Vec<&str> = r.by_revenue.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["<500", "500-1499", ">=1500"]);
    }
}
