//! Places of Huangshan: districts and counties with their region codes and
//! registered populations, their towns (街道, 镇, 乡), roads and villages,
//! and region codes elsewhere for people born outside the city.

/// A district or county of Huangshan.
#[derive(Debug, Clone, Copy)]
pub struct District {
    /// 中文 name, e.g. 屯溪区.
    pub name: &'static str,
    /// Short name used in brackets and company names, e.g. 屯溪.
    pub short: &'static str,
    /// GB/T 2260 code.
    pub code: &'static str,
    /// Registered population in ten-thousands (weights).
    pub pop: f64,
    /// Sub-districts (街道) first, then towns (镇) and townships (乡).
    pub towns: &'static [&'static str],
}

/// The seven districts and counties.
pub const DISTRICTS: [District; 7] = [
    District {
        name: "屯溪区",
        short: "屯溪",
        code: "341002",
        pop: 19.0,
        towns: &[
            "昱东街道",
            "昱中街道",
            "老街街道",
            "柏树街道",
            "黎阳镇",
            "阳湖镇",
            "屯光镇",
            "奕棋镇",
        ],
    },
    District {
        name: "黄山区",
        short: "黄山",
        code: "341003",
        pop: 16.0,
        towns: &[
            "甘棠镇",
            "仙源镇",
            "汤口镇",
            "谭家桥镇",
            "太平湖镇",
            "焦村镇",
            "耿城镇",
            "三口镇",
            "乌石镇",
            "新明乡",
            "龙门乡",
            "永丰乡",
            "新华乡",
            "新丰乡",
        ],
    },
    District {
        name: "徽州区",
        short: "徽州",
        code: "341004",
        pop: 10.0,
        towns: &[
            "岩寺镇",
            "西溪南镇",
            "潜口镇",
            "呈坎镇",
            "富溪乡",
            "杨村乡",
            "洽舍乡",
        ],
    },
    District {
        name: "歙县",
        short: "歙县",
        code: "341021",
        pop: 48.0,
        towns: &[
            "徽城镇",
            "深渡镇",
            "北岸镇",
            "富堨镇",
            "郑村镇",
            "桂林镇",
            "许村镇",
            "溪头镇",
            "杞梓里镇",
            "霞坑镇",
            "岔口镇",
            "街口镇",
            "王村镇",
            "雄村镇",
            "三阳镇",
            "金川乡",
            "小川乡",
            "璜田乡",
            "长陔乡",
            "森村乡",
            "绍濂乡",
            "石门乡",
            "狮石乡",
            "昌溪乡",
            "武阳乡",
            "上丰乡",
            "坑口乡",
        ],
    },
    District {
        name: "休宁县",
        short: "休宁",
        code: "341022",
        pop: 27.0,
        towns: &[
            "海阳镇",
            "齐云山镇",
            "万安镇",
            "五城镇",
            "东临溪镇",
            "蓝田镇",
            "溪口镇",
            "流口镇",
            "汪村镇",
            "商山镇",
            "山斗乡",
            "岭南乡",
            "渭桥乡",
            "板桥乡",
            "陈霞乡",
            "鹤城乡",
            "源芳乡",
            "榆村乡",
            "龙田乡",
            "璜尖乡",
            "白际乡",
        ],
    },
    District {
        name: "黟县",
        short: "黟县",
        code: "341023",
        pop: 9.0,
        towns: &[
            "碧阳镇",
            "宏村镇",
            "渔亭镇",
            "西递镇",
            "柯村镇",
            "美溪乡",
            "宏潭乡",
            "洪星乡",
        ],
    },
    District {
        name: "祁门县",
        short: "祁门",
        code: "341024",
        pop: 18.0,
        towns: &[
            "祁山镇",
            "小路口镇",
            "金字牌镇",
            "平里镇",
            "历口镇",
            "闪里镇",
            "安凌镇",
            "凫峰镇",
            "塔坊镇",
            "新安镇",
            "大坦乡",
            "柏溪乡",
            "祁红乡",
            "渚口乡",
            "古溪乡",
            "箬坑乡",
            "芦溪乡",
            "溶口乡",
        ],
    },
];

/// The city's own region code.
pub const CITY_CODE: &str = "341000";

/// Streets of the district seats and town centres.
pub const ROADS: &[&str] = &[
    "延安路",
    "新安北路",
    "新安南路",
    "黄山东路",
    "黄山西路",
    "前园路",
    "华山路",
    "跃进路",
    "滨江东路",
    "滨江中路",
    "滨江西路",
    "屯光大道",
    "齐云大道",
    "昱中路",
    "长干路",
    "洽阳路",
    "湖边路",
    "戴震路",
    "环城北路",
    "迎宾大道",
    "徽州大道",
    "纬一路",
    "仙源路",
    "太平湖路",
    "紫阳路",
    "丰乐路",
    "新园路",
    "梅林大道",
    "机场大道",
    "世纪大道",
    "文峰路",
    "秀水路",
];

/// Village names (a 村 or 社区 suffix is added).
pub const VILLAGES: &[&str] = &[
    "呈坎",
    "唐模",
    "棠樾",
    "雄村",
    "宏村",
    "西递",
    "南屏",
    "卢村",
    "屏山",
    "关麓",
    "渔梁",
    "许村",
    "昌溪",
    "瞻淇",
    "石潭",
    "阳产",
    "坡山",
    "定潭",
    "霞坑",
    "汪满田",
    "上丰",
    "岔口",
    "龙川",
    "竹源",
    "桃源",
    "长丰",
    "新田",
    "荷花",
    "梅林",
    "双河",
    "溪头",
    "石门",
    "柏山",
    "江村",
    "潭渡",
    "郑坑",
    "黄村",
    "宋村",
    "方村",
    "程村",
    "汪村",
    "吴村",
    "庄里",
    "洪坑",
];

/// Region codes of places outside Huangshan where residents were born:
/// elsewhere in Anhui first, then other provinces.
pub const OUTSIDE_CODES: &[(&str, f64)] = &[
    ("340104", 2.0),
    ("340102", 1.5),
    ("340103", 1.0),
    ("340202", 1.2),
    ("340207", 0.8),
    ("341102", 0.8),
    ("341802", 1.5),
    ("341821", 1.0),
    ("341824", 1.5),
    ("340822", 1.0),
    ("341702", 0.8),
    ("340602", 0.5),
    ("341502", 0.5),
    ("330106", 0.8),
    ("330102", 0.5),
    ("360203", 0.8),
    ("360222", 0.6),
    ("320106", 0.5),
    ("310104", 0.4),
    ("110105", 0.3),
    ("420106", 0.3),
    ("440305", 0.3),
    ("350203", 0.3),
    ("370102", 0.2),
    ("652901", 0.3),
];

/// Chinese numerals for 组 (village groups) and buildings.
pub const NUMERALS: &[&str] = &[
    "一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二",
];

/// True for towns that are urban sub-districts (街道) or district seats.
pub fn is_urban(town: &str) -> bool {
    town.ends_with("街道")
        || matches!(
            town,
            "甘棠镇" | "岩寺镇" | "徽城镇" | "海阳镇" | "碧阳镇" | "祁山镇"
        )
}

/// Index of a district by its name.
pub fn district_by_name(name: &str) -> Option<usize> {
    DISTRICTS
        .iter()
        .position(|d| d.name == name || d.short == name)
}
