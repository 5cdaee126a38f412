//! Survivorship as aggregate functions, so that every golden field is chosen
//! in one `GROUP BY gid` pass over the mentions.
//!
//! `civhub_survivor_<rules>(value, prio, seen_us, pipeline)` keeps, per
//! golden record, each distinct value with how often it occurs, its best
//! (smallest) source priority, when it was last seen and the pipeline that
//! supplied it with that priority. The winner is the smallest by the rules
//! in order — `p` source priority (ascending), `f` frequency (descending),
//! `r` recency (descending) — then by the value itself. The result is
//! `value ␟ pipeline` (U+001F between them), NULL when no mention has a value.
//!
//! `civhub_sources(pipeline)` is the sorted list of distinct pipelines.
//!
//! Both are ordinary DataFusion aggregates with partial states (lists), so
//! the aggregation runs in parallel partitions like any other.

use crate::hashes::Text;
use crate::settings::SurvivorRule as Rule;
use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Int64Array, Int64Builder, ListArray, ListBuilder,
    StringArray, StringBuilder,
};
use arrow::datatypes::{DataType, Field, FieldRef, Int64Type};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, GroupsAccumulator, Signature, Volatility,
};
use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

/// Separates the value from its source in a survivor's result.
pub const SEP: char = '\u{1f}';

fn code(r: Rule) -> char {
    match r {
        Rule::SourcePriority => 'p',
        Rule::MostFrequent => 'f',
        Rule::MostRecent => 'r',
    }
}

/// The name of the survivor function for `rules` (registered by [`survivor`]).
pub fn survivor_name(rules: &[Rule]) -> String {
    let code: String = rules.iter().map(|r| code(*r)).collect();
    format!(
        "civhub_survivor_{}",
        if code.is_empty() { "v" } else { &code }
    )
}

/// The survivor aggregate for `rules`.
pub fn survivor(rules: &[Rule]) -> AggregateUDF {
    AggregateUDF::from(Survivor {
        name: survivor_name(rules),
        rules: rules.to_vec(),
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

/// The `civhub_sources` aggregate.
pub fn sources() -> AggregateUDF {
    AggregateUDF::from(Sources {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

fn text_list() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)))
}

fn int_list() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Int64, true)))
}

fn utf8(a: &ArrayRef) -> Result<StringArray> {
    Ok(arrow::compute::cast(a, &DataType::Utf8)?
        .as_string::<i32>()
        .clone())
}

/// The type a text argument is taken as: a string column as it is (a view
/// column is read in place — casting it to `Utf8` copied every value), anything
/// else as `Utf8`.
fn text_type(t: &DataType) -> DataType {
    match t {
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 => t.clone(),
        _ => DataType::Utf8,
    }
}

fn int64(a: &ArrayRef) -> Result<Int64Array> {
    Ok(arrow::compute::cast(a, &DataType::Int64)?
        .as_primitive::<Int64Type>()
        .clone())
}

fn list(a: &ArrayRef) -> Result<&ListArray> {
    a.as_list_opt::<i32>()
        .ok_or_else(|| DataFusionError::Internal("survivorship state is not a list".into()))
}

/// Pipeline names, interned: a few hundred names behind millions of rows.
#[derive(Default)]
struct Names {
    names: Vec<Box<str>>,
    index: HashMap<Box<str>, u32>,
    /// The last name looked up: rows of one pipeline come in runs.
    last: Option<u32>,
}

impl Names {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(i) = self.last
            && &*self.names[i as usize] == s
        {
            return i;
        }
        let i = match self.index.get(s) {
            Some(&i) => i,
            None => {
                let i = self.names.len() as u32;
                self.names.push(s.into());
                self.index.insert(s.into(), i);
                i
            }
        };
        self.last = Some(i);
        i
    }
    fn get(&self, i: u32) -> &str {
        &self.names[i as usize]
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Survivor {
    name: String,
    rules: Vec<Rule>,
    signature: Signature,
}

impl AggregateUDFImpl for Survivor {
    fn name(&self) -> &str {
        &self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() != 4 {
            return Err(DataFusionError::Plan(format!(
                "{} takes (value, priority, seen, pipeline)",
                self.name
            )));
        }
        Ok(vec![
            text_type(&arg_types[0]),
            DataType::Int64,
            DataType::Int64,
            text_type(&arg_types[3]),
        ])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(Single(self.groups())))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let f = |n: &str, t: DataType| Arc::new(Field::new(format!("{}[{n}]", args.name), t, true));
        Ok(vec![
            f("values", text_list()),
            f("priorities", int_list()),
            f("counts", int_list()),
            f("seen", int_list()),
            f("sources", text_list()),
        ])
    }
    fn groups_accumulator_supported(&self, _: AccumulatorArgs) -> bool {
        true
    }
    fn create_groups_accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(self.groups()))
    }
}

impl Survivor {
    fn groups(&self) -> SurvivorGroups {
        SurvivorGroups::new(self.rules.clone())
    }
}

/// The last eight bytes of a value (all of a shorter one) as a number: a
/// cheap first test of equality (identifiers, phones and names mostly
/// differ in their last characters).
fn tag(value: &str) -> u64 {
    let b = value.as_bytes();
    if b.len() >= 8 {
        u64::from_le_bytes(b[b.len() - 8..].try_into().expect("eight bytes"))
    } else {
        let mut t = [0u8; 8];
        t[..b.len()].copy_from_slice(b);
        u64::from_le_bytes(t)
    }
}

/// No candidate: the end of a group's chain.
const NONE: u32 = u32::MAX;

/// One distinct value of a golden record's field.
struct Candidate {
    /// The value: `arena[start..start + len]`.
    start: usize,
    len: u32,
    /// [`tag`] of the value: most different values differ here, so a
    /// chain walk rarely compares text.
    tag: u64,
    prio: i64,
    count: i64,
    seen: i64,
    source: u32,
    /// The group's next candidate, or [`NONE`].
    next: u32,
}

/// Candidates of every group in one vector, each group a chain through it
/// (`heads[group]` → `next` …), values in one text arena: a million golden
/// records cost no allocation each — allocating per group and per value was
/// a third of the aggregation's time at 1M persons.
struct SurvivorGroups {
    rules: Vec<Rule>,
    heads: Vec<u32>,
    cands: Vec<Candidate>,
    arena: String,
    names: Names,
}

impl SurvivorGroups {
    fn new(rules: Vec<Rule>) -> Self {
        SurvivorGroups {
            rules,
            heads: Vec::new(),
            cands: Vec::new(),
            arena: String::new(),
            names: Names::default(),
        }
    }

    fn value(&self, c: &Candidate) -> &str {
        &self.arena[c.start..c.start + c.len as usize]
    }

    fn add(&mut self, g: usize, value: &str, prio: i64, count: i64, seen: i64, source: &str) {
        let tag = tag(value);
        let mut i = self.heads[g];
        while i != NONE {
            let c = &self.cands[i as usize];
            if c.tag == tag
                && c.len as usize == value.len()
                && &self.arena[c.start..c.start + c.len as usize] == value
            {
                let better = prio < c.prio || (prio == c.prio && source < self.names.get(c.source));
                let id = if better {
                    self.names.id(source)
                } else {
                    c.source
                };
                let c = &mut self.cands[i as usize];
                c.count += count;
                c.seen = c.seen.max(seen);
                if better {
                    c.prio = prio;
                    c.source = id;
                }
                return;
            }
            i = c.next;
        }
        let start = self.arena.len();
        self.arena.push_str(value);
        let source = self.names.id(source);
        self.cands.push(Candidate {
            start,
            len: value.len() as u32,
            tag,
            prio,
            count,
            seen,
            source,
            next: self.heads[g],
        });
        self.heads[g] = (self.cands.len() - 1) as u32;
    }

    /// The candidates of a group.
    fn chain(&self, head: u32) -> impl Iterator<Item = &Candidate> {
        let mut i = head;
        std::iter::from_fn(move || {
            (i != NONE).then(|| {
                let c = &self.cands[i as usize];
                i = c.next;
                c
            })
        })
    }

    fn order(&self, a: &Candidate, b: &Candidate) -> Ordering {
        for r in &self.rules {
            let o = match r {
                Rule::SourcePriority => a.prio.cmp(&b.prio),
                Rule::MostFrequent => b.count.cmp(&a.count),
                Rule::MostRecent => b.seen.cmp(&a.seen),
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        self.value(a).cmp(self.value(b))
    }

    /// Takes the heads of the emitted groups; once every group is emitted,
    /// the candidates and the arena are dropped too.
    fn take(&mut self, emit_to: EmitTo) -> Vec<u32> {
        emit_to.take_needed(&mut self.heads)
    }

    fn reset_if_empty(&mut self) {
        if self.heads.is_empty() {
            self.cands = Vec::new();
            self.arena = String::new();
        }
    }
}

impl GroupsAccumulator for SurvivorGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.heads.resize(total_num_groups, NONE);
        let (v, prio, seen, src) = (
            Text::of(&values[0])?,
            int64(&values[1])?,
            int64(&values[2])?,
            Text::of(&values[3])?,
        );
        for (row, &g) in group_indices.iter().enumerate() {
            let Some(value) = v.get(row) else {
                continue;
            };
            if opt_filter.is_some_and(|f| !f.is_valid(row) || !f.value(row)) {
                continue;
            }
            let p = if prio.is_null(row) {
                i64::MAX
            } else {
                prio.value(row)
            };
            let s = if seen.is_null(row) {
                i64::MIN
            } else {
                seen.value(row)
            };
            self.add(g, value, p, 1, s, src.get(row).unwrap_or(""));
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let heads = self.take(emit_to);
        let mut out = StringBuilder::new();
        let mut text = String::new();
        for &h in &heads {
            match self.chain(h).min_by(|a, b| self.order(a, b)) {
                Some(c) => {
                    text.clear();
                    text.push_str(self.value(c));
                    text.push(SEP);
                    text.push_str(self.names.get(c.source));
                    out.append_value(&text);
                }
                None => out.append_null(),
            }
        }
        self.reset_if_empty();
        Ok(Arc::new(out.finish()))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let heads = self.take(emit_to);
        let mut values = ListBuilder::new(StringBuilder::new());
        let mut prios = ListBuilder::new(Int64Builder::new());
        let mut counts = ListBuilder::new(Int64Builder::new());
        let mut seen = ListBuilder::new(Int64Builder::new());
        let mut sources = ListBuilder::new(StringBuilder::new());
        for &h in &heads {
            for c in self.chain(h) {
                values.values().append_value(self.value(c));
                prios.values().append_value(c.prio);
                counts.values().append_value(c.count);
                seen.values().append_value(c.seen);
                sources.values().append_value(self.names.get(c.source));
            }
            values.append(true);
            prios.append(true);
            counts.append(true);
            seen.append(true);
            sources.append(true);
        }
        self.reset_if_empty();
        Ok(vec![
            Arc::new(values.finish()),
            Arc::new(prios.finish()),
            Arc::new(counts.finish()),
            Arc::new(seen.finish()),
            Arc::new(sources.finish()),
        ])
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.heads.resize(total_num_groups, NONE);
        let lists = [
            list(&values[0])?,
            list(&values[1])?,
            list(&values[2])?,
            list(&values[3])?,
            list(&values[4])?,
        ];
        let v = utf8(lists[0].values())?;
        let prio = int64(lists[1].values())?;
        let count = int64(lists[2].values())?;
        let seen = int64(lists[3].values())?;
        let src = utf8(lists[4].values())?;
        let offsets = lists[0].value_offsets();
        for (row, &g) in group_indices.iter().enumerate() {
            if lists[0].is_null(row) {
                continue;
            }
            for i in offsets[row] as usize..offsets[row + 1] as usize {
                self.add(
                    g,
                    v.value(i),
                    prio.value(i),
                    count.value(i),
                    seen.value(i),
                    src.value(i),
                );
            }
        }
        Ok(())
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        rows_as_states(SurvivorGroups::new(self.rules.clone()), values, opt_filter)
    }

    fn size(&self) -> usize {
        self.heads.capacity() * 4
            + self.cands.capacity() * std::mem::size_of::<Candidate>()
            + self.arena.capacity()
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Sources {
    signature: Signature,
}

impl AggregateUDFImpl for Sources {
    fn name(&self) -> &str {
        "civhub_sources"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() != 1 {
            return Err(DataFusionError::Plan(
                "civhub_sources takes one argument".into(),
            ));
        }
        Ok(vec![text_type(&arg_types[0])])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(text_list())
    }
    fn accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(Single(SourceGroups::default())))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format!("{}[sources]", args.name),
            text_list(),
            true,
        ))])
    }
    fn groups_accumulator_supported(&self, _: AccumulatorArgs) -> bool {
        true
    }
    fn create_groups_accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(SourceGroups::default()))
    }
}

/// Distinct pipelines per group (a handful each), as interned ids chained
/// through one vector, like [`SurvivorGroups`]: no allocation per group.
#[derive(Default)]
struct SourceGroups {
    heads: Vec<u32>,
    /// (pipeline id, next item of the group or [`NONE`]).
    items: Vec<(u32, u32)>,
    names: Names,
}

impl SourceGroups {
    fn add(&mut self, g: usize, s: &str) {
        let id = self.names.id(s);
        let mut i = self.heads[g];
        while i != NONE {
            let (name, next) = self.items[i as usize];
            if name == id {
                return;
            }
            i = next;
        }
        self.items.push((id, self.heads[g]));
        self.heads[g] = (self.items.len() - 1) as u32;
    }

    fn lists(&mut self, emit_to: EmitTo) -> ArrayRef {
        let heads = emit_to.take_needed(&mut self.heads);
        let mut out = ListBuilder::new(StringBuilder::new());
        let mut names: Vec<&str> = Vec::new();
        for &h in &heads {
            names.clear();
            let mut i = h;
            while i != NONE {
                let (name, next) = self.items[i as usize];
                names.push(self.names.get(name));
                i = next;
            }
            names.sort_unstable();
            for n in &names {
                out.values().append_value(n);
            }
            out.append(true);
        }
        if self.heads.is_empty() {
            self.items = Vec::new();
        }
        Arc::new(out.finish())
    }
}

impl GroupsAccumulator for SourceGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.heads.resize(total_num_groups, NONE);
        let v = Text::of(&values[0])?;
        for (row, &g) in group_indices.iter().enumerate() {
            let Some(value) = v.get(row) else {
                continue;
            };
            if opt_filter.is_some_and(|f| !f.is_valid(row) || !f.value(row)) {
                continue;
            }
            self.add(g, value);
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        Ok(self.lists(emit_to))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        Ok(vec![self.lists(emit_to)])
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.heads.resize(total_num_groups, NONE);
        let l = list(&values[0])?;
        let v = utf8(l.values())?;
        let offsets = l.value_offsets();
        for (row, &g) in group_indices.iter().enumerate() {
            if l.is_null(row) {
                continue;
            }
            for i in offsets[row] as usize..offsets[row + 1] as usize {
                self.add(g, v.value(i));
            }
        }
        Ok(())
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        rows_as_states(SourceGroups::default(), values, opt_filter)
    }

    fn size(&self) -> usize {
        self.heads.capacity() * 4 + self.items.capacity() * 8
    }
}

/// Input rows as states, one group per row (for `convert_to_state`).
fn rows_as_states(
    mut acc: impl GroupsAccumulator,
    values: &[ArrayRef],
    opt_filter: Option<&BooleanArray>,
) -> Result<Vec<ArrayRef>> {
    let n = values.first().map(|v| v.len()).unwrap_or(0);
    let rows: Vec<usize> = (0..n).collect();
    acc.update_batch(values, &rows, opt_filter, n)?;
    acc.state(EmitTo::All)
}

/// A groups accumulator used for one group: the plain accumulator DataFusion
/// asks for outside `GROUP BY`.
struct Single<G>(G);

impl<G: GroupsAccumulator> std::fmt::Debug for Single<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Single")
    }
}

impl<G: GroupsAccumulator + Sync> Accumulator for Single<G> {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let n = values.first().map(|v| v.len()).unwrap_or(0);
        self.0.update_batch(values, &vec![0; n], None, 1)
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        let a = self.0.evaluate(EmitTo::All)?;
        if a.is_empty() {
            return ScalarValue::try_from(a.data_type());
        }
        ScalarValue::try_from_array(&a, 0)
    }
    fn size(&self) -> usize {
        self.0.size()
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        self.0
            .state(EmitTo::All)?
            .iter()
            .map(|a| {
                if a.is_empty() {
                    ScalarValue::try_from(a.data_type())
                } else {
                    ScalarValue::try_from_array(a, 0)
                }
            })
            .collect()
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let n = states.first().map(|v| v.len()).unwrap_or(0);
        self.0.merge_batch(states, &vec![0; n], 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::record_batch::RecordBatch;
    use datafusion::prelude::{SessionConfig, SessionContext};

    /// Rows (gid, value, prio, seen, pipeline) from a small deterministic
    /// generator: few values per group, so ties of every kind occur.
    fn table(n: usize) -> RecordBatch {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |m: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % m
        };
        let (mut g, mut v, mut p, mut s, mut src) = (vec![], vec![], vec![], vec![], vec![]);
        for _ in 0..n {
            g.push(format!("P{:03}", next(60)));
            v.push(match next(7) {
                0 => None,
                k => Some(["张伟", "张玮", "李娜", "a", "ab"][k as usize % 5].to_string()),
            });
            p.push([0i64, 1, 2, 1_000_000][next(4) as usize]);
            s.push(1_700_000_000_000_000 + next(3) as i64 * 86_400_000_000);
            src.push(["hr.staff", "ps.hukou", "ca.dibao"][next(3) as usize].to_string());
        }
        RecordBatch::try_from_iter(vec![
            ("gid", Arc::new(StringArray::from(g)) as ArrayRef),
            ("v", Arc::new(StringArray::from(v)) as ArrayRef),
            ("prio", Arc::new(Int64Array::from(p)) as ArrayRef),
            ("seen", Arc::new(Int64Array::from(s)) as ArrayRef),
            ("pipeline", Arc::new(StringArray::from(src)) as ArrayRef),
        ])
        .unwrap()
    }

    async fn rows(ctx: &SessionContext, sql: &str) -> Vec<String> {
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        let mut out = Vec::new();
        for b in &batches {
            let cols: Vec<StringArray> = b.columns().iter().map(|c| utf8(c).unwrap()).collect();
            for r in 0..b.num_rows() {
                let cells: Vec<String> = cols
                    .iter()
                    .map(|c| {
                        if c.is_null(r) {
                            "∅".into()
                        } else {
                            c.value(r).to_string()
                        }
                    })
                    .collect();
                out.push(cells.join(" | "));
            }
        }
        out.sort();
        out
    }

    /// The survivor agrees with survivorship written as two SQL
    /// aggregations over sortable keys (what golden records used before),
    /// for every order of rules, with partial aggregation across partitions.
    #[tokio::test]
    async fn survivor_agrees_with_the_sql_formulation() {
        let ctx = SessionContext::new_with_config(
            SessionConfig::new()
                .with_target_partitions(4)
                .with_batch_size(64),
        );
        let batch = table(3000);
        let parts: Vec<Vec<RecordBatch>> =
            (0..4).map(|i| vec![batch.slice(i * 750, 750)]).collect();
        let mem = datafusion::datasource::MemTable::try_new(batch.schema(), parts).unwrap();
        ctx.register_table("x", Arc::new(mem)).unwrap();
        use Rule::*;
        let orders: [&[Rule]; 6] = [
            &[SourcePriority, MostFrequent, MostRecent],
            &[MostFrequent, SourcePriority, MostRecent],
            &[MostRecent, MostFrequent],
            &[MostFrequent],
            &[SourcePriority],
            &[],
        ];
        for rules in orders {
            let udaf = survivor(rules);
            let name = udaf.name().to_string();
            ctx.register_udaf(udaf);
            let order: Vec<&str> = rules
                .iter()
                .map(|r| match r {
                    SourcePriority => "lpad(CAST(best_prio AS VARCHAR), 8, '0')",
                    MostFrequent => "lpad(CAST(1000000000 - freq AS VARCHAR), 10, '0')",
                    MostRecent => "lpad(CAST(99999999999999999 - latest AS VARCHAR), 17, '0')",
                })
                .collect();
            let order = if order.is_empty() {
                "''".to_string()
            } else {
                order.join(", ")
            };
            let oracle = format!(
                "SELECT g.gid, split_part(k, chr(31), 2), split_part(k, chr(31), 3) FROM (SELECT DISTINCT gid FROM x) g LEFT JOIN \
                 (SELECT gid, min(concat({order}, chr(31), v, chr(31), src)) AS k FROM \
                 (SELECT gid, v, min(prio) AS best_prio, count(*) AS freq, max(seen) AS latest, \
                 substr(min(concat(lpad(CAST(prio AS VARCHAR), 8, '0'), pipeline)), 9) AS src \
                 FROM x WHERE v IS NOT NULL GROUP BY gid, v) GROUP BY gid) f ON f.gid = g.gid"
            );
            let new = format!(
                "SELECT gid, split_part(k, chr(31), 1), split_part(k, chr(31), 2) FROM \
                 (SELECT gid, {name}(v, prio, seen, pipeline) AS k FROM x GROUP BY gid)"
            );
            let (a, b) = (rows(&ctx, &oracle).await, rows(&ctx, &new).await);
            assert_eq!(a.len(), 60);
            assert_eq!(a, b, "rules {rules:?}");
        }
    }

    /// Rows turned into states (when DataFusion skips the partial
    /// aggregation) and merged give what updating with the rows gives.
    #[test]
    fn states_of_rows_merge_to_the_same_result() {
        let batch = table(700);
        let gids = utf8(batch.column(0)).unwrap();
        let mut index: HashMap<&str, usize> = HashMap::new();
        let groups: Vec<usize> = (0..gids.len())
            .map(|i| {
                let n = index.len();
                *index.entry(gids.value(i)).or_insert(n)
            })
            .collect();
        let n = index.len();
        let cols: Vec<ArrayRef> = (1..5).map(|i| batch.column(i).clone()).collect();
        let rules = vec![Rule::MostFrequent, Rule::SourcePriority];
        let mut direct = SurvivorGroups::new(rules.clone());
        direct.update_batch(&cols, &groups, None, n).unwrap();
        let mut merged = SurvivorGroups::new(rules.clone());
        let states = merged.convert_to_state(&cols, None).unwrap();
        merged.merge_batch(&states, &groups, n).unwrap();
        let (a, b) = (
            direct.evaluate(EmitTo::All).unwrap(),
            merged.evaluate(EmitTo::All).unwrap(),
        );
        assert_eq!(a.len(), n);
        assert_eq!(utf8(&a).unwrap(), utf8(&b).unwrap());

        let pipelines = vec![batch.column(4).clone()];
        let mut direct = SourceGroups::default();
        direct.update_batch(&pipelines, &groups, None, n).unwrap();
        let mut merged = SourceGroups::default();
        let states = merged.convert_to_state(&pipelines, None).unwrap();
        merged.merge_batch(&states, &groups, n).unwrap();
        assert_eq!(
            direct.evaluate(EmitTo::All).unwrap().to_data(),
            merged.evaluate(EmitTo::All).unwrap().to_data()
        );
    }

    #[tokio::test]
    async fn sources_are_distinct_and_sorted() {
        let ctx = SessionContext::new_with_config(
            SessionConfig::new()
                .with_target_partitions(3)
                .with_batch_size(50),
        );
        let batch = table(900);
        let mem = datafusion::datasource::MemTable::try_new(
            batch.schema(),
            (0..3).map(|i| vec![batch.slice(i * 300, 300)]).collect(),
        )
        .unwrap();
        ctx.register_table("x", Arc::new(mem)).unwrap();
        ctx.register_udaf(sources());
        let a = rows(
            &ctx,
            "SELECT gid, array_to_string(array_sort(array_agg(DISTINCT pipeline)), ','), CAST(count(DISTINCT pipeline) AS VARCHAR) FROM x GROUP BY gid",
        )
        .await;
        let b = rows(
            &ctx,
            "SELECT gid, array_to_string(s, ','), CAST(cardinality(s) AS VARCHAR) FROM (SELECT gid, civhub_sources(pipeline) AS s FROM x GROUP BY gid)",
        )
        .await;
        assert_eq!(a, b);
        // Outside GROUP BY too.
        let one = rows(
            &ctx,
            "SELECT array_to_string(civhub_sources(pipeline), ',') FROM x",
        )
        .await;
        assert_eq!(one, vec!["ca.dibao,hr.staff,ps.hukou".to_string()]);
    }
}
