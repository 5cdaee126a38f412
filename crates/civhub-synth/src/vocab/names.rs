//! Person names: surname frequencies (national, boosted for the old 徽州
//! surnames), given-name characters by era and gender, minority names with a
//! middle dot, and the tables that make realistic typing variants
//! (homophones, traditional characters).

use crate::rng::{Rand, Weighted, chance, pick};
use rand::Rng;
use std::sync::OnceLock;

/// Surnames with their approximate national frequency in percent; the
/// multiplier after it boosts surnames that are common in 徽州 (Huangshan).
const SURNAMES: &[(&str, f64, f64)] = &[
    ("王", 7.1, 1.0),
    ("李", 7.0, 0.8),
    ("张", 6.7, 0.9),
    ("刘", 5.4, 0.6),
    ("陈", 4.5, 1.0),
    ("杨", 3.1, 0.8),
    ("黄", 2.2, 1.5),
    ("赵", 2.0, 0.6),
    ("吴", 2.0, 2.5),
    ("周", 1.9, 1.0),
    ("徐", 1.5, 1.2),
    ("孙", 1.5, 0.9),
    ("马", 1.4, 0.5),
    ("朱", 1.3, 1.5),
    ("胡", 1.3, 3.0),
    ("郭", 1.1, 0.6),
    ("何", 1.1, 1.0),
    ("高", 1.0, 0.8),
    ("林", 1.0, 0.8),
    ("罗", 0.9, 0.7),
    ("郑", 0.8, 1.5),
    ("梁", 0.8, 0.6),
    ("谢", 0.7, 1.0),
    ("宋", 0.6, 0.8),
    ("唐", 0.6, 1.0),
    ("许", 0.6, 2.0),
    ("韩", 0.6, 0.7),
    ("冯", 0.5, 0.8),
    ("邓", 0.5, 0.8),
    ("曹", 0.5, 2.0),
    ("彭", 0.5, 0.8),
    ("曾", 0.5, 0.6),
    ("肖", 0.5, 0.7),
    ("田", 0.5, 0.7),
    ("董", 0.4, 0.8),
    ("袁", 0.4, 0.8),
    ("潘", 0.4, 2.0),
    ("于", 0.4, 0.6),
    ("蒋", 0.4, 1.0),
    ("蔡", 0.4, 0.8),
    ("余", 0.4, 2.5),
    ("杜", 0.4, 0.8),
    ("叶", 0.4, 3.0),
    ("程", 0.4, 8.0),
    ("苏", 0.3, 0.8),
    ("魏", 0.3, 0.8),
    ("吕", 0.3, 0.8),
    ("丁", 0.3, 1.0),
    ("任", 0.3, 0.8),
    ("沈", 0.3, 0.9),
    ("姚", 0.3, 1.2),
    ("卢", 0.3, 0.8),
    ("姜", 0.3, 0.8),
    ("崔", 0.3, 0.5),
    ("钟", 0.3, 0.8),
    ("谭", 0.3, 0.6),
    ("陆", 0.3, 1.0),
    ("汪", 0.3, 14.0),
    ("范", 0.3, 0.9),
    ("金", 0.3, 2.0),
    ("石", 0.3, 0.8),
    ("廖", 0.2, 0.6),
    ("贾", 0.2, 0.6),
    ("夏", 0.2, 1.0),
    ("韦", 0.2, 0.4),
    ("付", 0.2, 0.7),
    ("方", 0.2, 7.0),
    ("白", 0.2, 0.6),
    ("邹", 0.2, 0.8),
    ("孟", 0.2, 0.6),
    ("熊", 0.2, 0.7),
    ("秦", 0.2, 0.7),
    ("邱", 0.2, 0.7),
    ("江", 0.2, 4.0),
    ("尹", 0.2, 0.7),
    ("薛", 0.2, 0.7),
    ("闫", 0.2, 0.4),
    ("段", 0.2, 0.6),
    ("雷", 0.2, 0.6),
    ("侯", 0.2, 0.6),
    ("龙", 0.2, 0.5),
    ("史", 0.2, 0.7),
    ("陶", 0.2, 1.2),
    ("黎", 0.2, 0.6),
    ("贺", 0.2, 0.7),
    ("顾", 0.2, 0.8),
    ("毛", 0.2, 0.8),
    ("郝", 0.2, 0.5),
    ("龚", 0.2, 0.9),
    ("邵", 0.2, 1.0),
    ("万", 0.2, 0.8),
    ("钱", 0.2, 0.9),
    ("严", 0.2, 0.8),
    ("洪", 0.15, 5.0),
    ("项", 0.1, 6.0),
    ("戴", 0.1, 2.0),
    ("汤", 0.1, 1.5),
    ("詹", 0.05, 6.0),
    ("舒", 0.05, 4.0),
    ("鲍", 0.03, 8.0),
    ("毕", 0.05, 3.0),
    ("凌", 0.05, 3.0),
    ("章", 0.1, 2.0),
    ("储", 0.03, 4.0),
    ("査", 0.02, 6.0),
];

/// Very common given names (张伟, 王芳 …): deliberately frequent so that a
/// name alone is weak evidence.
const COMMON_MALE: &[&str] = &[
    "伟", "强", "磊", "军", "勇", "杰", "涛", "明", "超", "刚", "平", "斌", "波", "辉", "建华",
    "建国",
];
const COMMON_FEMALE: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀英", "桂英", "秀兰", "玉兰", "燕", "红",
    "丹",
];

/// Given-name characters by era: born before 1960, 1960–1984, 1985–2004, from 2005.
const MALE_CHARS: [&str; 4] = [
    "国建福德金根志明华生荣海发春林文忠祥贵宝义兴长庆水土茂旺和顺有才",
    "伟强军勇杰涛斌明刚平辉华飞波峰亮东新立成春林军兵胜利红卫国庆志平",
    "磊鹏超浩宇凯健俊帆旭宁龙阳晨斌鑫杰伟涛波亮涵博文明辉鹏飞翔",
    "轩睿泽宇浩然梓子豪皓辰航铭博文俊熙逸晨宸嘉佑一诺瑞昊煜奕朗",
];
const FEMALE_CHARS: [&str; 4] = [
    "秀英桂兰玉珍凤华翠莲美金菊花梅云彩香爱荷巧素淑琴月娥",
    "芳敏静丽艳娟霞红燕萍玲琳莉华英梅兰凤平玉琴云洁慧娜",
    "婷雪慧倩颖洁琴丹蕾雯佳欣怡晶璐琪瑶媛晓梦露雨薇莹",
    "涵怡萱欣诺琪梓雨悦妍诗语桐汐可馨依若思佳紫沐钰彤瑶",
];

/// Curated two-character given names by era (mixed genders marked by list).
const MALE_DOUBLE: [&[&str]; 4] = [
    &[
        "建国", "国华", "福生", "德明", "金海", "根生", "志强", "长富", "荣华", "永福", "水生",
        "春生",
    ],
    &[
        "建华", "建军", "国强", "志明", "卫东", "红兵", "海涛", "晓东", "振华", "文斌", "立新",
        "永强",
    ],
    &[
        "俊杰", "浩然", "子豪", "宇航", "家乐", "博文", "晓峰", "嘉豪", "一鸣", "明轩", "天宇",
        "文杰",
    ],
    &[
        "梓轩", "宇轩", "浩宇", "子墨", "沐辰", "一诺", "俊熙", "皓轩", "梓豪", "睿泽", "子轩",
        "奕辰",
    ],
];
const FEMALE_DOUBLE: [&[&str]; 4] = [
    &[
        "秀英", "桂英", "秀兰", "玉兰", "桂兰", "凤英", "玉珍", "淑珍", "翠英", "金花", "美华",
        "素珍",
    ],
    &[
        "丽华", "红梅", "秀梅", "海燕", "晓燕", "春燕", "雪梅", "丽娟", "小红", "玉梅", "美玲",
        "文静",
    ],
    &[
        "婷婷", "雪莹", "佳怡", "晓雯", "梦琪", "欣然", "思雨", "雨婷", "静怡", "晓梅", "丹丹",
        "倩倩",
    ],
    &[
        "子涵", "欣怡", "诗涵", "雨涵", "梓涵", "可馨", "一诺", "思琪", "梓萱", "语桐", "若汐",
        "依诺",
    ],
];

/// Parts of Uyghur names, written with a middle dot between them.
const MINORITY_FIRST_MALE: &[&str] = &[
    "艾力",
    "买买提",
    "阿不都",
    "吐尔逊",
    "艾买提",
    "阿卜杜拉",
    "努尔",
    "伊力哈木",
    "热合曼",
    "肉孜",
];
const MINORITY_FIRST_FEMALE: &[&str] = &[
    "阿依古丽",
    "古丽娜尔",
    "热依拉",
    "迪丽热巴",
    "帕提古丽",
    "努尔古丽",
    "阿依努尔",
    "祖丽菲亚",
];
const MINORITY_LAST: &[&str] = &[
    "买买提",
    "吐尔逊",
    "艾力",
    "阿不都",
    "热合曼",
    "艾买提",
    "玉苏甫",
    "托合提",
    "卡德尔",
    "依明",
];

/// Ethnic groups; the first is 汉族.
pub const ETHNICITIES: &[&str] = &[
    "汉族",
    "回族",
    "满族",
    "畲族",
    "土家族",
    "苗族",
    "壮族",
    "蒙古族",
    "维吾尔族",
];
/// Index of 维吾尔族 in [`ETHNICITIES`].
pub const UYGHUR: u8 = 8;

/// Homophone groups: characters with the same toneless pinyin (by their
/// default reading), the commonest typing error in hand-typed names.
pub const HOMOPHONES: &[&str] = &[
    "伟玮炜",
    "芳方昉",
    "丽莉俐",
    "静婧靖",
    "敏旻",
    "军君钧",
    "勇永咏",
    "杰洁婕",
    "涛韬滔",
    "斌彬",
    "明铭鸣",
    "刚钢纲",
    "平萍苹",
    "辉晖徽",
    "鹏朋",
    "华桦骅",
    "飞菲霏",
    "宇雨羽禹",
    "浩昊皓灏",
    "凯恺铠",
    "健剑鉴",
    "俊骏峻",
    "帆凡",
    "旭序",
    "宁凝柠",
    "龙隆",
    "林琳霖",
    "阳扬洋杨",
    "文雯闻",
    "东冬",
    "峰锋丰枫",
    "成诚城程",
    "新欣心馨鑫",
    "生升",
    "晨辰宸臣",
    "艳燕雁彦妍",
    "娟涓鹃",
    "霞侠",
    "红宏虹洪鸿",
    "玲铃灵龄凌菱",
    "婷亭庭",
    "慧惠蕙卉",
    "颖英莹瑛",
    "琴芹勤秦",
    "云芸昀韵",
    "梅玫枚",
    "兰岚澜蓝",
    "凤奉",
    "蕾磊雷",
    "秀修绣",
    "桂贵",
    "玉钰煜",
    "国帼",
    "志智",
    "金锦津",
    "子紫梓姿",
    "涵寒晗含",
    "轩萱宣",
    "怡宜仪依",
    "张章",
    "王汪",
    "刘柳",
    "陈晨",
    "徐许",
    "胡湖",
    "何贺",
    "罗骆",
    "江姜",
    "余于俞",
    "叶业",
    "吴武伍",
    "朱诸",
    "高郜",
    "郭国",
    "方芳",
    "程成",
    "洪红",
];

/// Simplified → traditional for characters common in names (each pair is
/// checked by a test against civhub-core's converter).
pub const TRADITIONAL: &[(char, char)] = &[
    ('伟', '偉'),
    ('华', '華'),
    ('丽', '麗'),
    ('静', '靜'),
    ('军', '軍'),
    ('涛', '濤'),
    ('刚', '剛'),
    ('辉', '輝'),
    ('鹏', '鵬'),
    ('飞', '飛'),
    ('强', '強'),
    ('杰', '傑'),
    ('国', '國'),
    ('东', '東'),
    ('红', '紅'),
    ('兰', '蘭'),
    ('凤', '鳳'),
    ('云', '雲'),
    ('宁', '寧'),
    ('龙', '龍'),
    ('欢', '歡'),
    ('阳', '陽'),
    ('颖', '穎'),
    ('轩', '軒'),
    ('诺', '諾'),
    ('凯', '凱'),
    ('张', '張'),
    ('陈', '陳'),
    ('刘', '劉'),
    ('杨', '楊'),
    ('赵', '趙'),
    ('孙', '孫'),
    ('郑', '鄭'),
    ('罗', '羅'),
    ('马', '馬'),
    ('许', '許'),
    ('邓', '鄧'),
    ('冯', '馮'),
    ('韩', '韓'),
    ('叶', '葉'),
    ('钱', '錢'),
    ('蒋', '蔣'),
    ('卢', '盧'),
    ('苏', '蘇'),
    ('贺', '賀'),
    ('龚', '龔'),
    ('邹', '鄒'),
    ('谢', '謝'),
    ('顾', '顧'),
    ('陆', '陸'),
    ('汤', '湯'),
    ('严', '嚴'),
    ('万', '萬'),
    ('贵', '貴'),
    ('荣', '榮'),
    ('庆', '慶'),
    ('发', '發'),
    ('义', '義'),
    ('爱', '愛'),
    ('梦', '夢'),
    ('晓', '曉'),
    ('卫', '衛'),
    ('长', '長'),
    ('银', '銀'),
    ('铭', '銘'),
    ('锋', '鋒'),
    ('钢', '鋼'),
    ('钧', '鈞'),
    ('韵', '韻'),
    ('泽', '澤'),
    ('乐', '樂'),
    ('鸿', '鴻'),
    ('娟', '娟'),
    ('玲', '玲'),
    ('涵', '涵'),
    ('兴', '興'),
    ('顺', '順'),
    ('宝', '寶'),
    ('彦', '彥'),
    ('莹', '瑩'),
    ('丰', '豐'),
    ('浩', '浩'),
    ('鑫', '鑫'),
    ('杨', '楊'),
    ('汪', '汪'),
    ('萱', '萱'),
    ('继', '繼'),
    ('维', '維'),
    ('书', '書'),
    ('凤', '鳳'),
];

struct NameTables {
    surnames: Vec<&'static str>,
    weights: Weighted,
}

fn tables() -> &'static NameTables {
    static T: OnceLock<NameTables> = OnceLock::new();
    T.get_or_init(|| NameTables {
        surnames: SURNAMES.iter().map(|s| s.0).collect(),
        weights: Weighted::new(SURNAMES.iter().map(|s| s.1 * s.2)),
    })
}

/// A surname drawn from the local frequency table.
pub fn surname(rng: &mut Rand) -> &'static str {
    let t = tables();
    t.surnames[t.weights.sample(rng)]
}

fn era(birth_year: i32) -> usize {
    match birth_year {
        ..1960 => 0,
        1960..1985 => 1,
        1985..2005 => 2,
        _ => 3,
    }
}

fn nth_char(s: &str, rng: &mut Rand) -> char {
    let n = s.chars().count();
    s.chars().nth(rng.random_range(0..n)).unwrap_or('明')
}

/// A given name for someone born in `birth_year`.
pub fn given_name(rng: &mut Rand, male: bool, birth_year: i32) -> String {
    let e = era(birth_year);
    // The very common ones, mostly among people born 1955–1995.
    let common_p = if (1955..1995).contains(&birth_year) {
        0.10
    } else {
        0.03
    };
    if chance(rng, common_p) {
        return pick(rng, if male { COMMON_MALE } else { COMMON_FEMALE }).to_string();
    }
    let single_p = [0.35, 0.40, 0.30, 0.12][e];
    if chance(rng, single_p) {
        return nth_char(if male { MALE_CHARS[e] } else { FEMALE_CHARS[e] }, rng).to_string();
    }
    if chance(rng, 0.3) {
        return pick(
            rng,
            if male {
                MALE_DOUBLE[e]
            } else {
                FEMALE_DOUBLE[e]
            },
        )
        .to_string();
    }
    let chars = if male { MALE_CHARS[e] } else { FEMALE_CHARS[e] };
    let a = nth_char(chars, rng);
    let mut b = nth_char(chars, rng);
    if b == a && chance(rng, 0.7) {
        b = nth_char(chars, rng);
    }
    format!("{a}{b}")
}

/// A Uyghur-style name with a middle dot (U+00B7).
pub fn minority_name(rng: &mut Rand, male: bool) -> String {
    let first = pick(
        rng,
        if male {
            MINORITY_FIRST_MALE
        } else {
            MINORITY_FIRST_FEMALE
        },
    );
    let mut last = pick(rng, MINORITY_LAST);
    if last == first {
        last = &MINORITY_LAST[0];
    }
    format!("{first}\u{00B7}{last}")
}

/// Homophones of `c` (same toneless pinyin), if the table knows any.
pub fn homophones(c: char) -> Option<&'static str> {
    HOMOPHONES.iter().copied().find(|g| g.contains(c))
}

/// The name with one character replaced by a homophone; `None` if no
/// character of the name has one.
pub fn homophone_variant(name: &str, rng: &mut Rand) -> Option<String> {
    let chars: Vec<char> = name.chars().collect();
    let candidates: Vec<usize> = (0..chars.len())
        .filter(|&i| homophones(chars[i]).is_some_and(|g| g.chars().count() > 1))
        .collect();
    if candidates.is_empty() {
        return None;
    }
    // Given-name characters are mistyped more often than the surname.
    let i = if candidates.len() > 1 && candidates[0] == 0 && chance(rng, 0.75) {
        candidates[1 + rng.random_range(0..candidates.len() - 1)]
    } else {
        *pick(rng, &candidates)
    };
    let group: Vec<char> = homophones(chars[i])?
        .chars()
        .filter(|&c| c != chars[i])
        .collect();
    let mut out = chars.clone();
    out[i] = *pick(rng, &group);
    Some(out.into_iter().collect())
}

/// The name in traditional characters; `None` if nothing changes.
pub fn traditional_variant(name: &str) -> Option<String> {
    let out: String = name
        .chars()
        .map(|c| {
            TRADITIONAL
                .iter()
                .find(|(s, _)| *s == c)
                .map(|&(_, t)| t)
                .unwrap_or(c)
        })
        .collect();
    (out != name).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use civhub_core::normalize::name::{pinyin_key, to_simplified};

    #[test]
    fn traditional_table_round_trips_through_core() {
        for &(s, t) in TRADITIONAL {
            assert_eq!(
                to_simplified(&t.to_string()),
                s.to_string(),
                "{t} should simplify to {s}"
            );
        }
    }

    #[test]
    fn homophone_groups_share_pinyin() {
        let bad: Vec<String> = HOMOPHONES
            .iter()
            .filter_map(|g| {
                let keys: Vec<String> = g.chars().map(|c| pinyin_key(&c.to_string())).collect();
                (!keys.windows(2).all(|w| w[0] == w[1])).then(|| format!("{g}: {keys:?}"))
            })
            .collect();
        assert!(bad.is_empty(), "{bad:#?}");
    }

    #[test]
    fn minority_names_have_one_middle_dot() {
        let mut rng = crate::rng::stream(1, "m");
        for _ in 0..50 {
            let n = minority_name(&mut rng, true);
            assert_eq!(n.matches('\u{00B7}').count(), 1, "{n}");
        }
    }
}
