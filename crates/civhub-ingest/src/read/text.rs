//! Text encodings: detection from a sample and a decoding reader.

use super::FileError;
use crate::config::Encoding;
use std::io::Read;

/// The encoding a text file is decoded with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetectedEncoding {
    /// UTF-8 (a BOM, if any, is skipped).
    Utf8,
    /// GB18030 (a superset of GBK and GB2312).
    Gb18030,
}

impl DetectedEncoding {
    /// Name shown in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            DetectedEncoding::Utf8 => "utf-8",
            DetectedEncoding::Gb18030 => "gb18030",
        }
    }
}

/// How much of a file is sniffed.
pub const SAMPLE_BYTES: usize = 64 * 1024;

/// Decides the encoding of a file from its first bytes and the declared one.
///
/// A declared encoding that the sample contradicts is an error, never a
/// silent garbling: UTF-8 declared but invalid bytes found, or GBK declared
/// but the text is clearly UTF-8 (valid UTF-8 with non-ASCII characters is
/// vanishingly rare in real GBK text).
pub fn detect_encoding(
    declared: Encoding,
    sample: &[u8],
    sample_is_whole_file: bool,
) -> Result<DetectedEncoding, FileError> {
    let has_bom = sample.starts_with(&[0xEF, 0xBB, 0xBF]);
    let utf8 = utf8_check(sample, sample_is_whole_file);
    let non_ascii = sample.iter().any(|b| *b >= 0x80);
    match declared {
        Encoding::Auto => Ok(if has_bom || utf8.is_ok() {
            DetectedEncoding::Utf8
        } else {
            DetectedEncoding::Gb18030
        }),
        Encoding::Utf8 => match utf8 {
            Ok(()) => Ok(DetectedEncoding::Utf8),
            Err(pos) => {
                let line = sample[..pos].iter().filter(|b| **b == b'\n').count() + 1;
                Err(FileError::new(format!("not valid UTF-8: the first invalid byte is on line {line} (byte offset {pos})"))
                    .hint("the file is probably GBK/GB18030: set `encoding = \"gbk\"` (or `\"auto\"`) in [source]"))
            }
        },
        Encoding::Gbk | Encoding::Gb18030 => {
            if has_bom || (non_ascii && utf8.is_ok()) {
                Err(
                    FileError::new("the file is UTF-8, but the pipeline declares GBK")
                        .hint("set `encoding = \"utf-8\"` (or `\"auto\"`) in [source]"),
                )
            } else {
                Ok(DetectedEncoding::Gb18030)
            }
        }
    }
}

/// Ok when `bytes` is valid UTF-8, allowing a character cut at the end of a
/// sample; Err with the offset of the first invalid byte.
fn utf8_check(bytes: &[u8], whole: bool) -> Result<(), usize> {
    match std::str::from_utf8(bytes) {
        Ok(_) => Ok(()),
        Err(e) if e.error_len().is_none() && !whole => Ok(()),
        Err(e) => Err(e.valid_up_to()),
    }
}

/// Reads the first [`SAMPLE_BYTES`] of `path` (fewer for a small file).
pub(crate) fn sample(file: &mut std::fs::File) -> std::io::Result<(Vec<u8>, bool)> {
    use std::io::Seek;
    let mut buf = Vec::with_capacity(SAMPLE_BYTES);
    file.by_ref()
        .take(SAMPLE_BYTES as u64)
        .read_to_end(&mut buf)?;
    let whole = buf.len() < SAMPLE_BYTES;
    file.seek(std::io::SeekFrom::Start(0))?;
    Ok((buf, whole))
}

/// A reader yielding UTF-8 from `inner` in the given encoding; a UTF-8 BOM is
/// dropped and undecodable bytes become U+FFFD (which the transform then
/// quarantines with rule `encoding`).
pub(crate) fn decoder<R: Read>(
    inner: R,
    enc: DetectedEncoding,
) -> encoding_rs_io::DecodeReaderBytes<R, Vec<u8>> {
    let e = match enc {
        DetectedEncoding::Utf8 => encoding_rs::UTF_8,
        DetectedEncoding::Gb18030 => encoding_rs::GB18030,
    };
    encoding_rs_io::DecodeReaderBytesBuilder::new()
        .encoding(Some(e))
        .bom_override(enc == DetectedEncoding::Utf8)
        .build(inner)
}

/// Opens a text file and detects its encoding.
pub(crate) fn open_text(
    path: &std::path::Path,
    declared: Encoding,
) -> Result<(std::fs::File, DetectedEncoding), FileError> {
    let mut f =
        std::fs::File::open(path).map_err(|e| FileError::new(format!("cannot open: {e}")))?;
    let (s, whole) = sample(&mut f).map_err(|e| FileError::new(format!("cannot read: {e}")))?;
    if s.is_empty() {
        return Err(FileError::new("the file is empty (0 bytes)")
            .hint("the export is probably incomplete: ask the department to deliver it again"));
    }
    let enc = detect_encoding(declared, &s, whole)?;
    Ok((f, enc))
}
