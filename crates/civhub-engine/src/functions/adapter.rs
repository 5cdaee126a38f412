//! The one adapter between civhub-core's plain functions and DataFusion.
//!
//! Every civhub SQL function takes text and gives one typed value per row, so
//! one generic [`TextFn`] serves them all: it pairs a plain Rust function (a
//! [`Kernel`]: `fn(&str) -> Option<T>` and its two-argument variants) with an
//! [`Output`] type (see `output.rs`) that knows its Arrow type and how to
//! build an array. Each function module is then a table of
//! `TextFn::udf(name, kernel, doc)` entries.
//!
//! The adapter decides the SQL behaviour once, for every function:
//!
//! * Arguments are text (`Utf8`, `LargeUtf8`, `Utf8View`; dictionaries and a
//!   bare `NULL` are coerced by the signature); anything else is refused when
//!   the query is planned, not when it runs.
//! * Functions are strict: a NULL argument gives NULL without calling the kernel.
//! * A kernel's `None` (a value the normalizer cannot read) is NULL: SQL has no
//!   quarantine, so bad data never errors or panics a query.
//! * Scalar-only calls give a scalar; otherwise every row is evaluated.
//!
//! The trade-off: a row-at-a-time kernel over `&str` is slower than a
//! vectorized kernel would be, but it is the very function ingest runs, so SQL
//! sees exactly what staging produced.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::ops::RangeInclusive;

use arrow::array::{Array, AsArray, LargeStringArray, StringArray, StringViewArray};
use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err, internal_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, DocSection, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature, Volatility,
};

use super::output::Output;

/// The plain function behind a SQL function, by arity. Arguments are never
/// NULL here: the adapter answers NULL for a NULL argument before calling it.
pub(crate) enum Kernel<T> {
    /// `f(text)`.
    Unary(fn(&str) -> Option<T>),
    /// `f(text [, text])`: the second argument may be left out.
    UnaryOpt(fn(&str, Option<&str>) -> Option<T>),
    /// `f(text, text)`.
    Binary(fn(&str, &str) -> Option<T>),
}

impl<T> Kernel<T> {
    /// How many arguments the function takes.
    fn arity(&self) -> RangeInclusive<usize> {
        match self {
            Kernel::Unary(_) => 1..=1,
            Kernel::UnaryOpt(_) => 1..=2,
            Kernel::Binary(_) => 2..=2,
        }
    }

    /// Text arguments; immutable, so DataFusion may fold calls on literals at
    /// plan time.
    ///
    /// A fixed arity uses DataFusion's string signature, which
    /// `information_schema` can describe. An optional argument would need
    /// `OneOf`, whose mismatch error in DataFusion 55 is an "internal error,
    /// please file a bug" message; such functions check their arguments in
    /// [`TextFn::coerce_types`] instead, at the cost of listing no argument
    /// types in `information_schema`.
    fn signature(&self) -> Signature {
        let arity = self.arity();
        if arity.start() == arity.end() {
            Signature::string(*arity.start(), Volatility::Immutable)
        } else {
            Signature::user_defined(Volatility::Immutable)
        }
    }

    /// The value of one row; `None` if an argument is NULL or the kernel refuses.
    fn call(&self, args: &[TextArg<'_>], row: usize) -> Option<T> {
        match self {
            Kernel::Unary(f) => f(args[0].get(row)?),
            Kernel::UnaryOpt(f) => {
                let second = match args.get(1) {
                    Some(arg) => Some(arg.get(row)?),
                    None => None,
                };
                f(args[0].get(row)?, second)
            }
            Kernel::Binary(f) => f(args[0].get(row)?, args[1].get(row)?),
        }
    }
}

/// What a function's documentation says, written as a table entry.
pub(crate) struct Doc {
    /// The group it is listed under.
    pub section: DocSection,
    /// What it returns, in English, with the Chinese term where it helps.
    pub description: &'static str,
    /// How it is called, e.g. `cn_id_valid(id)`.
    pub syntax: &'static str,
    /// One call on a literal and its result, as `SELECT f('x'); -- result`;
    /// the integration tests run every example and compare.
    pub example: &'static str,
    /// Each argument's name and meaning.
    pub args: &'static [(&'static str, &'static str)],
}

impl Doc {
    fn build(&self) -> Documentation {
        let mut builder =
            Documentation::builder(self.section.clone(), self.description, self.syntax)
                .with_sql_example(self.example);
        for (name, meaning) in self.args {
            builder = builder.with_argument(*name, *meaning);
        }
        builder.build()
    }
}

/// A civhub SQL function over text arguments (see the module documentation).
pub(crate) struct TextFn<O: Output> {
    name: &'static str,
    kernel: Kernel<O::Native>,
    signature: Signature,
    doc: Documentation,
    output: PhantomData<fn() -> O>,
}

impl<O: Output> TextFn<O> {
    /// The DataFusion function named `name` that runs `kernel` row by row.
    pub(crate) fn udf(name: &'static str, kernel: Kernel<O::Native>, doc: Doc) -> ScalarUDF {
        ScalarUDF::new_from_impl(TextFn::<O> {
            name,
            signature: kernel.signature(),
            kernel,
            doc: doc.build(),
            output: PhantomData,
        })
    }
}

impl<O: Output> fmt::Debug for TextFn<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TextFn")
            .field("name", &self.name)
            .field("signature", &self.signature)
            .field("returns", &O::data_type())
            .finish_non_exhaustive()
    }
}

// DataFusion compares functions to deduplicate and cache plans. Names are
// unique among civhub functions, so the name and signature identify one;
// comparing the kernels' fn pointers would be unreliable anyway.
impl<O: Output> PartialEq for TextFn<O> {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.signature == other.signature
    }
}

impl<O: Output> Eq for TextFn<O> {}

impl<O: Output> Hash for TextFn<O> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.signature.hash(state);
    }
}

impl<O: Output> ScalarUDFImpl for TextFn<O> {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(O::data_type())
    }

    fn is_strict(&self) -> bool {
        true
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let arity = self.kernel.arity();
        if !arity.contains(&arg_types.len()) {
            return plan_err!(
                "{} takes {} or {} text arguments, found {}",
                self.doc.syntax_example,
                arity.start(),
                arity.end(),
                arg_types.len()
            );
        }
        arg_types
            .iter()
            .map(|t| match text_type(t) {
                Some(text) => Ok(text),
                None => plan_err!(
                    "{} expects text arguments, found {t}",
                    self.doc.syntax_example
                ),
            })
            .collect()
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if !self.kernel.arity().contains(&args.args.len()) {
            return exec_err!(
                "{} expects {:?} arguments, found {}",
                self.name,
                self.kernel.arity(),
                args.args.len()
            );
        }
        let all_scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let values = args
            .args
            .into_iter()
            .map(as_text)
            .collect::<Result<Vec<_>>>()?;
        let texts = values
            .iter()
            .map(TextArg::new)
            .collect::<Result<Vec<_>>>()?;
        let rows = if all_scalar { 1 } else { args.number_rows };
        let array = O::array((0..rows).map(|row| self.kernel.call(&texts, row)))?;
        if all_scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                &array, 0,
            )?))
        } else {
            Ok(ColumnarValue::Array(array))
        }
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.doc)
    }
}

/// The string type an argument of type `t` is read as; `None` if it is not text.
fn text_type(t: &DataType) -> Option<DataType> {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Some(t.clone()),
        DataType::Null => Some(DataType::Utf8),
        DataType::Dictionary(_, value) => text_type(value),
        _ => None,
    }
}

/// Casts an argument that is not plain text (the signature lets through only
/// text, `NULL` and dictionaries, but a caller of the API may pass anything)
/// to `Utf8`.
fn as_text(value: ColumnarValue) -> Result<ColumnarValue> {
    let is_text = match &value {
        ColumnarValue::Array(a) => matches!(
            a.data_type(),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        ),
        ColumnarValue::Scalar(s) => s.is_null() || s.try_as_str().is_some(),
    };
    if is_text {
        Ok(value)
    } else {
        value.cast_to(&DataType::Utf8, None)
    }
}

/// One text argument, read row by row whatever its string type.
enum TextArg<'a> {
    Scalar(Option<&'a str>),
    Utf8(&'a StringArray),
    LargeUtf8(&'a LargeStringArray),
    Utf8View(&'a StringViewArray),
}

impl<'a> TextArg<'a> {
    fn new(value: &'a ColumnarValue) -> Result<Self> {
        match value {
            ColumnarValue::Scalar(s) => match s.try_as_str() {
                Some(text) => Ok(TextArg::Scalar(text)),
                None if s.is_null() => Ok(TextArg::Scalar(None)),
                None => internal_err!("expected a text scalar, found {}", s.data_type()),
            },
            ColumnarValue::Array(a) => match a.data_type() {
                DataType::Utf8 => Ok(TextArg::Utf8(a.as_string::<i32>())),
                DataType::LargeUtf8 => Ok(TextArg::LargeUtf8(a.as_string::<i64>())),
                DataType::Utf8View => Ok(TextArg::Utf8View(a.as_string_view())),
                other => internal_err!("expected a text array, found {other}"),
            },
        }
    }

    fn get(&self, row: usize) -> Option<&'a str> {
        match self {
            TextArg::Scalar(text) => *text,
            TextArg::Utf8(a) => a.is_valid(row).then(|| a.value(row)),
            TextArg::LargeUtf8(a) => a.is_valid(row).then(|| a.value(row)),
            TextArg::Utf8View(a) => a.is_valid(row).then(|| a.value(row)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::output::{Decimal, Text};
    use arrow::array::{ArrayRef, Int64Array};
    use arrow::datatypes::Field;
    use datafusion::config::ConfigOptions;
    use std::sync::Arc;

    const TEST_DOC: Doc = Doc {
        section: DocSection {
            include: false,
            label: "test",
            description: None,
        },
        description: "test",
        syntax: "f(x)",
        example: "",
        args: &[],
    };

    fn shout(s: &str) -> Option<String> {
        (!s.is_empty()).then(|| s.to_uppercase())
    }

    fn join(a: &str, b: Option<&str>) -> Option<String> {
        Some(format!("{a}{}", b.unwrap_or("-")))
    }

    fn invoke(udf: &ScalarUDF, args: Vec<ColumnarValue>, rows: usize) -> ColumnarValue {
        let arg_fields = args
            .iter()
            .map(|a| Arc::new(Field::new("a", a.data_type(), true)))
            .collect();
        let return_type = udf.return_type(&[]).unwrap();
        udf.invoke_with_args(ScalarFunctionArgs {
            args,
            arg_fields,
            number_rows: rows,
            return_field: Arc::new(Field::new("r", return_type, true)),
            config_options: Arc::new(ConfigOptions::default()),
        })
        .unwrap()
    }

    fn strings(value: ColumnarValue) -> Vec<Option<String>> {
        let ColumnarValue::Array(array) = value else {
            panic!("expected an array, found {value:?}");
        };
        array
            .as_string::<i32>()
            .iter()
            .map(|v| v.map(str::to_string))
            .collect()
    }

    #[test]
    fn array_with_nulls_maps_each_row_and_keeps_nulls() {
        let udf = TextFn::<Text>::udf("shout", Kernel::Unary(shout), TEST_DOC);
        let input: ArrayRef = Arc::new(StringArray::from(vec![Some("ab"), None, Some("")]));
        let out = invoke(&udf, vec![ColumnarValue::Array(input)], 3);
        // NULL in gives NULL out; a refused value ("") gives NULL too.
        assert_eq!(strings(out), vec![Some("AB".to_string()), None, None]);
    }

    #[test]
    fn every_string_type_is_read() {
        let udf = TextFn::<Text>::udf("shout", Kernel::Unary(shout), TEST_DOC);
        let arrays: [ArrayRef; 3] = [
            Arc::new(StringArray::from(vec![Some("x"), None])),
            Arc::new(LargeStringArray::from(vec![Some("x"), None])),
            Arc::new(StringViewArray::from(vec![Some("x"), None])),
        ];
        for array in arrays {
            let out = invoke(&udf, vec![ColumnarValue::Array(array)], 2);
            assert_eq!(strings(out), vec![Some("X".to_string()), None]);
        }
    }

    #[test]
    fn scalar_input_gives_a_scalar() {
        let udf = TextFn::<Text>::udf("shout", Kernel::Unary(shout), TEST_DOC);
        let scalar = |v: ScalarValue| vec![ColumnarValue::Scalar(v)];
        let out = invoke(&udf, scalar(ScalarValue::Utf8View(Some("ab".into()))), 5);
        assert!(matches!(out, ColumnarValue::Scalar(ScalarValue::Utf8(Some(s))) if s == "AB"));
        let out = invoke(&udf, scalar(ScalarValue::Null), 5);
        assert!(matches!(
            out,
            ColumnarValue::Scalar(ScalarValue::Utf8(None))
        ));
    }

    #[test]
    fn scalar_and_array_arguments_mix() {
        let udf = TextFn::<Text>::udf("join", Kernel::UnaryOpt(join), TEST_DOC);
        let left: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), Some("b"), None]));
        let right = ColumnarValue::Scalar(ScalarValue::Utf8(Some("!".into())));
        let out = invoke(&udf, vec![ColumnarValue::Array(left.clone()), right], 3);
        let expected = vec![Some("a!".to_string()), Some("b!".to_string()), None];
        assert_eq!(strings(out), expected);
        // The optional argument left out is not the same as NULL: NULL gives NULL.
        let out = invoke(&udf, vec![ColumnarValue::Array(left.clone())], 3);
        let expected = vec![Some("a-".to_string()), Some("b-".to_string()), None];
        assert_eq!(strings(out), expected);
        let null = ColumnarValue::Scalar(ScalarValue::Utf8(None));
        let out = invoke(&udf, vec![ColumnarValue::Array(left), null], 3);
        assert_eq!(strings(out), vec![None, None, None]);
    }

    #[test]
    fn non_text_arrays_are_cast() {
        let udf = TextFn::<Text>::udf("shout", Kernel::Unary(shout), TEST_DOC);
        let ints: ArrayRef = Arc::new(Int64Array::from(vec![Some(12), None]));
        let out = invoke(&udf, vec![ColumnarValue::Array(ints)], 2);
        assert_eq!(strings(out), vec![Some("12".to_string()), None]);
    }

    #[test]
    fn decimals_carry_precision_and_scale() {
        let udf = TextFn::<Decimal>::udf("d", Kernel::Unary(|_| Some(12_345)), TEST_DOC);
        let input: ArrayRef = Arc::new(StringArray::from(vec![Some("x"), None]));
        let ColumnarValue::Array(out) = invoke(&udf, vec![ColumnarValue::Array(input)], 2) else {
            panic!("expected an array");
        };
        assert_eq!(out.data_type(), &DataType::Decimal128(38, 2));
        let scalar = ScalarValue::try_from_array(&out, 0).unwrap();
        assert_eq!(scalar.to_string(), "123.45");
        assert!(out.is_null(1));
    }

    #[test]
    fn wrong_argument_count_is_an_error_not_a_panic() {
        let udf = TextFn::<Text>::udf("shout", Kernel::Unary(shout), TEST_DOC);
        let return_field = Arc::new(Field::new("r", DataType::Utf8, true));
        let result = udf.invoke_with_args(ScalarFunctionArgs {
            args: vec![],
            arg_fields: vec![],
            number_rows: 1,
            return_field,
            config_options: Arc::new(ConfigOptions::default()),
        });
        assert!(result.is_err());
    }
}
