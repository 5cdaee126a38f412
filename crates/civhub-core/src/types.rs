//! The canonical vocabulary shared by schemas, pipelines and the catalog.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The type of a canonical schema field, and of its staged column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FieldType {
    /// UTF-8 text.
    String,
    /// 64-bit signed integer.
    Integer,
    /// Fixed-point decimal with two fractional digits (money in 元, areas in ㎡).
    Decimal,
    /// 64-bit float, for measurements that are not money.
    Float,
    /// Calendar date without time zone.
    Date,
    /// Date and time, local time of the exporting system (no zone).
    Datetime,
    /// true / false.
    Boolean,
}

impl FieldType {
    /// Every type, in documentation order.
    pub const ALL: [FieldType; 7] = [
        FieldType::String,
        FieldType::Integer,
        FieldType::Decimal,
        FieldType::Float,
        FieldType::Date,
        FieldType::Datetime,
        FieldType::Boolean,
    ];

    /// The name used in schema files.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Integer => "integer",
            FieldType::Decimal => "decimal",
            FieldType::Float => "float",
            FieldType::Date => "date",
            FieldType::Datetime => "datetime",
            FieldType::Boolean => "boolean",
        }
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How personal a field's values are (个人信息类别). Decides masking and who
/// may see raw values; quality figures never show raw values of a PII column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PiiClass {
    /// Not personal information.
    None,
    /// Resident identity number, passport number and other personal identifiers.
    IdNumber,
    /// A natural person's name.
    Name,
    /// Telephone numbers.
    Phone,
    /// Home or registered address.
    Address,
    /// Date of birth.
    BirthDate,
    /// Income, deposits, balances and other financial facts about a person.
    Financial,
    /// Health and medical facts.
    Health,
    /// Other personal information (vehicle plates, account numbers, …).
    Other,
}

impl PiiClass {
    /// Every class, in documentation order.
    pub const ALL: [PiiClass; 9] = [
        PiiClass::None,
        PiiClass::IdNumber,
        PiiClass::Name,
        PiiClass::Phone,
        PiiClass::Address,
        PiiClass::BirthDate,
        PiiClass::Financial,
        PiiClass::Health,
        PiiClass::Other,
    ];

    /// The name used in schema files.
    pub fn as_str(self) -> &'static str {
        match self {
            PiiClass::None => "none",
            PiiClass::IdNumber => "id_number",
            PiiClass::Name => "name",
            PiiClass::Phone => "phone",
            PiiClass::Address => "address",
            PiiClass::BirthDate => "birth_date",
            PiiClass::Financial => "financial",
            PiiClass::Health => "health",
            PiiClass::Other => "other",
        }
    }

    /// True for every class but [`PiiClass::None`].
    pub fn is_personal(self) -> bool {
        self != PiiClass::None
    }
}

impl fmt::Display for PiiClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Sharing type of a catalogued dataset (共享类型, 政务信息资源共享管理暂行办法 2016).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SharingType {
    /// 无条件共享 — any department may use it.
    #[serde(rename = "无条件共享", alias = "unconditional")]
    Unconditional,
    /// 有条件共享 — only under stated conditions, after approval.
    #[serde(rename = "有条件共享", alias = "conditional")]
    Conditional,
    /// 不予共享 — listed in the catalog; data not available to other departments.
    #[serde(rename = "不予共享", alias = "not-shared")]
    NotShared,
}

impl SharingType {
    /// The Chinese name, as written in the catalog.
    pub fn as_str(self) -> &'static str {
        match self {
            SharingType::Unconditional => "无条件共享",
            SharingType::Conditional => "有条件共享",
            SharingType::NotShared => "不予共享",
        }
    }

    /// The English name.
    pub fn as_english(self) -> &'static str {
        match self {
            SharingType::Unconditional => "unconditional",
            SharingType::Conditional => "conditional",
            SharingType::NotShared => "not-shared",
        }
    }
}

impl fmt::Display for SharingType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Declared update cycle of a dataset (更新周期).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UpdateCycle {
    /// 实时
    #[serde(rename = "实时", alias = "realtime")]
    Realtime,
    /// 每日
    #[serde(rename = "每日", alias = "daily")]
    Daily,
    /// 每周
    #[serde(rename = "每周", alias = "weekly")]
    Weekly,
    /// 每月
    #[serde(rename = "每月", alias = "monthly")]
    Monthly,
    /// 每季度
    #[serde(rename = "每季度", alias = "quarterly")]
    Quarterly,
    /// 每半年
    #[serde(rename = "每半年", alias = "half-yearly")]
    HalfYearly,
    /// 每年
    #[serde(rename = "每年", alias = "yearly")]
    Yearly,
    /// 不定时
    #[serde(rename = "不定时", alias = "irregular")]
    Irregular,
}

impl UpdateCycle {
    /// The Chinese name, as written in the catalog.
    pub fn as_str(self) -> &'static str {
        match self {
            UpdateCycle::Realtime => "实时",
            UpdateCycle::Daily => "每日",
            UpdateCycle::Weekly => "每周",
            UpdateCycle::Monthly => "每月",
            UpdateCycle::Quarterly => "每季度",
            UpdateCycle::HalfYearly => "每半年",
            UpdateCycle::Yearly => "每年",
            UpdateCycle::Irregular => "不定时",
        }
    }

    /// How many days may pass after a version before the dataset is overdue;
    /// `None` when the cycle sets no deadline (不定时).
    pub fn max_age_days(self) -> Option<u32> {
        match self {
            UpdateCycle::Realtime | UpdateCycle::Daily => Some(1),
            UpdateCycle::Weekly => Some(7),
            UpdateCycle::Monthly => Some(31),
            UpdateCycle::Quarterly => Some(92),
            UpdateCycle::HalfYearly => Some(183),
            UpdateCycle::Yearly => Some(366),
            UpdateCycle::Irregular => None,
        }
    }
}

impl fmt::Display for UpdateCycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
