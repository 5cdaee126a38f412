//! Query results as text, the way the `.slt` files and the documentation
//! examples write them.
//!
//! Modelled on DataFusion's own sqllogictest engine, kept small: NULL is
//! `NULL`, an empty string `(empty)`, booleans `true`/`false`, floats rounded
//! to 12 decimal places with trailing zeros dropped (so `1.0` is `1`).
//! Decimals keep their scale (`125000.00`), because the scale is part of what
//! a money column promises; everything else is Arrow's display form.

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float32Type, Float64Type};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use arrow::util::display::array_value_to_string;

/// Every row of the batches, each cell rendered.
pub fn rows(batches: &[RecordBatch]) -> Result<Vec<Vec<String>>, ArrowError> {
    let mut rows = Vec::new();
    for batch in batches {
        for row in 0..batch.num_rows() {
            let cells = batch.columns().iter().map(|c| cell(c.as_ref(), row));
            rows.push(cells.collect::<Result<_, _>>()?);
        }
    }
    Ok(rows)
}

/// One cell as text.
pub fn cell(array: &dyn Array, row: usize) -> Result<String, ArrowError> {
    if array.is_null(row) {
        return Ok("NULL".to_string());
    }
    let text = match array.data_type() {
        DataType::Float64 => float(array.as_primitive::<Float64Type>().value(row)),
        DataType::Float32 => float(f64::from(array.as_primitive::<Float32Type>().value(row))),
        _ => array_value_to_string(array, row)?,
    };
    Ok(if text.is_empty() {
        "(empty)".to_string()
    } else {
        text
    })
}

fn float(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_string();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    let fixed = format!("{value:.12}");
    let trimmed = fixed.trim_end_matches('0').trim_end_matches('.');
    if trimmed == "-0" {
        "0".to_string()
    } else {
        trimmed.to_string()
    }
}
