//! The hashes that name mentions, as SQL functions.
//!
//! `civhub_mention_id(prefix, pipeline, role, record_key, source_file,
//! source_sheet, source_row)` is the stable id of a mention: the prefix and
//! the first 16 hex digits of the MD5 of `pipeline|role|key`, where `key` is
//! the record key or, for records without one, `file#sheet#row`. It is
//! exactly `concat(prefix, substr(md5(concat_ws('|', pipeline, role,
//! coalesce(record_key, concat_ws('#', source_file, coalesce(source_sheet,
//! ''), CAST(source_row AS VARCHAR))))), 1, 16))` — the SQL ids were first
//! written with, and that review decisions name — computed in one pass per
//! row instead of five string columns per batch (the mentions step spent a
//! third of its time there at 200,000 persons).
//!
//! A mention's `value_hash` (has it changed since the last run?) is
//! [`crate::digest::RowHash`]'s xxh3 of its values: it is compared only with
//! the previous run's, never shown or stored elsewhere.

use arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use arrow::datatypes::DataType;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use md5::{Digest, Md5};
use std::sync::Arc;

/// `civhub_mention_id(…)`, see the module docs.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MentionId {
    signature: Signature,
}

impl MentionId {
    /// The function.
    pub fn udf() -> ScalarUDF {
        ScalarUDF::from(MentionId {
            signature: Signature::any(7, Volatility::Immutable),
        })
    }
}

/// Text values of a column, whatever its string type (or any other type,
/// through a cast to text).
pub(crate) enum Text {
    Utf8(arrow::array::StringArray),
    View(arrow::array::StringViewArray),
}

impl Text {
    /// A text column as it is, without copying a view array.
    pub(crate) fn of_text(a: &ArrayRef) -> Option<Result<Text>> {
        match a.data_type() {
            DataType::Utf8View => Some(Ok(Text::View(a.as_string_view().clone()))),
            DataType::Utf8 => Some(Ok(Text::Utf8(a.as_string::<i32>().clone()))),
            DataType::LargeUtf8 => Some(
                arrow::compute::cast(a, &DataType::Utf8)
                    .map(|c| Text::Utf8(c.as_string::<i32>().clone()))
                    .map_err(Into::into),
            ),
            _ => None,
        }
    }

    /// Any column as text: text columns as they are, others cast.
    pub(crate) fn of(a: &ArrayRef) -> Result<Text> {
        Text::of_text(a).unwrap_or_else(|| {
            let c = arrow::compute::cast(a, &DataType::Utf8)?;
            Ok(Text::Utf8(c.as_string::<i32>().clone()))
        })
    }

    /// Row `i`, `None` when NULL.
    pub(crate) fn get(&self, i: usize) -> Option<&str> {
        match self {
            Text::Utf8(a) => (!a.is_null(i)).then(|| a.value(i)),
            Text::View(a) => (!a.is_null(i)).then(|| a.value(i)),
        }
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `s` (unless NULL) after `sep` (unless it is the first part).
fn put(buf: &mut Vec<u8>, first: &mut bool, s: Option<&str>, sep: u8) {
    if let Some(s) = s {
        if !*first {
            buf.push(sep);
        }
        *first = false;
        buf.extend_from_slice(s.as_bytes());
    }
}

impl ScalarUDFImpl for MentionId {
    fn name(&self) -> &str {
        "civhub_mention_id"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let cols: Vec<Text> = args
            .args
            .into_iter()
            .map(|a| a.into_array(n).and_then(|a| Text::of(&a)))
            .collect::<Result<_>>()?;
        let [prefix, pipeline, role, key, file, sheet, row] = cols.as_slice() else {
            return Err(DataFusionError::Execution(
                "civhub_mention_id takes 7 arguments".into(),
            ));
        };
        let mut out = StringBuilder::with_capacity(n, n * 18);
        let mut buf: Vec<u8> = Vec::with_capacity(128);
        let mut id = String::with_capacity(24);
        for i in 0..n {
            // concat_ws('|', …) skips NULL arguments.
            buf.clear();
            let mut first = true;
            put(&mut buf, &mut first, pipeline.get(i), b'|');
            put(&mut buf, &mut first, role.get(i), b'|');
            match key.get(i) {
                Some(k) => put(&mut buf, &mut first, Some(k), b'|'),
                None => {
                    // concat_ws('#', file, coalesce(sheet, ''), row): never NULL.
                    if !first {
                        buf.push(b'|');
                    }
                    let mut inner = true;
                    put(&mut buf, &mut inner, file.get(i), b'#');
                    put(&mut buf, &mut inner, Some(sheet.get(i).unwrap_or("")), b'#');
                    put(&mut buf, &mut inner, row.get(i), b'#');
                }
            }
            let digest = Md5::digest(&buf);
            id.clear();
            id.push_str(prefix.get(i).unwrap_or(""));
            for b in &digest[..8] {
                id.push(HEX[(b >> 4) as usize] as char);
                id.push(HEX[(b & 15) as usize] as char);
            }
            out.append_value(&id);
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::SessionContext;

    /// The function gives what the SQL it replaces gives, with and without
    /// record keys and sheets.
    #[tokio::test]
    async fn mention_ids_equal_the_sql_formulation() {
        let ctx = SessionContext::new();
        ctx.register_udf(MentionId::udf());
        let rows = "(VALUES ('p.a', 'holder', 'K1', 'a.csv', NULL, 3), ('p.a', 'holder', NULL, 'a.csv', NULL, 4), \
                    ('p.b', 'owner', NULL, 'b.xlsx', '黄山区', 17), ('p.c', 'x', '', 'c.json', 's', 1), \
                    ('民政.低保', '成员', '3410…|2024', 'd.csv', NULL, 9)) AS t(pipeline, role, record_key, source_file, source_sheet, source_row)";
        let sql = format!(
            "SELECT civhub_mention_id('pm', pipeline, role, record_key, source_file, source_sheet, source_row) AS a, \
             concat('pm', substr(md5(concat_ws('|', pipeline, role, coalesce(record_key, concat_ws('#', source_file, coalesce(source_sheet, ''), CAST(source_row AS VARCHAR))))), 1, 16)) AS b \
             FROM {rows}"
        );
        let batches = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
        let mut n = 0;
        for b in batches {
            let a = crate::sql::utf8(b.column(0)).unwrap();
            let e = crate::sql::utf8(b.column(1)).unwrap();
            for i in 0..b.num_rows() {
                assert_eq!(a.value(i), e.value(i));
                assert_eq!(a.value(i).len(), 18);
                n += 1;
            }
        }
        assert_eq!(n, 5);
    }
}
