//! What people and entities own: properties, vehicles, provident-fund accounts.

use super::people::random_addr;
use super::{
    Addr, EntityKind, FundAccount, Holder, JobKind, NONE, Property, VEHICLE_TYPES, Vehicle, World,
    ref_date,
};
use crate::rng::{Rand, chance, lognormal, pick, stream};
use crate::vocab::words::{CAR_BRANDS, MOTO_BRANDS, TRUCK_BRANDS};
use chrono::{Duration, NaiveDate};
use rand::Rng;

/// Property usages by index (see `USAGES`).
pub const HOME: u8 = 0;
/// 商业.
pub const SHOP: u8 = 1;
/// 办公.
pub const OFFICE: u8 = 2;
/// 车库.
pub const GARAGE: u8 = 3;
/// 工业.
pub const INDUSTRIAL: u8 = 4;

fn date_between(rng: &mut Rand, from_year: i32, to: NaiveDate) -> NaiveDate {
    let from = NaiveDate::from_ymd_opt(from_year, 1, 1).expect("date");
    let span = (to - from).num_days().max(1);
    from + Duration::days(rng.random_range(0..span))
}

/// Adds a property and returns its index.
pub fn add_property(w: &mut World, rng: &mut Rand, owner: Holder, usage: u8, addr: Addr) -> u32 {
    let area = match usage {
        HOME if addr.urban() => lognormal(rng, 95.0, 0.3).clamp(35.0, 250.0),
        HOME => lognormal(rng, 140.0, 0.35).clamp(50.0, 350.0),
        SHOP => lognormal(rng, 60.0, 0.6).clamp(15.0, 400.0),
        OFFICE => lognormal(rng, 120.0, 0.6).clamp(40.0, 800.0),
        GARAGE => rng.random_range(12.0..40.0),
        _ => lognormal(rng, 1500.0, 0.7).clamp(300.0, 10_000.0),
    };
    let status = match rng.random_range(0..100) {
        0..85 => 0,
        85..97 => 2,
        97..98 => 3,
        _ => 1,
    };
    let share = match (owner, rng.random_range(0..100)) {
        (Holder::Entity(_), _) => 0,
        (_, 0..60) => 0,
        (_, 60..95) => 1,
        _ => 2,
    };
    w.properties.push(Property {
        owner,
        usage,
        area: (area * 100.0).round() as u32,
        addr,
        registered: date_between(rng, 2000, ref_date() - Duration::days(5)),
        status,
        share,
    });
    w.properties.len() as u32 - 1
}

/// A new unique plate (without 皖J).
fn plate(w: &mut World, rng: &mut Rand, new_energy: bool) -> Box<str> {
    const LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const ALNUM: &[u8] = b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
    loop {
        let mut s = String::with_capacity(6);
        if new_energy {
            s.push(if chance(rng, 0.8) { 'D' } else { 'F' });
            for _ in 0..5 {
                s.push(char::from(b'0' + rng.random_range(0..10u8)));
            }
        } else {
            s.push(LETTERS[rng.random_range(0..LETTERS.len())] as char);
            for _ in 0..4 {
                s.push(ALNUM[rng.random_range(0..ALNUM.len())] as char);
            }
        }
        let b: Box<str> = s.into_boxed_str();
        if w.plates.insert(b.clone()) {
            return b;
        }
    }
}

/// Adds a vehicle and returns its index.
pub fn add_vehicle(w: &mut World, rng: &mut Rand, owner: Holder, vtype: u8, use_nature: u8) -> u32 {
    let new_energy = VEHICLE_TYPES[vtype as usize].1 == "小型新能源汽车";
    let plate = plate(w, rng, new_energy);
    let brand = match vtype {
        3 => *pick(rng, TRUCK_BRANDS),
        4 => *pick(rng, MOTO_BRANDS),
        _ => *pick(rng, CAR_BRANDS),
    };
    let status = match rng.random_range(0..100) {
        0..88 => 0,
        88..93 => 4,
        93..96 => 1,
        96..99 => 2,
        _ => 3,
    };
    w.vehicles.push(Vehicle {
        owner,
        plate,
        vtype,
        use_nature,
        brand,
        registered: date_between(rng, 2005, ref_date() - Duration::days(3)),
        status,
    });
    w.vehicles.len() as u32 - 1
}

/// Adds a provident-fund account and returns its index.
pub fn add_fund(
    w: &mut World,
    rng: &mut Rand,
    person: u32,
    employer: u32,
    wage: u32,
    status: u8,
) -> u32 {
    let base = wage.clamp(2_100, 27_000);
    let rate = *pick(rng, &[5u8, 5, 6, 8, 10, 12, 12]);
    let opened = date_between(rng, 2003, ref_date() - Duration::days(200));
    let months = ((ref_date() - opened).num_days() / 30).max(1);
    let mut acct = FundAccount {
        person,
        employer,
        opened,
        base,
        rate,
        balance: 0,
        status,
    };
    let monthly = acct.monthly_cents();
    acct.balance = (monthly as f64 * months as f64 * rng.random_range(0.1..0.9)).round() as i64;
    w.funds.push(acct);
    w.funds.len() as u32 - 1
}

/// Builds the assets of everyone but 低保 recipients (planting adds theirs).
pub fn build(w: &mut World) {
    let mut rng = stream(w.seed, "world/assets");
    for h in 0..w.households.len() {
        let hh = &w.households[h];
        if hh.dibao != NONE {
            continue;
        }
        let addr = hh.addr;
        let adults: Vec<u32> = hh
            .members()
            .filter(|&p| w.persons[p as usize].age() >= 20)
            .collect();
        let Some(&head) = adults.first() else {
            continue;
        };
        let living: Vec<u32> = adults
            .iter()
            .copied()
            .filter(|&p| w.persons[p as usize].alive())
            .collect();
        let urban = addr.urban();
        if chance(&mut rng, if urban { 0.72 } else { 0.82 }) {
            let owner = if adults.len() > 1 && chance(&mut rng, 0.2) {
                adults[1]
            } else {
                head
            };
            add_property(w, &mut rng, Holder::Person(owner), HOME, addr);
            if chance(&mut rng, 0.14) {
                let a = random_addr(&mut rng, addr.district as usize);
                add_property(w, &mut rng, Holder::Person(owner), HOME, a);
                if chance(&mut rng, 0.2) {
                    let d2 = rng.random_range(0..7);
                    let a = random_addr(&mut rng, d2);
                    add_property(w, &mut rng, Holder::Person(owner), HOME, a);
                }
            }
            for (usage, p) in [
                (GARAGE, if urban { 0.06 } else { 0.01 }),
                (SHOP, 0.025),
                (OFFICE, 0.008),
            ] {
                if chance(&mut rng, p) {
                    let a = random_addr(&mut rng, addr.district as usize);
                    add_property(w, &mut rng, Holder::Person(owner), usage, a);
                }
            }
        }
        if living.is_empty() {
            continue;
        }
        if chance(&mut rng, if urban { 0.38 } else { 0.22 }) {
            let owner = *pick(&mut rng, &living);
            let vt = *pick(&mut rng, &[0u8, 0, 0, 1, 2, 7, 7]);
            add_vehicle(w, &mut rng, Holder::Person(owner), vt, 0);
            if chance(&mut rng, 0.06) {
                let owner = *pick(&mut rng, &living);
                add_vehicle(w, &mut rng, Holder::Person(owner), 0, 0);
            }
        }
        if !urban && chance(&mut rng, 0.12) {
            let owner = *pick(&mut rng, &living);
            add_vehicle(w, &mut rng, Holder::Person(owner), 4, 0);
        }
    }
    for e in 0..w.entities.len() as u32 {
        let ent = &w.entities[e as usize];
        if ent.kind == EntityKind::Individual || ent.status >= 2 {
            continue;
        }
        let district = ent.addr.district as usize;
        let transport = matches!(
            crate::vocab::words::INDUSTRIES.get(ent.industry as usize),
            Some(("物流" | "交通运输", _))
        );
        if chance(&mut rng, 0.2) {
            for _ in 0..rng.random_range(1..4) {
                let usage = *pick(&mut rng, &[SHOP, OFFICE, OFFICE, INDUSTRIAL]);
                let a = random_addr(&mut rng, district);
                add_property(w, &mut rng, Holder::Entity(e), usage, a);
            }
        }
        if transport || chance(&mut rng, 0.15) {
            for _ in 0..rng.random_range(1..if transport { 8 } else { 4 }) {
                let (vt, use_nature) = if transport {
                    (*pick(&mut rng, &[3u8, 6, 1]), *pick(&mut rng, &[1u8, 4, 1]))
                } else {
                    (*pick(&mut rng, &[0u8, 1, 3]), 0)
                };
                add_vehicle(w, &mut rng, Holder::Entity(e), vt, use_nature);
            }
        }
    }
    for p in 0..w.persons.len() as u32 {
        let person = &w.persons[p as usize];
        if person.recipient || !person.alive() {
            continue;
        }
        let (kind, employer, wage) = (person.job.kind, person.job.employer, person.job.wage);
        let prob = match kind {
            JobKind::Public => 0.98,
            JobKind::Enterprise => (0.35 + f64::from(wage) / 20_000.0).min(0.9),
            JobKind::Flexible | JobKind::None if person.age() >= 25 => 0.03,
            _ => 0.0,
        };
        if chance(&mut rng, prob) {
            let (employer, status) = if employer == NONE {
                (pick_employer(w, &mut rng), 1)
            } else {
                (employer, 0)
            };
            if employer != NONE {
                add_fund(w, &mut rng, p, employer, wage.max(2_500), status);
            }
        }
    }
}

/// Some company (for sealed accounts of people who left their job).
pub fn pick_employer(w: &World, rng: &mut Rand) -> u32 {
    for _ in 0..50 {
        let e = rng.random_range(0..w.entities.len().max(1)) as u32;
        if w.entities
            .get(e as usize)
            .is_some_and(|x| x.kind == EntityKind::Company)
        {
            return e;
        }
    }
    NONE
}
