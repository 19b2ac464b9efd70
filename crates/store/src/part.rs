//! Part files: building Arrow batches from validated rows, and writing, reading and
//! rewriting the immutable Parquet files a table is made of.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use arrow::array::{
    ArrayRef, BooleanArray, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder,
    RecordBatch, StringArray, StringBuilder, TimestampMicrosecondBuilder, UInt64Array,
    UInt64Builder, new_null_array,
};
use arrow::datatypes::{DataType, SchemaRef};
use cxkpi_core::entity::{ColumnType, Entity};
use cxkpi_core::validate::Value;
use parquet::arrow::ArrowWriter;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;

use crate::error::{IoContext, Result, StoreError};
use crate::manifest::Part;
use crate::schema::{self, ROW_HASH};

/// Rows per Arrow batch handed to the writer.
pub(crate) const BATCH_ROWS: usize = 64 * 1024;

enum ColumnBuilder {
    Text(StringBuilder),
    Timestamp(TimestampMicrosecondBuilder),
    Date(Date32Builder),
    Float(Float64Builder),
    Int(Int64Builder),
    Bool(BooleanBuilder),
}

impl ColumnBuilder {
    fn new(ty: ColumnType) -> ColumnBuilder {
        match ty {
            ColumnType::Text => ColumnBuilder::Text(StringBuilder::new()),
            ColumnType::Timestamp => ColumnBuilder::Timestamp(
                TimestampMicrosecondBuilder::new().with_timezone(schema::UTC),
            ),
            ColumnType::Date => ColumnBuilder::Date(Date32Builder::new()),
            ColumnType::Decimal => ColumnBuilder::Float(Float64Builder::new()),
            ColumnType::Integer | ColumnType::Score => ColumnBuilder::Int(Int64Builder::new()),
            ColumnType::Boolean => ColumnBuilder::Bool(BooleanBuilder::new()),
        }
    }

    fn append(&mut self, value: Value, cell: Option<&str>) {
        match (self, value) {
            (ColumnBuilder::Text(b), Value::Text) => b.append_option(cell),
            (ColumnBuilder::Text(b), Value::DefaultText(t)) => b.append_value(t),
            (ColumnBuilder::Timestamp(b), Value::Timestamp(t)) => b.append_value(t),
            (ColumnBuilder::Date(b), Value::Date(d)) => b.append_value(d),
            (ColumnBuilder::Float(b), Value::Float(x)) => b.append_value(x),
            (ColumnBuilder::Int(b), Value::Int(n)) => b.append_value(n),
            (ColumnBuilder::Bool(b), Value::Bool(x)) => b.append_value(x),
            (builder, Value::Null) => builder.append_null(),
            (_, value) => unreachable!("validator produced {value:?} for another column type"),
        }
    }

    fn append_null(&mut self) {
        match self {
            ColumnBuilder::Text(b) => b.append_null(),
            ColumnBuilder::Timestamp(b) => b.append_null(),
            ColumnBuilder::Date(b) => b.append_null(),
            ColumnBuilder::Float(b) => b.append_null(),
            ColumnBuilder::Int(b) => b.append_null(),
            ColumnBuilder::Bool(b) => b.append_null(),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            ColumnBuilder::Text(b) => Arc::new(b.finish()),
            ColumnBuilder::Timestamp(b) => Arc::new(b.finish()),
            ColumnBuilder::Date(b) => Arc::new(b.finish()),
            ColumnBuilder::Float(b) => Arc::new(b.finish()),
            ColumnBuilder::Int(b) => Arc::new(b.finish()),
            ColumnBuilder::Bool(b) => Arc::new(b.finish()),
        }
    }
}

/// Accumulates validated rows of one entity into Arrow batches of a part schema.
pub(crate) struct BatchBuilder {
    entity: Entity,
    schema: SchemaRef,
    columns: Vec<ColumnBuilder>,
    /// The derived columns' builders (responses: the comment's sentiment) and the
    /// contract column each is computed from.
    derived: Vec<(usize, Float64Builder)>,
    dimensions: Vec<StringBuilder>,
    hashes: UInt64Builder,
    len: usize,
}

impl BatchBuilder {
    pub fn new(entity: Entity, dimensions: &[String]) -> BatchBuilder {
        BatchBuilder {
            entity,
            schema: schema::part_schema(entity, dimensions),
            columns: entity
                .columns()
                .iter()
                .map(|c| ColumnBuilder::new(c.ty))
                .collect(),
            derived: schema::derived_columns(entity)
                .iter()
                .map(|_| {
                    let comment = entity
                        .column_index("comment")
                        .expect("responses have comments");
                    (comment, Float64Builder::new())
                })
                .collect(),
            dimensions: dimensions.iter().map(|_| StringBuilder::new()).collect(),
            hashes: UInt64Builder::new(),
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Appends a row: one value and cell per contract column, one cell per dimension.
    pub fn append(
        &mut self,
        values: &[Value],
        cells: &[Option<&str>],
        dims: &[Option<&str>],
        hash: u64,
    ) {
        for ((builder, value), cell) in self.columns.iter_mut().zip(values).zip(cells) {
            builder.append(*value, *cell);
        }
        for (source, builder) in &mut self.derived {
            // The only derived column: VADER's compound score of the comment.
            let text = cells[*source].filter(|t| !t.trim().is_empty());
            builder.append_option(text.map(|t| cxkpi_core::sentiment::polarity(t).compound));
        }
        for (builder, cell) in self.dimensions.iter_mut().zip(dims) {
            builder.append_option(*cell);
        }
        self.hashes.append_value(hash);
        self.len += 1;
    }

    /// The rows so far as a batch; the builder is empty afterwards.
    pub fn finish(&mut self) -> Result<RecordBatch> {
        let mut arrays: Vec<ArrayRef> =
            self.columns.iter_mut().map(ColumnBuilder::finish).collect();
        arrays.extend(
            self.derived
                .iter_mut()
                .map(|(_, b)| Arc::new(b.finish()) as ArrayRef),
        );
        arrays.extend(
            self.dimensions
                .iter_mut()
                .map(|b| Arc::new(b.finish()) as ArrayRef),
        );
        arrays.push(Arc::new(self.hashes.finish()));
        self.len = 0;
        Ok(RecordBatch::try_new(Arc::clone(&self.schema), arrays)?)
    }

    /// Grows the dimension set to `dimensions` (the current ones, then new ones): rows
    /// already appended have no value for the new ones. An NDJSON input whose lines
    /// keep adding keys so stays in one batch instead of a part file per new key.
    pub fn add_dimensions(&mut self, dimensions: &[String]) {
        debug_assert!(dimensions.len() >= self.dimensions.len());
        for _ in self.dimensions.len()..dimensions.len() {
            let mut builder = StringBuilder::new();
            builder.append_nulls(self.len);
            self.dimensions.push(builder);
        }
        self.schema = schema::part_schema(self.entity, dimensions);
    }
}

/// Text columns are Snappy-compressed (ids shrink about threefold); the others are
/// stored uncompressed. On the 1M demo Snappy shrank timestamps, amounts and row
/// hashes by 0-7%, and its decompression was 10.4% of a scorecard's profile (1.7%
/// with text alone compressed).
fn writer_properties(schema: &SchemaRef) -> WriterProperties {
    let mut builder = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(1 << 20));
    for field in schema.fields() {
        if !matches!(
            field.data_type(),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        ) {
            builder = builder.set_column_compression(
                ColumnPath::from(field.name().as_str()),
                Compression::UNCOMPRESSED,
            );
        }
    }
    builder.build()
}

/// A new part file name: the version it is written for plus a nonce, so that files of
/// a crashed attempt never collide with a later one.
pub(crate) fn new_part_name(entity: Entity, version: u64, seq: usize) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let nonce = nanos ^ (u64::from(std::process::id()) << 40);
    format!(
        "{}/{version:08}-{nonce:016x}-{seq:03}.parquet",
        entity.name()
    )
}

/// An open part file being written.
pub(crate) struct OpenPart {
    file: String,
    path: PathBuf,
    schema: SchemaRef,
    writer: ArrowWriter<File>,
    rows: u64,
}

impl OpenPart {
    pub fn create(store_dir: &Path, file: String, schema: SchemaRef) -> Result<OpenPart> {
        let path = store_dir.join(&file);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).context(|| format!("creating {}", dir.display()))?;
        }
        let out = File::create(&path).context(|| format!("creating {}", path.display()))?;
        let writer =
            ArrowWriter::try_new(out, Arc::clone(&schema), Some(writer_properties(&schema)))?;
        Ok(OpenPart {
            file,
            path,
            schema,
            writer,
            rows: 0,
        })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.writer.write(batch)?;
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Writes the footer and syncs the file to disk.
    pub fn close(mut self) -> Result<Part> {
        self.writer.finish()?;
        self.writer
            .inner()
            .sync_all()
            .context(|| format!("syncing {}", self.path.display()))?;
        Ok(Part {
            file: self.file,
            rows: self.rows,
        })
    }
}

/// A part written by an import, with the ordinal of its first row in the import.
pub(crate) struct NewPart {
    pub part: Part,
    pub first_ordinal: u64,
}

/// Writes batches on its own thread, so that encoding Parquet overlaps with parsing
/// and validating the next rows. A batch with another schema (more dimensions) starts
/// a new part.
pub(crate) struct PartWriter {
    sender: Option<SyncSender<RecordBatch>>,
    thread: Option<JoinHandle<Result<Vec<NewPart>>>>,
}

impl PartWriter {
    pub fn spawn(store_dir: &Path, entity: Entity, version: u64) -> PartWriter {
        let (sender, receiver) = sync_channel::<RecordBatch>(2);
        let store_dir = store_dir.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("cxkpi-part-writer".into())
            .spawn(move || write_parts(&store_dir, entity, version, receiver))
            .expect("spawning the part writer thread");
        PartWriter {
            sender: Some(sender),
            thread: Some(thread),
        }
    }

    /// Hands a batch to the writer; an error means the writer failed (see `finish`).
    pub fn send(&self, batch: RecordBatch) -> Result<()> {
        let sender = self.sender.as_ref().expect("not finished");
        if sender.send(batch).is_err() {
            return Err(StoreError::Internal("the part writer stopped".into()));
        }
        Ok(())
    }

    /// Waits for the writer; returns the parts written, in order.
    pub fn finish(mut self) -> Result<Vec<NewPart>> {
        self.sender.take();
        let thread = self.thread.take().expect("finish once");
        thread
            .join()
            .map_err(|_| StoreError::Internal("the part writer panicked".into()))?
    }
}

impl Drop for PartWriter {
    fn drop(&mut self) {
        self.sender.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn write_parts(
    store_dir: &Path,
    entity: Entity,
    version: u64,
    receiver: Receiver<RecordBatch>,
) -> Result<Vec<NewPart>> {
    let abort_after = std::env::var("CXKPI_ABORT_AFTER_BATCHES")
        .ok()
        .and_then(|v| v.parse::<u64>().ok());
    let mut done = Vec::new();
    let mut current: Option<(OpenPart, u64)> = None;
    let mut ordinal = 0u64;
    let mut batches = 0u64;
    for batch in receiver {
        if current
            .as_ref()
            .is_some_and(|(p, _)| *p.schema() != batch.schema())
        {
            let (part, first_ordinal) = current.take().expect("checked");
            done.push(NewPart {
                part: part.close()?,
                first_ordinal,
            });
        }
        if current.is_none() {
            let file = new_part_name(entity, version, done.len());
            current = Some((OpenPart::create(store_dir, file, batch.schema())?, ordinal));
        }
        let (part, _) = current.as_mut().expect("opened");
        part.write(&batch)?;
        ordinal += batch.num_rows() as u64;
        if part.rows >= crate::compact::TARGET_PART_ROWS {
            // Parts of a bounded size: a later upsert rewrites one of them, not a table.
            let (part, first_ordinal) = current.take().expect("open");
            done.push(NewPart {
                part: part.close()?,
                first_ordinal,
            });
        }
        batches += 1;
        if abort_after == Some(batches) {
            // Test hook: die like a `kill -9` in the middle of an import.
            std::process::abort();
        }
    }
    if let Some((part, first_ordinal)) = current {
        done.push(NewPart {
            part: part.close()?,
            first_ordinal,
        });
    }
    Ok(done)
}

/// What is wrong with a part file the manifest names, if anything: it must be there
/// and its footer must count the rows the manifest promises.
pub(crate) fn check(store_dir: &Path, part: &Part) -> Option<String> {
    let path = store_dir.join(&part.file);
    let file = match File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Some(format!(
                "part file {} ({} rows) is missing",
                path.display(),
                part.rows
            ));
        }
        Err(e) => {
            return Some(format!(
                "part file {} cannot be opened: {e}",
                path.display()
            ));
        }
    };
    match parquet::file::metadata::ParquetMetaDataReader::new().parse_and_finish(&file) {
        Ok(meta) if meta.file_metadata().num_rows() as u64 == part.rows => None,
        Ok(meta) => Some(format!(
            "part file {} holds {} rows, the manifest says {}",
            path.display(),
            meta.file_metadata().num_rows(),
            part.rows
        )),
        Err(e) => Some(format!(
            "part file {} is not a readable Parquet file: {e}",
            path.display()
        )),
    }
}

/// Reads the id and row-hash columns of a part.
pub(crate) fn read_ids(
    store_dir: &Path,
    entity: Entity,
    part: &Part,
    mut each: impl FnMut(&str, u64),
) -> Result<()> {
    let path = store_dir.join(&part.file);
    let file = File::open(&path).context(|| format!("opening {}", path.display()))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)?;
    let mask = ProjectionMask::columns(builder.parquet_schema(), [entity.id_column(), ROW_HASH]);
    for batch in builder
        .with_projection(mask)
        .with_batch_size(BATCH_ROWS)
        .build()?
    {
        let batch = batch?;
        let ids = column::<StringArray>(&batch, entity.id_column())?;
        let hashes = column::<UInt64Array>(&batch, ROW_HASH)?;
        for (id, hash) in ids.iter().zip(hashes.values()) {
            each(id.unwrap_or(""), *hash);
        }
    }
    Ok(())
}

fn column<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> Result<&'a T> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| StoreError::Internal(format!("part file lacks column {name}")))
}

/// Reads every batch of a part, cast to `schema` (missing dimensions become null).
pub(crate) fn read_part(
    store_dir: &Path,
    part: &Part,
    schema: &SchemaRef,
    mut each: impl FnMut(RecordBatch) -> Result<()>,
) -> Result<()> {
    let path = store_dir.join(&part.file);
    let file = File::open(&path).context(|| format!("opening {}", path.display()))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)?
        .with_batch_size(BATCH_ROWS)
        .build()?;
    for batch in reader {
        let batch = batch?;
        let columns = schema
            .fields()
            .iter()
            .map(|f| match batch.column_by_name(f.name()) {
                Some(c) => Arc::clone(c),
                None => new_null_array(f.data_type(), batch.num_rows()),
            })
            .collect();
        each(RecordBatch::try_new(Arc::clone(schema), columns)?)?;
    }
    Ok(())
}

/// Rewrites a part keeping the rows for which `keep(ordinal within part, id)` is true.
/// Returns the new part, or `None` when no row is kept.
pub(crate) fn rewrite_part(
    store_dir: &Path,
    entity: Entity,
    part: &Part,
    new_file: String,
    mut keep: impl FnMut(u64, &str) -> bool,
) -> Result<Option<Part>> {
    let path = store_dir.join(&part.file);
    let file = File::open(&path).context(|| format!("opening {}", path.display()))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)?;
    let schema = builder.schema().clone();
    let mut out = OpenPart::create(store_dir, new_file, schema)?;
    let mut ordinal = 0u64;
    for batch in builder.with_batch_size(BATCH_ROWS).build()? {
        let batch = batch?;
        let ids = column::<StringArray>(&batch, entity.id_column())?;
        let mask: BooleanArray = ids
            .iter()
            .map(|id| {
                let k = keep(ordinal, id.unwrap_or(""));
                ordinal += 1;
                Some(k)
            })
            .collect();
        let kept = arrow::compute::filter_record_batch(&batch, &mask)?;
        if kept.num_rows() > 0 {
            out.write(&kept)?;
        }
    }
    let part = out.close()?;
    if part.rows == 0 {
        let path = store_dir.join(&part.file);
        fs::remove_file(&path).context(|| format!("removing {}", path.display()))?;
        return Ok(None);
    }
    Ok(Some(part))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Text columns (ids, kinds, dimensions) are compressed, the others not.
    #[test]
    fn only_text_columns_are_compressed() {
        let schema = schema::part_schema(Entity::Orders, &["channel".to_string()]);
        let properties = writer_properties(&schema);
        let codec = |column: &str| properties.compression(&ColumnPath::from(column));
        for column in ["order_id", "customer_id", "channel"] {
            assert_eq!(codec(column), Compression::SNAPPY, "{column}");
        }
        for column in ["ordered_at", "amount", "accurate", ROW_HASH] {
            assert_eq!(codec(column), Compression::UNCOMPRESSED, "{column}");
        }
    }
}
