//! Checking canonical records against a pipeline's rules, and repairing
//! what can be repaired before anything is written.
//!
//! Generators know the domain, not every pipeline's local rules (a
//! `pattern` on a permit number, a `range` on a registration date, an order
//! between two dates). A value that breaks a rule and belongs to no person or
//! entity is regenerated to satisfy it; a record that still breaks an
//! error-severity rule would be quarantined by ingest and is reported back
//! so the caller can count it against the pipeline's bad-row budget.

use crate::records::{Forced, Record};
use crate::rng::{Rand, pick};
use crate::world::{IdForm, ref_date};
use chrono::{Duration, NaiveDate};
use civhub_core::Value;
use civhub_ingest::config::{
    Bound, CheckScheme, CompareOp, CompiledRule, Pipeline, RuleCheck, Severity,
};
use rand::Rng;
use std::cmp::Ordering;

/// The value a field will have after ingest, as far as the generator knows
/// (forced noise that empties a field included).
fn effective(rec: &Record, f: usize) -> &Value {
    static NULL: Value = Value::Null;
    match &rec.forced[f] {
        Forced::Id(IdForm::Missing) => &NULL,
        _ => &rec.values[f],
    }
}

fn cmp_values(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Date(x), Value::Date(y)) => Some(x.cmp(y)),
        (Value::DateTime(x), Value::DateTime(y)) => Some(x.cmp(y)),
        (Value::Date(x), Value::DateTime(y)) => Some(x.and_hms_opt(0, 0, 0)?.cmp(y)),
        (Value::DateTime(x), Value::Date(y)) => Some(x.cmp(&y.and_hms_opt(0, 0, 0)?)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

fn bound_value(b: &Bound, like: &Value) -> Option<Value> {
    match (b, like) {
        (Bound::Number(n), Value::Int(_)) => Some(Value::Int(*n as i64)),
        (Bound::Number(n), Value::Dec(_)) => Some(Value::Dec((*n * 100.0).round() as i128)),
        (Bound::Number(n), _) => Some(Value::Float(*n)),
        (Bound::Date(d), _) => Some(Value::Date(*d)),
        (Bound::Today, _) => Some(Value::Date(ref_date())),
    }
}

fn op_holds(op: CompareOp, o: Ordering) -> bool {
    match op {
        CompareOp::Lt => o == Ordering::Less,
        CompareOp::Le => o != Ordering::Greater,
        CompareOp::Eq => o == Ordering::Equal,
        CompareOp::Ne => o != Ordering::Equal,
        CompareOp::Ge => o != Ordering::Less,
        CompareOp::Gt => o == Ordering::Greater,
    }
}

/// True if the rule holds for the record (null values pass every rule but `required`).
pub fn holds(rule: &CompiledRule, rec: &Record) -> bool {
    let v = effective(rec, rule.field);
    if v.is_null() {
        return !matches!(rule.check, RuleCheck::Required);
    }
    match &rule.check {
        RuleCheck::Required => true,
        RuleCheck::Pattern(re) => v.as_str().is_none_or(|s| re.is_match(s)),
        RuleCheck::Range(min, max) => {
            let ok_min = min
                .as_ref()
                .and_then(|b| bound_value(b, v))
                .and_then(|b| cmp_values(v, &b))
                .is_none_or(|o| o != Ordering::Less);
            let ok_max = max
                .as_ref()
                .and_then(|b| bound_value(b, v))
                .and_then(|b| cmp_values(v, &b))
                .is_none_or(|o| o != Ordering::Greater);
            ok_min && ok_max
        }
        RuleCheck::Enum(set) => v.as_str().is_none_or(|s| set.contains(s)),
        RuleCheck::Length(min, max) => {
            let n = v.as_str().map(|s| s.chars().count()).unwrap_or(0);
            min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m)
        }
        RuleCheck::CheckDigit(scheme) => {
            let Some(s) = v.as_str() else { return true };
            let s = match &rec.forced[rule.field] {
                Forced::Id(IdForm::Typo(t)) | Forced::Id(IdForm::Garbage(t)) => t.as_str(),
                _ => s,
            };
            match scheme {
                CheckScheme::ResidentId => civhub_core::id::resident::is_valid(s),
                CheckScheme::Uscc => civhub_core::id::uscc::is_valid(s),
                CheckScheme::OrgCode => civhub_core::id::org_code::is_valid(s),
            }
        }
        RuleCheck::IdConsistency { birth_date, gender } => {
            let Some(id) = v.as_str() else { return true };
            let b_ok = birth_date
                .map(|f| effective(rec, f))
                .and_then(|b| b.as_date())
                .is_none_or(|b| civhub_core::id::resident::birth_date(id).is_none_or(|x| x == b));
            let g_ok = gender
                .map(|f| effective(rec, f))
                .and_then(|g| g.as_str().map(str::to_string))
                .is_none_or(|g| civhub_core::id::resident::gender(id).is_none_or(|x| x == g));
            b_ok && g_ok
        }
        RuleCheck::Compare { op, other } => {
            let o = effective(rec, *other);
            // Date-times are compared by their day too: ingest may compare at
            // day precision, so a strict order needs different days.
            let day = |x: &Value| match x {
                Value::DateTime(d) => Value::Date(d.date()),
                other => other.clone(),
            };
            o.is_null()
                || (cmp_values(v, o).is_none_or(|ord| op_holds(*op, ord))
                    && cmp_values(&day(v), &day(o)).is_none_or(|ord| op_holds(*op, ord)))
        }
    }
}

fn shift(v: &Value, days: i64) -> Value {
    match v {
        Value::Date(d) => Value::Date(*d + Duration::days(days)),
        Value::DateTime(d) => Value::DateTime(*d + Duration::days(days)),
        Value::Int(i) => Value::Int(i + days.signum() * (i.abs() / 10 + 1)),
        Value::Dec(c) => Value::Dec(if days > 0 {
            c + c.abs() / 5 + 100
        } else {
            c - c.abs() / 5
        }),
        Value::Float(f) => Value::Float(if days > 0 { f * 1.2 + 1.0 } else { f * 0.8 }),
        other => other.clone(),
    }
}

/// Tries to make the record satisfy `rule` by changing a value no person or
/// entity owns; true if it changed something.
fn repair(rule: &CompiledRule, rec: &mut Record, rng: &mut Rand) -> bool {
    let f = rule.field;
    if rec.owners[f].is_some() || !matches!(rec.forced[f], Forced::Free) {
        return false;
    }
    let v = rec.values[f].clone();
    let new = match &rule.check {
        RuleCheck::Pattern(re) => {
            // Keep what made the value unique: a sample of a prefix-only
            // pattern (`^[GJL]`) goes in front of the original value.
            let sample = crate::regen::sample(re.as_str(), rng);
            let orig = v.as_str().unwrap_or("").to_string();
            let digits: String = orig.chars().filter(char::is_ascii_digit).collect();
            sample
                .and_then(|smp| {
                    [format!("{smp}{orig}"), format!("{smp}{digits}"), smp]
                        .into_iter()
                        .find(|c| re.is_match(c))
                })
                .map(Value::Str)
        }
        RuleCheck::Enum(set) => {
            let mut vals: Vec<&String> = set.iter().collect();
            vals.sort();
            vals.first()
                .map(|_| Value::Str(pick(rng, &vals).to_string()))
        }
        RuleCheck::Length(min, max) => {
            let lo = min.unwrap_or(1);
            let hi = max.unwrap_or(lo.max(8)).max(lo);
            let n = rng.random_range(lo..=hi);
            // Keep the end (the running number that makes codes unique), pad in front.
            let base: Vec<char> = v
                .as_str()
                .unwrap_or("")
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            let tail: String = base[base.len().saturating_sub(n)..].iter().collect();
            let mut s = String::new();
            while s.chars().count() + tail.chars().count() < n {
                s.push(char::from(b'1' + rng.random_range(0..9u8)));
            }
            s.push_str(&tail);
            Some(Value::Str(s))
        }
        RuleCheck::Range(min, max) => {
            let lo = min.as_ref().and_then(|b| bound_value(b, &v));
            let hi = max.as_ref().and_then(|b| bound_value(b, &v));
            match (&v, lo, hi) {
                (Value::Date(_) | Value::DateTime(_), lo, hi) => {
                    let lo = lo
                        .and_then(|x| x.as_date())
                        .unwrap_or(NaiveDate::from_ymd_opt(2000, 1, 1).expect("date"));
                    let hi = hi
                        .and_then(|x| x.as_date())
                        .unwrap_or(ref_date())
                        .min(ref_date() - Duration::days(1));
                    let span = (hi - lo).num_days().max(1);
                    let d = lo + Duration::days(rng.random_range(0..span));
                    Some(match v {
                        Value::DateTime(t) => Value::DateTime(d.and_time(t.time())),
                        _ => Value::Date(d),
                    })
                }
                (_, lo, hi) => {
                    let l = lo.as_ref().and_then(Value::as_f64).unwrap_or(0.0);
                    let h = hi
                        .as_ref()
                        .and_then(Value::as_f64)
                        .unwrap_or(l + 1000.0)
                        .max(l);
                    let x = l + (h - l) * rng.random_range(0.05..0.6);
                    Some(match v {
                        Value::Int(_) => Value::Int(x.round() as i64),
                        Value::Dec(_) => Value::Dec((x * 100.0).round() as i128),
                        _ => Value::Float((x * 100.0).round() / 100.0),
                    })
                }
            }
        }
        RuleCheck::Compare { op, other } => {
            let o = rec.values[*other].clone();
            let days = rng.random_range(1..400);
            match op {
                CompareOp::Gt | CompareOp::Ge => Some(shift(&o, days)),
                CompareOp::Lt | CompareOp::Le => Some(shift(&o, -days)),
                CompareOp::Eq => Some(o),
                CompareOp::Ne => Some(shift(&o, days)),
            }
        }
        _ => None,
    };
    match new {
        Some(n) if n != v => {
            rec.values[f] = n;
            true
        }
        _ => false,
    }
}

/// Repairs what it can; returns the id of the first error-severity rule the
/// record still breaks (the row would be quarantined), if any.
pub fn check(p: &Pipeline, rec: &mut Record, rng: &mut Rand) -> Option<String> {
    for _ in 0..3 {
        let mut changed = false;
        for rule in &p.rules {
            if !holds(rule, rec) && repair(rule, rec, rng) {
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    p.rules
        .iter()
        .find(|r| r.severity == Severity::Error && !holds(r, rec))
        .map(|r| r.id.clone())
}
