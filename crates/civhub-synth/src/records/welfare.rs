//! 低保 households and members, provident-fund accounts and deposits,
//! social-insurance contributions.

use super::{Ctx, EntitySlots, Forced, Generator, PersonSlots, Record};
use crate::rng::{Rand, chance, pick};
use crate::world::{EntityKind, JobKind, NONE, NameForm, Topic, World};
use chrono::NaiveDate;
use civhub_core::Value;
use rand::Rng;

/// Months of 2026 covered by monthly exports (the last six before the reference date).
pub const MONTHS: std::ops::RangeInclusive<u8> = 5..=10;

/// `YYYY-MM` of a month of 2026.
pub fn period(month: u8) -> String {
    format!("2026-{month:02}")
}

fn month_day(month: u8, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, u32::from(month), day).expect("date")
}

/// Money in 分 as a decimal value.
pub fn cents(c: i64) -> Value {
    Value::Dec(i128::from(c))
}

/// Whole yuan as a decimal value.
pub fn yuan(y: i64) -> Value {
    Value::Dec(i128::from(y) * 100)
}

/// `dibao_household`: the recipient households.
pub struct DibaoHouseholdGen<'a> {
    ctx: &'a Ctx<'a>,
    head: PersonSlots,
    f: [Option<usize>; 8],
}

impl<'a> DibaoHouseholdGen<'a> {
    /// A generator over every recipient household.
    pub fn new(ctx: &'a Ctx<'a>) -> Self {
        let head = PersonSlots {
            id: ctx.f("head_id_number"),
            name: ctx.f("head_name"),
            address: ctx.f("address"),
            ..PersonSlots::default()
        };
        let f = [
            "household_id",
            "district",
            "town",
            "category",
            "member_count",
            "monthly_amount",
            "start_date",
            "status",
        ]
        .map(|n| ctx.f(n));
        DibaoHouseholdGen { ctx, head, f }
    }
}

impl Generator for DibaoHouseholdGen<'_> {
    fn len(&self) -> usize {
        self.ctx.world.dibao.len()
    }
    fn fill(&mut self, i: usize, _rng: &mut Rand, rec: &mut Record) {
        let w = self.ctx.world;
        let d = &w.dibao[i];
        let hh = &w.households[d.household as usize];
        rec.put_person(w, &self.head, d.head, None);
        rec.protected = true;
        let [id, district, town, category, count, amount, start, status] = self.f;
        rec.text(id, d.id(w));
        rec.text(district, hh.addr.district_name());
        rec.text(town, hh.addr.town_name());
        rec.text(
            category,
            if d.category == 0 {
                "城市低保"
            } else {
                "农村低保"
            },
        );
        rec.set(count, Value::Int(d.members.len() as i64));
        rec.set(amount, cents(d.amount));
        rec.set(start, Value::Date(d.start));
        rec.text(status, "在保");
        rec.district = Some(hh.addr.district);
    }
}

/// `dibao_member`: one row per member of each recipient household.
pub struct DibaoMemberGen<'a> {
    ctx: &'a Ctx<'a>,
    plan: Vec<(u32, u16)>,
    slots: PersonSlots,
    f: [Option<usize>; 6],
}

impl<'a> DibaoMemberGen<'a> {
    /// A generator over every member row.
    pub fn new(ctx: &'a Ctx<'a>) -> Self {
        let plan = ctx
            .world
            .dibao
            .iter()
            .enumerate()
            .flat_map(|(d, h)| (0..h.members.len() as u16).map(move |m| (d as u32, m)))
            .collect();
        let f = [
            "household_id",
            "relation",
            "is_head",
            "health",
            "disability_grade",
            "occupation",
        ]
        .map(|n| ctx.f(n));
        DibaoMemberGen {
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

impl Generator for DibaoMemberGen<'_> {
    fn len(&self) -> usize {
        self.plan.len()
    }
    fn fill(&mut self, i: usize, _rng: &mut Rand, rec: &mut Record) {
        let w = self.ctx.world;
        let (d, m) = self.plan[i];
        let hh = &w.dibao[d as usize];
        let member = &hh.members[m as usize];
        let p = member.person;
        rec.put_person(w, &self.slots, p, None);
        rec.protected = true;
        if let Some(pl) = &member.planted {
            for f in [self.slots.id, self.slots.name].into_iter().flatten() {
                rec.forced[f] = Forced::Clean;
            }
            if let Some(f) = self.slots.id {
                rec.forced[f] = Forced::Id(pl.id.clone());
            }
            if let (Some(f), NameForm::Variant(v)) = (self.slots.name, &pl.name) {
                rec.forced[f] = Forced::Name(v.clone());
            }
        }
        let [id, relation, is_head, health, disability, occupation] = self.f;
        rec.text(id, hh.id(w));
        rec.text(relation, member.relation.as_dibao_str());
        rec.set(is_head, Value::Bool(p == hh.head));
        rec.text(
            health,
            ["健康", "慢性病", "大病", "残疾"][member.health as usize],
        );
        if member.disability > 0 {
            rec.text(
                disability,
                ["一级", "二级", "三级", "四级"][member.disability as usize - 1],
            );
        }
        let person = w.person(p);
        let occ = match person.job.kind {
            JobKind::Child => "学龄前",
            JobKind::Student => "在校学生",
            JobKind::Farmer => "务农",
            JobKind::Retired => "退休",
            _ if person.age() >= 60 => "丧失劳动能力",
            _ => "无业",
        };
        rec.text(occupation, occ);
        rec.district = Some(w.households[hh.household as usize].addr.district);
    }
}

/// `provident_fund_account`: every account.
pub struct FundAccountGen<'a> {
    ctx: &'a Ctx<'a>,
    slots: PersonSlots,
    employer: EntitySlots,
    f: [Option<usize>; 6],
}

impl<'a> FundAccountGen<'a> {
    /// A generator over every account.
    pub fn new(ctx: &'a Ctx<'a>) -> Self {
        let employer = EntitySlots {
            uscc: ctx.f("employer_uscc"),
            name: ctx.f("employer_name"),
            ..EntitySlots::default()
        };
        let f = [
            "account_no",
            "open_date",
            "deposit_base",
            "monthly_deposit",
            "balance",
            "status",
        ]
        .map(|n| ctx.f(n));
        FundAccountGen {
            ctx,
            slots: ctx.person("id_number", "name", "", "", "", ""),
            employer,
            f,
        }
    }
}

/// The account number of fund account `i`.
pub fn account_no(i: usize) -> String {
    format!("3410001{:09}", i + 1)
}

impl Generator for FundAccountGen<'_> {
    fn len(&self) -> usize {
        self.ctx.world.funds.len()
    }
    fn fill(&mut self, i: usize, _rng: &mut Rand, rec: &mut Record) {
        let w = self.ctx.world;
        let a = &w.funds[i];
        rec.put_person(w, &self.slots, a.person, Some(Topic::Fund));
        if a.employer != NONE {
            rec.put_entity(w, &self.employer, a.employer);
        }
        let [no, open, base, monthly, balance, status] = self.f;
        rec.text(no, account_no(i));
        rec.set(open, Value::Date(a.opened));
        rec.set(base, yuan(i64::from(a.base)));
        rec.set(monthly, cents(a.monthly_cents()));
        rec.set(balance, cents(a.balance));
        let st = if w.person(a.person).death.is_some() {
            2
        } else {
            a.status
        };
        rec.text(status, ["正常", "封存", "销户"][st as usize]);
        rec.district = Some(w.address_of(a.person).district);
    }
}

/// `provident_fund_deposit`: monthly deposits of the open accounts.
pub struct FundDepositGen<'a> {
    ctx: &'a Ctx<'a>,
    plan: Vec<(u32, u8)>,
    slots: PersonSlots,
    employer: EntitySlots,
    f: [Option<usize>; 5],
}

impl<'a> FundDepositGen<'a> {
    /// Plans six months of deposits, month by month.
    pub fn new(ctx: &'a Ctx<'a>) -> Self {
        let w = ctx.world;
        let mut plan = Vec::new();
        for m in MONTHS {
            let end = month_day(m, 1);
            for (i, a) in w.funds.iter().enumerate() {
                if a.status == 0
                    && a.opened < end
                    && w.person(a.person).death.is_none_or(|d| d >= end)
                {
                    plan.push((i as u32, m));
                }
            }
        }
        let employer = EntitySlots {
            uscc: ctx.f("employer_uscc"),
            ..EntitySlots::default()
        };
        let f = [
            "account_no",
            "period",
            "deposit_base",
            "amount",
            "deposit_date",
        ]
        .map(|n| ctx.f(n));
        FundDepositGen {
            ctx,
            plan,
            slots: ctx.person("id_number", "name", "", "", "", ""),
            employer,
            f,
        }
    }
}

impl Generator for FundDepositGen<'_> {
    fn len(&self) -> usize {
        self.plan.len()
    }
    fn fill(&mut self, i: usize, rng: &mut Rand, rec: &mut Record) {
        let w = self.ctx.world;
        let (a, m) = self.plan[i];
        let acct = &w.funds[a as usize];
        rec.put_person(w, &self.slots, acct.person, Some(Topic::Fund));
        if acct.employer != NONE {
            rec.put_entity(w, &self.employer, acct.employer);
        }
        let [no, per, base, amount, date] = self.f;
        rec.text(no, account_no(a as usize));
        rec.text(per, period(m));
        rec.set(base, yuan(i64::from(acct.base)));
        rec.set(amount, cents(acct.monthly_cents()));
        rec.set(date, Value::Date(month_day(m, rng.random_range(10..26))));
        rec.month = Some(m);
        rec.district = Some(w.address_of(acct.person).district);
    }
}

/// Insurance kinds, in schema order.
pub const INSURANCES: [&str; 7] = [
    "企业职工基本养老保险",
    "机关事业单位养老保险",
    "城乡居民基本养老保险",
    "职工基本医疗保险",
    "城乡居民基本医疗保险",
    "失业保险",
    "工伤保险",
];
/// Minimum and maximum contribution base in Anhui, 元/月.
pub const BASE_RANGE: (u32, u32) = (4_227, 21_135);

/// `social_insurance`: monthly employee contributions, yearly resident ones.
pub struct InsuranceGen<'a> {
    ctx: &'a Ctx<'a>,
    plan: Vec<(u32, u8, u8)>,
    slots: PersonSlots,
    employer: EntitySlots,
    f: [Option<usize>; 6],
}

impl<'a> InsuranceGen<'a> {
    /// Plans the contributions of the kinds this export carries.
    pub fn new(ctx: &'a Ctx<'a>) -> Self {
        let w = ctx.world;
        let allowed = allowed_kinds(ctx);
        let mut plan = Vec::new();
        for (p, person) in w.persons.iter().enumerate() {
            let p = p as u32;
            let alive_in = |m: u8| person.death.is_none_or(|d| d >= month_day(m, 1));
            if person.moved_out || !alive_in(1) {
                continue;
            }
            let job = person.job;
            let employee = matches!(
                job.kind,
                JobKind::Enterprise | JobKind::Public | JobKind::Flexible | JobKind::SelfEmployed
            ) && !job.no_si;
            if employee {
                let pension = if job.kind == JobKind::Public { 1 } else { 0 };
                for m in MONTHS {
                    if alive_in(m) && allowed[pension] {
                        plan.push((p, m, pension as u8));
                    }
                }
                if matches!(job.kind, JobKind::Enterprise | JobKind::Public) && alive_in(10) {
                    for k in [3usize, 5, 6] {
                        if allowed[k]
                            && (k != 5 || job.kind == JobKind::Enterprise)
                            && (k != 6 || p.is_multiple_of(3))
                        {
                            plan.push((p, 10, k as u8));
                        }
                    }
                }
            } else {
                let age = person.age();
                if allowed[2] && (16..60).contains(&age) && job.kind != JobKind::Student {
                    let m = 1 + (p % 10) as u8;
                    if alive_in(m) {
                        plan.push((p, m, 2));
                    }
                }
            }
            let employee_medical =
                employee && matches!(job.kind, JobKind::Enterprise | JobKind::Public);
            if allowed[4] && !employee_medical && job.kind != JobKind::Retired {
                plan.push((p, 1, 4));
            }
        }
        plan.sort_by_key(|&(p, m, k)| (m, k, p));
        let employer = EntitySlots {
            uscc: ctx.f("employer_uscc"),
            name: ctx.f("employer_name"),
            ..EntitySlots::default()
        };
        let f = [
            "insurance_type",
            "period",
            "contribution_base",
            "amount",
            "employer_type",
            "budget_funded",
        ]
        .map(|n| ctx.f(n));
        InsuranceGen {
            ctx,
            plan,
            slots: ctx.person("id_number", "name", "", "", "", ""),
            employer,
            f,
        }
    }
}

/// The insurance kinds an export carries: its constant, or every kind no
/// sibling export fixes by a constant.
fn allowed_kinds(ctx: &Ctx<'_>) -> [bool; 7] {
    if let Some(c) = ctx.constant("insurance_type") {
        return INSURANCES.map(|k| k == c);
    }
    let mut allowed = [true; 7];
    for p in &ctx.peers {
        if p.id == ctx.pipeline.id {
            continue;
        }
        if let Some(c) = Ctx::constant_of(p, "insurance_type")
            && let Some(i) = INSURANCES.iter().position(|k| *k == c)
        {
            allowed[i] = false;
        }
    }
    for (i, k) in INSURANCES.iter().enumerate() {
        allowed[i] &= Ctx::accepts(ctx.pipeline, "insurance_type", k);
    }
    allowed
}

impl Generator for InsuranceGen<'_> {
    fn len(&self) -> usize {
        self.plan.len()
    }
    fn fill(&mut self, i: usize, rng: &mut Rand, rec: &mut Record) {
        let w: &World = self.ctx.world;
        let (p, m, k) = self.plan[i];
        let person = w.person(p);
        rec.put_person(w, &self.slots, p, Some(Topic::Insurance));
        let [kind, per, base_f, amount_f, etype, budget] = self.f;
        rec.text(kind, INSURANCES[k as usize]);
        rec.text(per, period(m));
        rec.month = Some(m);
        let job = person.job;
        let resident = matches!(k, 2 | 4);
        if resident {
            let amount = if k == 2 {
                *pick(rng, &[200i64, 300, 500, 800, 1000])
            } else {
                400
            };
            rec.set(amount_f, yuan(amount));
            rec.text(etype, "其他");
            rec.set(budget, Value::Bool(false));
            return;
        }
        let base = match job.kind {
            JobKind::Flexible | JobKind::SelfEmployed => {
                if chance(rng, 0.8) {
                    BASE_RANGE.0
                } else {
                    job.wage.clamp(BASE_RANGE.0, BASE_RANGE.1)
                }
            }
            _ => job.wage.clamp(BASE_RANGE.0, BASE_RANGE.1),
        };
        let rate = match k {
            0 | 1 => {
                if matches!(job.kind, JobKind::Flexible | JobKind::SelfEmployed) {
                    20.0
                } else {
                    24.0
                }
            }
            3 => 8.5,
            5 => 1.0,
            _ => 0.5,
        };
        rec.set(base_f, yuan(i64::from(base)));
        rec.set(amount_f, cents((f64::from(base) * rate).round() as i64));
        let (label, funded) = if job.employer != NONE {
            let e = w.entity(job.employer);
            rec.put_entity(w, &self.employer, job.employer);
            match e.kind {
                EntityKind::Agency => ("机关", true),
                EntityKind::Institution => ("事业单位", true),
                EntityKind::SocialOrg => ("社会团体", false),
                EntityKind::Individual => ("个体", false),
                _ => ("企业", false),
            }
        } else {
            ("灵活就业", false)
        };
        rec.text(etype, label);
        rec.set(budget, Value::Bool(funded));
    }
}
