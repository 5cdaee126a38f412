#!/usr/bin/env python3
"""Scores 低保 check findings against the planted truth of `civhub synth`.

    python3 benches/dibao_score.py TRUTH_CSV FLAGGED_JSON [--label NAME]

TRUTH_CSV is <project>/truth/dibao.csv (household_id, person_key, rule,
decoy_for, noisy, detail). FLAGGED_JSON is either the output of
`civhub check dibao --json` (it has `flagged_households: [{household_id,
rules: [...]}]`) or the output of benches/dibao_duckdb.py (same key).

Scored over (household_id, rule) pairs:
  * planted = the truth rows whose rule is not 'decoy' (one pair per row,
    duplicates collapsed);
  * recall = planted pairs flagged / planted pairs; also for noisy=1 ones;
  * precision = flagged pairs that are planted / flagged pairs;
  * decoy hits = (household_id, decoy_for) pairs of rule='decoy' rows that
    were flagged (these must not be);
  * per-rule breakdown.
Prints one JSON object.
"""
import csv
import json
import sys
from collections import defaultdict


def load_truth(path):
    planted, noisy, decoys = set(), set(), set()
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["rule"] == "decoy":
                decoys.add((row["household_id"], row["decoy_for"]))
                continue
            pair = (row["household_id"], row["rule"])
            planted.add(pair)
            if row["noisy"] in ("1", "true", "True"):
                noisy.add(pair)
    return planted, noisy, decoys


def load_flagged(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    pairs = set()
    for h in doc.get("flagged_households", []):
        for r in h.get("rules", []):
            rid = r if isinstance(r, str) else (r.get("rule") or r.get("id"))
            pairs.add((h["household_id"], rid))
    return doc, pairs


def score(planted, noisy, decoys, flagged):
    tp = planted & flagged
    per_rule = defaultdict(lambda: {"planted": 0, "found": 0, "noisy": 0, "noisy_found": 0,
                                    "flagged": 0, "false_pos": 0})
    for hh, r in planted:
        per_rule[r]["planted"] += 1
        per_rule[r]["found"] += (hh, r) in flagged
    for hh, r in noisy:
        per_rule[r]["noisy"] += 1
        per_rule[r]["noisy_found"] += (hh, r) in flagged
    for hh, r in flagged:
        per_rule[r]["flagged"] += 1
        per_rule[r]["false_pos"] += (hh, r) not in planted
    fp = flagged - planted
    return {
        "planted": len(planted),
        "found": len(tp),
        "recall": round(len(tp) / len(planted), 4) if planted else None,
        "noisy": len(noisy),
        "noisy_found": len(noisy & flagged),
        "noisy_recall": round(len(noisy & flagged) / len(noisy), 4) if noisy else None,
        "clean": len(planted - noisy),
        "clean_found": len((planted - noisy) & flagged),
        "flagged_pairs": len(flagged),
        "false_positives": len(fp),
        "precision": round(len(tp) / len(flagged), 4) if flagged else None,
        "decoys": len(decoys),
        "decoys_flagged": len(decoys & flagged),
        "flagged_households": len({h for h, _ in flagged}),
        "per_rule": dict(sorted(per_rule.items())),
    }


def main():
    args = sys.argv[1:]
    label = None
    if "--label" in args:
        i = args.index("--label")
        label = args[i + 1]
        del args[i:i + 2]
    truth, flagged_path = args
    planted, noisy, decoys = load_truth(truth)
    doc, flagged = load_flagged(flagged_path)
    out = {"label": label} if label else {}
    for k in ("households_checked", "households_flagged", "findings"):
        if k in doc:
            out[k] = doc[k]
    out.update(score(planted, noisy, decoys, flagged))
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
