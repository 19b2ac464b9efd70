//! Durable intake of survey answers: checked one by one by the import's rules, appended
//! to a write-ahead log and acknowledged only once the log is on disk, then folded into
//! the store in the background.
//!
//! - The log is a directory `intake/` of NDJSON segments `wal-<seq>.ndjson`. One writer
//!   thread appends: it takes every batch waiting, writes them with one `write`, makes
//!   them durable with one `fdatasync` and only then answers each (group commit), so
//!   64 clients cost one disk flush, not 64.
//! - Every second the folder seals the active segment (the writer starts the next one)
//!   and imports the sealed segments into `responses` as one atomic change, then
//!   deletes them. Answers are therefore visible to queries about a second after they
//!   were acknowledged.
//! - The store upserts by `response_id`, so a segment imported twice (a crash between
//!   the import's commit and the segment's removal) or an answer sent twice is stored
//!   once. At start every segment left on disk is folded first; a torn last line, which
//!   no client was told was stored, is cut off.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use cxkpi_core::entity::Entity;
use cxkpi_core::validate::Rejection;
use cxkpi_store::{ImportOptions, Input, InputFormat, NoProgress, Store};
use serde_json::value::RawValue;

use crate::error::{AppError, ErrorKind, Result};

/// The directory of the log, in the workspace.
pub const INTAKE_DIR: &str = "intake";

/// The most answers one request may carry.
pub const MAX_BATCH: usize = 1000;

/// What happened to one answer of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Durable; stored in the store within a few seconds.
    Accepted,
    /// Not stored, and why.
    Rejected(Rejection),
}

/// One answer of a request, in the request's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Its position in the request (0 for a single object).
    pub index: usize,
    /// Its `response_id`, when it has one.
    pub response_id: Option<String>,
    /// What happened.
    pub outcome: Outcome,
}

/// An answer that passed the checks, as the line the log will hold.
struct Checked {
    line: String,
}

/// Reads a request body (one JSON object or an array of up to [`MAX_BATCH`]) and
/// checks every answer by the rules of `cxkpi import responses`.
fn check_body(body: &[u8], store: &Store) -> Result<(Vec<Answer>, Vec<Checked>)> {
    let text = std::str::from_utf8(body)
        .map_err(|e| AppError::usage(format!("the body is not UTF-8: {e}")))?;
    let trimmed = text.trim_start();
    let objects: Vec<Box<RawValue>> = if trimmed.starts_with('[') {
        serde_json::from_str(text)
            .map_err(|e| AppError::usage(format!("the body is not a JSON array: {e}")))?
    } else if trimmed.starts_with('{') {
        vec![
            serde_json::from_str(text)
                .map_err(|e| AppError::usage(format!("the body is not a JSON object: {e}")))?,
        ]
    } else {
        return Err(AppError::usage(
            "the body must be a JSON object (one answer) or an array of them",
        ));
    };
    if objects.is_empty() {
        return Err(AppError::usage("the array holds no answer"));
    }
    if objects.len() > MAX_BATCH {
        return Err(AppError::new(
            ErrorKind::Invalid,
            format!(
                "{} answers in one request; send at most {MAX_BATCH}",
                objects.len()
            ),
        ));
    }
    let mut answers = Vec::with_capacity(objects.len());
    let mut checked = Vec::with_capacity(objects.len());
    for (index, object) in objects.iter().enumerate() {
        let raw = object.get();
        match cxkpi_store::check_json_row(Entity::Responses, store.config(), raw) {
            Ok(id) => {
                answers.push(Answer {
                    index,
                    response_id: Some(id),
                    outcome: Outcome::Accepted,
                });
                checked.push(Checked {
                    line: one_line(raw),
                });
            }
            Err(rejection) => answers.push(Answer {
                index,
                response_id: response_id_of(raw),
                outcome: Outcome::Rejected(rejection),
            }),
        }
    }
    Ok((answers, checked))
}

/// The `response_id` of a rejected object, when it has a plain one (for the answer).
fn response_id_of(raw: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Id<'a> {
        #[serde(borrow)]
        response_id: Option<&'a RawValue>,
    }
    let id = serde_json::from_str::<Id>(raw).ok()?.response_id?.get();
    match serde_json::from_str::<String>(id) {
        Ok(text) => Some(text),
        Err(_) if id.bytes().all(|b| b.is_ascii_digit() || b == b'-') => Some(id.to_string()),
        Err(_) => None,
    }
}

/// A JSON value on one line: whitespace outside strings is dropped (inside strings a
/// line break is always escaped, so the result holds none).
fn one_line(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in raw.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if !c.is_ascii_whitespace() {
            if c == '"' {
                in_string = true;
            }
            out.push(c);
        }
    }
    out
}

/// Counters of the intake, for `/metrics`.
#[derive(Debug, Default)]
pub struct IntakeStats {
    /// Answers made durable and acknowledged.
    pub acknowledged: AtomicU64,
    /// Answers rejected by the checks.
    pub rejected: AtomicU64,
    /// Disk flushes of the log (each covers one or more requests).
    pub flushes: AtomicU64,
    /// Answers in the log not yet folded into the store.
    pub depth: AtomicU64,
    /// Answers folded into the store.
    pub folded: AtomicU64,
    /// Folds that failed (the log is kept and folded again).
    pub fold_failures: AtomicU64,
}

enum Command {
    Append {
        lines: Vec<Checked>,
        done: tokio::sync::oneshot::Sender<io::Result<()>>,
    },
    /// Seal the active segment if it holds anything; answers the number of the
    /// active segment afterwards (every segment before it is sealed).
    Rotate { done: Sender<io::Result<u64>> },
}

/// The intake of a workspace: a log writer and a folder, both on threads of their own.
pub struct Intake {
    commands: Mutex<Option<Sender<Command>>>,
    stats: Arc<IntakeStats>,
    folder: Mutex<Option<(Sender<()>, JoinHandle<()>)>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    closed: AtomicBool,
}

impl std::fmt::Debug for Intake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Intake")
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// What the intake says to its owner: a fold changed the store.
pub type OnFold = Box<dyn Fn() + Send + Sync>;

fn segment_name(seq: u64) -> String {
    format!("wal-{seq:012}.ndjson")
}

fn segments(dir: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(seq) = name
            .to_str()
            .and_then(|n| n.strip_prefix("wal-"))
            .and_then(|n| n.strip_suffix(".ndjson"))
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        found.push((seq, entry.path()));
    }
    found.sort();
    Ok(found)
}

/// Cuts a segment after its last complete line: a line without its end was being
/// written when the process died, and was never acknowledged.
fn cut_torn_tail(path: &Path) -> io::Result<u64> {
    let bytes = fs::read(path)?;
    let keep = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    if keep < bytes.len() {
        let file = OpenOptions::new().write(true).open(path)?;
        file.set_len(keep as u64)?;
        file.sync_all()?;
    }
    Ok(bytes[..keep].iter().filter(|b| **b == b'\n').count() as u64)
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn io_error(context: &str, e: io::Error) -> AppError {
    AppError::new(ErrorKind::Internal, format!("{context}: {e}"))
}

impl Intake {
    /// Opens the workspace's log (creating `intake/`), folds what an earlier run left
    /// in it, and starts the writer and the folder (every `fold_every`). `on_fold` is
    /// called after each fold that stored answers.
    pub fn open(store: Store, fold_every: Duration, on_fold: OnFold) -> Result<Intake> {
        let dir = store.root().join(INTAKE_DIR);
        fs::create_dir_all(&dir)
            .map_err(|e| io_error(&format!("creating {}", dir.display()), e))?;
        let left =
            segments(&dir).map_err(|e| io_error(&format!("reading {}", dir.display()), e))?;
        let stats = Arc::new(IntakeStats::default());
        for (_, path) in &left {
            let lines = cut_torn_tail(path)
                .map_err(|e| io_error(&format!("reading {}", path.display()), e))?;
            stats.depth.fetch_add(lines, Ordering::Relaxed);
        }
        let next = left.last().map_or(1, |(seq, _)| seq + 1);
        let (commands, receiver) = mpsc::channel();
        let writer_stats = Arc::clone(&stats);
        let writer_dir = dir.clone();
        let writer = std::thread::Builder::new()
            .name("cxkpi-intake-log".into())
            .spawn(move || write_log(&writer_dir, next, &receiver, &writer_stats))
            .map_err(|e| io_error("starting the intake log writer", e))?;
        let (stop, stopped) = mpsc::channel();
        let folder_stats = Arc::clone(&stats);
        let folder_commands = commands.clone();
        let folder = std::thread::Builder::new()
            .name("cxkpi-intake-fold".into())
            .spawn(move || {
                let fold = || fold(&store, &dir, &folder_commands, &folder_stats, &on_fold);
                fold();
                loop {
                    match stopped.recv_timeout(fold_every) {
                        Err(mpsc::RecvTimeoutError::Timeout) => fold(),
                        // Stopping: fold what is left, then end.
                        _ => {
                            fold();
                            return;
                        }
                    }
                }
            })
            .map_err(|e| io_error("starting the intake folder", e))?;
        Ok(Intake {
            commands: Mutex::new(Some(commands)),
            stats,
            folder: Mutex::new(Some((stop, folder))),
            writer: Mutex::new(Some(writer)),
            closed: AtomicBool::new(false),
        })
    }

    /// The counters.
    pub fn stats(&self) -> &IntakeStats {
        &self.stats
    }

    /// Checks the answers of a request body and makes the valid ones durable; returns
    /// once they are on disk, with what happened to each.
    pub async fn submit(&self, body: &[u8], store: &Store) -> Result<Vec<Answer>> {
        let (answers, checked) = check_body(body, store)?;
        let rejected = (answers.len() - checked.len()) as u64;
        self.stats.rejected.fetch_add(rejected, Ordering::Relaxed);
        if checked.is_empty() {
            return Ok(answers);
        }
        let accepted = checked.len() as u64;
        let (done, wait) = tokio::sync::oneshot::channel();
        let sent = self
            .commands
            .lock()
            .expect("not poisoned")
            .as_ref()
            .map(|c| {
                c.send(Command::Append {
                    lines: checked,
                    done,
                })
            });
        if !matches!(sent, Some(Ok(()))) {
            return Err(shutting_down());
        }
        match wait.await {
            Ok(Ok(())) => {
                self.stats
                    .acknowledged
                    .fetch_add(accepted, Ordering::Relaxed);
                Ok(answers)
            }
            Ok(Err(e)) => Err(io_error("writing the intake log", e)),
            Err(_) => Err(shutting_down()),
        }
    }

    /// Stops taking answers, folds everything acknowledged into the store and stops
    /// the threads. Idempotent.
    pub fn close(&self) {
        if self.closed.swap(true, Ordering::SeqCst) {
            return;
        }
        // The folder seals and folds a last time through the writer, then ends.
        if let Some((stop, folder)) = self.folder.lock().expect("not poisoned").take() {
            let _ = stop.send(());
            let _ = folder.join();
        }
        self.commands.lock().expect("not poisoned").take();
        if let Some(writer) = self.writer.lock().expect("not poisoned").take() {
            let _ = writer.join();
        }
    }
}

impl Drop for Intake {
    fn drop(&mut self) {
        self.close();
    }
}

fn shutting_down() -> AppError {
    AppError::new(
        ErrorKind::Unavailable,
        "the server is shutting down; send the answers again to another instance or later",
    )
}

/// The writer thread: group commit of appends, sealing on request.
fn write_log(dir: &Path, mut seq: u64, commands: &Receiver<Command>, stats: &IntakeStats) {
    let mut current: Option<File> = None;
    let mut rows_in_current = 0u64;
    let mut buffer = Vec::with_capacity(1 << 16);
    let mut waiting = Vec::new();
    while let Ok(first) = commands.recv() {
        let mut batch = vec![first];
        while batch.len() < 4096 {
            match commands.try_recv() {
                Ok(c) => batch.push(c),
                Err(_) => break,
            }
        }
        for command in batch {
            match command {
                Command::Append { lines, done } => {
                    for line in &lines {
                        buffer.extend_from_slice(line.line.as_bytes());
                        buffer.push(b'\n');
                    }
                    rows_in_current += lines.len() as u64;
                    waiting.push((done, lines.len() as u64));
                }
                Command::Rotate { done } => {
                    let result = flush(
                        dir,
                        &mut seq,
                        &mut current,
                        &mut buffer,
                        &mut waiting,
                        stats,
                    );
                    let result = result.map(|()| {
                        if rows_in_current > 0 {
                            current = None;
                            seq += 1;
                            rows_in_current = 0;
                        }
                        seq
                    });
                    let _ = done.send(result);
                }
            }
        }
        let _ = flush(
            dir,
            &mut seq,
            &mut current,
            &mut buffer,
            &mut waiting,
            stats,
        );
    }
}

/// Writes the buffered lines to the active segment with one write and one flush to
/// disk, then answers their requests.
fn flush(
    dir: &Path,
    seq: &mut u64,
    current: &mut Option<File>,
    buffer: &mut Vec<u8>,
    waiting: &mut Vec<(tokio::sync::oneshot::Sender<io::Result<()>>, u64)>,
    stats: &IntakeStats,
) -> io::Result<()> {
    if waiting.is_empty() {
        return Ok(());
    }
    let result = (|| {
        if current.is_none() {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join(segment_name(*seq)))?;
            // The new file's name must be durable too, or a crash could lose it whole.
            sync_dir(dir)?;
            *current = Some(file);
        }
        let file = current.as_mut().expect("opened");
        file.write_all(buffer)?;
        file.sync_data()
    })();
    buffer.clear();
    stats.flushes.fetch_add(1, Ordering::Relaxed);
    for (done, rows) in waiting.drain(..) {
        if result.is_ok() {
            stats.depth.fetch_add(rows, Ordering::Relaxed);
        }
        let _ = done.send(match &result {
            Ok(()) => Ok(()),
            Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
        });
    }
    if result.is_err() {
        // The segment may hold a part of the batch no one was told about: never append
        // after a failed write, start the next segment.
        *current = None;
        *seq += 1;
    }
    result
}

/// Seals the active segment and imports every sealed one into the store.
fn fold(
    store: &Store,
    dir: &Path,
    commands: &Sender<Command>,
    stats: &IntakeStats,
    on_fold: &OnFold,
) {
    let (done, sealed) = mpsc::channel();
    if commands.send(Command::Rotate { done }).is_err() {
        return;
    }
    let Ok(Ok(active)) = sealed.recv() else {
        stats.fold_failures.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let Ok(found) = segments(dir) else {
        stats.fold_failures.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let (found, empty): (Vec<_>, Vec<_>) = found
        .into_iter()
        .filter(|(seq, _)| *seq < active)
        .partition(|(_, p)| fs::metadata(p).is_ok_and(|m| m.len() > 0));
    for (_, path) in empty {
        let _ = fs::remove_file(path);
    }
    if found.is_empty() {
        return;
    }
    let inputs: Vec<Input> = found
        .iter()
        .map(|(_, p)| Input::from_arg(&p.to_string_lossy(), Some(InputFormat::Ndjson)))
        .collect();
    match store.import(
        Entity::Responses,
        &inputs,
        &ImportOptions::default(),
        &NoProgress,
    ) {
        Ok(summary) => {
            let rows = summary.read;
            for (_, path) in &found {
                let _ = fs::remove_file(path);
            }
            let _ = sync_dir(dir);
            stats.folded.fetch_add(rows, Ordering::Relaxed);
            let _ = stats
                .depth
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |d| {
                    Some(d.saturating_sub(rows))
                });
            on_fold();
        }
        Err(_) => {
            stats.fold_failures.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_on_one_line_keeps_strings_whole() {
        let raw = "{\n  \"comment\": \"a b\\n \\\"c\\\"  d\",\n  \"score\": 9\n}";
        assert_eq!(one_line(raw), r#"{"comment":"a b\n \"c\"  d","score":9}"#);
    }

    #[test]
    fn a_torn_last_line_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(segment_name(1));
        fs::write(&path, "{\"a\":1}\n{\"b\":2}\n{\"c\"").unwrap();
        assert_eq!(cut_torn_tail(&path).unwrap(), 2);
        assert_eq!(fs::read_to_string(&path).unwrap(), "{\"a\":1}\n{\"b\":2}\n");
    }

    #[test]
    fn the_id_of_a_rejected_answer() {
        assert_eq!(
            response_id_of(r#"{"response_id":"r-1","score":"x"}"#).as_deref(),
            Some("r-1")
        );
        assert_eq!(
            response_id_of(r#"{"response_id":123456789012345678901234}"#).as_deref(),
            Some("123456789012345678901234")
        );
        assert_eq!(response_id_of(r#"{"score":1}"#), None);
    }
}
