//! 低保 recipients and the ground truth of the eligibility check.
//!
//! Recipient households are chosen among the poorer households before any
//! employer, shareholding or asset is handed out, and their members are kept
//! out of those draws, so a recipient household is eligible unless a case is
//! planted in it afterwards. Each planted case is one rule in one household
//! and is recorded in [`World::dibao_truth`]; some are reachable only
//! through noisy identifiers (a 15-digit or mistyped ID, a homophone or
//! traditional-character name without ID), which is what the check's use
//! of golden ids is for.

use super::assets::{
    GARAGE, HOME, OFFICE, SHOP, add_fund, add_property, add_vehicle, pick_employer,
};
use super::orgs::{add_company_for, add_individual_for};
use super::people::{make_namesake, random_addr};
use super::{
    DIBAO, DibaoHousehold, DibaoMember, DibaoTruth, EntityKind, Holder, IdForm, JobKind, NONE,
    NameForm, Planted, Relation, Topic, VT_DISABLED, VT_MOTO, World, ref_date,
};
use crate::rng::{Rand, chance, pick, stream};
use crate::vocab::names::{homophone_variant, traditional_variant};
use chrono::Duration;
use rand::Rng;
use std::collections::BTreeMap;

/// Which garbled forms each topic's exports tolerate without quarantining
/// the row (computed from the pipelines: a mistyped ID is only safe where
/// its check digit is a warning, an empty ID only where it is optional).
#[derive(Debug, Clone, Default)]
pub struct PlantCaps {
    /// A mistyped ID is staged (with a flag), per topic.
    pub typo_ok: BTreeMap<Topic, bool>,
    /// An empty ID is staged, per topic.
    pub missing_ok: BTreeMap<Topic, bool>,
    /// 低保 member rows: an empty ID is staged.
    pub member_missing_ok: bool,
    /// 低保 member rows: a well-formed ID with a wrong check character is staged.
    pub member_invalid_ok: bool,
}

impl PlantCaps {
    fn typo(&self, t: Topic) -> bool {
        self.typo_ok.get(&t).copied().unwrap_or(false)
    }
    fn missing(&self, t: Topic) -> bool {
        self.missing_ok.get(&t).copied().unwrap_or(false)
    }
}

/// Chooses the recipient households (about 6 % of households — some 20,000
/// for a million people — and at least 30, so that small fixtures can hold
/// every kind of planted case).
pub fn select(w: &mut World) {
    let mut rng = stream(w.seed, "world/dibao/select");
    let h = w.households.len();
    let target = ((h as f64 * 0.06).round() as usize)
        .max(30.min(h * 6 / 10))
        .min(h);
    // Efraimidis–Spirakis: weighted sampling without replacement.
    let mut keyed: Vec<(f64, usize)> = Vec::with_capacity(h);
    for (i, hh) in w.households.iter().enumerate() {
        let members: Vec<&super::Person> = hh.members().map(|p| &w.persons[p as usize]).collect();
        let alive: Vec<&&super::Person> = members
            .iter()
            .filter(|p| p.alive() && !p.moved_out)
            .collect();
        if alive.is_empty() || alive.iter().any(|p| p.twin_of != NONE) {
            continue;
        }
        let head = alive[0];
        let mut weight = 1.0;
        if head.age() >= 65 {
            weight += 3.0;
        }
        if !hh.addr.urban() {
            weight += 2.0;
        }
        if alive.len() >= 4 {
            weight += 1.0;
        }
        if alive.iter().all(|p| p.age() < 18 || p.age() >= 60) {
            weight += 2.0;
        }
        let u: f64 = rng.random::<f64>().max(1e-12);
        keyed.push((u.powf(1.0 / weight), i));
    }
    keyed.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut chosen: Vec<usize> = keyed.into_iter().take(target).map(|k| k.1).collect();
    chosen.sort_unstable();
    for (seq, h) in chosen.into_iter().enumerate() {
        let hh = &w.households[h];
        let alive: Vec<u32> = hh
            .members()
            .filter(|&p| w.persons[p as usize].alive() && !w.persons[p as usize].moved_out)
            .collect();
        let head = alive[0];
        let mut members = Vec::new();
        for &p in &alive {
            let relation = if p == head {
                Relation::Head
            } else {
                w.persons[p as usize].relation
            };
            let health = match rng.random_range(0..100) {
                0..55 => 0,
                55..80 => 1,
                80..90 => 2,
                _ => 3,
            };
            let disability = if health == 3 {
                rng.random_range(1..5)
            } else {
                0
            };
            members.push(DibaoMember {
                person: p,
                relation,
                planted: None,
                health,
                disability,
            });
            let person = &mut w.persons[p as usize];
            person.recipient = true;
            if !matches!(
                person.job.kind,
                super::JobKind::Child | super::JobKind::Student
            ) {
                person.job = super::Job {
                    kind: if hh.addr.urban() {
                        JobKind::None
                    } else {
                        JobKind::Farmer
                    },
                    ..super::Job::NONE
                };
            }
        }
        let n = members.len() as i64;
        let per = i64::from(DIBAO.standard) - rng.random_range(0..400);
        let start = ref_date() - Duration::days(rng.random_range(60..3650));
        let category = if hh.addr.urban() { 0 } else { 1 };
        let idx = w.dibao.len() as u32;
        w.dibao.push(DibaoHousehold {
            seq: seq as u32 + 1,
            household: h as u32,
            head,
            members,
            category,
            amount: n * per * 100,
            start,
        });
        w.households[h].dibao = idx;
    }
}

/// The planting state: households still free for a case.
struct Planter {
    rng: Rand,
    free: Vec<u32>,
    /// Rotates the noisy forms across rules.
    turn: usize,
}

impl Planter {
    /// Takes a free household with a member satisfying `ok`; returns (household, member).
    fn take(&mut self, w: &World, ok: impl Fn(&super::Person) -> bool) -> Option<(u32, u32)> {
        let pos = self.free.iter().position(|&d| {
            w.dibao[d as usize]
                .members
                .iter()
                .any(|m| ok(&w.persons[m.person as usize]))
        })?;
        let d = self.free.remove(pos);
        let candidates: Vec<u32> = w.dibao[d as usize]
            .members
            .iter()
            .map(|m| m.person)
            .filter(|&p| ok(&w.persons[p as usize]))
            .collect();
        let m = *pick(&mut self.rng, &candidates);
        Some((d, m))
    }
}

fn name_variant(w: &World, p: u32, rng: &mut Rand) -> Option<String> {
    let name = &w.persons[p as usize].name;
    if chance(rng, 0.5) {
        homophone_variant(name, rng).or_else(|| traditional_variant(name))
    } else {
        traditional_variant(name).or_else(|| homophone_variant(name, rng))
    }
}

/// A mistyped copy of an ID: one digit of the region or sequence changed, so
/// the check character fails but birth date and gender still agree.
pub fn typo_id(id: &str, rng: &mut Rand) -> String {
    let mut b: Vec<u8> = id.as_bytes().to_vec();
    loop {
        let pos = *pick(rng, &[0usize, 1, 2, 3, 4, 5, 14, 15, 16]);
        let old = b[pos];
        let new = if pos == 16 {
            b'0' + (((old - b'0') + 2 * rng.random_range(1..5u8)) % 10)
        } else {
            b'0' + rng.random_range(0..10u8)
        };
        if new == old {
            continue;
        }
        b[pos] = new;
        let s = String::from_utf8(b.clone()).unwrap_or_default();
        if !civhub_core::id::resident::is_valid(&s) {
            return s;
        }
        b[pos] = old;
    }
}

/// The noisy form of a planted person's identity for `topic`, if any is safe.
fn noisy_form(
    w: &World,
    p: u32,
    topic: Topic,
    caps: &PlantCaps,
    rng: &mut Rand,
    j: usize,
) -> Option<Planted> {
    let person = &w.persons[p as usize];
    let mut options: Vec<Planted> = Vec::new();
    if caps.typo(topic) {
        options.push(Planted {
            id: IdForm::Typo(typo_id(person.id_str(), rng)),
            name: NameForm::Clean,
        });
    }
    if person.id15().is_some() {
        options.push(Planted {
            id: IdForm::Fifteen,
            name: NameForm::Clean,
        });
    }
    if caps.missing(topic)
        && let Some(v) = name_variant(w, p, rng)
    {
        options.push(Planted {
            id: IdForm::Missing,
            name: NameForm::Variant(v),
        });
    }
    if options.is_empty() {
        return None;
    }
    Some(options[j % options.len()].clone())
}

/// Plants the ineligible cases and the decoys among recipient households.
pub fn plant(w: &mut World, caps: &PlantCaps) {
    let r = w.dibao.len();
    if r == 0 {
        return;
    }
    let mut rng = stream(w.seed, "world/dibao/plant");
    let mut free: Vec<u32> = (0..r as u32).collect();
    for i in (1..free.len()).rev() {
        let j = rng.random_range(0..=i);
        free.swap(i, j);
    }
    let mut pl = Planter { rng, free, turn: 0 };
    let k = ((r as f64 * 0.015).round() as usize).max(2);
    let k_noisy = ((k as f64 * 0.4).round() as usize).max(1);
    let adult =
        |lo: i32, hi: i32| move |p: &super::Person| p.alive() && (lo..=hi).contains(&p.age());
    let standard = i64::from(DIBAO.standard);

    for j in 0..k {
        // property: two dwellings, or a non-residential property.
        let Some((d, m)) = pl.take(w, adult(20, 90)) else {
            break;
        };
        let noisy = if j < k_noisy {
            {
                pl.turn += 1;
                noisy_form(w, m, Topic::Property, caps, &mut pl.rng, pl.turn)
            }
        } else {
            None
        };
        let addr = random_addr(&mut pl.rng, w.address_of(m).district as usize);
        let detail = if j % 2 == 0 {
            let a = add_property(w, &mut pl.rng, Holder::Person(m), HOME, addr);
            let d2 = pl.rng.random_range(0..7);
            let addr2 = random_addr(&mut pl.rng, d2);
            add_property(w, &mut pl.rng, Holder::Person(m), HOME, addr2);
            w.properties[a as usize].status = 0;
            "owns 2 dwellings (住宅)".to_string()
        } else {
            let usage = *pick(&mut pl.rng, &[SHOP, OFFICE, GARAGE]);
            add_property(w, &mut pl.rng, Holder::Person(m), usage, addr);
            format!(
                "owns non-residential property ({})",
                super::USAGES[usage as usize]
            )
        };
        record(w, d, m, "property", noisy, Topic::Property, detail);
    }
    for j in 0..k {
        let Some((d, m)) = pl.take(w, adult(20, 75)) else {
            break;
        };
        let noisy = if j < k_noisy {
            {
                pl.turn += 1;
                noisy_form(w, m, Topic::Vehicle, caps, &mut pl.rng, pl.turn)
            }
        } else {
            None
        };
        let v = add_vehicle(w, &mut pl.rng, Holder::Person(m), 0, 0);
        w.vehicles[v as usize].status = 0;
        let detail = format!("owns 非营运 小型轿车 皖J{}", w.vehicles[v as usize].plate);
        record(w, d, m, "vehicle", noisy, Topic::Vehicle, detail);
    }
    for j in 0..k {
        let Some((d, m)) = pl.take(w, adult(20, 58)) else {
            break;
        };
        let noisy = if j < k_noisy {
            {
                pl.turn += 1;
                noisy_form(w, m, Topic::Fund, caps, &mut pl.rng, pl.turn)
            }
        } else {
            None
        };
        let size = w.dibao[d as usize].members.len() as i64;
        let wage = (standard * size * 16 / 10).max(3_000) as u32 + pl.rng.random_range(0..2_000);
        let employer = pick_employer(w, &mut pl.rng);
        if employer == NONE {
            break;
        }
        add_fund(w, &mut pl.rng, m, employer, wage, 0);
        set_job(w, m, JobKind::Enterprise, employer, wage, true);
        let detail = format!("provident fund deposits on a base of {wage} 元/月 ({size} members)");
        record(w, d, m, "provident_fund", noisy, Topic::Fund, detail);
    }
    let publics: Vec<u32> = (0..w.entities.len() as u32)
        .filter(|&e| w.entities[e as usize].kind.budget_funded())
        .collect();
    for j in 0..k {
        let Some((d, m)) = pl.take(w, adult(20, 58)) else {
            break;
        };
        let noisy = if j < k_noisy {
            {
                pl.turn += 1;
                noisy_form(w, m, Topic::Insurance, caps, &mut pl.rng, pl.turn)
            }
        } else {
            None
        };
        let size = w.dibao[d as usize].members.len() as i64;
        let detail = if j % 2 == 1 && !publics.is_empty() {
            let e = *pick(&mut pl.rng, &publics);
            let wage = pl.rng.random_range(4_500..7_000);
            set_job(w, m, JobKind::Public, e, wage, false);
            format!(
                "employed by {} ({}), 财政供养",
                w.entities[e as usize].name,
                w.entities[e as usize].kind.as_str()
            )
        } else {
            let e = pick_employer(w, &mut pl.rng);
            if e == NONE {
                break;
            }
            let wage =
                (standard * size * 16 / 10).max(5_000) as u32 + pl.rng.random_range(0..3_000);
            set_job(w, m, JobKind::Enterprise, e, wage, false);
            format!("employee pension insurance on a base of {wage} 元/月 ({size} members)")
        };
        record(w, d, m, "social_insurance", noisy, Topic::Insurance, detail);
    }
    for j in 0..k {
        let Some((d, m)) = pl.take(w, adult(22, 65)) else {
            break;
        };
        let noisy = if j < k_noisy {
            {
                pl.turn += 1;
                noisy_form(w, m, Topic::Business, caps, &mut pl.rng, pl.turn)
            }
        } else {
            None
        };
        let detail = if j % 2 == 0 {
            let capital = pl.rng.random_range(50..500) * 10_000;
            let e = add_company_for(w, &mut pl.rng, m, capital);
            w.persons[m as usize].job.no_si = true;
            format!(
                "legal representative and shareholder of {} (registered capital {capital} 元)",
                w.entities[e as usize].name
            )
        } else {
            let capital = DIBAO.capital_threshold * 2 + pl.rng.random_range(0..30) * 10_000;
            let e = add_individual_for(w, &mut pl.rng, m, capital);
            format!(
                "operator of individual business {} (capital {capital} 元)",
                w.entities[e as usize].uscc_str()
            )
        };
        record(w, d, m, "business", noisy, Topic::Business, detail);
    }
    for j in 0..k {
        let Some((d, m)) = pl.take(w, adult(1, 100)) else {
            break;
        };
        let noisy = if j < k_noisy {
            {
                pl.turn += 1;
                noisy_form(w, m, Topic::Death, caps, &mut pl.rng, pl.turn)
            }
        } else {
            None
        };
        let died = ref_date() - Duration::days(pl.rng.random_range(30..300));
        w.persons[m as usize].death = Some(died);
        w.planted_deaths.insert(m);
        record(
            w,
            d,
            m,
            "death",
            noisy,
            Topic::Death,
            format!("died {died}, still listed"),
        );
    }
    for j in 0..k {
        // duplicate: a member of household A is listed in household B too.
        let Some((a, m)) = pl.take(w, adult(18, 90)) else {
            break;
        };
        let Some((b, _)) = pl.take(w, |_| true) else {
            break;
        };
        let noisy = j < k_noisy;
        let planted = if noisy {
            let name = name_variant(w, m, &mut pl.rng);
            let person = &w.persons[m as usize];
            let id = if person.id15().is_some() {
                Some(IdForm::Fifteen)
            } else if caps.member_invalid_ok {
                Some(IdForm::Typo(typo_id(person.id_str(), &mut pl.rng)))
            } else {
                None
            };
            match (id, name) {
                (Some(id), Some(n)) => Some(Planted {
                    id,
                    name: NameForm::Variant(n),
                }),
                (Some(id), None) => Some(Planted {
                    id,
                    name: NameForm::Clean,
                }),
                _ => None,
            }
        } else {
            None
        };
        let desc = planted.as_ref().map(|p| p.describe());
        w.dibao[b as usize].members.push(DibaoMember {
            person: m,
            relation: Relation::Other,
            planted: planted.clone(),
            health: 0,
            disability: 0,
        });
        let (ida, idb) = (w.dibao[a as usize].id(w), w.dibao[b as usize].id(w));
        let noisy = planted.is_some();
        let suffix = desc.map(|d| format!(" ({d})")).unwrap_or_default();
        w.dibao_truth.push(DibaoTruth {
            household: a,
            person: m,
            rule: "duplicate",
            decoy_for: "",
            noisy,
            detail: format!("also listed in {idb}{suffix}"),
        });
        w.dibao_truth.push(DibaoTruth {
            household: b,
            person: m,
            rule: "duplicate",
            decoy_for: "",
            noisy,
            detail: format!("member of {ida}, listed here too{suffix}"),
        });
    }
    if caps.member_missing_ok || caps.member_invalid_ok {
        for j in 0..k {
            // identity: no usable ID and a name (and birth date) shared by another person.
            let Some((d, m)) = pl.take(w, |p| p.alive() && p.age() >= 18 && p.twin_of == NONE)
            else {
                break;
            };
            let n = w.persons.len();
            let mut twin = None;
            for _ in 0..500 {
                let other = pl.rng.random_range(0..n) as u32;
                let o = &w.persons[other as usize];
                if o.recipient || !o.alive() || o.male != w.persons[m as usize].male {
                    continue;
                }
                if make_namesake(w, &mut pl.rng, m, other) {
                    twin = Some(other);
                    break;
                }
            }
            let id = if caps.member_missing_ok && (j % 2 == 0 || !caps.member_invalid_ok) {
                IdForm::Missing
            } else {
                let region = &w.persons[m as usize].id_str()[..6];
                let mut g = format!("{region}19000101{:03}", pl.rng.random_range(0..1000));
                let check = civhub_core::id::resident::check_char(&g).unwrap_or('0');
                g.push(if check == '1' { '2' } else { '1' });
                IdForm::Garbage(g)
            };
            let planted = Planted {
                id,
                name: NameForm::Clean,
            };
            let detail = format!(
                "{}; name and birth date shared with {}",
                planted.describe(),
                twin.map(World::person_key)
                    .unwrap_or_else(|| "nobody".into())
            );
            let member = w.dibao[d as usize]
                .members
                .iter_mut()
                .find(|x| x.person == m)
                .expect("member");
            member.planted = Some(planted);
            w.dibao_truth.push(DibaoTruth {
                household: d,
                person: m,
                rule: "identity",
                decoy_for: "",
                noisy: true,
                detail,
            });
        }
    }
    let kd = ((r as f64 * 0.01).round() as usize).max(1);
    for _ in 0..kd {
        // decoy: a car owner elsewhere with the same name and birth date.
        let Some((d, m)) = pl.take(w, |p| {
            p.alive() && (20..=75).contains(&p.age()) && p.twin_of == NONE
        }) else {
            break;
        };
        let n = w.persons.len();
        let mut done = false;
        for _ in 0..500 {
            let other = pl.rng.random_range(0..n) as u32;
            let o = &w.persons[other as usize];
            if o.recipient || !o.alive() || (o.age() - w.persons[m as usize].age()).abs() > 8 {
                continue;
            }
            if make_namesake(w, &mut pl.rng, m, other) {
                let v = add_vehicle(w, &mut pl.rng, Holder::Person(other), 0, 0);
                w.vehicles[v as usize].status = 0;
                let detail = format!(
                    "same name and birth date as {}, who owns 皖J{}",
                    World::person_key(other),
                    w.vehicles[v as usize].plate
                );
                w.dibao_truth.push(DibaoTruth {
                    household: d,
                    person: m,
                    rule: "decoy",
                    decoy_for: "vehicle",
                    noisy: false,
                    detail,
                });
                done = true;
                break;
            }
        }
        if !done {
            pl.free.push(d);
        }
    }
    for j in 0..kd {
        let Some((d, m)) = pl.take(w, adult(20, 80)) else {
            break;
        };
        let vt = if j % 2 == 0 { VT_MOTO } else { VT_DISABLED };
        let v = add_vehicle(w, &mut pl.rng, Holder::Person(m), vt, 0);
        w.vehicles[v as usize].status = 0;
        let detail = format!(
            "owns only an exempt vehicle: {} 皖J{}",
            super::VEHICLE_TYPES[vt as usize].0,
            w.vehicles[v as usize].plate
        );
        w.dibao_truth.push(DibaoTruth {
            household: d,
            person: m,
            rule: "decoy",
            decoy_for: "vehicle",
            noisy: false,
            detail,
        });
    }
    for _ in 0..kd {
        // decoy: one modest dwelling is allowed.
        let Some((d, m)) = pl.take(w, adult(25, 90)) else {
            break;
        };
        let size = w.dibao[d as usize].members.len() as u32;
        let addr = *w.address_of(m);
        let prop = add_property(w, &mut pl.rng, Holder::Person(m), HOME, addr);
        let area = (size * 30).clamp(30, 90) * 100;
        w.properties[prop as usize].area = w.properties[prop as usize].area.min(area);
        w.properties[prop as usize].status = 0;
        let detail = format!(
            "owns one dwelling of {:.2} ㎡ ({size} members), within the limits",
            f64::from(w.properties[prop as usize].area) / 100.0
        );
        w.dibao_truth.push(DibaoTruth {
            household: d,
            person: m,
            rule: "decoy",
            decoy_for: "property",
            noisy: false,
            detail,
        });
    }
    for _ in 0..kd {
        let Some((d, m)) = pl.take(w, adult(22, 65)) else {
            break;
        };
        let capital = pl.rng.random_range(5..30) * 1_000;
        let e = add_individual_for(w, &mut pl.rng, m, capital);
        let detail = format!(
            "runs a tiny individual business {} (capital {capital} 元, below the threshold)",
            w.entities[e as usize].uscc_str()
        );
        w.dibao_truth.push(DibaoTruth {
            household: d,
            person: m,
            rule: "decoy",
            decoy_for: "business",
            noisy: false,
            detail,
        });
    }
    debug_assert!(
        w.entities
            .iter()
            .all(|e| e.kind != EntityKind::Individual || e.rep != NONE)
    );
}

fn set_job(w: &mut World, p: u32, kind: JobKind, employer: u32, wage: u32, no_si: bool) {
    w.persons[p as usize].job = super::Job {
        kind,
        employer,
        wage,
        no_si,
    };
    if employer != NONE {
        w.entities[employer as usize].employees += 1;
    }
}

fn record(
    w: &mut World,
    d: u32,
    m: u32,
    rule: &'static str,
    noisy: Option<Planted>,
    topic: Topic,
    detail: String,
) {
    let is_noisy = noisy.is_some();
    let detail = match &noisy {
        Some(p) => format!(
            "{detail}; in {} exports: {}",
            topic_name(topic),
            p.describe()
        ),
        None => detail,
    };
    if let Some(p) = noisy {
        w.planted.insert((m, topic), p);
    }
    w.dibao_truth.push(DibaoTruth {
        household: d,
        person: m,
        rule,
        decoy_for: "",
        noisy: is_noisy,
        detail,
    });
}

fn topic_name(t: Topic) -> &'static str {
    match t {
        Topic::Property => "property",
        Topic::Vehicle => "vehicle",
        Topic::Fund => "provident-fund",
        Topic::Insurance => "social-insurance",
        Topic::Business => "business-registration",
        Topic::Death => "death-registration",
    }
}
