//! The generator for any schema without a specialised one.
//!
//! It reads the pipeline, not code: the `[[identity]]` declarations say which
//! fields describe a person or an entity (filled from one sampled person or
//! entity of the world), and every other field is filled by what its name,
//! type, code table and schema description say it is (see [`super::fill`]).
//! Keywords in the schema and catalog text choose who is sampled (the
//! elderly for an old-age allowance, children for vaccinations, 低保
//! households for assistance, employees for payroll and tax) and whether
//! 低保 recipients may appear at all: an export that would be evidence of
//! income or business never lists a recipient, so the 低保 ground truth
//! stays exactly what was planted.

use super::fill::{Fill, classify, fill_value};
use super::welfare::period;
use super::{Ctx, EntitySlots, Generator, PersonSlots, Record};
use crate::rng::{Rand, chance, sample_indices};
use crate::world::{EntityKind, Holder, JobKind, NONE, World};
use civhub_core::Value;
use civhub_ingest::config::IdentityKind;
use rand::Rng;

/// Who a person-centred export is about.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Who {
    Adults,
    AgeRange(i32, i32),
    Disabled,
    Veterans,
    Unemployed,
    PublicEmployees,
    Employees,
    Taxable,
    FundHolders,
    MarriedMen,
    RuralHeads,
    HouseholdHeads,
    Recipients,
    Poor,
    Retired,
    Everyone,
}

/// The sampling profile of an export.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Profile {
    pub who: Who,
    /// Share of the eligible population sampled.
    pub rate: f64,
    /// 低保 recipients may appear.
    pub recipients: bool,
}

fn profile(about: &str) -> Profile {
    let has = |k: &[&str]| k.iter().any(|x| about.contains(x));
    let economic = has(&[
        "税",
        "工资",
        "就业",
        "贷款",
        "财政供养",
        "income",
        "tax",
        "wage",
        "salary",
        "loan",
        "employ",
        "payroll",
        "导游",
        "租赁",
    ]);
    let p = |who, rate| Profile {
        who,
        rate,
        recipients: !economic,
    };
    if has(&["核对", "financial_asset"]) {
        Profile {
            who: Who::Recipients,
            rate: 1.0,
            recipients: true,
        }
    } else if has(&[
        "低保",
        "临时救助",
        "医疗救助",
        "困难",
        "帮扶",
        "返贫",
        "两癌",
        "受灾",
        "assistance",
        "poverty",
        "住房保障",
    ]) && !has(&["学生", "助学", "康复"])
    {
        Profile {
            who: Who::Poor,
            rate: 0.3,
            recipients: true,
        }
    } else if has(&["高龄"]) {
        p(Who::AgeRange(80, 120), 0.9)
    } else if has(&["养老金", "pension"]) {
        p(Who::Retired, 0.95)
    } else if has(&["老年", "elderly"]) {
        p(Who::AgeRange(60, 120), 0.7)
    } else if has(&["学籍", "student_enrollment"]) {
        p(Who::AgeRange(3, 18), 0.95)
    } else if has(&["学生", "助学", "希望工程"]) {
        p(Who::AgeRange(6, 22), 0.04)
    } else if has(&["出生", "birth_certificate"]) {
        p(Who::AgeRange(0, 1), 0.95)
    } else if has(&["接种", "疫苗", "vaccin"]) {
        p(Who::AgeRange(0, 12), 0.5)
    } else if has(&["残疾", "disab", "康复"]) {
        p(Who::Disabled, 1.0)
    } else if has(&["退役", "优抚", "veteran"]) {
        p(Who::Veterans, 0.03)
    } else if has(&["矫正"]) {
        p(Who::AgeRange(18, 60), 0.002)
    } else if has(&["失业", "unemploy"]) {
        p(Who::Unemployed, 0.25)
    } else if has(&["财政供养", "统发", "public_employee"]) {
        Profile {
            who: Who::PublicEmployees,
            rate: 1.0,
            recipients: false,
        }
    } else if has(&["就业登记", "employment"]) {
        Profile {
            who: Who::Employees,
            rate: 0.3,
            recipients: false,
        }
    } else if has(&["所得税", "income_tax"]) {
        Profile {
            who: Who::Taxable,
            rate: 0.9,
            recipients: false,
        }
    } else if has(&["公积金贷款", "loan"]) {
        Profile {
            who: Who::FundHolders,
            rate: 0.15,
            recipients: false,
        }
    } else if has(&["婚姻", "marriage"]) {
        p(Who::MarriedMen, 0.03)
    } else if has(&["导游", "guide"]) {
        Profile {
            who: Who::AgeRange(22, 55),
            rate: 0.003,
            recipients: false,
        }
    } else if has(&[
        "土地承包",
        "耕地",
        "公益林",
        "林权",
        "land_contract",
        "forest",
    ]) {
        p(Who::RuralHeads, 0.5)
    } else if has(&["燃气", "gas"]) {
        p(Who::HouseholdHeads, 0.35)
    } else if has(&["供水", "用电", "utility", "water", "power"]) {
        p(Who::HouseholdHeads, 0.6)
    } else if has(&["旅馆", "住宿", "lodging", "景区", "预约", "ticket"]) {
        p(Who::Adults, 0.05)
    } else if has(&["结算", "claim"]) {
        p(Who::Everyone, 0.1)
    } else if has(&["病案", "medical_record"]) {
        p(Who::Everyone, 0.03)
    } else if has(&["信访", "petition"]) {
        p(Who::Adults, 0.005)
    } else if has(&["办件", "service_case"]) {
        p(Who::Adults, 0.05)
    } else {
        Profile {
            who: Who::Adults,
            rate: 0.01,
            recipients: !economic,
        }
    }
}

fn eligible(w: &World, who: Who, recipients: bool) -> Vec<u32> {
    let mut v = Vec::new();
    for (i, p) in w.persons.iter().enumerate() {
        let i = i as u32;
        if p.moved_out || (!recipients && p.recipient) {
            continue;
        }
        let age = p.age();
        let alive = p.alive();
        let hh = &w.households[p.household as usize];
        let ok = match who {
            Who::Adults => alive && age >= 18,
            Who::AgeRange(lo, hi) => alive && (lo..=hi).contains(&age),
            Who::Disabled => {
                alive
                    && (w.dibao.get(hh.dibao as usize).is_some_and(|d| {
                        d.members.iter().any(|m| m.person == i && m.disability > 0)
                    }) || crate::rng::stable_hash(w.seed, &format!("disabled{i}")) % 100 < 3)
            }
            Who::Veterans => alive && p.male && (25..=85).contains(&age),
            Who::Unemployed => alive && p.job.kind == JobKind::None && (18..60).contains(&age),
            Who::PublicEmployees => alive && p.job.kind == JobKind::Public,
            Who::Employees => {
                alive
                    && matches!(p.job.kind, JobKind::Enterprise | JobKind::Public)
                    && p.job.employer != NONE
            }
            Who::Taxable => {
                alive
                    && matches!(
                        p.job.kind,
                        JobKind::Enterprise | JobKind::Public | JobKind::SelfEmployed
                    )
                    && p.job.wage >= 5_000
                    && p.job.employer != NONE
            }
            Who::FundHolders => {
                alive
                    && matches!(p.job.kind, JobKind::Enterprise | JobKind::Public)
                    && p.job.wage >= 4_000
            }
            Who::MarriedMen => {
                p.male
                    && p.relation == crate::world::Relation::Head
                    && hh.len > 1
                    && w.persons[hh.first as usize + 1].relation == crate::world::Relation::Spouse
            }
            Who::RuralHeads => alive && i == hh.first && !hh.addr.urban(),
            Who::HouseholdHeads => i == hh.first,
            Who::Recipients => alive && p.recipient && age >= 18,
            Who::Poor => {
                alive
                    && (p.recipient
                        || (!hh.addr.urban()
                            && (age >= 65
                                || crate::rng::stable_hash(w.seed, &format!("poor{i}"))
                                    .is_multiple_of(50))))
            }
            Who::Retired => alive && (p.job.kind == JobKind::Retired || age >= 60),
            Who::Everyone => alive,
        };
        if ok {
            v.push(i);
        }
    }
    v
}

/// Which entities an entity-centred export is about.
fn entity_pool(w: &World, about: &str, role: &str) -> Vec<u32> {
    let has = |k: &[&str]| k.iter().any(|x| about.contains(x) || role.contains(x));
    let kinds: &[EntityKind] = if has(&["purchaser", "audited", "被审计", "招标"]) {
        &[EntityKind::Agency, EntityKind::Institution]
    } else if has(&[
        "学校",
        "school",
        "医疗机构",
        "medical_institution",
        "事业单位",
        "public_institution",
    ]) {
        &[EntityKind::Institution]
    } else if has(&["社会组织", "social_organization", "宗教", "religious"]) {
        &[EntityKind::SocialOrg]
    } else if has(&["税", "tax", "个体"]) {
        &[
            EntityKind::Company,
            EntityKind::Branch,
            EntityKind::Cooperative,
            EntityKind::Individual,
        ]
    } else if has(&["统计", "statistical"]) {
        &[
            EntityKind::Company,
            EntityKind::Branch,
            EntityKind::Cooperative,
            EntityKind::Institution,
            EntityKind::Agency,
        ]
    } else {
        &[
            EntityKind::Company,
            EntityKind::Branch,
            EntityKind::Cooperative,
        ]
    };
    let name_hint: Option<&[&str]> = if has(&["学校", "school"]) {
        Some(&["学", "校"])
    } else if has(&["医疗机构", "medical_institution"]) {
        Some(&["医院", "卫生", "保健", "疾病"])
    } else {
        None
    };
    let mut v: Vec<u32> = (0..w.entities.len() as u32)
        .filter(|&e| {
            let ent = w.entity(e);
            kinds.contains(&ent.kind)
                && ent.status <= 1
                && name_hint.is_none_or(|h| h.iter().any(|k| ent.name.contains(k)))
        })
        .collect();
    if v.is_empty() {
        v = (0..w.entities.len() as u32)
            .filter(|&e| kinds.contains(&w.entity(e).kind))
            .collect();
    }
    v
}

fn entity_rate(about: &str) -> f64 {
    let has = |k: &[&str]| k.iter().any(|x| about.contains(x));
    if has(&[
        "税务登记",
        "tax_registration",
        "学校",
        "school",
        "医疗机构",
        "事业单位",
        "社会组织",
    ]) {
        0.9
    } else if has(&["统计", "statistical", "税款"]) {
        0.5
    } else if has(&["认定", "recognition", "老字号", "专精特新", "龙头"]) {
        0.04
    } else {
        0.08
    }
}

/// One party of a record: a person, an entity, or either (a person and an
/// entity identity sharing the name field), with the field that says which.
struct Party {
    person: Option<PersonSlots>,
    entity: Option<EntitySlots>,
    role: String,
    type_field: Option<(usize, Vec<String>)>,
    pool: Vec<u32>,
}

impl Party {
    fn fields(&self) -> Vec<usize> {
        let mut v: Vec<usize> = Vec::new();
        if let Some(s) = &self.person {
            v.extend(
                [s.id, s.name, s.birth, s.gender, s.phone, s.address]
                    .into_iter()
                    .flatten(),
            );
        }
        if let Some(s) = &self.entity {
            v.extend(
                [s.uscc, s.name, s.address, s.phone, s.legal_rep]
                    .into_iter()
                    .flatten(),
            );
        }
        v
    }
}

/// The generic generator.
pub struct Generic<'a> {
    ctx: &'a Ctx<'a>,
    plan: Vec<(Option<Holder>, u8)>,
    periods: Vec<String>,
    parties: Vec<Party>,
    fills: Vec<(usize, Fill)>,
    about: String,
    groups: Vec<Vec<usize>>,
    economic: bool,
}

impl<'a> Generic<'a> {
    /// Plans the export.
    pub fn new(ctx: &'a Ctx<'a>, rng: &mut Rand) -> Self {
        let w = ctx.world;
        let p = ctx.pipeline;
        let about = ctx.about().to_lowercase();
        let f = |s: &Option<toml::Spanned<String>>| s.as_ref().and_then(|n| ctx.f(n.get_ref()));
        let mut parties: Vec<Party> = Vec::new();
        for ident in &p.def.identity {
            let role = ident.role.to_lowercase();
            match ident.kind.get_ref() {
                IdentityKind::Person => {
                    let slots = PersonSlots {
                        id: f(&ident.id_number),
                        name: f(&ident.name),
                        birth: f(&ident.birth_date),
                        gender: f(&ident.gender),
                        phone: f(&ident.phone),
                        address: f(&ident.address),
                    };
                    match parties.iter_mut().find(|x| {
                        x.person.is_none()
                            && x.entity
                                .is_some_and(|e| e.name.is_some() && e.name == slots.name)
                    }) {
                        Some(x) => x.person = Some(slots),
                        None => parties.push(Party {
                            person: Some(slots),
                            entity: None,
                            role,
                            type_field: None,
                            pool: Vec::new(),
                        }),
                    }
                }
                IdentityKind::Entity => {
                    let slots = EntitySlots {
                        uscc: f(&ident.uscc),
                        name: f(&ident.name),
                        address: f(&ident.address),
                        phone: f(&ident.phone),
                        legal_rep: f(&ident.legal_rep),
                    };
                    match parties.iter_mut().find(|x| {
                        x.entity.is_none()
                            && x.person
                                .is_some_and(|s| s.name.is_some() && s.name == slots.name)
                    }) {
                        Some(x) => x.entity = Some(slots),
                        None => parties.push(Party {
                            person: None,
                            entity: Some(slots),
                            role,
                            type_field: None,
                            pool: Vec::new(),
                        }),
                    }
                }
            }
        }
        let mut owned = vec![false; p.schema.fields.len()];
        for x in &parties {
            for i in x.fields() {
                owned[i] = true;
            }
        }
        // Fields telling a natural person from an organisation, matched to parties by name.
        let type_fields: Vec<(usize, Vec<String>)> = (0..p.schema.fields.len())
            .filter(|&i| ctx.is_mapped(i) && !owned[i])
            .filter_map(|i| {
                let dom = ctx.domain(i)?;
                (dom.iter().any(|v| v == "自然人") && dom.len() > 1).then_some((i, dom))
            })
            .collect();
        let both: Vec<usize> = (0..parties.len())
            .filter(|&k| parties[k].person.is_some() && parties[k].entity.is_some())
            .collect();
        let mut used = vec![false; type_fields.len()];
        for &k in &both {
            let name_field = parties[k]
                .person
                .and_then(|s| s.name)
                .map(|i| p.schema.fields[i].name.clone())
                .unwrap_or_default();
            let prefix = name_field.split('_').next().unwrap_or("").to_string();
            let pos = type_fields.iter().enumerate().position(|(j, (i, _))| {
                !used[j] && p.schema.fields[*i].name.split('_').next() == Some(prefix.as_str())
            });
            let pos = pos
                .or_else(|| (type_fields.len() == 1 && both.len() == 1 && !used[0]).then_some(0));
            if let Some(j) = pos {
                used[j] = true;
                parties[k].type_field = Some(type_fields[j].clone());
            }
        }
        let typed: Vec<usize> = parties
            .iter()
            .filter_map(|x| x.type_field.as_ref().map(|t| t.0))
            .collect();
        let fills: Vec<(usize, Fill)> = (0..p.schema.fields.len())
            .filter(|&i| ctx.is_mapped(i) && !owned[i] && !typed.contains(&i))
            .map(|i| (i, classify(ctx, i, &about)))
            .collect();
        let periods: Vec<String> = match p
            .schema
            .field_index("period")
            .filter(|&i| ctx.is_mapped(i))
        {
            Some(i) => {
                let yearly = p.rules.iter().any(|r| r.field == i && matches!(&r.check, civhub_ingest::config::RuleCheck::Pattern(re) if re.as_str().contains(r"^\d{4}$")));
                if yearly {
                    vec!["2025".into(), "2026".into()]
                } else {
                    (8..=10).map(period).collect()
                }
            }
            None => vec![String::new()],
        };
        let prof = profile(&about);
        for x in &mut parties {
            if x.entity.is_some() {
                x.pool = entity_pool(w, &about, &x.role);
            }
        }
        let person_share = match parties.first() {
            None => 0.0,
            Some(x) => match (&x.person, &x.entity) {
                (Some(_), None) => 1.0,
                (None, _) => 0.0,
                (Some(_), Some(_)) => match x
                    .type_field
                    .as_ref()
                    .and_then(|(i, _)| ctx.constant(&p.schema.fields[*i].name))
                {
                    Some(c) => f64::from(u8::from(c == "自然人")),
                    None => 0.35,
                },
            },
        };
        let floor = p.limits.min_rows.unwrap_or(1).max(5) as usize;
        let n_periods = periods.len() as u8;
        let mut plan: Vec<(Option<Holder>, u8)> = Vec::new();
        if person_share >= 1.0 {
            let mut pool = eligible(w, prof.who, prof.recipients);
            if pool.len() < floor {
                pool = eligible(w, Who::Adults, prof.recipients);
            }
            let k = ((pool.len() as f64 * prof.rate).round() as usize).max(pool.len().min(floor));
            let chosen = sample_indices(rng, pool.len(), k);
            for per in 0..n_periods {
                plan.extend(chosen.iter().map(|&c| (Some(Holder::Person(pool[c])), per)));
            }
        } else if let Some(first) = parties.first() {
            let mut pool = first.pool.clone();
            if pool.len() < floor {
                pool = (0..w.entities.len() as u32)
                    .filter(|&e| w.entity(e).kind != EntityKind::Individual)
                    .collect();
            }
            let k = ((pool.len() as f64 * entity_rate(&about)).round() as usize)
                .max(pool.len().min(floor));
            let chosen = sample_indices(rng, pool.len(), k);
            let mut people = if person_share > 0.0 {
                eligible(w, prof.who, prof.recipients)
            } else {
                Vec::new()
            };
            // People without replacement (record keys often include them).
            for i in (1..people.len()).rev() {
                let j = rng.random_range(0..=i);
                people.swap(i, j);
            }
            for per in 0..n_periods {
                let mut next = 0;
                for &c in &chosen {
                    plan.push((Some(Holder::Entity(pool[c])), per));
                    if next < people.len() && chance(rng, person_share / (1.0 - person_share)) {
                        plan.push((Some(Holder::Person(people[next])), per));
                        next += 1;
                    }
                }
            }
        } else {
            let n = (w.persons.len() / 40).max(30);
            for per in 0..n_periods {
                plan.extend((0..n).map(|_| (None, per)));
            }
        }
        let groups = super::fill::shared_groups(ctx);
        Generic {
            ctx,
            plan,
            periods,
            parties,
            fills,
            about,
            groups,
            economic: !prof.recipients,
        }
    }

    /// A person related to `primary` for a role: family roles come from the
    /// household (a spouse first), others are any adult.
    fn related(&self, w: &World, primary: Option<u32>, role: &str, rng: &mut Rand) -> u32 {
        let family = [
            "mother", "father", "guardian", "spouse", "wife", "husband", "male", "female", "监护",
            "parent",
        ]
        .iter()
        .any(|k| role.contains(k));
        let male = ["male", "father", "husband"]
            .iter()
            .any(|k| role.contains(k))
            && !role.contains("female");
        let female = ["female", "mother", "wife"]
            .iter()
            .any(|k| role.contains(k));
        if let Some(primary) = primary.filter(|_| family) {
            let hh = w.household_of(primary);
            let fits = |m: u32| {
                m != primary
                    && w.person(m).age() >= 18
                    && (!male || w.person(m).male)
                    && (!female || !w.person(m).male)
            };
            let spouse = hh.members().find(|&m| {
                fits(m)
                    && w.person(m).relation == crate::world::Relation::Spouse
                    && w.person(primary).relation == crate::world::Relation::Head
            });
            let head = hh.members().find(|&m| fits(m) && m == hh.first);
            let any: Vec<u32> = hh.members().filter(|&m| fits(m)).collect();
            if let Some(c) = spouse.or(head).or_else(|| any.first().copied()) {
                return c;
            }
        }
        for _ in 0..100 {
            let c = rng.random_range(0..w.persons.len()) as u32;
            let pc = w.person(c);
            if Some(c) != primary
                && pc.alive()
                && pc.age() >= 18
                && (!self.economic || !pc.recipient)
                && (!male || pc.male)
                && (!female || !pc.male)
            {
                return c;
            }
        }
        primary.unwrap_or(0)
    }

    fn fill_party(&self, k: usize, holder: Holder, rec: &mut Record) {
        let w = self.ctx.world;
        let x = &self.parties[k];
        match holder {
            Holder::Person(p) => {
                if let Some(s) = &x.person {
                    rec.put_person(w, s, p, None);
                }
            }
            Holder::Entity(e) => {
                if let Some(s) = &x.entity {
                    rec.put_entity(w, s, e);
                }
            }
        }
        if let Some((f, dom)) = &x.type_field {
            let v = match holder {
                Holder::Person(_) => dom.iter().find(|v| *v == "自然人").cloned(),
                Holder::Entity(e) => {
                    let individual = w.entity(e).kind == EntityKind::Individual;
                    dom.iter()
                        .find(|v| individual && v.contains("个体"))
                        .or_else(|| dom.iter().find(|v| *v != "自然人" && !v.contains("个体")))
                        .cloned()
                }
            };
            if let Some(v) = v {
                rec.values[*f] = Value::Str(v);
            }
        }
    }
}

impl Generator for Generic<'_> {
    fn len(&self) -> usize {
        self.plan.len()
    }

    fn fill(&mut self, i: usize, rng: &mut Rand, rec: &mut Record) {
        let w = self.ctx.world;
        let (subject, per) = self.plan[i];
        let mut primary_person: Option<u32> = None;
        let mut primary_entity: Option<u32> = None;
        match subject {
            Some(h @ Holder::Person(p)) => {
                primary_person = Some(p);
                if !self.parties.is_empty() {
                    self.fill_party(0, h, rec);
                }
            }
            Some(h @ Holder::Entity(e)) => {
                primary_entity = Some(e);
                if !self.parties.is_empty() {
                    self.fill_party(0, h, rec);
                }
            }
            None => {}
        }
        for k in 1..self.parties.len() {
            let x = &self.parties[k];
            let rep = primary_entity
                .map(|e| w.entity(e).rep)
                .filter(|&r| r != NONE);
            let holder = match (&x.person, &x.entity) {
                // The legal representative of the record's entity.
                (Some(_), None)
                    if rep.is_some() && (x.role.contains("rep") || x.role.contains("legal")) =>
                {
                    Holder::Person(rep.unwrap_or(0))
                }
                (Some(_), None) => Holder::Person(self.related(w, primary_person, &x.role, rng)),
                (Some(_), Some(_)) if chance(rng, 0.5) => {
                    Holder::Person(self.related(w, primary_person, &x.role, rng))
                }
                _ => {
                    let employer = primary_person
                        .map(|p| w.person(p).job.employer)
                        .filter(|&e| e != NONE);
                    match employer {
                        Some(e)
                            if ["employ", "withhold", "agency", "unit"]
                                .iter()
                                .any(|r| x.role.contains(r)) =>
                        {
                            Holder::Entity(e)
                        }
                        _ if !x.pool.is_empty() => {
                            Holder::Entity(x.pool[rng.random_range(0..x.pool.len())])
                        }
                        _ if !w.entities.is_empty() => {
                            Holder::Entity(rng.random_range(0..w.entities.len()) as u32)
                        }
                        _ => continue,
                    }
                }
            };
            if let Holder::Entity(e) = holder {
                primary_entity.get_or_insert(e);
            }
            let is_rep = matches!(holder, Holder::Person(p) if Some(p) == rep);
            if is_rep && let Some(s) = &x.person {
                rec.put_person(w, s, rep.unwrap_or(0), Some(crate::world::Topic::Business));
            } else {
                self.fill_party(k, holder, rec);
            }
        }
        // The entity's legal representative named in its own identity (legal-rep field).
        if let Some(e) = primary_entity
            && let Some(r) = self
                .parties
                .first()
                .and_then(|x| x.entity)
                .and_then(|s| s.legal_rep)
            && w.entity(e).rep != NONE
            && rec.values[r].is_null()
            && matches!(subject, Some(Holder::Entity(_)))
        {
            let rep = w.entity(e).rep;
            rec.set_of(
                Some(r),
                Value::Str(w.person(rep).name.to_string()),
                Holder::Person(rep),
            );
        }
        if rec.district.is_none() {
            rec.district = Some(rng.random_range(0..7));
        }
        let per_period = (self.plan.len() / self.periods.len().max(1)).max(1);
        let env = super::fill::Env {
            ctx: self.ctx,
            person: primary_person,
            entity: primary_entity,
            period: &self.periods[per as usize],
            row: i,
            subject: i % per_period,
            about: &self.about,
        };
        for (f, fill) in &self.fills {
            if rec.values[*f].is_null() {
                rec.values[*f] = fill_value(fill, &env, rec, rng);
            }
        }
        super::fill::derive_shared(self.ctx, &self.groups, rec, rng);
        if self.periods[per as usize].len() == 7 {
            rec.month = self.periods[per as usize][5..].parse().ok();
        }
    }
}
