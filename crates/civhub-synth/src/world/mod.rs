//! The synthetic city: people, households, legal entities and what they own,
//! the 低保 recipients, and the cases planted among them.
//!
//! The world is built once, single-threaded, from the seed; every export is
//! then a view of it. Big tables hold compact structs (indices, codes, dates)
//! and strings such as addresses or certificate numbers are rendered when an
//! export needs them, so a million people fit in a few hundred megabytes.

pub mod assets;
pub mod dibao;
pub mod orgs;
pub mod people;

use crate::vocab::places::{DISTRICTS, NUMERALS, ROADS, VILLAGES, is_urban};
use chrono::NaiveDate;
use std::collections::HashMap;

/// "No index" in compact u32 references.
pub const NONE: u32 = u32::MAX;

/// The fixed reference date of every synthetic export ("today").
pub fn ref_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 1).expect("valid date")
}

/// A person or an entity, by index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Holder {
    /// Index into [`World::persons`].
    Person(u32),
    /// Index into [`World::entities`].
    Entity(u32),
}

/// Relation to the head of household (与户主关系).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Relation {
    Head,
    Spouse,
    Son,
    Daughter,
    Father,
    Mother,
    Grandson,
    Granddaughter,
    DaughterInLaw,
    SonInLaw,
    Sibling,
    Other,
}

impl Relation {
    /// As written in household registers.
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Head => "户主",
            Relation::Spouse => "配偶",
            Relation::Son => "子",
            Relation::Daughter => "女",
            Relation::Father => "父亲",
            Relation::Mother => "母亲",
            Relation::Grandson => "孙子",
            Relation::Granddaughter => "孙女",
            Relation::DaughterInLaw => "儿媳",
            Relation::SonInLaw => "女婿",
            Relation::Sibling => "兄弟姐妹",
            Relation::Other => "其他",
        }
    }

    /// As written in 低保 member lists (relation to the applicant).
    pub fn as_dibao_str(self) -> &'static str {
        match self {
            Relation::Head => "本人",
            r => r.as_str(),
        }
    }
}

/// What a person does for a living.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// Under school age.
    Child,
    /// In school or university.
    Student,
    /// Employee of an enterprise (企业职工).
    Enterprise,
    /// Employee of a public body (机关) or institution (事业单位), paid by the budget (财政供养).
    Public,
    /// Flexible employment (灵活就业).
    Flexible,
    /// Runs an individual business (个体工商户).
    SelfEmployed,
    /// Farming.
    Farmer,
    /// Retired with a pension.
    Retired,
    /// None of the above.
    None,
}

/// Employment of a person.
#[derive(Debug, Clone, Copy)]
pub struct Job {
    /// Kind.
    pub kind: JobKind,
    /// Employer (entity index) or [`NONE`].
    pub employer: u32,
    /// Monthly wage or pension, 元.
    pub wage: u32,
    /// Social insurance is not paid for this job (a planted case keeps its
    /// evidence to one source).
    pub no_si: bool,
}

impl Job {
    /// No job.
    pub const NONE: Job = Job {
        kind: JobKind::None,
        employer: NONE,
        wage: 0,
        no_si: false,
    };
}

/// One natural person.
#[derive(Debug, Clone)]
pub struct Person {
    /// 18-character resident ID (always valid).
    pub id: [u8; 18],
    /// Name (simplified characters; minority names with U+00B7).
    pub name: Box<str>,
    /// Former name (曾用名), rarely.
    pub former_name: Option<Box<str>>,
    /// Birth date (agrees with the ID).
    pub birth: NaiveDate,
    /// Gender (agrees with the ID).
    pub male: bool,
    /// Date of death, if dead.
    pub death: Option<NaiveDate>,
    /// Household index.
    pub household: u32,
    /// Relation to the head.
    pub relation: Relation,
    /// Index into `ETHNICITIES`.
    pub ethnicity: u8,
    /// Mobile number, 0 for none.
    pub phone: u64,
    /// Employment.
    pub job: Job,
    /// Member of a 低保 recipient household.
    pub recipient: bool,
    /// Moved out of the city (户籍迁出).
    pub moved_out: bool,
    /// Another person with the same name and birth date, deliberately made.
    pub twin_of: u32,
}

impl Person {
    /// The ID as text.
    pub fn id_str(&self) -> &str {
        std::str::from_utf8(&self.id).unwrap_or("")
    }

    /// Age in whole years on `at`.
    pub fn age_at(&self, at: NaiveDate) -> i32 {
        use chrono::Datelike;
        let mut age = at.year() - self.birth.year();
        if (at.month(), at.day()) < (self.birth.month(), self.birth.day()) {
            age -= 1;
        }
        age
    }

    /// Age on the reference date.
    pub fn age(&self) -> i32 {
        self.age_at(ref_date())
    }

    /// Alive on the reference date.
    pub fn alive(&self) -> bool {
        self.death.is_none()
    }

    /// The old 15-digit form of the ID (people born in the 1900s).
    pub fn id15(&self) -> Option<String> {
        let s = self.id_str();
        (&s[6..8] == "19").then(|| format!("{}{}", &s[..6], &s[8..17]))
    }

    /// Gender as written.
    pub fn gender(&self) -> &'static str {
        if self.male { "男" } else { "女" }
    }
}

/// A street or village address inside a town.
#[derive(Debug, Clone, Copy, Default)]
pub struct Addr {
    /// District index.
    pub district: u8,
    /// Town index within the district.
    pub town: u8,
    /// Road (urban) or village (rural) index.
    pub place: u8,
    /// Building (urban) or village group (rural).
    pub block: u8,
    /// House number.
    pub number: u16,
    /// Room (urban), 0 for none.
    pub room: u16,
}

impl Addr {
    /// The district's 中文 name.
    pub fn district_name(&self) -> &'static str {
        DISTRICTS[self.district as usize].name
    }

    /// The town's 中文 name.
    pub fn town_name(&self) -> &'static str {
        DISTRICTS[self.district as usize].towns[self.town as usize]
    }

    /// True in a sub-district or county seat.
    pub fn urban(&self) -> bool {
        is_urban(self.town_name())
    }

    /// The address as registered, e.g. 屯溪区昱中街道新安北路56号3栋402室.
    pub fn render(&self) -> String {
        let d = self.district_name();
        let t = self.town_name();
        if self.urban() {
            let road = ROADS[self.place as usize % ROADS.len()];
            if self.room > 0 {
                format!(
                    "{d}{t}{road}{}号{}栋{}室",
                    self.number, self.block, self.room
                )
            } else {
                format!("{d}{t}{road}{}号", self.number)
            }
        } else {
            let v = VILLAGES[self.place as usize % VILLAGES.len()];
            let g = NUMERALS[self.block as usize % NUMERALS.len()];
            format!("{d}{t}{v}村{g}组{}号", self.number)
        }
    }
}

/// A household (户).
#[derive(Debug, Clone)]
pub struct Household {
    /// Sequence within the city, part of the 户号.
    pub seq: u32,
    /// First member (persons of a household are contiguous).
    pub first: u32,
    /// Number of members.
    pub len: u8,
    /// Registered address.
    pub addr: Addr,
    /// Landline (local 7-digit number), 0 for none.
    pub landline: u32,
    /// Receives 低保 (index into [`World::dibao`]) or [`NONE`].
    pub dibao: u32,
}

impl Household {
    /// Household number (户号), 12 digits: district code and sequence.
    pub fn number(&self) -> String {
        format!(
            "{}{:06}",
            DISTRICTS[self.addr.district as usize].code,
            self.seq % 1_000_000
        )
    }

    /// Member indices.
    pub fn members(&self) -> std::ops::Range<u32> {
        self.first..self.first + u32::from(self.len)
    }
}

/// Kinds of legal entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityKind {
    /// 有限公司 and the like (91).
    Company,
    /// 分公司 (91), a legal entity of its own.
    Branch,
    /// 农民专业合作社 (93).
    Cooperative,
    /// 机关 (11).
    Agency,
    /// 事业单位 (12).
    Institution,
    /// 社会团体 / 民办非企业单位 (51, 52).
    SocialOrg,
    /// 个体工商户 (92).
    Individual,
}

impl EntityKind {
    /// As written in registers.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Company => "有限责任公司",
            EntityKind::Branch => "分公司",
            EntityKind::Cooperative => "农民专业合作社",
            EntityKind::Agency => "机关",
            EntityKind::Institution => "事业单位",
            EntityKind::SocialOrg => "社会组织",
            EntityKind::Individual => "个体工商户",
        }
    }

    /// Paid from the public budget (财政供养).
    pub fn budget_funded(self) -> bool {
        matches!(self, EntityKind::Agency | EntityKind::Institution)
    }
}

/// A legal entity or an individual business.
#[derive(Debug, Clone)]
pub struct Entity {
    /// Unified social credit code (always valid).
    pub uscc: [u8; 18],
    /// Registered name.
    pub name: Box<str>,
    /// Kind.
    pub kind: EntityKind,
    /// Entity type as registered (有限责任公司(自然人独资), 股份有限公司 …).
    pub type_label: &'static str,
    /// Parent entity of a branch, else [`NONE`].
    pub parent: u32,
    /// Registered address.
    pub addr: Addr,
    /// Legal representative, branch head or operator (person index), or [`NONE`].
    pub rep: u32,
    /// Registered capital, 元 (0 for bodies without).
    pub capital: i64,
    /// Established / registered.
    pub established: NaiveDate,
    /// Index into the schema's status list: 存续, 在业, 注销, 吊销, 迁出.
    pub status: u8,
    /// Industry (index into `INDUSTRIES` / `SHOPS`).
    pub industry: u8,
    /// Employees (persons whose employer this is), for individual businesses the declared count.
    pub employees: u32,
    /// Shareholdings of this entity: range into [`World::shares`].
    pub shares: (u32, u8),
    /// Telephone (mobile or landline digits), 0 for none.
    pub phone: u64,
}

impl Entity {
    /// The code as text.
    pub fn uscc_str(&self) -> &str {
        std::str::from_utf8(&self.uscc).unwrap_or("")
    }
}

/// One shareholding.
#[derive(Debug, Clone, Copy)]
pub struct Share {
    /// The company.
    pub entity: u32,
    /// The shareholder.
    pub holder: Holder,
    /// Subscribed capital, 元.
    pub amount: i64,
    /// Percent of the capital.
    pub ratio: f64,
}

/// Planned uses of a property (规划用途), in schema order.
pub const USAGES: [&str; 6] = ["住宅", "商业", "办公", "车库", "工业", "其他"];

/// A registered property.
#[derive(Debug, Clone)]
pub struct Property {
    /// The right holder.
    pub owner: Holder,
    /// Index into [`USAGES`].
    pub usage: u8,
    /// Floor area in hundredths of ㎡.
    pub area: u32,
    /// Location.
    pub addr: Addr,
    /// Registered.
    pub registered: NaiveDate,
    /// 0 现势, 1 注销, 2 抵押, 3 查封.
    pub status: u8,
    /// 0 单独所有, 1 共同共有, 2 按份共有.
    pub share: u8,
}

/// Vehicle types: (车辆类型, 号牌种类).
pub const VEHICLE_TYPES: [(&str, &str); 8] = [
    ("小型轿车", "小型汽车"),
    ("小型普通客车", "小型汽车"),
    ("小型越野客车", "小型汽车"),
    ("轻型普通货车", "小型汽车"),
    ("普通二轮摩托车", "普通摩托车"),
    ("残疾人专用小型自动挡载客汽车", "小型汽车"),
    ("中型普通客车", "大型汽车"),
    ("小型轿车", "小型新能源汽车"),
];
/// Index of the motorcycle type.
pub const VT_MOTO: u8 = 4;
/// Index of the disability vehicle type.
pub const VT_DISABLED: u8 = 5;
/// Uses (使用性质), in schema order.
pub const USES: [&str; 7] = [
    "非营运",
    "营运",
    "公交客运",
    "出租客运",
    "货运",
    "警用",
    "其他",
];

/// A registered motor vehicle.
#[derive(Debug, Clone)]
pub struct Vehicle {
    /// Owner.
    pub owner: Holder,
    /// Plate without 皖J (5 or 6 ASCII characters).
    pub plate: Box<str>,
    /// Index into [`VEHICLE_TYPES`].
    pub vtype: u8,
    /// Index into [`USES`].
    pub use_nature: u8,
    /// Make and model.
    pub brand: &'static str,
    /// First registration.
    pub registered: NaiveDate,
    /// 0 正常, 1 注销, 2 报废, 3 转出, 4 抵押.
    pub status: u8,
}

/// A provident-fund account.
#[derive(Debug, Clone)]
pub struct FundAccount {
    /// Account holder.
    pub person: u32,
    /// Employer.
    pub employer: u32,
    /// Opened.
    pub opened: NaiveDate,
    /// Deposit base (monthly wage), 元.
    pub base: u32,
    /// Contribution rate per side, percent (5–12).
    pub rate: u8,
    /// Balance, 分.
    pub balance: i64,
    /// 0 正常, 1 封存, 2 销户.
    pub status: u8,
}

impl FundAccount {
    /// Monthly deposit (employee and employer sides), 分.
    pub fn monthly_cents(&self) -> i64 {
        // Each side is rounded to the yuan, as the fund centre does.
        2 * ((i64::from(self.base) * i64::from(self.rate) + 50) / 100) * 100
    }
}

/// How a planted identifier is garbled in the exports of one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdForm {
    /// Written correctly.
    Clean,
    /// Old 15-digit form.
    Fifteen,
    /// One digit mistyped (the full wrong ID).
    Typo(String),
    /// Left empty.
    Missing,
    /// Something that is not an ID of anyone.
    Garbage(String),
}

/// How a planted name is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameForm {
    /// Written correctly.
    Clean,
    /// This variant (homophone or traditional characters).
    Variant(String),
}

/// Forced noise on one person's identity in one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planted {
    /// The ID.
    pub id: IdForm,
    /// The name.
    pub name: NameForm,
}

impl Planted {
    /// A short description for the truth files.
    pub fn describe(&self) -> String {
        let id = match &self.id {
            IdForm::Clean => String::new(),
            IdForm::Fifteen => "15-digit ID".into(),
            IdForm::Typo(s) => format!("mistyped ID {s}"),
            IdForm::Missing => "no ID".into(),
            IdForm::Garbage(s) => format!("garbage ID {s}"),
        };
        let name = match &self.name {
            NameForm::Clean => String::new(),
            NameForm::Variant(n) => format!("name written {n}"),
        };
        [id, name]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Datasets whose person mentions a planted case garbles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs)]
pub enum Topic {
    Property,
    Vehicle,
    Fund,
    Insurance,
    Business,
    Death,
}

/// A 低保 recipient household (低保家庭).
#[derive(Debug, Clone)]
pub struct DibaoHousehold {
    /// Sequence, part of the household id.
    pub seq: u32,
    /// Household (户) it was formed from.
    pub household: u32,
    /// Applicant (申请人).
    pub head: u32,
    /// Members, the applicant first.
    pub members: Vec<DibaoMember>,
    /// 0 城市低保, 1 农村低保.
    pub category: u8,
    /// Monthly subsidy, 分.
    pub amount: i64,
    /// Subsidy started.
    pub start: NaiveDate,
}

impl DibaoHousehold {
    /// The subsidy household id, e.g. DB3410212100123.
    pub fn id(&self, world: &World) -> String {
        use chrono::Datelike;
        let hh = &world.households[self.household as usize];
        format!(
            "DB{}{:02}{:05}",
            DISTRICTS[hh.addr.district as usize].code,
            self.start.year() % 100,
            self.seq
        )
    }
}

/// One member row of a 低保 household.
#[derive(Debug, Clone)]
pub struct DibaoMember {
    /// The person.
    pub person: u32,
    /// Relation to the applicant.
    pub relation: Relation,
    /// Garbled identity in this row (planted identity and duplicate cases).
    pub planted: Option<Planted>,
    /// 0 健康, 1 慢性病, 2 大病, 3 残疾.
    pub health: u8,
    /// 0 none, 1–4 一级 to 四级.
    pub disability: u8,
}

/// One row of `truth/dibao.csv`.
#[derive(Debug, Clone)]
pub struct DibaoTruth {
    /// Index into [`World::dibao`].
    pub household: u32,
    /// The member concerned.
    pub person: u32,
    /// Rule id (property, vehicle, …, or decoy).
    pub rule: &'static str,
    /// For decoys: the rule it must not trigger.
    pub decoy_for: &'static str,
    /// Reachable only through noisy identifiers.
    pub noisy: bool,
    /// What was planted.
    pub detail: String,
}

/// The whole synthetic city.
#[derive(Debug, Default)]
pub struct World {
    /// The run's seed.
    pub seed: u64,
    /// People.
    pub persons: Vec<Person>,
    /// Households.
    pub households: Vec<Household>,
    /// Legal entities and individual businesses.
    pub entities: Vec<Entity>,
    /// Shareholdings, grouped by entity.
    pub shares: Vec<Share>,
    /// Properties.
    pub properties: Vec<Property>,
    /// Vehicles.
    pub vehicles: Vec<Vehicle>,
    /// Provident-fund accounts.
    pub funds: Vec<FundAccount>,
    /// 低保 recipient households.
    pub dibao: Vec<DibaoHousehold>,
    /// The 低保 ground truth.
    pub dibao_truth: Vec<DibaoTruth>,
    /// Forced noise by person and topic.
    pub planted: HashMap<(u32, Topic), Planted>,
    /// Persons who must appear in every death registration export.
    pub planted_deaths: std::collections::HashSet<u32>,
    /// The first 17 digits of every resident ID issued, to keep them unique.
    pub(crate) id_bodies: std::collections::HashSet<u64>,
    /// Every USCC issued.
    pub(crate) usccs: std::collections::HashSet<[u8; 18]>,
    /// Every plate issued.
    pub(crate) plates: std::collections::HashSet<Box<str>>,
    /// The matching key of every entity name (keeps names distinguishable).
    pub(crate) company_keys: std::collections::HashSet<String>,
}

impl World {
    /// The person with this index.
    pub fn person(&self, i: u32) -> &Person {
        &self.persons[i as usize]
    }

    /// The entity with this index.
    pub fn entity(&self, i: u32) -> &Entity {
        &self.entities[i as usize]
    }

    /// The household of a person.
    pub fn household_of(&self, p: u32) -> &Household {
        &self.households[self.persons[p as usize].household as usize]
    }

    /// A person's address (their household's).
    pub fn address_of(&self, p: u32) -> &Addr {
        &self.household_of(p).addr
    }

    /// Forced noise for a person in a topic.
    pub fn planted_for(&self, p: u32, topic: Topic) -> Option<&Planted> {
        if self.planted.is_empty() {
            return None;
        }
        self.planted.get(&(p, topic))
    }

    /// The truth key of a person, e.g. P000123.
    pub fn person_key(i: u32) -> String {
        format!("P{:06}", i + 1)
    }

    /// The truth key of an entity, e.g. E000045.
    pub fn entity_key(i: u32) -> String {
        format!("E{:06}", i + 1)
    }
}

/// Parameters of the 低保 check the planted cases are built around.
#[derive(Debug, Clone, Copy)]
pub struct DibaoParams {
    /// Local 低保 standard, 元 per person per month.
    pub standard: u32,
    /// Registered capital at or above which a business role disqualifies, 元.
    pub capital_threshold: i64,
    /// Per-capita floor area above which a household is flagged, ㎡.
    pub area_per_capita: u32,
}

/// The parameters assumed for Huangshan in 2026.
pub const DIBAO: DibaoParams = DibaoParams {
    standard: 800,
    capital_threshold: 100_000,
    area_per_capita: 40,
};

/// Builds the world for `persons` people from `seed`.
pub fn build(persons: usize, seed: u64, caps: &dibao::PlantCaps) -> World {
    let mut w = World {
        seed,
        ..World::default()
    };
    people::build(&mut w, persons);
    dibao::select(&mut w);
    orgs::build(&mut w);
    assets::build(&mut w);
    dibao::plant(&mut w, caps);
    w
}
