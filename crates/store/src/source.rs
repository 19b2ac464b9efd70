//! Reading import inputs: CSV, NDJSON and Parquet, plain or gzip-compressed, from a
//! file or standard input, as a stream of records of text cells.
//!
//! Every format is turned into the same shape, a [`Record`] of optional text cells per
//! source column, so that one validator decides what is valid and CSV, NDJSON and
//! Parquet inputs give the same tables. Parquet values are formatted as text the import
//! grammar reads back exactly (timestamps with a zone as RFC 3339, naive ones without an
//! offset, dates as `YYYY-MM-DD`).

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use arrow::array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::DataType;
use arrow::util::display::FormatOptions;
use flate2::read::MultiGzDecoder;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};

use cxkpi_core::spreadsheet;

use crate::error::{IoContext, Result, StoreError};

/// An input file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// CSV with a header row (RFC 4180).
    Csv,
    /// One JSON object a line.
    Ndjson,
    /// Apache Parquet.
    Parquet,
}

impl FromStr for InputFormat {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Ok(InputFormat::Csv),
            "ndjson" | "jsonl" | "json" => Ok(InputFormat::Ndjson),
            "parquet" => Ok(InputFormat::Parquet),
            _ => Err(StoreError::Usage(format!(
                "unknown input format `{s}`; the formats are csv, ndjson, parquet"
            ))),
        }
    }
}

/// Where an input comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputSource {
    /// A file.
    Path(PathBuf),
    /// Standard input.
    Stdin,
}

/// One input of an import.
#[derive(Debug, Clone)]
pub struct Input {
    /// The source.
    pub source: InputSource,
    /// The format, or `None` to take it from the extension (or, for stdin, the content).
    pub format: Option<InputFormat>,
}

impl Input {
    /// An input from a command-line argument: `-` is standard input.
    pub fn from_arg(arg: &str, format: Option<InputFormat>) -> Input {
        let source = if arg == "-" {
            InputSource::Stdin
        } else {
            InputSource::Path(PathBuf::from(arg))
        };
        Input { source, format }
    }

    /// The name used in messages and in the rejects file.
    pub fn name(&self) -> String {
        match &self.source {
            InputSource::Path(p) => p.display().to_string(),
            InputSource::Stdin => "<stdin>".into(),
        }
    }

    /// The size in bytes, when known (for the progress bar).
    pub fn size(&self) -> Option<u64> {
        match &self.source {
            InputSource::Path(p) => std::fs::metadata(p).ok().map(|m| m.len()),
            InputSource::Stdin => None,
        }
    }
}

fn format_from_extension(path: &Path) -> Option<InputFormat> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    let ext = name.rsplit_once('.')?.1;
    match ext {
        "csv" => Some(InputFormat::Csv),
        "ndjson" | "jsonl" | "json" => Some(InputFormat::Ndjson),
        "parquet" | "parq" => Some(InputFormat::Parquet),
        _ => None,
    }
}

/// Counts the bytes read through it, for progress reporting.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Stops a reader that goes on for longer than a record may be without one ending
/// (`/dev/zero`, a file without line breaks, a quote that never closes): the CSV
/// parser would otherwise grow one record until memory runs out. `record_start` is
/// where the current record began, in bytes delivered.
struct Limited<R> {
    inner: R,
    delivered: u64,
    record_start: Arc<AtomicU64>,
    limit: u64,
    /// The last byte delivered that is not white space (whether the input ends in a
    /// closing quote).
    last_byte: Arc<AtomicU8>,
}

/// What [`Limited`] says when a record runs over the limit.
#[derive(Debug)]
struct TooLong(u64);

impl std::fmt::Display for TooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a record runs over {} MiB without ending (a file without line breaks, or a quote that never closes?); the limit is store.max_record_mib in cxkpi.toml",
            self.0 >> 20
        )
    }
}

impl std::error::Error for TooLong {}

/// The read-ahead of the CSV parser's buffer, allowed beyond the limit.
const CSV_BUFFER: usize = 1 << 20;

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let start = self.record_start.load(Ordering::Relaxed);
        if self.delivered.saturating_sub(start) > self.limit + CSV_BUFFER as u64 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                TooLong(self.limit),
            ));
        }
        let n = self.inner.read(buf)?;
        self.delivered += n as u64;
        if let Some(b) = buf[..n].iter().rev().find(|b| !b.is_ascii_whitespace()) {
            self.last_byte.store(*b, Ordering::Relaxed);
        }
        Ok(n)
    }
}

/// One record: its line (or record number for Parquet) and a text cell per source
/// column. Cells are `None` when empty or null.
#[derive(Debug, Default)]
pub(crate) struct Record {
    /// The line of the record's first line (CSV, NDJSON) or its 1-based row (Parquet).
    pub line: u64,
    text: String,
    spans: Vec<Option<(usize, usize)>>,
    /// A problem of the whole record (wrong field count, bad UTF-8, bad JSON).
    pub problem: Option<String>,
}

impl Record {
    fn clear(&mut self, n_columns: usize) {
        self.text.clear();
        self.spans.clear();
        self.spans.resize(n_columns, None);
        self.problem = None;
    }

    fn set(&mut self, column: usize, value: &str) {
        if value.is_empty() {
            return;
        }
        if column >= self.spans.len() {
            self.spans.resize(column + 1, None);
        }
        let start = self.text.len();
        self.text.push_str(value);
        self.spans[column] = Some((start, self.text.len()));
    }

    /// The cell of source column `column`.
    pub fn cell(&self, column: usize) -> Option<&str> {
        self.spans
            .get(column)
            .copied()
            .flatten()
            .map(|(s, e)| &self.text[s..e])
    }
}

/// Records a CSV parsing thread hands over at a time.
const CSV_CHUNK: usize = 4096;

/// CSV is parsed on its own thread, so that parsing overlaps with validation: chunks of
/// records go one way, emptied chunks come back to be refilled (no allocation per
/// record).
struct CsvThread {
    chunks: Receiver<Result<Vec<csv::ByteRecord>, String>>,
    recycle: SyncSender<Vec<csv::ByteRecord>>,
    current: Vec<csv::ByteRecord>,
    position: usize,
    _thread: JoinHandle<()>,
}

impl CsvThread {
    fn spawn(
        mut reader: csv::Reader<Box<dyn Read + Send>>,
        record_start: Arc<AtomicU64>,
        last_byte: Arc<AtomicU8>,
    ) -> CsvThread {
        let (send_chunk, chunks) = sync_channel(2);
        let (recycle, recycled) = sync_channel::<Vec<csv::ByteRecord>>(4);
        let thread = std::thread::Builder::new()
            .name("cxkpi-csv-reader".into())
            .spawn(move || {
                // The line a multi-line last field began on: if the input ends there
                // without a closing quote, a stray quote swallowed the rest of it.
                let mut open_last_field = None;
                loop {
                    let mut chunk = recycled.try_recv().unwrap_or_default();
                    chunk.resize_with(CSV_CHUNK, csv::ByteRecord::new);
                    let mut filled = 0;
                    while filled < CSV_CHUNK {
                        let line = reader.position().line();
                        match reader.read_byte_record(&mut chunk[filled]) {
                            Ok(true) => {
                                open_last_field = last_field_opened(&chunk[filled], line);
                                filled += 1;
                                record_start.store(reader.position().byte(), Ordering::Relaxed);
                            }
                            Ok(false) => break,
                            Err(e) => {
                                let _ = send_chunk.send(Err(format!("line {line}: {e}")));
                                return;
                            }
                        }
                    }
                    chunk.truncate(filled);
                    let done = filled < CSV_CHUNK;
                    if send_chunk.send(Ok(chunk)).is_err() {
                        return;
                    }
                    if done {
                        if let Some(opened) = open_last_field
                            && last_byte.load(Ordering::Relaxed) != b'"'
                        {
                            let _ = send_chunk.send(Err(format!(
                                "line {opened}: a quote (\") opened there is never closed: an unbalanced quote swallowed every line from {opened} to the end of the input"
                            )));
                        }
                        return;
                    }
                }
            })
            .expect("spawning the CSV reader thread");
        CsvThread {
            chunks,
            recycle,
            current: Vec::new(),
            position: 0,
            _thread: thread,
        }
    }

    /// The next record, or `None` at the end of the input.
    fn next(&mut self) -> std::result::Result<Option<&csv::ByteRecord>, String> {
        if self.position >= self.current.len() {
            let empty = std::mem::take(&mut self.current);
            if !empty.is_empty() {
                let _ = self.recycle.try_send(empty);
            }
            self.position = 0;
            self.current = match self.chunks.recv() {
                Ok(chunk) => chunk?,
                // The thread ended after its last chunk.
                Err(_) => return Ok(None),
            };
            if self.current.is_empty() {
                return Ok(None);
            }
        }
        self.position += 1;
        Ok(Some(&self.current[self.position - 1]))
    }
}

enum Inner {
    Csv(CsvThread),
    Ndjson {
        lines: Box<dyn BufRead + Send>,
        line: u64,
        buffer: Vec<u8>,
        /// Column by lower-case key, so that lines adding keys stay linear.
        columns: std::collections::HashMap<String, usize>,
        max_record_bytes: u64,
    },
    Parquet {
        reader: ParquetRecordBatchReader,
        columns: Vec<StringArray>,
        row: usize,
        rows: usize,
        record_number: u64,
    },
}

/// A stream of records from one input.
pub(crate) struct RecordReader {
    inner: Inner,
    /// Source column names as written (trimmed); NDJSON adds names as keys appear.
    header: Vec<String>,
    /// The same, lower case: how columns are matched.
    keys: Vec<String>,
    /// Bytes of the input read so far.
    pub bytes_read: Arc<AtomicU64>,
    /// A spooled copy of standard input, removed on drop.
    _spool: Option<tempfile_guard::Guard>,
}

mod tempfile_guard {
    use std::path::PathBuf;

    /// Removes a file when dropped.
    pub struct Guard(pub PathBuf);

    impl Drop for Guard {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

fn refused(input: &Input, reason: impl Into<String>) -> StoreError {
    StoreError::Refused {
        source_name: input.name(),
        reason: reason.into(),
    }
}

impl RecordReader {
    /// Opens an input. `spool_dir` holds a temporary copy of an input that is Parquet
    /// (which needs random access) but not a plain file: standard input, a pipe, a
    /// FIFO, gzip. A record longer than `max_record_bytes` is an error.
    pub fn open(input: &Input, spool_dir: &Path, max_record_bytes: u64) -> Result<RecordReader> {
        let count = Arc::new(AtomicU64::new(0));
        let raw: Box<dyn Read + Send> = match &input.source {
            InputSource::Path(p) => {
                Box::new(File::open(p).context(|| format!("opening {}", p.display()))?)
            }
            InputSource::Stdin => Box::new(io::stdin()),
        };
        let mut buffered = BufReader::with_capacity(
            1 << 20,
            Counting {
                inner: raw,
                count: Arc::clone(&count),
            },
        );
        let head = buffered
            .fill_buf()
            .context(|| format!("reading {}", input.name()))?;
        let gzip = head.starts_with(&[0x1f, 0x8b]);
        let format = match (input.format, &input.source) {
            (Some(f), _) => f,
            (None, InputSource::Path(p)) => format_from_extension(p).ok_or_else(|| {
                refused(
                    input,
                    "cannot tell the format from the extension (.csv, .ndjson, .jsonl, .parquet, optionally .gz); give --input-format",
                )
            })?,
            (None, InputSource::Stdin) if gzip => {
                return Err(refused(input, "gzip on standard input needs --input-format"));
            }
            (None, InputSource::Stdin) => sniff(head),
        };
        let reader: Box<dyn BufRead + Send> = if gzip {
            Box::new(BufReader::with_capacity(
                1 << 20,
                MultiGzDecoder::new(buffered),
            ))
        } else {
            Box::new(buffered)
        };
        match format {
            InputFormat::Csv => Self::open_csv(input, reader, count, max_record_bytes),
            InputFormat::Ndjson => Ok(RecordReader {
                inner: Inner::Ndjson {
                    lines: reader,
                    line: 0,
                    buffer: Vec::new(),
                    columns: std::collections::HashMap::new(),
                    max_record_bytes,
                },
                header: Vec::new(),
                keys: Vec::new(),
                bytes_read: count,
                _spool: None,
            }),
            InputFormat::Parquet => {
                // A FIFO or `<(...)` can be read once only: it is spooled like stdin.
                let plain_file = |p: &Path| std::fs::metadata(p).is_ok_and(|m| m.is_file());
                let (file, spool) = match (&input.source, gzip) {
                    (InputSource::Path(p), false) if plain_file(p) => (
                        File::open(p).context(|| format!("opening {}", p.display()))?,
                        None,
                    ),
                    _ => {
                        let path = spool_dir.join(format!("spool-{}.parquet", std::process::id()));
                        let mut out = File::create(&path)
                            .context(|| format!("creating {}", path.display()))?;
                        let guard = tempfile_guard::Guard(path.clone());
                        let mut reader = reader;
                        io::copy(&mut reader, &mut out)
                            .context(|| format!("spooling {}", input.name()))?;
                        let file =
                            File::open(&path).context(|| format!("opening {}", path.display()))?;
                        (file, Some(guard))
                    }
                };
                let builder = ParquetRecordBatchReaderBuilder::try_new(file)
                    .map_err(|e| refused(input, format!("not a readable Parquet file: {e}")))?;
                if let Some(field) = builder
                    .schema()
                    .fields()
                    .iter()
                    .find(|f| !arrow::compute::can_cast_types(f.data_type(), &DataType::Utf8))
                {
                    return Err(refused(
                        input,
                        format!(
                            "column `{}` has type {}, which cxkpi cannot read as a value",
                            field.name(),
                            field.data_type()
                        ),
                    ));
                }
                let header: Vec<String> = builder
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| f.name().trim().to_string())
                    .collect();
                let reader = builder
                    .with_batch_size(8192)
                    .build()
                    .map_err(|e| refused(input, format!("not a readable Parquet file: {e}")))?;
                Ok(RecordReader {
                    keys: header.iter().map(|h| h.to_lowercase()).collect(),
                    header,
                    inner: Inner::Parquet {
                        reader,
                        columns: Vec::new(),
                        row: 0,
                        rows: 0,
                        record_number: 0,
                    },
                    bytes_read: count,
                    _spool: spool,
                })
            }
        }
    }

    fn open_csv(
        input: &Input,
        reader: Box<dyn BufRead + Send>,
        count: Arc<AtomicU64>,
        max_record_bytes: u64,
    ) -> Result<RecordReader> {
        let record_start = Arc::new(AtomicU64::new(0));
        let last_byte = Arc::new(AtomicU8::new(0));
        let reader: Box<dyn Read + Send> = Box::new(Limited {
            inner: reader,
            delivered: 0,
            record_start: Arc::clone(&record_start),
            limit: max_record_bytes,
            last_byte: Arc::clone(&last_byte),
        });
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .buffer_capacity(CSV_BUFFER)
            .from_reader(reader);
        let header = reader
            .byte_headers()
            .map_err(|e| refused(input, format!("line 1: cannot read the header: {e}")))?;
        if header.is_empty() {
            return Err(refused(input, "the file is empty (no header row)"));
        }
        let header: Vec<String> = header
            .iter()
            .enumerate()
            .map(|(i, h)| {
                std::str::from_utf8(h)
                    .map(|s| s.trim().to_string())
                    .map_err(|_| refused(input, format!("header column {} is not UTF-8", i + 1)))
            })
            .collect::<Result<_>>()?;
        record_start.store(reader.position().byte(), Ordering::Relaxed);
        Ok(RecordReader {
            keys: header.iter().map(|h| h.to_lowercase()).collect(),
            header,
            inner: Inner::Csv(CsvThread::spawn(reader, record_start, last_byte)),
            bytes_read: count,
            _spool: None,
        })
    }

    /// Source column names, as written (trimmed).
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// Source column names, lower case.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// Whether the columns are known up front (CSV, Parquet) or appear with the records
    /// (NDJSON).
    pub fn has_fixed_header(&self) -> bool {
        !matches!(self.inner, Inner::Ndjson { .. })
    }

    /// Reads the next record into `record`; false at the end of the input.
    pub fn next(&mut self, input: &Input, record: &mut Record) -> Result<bool> {
        let n_columns = self.header.len();
        match &mut self.inner {
            Inner::Csv(thread) => {
                let raw = thread.next().map_err(|reason| StoreError::Unreadable {
                    source_name: input.name(),
                    reason,
                })?;
                let Some(raw) = raw else {
                    return Ok(false);
                };
                record.clear(n_columns);
                record.line = raw.position().map_or(0, |p| p.line());
                if raw.len() != n_columns {
                    if let Some(reason) = unbalanced_quote(raw, record.line, n_columns) {
                        return Err(StoreError::Unreadable {
                            source_name: input.name(),
                            reason,
                        });
                    }
                    record.problem = Some(format!(
                        "the record has {} fields, the header has {n_columns}",
                        raw.len()
                    ));
                    return Ok(true);
                }
                let Ok(all) = std::str::from_utf8(raw.as_slice()) else {
                    record.problem = Some("the record is not valid UTF-8".into());
                    return Ok(true);
                };
                record.text.push_str(all);
                for i in 0..n_columns {
                    let range = raw.range(i).expect("field exists");
                    // cxkpi's CSV exports neutralise formulas with an apostrophe (as a
                    // spreadsheet's own prefix does); it is not part of the value.
                    // Only a cell starting with one is looked at (this runs per cell).
                    let start = if all.as_bytes().get(range.start) == Some(&b'\'') {
                        range.end - spreadsheet::unescape(&all[range.clone()]).len()
                    } else {
                        range.start
                    };
                    if start < range.end {
                        record.spans[i] = Some((start, range.end));
                    }
                }
                Ok(true)
            }
            Inner::Ndjson {
                lines,
                line,
                buffer,
                columns,
                max_record_bytes,
            } => loop {
                buffer.clear();
                let n = read_line(lines.as_mut(), buffer, *max_record_bytes).map_err(|e| {
                    StoreError::Unreadable {
                        source_name: input.name(),
                        reason: format!("line {}: {e}", *line + 1),
                    }
                })?;
                if n == 0 {
                    return Ok(false);
                }
                *line += 1;
                if *line == 1 && buffer.starts_with(UTF8_BOM) {
                    buffer.drain(..UTF8_BOM.len());
                }
                if buffer.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                record.clear(n_columns);
                record.line = *line;
                let object = match serde_json::from_slice::<JsonObject>(buffer) {
                    Ok(object) => object,
                    Err(e) if e.classify() == serde_json::error::Category::Data => {
                        record.problem = Some("the line is not a JSON object".into());
                        return Ok(true);
                    }
                    Err(e) => {
                        record.problem = Some(format!("not valid JSON: {e}"));
                        return Ok(true);
                    }
                };
                let mut seen = Vec::with_capacity(object.0.len());
                for (key, value) in &object.0 {
                    let name = key.trim();
                    let lower = name.to_lowercase();
                    let column = match columns.get(&lower) {
                        Some(c) => *c,
                        None => {
                            self.header.push(name.to_string());
                            self.keys.push(lower.clone());
                            columns.insert(lower, self.header.len() - 1);
                            self.header.len() - 1
                        }
                    };
                    if seen.contains(&column) {
                        record.problem = Some(format!("the object names column `{name}` twice"));
                        return Ok(true);
                    }
                    seen.push(column);
                    // Numbers are taken as written, never through f64: ids of 24 digits
                    // stay distinct, and the validator reads them as it reads CSV.
                    match json_cell(value.get(), name) {
                        Ok(Some(text)) => record.set(column, &text),
                        Ok(None) => {}
                        Err(problem) => {
                            record.problem = Some(problem);
                            return Ok(true);
                        }
                    }
                }
                return Ok(true);
            },
            Inner::Parquet {
                reader,
                columns,
                row,
                rows,
                record_number,
            } => {
                while *row >= *rows {
                    let Some(batch) = reader.next() else {
                        return Ok(false);
                    };
                    let batch = batch.map_err(|e| StoreError::Unreadable {
                        source_name: input.name(),
                        reason: e.to_string(),
                    })?;
                    *columns = batch_as_text(&batch).map_err(|reason| StoreError::Unreadable {
                        source_name: input.name(),
                        reason,
                    })?;
                    *rows = batch.num_rows();
                    *row = 0;
                }
                record.clear(n_columns);
                *record_number += 1;
                record.line = *record_number;
                for (c, column) in columns.iter().enumerate() {
                    if column.is_valid(*row) {
                        record.set(c, column.value(*row));
                    }
                }
                *row += 1;
                Ok(true)
            }
        }
    }
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The text of one JSON value as a cell: `None` for null, numbers as written (never
/// through f64), so a JSON row reads as the same row in CSV would.
fn json_cell<'a>(raw: &'a str, name: &str) -> std::result::Result<Option<Cow<'a, str>>, String> {
    match raw.as_bytes()[0] {
        b'n' => Ok(None),
        b't' => Ok(Some(Cow::Borrowed("true"))),
        b'f' => Ok(Some(Cow::Borrowed("false"))),
        b'"' => serde_json::from_str::<Cow<'a, str>>(raw)
            .map(Some)
            .map_err(|e| format!("not valid JSON: {e}")),
        b'[' | b'{' => Err(format!(
            "column `{name}`: nested JSON values are not supported"
        )),
        _ => Ok(Some(Cow::Borrowed(raw))),
    }
}

/// Checks one JSON object (a line of NDJSON) by the rules an import of `entity`
/// applies, without storing it: the same reading of values, the same column checks,
/// the same validator. Keys that are not contract columns are dimensions. Returns the
/// row's id.
pub fn check_json_row(
    entity: cxkpi_core::entity::Entity,
    config: &cxkpi_core::config::Config,
    json: &str,
) -> std::result::Result<String, cxkpi_core::validate::Rejection> {
    use cxkpi_core::validate::{Rejection, RowValidator};
    let object: JsonObject = serde_json::from_str(json).map_err(|e| {
        Rejection::record(if e.classify() == serde_json::error::Category::Data {
            "the line is not a JSON object".to_string()
        } else {
            format!("not valid JSON: {e}")
        })
    })?;
    let columns = entity.columns();
    let mut cells: Vec<Option<Cow<str>>> = vec![None; columns.len()];
    // The column names as the NDJSON reader keeps them: as written (trimmed), and
    // lower-cased as keys.
    let (mut keys, mut header) = (Vec::new(), Vec::new());
    for (key, value) in &object.0 {
        let name = key.trim();
        let lower = name.to_lowercase();
        if keys.contains(&lower) {
            return Err(Rejection::record(format!(
                "the object names column `{name}` twice"
            )));
        }
        let cell = json_cell(value.get(), name).map_err(Rejection::record)?;
        keys.push(lower);
        header.push(name.to_string());
        if cell.is_some()
            && let Some(reason) = crate::import::invalid_column(&keys, &header, keys.len() - 1)
        {
            return Err(Rejection::invalid_column(reason));
        }
        if let Some(c) = entity.column_index(&keys[keys.len() - 1]) {
            cells[c] = cell;
        }
    }
    let cells: Vec<Option<&str>> = cells.iter().map(|c| c.as_deref()).collect();
    RowValidator::new(entity, config).validate(&cells, &mut Vec::new())?;
    let id = entity
        .column_index(entity.id_column())
        .and_then(|c| cells[c])
        .unwrap_or_default();
    Ok(id.to_string())
}

/// One JSON object with its values as written, in order (keys may repeat; the caller
/// says so).
struct JsonObject(Vec<(String, Box<serde_json::value::RawValue>)>);

impl<'de> serde::Deserialize<'de> for JsonObject {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = JsonObject;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<JsonObject, A::Error> {
                let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some(entry) = map.next_entry()? {
                    fields.push(entry);
                }
                Ok(JsonObject(fields))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// Reads one line (with its `\n`) into `buffer`, failing once it is longer than
/// `limit` without ending; returns the bytes read (0 at the end).
fn read_line(reader: &mut dyn BufRead, buffer: &mut Vec<u8>, limit: u64) -> io::Result<usize> {
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Ok(buffer.len());
        }
        let (take, done) = match available.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        buffer.extend_from_slice(&available[..take]);
        reader.consume(take);
        if done {
            return Ok(buffer.len());
        }
        if buffer.len() as u64 > limit {
            return Err(io::Error::new(io::ErrorKind::InvalidData, TooLong(limit)));
        }
    }
}

/// The line a record's last field began on, when that field runs over lines.
fn last_field_opened(raw: &csv::ByteRecord, line: u64) -> Option<u64> {
    let last = raw.iter().next_back()?;
    if !last.contains(&b'\n') {
        return None;
    }
    let newlines = raw
        .iter()
        .take(raw.len() - 1)
        .map(|f| f.iter().filter(|b| **b == b'\n').count() as u64)
        .sum::<u64>();
    Some(line + newlines)
}

/// The reason to abandon an input whose record has the wrong number of fields because
/// a quoted field ran over lines: a stray `"` swallows every later line into one field.
fn unbalanced_quote(raw: &csv::ByteRecord, line: u64, n_columns: usize) -> Option<String> {
    let newlines = |field: &[u8]| field.iter().filter(|b| **b == b'\n').count() as u64;
    let swallowing = raw.iter().position(|f| f.contains(&b'\n'))?;
    let opened = line + raw.iter().take(swallowing).map(newlines).sum::<u64>();
    // A quote that runs to the end of the input holds the last line's line break too.
    let trailing = raw
        .iter()
        .next_back()
        .is_some_and(|f| f.ends_with(b"\n") && raw.len() == swallowing + 1);
    let last = line + raw.iter().map(newlines).sum::<u64>() - u64::from(trailing);
    Some(format!(
        "line {opened}: a quote (\") opened there is not closed until line {last}, and the record then has {} fields where the header has {n_columns}: an unbalanced quote swallowed lines {opened}-{last}",
        raw.len()
    ))
}

/// Guesses the format of standard input from its first bytes.
fn sniff(head: &[u8]) -> InputFormat {
    let head = head.strip_prefix(UTF8_BOM).unwrap_or(head);
    if head.starts_with(b"PAR1") {
        InputFormat::Parquet
    } else if head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        InputFormat::Ndjson
    } else {
        InputFormat::Csv
    }
}

/// Formats every column of a Parquet batch as text of the import grammar.
fn batch_as_text(batch: &RecordBatch) -> std::result::Result<Vec<StringArray>, String> {
    let options = CastOptions {
        safe: false,
        format_options: FormatOptions::new()
            .with_timestamp_tz_format(Some("%Y-%m-%dT%H:%M:%S%.f%:z"))
            .with_timestamp_format(Some("%Y-%m-%dT%H:%M:%S%.f"))
            .with_date_format(Some("%Y-%m-%d")),
    };
    batch
        .columns()
        .iter()
        .zip(batch.schema().fields())
        .map(|(column, field)| {
            let column: ArrayRef = match column.data_type() {
                // A Date64 is milliseconds; read it as the date it names.
                DataType::Date64 => cast_with_options(column, &DataType::Date32, &options)
                    .map_err(|e| e.to_string())?,
                _ => Arc::clone(column),
            };
            let text = cast_with_options(&column, &DataType::Utf8, &options).map_err(|e| {
                format!(
                    "column `{}` of type {} cannot be read: {e}",
                    field.name(),
                    field.data_type()
                )
            })?;
            Ok(text
                .as_any()
                .downcast_ref::<StringArray>()
                .expect("cast to Utf8 gives a StringArray")
                .clone())
        })
        .collect()
}
