//! The closed set of normalizers a pipeline column may name.
//!
//! A normalizer turns one raw cell (always text at this point: CSV fields,
//! Excel cells and JSON scalars are rendered to text by the readers) into a
//! typed [`Value`], or explains why it cannot. It never guesses silently: a
//! repair it makes (a 15-digit ID upgraded, a check character recomputed) is
//! reported in [`Normalized::note`] so ingest can flag the row.

use crate::id;
use crate::normalize;
use crate::types::FieldType;
use crate::value::Value;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A named normalizer, as written in `normalize = "…"` of a pipeline column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Normalizer {
    /// Keep the text exactly as read (only trailing/leading whitespace trimmed).
    Raw,
    /// Full-width to half-width, whitespace collapsed and trimmed.
    Text,
    /// [`Normalizer::Text`], then upper case.
    Upper,
    /// Resident identity number (居民身份证号码): full-width digits, lowercase x,
    /// spaces, apostrophes; 15-digit numbers upgraded to 18; a missing check
    /// character computed; Excel scientific notation rejected.
    ResidentId,
    /// Unified social credit code (统一社会信用代码).
    Uscc,
    /// Organization code (组织机构代码, GB 11714), with or without the dash.
    OrgCode,
    /// Person name: spaces, full-width letters, middle-dot variants,
    /// traditional characters to simplified.
    PersonName,
    /// Company name as displayed: full-width brackets, spaces.
    CompanyName,
    /// Company name in its canonical matching form (有限责任公司 → 有限公司,
    /// city prefix and brackets removed).
    CompanyKey,
    /// Mobile or landline telephone number.
    Phone,
    /// Date in any of the common export formats or an Excel serial number.
    Date,
    /// Date and time.
    Datetime,
    /// Month (费款所属期): 2024-06, 2024/6, 202406, 2024年6月; staged as `YYYY-MM`.
    Month,
    /// Address: full-width, whitespace, province/city prefixes.
    Address,
    /// Money with an optional unit (元, 万元); staged in 元.
    Amount,
    /// Floor area with an optional unit (㎡, 平方米, 平米, m2); staged in ㎡.
    Area,
    /// Whole number (thousands separators allowed).
    Integer,
    /// Decimal number with two fractional digits.
    Decimal,
    /// Floating-point number.
    Float,
    /// 是/否, Y/N, true/false, 1/0.
    Boolean,
    /// 男/女, M/F, 1/2 (GB/T 2261.1 codes), male/female; staged as 男 or 女.
    Gender,
    /// Vehicle plate number (号牌号码), e.g. 皖J12345.
    Plate,
    /// Six-digit administrative region code (GB/T 2260).
    RegionCode,
}

impl Normalizer {
    /// Every normalizer, in documentation order.
    pub const ALL: [Normalizer; 23] = [
        Normalizer::Raw,
        Normalizer::Text,
        Normalizer::Upper,
        Normalizer::ResidentId,
        Normalizer::Uscc,
        Normalizer::OrgCode,
        Normalizer::PersonName,
        Normalizer::CompanyName,
        Normalizer::CompanyKey,
        Normalizer::Phone,
        Normalizer::Date,
        Normalizer::Datetime,
        Normalizer::Month,
        Normalizer::Address,
        Normalizer::Amount,
        Normalizer::Area,
        Normalizer::Integer,
        Normalizer::Decimal,
        Normalizer::Float,
        Normalizer::Boolean,
        Normalizer::Gender,
        Normalizer::Plate,
        Normalizer::RegionCode,
    ];

    /// The name used in pipeline files.
    pub fn as_str(self) -> &'static str {
        match self {
            Normalizer::Raw => "raw",
            Normalizer::Text => "text",
            Normalizer::Upper => "upper",
            Normalizer::ResidentId => "resident_id",
            Normalizer::Uscc => "uscc",
            Normalizer::OrgCode => "org_code",
            Normalizer::PersonName => "person_name",
            Normalizer::CompanyName => "company_name",
            Normalizer::CompanyKey => "company_key",
            Normalizer::Phone => "phone",
            Normalizer::Date => "date",
            Normalizer::Datetime => "datetime",
            Normalizer::Month => "month",
            Normalizer::Address => "address",
            Normalizer::Amount => "amount",
            Normalizer::Area => "area",
            Normalizer::Integer => "integer",
            Normalizer::Decimal => "decimal",
            Normalizer::Float => "float",
            Normalizer::Boolean => "boolean",
            Normalizer::Gender => "gender",
            Normalizer::Plate => "plate",
            Normalizer::RegionCode => "region_code",
        }
    }

    /// The type of value this normalizer produces.
    pub fn output_type(self) -> FieldType {
        match self {
            Normalizer::Date => FieldType::Date,
            Normalizer::Datetime => FieldType::Datetime,
            Normalizer::Amount | Normalizer::Area | Normalizer::Decimal => FieldType::Decimal,
            Normalizer::Integer => FieldType::Integer,
            Normalizer::Float => FieldType::Float,
            Normalizer::Boolean => FieldType::Boolean,
            _ => FieldType::String,
        }
    }

    /// The normalizer a column gets when it names none: the plain one for its type.
    pub fn default_for(field_type: FieldType) -> Normalizer {
        match field_type {
            FieldType::String => Normalizer::Text,
            FieldType::Integer => Normalizer::Integer,
            FieldType::Decimal => Normalizer::Decimal,
            FieldType::Float => Normalizer::Float,
            FieldType::Date => Normalizer::Date,
            FieldType::Datetime => Normalizer::Datetime,
            FieldType::Boolean => Normalizer::Boolean,
        }
    }

    /// Normalizes one raw cell. Empty or whitespace-only input is `Value::Null`.
    pub fn apply(self, raw: &str, opts: &NormalizerOptions) -> Result<Normalized, NormError> {
        if normalize::text::is_blank(raw) {
            return Ok(Normalized::plain(Value::Null));
        }
        let s = |r: Result<String, NormError>| r.map(|v| Normalized::plain(Value::Str(v)));
        match self {
            Normalizer::Raw => Ok(Normalized::plain(Value::Str(raw.trim().to_string()))),
            Normalizer::Text => Ok(Normalized::plain(str_or_null(normalize::text::clean(raw)))),
            Normalizer::Upper => Ok(Normalized::plain(str_or_null(
                normalize::text::clean(raw).to_uppercase(),
            ))),
            Normalizer::ResidentId => id::resident::normalize(raw).map(|n| Normalized {
                value: Value::Str(n.id),
                note: n.repair.map(|r| r.to_string()),
            }),
            Normalizer::Uscc => s(id::uscc::normalize(raw)),
            Normalizer::OrgCode => s(id::org_code::normalize(raw)),
            Normalizer::PersonName => s(normalize::name::person_name(raw)),
            Normalizer::CompanyName => s(normalize::company::company_name(raw)),
            Normalizer::CompanyKey => s(normalize::company::company_key(raw)),
            Normalizer::Phone => s(normalize::phone::phone(raw, opts.area_code.as_deref())),
            Normalizer::Date => {
                normalize::date::date(raw).map(|d| Normalized::plain(Value::Date(d)))
            }
            Normalizer::Datetime => {
                normalize::date::datetime(raw).map(|d| Normalized::plain(Value::DateTime(d)))
            }
            Normalizer::Month => s(normalize::month::month(raw)),
            Normalizer::Address => s(normalize::address::address(raw)),
            Normalizer::Amount => normalize::number::amount(raw, opts.unit.as_deref())
                .map(|c| Normalized::plain(Value::Dec(c))),
            Normalizer::Area => {
                normalize::number::area(raw).map(|c| Normalized::plain(Value::Dec(c)))
            }
            Normalizer::Integer => {
                normalize::number::integer(raw).map(|i| Normalized::plain(Value::Int(i)))
            }
            Normalizer::Decimal => {
                normalize::number::decimal(raw).map(|c| Normalized::plain(Value::Dec(c)))
            }
            Normalizer::Float => {
                normalize::number::float(raw).map(|f| Normalized::plain(Value::Float(f)))
            }
            Normalizer::Boolean => {
                normalize::code::boolean(raw).map(|b| Normalized::plain(Value::Bool(b)))
            }
            Normalizer::Gender => {
                normalize::code::gender(raw).map(|g| Normalized::plain(Value::Str(g.to_string())))
            }
            Normalizer::Plate => s(normalize::code::plate(raw)),
            Normalizer::RegionCode => s(normalize::code::region_code(raw)),
        }
    }
}

fn str_or_null(s: String) -> Value {
    if s.is_empty() {
        Value::Null
    } else {
        Value::Str(s)
    }
}

impl fmt::Display for Normalizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Per-column options of a normalizer, from the pipeline column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NormalizerOptions {
    /// For `amount`: the unit of a value written without one ("元" or "万元").
    pub unit: Option<String>,
    /// For `phone`: the area code of a landline written without one ("0559").
    pub area_code: Option<String>,
}

/// The result of normalizing one cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalized {
    /// The typed value.
    pub value: Value,
    /// A repair the normalizer made, worth flagging on the row
    /// (e.g. "15-digit ID upgraded to 18 digits").
    pub note: Option<String>,
}

impl Normalized {
    /// A value with no repair note.
    pub fn plain(value: Value) -> Self {
        Normalized { value, note: None }
    }
}

/// Why a raw cell could not be normalized: a sentence saying what was found and
/// what was expected, without repeating the value (the caller shows it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct NormError {
    /// Human-readable reason, e.g. "expected 18 characters, found 16".
    pub reason: String,
}

impl NormError {
    /// A new error with the given reason.
    pub fn new(reason: impl Into<String>) -> Self {
        NormError {
            reason: reason.into(),
        }
    }
}
