//! Licences, grid-member reports and 12345 hotline cases.

use super::people::date_in;
use super::{Ctx, EntitySlots, Generator, PersonSlots, Record, phone_text};
use crate::rng::{Rand, chance, pick, pick_skewed, stable_hash};
use crate::vocab::places::DISTRICTS;
use crate::vocab::words::{GRID_SUBTYPES, HANDLERS, HOTLINE_TOPICS, LICENSE_KINDS, PHRASES};
use crate::world::{EntityKind, Holder, World, ref_date};
use chrono::{Duration, NaiveDateTime, NaiveTime};
use civhub_core::Value;
use rand::Rng;

/// Who holds a kind of licence.
#[derive(Debug, Clone, Copy)]
enum Pop {
    /// People aged 60 and over.
    Elderly,
    /// People with a disability.
    Disabled,
    /// Adults, drivers' licences (number = ID number).
    Drivers,
    /// People registered elsewhere (居住证).
    NonLocal,
    /// A share of adults.
    Adults(f64),
    /// Every enterprise and individual business.
    AllBusinesses,
    /// A share of enterprises and individual businesses.
    Businesses(f64),
}

fn population(kind: &str, persons: bool) -> Pop {
    let has = |k: &[&str]| k.iter().any(|x| kind.contains(x));
    if has(&["老年"]) {
        Pop::Elderly
    } else if has(&["残疾"]) {
        Pop::Disabled
    } else if has(&["驾驶证", "驾驶人"]) {
        Pop::Drivers
    } else if has(&["居住证"]) {
        Pop::NonLocal
    } else if has(&["营业执照"]) {
        Pop::AllBusinesses
    } else if persons {
        Pop::Adults(if has(&["技能", "职业"]) {
            0.04
        } else if has(&["教师"]) {
            0.015
        } else if has(&["从业资格", "驾驶员", "押运"]) {
            0.02
        } else if has(&["医师", "护士"]) {
            0.006
        } else {
            0.002
        })
    } else {
        Pop::Businesses(if has(&["排污", "安全生产", "危险"]) {
            0.02
        } else {
            0.06
        })
    }
}

/// `license`: certificates of the kinds this export carries.
pub struct LicenseGen<'a> {
    ctx: &'a Ctx<'a>,
    plan: Vec<(Holder, u8)>,
    kinds: Vec<String>,
    person: PersonSlots,
    org: EntitySlots,
    f: [Option<usize>; 8],
    prefix: String,
}

impl<'a> LicenseGen<'a> {
    /// Plans the holders.
    pub fn new(ctx: &'a Ctx<'a>, rng: &mut Rand) -> Self {
        let w = ctx.world;
        let p = ctx.pipeline;
        let kinds: Vec<String> = if let Some(c) = ctx.constant("license_type") {
            vec![c.to_string()]
        } else {
            let field = p.schema.field_index("license_type");
            let map = field
                .and_then(|f| p.columns.iter().find(|c| c.field == f))
                .and_then(|c| c.map.as_ref());
            match map {
                Some(m) => {
                    let mut v: Vec<String> =
                        m.values().filter(|v| !v.is_empty()).cloned().collect();
                    v.sort();
                    v.dedup();
                    v
                }
                None if p.def.catalog.title.contains("电子证照")
                    || p.dataset.contains("e_license") =>
                {
                    LICENSE_KINDS.iter().map(|s| s.to_string()).collect()
                }
                None => vec![p.def.catalog.title.trim_end_matches("信息").to_string()],
            }
        };
        let holder_const = ctx.constant("holder_type");
        let has_person = p
            .def
            .identity
            .iter()
            .any(|i| *i.kind.get_ref() == civhub_ingest::config::IdentityKind::Person);
        let has_entity = p
            .def
            .identity
            .iter()
            .any(|i| *i.kind.get_ref() == civhub_ingest::config::IdentityKind::Entity);
        let persons_ok = holder_const.is_none_or(|h| h == "自然人")
            && (has_person || !has_entity)
            && Ctx::accepts(p, "holder_type", "自然人");
        let entities_ok = holder_const.is_none_or(|h| h == "法人")
            && (has_entity || !has_person)
            && Ctx::accepts(p, "holder_type", "法人");
        let mut plan = Vec::new();
        for (k, kind) in kinds.iter().enumerate() {
            let share = 1.0 / kinds.len() as f64;
            let pop = population(kind, persons_ok && (!entities_ok || !kind.contains("许可")));
            match pop {
                Pop::AllBusinesses | Pop::Businesses(_) if entities_ok => {
                    let rate = if let Pop::Businesses(r) = pop { r } else { 1.0 };
                    for (e, ent) in w.entities.iter().enumerate() {
                        let business = matches!(
                            ent.kind,
                            EntityKind::Company
                                | EntityKind::Branch
                                | EntityKind::Cooperative
                                | EntityKind::Individual
                        );
                        if business
                            && chance(
                                rng,
                                rate * if matches!(pop, Pop::AllBusinesses) {
                                    1.0
                                } else {
                                    share * 2.0
                                },
                            )
                        {
                            plan.push((Holder::Entity(e as u32), k as u8));
                        }
                    }
                }
                _ if persons_ok => {
                    for (i, person) in w.persons.iter().enumerate() {
                        let age = person.age();
                        if !person.alive() || person.moved_out {
                            continue;
                        }
                        let p_take = match pop {
                            Pop::Elderly => f64::from(u8::from(age >= 60)) * 0.75,
                            Pop::Disabled => 0.02,
                            Pop::Drivers if !person.recipient && (18..72).contains(&age) => 0.45,
                            Pop::NonLocal
                                if !person.recipient
                                    && age >= 16
                                    && &person.id_str()[..4] != "3410" =>
                            {
                                0.8
                            }
                            Pop::Adults(r) if !person.recipient && (20..62).contains(&age) => {
                                r * share * kinds.len() as f64
                            }
                            _ => 0.0,
                        };
                        if chance(rng, p_take) {
                            plan.push((Holder::Person(i as u32), k as u8));
                        }
                    }
                }
                _ => {}
            }
        }
        // However small the city, an export has a few rows.
        let floor = p.limits.min_rows.unwrap_or(1).max(5) as usize;
        let mut tries = 0;
        while plan.len() < floor && tries < 1000 {
            tries += 1;
            if persons_ok {
                let i = rng.random_range(0..w.persons.len()) as u32;
                let person = w.person(i);
                if person.alive()
                    && !person.recipient
                    && person.age() >= 20
                    && !plan.iter().any(|(h, _)| *h == Holder::Person(i))
                {
                    plan.push((Holder::Person(i), 0));
                }
            } else if entities_ok && !w.entities.is_empty() {
                let e = rng.random_range(0..w.entities.len()) as u32;
                if w.entity(e).kind != EntityKind::Agency
                    && !plan.iter().any(|(h, _)| *h == Holder::Entity(e))
                {
                    plan.push((Holder::Entity(e), 0));
                }
            } else {
                break;
            }
        }
        let person = PersonSlots {
            id: ctx.f("holder_id_number"),
            name: ctx.f("holder_name"),
            ..PersonSlots::default()
        };
        let org = EntitySlots {
            uscc: ctx.f("holder_uscc"),
            name: ctx.f("holder_name"),
            ..EntitySlots::default()
        };
        let f = [
            "license_no",
            "license_type",
            "holder_type",
            "issuer",
            "issue_date",
            "expiry_date",
            "trust_level",
            "status",
        ]
        .map(|n| ctx.f(n));
        let h = stable_hash(0, &p.id);
        let prefix = format!(
            "{}{}",
            (b'A' + (h % 26) as u8) as char,
            (b'A' + ((h >> 8) % 26) as u8) as char
        );
        LicenseGen {
            ctx,
            plan,
            kinds,
            person,
            org,
            f,
            prefix,
        }
    }
}

impl Generator for LicenseGen<'_> {
    fn len(&self) -> usize {
        self.plan.len()
    }
    fn fill(&mut self, i: usize, rng: &mut Rand, rec: &mut Record) {
        let w = self.ctx.world;
        let (holder, k) = self.plan[i];
        let kind = &self.kinds[k as usize];
        let [no, ltype, htype, issuer, issue, expiry, trust, status] = self.f;
        let issued = date_in(rng, 2012, 2026);
        match holder {
            Holder::Person(p) => {
                rec.put_person(w, &self.person, p, None);
                rec.text(htype, "自然人");
                if kind.contains("驾驶证") {
                    rec.text(no, w.person(p).id_str());
                } else {
                    rec.text(
                        no,
                        format!(
                            "{}{}{:08}",
                            self.prefix,
                            chrono::Datelike::year(&issued),
                            i + 1
                        ),
                    );
                }
            }
            Holder::Entity(e) => {
                rec.put_entity(w, &self.org, e);
                rec.text(htype, "法人");
                rec.text(
                    no,
                    format!(
                        "{}{:03}{}",
                        w.entity(e).uscc_str(),
                        k,
                        (b'A' + (i % 26) as u8) as char
                    ),
                );
            }
        }
        rec.text(ltype, kind.as_str());
        rec.text(issuer, self.ctx.dept_name);
        rec.set(issue, Value::Date(issued));
        let lasting = kind.contains("老年") || kind.contains("营业执照") || chance(rng, 0.1);
        let exp = issued + Duration::days(365 * rng.random_range(3..11));
        if !lasting {
            rec.set(expiry, Value::Date(exp));
        }
        rec.text(trust, *pick_skewed(rng, &["A", "B", "C", "D"]));
        let st = if !lasting && exp < ref_date() {
            "过期"
        } else if chance(rng, 0.03) {
            "注销"
        } else {
            "有效"
        };
        rec.text(status, st);
        if let Some(f) = self.ctx.f("photo_ref") {
            rec.values[f] = Value::Str(format!(
                "photo/{:016x}.jpg",
                stable_hash(self.ctx.seed, &i.to_string())
            ));
        }
    }
}

fn datetime_in_2026(rng: &mut Rand) -> NaiveDateTime {
    let d = date_in(rng, 2026, 2026);
    let t = NaiveTime::from_hms_opt(
        rng.random_range(7..22),
        rng.random_range(0..60),
        rng.random_range(0..60),
    )
    .expect("time");
    d.and_time(t)
}

/// `grid_event`: reports by grid members.
pub struct GridGen<'a> {
    ctx: &'a Ctx<'a>,
    n: usize,
    members: Vec<u32>,
    person: PersonSlots,
    org: EntitySlots,
    f: [Option<usize>; 10],
}

impl<'a> GridGen<'a> {
    /// About one report per 20 residents.
    pub fn new(ctx: &'a Ctx<'a>) -> Self {
        let w = ctx.world;
        let n = (w.persons.len() / 20).max(10);
        let members: Vec<u32> = (0..w.persons.len() as u32)
            .filter(|&p| {
                stable_hash(ctx.seed, &p.to_string()).is_multiple_of(500)
                    && w.person(p).alive()
                    && (25..60).contains(&w.person(p).age())
            })
            .collect();
        let person = PersonSlots {
            id: ctx.f("person_id_number"),
            name: ctx.f("person_name"),
            ..PersonSlots::default()
        };
        let org = EntitySlots {
            uscc: ctx.f("org_uscc"),
            name: ctx.f("org_name"),
            ..EntitySlots::default()
        };
        let f = [
            "event_id",
            "category",
            "subtype",
            "summary",
            "grid_code",
            "reporter_name",
            "location",
            "district",
            "reported_at",
            "status",
        ]
        .map(|n| ctx.f(n));
        GridGen {
            ctx,
            n,
            members,
            person,
            org,
            f,
        }
    }
}

impl Generator for GridGen<'_> {
    fn len(&self) -> usize {
        self.n
    }
    fn fill(&mut self, i: usize, rng: &mut Rand, rec: &mut Record) {
        let w: &World = self.ctx.world;
        let [
            id,
            category,
            subtype,
            summary,
            grid,
            reporter,
            location,
            district,
            at,
            status,
        ] = self.f;
        let (cat, subs, text) = *pick(rng, GRID_SUBTYPES);
        let when = datetime_in_2026(rng);
        rec.text(id, format!("WG{}{:07}", when.format("%Y%m%d"), i + 1));
        rec.text(category, cat);
        rec.text(subtype, *pick(rng, subs));
        rec.text(summary, text);
        let d = match cat {
            "人" => {
                let p = rng.random_range(0..w.persons.len()) as u32;
                rec.put_person(w, &self.person, p, None);
                w.address_of(p).district as usize
            }
            "组织" if !w.entities.is_empty() => {
                let e = rng.random_range(0..w.entities.len()) as u32;
                rec.put_entity(w, &self.org, e);
                w.entity(e).addr.district as usize
            }
            _ => rng.random_range(0..DISTRICTS.len()),
        };
        rec.text(
            grid,
            format!(
                "{}{:03}{:03}",
                DISTRICTS[d].code,
                rng.random_range(1..20),
                rng.random_range(1..60)
            ),
        );
        let member = if self.members.is_empty() {
            rng.random_range(0..w.persons.len()) as u32
        } else {
            *pick(rng, &self.members)
        };
        rec.text(reporter, w.person(member).name.to_string());
        rec.text(location, crate::world::people::random_addr(rng, d).render());
        rec.text(district, DISTRICTS[d].name);
        rec.set(at, Value::DateTime(when));
        rec.text(status, *pick_skewed(rng, &["已办结", "处理中", "待处理"]));
        rec.district = Some(d as u8);
    }
}

/// `hotline_case`: 12345 cases.
pub struct HotlineGen<'a> {
    ctx: &'a Ctx<'a>,
    n: usize,
    person: PersonSlots,
    f: [Option<usize>; 11],
}

impl<'a> HotlineGen<'a> {
    /// About one case per 15 residents.
    pub fn new(ctx: &'a Ctx<'a>) -> Self {
        let n = (ctx.world.persons.len() / 15).max(10);
        let person = PersonSlots {
            id: ctx.f("caller_id_number"),
            name: ctx.f("caller_name"),
            phone: ctx.f("caller_phone"),
            ..PersonSlots::default()
        };
        let f = [
            "case_no",
            "received_at",
            "channel",
            "category",
            "topic",
            "content",
            "address",
            "district",
            "assigned_to",
            "status",
            "closed_at",
        ]
        .map(|n| ctx.f(n));
        HotlineGen { ctx, n, person, f }
    }
}

impl Generator for HotlineGen<'_> {
    fn len(&self) -> usize {
        self.n
    }
    fn fill(&mut self, i: usize, rng: &mut Rand, rec: &mut Record) {
        let w = self.ctx.world;
        let [
            no,
            at,
            channel,
            category,
            topic,
            content,
            address,
            district,
            assigned,
            status,
            closed,
        ] = self.f;
        let mut p = rng.random_range(0..w.persons.len()) as u32;
        for _ in 0..5 {
            if w.person(p).alive() && w.person(p).age() >= 16 {
                break;
            }
            p = rng.random_range(0..w.persons.len()) as u32;
        }
        rec.put_person(w, &self.person, p, None);
        if let Some(f) = self.person.id
            && chance(rng, 0.7)
        {
            rec.values[f] = Value::Null;
            rec.owners[f] = None;
        }
        if let Some(f) = self.person.phone
            && rec.values[f].is_null()
        {
            let hh = w.household_of(p);
            if hh.landline > 0 {
                rec.set_of(
                    Some(f),
                    Value::Str(phone_text(u64::from(hh.landline))),
                    Holder::Person(p),
                );
            }
        }
        let received = datetime_in_2026(rng);
        rec.text(
            no,
            format!("12345{}{:06}", received.format("%Y%m%d"), i + 1),
        );
        rec.set(at, Value::DateTime(received));
        rec.text(
            channel,
            *pick_skewed(rng, &["电话", "网站", "微信", "APP", "领导信箱"]),
        );
        rec.text(
            category,
            *pick_skewed(rng, &["咨询", "求助", "投诉", "举报", "建议", "表扬"]),
        );
        let (t, c) = *pick(rng, HOTLINE_TOPICS);
        rec.text(topic, t);
        rec.text(content, format!("{c}。{}", pick(rng, PHRASES)));
        let addr = *w.address_of(p);
        rec.text(address, addr.render());
        rec.text(district, addr.district_name());
        rec.text(assigned, *pick(rng, HANDLERS));
        let st = *pick_skewed(rng, &["已办结", "已回访", "办理中", "待办"]);
        rec.text(status, st);
        if matches!(st, "已办结" | "已回访") {
            let c = received + Duration::hours(rng.random_range(2..240));
            rec.set(
                closed,
                Value::DateTime(c.min(ref_date().and_hms_opt(0, 0, 0).expect("time"))),
            );
            if let Some(s) = self.ctx.f("satisfaction") {
                rec.values[s] = Value::Str(
                    pick_skewed(rng, &["满意", "基本满意", "未评价", "不满意"]).to_string(),
                );
            }
        } else if let Some(s) = self.ctx.f("satisfaction") {
            rec.values[s] = Value::Str("未评价".into());
        }
        rec.district = Some(addr.district);
    }
}
