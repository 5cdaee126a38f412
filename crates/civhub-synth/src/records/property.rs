//! Properties and vehicles.
//!
//! When several exports share a schema, each record goes to the exports
//! whose constants and code tables can express it: a homestead register
//! (宅基地, usage fixed to 住宅) gets rural dwellings, the general register
//! the rest, so one property is never listed twice under two certificates.

use super::{Ctx, EntitySlots, Generator, PersonSlots, Record};
use crate::rng::{Rand, chance, pick};
use crate::vocab::places::DISTRICTS;
use crate::world::{Holder, Property, Topic, USAGES, USES, VEHICLE_TYPES, ref_date};
use chrono::{Datelike, Duration};
use civhub_core::Value;
use civhub_ingest::config::{ColumnSource, Pipeline, Sheets};

/// True for exports of rural homesteads only.
fn rural_only(p: &Pipeline) -> bool {
    let about = format!(
        "{} {} {}",
        p.id, p.def.catalog.title, p.def.catalog.description
    );
    ["宅基地", "房地一体", "homestead", "农村"]
        .iter()
        .any(|k| about.contains(k))
}

/// True for exports of purchase-contract filings (网签备案): recent
/// purchases, also in the register, never of a 低保 recipient.
fn contracts(p: &Pipeline) -> bool {
    let about = format!(
        "{} {} {}",
        p.id, p.def.catalog.title, p.def.catalog.description
    );
    ["网签", "合同", "contract"]
        .iter()
        .any(|k| about.contains(k))
}

/// Districts an export's sheets can hold, when its sheets are named after districts.
fn sheet_districts(p: &Pipeline) -> Option<Vec<usize>> {
    let district = p.schema.field_index("district")?;
    let by_sheet = p
        .columns
        .iter()
        .any(|c| c.field == district && c.source == ColumnSource::Sheet);
    match (&p.def.source.sheets, by_sheet) {
        (Some(s), true) => match s.get_ref() {
            Sheets::Many(names) => Some(
                names
                    .iter()
                    .filter_map(|n| crate::vocab::places::district_by_name(n))
                    .collect(),
            ),
            Sheets::One(n) if n != "*" => Some(
                crate::vocab::places::district_by_name(n)
                    .into_iter()
                    .collect(),
            ),
            _ => None,
        },
        _ => None,
    }
}

fn accepts_property(p: &Pipeline, prop: &Property) -> bool {
    if rural_only(p) && (prop.addr.urban() || matches!(prop.owner, Holder::Entity(_))) {
        return false;
    }
    if let Some(ds) = sheet_districts(p)
        && !ds.contains(&(prop.addr.district as usize))
    {
        return false;
    }
    let status = ["现势", "注销", "抵押", "查封"][prop.status as usize];
    Ctx::accepts(p, "usage", USAGES[prop.usage as usize]) && Ctx::accepts(p, "status", status)
}

fn specificity(p: &Pipeline) -> usize {
    usize::from(rural_only(p)) * 4
        + usize::from(sheet_districts(p).is_some()) * 2
        + p.columns
            .iter()
            .filter(|c| matches!(c.source, ColumnSource::Const(_)))
            .count()
}

/// `property`: the properties this register holds.
pub struct PropertyGen<'a> {
    ctx: &'a Ctx<'a>,
    plan: Vec<u32>,
    owner: PersonSlots,
    org: EntitySlots,
    f: [Option<usize>; 9],
}

impl<'a> PropertyGen<'a> {
    /// Assigns each property to the most specific register that accepts it.
    pub fn new(ctx: &'a Ctx<'a>) -> Self {
        let w = ctx.world;
        let mut peers: Vec<&Pipeline> = ctx
            .peers
            .iter()
            .copied()
            .filter(|p| !contracts(p))
            .collect();
        peers.sort_by(|a, b| specificity(b).cmp(&specificity(a)).then(a.id.cmp(&b.id)));
        let recent = ref_date() - Duration::days(730);
        let plan: Vec<u32> = if contracts(ctx.pipeline) {
            (0..w.properties.len() as u32)
                .filter(|&i| {
                    let prop = &w.properties[i as usize];
                    let recipient =
                        matches!(prop.owner, Holder::Person(p) if w.person(p).recipient);
                    prop.registered >= recent && !recipient && accepts_property(ctx.pipeline, prop)
                })
                .collect()
        } else {
            (0..w.properties.len() as u32)
                .filter(|&i| {
                    let prop = &w.properties[i as usize];
                    peers
                        .iter()
                        .find(|p| accepts_property(p, prop))
                        .is_some_and(|p| p.id == ctx.pipeline.id)
                })
                .collect()
        };
        let owner = PersonSlots {
            id: ctx.f("owner_id_number"),
            name: ctx.f("owner_name"),
            ..PersonSlots::default()
        };
        let org = EntitySlots {
            uscc: ctx.f("owner_uscc"),
            name: ctx.f("owner_name"),
            ..EntitySlots::default()
        };
        let f = [
            "cert_no",
            "unit_no",
            "share",
            "address",
            "district",
            "usage",
            "floor_area",
            "register_date",
            "status",
        ]
        .map(|n| ctx.f(n));
        PropertyGen {
            ctx,
            plan,
            owner,
            org,
            f,
        }
    }
}

impl Generator for PropertyGen<'_> {
    fn len(&self) -> usize {
        self.plan.len()
    }
    fn fill(&mut self, i: usize, _rng: &mut Rand, rec: &mut Record) {
        let w = self.ctx.world;
        let idx = self.plan[i];
        let prop = &w.properties[idx as usize];
        match prop.owner {
            Holder::Person(p) => rec.put_person(w, &self.owner, p, Some(Topic::Property)),
            Holder::Entity(e) => rec.put_entity(w, &self.org, e),
        }
        let [
            cert,
            unit,
            share,
            address,
            district,
            usage,
            area,
            date,
            status,
        ] = self.f;
        let d = &DISTRICTS[prop.addr.district as usize];
        let place = if prop.addr.urban() {
            "黄山市"
        } else {
            d.name
        };
        rec.text(
            cert,
            format!(
                "皖({}){place}不动产权第{:07}号",
                prop.registered.year(),
                idx + 1
            ),
        );
        let kind = if prop.addr.urban() { "GB" } else { "JC" };
        rec.text(
            unit,
            format!(
                "{}{:03}{:03}{kind}{:05}F{:08}",
                d.code,
                prop.addr.town + 1,
                prop.addr.place + 1,
                idx % 100_000,
                idx + 1
            ),
        );
        rec.text(
            share,
            ["单独所有", "共同共有", "按份共有"][prop.share as usize],
        );
        // The property's location; its address field belongs to the property, not the owner.
        if let Some(a) = address {
            rec.values[a] = Value::Str(prop.addr.render());
            rec.owners[a] = None;
        }
        rec.text(district, d.name);
        rec.text(usage, USAGES[prop.usage as usize]);
        rec.set(area, Value::Dec(i128::from(prop.area)));
        rec.set(date, Value::Date(prop.registered));
        rec.text(
            status,
            ["现势", "注销", "抵押", "查封"][prop.status as usize],
        );
        rec.district = Some(prop.addr.district);
    }
}

/// Kinds of farm machinery.
const MACHINES: &[(&str, &str)] = &[
    ("轮式拖拉机", "东方红-LX904"),
    ("手扶拖拉机", "常发-CF151"),
    ("联合收割机", "沃得-4LZ-6.0"),
    ("插秧机", "久保田-2ZGQ-6"),
];

enum VehiclePlan {
    World(Vec<u32>),
    /// Farm machinery, made here: (owner, registration days ago, machine).
    Machines(Vec<(u32, u16, u8)>),
}

/// `vehicle`: the vehicles this register holds (farm machinery for a
/// register whose plate type is fixed to tractor plates).
pub struct VehicleGen<'a> {
    ctx: &'a Ctx<'a>,
    plan: VehiclePlan,
    owner: PersonSlots,
    org: EntitySlots,
    f: [Option<usize>; 7],
}

impl<'a> VehicleGen<'a> {
    /// Plans the register.
    pub fn new(ctx: &'a Ctx<'a>) -> Self {
        let w = ctx.world;
        let p = ctx.pipeline;
        let machinery = ctx
            .constant("plate_type")
            .is_some_and(|t| t.contains("拖拉机"))
            || ctx.about().contains("农机");
        let plan = if machinery {
            let mut v = Vec::new();
            for (i, person) in w.persons.iter().enumerate() {
                let i = i as u32;
                if person.recipient
                    || !person.alive()
                    || !(25..75).contains(&person.age())
                    || w.address_of(i).urban()
                {
                    continue;
                }
                let h = crate::rng::stable_hash(ctx.seed, &i.to_string());
                if h % 1000 < 25 {
                    v.push((
                        i,
                        (h >> 10) as u16 % 5000 + 30,
                        ((h >> 30) % MACHINES.len() as u64) as u8,
                    ));
                }
            }
            let floor = p.limits.min_rows.unwrap_or(1).max(5) as usize;
            let mut extra = (0..w.persons.len() as u32).filter(|&i| {
                w.person(i).alive() && !w.person(i).recipient && w.person(i).age() >= 25
            });
            while v.len() < floor {
                match extra.next() {
                    Some(i) if !v.iter().any(|x| x.0 == i) => v.push((i, 400, 0)),
                    Some(_) => {}
                    None => break,
                }
            }
            VehiclePlan::Machines(v)
        } else {
            let plan: Vec<u32> = (0..w.vehicles.len() as u32)
                .filter(|&i| {
                    let v = &w.vehicles[i as usize];
                    let (vt, pt) = VEHICLE_TYPES[v.vtype as usize];
                    Ctx::accepts(p, "use_nature", USES[v.use_nature as usize])
                        && Ctx::accepts(p, "plate_type", pt)
                        && Ctx::accepts(p, "vehicle_type", vt)
                })
                .collect();
            VehiclePlan::World(plan)
        };
        let owner = PersonSlots {
            id: ctx.f("owner_id_number"),
            name: ctx.f("owner_name"),
            ..PersonSlots::default()
        };
        let org = EntitySlots {
            uscc: ctx.f("owner_uscc"),
            name: ctx.f("owner_name"),
            ..EntitySlots::default()
        };
        let f = [
            "plate",
            "plate_type",
            "vehicle_type",
            "use_nature",
            "brand",
            "register_date",
            "status",
        ]
        .map(|n| ctx.f(n));
        VehicleGen {
            ctx,
            plan,
            owner,
            org,
            f,
        }
    }
}

impl Generator for VehicleGen<'_> {
    fn len(&self) -> usize {
        match &self.plan {
            VehiclePlan::World(v) => v.len(),
            VehiclePlan::Machines(v) => v.len(),
        }
    }
    fn fill(&mut self, i: usize, rng: &mut Rand, rec: &mut Record) {
        let w = self.ctx.world;
        let [plate, ptype, vtype, use_nature, brand, date, status] = self.f;
        let _ = (ptype, use_nature);
        match &self.plan {
            VehiclePlan::World(v) => {
                let veh = &w.vehicles[v[i] as usize];
                match veh.owner {
                    Holder::Person(p) => rec.put_person(w, &self.owner, p, Some(Topic::Vehicle)),
                    Holder::Entity(e) => rec.put_entity(w, &self.org, e),
                }
                let (vt, pt) = VEHICLE_TYPES[veh.vtype as usize];
                rec.text(plate, format!("皖J{}", veh.plate));
                rec.text(ptype, pt);
                rec.text(vtype, vt);
                rec.text(use_nature, USES[veh.use_nature as usize]);
                rec.text(brand, veh.brand);
                rec.set(date, Value::Date(veh.registered));
                rec.text(
                    status,
                    ["正常", "注销", "报废", "转出", "抵押"][veh.status as usize],
                );
            }
            VehiclePlan::Machines(v) => {
                let (p, days, m) = v[i];
                rec.put_person(w, &self.owner, p, None);
                let (kind, model) = MACHINES[m as usize];
                rec.text(plate, format!("皖J{:05}", 10_000 + i));
                rec.text(vtype, kind);
                rec.text(brand, model);
                rec.set(
                    date,
                    Value::Date(ref_date() - Duration::days(i64::from(days))),
                );
                rec.text(
                    status,
                    if chance(rng, 0.92) {
                        "正常"
                    } else {
                        *pick(rng, &["注销", "报废"])
                    },
                );
            }
        }
    }
}
