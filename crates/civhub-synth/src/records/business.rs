//! Business registration: enterprises, shareholders, individual businesses.

use super::welfare::yuan;
use super::{Ctx, EntitySlots, Generator, PersonSlots, Record};
use crate::rng::Rand;
use crate::vocab::words::INDUSTRIES;
use crate::world::{EntityKind, Holder, NONE, Topic};
use civhub_core::Value;

/// Registration statuses, in world order.
const STATUS: [&str; 5] = ["存续", "在业", "注销", "吊销", "迁出"];

/// The district an entity is registered in, or 市本级 for city-level registrations.
fn registered_district(uscc: &str, district: &'static str) -> &'static str {
    if &uscc[2..8] == "341000" {
        "市本级"
    } else {
        district
    }
}

/// `enterprise`: companies, branches and cooperatives.
pub struct EnterpriseGen<'a> {
    ctx: &'a Ctx<'a>,
    plan: Vec<u32>,
    ent: EntitySlots,
    rep: PersonSlots,
    f: [Option<usize>; 6],
}

impl<'a> EnterpriseGen<'a> {
    /// Plans the register.
    pub fn new(ctx: &'a Ctx<'a>) -> Self {
        let w = ctx.world;
        let plan = (0..w.entities.len() as u32)
            .filter(|&e| {
                matches!(
                    w.entity(e).kind,
                    EntityKind::Company | EntityKind::Branch | EntityKind::Cooperative
                )
            })
            .collect();
        let ent = EntitySlots {
            uscc: ctx.f("uscc"),
            name: ctx.f("name"),
            address: ctx.f("address"),
            ..EntitySlots::default()
        };
        let rep = PersonSlots {
            id: ctx.f("legal_rep_id_number"),
            name: ctx.f("legal_rep_name"),
            ..PersonSlots::default()
        };
        let f = [
            "entity_type",
            "registered_capital",
            "establish_date",
            "district",
            "status",
            "business_scope",
        ]
        .map(|n| ctx.f(n));
        EnterpriseGen {
            ctx,
            plan,
            ent,
            rep,
            f,
        }
    }
}

impl Generator for EnterpriseGen<'_> {
    fn len(&self) -> usize {
        self.plan.len()
    }
    fn fill(&mut self, i: usize, _rng: &mut Rand, rec: &mut Record) {
        let w = self.ctx.world;
        let e = self.plan[i];
        let ent = w.entity(e);
        rec.put_entity(w, &self.ent, e);
        if ent.rep != NONE {
            rec.put_person(w, &self.rep, ent.rep, Some(Topic::Business));
        }
        let [etype, capital, date, district, status, scope] = self.f;
        rec.text(etype, ent.type_label);
        if ent.kind != EntityKind::Branch {
            rec.set(capital, yuan(ent.capital));
        }
        rec.set(date, Value::Date(ent.established));
        rec.text(
            district,
            registered_district(ent.uscc_str(), ent.addr.district_name()),
        );
        rec.text(status, STATUS[ent.status as usize]);
        rec.text(
            scope,
            INDUSTRIES
                .get(ent.industry as usize)
                .map(|x| x.1)
                .unwrap_or("一般经营项目"),
        );
    }
}

/// `shareholder`: one row per shareholding.
pub struct ShareholderGen<'a> {
    ctx: &'a Ctx<'a>,
    company: EntitySlots,
    person: PersonSlots,
    org: EntitySlots,
    f: [Option<usize>; 3],
}

impl<'a> ShareholderGen<'a> {
    /// A generator over every shareholding.
    pub fn new(ctx: &'a Ctx<'a>) -> Self {
        let company = EntitySlots {
            uscc: ctx.f("uscc"),
            name: ctx.f("company_name"),
            ..EntitySlots::default()
        };
        let person = PersonSlots {
            id: ctx.f("shareholder_id_number"),
            name: ctx.f("shareholder_name"),
            ..PersonSlots::default()
        };
        let org = EntitySlots {
            uscc: ctx.f("shareholder_uscc"),
            name: ctx.f("shareholder_name"),
            ..EntitySlots::default()
        };
        let f = ["shareholder_type", "subscribed_capital", "share_ratio"].map(|n| ctx.f(n));
        ShareholderGen {
            ctx,
            company,
            person,
            org,
            f,
        }
    }
}

impl Generator for ShareholderGen<'_> {
    fn len(&self) -> usize {
        self.ctx.world.shares.len()
    }
    fn fill(&mut self, i: usize, _rng: &mut Rand, rec: &mut Record) {
        let w = self.ctx.world;
        let s = &w.shares[i];
        rec.put_entity(w, &self.company, s.entity);
        let [stype, capital, ratio] = self.f;
        match s.holder {
            Holder::Person(p) => {
                rec.put_person(w, &self.person, p, Some(Topic::Business));
                rec.text(stype, "自然人");
            }
            Holder::Entity(e) => {
                rec.put_entity(w, &self.org, e);
                rec.text(stype, "法人");
            }
        }
        rec.set(capital, yuan(s.amount));
        rec.set(ratio, Value::Float(s.ratio));
    }
}

/// `individual_business`: 个体工商户.
pub struct IndividualGen<'a> {
    ctx: &'a Ctx<'a>,
    plan: Vec<u32>,
    ent: EntitySlots,
    op: PersonSlots,
    f: [Option<usize>; 5],
}

impl<'a> IndividualGen<'a> {
    /// Plans the register.
    pub fn new(ctx: &'a Ctx<'a>) -> Self {
        let w = ctx.world;
        let plan = (0..w.entities.len() as u32)
            .filter(|&e| w.entity(e).kind == EntityKind::Individual)
            .collect();
        let ent = EntitySlots {
            uscc: ctx.f("uscc"),
            name: ctx.f("name"),
            address: ctx.f("address"),
            ..EntitySlots::default()
        };
        let op = PersonSlots {
            id: ctx.f("operator_id_number"),
            name: ctx.f("operator_name"),
            ..PersonSlots::default()
        };
        let f = [
            "capital",
            "employees",
            "register_date",
            "district",
            "status",
        ]
        .map(|n| ctx.f(n));
        IndividualGen {
            ctx,
            plan,
            ent,
            op,
            f,
        }
    }
}

impl Generator for IndividualGen<'_> {
    fn len(&self) -> usize {
        self.plan.len()
    }
    fn fill(&mut self, i: usize, _rng: &mut Rand, rec: &mut Record) {
        let w = self.ctx.world;
        let e = self.plan[i];
        let ent = w.entity(e);
        rec.put_entity(w, &self.ent, e);
        if ent.name.is_empty()
            && let Some(f) = self.ent.name
        {
            rec.values[f] = Value::Null;
            rec.owners[f] = None;
        }
        if ent.rep != NONE {
            rec.put_person(w, &self.op, ent.rep, Some(Topic::Business));
        }
        let [capital, employees, date, district, status] = self.f;
        rec.set(capital, yuan(ent.capital));
        rec.set(employees, Value::Int(i64::from(ent.employees)));
        rec.set(date, Value::Date(ent.established));
        rec.text(district, ent.addr.district_name());
        rec.text(
            status,
            match ent.status {
                0 | 1 => "存续",
                2 => "注销",
                _ => "吊销",
            },
        );
        rec.district = Some(ent.addr.district);
    }
}
