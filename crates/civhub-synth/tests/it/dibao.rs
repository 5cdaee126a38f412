//! The 低保 ground truth: every rule planted, noisy cases reachable only
//! through noisy identifiers, clean recipients clean.

use crate::common::{city, read_truth};
use std::collections::{BTreeSet, HashMap};

const RULES: [&str; 8] = [
    "property",
    "vehicle",
    "provident_fund",
    "social_insurance",
    "business",
    "death",
    "duplicate",
    "identity",
];

fn schemas(rule: &str) -> &'static [&'static str] {
    match rule {
        "property" => &["property"],
        "vehicle" => &["vehicle"],
        "provident_fund" => &["provident_fund_account", "provident_fund_deposit"],
        "social_insurance" => &["social_insurance"],
        "business" => &["enterprise", "shareholder", "individual_business"],
        "death" => &["death_registration"],
        _ => &[],
    }
}

#[test]
fn every_rule_is_planted_with_noisy_cases_and_decoys() {
    let c = city();
    let truth = read_truth(c, "dibao.csv");
    for rule in RULES {
        assert!(
            truth.iter().any(|t| t["rule"] == rule),
            "no `{rule}` case planted"
        );
        assert!(
            truth.iter().any(|t| t["rule"] == rule && t["noisy"] == "1"),
            "no noisy `{rule}` case planted"
        );
    }
    for d in ["vehicle", "business", "property"] {
        assert!(
            truth
                .iter()
                .any(|t| t["rule"] == "decoy" && t["decoy_for"] == d),
            "no decoy for `{d}`"
        );
    }
    let households = read_truth(c, "dibao_households.csv");
    assert_eq!(households.len(), c.summary.dibao_households);
    assert!(households.iter().any(|h| h["expected"] == "eligible"));
    let flagged: BTreeSet<&String> = truth
        .iter()
        .filter(|t| t["rule"] != "decoy")
        .map(|t| &t["household_id"])
        .collect();
    for h in &households {
        assert_eq!(
            h["expected"] == "flag",
            flagged.contains(&h["household_id"]),
            "{}",
            h["household_id"]
        );
    }
}

#[test]
fn planted_evidence_is_exported_and_noisy_cases_only_noisily() {
    let c = city();
    let truth = read_truth(c, "dibao.csv");
    let mentions = read_truth(c, "mentions.csv");
    let schema_of: HashMap<&str, &str> = c
        .project
        .pipelines
        .iter()
        .map(|p| (p.id.as_str(), p.schema.name.as_str()))
        .collect();
    let by_person = |key: &str, rule: &str| -> Vec<&HashMap<String, String>> {
        mentions
            .iter()
            .filter(|m| {
                m["true_key"] == key
                    && m["kind"] == "person"
                    && schemas(rule).contains(&schema_of[m["pipeline"].as_str()])
            })
            .collect()
    };
    for t in truth.iter().filter(|t| !schemas(&t["rule"]).is_empty()) {
        let ms = by_person(&t["person_key"], &t["rule"]);
        assert!(
            !ms.is_empty(),
            "{} {}: the evidence is in no export",
            t["rule"],
            t["person_key"]
        );
        assert!(
            ms.iter().all(|m| m["bad"] == "0"),
            "{} {}: evidence quarantined",
            t["rule"],
            t["person_key"]
        );
        if t["noisy"] == "1" {
            for m in &ms {
                let n = &m["noise"];
                assert!(
                    n.contains("id15") || n.contains("id_typo") || n.contains("name_"),
                    "{} {}: clean mention in {} ({n})",
                    t["rule"],
                    t["person_key"],
                    m["pipeline"]
                );
            }
        }
    }
    // A duplicate is listed in two households; an identity case has no usable ID.
    let member_rows = |key: &str| {
        mentions
            .iter()
            .filter(|m| m["true_key"] == key && schema_of[m["pipeline"].as_str()] == "dibao_member")
            .count()
    };
    for t in truth.iter().filter(|t| t["rule"] == "duplicate") {
        assert!(member_rows(&t["person_key"]) >= 2, "{}", t["person_key"]);
    }
}

#[test]
fn clean_recipients_have_no_evidence() {
    let c = city();
    let truth = read_truth(c, "dibao.csv");
    let planted: BTreeSet<&String> = truth.iter().map(|t| &t["person_key"]).collect();
    let recipients: BTreeSet<String> = read_truth(c, "persons.csv")
        .into_iter()
        .filter(|p| p["dibao_recipient"] == "1")
        .map(|p| p["person_key"].clone())
        .collect();
    let schema_of: HashMap<&str, &str> = c
        .project
        .pipelines
        .iter()
        .map(|p| (p.id.as_str(), p.schema.name.as_str()))
        .collect();
    let evidence = [
        "property",
        "vehicle",
        "provident_fund_account",
        "provident_fund_deposit",
        "enterprise",
        "shareholder",
        "individual_business",
        "death_registration",
        "personal_income_tax",
        "public_employee",
        "employment_registration",
    ];
    for m in read_truth(c, "mentions.csv") {
        let s = schema_of[m["pipeline"].as_str()];
        if m["kind"] == "person" && evidence.contains(&s) && recipients.contains(&m["true_key"]) {
            assert!(
                planted.contains(&m["true_key"]),
                "clean recipient {} appears in {}",
                m["true_key"],
                m["pipeline"]
            );
        }
    }
}
