//! A labelled quality set: realistic customers whose true identity is known, with duplicates
//! entered the way they are entered at a till or in a web shop, and with the records that must
//! *not* be taken for duplicates (family members at one address, namesakes elsewhere). It
//! measures the rules with precision and recall instead of a handful of hand-picked pairs.

mod variants;

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::record::DedupRecord;
use super::scan::{DEFAULT_MAX_BLOCK, scan};
use crate::contact::fold;
use crate::customer::{Address, CustomerData, Kind, Phone};
use crate::demo::{DemoRng, demo_customer};

/// Precision and recall of the duplicate rules on a labelled set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quality {
    /// Pairs of records of the same person.
    pub true_pairs: u64,
    /// Pairs the scan reported as likely duplicates.
    pub found_pairs: u64,
    /// Reported pairs that are true pairs.
    pub correct_pairs: u64,
    /// correct / found (1.0 if nothing was found).
    pub precision: f64,
    /// correct / true (1.0 if there is nothing to find).
    pub recall: f64,
    /// Pairs the scan compared.
    pub comparisons: u64,
}

/// Scans `set` (with [`DEFAULT_MAX_BLOCK`]) and scores the reported pairs against the labels.
pub fn evaluate(set: &[(DedupRecord, u64)], threshold: u32) -> Quality {
    let records: Vec<DedupRecord> = set.iter().map(|(r, _)| r.clone()).collect();
    let result = scan(&records, threshold, DEFAULT_MAX_BLOCK);
    let mut per_person: HashMap<u64, u64> = HashMap::new();
    for (_, id) in set {
        *per_person.entry(*id).or_default() += 1;
    }
    let true_pairs: u64 = per_person.values().map(|n| n * (n - 1) / 2).sum();
    let found_pairs = result.pairs.len() as u64;
    let correct_pairs = result
        .pairs
        .iter()
        .filter(|(i, j, _)| set.get(*i).map(|x| x.1) == set.get(*j).map(|x| x.1))
        .count() as u64;
    let ratio = |num: u64, den: u64| {
        if den == 0 {
            1.0
        } else {
            num as f64 / den as f64
        }
    };
    Quality {
        true_pairs,
        found_pairs,
        correct_pairs,
        precision: ratio(correct_pairs, found_pairs),
        recall: ratio(correct_pairs, true_pairs),
        comparisons: result.comparisons,
    }
}

/// A person as the generator knows them, before being entered as a customer record.
#[derive(Debug, Clone)]
struct Person {
    first: String,
    last: String,
    birth: Option<NaiveDate>,
    email: Option<String>,
    phone: Option<String>,
    street: String,
    house_number: String,
    postcode: String,
    city: String,
    country: String,
}

impl Person {
    /// The record as the store would hold it: through `CustomerData` and
    /// [`DedupRecord::from_data`], like a real customer.
    fn record(&self) -> DedupRecord {
        let data = CustomerData {
            kind: Kind::Person,
            first_name: Some(self.first.clone()),
            last_name: Some(self.last.clone()),
            birth_date: self.birth,
            email: self.email.clone(),
            phones: self
                .phone
                .iter()
                .map(|n| Phone {
                    kind: "mobile".into(),
                    number: n.clone(),
                })
                .collect(),
            addresses: vec![Address {
                kind: "main".into(),
                street: self.street.clone(),
                house_number: Some(self.house_number.clone()),
                address_line2: None,
                postcode: self.postcode.clone(),
                city: self.city.clone(),
                country: self.country.clone(),
            }],
            ..Default::default()
        };
        DedupRecord::from_data(&data)
    }
}

/// Demo persons one after another (organizations skipped): the source of every name, birth
/// date, address and phone number in the set.
struct Source {
    seed: u64,
    next: u64,
}

impl Source {
    fn person(&mut self) -> Person {
        loop {
            let c = demo_customer(self.seed, self.next, 0);
            self.next += 1;
            if let (Some(first), Some(last)) = (c.first_name, c.last_name) {
                return Person {
                    first,
                    last,
                    birth: c.birth_date,
                    email: c.email,
                    phone: c.phone,
                    street: c.street,
                    house_number: c.house_number,
                    postcode: c.postcode,
                    city: c.city,
                    country: c.country.to_string(),
                };
            }
        }
    }

    /// A fresh e-mail address for `first last`, unique through the running number.
    fn email(&mut self, rng: &mut DemoRng, first: &str, last: &str) -> String {
        const DOMAINS: [&str; 4] = ["example.ch", "example.de", "example.com", "example.net"];
        self.next += 1;
        format!(
            "{}.{}{}@{}",
            slug(first),
            slug(last),
            self.next + 500_000,
            rng.pick(&DOMAINS)
        )
    }
}

/// Lower-case ASCII letters of a name, for e-mail addresses ("Müller-Lüdenscheidt" →
/// "mueller-luedenscheidt").
fn slug(s: &str) -> String {
    fold(s)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// `persons` distinct people and, for about 30% of them, one or two duplicate records; each
/// record is labelled with the id of the person it belongs to.
///
/// About a third of the people live with one or two family members at the same address, who
/// mostly share the surname and sometimes the phone or the e-mail address; about 4% have a
/// namesake (same first and last name) in another town. Demo names are drawn by frequency, so
/// "Daniel Müller" occurs many times anyway. Duplicates drop the e-mail address or the phone
/// now and then (not given again at the till) and carry one or two of: another spelling of the
/// name, another spelling of the street, first and last name swapped, a typo, a move to a new
/// address (keeping the e-mail, phone or birth date), no birth date, another e-mail address,
/// no phone.
pub fn labelled_set(seed: u64, persons: usize) -> Vec<(DedupRecord, u64)> {
    let mut rng = DemoRng::new(seed ^ 0x4455_504C_4943_4154);
    let mut source = Source { seed, next: 0 };
    let mut people: Vec<Person> = Vec::with_capacity(persons);
    while people.len() < persons {
        let head = source.person();
        people.push(head.clone());
        let r = rng.below(100);
        let members = if r < 8 {
            2
        } else if r < 33 {
            1
        } else {
            0
        };
        for _ in 0..members {
            if people.len() < persons {
                let member = family_member(&mut rng, &mut source, &head);
                people.push(member);
            }
        }
        if people.len() < persons && rng.chance(4, 100) {
            let other = namesake(&mut rng, &mut source, &head);
            people.push(other);
        }
    }
    let mut set = Vec::with_capacity(persons + persons / 2);
    for (id, person) in people.iter().enumerate() {
        let id = id as u64;
        set.push((person.record(), id));
        if rng.chance(30, 100) {
            let copies = if rng.chance(25, 100) { 2 } else { 1 };
            for _ in 0..copies {
                set.push((duplicate(&mut rng, &mut source, person).record(), id));
            }
        }
    }
    set
}

/// Someone else living at `head`'s address: a partner or a grown-up child.
fn family_member(rng: &mut DemoRng, source: &mut Source, head: &Person) -> Person {
    // From the same country, so that their own phone number has the household's prefix.
    let mut other = source.person();
    for _ in 0..20 {
        if other.country == head.country {
            break;
        }
        other = source.person();
    }
    let last = if rng.chance(85, 100) {
        head.last.clone()
    } else {
        other.last.clone()
    };
    let email = if head.email.is_some() && rng.chance(15, 100) {
        head.email.clone()
    } else if other.email.is_some() {
        Some(source.email(rng, &other.first, &last))
    } else {
        None
    };
    let phone = if head.phone.is_some() && rng.chance(30, 100) {
        head.phone.clone()
    } else {
        other.phone.clone()
    };
    Person {
        first: other.first,
        last,
        birth: other.birth,
        email,
        phone,
        ..head.clone()
    }
}

/// Someone of the same first and last name, living in another town.
fn namesake(rng: &mut DemoRng, source: &mut Source, head: &Person) -> Person {
    let mut other = source.person();
    for _ in 0..5 {
        if other.city != head.city {
            break;
        }
        other = source.person();
    }
    let email = other
        .email
        .is_some()
        .then(|| source.email(rng, &head.first, &head.last));
    Person {
        first: head.first.clone(),
        last: head.last.clone(),
        email,
        ..other
    }
}

/// The kinds of difference between a duplicate and the original record.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Variant {
    Spelling,
    Street,
    Swapped,
    Typo,
    Moved,
    NoBirthDate,
    OtherEmail,
    NoPhone,
}

/// The same person entered again, with one or two [`Variant`]s.
fn duplicate(rng: &mut DemoRng, source: &mut Source, p: &Person) -> Person {
    let mut d = p.clone();
    // Contact details are often not given again, at a till even less than online.
    if rng.chance(25, 100) {
        d.email = None;
    }
    if rng.chance(25, 100) {
        d.phone = None;
    }
    let mut options = vec![
        Variant::Spelling,
        Variant::Street,
        Variant::Swapped,
        Variant::Typo,
        Variant::Moved,
        Variant::OtherEmail,
    ];
    if p.birth.is_some() {
        options.push(Variant::NoBirthDate);
    }
    if d.phone.is_some() {
        options.push(Variant::NoPhone);
    }
    let mut chosen = vec![*rng.pick(&options)];
    if rng.chance(40, 100) {
        options.retain(|v| !chosen.contains(v));
        chosen.push(*rng.pick(&options));
    }
    // A move replaces the whole address, so it goes last: a street variant before it is moot.
    chosen.sort_by_key(|v| *v == Variant::Moved);
    for v in &chosen {
        match v {
            Variant::Spelling => {
                if rng.chance(70, 100) {
                    d.last = variants::spelling(rng, &d.last);
                } else {
                    d.first = variants::spelling(rng, &d.first);
                }
            }
            Variant::Street => {
                (d.street, d.house_number) = variants::street(rng, &d.street, &d.house_number);
            }
            Variant::Swapped => std::mem::swap(&mut d.first, &mut d.last),
            Variant::Typo => {
                if rng.chance(60, 100) {
                    d.last = variants::typo(rng, &d.last);
                } else {
                    d.first = variants::typo(rng, &d.first);
                }
            }
            Variant::Moved => moved(rng, source, p, &mut d),
            Variant::NoBirthDate => d.birth = None,
            // Made from the real name: nobody's new address carries the typo of this record.
            Variant::OtherEmail => d.email = Some(source.email(rng, &p.first, &p.last)),
            Variant::NoPhone => d.phone = None,
        }
    }
    d
}

/// A new address; the e-mail address and the phone often change with it, but at least one of
/// them or the birth date stays (otherwise nothing could tell the person from a namesake).
fn moved(rng: &mut DemoRng, source: &mut Source, p: &Person, d: &mut Person) {
    let new_home = source.person();
    d.street = new_home.street;
    d.house_number = new_home.house_number;
    d.postcode = new_home.postcode;
    d.city = new_home.city;
    d.country = new_home.country;
    if rng.chance(30, 100) {
        d.email = None;
    }
    if rng.chance(40, 100) {
        d.phone = None;
    }
    if d.email.is_none() && d.phone.is_none() && d.birth.is_none() {
        let mut kept: Vec<u8> = Vec::new();
        if p.email.is_some() {
            kept.push(0);
        }
        if p.phone.is_some() {
            kept.push(1);
        }
        if p.birth.is_some() {
            kept.push(2);
        }
        if !kept.is_empty() {
            match rng.pick(&kept) {
                0 => d.email = p.email.clone(),
                1 => d.phone = p.phone.clone(),
                _ => d.birth = p.birth,
            }
        }
    }
}
