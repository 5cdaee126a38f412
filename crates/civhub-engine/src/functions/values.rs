//! Typed values read from text: dates, amounts, areas, gender, plates.

use civhub_core::normalize::{code, date, number};
use datafusion::logical_expr::ScalarUDF;

use super::VALUES;
use super::adapter::{Doc, Kernel, TextFn};
use super::output::{Date, Decimal, Text, Timestamp};

/// The functions of this module, in documentation order.
pub(super) fn udfs() -> Vec<ScalarUDF> {
    const DATE: &[(&str, &str)] = &[("text", "A date as written in an export.")];
    vec![
        TextFn::<Date>::udf(
            "date_normalize",
            Kernel::Unary(|raw| date::date(raw).ok()),
            Doc {
                section: VALUES,
                description: "A date (日期) read from 1980-01-02, 1980/1/2, 1980.01.02, \
                    19800102, 1980年1月2日, an ISO date-time or an Excel serial number (29222). \
                    Ambiguous forms such as 01/02/1980 give NULL rather than a guess.",
                syntax: "date_normalize(text)",
                example: "SELECT date_normalize('1980年1月2日'); -- 1980-01-02",
                args: DATE,
            },
        ),
        TextFn::<Timestamp>::udf(
            "datetime_normalize",
            Kernel::Unary(|raw| date::datetime(raw).ok()),
            Doc {
                section: VALUES,
                description: "A date and time (时间) read from the forms date_normalize \
                    accepts plus a time of day; a date alone means midnight. The result has no \
                    time zone: it is the exporting system's local time.",
                syntax: "datetime_normalize(text)",
                example: "SELECT datetime_normalize('1980/1/2 8:30'); -- 1980-01-02T08:30:00",
                args: DATE,
            },
        ),
        TextFn::<Decimal>::udf(
            "amount_normalize",
            Kernel::UnaryOpt(|raw, unit| number::amount(raw, unit).ok()),
            Doc {
                section: VALUES,
                description: "An amount of money (金额) in 元 as decimal(38,2): thousands \
                    separators, a ￥ sign and the units 元, 万元 and 亿元 are understood. The \
                    optional unit (元 or 万元) applies to a number written without one.",
                syntax: "amount_normalize(text [, unit])",
                example: "SELECT amount_normalize('12.5万元'); -- 125000.00",
                args: &[
                    ("text", "An amount as written."),
                    ("unit", "Optional unit of a bare number: 元 or 万元."),
                ],
            },
        ),
        TextFn::<Decimal>::udf(
            "area_normalize",
            Kernel::Unary(|raw| number::area(raw).ok()),
            Doc {
                section: VALUES,
                description: "A floor area (面积) in ㎡ as decimal(38,2); the units ㎡, 平方米, \
                    平米 and m2 are understood. A negative area gives NULL.",
                syntax: "area_normalize(text)",
                example: "SELECT area_normalize('89.5㎡'); -- 89.50",
                args: &[("text", "An area as written.")],
            },
        ),
        TextFn::<Text>::udf(
            "gender_normalize",
            Kernel::Unary(|raw| code::gender(raw).ok().map(str::to_string)),
            Doc {
                section: VALUES,
                description: "Gender (性别) as 男 or 女, from 男/女, 男性/女性, M/F, male/female \
                    or the GB/T 2261.1 codes 1 and 2; NULL for unknown (0, 9, 未知).",
                syntax: "gender_normalize(text)",
                example: "SELECT gender_normalize('F'); -- 女",
                args: &[("text", "A gender as written.")],
            },
        ),
        TextFn::<Text>::udf(
            "plate_normalize",
            Kernel::Unary(|raw| code::plate(raw).ok()),
            Doc {
                section: VALUES,
                description: "A vehicle plate number (号牌号码) without separators and in upper \
                    case, e.g. 皖J12345; NULL for text that is not a plate.",
                syntax: "plate_normalize(text)",
                example: "SELECT plate_normalize('皖j·12345'); -- 皖J12345",
                args: &[("text", "A plate number as written.")],
            },
        ),
    ]
}
