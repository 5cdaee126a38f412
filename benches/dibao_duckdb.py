#!/usr/bin/env python3
"""The 低保 check done the usual way: DuckDB joins on raw ID-number strings.

    python3 benches/dibao_duckdb.py WAREHOUSE [--date YYYY-MM-DD] [--out FLAGGED_JSON] [--threads N]

Reads the published Delta tables under WAREHOUSE/published/<schema>/<table>
with the `deltalake` package (-> pyarrow, only the columns used), registers
them in DuckDB and runs the eight rules of pipelines/checks/dibao.toml with
the same thresholds, but joining every department table to the 低保 members
on the `id_number` string as published (no golden ids, no names, no
probabilistic links). Note: the published id_number columns are already
normalised by civhub ingest (15-digit IDs upgraded to 18, full-width digits
folded, IDs failing the check digit kept with a flag or nulled per pipeline),
so this baseline gets that cleaning for free; a join on the unprocessed CSV
strings would find fewer cases.

Rules (check date D, default today; lookback 12 months; standard 800):
  property          现势 property/homestead(/property_contract) units of the
                    household's members: >=2 住宅, or 住宅 area / members > 40,
                    or any 商业/办公/车库
  vehicle           非营运, type not 普通二轮摩托车/残疾人专用小型自动挡载客汽车,
                    status 正常/抵押/查封/违法未处理
  provident_fund    member has a deposit in the lookback and the household's
                    wage evidence per capita > standard
  social_insurance  member has a contribution in the lookback (wage insurance
                    types or 机关/事业单位) and per-capita wage evidence >
                    standard, or the employer is 机关/事业单位 and budget-funded
  business          legal rep / natural-person shareholder / individual
                    operator with capital >= 100000 and status 存续/在营/开业
  death             death registration with death_date <= D
  duplicate         the same id_number in two 在保 households
  identity          member id_number missing or flagged by the id check rules
Wage evidence per member: max of deposit_base (lookback), contribution_base
(lookback, wage insurance types) and employment_registration.monthly_wage
(still employed), summed over the household.

Prints timings (load = Delta -> arrow; query = the DuckDB SQL only) and
writes FLAGGED_JSON as {flagged_households: [{household_id, district, rules}]}.
"""
import argparse
import datetime as dt
import json
import os
import sys
import time

import duckdb
import pyarrow.dataset as ds
from deltalake import DeltaTable

TABLES = {
    # name in SQL: (schema/table, columns, required)
    "dibao_household": ("civil_affairs/dibao_household",
                        ["household_id", "district", "status"], True),
    "dibao_member": ("civil_affairs/dibao_member",
                     ["household_id", "id_number", "name", "_flags"], True),
    "property": ("natural_resources/property",
                 ["owner_id_number", "unit_no", "usage", "floor_area", "status"], True),
    "homestead": ("natural_resources/homestead",
                  ["owner_id_number", "unit_no", "usage", "floor_area", "status"], True),
    "property_contract": ("housing/property_contract",
                          ["owner_id_number", "unit_no", "usage", "floor_area", "status"], False),
    "vehicle": ("public_security/vehicle",
                ["owner_id_number", "vehicle_type", "use_nature", "status"], True),
    "deposit": ("provident_fund/deposit", ["id_number", "period", "deposit_base"], True),
    "social_insurance": ("hrss/social_insurance",
                         ["id_number", "period", "insurance_type", "contribution_base",
                          "employer_type", "budget_funded"], True),
    "employment_registration": ("hrss/employment_registration",
                                ["id_number", "monthly_wage", "end_date"], False),
    "enterprise": ("market_regulation/enterprise",
                   ["uscc", "legal_rep_id_number", "registered_capital", "status"], True),
    "shareholder": ("market_regulation/shareholder",
                    ["uscc", "shareholder_id_number", "subscribed_capital"], True),
    "individual_business": ("market_regulation/individual_business",
                            ["operator_id_number", "capital", "status"], True),
    "death_registration": ("civil_affairs/death_registration",
                           ["id_number", "death_date"], True),
}

SQL = """
WITH subjects AS (
  SELECT h.household_id, h.district, m.id_number, m._flags
  FROM dibao_household h JOIN dibao_member m ON m.household_id = h.household_id
  WHERE h.status = '在保'
),
wages AS (
  SELECT id_number, max(wage) AS wage FROM (
    SELECT d.id_number, d.deposit_base AS wage FROM deposit d
      WHERE d.period >= $lookback AND d.id_number IN (SELECT id_number FROM subjects)
    UNION ALL
    SELECT c.id_number, c.contribution_base FROM social_insurance c
      WHERE c.period >= $lookback AND c.insurance_type IN ('企业职工基本养老保险', '机关事业单位养老保险', '职工基本医疗保险', '失业保险')
        AND c.id_number IN (SELECT id_number FROM subjects)
    UNION ALL
    SELECT e.id_number, e.monthly_wage FROM employment_registration e
      WHERE (e.end_date IS NULL OR e.end_date >= $check_date)
        AND e.id_number IN (SELECT id_number FROM subjects)
  ) GROUP BY id_number
),
household_income AS (
  SELECT s.household_id, count(*) AS members, coalesce(sum(w.wage), 0) AS income
  FROM subjects s LEFT JOIN wages w ON w.id_number = s.id_number
  GROUP BY s.household_id
),
owned AS (
  SELECT s.household_id, p.unit_no, p.usage, p.floor_area FROM subjects s
    JOIN property p ON p.owner_id_number = s.id_number WHERE p.status = '现势'
  UNION ALL
  SELECT s.household_id, p.unit_no, p.usage, p.floor_area FROM subjects s
    JOIN homestead p ON p.owner_id_number = s.id_number WHERE p.status = '现势'
  UNION ALL
  SELECT s.household_id, p.unit_no, p.usage, p.floor_area FROM subjects s
    JOIN property_contract p ON p.owner_id_number = s.id_number WHERE p.status = '现势'
),
units AS (SELECT DISTINCT ON (household_id, unit_no) * FROM owned),
property_flags AS (
  SELECT u.household_id
  FROM units u JOIN household_income h ON h.household_id = u.household_id
  GROUP BY u.household_id, h.members
  HAVING bool_or(u.usage IN ('商业', '办公', '车库'))
      OR count(*) FILTER (WHERE u.usage = '住宅') >= 2
      OR coalesce(sum(u.floor_area) FILTER (WHERE u.usage = '住宅'), 0) / h.members > 40
),
vehicle_flags AS (
  SELECT DISTINCT s.household_id FROM subjects s JOIN vehicle v ON v.owner_id_number = s.id_number
  WHERE v.use_nature = '非营运'
    AND v.vehicle_type NOT IN ('普通二轮摩托车', '残疾人专用小型自动挡载客汽车')
    AND v.status IN ('正常', '抵押', '查封', '违法未处理')
),
fund_flags AS (
  SELECT DISTINCT s.household_id FROM subjects s
  JOIN deposit d ON d.id_number = s.id_number AND d.period >= $lookback
  JOIN household_income h ON h.household_id = s.household_id
  WHERE h.income / h.members > $standard
),
si_flags AS (
  SELECT DISTINCT s.household_id FROM subjects s
  JOIN social_insurance c ON c.id_number = s.id_number AND c.period >= $lookback
   AND (c.insurance_type IN ('企业职工基本养老保险', '机关事业单位养老保险', '职工基本医疗保险', '失业保险')
        OR c.employer_type IN ('机关', '事业单位'))
  JOIN household_income h ON h.household_id = s.household_id
  WHERE h.income / h.members > $standard
     OR (c.employer_type IN ('机关', '事业单位') AND c.budget_funded)
),
roles AS (
  SELECT s.household_id, e.registered_capital AS capital, e.status FROM subjects s
    JOIN enterprise e ON e.legal_rep_id_number = s.id_number
  UNION ALL
  SELECT s.household_id, coalesce(e.registered_capital, sh.subscribed_capital), coalesce(e.status, '存续')
    FROM subjects s JOIN shareholder sh ON sh.shareholder_id_number = s.id_number
    LEFT JOIN enterprise e ON e.uscc = sh.uscc
  UNION ALL
  SELECT s.household_id, b.capital, b.status FROM subjects s
    JOIN individual_business b ON b.operator_id_number = s.id_number
),
business_flags AS (
  SELECT DISTINCT household_id FROM roles
  WHERE capital >= 100000 AND status IN ('存续', '在营', '开业')
),
death_flags AS (
  SELECT DISTINCT s.household_id FROM subjects s
  JOIN death_registration d ON d.id_number = s.id_number
  WHERE d.death_date <= $check_date
),
duplicate_flags AS (
  SELECT DISTINCT s.household_id FROM subjects s
  JOIN subjects o ON o.id_number = s.id_number AND o.household_id <> s.household_id
),
identity_flags AS (
  SELECT DISTINCT household_id FROM subjects
  WHERE id_number IS NULL OR _flags LIKE '%id-check-digit%' OR _flags LIKE '%id-vs-birth%'
),
flags AS (
  SELECT household_id, 'property' AS rule FROM property_flags
  UNION ALL SELECT household_id, 'vehicle' FROM vehicle_flags
  UNION ALL SELECT household_id, 'provident_fund' FROM fund_flags
  UNION ALL SELECT household_id, 'social_insurance' FROM si_flags
  UNION ALL SELECT household_id, 'business' FROM business_flags
  UNION ALL SELECT household_id, 'death' FROM death_flags
  UNION ALL SELECT household_id, 'duplicate' FROM duplicate_flags
  UNION ALL SELECT household_id, 'identity' FROM identity_flags
)
SELECT f.household_id, any_value(h.district) AS district, list(DISTINCT f.rule ORDER BY f.rule) AS rules
FROM flags f JOIN dibao_household h ON h.household_id = f.household_id
GROUP BY f.household_id ORDER BY f.household_id
"""


def open_table(warehouse, layer, path):
    """A Delta table (published layer) or, for testing, a folder of Parquet
    files (the staging layer); returns (kind, location) or None."""
    schema, table = path.split("/")
    for cand in (os.path.join(warehouse, layer, schema, table),
                 os.path.join(warehouse, layer, f"{schema}.{table}")):
        if os.path.isdir(os.path.join(cand, "_delta_log")):
            return "delta", cand
        if os.path.isdir(cand) and any(f.endswith(".parquet") for f in os.listdir(cand)):
            return "parquet", cand
    return None


def load(warehouse, layer):
    tables, missing = {}, []
    for name, (path, cols, required) in TABLES.items():
        found = open_table(warehouse, layer, path)
        if found is None:
            if required:
                sys.exit(f"missing table {path} under {warehouse}/{layer}")
            missing.append(path)
            tables[name] = None
            continue
        kind, loc = found
        if kind == "delta":
            dt_ = DeltaTable(loc)
            have = {f.name for f in dt_.schema().fields}
            use = [c for c in cols if c in have]
            tbl = dt_.to_pyarrow_table(columns=use)
        else:
            d = ds.dataset(loc, format="parquet")
            have = set(d.schema.names)
            use = [c for c in cols if c in have]
            tbl = d.to_table(columns=use)
        tables[name] = (tbl, [c for c in cols if c not in have])
    return tables, missing


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("warehouse")
    ap.add_argument("--date", default=dt.date.today().isoformat())
    ap.add_argument("--out")
    ap.add_argument("--threads", type=int)
    ap.add_argument("--layer", default="published", help="published (Delta) or staging (Parquet, for testing)")
    a = ap.parse_args()

    t0 = time.perf_counter()
    tables, missing = load(a.warehouse, a.layer)
    t_load = time.perf_counter() - t0

    con = duckdb.connect()
    if a.threads:
        con.execute(f"SET threads = {a.threads}")
    rows = {}
    for name, (path, cols, _) in TABLES.items():
        if tables[name] is None:
            # an absent optional table: an empty one with the same columns
            con.execute(f"CREATE VIEW {name} AS SELECT " + ", ".join(
                f"CAST(NULL AS {'DOUBLE' if c in ('floor_area', 'monthly_wage') else 'DATE' if c == 'end_date' else 'VARCHAR'}) AS {c}"
                for c in cols) + " WHERE false")
            rows[name] = 0
            continue
        tbl, absent = tables[name]
        con.register(f"{name}_arrow", tbl)
        extra = "".join(f", CAST(NULL AS VARCHAR) AS {c}" for c in absent)
        con.execute(f"CREATE VIEW {name} AS SELECT *{extra} FROM {name}_arrow")
        rows[name] = tbl.num_rows

    check = dt.date.fromisoformat(a.date)
    y, m = check.year, check.month - 12
    while m <= 0:
        y, m = y - 1, m + 12
    params = {"check_date": check, "lookback": f"{y:04d}-{m:02d}", "standard": 800}

    t1 = time.perf_counter()
    result = con.execute(SQL, params).fetchall()
    t_query = time.perf_counter() - t1

    flagged = [{"household_id": h, "district": d, "rules": r} for h, d, r in result]
    n_households = con.execute(
        "SELECT count(*) FROM dibao_household WHERE status = '在保'").fetchone()[0]
    doc = {
        "engine": f"duckdb {duckdb.__version__}",
        "check_date": a.date,
        "load_seconds": round(t_load, 3),
        "query_seconds": round(t_query, 3),
        "total_seconds": round(t_load + t_query, 3),
        "rows_loaded": rows,
        "optional_tables_missing": missing,
        "households_checked": n_households,
        "households_flagged": len(flagged),
        "flagged_pairs": sum(len(f["rules"]) for f in flagged),
        "flagged_households": flagged,
    }
    if a.out:
        with open(a.out, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False)
    summary = {k: v for k, v in doc.items() if k != "flagged_households"}
    print(json.dumps(summary, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
