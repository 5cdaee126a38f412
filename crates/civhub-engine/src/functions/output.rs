//! The SQL types civhub functions return, and how a column of them is built.
//!
//! Each marker type is one result type of the [`TextFn`](super::adapter::TextFn)
//! adapter. Dates, timestamps and decimals use the Arrow types ingest stages
//! (`Date32`, `Timestamp(µs)` without zone, `Decimal128(38, 2)`), so a
//! function's result compares and joins with a staged column as it is.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int64Array, StringArray,
    TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Date32Type, TimeUnit};
use chrono::{NaiveDate, NaiveDateTime};
use datafusion::common::Result;

/// The SQL type a function returns, and how its values become an Arrow array.
pub(crate) trait Output: Send + Sync + 'static {
    /// The Rust value a kernel returns.
    type Native: 'static;
    /// The Arrow type of the result column.
    fn data_type() -> DataType;
    /// Builds the result array, one entry per row.
    fn array(values: impl Iterator<Item = Option<Self::Native>>) -> Result<ArrayRef>;
}

/// `text` (`Utf8`).
pub(crate) struct Text;
/// `boolean`.
pub(crate) struct Bool;
/// `date` (`Date32`), as staged.
pub(crate) struct Date;
/// `timestamp` without time zone, in microseconds, as staged.
pub(crate) struct Timestamp;
/// `decimal(38,2)` from hundredths (分 for money, as civhub-core returns them).
pub(crate) struct Decimal;
/// `double`.
pub(crate) struct Float;
/// `bigint`.
pub(crate) struct Int;
/// A list of text (`List<Utf8>`), e.g. candidate IDs one typo away.
pub(crate) struct TextList;

impl Output for TextList {
    type Native = Vec<String>;
    fn data_type() -> DataType {
        DataType::List(Arc::new(arrow::datatypes::Field::new_list_field(
            DataType::Utf8,
            true,
        )))
    }
    fn array(values: impl Iterator<Item = Option<Vec<String>>>) -> Result<ArrayRef> {
        let mut b = arrow::array::ListBuilder::new(arrow::array::StringBuilder::new());
        for v in values {
            match v {
                Some(items) => {
                    for i in items {
                        b.values().append_value(i);
                    }
                    b.append(true);
                }
                None => b.append(false),
            }
        }
        Ok(Arc::new(b.finish()))
    }
}

impl Output for Text {
    type Native = String;
    fn data_type() -> DataType {
        DataType::Utf8
    }
    fn array(values: impl Iterator<Item = Option<String>>) -> Result<ArrayRef> {
        Ok(Arc::new(values.collect::<StringArray>()))
    }
}

impl Output for Bool {
    type Native = bool;
    fn data_type() -> DataType {
        DataType::Boolean
    }
    fn array(values: impl Iterator<Item = Option<bool>>) -> Result<ArrayRef> {
        Ok(Arc::new(values.collect::<BooleanArray>()))
    }
}

impl Output for Date {
    type Native = NaiveDate;
    fn data_type() -> DataType {
        DataType::Date32
    }
    fn array(values: impl Iterator<Item = Option<NaiveDate>>) -> Result<ArrayRef> {
        let days = values.map(|d| d.map(Date32Type::from_naive_date));
        Ok(Arc::new(days.collect::<Date32Array>()))
    }
}

impl Output for Timestamp {
    type Native = NaiveDateTime;
    fn data_type() -> DataType {
        DataType::Timestamp(TimeUnit::Microsecond, None)
    }
    fn array(values: impl Iterator<Item = Option<NaiveDateTime>>) -> Result<ArrayRef> {
        let micros = values.map(|t| t.map(|t| t.and_utc().timestamp_micros()));
        Ok(Arc::new(micros.collect::<TimestampMicrosecondArray>()))
    }
}

impl Decimal {
    const PRECISION: u8 = 38;
    const SCALE: i8 = 2;
}

impl Output for Decimal {
    type Native = i128;
    fn data_type() -> DataType {
        DataType::Decimal128(Self::PRECISION, Self::SCALE)
    }
    fn array(values: impl Iterator<Item = Option<i128>>) -> Result<ArrayRef> {
        let array = values
            .collect::<Decimal128Array>()
            .with_precision_and_scale(Self::PRECISION, Self::SCALE)?;
        Ok(Arc::new(array))
    }
}

impl Output for Float {
    type Native = f64;
    fn data_type() -> DataType {
        DataType::Float64
    }
    fn array(values: impl Iterator<Item = Option<f64>>) -> Result<ArrayRef> {
        Ok(Arc::new(values.collect::<Float64Array>()))
    }
}

impl Output for Int {
    type Native = i64;
    fn data_type() -> DataType {
        DataType::Int64
    }
    fn array(values: impl Iterator<Item = Option<i64>>) -> Result<ArrayRef> {
        Ok(Arc::new(values.collect::<Int64Array>()))
    }
}
