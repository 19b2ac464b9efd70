//! Import: inputs in, validated rows stored, rejects reported, all or nothing.
//!
//! An import streams each input once: records are read, checked by the core's
//! [`RowValidator`], classified against the ids already stored and the ids seen so far,
//! and the rows to write go in batches to a writer thread that encodes new part files.
//! Memory is bounded by the batch size plus two compact id tables, never by the input.
//!
//! Upsert without duplicates is kept as an invariant of the manifest (no id in two
//! parts), so readers never deduplicate:
//! - an id already stored with the same content is *unchanged* and not written again;
//! - an id stored with other content is *replaced*: the new row goes to the new part and
//!   the part holding the old row is rewritten without it;
//! - an id repeated inside the input: the last valid row wins, the earlier one is
//!   dropped from the new part before commit.
//!
//! Nothing is visible until the manifest switch at the end; a crash before it leaves
//! only orphan files, which the next writer removes.

use std::collections::{BTreeSet, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use cxkpi_core::entity::Entity;
use cxkpi_core::spreadsheet::escape;
use cxkpi_core::validate::{Rejection, RowValidator, Value};
use xxhash_rust::xxh3::xxh3_64;

use crate::Store;
use crate::dedup::InputIds;
use crate::error::{IoContext, Result, StoreError};
use crate::idindex::{self, IdIndex};
use crate::manifest::{self, Part, Pending, Retired, TableState};
use crate::part::{self, BATCH_ROWS, BatchBuilder, NewPart, PartWriter};
use crate::schema::ROW_HASH;
use crate::source::{Input, Record, RecordReader};

/// How to import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Store nothing when any row is rejected.
    pub strict: bool,
    /// How many rejected rows the summary lists (the API answers them); every one is
    /// in the rejects file all the same.
    pub keep_rejections: usize,
}

/// A rejected row, as listed in the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRow {
    /// The input's name.
    pub source: String,
    /// The line (CSV, NDJSON) or record number (Parquet).
    pub line: u64,
    /// Why.
    pub rejection: Rejection,
}

/// Reports progress of long imports; the CLI draws a progress bar with it.
pub trait Progress: Sync {
    /// An input starts; `total_bytes` is its size when known.
    fn start(&self, input: &str, total_bytes: Option<u64>);
    /// Bytes of the current input read so far.
    fn position(&self, bytes: u64);
    /// The current input is done.
    fn finish(&self);
}

/// Progress reporting that reports nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: &str, _: Option<u64>) {}
    fn position(&self, _: u64) {}
    fn finish(&self) {}
}

/// What happened to one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputSummary {
    /// The input's name.
    pub name: String,
    /// Records read.
    pub read: u64,
    /// Records rejected.
    pub rejected: u64,
    /// Why the whole input was refused, if it was.
    pub refused: Option<String>,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    /// The entity imported.
    pub entity: Entity,
    /// Per input.
    pub inputs: Vec<InputSummary>,
    /// Records read, over all inputs.
    pub read: u64,
    /// Ids not stored before.
    pub new: u64,
    /// Ids stored before with other content, now replaced.
    pub replaced: u64,
    /// Ids stored before with the same content.
    pub unchanged: u64,
    /// Valid rows superseded by a later row of the same id in this import.
    pub superseded: u64,
    /// Rows rejected.
    pub rejected: u64,
    /// Where the rejected rows are listed.
    pub rejects_file: Option<PathBuf>,
    /// The first rejected rows, up to [`ImportOptions::keep_rejections`].
    pub rejections: Vec<RejectedRow>,
    /// Whether the valid rows were stored (false after `--strict` with rejects, or when
    /// every input was refused).
    pub stored: bool,
    /// Rows in the table afterwards.
    pub table_rows: u64,
    /// Why the compaction after a committed import failed, if it did: the rows are
    /// stored all the same, only in more part files than needed.
    pub compaction_failed: Option<String>,
}

/// The most columns an entity has (tickets: 11).
const MAX_CONTRACT_COLUMNS: usize = 16;

/// Where each source column goes.
#[derive(Debug, Clone, Copy)]
enum Target {
    Contract(usize),
    Dimension(usize),
    /// A column the store derives itself (`comment_sentiment`): its values are ignored.
    Ignored,
    /// A column that cannot be stored (no name, a reserved name); the index is into
    /// `Importer::invalid_reasons`. A whole CSV or Parquet input with one is refused;
    /// an NDJSON line that has a value for it is rejected.
    Invalid(usize),
}

struct Rejects {
    path: PathBuf,
    writer: Option<csv::Writer<fs::File>>,
    count: u64,
    kept: Vec<RejectedRow>,
    keep: usize,
}

impl Rejects {
    fn new(workspace: &Path, entity: Entity, keep: usize) -> Rejects {
        let stamp = jiff::Timestamp::now()
            .strftime("%Y%m%dT%H%M%S%.3fZ")
            .to_string();
        Rejects {
            path: workspace
                .join("rejects")
                .join(format!("{stamp}-{}.csv", entity.name())),
            writer: None,
            count: 0,
            kept: Vec::new(),
            keep,
        }
    }

    fn add(&mut self, source: &str, line: u64, rejection: &Rejection) -> Result<()> {
        if self.writer.is_none() {
            if let Some(dir) = self.path.parent() {
                fs::create_dir_all(dir).context(|| format!("creating {}", dir.display()))?;
            }
            let mut writer = csv::Writer::from_path(&self.path).map_err(|e| StoreError::Io {
                context: format!("creating {}", self.path.display()),
                error: e.into(),
            })?;
            writer
                .write_record(["source", "line", "column", "value", "reason"])
                .map_err(|e| csv_error(&self.path, e))?;
            self.writer = Some(writer);
        }
        let writer = self.writer.as_mut().expect("created");
        // The value is the input's text, which may be a formula: the file is for people.
        writer
            .write_record([
                &*escape(source),
                &line.to_string(),
                rejection.column.as_deref().unwrap_or(""),
                &escape(&rejection.value),
                &escape(&rejection.reason),
            ])
            .map_err(|e| csv_error(&self.path, e))?;
        self.count += 1;
        if self.kept.len() < self.keep {
            self.kept.push(RejectedRow {
                source: source.to_string(),
                line,
                rejection: rejection.clone(),
            });
        }
        Ok(())
    }

    fn finish(self) -> Result<Option<PathBuf>> {
        match self.writer {
            Some(mut w) => {
                w.flush()
                    .context(|| format!("writing {}", self.path.display()))?;
                Ok(Some(self.path))
            }
            None => Ok(None),
        }
    }
}

fn csv_error(path: &Path, e: csv::Error) -> StoreError {
    StoreError::Io {
        context: format!("writing {}", path.display()),
        error: e.into(),
    }
}

/// The state of one import across its inputs.
struct Importer<'a> {
    store: &'a Store,
    entity: Entity,
    validator: RowValidator<'a>,
    existing: IdIndex,
    seen: InputIds,
    ordinal: u64,
    dimensions: Vec<String>,
    builder: BatchBuilder,
    writer: PartWriter,
    rejects: Rejects,
    values: Vec<Value>,
    hash_buffer: Vec<u8>,
    invalid_reasons: Vec<String>,
}

impl Importer<'_> {
    fn flush(&mut self) -> Result<()> {
        if self.builder.len() > 0 {
            let batch = self.builder.finish()?;
            self.writer.send(batch)?;
        }
        Ok(())
    }

    /// Whether the values of `target` are folded (`[import] fold_case`): a text column
    /// other than an id, or a dimension, that the setting names.
    fn folds(&self, target: &Target) -> bool {
        let named = |name: &str| self.store.config.fold_case.iter().any(|f| f == name);
        match *target {
            Target::Contract(c) => {
                let spec = &self.entity.columns()[c];
                spec.ty == cxkpi_core::entity::ColumnType::Text
                    && !spec.name.ends_with("_id")
                    && named(spec.name)
            }
            Target::Dimension(d) => named(&self.dimensions[d]),
            Target::Invalid(_) | Target::Ignored => false,
        }
    }

    /// Maps source columns to targets, adding new dimensions; columns already mapped
    /// keep their target.
    fn map_columns(
        &mut self,
        keys: &[String],
        header: &[String],
        targets: &mut Vec<Target>,
    ) -> Result<()> {
        let mut new_dimensions = Vec::new();
        for (i, key) in keys.iter().enumerate().skip(targets.len()) {
            let target = if let Some(reason) = invalid_column(keys, header, i) {
                self.invalid_reasons.push(reason);
                Target::Invalid(self.invalid_reasons.len() - 1)
            } else {
                match self.entity.column_index(key) {
                    Some(c) => Target::Contract(c),
                    None if crate::schema::derived_columns(self.entity).contains(&key.as_str()) => {
                        Target::Ignored
                    }
                    None => match self.dimensions.iter().position(|d| d == key) {
                        Some(d) => Target::Dimension(d),
                        None => {
                            new_dimensions.push(key.clone());
                            Target::Dimension(self.dimensions.len() + new_dimensions.len() - 1)
                        }
                    },
                }
            };
            targets.push(target);
        }
        if !new_dimensions.is_empty() {
            self.dimensions.extend(new_dimensions);
            self.builder.add_dimensions(&self.dimensions);
        }
        Ok(())
    }

    fn import_input(&mut self, input: &Input, progress: &dyn Progress) -> Result<InputSummary> {
        let name = input.name();
        let mut reader = RecordReader::open(
            input,
            &self.store.store_dir,
            self.store.config.store.max_record_bytes,
        )?;
        let mut targets = Vec::new();
        let refuse = |reason: String| StoreError::Refused {
            source_name: name.clone(),
            reason,
        };
        if reader.has_fixed_header() {
            let keys = reader.keys().to_vec();
            // Check before mapping, so that a refused input adds no dimension.
            for i in 0..keys.len() {
                if let Some(reason) = invalid_column(&keys, reader.header(), i) {
                    return Err(refuse(reason));
                }
            }
            let missing: Vec<&str> = self
                .entity
                .columns()
                .iter()
                .filter(|c| c.required && !keys.iter().any(|k| k == c.name))
                .map(|c| c.name)
                .collect();
            if !missing.is_empty() {
                return Err(refuse(format!(
                    "missing required column{} {}; the columns found are: {}",
                    if missing.len() > 1 { "s" } else { "" },
                    missing.join(", "),
                    reader.header().join(", ")
                )));
            }
            self.map_columns(&keys, reader.header(), &mut targets)?;
        }
        progress.start(&name, input.size());
        let mut summary = InputSummary {
            name: name.clone(),
            read: 0,
            rejected: 0,
            refused: None,
        };
        let n_contract = self.entity.columns().len();
        let fold_any = !self.store.config.fold_case.is_empty();
        let mut record = Record::default();
        let mut dim_order: Vec<usize> = Vec::new();
        while reader.next(input, &mut record)? {
            summary.read += 1;
            if summary.read.is_multiple_of(65_536) {
                let bytes = reader.bytes_read.load(Ordering::Relaxed);
                progress.position(bytes);
                if summary.read == 65_536 {
                    // Size the id table for the whole input once, from the bytes per
                    // record so far, rather than growing it step by step.
                    if let Some(total) = input.size().filter(|_| bytes > 0) {
                        let estimate = (total as f64 / bytes as f64 * 65_536.0) as usize;
                        self.seen.reserve(estimate.saturating_sub(65_536), 12);
                    }
                }
            }
            if let Some(problem) = record.problem.take() {
                self.rejects
                    .add(&name, record.line, &Rejection::record(problem))?;
                summary.rejected += 1;
                continue;
            }
            if targets.len() < reader.keys().len() {
                let keys = reader.keys().to_vec();
                self.map_columns(&keys, reader.header(), &mut targets)?;
            }
            if dim_order.len() != self.dimensions.len() {
                dim_order = (0..self.dimensions.len()).collect();
                let dimensions = &self.dimensions;
                dim_order.sort_by(|a, b| dimensions[*a].cmp(&dimensions[*b]));
            }
            // Cells of `[import] fold_case` columns, trimmed and in lower case.
            let mut folded: Vec<(Target, String)> = Vec::new();
            let mut cell_array = [None; MAX_CONTRACT_COLUMNS];
            let cells = &mut cell_array[..n_contract];
            // Dimension cells on the stack too, unless there are very many.
            let mut dim_array = [None; 32];
            let mut dim_vec = Vec::new();
            let dims: &mut [Option<&str>] = if self.dimensions.len() <= dim_array.len() {
                &mut dim_array[..self.dimensions.len()]
            } else {
                dim_vec.resize(self.dimensions.len(), None);
                &mut dim_vec
            };
            let mut invalid = None;
            for (source, target) in targets.iter().enumerate() {
                let cell = record.cell(source);
                if fold_any
                    && let Some(text) = cell
                    && self.folds(target)
                {
                    folded.push((*target, text.trim().to_lowercase()));
                }
                match *target {
                    Target::Contract(c) => cells[c] = cell,
                    Target::Dimension(d) => dims[d] = cell,
                    Target::Invalid(r) if cell.is_some() => invalid = Some(r),
                    Target::Invalid(_) | Target::Ignored => {}
                }
            }
            for (target, text) in &folded {
                match *target {
                    Target::Contract(c) => cells[c] = Some(text),
                    Target::Dimension(d) => dims[d] = Some(text),
                    Target::Invalid(_) | Target::Ignored => {}
                }
            }
            if let Some(r) = invalid {
                let rejection = Rejection::invalid_column(self.invalid_reasons[r].clone());
                self.rejects.add(&name, record.line, &rejection)?;
                summary.rejected += 1;
                continue;
            }
            if let Err(rejection) = self.validator.validate(cells, &mut self.values) {
                self.rejects.add(&name, record.line, &rejection)?;
                summary.rejected += 1;
                continue;
            }
            let id = cells[0].expect("the id is required");
            let hash = row_hash(
                &mut self.hash_buffer,
                &self.values,
                cells,
                &self.dimensions,
                &dim_order,
                dims,
            );
            let stored = self.existing.ids.get(id);
            let write = stored.map(|(_, h)| *h) != Some(hash);
            self.seen
                .push(id, write.then_some(self.ordinal), stored.is_some())
                .context(|| format!("writing to {}", self.store.store_dir.display()))?;
            if write {
                self.builder.append(&self.values, cells, dims, hash);
                self.ordinal += 1;
                if self.builder.len() >= BATCH_ROWS {
                    self.flush()?;
                }
            }
        }
        progress.position(reader.bytes_read.load(Ordering::Relaxed));
        progress.finish();
        Ok(summary)
    }
}

/// Why source column `i` cannot be stored, if it cannot.
pub(crate) fn invalid_column(keys: &[String], header: &[String], i: usize) -> Option<String> {
    let key = &keys[i];
    if key.is_empty() {
        Some(format!("column {} has no name", i + 1))
    } else if key == ROW_HASH {
        Some(format!("column name `{}` is reserved", header[i]))
    } else if keys[..i].contains(key) {
        Some(format!("the header names column `{}` twice", header[i]))
    } else {
        None
    }
}

/// The content hash of a validated row: contract values in order, then the present
/// dimensions by name, so that column order and absent-versus-empty dimensions do not
/// matter. The row is serialised into `buffer` (reused across rows) and hashed at once.
fn row_hash(
    buffer: &mut Vec<u8>,
    values: &[Value],
    cells: &[Option<&str>],
    dimensions: &[String],
    dim_order: &[usize],
    dims: &[Option<&str>],
) -> u64 {
    buffer.clear();
    let text = |buffer: &mut Vec<u8>, tag: u8, s: &str| {
        buffer.push(tag);
        buffer.extend_from_slice(&(s.len() as u64).to_le_bytes());
        buffer.extend_from_slice(s.as_bytes());
    };
    for (value, cell) in values.iter().zip(cells) {
        match *value {
            Value::Null => buffer.push(0),
            Value::Text => text(buffer, 1, cell.unwrap_or("")),
            Value::DefaultText(t) => text(buffer, 1, t),
            Value::Timestamp(t) => {
                buffer.push(2);
                buffer.extend_from_slice(&t.to_le_bytes());
            }
            Value::Date(d) => {
                buffer.push(3);
                buffer.extend_from_slice(&d.to_le_bytes());
            }
            Value::Float(x) => {
                buffer.push(4);
                buffer.extend_from_slice(&x.to_bits().to_le_bytes());
            }
            Value::Int(n) => {
                buffer.push(5);
                buffer.extend_from_slice(&n.to_le_bytes());
            }
            Value::Bool(b) => buffer.extend_from_slice(&[6, u8::from(b)]),
        }
    }
    for &d in dim_order {
        if let Some(v) = dims[d] {
            text(buffer, 7, &dimensions[d]);
            text(buffer, 8, v);
        }
    }
    xxh3_64(buffer)
}

/// Runs one import under the store's write lock.
pub(crate) fn run(
    store: &Store,
    entity: Entity,
    inputs: &[Input],
    options: &ImportOptions,
    progress: &dyn Progress,
) -> Result<ImportSummary> {
    let _lock = store.write_lock()?;
    let result = run_locked(store, entity, inputs, options, progress);
    if result.is_err() {
        // What a failed import wrote is dead now (the manifest shows it never
        // committed): removed at once rather than by the next writer.
        let _ = store.clean_up();
    }
    result
}

fn run_locked(
    store: &Store,
    entity: Entity,
    inputs: &[Input],
    options: &ImportOptions,
    progress: &dyn Progress,
) -> Result<ImportSummary> {
    let mut manifest = manifest::load(&store.store_dir)?;
    let table = manifest
        .tables
        .get(entity.name())
        .cloned()
        .unwrap_or_default();
    // The index a long-running writer kept, if it still describes the table; it is
    // put back only after a successful commit.
    let kept_index = store
        .id_indexes
        .as_ref()
        .and_then(|indexes| indexes.lock().expect("not poisoned").remove(&entity))
        .filter(|index| index.describes(&table));
    let existing = match kept_index {
        Some(index) => index,
        None => IdIndex::build(&store.store_dir, entity, &table)?,
    };
    let version = manifest.version + 1;
    let pending = Pending::begin(&store.store_dir, version, manifest.version)?;
    let mut importer = Importer {
        store,
        entity,
        validator: RowValidator::new(entity, &store.config),
        existing,
        seen: InputIds::new(
            store
                .store_dir
                .join(format!("tmp-{}-ids", std::process::id())),
        ),
        ordinal: 0,
        dimensions: table.dimensions.clone(),
        builder: BatchBuilder::new(entity, &table.dimensions),
        writer: PartWriter::spawn(&store.store_dir, entity, version),
        rejects: Rejects::new(&store.root, entity, options.keep_rejections),
        values: Vec::new(),
        hash_buffer: Vec::new(),
        invalid_reasons: Vec::new(),
    };

    let mut summaries = Vec::new();
    for input in inputs {
        match importer.import_input(input, progress) {
            Ok(summary) => summaries.push(summary),
            Err(StoreError::Refused {
                source_name,
                reason,
            }) => {
                progress.finish();
                summaries.push(InputSummary {
                    name: source_name,
                    read: 0,
                    rejected: 0,
                    refused: Some(reason),
                });
            }
            Err(e) => return Err(e),
        }
    }
    importer.flush()?;
    let Importer {
        existing,
        seen,
        dimensions,
        writer,
        mut rejects,
        ..
    } = importer;
    let new_parts = writer.finish()?;
    let rejected = rejects.count;
    let rejections = std::mem::take(&mut rejects.kept);
    let rejects_file = rejects.finish()?;

    let mut summary = ImportSummary {
        entity,
        read: summaries.iter().map(|s| s.read).sum(),
        inputs: summaries,
        new: 0,
        replaced: 0,
        unchanged: 0,
        superseded: 0,
        rejected,
        rejects_file,
        rejections,
        stored: false,
        table_rows: table.rows(),
        compaction_failed: None,
    };
    let all_refused = summary.inputs.iter().all(|s| s.refused.is_some());
    if (options.strict && rejected > 0) || all_refused {
        remove_parts(&store.store_dir, new_parts.iter().map(|p| &p.part));
        pending.end();
        return Ok(summary);
    }

    // The last valid row of every id wins.
    let resolution = seen
        .resolve()
        .context(|| format!("reading back {}", store.store_dir.display()))?;
    summary.new = resolution.new;
    summary.replaced = resolution.replaced;
    summary.unchanged = resolution.unchanged;
    summary.superseded = resolution.superseded;
    let dropped = resolution.dropped;
    let replaced_ids = resolution.replaced_ids;
    let mut parts_to_rewrite = BTreeSet::new();
    let positions = idindex::positions(&table);
    replaced_ids.for_each(|id, ()| {
        if let Some(p) = existing
            .ids
            .get(id)
            .and_then(|&(file, _)| existing.part_of(file, &positions))
        {
            parts_to_rewrite.insert(p);
        }
    });
    drop(positions);

    let mut next_seq = new_parts.len();
    let mut retired = Vec::new();
    // New parts holding superseded rows are rewritten without them.
    let mut parts = Vec::new();
    for NewPart {
        part,
        first_ordinal,
    } in new_parts
    {
        let range = first_ordinal..first_ordinal + part.rows;
        let lo = dropped.partition_point(|o| *o < range.start);
        let hi = dropped.partition_point(|o| *o < range.end);
        if lo == hi {
            parts.push(part);
            continue;
        }
        let drop_here: HashSet<u64> = dropped[lo..hi].iter().map(|o| o - first_ordinal).collect();
        let file = part::new_part_name(entity, version, next_seq);
        next_seq += 1;
        let rewritten = part::rewrite_part(&store.store_dir, entity, &part, file, |o, _| {
            !drop_here.contains(&o)
        })?;
        remove_parts(&store.store_dir, [&part]);
        parts.extend(rewritten);
    }
    // Stored parts holding replaced rows are rewritten without them.
    let mut rewrites: Vec<(String, Option<Part>)> = Vec::new();
    let mut kept = Vec::new();
    for (p, part) in table.parts.iter().enumerate() {
        if !parts_to_rewrite.contains(&p) {
            kept.push(part.clone());
            continue;
        }
        let file = part::new_part_name(entity, version, next_seq);
        next_seq += 1;
        let rewritten = part::rewrite_part(&store.store_dir, entity, part, file, |_, id| {
            replaced_ids.get(id).is_none()
        })?;
        kept.extend(rewritten.iter().cloned());
        rewrites.push((part.file.clone(), rewritten));
        retired.push(part.file.clone());
    }
    if parts.is_empty() && retired.is_empty() {
        // Rows that were all there already are stored; rows that were all rejected
        // are not, and an import of them has failed.
        summary.stored = rejected == 0 || summary.unchanged > 0;
        pending.end();
        return Ok(summary);
    }
    let added = parts.clone();
    kept.extend(parts);
    manifest::sync_dir(&store.store_dir.join(entity.name()))?;
    let new_table = TableState {
        dimensions,
        parts: kept,
    };
    summary.table_rows = new_table.rows();
    manifest.version = version;
    manifest.tables.insert(entity.name().to_string(), new_table);
    let now = unix_now();
    manifest
        .retired
        .extend(retired.into_iter().map(|file| Retired { file, at: now }));
    manifest::commit(&store.store_dir, &manifest)?;
    pending.end();
    summary.stored = true;
    crate::fail_point("after-import-commit");
    let merges = match crate::compact::run_locked(store, &mut manifest, Some(entity), false) {
        Ok((_, merges)) => Some(merges),
        Err(e) => {
            summary.compaction_failed = Some(e.to_string());
            let _ = store.clean_up();
            None
        }
    };
    if let (Some(indexes), Some(merges)) = (&store.id_indexes, merges) {
        // Best effort: an index that cannot follow is dropped and read afresh next time.
        let mut index = existing;
        let followed = (|| -> Result<()> {
            for (old, rewritten) in &rewrites {
                // Without a rewritten file every id of the old one was replaced, and
                // the new parts below take them.
                if let Some(part) = rewritten {
                    index.rename(old, &part.file);
                }
            }
            for part in &added {
                index.add_part(&store.store_dir, entity, part)?;
            }
            for merge in merges.iter().filter(|m| m.entity == entity) {
                for from in &merge.from {
                    index.rename(from, &merge.into);
                }
            }
            Ok(())
        })();
        if followed.is_ok()
            && let Some(table) = manifest.tables.get(entity.name())
        {
            index.set_parts(table);
            indexes.lock().expect("not poisoned").insert(entity, index);
        }
    }
    Ok(summary)
}

pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn remove_parts<'a>(store_dir: &Path, parts: impl IntoIterator<Item = &'a Part>) {
    for part in parts {
        // Best effort: a file left behind is an orphan the next writer removes.
        let _ = fs::remove_file(store_dir.join(&part.file));
    }
}
