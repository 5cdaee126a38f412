//! Filling a field by what it means: its name, type, code table, schema
//! description and the export's topic. Used by the generic generator for
//! every field no identity covers.

use super::people::date_in;
use super::{Ctx, Record, phone_text};
use crate::rng::{Rand, chance, lognormal, pick, pick_skewed, stable_hash};
use crate::vocab::names::ETHNICITIES;
use crate::vocab::places::DISTRICTS;
use crate::vocab::words::PHRASES;
use crate::world::{EntityKind, NONE, World, ref_date};
use chrono::{Duration, NaiveDate, NaiveTime};
use civhub_core::{FieldType, Normalizer, PiiClass, Value};
use civhub_ingest::config::{ColumnSource, Sheets};
use rand::Rng;

/// How a field is filled.
#[derive(Debug, Clone)]
pub enum Fill {
    /// One of these values (the first ones more often).
    Domain(Vec<String>),
    /// The subject's district.
    District,
    /// The subject's town.
    Town,
    /// The subject's village or community.
    Village,
    /// The subject's address.
    Address,
    /// The subject's phone.
    Phone,
    /// The record's period.
    Period,
    /// A code unique to the row.
    Code(String),
    /// A utility account number of the subject's household.
    UtilityAccount(char),
    /// A bank card number.
    BankAccount,
    /// A date.
    Date(DateKind),
    /// A date and time.
    DateTime(DateKind),
    /// Money in 元 within a range.
    Amount(f64, f64),
    /// The subject's monthly wage.
    Wage,
    /// A whole number.
    Int(i64, i64),
    /// The subject's household size.
    FamilySize,
    /// A float with two decimals.
    Float(f64, f64),
    /// True with this probability.
    Bool(f64),
    /// One of these words.
    Words(&'static [&'static str]),
    /// The subject's ethnicity.
    Ethnicity,
    /// Someone's name (a person who is not an identity of the record).
    PersonName,
    /// An entity's name; entities are chosen per row and prefix.
    EntityName(String),
    /// The same entity's USCC.
    EntityUscc(String),
    /// The providing department's name.
    Dept,
    /// The providing department's USCC.
    DeptUscc,
    /// A court of the subject's district.
    Court,
    /// A tax office of the subject's district.
    TaxOffice,
    /// A hospital.
    Hospital,
    /// A school.
    School,
    /// A bank branch.
    Bank,
    /// A hotel.
    Hotel,
    /// A monitoring station.
    Station,
    /// A project name.
    Project,
    /// School grade from the subject's age.
    Grade,
    /// The village committee of the subject's village.
    VillageCommittee,
    /// Free text.
    Free,
}

/// Kinds of dates.
#[derive(Debug, Clone, Copy)]
pub enum DateKind {
    /// The subject's birth date.
    Birth,
    /// Some day in the last years.
    Past,
    /// A day after the start of something (rules order it).
    Later,
    /// A day of 2026 (in the record's month when it has one).
    Recent,
    /// A day validity ends, mostly in the future.
    Expiry,
}

const EDU: &[&str] = &["初中", "高中", "大专", "本科", "小学", "中专", "硕士研究生"];
const LANG: &[&str] = &["普通话", "英语", "日语", "韩语", "德语"];
const RELATION: &[&str] = &["户主", "配偶", "子", "女", "父亲", "母亲", "孙子", "孙女"];
const HEALTH: &[&str] = &["健康", "慢性病", "大病", "残疾"];
const REASONS: &[&str] = &[
    "因病",
    "因残",
    "因学",
    "因灾",
    "缺劳力",
    "缺技术",
    "意外事故",
];
const DIAGNOSES: &[&str] = &[
    "高血压",
    "2型糖尿病",
    "社区获得性肺炎",
    "冠状动脉粥样硬化性心脏病",
    "脑梗死",
    "腰椎间盘突出",
    "慢性阻塞性肺疾病",
];
const CRIMES: &[&str] = &[
    "盗窃罪",
    "危险驾驶罪",
    "诈骗罪",
    "故意伤害罪",
    "交通肇事罪",
    "帮助信息网络犯罪活动罪",
];
const TAXES: &[&str] = &[
    "增值税",
    "企业所得税",
    "个人所得税",
    "城市维护建设税",
    "印花税",
    "房产税",
];
const VACCINES: &[&str] = &[
    "乙肝疫苗",
    "卡介苗",
    "脊灰疫苗",
    "百白破疫苗",
    "麻腮风疫苗",
    "乙脑减毒活疫苗",
    "流脑疫苗",
];
const MAKERS: &[&str] = &[
    "北京生物制品研究所",
    "武汉生物制品研究所",
    "华兰生物疫苗股份有限公司",
    "长春生物制品研究所",
];
const BANKS: &[&str] = &[
    "黄山农村商业银行屯溪支行",
    "中国工商银行黄山分行",
    "中国建设银行黄山分行",
    "中国农业银行歙县支行",
    "徽商银行黄山分行",
    "中国邮政储蓄银行黄山市分行",
];
const HOSPITALS: &[&str] = &[
    "黄山市人民医院",
    "黄山首康医院",
    "屯溪区人民医院",
    "歙县人民医院",
    "休宁县人民医院",
    "祁门县人民医院",
    "黄山市中医医院",
    "黟县人民医院",
];
const UNITS: &[&str] = &["μg/m³", "mg/m³", "℃", "mm", "%", "m/s"];
const TYPES: &[&str] = &["一般", "重点", "其他"];
const VETERANS: &[&str] = &[
    "退役士兵",
    "伤残军人",
    "烈士遗属",
    "带病回乡退伍军人",
    "参战退役人员",
];
const POSITIONS: &[&str] = &[
    "科员",
    "一级科员",
    "四级主任科员",
    "专业技术十级",
    "工勤技能三级",
    "副科长",
    "科长",
];
const OUTCOMES: &[&str] = &["准予许可", "办结", "已办结", "通过", "合格"];

/// Text fields recognised by name (and optionally the export's topic): (field
/// name parts, topic words (any if empty), values).
const WORD_TABLE: &[(&[&str], &[&str], &[&str])] = &[
    (
        &["cause"],
        &["court", "案件", "法院"],
        &[
            "民间借贷纠纷",
            "买卖合同纠纷",
            "离婚纠纷",
            "劳动争议",
            "机动车交通事故责任纠纷",
            "物业服务合同纠纷",
        ],
    ),
    (
        &["closing_method"],
        &[],
        &["判决", "调解", "撤诉", "裁定驳回起诉", "执行完毕"],
    ),
    (
        &["party_role"],
        &[],
        &["原告", "被告", "第三人", "申请执行人", "被执行人"],
    ),
    (
        &["basis"],
        &["处罚", "penalty"],
        &[
            "《中华人民共和国行政处罚法》第二十八条",
            "《中华人民共和国食品安全法》第一百二十四条",
            "《中华人民共和国环境保护法》第五十九条",
            "《城市市容和环境卫生管理条例》第三十四条",
        ],
    ),
    (
        &["basis_no"],
        &[],
        &[
            "（2025）皖1002民初1234号",
            "（2024）皖10民终567号",
            "（2026）皖1021民初88号",
        ],
    ),
    (
        &["violation_type"],
        &[],
        &[
            "未取得许可擅自经营",
            "超标排放污染物",
            "占道经营",
            "销售过期食品",
            "违法建设",
        ],
    ),
    (
        &["violation_facts", "facts"],
        &[],
        &["经查，当事人存在上述违法行为，事实清楚，证据确凿"],
    ),
    (
        &["penalty_type"],
        &[],
        &["罚款", "警告", "没收违法所得", "责令停产停业"],
    ),
    (
        &["list_type"],
        &[],
        &["严重失信主体名单", "经营异常名录", "重点关注对象名单"],
    ),
    (
        &["removal_reason"],
        &[],
        &["信用修复", "期满移出", "已履行义务"],
    ),
    (
        &["reason"],
        &["信用", "名单", "异常", "credit", "abnormal", "失信"],
        &[
            "未按规定报送年度报告",
            "通过登记的住所无法联系",
            "拒不履行生效法律文书",
            "虚开增值税专用发票",
        ],
    ),
    (
        &["reason"],
        &["失业", "unemploy"],
        &["劳动合同期满", "单位裁员", "个人辞职", "企业破产"],
    ),
    (
        &["obligation"],
        &[],
        &["偿还借款本金及利息", "支付货款及违约金", "支付劳动报酬"],
    ),
    (
        &["behavior"],
        &[],
        &["有履行能力而拒不履行生效法律文书确定义务", "违反限制消费令"],
    ),
    (
        &["channel"],
        &["办件", "service"],
        &["窗口", "网上申报", "自助终端", "皖事通"],
    ),
    (
        &["channel"],
        &["预约", "ticket", "booking"],
        &["官方小程序", "携程", "美团", "现场"],
    ),
    (
        &["item_name"],
        &[],
        &[
            "营业执照办理",
            "不动产登记",
            "户口迁移",
            "社会保障卡申领",
            "住房公积金提取",
            "居住证办理",
        ],
    ),
    (&["decision_name"], &[], &["准予行政许可决定书"]),
    (
        &["license_cert_name"],
        &[],
        &["建筑工程施工许可证", "户外广告设置许可证", "娱乐经营许可证"],
    ),
    (
        &["indicator"],
        &[],
        &["PM2.5", "PM10", "SO2", "NO2", "O3", "CO"],
    ),
    (
        &["industry"],
        &[],
        &[
            "茶叶种植",
            "批发业",
            "零售业",
            "住宿业",
            "餐饮业",
            "房屋建筑业",
            "软件和信息技术服务业",
            "道路运输业",
            "农副食品加工业",
        ],
    ),
    (
        &["registration_type", "entity_type"],
        &[],
        &[
            "有限责任公司",
            "私营有限责任公司",
            "股份有限公司",
            "个体工商户",
            "农民专业合作社",
        ],
    ),
    (
        &["school_type"],
        &[],
        &["小学", "初级中学", "完全中学", "幼儿园", "中等职业学校"],
    ),
    (
        &["audit_type"],
        &[],
        &[
            "经济责任审计",
            "预算执行审计",
            "专项资金审计",
            "政府投资审计",
        ],
    ),
    (
        &["contract_type"],
        &[],
        &["固定期限", "无固定期限", "以完成一定工作任务为期限"],
    ),
    (
        &["batch"],
        &[],
        &["第一批", "第二批", "2024年度", "2025年度"],
    ),
    (
        &["business_scope", "scope"],
        &[],
        &[
            "茶叶种植、加工、销售",
            "餐饮服务",
            "开展行业交流、培训、咨询服务",
            "住宿服务；旅游信息咨询",
        ],
    ),
    (
        &["business_items"],
        &[],
        &[
            "预包装食品销售",
            "热食类食品制售",
            "冷食类食品制售",
            "散装食品销售",
        ],
    ),
    (
        &["institution_type"],
        &[],
        &["综合医院", "中医医院", "卫生院", "社区卫生服务中心", "诊所"],
    ),
    (&["venue_type"], &[], &["寺院", "宫观", "教堂", "固定处所"]),
    (
        &["right_type"],
        &[],
        &["林地使用权", "林木所有权", "林地经营权"],
    ),
    (&["forest_type"], &[], &["公益林", "商品林"]),
    (
        &["species"],
        &[],
        &["杉木", "马尾松", "毛竹", "茶树", "香榧", "阔叶混交林"],
    ),
    (
        &["assistance_type"],
        &[],
        &["临时救助", "医疗救助", "教育救助", "住房救助"],
    ),
    (
        &["department_name"],
        &[],
        &["内科", "外科", "妇产科", "儿科", "骨科", "心血管内科"],
    ),
    (
        &["project_status", "status"],
        &["项目", "project"],
        &["在建", "已竣工", "拟建", "已审批"],
    ),
    (&["status"], &[], &["正常"]),
    (
        &["event_type", "incident_type"],
        &[],
        &["生产安全事故", "火灾", "交通事故", "自然灾害"],
    ),
    (
        &["signal_type"],
        &[],
        &[
            "暴雨预警信号",
            "高温预警信号",
            "大风预警信号",
            "寒潮预警信号",
            "雷电预警信号",
        ],
    ),
    (&["approval_type"], &[], &["审批", "核准", "备案"]),
    (&["quality"], &[], &["有效"]),
    (&["id_type"], &[], &["居民身份证"]),
    (&["crime"], &[], &["盗窃罪", "危险驾驶罪", "诈骗罪"]),
    (
        &["content"],
        &["预警", "warning"],
        &["预计未来6小时内将出现强降水，请注意防范"],
    ),
    (
        &["area"],
        &["预警", "warning"],
        &["黄山市全境", "黄山风景区及周边", "歙县、休宁县"],
    ),
];

/// Decides how field `i` of the pipeline is filled.
pub fn classify(ctx: &Ctx<'_>, i: usize, about: &str) -> Fill {
    let p = ctx.pipeline;
    let field = &p.schema.fields[i];
    let name = field.name.as_str();
    let col = p.columns.iter().find(|c| c.field == i);
    let norm = col.map(|c| c.normalizer).unwrap_or(Normalizer::Text);
    let has = |k: &[&str]| k.iter().any(|x| name.contains(x));
    if let Some(c) = col {
        if c.source == ColumnSource::Sheet
            && let Some(Sheets::Many(list)) = p.def.source.sheets.as_ref().map(|s| s.get_ref())
        {
            let vals: Vec<String> = list
                .iter()
                .map(|raw| {
                    c.map
                        .as_ref()
                        .and_then(|m| m.get(raw).cloned())
                        .unwrap_or_else(|| raw.clone())
                })
                .collect();
            return Fill::Domain(vals);
        }
        if matches!(c.source, ColumnSource::Sheet | ColumnSource::File) {
            if name == "period" {
                return Fill::Period;
            }
            if let Some(d) = ctx.domain(i) {
                return Fill::Domain(d);
            }
            return Fill::District;
        }
    }
    if let Some(mut d) = ctx.domain(i) {
        if !about.contains("死亡") || name != "status" {
            d.retain(|v| v != "死亡" && v != "死亡注销");
        }
        if name.ends_with("district") {
            return Fill::District;
        }
        return Fill::Domain(d);
    }
    match field.field_type {
        FieldType::Date => {
            return Fill::Date(if has(&["birth"]) {
                DateKind::Birth
            } else if has(&["expir", "valid_to", "until", "publicity", "cert_expiry"]) {
                DateKind::Expiry
            } else if has(&[
                "end",
                "closing",
                "discharge",
                "removed",
                "lifted",
                "completed",
            ]) {
                DateKind::Later
            } else if has(&["visit", "check_in", "settled", "paid", "pay_"]) {
                DateKind::Recent
            } else {
                DateKind::Past
            });
        }
        FieldType::Datetime => {
            return Fill::DateTime(if has(&["out", "completed", "lifted", "closed", "end"]) {
                DateKind::Later
            } else {
                DateKind::Recent
            });
        }
        FieldType::Boolean => return Fill::Bool(0.3),
        FieldType::Integer => {
            return if has(&["family_size"]) {
                Fill::FamilySize
            } else if has(&["student_count"]) {
                Fill::Int(100, 3000)
            } else if has(&["teacher"]) {
                Fill::Int(10, 200)
            } else if has(&["beds"]) {
                Fill::Int(10, 600)
            } else if has(&["rooms"]) {
                Fill::Int(5, 200)
            } else if has(&["employees"]) {
                Fill::Int(1, 300)
            } else if has(&["deaths"]) {
                Fill::Int(0, 1)
            } else if has(&["injuries"]) {
                Fill::Int(0, 4)
            } else if has(&["plot"]) {
                Fill::Int(1, 15)
            } else if has(&["dose"]) {
                Fill::Int(1, 3)
            } else if has(&["term_months"]) {
                Fill::Int(60, 360)
            } else {
                Fill::Int(1, 100)
            };
        }
        FieldType::Float => {
            return if has(&["weight"]) {
                Fill::Float(2500.0, 4200.0)
            } else if has(&["rate"]) {
                Fill::Float(2.6, 3.25)
            } else if has(&["quantity"]) {
                Fill::Float(1.0, 30.0)
            } else if has(&["value", "usage"]) {
                Fill::Float(1.0, 300.0)
            } else {
                Fill::Float(0.0, 100.0)
            };
        }
        FieldType::Decimal => {
            return if norm == Normalizer::Area || has(&["floor_area"]) {
                Fill::Amount(30.0, 150.0)
            } else if has(&["area_mu"]) {
                Fill::Amount(1.0, 30.0)
            } else if has(&["salary", "wage", "income_amount"]) {
                Fill::Wage
            } else if has(&["capital", "investment", "revenue"]) {
                Fill::Amount(100_000.0, 50_000_000.0)
            } else if has(&["loan_amount"]) {
                Fill::Amount(100_000.0, 800_000.0)
            } else if about.contains("高龄") {
                Fill::Amount(50.0, 300.0)
            } else if has(&["balance"]) {
                Fill::Amount(100.0, 8_000.0)
            } else if has(&["rent"]) {
                Fill::Amount(500.0, 3_000.0)
            } else if has(&["price"]) {
                Fill::Amount(0.0, 190.0)
            } else if has(&["fine", "loss", "confiscated", "problem"]) {
                Fill::Amount(1_000.0, 200_000.0)
            } else if has(&["cost", "paid"]) {
                Fill::Amount(200.0, 20_000.0)
            } else if has(&["tax"]) {
                Fill::Amount(50.0, 2_000.0)
            } else {
                Fill::Amount(100.0, 3_000.0)
            };
        }
        _ => {}
    }
    for (names, topics, words) in WORD_TABLE {
        if names.iter().any(|n| {
            name == *n || name.ends_with(&format!("_{n}")) || name.starts_with(&format!("{n}_"))
        }) && (topics.is_empty() || topics.iter().any(|t| about.contains(t)))
        {
            return Fill::Words(words);
        }
    }
    if name == "employer_name" && (about.contains("承包") || about.contains("land_contract")) {
        return Fill::VillageCommittee;
    }
    if name == "location" && (about.contains("林") || about.contains("forest")) {
        return Fill::Village;
    }
    if name == "period" {
        Fill::Period
    } else if name.ends_with("district") {
        Fill::District
    } else if name == "town" || name.ends_with("_town") {
        Fill::Town
    } else if name == "village" {
        Fill::Village
    } else if name.ends_with("uscc") {
        let prefix = name.trim_end_matches("uscc").trim_end_matches('_');
        if matches!(prefix, "authority" | "issuer") {
            Fill::DeptUscc
        } else {
            Fill::EntityUscc(prefix.to_string())
        }
    } else if has(&["phone"]) || norm == Normalizer::Phone {
        Fill::Phone
    } else if name == "birth_place"
        || name.starts_with("institution") && name.ends_with("name")
        || name == "organization" && about.contains("康复")
    {
        Fill::Hospital
    } else if has(&["address", "location"]) || norm == Normalizer::Address {
        Fill::Address
    } else if name == "school_name" || name == "organization" && about.contains("学") {
        Fill::School
    } else if name == "bank_name" {
        Fill::Bank
    } else if name == "hotel_name" {
        Fill::Hotel
    } else if name == "station_name" {
        Fill::Station
    } else if name.ends_with("_name")
        && (field.pii == PiiClass::Name || norm == Normalizer::PersonName)
    {
        Fill::PersonName
    } else if name.ends_with("_name")
        && has(&[
            "employer",
            "agency",
            "withholder",
            "audited",
            "owner",
            "purchaser",
            "winner",
            "org",
            "operator",
            "unit",
        ])
        || norm == Normalizer::CompanyName
    {
        Fill::EntityName(
            name.trim_end_matches("name")
                .trim_end_matches('_')
                .to_string(),
        )
    } else if name == "name"
        || has(&[
            "project_name",
            "decision_name",
            "item_name",
            "license_cert_name",
        ])
    {
        Fill::Project
    } else if name == "ethnicity" {
        Fill::Ethnicity
    } else if name == "relation" {
        Fill::Words(RELATION)
    } else if name == "education" {
        Fill::Words(EDU)
    } else if name == "language" {
        Fill::Words(LANG)
    } else if name == "health" {
        Fill::Words(HEALTH)
    } else if name == "grade" || name == "class_name" {
        Fill::Grade
    } else if name == "unit" {
        Fill::Words(UNITS)
    } else if name == "vaccine_name" {
        Fill::Words(VACCINES)
    } else if name == "manufacturer" {
        Fill::Words(MAKERS)
    } else if name == "tax_type" {
        Fill::Words(TAXES)
    } else if name == "veteran_type" {
        Fill::Words(VETERANS)
    } else if name == "position" {
        Fill::Words(POSITIONS)
    } else if name == "result" {
        Fill::Words(OUTCOMES)
    } else if has(&["diagnosis"]) {
        Fill::Words(DIAGNOSES)
    } else if has(&["crime"]) {
        Fill::Words(CRIMES)
    } else if has(&["reason", "cause", "risk_type"]) {
        Fill::Words(REASONS)
    } else if name == "bank_account" {
        Fill::BankAccount
    } else if name == "account_no"
        && (about.contains("utility") || about.contains("用户") || about.contains("用电"))
    {
        let t = ctx.constant("utility_type").unwrap_or("供水");
        Fill::UtilityAccount(match t {
            "供电" => 'D',
            "燃气" => 'R',
            _ => 'S',
        })
    } else if name == "court" {
        Fill::Court
    } else if name == "tax_authority" {
        Fill::TaxOffice
    } else if has(&[
        "authority",
        "issuer",
        "department",
        "register_org",
        "responsible_org",
        "approval_org",
        "sponsor",
        "supervisor",
        "judicial_office",
        "basis_org",
        "organization",
    ]) {
        Fill::Dept
    } else if name.ends_with("_no")
        || name.ends_with("_id")
        || name.ends_with("_code")
        || name == "meter_no"
    {
        let initials: String = name
            .split('_')
            .filter_map(|w| w.chars().next())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        Fill::Code(initials)
    } else if has(&["type", "category", "kind", "item", "format", "level"]) {
        Fill::Words(TYPES)
    } else {
        Fill::Free
    }
}

/// What a row is about, for fills that depend on it.
pub struct Env<'a> {
    /// The pipeline context.
    pub ctx: &'a Ctx<'a>,
    /// The main person of the row.
    pub person: Option<u32>,
    /// The main entity of the row.
    pub entity: Option<u32>,
    /// The row's period (`YYYY-MM`, `YYYY` or empty).
    pub period: &'a str,
    /// Row index.
    pub row: usize,
    /// Index of the row's subject within its period (for exports about no one).
    pub subject: usize,
    /// Lower-cased topic text.
    pub about: &'a str,
}

impl Env<'_> {
    fn district(&self, rec: &Record) -> usize {
        rec.district.map(usize::from).unwrap_or(0).min(6)
    }

    fn entity_for(&self, prefix: &str) -> Option<u32> {
        let w = self.ctx.world;
        if w.entities.is_empty() {
            return None;
        }
        if let Some(p) = self.person
            && matches!(prefix, "employer" | "withholder" | "agency" | "unit")
            && w.person(p).job.employer != NONE
        {
            return Some(w.person(p).job.employer);
        }
        if let Some(e) = self.entity
            && !matches!(prefix, "purchaser" | "winner" | "audited")
        {
            return Some(e);
        }
        let public = matches!(prefix, "purchaser" | "audited");
        let h = stable_hash(self.ctx.seed, &format!("{prefix}{}", self.row));
        let n = w.entities.len() as u64;
        for k in 0..20u64 {
            let e = ((h + k * 7919) % n) as u32;
            let kind = w.entity(e).kind;
            if public == kind.budget_funded() && kind != EntityKind::Individual {
                return Some(e);
            }
        }
        Some((h % n) as u32)
    }
}

fn date_between(rng: &mut Rand, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let span = (to - from).num_days().max(1);
    from + Duration::days(rng.random_range(0..span))
}

fn yuan(x: f64) -> Value {
    Value::Dec((x * 100.0).round() as i128)
}

fn text(x: &str) -> Value {
    Value::Str(x.to_string())
}

/// A value for one field.
pub fn fill_value(fill: &Fill, env: &Env<'_>, rec: &Record, rng: &mut Rand) -> Value {
    let w: &World = env.ctx.world;
    let person = env.person.map(|p| w.person(p));
    match fill {
        Fill::Domain(v) if v.is_empty() => Value::Null,
        Fill::Domain(v) => text(pick_skewed(rng, v).as_str()),
        Fill::District => text(DISTRICTS[env.district(rec)].name),
        Fill::Town => match env.person {
            Some(p) => text(w.address_of(p).town_name()),
            None => text(pick::<&str>(rng, DISTRICTS[env.district(rec)].towns)),
        },
        Fill::Village => {
            let v = env.person.map(|p| w.address_of(p).place).unwrap_or(0) as usize;
            Value::Str(format!(
                "{}村",
                crate::vocab::places::VILLAGES[v % crate::vocab::places::VILLAGES.len()]
            ))
        }
        Fill::Address => match (env.person, env.entity) {
            (Some(p), _) => Value::Str(w.address_of(p).render()),
            (None, Some(e)) => Value::Str(w.entity(e).addr.render()),
            _ => Value::Str(crate::world::people::random_addr(rng, env.district(rec)).render()),
        },
        Fill::Phone => match (person, env.entity) {
            (Some(p), _) if p.phone > 0 => Value::Str(p.phone.to_string()),
            (None, Some(e)) if w.entity(e).phone > 0 => Value::Str(phone_text(w.entity(e).phone)),
            _ => Value::Str(crate::world::people::mobile(rng).to_string()),
        },
        Fill::Period => {
            if env.period.is_empty() {
                Value::Str("2026-10".into())
            } else {
                text(env.period)
            }
        }
        Fill::Code(prefix) => Value::Str(format!(
            "{prefix}{}{:07}",
            2026 - (env.row % 5),
            env.row + 1
        )),
        Fill::UtilityAccount(c) => {
            // One account per household (or per entity), the same in the account
            // register and in the usage records.
            let n = match (env.person, env.entity) {
                (Some(p), _) => u64::from(w.person(p).household) + 1,
                (None, Some(e)) => 500_000_000 + u64::from(e),
                _ => (env.subject as u64 * 7919) % w.households.len().max(1) as u64 + 1,
            };
            Value::Str(format!("{c}{n:09}"))
        }
        Fill::BankAccount => Value::Str(format!(
            "62179{:014}",
            stable_hash(env.ctx.seed, &format!("acct{}", env.row)) % 100_000_000_000_000
        )),
        Fill::Date(kind) => Value::Date(match kind {
            DateKind::Birth => person
                .map(|p| p.birth)
                .unwrap_or_else(|| date_in(rng, 1950, 2010)),
            DateKind::Past => date_in(rng, 2012, 2026),
            DateKind::Later => date_between(
                rng,
                ref_date() - Duration::days(700),
                ref_date() - Duration::days(1),
            ),
            DateKind::Expiry => date_between(
                rng,
                ref_date() - Duration::days(300),
                ref_date() + Duration::days(2500),
            ),
            DateKind::Recent => match env.period.len() {
                7 => {
                    let y: i32 = env.period[..4].parse().unwrap_or(2026);
                    let m: u32 = env.period[5..].parse().unwrap_or(10);
                    NaiveDate::from_ymd_opt(y, m, rng.random_range(5..28)).unwrap_or(ref_date())
                }
                _ => date_in(rng, 2026, 2026),
            },
        }),
        Fill::DateTime(kind) => {
            let d = match kind {
                DateKind::Later => date_between(
                    rng,
                    ref_date() - Duration::days(200),
                    ref_date() - Duration::days(1),
                ),
                _ => date_in(rng, 2026, 2026),
            };
            let t = NaiveTime::from_hms_opt(
                rng.random_range(7..21),
                rng.random_range(0..60),
                rng.random_range(0..60),
            )
            .expect("time");
            Value::DateTime(d.and_time(t))
        }
        Fill::Amount(lo, hi) => {
            let x = if hi / lo.max(1.0) > 20.0 {
                lognormal(rng, (lo * hi).sqrt(), 0.8).clamp(*lo, *hi)
            } else {
                rng.random_range(*lo..=*hi)
            };
            // Large sums are round (registered capital, investment), small ones exact.
            let x = if *lo >= 100_000.0 {
                (x / 10_000.0).round() * 10_000.0
            } else if *lo >= 1_000.0 {
                (x / 100.0).round() * 100.0
            } else {
                (x * 100.0).round() / 100.0
            };
            yuan(x)
        }
        Fill::Wage => yuan(f64::from(
            person
                .map(|p| p.job.wage)
                .filter(|&x| x > 0)
                .unwrap_or(rng.random_range(3_000..9_000)),
        )),
        Fill::Int(lo, hi) => Value::Int(rng.random_range(*lo..=*hi)),
        Fill::FamilySize => Value::Int(
            env.person
                .map(|p| i64::from(w.household_of(p).len))
                .unwrap_or(3),
        ),
        Fill::Float(lo, hi) => Value::Float((rng.random_range(*lo..=*hi) * 100.0).round() / 100.0),
        Fill::Bool(p) => Value::Bool(chance(rng, *p)),
        Fill::Words(ws) => text(pick_skewed::<&str>(rng, ws)),
        Fill::Ethnicity => text(ETHNICITIES[person.map(|p| p.ethnicity as usize).unwrap_or(0)]),
        Fill::PersonName => {
            let adult = loop {
                let c = rng.random_range(0..w.persons.len()) as u32;
                if w.person(c).age() >= 20 {
                    break c;
                }
            };
            let who = env
                .person
                .and_then(|p| {
                    w.household_of(p)
                        .members()
                        .find(|&m| m != p && w.person(m).age() >= 20)
                })
                .unwrap_or(adult);
            Value::Str(w.person(who).name.to_string())
        }
        Fill::EntityName(prefix) => match env.entity_for(prefix) {
            Some(e) if !w.entity(e).name.is_empty() => Value::Str(w.entity(e).name.to_string()),
            _ => Value::Null,
        },
        Fill::EntityUscc(prefix) => env
            .entity_for(prefix)
            .map(|e| Value::Str(w.entity(e).uscc_str().to_string()))
            .unwrap_or(Value::Null),
        Fill::Dept => text(env.ctx.dept_name),
        Fill::DeptUscc => Value::Str(env.ctx.dept_code.to_string()),
        Fill::Court => {
            let d = &DISTRICTS[env.district(rec)];
            Value::Str(if d.name.ends_with('区') {
                format!("黄山市{}人民法院", d.name)
            } else {
                format!("{}人民法院", d.name)
            })
        }
        Fill::TaxOffice => Value::Str(format!(
            "国家税务总局{}{}税务局",
            if DISTRICTS[env.district(rec)].name.ends_with('区') {
                "黄山市"
            } else {
                ""
            },
            DISTRICTS[env.district(rec)].name
        )),
        Fill::Hospital => text(pick::<&str>(rng, HOSPITALS)),
        Fill::School => {
            let d = DISTRICTS[env.district(rec)].name;
            Value::Str(format!(
                "{d}{}",
                pick(
                    rng,
                    &[
                        "第一中学",
                        "第二中学",
                        "实验小学",
                        "城关小学",
                        "中心幼儿园",
                        "职业技术学校"
                    ]
                )
            ))
        }
        Fill::Bank => text(pick::<&str>(rng, BANKS)),
        Fill::Hotel => Value::Str(format!(
            "{}{}酒店",
            DISTRICTS[env.district(rec)].short,
            pick(rng, &["国际", "假日", "徽商", "新安江", "天都", "汤泉"])
        )),
        Fill::Station => Value::Str(format!(
            "{}站",
            pick(rng, DISTRICTS[env.district(rec)].towns)
        )),
        Fill::Project => Value::Str(format!(
            "{}{}项目",
            DISTRICTS[env.district(rec)].name,
            pick(
                rng,
                &[
                    "道路改造",
                    "学校建设",
                    "污水处理",
                    "老旧小区改造",
                    "乡村振兴示范",
                    "文化旅游"
                ]
            )
        )),
        Fill::Grade => {
            let age = person.map(|p| p.age()).unwrap_or(10);
            let g = (age - 6).clamp(1, 12);
            Value::Str(format!("{g}年级"))
        }
        Fill::VillageCommittee => {
            let v = env.person.map(|p| w.address_of(p).place).unwrap_or(0) as usize;
            Value::Str(format!(
                "{}村村民委员会",
                crate::vocab::places::VILLAGES[v % crate::vocab::places::VILLAGES.len()]
            ))
        }
        Fill::Free => text(pick::<&str>(rng, PHRASES)),
    }
}

/// Columns that read the same export column: when one of them has a code
/// table, the raw code decides all of them (e.g. 老字号类别 gives both the
/// recognition type and, through its table, the level).
pub fn shared_groups(ctx: &Ctx<'_>) -> Vec<Vec<usize>> {
    let p = ctx.pipeline;
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, c) in p.columns.iter().enumerate() {
        let ColumnSource::Columns(names) = &c.source else {
            continue;
        };
        if let Some(g) = groups.iter_mut().find(
            |g| matches!(&p.columns[g[0]].source, ColumnSource::Columns(n) if n[0] == names[0]),
        ) {
            g.push(i);
        } else {
            groups.push(vec![i]);
        }
    }
    groups.retain(|g| {
        g.len() > 1
            && g.iter().any(|&i| p.columns[i].map.is_some())
            && g.iter().any(|&i| p.columns[i].map.is_none())
    });
    groups
}

/// Makes the columns of each shared group agree on one raw value.
pub fn derive_shared(ctx: &Ctx<'_>, groups: &[Vec<usize>], rec: &mut Record, rng: &mut Rand) {
    let p = ctx.pipeline;
    for g in groups {
        let Some(&mi) = g.iter().find(|&&i| p.columns[i].map.is_some()) else {
            continue;
        };
        let mcol = &p.columns[mi];
        let map = mcol.map.as_ref().expect("map");
        let current = rec.values[mcol.field].as_str().map(str::to_string);
        let mut keys: Vec<&String> = map
            .iter()
            .filter(|(_, v)| current.as_ref().is_none_or(|c| *v == c))
            .map(|(k, _)| k)
            .collect();
        if keys.is_empty() {
            keys = map.keys().collect();
        }
        keys.sort();
        let raw = pick(rng, &keys).to_string();
        for &i in g {
            let c = &p.columns[i];
            if p.schema.fields[c.field].field_type != FieldType::String {
                continue;
            }
            rec.values[c.field] = match &c.map {
                Some(m) => m
                    .get(&raw)
                    .filter(|v| !v.is_empty())
                    .map(|v| Value::Str(v.clone()))
                    .unwrap_or(Value::Null),
                None => Value::Str(raw.clone()),
            };
        }
    }
}
