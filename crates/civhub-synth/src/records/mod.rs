//! Canonical records: what one export row *means*, before it is rendered
//! into the export's own shape.
//!
//! A generator produces records for one pipeline: a value per schema field
//! (only for the fields the export writes), who each value belongs to (for
//! the matching truth), and the noise a planted case forces on it. Core
//! schemas have specialised generators that read the world; any other schema
//! gets [`generic::Generic`], which fills fields by their meaning.

pub mod business;
pub mod events;
pub mod fill;
pub mod generic;
pub mod people;
pub mod property;
pub mod welfare;

use crate::rng::Rand;
use crate::world::{Holder, IdForm, NameForm, Topic, World};
use civhub_core::Value;
use civhub_ingest::config::{ColumnSource, Pipeline};

/// Noise a planted case forces on one field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Forced {
    /// None: the renderer may add random noise.
    #[default]
    Free,
    /// Written exactly as canonical, no noise at all.
    Clean,
    /// An ID written in this form.
    Id(IdForm),
    /// A name written as this variant.
    Name(String),
}

/// One canonical record.
#[derive(Debug, Clone)]
pub struct Record {
    /// Canonical value per schema field (`Null` for fields not written).
    pub values: Vec<Value>,
    /// Whose value each field is.
    pub owners: Vec<Option<Holder>>,
    /// Forced noise per field.
    pub forced: Vec<Forced>,
    /// Evidence of a planted case: no random noise that could change a value
    /// or send the row to quarantine.
    pub protected: bool,
    /// District of the record (for files and sheets split by district).
    pub district: Option<u8>,
    /// Month of 2026 (for files split by month).
    pub month: Option<u8>,
}

impl Record {
    /// An empty record for `n` fields.
    pub fn new(n: usize) -> Self {
        Record {
            values: vec![Value::Null; n],
            owners: vec![None; n],
            forced: vec![Forced::Free; n],
            protected: false,
            district: None,
            month: None,
        }
    }

    /// Clears every field.
    pub fn clear(&mut self) {
        self.values.iter_mut().for_each(|v| *v = Value::Null);
        self.owners.iter_mut().for_each(|o| *o = None);
        self.forced.iter_mut().for_each(|f| *f = Forced::Free);
        self.protected = false;
        self.district = None;
        self.month = None;
    }

    /// Sets a field if the export writes it.
    pub fn set(&mut self, f: Option<usize>, v: Value) {
        if let Some(i) = f {
            self.values[i] = v;
        }
    }

    /// Sets a text field.
    pub fn text(&mut self, f: Option<usize>, s: impl Into<String>) {
        if let Some(i) = f {
            let s = s.into();
            self.values[i] = if s.is_empty() {
                Value::Null
            } else {
                Value::Str(s)
            };
        }
    }

    /// Sets a field belonging to `who`.
    pub fn set_of(&mut self, f: Option<usize>, v: Value, who: Holder) {
        if let Some(i) = f {
            self.values[i] = v;
            self.owners[i] = Some(who);
        }
    }

    /// Fills a person's identity fields.
    pub fn put_person(&mut self, w: &World, s: &PersonSlots, p: u32, topic: Option<Topic>) {
        let person = w.person(p);
        let who = Holder::Person(p);
        self.set_of(s.id, Value::Str(person.id_str().to_string()), who);
        self.set_of(s.name, Value::Str(person.name.to_string()), who);
        self.set_of(s.birth, Value::Date(person.birth), who);
        self.set_of(s.gender, Value::Str(person.gender().to_string()), who);
        if person.phone > 0 {
            self.set_of(s.phone, Value::Str(person.phone.to_string()), who);
        }
        self.set_of(s.address, Value::Str(w.address_of(p).render()), who);
        if self.district.is_none() {
            self.district = Some(w.address_of(p).district);
        }
        if let Some(t) = topic
            && let Some(pl) = w.planted_for(p, t)
        {
            self.protected = true;
            for f in [s.id, s.name, s.birth, s.gender].into_iter().flatten() {
                self.forced[f] = Forced::Clean;
            }
            if let Some(f) = s.id {
                self.forced[f] = Forced::Id(pl.id.clone());
            }
            if let (Some(f), NameForm::Variant(v)) = (s.name, &pl.name) {
                self.forced[f] = Forced::Name(v.clone());
            }
        }
    }

    /// Fills an entity's identity fields.
    pub fn put_entity(&mut self, w: &World, s: &EntitySlots, e: u32) {
        let ent = w.entity(e);
        let who = Holder::Entity(e);
        self.set_of(s.uscc, Value::Str(ent.uscc_str().to_string()), who);
        if !ent.name.is_empty() {
            self.set_of(s.name, Value::Str(ent.name.to_string()), who);
        } else if ent.rep != crate::world::NONE {
            // An individual business without a trade name goes by its operator's name.
            self.set_of(s.name, Value::Str(w.person(ent.rep).name.to_string()), who);
        }
        self.set_of(s.address, Value::Str(ent.addr.render()), who);
        if ent.phone > 0 {
            self.set_of(s.phone, Value::Str(phone_text(ent.phone)), who);
        }
        if ent.rep != crate::world::NONE {
            self.set_of(
                s.legal_rep,
                Value::Str(w.person(ent.rep).name.to_string()),
                Holder::Person(ent.rep),
            );
        }
        if self.district.is_none() {
            self.district = Some(ent.addr.district);
        }
    }
}

/// A phone stored as a number: a mobile, or 559 followed by a local number.
pub fn phone_text(n: u64) -> String {
    if n >= 10_000_000_000 {
        n.to_string()
    } else {
        format!("0559-{:07}", n % 10_000_000)
    }
}

/// Where a person's identity goes in a record.
#[derive(Debug, Clone, Copy, Default)]
#[allow(missing_docs)]
pub struct PersonSlots {
    pub id: Option<usize>,
    pub name: Option<usize>,
    pub birth: Option<usize>,
    pub gender: Option<usize>,
    pub phone: Option<usize>,
    pub address: Option<usize>,
}

/// Where an entity's identity goes in a record.
#[derive(Debug, Clone, Copy, Default)]
#[allow(missing_docs)]
pub struct EntitySlots {
    pub uscc: Option<usize>,
    pub name: Option<usize>,
    pub address: Option<usize>,
    pub phone: Option<usize>,
    pub legal_rep: Option<usize>,
}

/// What a generator knows about the pipeline it writes for.
pub struct Ctx<'a> {
    /// The world.
    pub world: &'a World,
    /// The pipeline.
    pub pipeline: &'a Pipeline,
    /// The pipeline's seed.
    pub seed: u64,
    /// Position among the pipelines of the same schema.
    pub sibling: usize,
    /// Number of pipelines of the same schema.
    pub siblings: usize,
    /// Every pipeline of the same schema (this one included), by id.
    pub peers: Vec<&'a Pipeline>,
    /// The providing department's name, e.g. 黄山市民政局.
    pub dept_name: &'a str,
    /// The providing department's USCC.
    pub dept_code: &'a str,
    /// Field is written from the export (not a constant, not unmapped).
    mapped: Vec<bool>,
}

impl<'a> Ctx<'a> {
    /// A context for `pipeline`.
    pub fn new(
        world: &'a World,
        pipeline: &'a Pipeline,
        seed: u64,
        peers: Vec<&'a Pipeline>,
        dept_name: &'a str,
        dept_code: &'a str,
    ) -> Self {
        let mut mapped = vec![false; pipeline.schema.fields.len()];
        for c in &pipeline.columns {
            if !matches!(c.source, ColumnSource::Const(_)) {
                mapped[c.field] = true;
            }
        }
        let sibling = peers.iter().position(|p| p.id == pipeline.id).unwrap_or(0);
        let siblings = peers.len().max(1);
        Ctx {
            world,
            pipeline,
            seed,
            sibling,
            siblings,
            peers,
            dept_name,
            dept_code,
            mapped,
        }
    }

    /// The constant another pipeline gives field `name`.
    pub fn constant_of(p: &'a Pipeline, name: &str) -> Option<&'a str> {
        let i = p.schema.field_index(name)?;
        p.columns
            .iter()
            .find(|c| c.field == i)
            .and_then(|c| match &c.source {
                ColumnSource::Const(v) => Some(v.as_str()),
                _ => None,
            })
    }

    /// Whether pipeline `p` can hold `canonical` in field `name`: its
    /// constant must equal it, and a code table must be able to produce it.
    pub fn accepts(p: &Pipeline, name: &str, canonical: &str) -> bool {
        let Some(i) = p.schema.field_index(name) else {
            return true;
        };
        match p.columns.iter().find(|c| c.field == i) {
            None => true,
            Some(c) => match (&c.source, &c.map) {
                (ColumnSource::Const(v), _) => v == canonical,
                (_, Some(map)) => map.values().any(|v| v == canonical),
                _ => true,
            },
        }
    }

    /// The index of field `name` if the export writes it.
    pub fn f(&self, name: &str) -> Option<usize> {
        self.pipeline
            .schema
            .field_index(name)
            .filter(|&i| self.mapped[i])
    }

    /// True if the export writes field `i`.
    pub fn is_mapped(&self, i: usize) -> bool {
        self.mapped[i]
    }

    /// The constant a column gives field `name`, if any.
    pub fn constant(&self, name: &str) -> Option<&'a str> {
        Self::constant_of(self.pipeline, name)
    }

    /// The values a field can take in this export: its code table's values,
    /// else the schema's closed list.
    pub fn domain(&self, i: usize) -> Option<Vec<String>> {
        let col = self.pipeline.columns.iter().find(|c| c.field == i)?;
        // A value the column's normalizer would change can never be staged as itself.
        let survives = |v: &String| {
            col.normalizer
                .apply(v, &col.options)
                .is_ok_and(|n| n.value.as_str() == Some(v.as_str()))
        };
        self.domain_raw(col, i).map(|v| {
            let kept: Vec<String> = v.iter().filter(|x| survives(x)).cloned().collect();
            if kept.is_empty() { v } else { kept }
        })
    }

    /// Values of field `i` that its normalizer changes (a schema or code-table
    /// value that can never pass the field's closed list).
    pub fn unreachable_values(&self, i: usize) -> Vec<String> {
        let Some(col) = self.pipeline.columns.iter().find(|c| c.field == i) else {
            return Vec::new();
        };
        self.domain_raw(col, i)
            .unwrap_or_default()
            .into_iter()
            .filter(|v| {
                col.normalizer
                    .apply(v, &col.options)
                    .is_ok_and(|n| n.value.as_str() != Some(v.as_str()))
            })
            .collect()
    }

    fn domain_raw(&self, col: &civhub_ingest::config::Column, i: usize) -> Option<Vec<String>> {
        if let Some(m) = &col.map {
            // The schema's order where it has one (its first value is the common one).
            let v: Vec<String> = match &self.pipeline.schema.fields[i].values {
                Some(allowed) => allowed
                    .iter()
                    .filter(|x| m.values().any(|v| v == *x))
                    .cloned()
                    .collect(),
                None => {
                    let mut v: Vec<String> =
                        m.values().filter(|v| !v.is_empty()).cloned().collect();
                    v.sort();
                    v.dedup();
                    v
                }
            };
            return (!v.is_empty()).then_some(v);
        }
        self.pipeline.schema.fields[i].values.clone()
    }

    /// Person slots from field names.
    pub fn person(
        &self,
        id: &str,
        name: &str,
        birth: &str,
        gender: &str,
        phone: &str,
        address: &str,
    ) -> PersonSlots {
        PersonSlots {
            id: self.f(id),
            name: self.f(name),
            birth: self.f(birth),
            gender: self.f(gender),
            phone: self.f(phone),
            address: self.f(address),
        }
    }

    /// A number in [0, 1) fixed for this pipeline and `what`.
    pub fn unit(&self, what: &str) -> f64 {
        crate::rng::unit(self.seed, what)
    }

    /// Text of the pipeline that hints at what it is about (ids, titles, descriptions).
    pub fn about(&self) -> String {
        let p = self.pipeline;
        format!(
            "{} {} {} {} {}",
            p.id, p.schema.name, p.schema.title, p.def.catalog.title, p.def.catalog.description
        )
    }
}

/// Fields telling whether a party is a natural person or an organisation
/// (`owner_type`, `holder_type` …): the field, its values, and the fields
/// of the party it describes (by the shared name prefix).
pub fn type_fields(ctx: &Ctx<'_>) -> Vec<(usize, Vec<String>, Vec<usize>)> {
    let fields = &ctx.pipeline.schema.fields;
    (0..fields.len())
        .filter(|&i| ctx.is_mapped(i))
        .filter_map(|i| {
            let dom = ctx.domain(i)?;
            if !dom.iter().any(|v| v == "自然人") || dom.len() < 2 {
                return None;
            }
            let prefix = fields[i].name.strip_suffix("_type")?;
            let party: Vec<usize> = (0..fields.len())
                .filter(|&j| {
                    j != i
                        && (fields[j].name.starts_with(&format!("{prefix}_"))
                            || prefix == "subject"
                            || prefix == "party" && fields[j].name.starts_with("party"))
                })
                .collect();
            Some((i, dom, party))
        })
        .collect()
}

/// Sets empty party-type fields from who the party is.
pub fn fill_types(w: &World, types: &[(usize, Vec<String>, Vec<usize>)], rec: &mut Record) {
    for (t, dom, party) in types {
        if !rec.values[*t].is_null() {
            continue;
        }
        let Some(h) = party.iter().find_map(|&f| rec.owners[f]) else {
            continue;
        };
        let v = match h {
            Holder::Person(_) => dom.iter().find(|v| *v == "自然人"),
            Holder::Entity(e) => {
                let individual = w.entity(e).kind == crate::world::EntityKind::Individual;
                dom.iter()
                    .find(|v| individual && v.contains("个体"))
                    .or_else(|| dom.iter().find(|v| *v != "自然人" && !v.contains("个体")))
            }
        };
        if let Some(v) = v {
            rec.values[*t] = Value::Str(v.clone());
        }
    }
}

/// A source of canonical records for one pipeline.
pub trait Generator {
    /// Number of records.
    fn len(&self) -> usize;
    /// True if there are no records.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Fills record `i` (calls are in order `0..len`).
    fn fill(&mut self, i: usize, rng: &mut Rand, rec: &mut Record);
}

/// The generator for a pipeline: specialised by schema name, generic otherwise.
pub fn for_pipeline<'a>(ctx: &'a Ctx<'a>, rng: &mut Rand) -> Box<dyn Generator + 'a> {
    match ctx.pipeline.schema.name.as_str() {
        "person" => Box::new(people::PersonGen::new(ctx, rng)),
        "household_registration" => Box::new(people::HouseholdGen::new(ctx)),
        "death_registration" => Box::new(people::DeathGen::new(ctx, rng)),
        "dibao_household" => Box::new(welfare::DibaoHouseholdGen::new(ctx)),
        "dibao_member" => Box::new(welfare::DibaoMemberGen::new(ctx)),
        "provident_fund_account" => Box::new(welfare::FundAccountGen::new(ctx)),
        "provident_fund_deposit" => Box::new(welfare::FundDepositGen::new(ctx)),
        "social_insurance" => Box::new(welfare::InsuranceGen::new(ctx)),
        "property" => Box::new(property::PropertyGen::new(ctx)),
        "vehicle" => Box::new(property::VehicleGen::new(ctx)),
        "enterprise" => Box::new(business::EnterpriseGen::new(ctx)),
        "shareholder" => Box::new(business::ShareholderGen::new(ctx)),
        "individual_business" => Box::new(business::IndividualGen::new(ctx)),
        "license" => Box::new(events::LicenseGen::new(ctx, rng)),
        "grid_event" => Box::new(events::GridGen::new(ctx)),
        "hotline_case" => Box::new(events::HotlineGen::new(ctx)),
        _ => Box::new(generic::Generic::new(ctx, rng)),
    }
}

/// Keeps the items of partition `sibling` of `siblings` by a key (so that
/// several exports of one schema split the population, e.g. by district).
pub fn partition<T>(items: Vec<T>, ctx: &Ctx<'_>, key: impl Fn(&T) -> usize) -> Vec<T> {
    if ctx.siblings <= 1 {
        return items;
    }
    items
        .into_iter()
        .filter(|t| key(t) % ctx.siblings == ctx.sibling)
        .collect()
}
