//! The outcome of a pair in words: same golden record or not, and the route
//! that decided it.

use super::{Route, Thresholds, Verdict, Waterfall, fmt_p};
use crate::kinds::KindSpec;
use crate::lookup::Mention;
use crate::review::Decision;
use crate::settings::Kind;

#[allow(clippy::too_many_arguments)]
pub(super) fn verdict(
    a: &Mention,
    b: &Mention,
    decisive: &Waterfall,
    t: &Thresholds,
    decision: Option<&Decision>,
    decisions_changed: bool,
    in_review: Option<&str>,
    k: &KindSpec,
) -> Verdict {
    let same = a.gid.is_some() && a.gid == b.gid;
    let gid = a.gid.clone().unwrap_or_default();
    let p = decisive.probability;
    let pf = fmt_p(p);
    let v = |route: Route, summary: String| Verdict {
        same_golden: same,
        route,
        summary,
    };
    if a.node_id == b.node_id && a.node_id.starts_with('c') {
        return v(
            Route::SameId,
            format!(
                "same golden record {gid}: both carry the valid {} {}, linked deterministically",
                id_noun(k),
                &a.node_id[1..]
            ),
        );
    }
    if let Some(d) = decision {
        let who = if d.by.is_empty() {
            String::new()
        } else {
            format!(" by {}", d.by)
        };
        let when = if d.at.is_empty() {
            String::new()
        } else {
            format!(" on {}", d.at.get(..10).unwrap_or(&d.at))
        };
        let applied = (d.decision == "same") == same;
        let s = if applied {
            format!(
                "{}: a reviewer decided `{}`{who}{when}",
                if same {
                    format!("same golden record {gid}")
                } else {
                    "different golden records".to_string()
                },
                d.decision
            )
        } else if decisions_changed {
            format!(
                "a reviewer decided `{}`{who}{when}, after this run: the next `civhub match` applies it",
                d.decision
            )
        } else {
            format!(
                "a reviewer decided `{}`{who}{when}, but the records are {}: other decisions or shared identifiers prevail",
                d.decision,
                if same { "one" } else { "apart" }
            )
        };
        return v(Route::Decision, s);
    }
    let compared = decisive.never_compared.is_none();
    // A mention that contradicts the identifier of the other side's cluster:
    // matching never links that pair directly.
    let contradicted = [(a, b), (b, a)].into_iter().find_map(|(x, y)| {
        let why = x.contradiction.as_ref()?;
        let id = x.identifier()?;
        (y.node_id == format!("c{id}")).then_some((x, id, why))
    });
    if same && let Some((x, id, why)) = contradicted {
        return v(
            Route::Chained,
            format!(
                "same golden record {gid}, through other mentions: {} carries the {} {id} of the other but {why}, so this pair is never linked directly — a chain of other links joined them anyway",
                x.mention_id,
                id_noun(k)
            ),
        );
    }
    let by_rule = [a, b].iter().any(|m| m.link.as_deref() == Some("rule"));
    if same
        && by_rule
        && let Some(r) = decisive.rules.first()
    {
        let shared: Vec<String> =
            r.on.iter()
                .zip(&r.values)
                .map(|(c, v)| format!("{c} `{v}`"))
                .collect();
        return v(
            Route::Rule,
            format!(
                "same golden record {gid}: deterministic rule `{}`{} — {} is that of exactly one record",
                r.rule,
                if r.description.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", r.description)
                },
                shared.join(", ")
            ),
        );
    }
    if same {
        if compared && p >= t.link {
            return v(
                Route::Probabilistic,
                format!(
                    "same golden record {gid}: linked probabilistically, p = {pf} ≥ match threshold {}",
                    t.link
                ),
            );
        }
        if a.link.as_deref() == Some("decision") || b.link.as_deref() == Some("decision") {
            return v(
                Route::Decision,
                format!(
                    "same golden record {gid}: joined by a reviewer's decision about its mentions"
                ),
            );
        }
        let alone = match &decisive.never_compared {
            None => format!("this pair alone scores p = {pf}"),
            Some(why) => format!("these two are not compared directly ({why})"),
        };
        return v(
            Route::Chained,
            format!(
                "same golden record {gid}, through other mentions linked at p ≥ {}; {alone}",
                t.link
            ),
        );
    }
    // Apart.
    if !same && let Some((x, id, why)) = contradicted {
        return v(
            Route::Contradiction,
            format!(
                "different golden records: {} carries the {} {id} of the other, but {why}; {}",
                x.mention_id,
                id_noun(k),
                queue(in_review)
            ),
        );
    }
    if let Some(reason) = in_review {
        let route = if reason.starts_with("would join") {
            Route::DifferentIds
        } else if reason.starts_with("contradicts") {
            Route::Contradiction
        } else if reason.starts_with("matches several") {
            Route::Ambiguous
        } else {
            Route::Uncertain
        };
        return v(
            route,
            format!(
                "different golden records for now: {reason} (p = {pf}); the pair waits in `civhub review`"
            ),
        );
    }
    if let Some(why) = &decisive.never_compared {
        if a.node_id.starts_with('c') && b.node_id.starts_with('c') {
            return v(
                Route::DifferentIds,
                format!(
                    "different golden records: they carry different valid {}s ({}, {}), never compared",
                    id_noun(k),
                    &a.node_id[1..],
                    &b.node_id[1..]
                ),
            );
        }
        return v(
            Route::NotCompared,
            format!(
                "different golden records: {why}, so the run never compared them (p would be {pf})"
            ),
        );
    }
    if p < t.review {
        return v(
            Route::BelowThreshold,
            format!(
                "different golden records: p = {pf} is below the review threshold {}",
                t.review
            ),
        );
    }
    if p < t.link {
        return v(
            Route::Uncertain,
            format!(
                "different golden records: p = {pf} is between the review ({}) and match ({}) thresholds",
                t.review, t.link
            ),
        );
    }
    v(
        Route::DifferentIds,
        format!(
            "different golden records although p = {pf} ≥ {}: linking would join two different valid {}s (the chaining guard) or go against a reviewer's `different`",
            t.link,
            id_noun(k)
        ),
    )
}

fn queue(in_review: Option<&str>) -> String {
    match in_review {
        Some(_) => "the pair waits in `civhub review`".into(),
        None => "kept apart until a reviewer decides".into(),
    }
}

pub(super) fn id_noun(k: &KindSpec) -> &'static str {
    match k.kind {
        Kind::Person => "ID",
        Kind::Entity => "USCC",
    }
}
