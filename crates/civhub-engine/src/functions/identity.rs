//! Identifier functions: resident ID numbers, USCC and organization codes.
//!
//! Like civhub-core, `*_normalize` repairs layout but keeps a wrong check
//! character, and `*_valid` answers validity separately: an invalid ID is
//! evidence in matching, so the normalized form stays visible in SQL.

use chrono::NaiveDate;
use civhub_core::id::{org_code, resident, uscc};
use datafusion::logical_expr::ScalarUDF;
use std::borrow::Cow;

use super::IDENTIFIERS;
use super::adapter::{Doc, Kernel, TextFn};
use super::output::{Bool, Date, Text, TextList};

/// The functions of this module, in documentation order.
pub(super) fn udfs() -> Vec<ScalarUDF> {
    const ID: &[(&str, &str)] = &[("id", "Resident ID number as written in an export.")];
    const USCC: &[(&str, &str)] = &[("code", "Unified social credit code as written.")];
    const ORG: &[(&str, &str)] = &[("code", "Organization code as written.")];
    vec![
        TextFn::<Text>::udf(
            "cn_id_normalize",
            Kernel::Unary(|raw| id_normalize(raw).map(Cow::into_owned)),
            Doc {
                section: IDENTIFIERS,
                description: "Canonical 18-character resident ID number (居民身份证号码): \
                    layout, full-width digits and lower-case x repaired, a 15-digit number \
                    upgraded, a missing check character computed. A wrong check character is \
                    kept (see cn_id_valid). NULL when the text cannot be read as an ID, e.g. \
                    Excel's scientific notation 1.10105E+17.",
                syntax: "cn_id_normalize(id)",
                example: "SELECT cn_id_normalize('110105491231002'); -- 11010519491231002X",
                args: ID,
            },
        ),
        TextFn::<Bool>::udf(
            "cn_id_valid",
            Kernel::Unary(id_valid),
            Doc {
                section: IDENTIFIERS,
                description: "True if the resident ID number, once normalized, has a correct \
                    check character (GB 11643) and a real birth date; false for anything else.",
                syntax: "cn_id_valid(id)",
                example: "SELECT cn_id_valid('11010519491231002x'); -- true",
                args: ID,
            },
        ),
        TextFn::<Date>::udf(
            "cn_id_birth_date",
            Kernel::Unary(id_birth_date),
            Doc {
                section: IDENTIFIERS,
                description: "Birth date (出生日期) embedded in a resident ID number. The check \
                    character is not required to be correct; NULL when the date is not real.",
                syntax: "cn_id_birth_date(id)",
                example: "SELECT cn_id_birth_date('11010519491231002X'); -- 1949-12-31",
                args: ID,
            },
        ),
        TextFn::<Text>::udf(
            "cn_id_gender",
            Kernel::Unary(id_gender),
            Doc {
                section: IDENTIFIERS,
                description: "Gender (性别) embedded in a resident ID number: 男 for an odd \
                    sequence digit, 女 for an even one.",
                syntax: "cn_id_gender(id)",
                example: "SELECT cn_id_gender('11010519491231002X'); -- 女",
                args: ID,
            },
        ),
        TextFn::<Text>::udf(
            "cn_id_region",
            Kernel::Unary(id_region),
            Doc {
                section: IDENTIFIERS,
                description: "Six-digit administrative region code (行政区划代码, GB/T 2260) of \
                    the place a resident ID number was issued: its first six digits.",
                syntax: "cn_id_region(id)",
                example: "SELECT cn_id_region('11010519491231002X'); -- 110105",
                args: ID,
            },
        ),
        TextFn::<Text>::udf(
            "uscc_normalize",
            Kernel::Unary(|raw| uscc::normalize(raw).ok()),
            Doc {
                section: IDENTIFIERS,
                description: "Canonical 18-character unified social credit code (统一社会信用代码, \
                    GB 32100): layout and full-width forms removed, upper case. A wrong check \
                    character is kept (see uscc_valid).",
                syntax: "uscc_normalize(code)",
                example: "SELECT uscc_normalize(' 91330100716105852f '); -- 91330100716105852F",
                args: USCC,
            },
        ),
        TextFn::<Bool>::udf(
            "uscc_valid",
            Kernel::Unary(|raw| {
                // What ingest stages is already canonical: check it as it is.
                let b = raw.as_bytes();
                if b.len() == 18
                    && b.iter()
                        .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
                {
                    return Some(uscc::is_valid(raw));
                }
                Some(uscc::normalize(raw).is_ok_and(|c| uscc::is_valid(&c)))
            }),
            Doc {
                section: IDENTIFIERS,
                description: "True if the unified social credit code, once normalized, has a \
                    correct check character; false for anything else.",
                syntax: "uscc_valid(code)",
                example: "SELECT uscc_valid('91330100716105852F'); -- true",
                args: USCC,
            },
        ),
        TextFn::<Text>::udf(
            "org_code_normalize",
            Kernel::Unary(|raw| org_code::normalize(raw).ok()),
            Doc {
                section: IDENTIFIERS,
                description: "Canonical 9-character organization code (组织机构代码, GB 11714), \
                    with or without the dash as written; a wrong check character is kept.",
                syntax: "org_code_normalize(code)",
                example: "SELECT org_code_normalize('71610585-2'); -- 716105852",
                args: ORG,
            },
        ),
        TextFn::<Bool>::udf(
            "org_code_valid",
            Kernel::Unary(|raw| {
                Some(org_code::normalize(raw).is_ok_and(|c| org_code::is_valid(&c)))
            }),
            Doc {
                section: IDENTIFIERS,
                description: "True if the organization code, once normalized, has a correct \
                    check character; false for anything else.",
                syntax: "org_code_valid(code)",
                example: "SELECT org_code_valid('71610585-2'); -- true",
                args: ORG,
            },
        ),
        TextFn::<TextList>::udf(
            "cn_id_candidates",
            Kernel::Unary(|id| Some(resident::one_edit_candidates(id))),
            Doc {
                section: IDENTIFIERS,
                description: "For a resident ID whose check character fails, every valid ID one \
                    typo away (one digit changed or two adjacent digits swapped among the first \
                    17); an empty list for a valid or unreadable ID. Matching blocks on these \
                    candidates.",
                syntax: "cn_id_candidates(id)",
                example: "SELECT cardinality(cn_id_candidates('11010519491231003X')) > 0; -- true",
                args: ID,
            },
        ),
        TextFn::<Bool>::udf(
            "cn_id_one_typo",
            Kernel::Binary(|a, b| Some(civhub_core::id::one_typo_apart(a, b))),
            Doc {
                section: IDENTIFIERS,
                description: "True when two 18-character IDs are one typing mistake apart: same \
                    check character and one different digit, or two adjacent digits swapped, \
                    among the first 17.",
                syntax: "cn_id_one_typo(a, b)",
                example: "SELECT cn_id_one_typo('11010519491231002X', '11010519491231003X'); -- true",
                args: &[("a", "First ID."), ("b", "Second ID.")],
            },
        ),
        TextFn::<TextList>::udf(
            "uscc_candidates",
            Kernel::Unary(|c| Some(uscc::one_edit_candidates(c))),
            Doc {
                section: IDENTIFIERS,
                description: "For a unified social credit code whose check character fails, every \
                    valid code one typo away; an empty list otherwise.",
                syntax: "uscc_candidates(code)",
                example: "SELECT cardinality(uscc_candidates('91330100716105853F')) > 0; -- true",
                args: USCC,
            },
        ),
        TextFn::<Bool>::udf(
            "uscc_one_typo",
            Kernel::Binary(|a, b| Some(civhub_core::id::one_typo_apart(a, b))),
            Doc {
                section: IDENTIFIERS,
                description: "True when two unified social credit codes are one typing mistake apart.",
                syntax: "uscc_one_typo(a, b)",
                example: "SELECT uscc_one_typo('91330100716105852F', '91330100716105853F'); -- true",
                args: &[("a", "First code."), ("b", "Second code.")],
            },
        ),
    ]
}

/// The canonical form of a resident ID, borrowed when `raw` already is one
/// (17 ASCII digits and a digit or `X`: what ingest stages), so that the
/// functions matching calls on every mention do not rebuild it.
fn id_normalize(raw: &str) -> Option<Cow<'_, str>> {
    let b = raw.as_bytes();
    if b.len() == 18
        && b[..17].iter().all(u8::is_ascii_digit)
        && (b[17].is_ascii_digit() || b[17] == b'X')
    {
        return Some(Cow::Borrowed(raw));
    }
    resident::normalize(raw).ok().map(|n| Cow::Owned(n.id))
}

fn id_valid(raw: &str) -> Option<bool> {
    Some(id_normalize(raw).is_some_and(|id| resident::is_valid(&id)))
}

fn id_birth_date(raw: &str) -> Option<NaiveDate> {
    resident::birth_date(&id_normalize(raw)?)
}

fn id_gender(raw: &str) -> Option<String> {
    resident::gender(&id_normalize(raw)?).map(str::to_string)
}

fn id_region(raw: &str) -> Option<String> {
    resident::region_code(&id_normalize(raw)?).map(str::to_string)
}
