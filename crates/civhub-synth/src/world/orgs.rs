//! Legal entities (companies, branches, cooperatives, public bodies, social
//! organisations), individual businesses, shareholdings, and who works where.

use super::people::{mobile, random_addr};
use super::{Entity, EntityKind, Holder, JobKind, NONE, Share, World, ref_date};
use crate::rng::{Rand, Weighted, chance, lognormal, pick, stream};
use crate::vocab::places::DISTRICTS;
use crate::vocab::words::{
    INDUSTRIES, INSTITUTIONS, PUBLIC_BODIES, SHOPS, SOCIAL_ORGS, TRADE_CHARS,
};
use chrono::{Duration, NaiveDate};
use civhub_core::id::{org_code, uscc};
use civhub_core::normalize::company::company_key;
use rand::Rng;
use std::collections::HashSet;

/// Symbols of the USCC alphabet usable in an organization code body.
const ORG_SYMBOLS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Issues a new valid USCC with a valid embedded organization code.
pub fn issue_uscc(
    w: &mut World,
    rng: &mut Rand,
    prefix: &str,
    region: &str,
    established: NaiveDate,
) -> [u8; 18] {
    loop {
        let mut body = String::with_capacity(8);
        if established >= NaiveDate::from_ymd_opt(2015, 10, 1).expect("date") {
            body.push_str("MA");
            for _ in 0..6 {
                body.push(ORG_SYMBOLS[rng.random_range(0..ORG_SYMBOLS.len())] as char);
            }
        } else {
            for _ in 0..8 {
                body.push(char::from(b'0' + rng.random_range(0..10u8)));
            }
        }
        let Some(oc) = org_code::check_char(&body) else {
            continue;
        };
        let first17 = format!("{prefix}{region}{body}{oc}");
        let Some(c) = uscc::check_char(&first17) else {
            continue;
        };
        let mut code = [0u8; 18];
        code[..17].copy_from_slice(first17.as_bytes());
        code[17] = c as u8;
        if w.usccs.insert(code) {
            return code;
        }
    }
}

fn trade_name(rng: &mut Rand) -> String {
    let chars: Vec<char> = TRADE_CHARS.chars().collect();
    let a = chars[rng.random_range(0..chars.len())];
    let mut b = chars[rng.random_range(0..chars.len())];
    while b == a {
        b = chars[rng.random_range(0..chars.len())];
    }
    format!("{a}{b}")
}

fn established(rng: &mut Rand) -> NaiveDate {
    let r = ref_date();
    // Skewed towards recent years, as registrations are.
    let days = (rng.random::<f64>().powf(1.6) * 365.0 * 30.0) as i64;
    r - Duration::days(days + 20)
}

struct Names<'a> {
    keys: &'a mut HashSet<String>,
}

impl Names<'_> {
    /// Accepts a name if its matching key is new.
    fn accept(&mut self, name: &str) -> bool {
        match company_key(name) {
            Ok(k) => self.keys.insert(k),
            Err(_) => false,
        }
    }
}

fn company_name(rng: &mut Rand, district: usize, industry: usize) -> (String, &'static str) {
    let prefix = match rng.random_range(0..100) {
        0..55 => "黄山市".to_string(),
        55..65 => "黄山".to_string(),
        65..90 => DISTRICTS[district].name.to_string(),
        _ => "安徽".to_string(),
    };
    let (suffix, label) = match rng.random_range(0..100) {
        0..65 => ("有限公司", "有限责任公司(自然人投资或控股)"),
        65..90 => ("有限责任公司", "有限责任公司(自然人投资或控股)"),
        90..97 => ("股份有限公司", "股份有限公司(非上市、自然人投资或控股)"),
        _ => ("集团有限公司", "有限责任公司(自然人投资或控股)"),
    };
    let t = trade_name(rng);
    let ind = INDUSTRIES[industry].0;
    let name = if prefix.starts_with("黄山") && chance(rng, 0.08) {
        format!("{prefix}{t}{ind}（{}）{suffix}", DISTRICTS[district].short)
    } else {
        format!("{prefix}{t}{ind}{suffix}")
    };
    (name, label)
}

/// Builds entities, shareholdings, individual businesses and employment.
pub fn build(w: &mut World) {
    let mut rng = stream(w.seed, "world/orgs");
    let n = w.persons.len();
    let districts = Weighted::new(DISTRICTS.iter().map(|d| d.pop));
    let adults: Vec<u32> = (0..n as u32)
        .filter(|&i| {
            let p = &w.persons[i as usize];
            !p.recipient && (25..70).contains(&p.age()) && (p.alive() || chance(&mut rng, 0.2))
        })
        .collect();
    let mut keys = std::mem::take(&mut w.company_keys);
    let mut names = Names { keys: &mut keys };
    let kinds = Weighted::new([84.0, 5.0, 3.0, 4.0, 4.0]);
    let n_ent = (n / 25).max(CORE.len() + 8);
    let mut companies: Vec<u32> = Vec::new();
    for k in 0..n_ent {
        // A few of every kind exist in any city, however small.
        let (kind, institution, industry) = match CORE.get(k) {
            Some(&(kind, inst, ind)) => (kind, inst, ind),
            None => (
                [
                    EntityKind::Company,
                    EntityKind::Cooperative,
                    EntityKind::Agency,
                    EntityKind::Institution,
                    EntityKind::SocialOrg,
                ][kinds.sample(&mut rng)],
                None,
                None,
            ),
        };
        let district = districts.sample(&mut rng);
        let industry = industry.unwrap_or_else(|| rng.random_range(0..INDUSTRIES.len()));
        let est = established(&mut rng);
        let mut kind = kind;
        let mut attempts = 0;
        let (name, label, prefix, capital) = loop {
            attempts += 1;
            if attempts > 12 {
                // Only so many bureaus exist: the rest are companies.
                kind = EntityKind::Company;
            }
            let (name, label, prefix, capital) = match kind {
                EntityKind::Company => {
                    let (nm, lb) = company_name(&mut rng, district, industry);
                    let cap = (lognormal(&mut rng, 1_000_000.0, 1.1).clamp(30_000.0, 500_000_000.0)
                        / 10_000.0)
                        .round() as i64
                        * 10_000;
                    (nm, lb, "91", cap)
                }
                EntityKind::Cooperative => {
                    let v = pick(&mut rng, crate::vocab::places::VILLAGES);
                    let nm = format!(
                        "{}{v}{}茶叶专业合作社",
                        DISTRICTS[district].name,
                        trade_name(&mut rng)
                    );
                    (
                        nm,
                        "农民专业合作社",
                        "93",
                        (lognormal(&mut rng, 500_000.0, 0.8) / 10_000.0).round() as i64 * 10_000,
                    )
                }
                EntityKind::Agency => {
                    let scope = if chance(&mut rng, 0.3) {
                        "黄山市".to_string()
                    } else {
                        DISTRICTS[district].name.to_string()
                    };
                    (
                        format!("{scope}{}", pick(&mut rng, PUBLIC_BODIES)),
                        "机关",
                        "11",
                        0,
                    )
                }
                EntityKind::Institution => {
                    let scope = if chance(&mut rng, 0.3) {
                        "黄山市".to_string()
                    } else {
                        DISTRICTS[district].name.to_string()
                    };
                    let cap =
                        (lognormal(&mut rng, 1_000_000.0, 0.7) / 10_000.0).round() as i64 * 10_000;
                    let inst = match institution {
                        Some(i) if attempts < 4 => INSTITUTIONS[i],
                        _ => *pick(&mut rng, INSTITUTIONS),
                    };
                    (format!("{scope}{inst}"), "事业单位", "12", cap)
                }
                _ => {
                    let scope = if chance(&mut rng, 0.5) {
                        "黄山市".to_string()
                    } else {
                        DISTRICTS[district].name.to_string()
                    };
                    let org = pick(&mut rng, SOCIAL_ORGS);
                    let (label, prefix) = if org.ends_with("协会") {
                        ("社会团体", "51")
                    } else {
                        ("民办非企业单位", "52")
                    };
                    (
                        format!("{scope}{}{org}", trade_name(&mut rng)),
                        label,
                        prefix,
                        rng.random_range(3..50) * 10_000,
                    )
                }
            };
            if names.accept(&name) {
                break (name, label, prefix, capital);
            }
        };
        let region = if chance(&mut rng, 0.3) {
            "341000"
        } else {
            DISTRICTS[district].code
        };
        let code = issue_uscc(w, &mut rng, prefix, region, est);
        let rep = if adults.is_empty() {
            NONE
        } else {
            *pick(&mut rng, &adults)
        };
        let idx = w.entities.len() as u32;
        if kind == EntityKind::Company {
            companies.push(idx);
        }
        let phone = if chance(&mut rng, 0.5) {
            5_590_000_000 + rng.random_range(2_000_000..7_000_000)
        } else {
            mobile(&mut rng)
        };
        w.entities.push(Entity {
            uscc: code,
            name: name.into_boxed_str(),
            kind,
            type_label: label,
            parent: NONE,
            addr: random_addr(&mut rng, district),
            rep,
            capital,
            established: est,
            status: if k < CORE.len() { 0 } else { status(&mut rng) },
            industry: industry as u8,
            employees: 0,
            shares: (0, 0),
            phone,
        });
    }
    // Branches: their own code and name, the parent's trade.
    let n_branch = (companies.len() / 20).max(1);
    for _ in 0..n_branch {
        let parent = *pick(&mut rng, &companies);
        let p = w.entities[parent as usize].clone();
        let district = districts.sample(&mut rng);
        let name = format!("{}{}分公司", p.name, DISTRICTS[district].short);
        if !names.accept(&name) {
            continue;
        }
        let est = p.established + Duration::days(rng.random_range(30..2000));
        let est = est.min(ref_date() - Duration::days(10));
        let code = issue_uscc(w, &mut rng, "91", DISTRICTS[district].code, est);
        let rep = if adults.is_empty() {
            NONE
        } else {
            *pick(&mut rng, &adults)
        };
        w.entities.push(Entity {
            uscc: code,
            name: name.into_boxed_str(),
            kind: EntityKind::Branch,
            type_label: "有限责任公司分公司(自然人投资或控股)",
            parent,
            addr: random_addr(&mut rng, district),
            rep,
            capital: 0,
            established: est,
            status: if chance(&mut rng, 0.9) { 0 } else { 2 },
            industry: p.industry,
            employees: 0,
            shares: (0, 0),
            phone: 5_590_000_000 + rng.random_range(2_000_000..7_000_000),
        });
    }
    shareholdings(w, &mut rng, &adults, &companies);
    individual_businesses(w, &mut rng, &mut names);
    w.company_keys = keys;
    assign_jobs(w, &mut rng);
}

/// Adds a company whose legal representative and main shareholder is `rep`
/// (a planted business case); returns its index.
pub fn add_company_for(w: &mut World, rng: &mut Rand, rep: u32, capital: i64) -> u32 {
    let district = w.households[w.persons[rep as usize].household as usize]
        .addr
        .district as usize;
    let industry = rng.random_range(0..INDUSTRIES.len());
    let mut keys = std::mem::take(&mut w.company_keys);
    let (name, label) = loop {
        let (n, l) = company_name(rng, district, industry);
        if (Names { keys: &mut keys }).accept(&n) {
            break (n, l);
        }
    };
    w.company_keys = keys;
    let est = established(rng);
    let code = issue_uscc(w, rng, "91", DISTRICTS[district].code, est);
    let idx = w.entities.len() as u32;
    let start = w.shares.len() as u32;
    w.shares.push(Share {
        entity: idx,
        holder: Holder::Person(rep),
        amount: capital,
        ratio: 100.0,
    });
    w.entities.push(Entity {
        uscc: code,
        name: name.into_boxed_str(),
        kind: EntityKind::Company,
        type_label: if label.starts_with("有限责任公司") {
            "有限责任公司(自然人独资)"
        } else {
            label
        },
        parent: NONE,
        addr: random_addr(rng, district),
        rep,
        capital,
        established: est,
        status: 0,
        industry: industry as u8,
        employees: 0,
        shares: (start, 1),
        phone: w.persons[rep as usize].phone,
    });
    idx
}

/// Adds an individual business run by `op` with this capital; returns its index.
pub fn add_individual_for(w: &mut World, rng: &mut Rand, op: u32, capital: i64) -> u32 {
    let district = w.households[w.persons[op as usize].household as usize]
        .addr
        .district as usize;
    let shop = rng.random_range(0..SHOPS.len());
    let surname: String = w.persons[op as usize].name.chars().take(1).collect();
    let mut keys = std::mem::take(&mut w.company_keys);
    let name = loop {
        let n = format!(
            "{}{}{}",
            DISTRICTS[district].short,
            if chance(rng, 0.5) {
                format!("{surname}记")
            } else {
                trade_name(rng)
            },
            SHOPS[shop].0
        );
        if (Names { keys: &mut keys }).accept(&n) {
            break n;
        }
    };
    w.company_keys = keys;
    let est = established(rng).max(NaiveDate::from_ymd_opt(2005, 1, 1).expect("date"));
    let code = issue_uscc(w, rng, "92", DISTRICTS[district].code, est);
    let idx = w.entities.len() as u32;
    w.entities.push(Entity {
        uscc: code,
        name: name.into_boxed_str(),
        kind: EntityKind::Individual,
        type_label: "个体工商户",
        parent: NONE,
        addr: random_addr(rng, district),
        rep: op,
        capital,
        established: est,
        status: 0,
        industry: shop as u8,
        employees: 0,
        shares: (0, 0),
        phone: w.persons[op as usize].phone,
    });
    let p = &mut w.persons[op as usize];
    p.job.kind = JobKind::SelfEmployed;
    p.job.employer = idx;
    p.job.wage = (capital / 20).clamp(1_000, 20_000) as u32;
    p.job.no_si = true;
    idx
}

/// Entities every city has: bureaus, a hospital, schools, associations,
/// cooperatives and transport companies (kind, institution name, industry).
const CORE: [(EntityKind, Option<usize>, Option<usize>); 14] = [
    (EntityKind::Agency, None, None),
    (EntityKind::Agency, None, None),
    (EntityKind::Agency, None, None),
    (EntityKind::Institution, Some(0), None),
    (EntityKind::Institution, Some(3), None),
    (EntityKind::Institution, Some(5), None),
    (EntityKind::Institution, Some(1), None),
    (EntityKind::SocialOrg, None, None),
    (EntityKind::SocialOrg, None, None),
    (EntityKind::Cooperative, None, None),
    (EntityKind::Company, None, Some(21)),
    (EntityKind::Company, None, Some(9)),
    (EntityKind::Company, None, Some(12)),
    (EntityKind::Company, None, Some(1)),
];

fn status(rng: &mut Rand) -> u8 {
    match rng.random_range(0..100) {
        0..80 => 0,
        80..90 => 1,
        90..96 => 2,
        96..99 => 3,
        _ => 4,
    }
}

/// Splits 100 % into `k` shares (two decimals), the first the largest.
fn split_ratios(rng: &mut Rand, k: usize) -> Vec<f64> {
    let mut raw: Vec<f64> = (0..k)
        .map(|i| rng.random_range(1.0..10.0) * if i == 0 { 2.0 } else { 1.0 })
        .collect();
    let total: f64 = raw.iter().sum();
    for r in &mut raw {
        *r = (*r / total * 10_000.0).round() / 100.0;
    }
    let sum_rest: f64 = raw[1..].iter().sum();
    raw[0] = ((100.0 - sum_rest) * 100.0).round() / 100.0;
    raw
}

fn shareholdings(w: &mut World, rng: &mut Rand, adults: &[u32], companies: &[u32]) {
    for i in 0..w.entities.len() as u32 {
        let e = &w.entities[i as usize];
        if !matches!(e.kind, EntityKind::Company | EntityKind::Cooperative) || adults.is_empty() {
            continue;
        }
        let k = match rng.random_range(0..100) {
            0..40 => 1,
            40..75 => 2,
            75..90 => 3,
            _ => 4,
        };
        let ratios = split_ratios(rng, k);
        let start = w.shares.len() as u32;
        let capital = e.capital;
        let rep = e.rep;
        let mut holders: Vec<Holder> = Vec::new();
        for (j, &ratio) in ratios.iter().enumerate().take(k) {
            let h = if j == 0 && rep != NONE && chance(rng, 0.75) {
                Holder::Person(rep)
            } else if chance(rng, 0.1) && companies.len() > 1 {
                let c = *pick(rng, companies);
                if c == i {
                    Holder::Person(*pick(rng, adults))
                } else {
                    Holder::Entity(c)
                }
            } else {
                Holder::Person(*pick(rng, adults))
            };
            if holders.contains(&h) {
                continue;
            }
            holders.push(h);
            w.shares.push(Share {
                entity: i,
                holder: h,
                amount: (capital as f64 * ratio / 100.0).round() as i64,
                ratio,
            });
        }
        let len = w.shares.len() as u32 - start;
        let e = &mut w.entities[i as usize];
        e.shares = (start, len as u8);
        if len == 1 {
            if matches!(holders[0], Holder::Entity(_)) {
                e.type_label = "有限责任公司(非自然人投资或控股的法人独资)";
            } else if e.type_label.starts_with("有限责任公司") {
                e.type_label = "有限责任公司(自然人独资)";
            }
        }
    }
}

fn individual_businesses(w: &mut World, rng: &mut Rand, names: &mut Names) {
    let n = w.persons.len();
    let target = (n / 30).max(8);
    let operators: Vec<u32> = (0..n as u32)
        .filter(|&i| {
            let p = &w.persons[i as usize];
            !p.recipient && p.alive() && (20..66).contains(&p.age()) && p.job.kind == JobKind::None
        })
        .collect();
    if operators.is_empty() {
        return;
    }
    let chosen = crate::rng::sample_indices(rng, operators.len(), target);
    for oi in chosen {
        let op = operators[oi];
        let district = w.households[w.persons[op as usize].household as usize]
            .addr
            .district as usize;
        let shop = rng.random_range(0..SHOPS.len());
        let short = DISTRICTS[district].short;
        let surname: String = w.persons[op as usize].name.chars().take(1).collect();
        let name = loop {
            let trade = match rng.random_range(0..3) {
                0 => format!("{surname}记"),
                1 => format!("{surname}氏"),
                _ => trade_name(rng),
            };
            let name = format!("{short}{trade}{}", SHOPS[shop].0);
            if names.accept(&name) {
                break name;
            }
        };
        let name = if chance(rng, 0.2) {
            String::new()
        } else {
            name
        };
        let est = established(rng).max(NaiveDate::from_ymd_opt(1998, 1, 1).expect("date"));
        let code = issue_uscc(w, rng, "92", DISTRICTS[district].code, est);
        let capital = ((lognormal(rng, 50_000.0, 0.9).clamp(5_000.0, 2_000_000.0) / 1000.0).round()
            as i64)
            * 1000;
        let employees = match rng.random_range(0..100) {
            0..40 => 0,
            40..65 => 1,
            65..80 => 2,
            _ => rng.random_range(3..8),
        };
        let idx = w.entities.len() as u32;
        let phone = w.persons[op as usize].phone;
        let addr = random_addr(rng, district);
        w.entities.push(Entity {
            uscc: code,
            name: name.into_boxed_str(),
            kind: EntityKind::Individual,
            type_label: "个体工商户",
            parent: NONE,
            addr,
            rep: op,
            capital,
            established: est,
            status: match rng.random_range(0..100) {
                0..88 => 0,
                88..97 => 2,
                _ => 3,
            },
            industry: shop as u8,
            employees,
            shares: (0, 0),
            phone,
        });
        let p = &mut w.persons[op as usize];
        p.job.kind = JobKind::SelfEmployed;
        p.job.employer = idx;
        p.job.wage = lognormal(rng, 5_000.0, 0.5).clamp(1_500.0, 40_000.0) as u32;
    }
}

/// Employers for working-age people: companies by a skewed size
/// distribution, public bodies for a minority.
fn assign_jobs(w: &mut World, rng: &mut Rand) {
    let mut firms: Vec<u32> = Vec::new();
    let mut publics: Vec<u32> = Vec::new();
    for (i, e) in w.entities.iter().enumerate() {
        match e.kind {
            EntityKind::Company | EntityKind::Branch | EntityKind::Cooperative if e.status <= 1 => {
                firms.push(i as u32)
            }
            EntityKind::Agency | EntityKind::Institution => publics.push(i as u32),
            _ => {}
        }
    }
    let zipf = |n: usize| Weighted::new((0..n).map(|r| 1.0 / ((r + 1) as f64).powf(0.9)));
    let firm_w = zipf(firms.len());
    let pub_w = zipf(publics.len());
    for i in 0..w.persons.len() {
        let p = &w.persons[i];
        if p.job.kind != JobKind::None || p.recipient || p.moved_out {
            continue;
        }
        let age = p.age();
        let retire = if p.male { 60 } else { 55 };
        if !(18..retire).contains(&age) {
            continue;
        }
        let urban = w.households[p.household as usize].addr.urban();
        let x: f64 = rng.random();
        let farmer_p = if urban { 0.05 } else { 0.28 };
        let (kind, employer, wage) = if x < 0.50 && !firms.is_empty() {
            let f = firms[firm_w.sample(rng)];
            (
                JobKind::Enterprise,
                f,
                lognormal(rng, 4_800.0, 0.45).clamp(2_100.0, 60_000.0) as u32,
            )
        } else if x < 0.58 && !publics.is_empty() {
            let f = publics[pub_w.sample(rng)];
            (
                JobKind::Public,
                f,
                lognormal(rng, 7_000.0, 0.25).clamp(3_500.0, 20_000.0) as u32,
            )
        } else if x < 0.66 {
            (
                JobKind::Flexible,
                NONE,
                lognormal(rng, 3_500.0, 0.4).clamp(1_500.0, 15_000.0) as u32,
            )
        } else if x < 0.66 + farmer_p {
            (JobKind::Farmer, NONE, 0)
        } else {
            (JobKind::None, NONE, 0)
        };
        let p = &mut w.persons[i];
        p.job.kind = kind;
        p.job.employer = employer;
        p.job.wage = wage;
        if employer != NONE {
            w.entities[employer as usize].employees += 1;
        }
    }
}
