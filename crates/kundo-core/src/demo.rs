//! Deterministic, realistic demo data for a Swiss/German/Austrian retail chain.
//!
//! Everything is a pure function of its inputs: [`demo_stores`] depends only on the number of
//! stores, and [`demo_customer`] only on `(seed, index, n_stores)`, so a data set can be
//! generated in parallel, in chunks, or resumed half-way. Names, postcodes, cities and streets
//! come from static tables of real data (see `demo/data.rs`); e-mail addresses only use the
//! reserved `example.*` domains.

mod data;
#[cfg(test)]
mod tests;

use std::fmt::Write as _;
use std::sync::OnceLock;

use chrono::NaiveDate;

use data::{
    AT_PLACES, CH_PLACES, DE_BRANCHES, DE_FEMALE, DE_MALE, DE_PLACES, DE_SURNAMES, DE_TRADES,
    EN_FEMALE, EN_MALE, EN_SURNAMES, FR_FEMALE, FR_MALE, FR_SURNAMES, FR_TRADES, IT_FEMALE,
    IT_MALE, IT_SURNAMES, IT_TRADES, Name, Place, STORE_CITIES, UNISEX, total_weight,
};

// ---------------------------------------------------------------------------------------------
// Random numbers
// ---------------------------------------------------------------------------------------------

/// One SplitMix64 step: advances `state` and returns the next output.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Stateless 64-bit mixer (one SplitMix64 output for `x`).
fn mix64(x: u64) -> u64 {
    let mut state = x;
    splitmix64(&mut state)
}

/// Small, fast, deterministic PRNG (SplitMix64 seeding into xoshiro256**); not for secrets.
///
/// The output sequence for a given seed is fixed forever: demo data sets are reproducible.
#[derive(Debug, Clone)]
pub struct DemoRng {
    s: [u64; 4],
}

impl DemoRng {
    /// Generator whose whole output sequence is determined by `seed` (any value, 0 included).
    pub fn new(seed: u64) -> Self {
        let mut sm = seed;
        Self {
            s: [
                splitmix64(&mut sm),
                splitmix64(&mut sm),
                splitmix64(&mut sm),
                splitmix64(&mut sm),
            ],
        }
    }

    /// Next 64 uniformly distributed bits (xoshiro256**).
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in `0..n` (n > 0; return 0 for n == 0), without modulo bias worth mentioning.
    ///
    /// Lemire's multiply-and-shift with rejection, so the result is exactly uniform.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let mut m = u128::from(self.next_u64()) * u128::from(n);
        if (m as u64) < n {
            let threshold = n.wrapping_neg() % n;
            while (m as u64) < threshold {
                m = u128::from(self.next_u64()) * u128::from(n);
            }
        }
        (m >> 64) as u64
    }

    /// True with probability `num/den` (always false for `den == 0`, always true for `num >= den`).
    pub fn chance(&mut self, num: u32, den: u32) -> bool {
        if den == 0 {
            return false;
        }
        self.below(u64::from(den)) < u64::from(num)
    }

    /// A uniformly chosen element of `items`.
    ///
    /// # Panics
    /// If `items` is empty.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        assert!(!items.is_empty(), "DemoRng::pick needs a non-empty slice");
        &items[self.below(items.len() as u64) as usize]
    }

    /// Uniform `usize` in `0..n` (0 for n == 0).
    fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// Index into `weights` chosen with probability proportional to the weight.
    fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        let mut r = self.below(total);
        for (i, &w) in weights.iter().enumerate() {
            if r < u64::from(w) {
                return i;
            }
            r -= u64::from(w);
        }
        weights.len().saturating_sub(1)
    }
}

// ---------------------------------------------------------------------------------------------
// Stores
// ---------------------------------------------------------------------------------------------

/// One store of the demo chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoStore {
    /// Short code: city prefix plus running number, e.g. "ZH01", "ZH02", "BE01", "M01".
    pub code: String,
    /// Display name, e.g. "Zürich Bahnhofstrasse".
    pub name: String,
    /// Street name (without number).
    pub street: String,
    /// House number, e.g. "12" or "3a".
    pub house_number: String,
    /// Postcode, valid for `city`.
    pub postcode: String,
    /// City as the post office writes it.
    pub city: String,
    /// ISO 3166-1 alpha-2 country code: "CH", "DE" or "AT".
    pub country: String,
}

/// Country codes in the order of the place tables.
const COUNTRIES: [&str; 3] = ["CH", "DE", "AT"];
/// Place tables by country index.
const PLACE_TABLES: [&[Place]; 3] = [CH_PLACES, DE_PLACES, AT_PLACES];
/// Region bit (see `data::CH`, ...) by country index.
const REGION_MASKS: [u8; 3] = [data::CH, data::DE, data::AT];
/// Total customer weight of each place table.
const PLACE_TOTALS: [u32; 3] = [
    total_weight(CH_PLACES),
    total_weight(DE_PLACES),
    total_weight(AT_PLACES),
];
/// Share of customers per country in percent (CH, DE, AT).
const COUNTRY_WEIGHTS: [u32; 3] = [65, 30, 5];
/// Length of the store opening plan; stores beyond it repeat the plan.
const PLAN_LEN: usize = 500;

/// Precomputed store layout: which city each store number goes to, and for every customer
/// place the store cities ordered by distance.
struct StoreIndex {
    /// Per entry of [`STORE_CITIES`]: the places (indices into its country's table) of that city.
    city_places: Vec<Vec<usize>>,
    /// Per store city: positions in `plan` that belong to it (ascending).
    positions: Vec<Vec<usize>>,
    /// Store city of every store number `0..PLAN_LEN`.
    plan: Vec<usize>,
    /// For every plan position, how many earlier positions belong to the same city.
    rank: Vec<usize>,
    /// Per country, per place: store cities, nearest first.
    nearest: [Vec<Vec<usize>>; 3],
}

impl StoreIndex {
    fn get() -> &'static StoreIndex {
        static INDEX: OnceLock<StoreIndex> = OnceLock::new();
        INDEX.get_or_init(StoreIndex::build)
    }

    fn build() -> StoreIndex {
        let city_places: Vec<Vec<usize>> = STORE_CITIES
            .iter()
            .map(|sc| {
                PLACE_TABLES[sc.country]
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.city == sc.city)
                    .map(|(i, _)| i)
                    .collect()
            })
            .collect();

        // Sainte-Laguë apportionment: store number i goes to the city with the highest
        // weight / (2 * stores_so_far + 1); ties go to the earlier table entry.
        let mut seats = vec![0u64; STORE_CITIES.len()];
        let mut plan = Vec::with_capacity(PLAN_LEN);
        let mut rank = Vec::with_capacity(PLAN_LEN);
        let mut positions = vec![Vec::new(); STORE_CITIES.len()];
        for pos in 0..PLAN_LEN {
            let mut best = 0;
            for c in 1..STORE_CITIES.len() {
                let lhs = u64::from(STORE_CITIES[c].weight) * (2 * seats[best] + 1);
                let rhs = u64::from(STORE_CITIES[best].weight) * (2 * seats[c] + 1);
                if lhs > rhs {
                    best = c;
                }
            }
            plan.push(best);
            rank.push(positions[best].len());
            positions[best].push(pos);
            seats[best] += 1;
        }

        let centre = |country: usize, place: usize| {
            let p = &PLACE_TABLES[country][place];
            (f64::from(p.lat), f64::from(p.lon))
        };
        let store_centres: Vec<(f64, f64)> = STORE_CITIES
            .iter()
            .zip(&city_places)
            .map(|(sc, places)| centre(sc.country, places.first().copied().unwrap_or(0)))
            .collect();
        let nearest = std::array::from_fn(|country| {
            (0..PLACE_TABLES[country].len())
                .map(|place| {
                    let (lat, lon) = centre(country, place);
                    let mut order: Vec<(f64, usize)> = store_centres
                        .iter()
                        .enumerate()
                        .map(|(c, &(slat, slon))| {
                            // Equirectangular approximation; cos(50°) is close enough for
                            // comparing distances between 45° and 55° north.
                            let dx = (lon - slon) * 0.64;
                            let dy = lat - slat;
                            (dx * dx + dy * dy, c)
                        })
                        .collect();
                    order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                    order.into_iter().map(|(_, c)| c).collect()
                })
                .collect()
        });

        StoreIndex {
            city_places,
            positions,
            plan,
            rank,
            nearest,
        }
    }

    /// Number of stores city `sc` has among the first `n` stores.
    fn count(&self, sc: usize, n: usize) -> usize {
        let pos = &self.positions[sc];
        (n / PLAN_LEN) * pos.len() + pos.partition_point(|&p| p < n % PLAN_LEN)
    }

    /// Global store index of the `k`-th store (0-based) of city `sc`.
    fn global_index(&self, sc: usize, k: usize) -> usize {
        let pos = &self.positions[sc];
        (k / pos.len()) * PLAN_LEN + pos[k % pos.len()]
    }

    /// Store city and its per-city number (0-based) of global store `i`.
    fn locate(&self, i: usize) -> (usize, usize) {
        let sc = self.plan[i % PLAN_LEN];
        (
            sc,
            (i / PLAN_LEN) * self.positions[sc].len() + self.rank[i % PLAN_LEN],
        )
    }

    /// The `k`-th store (0-based) of store city `sc`.
    fn store(&self, sc: usize, k: usize) -> DemoStore {
        let city = &STORE_CITIES[sc];
        let places = &self.city_places[sc];
        let place = &PLACE_TABLES[city.country][places[k % places.len()]];
        let j = k / places.len();
        let street = place.streets[j % place.streets.len()];
        let round = j / place.streets.len();
        let mut rng = DemoRng::new(mix64(0x5354_4F52_4553 ^ ((sc as u64) << 32) ^ k as u64));
        // Each round gets its own number range, so names with numbers stay unique.
        let number = 1 + rng.below(40) + 40 * round as u64;
        let house_number = number.to_string();
        let name = if round == 0 {
            format!("{} {}", place.city, street)
        } else {
            format!("{} {} {}", place.city, street, house_number)
        };
        DemoStore {
            code: format!("{}{:02}", city.code, k + 1),
            name,
            street: street.to_string(),
            house_number,
            postcode: place.postcode.to_string(),
            city: place.city.to_string(),
            country: COUNTRIES[city.country].to_string(),
        }
    }

    /// A store among the first `n` in or nearest to the customer's place (`n > 0`).
    fn home_store(&self, rng: &mut DemoRng, country: usize, place: usize, n: usize) -> usize {
        for &sc in &self.nearest[country][place] {
            let count = self.count(sc, n);
            if count == 0 {
                continue;
            }
            let places = &self.city_places[sc];
            let np = places.len();
            // Prefer the city's stores in the customer's own postcode area.
            let own = (STORE_CITIES[sc].country == country)
                .then(|| places.iter().position(|&p| p == place))
                .flatten()
                .filter(|&pi| pi < count);
            let k = match own {
                Some(pi) => pi + np * rng.index((count - 1 - pi) / np + 1),
                None => rng.index(count),
            };
            return self.global_index(sc, k);
        }
        0
    }
}

/// `n` stores in real cities (codes like "ZH01", "ZH02", "BE01", "M01"...), deterministic; n up to 500 must work
/// (reuse cities with increasing numbers).
///
/// Stores are apportioned to cities by size (Zürich first, then Berlin, Geneva, Basel, ...),
/// and `demo_stores(n)` is always a prefix of `demo_stores(m)` for `m > n`, so store indices stay
/// valid when a data set grows. Any `n` works; codes and names are unique.
pub fn demo_stores(n: usize) -> Vec<DemoStore> {
    let index = StoreIndex::get();
    (0..n)
        .map(|i| {
            let (sc, k) = index.locate(i);
            index.store(sc, k)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Customers
// ---------------------------------------------------------------------------------------------

/// One generated customer, a person or an organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoCustomer {
    /// "person" (about 93%) or "organization".
    pub kind: &'static str,
    /// "Herr"/"Frau" (persons; "Madame"/"Monsieur" for French speakers), None for orgs
    /// and for persons of diverse gender.
    pub salutation: Option<&'static str>,
    /// Occasionally "Dr.", rarely "Prof. Dr." (persons of 27 and older only).
    pub title: Option<&'static str>,
    /// Persons only.
    pub first_name: Option<String>,
    /// Persons only (about 3% double names such as "Meier-Huber").
    pub last_name: Option<String>,
    /// Organisations only, e.g. "Meier Architektur AG", "Schreinerei Huber GmbH".
    pub company_name: Option<String>,
    /// Persons: ages 18..=89 on 2026-01-01, about 8% missing; 29 February occurs (leap years only).
    pub birth_date: Option<NaiveDate>,
    /// "female" | "male" | "diverse" (rare), matching the first name; None for orgs.
    pub gender: Option<&'static str>,
    /// "de" mostly, "fr" for Romandie postcodes, "it" for Ticino, "en" rare.
    pub language: &'static str,
    /// About 85%; lower-case ASCII derived from the name (umlauts transliterated), unique per
    /// index because it embeds `index + 1`; only example.ch/.de/.com/.net/.org domains.
    pub email: Option<String>,
    /// About 70%; E.164 mobile number of the customer's country
    /// (CH "+4179…" 9 digits after +41, DE "+49151…" 11 digits after +49, AT "+43664…").
    pub phone: Option<String>,
    /// A street that exists in that city.
    pub street: String,
    /// "12", "3a", "117", ...
    pub house_number: String,
    /// Real postcode of `city`.
    pub postcode: String,
    /// City as the post office writes it.
    pub city: String,
    /// "CH" (~65%), "DE" (~30%) or "AT" (~5%).
    pub country: &'static str,
    /// 13-digit EAN starting "29" with a correct check digit, unique per index (for indices
    /// below 10^10).
    pub card_number: String,
    /// "email" | "letter" | "sms" | "phone" | None; "email" only with an e-mail address,
    /// "sms"/"phone" only with a phone number.
    pub preferred_channel: Option<&'static str>,
    /// Only true if `email` is Some (always true when the preferred channel is e-mail).
    pub consent_email: bool,
    /// Consent to advertising letters (always true when the preferred channel is letter).
    pub consent_letter: bool,
    /// Index into `demo_stores(n_stores)`: a store in or nearest to the customer's city
    /// (0 when `n_stores == 0`).
    pub home_store: usize,
}

/// Customer number `index` (0-based) of a data set with seed `seed`; depends only on (seed, index, n_stores),
/// so generation can be split across threads and resumed.
///
/// `n_stores` only influences `home_store`; all other fields depend on `(seed, index)` alone.
pub fn demo_customer(seed: u64, index: u64, n_stores: usize) -> DemoCustomer {
    let mut rng = DemoRng::new(mix64(
        mix64(seed ^ 0x4B55_4E44_4F2D_4445).wrapping_add(index),
    ));

    let country = rng.weighted(&COUNTRY_WEIGHTS);
    let places = PLACE_TABLES[country];
    let place_no = pick_place(&mut rng, places, PLACE_TOTALS[country]);
    let place = &places[place_no];
    let region = REGION_MASKS[country];

    let is_org = rng.chance(7, 100);
    let language = if rng.chance(if is_org { 1 } else { 2 }, 100) {
        "en"
    } else {
        place.lang
    };

    let mut c = DemoCustomer {
        kind: if is_org { "organization" } else { "person" },
        salutation: None,
        title: None,
        first_name: None,
        last_name: None,
        company_name: None,
        birth_date: None,
        gender: None,
        language,
        email: None,
        phone: None,
        street: String::new(),
        house_number: String::new(),
        postcode: place.postcode.to_string(),
        city: place.city.to_string(),
        country: COUNTRIES[country],
        card_number: card_number(seed, index),
        preferred_channel: None,
        consent_email: false,
        consent_letter: false,
        home_store: 0,
    };

    let has_email = rng.chance(85, 100);
    let number = index.wrapping_add(1);
    if is_org {
        let (name, core) = company_name(&mut rng, language, country, region);
        if has_email {
            c.email = Some(org_email(&mut rng, &core, language, country, number));
        }
        c.company_name = Some(name);
    } else {
        let r = rng.below(1000);
        let gender = if r < 5 {
            "diverse"
        } else if r < 510 {
            "female"
        } else {
            "male"
        };
        let first = first_name(&mut rng, gender, language, country, region);
        let mut last = surname(&mut rng, language, country, region).to_string();
        if rng.chance(3, 100) {
            let second = surname(&mut rng, language, country, region);
            if second != last {
                last.push('-');
                last.push_str(second);
            }
        }
        let age = pick_age(&mut rng);
        let birth = birth_date(&mut rng, age);
        c.birth_date = (!rng.chance(8, 100)).then_some(birth);
        c.title = if age >= 35 && rng.chance(4, 1000) {
            Some("Prof. Dr.")
        } else if age >= 27 && rng.chance(3, 100) {
            Some("Dr.")
        } else {
            None
        };
        c.salutation = match (gender, language) {
            ("female", "fr") => Some("Madame"),
            ("male", "fr") => Some("Monsieur"),
            ("female", _) => Some("Frau"),
            ("male", _) => Some("Herr"),
            _ => None,
        };
        c.gender = Some(gender);
        if has_email {
            c.email = Some(person_email(&mut rng, first, &last, country, number));
        }
        c.first_name = Some(first.to_string());
        c.last_name = Some(last);
    }

    if rng.chance(70, 100) {
        c.phone = Some(phone(&mut rng, country));
    }
    c.street = rng.pick(place.streets).to_string();
    c.house_number = house_number(&mut rng);

    let has_phone = c.phone.is_some();
    let r = rng.below(100);
    c.preferred_channel = if has_email && r < 45 {
        Some("email")
    } else if r < 60 {
        Some("letter")
    } else if has_phone && r < 68 {
        Some("sms")
    } else if has_phone && r < 73 {
        Some("phone")
    } else {
        None
    };
    c.consent_email = has_email && (c.preferred_channel == Some("email") || rng.chance(55, 100));
    c.consent_letter = c.preferred_channel == Some("letter") || rng.chance(70, 100);

    // Last, so that n_stores influences nothing else.
    if n_stores > 0 {
        c.home_store = StoreIndex::get().home_store(&mut rng, country, place_no, n_stores);
    }
    c
}

/// Place index chosen by weight.
fn pick_place(rng: &mut DemoRng, places: &[Place], total: u32) -> usize {
    let mut r = rng.below(u64::from(total)) as u32;
    for (i, p) in places.iter().enumerate() {
        if r < p.weight {
            return i;
        }
        r -= p.weight;
    }
    places.len() - 1
}

/// A name from `table` that is common in `region`, favouring frequent names (rejection
/// sampling; every table has entries for every region).
fn pick_name(rng: &mut DemoRng, table: &[Name], region: u8) -> &'static str {
    loop {
        let entry = rng.pick(table);
        if entry.mask & region != 0 && rng.below(4) < u64::from(entry.weight) {
            return entry.name;
        }
    }
}

fn first_name(
    rng: &mut DemoRng,
    gender: &str,
    language: &str,
    country: usize,
    region: u8,
) -> &'static str {
    let female = gender == "female";
    let table = match gender {
        "diverse" => UNISEX,
        _ => match language {
            "fr" if rng.chance(75, 100) => gendered(female, FR_FEMALE, FR_MALE),
            "it" if rng.chance(80, 100) => gendered(female, IT_FEMALE, IT_MALE),
            "en" => gendered(female, EN_FEMALE, EN_MALE),
            // Romandie and Ticino names are common in German-speaking Switzerland, too.
            "de" if country == 0 && rng.chance(5, 100) => gendered(female, IT_FEMALE, IT_MALE),
            "de" if country == 0 && rng.chance(4, 100) => gendered(female, FR_FEMALE, FR_MALE),
            _ => gendered(female, DE_FEMALE, DE_MALE),
        },
    };
    pick_name(rng, table, region)
}

fn gendered<T>(female: bool, f: T, m: T) -> T {
    if female { f } else { m }
}

fn surname(rng: &mut DemoRng, language: &str, country: usize, region: u8) -> &'static str {
    let r = rng.below(100);
    let table = match language {
        "fr" if r < 60 => FR_SURNAMES,
        "fr" if r < 93 => DE_SURNAMES,
        "fr" => IT_SURNAMES,
        "it" if r < 75 => IT_SURNAMES,
        "it" if r < 95 => DE_SURNAMES,
        "it" => FR_SURNAMES,
        "en" if r < 85 => EN_SURNAMES,
        _ if country == 0 && r < 85 => DE_SURNAMES,
        _ if country == 0 && r < 94 => IT_SURNAMES,
        _ if country == 0 => FR_SURNAMES,
        _ if r < 97 => DE_SURNAMES,
        _ => IT_SURNAMES,
    };
    pick_name(rng, table, region)
}

/// Age on 2026-01-01, roughly following the adult population of the region.
fn pick_age(rng: &mut DemoRng) -> u32 {
    // (first age, last age, weight)
    const BANDS: [(u32, u32, u32); 7] = [
        (18, 24, 9),
        (25, 34, 17),
        (35, 44, 18),
        (45, 54, 18),
        (55, 64, 17),
        (65, 74, 12),
        (75, 89, 9),
    ];
    let weights = BANDS.map(|b| b.2);
    let (lo, hi, _) = BANDS[rng.weighted(&weights)];
    lo + rng.below(u64::from(hi - lo + 1)) as u32
}

/// A uniformly chosen date on which someone is exactly `age` on 2026-01-01,
/// i.e. in ((2025 - age)-01-02 ..= (2026 - age)-01-01).
fn birth_date(rng: &mut DemoRng, age: u32) -> NaiveDate {
    let age = age as i32;
    let (Some(first), Some(last)) = (
        NaiveDate::from_ymd_opt(2025 - age, 1, 2),
        NaiveDate::from_ymd_opt(2026 - age, 1, 1),
    ) else {
        unreachable!("ages 18..=89 give valid dates")
    };
    let span = (last - first).num_days() as u64 + 1;
    first
        .checked_add_days(chrono::Days::new(rng.below(span)))
        .unwrap_or(first)
}

/// Company name and its core (the name without the legal form, used for the e-mail address).
fn company_name(rng: &mut DemoRng, language: &str, country: usize, region: u8) -> (String, String) {
    let owner = surname(rng, language, country, region);
    let r = rng.below(100);
    let (core, legal) = match language {
        "fr" => {
            let core = if r < 55 {
                format!("{} {owner}", pick_name(rng, FR_TRADES, region))
            } else if r < 70 {
                format!("{owner} & Fils")
            } else if r < 80 {
                format!("{owner} Architectes")
            } else if r < 90 {
                format!("{owner} & Associés")
            } else {
                format!("{owner} Conseil")
            };
            (core, pick_legal(rng, &[("SA", 45), ("Sàrl", 45), ("", 10)]))
        }
        "it" => {
            let core = if r < 70 {
                format!("{} {owner}", pick_name(rng, IT_TRADES, region))
            } else if r < 85 {
                format!("{owner} & Figli")
            } else {
                format!("{owner} Consulenze")
            };
            (core, pick_legal(rng, &[("SA", 50), ("Sagl", 45), ("", 5)]))
        }
        _ => {
            let core = if r < 35 {
                format!("{} {owner}", pick_name(rng, DE_TRADES, region))
            } else if r < 72 {
                format!("{owner} {}", pick_name(rng, DE_BRANCHES, region))
            } else if r < 82 {
                let partner = surname(rng, language, country, region);
                if partner == owner {
                    format!("{owner} & Partner")
                } else {
                    format!("{owner} & {partner}")
                }
            } else if r < 90 {
                format!("{owner} & Partner")
            } else if r < 95 {
                format!("{owner} & Söhne")
            } else {
                owner.to_string()
            };
            let legal = match country {
                0 => pick_legal(rng, &[("AG", 40), ("GmbH", 48), ("", 12)]),
                1 => pick_legal(
                    rng,
                    &[
                        ("GmbH", 58),
                        ("GmbH & Co. KG", 12),
                        ("e.K.", 8),
                        ("AG", 5),
                        ("UG (haftungsbeschränkt)", 5),
                        ("", 12),
                    ],
                ),
                _ => pick_legal(
                    rng,
                    &[
                        ("GmbH", 65),
                        ("KG", 10),
                        ("OG", 10),
                        ("AG", 5),
                        ("e.U.", 5),
                        ("", 5),
                    ],
                ),
            };
            // A bare surname needs a legal form, or it reads like a person.
            let legal = match (legal, core == owner) {
                ("", true) if country == 0 => "AG",
                ("", true) => "GmbH",
                (legal, _) => legal,
            };
            (core, legal)
        }
    };
    let name = if legal.is_empty() {
        core.clone()
    } else {
        format!("{core} {legal}")
    };
    (name, core)
}

fn pick_legal(rng: &mut DemoRng, forms: &[(&'static str, u32)]) -> &'static str {
    let mut weights = [0u32; 8];
    for (w, f) in weights.iter_mut().zip(forms) {
        *w = f.1;
    }
    forms[rng.weighted(&weights[..forms.len()])].0
}

/// Appends `s` lower-cased and transliterated to ASCII letters ("Müller" → "mueller",
/// "Anaïs" → "anais"). Hyphens are kept (collapsed) if `keep_hyphen`, other characters
/// (spaces, apostrophes) dropped. With `word_sep`, runs of other characters become one '-'.
fn push_ascii(out: &mut String, s: &str, keep_hyphen: bool, word_sep: bool) {
    let mut pending_sep = false;
    for c in s.chars().flat_map(char::to_lowercase) {
        let t: &str = match c {
            'a'..='z' | '0'..='9' => {
                if pending_sep && !out.is_empty() && !out.ends_with(['-', '.', '_']) {
                    out.push('-');
                }
                pending_sep = false;
                out.push(c);
                continue;
            }
            'ä' | 'æ' => "ae",
            'ö' | 'œ' => "oe",
            'ü' => "ue",
            'ß' => "ss",
            'à' | 'á' | 'â' | 'ã' | 'å' => "a",
            'ç' | 'ć' | 'č' => "c",
            'è' | 'é' | 'ê' | 'ë' => "e",
            'ì' | 'í' | 'î' | 'ï' | 'ı' => "i",
            'ñ' => "n",
            'ò' | 'ó' | 'ô' | 'õ' | 'ø' => "o",
            'ù' | 'ú' | 'û' => "u",
            'ÿ' | 'ý' => "y",
            'š' | 'ş' => "s",
            'ž' => "z",
            'đ' => "d",
            'ğ' => "g",
            '-' if keep_hyphen || word_sep => {
                pending_sep = true;
                continue;
            }
            ' ' | '&' | '+' | '.' | '/' | '(' | ')' if word_sep => {
                pending_sep = true;
                continue;
            }
            _ => continue,
        };
        if pending_sep && !out.is_empty() && !out.ends_with(['-', '.', '_']) {
            out.push('-');
        }
        pending_sep = false;
        out.push_str(t);
    }
}

/// example.* domain for a customer of country index `country`.
fn email_domain(rng: &mut DemoRng, country: usize) -> &'static str {
    const DOMAINS: [&str; 5] = [
        "example.ch",
        "example.de",
        "example.com",
        "example.net",
        "example.org",
    ];
    let weights: [u32; 5] = match country {
        0 => [72, 0, 16, 8, 4],
        1 => [0, 72, 18, 8, 2],
        _ => [0, 30, 45, 20, 5],
    };
    DOMAINS[rng.weighted(&weights)]
}

/// "anna.mueller123@example.ch" and variants; `number` makes it unique.
fn person_email(rng: &mut DemoRng, first: &str, last: &str, country: usize, number: u64) -> String {
    let mut f = String::with_capacity(16);
    push_ascii(&mut f, first, true, false);
    let mut l = String::with_capacity(16);
    push_ascii(&mut l, last, true, false);
    let initial = &f[..1];
    let mut email = String::with_capacity(f.len() + l.len() + 32);
    match rng.below(100) {
        0..50 => write!(email, "{f}.{l}"),
        50..62 => write!(email, "{initial}.{l}"),
        62..74 => write!(email, "{f}{l}"),
        74..84 => write!(email, "{l}.{f}"),
        84..92 => write!(email, "{f}_{l}"),
        _ => write!(email, "{f}"),
    }
    .ok();
    let domain = email_domain(rng, country);
    write!(email, "{number}@{domain}").ok();
    email
}

/// "info.meier-architektur123@example.ch" and variants; `number` makes it unique.
fn org_email(rng: &mut DemoRng, core: &str, language: &str, country: usize, number: u64) -> String {
    let prefixes: &[&str] = match (language, country) {
        ("fr", _) => &["info", "contact", "admin"],
        ("it", _) => &["info", "contatto", "amministrazione"],
        (_, 2) => &["office", "info", "kontakt"],
        _ => &["info", "kontakt", "office", "buchhaltung"],
    };
    let mut slug = String::with_capacity(core.len() + 8);
    push_ascii(&mut slug, core, true, true);
    if slug.len() > 32 {
        slug.truncate(32);
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    let prefix = rng.pick(prefixes);
    let domain = email_domain(rng, country);
    format!("{prefix}.{slug}{number}@{domain}")
}

/// Mobile number in E.164 form for the country.
fn phone(rng: &mut DemoRng, country: usize) -> String {
    let (prefix, digits) = match country {
        0 => {
            const CH_MOBILE: [&str; 4] = ["+4179", "+4178", "+4176", "+4177"];
            (CH_MOBILE[rng.weighted(&[45, 22, 25, 8])], 7)
        }
        1 => {
            const DE_MOBILE: [&str; 12] = [
                "+49151", "+49152", "+49157", "+49159", "+49160", "+49162", "+49170", "+49171",
                "+49172", "+49176", "+49177", "+49179",
            ];
            (*rng.pick(&DE_MOBILE), 8)
        }
        _ => {
            const AT_MOBILE: [&str; 6] =
                ["+43664", "+43660", "+43676", "+43650", "+43699", "+43681"];
            (*rng.pick(&AT_MOBILE), 7)
        }
    };
    let mut s = String::with_capacity(prefix.len() + digits);
    s.push_str(prefix);
    // Subscriber numbers do not start with 0.
    s.push(char::from(b'1' + rng.below(9) as u8));
    for _ in 1..digits {
        s.push(char::from(b'0' + rng.below(10) as u8));
    }
    s
}

/// "12", "3a", "117": small numbers are far more common than large ones.
fn house_number(rng: &mut DemoRng) -> String {
    let n = match rng.below(100) {
        0..70 => 1 + rng.below(40),
        70..92 => 41 + rng.below(60),
        _ => 101 + rng.below(100),
    };
    let suffix = match rng.below(1000) {
        0..50 => "a",
        50..65 => "b",
        65..70 => "c",
        _ => "",
    };
    format!("{n}{suffix}")
}

/// "29" + 10 digits + EAN-13 check digit. The 10 digits are a seed-dependent bijection of
/// `index mod 10^10` (affine map, digit reversal, affine map), so numbers look random but
/// never repeat within a data set.
fn card_number(seed: u64, index: u64) -> String {
    const M: u64 = 10_000_000_000;
    let k1 = mix64(seed ^ 0x4341_5244_0001);
    let k2 = mix64(seed ^ 0x4341_5244_0002);
    // Multipliers must be coprime to 10 to be invertible modulo 10^10.
    let unit = |k: u64| {
        let a = (k % M) | 1;
        if a.is_multiple_of(5) { a + 2 } else { a }
    };
    let affine = |x: u64, k: u64| {
        ((u128::from(unit(k)) * u128::from(x) + u128::from((k >> 20) % M)) % u128::from(M)) as u64
    };
    let mut x = affine(index % M, k1);
    let mut reversed = 0;
    for _ in 0..10 {
        reversed = reversed * 10 + x % 10;
        x /= 10;
    }
    let x = affine(reversed, k2);
    let mut s = String::with_capacity(13);
    write!(s, "29{x:010}").ok();
    let sum: u32 = s
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    s.push(char::from(b'0' + ((10 - sum % 10) % 10) as u8));
    s
}
