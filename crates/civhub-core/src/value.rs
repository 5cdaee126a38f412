//! A normalized, typed value as it is staged.

use chrono::{NaiveDate, NaiveDateTime};

/// A value after normalization, ready to be appended to a typed column.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// No value (empty cell, or a value the pipeline chose to null).
    Null,
    /// Text.
    Str(String),
    /// Integer.
    Int(i64),
    /// Fixed-point decimal in hundredths (分 for money): 12.34 is `Dec(1234)`.
    Dec(i128),
    /// Floating point.
    Float(f64),
    /// Date.
    Date(NaiveDate),
    /// Date and time.
    DateTime(NaiveDateTime),
    /// Boolean.
    Bool(bool),
}

impl Value {
    /// True for [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The text, when this is a [`Value::Str`].
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as a number for range checks (decimals as their real value).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Dec(d) => Some(*d as f64 / 100.0),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The date, when this is a date or the date part of a date-time.
    pub fn as_date(&self) -> Option<NaiveDate> {
        match self {
            Value::Date(d) => Some(*d),
            Value::DateTime(dt) => Some(dt.date()),
            _ => None,
        }
    }
}

impl std::fmt::Display for Value {
    /// The canonical text form: what a key or an error message shows.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::Str(s) => f.write_str(s),
            Value::Int(i) => write!(f, "{i}"),
            Value::Dec(d) => {
                let sign = if *d < 0 { "-" } else { "" };
                let a = d.unsigned_abs();
                write!(f, "{sign}{}.{:02}", a / 100, a % 100)
            }
            Value::Float(x) => write!(f, "{x}"),
            Value::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            Value::DateTime(dt) => write!(f, "{}", dt.format("%Y-%m-%d %H:%M:%S")),
            Value::Bool(b) => write!(f, "{b}"),
        }
    }
}
