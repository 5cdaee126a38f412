//! A CSV record splitter for the data rows of a range, giving exactly what
//! the `csv` crate gives with the options [`super::csv`] uses (no headers,
//! flexible, `"` quoting with doubled quotes, records ending at `\n`; a `\r`
//! is data): the same fields, the same records (empty lines skipped) and the
//! same positions (the line after the previous record, as the `csv` reader
//! reports it).
//!
//! A line without a quote — nearly every line of an export — is cut at its
//! delimiters with vectorized byte searches and its fields are borrowed from
//! the read buffer; only a record with a quote goes through the byte-by-byte
//! state machine, which unescapes its fields into a buffer of their own.

use std::io::Read;

/// Bytes read at a time (the buffer grows for a longer record).
const CHUNK: usize = 256 * 1024;

/// Whether records with fields separated by `delimiter` can be split by
/// [`Records`].
pub(crate) fn supports(delimiter: u8) -> bool {
    delimiter.is_ascii() && !matches!(delimiter, b'"' | b'\n' | b'\r')
}

/// Where the current record's fields live.
#[derive(Clone, Copy)]
enum Source {
    /// `buf[start..end]`: an unquoted line.
    Line(usize, usize),
    /// `unescaped`: a record with quotes.
    Unescaped,
}

/// Splits records out of a byte stream.
pub(crate) struct Records<R> {
    src: R,
    delimiter: u8,
    buf: Vec<u8>,
    /// `buf[pos..filled]` is read and not consumed yet.
    pos: usize,
    filled: usize,
    eof: bool,
    /// Lines started so far: 1 plus the `\n` bytes consumed.
    line: u64,
    /// The current record: where its bytes are, each field's range in them,
    /// and the line it starts on (as the `csv` reader reports it).
    source: Source,
    fields: Vec<(usize, usize)>,
    unescaped: Vec<u8>,
    position: u64,
}

impl<R: Read> Records<R> {
    /// Records of `src`, fields separated by `delimiter` (an ASCII byte other
    /// than `"`, `\n` and `\r`: see [`supports`]).
    pub(crate) fn new(src: R, delimiter: u8) -> Self {
        Records {
            src,
            delimiter,
            buf: vec![0; CHUNK],
            pos: 0,
            filled: 0,
            eof: false,
            line: 1,
            source: Source::Unescaped,
            fields: Vec::new(),
            unescaped: Vec::new(),
            position: 1,
        }
    }

    /// Reads more input after what is not consumed yet; false at the end.
    fn fill(&mut self) -> std::io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.filled, 0);
            self.filled -= self.pos;
            self.pos = 0;
        }
        if self.filled == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        loop {
            match self.src.read(&mut self.buf[self.filled..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.filled += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Moves to the next record; false at the end of the input.
    pub(crate) fn next_record(&mut self) -> std::io::Result<bool> {
        self.position = self.line;
        // Empty lines are not records.
        loop {
            if self.pos == self.filled && !self.fill()? {
                return Ok(false);
            }
            if self.buf[self.pos] != b'\n' {
                break;
            }
            self.pos += 1;
            self.line += 1;
        }
        // The line, whole (or up to the end of the input).
        let mut searched = self.pos;
        let end = loop {
            match memchr::memchr(b'\n', &self.buf[searched..self.filled]) {
                Some(i) => break searched + i,
                None => {
                    let done = self.filled - self.pos;
                    if !self.fill()? {
                        break self.filled;
                    }
                    searched = self.pos + done;
                }
            }
        };
        let line = &self.buf[self.pos..end];
        if memchr::memchr(b'"', line).is_some() {
            return self.quoted();
        }
        self.fields.clear();
        let mut start = 0;
        for d in memchr::memchr_iter(self.delimiter, line) {
            self.fields.push((start, d));
            start = d + 1;
        }
        self.fields.push((start, line.len()));
        self.source = Source::Line(self.pos, end);
        if end < self.filled {
            self.pos = end + 1;
            self.line += 1;
        } else {
            self.pos = end;
        }
        Ok(true)
    }

    /// Parses a record holding a quote, from `pos`, byte by byte as the `csv`
    /// crate's state machine does; a quoted field may span lines.
    fn quoted(&mut self) -> std::io::Result<bool> {
        #[derive(Clone, Copy, PartialEq)]
        enum State {
            StartField,
            InField,
            InQuoted,
            QuoteInQuoted,
        }
        loop {
            self.unescaped.clear();
            self.fields.clear();
            let mut state = State::StartField;
            let mut start = 0;
            let mut newlines = 0;
            let mut i = self.pos;
            let mut ended = false;
            while i < self.filled {
                let b = self.buf[i];
                i += 1;
                if b == b'\n' {
                    newlines += 1;
                }
                let end_field = match state {
                    State::StartField if b == b'"' => {
                        state = State::InQuoted;
                        false
                    }
                    State::InQuoted => {
                        if b == b'"' {
                            state = State::QuoteInQuoted;
                        } else {
                            self.unescaped.push(b);
                        }
                        false
                    }
                    State::QuoteInQuoted if b == b'"' => {
                        self.unescaped.push(b);
                        state = State::InQuoted;
                        false
                    }
                    _ if b == self.delimiter || b == b'\n' => true,
                    _ => {
                        self.unescaped.push(b);
                        state = State::InField;
                        false
                    }
                };
                if end_field {
                    self.fields.push((start, self.unescaped.len()));
                    start = self.unescaped.len();
                    state = State::StartField;
                    if b == b'\n' {
                        ended = true;
                        break;
                    }
                }
            }
            if !ended && self.fill()? {
                // The record goes on past what was read: parse it again
                // with more input.
                continue;
            }
            if !ended {
                // The input ends inside the record: it ends there.
                self.fields.push((start, self.unescaped.len()));
                i = self.filled;
            }
            self.pos = i;
            self.line += newlines;
            self.source = Source::Unescaped;
            return Ok(true);
        }
    }

    /// The current record's line, as the `csv` reader reports its position:
    /// the line after the previous record (empty lines before it included).
    pub(crate) fn position(&self) -> u64 {
        self.position
    }

    /// The current record: its bytes and each field's range in them.
    pub(crate) fn record(&self) -> (&[u8], &[(usize, usize)]) {
        match self.source {
            Source::Line(start, end) => (&self.buf[start..end], &self.fields),
            Source::Unescaped => (&self.unescaped, &self.fields),
        }
    }
}

/// A record's fields as text: checked once as a whole when its bytes are
/// valid UTF-8 (every field then is, unless a quote split a character), else
/// each field converted on its own with invalid bytes replaced by U+FFFD, as
/// `csv::StringRecord::from_byte_record_lossy` does.
pub(crate) struct TextRecord {
    lossy: String,
    lossy_fields: Vec<(usize, usize)>,
}

impl TextRecord {
    pub(crate) fn new() -> Self {
        TextRecord {
            lossy: String::new(),
            lossy_fields: Vec::new(),
        }
    }

    /// The text and field ranges of a record's bytes and field ranges.
    pub(crate) fn of<'a>(
        &'a mut self,
        bytes: &'a [u8],
        fields: &'a [(usize, usize)],
    ) -> (&'a str, &'a [(usize, usize)]) {
        if let Ok(text) = simdutf8::basic::from_utf8(bytes)
            && fields
                .iter()
                .all(|&(a, b)| text.is_char_boundary(a) && text.is_char_boundary(b))
        {
            return (text, fields);
        }
        self.lossy.clear();
        self.lossy_fields.clear();
        for &(a, b) in fields {
            let from = self.lossy.len();
            self.lossy.push_str(&String::from_utf8_lossy(&bytes[a..b]));
            self.lossy_fields.push((from, self.lossy.len()));
        }
        (&self.lossy, &self.lossy_fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the `csv` crate reads, with the options of `read::csv`: each
    /// record's position line and fields.
    fn by_csv(input: &[u8], delimiter: u8) -> Vec<(u64, Vec<Vec<u8>>)> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_reader(input);
        let mut out = Vec::new();
        let mut record = csv::ByteRecord::new();
        while rdr.read_byte_record(&mut record).unwrap() {
            let line = record.position().unwrap().line();
            out.push((line, record.iter().map(<[u8]>::to_vec).collect()));
        }
        out
    }

    fn by_records(input: &[u8], delimiter: u8, chunk: usize) -> Vec<(u64, Vec<Vec<u8>>)> {
        // A reader handing out at most `chunk` bytes at a time, to cross
        // buffer refills everywhere.
        struct Trickle<'a>(&'a [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.len().min(self.1).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut r = Records::new(Trickle(input, chunk), delimiter);
        let mut out = Vec::new();
        while r.next_record().unwrap() {
            let (bytes, fields) = r.record();
            let fields = fields.iter().map(|&(a, b)| bytes[a..b].to_vec()).collect();
            out.push((r.position(), fields));
        }
        out
    }

    #[test]
    fn splits_like_the_csv_crate() {
        let cases: &[&[u8]] = &[
            b"",
            b"\n",
            b"\n\n\n",
            b"a,b,c\n",
            b"a,b,c",
            b"a,b,c\n\nd,e\n\n\nf\n",
            b"a,\"b,c\",d\n",
            b"\"a\"\"b\",c\n",
            b"\"a\nb\",c\nd\n",
            b"a\"b,c\n",
            b"\"ab\"cd,e\n",
            b"\"unterminated,\nstill\n",
            b"a,\r\n\r\nb\r\n",
            b",,\n,\n",
            b"\"\"\n\"\"\"\"\n",
            b"x\n\"",
            b"a,b\n\n",
        ];
        for case in cases {
            for chunk in [1, 2, 3, 7, 1 << 20] {
                assert_eq!(
                    by_records(case, b',', chunk),
                    by_csv(case, b','),
                    "{:?} in chunks of {chunk}",
                    String::from_utf8_lossy(case)
                );
            }
        }
    }

    #[test]
    fn splits_random_input_like_the_csv_crate() {
        // xorshift: reproducible without a dependency.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet: &[u8] = b"ab,;\t\"\"\n\n\r \xe5\xbc\xa0\xff";
        for round in 0..3000 {
            let len = (next() % 60) as usize;
            let input: Vec<u8> = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let delimiter = [b',', b';', b'\t'][round % 3];
            let chunk = [1, 2, 5, 64][round % 4];
            assert_eq!(
                by_records(&input, delimiter, chunk),
                by_csv(&input, delimiter),
                "{:?}",
                String::from_utf8_lossy(&input)
            );
        }
    }

    #[test]
    fn long_records_grow_the_buffer() {
        let mut input = Vec::new();
        for i in 0..3 {
            input.extend(std::iter::repeat_n(b'a' + i, CHUNK + 10));
            input.extend_from_slice(b",\"x\ny\"\n");
        }
        assert_eq!(by_records(&input, b',', CHUNK), by_csv(&input, b','));
    }

    #[test]
    fn text_is_checked_like_csv_string_records() {
        let mut text = TextRecord::new();
        for (bytes, fields) in [
            (&b"ab,cd"[..], vec![(0, 2), (3, 5)]),
            ("张三,李四".as_bytes(), vec![(0, 6), (7, 13)]),
            // A character split between two fields (a quote removed between
            // its bytes): each field on its own is invalid.
            ("张".as_bytes(), vec![(0, 1), (1, 3)]),
            (&b"a\xffb,c"[..], vec![(0, 3), (4, 5)]),
        ] {
            let mut record = csv::ByteRecord::new();
            for &(a, b) in &fields {
                record.push_field(&bytes[a..b]);
            }
            let expected = csv::StringRecord::from_byte_record_lossy(record);
            let (t, f) = text.of(bytes, &fields);
            let got: Vec<&str> = f.iter().map(|&(a, b)| &t[a..b]).collect();
            assert_eq!(got, expected.iter().collect::<Vec<_>>());
        }
    }
}
