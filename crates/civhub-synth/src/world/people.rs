//! People and households: family structures, names, resident IDs, phones,
//! deaths over the last five years, and deliberate namesakes.

use super::{Addr, Household, Job, JobKind, NONE, Person, Relation, World, ref_date};
use crate::rng::{Rand, Weighted, chance, pick, stream};
use crate::vocab::names::{self, ETHNICITIES, UYGHUR};
use crate::vocab::places::{DISTRICTS, OUTSIDE_CODES, ROADS, VILLAGES, is_urban};
use crate::vocab::words::MOBILE_PREFIXES;
use chrono::{Datelike, Duration, NaiveDate};
use rand::Rng;

/// One planned member: relation, age, gender, and whether they carry the family surname.
struct Plan {
    relation: Relation,
    age: i32,
    male: bool,
    family_surname: bool,
}

fn plan(rng: &mut Rand, kinds: &Weighted) -> Vec<Plan> {
    let mut v = Vec::new();
    let m = |relation, age, male, family_surname| Plan {
        relation,
        age,
        male,
        family_surname,
    };
    let kids = |rng: &mut Rand, v: &mut Vec<Plan>, parent_age: i32, max: usize, grand: bool| {
        let n = 1 + usize::from(chance(rng, 0.45)) + usize::from(chance(rng, 0.08));
        for _ in 0..n.min(max) {
            let lo = 0.max(parent_age - 40);
            let hi = (parent_age - 21).max(lo);
            let age = rng.random_range(lo..=hi);
            let male = chance(rng, 0.52);
            let relation = match (grand, male) {
                (false, true) => Relation::Son,
                (false, false) => Relation::Daughter,
                (true, true) => Relation::Grandson,
                (true, false) => Relation::Granddaughter,
            };
            v.push(Plan {
                relation,
                age,
                male,
                family_surname: true,
            });
        }
    };
    match kinds.sample(rng) {
        0 => v.push(m(
            Relation::Head,
            rng.random_range(20..45),
            chance(rng, 0.6),
            true,
        )),
        1 => {
            let a = rng.random_range(22..40);
            v.push(m(Relation::Head, a, true, true));
            v.push(m(
                Relation::Spouse,
                (a + rng.random_range(-5..3)).max(20),
                false,
                false,
            ));
        }
        2 => {
            let a = rng.random_range(25..58);
            v.push(m(Relation::Head, a, true, true));
            let s = (a + rng.random_range(-5..3)).max(20);
            v.push(m(Relation::Spouse, s, false, false));
            kids(rng, &mut v, s, 3, false);
        }
        3 => {
            let a = rng.random_range(28..50);
            v.push(m(Relation::Head, a, true, true));
            let s = (a + rng.random_range(-5..3)).max(20);
            v.push(m(Relation::Spouse, s, false, false));
            kids(rng, &mut v, s, 2, false);
            let p = (a + rng.random_range(22..34)).min(99);
            if chance(rng, 0.7) {
                v.push(m(Relation::Father, p, true, true));
            }
            v.push(m(
                Relation::Mother,
                (p + rng.random_range(-6..2)).min(99),
                false,
                false,
            ));
        }
        4 => {
            let a = rng.random_range(60..92);
            v.push(m(Relation::Head, a, true, true));
            v.push(m(
                Relation::Spouse,
                (a + rng.random_range(-6..2)).clamp(55, 99),
                false,
                false,
            ));
        }
        5 => v.push(m(
            Relation::Head,
            rng.random_range(65..100),
            chance(rng, 0.3),
            true,
        )),
        6 => {
            let a = rng.random_range(58..82);
            v.push(m(Relation::Head, a, true, true));
            if chance(rng, 0.8) {
                v.push(m(
                    Relation::Spouse,
                    (a + rng.random_range(-5..2)).max(50),
                    false,
                    false,
                ));
            }
            let son = (a - rng.random_range(23..34)).max(18);
            v.push(m(Relation::Son, son, true, true));
            let dil = (son + rng.random_range(-4..2)).max(18);
            v.push(m(Relation::DaughterInLaw, dil, false, false));
            kids(rng, &mut v, dil, 2, true);
        }
        7 => {
            let a = rng.random_range(28..52);
            let male = chance(rng, 0.3);
            v.push(m(Relation::Head, a, male, true));
            kids(rng, &mut v, a, 2, false);
        }
        _ => {
            let a = rng.random_range(20..65);
            v.push(m(Relation::Head, a, true, true));
            v.push(m(
                Relation::Sibling,
                (a + rng.random_range(-8..8)).clamp(16, 95),
                chance(rng, 0.5),
                true,
            ));
        }
    }
    v
}

/// Annual probability of dying at `age`.
fn hazard(age: i32) -> f64 {
    match age {
        ..1 => 0.004,
        1..40 => 0.0006,
        _ => (0.000_03 * (0.095 * f64::from(age)).exp()).min(0.35),
    }
}

/// Issues a new valid resident ID; unique across the world.
pub fn issue_id(
    w: &mut World,
    rng: &mut Rand,
    region: &str,
    birth: NaiveDate,
    male: bool,
) -> [u8; 18] {
    loop {
        let mut seq: u32 = rng.random_range(0..1000);
        if (seq % 2 == 1) != male {
            seq = if seq == 999 { 998 } else { seq + 1 };
        }
        let body = format!("{region}{}{seq:03}", birth.format("%Y%m%d"));
        let n: u64 = body.parse().unwrap_or(0);
        if !w.id_bodies.insert(n) {
            continue;
        }
        let check = civhub_core::id::resident::check_char(&body).expect("17 digits");
        let mut id = [0u8; 18];
        id[..17].copy_from_slice(body.as_bytes());
        id[17] = check as u8;
        return id;
    }
}

fn birth_for_age(rng: &mut Rand, age: i32) -> NaiveDate {
    let r = ref_date();
    let anchor = NaiveDate::from_ymd_opt(r.year() - age, r.month(), r.day()).unwrap_or(r);
    anchor - Duration::days(rng.random_range(1..=365))
}

/// A mobile number.
pub fn mobile(rng: &mut Rand) -> u64 {
    let p: u64 = pick(rng, MOBILE_PREFIXES).parse().unwrap_or(139);
    p * 100_000_000 + rng.random_range(0..100_000_000)
}

fn region_for(rng: &mut Rand, district: usize, age: i32, outside: &Weighted) -> &'static str {
    let local = if age < 18 { 0.97 } else { 0.86 };
    if chance(rng, local) {
        if chance(rng, 0.85) {
            DISTRICTS[district].code
        } else {
            pick(rng, &DISTRICTS).code
        }
    } else {
        OUTSIDE_CODES[outside.sample(rng)].0
    }
}

/// A random address in a district; urban sub-districts are denser.
pub fn random_addr(rng: &mut Rand, district: usize) -> Addr {
    let d = &DISTRICTS[district];
    let weights = Weighted::new(d.towns.iter().map(|t| if is_urban(t) { 4.0 } else { 1.0 }));
    let town = weights.sample(rng);
    let urban = is_urban(d.towns[town]);
    Addr {
        district: district as u8,
        town: town as u8,
        place: rng.random_range(0..if urban { ROADS.len() } else { VILLAGES.len() }) as u8,
        block: if urban {
            rng.random_range(1..30)
        } else {
            rng.random_range(0..12)
        },
        number: rng.random_range(1..300),
        room: if urban && chance(rng, 0.7) {
            rng.random_range(1..19) * 100 + rng.random_range(1..5)
        } else {
            0
        },
    }
}

/// Builds `n` people in households.
pub fn build(w: &mut World, n: usize) {
    let mut rng = stream(w.seed, "world/people");
    let kinds = Weighted::new([8.0, 8.0, 30.0, 12.0, 15.0, 10.0, 10.0, 5.0, 2.0]);
    let districts = Weighted::new(DISTRICTS.iter().map(|d| d.pop));
    let outside = Weighted::new(OUTSIDE_CODES.iter().map(|c| c.1));
    w.persons.reserve(n);
    while w.persons.len() < n {
        let mut members = plan(&mut rng, &kinds);
        members.truncate(n - w.persons.len());
        let district = districts.sample(&mut rng);
        let addr = random_addr(&mut rng, district);
        let hh = w.households.len() as u32;
        let first = w.persons.len() as u32;
        let uyghur = chance(&mut rng, 0.004);
        let other_ethnic = !uyghur && chance(&mut rng, 0.01);
        let family = names::surname(&mut rng);
        for m in &members {
            let birth = birth_for_age(&mut rng, m.age.clamp(0, 100));
            let region = region_for(&mut rng, district, m.age, &outside);
            let id = issue_id(w, &mut rng, region, birth, m.male);
            // No two members of a household share a name.
            let mut name = String::new();
            for _ in 0..20 {
                name = if uyghur {
                    names::minority_name(&mut rng, m.male)
                } else {
                    let s = if m.family_surname {
                        family
                    } else {
                        names::surname(&mut rng)
                    };
                    format!("{s}{}", names::given_name(&mut rng, m.male, birth.year()))
                };
                if !w.persons[first as usize..].iter().any(|p| *p.name == *name) {
                    break;
                }
            }
            let former_name = (!uyghur && m.age > 30 && chance(&mut rng, 0.015)).then(|| {
                let s: String = name.chars().take(1).collect();
                format!(
                    "{s}{}",
                    names::given_name(&mut rng, m.male, birth.year() - 5)
                )
                .into_boxed_str()
            });
            let ethnicity = if uyghur {
                UYGHUR
            } else if other_ethnic {
                rng.random_range(1..ETHNICITIES.len() as u8 - 1)
            } else {
                0
            };
            let phone = match m.age {
                16..80 if chance(&mut rng, 0.92) => mobile(&mut rng),
                80.. if chance(&mut rng, 0.4) => mobile(&mut rng),
                _ => 0,
            };
            w.persons.push(Person {
                id,
                name: name.into_boxed_str(),
                former_name,
                birth,
                male: m.male,
                death: None,
                household: hh,
                relation: m.relation,
                ethnicity,
                phone,
                job: Job::NONE,
                recipient: false,
                moved_out: m.age >= 18 && m.age < 40 && chance(&mut rng, 0.005),
                twin_of: NONE,
            });
        }
        let landline = if chance(&mut rng, 0.2) {
            rng.random_range(0..100_000)
                + [2_300_000, 2_500_000, 3_500_000, 6_500_000][rng.random_range(0..4)]
        } else {
            0
        };
        w.households.push(Household {
            seq: hh + 1,
            first,
            len: members.len() as u8,
            addr,
            landline,
            dibao: NONE,
        });
    }
    deaths(w, &mut rng);
    namesakes(w, &mut rng);
    basic_jobs(w, &mut rng);
}

/// Deaths over the five years before the reference date.
fn deaths(w: &mut World, rng: &mut Rand) {
    let r = ref_date();
    // Year by year from five years ago: whoever dies in a year is dead after it.
    for p in &mut w.persons {
        for back in (0..5).rev() {
            let age_then = p.age() - back;
            if age_then < 0 {
                continue;
            }
            if chance(rng, hazard(age_then) * 0.8) {
                let end = r - Duration::days(365 * i64::from(back) + 1);
                let d = end - Duration::days(rng.random_range(0..365));
                if d > p.birth {
                    p.death = Some(d);
                    break;
                }
            }
        }
    }
}

/// Pairs of different people with the same name and birth date (decoys for matching).
fn namesakes(w: &mut World, rng: &mut Rand) {
    let n = w.persons.len();
    let pairs = (n / 500).max(3).min(n / 4);
    for _ in 0..pairs {
        let a = rng.random_range(0..n) as u32;
        let b = rng.random_range(0..n) as u32;
        make_namesake(w, rng, a, b);
    }
}

/// Makes `b` share `a`'s name, gender and birth date (a new ID for `b`); false if unsuitable.
pub fn make_namesake(w: &mut World, rng: &mut Rand, a: u32, b: u32) -> bool {
    let (pa, pb) = (&w.persons[a as usize], &w.persons[b as usize]);
    if a == b
        || pa.household == pb.household
        || pa.twin_of != NONE
        || pb.twin_of != NONE
        || pa.age() < 18
        || pb.age() < 18
        || pb.ethnicity == UYGHUR
        || pa.ethnicity == UYGHUR
    {
        return false;
    }
    let (name, birth, male) = (pa.name.clone(), pa.birth, pa.male);
    let region = std::str::from_utf8(&pb.id[..6])
        .unwrap_or("341002")
        .to_string();
    let id = issue_id(w, rng, &region, birth, male);
    let pb = &mut w.persons[b as usize];
    pb.name = name;
    pb.birth = birth;
    pb.male = male;
    pb.id = id;
    pb.twin_of = a;
    pb.former_name = None;
    if pb.death.is_some_and(|d| d <= birth) {
        pb.death = None;
    }
    w.persons[a as usize].twin_of = b;
    true
}

/// Age-based occupations; employers are assigned once entities exist.
fn basic_jobs(w: &mut World, rng: &mut Rand) {
    for p in &mut w.persons {
        let age = p.age();
        let retire = if p.male { 60 } else { 55 };
        p.job.kind = match age {
            ..6 => JobKind::Child,
            6..18 => JobKind::Student,
            18..23 if chance(rng, 0.6) => JobKind::Student,
            a if a >= retire => {
                if chance(rng, 0.55) {
                    p.job.wage = rng.random_range(1_800..4_500);
                    JobKind::Retired
                } else {
                    JobKind::Farmer
                }
            }
            _ => JobKind::None, // decided in orgs::assign_jobs
        };
    }
}
