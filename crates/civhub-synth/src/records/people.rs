//! Person-centred registers: person identity, the household register, deaths.

use super::{Ctx, Generator, PersonSlots, Record};
use crate::rng::{Rand, chance, pick, sample_indices};
use crate::vocab::names::ETHNICITIES;
use crate::vocab::places::DISTRICTS;
use crate::world::{Holder, Topic, World, ref_date};
use chrono::{Datelike, Duration, NaiveDate};
use civhub_core::Value;
use rand::Rng;

/// `person`: a department's register of people (a sample of the population).
pub struct PersonGen<'a> {
    ctx: &'a Ctx<'a>,
    plan: Vec<u32>,
    slots: PersonSlots,
    former: Option<usize>,
    ethnicity: Option<usize>,
    district: Option<usize>,
}

impl<'a> PersonGen<'a> {
    /// Plans the sample.
    pub fn new(ctx: &'a Ctx<'a>, rng: &mut Rand) -> Self {
        let w = ctx.world;
        let full = ctx.pipeline.department == "public_security";
        let coverage = if full {
            0.92
        } else {
            0.2 + 0.2 * ctx.unit("coverage")
        };
        let eligible: Vec<u32> = (0..w.persons.len() as u32)
            .filter(|&p| {
                let person = w.person(p);
                !person.moved_out
                    && person
                        .death
                        .is_none_or(|d| (ref_date() - d).num_days() < 200 && !full)
            })
            .collect();
        let k = (eligible.len() as f64 * coverage).round() as usize;
        let plan = sample_indices(rng, eligible.len(), k)
            .into_iter()
            .map(|i| eligible[i])
            .collect();
        PersonGen {
            ctx,
            plan,
            slots: ctx.person(
                "id_number",
                "name",
                "birth_date",
                "gender",
                "phone",
                "address",
            ),
            former: ctx.f("former_name"),
            ethnicity: ctx.f("ethnicity"),
            district: ctx.f("district"),
        }
    }
}

impl Generator for PersonGen<'_> {
    fn len(&self) -> usize {
        self.plan.len()
    }
    fn fill(&mut self, i: usize, _rng: &mut Rand, rec: &mut Record) {
        let w = self.ctx.world;
        let p = self.plan[i];
        let person = w.person(p);
        rec.put_person(w, &self.slots, p, None);
        if let Some(f) = &person.former_name {
            rec.set_of(self.former, Value::Str(f.to_string()), Holder::Person(p));
        }
        rec.text(self.ethnicity, ETHNICITIES[person.ethnicity as usize]);
        rec.text(self.district, w.address_of(p).district_name());
    }
}

/// `household_registration`: every living resident, the recently deceased
/// (死亡注销) and those who moved away (迁出).
pub struct HouseholdGen<'a> {
    ctx: &'a Ctx<'a>,
    plan: Vec<u32>,
    slots: PersonSlots,
    f: [Option<usize>; 8],
}

impl<'a> HouseholdGen<'a> {
    /// Plans the register.
    pub fn new(ctx: &'a Ctx<'a>) -> Self {
        let w = ctx.world;
        let plan: Vec<u32> = (0..w.persons.len() as u32)
            .filter(|&p| {
                w.person(p)
                    .death
                    .is_none_or(|d| (ref_date() - d).num_days() <= 365)
            })
            .collect();
        let plan = super::partition(plan, ctx, |&p| w.address_of(p).district as usize);
        let f = [
            "household_no",
            "ethnicity",
            "relation",
            "head_id_number",
            "region_code",
            "district",
            "register_date",
            "status",
        ]
        .map(|n| ctx.f(n));
        HouseholdGen {
            ctx,
            plan,
            slots: ctx.person(
                "id_number",
                "name",
                "birth_date",
                "gender",
                "phone",
                "address",
            ),
            f,
        }
    }
}

impl Generator for HouseholdGen<'_> {
    fn len(&self) -> usize {
        self.plan.len()
    }
    fn fill(&mut self, i: usize, rng: &mut Rand, rec: &mut Record) {
        let w = self.ctx.world;
        let p = self.plan[i];
        let person = w.person(p);
        let hh = w.household_of(p);
        rec.put_person(w, &self.slots, p, None);
        let [no, eth, rel, head_id, region, district, reg_date, status] = self.f;
        rec.text(no, hh.number());
        rec.text(eth, ETHNICITIES[person.ethnicity as usize]);
        rec.text(rel, person.relation.as_str());
        let head = hh.first;
        if head != p {
            rec.set_of(
                head_id,
                Value::Str(w.person(head).id_str().to_string()),
                Holder::Person(head),
            );
        } else {
            rec.set_of(
                head_id,
                Value::Str(person.id_str().to_string()),
                Holder::Person(p),
            );
        }
        rec.text(region, DISTRICTS[hh.addr.district as usize].code);
        rec.text(district, hh.addr.district_name());
        let local = &person.id_str()[..4] == "3410";
        let registered = if local && person.birth.year() >= 1985 {
            person.birth + Duration::days(rng.random_range(5..60))
        } else {
            date_in(rng, 1985, 2026)
        };
        rec.set(
            reg_date,
            Value::Date(
                registered
                    .min(ref_date() - Duration::days(1))
                    .max(person.birth),
            ),
        );
        let st = if person.death.is_some() && w.planted_for(p, Topic::Death).is_none() {
            "死亡注销"
        } else if person.moved_out {
            "迁出"
        } else {
            "正常"
        };
        rec.text(status, st);
    }
}

/// A date in `[from_year-01-01, to_year-10-31]`.
pub fn date_in(rng: &mut Rand, from_year: i32, to_year: i32) -> NaiveDate {
    let from = NaiveDate::from_ymd_opt(from_year, 1, 1).expect("date");
    let to = NaiveDate::from_ymd_opt(to_year, 10, 31)
        .expect("date")
        .min(ref_date() - Duration::days(1));
    let span = (to - from).num_days().max(1);
    from + Duration::days(rng.random_range(0..span))
}

const HOSPITALS: &[&str] = &[
    "黄山市人民医院",
    "黄山首康医院",
    "屯溪区人民医院",
    "黄山区人民医院",
    "徽州区人民医院",
    "歙县人民医院",
    "休宁县人民医院",
    "黟县人民医院",
    "祁门县人民医院",
    "黄山市中医医院",
];
const FUNERAL: &[&str] = &[
    "黄山市殡仪馆",
    "歙县殡仪馆",
    "休宁县殡仪馆",
    "祁门县殡仪馆",
    "黄山区殡仪馆",
];

/// `death_registration`: deaths of the last five years, with the coverage of
/// the reporting department; planted deaths are always present.
pub struct DeathGen<'a> {
    ctx: &'a Ctx<'a>,
    plan: Vec<u32>,
    slots: PersonSlots,
    f: [Option<usize>; 4],
    health: bool,
}

impl<'a> DeathGen<'a> {
    /// Plans the deaths this department knows of.
    pub fn new(ctx: &'a Ctx<'a>, rng: &mut Rand) -> Self {
        let w = ctx.world;
        let health = ctx.pipeline.department == "health";
        let coverage = if health { 0.95 } else { 0.86 };
        let plan: Vec<u32> = (0..w.persons.len() as u32)
            .filter(|&p| w.person(p).death.is_some())
            .filter(|&p| w.planted_deaths.contains(&p) || chance(rng, coverage))
            .collect();
        let f = ["death_date", "death_place", "cert_no", "register_org"].map(|n| ctx.f(n));
        DeathGen {
            ctx,
            plan,
            slots: ctx.person("id_number", "name", "birth_date", "gender", "", ""),
            f,
            health,
        }
    }
}

impl Generator for DeathGen<'_> {
    fn len(&self) -> usize {
        self.plan.len()
    }
    fn fill(&mut self, i: usize, rng: &mut Rand, rec: &mut Record) {
        let w: &World = self.ctx.world;
        let p = self.plan[i];
        let person = w.person(p);
        rec.put_person(w, &self.slots, p, Some(Topic::Death));
        let [date, place, cert, org] = self.f;
        let died = person.death.unwrap_or(ref_date());
        rec.set(date, Value::Date(died));
        let district = w.address_of(p).district as usize;
        let hospital = if chance(rng, 0.6) {
            Some(*pick(rng, HOSPITALS))
        } else {
            None
        };
        rec.text(
            place,
            hospital.unwrap_or(if chance(rng, 0.85) {
                "家中"
            } else {
                "其他场所"
            }),
        );
        let prefix = if self.health { "Y" } else { "HH" };
        rec.text(
            cert,
            format!(
                "{prefix}{}{}{:07}",
                DISTRICTS[district].code,
                died.year(),
                p + 1
            ),
        );
        let registrar = if self.health {
            hospital
                .unwrap_or(HOSPITALS[district.min(HOSPITALS.len() - 1)])
                .to_string()
        } else {
            pick(rng, FUNERAL).to_string()
        };
        rec.text(org, registrar);
        rec.district = Some(district as u8);
    }
}
