//! What differs between matching people and matching legal entities: the
//! derived mention columns, what contradicts a shared identifier, and how a
//! node (a deterministic cluster, or a mention left over) is described.
//!
//! Everything else — blocking, comparisons, EM, clustering, golden records,
//! ids — is shared and driven by the settings file.

use crate::settings::Kind;

/// How a node column is computed for a cluster (from its mentions `ok`,
/// grouped by the identifier) and for a loose mention.
pub struct NodeColumn {
    /// Column name, usable in blocking rules and comparison SQL.
    pub name: &'static str,
    /// SQL type.
    pub ty: &'static str,
    /// For a cluster: `modal:<mention column>` (the most frequent value of its
    /// mentions) or an SQL expression over `id` (the cluster's identifier).
    pub cluster: &'static str,
    /// For a loose mention: an SQL expression over the mention's columns.
    pub loose: &'static str,
    /// Described to users (settings file header, docs).
    pub doc: &'static str,
}

/// The per-kind description.
pub struct KindSpec {
    /// Which kind.
    pub kind: Kind,
    /// The valid-identifier mention column (`id18` / `uscc`).
    pub id: &'static str,
    /// The identifier as staged (`id_raw` / `uscc_raw`).
    pub raw: &'static str,
    /// SQL function listing valid identifiers one typo away.
    pub candidates_fn: &'static str,
    /// SQL function telling a valid identifier.
    pub valid_fn: &'static str,
    /// Columns added to every mention: (name, SQL expression over the raw mention).
    pub derived: &'static [(&'static str, &'static str)],
    /// What contradicts a shared identifier: (reason, SQL over mention `v` and
    /// the identifier's usual values `mo`, from the modal columns below).
    pub contradictions: &'static [(&'static str, &'static str)],
    /// Mention columns whose usual (modal) value per identifier the
    /// contradiction checks use.
    pub contradiction_modal: &'static [&'static str],
    /// Node columns.
    pub nodes: &'static [NodeColumn],
    /// Golden record fields: (field, mention expression, SQL type).
    /// Survivorship picks one value each.
    pub golden: &'static [(&'static str, &'static str, &'static str)],
    /// Prefix of golden ids.
    pub gid_prefix: &'static str,
}

const PERSON: KindSpec = KindSpec {
    kind: Kind::Person,
    id: "id18",
    raw: "id_raw",
    candidates_fn: "cn_id_candidates",
    valid_fn: "cn_id_valid",
    derived: &[
        ("id18", "CASE WHEN cn_id_valid(id_raw) THEN id_raw END"),
        ("name_py", "pinyin(name)"),
        ("id_birth", "cn_id_birth_date(id_raw)"),
        ("id_gender", "cn_id_gender(id_raw)"),
        ("region", "cn_id_region(id_raw)"),
    ],
    contradictions: &[
        (
            "birth date differs from the one in the ID",
            "v.birth_date_field IS NOT NULL AND v.id_birth IS NOT NULL AND v.birth_date_field <> v.id_birth",
        ),
        (
            "gender differs from the one in the ID",
            "v.gender_field IS NOT NULL AND v.id_gender IS NOT NULL AND v.gender_field <> v.id_gender",
        ),
        (
            "name is clearly another person's",
            "v.name IS NOT NULL AND mo.name IS NOT NULL AND v.name <> mo.name AND NOT pinyin_equal(v.name, mo.name) AND jaro_winkler(v.name, mo.name) < {name_min}",
        ),
    ],
    contradiction_modal: &["name"],
    nodes: &[
        NodeColumn {
            name: "id18",
            ty: "VARCHAR",
            cluster: "id",
            loose: "CAST(NULL AS VARCHAR)",
            doc: "valid 18-digit resident ID (clusters only)",
        },
        NodeColumn {
            name: "id_raw",
            ty: "VARCHAR",
            cluster: "id",
            loose: "id_raw",
            doc: "the ID as staged, valid or not",
        },
        NodeColumn {
            name: "name",
            ty: "VARCHAR",
            cluster: "modal:name",
            loose: "name",
            doc: "normalized name",
        },
        NodeColumn {
            name: "name_py",
            ty: "VARCHAR",
            cluster: "pinyin(modal:name)",
            loose: "name_py",
            doc: "toneless pinyin of the name",
        },
        NodeColumn {
            name: "birth_date",
            ty: "DATE",
            cluster: "cn_id_birth_date(id)",
            loose: "coalesce(birth_date_field, id_birth)",
            doc: "date of birth",
        },
        NodeColumn {
            name: "birth_year",
            ty: "BIGINT",
            cluster: "CAST(date_part('year', cn_id_birth_date(id)) AS BIGINT)",
            loose: "CAST(date_part('year', coalesce(birth_date_field, id_birth)) AS BIGINT)",
            doc: "year of birth",
        },
        NodeColumn {
            name: "gender",
            ty: "VARCHAR",
            cluster: "cn_id_gender(id)",
            loose: "coalesce(gender_field, id_gender)",
            doc: "男 / 女",
        },
        NodeColumn {
            name: "phone",
            ty: "VARCHAR",
            cluster: "modal:phone",
            loose: "phone",
            doc: "phone number",
        },
        NodeColumn {
            name: "address",
            ty: "VARCHAR",
            cluster: "modal:address",
            loose: "address",
            doc: "address",
        },
        NodeColumn {
            name: "region",
            ty: "VARCHAR",
            cluster: "cn_id_region(id)",
            loose: "region",
            doc: "region code of the ID",
        },
    ],
    golden: &[
        ("id_number", "id18", "VARCHAR"),
        ("name", "name", "VARCHAR"),
        ("gender", "coalesce(id_gender, gender_field)", "VARCHAR"),
        ("birth_date", "coalesce(id_birth, birth_date_field)", "DATE"),
        ("phone", "phone", "VARCHAR"),
        ("address", "address", "VARCHAR"),
    ],
    gid_prefix: "P",
};

const ENTITY: KindSpec = KindSpec {
    kind: Kind::Entity,
    id: "uscc",
    raw: "uscc_raw",
    candidates_fn: "uscc_candidates",
    valid_fn: "uscc_valid",
    derived: &[
        ("uscc", "CASE WHEN uscc_valid(uscc_raw) THEN uscc_raw END"),
        ("name_key", "company_name_key(name)"),
        ("legal_rep_py", "pinyin(legal_rep)"),
        (
            "is_branch",
            "coalesce(name LIKE '%分公司%' OR name LIKE '%分店%' OR name LIKE '%分行%' OR name LIKE '%支行%' OR name LIKE '%营业部%' OR name LIKE '%分厂%' OR name LIKE '%办事处%' OR name LIKE '%分院%', false)",
        ),
        ("region", "substr(uscc_raw, 3, 6)"),
    ],
    contradictions: &[(
        "name is clearly another organisation's",
        "v.name_key IS NOT NULL AND mo.name_key IS NOT NULL AND v.name_key <> mo.name_key AND jaro_winkler(v.name_key, mo.name_key) < {name_min}",
    )],
    contradiction_modal: &["name_key"],
    nodes: &[
        NodeColumn {
            name: "uscc",
            ty: "VARCHAR",
            cluster: "id",
            loose: "CAST(NULL AS VARCHAR)",
            doc: "valid unified social credit code (clusters only)",
        },
        NodeColumn {
            name: "uscc_raw",
            ty: "VARCHAR",
            cluster: "id",
            loose: "uscc_raw",
            doc: "the code as staged, valid or not",
        },
        NodeColumn {
            name: "name",
            ty: "VARCHAR",
            cluster: "modal:name",
            loose: "name",
            doc: "name as displayed",
        },
        NodeColumn {
            name: "name_key",
            ty: "VARCHAR",
            cluster: "modal:name_key",
            loose: "name_key",
            doc: "canonical name for matching (有限责任公司 → 有限公司, city prefix and brackets removed)",
        },
        NodeColumn {
            name: "legal_rep",
            ty: "VARCHAR",
            cluster: "modal:legal_rep",
            loose: "legal_rep",
            doc: "legal representative",
        },
        NodeColumn {
            name: "legal_rep_py",
            ty: "VARCHAR",
            cluster: "pinyin(modal:legal_rep)",
            loose: "legal_rep_py",
            doc: "pinyin of the legal representative",
        },
        NodeColumn {
            name: "is_branch",
            ty: "BOOLEAN",
            cluster: "coalesce(modal:is_branch, false)",
            loose: "is_branch",
            doc: "a branch (分公司, 分店, 支行 …), its own entity",
        },
        NodeColumn {
            name: "phone",
            ty: "VARCHAR",
            cluster: "modal:phone",
            loose: "phone",
            doc: "phone number",
        },
        NodeColumn {
            name: "address",
            ty: "VARCHAR",
            cluster: "modal:address",
            loose: "address",
            doc: "address",
        },
        NodeColumn {
            name: "region",
            ty: "VARCHAR",
            cluster: "substr(id, 3, 6)",
            loose: "region",
            doc: "region code inside the USCC",
        },
    ],
    golden: &[
        ("uscc", "uscc", "VARCHAR"),
        ("name", "name", "VARCHAR"),
        ("name_key", "name_key", "VARCHAR"),
        ("legal_rep", "legal_rep", "VARCHAR"),
        ("phone", "phone", "VARCHAR"),
        ("address", "address", "VARCHAR"),
    ],
    gid_prefix: "E",
};

/// The description of a kind.
pub fn spec(kind: Kind) -> &'static KindSpec {
    match kind {
        Kind::Person => &PERSON,
        Kind::Entity => &ENTITY,
    }
}

impl KindSpec {
    /// Node columns usable by blocking rules and comparisons, plus `id_key`
    /// and the always-present `node_id`, `is_cluster`, `size`.
    pub fn column_names(&self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = self.nodes.iter().map(|c| c.name).collect();
        v.push("id_key");
        v.push("node_id");
        v.push("is_cluster");
        v.push("size");
        v
    }
}
