//! Text functions: person and company names, phones, addresses, pinyin.

use civhub_core::normalize::{address, company, name, phone};
use datafusion::logical_expr::ScalarUDF;

use super::TEXT;
use super::adapter::{Doc, Kernel, TextFn};
use super::output::Text;

/// The functions of this module, in documentation order.
pub(super) fn udfs() -> Vec<ScalarUDF> {
    const NAME: &[(&str, &str)] = &[("name", "A person's name as written.")];
    const COMPANY: &[(&str, &str)] = &[("name", "A company name as written.")];
    vec![
        TextFn::<Text>::udf(
            "person_name_normalize",
            Kernel::Unary(|raw| name::person_name(raw).ok()),
            Doc {
                section: TEXT,
                description: "A person's name (姓名) normalized: spaces between Chinese \
                    characters removed, full-width letters folded, middle-dot variants unified, \
                    traditional characters simplified (張偉 → 张伟).",
                syntax: "person_name_normalize(name)",
                example: "SELECT person_name_normalize(' 張 偉 '); -- 张伟",
                args: NAME,
            },
        ),
        TextFn::<Text>::udf(
            "company_name_normalize",
            Kernel::Unary(|raw| company::company_name(raw).ok()),
            Doc {
                section: TEXT,
                description: "A company name (企业名称) for display: every kind of bracket made \
                    a half-width parenthesis, spaces between Chinese characters removed; \
                    nothing else dropped.",
                syntax: "company_name_normalize(name)",
                example: "SELECT company_name_normalize('黄山市 徽韵茶业（屯溪）有限公司'); \
                    -- 黄山市徽韵茶业(屯溪)有限公司",
                args: COMPANY,
            },
        ),
        TextFn::<Text>::udf(
            "company_name_key",
            Kernel::Unary(|raw| company::company_key(raw).ok()),
            Doc {
                section: TEXT,
                description: "The matching key of a company name: two ways of writing the same \
                    legal entity give the same key (city and province prefix, bracketed place, \
                    有限责任公司 vs 有限公司, punctuation and case are forgotten); branches \
                    (分公司) and joint-stock companies keep their difference.",
                syntax: "company_name_key(name)",
                example: "SELECT company_name_key('黄山市徽韵茶业有限责任公司'); -- 徽韵茶业有限公司",
                args: COMPANY,
            },
        ),
        TextFn::<Text>::udf(
            "phone_normalize",
            Kernel::UnaryOpt(|raw, area_code| phone::phone(raw, area_code).ok()),
            Doc {
                section: TEXT,
                description: "A telephone number (电话号码): a mobile number as its 11 digits, a \
                    landline as area code, dash, local number. Country codes, layout and \
                    extensions are removed. The optional area code is given to a landline \
                    written without one (0559 for Huangshan); a NULL area code gives NULL, so \
                    leave the argument out for none.",
                syntax: "phone_normalize(phone [, area_code])",
                example: "SELECT phone_normalize('2345678', '0559'); -- 0559-2345678",
                args: &[
                    ("phone", "A telephone number as written."),
                    (
                        "area_code",
                        "Optional area code of landlines written without one.",
                    ),
                ],
            },
        ),
        TextFn::<Text>::udf(
            "address_normalize",
            Kernel::Unary(|raw| address::address(raw).ok()),
            Doc {
                section: TEXT,
                description: "An address (地址) normalized: full-width forms folded, whitespace \
                    removed, and the leading 中国, 安徽省 and 黄山市 dropped, since every civhub \
                    record is local to Huangshan (黄山区, a district, is kept). House-number \
                    spellings are left as written.",
                syntax: "address_normalize(address)",
                example: "SELECT address_normalize('安徽省黄山市 屯溪区 黄山西路１号'); \
                    -- 屯溪区黄山西路1号",
                args: &[("address", "An address as written.")],
            },
        ),
        TextFn::<Text>::udf(
            "to_simplified",
            Kernel::Unary(|raw| Some(name::to_simplified(raw))),
            Doc {
                section: TEXT,
                description: "Traditional Chinese characters (繁体) converted to simplified \
                    ones (简体); other characters are kept as they are.",
                syntax: "to_simplified(text)",
                example: "SELECT to_simplified('黃山市屯溪區'); -- 黄山市屯溪区",
                args: &[("text", "Any text.")],
            },
        ),
        TextFn::<Text>::udf(
            "pinyin",
            Kernel::Unary(pinyin),
            Doc {
                section: TEXT,
                description: "Toneless pinyin (拼音) key of a name, for homophone-tolerant \
                    comparison: each Chinese character's default reading, letters lower-cased, \
                    everything else dropped (張偉 and 张伟 both give zhangwei). NULL when \
                    nothing is left.",
                syntax: "pinyin(name)",
                example: "SELECT pinyin('张伟'); -- zhangwei",
                args: NAME,
            },
        ),
    ]
}

fn pinyin(raw: &str) -> Option<String> {
    Some(name::pinyin_key(raw)).filter(|key| !key.is_empty())
}
