//! Scoring a pair: every piece of evidence adds or removes points, and each one that counted is
//! named in the reasons, so staff can see why two records were put side by side.
//!
//! The weights follow from the cases that must come out right. A duplicate agrees on the person
//! (first name, surname, birth date) and on at least one of where and how to reach them
//! (address, email, phone). Family members agree on the surname and on where and how to reach
//! them, but not on the first name or the birth date; namesakes agree on the names only. So
//! the first name and the birth date weigh most when they differ, and address, email and phone
//! count with diminishing returns: a household shares all three, which makes them one piece of
//! evidence rather than three.

use chrono::Datelike;
use serde::Serialize;

use super::record::{DedupAddress, DedupRecord, NameKey, Prepared};

/// A pair with a score at or above this is a likely duplicate.
///
/// Matching first and last names alone give 45 (a namesake looks exactly like that), names plus
/// the same address, email or birth date give 65 to 70. 55 lies between; on
/// [`super::labelled_set`] precision and recall stay flat from 50 to 60 and fall off at 45
/// (namesakes) and at 65 (duplicates with a typo and a single further agreement).
pub const DEFAULT_THRESHOLD: u32 = 55;

/// The outcome of comparing two records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatchResult {
    /// 0..=100.
    pub score: u32,
    /// English, for staff: "same birth date", "surname sounds alike (Kölner Phonetik 657)", ...
    pub reasons: Vec<String>,
}

/// Compares two records: a score from 0 to 100 and the reasons behind it.
pub fn compare(a: &DedupRecord, b: &DedupRecord) -> MatchResult {
    compare_prepared(&Prepared::new(a), &Prepared::new(b))
}

/// Points and reasons gathered so far.
#[derive(Default)]
struct Evidence {
    points: i32,
    reasons: Vec<String>,
}

impl Evidence {
    fn add(&mut self, points: i32, reason: impl Into<String>) {
        self.points += points;
        self.reasons.push(reason.into());
    }
}

/// [`compare`] on prepared records (the scan prepares each record once).
pub(super) fn compare_prepared(a: &Prepared<'_>, b: &Prepared<'_>) -> MatchResult {
    let mut ev = Evidence::default();
    names(a, b, &mut ev);
    birth_dates(a.rec, b.rec, &mut ev);
    reachability(a.rec, b.rec, &mut ev);
    let score = u32::try_from(ev.points.clamp(0, 100)).unwrap_or(0);
    MatchResult {
        score,
        reasons: ev.reasons,
    }
}

/// How alike two names are, from the strongest to the weakest agreement.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Likeness {
    /// Equal once folded: case, umlaut spelling ("ü"/"ue"), hyphens.
    Same,
    /// Same Kölner Phonetik code and not too far apart in spelling ("Mueller"/"Muller"), or
    /// equal but for the umlaut dots ("Müller"/"Muller").
    SoundsAlike,
    /// A typo away (Jaro-Winkler value kept for the reason).
    Similar(f64),
    /// One name is part of the other ("Hans" / "Hans-Peter", "Meier" / "Meier-Huber").
    Part,
    /// One is an initial of the other ("H." / "Hans").
    Initial,
    /// One letter apart but too short to tell a typo from another name ("Lea" / "Lia").
    Near,
    /// The male and the female form of one name ("Stefan" / "Stefanie", "Mario" / "Maria"):
    /// alike in spelling, yet as a rule two people, often a couple.
    Stem,
    Different,
}

impl Likeness {
    /// Close enough to stand for the same name (not just a part or an initial).
    fn is_close(self) -> bool {
        matches!(
            self,
            Likeness::Same | Likeness::SoundsAlike | Likeness::Similar(_)
        )
    }
}

/// Jaro-Winkler from which two names count as a typo apart.
const SIMILAR_JW: f64 = 0.88;
/// A shared phonetic code alone is not enough: "Maria" and "Meier" share 67.
const SOUNDS_ALIKE_JW: f64 = 0.8;

/// How alike two names are; `first` enables the check for male and female forms.
///
/// Distances are taken on both folded forms ("ü" as "ue" and as "u"), the better one
/// counting: a slip onto the "ö" key is one letter off, not two.
fn likeness(x: &NameKey, y: &NameKey, first: bool) -> Likeness {
    if x.folded == y.folded {
        return Likeness::Same;
    }
    if first && male_and_female(&x.plain, &y.plain) {
        return Likeness::Stem;
    }
    if x.plain == y.plain {
        // "Müller" / "Muller": the same letters but for the umlaut dots, i.e. the same sound.
        return if x.code.is_empty() {
            Likeness::Same
        } else {
            Likeness::SoundsAlike
        };
    }
    let jw =
        strsim::jaro_winkler(&x.folded, &y.folded).max(strsim::jaro_winkler(&x.plain, &y.plain));
    if !x.code.is_empty() && x.code == y.code && jw >= SOUNDS_ALIKE_JW {
        return Likeness::SoundsAlike;
    }
    let edits =
        strsim::osa_distance(&x.folded, &y.folded).min(strsim::osa_distance(&x.plain, &y.plain));
    let longer = x.plain.chars().count().max(y.plain.chars().count());
    if jw >= SIMILAR_JW || (longer >= 4 && edits == 1) {
        return Likeness::Similar(jw);
    }
    let words = |k: &NameKey| k.folded.split(' ').map(str::to_string).collect::<Vec<_>>();
    let (wx, wy) = (words(x), words(y));
    let (short, long) = if wx.len() <= wy.len() {
        (&wx, &wy)
    } else {
        (&wy, &wx)
    };
    if short.len() < long.len() && short.iter().all(|w| long.contains(w)) {
        return Likeness::Part;
    }
    let initial = |k: &NameKey| k.folded.chars().count() == 1;
    if (initial(x) || initial(y)) && x.folded.chars().next() == y.folded.chars().next() {
        return Likeness::Initial;
    }
    if edits == 1 {
        return Likeness::Near;
    }
    Likeness::Different
}

/// Endings that turn a male first name into a female one ("Daniel" → "Daniela", "Christian" →
/// "Christiane", "Stefan" → "Stefanie", "Paul" → "Pauline", "Daniel" → "Danielle") or the other
/// way round ("Andrea" → "Andreas").
const GENDER_ENDINGS: &[&str] = &["a", "e", "ie", "ine", "le", "s"];

/// True for the male and the female form of one first name (folded, as `fold_plain`).
fn male_and_female(x: &str, y: &str) -> bool {
    let (short, long) = if x.len() <= y.len() { (x, y) } else { (y, x) };
    if short.chars().count() < 3 {
        return false;
    }
    if let Some(ending) = long.strip_prefix(short) {
        return GENDER_ENDINGS.contains(&ending);
    }
    // Italian "-o" / "-a": "Mario" / "Maria", "Carlo" / "Carla".
    match (x.strip_suffix('o'), y.strip_suffix('a')) {
        (Some(a), Some(b)) if a == b => return true,
        _ => {}
    }
    matches!((x.strip_suffix('a'), y.strip_suffix('o')), (Some(a), Some(b)) if a == b)
}

/// Which name is being compared: the weights and the wording differ.
#[derive(Clone, Copy)]
enum Part {
    First,
    Surname,
}

impl Part {
    fn noun(self) -> &'static str {
        match self {
            Part::First => "first name",
            Part::Surname => "surname",
        }
    }

    /// Points for a likeness. A different first name speaks strongly against one person (it is
    /// what sets family members apart); a different surname only mildly, as people marry.
    fn points(self, l: Likeness) -> i32 {
        match (self, l) {
            (Part::First, Likeness::Same) => 20,
            (Part::First, Likeness::SoundsAlike) => 17,
            (Part::First, Likeness::Similar(_)) => 16,
            (Part::First, Likeness::Part) => 14,
            (Part::First, Likeness::Initial) => 8,
            (Part::First, Likeness::Near | Likeness::Stem) => 5,
            (Part::First, Likeness::Different) => -35,
            (Part::Surname, Likeness::Same) => 25,
            (Part::Surname, Likeness::SoundsAlike) => 22,
            (Part::Surname, Likeness::Similar(_)) => 18,
            (Part::Surname, Likeness::Part) => 15,
            (Part::Surname, Likeness::Near | Likeness::Stem) => 0,
            (Part::Surname, Likeness::Initial | Likeness::Different) => -10,
        }
    }

    fn reason(self, l: Likeness, a: &NameKey, b: &NameKey) -> String {
        let noun = self.noun();
        let code = &a.code;
        let (x, y) = (&a.plain, &b.plain);
        match l {
            Likeness::Same => format!("same {noun}"),
            Likeness::SoundsAlike => format!("{noun} sounds alike (Kölner Phonetik {code})"),
            Likeness::Similar(jw) => format!("similar {noun} (Jaro-Winkler {jw:.2})"),
            Likeness::Part => format!("one {noun} is part of the other"),
            Likeness::Initial => format!("same {noun} initial"),
            Likeness::Near => format!("{noun}s one letter apart ({x} / {y})"),
            Likeness::Stem => format!("male and female form of one {noun} ({x} / {y})"),
            Likeness::Different => format!("different {noun}"),
        }
    }
}

/// Points for names: surnames (or company names) and first names, or the two swapped.
fn names(a: &Prepared<'_>, b: &Prepared<'_>, ev: &mut Evidence) {
    match (&a.last, &b.last) {
        (Some(la), Some(lb)) => person_names(a, b, la, lb, ev),
        (None, None) => {
            if let (Some(ca), Some(cb)) = (&a.company, &b.company) {
                match likeness(ca, cb, false) {
                    Likeness::Same => ev.add(45, "same company name"),
                    Likeness::SoundsAlike | Likeness::Similar(_) => {
                        let jw = strsim::jaro_winkler(&ca.folded, &cb.folded);
                        ev.add(35, format!("similar company name (Jaro-Winkler {jw:.2})"));
                    }
                    _ => ev.add(-30, "different company name"),
                }
            }
        }
        _ => {
            if a.company.is_some() != b.company.is_some() {
                ev.add(-20, "one is a person, the other an organization");
            }
        }
    }
}

fn person_names(a: &Prepared<'_>, b: &Prepared<'_>, la: &NameKey, lb: &NameKey, ev: &mut Evidence) {
    let last = likeness(la, lb, false);
    let first = match (&a.first, &b.first) {
        (Some(fa), Some(fb)) => Some((fa, fb, likeness(fa, fb, true))),
        _ => None,
    };
    // Only when the names as entered do not fit does it help to try them crosswise.
    let straight_fits = last.is_close() || first.is_some_and(|(_, _, l)| l.is_close());
    if !straight_fits && let (Some(fa), Some(fb)) = (&a.first, &b.first) {
        let one = likeness(fa, lb, false);
        let other = likeness(la, fb, false);
        let near = |l: Likeness| l.is_close() || l == Likeness::Near;
        if near(one) && near(other) && (one.is_close() || other.is_close()) {
            let points = if one.is_close() && other.is_close() {
                40
            } else {
                30
            };
            ev.add(points, "first and last name swapped");
            return;
        }
    }
    ev.add(
        Part::Surname.points(last),
        Part::Surname.reason(last, la, lb),
    );
    if let Some((fa, fb, l)) = first {
        ev.add(Part::First.points(l), Part::First.reason(l, fa, fb));
    }
}

/// The same birth date is strong evidence; a different one all but rules a pair out (it is what
/// sets a namesake apart). A missing one says nothing.
fn birth_dates(a: &DedupRecord, b: &DedupRecord, ev: &mut Evidence) {
    if let (Some(x), Some(y)) = (a.birth_date, b.birth_date) {
        if x == y {
            ev.add(25, "same birth date");
        } else if x.year() == y.year() && x.month() == y.day() && x.day() == y.month() {
            // 03.04. typed as 04.03.: a slip, not another person.
            ev.add(10, "birth date with day and month swapped");
        } else {
            ev.add(-40, "different birth date");
        }
    }
}

/// Address, email and phone: the strongest counts fully, the next half, the third a quarter.
fn reachability(a: &DedupRecord, b: &DedupRecord, ev: &mut Evidence) {
    let mut found: Vec<(i32, String)> = Vec::with_capacity(3);
    if a.emails.iter().any(|e| b.emails.contains(e)) {
        found.push((25, "same email".to_string()));
    }
    if a.phones.iter().any(|p| b.phones.contains(p)) {
        found.push((20, "same phone".to_string()));
    }
    if let Some(best) = a
        .addresses
        .iter()
        .flat_map(|x| b.addresses.iter().map(move |y| address_likeness(x, y)))
        .flatten()
        .max_by_key(|(points, _)| *points)
    {
        found.push((best.0, best.1.to_string()));
    }
    found.sort_by_key(|(points, _)| std::cmp::Reverse(*points));
    for (i, (points, reason)) in found.into_iter().enumerate() {
        // i is at most 2; the shift halves the weight per rank.
        ev.add(points >> i, reason);
    }
}

/// Points and reason for two addresses, `None` if they are not even in the same city.
fn address_likeness(x: &DedupAddress, y: &DedupAddress) -> Option<(i32, &'static str)> {
    let same_country = x.country == y.country || x.country.is_empty() || y.country.is_empty();
    if !same_country {
        return None;
    }
    if !x.postcode.is_empty() && x.postcode == y.postcode {
        if !x.street.is_empty() && x.street == y.street {
            return Some(match (&x.house_number, &y.house_number) {
                (Some(hx), Some(hy)) if hx == hy => (20, "same street and house number"),
                (Some(_), Some(_)) => (5, "same street, other house number"),
                _ => (14, "same street, house number missing"),
            });
        }
        return Some((5, "same postcode"));
    }
    (!x.city.is_empty() && x.city == y.city).then_some((2, "same city"))
}
