//! `cxkpi-bench`: measured runs for the goals of the issues, reported in their notes.
//!
//! `cxkpi-bench import --rows 10000000` writes a CSV of that many orders (deterministic,
//! realistic widths, a dimension column), imports it into a fresh workspace with the
//! library's import, checks the stored row count, and prints rows per second and the
//! process's peak resident memory (VmHWM). The file is written before the clock starts
//! and streamed, so its generation neither counts nor raises the peak.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, ensure};
use clap::{Parser, Subcommand};
use cxkpi_core::entity::Entity;
use cxkpi_store::{ImportOptions, Input, NoProgress, Store};

#[derive(Debug, Parser)]
#[command(name = "cxkpi-bench")]
struct Cli {
    #[command(subcommand)]
    command: Bench,
}

#[derive(Debug, Subcommand)]
enum Bench {
    /// Import throughput and peak memory for a CSV of orders.
    Import {
        /// Orders in the file.
        #[arg(long, default_value_t = 10_000_000)]
        rows: u64,
        /// Working directory (default: a new one under the system temp dir).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Reuse the CSV file if it exists.
        #[arg(long)]
        keep: bool,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Bench::Import { rows, dir, keep } => import(rows, dir, keep),
    }
}

fn write_orders(path: &std::path::Path, rows: u64) -> anyhow::Result<u64> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    writeln!(
        out,
        "order_id,customer_id,ordered_at,amount,promised_at,delivered_at,accurate,region"
    )?;
    const REGIONS: [&str; 4] = ["north_america", "europe", "apac", "latam"];
    for i in 0..rows {
        // A cheap deterministic scramble for varied values.
        let h = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 20;
        let day = 1 + h % 25;
        let month = 1 + (h >> 5) % 12;
        let hour = (h >> 9) % 24;
        let minute = (h >> 14) % 60;
        write!(
            out,
            "O{i:09},C{:07},2024-{month:02}-{day:02}T{hour:02}:{minute:02}:00Z,{}.{:02},",
            h % 1_000_003,
            h % 900,
            h % 100
        )?;
        if h % 4 != 0 {
            // Promised and delivered three days later (day 28 at most: valid every month).
            let d = day + 3;
            write!(
                out,
                "2024-{month:02}-{d:02}T{hour:02}:{minute:02}:00Z,2024-{month:02}-{d:02}T{:02}:00:00Z,",
                (hour + 1) % 24
            )?;
        } else {
            write!(out, ",,")?;
        }
        writeln!(
            out,
            "{},{}",
            if h % 25 == 0 { "false" } else { "true" },
            REGIONS[(h % 4) as usize]
        )?;
    }
    out.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn import(rows: u64, dir: Option<PathBuf>, keep: bool) -> anyhow::Result<()> {
    let dir = dir.unwrap_or_else(|| std::env::temp_dir().join("cxkpi-bench-import"));
    std::fs::create_dir_all(&dir)?;
    let csv = dir.join(format!("orders-{rows}.csv"));
    let bytes = if keep && csv.exists() {
        std::fs::metadata(&csv)?.len()
    } else {
        let started = Instant::now();
        let bytes = write_orders(&csv, rows)?;
        eprintln!(
            "wrote {} ({:.0} MB) in {:.1} s",
            csv.display(),
            bytes as f64 / 1e6,
            started.elapsed().as_secs_f64()
        );
        bytes
    };
    let workspace = dir.join("workspace");
    let _ = std::fs::remove_dir_all(&workspace);
    let store = Store::init(&workspace)?;
    let started = Instant::now();
    let summary = store.import(
        Entity::Orders,
        &[Input::from_arg(csv.to_str().context("UTF-8 path")?, None)],
        &ImportOptions::default(),
        &NoProgress,
    )?;
    let seconds = started.elapsed().as_secs_f64();
    // Every generated row is valid and its id unique: all must be stored.
    ensure!(summary.read == rows, "read {} of {rows}", summary.read);
    ensure!(
        summary.new == rows && summary.rejected == 0,
        "stored {}, rejected {}",
        summary.new,
        summary.rejected
    );
    let table = store.snapshot()?.table(Entity::Orders);
    ensure!(table.rows == summary.new);
    println!(
        "import orders: {rows} rows, {:.0} MB CSV, {seconds:.2} s, {:.0} rows/s, {:.0} MB/s, stored {}, rejected {}, {} part files, peak RSS {:.0} MiB",
        bytes as f64 / 1e6,
        rows as f64 / seconds,
        bytes as f64 / 1e6 / seconds,
        summary.new,
        summary.rejected,
        table.parts,
        peak_rss_mib().unwrap_or(f64::NAN)
    );
    Ok(())
}
