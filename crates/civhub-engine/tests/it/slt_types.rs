//! The column-type letters of `.slt` `query` lines, with DataFusion's
//! letters: T text, I integer, R float or decimal, B boolean, D date or
//! time, P timestamp, ? anything else. Shared by civhub-engine's runner
//! (`tests/slt/`) and the published-SQL runner of the CLI tests
//! (`tests/slt-published/`, included there by path).

use arrow::datatypes::DataType;

/// A result column's type letter in an `.slt` `query` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnType {
    Text,
    Integer,
    Float,
    Boolean,
    Date,
    Timestamp,
    Other,
}

impl ColumnType {
    /// The letter of a result column of this Arrow type.
    pub fn of(data_type: &DataType) -> Self {
        use DataType::*;
        match data_type {
            Utf8 | LargeUtf8 | Utf8View => ColumnType::Text,
            Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 => ColumnType::Integer,
            Float16 | Float32 | Float64 | Decimal32(..) | Decimal64(..) | Decimal128(..)
            | Decimal256(..) => ColumnType::Float,
            Boolean => ColumnType::Boolean,
            Date32 | Date64 | Time32(_) | Time64(_) => ColumnType::Date,
            Timestamp(..) => ColumnType::Timestamp,
            Dictionary(_, value) => ColumnType::of(value),
            _ => ColumnType::Other,
        }
    }
}

impl sqllogictest::ColumnType for ColumnType {
    fn from_char(value: char) -> Option<Self> {
        Some(match value {
            'T' => ColumnType::Text,
            'I' => ColumnType::Integer,
            'R' => ColumnType::Float,
            'B' => ColumnType::Boolean,
            'D' => ColumnType::Date,
            'P' => ColumnType::Timestamp,
            _ => ColumnType::Other,
        })
    }

    fn to_char(&self) -> char {
        match self {
            ColumnType::Text => 'T',
            ColumnType::Integer => 'I',
            ColumnType::Float => 'R',
            ColumnType::Boolean => 'B',
            ColumnType::Date => 'D',
            ColumnType::Timestamp => 'P',
            ColumnType::Other => '?',
        }
    }
}
