//! The ground truth: who every person and entity really is, which record
//! mentions whom, and which 低保 households are ineligible and why.

use crate::error::SynthError;
use crate::vocab::names::ETHNICITIES;
use crate::world::{DIBAO, EntityKind, JobKind, NONE, World};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// Quotes a CSV field when needed.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn writer(path: &Path) -> Result<std::io::BufWriter<fs_err::File>, SynthError> {
    Ok(std::io::BufWriter::with_capacity(
        1 << 16,
        fs_err::File::create(path)?,
    ))
}

fn job_name(k: JobKind) -> &'static str {
    match k {
        JobKind::Child => "child",
        JobKind::Student => "student",
        JobKind::Enterprise => "enterprise",
        JobKind::Public => "public_body",
        JobKind::Flexible => "flexible",
        JobKind::SelfEmployed => "self_employed",
        JobKind::Farmer => "farmer",
        JobKind::Retired => "retired",
        JobKind::None => "none",
    }
}

/// `truth/persons.csv`.
pub fn persons(w: &World, path: &Path) -> Result<(), SynthError> {
    let mut out = writer(path)?;
    writeln!(
        out,
        "person_key,id_number,name,gender,birth_date,death_date,household_no,relation,district,address,phone,ethnicity,job,employer_key,monthly_wage,dibao_recipient,moved_out,same_name_birth_as,former_name"
    )?;
    for (i, p) in w.persons.iter().enumerate() {
        let hh = &w.households[p.household as usize];
        writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            World::person_key(i as u32),
            p.id_str(),
            csv_field(&p.name),
            p.gender(),
            p.birth,
            p.death.map(|d| d.to_string()).unwrap_or_default(),
            hh.number(),
            p.relation.as_str(),
            hh.addr.district_name(),
            csv_field(&hh.addr.render()),
            if p.phone > 0 {
                p.phone.to_string()
            } else {
                String::new()
            },
            ETHNICITIES[p.ethnicity as usize],
            job_name(p.job.kind),
            if p.job.employer != NONE {
                World::entity_key(p.job.employer)
            } else {
                String::new()
            },
            p.job.wage,
            u8::from(p.recipient),
            u8::from(p.moved_out),
            if p.twin_of != NONE {
                World::person_key(p.twin_of)
            } else {
                String::new()
            },
            p.former_name.as_deref().map(csv_field).unwrap_or_default(),
        )?;
    }
    out.flush()?;
    Ok(())
}

/// `truth/entities.csv`.
pub fn entities(w: &World, path: &Path) -> Result<(), SynthError> {
    let mut out = writer(path)?;
    writeln!(
        out,
        "entity_key,uscc,name,kind,entity_type,district,address,legal_rep_key,registered_capital,established,status,parent_key"
    )?;
    for (i, e) in w.entities.iter().enumerate() {
        let kind = match e.kind {
            EntityKind::Company => "company",
            EntityKind::Branch => "branch",
            EntityKind::Cooperative => "cooperative",
            EntityKind::Agency => "agency",
            EntityKind::Institution => "institution",
            EntityKind::SocialOrg => "social_organization",
            EntityKind::Individual => "individual_business",
        };
        writeln!(
            out,
            "{},{},{},{kind},{},{},{},{},{},{},{},{}",
            World::entity_key(i as u32),
            e.uscc_str(),
            csv_field(&e.name),
            csv_field(e.type_label),
            e.addr.district_name(),
            csv_field(&e.addr.render()),
            if e.rep != NONE {
                World::person_key(e.rep)
            } else {
                String::new()
            },
            e.capital,
            e.established,
            ["存续", "在业", "注销", "吊销", "迁出"][e.status as usize],
            if e.parent != NONE {
                World::entity_key(e.parent)
            } else {
                String::new()
            },
        )?;
    }
    out.flush()?;
    Ok(())
}

/// `truth/dibao.csv` and `truth/dibao_households.csv`; returns planted cases by rule.
pub fn dibao(w: &World, dir: &Path) -> Result<BTreeMap<String, usize>, SynthError> {
    let mut out = writer(&dir.join("dibao.csv"))?;
    writeln!(out, "household_id,person_key,rule,decoy_for,noisy,detail")?;
    let mut by_rule: BTreeMap<String, usize> = BTreeMap::new();
    for t in &w.dibao_truth {
        writeln!(
            out,
            "{},{},{},{},{},{}",
            w.dibao[t.household as usize].id(w),
            World::person_key(t.person),
            t.rule,
            t.decoy_for,
            u8::from(t.noisy),
            csv_field(&t.detail)
        )?;
        let key = if t.rule == "decoy" {
            format!("decoy:{}", t.decoy_for)
        } else if t.noisy {
            format!("{}:noisy", t.rule)
        } else {
            t.rule.to_string()
        };
        *by_rule.entry(key).or_default() += 1;
    }
    out.flush()?;
    let mut hh = writer(&dir.join("dibao_households.csv"))?;
    writeln!(
        hh,
        "household_id,applicant_key,district,members,expected,rules"
    )?;
    for (i, d) in w.dibao.iter().enumerate() {
        let mut rules: Vec<&str> = w
            .dibao_truth
            .iter()
            .filter(|t| t.household as usize == i && t.rule != "decoy")
            .map(|t| t.rule)
            .collect();
        rules.sort();
        rules.dedup();
        writeln!(
            hh,
            "{},{},{},{},{},{}",
            d.id(w),
            World::person_key(d.head),
            w.households[d.household as usize].addr.district_name(),
            d.members.len(),
            if rules.is_empty() { "eligible" } else { "flag" },
            rules.join(";"),
        )?;
    }
    hh.flush()?;
    Ok(by_rule)
}

/// `truth/README.md`: what the truth files hold and the parameters assumed.
pub fn readme(w: &World, path: &Path, persons: usize, seed: u64) -> Result<(), SynthError> {
    let flagged = w
        .dibao
        .iter()
        .enumerate()
        .filter(|(i, _)| {
            w.dibao_truth
                .iter()
                .any(|t| t.household as usize == *i && t.rule != "decoy")
        })
        .count();
    let text = format!(
        r#"# Ground truth of this synthetic Huangshan

Made by `civhub synth --persons {persons} --seed {seed}`; the reference date ("today") is 2026-11-01.
Ingest with `civhub run --project .`; every file below is about the exports in `exports/`.

## Files

* `persons.csv` — every person (`person_key` P000001…): the true resident ID, name,
  birth date, gender, death date, household, address, job. `same_name_birth_as` pairs
  different people deliberately given the same name and birth date.
* `entities.csv` — every legal entity and individual business (`entity_key` E000001…)
  with its true USCC, registered name, legal representative and parent (branches).
* `mentions.csv` — one row per identity mention per exported record: `pipeline`,
  `file` (relative to `exports/`), `sheet` (xlsx), `row` (what ingest reports as
  `_source_row`: the physical 1-based row in csv/xlsx with title rows and header counted,
  the 1-based record index in JSON arrays, the line in NDJSON, the row in Parquet),
  `role` (the pipeline's `[[identity]]` role), `kind` (person/entity), `true_key`,
  `noise` (what was done to that mention's fields, `;`-separated) and `bad` (1 if the
  row is meant to be quarantined: a bad value, an Excel-damaged ID in a strict column, or
  a duplicate record key — exactly the rows `civhub ingest` quarantines).
* `dibao.csv` — the planted 低保 cases: `household_id`, `person_key`, `rule`
  (property, vehicle, provident_fund, social_insurance, business, death, duplicate,
  identity — or `decoy`), `decoy_for` (the rule a decoy must not trigger), `noisy`
  (1: the evidence is reachable only through a noisy identifier — a 15-digit or mistyped
  ID, a homophone or traditional-character name without ID) and `detail`.
* `dibao_households.csv` — every recipient household and its expected outcome
  (`flag` with the rules, or `eligible`). {flagged} of {total} households are planted
  ineligible; every other household is eligible by construction (its members were kept
  out of employment, business roles, property and vehicle draws; decoys own only what
  the rules allow).

## Parameters assumed (Huangshan, 2026)

| parameter | value |
| --- | --- |
| local 低保 standard (城乡统一) | {standard} 元 per person per month |
| wage evidence that disqualifies | per-capita household income above the standard; planted wages are ≥ 1.6 × standard × members |
| dwellings | at most one; two or more 住宅, or any 商业 / 办公 / 车库, disqualify |
| floor area | threshold assumed {area} ㎡ per person; eligible households own nothing except the `decoy` (for property) households, which own one dwelling of at most 30 ㎡ per member |
| vehicles | any 非营运 motor vehicle disqualifies, except 普通二轮摩托车 and 残疾人专用小型自动挡载客汽车 (decoys) |
| business | legal representative, shareholder or individual-business operator with registered capital ≥ {capital} 元 disqualifies (planted: ≥ 500000 元 companies, ≥ {capital2} 元 individual businesses); decoys run individual businesses below it |
| social insurance | employee pension insurance on a base implying income above the standard, or employment by a 机关 / 事业单位 (budget_funded = true) |
| death | a member who died (in a death-registration export) but is still listed |
| duplicate | one person listed in two recipient households (both households are rows in dibao.csv) |
| identity | a member row without a usable ID whose name and birth date are shared by another person |
| financial assets | bank check feedback (核对反馈) lists recipients with balances under 8000 元 (below 24 months of the standard) |
| contribution base bounds | {base_lo}–{base_hi} 元 per month (Anhui) |

Planted cases per rule: about 1.5 % of recipient households each (at least 2), about 40 %
of them noisy; decoys about 1 % each. Exports that evidence income or business
(tax, payroll, employment, loans, licences) never list a recipient, so the cases above
are the only reasons a recipient household is ineligible.
"#,
        total = w.dibao.len(),
        standard = DIBAO.standard,
        area = DIBAO.area_per_capita,
        capital = DIBAO.capital_threshold,
        capital2 = DIBAO.capital_threshold * 2,
        base_lo = crate::records::welfare::BASE_RANGE.0,
        base_hi = crate::records::welfare::BASE_RANGE.1,
    );
    fs_err::write(path, text)?;
    Ok(())
}

/// Concatenates the pipelines' mention parts into `truth/mentions.csv`, in pipeline order.
pub fn mentions(parts: &[std::path::PathBuf], path: &Path) -> Result<u64, SynthError> {
    let mut out = writer(path)?;
    writeln!(out, "pipeline,file,sheet,row,role,kind,true_key,noise,bad")?;
    let mut bytes = 0;
    for p in parts {
        let mut f = fs_err::File::open(p)?;
        bytes += std::io::copy(&mut f, &mut out)?;
        fs_err::remove_file(p)?;
    }
    out.flush()?;
    Ok(bytes)
}
